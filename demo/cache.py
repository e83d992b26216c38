"""Results precomputed per shipped checkpoint, read back only when they belong to that exact file.

scripts/precompute_curves.py writes `<checkpoint dir>/<name>.curves.json` (exposure-bias curves, BLEU by source
length) and scripts/beam_curse.py writes `<name>.beam_curse.json`; each records the SHA-256 of the checkpoint it
was computed from under "checkpoint_sha256". A cache whose hash differs from the checkpoint's (the model was
retrained or replaced) is ignored: the caller recomputes.
"""
from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

HASH_KEY = "checkpoint_sha256"


@functools.lru_cache(maxsize=64)
def _sha256(path: str, size: int, mtime_ns: int) -> str:  # size and mtime: a changed file is hashed again
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file (remembered while its size and modification time stay the same)."""
    stat = Path(path).stat()
    return _sha256(str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)


def cache_path(name: str, checkpoint: str | Path, kind: str) -> Path:
    """Where the `kind` ("curves", "beam_curse") cache of model `name` lies: beside its checkpoint."""
    return Path(checkpoint).parent / f"{name}.{kind}.json"


def load_cached(name: str, checkpoint: str | Path, kind: str) -> dict | None:
    """The cached dict, or None when the cache or the checkpoint is missing or unreadable or the hash differs."""
    try:
        data = json.loads(cache_path(name, checkpoint, kind).read_text("utf-8"))
        return data if isinstance(data, dict) and data.get(HASH_KEY) == file_sha256(checkpoint) else None
    except (OSError, ValueError):
        return None


def load_curves(name: str, path: str | Path) -> dict | None:
    """Exposure-bias curves and BLEU by length of model `name` whose checkpoint is `path` (None: recompute)."""
    return load_cached(name, path, "curves")


def load_beam_curse(name: str, path: str | Path) -> dict | None:
    """BLEU / length by beam size of model `name` whose checkpoint is `path` (None: not available)."""
    return load_cached(name, path, "beam_curse")
