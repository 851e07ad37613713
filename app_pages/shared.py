"""What every page shares: the store, the sidebar selection, and how errors are shown.

Cross-page state lives here behind small typed accessors, so no page invents its own
``st.session_state`` keys.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import streamlit as st

from analytics import privacy
from analytics.calendar import as_of_date, format_academic_year
from analytics.demo import build_demo_store
from analytics.errors import InsightError
from analytics.monitoring.criteria import Criterion, default_criteria_path, load_criteria

# Presenter mode's coarsened context, which the pages use through this module.
from analytics.privacy.coarsen import fsm_quintiles as fsm_quintiles
from analytics.privacy.coarsen import pupil_band as pupil_band
from analytics.safe_text import break_autolinks
from analytics.store import db
from analytics.store import schools as school_records
from analytics.store.db import Store, default_db_path
from analytics.store.schools import academic_years, list_groups, list_measures, list_schools

# Downloads and unsaved text live in their own modules; the pages reach them through this one.
from app_pages.downloads import EXCEL_MIME as EXCEL_MIME
from app_pages.downloads import download_buttons as download_buttons
from app_pages.drafts import drafted as drafted
from app_pages.drafts import forget_drafts as forget_drafts

# Ratings, verdicts and the category box live in their own module; the pages reach them through this one.
from app_pages.ratings import RAG_BADGES as RAG_BADGES
from app_pages.ratings import RAG_LABELS as RAG_LABELS
from app_pages.ratings import VERDICT_BADGES as VERDICT_BADGES
from app_pages.ratings import category_box as category_box
from app_pages.ratings import colour_cells as colour_cells
from app_pages.ratings import decided_category as decided_category

if TYPE_CHECKING:
    from analytics.monitoring import board as early_warning

GROUP_KEY = "selected_group_id"
YEAR_KEY = "selected_year"
PRESENTER_KEY = "presenter_mode"
PROFILE_KEY = "profile_urn"
NONCE_KEY = "presenter_session_nonce"
SCOPE_KEY = "signed_in_scope"
# Set by access.require_sign_in for a signed-in person who may see unsigned schools by name (an officer).
NAME_UNSIGNED_KEY = "signed_in_names_unsigned"
PROFILE_PAGE = "app_pages/school.py"
ALL_SCHOOLS = 0  # the group choice that means "every school in the store"


@dataclass(frozen=True)
class Selection:
    """The partnership group and academic year chosen in the sidebar."""

    group_id: int | None
    group_label: str
    year: int | None
    as_of: date
    presenter_mode: bool = False
    # Drawn afresh each time presenter mode is switched on: its pseudonyms are unlinkable to any other's.
    session_nonce: str | None = None

    @property
    def year_label(self) -> str:
        return format_academic_year(self.year) if self.year else "no results yet"


@dataclass(frozen=True)
class Scope:
    """What a signed-in person given a group may see: that group with its sub-groups, and their schools.

    Set by ``access.require_sign_in`` on every run; absent (every school) without sign-in or without a group.
    """

    group_id: int
    group_ids: frozenset[int]
    urns: frozenset[int]


def current_scope() -> Scope | None:
    scope = st.session_state.get(SCOPE_KEY)
    return scope if isinstance(scope, Scope) else None


def in_scope(frame: pd.DataFrame, column: str = "urn") -> pd.DataFrame:
    """The rows of ``frame`` about schools the person may see (all of them without a scope)."""
    scope = current_scope()
    return frame if scope is None else frame[frame[column].isin(scope.urns)]


@st.cache_resource(show_spinner=False)
def open_store(path: str) -> Store:
    """One connection per store file for the whole server; reads take their own cursor."""
    return Store(path)


def progress_bar(text: str = "Starting") -> tuple[Any, Callable[[float, str], None]]:
    """A progress bar and the ``progress(fraction, message)`` callback that long analytics work takes."""
    bar = st.progress(0.0, text=text)

    def report(fraction: float, message: str) -> None:
        bar.progress(min(max(fraction, 0.0), 1.0), text=message)

    return bar, report


def _build_demo_with_progress(path: Path) -> None:
    with st.status("First run: building the demo partnership…", expanded=True) as status:
        _, report = progress_bar("")
        build_demo_store(path, progress=report)
        status.update(label="Demo partnership ready", state="complete", expanded=False)


def get_store() -> Store:
    """The store this app serves; the demo is built on first run when no store was configured."""
    path = default_db_path()
    if not path.exists() and path == db.DEFAULT_DB_PATH:
        _build_demo_with_progress(path)
    return open_store(str(path))


@st.cache_data(show_spinner=False)
def load_groups(path: str, data_version: int) -> pd.DataFrame:
    return list_groups(open_store(path))


@st.cache_data(show_spinner=False)
def load_measure_codes(path: str, data_version: int) -> tuple[str, ...]:
    return tuple(sorted(list_measures(open_store(path)).code))


@st.cache_data(show_spinner=False)
def load_years(path: str, data_version: int) -> list[int]:
    return academic_years(open_store(path))


@st.cache_data(show_spinner=False)
def schools_in_scope(path: str, data_version: int, group_id: int | None, as_of: date) -> pd.DataFrame:
    """The schools in a group on a date with their real names: for cached work, never for display."""
    return school_records.schools_in_scope(open_store(path), group_id, as_of)


def load_schools(path: str, data_version: int, group_id: int | None, as_of: date) -> pd.DataFrame:
    """The schools in a group on a date that the person may see, named as the trust rules allow (see
    :func:`school_names`); every page's list of schools comes from here, so a scope is kept to everywhere."""
    return hide_names(in_scope(schools_in_scope(path, data_version, group_id, as_of)))


# A resource, not data: every call gets the same object, so its redactor (a second or so to build over every school
# in England) is built once per data version and mode rather than once per call, as an unpickled copy would be.
# SchoolNames is frozen and nobody changes its maps.
@st.cache_resource(show_spinner=False, max_entries=16)
def _names(
    path: str,
    data_version: int,
    presenter_mode: bool,
    named: tuple[int, ...],
    session_nonce: str | None,
    name_unsigned: bool = False,
) -> privacy.SchoolNames:
    store = open_store(path)
    return privacy.display_names(
        list_schools(store),
        privacy.pseudonym_secret(store),
        presenter_mode=presenter_mode,
        named_urns=named,
        # The nonce is part of the cache key too, so one presenter session never reuses another's names.
        session_nonce=session_nonce if presenter_mode else None,
        name_unsigned=name_unsigned,
    )


def school_names(named: tuple[int, ...] = ()) -> privacy.SchoolNames:
    """Names as the trust rules allow: a pseudonym in presenter mode, and for a school without a data-sharing
    agreement unless it is one of ``named`` (the school whose own profile is open) or a signed-in officer looks."""
    selection = current_selection()
    officer = bool(st.session_state.get(NAME_UNSIGNED_KEY))
    key = cache_key(get_store())
    return _names(*key, selection.presenter_mode, tuple(sorted(named)), selection.session_nonce, officer)


def redact(text: object) -> str:
    """Typed text with every school that may not be named here replaced, ready for :func:`plain`."""
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return ""
    return school_names().redact_text(str(text))


def presenter_session(presenter_mode: bool) -> str | None:
    """The nonce of the current presenter session: a new one each time presenter mode is switched on.

    Switching it on also forgets the school the profile last showed, so the profile opens on no school
    rather than naming one nobody chose in front of the room.
    """
    if not presenter_mode:
        st.session_state.pop(NONCE_KEY, None)
        return None
    if not st.session_state.get(NONCE_KEY):
        st.session_state[NONCE_KEY] = privacy.new_session_nonce()
        st.session_state.pop(PROFILE_KEY, None)
    return str(st.session_state[NONCE_KEY])


def hide_names(frame: pd.DataFrame, named: tuple[int, ...] = (), column: str = "name") -> pd.DataFrame:
    """``frame`` with school names (found by ``urn``) replaced as the trust rules require."""
    return school_names(named).rename(frame, column)


@st.cache_data(show_spinner=False)
def load_rules(path: str, modified: float, imported_measures: tuple[str, ...]) -> list[Criterion]:
    return load_criteria(path, extra_measures=imported_measures)


def current_rules() -> list[Criterion]:
    """The criteria rules, checked; an edit to the rules file takes effect on the next rerun."""
    path = default_criteria_path()
    try:
        modified = path.stat().st_mtime
    except OSError:
        modified = 0.0  # load_criteria says what is wrong with the path
    # Measures a partnership imported itself may be named in its rules as well as the catalogue's.
    return load_rules(str(path), modified, load_measure_codes(*cache_key(get_store())))


@st.cache_data(show_spinner="Working out trends and criteria…")
def _evidence(path: str, evidence_version: int, year: int, as_of: date, _rules: list[Criterion], rules_key: int):
    # Imported here: the trends bring scipy.stats (a second or two), which pages without an assessment never need.
    from analytics.monitoring import board as early_warning

    return early_warning.gather_evidence(open_store(path), year=year, as_of=as_of, criteria=_rules)


@st.cache_data(show_spinner=False)
def _assessment(path: str, data_version: int, year: int, as_of: date, _rules: list[Criterion], rules_key: int):
    from analytics.monitoring import board as early_warning

    store = open_store(path)
    return early_warning.assess_from(store, _evidence(*evidence_key(store), year, as_of, _rules, rules_key))


def load_assessment(path: str, data_version: int, year: int, as_of: date) -> early_warning.Assessment:
    """Trends, criteria and suggestions for a year, cached until the data or the rules change.

    Trends and criteria are kept across writes that cannot change them (a decision, a note, an action):
    only the suggestions, which read the standing decisions, are redone.
    """
    rules = current_rules()
    return _assessment(path, data_version, year, as_of, rules, hash(tuple(rules)))


def previous_year(store: Store, year: int) -> int | None:
    """The academic year with results before ``year``, if any."""
    earlier = [y for y in load_years(*cache_key(store)) if y < year]
    return max(earlier) if earlier else None


def as_of_for(store: Store, year: int) -> date:
    """The date point-in-time facts are shown at for a results year (see as_of_date)."""
    return as_of_date(year, load_years(*cache_key(store))[0], date.today())


def board_for(store: Store, selection: Selection, year: int | None = None) -> pd.DataFrame:
    """The early-warning table for the selected group, for ``year`` (default: the selected year)."""
    from analytics.monitoring import board as early_warning

    year = year or selection.year
    if year is None:
        return pd.DataFrame(columns=early_warning.BOARD_COLUMNS)
    as_of = as_of_for(store, year)
    schools = load_schools(*cache_key(store), selection.group_id, as_of)
    return early_warning.board_table(schools, load_assessment(*cache_key(store), year, as_of))


def open_profile(urn: int) -> None:
    """Go to the School profile page showing ``urn``."""
    st.session_state[PROFILE_KEY] = int(urn)
    st.switch_page(PROFILE_PAGE)


def requested_profile() -> int | None:
    """The school asked for by another page, or by ``?urn=`` in the address."""
    urn = st.query_params.get("urn") or st.session_state.get(PROFILE_KEY)
    try:
        return int(urn) if urn is not None else None
    except ValueError:
        st.warning(f"{urn!r} is not a URN (URNs are numbers, such as 100001); showing the first school instead.")
        return None


def cache_key(store: Store) -> tuple[str, int]:
    """Arguments that identify the store's current content, for ``st.cache_data`` loaders."""
    return str(store.path), store.data_version()


def evidence_key(store: Store) -> tuple[str, int]:
    """Like :func:`cache_key`, for loaders that read only results, schools, inspections and events (trends,
    positions, criteria): a decision, note or action recorded in a meeting leaves their caches in place."""
    return str(store.path), store.evidence_version()


_KIND_LABELS = {
    "alliance": "Alliance",
    "collaborative": "Collaborative",
    "triad": "Triad",
    "trust": "Trust",
    "cluster": "Cluster",
    "lasl": "LASL",
    "federation": "Federation",
}


def render_sidebar(store: Store) -> Selection:
    """Draw the shared sidebar controls and return what they select."""
    groups = load_groups(*cache_key(store))
    # The toggle is drawn below, but its state for this run is already known: group names are typed, and
    # a triad called after a school must not name it in front of the room.
    presenting = bool(st.session_state.get(PRESENTER_KEY, False))
    nonce = presenter_session(presenting)
    officer = bool(st.session_state.get(NAME_UNSIGNED_KEY))
    group_names = _names(*cache_key(store), presenting, (), nonce, officer).redact(groups.name.tolist())
    scope = current_scope()
    labels = {ALL_SCHOOLS: "All schools"} if scope is None else {}
    for row, name in zip(groups.itertuples(), group_names, strict=True):
        # Listed in tree order (alliance, its collaboratives, their triads); the kind says the level.
        if scope is None or int(row.group_id) in scope.group_ids:
            labels[int(row.group_id)] = f"{name} ({_KIND_LABELS.get(row.kind, row.kind).lower()})"
    if st.session_state.get(GROUP_KEY) not in labels:
        # Someone given a group starts on it and cannot choose wider than it.
        st.session_state[GROUP_KEY] = ALL_SCHOOLS if scope is None else scope.group_id
    group_id = st.sidebar.selectbox(
        "Partnership group",
        options=list(labels),
        format_func=labels.__getitem__,
        key=GROUP_KEY,
        help="An alliance includes its collaboratives and triads.",
    )
    years = load_years(*cache_key(store))
    year = None
    if years:
        if st.session_state.get(YEAR_KEY) not in years:
            st.session_state[YEAR_KEY] = years[0]
        year = st.sidebar.selectbox(
            "Academic year",
            options=years,
            format_func=format_academic_year,
            key=YEAR_KEY,
            help="Results for this year. For the latest year, categories and Ofsted grades are as at today; "
            "for earlier years, as at the end of that year.",
        )
    presenter_mode = st.sidebar.toggle(
        "Presenter mode",
        key=PRESENTER_KEY,
        help="For a projector: every school is shown by a pseudonym such as School K42, the same on every "
        "page, chart and download until presenter mode is switched off; switched on again, the pseudonyms "
        "are new.",
    )
    today = date.today()
    as_of = as_of_date(year, years[0], today) if year else today
    return Selection(
        group_id=None if group_id == ALL_SCHOOLS else int(group_id),
        group_label=labels[group_id],
        year=year,
        as_of=as_of,
        presenter_mode=presenter_mode,
        session_nonce=presenter_session(presenter_mode),
    )


def current_selection() -> Selection:
    """The selection made in the sidebar on this run (set by ``app.py`` before the page runs)."""
    selection = st.session_state.get("_selection")
    if not isinstance(selection, Selection):
        # Only reachable when a page file is run on its own rather than through app.py's router.
        raise RuntimeError("Pages run through app.py, which sets the sidebar selection first.")
    return selection


def remember_selection(selection: Selection) -> None:
    st.session_state["_selection"] = selection


def show_error(error: InsightError) -> None:
    st.error(f"**{error.title}**\n\n{error.message}", icon=":material/error:")


@contextmanager
def user_errors() -> Iterator[None]:
    """Show an :class:`InsightError` as a message box instead of a traceback."""
    try:
        yield
    except InsightError as error:
        show_error(error)


def page_store() -> Store:
    """The store, for a page that needs no sidebar selection."""
    return get_store()


def start_page(title: str, show_title: bool = True) -> tuple[Store, Selection, pd.DataFrame] | None:
    """Draw the page title and return the store, the sidebar selection and the schools in scope.

    ``show_title=False`` leaves the big title out (the School profile, whose title is the school's name, needs
    the first screen of a projector). Returns ``None``, having said why, when there is nothing to show: an empty
    store, or a group with no schools at the chosen date.
    """
    store = get_store()
    selection = current_selection()
    if show_title:
        st.title(title)
    if store.is_empty():
        show_empty_store(store)
        return None
    schools = load_schools(*cache_key(store), selection.group_id, selection.as_of)
    if schools.empty:
        st.info("No schools belonged to this group at that date. Choose another group or year in the sidebar.")
        return None
    return store, selection, schools


def show_empty_store(store: Store) -> None:
    st.info(
        f"**This store has no schools yet.**\n\nIt is at `{store.path}`. To explore the product, load the "
        f"demo partnership with `python -m analytics demo --db {store.path}`, or unset "
        "`SCHOOL_INSIGHT_DB` to use the built-in demo.",
        icon=":material/info:",
    )


# Every character Markdown (and Streamlit's directives: ":red[...]", ":smile:", "$x$") gives a meaning to.
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=\"'^%])")
# Control characters (Word's Shift+Enter pastes U+000B) and bidirectional overrides, which make text
# read differently from what it says; kept in the store, dropped on screen.
_UNSAFE_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def plain(text: object) -> str:
    """Typed text made safe to put inside Markdown: shown as typed, never as a link, image, colour or heading.

    Use it for every piece of text a person typed (or a file named) that goes into ``st.markdown``,
    ``st.caption``, ``st.write``, a toast, a label or a help text; tables take text as it is.
    """
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return ""
    cleaned = break_autolinks(_UNSAFE_CHARACTERS.sub(" ", str(text)))
    return _MARKDOWN_SPECIALS.sub(r"\\\1", cleaned)


def shown_text(text: object) -> str:
    """Typed text as it may be shown here: hidden schools redacted, then made :func:`plain`."""
    return plain(redact(text))
