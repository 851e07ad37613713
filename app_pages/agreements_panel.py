"""The Data store page's data-sharing agreements: every school's agreement, narrowed by status and searchable by
name; a form to record a signing or a withdrawal; the history; and sign-up over time. The rules live in
:mod:`analytics.privacy.agreements`.

Officers are entitled to find a school without an agreement by name, but not everyone who can see the screen
is: schools without one are shown by their pseudonym (as on every other page) until *Name schools without an
agreement* is switched on. In presenter mode the screen is shared with the room, so the panel shows only a
message.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics.privacy import agreements
from analytics.store.db import Store
from app_pages import access, shared

NAME_ALL_KEY = "agreements_name_all"
SEARCH_KEY = "agreements_search"
FORM_VERSION_KEY = "agreement_form_version"
SIGNED_ACTION = "The school signed its agreement"
WITHDRAWN_ACTION = "The school withdrew its agreement"
SHOW_KEY = "agreements_show"
ALL = "all"
# Which statuses each choice of the "Show" control lists.
SHOW = {
    ALL: (agreements.SIGNED, agreements.WITHDRAWN, agreements.NOT_SIGNED),
    "unsigned": (agreements.WITHDRAWN, agreements.NOT_SIGNED),
    "signed": (agreements.SIGNED,),
}
SHOW_LABELS = {ALL: "Every school", "unsigned": "Without an agreement in force", "signed": "With an agreement in force"}
STATUS_HELP = (
    "Signed: an agreement is in force. Withdrawn: the school signed, then withdrew. Never signed: no agreement "
    "has been recorded."
)


@st.cache_data(show_spinner=False)
def load_agreements(path: str, data_version: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    store = shared.open_store(path)
    return (
        agreements.current_agreements(store),
        agreements.agreement_history(store),
        agreements.sign_up_over_time(store),
    )


class Naming:
    """The names, URNs and typed text to show: everything as stored when the officer asked for every school to
    be named, otherwise as the trust rules show them on every other page."""

    def __init__(self, name_all: bool) -> None:
        self.rules = None if name_all else shared.school_names()

    def name(self, urn: int, name: str) -> str:
        return name if self.rules is None else self.rules.name(urn, name)

    def urn(self, urn: int) -> int | None:
        return int(urn) if self.rules is None or int(urn) not in self.rules.hidden else None

    def text(self, values: pd.Series) -> list[object]:
        plain = values.astype(object).where(values.notna(), "").tolist()
        if self.rules is None:
            return plain
        # Most schools have no note: only typed text can name a school, and redacting every blank cost 0.1 s.
        rules = self.rules
        return [rules.redact_text(v) if isinstance(v, str) and v else v for v in plain]


def render_agreements(store: Store) -> None:
    """Draw the panel (nothing but a message in presenter mode)."""
    st.subheader("Data-sharing agreements")
    if shared.current_selection().presenter_mode:
        st.info(
            "Data-sharing agreements are not shown in presenter mode: the list would say which schools have not "
            "agreed to share their data. Switch presenter mode off to see or record agreements.",
            icon=":material/visibility_off:",
        )
        return
    if store.is_empty():
        st.caption("There are no schools in this store yet; import GIAS or results first.")
        return
    current, history, sign_up = load_agreements(*shared.cache_key(store))
    current, history = shared.in_scope(current), shared.in_scope(history)
    st.caption(
        "A school with an agreement in force is named on every page outside presenter mode; one without is shown "
        "by its pseudonym. Every signing and withdrawal is kept, with who recorded it and when."
    )
    name_all = access.may(access.NAME_UNSIGNED) and st.toggle(
        "Name schools without an agreement",
        key=NAME_ALL_KEY,
        help="Officers may find a school without an agreement by name. Leave this off when anyone else can see the "
        "screen.",
    )
    naming = Naming(name_all)
    shown = show_current(current, naming)
    if access.may(access.RECORD):
        with st.expander("Record a signing or a withdrawal", icon=":material/edit_note:"):
            record_form(store, shown, naming)
    show_history(history[history.urn.isin(shown.urn)], naming)
    show_sign_up(sign_up, current)


def show_current(current: pd.DataFrame, naming: Naming) -> pd.DataFrame:
    """The summary and the table of schools, narrowed by status and the search box; returns the schools listed."""
    signed = int((current.status == agreements.SIGNED).sum())
    withdrawn = int((current.status == agreements.WITHDRAWN).sum())
    left, middle, right = st.columns(3)
    left.metric("Agreement in force", f"{signed} of {len(current)}")
    middle.metric("Withdrawn", withdrawn)
    right.metric("Never signed", len(current) - signed - withdrawn)
    left, right = st.columns([3, 2])
    show = left.segmented_control(
        "Show", list(SHOW), format_func=SHOW_LABELS.__getitem__, default=ALL, key=SHOW_KEY, required=True
    )
    search = right.text_input("Find a school", key=SEARCH_KEY, placeholder="Part of its name, or its URN")
    # Narrowed by status before naming, so a narrower list names fewer schools and redacts fewer notes.
    table = school_table(current[current.status.isin(SHOW[show or ALL])], naming)
    if search.strip():
        wanted = search.strip().lower()
        found = table.School.str.lower().str.contains(wanted, regex=False) | table.URN.astype(str).str.startswith(
            wanted
        )
        table = table[found.fillna(False)]
    if table.empty:
        which = f"matches {shared.plain(search)!r}" if search.strip() else "is listed"
        among = "" if show in (None, ALL) else f" {SHOW_LABELS[show].lower()}"
        st.caption(f"No school{among} {which}.")
    # Plain text, not a Styler: styling each cell took 2-3 s a visit for 22,000 schools (issue 19).
    st.dataframe(
        table.drop(columns="urn"),
        hide_index=True,
        column_config={
            "URN": st.column_config.NumberColumn(format="%d"),
            "Status": st.column_config.TextColumn(help=STATUS_HELP),
            "Signed on": st.column_config.DateColumn(format="D MMM YYYY"),
            "Withdrawn on": st.column_config.DateColumn(format="D MMM YYYY"),
        },
        key="agreements_current",
    )
    differing = int(current.differs_from_history.sum())
    if differing:
        st.warning(
            f"{differing} school{'s were' if differing != 1 else ' was'} marked signed or unsigned outside the app, "
            "so the history says otherwise. Record the agreement as it stands to put the history right.",
            icon=":material/warning:",
        )
    return table


def school_table(current: pd.DataFrame, naming: Naming) -> pd.DataFrame:
    """One row a school as the officer may see it, in the order of the names shown."""
    table = pd.DataFrame(
        {
            "urn": current.urn.astype(int),
            "School": [naming.name(u, n) for u, n in zip(current.urn, current["name"], strict=True)],
            "URN": pd.array([naming.urn(u) for u in current.urn], dtype="Int64"),
            "Status": current.status.map(agreements.STATUS_LABELS),
            "Signed on": pd.to_datetime(current.signed_on),
            "Withdrawn on": pd.to_datetime(current.withdrawn_on),
            "Recorded by": naming.text(current.recorded_by),
            "Note": naming.text(current.note),
        }
    )
    # Listed in real names' order, a pseudonym would say where its name falls.
    return table.sort_values(
        ["School", "urn"], key=lambda column: column.str.lower() if column.name == "School" else column
    )


def record_form(store: Store, shown: pd.DataFrame, naming: Naming) -> None:
    if shown.empty:
        st.caption("Find a school above to record its agreement.")
        return
    labels = {
        int(row.urn): f"{row.School} ({row.Status.lower()})" for row in shown[["urn", "School", "Status"]].itertuples()
    }
    # A new form key after each recorded agreement gives empty fields; a refused one keeps what was typed.
    version = st.session_state.get(FORM_VERSION_KEY, 0)
    with st.form(f"record_agreement_{version}"):
        urn = st.selectbox("School", list(labels), format_func=labels.__getitem__)
        action = st.radio("What happened", [SIGNED_ACTION, WITHDRAWN_ACTION], horizontal=True)
        left, right = st.columns(2)
        day = left.date_input("On", value=date.today(), max_value=date.today(), format="DD/MM/YYYY")
        recorded_by = right.text_input("Recorded by", value=access.signed_in_name(), placeholder="Your name or role")
        note = st.text_input("Note (for a withdrawal: why)", placeholder="A reference, who signed, or the reason")
        if st.form_submit_button("Record", type="primary"):
            with shared.user_errors():
                if action == SIGNED_ACTION:
                    agreements.record_agreement(store, int(urn), day, recorded_by, note, source=agreements.PAGE)
                else:
                    agreements.withdraw_agreement(store, int(urn), day, recorded_by, note, source=agreements.PAGE)
                what = "signed" if action == SIGNED_ACTION else "withdrew"
                verb = "sign" if action == SIGNED_ACTION else "withdraw"
                access.audit_write(
                    f"agreement.{verb}", f"Recorded that URN {int(urn)} {what} its agreement on {day:%d %b %Y}", [urn]
                )
                st.toast(f"Recorded: {labels[int(urn)].rsplit(' (', 1)[0]} {what} on {day:%-d %b %Y}.")
                st.session_state[FORM_VERSION_KEY] = version + 1
                st.rerun()


def show_history(history: pd.DataFrame, naming: Naming) -> None:
    st.markdown("**History** (newest first)")
    if history.empty:
        st.caption("Nothing recorded for the schools listed.")
        return
    table = pd.DataFrame(
        {
            "School": [naming.name(u, n) for u, n in zip(history.urn, history["name"], strict=True)],
            "What": history.event.map({agreements.SIGNED: "Signed", agreements.WITHDRAWN: "Withdrawn"}),
            "On": pd.to_datetime(history.withdrawn_on.where(history.withdrawn_on.notna(), history.signed_on)),
            "Recorded by": naming.text(history.recorded_by),
            "Recorded at": pd.to_datetime(history.recorded_at),
            "How": history.source.map(agreements.SOURCE_LABELS),
            "Note": naming.text(history.note),
        }
    )
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            "On": st.column_config.DateColumn(format="D MMM YYYY"),
            "Recorded at": st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm"),
        },
        key="agreements_history",
    )


def show_sign_up(sign_up: pd.DataFrame, current: pd.DataFrame) -> None:
    if sign_up.empty:
        st.caption("No dated agreements yet, so there is no sign-up to chart.")
        return
    st.plotly_chart(sign_up_chart(sign_up, len(current)), key="agreements_sign_up")
    undated = int(((current.status == agreements.SIGNED) & current.signed_on.isna()).sum())
    if undated:
        st.caption(
            f"{undated} school{'s' if undated != 1 else ''} signed on a date that was never recorded and "
            f"{'are' if undated != 1 else 'is'} not in the chart."
        )


def sign_up_chart(sign_up: pd.DataFrame, schools: int) -> go.Figure:
    figure = go.Figure(
        go.Scatter(
            x=sign_up.month_end,
            y=sign_up.schools_signed,
            mode="lines+markers",
            line_shape="hv",
            customdata=sign_up[["newly_signed", "withdrawn"]],
            hovertemplate="%{x|%-d %b %Y}: %{y} schools<br>signed that month: %{customdata[0]}, "
            "withdrew: %{customdata[1]}<extra></extra>",
        )
    )
    figure.update_layout(
        title="Schools with an agreement in force, at each month end",
        height=340,
        margin=dict(l=10, r=10, t=50, b=10),
        yaxis=dict(title=f"schools (of {schools})", rangemode="tozero"),
        xaxis=dict(title=None),
        showlegend=False,
    )
    return figure
