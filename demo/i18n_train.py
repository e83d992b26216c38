"""English and Chinese strings of the train views, merged into demo/i18n.py's tables (kept apart so that the
train views can grow their strings without touching the shared table)."""
from __future__ import annotations

EN: dict[str, str] = {}
ZH: dict[str, str] = {}
