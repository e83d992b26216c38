"""End to end in headless Chromium: the lesson's steps (LESSON.md), as a learner clicks through them.

The app runs as `python app.py` in a subprocess on a free port, on tiny checkpoints trained by a fixture
(or on the folder named by S2S_BROWSER_CHECKPOINTS, e.g. the shipped checkpoints). Set S2S_SCREENSHOTS to a
folder to keep screenshots of the Translate tab after a beam search and of the exposure-bias tab."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ui_fixtures import make_tiny_checkpoints

playwright_api = pytest.importorskip("playwright.sync_api")
ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("S2S_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
SLOW = 180_000  # ms: generous, this runs on loaded 2-core machines
SHOTS = os.environ.get("S2S_SCREENSHOTS")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, proc: subprocess.Popen, timeout: float = 180) -> None:
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


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = os.environ.get("S2S_BROWSER_CHECKPOINTS")
    if not folder:
        folder = str(tmp_path_factory.mktemp("ckpts"))
        make_tiny_checkpoints(Path(folder))
    port = _free_port()
    env = {**os.environ, "S2S_CHECKPOINTS_DIR": folder, "PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False"}
    env.pop("GRADIO_SERVER_PORT", None)
    log = open(tmp_path_factory.mktemp("log") / "app.log", "w+")
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_http(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.seek(0)
        tail = log.read()[-3000:]
        log.close()
        print(tail)


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    pg = ctx.new_page()
    pg.set_default_timeout(SLOW)
    pg.goto(server)
    pg.wait_for_selector("#source textarea")
    yield pg
    ctx.close()


# ---------------------------------------------------------------- helpers


def value(page, selector: str) -> str:
    return page.input_value(f"{selector} textarea")


def wait_value(page, selector: str, previous: str | None = None) -> str:
    """Wait until a textbox has text (different from `previous`)."""
    page.wait_for_function(
        "([sel, prev]) => { const e = document.querySelector(sel + ' textarea');"
        " return e && e.value.length > 0 && e.value !== prev; }", arg=[selector, previous])
    return value(page, selector)


def wait_text(page, selector: str, pattern: str) -> str:
    """Wait until the element's text matches the regex `pattern`; returns the text."""
    page.wait_for_function(
        "([sel, pat]) => { const e = document.querySelector(sel); return e && new RegExp(pat).test(e.textContent); }",
        arg=[selector, pattern])
    return page.locator(selector).text_content()


def plot_text(page, selector: str, pattern: str) -> str:
    """Wait for a rendered plotly figure in `selector` whose SVG text matches `pattern`."""
    return wait_text(page, f"{selector} .js-plotly-plot", pattern)


def set_number(page, selector: str, number) -> None:
    """Type into a slider's (or number's) numeric box and commit it."""
    box = page.locator(f"{selector} input[type=number]").first
    box.fill(str(number))
    box.press("Enter")
    box.blur()


def pick_radio(page, selector: str, label: str) -> None:
    page.locator(selector).get_by_text(label, exact=True).click()


def table_rows(page, selector: str) -> int:
    """Data rows of a gr.Dataframe (its virtual table renders rows lazily; the grid's aria-rowcount is exact)."""
    return int(page.locator(f"{selector} [role=grid]").get_attribute("aria-rowcount")) - 1


def wait_rows(page, selector: str, n: int) -> None:
    page.wait_for_function("([sel, n]) => { const g = document.querySelector(sel + ' [role=grid]');"
                           " return g && Number(g.getAttribute('aria-rowcount')) - 1 === n; }", arg=[selector, n])


def translate(page, previous: str | None = None) -> str:
    page.click("#translate")
    return wait_value(page, "#translation", previous)


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        time.sleep(1.5)
        page.screenshot(path=str(Path(SHOTS) / name), full_page=True)


# ---------------------------------------------------------------- the lesson, step by step


def test_1_context_vector_greedy_steps(page):
    page.get_by_text("我爱你。", exact=True).first.click()  # the first example
    assert wait_value(page, "#source") == "我爱你。"  # the example fills the box (asynchronously)
    text = translate(page)
    assert text.strip()
    svg = plot_text(page, "#step_plot", "<sos>")
    assert "<sos>→" in svg  # the first column is fed <sos> ...
    assert "entropy" in svg
    assert table_rows(page, "#nbest") == 1


def test_2_beam_search_nbest_and_tree(page):
    page.fill("#source textarea", "我爱你。")
    greedy = translate(page)
    pick_radio(page, "#strategy", "beam")
    set_number(page, "#beam_size", 5)
    set_number(page, "#n_best", 5)
    page.click("#translate")
    plot_text(page, "#tree_plot", "winning path")
    wait_rows(page, "#nbest", 5)
    assert "kept" in page.locator("#tree_plot").text_content() and "pruned" in page.locator("#tree_plot").text_content()
    wait_text(page, "#notice", "winning hypothesis")
    shot(page, "translate-beam.png")
    set_number(page, "#n_best", 1)
    set_number(page, "#beam_size", 1)
    page.click("#translate")
    wait_rows(page, "#nbest", 1)
    assert value(page, "#translation") == greedy  # K=1 is exactly greedy


def test_3_sampling_distinct_outputs_and_seed(page):
    page.fill("#source textarea", "我爱你。")
    pick_radio(page, "#strategy", "sampling")
    set_number(page, "#temperature", 0.5)
    set_number(page, "#n_samples", 20)
    page.click("#draw")
    wait_text(page, "#samples_summary", r"20 samples at T = 0\.5")
    plot_text(page, "#step_plot", "T = 0.5")
    cold_rows = table_rows(page, "#samples")
    cold_table = page.locator("#samples [role=grid]").text_content()
    assert cold_rows >= 1
    set_number(page, "#temperature", 1.5)
    page.click("#draw")
    wait_text(page, "#samples_summary", r"20 samples at T = 1\.5")
    plot_text(page, "#step_plot", "T = 1.5")
    assert table_rows(page, "#samples") >= cold_rows
    set_number(page, "#temperature", 0.5)
    page.click("#draw")
    wait_text(page, "#samples_summary", r"T = 0\.5")
    page.wait_for_function("t => document.querySelector('#samples [role=grid]').textContent === t", arg=cold_table)


def test_4_exposure_bias(page):
    page.get_by_role("tab", name="Exposure bias").click()
    page.locator("#exposure_source textarea").fill("汤姆胸痛，所以去了医院。")
    page.locator("#exposure_reference textarea").fill("Tom had a pain in his chest, so he went to the hospital.")
    page.click("#exposure_go")
    svg = plot_text(page, "#exposure_plot", "free-running")
    assert "teacher-forced" in svg
    summary = wait_text(page, "#exposure_summary", "divergence")
    assert "teacher-forced" in summary or "no divergence" in summary
    assert table_rows(page, "#exposure_table") >= 10
    page.click("#curves_go")
    curves = plot_text(page, "#curves_plot", "zh-en-classic")
    assert "target position" in curves and "free-running" in curves
    if "zh-en-scheduled" in page.locator("#curve_models").text_content():  # always with the fixture's models
        assert "zh-en-scheduled" in curves  # side by side with the scheduled-sampling model
    shot(page, "exposure-bias.png")


def test_5_what_if(page):
    page.fill("#source textarea", "我爱你。")
    before = translate(page)
    page.wait_for_function("document.querySelector('#whatif_token input').value.includes('p=')")
    page.click("#whatif_go")
    wait_value(page, "#whatif_text")
    wait_text(page, "#whatif_notice", "Forced")
    assert before in page.locator("#whatif_notice").text_content()
    plot_text(page, "#whatif_plot", "🔒")


def test_6_bottleneck_classic_vs_attention(page):
    page.get_by_text("汤姆说他明天早上", exact=False).first.click()
    page.click("#compare_models")
    wait_value(page, "#text_a")
    wait_value(page, "#text_b")
    plot_text(page, "#compare_attention", "source piece")
    page.click("#compare_strategies")
    wait_rows(page, "#compare_table", 3)
    assert "beam K=" in page.locator("#compare_table").text_content()


def test_7_train_upload_fine_tune_stop_download(page, tmp_path):
    page.get_by_role("tab", name="Train your own").click()
    corpus = tmp_path / "tiny.tsv"
    corpus.write_text("".join(f"我有{i}个苹果。\tI have {i} apples.\n" for i in range(30)), encoding="utf-8")
    page.locator("#upload input[type=file]").set_input_files(str(corpus))
    wait_text(page, "#corpus_summary", "30 sentence pairs")
    assert table_rows(page, "#corpus_head") == 10
    page.click("#load_example")
    wait_text(page, "#corpus_summary", "kitchen_zh_en")
    set_number(page, "#epochs", 2)
    page.click("#train")
    wait_text(page, "#train_status", "Finished")
    plot_text(page, "#loss_plot", "validation loss")
    assert "after" in wait_text(page, "#train_bleu", "before.*after")
    assert "after training" in page.locator("#train_samples").text_content()
    wait_text(page, "#download", r"\.s2s")
    # Stop halfway: a slower model from scratch, many epochs
    pick_radio(page, "#train_mode", "train from scratch (small model)")
    set_number(page, "#epochs", 20)
    page.click("#train")
    plot_text(page, "#loss_plot", "validation loss")
    page.click("#stop")
    status = wait_text(page, "#train_status", r"Finished \(stopped\)")
    assert "my model 2" in status
    # both models are in this session's pickers, not in a fresh visitor's
    page.get_by_role("tab", name="Translate").click()
    page.click("#model input")
    options = page.get_by_role("listbox").first
    options.wait_for()
    names = options.text_content()
    assert "my model 1" in names and "my model 2" in names
    options.get_by_role("option", name=re.compile("my model 2")).click()
    page.fill("#source textarea", "把洋葱切成小丁。")
    assert translate(page) is not None
    other = page.context.browser.new_context()  # another visitor
    try:
        stranger = other.new_page()
        stranger.set_default_timeout(SLOW)
        stranger.goto(page.url)
        stranger.click("#model input")
        listed = stranger.get_by_role("listbox").first
        listed.wait_for()
        assert "zh-en-classic" in listed.text_content() and "my model" not in listed.text_content()
    finally:
        other.close()


def test_friendly_message_on_empty_input_and_long_input_notice(page):
    page.fill("#source textarea", "")
    page.click("#translate")
    page.get_by_text("Type a sentence first").first.wait_for()
    page.fill("#source textarea", "我爱你。" * 1250)
    page.click("#translate")
    wait_text(page, "#notice", "too long")


def test_chinese_labels(browser, server):
    ctx = browser.new_context(locale="zh-CN")
    try:
        pg = ctx.new_page()
        pg.set_default_timeout(SLOW)
        pg.goto(server)
        pg.get_by_role("tab", name="曝光偏差").wait_for()
        assert pg.get_by_role("tab", name="翻译").count() == 1
        pg.get_by_text("解码策略").first.wait_for()  # rendered after the tabs: wait, do not just count
        assert pg.get_by_text("解码策略").count() >= 1
    finally:
        ctx.close()


def test_api_translate_and_20_concurrent_calls(server):
    from gradio_client import Client

    client = Client(server, verbose=False)
    first = client.predict("我爱你。", "zh-en-classic", "greedy", 5, 1.0, api_name="/translate")
    assert isinstance(first[0], str) and first[0]
    beam = client.predict("我爱你。", "zh-en-classic", "beam", 1, 1.0, api_name="/translate")
    assert beam[0] == first[0]  # K=1 is greedy, through the API too

    def call(i: int) -> str:
        strategy = ("greedy", "beam", "sample")[i % 3]
        return client.predict("我爱你。", "zh-en-classic", strategy, 4, 0.8, api_name="/translate")[0]

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(call, range(20)))
    assert len(results) == 20 and all(isinstance(r, str) and r for r in results)
