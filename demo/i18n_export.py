"""English and Chinese strings of the export buttons (demo/exports.py), merged into demo/i18n.py's tables.

Every key starts with `export_`. The `export_msg_*` ones are written by the page's own script (demo/export.js,
no server round trip): demo/exports.py hands them to it in both languages and the script picks the page's."""
from __future__ import annotations

EN: dict[str, str] = {
    "export_figure": "Download figure",
    "export_table": "Download table",
    "export_msg_plot_empty": "Nothing to export yet: this figure has no data.",
    "export_msg_table_empty": "Nothing to export yet: this table is empty.",
    "export_msg_failed": "The download did not work in this browser:",
}

ZH: dict[str, str] = {
    "export_figure": "下载图表",
    "export_table": "下载表格",
    "export_msg_plot_empty": "还没有可导出的内容：这张图里没有数据。",
    "export_msg_table_empty": "还没有可导出的内容：这个表格是空的。",
    "export_msg_failed": "这个浏览器没能完成下载：",
}

MESSAGES = ("export_msg_plot_empty", "export_msg_table_empty", "export_msg_failed")  # the ones the script shows
