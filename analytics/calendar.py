"""Academic years and the dates a page's point-in-time facts describe.

Results are stored by the calendar year in which the academic year ends (``2024`` is 2023/24);
academic years start on 1 September.
"""

from __future__ import annotations

from datetime import date


def format_academic_year(year: int) -> str:
    """``2024`` (the year the academic year ends, as stored) -> ``"2023/24"``."""
    return f"{year - 1}/{year % 100:02d}"


def end_of_academic_year(year: int) -> date:
    return date(year, 8, 31)


def academic_year_of(day: date) -> int:
    """The academic year (by its end year) that a date falls in; years start on 1 September."""
    return day.year + 1 if day.month >= 9 else day.year


def as_of_date(year: int, latest_year: int | None, today: date) -> date:
    """The date a page's point-in-time facts describe for a chosen results year.

    For the latest year with results the board wants today's categories and grades; for earlier
    years, the picture at the end of that academic year.
    """
    if latest_year is None or year >= latest_year:
        return today
    return min(end_of_academic_year(year), today)


def first_full_academic_year(start: date) -> int:
    """The first academic year (by the year it ends) that support starting on ``start`` covered whole.

    Support that starts in September (the start of the school year) covers that year; support
    that starts later in the year (a January start) covers it only in part, so the next year is
    the first "after" year and the part-year belongs to neither side.
    """
    containing = start.year + 1 if start.month >= 9 else start.year
    return containing if start.month == 9 else containing + 1
