"""English and Chinese strings of the lesson views, merged into demo/i18n.py's tables (kept apart so that the
lesson views can grow their strings without touching the shared table)."""
from __future__ import annotations

EN: dict[str, str] = {}
ZH: dict[str, str] = {}
