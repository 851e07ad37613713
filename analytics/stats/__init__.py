"""Generic statistics shared by the before-and-after evaluation and the research comparisons.

Modules
-------
effect_sizes
    Standardised differences (Hedges' g, Austin's balance SMD), Cliff's delta, the noncentral-t
    interval behind them, and Cohen's words for an effect's size.
estimates
    Means and weighted means with confidence intervals, and Welch's one-way ANOVA.
multiple
    Holm's adjustment of p-values when several tests are read together.
wording
    How figures are written for people: p-values, intervals, rounding half up.
"""
