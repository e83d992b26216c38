"""One visitor cannot fill the queue: caps on the queued + running jobs of one session and of one IP address.

The check runs when a job asks to join Gradio's queue (a wrapper around the queue's `push`), so a request over
the cap is refused at once with one sentence (HTTP 400, shown by the browser) instead of waiting in line.
Caps are per concurrency group for a session (decoding, the heavy curves, training) and over all groups for
an IP address. The IP is the one uvicorn reports: behind a proxy, set FORWARDED_ALLOW_IPS to the proxy's
address so that it is the visitor's (a classroom behind one NAT address shares the IP cap).
Within a group the waiting line is kept fair: a session's next job waits behind the jobs of sessions that have
fewer queued or running, so an honest visitor's request goes ahead of a flooder's backlog."""
from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable

from .errors import language, message

SESSION_CAPS = {"decode": 3, "heavy": 1, "train": 1}  # per session and concurrency group
DEFAULT_SESSION_CAP = 3  # groups not listed above


def session_cap(group: str) -> int:
    return int(os.environ.get("S2S_JOBS_PER_SESSION") or SESSION_CAPS.get(group, DEFAULT_SESSION_CAP))


def ip_cap() -> int:
    return int(os.environ.get("S2S_JOBS_PER_IP") or 24)


def client_host(request) -> str:
    client = getattr(request, "client", None)
    return getattr(client, "host", None) or "unknown"


def pending_events(queue) -> Iterable:
    """Every event waiting in one of the queue's groups or being processed."""
    for group in list(queue.event_queue_per_concurrency_id.values()):
        yield from list(group.queue)
    for batch in list(queue.active_jobs):
        yield from batch or []


def refusal(events: Iterable, session: str | None, host: str, group: str, joining: Counter) -> str | None:
    """Why a new job of `session` from `host` in `group` must wait its turn, or None when it may join.

    `joining` counts the jobs of each (session, group) and host that passed this check but are not queued yet."""
    same_session, same_host = joining[(session, group)], joining[host]
    for event in events:
        if session is not None and event.session_hash == session and event.concurrency_id == group:
            same_session += 1
        if client_host(event.request) == host:
            same_host += 1
    if session is not None and same_session >= session_cap(group):
        return "err_busy_session"
    if same_host >= ip_cap():
        return "err_busy_ip"
    return None


def fair_order(waiting: list, running: Iterable) -> list:
    """Waiting events, each session's n-th job after every session's (n-1)-th (running jobs count first).

    Ties keep arrival order, so a visitor with nothing running goes ahead of a session that already has jobs."""
    seen = Counter(e.session_hash for e in running)
    ranked = []
    for i, event in enumerate(waiting):
        ranked.append((seen[event.session_hash], i, event))
        seen[event.session_hash] += 1
    return [event for *_, event in sorted(ranked, key=lambda r: r[:2])]


def reorder(queue, group: str) -> None:
    """Put one group's waiting line in fair order (in place: Gradio takes the first event when a worker frees)."""
    line = queue.event_queue_per_concurrency_id.get(group)
    if line is not None and len(line.queue) > 1:
        running = [e for batch in list(queue.active_jobs) for e in batch or [] if e.concurrency_id == group]
        line.queue[:] = fair_order(list(line.queue), running)


def install(demo) -> None:
    """Wrap the queue's `push` of a Blocks app whose queue is configured (`demo.queue()` was called)."""
    queue = demo._queue
    original = queue.push
    joining: Counter = Counter()

    async def push(body, request, username):
        fn = demo.fns.get(body.fn_index) if body.fn_index is not None else None
        group = str(fn.concurrency_id) if fn is not None else ""
        host = client_host(request)
        key = refusal(pending_events(queue), body.session_hash, host, group, joining)
        if key is not None:
            lang = language(getattr(request, "headers", None) or {})
            cap = session_cap(group) if key == "err_busy_session" else ip_cap()
            return False, message(key, lang, n=cap), "error"
        keys = [(body.session_hash, group), host]
        joining.update(keys)
        try:
            result = await original(body=body, request=request, username=username)
            if result[0]:
                reorder(queue, group)
            return result
        finally:
            joining.subtract(keys)
            for k in keys:
                if joining[k] <= 0:
                    del joining[k]

    queue.push = push
