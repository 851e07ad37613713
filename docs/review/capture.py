"""Screenshots for the new-user review at 1280x720 (a projector): the School profile, presenter mode, the
meeting's School by school view and the printable one-page summary, with the printed page counts.

Run from the repository root: ``python docs/review/capture.py``. It builds the demo store in a temporary
folder, starts the real app with ``tests/browser.py``'s ``running_app`` and drives headless Chromium with
Playwright, writing ``docs/review/*.png`` and printing what it wrote. Nothing in the repository's data is
touched.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# Run as a script the repository root is not on the path; tests/browser.py and analytics live there.
sys.path.insert(0, str(REPO_ROOT))

from PIL import Image  # noqa: E402
from playwright.sync_api import Page, ViewportSize, sync_playwright  # noqa: E402

from analytics import meetings  # noqa: E402
from analytics.calendar import as_of_date  # noqa: E402
from analytics.demo import DEFAULT_SEED, build_demo_store  # noqa: E402
from analytics.meetings import pack as meeting_pack  # noqa: E402
from analytics.monitoring import board  # noqa: E402
from analytics.monitoring.school_summary import meeting_summaries, summary_names  # noqa: E402
from analytics.store.db import Store  # noqa: E402
from analytics.store.schools import schools_in_scope  # noqa: E402
from tests.browser import CHROMIUM_FLAGS, running_app, wait_until_idle  # noqa: E402

OUT = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
PROJECTOR: ViewportSize = {"width": 1280, "height": 720}
A4: ViewportSize = {"width": 794, "height": 1123}  # A4 at 96 dpi, the size Chromium lays a printed page out at
MAX_BYTES = 300_000
PACK_MEETING = 2  # the demo's summer clinic covers every school


@dataclass(frozen=True)
class Chosen:
    """A demo school picked for what it shows a board member, with what would identify it in presenter mode."""

    role: str
    urn: int
    name: str
    rag: str
    trend: str
    pupils: int
    inspected: tuple[date, ...]


def pick_schools(store_path: Path) -> list[Chosen]:
    """A red declining school (one with open actions if any), a green stable one, one with too little evidence
    (grey) and one in an Ofsted category (4a/4b), all sharing their data: chosen from the board table so a new
    demo seed still gives them. The fourth is shown in presenter mode only."""
    with Store(store_path, read_only=True) as store:
        year = int(store.read("SELECT max(academic_year) AS y FROM results").y.iloc[0])
        as_of = as_of_date(year, year, date.today())
        table = board.board_table(schools_in_scope(store, None, as_of), board.assess(store, year=year, as_of=as_of))
        with_actions = set(store.read("SELECT urn FROM actions WHERE status = 'open' AND withdrawn_at IS NULL").urn)
        inspections = store.read("SELECT urn, inspection_date FROM inspections")
    signed = table[table.data_sharing_signed.astype(bool)]
    red = signed[(signed.rag == "red") & (signed.trend == "declining")]
    red = red.assign(has_action=red.urn.isin(with_actions)).sort_values("has_action", ascending=False, kind="stable")
    candidates = {
        "red": red,
        "green": signed[(signed.rag == "green") & (signed.trend == "stable")],
        "grey": signed[signed.rag == "grey"],
        "ofsted-category": signed[signed.decided_category.astype(str).str.startswith("4")],
    }
    chosen = []
    for role, rows in candidates.items():
        if rows.empty:
            raise SystemExit(f"the demo store has no {role} school to show")
        row = rows.iloc[0]
        days = tuple(d.date() for d in inspections[inspections.urn == row.urn].inspection_date)
        chosen.append(Chosen(role, int(row.urn), str(row["name"]), str(row.rag), str(row.trend), int(row.pupils), days))
    return chosen


def save_png(page: Page, path: Path, *, full_page: bool = False) -> Path:
    """A screenshot, reduced to a palette when it is over the size budget (text stays sharp)."""
    page.screenshot(path=str(path), full_page=full_page)
    for colors in (256, 64, 16):
        if path.stat().st_size <= MAX_BYTES:
            break
        with Image.open(path) as image:
            reduced = image.convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT)
        reduced.save(path, optimize=True)
    return path


def save_full_page(page: Page, path: Path) -> Path:
    """The whole page as if the projector were as tall as it: Streamlit scrolls inside its own container, so
    Playwright's full_page sees only the window; the window is stretched to the content and put back."""
    height = page.evaluate(
        """() => Math.max(...['[data-testid="stMain"]', '[data-testid="stAppViewContainer"]', 'section.main']
              .map(s => document.querySelector(s)).filter(Boolean).map(e => e.scrollHeight))"""
    )
    page.set_viewport_size({"width": PROJECTOR["width"], "height": min(int(height) + 40, 12_000)})
    settle(page, 1500)
    try:
        return save_png(page, path)
    finally:
        page.set_viewport_size(PROJECTOR)
        settle(page, 500)


def settle(page: Page, pause_ms: int = 2500) -> None:
    """Streamlit idle, then a pause for charts to draw (they render after the script run ends)."""
    wait_until_idle(page)
    page.wait_for_timeout(pause_ms)


def open_profile(page: Page, url: str, school: Chosen) -> None:
    page.goto(f"{url}/school?urn={school.urn}")
    page.locator("h3").filter(has_text=school.name).first.wait_for(timeout=120_000)
    settle(page)


def switch_presenter_mode_on(page: Page) -> None:
    page.locator('[data-testid="stSidebar"]').get_by_text("Presenter mode").click()
    settle(page)


def identity_leaks(page: Page, school: Chosen) -> list[str]:
    """What in the page's text (all of it, scrolled or not; hidden tabs excluded) would let the room identify
    ``school`` though it is shown by a pseudonym: its name or first word, URN, exact roll, inspection dates."""
    text = page.locator('[data-testid="stMain"]').inner_text()
    first_word = school.name.split()[0]  # "Elmley" alone identifies "Elmley Community Primary School"
    said = [school.name, str(school.urn), f"{school.pupils} pupils", f"{school.pupils:,} pupils"]
    for day in school.inspected:
        said += [f"{day:%-d %B %Y}", f"{day:%-d %b %Y}", f"{day:%b %Y}", f"{day:%B %Y}", f"{day:%d/%m/%Y}"]
    found = [s for s in dict.fromkeys(said) if s in text]
    # "October 2023" inside "9 October 2023" is the same leak, said once.
    leaks = [s for s in found if not any(s != other and s in other for other in found)]
    if re.search(rf"\b{re.escape(first_word)}\b", text):
        leaks.append(first_word)
    return leaks


def capture_app(store_path: Path, chosen: list[Chosen], work: Path) -> tuple[list[Path], dict[str, object]]:
    """Every screen shot of the running app at 1280x720; with what was checked on the way."""
    written: list[Path] = []
    notes: dict[str, object] = {}
    red, *_, concern = chosen
    with running_app(store_path, work / "streamlit.log") as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport=PROJECTOR)
            for school in chosen[:3]:
                started = time.monotonic()
                open_profile(page, url, school)
                notes[f"{school.role}_profile_seconds"] = round(time.monotonic() - started, 1)
                written.append(save_png(page, OUT / f"profile-{school.role}-first-screen.png"))
                notes[f"errors_on_{school.role}_profile"] = page.locator('[data-testid="stException"]').count()
            open_profile(page, url, red)
            written.append(save_full_page(page, OUT / "profile-red-full-page.png"))
            switch_presenter_mode_on(page)
            written.append(save_png(page, OUT / "profile-red-presenter-first-screen.png"))
            notes["presenter_leaks_red_profile"] = identity_leaks(page, red)
            written.append(save_full_page(page, OUT / "profile-red-presenter-full-page.png"))
            open_profile(page, url, concern)
            switch_presenter_mode_on(page)
            written.append(save_png(page, OUT / f"profile-{concern.role}-presenter-first-screen.png"))
            notes[f"presenter_leaks_{concern.role}_profile"] = identity_leaks(page, concern)
            written += capture_meeting(page, url, red, notes)
        finally:
            browser.close()
    return written, notes


def capture_meeting(page: Page, url: str, red: Chosen, notes: dict[str, object]) -> list[Path]:
    """The meeting's School by school view on the red school if the meeting covers it, then in presenter mode."""
    # A new page load is a new Streamlit session, so presenter mode is off again, as a chair would start.
    page.goto(f"{url}/meetings")
    tab = page.get_by_role("tab", name="School by school")
    tab.wait_for(timeout=120_000)
    tab.click()
    settle(page, 1000)
    picker = page.locator('[data-testid="stTabPanel"]:visible [data-testid="stSelectbox"]').first
    picker.click()
    option = page.get_by_role("option").filter(has_text=red.name)
    on_agenda = option.count() > 0
    if on_agenda:
        option.first.click()
        page.locator("h2").filter(has_text=red.name).first.wait_for(timeout=60_000)
    else:
        page.keyboard.press("Escape")
    notes["meeting_school"] = red.name if on_agenda else "the first of the running order (the red school is not on it)"
    settle(page)
    page.mouse.move(0, 0)  # no hover highlight in the shot
    written = [save_png(page, OUT / "meeting-school-by-school-first-screen.png")]
    before = heading_and_status(page)
    switch_presenter_mode_on(page)
    page.mouse.move(0, 0)
    written.append(save_png(page, OUT / "meeting-school-by-school-presenter-first-screen.png"))
    # The chair switched presenter mode on: is the same school still on screen?
    notes["meeting_school_before_presenter_mode"] = before
    after = heading_and_status(page)
    notes["meeting_school_after_presenter_mode"] = after
    if on_agenda and after.split(" | ", 1)[1] == before.split(" | ", 1)[1]:
        notes["presenter_leaks_meeting"] = identity_leaks(page, red)
    return written


def heading_and_status(page: Page) -> str:
    """The School by school heading, its category line and first reason: enough to tell two schools apart
    when one of them is shown by a pseudonym."""
    panel = page.locator('[data-testid="stTabPanel"]:visible')
    heading = panel.locator("h2").first.inner_text()
    status = panel.locator("p").filter(has_text="Category decided").first.inner_text()
    # The reasons are in a folded expander; its label says how many and the first.
    folded = panel.locator('[data-testid="stExpander"] summary')
    reason = folded.first.inner_text() if folded.count() else "(no reasons listed)"
    return f"{heading} | {status} | {reason}"


def pdf_pages(html_path: Path, pdf_path: Path) -> int:
    """Pages Chromium prints the page on (its own @page rule sets A4), as a person choosing Save as PDF."""
    command = [CHROMIUM, *CHROMIUM_FLAGS, "--no-pdf-header-footer", f"--print-to-pdf={pdf_path}", html_path.as_uri()]
    subprocess.run(command, capture_output=True, timeout=600, check=True)
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf_path.read_bytes()))


def write_summary(store_path: Path, urn: int, html_path: Path, *, presenter: bool = False) -> None:
    """The printable page, made by the command a board officer would run."""
    command = [sys.executable, "-m", "analytics", "school-summary", str(urn), "--db", str(store_path)]
    command += ["--html", str(html_path), *(["--presenter"] if presenter else [])]
    subprocess.run(command, cwd=REPO_ROOT, capture_output=True, timeout=300, check=True)


def capture_summaries(store_path: Path, chosen: list[Chosen], work: Path) -> tuple[list[Path], dict[str, int]]:
    """Each chosen school's one-page summary as a PNG of the A4 page, and how many pages it prints on."""
    written: list[Path] = []
    pages: dict[str, int] = {}
    shots = [(c, False) for c in chosen[:3]] + [(chosen[0], True)]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport=A4)
            for school, presenter in shots:
                stem = f"summary-{school.role}{'-presenter' if presenter else ''}"
                html_path = work / f"{stem}.html"
                write_summary(store_path, school.urn, html_path, presenter=presenter)
                pages[stem] = pdf_pages(html_path, work / f"{stem}.pdf")
                page.emulate_media(media="print")
                page.goto(html_path.as_uri())
                page.wait_for_load_state("load")
                written.append(save_png(page, OUT / f"{stem}.png", full_page=True))
        finally:
            browser.close()
    return written, pages


def pack_pages(store_path: Path, work: Path) -> dict[str, int]:
    """Printed pages of the one-page-per-school pack: the whole demo meeting (CLI) and its first 60 schools."""
    full = work / "pack.html"
    command = [sys.executable, "-m", "analytics", "agenda", str(PACK_MEETING), "--db", str(store_path)]
    command += ["--pack", str(full), "--one-page-per-school", "--presenter"]
    subprocess.run(command, cwd=REPO_ROOT, capture_output=True, timeout=600, check=True)
    counts = {"schools_in_full_pack": full.read_text(encoding="utf-8").count('<section class="school-page">')}
    counts["full_pack_pages"] = pdf_pages(full, work / "pack.pdf")
    with Store(store_path, read_only=True) as store:
        meeting = meetings.get_meeting(store, PACK_MEETING)
        agenda = meetings.build_agenda(store, PACK_MEETING, meetings.board_for_meeting(store, meeting))
        names = summary_names(store, presenter_mode=True)
        sixty = dict(list(meeting_summaries(store, meeting, names, presenter_mode=True).items())[:60])
    sixty_path = work / "pack-60.html"
    sixty_path.write_text(
        meeting_pack.meeting_summary_pack_html(agenda, names, sixty, presenter_mode=True), encoding="utf-8"
    )
    counts["sixty_school_pack_pages"] = pdf_pages(sixty_path, work / "pack-60.pdf")
    return counts


def main() -> int:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="review-") as folder:
        work = Path(folder)
        store_path = work / "demo.duckdb"
        build_demo_store(store_path, seed=DEFAULT_SEED)
        chosen = pick_schools(store_path)
        for school in chosen:
            print(f"{school.role}: {school.name} (URN {school.urn}), {school.rag}, trend {school.trend}")
        shots, notes = capture_app(store_path, chosen, work)
        summary_shots, summary_pages = capture_summaries(store_path, chosen, work)
        packs = pack_pages(store_path, work)
    for path in [*shots, *summary_shots]:
        print(f"wrote {path.relative_to(REPO_ROOT)} ({path.stat().st_size // 1000} KB)")
    print("printed pages:", json.dumps({**summary_pages, **packs}))
    print("checks:", json.dumps(notes))
    print(f"took {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
