"""Every event handler goes through `friendly`: bad input and hostile files become one clear line for the visitor.

Known errors (a refused checkpoint, a bad corpus or setting, a training that diverged, an unknown model) show their
own one-line message; anything else is logged on the server with its traceback and shown as one sentence that says
what to do. Messages come from the language tables in demo/i18n.py, in the page's language (the s2s_lang cookie the
page sets, else the browser's Accept-Language); the core's errors carry a message key and its values
(s2s/messages.py), said in Chinese from demo/i18n_errors.py."""
from __future__ import annotations

import functools
import inspect
import logging
import re

import gradio as gr
from gradio.context import LocalContext

from s2s.checkpoint import CheckpointError
from s2s.config import ConfigError
from s2s.data import CorpusError
from s2s.messages import Text
from s2s.train import NonFiniteLoss

from .i18n import EN, ZH
from .i18n_errors import ZH as CORE_ZH

log = logging.getLogger("demo")
KNOWN = (CheckpointError, CorpusError, ConfigError, NonFiniteLoss)


LANG_COOKIE = "s2s_lang"  # set by the page script in demo/app.py from ?lang=, the saved choice, or the browser


def language(headers=None) -> str:
    """'zh' or 'en': the page's chosen language (cookie), else the browser's (Accept-Language); the request being
    served, or the given headers."""
    if headers is None:
        request = LocalContext.request.get(None)
        headers = getattr(request, "headers", None) or {}
    chosen = re.search(rf"(?:^|;)\s*{LANG_COOKIE}=(zh|en)\b", headers.get("cookie") or "")
    if chosen:
        return chosen.group(1)
    preferred = (headers.get("accept-language") or "").split(",")[0].strip().lower()
    return "zh" if preferred.startswith("zh") else "en"


def core_text(err: BaseException | Text, lang: str | None = None) -> str:
    """What a core error (or a core message) says, in the page's language: the Chinese template of its key for
    Chinese, else the core's English text (also for an error built without a key)."""
    text = err if isinstance(err, Text) else getattr(err, "text", None)
    if not isinstance(text, Text):
        return str(err)
    return text.render(CORE_ZH if (lang or language()) == "zh" else None)


def message(key: str, lang: str | None = None, **values) -> str:
    """The message `key` from the language tables, filled in with `values` (core errors among them are said in the
    same language)."""
    lang = lang or language()
    table = ZH if lang == "zh" else EN
    values = {name: core_text(v, lang) if isinstance(v, (Text, *KNOWN)) else v for name, v in values.items()}
    return table[key].format(**values)


def one_line(err: BaseException | str) -> str:
    """The first non-empty line of an exception's message (hostile files must not flood the page)."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return lines[0][:500] if lines else type(err).__name__


def explain(err: Exception, where: str) -> str:
    """The visitor's sentence for an exception raised in handler `where` (unexpected ones are logged)."""
    if isinstance(err, KNOWN):
        return one_line(core_text(err))
    if isinstance(err, KeyError):
        return message("err_unknown_model", name=one_line(err).strip("'\""))
    log.error("unexpected error in %s", where, exc_info=err)
    return message("err_unexpected", kind=type(err).__name__)


def friendly(fn):
    """Decorate an event handler (function or generator): gr.Error passes, other exceptions become gr.Error.

    The gr.Error is raised outside the `except` block so it does not keep the original exception (and the
    frames, and any half-built model, its traceback holds) alive."""
    where = getattr(fn, "__qualname__", repr(fn))

    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            text = None
            try:
                yield from fn(*args, **kwargs)
            except gr.Error:
                raise
            except Exception as err:
                text = explain(err, where)
            if text is not None:
                raise gr.Error(text, print_exception=False)
    else:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            text = None
            try:
                return fn(*args, **kwargs)
            except gr.Error:
                raise
            except Exception as err:
                text = explain(err, where)
            raise gr.Error(text, print_exception=False)

    wrapper.friendly = True
    return wrapper
