"""The README's screenshots, made from the running app on the shipped checkpoints (so they show the screen as it is).

    python scripts/make_screenshots.py [--out docs]

- docs/screenshot.png: the Translate tab at 1280 px, beam search (K = 5) on 我爱你。, the top 1,800 px of the page;
- docs/lesson.png: the Lesson tab at 1280 px, card 2 (greedy vs beam) after its reveal, the top 2,500 px (question and reveal).
Needs Playwright and Debian's chromium (the browser tests' setup)."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import browser_latency as bl  # noqa: E402  (its server start/stop and browser flags)


def _page(browser, url: str):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = ctx.new_page()
    page.set_default_timeout(180_000)
    page.goto(url)
    return ctx, page


def translate_shot(browser, url: str, out: Path) -> None:
    ctx, page = _page(browser, url + "?lang=en")
    page.wait_for_selector("#source textarea")
    page.fill("#source textarea", "我爱你。")
    page.locator("#strategy").get_by_text("beam", exact=True).click()
    page.click("#translate")
    page.wait_for_selector("#step_plot .js-plotly-plot .main-svg")
    time.sleep(1.5)  # let the plots settle
    page.screenshot(path=str(out), clip={"x": 0, "y": 0, "width": 1280, "height": 1800}, full_page=True)
    ctx.close()


def lesson_shot(browser, url: str, out: Path) -> None:
    ctx, page = _page(browser, url + "?lang=en&card=2")
    page.wait_for_selector("#lesson_question label")
    page.locator("#lesson_question label").first.click()
    page.click("#lesson_reveal")
    page.wait_for_selector("#lesson_plot .js-plotly-plot .main-svg")
    time.sleep(1.5)
    page.screenshot(path=str(out), clip={"x": 0, "y": 0, "width": 1280, "height": 2500}, full_page=True)
    ctx.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    proc, url = bl.start_server()
    try:
        bl.preloaded()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=bl.CHROMIUM, args=bl.ARGS)
            translate_shot(browser, url, args.out / "screenshot.png")
            lesson_shot(browser, url, args.out / "lesson.png")
            browser.close()
    finally:
        bl.stop_server(proc)
    print(f"wrote {args.out / 'screenshot.png'} and {args.out / 'lesson.png'}")


if __name__ == "__main__":
    main()
