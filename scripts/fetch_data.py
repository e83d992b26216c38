"""Get the corpora the project trains and evaluates on, checked against pinned SHA-256 sums.

    python scripts/fetch_data.py                         # download from the canonical sources into data/raw
    python scripts/fetch_data.py --from ../shared/data   # or copy a local copy (what works on machines offline)
    python scripts/fetch_data.py --check                 # only verify what data/raw holds

data/raw (git-ignored) then mirrors the layout every script reads (`--data data/raw`, `DATA=data/raw`):
    multi30k/{train,val,test_2016_flickr}.{de,en}   Multi30k task 1, from github.com/multi30k/dataset data/task1/raw
    tatoeba-cmn-eng/cmn.txt                         Tatoeba cmn-eng from manythings.org/anki (CC-BY 2.0 FR)

The sums are those of the files the shipped checkpoints were trained on. Multi30k's repository files should match
them. The zh-en models used a 25,316-pair subset of manythings' 2021-07-14 release, which is no longer offered:
today's download differs, and the script says so and stops unless you pass --allow-changed (your zh-en results
will then differ from the README's). Exit 0: every file present and verified; 2: a file is missing or differs.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import shutil
import sys
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MULTI30K = "https://raw.githubusercontent.com/multi30k/dataset/master/data/task1/raw/{name}.gz"
TATOEBA = "https://www.manythings.org/anki/cmn-eng.zip"

FILES = {  # path under the data folder -> (SHA-256 of the file the shipped models used, where to get it)
    "multi30k/train.de": ("2c2b73fd2b548fbcde3a875e0a78d6ee94d498bfdee6bd3eae3945779e9ddf72", MULTI30K),
    "multi30k/train.en": ("460a15fbd157e34a7a9957ee388c1ca247fe47af3ef25fb50442af6c274e0fc6", MULTI30K),
    "multi30k/val.de": ("660e09eb7e1da2f856ea13ee5ad3cf6d36b3d5b0b733c857e94c5747a3dfc660", MULTI30K),
    "multi30k/val.en": ("1f2a23d992769b5b3d209b0a10dd0b77c08cceb1f20dfb97ed0aafa49d107227", MULTI30K),
    "multi30k/test_2016_flickr.de": ("4be6b5b3236b79c25475c6bb829800a7ce559e9ba7a1f6c2394fe4d40be46d16", MULTI30K),
    "multi30k/test_2016_flickr.en": ("399a4382932c1aadd3ceb9bef1008d388a64c76d4ae4e9d4728c6f4301cac182", MULTI30K),
    "tatoeba-cmn-eng/cmn.txt": ("5e44b35ff7e49a3faa7a98b9b2b5e7a64a615fa97d6014bfe5e8cdf7cf527c6d", TATOEBA),
}


class FetchError(Exception):
    """A file is missing or differs from its pinned sum: one line, exit 2."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def download(rel: str, url: str) -> bytes:
    """The file's bytes from its canonical source (Multi30k: one .gz per file; Tatoeba: cmn.txt in a zip)."""
    if url == TATOEBA:
        request = urllib.request.Request(url, headers={"User-Agent": "seq2seq-playground fetch_data.py"})
        with urllib.request.urlopen(request, timeout=60) as r:
            return zipfile.ZipFile(io.BytesIO(r.read())).read("cmn.txt")
    with urllib.request.urlopen(url.format(name=Path(rel).name), timeout=60) as r:
        return gzip.decompress(r.read())


def fetch(rel: str, out: Path, local: Path | None, allow_changed: bool, check_only: bool) -> str:
    """Make out/rel hold the verified file; returns a one-line status. Raises FetchError on a mismatch."""
    expected, url = FILES[rel]
    target = out / rel
    if target.is_file() and sha256(target.read_bytes()) == expected:
        return f"ok       {rel}"
    if check_only:
        raise FetchError(f"{target}: {'missing' if not target.exists() else 'differs from the pinned sum'}")
    if local is not None:
        source = local / rel
        if not source.is_file():
            raise FetchError(f"{source}: not found (expected the layout <folder>/{rel})")
        data, origin = source.read_bytes(), str(source)
    else:
        origin = url.format(name=Path(rel).name)
        try:
            data = download(rel, url)
        except (OSError, zipfile.BadZipFile, gzip.BadGzipFile, KeyError) as err:
            raise FetchError(f"{origin}: cannot download ({err}); on a machine without internet use --from "
                             f"<folder with a copy>") from None
    digest = sha256(data)
    if digest != expected and not allow_changed:
        raise FetchError(f"{origin}: SHA-256 {digest}, expected {expected} (the file the shipped models used); "
                         f"pass --allow-changed to use it anyway")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return f"{'fetched' if digest == expected else 'CHANGED'}  {rel} <- {origin}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--from", dest="local", type=Path, help="copy from this folder instead of downloading")
    ap.add_argument("--out", type=Path, default=ROOT / "data/raw")
    ap.add_argument("--allow-changed", action="store_true", help="keep files whose SHA-256 differs from the pin")
    ap.add_argument("--check", action="store_true", help="only verify --out")
    args = ap.parse_args(argv)
    try:
        for rel in FILES:
            print(fetch(rel, args.out, args.local, args.allow_changed, args.check), flush=True)
    except (FetchError, OSError) as err:  # a mismatch, or the disk
        print(f"error: {err}", file=sys.stderr)
        return 2
    licence = args.local / "README.md" if args.local else None
    if licence and licence.is_file():
        shutil.copyfile(licence, args.out / "README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
