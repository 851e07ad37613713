"""The School profile's header: the school, its categories and RAG in words a board reads, and why (not a page)."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from analytics import charts, privacy
from analytics.monitoring import profile
from analytics.monitoring.categories import CATEGORY_LABELS, split_reasons
from analytics.monitoring.criteria import MET, STRAND_NAMES, UNMET
from analytics.monitoring.sufficiency import NOT_ENOUGH_EVIDENCE
from analytics.monitoring.summary_evidence import presenter_text
from app_pages import shared
from app_pages.meeting_texts import LARGE_TYPE_CSS

LARGE_TYPE_KEY = "profile_large_type"
# The strands the suggested category rests on; strand 5 (change) only adds to them.
CORE_STRANDS = 4
# Reasons are joined by "; ", which also occurs inside one ("(2 points below; 195 pupils"): a new reason starts
# with a capital letter (as on the Meetings page).
FIX_PREFIX = "To fix:"
RAG_COLOURS = {"red": "red", "amber": "orange", "green": "green", "grey": "gray"}
STRANDS_HELP = (
    "Criteria are grouped in five strands: "
    + "; ".join(f"{n} {name.lower()}" for n, name in STRAND_NAMES.items())
    + f". The count is of strands 1-{CORE_STRANDS}, which the category rests on; the Criteria tab lists each one."
)


def large_type_toggle(container: DeltaGenerator) -> None:
    """The Meetings page's Large type switch, for a profile shown on a projector."""
    container.toggle("Large type", key=LARGE_TYPE_KEY, help="Bigger text for the back of the room.")
    if st.session_state.get(LARGE_TYPE_KEY, False):
        st.markdown(LARGE_TYPE_CSS, unsafe_allow_html=True)


def category_meaning(code: object) -> str | None:
    """ "intervention" for "3": what a category number means, from the protocol's labels."""
    label = CATEGORY_LABELS.get(str(code), "")
    return label.split(" · ", 1)[1] if " · " in label else None


def criteria_count(evaluations: pd.DataFrame | None, urn: int) -> str | None:
    """ "criteria: 4 unmet, 9 of 16 could be judged": the one count of the school's criteria (strands 1-4, as the
    suggested category and its evidence rule count them) used in the header and the Criteria tab."""
    if evaluations is None:
        return None
    core = evaluations[(evaluations.urn == urn) & (evaluations.strand <= CORE_STRANDS)]
    if core.empty:
        return None
    unmet = int((core.status == UNMET).sum())
    judged = int(core.status.isin([MET, UNMET]).sum())
    return f"criteria: {unmet} unmet, {judged} of {len(core)} could be judged"


def reason_bullets(reasons: str) -> tuple[list[str], str | None]:
    """A not-enough-evidence school's reasons as separate sentences, and the administrator's "To fix" advice
    apart from them. The first reason restates the verdict and the count, which the header already shows."""
    parts = split_reasons(reasons)
    # The advice comes last and may itself list several fixes: everything from "To fix:" on is advice.
    at = next((i for i, part in enumerate(parts) if part.startswith(FIX_PREFIX)), len(parts))
    shown = [part for part in parts[:at] if not part.startswith("Not enough evidence")]
    fix = "; ".join(parts[at:]) or None
    return [part[0].upper() + part[1:] for part in shown], fix


def context_facts(details: dict, hidden: bool, schools: pd.DataFrame) -> list[str | None]:
    """Phase, type, pupils and % FSM; for a school shown by pseudonym coarsened (pupils in bands, FSM as a
    quintile of the schools in scope, no URN), since exact figures beside a pseudonym identify it with GIAS."""
    pupils, fsm = details.get("pupils"), details.get("pct_fsm")
    if not hidden:
        return [
            details.get("phase"),
            details.get("school_type"),
            f"{int(pupils):,} pupils" if pd.notna(pupils) else None,
            f"{fsm:.0f}% FSM" if pd.notna(fsm) else None,
            f"URN {details['urn']}",
        ]
    quintile = None
    if pd.notna(fsm):
        quintiles = shared.fsm_quintiles(pd.concat([schools.pct_fsm, pd.Series([fsm])], ignore_index=True))
        quintile = f"% FSM quintile {quintiles.iloc[-1]}"
    return [details.get("phase"), f"{shared.pupil_band(pupils)} pupils" if pd.notna(pupils) else None, quintile]


def show_header(
    record: profile.SchoolProfile,
    status: pd.Series | None,
    names: privacy.SchoolNames,
    schools: pd.DataFrame,
    groups: list[str],
    evaluations: pd.DataFrame | None,
    presenter: bool,
    cohorts: set[int],
) -> DeltaGenerator:
    """Name, context, groups (``shown_groups``: redacted, small ones left out in presenter mode), categories and
    RAG with why; returns the place under the why line for where the school stands nationally."""
    details = record.details
    urn = int(details["urn"])
    facts = context_facts(details, urn in names.hidden, schools)
    st.subheader(shared.plain(names.name(details["urn"], details["name"])))
    # Normal text, not captions: light 14 px grey is lost on a projector.
    st.markdown(" · ".join(shared.plain(f) for f in facts if f))
    if groups:
        st.markdown("Member of: " + "; ".join(shared.plain(g) for g in groups))
    if status is None:
        return st.empty()
    show_verdict(status)
    count = criteria_count(evaluations, urn)
    if status.rag == NOT_ENOUGH_EVIDENCE:
        # What is missing, where the verdict is shown; what to import is the data administrator's (show_fix).
        bullets, _ = reason_bullets(presenter_text(status.reasons, presenter, cohorts))
        why = "**Why:** not enough evidence to suggest a category" + (f" ({count})" if count else "") + "."
        st.markdown("\n".join([why, "", *(f"- {shared.plain(b)}" for b in bullets)]), help=STRANDS_HELP)
    else:
        summary = presenter_text(status.summary, presenter, cohorts)
        st.markdown(f"**Why:** {summary}" + (f" · {count}" if count else ""), help=STRANDS_HELP)
    standing = st.empty()
    if status.trend_drivers:
        judged = status.trend in ("rising", "declining") and status.rag != NOT_ENOUGH_EVIDENCE
        lead = "Trend driven by" if judged else "Measures that moved"
        st.markdown(f"{lead}: {shared.plain(status.trend_drivers)}")
    if status.rag == NOT_ENOUGH_EVIDENCE and not presenter:
        show_fix(status.reasons)
    return standing


def show_fix(reasons: str) -> None:
    """What would give enough evidence is the data administrator's job, not the board's: folded away, and left
    out in presenter mode."""
    _, fix = reason_bullets(reasons)
    if fix:
        with st.expander("For the data administrator: what would give enough evidence"):
            # The system's own advice, not typed text: shown as written, so it can be searched for as written.
            st.markdown(fix)


def show_verdict(status: pd.Series) -> None:
    """The decided and suggested categories with their meaning, the RAG as large as them, and the overall trend."""
    grey = status.rag == NOT_ENOUGH_EVIDENCE
    # Metric type is cut short, not wrapped: "Not enough evidence" (which has no trend beside it) and the trend's
    # words get the room, in large type too, on a 1280 px projector.
    cols = st.columns([1, 2.6] if grey else [1, 1.4, 1.2])
    decided = status.decided_category
    cols[0].metric(
        "LA category (decided)",
        "none yet" if pd.isna(decided) else str(decided),
        delta=None if pd.isna(decided) else category_meaning(decided),
        delta_color="off",
        delta_arrow="off",
        help="The category recorded by people; see Category history. "
        + "; ".join(CATEGORY_LABELS.values()).replace(" · ", ": "),
    )
    suggested = status.suggested_category
    rag = shared.RAG_LABELS.get(status.rag)
    parts = [f":{RAG_COLOURS.get(status.rag, 'gray')}[**{rag}**]" if rag else None]
    parts.append(None if grey or pd.isna(suggested) else str(suggested))
    cols[1].metric(
        "Suggested from the evidence",
        " · ".join(p for p in parts if p) or "none",
        delta=None if pd.isna(suggested) else category_meaning(suggested),
        delta_color="off",
        delta_arrow="off",
        help="The RAG rating and category worked out from the criteria; the Criteria tab shows each one. "
        "People decide the category.",
    )
    if grey:
        # The overall trend of the few results held is not a verdict on the school: each chart below gives its own.
        return
    cols[2].metric("Overall trend", f"{charts.TREND_SYMBOLS[status.trend]} {status.trend}")
