"""One questionnaire's before-and-after results, drawn the same way on the Interventions and Questionnaires pages."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics import charts, overview, prepost
from pages import shared

ITEM_COLUMNS = {
    "label": st.column_config.TextColumn("Item or scale", width="large"),
    "n_pairs": st.column_config.NumberColumn("Pairs"),
    "n_pre": st.column_config.NumberColumn("n before"),
    "n_post": st.column_config.NumberColumn("n after"),
    "mean_pre": st.column_config.NumberColumn("Before", format="%.2f"),
    "mean_post": st.column_config.NumberColumn("After", format="%.2f"),
    "change": st.column_config.NumberColumn("Change", format="%+.2f"),
    "interval": "95% CI",
    "effect": "Effect size",
    "p_value": st.column_config.NumberColumn("p", format="%.3f"),
    "p_holm": st.column_config.NumberColumn("p (Holm)", format="%.3f", help="Adjusted for testing several items"),
    "pct_improved": st.column_config.NumberColumn("% improved", format="%.0f%%"),
    "warning": st.column_config.TextColumn("Note", width="medium"),
}


@st.cache_data(show_spinner="Comparing answers before and after…")
def load_survey(path: str, data_version: int, survey_id: int) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    """Answers, instrument and before/after results of a stored survey, cached until the data change."""
    store = shared.open_store(path)
    answers, instrument = prepost.survey_long(store, survey_id)
    return answers, instrument, prepost.prepost_for_survey(store, survey_id)


@st.cache_data(show_spinner=False)
def load_single_wave(path: str, data_version: int, survey_id: int) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    """A survey with answers in one wave only: described, with no claim of change."""
    store = shared.open_store(path)
    answers, instrument = prepost.survey_long(store, survey_id)
    if answers.empty:
        return answers, instrument, pd.DataFrame(columns=list(prepost.SINGLE_WAVE_COLUMNS))
    described = prepost.describe_single_wave(
        answers,
        scale_min=instrument["scale_min"],
        scale_max=instrument["scale_max"],
        higher_is_better=instrument["higher_is_better"],
        labels=instrument["item_labels"],
        option_labels=instrument["scale_labels"] or None,
    )
    return answers, instrument, described


def show_survey(store, survey_id: int) -> None:
    """Results of one questionnaire: a sentence per item and scale, the table, the answer distributions
    (and each matched respondent's change), and the downloads."""
    key = shared.cache_key(store)
    try:
        answers, instrument, results = load_survey(*key, survey_id)
    except ValueError:
        show_single_wave(store, survey_id)
        return
    paired = "matched respondents (paired tests)" if instrument["matched"] else "anonymous answers (unpaired tests)"
    st.caption(
        f"{instrument['name']} · {paired} · compares {results.wave_pre.iloc[0]} with {results.wave_post.iloc[0]}"
    )
    for sentence in results.summary:
        st.markdown(f"- {sentence}")
    table = results.assign(
        interval=overview.format_intervals(results.ci_low, results.ci_high),
        effect=[
            "" if pd.isna(e) else f"{e:+.2f} ({name})"
            for e, name in zip(results.effect_size, results.effect_size_name, strict=True)
        ],
    )
    st.dataframe(table[list(ITEM_COLUMNS)], hide_index=True, column_config=ITEM_COLUMNS, key=f"items_{survey_id}")
    export = results.drop(columns=["summary"])
    sheets = {"Results": export}
    if answers.empty:
        st.caption(
            "Only the means and numbers of respondents were kept for this questionnaire, so there are no answer "
            "distributions to draw."
        )
    else:
        distribution = prepost.ordinal_distribution(
            answers,
            dv="value",
            wave="wave",
            item="item",
            scale_min=instrument["scale_min"],
            scale_max=instrument["scale_max"],
            labels=instrument["scale_labels"],
            higher_is_better=instrument["higher_is_better"],
        )
        sheets["Answers by option"] = distribution
        items = [i for i in instrument["items"] if i in set(distribution.item)]
        labels = instrument["item_labels"]
        item = st.selectbox(
            "Item", items, format_func=lambda i, labels=labels: labels.get(i, i), key=f"item_{survey_id}"
        )
        left, right = st.columns(2)
        left.plotly_chart(
            charts.diverging_bars(distribution[distribution.item == item], labels.get(item, item)),
            key=f"bars_{survey_id}",
        )
        if instrument["matched"]:
            pairs = prepost.paired_answers(
                answers, item=item, before=results.wave_pre.iloc[0], after=results.wave_post.iloc[0]
            )
            right.plotly_chart(
                charts.paired_slopes(
                    pairs, "Each respondent, before and after", instrument["scale_min"], instrument["scale_max"]
                ),
                key=f"slopes_{survey_id}",
            )
    shared.download_buttons(
        f"questionnaire-{survey_id}",
        export,
        sheets,
        csv_label="Download results (CSV)",
        excel_label="Download results and answer counts (Excel)" if len(sheets) > 1 else "Download results (Excel)",
        key=f"survey_{survey_id}",
    )


def show_single_wave(store, survey_id: int) -> None:
    _answers, instrument, described = load_single_wave(*shared.cache_key(store), survey_id)
    waves = ", ".join(instrument["waves"]) or "none"
    st.info(
        f"This questionnaire has answers in one wave only ({waves}), so it shows where things stand, not whether "
        "they changed. Upload the other wave to compare.",
        icon=":material/info:",
    )
    for sentence in described.summary:
        st.markdown(f"- {sentence}")
    if not described.empty:
        st.dataframe(described.drop(columns=["summary"]), hide_index=True, key=f"single_{survey_id}")
