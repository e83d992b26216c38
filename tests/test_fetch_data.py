"""scripts/fetch_data.py: pinned SHA-256 sums, a local copy instead of a download, and downloads (served from
memory: no network is used)."""
from __future__ import annotations

import gzip
import hashlib
import importlib.util
import io
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("fetch_data", ROOT / "scripts/fetch_data.py")
fetch_data = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fetch_data)

CONTENT = {"multi30k/train.de": b"Ein Hund.\n", "tatoeba-cmn-eng/cmn.txt": b"Hi.\t\xe4\xbd\xa0\xe5\xa5\xbd\xe3\x80\x82\tCC\n"}


@pytest.fixture()
def pinned(monkeypatch):
    files = {rel: (hashlib.sha256(data).hexdigest(), url) for rel, (_, url) in fetch_data.FILES.items()
             for data in [CONTENT.get(rel)] if data is not None}
    monkeypatch.setattr(fetch_data, "FILES", files)


def _copy(folder: Path, changed: bool = False) -> Path:
    for rel, data in CONTENT.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data + (b"extra\n" if changed else b""))
    return folder


def test_the_pins_are_the_files_the_shipped_models_used():
    assert len(fetch_data.FILES) == 7 and all(len(sha) == 64 for sha, _ in fetch_data.FILES.values())
    assert fetch_data.FILES["tatoeba-cmn-eng/cmn.txt"][0].startswith("5e44b35f")


def test_a_verified_local_copy(pinned, tmp_path):
    local = _copy(tmp_path / "local")
    assert fetch_data.main(["--from", str(local), "--out", str(tmp_path / "raw")]) == 0
    assert (tmp_path / "raw/multi30k/train.de").read_bytes() == CONTENT["multi30k/train.de"]
    assert fetch_data.main(["--check", "--out", str(tmp_path / "raw")]) == 0


def test_a_changed_file_is_refused_unless_allowed(pinned, tmp_path, capsys):
    local = _copy(tmp_path / "local", changed=True)
    assert fetch_data.main(["--from", str(local), "--out", str(tmp_path / "raw")]) == 2
    assert "expected" in capsys.readouterr().err and not (tmp_path / "raw/multi30k/train.de").exists()
    assert fetch_data.main(["--from", str(local), "--out", str(tmp_path / "raw"), "--allow-changed"]) == 0
    assert fetch_data.main(["--check", "--out", str(tmp_path / "raw")]) == 2


def test_missing_files_are_named(pinned, tmp_path, capsys):
    assert fetch_data.main(["--check", "--out", str(tmp_path / "nothing")]) == 2
    assert "missing" in capsys.readouterr().err


def test_downloads_are_unpacked_and_checked(pinned, tmp_path, monkeypatch):
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("cmn.txt", CONTENT["tatoeba-cmn-eng/cmn.txt"])
    served = {fetch_data.TATOEBA: zipped.getvalue(),
              fetch_data.MULTI30K.format(name="train.de"): gzip.compress(CONTENT["multi30k/train.de"])}
    opened = []

    def urlopen(request, timeout):
        url = getattr(request, "full_url", request)
        opened.append(url)
        return io.BytesIO(served[url])

    monkeypatch.setattr(fetch_data.urllib.request, "urlopen", urlopen)
    assert fetch_data.main(["--out", str(tmp_path / "raw")]) == 0
    assert sorted(opened) == sorted(served)
    assert (tmp_path / "raw/tatoeba-cmn-eng/cmn.txt").read_bytes() == CONTENT["tatoeba-cmn-eng/cmn.txt"]
