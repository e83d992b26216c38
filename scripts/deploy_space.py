"""Put the playground on your own Hugging Face Space.

    python scripts/deploy_space.py YOUR-NAME/seq2seq-playground --dry-run    # list what would be uploaded
    python scripts/deploy_space.py YOUR-NAME/seq2seq-playground              # create (if needed) and upload
        [--private] [--hardware cpu-basic|zero-a10g|...]

Uses huggingface_hub (installed with gradio): `create_repo(..., repo_type="space", space_sdk="gradio",
exist_ok=True)` and one `upload_folder` commit, which stores the 17-20 MB checkpoints the way the Hub requires
(a plain `git push` of them is refused: files over 10 MiB must go through LFS/Xet). Log in first with
`hf auth login`, or set HF_TOKEN.

What the Space gets, and nothing else (see `ALLOW` / `IGNORE`): app.py, requirements.txt, README.md (its front
matter configures the Space), .gitattributes, demo/ (code and the example corpora), s2s/ (the core),
checkpoints/ (*.s2s, the JSON files beside them, the model cards), and the three docs/ files the README links
to or shows (LESSON.md, DESIGN.md, screenshot.png). Not tests/, bench/, scripts/, data/ or caches."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from huggingface_hub.utils import filter_repo_objects

ROOT = Path(__file__).resolve().parent.parent
ALLOW = ["app.py", "requirements.txt", "README.md", ".gitattributes", "demo/*", "s2s/*",
         "checkpoints/*.s2s", "checkpoints/*.json", "checkpoints/README.md",
         "docs/LESSON.md", "docs/DESIGN.md", "docs/screenshot.png"]
# fnmatch patterns: `*` also matches `/`. Hidden files below the top level (editor and temporary files), Python
# caches, resumable training state and half-written files stay home.
IGNORE = ["*__pycache__*", "*.pyc", "*.last.s2s", "*.tmp", "*/.*", "*.swp", "*~"]


def selected_files(root: Path = ROOT) -> list[str]:
    """The paths (relative, POSIX) that `upload_folder` sends with ALLOW and IGNORE, sorted."""
    paths = [p.relative_to(root).as_posix() for p in root.rglob("*")
             if p.is_file() and ".git" not in p.relative_to(root).parts]
    return sorted(filter_repo_objects(paths, allow_patterns=ALLOW, ignore_patterns=IGNORE))


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("repo_id", help="the Space, as YOUR-NAME/SPACE-NAME")
    ap.add_argument("--dry-run", action="store_true", help="list the files and their total size; upload nothing")
    ap.add_argument("--private", action="store_true", help="create the Space private")
    ap.add_argument("--hardware", default=None, help="Space hardware when creating it, e.g. cpu-basic or zero-a10g")
    ap.add_argument("--message", default="Deploy Seq2Seq Playground", help="commit message")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    files = selected_files()
    size = sum((ROOT / f).stat().st_size for f in files)
    for f in files:
        print(f"{(ROOT / f).stat().st_size:>12,}  {f}")
    print(f"{len(files)} files, {size / 1e6:.1f} MB -> https://huggingface.co/spaces/{args.repo_id}")
    if args.dry_run:
        return 0
    from huggingface_hub import create_repo, upload_folder

    url = create_repo(args.repo_id, repo_type="space", space_sdk="gradio", exist_ok=True, private=args.private,
                      space_hardware=args.hardware)
    info = upload_folder(repo_id=args.repo_id, repo_type="space", folder_path=ROOT, allow_patterns=ALLOW,
                         ignore_patterns=IGNORE, commit_message=args.message)
    print(f"uploaded: {getattr(info, 'commit_url', info)}\nSpace: {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
