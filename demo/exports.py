"""Download buttons under the figures (PNG, SVG, and CSV of the numbers drawn) and the result tables (CSV).

Everything happens in the browser (demo/export.js, put into the page by demo/app.py): Plotly's own static export for
the images and CSV built from the drawn figure or the table's value, so the buttons need no server, no kaleido and
no network, here and on Spaces alike. Files are named `s2s-<name>.<ext>` (e.g. s2s-step-heatmap.png, s2s-nbest.csv).
A figure or table with nothing in it yet says so in the page's language (strings: demo/i18n_export.py)."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import gradio as gr

from .i18n import EN, ZH, t
from .i18n_export import MESSAGES

SCRIPT_FILE = Path(__file__).with_name("export.js")
PLACEHOLDER = "/*MESSAGES*/ {en: {}, zh: {}}"
IMAGE_FORMATS = ("png", "svg")
BASE_CSS = """
.s2s-export {gap: 6px !important; align-items: center; flex-wrap: wrap !important; margin-top: -4px;}
.s2s-export > * {flex: 0 0 auto !important; min-width: 0 !important; width: auto !important;}
.s2s-export .s2s-export-label {color: var(--body-text-color-subdued); font-size: 0.9em; margin-right: 2px;}
.s2s-export .s2s-export-label p {margin: 0;}
.s2s-export button {min-width: 52px !important; padding: 2px 10px !important;}
"""
DRAWN_ONLY = ["lesson_setup_plot", "lesson_plot", "lesson_plot2", "lesson_table"]  # demo/tabs/lesson.py's panels


@lru_cache(maxsize=1)
def script() -> str:
    """The <script> element defining `window.s2sExport`, with its messages in both languages."""
    messages = {lang: {key: table[key] for key in MESSAGES} for lang, table in (("en", EN), ("zh", ZH))}
    code = SCRIPT_FILE.read_text("utf-8")
    assert PLACEHOLDER in code, "demo/export.js lost its MESSAGES placeholder"
    data = json.dumps(messages, ensure_ascii=True).replace("<", "\\u003c")  # never a "</script>" in the page
    return "<script>" + code.replace(PLACEHOLDER, data) + "</script>"


def _js(function: str, *strings: str, param: str = "") -> str:
    """The click's JavaScript: `(param) => s2sExport.function(param, "string", ...)`."""
    call = ", ".join(([param] if param else []) + [json.dumps(s) for s in strings])
    return f"({param}) => {{ if (window.s2sExport) window.s2sExport.{function}({call}); }}"


def _button(label: str, elem_id: str) -> gr.Button:
    return gr.Button(label, size="sm", scale=0, min_width=52, elem_id=elem_id, elem_classes="s2s-export-button")


def _classes(only_when_drawn: bool) -> list[str]:
    return ["s2s-export"] + (["s2s-export-if-drawn"] if only_when_drawn else [])


def only_when_drawn_css(ids: list[str]) -> str:
    """CSS that shows the rows of `ids` (components built with only_when_drawn) only while their figure or table
    shows something: for panels that appear and disappear (the lesson's cards)."""
    rules = [f"body:has(#{i} .js-plotly-plot) #{i}_export, body:has(#{i} [role=gridcell]) #{i}_export "
             "{display: flex !important;}" for i in ids]
    return ".s2s-export-if-drawn {display: none !important;}\n" + "\n".join(rules) + "\n"


CSS = BASE_CSS + only_when_drawn_css(DRAWN_ONLY)


def plot_exports(plot: gr.Plot, name: str, only_when_drawn: bool = False) -> None:
    """A row of PNG / SVG / CSV buttons (ids `<plot id>_png|_svg|_csv`) for the figure of `plot` (it needs an
    elem_id); the files are s2s-<name>.png|svg|csv. PNG is drawn at twice the size on screen, for print.
    `only_when_drawn`: the row shows only while the figure is drawn (with `only_when_drawn_css`)."""
    plot_id = plot.elem_id
    with gr.Row(elem_classes=_classes(only_when_drawn), elem_id=f"{plot_id}_export"):
        gr.Markdown(t("export_figure"), elem_classes="s2s-export-label")
        for fmt in IMAGE_FORMATS:
            _button(fmt.upper(), f"{plot_id}_{fmt}").click(
                None, None, None, js=_js("image", plot_id, fmt, name), queue=False,
                api_name=f"export_{plot_id}_{fmt}", api_visibility="private")
        _button("CSV", f"{plot_id}_csv").click(
            None, None, None, js=_js("figureCsv", plot_id, name), queue=False,
            api_name=f"export_{plot_id}_csv", api_visibility="private")


def table_csv(table: gr.Dataframe, name: str, only_when_drawn: bool = False) -> None:
    """A CSV button (id `<table id>_csv`) for the rows `table` shows (it needs an elem_id); the file is
    s2s-<name>.csv, headers as the page shows them. `only_when_drawn`: as for plot_exports."""
    table_id = table.elem_id
    with gr.Row(elem_classes=_classes(only_when_drawn), elem_id=f"{table_id}_export"):
        gr.Markdown(t("export_table"), elem_classes="s2s-export-label")
        _button("CSV", f"{table_id}_csv").click(
            None, [table], None, js=_js("tableCsv", name, param="value"),
            queue=False, api_name=f"export_{table_id}_csv", api_visibility="private")
