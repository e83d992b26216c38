"""Write the lesson handout (one page per card, computed from the installed models) as print-friendly HTML.

    python scripts/make_handout.py --lang en|zh --out handout.html

The same pages as the Lesson tab's "Handout" button (demo/lesson_handout.py). Models come from checkpoints/ or
$S2S_CHECKPOINTS_DIR; the one fine-tune card runs a short pre-set fine-tune (under a minute on two CPU cores)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=("en", "zh"), default="en", help="handout language (default: en)")
    parser.add_argument("--out", required=True, help="the HTML file to write (its folders are created)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default: 2)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if out.is_dir():
        parser.error(f"--out {out} is a folder: give a file name")
    import torch

    torch.set_num_threads(max(1, args.threads))
    from demo.lesson_handout import build_html

    page = build_html(args.lang)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    cards = page.count('<section class="card"')
    print(f"wrote {out} ({cards} cards, {args.lang})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
