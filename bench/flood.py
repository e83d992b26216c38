"""Flood benchmark: one client floods the translate endpoint while honest clients translate; then disk use.

Launches `python app.py` on loopback (shipped checkpoints, a fresh GRADIO_TEMP_DIR) and talks to its queue with raw
HTTP, as a scripted attacker would:
1. flood: one client (one session) POSTs `--rate` jobs per second to /queue/join (an expensive beam search) for
   `--seconds`, never reading a result, while `--honest` clients (one session each) translate short sentences in
   a loop with a short pause; reports the honest clients' p50/p95 latency (join to result) and refusals;
2. disk: `--sessions` browser-like sessions (each with a heartbeat, like a browser tab) upload a tiny corpus,
   fine-tune once (1 epoch) and close; reports the peak and the final size of GRADIO_TEMP_DIR (models + uploads).
Writes bench/results/<date>-flood-<cpu>.json (and prints it). Not a test: nothing is asserted.

    python bench/flood.py [--seconds 20] [--rate 260] [--honest 5] [--sessions 30] [--no-caps]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
HONEST = ["我爱你。", "你叫什么名字？", "我们明天早上去公园散步吧。", "他在图书馆看书。", "今天天气很好。"]
FLOOD_TEXT = "他昨天晚上在图书馆看书看到很晚，因为下个星期有一个很重要的考试。"
LOCK = threading.Lock()
FLOOD_THREADS = 8  # the flooder's parallel connections (one session): one cannot POST 260 times a second
TINY = "".join(f"我有{i}个苹果。\tI have {i} apples.\n" for i in range(24))


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(checkpoints: Path, temp: Path, caps: bool) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "PORT": str(port), "S2S_CHECKPOINTS_DIR": str(checkpoints), "GRADIO_TEMP_DIR": str(temp),
           "GRADIO_ANALYTICS_ENABLED": "False"}
    env.pop("GRADIO_SERVER_PORT", None)
    if not caps:  # the app as it was: only Gradio's global queue size
        env.update(S2S_JOBS_PER_SESSION="100000", S2S_JOBS_PER_IP="100000")
    log = open(temp.parent / "app.log", "w")
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("the app did not start: see " + str(temp.parent / "app.log"))


class App:
    """The queue protocol of Gradio 6: POST /queue/join, then read /queue/data until the job completes."""

    def __init__(self, url: str):
        self.url = url
        config = httpx.get(url + "config", timeout=30).json()
        self.fn = {d["api_name"]: d["id"] for d in config["dependencies"] if d.get("api_name")}

    def join(self, http: httpx.Client, api: str, data: list, session: str) -> httpx.Response:
        body = {"data": data, "fn_index": self.fn[api], "session_hash": session, "event_data": None,
                "trigger_id": None}
        return http.post(self.url + "gradio_api/queue/join", json=body)

    def call(self, http: httpx.Client, api: str, data: list, session: str) -> tuple[bool, object]:
        """(served, output data or refusal text) of one job."""
        r = self.join(http, api, data, session)
        if r.status_code != 200:
            return False, f"{r.status_code}: {r.text[:200]}"
        event = r.json()["event_id"]
        with http.stream("GET", self.url + "gradio_api/queue/data", params={"session_hash": session}) as s:
            for line in s.iter_lines():
                if not line.startswith("data:"):
                    continue
                msg = json.loads(line[5:])
                if msg.get("msg") == "process_completed" and msg.get("event_id") == event:
                    out = msg.get("output") or {}
                    return bool(msg.get("success")), out.get("data") if msg.get("success") else out.get("error")
        return False, "stream ended"


def translate_data(text: str, strategy: str = "greedy", k: int = 5) -> list:
    return [text, "zh-en-classic", strategy, k, 1.0, k, 1.0, 0, 1.0, 0, {}]


def flood(app: App, session: str, seconds: float, rate: float, stop: threading.Event, counts: dict) -> None:
    """One of the flooder's connections: POST at `rate` per second, ignore the answers."""
    data = translate_data(FLOOD_TEXT, "beam", 10)
    with httpx.Client(timeout=30) as http:
        start = time.perf_counter()
        sent = 0
        while not stop.is_set() and time.perf_counter() - start < seconds:
            due = start + sent / rate
            if time.perf_counter() < due:
                time.sleep(due - time.perf_counter())
            try:
                code = app.join(http, "translate", data, session).status_code
            except httpx.HTTPError as err:
                code = type(err).__name__
            with LOCK:
                counts[code] = counts.get(code, 0) + 1
            sent += 1


def honest(app: App, stop: threading.Event, results: list, seed: int) -> None:
    session = f"honest-{seed}-" + uuid.uuid4().hex[:8]
    with httpx.Client(timeout=120) as http:
        i = seed
        while not stop.is_set():
            started = time.perf_counter()
            served, out = app.call(http, "translate", translate_data(HONEST[i % len(HONEST)]), session)
            results.append({"latency": time.perf_counter() - started, "served": served,
                            "error": None if served else str(out)[:200]})
            i += 1
            time.sleep(0.3)


def percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(q * (len(xs) - 1))))] if xs else float("nan")


def flood_phase(app: App, args) -> dict:
    warm = [app.call(httpx.Client(timeout=120), "translate", translate_data(t), "warm") for t in HONEST[:2]]
    assert all(ok for ok, _ in warm), warm
    stop, counts, results = threading.Event(), {}, []
    load_before = os.getloadavg()[0]
    workers = [threading.Thread(target=honest, args=(app, stop, results, i)) for i in range(args.honest)]
    session = "flood-" + uuid.uuid4().hex[:8]
    flooders = [threading.Thread(target=flood, args=(app, session, args.seconds, args.rate / FLOOD_THREADS, stop,
                                                     counts)) for _ in range(FLOOD_THREADS)]
    for t in [*flooders, *workers]:
        t.start()
    for t in flooders:
        t.join()
    stop.set()
    for t in workers:
        t.join(timeout=180)
    lat = [r["latency"] for r in results if r["served"]]
    refused = [r for r in results if not r["served"]]
    return {"seconds": args.seconds, "flood_rate_per_s": args.rate, "flood_posts": sum(counts.values()),
            "flood_status_codes": counts,
            "honest_clients": args.honest, "honest_requests": len(results), "honest_refused": len(refused),
            "honest_refusals": sorted({r["error"] for r in refused})[:3],
            "honest_p50_s": round(percentile(lat, 0.5), 3), "honest_p95_s": round(percentile(lat, 0.95), 3),
            "honest_max_s": round(max(lat), 3) if lat else None,
            "honest_mean_s": round(statistics.mean(lat), 3) if lat else None,
            "loadavg_before": round(load_before, 2), "loadavg_after": round(os.getloadavg()[0], 2)}


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def one_session(app: App, upload: Path, temp: Path, peak: list) -> dict:
    """A browser tab: heartbeat open, upload a tiny corpus, fine-tune 1 epoch, close the tab."""
    session = "disk-" + uuid.uuid4().hex[:8]
    with httpx.Client(timeout=600) as http, httpx.stream("GET", f"{app.url}gradio_api/heartbeat/{session}",
                                                         timeout=600) as beat:
        lines = beat.iter_lines()  # kept: dropping this iterator would close the connection (and the session)
        next(lines)  # the session is open
        path = http.post(app.url + "gradio_api/upload", files={"files": (upload.name, upload.read_bytes())}).json()[0]
        files = [{"path": path, "orig_name": upload.name, "meta": {"_type": "gradio.FileData"}}]
        data = [files, False, "fine-tune", "zh-en-classic", 1, 0.001, 8, 1.0, "constant", 30, True, {}]
        served, out = app.call(http, "train", data, session)
        peak.append(folder_bytes(temp))
        model = Path(out[-1]["path"]) if served and out and out[-1] else None
        size = model.stat().st_size if model is not None and model.exists() else None
    # the heartbeat connection is gone: Gradio notices at its next heartbeat write and fires the unload event
    return {"served": served, "error": None if served else str(out)[:200], "model": model,
            "closed": time.perf_counter(), "model_bytes": size}


def wait_deleted(rows: list[dict], timeout: float = 120) -> None:
    """Record, per session, how long after closing its model file was gone."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline and any(r["model"] and "deleted_after_s" not in r for r in rows):
        for r in rows:
            if r["model"] and "deleted_after_s" not in r and not r["model"].exists():
                r["deleted_after_s"] = time.perf_counter() - r["closed"]
        time.sleep(0.1)


def disk_phase(app: App, temp: Path, sessions: int) -> dict:
    upload = temp.parent / "tiny.tsv"
    upload.write_text(TINY, encoding="utf-8")
    before, peak = folder_bytes(temp), []
    with ThreadPoolExecutor(3) as pool:
        rows = list(pool.map(lambda _: one_session(app, upload, temp, peak), range(sessions)))
    wait_deleted(rows)
    time.sleep(1)
    after = folder_bytes(temp)
    deleted = [r["deleted_after_s"] for r in rows if "deleted_after_s" in r]
    return {"sessions": sessions, "trained": sum(r["served"] for r in rows),
            "errors": sorted({r["error"] for r in rows if r["error"]})[:3],
            "temp_mb_before": round(before / 1e6, 2), "temp_mb_peak": round(max(peak, default=0) / 1e6, 2),
            "temp_mb_after_close": round(after / 1e6, 2),
            "s2s_files_after_close": len(list(temp.rglob("*.s2s"))),
            "model_deleted_after_close_s_max": round(max(deleted), 2) if deleted else None,
            "models_deleted_on_close": len(deleted),
            "model_mb": round(max((r["model_bytes"] or 0) for r in rows) / 1e6, 2)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoints", type=Path, default=ROOT / "checkpoints")
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--rate", type=float, default=260)
    p.add_argument("--honest", type=int, default=5)
    p.add_argument("--sessions", type=int, default=30, help="disk phase sessions (0 = skip)")
    p.add_argument("--no-caps", action="store_true", help="disable the per-session/IP caps (the 'before' run)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="s2s-flood-"))
    temp = work / "gradio"
    temp.mkdir()
    proc, url = launch(args.checkpoints, temp, caps=not args.no_caps)
    try:
        app = App(url)
        result = {"flood": flood_phase(app, args)}
        if args.sessions:
            result["disk"] = disk_phase(app, temp, args.sessions)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    cpu = cpu_model()
    result = {"date": time.strftime("%Y-%m-%d"), "caps": not args.no_caps, **result,
              "machine": {"cpu": cpu, "nproc": os.cpu_count(), "loadavg_end": round(os.getloadavg()[0], 2)},
              "command": " ".join(["python"] + sys.argv)}
    slug = re.sub(r"[^a-z0-9]+", "-", cpu.lower()).strip("-")[:40]
    name = f"{result['date']}-flood-{slug}{'' if result['caps'] else '-nocaps'}.json"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / name).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print("written:", args.out / name)


if __name__ == "__main__":
    main()
