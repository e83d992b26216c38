"""What every browser test shares: `python app.py` on a free port over a checkpoint folder, headless Debian
Chromium through Playwright, and waiting for text on the page."""
from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Callable, Iterator

from ui_fixtures import make_tiny_checkpoints

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("S2S_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app.py exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer in {timeout}s")


def checkpoint_folder(tmp_path_factory, prepare: Callable[[Path], None] | None = None) -> str:
    """S2S_BROWSER_CHECKPOINTS (e.g. the shipped checkpoints), else tiny ones trained now (then `prepare`d)."""
    folder = os.environ.get("S2S_BROWSER_CHECKPOINTS")
    if folder:
        return folder
    path = tmp_path_factory.mktemp("ckpts")
    make_tiny_checkpoints(path)
    if prepare:
        prepare(path)
    return str(path)


@contextlib.contextmanager
def app_server(folder: str, tmp_path_factory, timeout: float) -> Iterator[str]:
    """`python app.py` on a free port over `folder`; yields its URL; prints the end of its log afterwards."""
    port = free_port()
    env = {**os.environ, "S2S_CHECKPOINTS_DIR": folder, "PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False"}
    env.pop("GRADIO_SERVER_PORT", None)
    log = open(tmp_path_factory.mktemp("log") / "app.log", "w+")
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_http(url, proc, timeout)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.seek(0)
        print(log.read()[-3000:])
        log.close()


@contextlib.contextmanager
def chromium(playwright_api):
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def wait_text(page, selector: str, pattern: str) -> str:
    """Wait until the element's text matches the regex `pattern`; returns the text."""
    page.wait_for_function(
        "([sel, pat]) => { const e = document.querySelector(sel); return e && new RegExp(pat).test(e.textContent); }",
        arg=[selector, pattern])
    return page.locator(selector).text_content()


def pick_example(page, text: str, box: str = "#source", exact: bool = False) -> str:
    """Click the example that starts with `text` and wait until it fills `box`: an example is loaded by a round
    trip to the server, so a click on a button right after it could still read the old box (a race seen on a
    loaded machine). Returns the box's new text."""
    page.get_by_text(text, exact=exact).first.click()
    page.wait_for_function("([sel, start]) => { const e = document.querySelector(sel + ' textarea');"
                           " return e && e.value.startsWith(start); }", arg=[box, text])
    return page.input_value(f"{box} textarea")


# One of the page's events, held back by the page itself until the test calls window.__releaseLoad(): how a test
# makes a page-load event answer late (a slow server, a slow phone) while the visitor already works.
HOLD_FETCH = """([fn]) => {
    const send = window.fetch.bind(window);
    const gate = new Promise(go => { window.__releaseLoad = go; });
    window.fetch = async (input, init) => {
        const body = init && typeof init.body === 'string' ? init.body : '';
        if (body.includes('"fn_index":' + fn + ',')) await gate;
        return send(input, init);
    };
}"""


def event_ids(server: str) -> dict[str, int]:
    """{api_name: event id} of the app at `server` (the ids its requests carry as fn_index)."""
    with urllib.request.urlopen(server + "config") as r:
        return {d.get("api_name"): d["id"] for d in json.load(r)["dependencies"]}


@contextlib.contextmanager
def page_holding(browser, server: str, event: str, timeout: float, query: str = "",
                 viewport: dict | None = None) -> Iterator[tuple]:
    """A fresh English page on `server` + `query` whose request of the event named `event` waits until the test
    calls window.__releaseLoad() (HOLD_FETCH). Yields (page, event_ids(server))."""
    ids = event_ids(server)
    ctx = browser.new_context(viewport=viewport or {"width": 1400, "height": 1000}, locale="en-US")
    try:
        page = ctx.new_page()
        page.set_default_timeout(timeout)
        page.add_init_script(f"({HOLD_FETCH})([{ids[event]}])")
        page.goto(server + query)
        yield page, ids
    finally:
        ctx.close()
