"""The download buttons under figures and tables (demo/exports.py, demo/export.js) in headless Chromium: PNG, SVG
and CSV of the step heatmap and the beam tree, CSV of the n-best table after a beam search; a figure of the
Exposure, Decoding lab and Train tabs; the "nothing to export yet" message in English and Chinese; and the CSV
writer's defence against spreadsheet formula injection.

The app runs as `python app.py` on a free port, on tiny checkpoints trained by a fixture, zh-en-classic with a
beam-curse cache (or on the folder named by S2S_BROWSER_CHECKPOINTS). Set S2S_SCREENSHOTS to a folder to keep
screenshots of the Translate tab with its download buttons (English at 1280 px, Chinese at 390 px)."""
from __future__ import annotations

import csv
import io
import os
import re
import struct
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from browser_harness import app_server, checkpoint_folder, pick_example, wait_text
from test_lab_browser import write_curse_cache

playwright_api = pytest.importorskip("playwright.sync_api")
SLOW = 300_000  # ms: a loaded 2-core machine
SHOTS = os.environ.get("S2S_SCREENSHOTS")
PNG = b"\x89PNG\r\n\x1a\n"
BOM = b"\xef\xbb\xbf"
EMPTY_PLOT = {"en": "Nothing to export yet: this figure has no data.", "zh": "还没有可导出的内容：这张图里没有数据。"}
EMPTY_TABLE = {"en": "Nothing to export yet: this table is empty.", "zh": "还没有可导出的内容：这个表格是空的。"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = checkpoint_folder(tmp_path_factory, lambda path: write_curse_cache(path, "zh-en-classic"))
    with app_server(folder, tmp_path_factory, timeout=300) as url:
        yield url


def open_page(browser, url: str, lang: str, width: int = 1280):
    ctx = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN" if lang == "zh" else "en-US",
                              accept_downloads=True)
    page = ctx.new_page()
    page.set_default_timeout(SLOW)
    page.goto(url + f"?lang={lang}")
    page.wait_for_selector("#source textarea")
    page.wait_for_function("() => window.s2sExport && window.Plotly")
    return ctx, page


# ---------------------------------------------------------------- helpers


def download(page, button: str) -> tuple[str, bytes]:
    """Click a download button; the file's suggested name and bytes."""
    with page.expect_download() as d:
        page.click(button)
    return d.value.suggested_filename, Path(d.value.path()).read_bytes()


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(BOM)  # Excel reads the file as UTF-8 (Chinese headers, <sos>→ arrows)
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def as_dicts(rows: list[list[str]]) -> list[dict]:
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def note(page, pattern: str) -> str:
    """The message the export script shows when there is nothing to export."""
    return wait_text(page, "#s2s_export_note", pattern)


def grid(page, selector: str) -> tuple[list[str], list[list[str]]]:
    """(headers, rows) of a gr.Dataframe as the page shows them."""
    return page.evaluate("""(sel) => {
        const g = document.querySelector(sel + ' [role=grid]');
        const text = (e) => e.textContent.trim();
        const heads = Array.from(g.querySelectorAll('[role=columnheader] .header')).map(text);
        const rows = Array.from(g.querySelectorAll('.virtual-body [role=row]')).map(
            (tr) => Array.from(tr.querySelectorAll('[role=gridcell]')).map(text));
        return [heads, rows];
    }""", selector)


def wait_rows(page, selector: str, n: int) -> None:
    page.wait_for_function("([sel, n]) => { const g = document.querySelector(sel + ' [role=grid]');"
                           " return g && Number(g.getAttribute('aria-rowcount')) - 1 === n; }", arg=[selector, n])


def set_number(page, selector: str, number) -> None:
    box = page.locator(f"{selector} input[type=number]").first
    box.fill(str(number))
    box.press("Enter")
    box.blur()


def beam_translate(page, lang: str) -> None:
    page.fill("#source textarea", "我爱你。")
    page.locator("#strategy").get_by_text("束搜索" if lang == "zh" else "beam", exact=True).click()
    set_number(page, "#beam_size", 4)
    set_number(page, "#n_best", 4)
    page.click("#translate")
    wait_text(page, "#tree_plot .js-plotly-plot", "获胜路径" if lang == "zh" else "winning path")
    wait_rows(page, "#nbest", 4)


def figure_size(page, elem_id: str) -> tuple[int, int]:
    return tuple(page.evaluate("(id) => { const l = document.querySelector('#' + id + ' .js-plotly-plot')._fullLayout;"
                               " return [l.width, l.height]; }", elem_id))


def check_png(data: bytes, size: tuple[int, int]) -> None:
    assert data.startswith(PNG) and len(data) > 10_000
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    assert abs(width - 2 * size[0]) <= 2 and abs(height - 2 * size[1]) <= 2  # twice the size on screen, for print


def svg_text(data: bytes) -> str:
    root = ET.fromstring(data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return " ".join(root.itertext())


def clear_note(page) -> None:
    """Hide the export message (a toast over the page for a few seconds) and forget its text."""
    page.evaluate("() => { const n = document.getElementById('s2s_export_note');"
                  " if (n) { n.textContent = ''; n.style.display = 'none'; } }")


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        clear_note(page)
        time.sleep(1.5)  # plotly's transitions
        page.screenshot(path=str(Path(SHOTS) / name), full_page=True)


# ---------------------------------------------------------------- tests


def test_translate_tab_figures_and_nbest_download(browser, server):
    ctx, page = open_page(browser, server, "en")
    try:
        page.click("#tree_plot_png")  # nothing drawn yet: one sentence, no file
        assert EMPTY_PLOT["en"] in note(page, "Nothing to export")
        page.click("#nbest_csv")
        note(page, EMPTY_TABLE["en"])
        beam_translate(page, "en")
        heads, shown = grid(page, "#nbest")
        pieces = shown[0][heads.index("pieces")].split()

        name, data = download(page, "#nbest_csv")
        assert name == "s2s-nbest.csv"
        rows = read_csv(data)
        assert rows[0] == heads == ["rank", "score", "log-prob", "translation", "pieces"]
        assert len(rows) == 5
        for got, seen in zip(rows[1:], shown):  # the numbers the table shows, as numbers
            assert [float(got[i]) for i in range(3)] == [float(seen[i]) for i in range(3)]
            assert got[3:] == seen[3:]
        best_logprob = float(rows[1][2])

        name, data = download(page, "#step_plot_png")
        assert name == "s2s-step-heatmap.png"
        check_png(data, figure_size(page, "step_plot"))
        name, data = download(page, "#step_plot_svg")
        assert name == "s2s-step-heatmap.svg"
        assert all(p in svg_text(data) for p in pieces)  # the winner's tokens label the steps
        name, data = download(page, "#step_plot_csv")
        assert name == "s2s-step-heatmap.csv"
        cells = [r for r in as_dicts(read_csv(data)) if r["type"] == "heatmap"]
        assert cells and {"x_label", "z", "text"} <= set(cells[0])
        ticks = page.locator("#step_plot g[class^=x][class$=tick] text").all_text_contents()  # xtick, x2tick
        assert sorted({c["x_label"] for c in cells}) == sorted(t for t in ticks if t)
        for c in cells:  # the probability printed in a cell is its value, rounded
            assert c["text"].endswith(f"{float(c['z']):.2f}")
        bars = [r for r in as_dicts(read_csv(data)) if r["type"] == "bar"]
        assert len(bars) == len(ticks) and all(float(b["y"]) >= 0 for b in bars)  # entropy per step

        name, data = download(page, "#tree_plot_png")
        assert name == "s2s-beam-tree.png"
        check_png(data, figure_size(page, "tree_plot"))
        name, data = download(page, "#tree_plot_svg")
        text = svg_text(data)
        assert "winning path" in text and all(p in text for p in pieces)
        name, data = download(page, "#tree_plot_csv")
        assert name == "s2s-beam-tree.csv"
        points = as_dicts(read_csv(data))
        assert {"kept", "pruned", "winning path"} <= {p["trace"] for p in points}
        scores = {round(float(p["customdata"]), 3) for p in points if p["customdata"]}
        assert best_logprob in scores  # the winner's log-probability, as the n-best table shows it
        shot(page, "export-translate-en-1280.png")
        page.fill("#source textarea", "你叫什么名字？")  # a new sentence clears the results: nothing stale is exported
        wait_rows(page, "#nbest", 0)
        clear_note(page)
        page.click("#step_plot_csv")
        note(page, EMPTY_PLOT["en"])
    finally:
        ctx.close()


def test_exposure_lab_and_train_tabs_download(browser, server):
    ctx, page = open_page(browser, server, "en")
    try:
        page.get_by_role("tab", name="Exposure bias").click()
        pick_example(page, "他是我弟弟。", "#exposure_source")
        page.click("#exposure_go")
        wait_text(page, "#exposure_plot .js-plotly-plot", "teacher")
        wait_text(page, "#exposure_summary", r"\w")
        name, data = download(page, "#exposure_plot_csv")
        assert name == "s2s-exposure-steps.csv"
        teacher = [r for r in as_dicts(read_csv(data)) if r["trace"].startswith("teacher")]
        name, data = download(page, "#exposure_table_csv")
        assert name == "s2s-exposure-steps-table.csv"
        table = as_dicts(read_csv(data))
        column = next(k for k in table[0] if "teacher" in k and k.startswith("p"))
        assert [float(r["y"]) for r in teacher] == [float(r[column]) for r in table]  # figure and table agree

        page.get_by_role("tab", name="Decoding lab").click()
        page.wait_for_function("() => document.querySelectorAll('#lab_curse_plot .scatterlayer .trace').length >= 6")
        name, data = download(page, "#lab_curse_plot_csv")
        assert name == "s2s-beam-curse.csv"
        points = as_dicts(read_csv(data))
        assert len({p["panel"] for p in points}) == 3  # BLEU, length, too short: one panel each
        beams = {p["x"] for p in points}
        assert "1" in beams and len(points) == 2 * 3 * len(beams)  # two lines in each panel, a point per K
        name, data = download(page, "#lab_curse_plot_svg")
        assert name == "s2s-beam-curse.svg" and "beam size K" in svg_text(data)

        page.get_by_role("tab", name="Train your own").click()
        page.click("#loss_plot_png")
        note(page, EMPTY_PLOT["en"])
        clear_note(page)
        page.click("#train_samples_csv")
        note(page, EMPTY_TABLE["en"])
    finally:
        ctx.close()


def test_chinese_phone_messages_headers_and_formula_injection(browser, server):
    ctx, page = open_page(browser, server, "zh", width=390)
    try:
        assert page.locator("#step_plot_export").get_by_text("下载图表").is_visible()
        page.click("#step_plot_csv")
        note(page, EMPTY_PLOT["zh"])
        beam_translate(page, "zh")
        name, data = download(page, "#nbest_csv")
        assert read_csv(data)[0][:3] == ["名次", "分数", "对数概率"]
        for button in ("#step_plot_png", "#step_plot_svg", "#step_plot_csv"):  # small, side by side, on screen
            box = page.locator(button).bounding_box()
            assert box["width"] < 120 and box["x"] + box["width"] <= 390
        shot(page, "export-translate-zh-390.png")
        out = page.evaluate('() => window.s2sExport.csv([["=1+1", "+a", "-b", "@c", "ok", -1.5]])')
        assert out == "'=1+1,'+a,'-b,'@c,ok,-1.5\r\n"  # text neutralised, numbers stay numbers
        out = page.evaluate('() => window.s2sExport.csv([["a,b", "say \\"hi\\"", "\\tx", "two\\nlines", null, 0]])')
        assert out == '"a,b","say ""hi""",\'\tx,"two\nlines",,0\r\n'
    finally:
        ctx.close()


def test_every_export_button_writes_a_file_of_its_own():
    """No two buttons write the same file name (s2s-<name>.<ext>), and every figure offers all three formats."""
    from demo.app import build_demo

    calls = [re.search(r"s2sExport\.(\w+)\((.*)\)", fn.js or "") for fn in build_demo().fns.values()]
    files = []
    for call in filter(None, calls):
        args = re.findall(r'"([^"]*)"', call.group(2))
        files.append(f"s2s-{args[-1]}." + (args[1] if call.group(1) == "image" else "csv"))
    assert len(files) == len(set(files)) >= 30
    figures = {f.rsplit(".", 1)[0] for f in files if f.endswith(".svg")}
    assert {f + ext for f in figures for ext in (".png", ".svg", ".csv")} <= set(files)


def test_lesson_cards_offer_downloads_only_for_what_they_show(browser, server):
    """The lesson's panels come and go with the cards: the download row of a figure shows only while it is drawn."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US", accept_downloads=True)
    page = ctx.new_page()
    page.set_default_timeout(SLOW)
    try:
        page.goto(server + "?card=2&lang=en")  # the lesson tab opens (the Translate tab, never drawn, has no figure)
        page.wait_for_function("() => window.s2sExport")
        wait_text(page, "#lesson_card", r"2\. Greedy is myopic")
        wait_text(page, "#lesson_question", ".")
        assert not page.locator("#lesson_plot_export").is_visible()  # nothing revealed yet
        assert not page.locator("#lesson_plot2_export").is_visible()
        page.locator("#lesson_question label").first.click()
        page.click("#lesson_reveal")
        page.wait_for_selector("#lesson_plot .js-plotly-plot .main-svg")
        page.wait_for_selector("#lesson_plot_export", state="visible")
        name, data = download(page, "#lesson_plot_png")
        assert name == "s2s-lesson-figure.png"
        check_png(data, figure_size(page, "lesson_plot"))
        name, data = download(page, "#lesson_plot_csv")
        assert name == "s2s-lesson-figure.csv" and len(read_csv(data)) > 2
        page.click("#lesson_next")  # card 3: its figure is hidden until the next reveal, and so is the row
        wait_text(page, "#lesson_card", r"3\. Sampling and temperature")
        page.wait_for_selector("#lesson_plot_export", state="hidden")
    finally:
        ctx.close()
