"""One questionnaire's before-and-after results, drawn the same way on the Interventions and Questionnaires pages."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from analytics import charts
from analytics import evaluation as prepost
from analytics.evaluation.columns import MCNEMAR
from analytics.evaluation.summaries import ONE_WAVE_CAUTION
from analytics.stats.wording import format_intervals
from app_pages import shared

# Widths (pixels) that fit a 1400-pixel screen beside the sidebar; each item's note is shown under its sentence,
# and the effect size's measure in a line under the table.
ITEM_COLUMNS = {
    "label": st.column_config.TextColumn("Item or scale", width=170),
    "n_pairs": st.column_config.NumberColumn("Pairs", width=52, help="Respondents who answered both times"),
    "n_both": st.column_config.TextColumn("n before / after", width=88),
    "mean_pre": st.column_config.NumberColumn("Before", format="%.2f", width=60),
    "mean_post": st.column_config.NumberColumn("After", format="%.2f", width=60),
    "change": st.column_config.NumberColumn("Change", format="%+.2f", width=66),
    "interval": st.column_config.TextColumn("95% CI", width=100),
    "effect": st.column_config.TextColumn("Effect size", width=70),
    "p_value": st.column_config.TextColumn("p", width=58),
    "p_holm": st.column_config.TextColumn("p (Holm)", width=66, help="Adjusted for testing several items"),
    "pct_improved": st.column_config.NumberColumn("% better", format="%.0f%%", width=70),
}
PAIRED_HELP = "Mean over the respondents who answered both times (the pairs)"

# Plain headings and rounded numbers for the results download, which goes straight into a report: every
# column of the comparison (the rank test, the effect sizes and their intervals too), so the file can be checked.
EXPORT_HEADINGS = {
    "label": "Item or scale",
    "item": "Item code",
    "kind": "Row",
    "paired": "Matched respondents",
    "wave_pre": "Before (wave)",
    "wave_post": "After (wave)",
    "n_pre": "n before",
    "n_post": "n after",
    "n_pairs": "Pairs",
    "mean_pre": "Mean before",
    "mean_post": "Mean after",
    "change": "Change",
    "ci_low": "95% CI low",
    "ci_high": "95% CI high",
    "test": "Test",
    "statistic": "Test statistic",
    "df": "df",
    "p_value": "p",
    "p_holm": "p (Holm)",
    "rank_test": "Rank test",
    "rank_method": "Rank test p from",
    "rank_statistic": "Rank statistic",
    "rank_p_value": "Rank test p",
    "rank_p_holm": "Rank test p (Holm)",
    "effect_size": "Effect size",
    "effect_size_name": "Effect size measure",
    "effect_ci_low": "Effect size 95% CI low",
    "effect_ci_high": "Effect size 95% CI high",
    "rank_effect_size": "Rank effect size",
    "rank_effect_size_name": "Rank effect size measure",
    "rank_effect_ci_low": "Rank effect size 95% CI low",
    "rank_effect_ci_high": "Rank effect size 95% CI high",
    "improved": "Improved",
    "same": "Same",
    "declined": "Declined",
    "pct_improved": "% improved",
    "pct_same": "% same",
    "pct_declined": "% declined",
    "higher_is_better": "Higher is better",
    "reverse_scored": "Reverse-scored",
    "scale_min": "Scale from",
    "scale_max": "Scale to",
    "warning": "Note",
    "note": "Note",
    "summary": "In words",
    "headline": "Overall",
}
ROUNDING = {"mean_pre": 2, "mean_post": 2, "change": 2, "ci_low": 2, "ci_high": 2, "statistic": 2, "df": 1}
ROUNDING |= {"effect_size": 2, "effect_ci_low": 2, "effect_ci_high": 2, "rank_statistic": 1}
ROUNDING |= {"rank_effect_size": 2, "rank_effect_ci_low": 2, "rank_effect_ci_high": 2}
ROUNDING |= {"p_value": 3, "p_holm": 3, "rank_p_value": 3, "rank_p_holm": 3}
ROUNDING |= {"pct_improved": 0, "pct_same": 0, "pct_declined": 0}

# The tests behind each sentence, for whoever checks the figures: collapsed under the main table.
DETAIL_COLUMNS = {
    "label": st.column_config.TextColumn("Item or scale", width=170),
    "test": st.column_config.TextColumn("Test", width=120),
    "test_figures": st.column_config.TextColumn("Statistic", width=90),
    "p_value": st.column_config.TextColumn("p", width=58),
    "p_holm": st.column_config.NumberColumn("p (Holm)", format="%.3f", width=72),
    "rank_test": st.column_config.TextColumn("Rank test", width=140),
    "rank_statistic": st.column_config.NumberColumn("Rank statistic", format="%g", width=90),
    "rank_p_value": st.column_config.NumberColumn("Rank p", format="%.3f", width=62),
    "rank_p_holm": st.column_config.NumberColumn("Rank p (Holm)", format="%.3f", width=90),
    "rank_method": st.column_config.TextColumn("Rank p from", width=120),
    "effect_size_name": st.column_config.TextColumn("Effect size", width=100),
    "effect_text": st.column_config.TextColumn("Effect (95% CI)", width=130),
    "rank_effect_size_name": st.column_config.TextColumn("Rank effect size", width=170),
    "rank_effect_text": st.column_config.TextColumn("Rank effect (95% CI)", width=140),
}


def report_table(results: pd.DataFrame) -> pd.DataFrame:
    """The results as a report needs them: plain headings, means to 2 places, p to 3, percentages whole."""
    kept = [c for c in EXPORT_HEADINGS if c in results.columns]
    table = results[kept].copy()
    for column, places in ROUNDING.items():
        if column in table.columns:
            table[column] = pd.to_numeric(table[column], errors="coerce").round(places)
    return table.rename(columns=EXPORT_HEADINGS)


def _with_interval(values: pd.Series, lows: pd.Series, highs: pd.Series) -> list[str]:
    """``+0.45 (+0.10 to +0.80)`` per row; just the value when there is no interval, empty when no value."""
    texts = []
    for value, low, high in zip(values, lows, highs, strict=True):
        if pd.isna(value):
            texts.append("")
        elif pd.isna(low):
            texts.append(f"{value:+.2f}")
        else:
            texts.append(f"{value:+.2f} ({low:+.2f} to {high:+.2f})")
    return texts


def details_table(results: pd.DataFrame) -> pd.DataFrame:
    """Each row's tests and effect sizes with their intervals, as the details expander shows them."""
    statistic = pd.to_numeric(results.statistic, errors="coerce")
    df = pd.to_numeric(results.df, errors="coerce")
    figures = [
        "" if pd.isna(t) else (f"{t:g} changed up" if test == MCNEMAR else f"t({d:.1f}) = {t:.2f}")
        for t, d, test in zip(statistic, df, results.test, strict=True)
    ]
    table = results.assign(
        test_figures=figures,
        effect_text=_with_interval(results.effect_size, results.effect_ci_low, results.effect_ci_high),
        rank_effect_text=_with_interval(
            results.rank_effect_size, results.rank_effect_ci_low, results.rank_effect_ci_high
        ),
    )
    return table[[c for c in DETAIL_COLUMNS if c in table.columns]]


def file_stem(name: str, survey_id: int) -> str:
    """A download's file name from the questionnaire's name: letters, digits and hyphens only."""
    stem = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()[:60]
    return f"{stem}-results" if stem else f"questionnaire-{survey_id}"


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
    return answers, instrument, prepost.describe_stored_wave(store, survey_id)


def show_survey(store, survey_id: int) -> None:
    """Results of one questionnaire: a sentence per item and scale, the table, the answer distributions
    (and each matched respondent's change), and the downloads."""
    key = shared.cache_key(store)
    try:
        answers, instrument, results = load_survey(*key, survey_id)
    except ValueError:
        show_single_wave(store, survey_id)
        return
    shown_name = shared.school_names().redact([str(instrument["name"])])[0]
    paired = (
        "means only (described, not tested)"
        if answers.empty
        else "matched respondents (paired tests)"
        if instrument["matched"]
        else "anonymous answers (unpaired tests)"
    )
    waves = f"{shared.plain(results.wave_pre.iloc[0])} with {shared.plain(results.wave_post.iloc[0])}"
    st.caption(f"{shared.plain(shown_name)} · {paired} · compares {waves}")
    show_headlines(results)
    show_sentences(results)
    show_items_table(results, instrument, survey_id)
    if results.p_value.notna().any() or results.rank_p_value.notna().any():
        show_details(results, survey_id)
    show_groups(store, survey_id)
    export = report_table(results)
    sheets = {"Results": export}
    if answers.empty:
        kept = "means" if results.n_pre.isna().all() else "means and numbers of respondents"
        st.caption(f"Only the {kept} were kept for this questionnaire, so there are no answer distributions to draw.")
    else:
        sheets["Answers by option"] = show_distributions(answers, instrument, results, survey_id)
    shared.download_buttons(
        file_stem(shown_name, survey_id),
        export,
        sheets,
        csv_label="Download results (CSV)",
        excel_label="Download results and answer counts (Excel)" if len(sheets) > 1 else "Download results (Excel)",
        key=f"survey_{survey_id}",
    )


@st.cache_data(show_spinner=False)
def load_groups(path: str, data_version: int, survey_id: int) -> pd.DataFrame:
    return prepost.prepost_by_group(shared.open_store(path), survey_id)


def show_groups(store, survey_id: int) -> None:
    """The same results per pupil group the file recorded (sex, pupil premium, ...), small groups cautioned."""
    groups = load_groups(*shared.cache_key(store), survey_id)
    if groups.empty:
        return
    with st.expander("By pupil group"):
        characteristic = st.radio(
            "Group by", list(dict.fromkeys(groups.characteristic)), horizontal=True, key=f"group_by_{survey_id}"
        )
        mine = groups[(groups.characteristic == characteristic) & (groups.kind == "item")]
        table = mine[["group", "people", "label", "mean_pre", "mean_post", "pct_improved", "pct_declined", "p_holm"]]
        st.dataframe(
            table.round({"mean_pre": 2, "mean_post": 2, "pct_improved": 0, "pct_declined": 0, "p_holm": 3}),
            hide_index=True,
            column_config={
                "group": characteristic,
                "people": st.column_config.NumberColumn("People", format="%d"),
                "label": st.column_config.TextColumn("Item", width="large"),
                "mean_pre": "Before",
                "mean_post": "After",
                "pct_improved": st.column_config.NumberColumn("% better", format="%d%%"),
                "pct_declined": st.column_config.NumberColumn("% worse", format="%d%%"),
                "p_holm": "p (Holm)",
            },
            key=f"groups_{survey_id}_{characteristic}",
        )
        for group, caution in mine.drop_duplicates("group")[["group", "caution"]].itertuples(index=False):
            if caution:
                st.caption(f":material/warning: {shared.plain(group)}: {caution}.")
        st.caption(
            "Each group is tested as the whole questionnaire is. Breaking results down several ways makes some "
            "group look different by chance alone: read a difference between groups as a question to follow up."
        )


def show_headlines(results: pd.DataFrame) -> None:
    """How many items (and scales) changed by more than chance would explain, allowing for testing them all."""
    if "headline" not in results.columns:
        return
    for headline in dict.fromkeys(str(h) for h in results.headline.fillna("") if str(h)):
        st.markdown(f"**{shared.plain(headline)}**")


def show_details(results: pd.DataFrame, survey_id: int) -> None:
    """The tests and effect sizes behind the sentences, with their intervals, collapsed for whoever checks them."""
    with st.expander("Tests and effect sizes in detail"):
        st.dataframe(details_table(results), hide_index=True, column_config=DETAIL_COLUMNS, key=f"details_{survey_id}")
        st.caption(
            "p (Holm) allows for testing several items at once; the sentences use it. Intervals are 95%. For "
            "matched respondents the signed-rank test's p is exact (every way the signs of the changes could have "
            "fallen) for up to 200 changed answers, and the rank-biserial r's interval inverts that exact test, so "
            "it excludes 0 exactly when that p is below 0.05. See docs/prepost.md."
        )


def show_sentences(results: pd.DataFrame) -> None:
    """A sentence per item and scale, with its cautions; a caution every item shares is said once, above them."""
    notes = results.warning if "warning" in results.columns else pd.Series("", index=results.index)
    # A caution that applies to every item ("only 9 matched respondents") is said once, above them.
    sentences = [[part for part in re.split(r"(?<=\.)\s+", str(note).strip()) if part] for note in notes.fillna("")]
    shared_notes = [part for part in sentences[0] if all(part in other for other in sentences)] if sentences else []
    if shared_notes and len(sentences) > 1:
        st.markdown(f":orange[:material/warning: {shared.shown_text(' '.join(shared_notes))}]")
    else:
        shared_notes = []
    # Sentences quote item wording from the file: shown as text, with hidden schools redacted.
    for sentence, parts in zip(results.summary, sentences, strict=True):
        line = f"- {shared.shown_text(sentence)}"
        own = " ".join(part for part in parts if part not in shared_notes)
        if own:
            line += f"  \n  :orange[:material/warning: {shared.shown_text(own)}]"
        st.markdown(line)


def p_shown(p: object) -> str:
    """A p-value as the sentences give it: "<0.001" rather than 0.000, empty when there is no test."""
    if p is None or pd.isna(p):
        return ""
    return "<0.001" if float(p) < 0.001 else f"{float(p):.3f}"


def show_items_table(results: pd.DataFrame, instrument: dict, survey_id: int) -> None:
    """The results table, with the columns that make sense for paired or unpaired answers, and its footnote."""
    table = results.assign(
        n_both=[
            "not given" if pd.isna(a) or pd.isna(b) else f"{a} / {b}"
            for a, b in zip(results.n_pre, results.n_post, strict=True)
        ],
        interval=format_intervals(results.ci_low, results.ci_high),
        effect=["" if pd.isna(e) else f"{e:+.2f}" for e in results.effect_size],
        p_value=[p_shown(p) for p in results.p_value],
        p_holm=[p_shown(p) for p in results.p_holm],
    )
    columns = dict(ITEM_COLUMNS)
    if instrument["matched"]:
        for column, title in (("mean_pre", "Before"), ("mean_post", "After")):
            columns[column] = st.column_config.NumberColumn(title, format="%.2f", width=60, help=PAIRED_HELP)
    else:
        # Unpaired: no pairs, and no one's own change to count as improved.
        columns = {k: v for k, v in columns.items() if k not in ("n_pairs", "pct_improved")}
    columns = {k: v for k, v in columns.items() if k in table.columns}
    st.dataframe(table[list(columns)], hide_index=True, column_config=columns, key=f"items_{survey_id}")
    measures = sorted({str(m) for m in results.effect_size_name.dropna() if str(m)})
    footnote = [f"Effect size: {', '.join(measures)}."] if measures else []
    if instrument["matched"]:
        footnote.insert(0, "Before and After are means over the respondents who answered both times.")
    if footnote:
        st.caption(" ".join(footnote))


def show_distributions(answers: pd.DataFrame, instrument: dict, results: pd.DataFrame, survey_id: int) -> pd.DataFrame:
    """The answers by option for a chosen item (and each matched respondent's change); returns the counts."""
    distribution = prepost.ordinal_distribution(
        answers,
        dv="value",
        wave="wave",
        item="item",
        scale_min=instrument["scale_min"],
        scale_max=instrument["scale_max"],
        labels=instrument["scale_labels"] or None,
        higher_is_better=instrument["higher_is_better"],
        reverse_items=instrument["reverse_items"],
    )
    items = [i for i in instrument["items"] if i in set(distribution.item)]
    labels = instrument["item_labels"]
    item = st.selectbox("Item", items, format_func=lambda i, labels=labels: labels.get(i, i), key=f"item_{survey_id}")
    left, right = st.columns(2)
    left.plotly_chart(
        charts.diverging_bars(distribution[distribution.item == item], labels.get(item, item)),
        key=f"bars_{survey_id}",
    )
    if instrument["matched"]:
        pairs = prepost.paired_answers(
            answers, item=item, before=results.wave_pre.iloc[0], after=results.wave_post.iloc[0]
        )
        # The item's own direction: a reverse-scored item's good end is the scale's other end.
        item_is_reversed = item in set(instrument["reverse_items"])
        right.plotly_chart(
            charts.paired_slopes(
                pairs,
                "Each respondent, before and after",
                instrument["scale_min"],
                instrument["scale_max"],
                higher_is_better=instrument["higher_is_better"] != item_is_reversed,
                labels=instrument["scale_labels"] or None,
            ),
            key=f"slopes_{survey_id}",
        )
    return distribution


def show_single_wave(store, survey_id: int) -> None:
    _answers, instrument, described = load_single_wave(*shared.cache_key(store), survey_id)
    waves = ", ".join(instrument["waves"]) or "none"
    st.info(
        f"This questionnaire has answers in one wave only ({waves}), so it shows where things stand, not whether "
        "they changed. Upload the other wave to compare.",
        icon=":material/info:",
    )
    # The box above says once that one wave cannot show a change; each item's sentence need not repeat it.
    for sentence in described.summary:
        st.markdown(f"- {shared.shown_text(str(sentence).replace(ONE_WAVE_CAUTION, '').strip())}")
    if described.empty:
        return
    table = described[["label", "n", "mean", "median", "pct_top", "top_options"]]
    st.dataframe(
        table.round({"mean": 2, "pct_top": 0}),
        hide_index=True,
        column_config={
            "label": st.column_config.TextColumn("Item", width="large"),
            "n": st.column_config.NumberColumn("Answers", format="%d"),
            "mean": st.column_config.NumberColumn("Mean", format="%.2f"),
            "median": "Median",
            "pct_top": st.column_config.NumberColumn("% in the best options", format="%d%%"),
            "top_options": "Best options",
        },
        key=f"single_{survey_id}",
    )
    shared.download_buttons(
        file_stem(str(instrument["name"]), survey_id),
        table,
        {"Answers described": table},
        csv_label="Download the description (CSV)",
        excel_label="Download the description (Excel)",
        key=f"single_download_{survey_id}",
    )
