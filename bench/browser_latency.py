"""Browser latency of the Translate tab, as a learner sees it (a benchmark, not a test).

Headless Debian chromium (Playwright) against `python app.py` with the shipped checkpoints. For greedy and beam 5
on the default model it measures, inside the page (performance.now(), polled every animation frame):
- click Translate -> the translation text is visible;
- click Translate -> every plot of that strategy is drawn (greedy: step heatmap; beam: step heatmap and beam tree;
  plus the attention heatmap for attention models).
Before each click the source sentence changes (a different held-out sentence each run), which clears every panel,
so each run waits for fresh output.

- first use (a student opening the page): a new browser context (new page, new Gradio session) on the running
  server once its background preload is done; the first click of each strategy, alternating which goes first.
  --pages of them.
- cold server (optional, --restarts N): the same on a freshly started server, the page opened as soon as Gradio
  answers (the preload may still be running).
- warm: one page, after its first clicks, --runs clicks per strategy.
Warm clicks and new visitors alternate, so that both see the same load (the machine may be shared).

Writes bench/results/<date>-browser-latency-<cpu>.json with medians and p95s, the CPU model and the load average.

    python bench/browser_latency.py [--runs 20] [--pages 20] [--restarts 0] [--model zh-en-classic]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
GOALS = {"warm_text_ms": 250, "warm_plots_ms": 500, "first_use_max_ratio": 2.0}
PLOTS = {"greedy": ["#step_plot"], "beam": ["#step_plot", "#tree_plot"]}

MEASURE = """async ([button, plots]) => {
  const t0 = performance.now();
  document.querySelector(button).click();
  let text = null, drawn = null;
  return await new Promise(resolve => {
    const check = () => {
      const now = performance.now(), box = document.querySelector('#translation textarea');
      if (text === null && box && box.value.trim().length > 0) text = now - t0;
      const all = plots.every(p => document.querySelector(p + ' .js-plotly-plot .main-svg'));
      if (drawn === null && all) drawn = now - t0;
      if ((text !== null && drawn !== null) || now - t0 > 120000) resolve({text, plots: drawn});
      else requestAnimationFrame(check);
    };
    check();
  });
}"""
CLEARED = """(plots) => { const box = document.querySelector('#translation textarea');
  return box && box.value === '' && plots.every(p => !document.querySelector(p + ' .js-plotly-plot')); }"""


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def loadavg() -> list[str]:
    return Path("/proc/loadavg").read_text().split()[:3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


LOG = Path("/tmp") / f"s2s-browser-latency-{os.getpid()}.log"


def preloaded(timeout: float = 600) -> None:
    """Wait for the app's "preloaded N shipped models" log line."""
    deadline = time.time() + timeout
    while time.time() < deadline and "preloaded" not in LOG.read_text(errors="replace"):
        time.sleep(0.5)


def start_server() -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False"}
    env.pop("GRADIO_SERVER_PORT", None)
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=LOG.open("w"))
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise TimeoutError("app.py did not answer in 180 s")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


def sentences(n: int) -> list[str]:
    rows = (ROOT / "demo" / "examples" / "heldout_zh_en.tsv").read_text(encoding="utf-8").splitlines()
    src = [r.split("\t")[0] for r in rows if "\t" in r and 6 <= len(r.split("\t")[0]) <= 20]
    return src[:n]


class Page:
    def __init__(self, browser, url: str, model: str):
        self.ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
        self.page = self.ctx.new_page()
        self.page.set_default_timeout(180_000)
        self.page.goto(url)
        self.page.wait_for_selector("#source textarea")
        self.model = model
        self.strategy = "greedy"

    def plots(self, strategy: str) -> list[str]:
        return PLOTS[strategy] + (["#attention_plot"] if "attention" in self.model else [])

    def use(self, strategy: str) -> None:
        if strategy != self.strategy:
            self.page.locator("#strategy").get_by_text(strategy, exact=True).click()
            self.strategy = strategy

    def once(self, strategy: str, sentence: str) -> dict:
        self.use(strategy)
        self.page.fill("#source textarea", sentence)
        self.page.wait_for_function(CLEARED, arg=self.plots(strategy))
        result = self.page.evaluate(MEASURE, ["#translate", self.plots(strategy)])
        if result["text"] is None or result["plots"] is None:  # counted as missing; say why when the page says it
            toasts = self.page.locator(".toast-body").all_text_contents()
            print(f"no result within 120 s ({strategy}, {sentence}): {toasts}", flush=True)
        return result

    def close(self) -> None:
        self.ctx.close()


def summary(values: list[float]) -> dict:
    done = sorted(v for v in values if v is not None)
    if not done:
        return {"n": 0}
    p95 = done[min(len(done) - 1, math.ceil(0.95 * len(done)) - 1)]
    return {"n": len(done), "median_ms": round(statistics.median(done), 1), "p95_ms": round(p95, 1),
            "min_ms": round(done[0], 1), "max_ms": round(done[-1], 1), "missing": len(values) - len(done)}


def fresh_page(browser, url: str, i: int, model: str, pool: list[str], out: dict) -> None:
    """A new visitor's first click of each strategy (alternating which goes first)."""
    page = Page(browser, url, model)
    order = ["greedy", "beam"] if i % 2 == 0 else ["beam", "greedy"]
    for j, strategy in enumerate(order):
        r = page.once(strategy, pool[(2 * i + j) % len(pool)])
        out[strategy]["text"].append(r["text"])
        out[strategy]["plots"].append(r["plots"])
    page.close()
    print(f"first use {i + 1}: " + ", ".join(f"{s} {_ms(out[s]['text'][-1])}/{_ms(out[s]['plots'][-1])} ms"
                                             for s in PLOTS), flush=True)


def _ms(value) -> str:
    return "-" if value is None else f"{value:.0f}"


def cold_servers(browser, restarts: int, model: str, pool: list[str]) -> dict:
    out = {s: {"text": [], "plots": []} for s in PLOTS}
    for i in range(restarts):
        proc, url = start_server()
        try:
            fresh_page(browser, url, i, model, pool, out)
        finally:
            stop_server(proc)
    return out


def warm_and_first(browser, runs: int, pages: int, model: str, pool: list[str]) -> tuple[dict, dict]:
    """Warm clicks on one page and new visitors' first clicks, interleaved, so that both see the same load."""
    hot, first = ({s: {"text": [], "plots": []} for s in PLOTS} for _ in range(2))
    proc, url = start_server()
    try:
        preloaded()
        page = Page(browser, url, model)
        for strategy in PLOTS:  # this page's first uses, not counted
            page.once(strategy, pool[-1])
        for i in range(max(runs, pages)):
            for strategy in PLOTS if i < runs else ():
                r = page.once(strategy, pool[i % len(pool)])
                hot[strategy]["text"].append(r["text"])
                hot[strategy]["plots"].append(r["plots"])
            if i < pages:
                fresh_page(browser, url, i, model, pool, first)
        page.close()
    finally:
        stop_server(proc)
    return hot, first


def report(first: dict, hot: dict, cold: dict, args, load_start: list[str], seconds: float) -> dict:
    cases = {}
    for strategy in PLOTS:
        for kind, data in (("warm", hot), ("first_use", first)):
            cases[f"{strategy}_{kind}"] = {"text": summary(data[strategy]["text"]),
                                          "plots": summary(data[strategy]["plots"])}
        if args.restarts:
            cases[f"{strategy}_cold_server"] = {"text": summary(cold[strategy]["text"]),
                                                "plots": summary(cold[strategy]["plots"])}
    met = {}
    for strategy in PLOTS:
        w, f = cases[f"{strategy}_warm"], cases[f"{strategy}_first_use"]
        met[f"{strategy}_warm_text"] = w["text"].get("median_ms", 1e9) <= GOALS["warm_text_ms"]
        met[f"{strategy}_warm_plots"] = w["plots"].get("median_ms", 1e9) <= GOALS["warm_plots_ms"]
        for part in ("text", "plots"):
            ratio = f[part].get("median_ms", 1e9) / max(w[part].get("median_ms", 1e-9), 1e-9)
            cases[f"{strategy}_first_use"][part]["ratio_to_warm"] = round(ratio, 2)
            met[f"{strategy}_first_use_{part}"] = ratio <= GOALS["first_use_max_ratio"]
    return {"date": dt.date.today().isoformat(), "cpu": cpu_model(), "cores": os.cpu_count(), "model": args.model,
            "browser": "Debian chromium (headless), 1280x900", "runs": args.runs, "pages": args.pages,
            "restarts": args.restarts,
            "load_average_start": load_start, "load_average_end": loadavg(), "seconds": round(seconds),
            "goals": GOALS, "cases": cases, "met": met, "raw": {"warm": hot, "first_use": first, "cold_server": cold}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=20, help="warm clicks per strategy")
    ap.add_argument("--pages", type=int, default=20, help="new visitors (first-use clicks) on the running server")
    ap.add_argument("--restarts", type=int, default=0, help="freshly started servers (cold first use)")
    ap.add_argument("--model", default="zh-en-classic", help="the page's default model (informational)")
    ap.add_argument("--out", default="")
    args = ap.parse_args()
    pool = sentences(max(args.runs, 2 * args.pages, 2 * args.restarts) + 1)
    load_start, began = loadavg(), time.time()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        hot, first = warm_and_first(browser, args.runs, args.pages, args.model, pool)
        cold = cold_servers(browser, args.restarts, args.model, pool)
        browser.close()
    result = report(first, hot, cold, args, load_start, time.time() - began)
    slug = re.sub(r"[^a-z0-9]+", "-", result["cpu"].lower()).strip("-")
    out = Path(args.out or ROOT / "bench" / "results" / f"{result['date']}-browser-latency-{slug}.json")
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: result[k] for k in ("cpu", "load_average_start", "load_average_end", "cases", "met")},
                     indent=1))
    print("->", out)


if __name__ == "__main__":
    main()
