"""The built-in demo partnership: fictional schools with believable data and a known truth.

``generate_demo(seed)`` returns one DataFrame per store table; ``build_demo_store(path)`` writes
them to a new DuckDB file. The same seed always gives the same content (the test suite checks the
content hash), so every figure the app shows on the demo can be reproduced.

How the results are made
------------------------
Each school has a true level for each measure (national figure + a school offset), and a planted
trend: most schools are *stable* (they move with the nation), some are *rising* or *declining*
by a few points a year against national. Each year adds a school-level shock (staffing, a hard
cohort) and then sampling noise that follows from the cohort size: the cohort is drawn pupil by
pupil, each reaching a standard or not (so a percentage varies as a binomial draw does), or scoring
around the school's level with the pupil-level spread (so an average varies by that spread over the
square root of the cohort). A 12-pupil cohort therefore swings by 10-15 points from year to year
with no real change, and a 180-pupil cohort by 3-4. Pupil groups (boys and girls, disadvantaged
pupils and the rest, EAL, SEND) are counted from the same pupils, so they share out the all-pupils
cohort and combine to the all-pupils figure, as published figures do (see :mod:`.pupils`). The
planted truth is kept in the ``demo_truth`` table so the product's trend flags and impact estimates
can be checked against it.

As in the real published data, there are no test results for 2019/20 and 2020/21, no KS2
progress scores after 2022/23 and no Progress 8 for 2024/25 (see ``data/demo/national_figures.csv``).

What each measure means comes from :mod:`analytics.catalogue`; everything else the demo is made
from (sizes, names, spreads and gaps, interventions, meetings, questionnaires) is a readable file
under ``data/demo/`` (see its README).

Modules
-------
``sources``        the demo's fixed identifiers and how the ``data/demo/`` files are read
``measures``       the demo's measures: catalogue entries plus their simulation parameters
``schools``        the fictional schools
``groups``         alliances, collaboratives, triads and trusts, and their memberships
``truth``          the planted trends and the ``demo_truth`` table
``interventions``  support programmes and their planted effects
``pupils``         pupil-group figures counted from one drawn cohort, so groups add up to all pupils
``results``        school results by pupil group, and national/LA/neighbour comparators
``inspections``    Ofsted inspections
``context``        context events (new head, staff turnover...)
``meetings``       board meetings, category decisions, actions and follow-ups
``surveys``        questionnaires: instruments, surveys, waves and responses
``peer_reviews``   peer review self-assessments
``build``          ``generate_demo`` (every table) and ``build_demo_store``/``write_tables``
"""

from __future__ import annotations

from analytics.peer_review import AREAS as PEER_REVIEW_AREAS

from .build import DemoData, ProgressCallback, build_demo_store, generate_demo, write_tables
from .measures import MEASURE_BY_CODE, MEASURES, MeasureSpec, measures_catalogue
from .sources import (
    DEFAULT_SEED,
    DEMO_DIR,
    DEMO_LA_CODE,
    DEMO_LA_NAME,
    FIRST_DEMO_URN,
    SUBGROUPS,
    national_figures,
)

__all__ = [
    "DEFAULT_SEED",
    "DEMO_DIR",
    "DEMO_LA_CODE",
    "DEMO_LA_NAME",
    "FIRST_DEMO_URN",
    "MEASURES",
    "MEASURE_BY_CODE",
    "PEER_REVIEW_AREAS",
    "SUBGROUPS",
    "DemoData",
    "MeasureSpec",
    "ProgressCallback",
    "build_demo_store",
    "generate_demo",
    "measures_catalogue",
    "national_figures",
    "write_tables",
]
