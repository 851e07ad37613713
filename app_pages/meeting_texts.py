"""The Meetings page's fixed wording and large-type styles (not a page)."""

from __future__ import annotations

from analytics import meetings

# Streamlit's data grid draws on a canvas that page styles cannot enlarge, so large type uses
# plain tables, which these rules scale with everything else.
LARGE_TYPE_CSS = """<style>
[data-testid="stMainBlockContainer"] { font-size: 1.35rem; }
[data-testid="stMainBlockContainer"] p, [data-testid="stMainBlockContainer"] li,
[data-testid="stMainBlockContainer"] td, [data-testid="stMainBlockContainer"] th,
[data-testid="stMainBlockContainer"] label { font-size: 1.35rem !important; }
[data-testid="stMainBlockContainer"] { padding-top: 1.5rem; }
[data-testid="stMainBlockContainer"] h1 { font-size: 2rem; padding: 0; }
[data-testid="stMainBlockContainer"] [data-testid="stMetricValue"] * { font-size: 3rem !important; }
</style>"""
# Short names for the counts above the agenda, so they fit a column on a projector.
SHORT_TITLES = {
    "Actions to follow up": "Actions",
    "Red and amber schools": "Red or amber",
    "Not enough evidence": "No verdict",
    "Category changes": "Category changes",
    "Decision and suggestion differ": "Differ",
    "Ofsted since the last meeting": "New Ofsted",
    "At risk of changing category": "At risk",
    "Schools in category 3 or 4": "Category 3/4",
}
SECTION_HELP = {
    "Actions to follow up": "Agreed at earlier meetings and still open when this one began. Overdue first.",
    "Red and amber schools": "Rated red or amber on the evidence; the reasons are in School by school.",
    "Not enough evidence": "Schools the criteria could not judge: what is missing, and what to import to fix it.",
    "Category changes": "Categories decided since the last meeting that changed a school's category.",
    "Decision and suggestion differ": "Schools whose suggested category differs from the one decided: "
    "confirm the decision or change it.",
    "Ofsted since the last meeting": "Inspections published since the last meeting.",
    "At risk of changing category": "Close to the next step on the protocol: worth a word before it happens.",
    "Schools in category 3 or 4": "Each is reviewed in the consistent format: "
    + ", ".join(meetings.REVIEW_SECTIONS).lower()
    + ".",
}
