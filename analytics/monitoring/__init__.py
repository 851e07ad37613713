"""Early warning: how each school is doing, and what the evidence suggests doing about it.

- ``trends``: each school's trend on each measure (rising, stable or declining), judged against
  how much chance moves a figure.
- ``criteria``: the protocol's early-warning criteria, read from ``criteria/criteria.toml`` and
  checked for every school.
- ``categories``: the LA category the evidence suggests, and the decisions people record.
- ``board``: the picture for a board, one row per school, joining the three above.
- ``profile``: one school's record for its profile page.
"""
