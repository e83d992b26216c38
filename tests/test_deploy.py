"""Deploying to a Space (issue 10 §12), offline: which files scripts/deploy_space.py uploads, and the README's Spaces
front matter as huggingface_hub's card parser reads it."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from huggingface_hub import RepoCard, metadata_load

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def deploy():
    spec = importlib.util.spec_from_file_location("deploy_space", ROOT / "scripts" / "deploy_space.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TREE = {
    # uploaded
    "app.py": True, "requirements.txt": True, "README.md": True, ".gitattributes": True,
    "demo/app.py": True, "demo/tabs/train.py": True, "demo/examples/kitchen_zh_en.tsv": True,
    "s2s/train.py": True, "checkpoints/zh-en-classic.s2s": True, "checkpoints/zh-en-classic.curves.json": True,
    "checkpoints/results.json": True, "checkpoints/README.md": True,
    "docs/LESSON.md": True, "docs/DESIGN.md": True, "docs/screenshot.png": True,
    # kept home
    "tests/test_deploy.py": False, "tests/conftest.py": False, "bench/browser_latency.py": False,
    "bench/results/x.json": False, "scripts/deploy_space.py": False, "data/tatoeba-zh-en/train.tsv": False,
    "demo/__pycache__/app.cpython-311.pyc": False, "s2s/__pycache__/model.cpython-311.pyc": False,
    "checkpoints/zh-en-classic.last.s2s": False, "checkpoints/.zh-en-classic.s2s.abc.tmp": False,
    "demo/.app.py.swp": False, "docs/notes.md": False, "runs/my.s2s": False, "requirements-dev.txt": False,
    "pytest.ini": False, ".git/config": False, ".gitignore": False, "notes.txt": False,
}


def test_the_exact_selection_on_a_made_up_tree(deploy, tmp_path):
    for name in TREE:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    assert deploy.selected_files(tmp_path) == sorted(name for name, up in TREE.items() if up)


def test_the_real_selection_has_what_the_space_runs_and_nothing_else(deploy):
    files = deploy.selected_files()
    assert {"app.py", "requirements.txt", "README.md", ".gitattributes"} <= set(files)
    shipped = {p.relative_to(ROOT).as_posix() for p in (ROOT / "checkpoints").glob("*.s2s")
               if not p.name.endswith(".last.s2s")}
    assert shipped and shipped <= set(files)
    tracked_code = {p.relative_to(ROOT).as_posix() for d in ("demo", "s2s") for p in (ROOT / d).rglob("*.py")
                    if "__pycache__" not in p.parts}
    assert tracked_code <= set(files)
    assert not [f for f in files if f.split("/")[0] in ("tests", "bench", "scripts", "data", "runs")]
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]
    assert {f for f in files if f.startswith("docs/")} == {"docs/LESSON.md", "docs/DESIGN.md", "docs/screenshot.png"}


def test_dry_run_lists_and_uploads_nothing(deploy, capsys, monkeypatch):
    import huggingface_hub

    def refuse(*args, **kwargs):
        raise AssertionError("a dry run must not touch the Hub")

    monkeypatch.setattr(huggingface_hub, "create_repo", refuse)
    monkeypatch.setattr(huggingface_hub, "upload_folder", refuse)
    assert deploy.main(["me/playground", "--dry-run"]) == 0
    out = capsys.readouterr().out
    listed = [line.split()[-1] for line in out.splitlines() if re.match(r"\s*[\d,]+\s+\S+$", line)]
    assert listed == deploy.selected_files()
    assert "huggingface.co/spaces/me/playground" in out


def test_upload_creates_a_gradio_space_and_sends_the_selection(deploy, monkeypatch):
    import huggingface_hub

    calls = {}
    monkeypatch.setattr(huggingface_hub, "create_repo", lambda repo_id, **kw: calls.setdefault("create", (repo_id, kw)))
    monkeypatch.setattr(huggingface_hub, "upload_folder", lambda **kw: calls.setdefault("upload", kw))
    deploy.main(["me/playground"])
    repo_id, kw = calls["create"]
    assert repo_id == "me/playground" and kw["repo_type"] == "space" and kw["space_sdk"] == "gradio"
    assert kw["exist_ok"] is True
    up = calls["upload"]
    assert up["repo_id"] == "me/playground" and up["repo_type"] == "space" and Path(up["folder_path"]) == ROOT
    assert up["allow_patterns"] == deploy.ALLOW and up["ignore_patterns"] == deploy.IGNORE


def test_readme_front_matter_is_what_spaces_needs():
    meta = metadata_load(ROOT / "README.md")
    card = RepoCard.load(ROOT / "README.md", repo_type="space")
    assert card.data.to_dict() == meta
    assert meta["sdk"] == "gradio" and meta["app_file"] == "app.py" and (ROOT / meta["app_file"]).is_file()
    pinned = re.search(r"^gradio==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    assert str(meta["sdk_version"]) == pinned
    assert re.fullmatch(r"3\.\d+", str(meta["python_version"]))
    assert meta["title"] and len(meta.get("short_description", "")) <= 60


def test_gitattributes_sends_checkpoints_through_lfs():
    lines = (ROOT / ".gitattributes").read_text().splitlines()
    assert "*.s2s filter=lfs diff=lfs merge=lfs -text" in lines
