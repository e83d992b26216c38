"""How soon `python app.py` answers HTTP, and when the background preload of the shipped models is done.

Starts the app on a free port, polls GET / every 50 ms (telling app.py's starting page from the Gradio page), and
reads the app's "preloaded N shipped models in X s" log line; also measures the CPU seconds of importing and building
the page (the wall time an idle machine would need before Gradio itself answers). Repeats --runs times; writes
bench/results/<date>-startup-<cpu>.json and prints a summary.

    python bench/startup.py [--runs 3] [--timeout 120]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STARTING_MARK = "s2s-starting"  # app.py's starting page
GOAL_S = 10.0


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answer(url: str) -> str:
    """'' (no answer), 'starting' (app.py's starting page, status 503) or 'app' (the Gradio page, status 200)."""
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            return "app" if r.status == 200 else ""
    except urllib.error.HTTPError as err:
        return "starting" if err.code == 503 and STARTING_MARK in err.read().decode("utf-8", "replace") else ""
    except OSError:
        return ""


def one_run(timeout: float) -> dict:
    port = free_port()
    env = {**os.environ, "PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False"}
    began = time.time()
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True,
                            stdout=subprocess.DEVNULL)
    preloaded: dict = {}

    def read_log() -> None:
        for line in proc.stderr:
            found = re.search(r"preloaded (\d+) shipped models in ([\d.]+) s", line)
            if found:
                preloaded.update(models=int(found.group(1)), at_s=round(time.time() - began, 2),
                                 thread_s=float(found.group(2)))

    threading.Thread(target=read_log, daemon=True).start()
    seen: dict[str, float] = {}
    try:
        while time.time() - began < timeout and not ("app" in seen and preloaded):
            kind = answer(f"http://127.0.0.1:{port}/")
            if kind and kind not in seen:
                seen[kind] = round(time.time() - began, 2)
            time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    first = min(seen.values()) if seen else None
    return {"first_answer_s": first, "starting_page_s": seen.get("starting"), "app_page_s": seen.get("app"),
            "preload_done_s": preloaded.get("at_s"), "preload_thread_s": preloaded.get("thread_s"),
            "models": preloaded.get("models")}


def cpu_cost() -> float:
    """CPU seconds (user + system) that importing torch and gradio and building the page take: what an idle
    machine would need in wall time before the app itself can answer."""
    code = "import resource, demo.app as a; a.build_demo(); r = resource.getrusage(resource.RUSAGE_SELF); " \
           "print(r.ru_utime + r.ru_stime)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return round(float(out.stdout.strip().splitlines()[-1]), 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=120)
    args = ap.parse_args()
    load = Path("/proc/loadavg").read_text().split()[:3]
    runs = [one_run(args.timeout) for _ in range(args.runs)]
    first = [r["first_answer_s"] for r in runs if r["first_answer_s"] is not None]
    page = [r["app_page_s"] for r in runs if r["app_page_s"] is not None]
    report = {"date": dt.date.today().isoformat(), "cpu": cpu_model(), "cores": os.cpu_count(),
              "load_average_start": load, "load_average_end": Path("/proc/loadavg").read_text().split()[:3],
              "goal_first_answer_s": GOAL_S, "runs": runs,
              "first_answer_median_s": statistics.median(first) if first else None,
              "first_answer_max_s": max(first) if first else None,
              "app_page_median_s": statistics.median(page) if page else None,
              "user_cpu_s_import_and_build": cpu_cost(),
              "met": bool(first) and len(first) == len(runs) and max(first) <= GOAL_S}
    out = ROOT / "bench" / "results" / f"{report['date']}-startup-{slug(report['cpu'])}.json"
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report, indent=1))
    print("->", out)


if __name__ == "__main__":
    main()
