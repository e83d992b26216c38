"""Seq2Seq Playground: `python app.py` serves the Gradio UI (PORT / GRADIO_SERVER_PORT pick the port).

Importing torch and gradio and building the page take about 10 s of CPU on a small machine (far longer when it is
busy), so the port answers at once with a small "starting" page (stdlib only; status 503 with Retry-After, so that tools
waiting for a 200 wait for the app; browsers show it and reload it every 2 s) until the app takes the port over;
the shipped models then load in the background while the app already serves."""
from __future__ import annotations

import logging
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STARTING_MARK = "s2s-starting"
STARTING_PAGE = f"""<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<title>Seq2Seq Playground</title></head><body id="{STARTING_MARK}" style="font-family: sans-serif; margin: 3em">
<h1>Seq2Seq Playground</h1><p>Starting… this page reloads by itself in a few seconds.</p>
<p>正在启动……本页几秒后会自动刷新。</p></body></html>""".encode()


class _Starting(BaseHTTPRequestHandler):
    """Answers every request with the starting page, status 503 (Service Unavailable, retry in 2 s)."""

    def _answer(self, body: bool) -> None:
        self.send_response(503)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Retry-After", "2")
        self.send_header("Content-Length", str(len(STARTING_PAGE)))
        self.end_headers()
        if body:
            self.wfile.write(STARTING_PAGE)

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self._answer(True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(False)

    def log_message(self, *args) -> None:
        pass


def starting_server(host: str, port: int) -> ThreadingHTTPServer | None:
    """Serve the starting page on (host, port) in a daemon thread; None when the port is taken (launch says so)."""
    try:
        server = ThreadingHTTPServer((host, port), _Starting)
    except OSError:
        return None
    threading.Thread(target=server.serve_forever, daemon=True, name="s2s-starting").start()
    return server


def main() -> None:
    # handler errors are logged with their traceback (demo/errors.py); the visitor sees one sentence
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    port = int(os.environ.get("PORT") or os.environ.get("GRADIO_SERVER_PORT") or 7860)
    on_spaces = bool(os.environ.get("SPACE_ID"))
    host = os.environ.get("GRADIO_SERVER_NAME") or ("0.0.0.0" if on_spaces else "127.0.0.1")
    placeholder = starting_server(host, port)

    import torch

    from demo import models
    from demo.app import build_demo, launch_kwargs

    torch.set_num_threads(1)  # one intra-op thread per request: concurrent requests share the cores, not fight
    demo = build_demo()
    if placeholder is not None:  # hand the port over to the app
        placeholder.shutdown()
        placeholder.server_close()
    demo.launch(server_name=host, server_port=port, prevent_thread_lock=True, **launch_kwargs())
    models.preload_shipped()  # shipped models load in the background while the app serves
    demo.block_thread()


if __name__ == "__main__":
    main()
