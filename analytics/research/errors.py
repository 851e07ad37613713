"""The error a comparison raises when it cannot be made (unknown measure, no schools, overlapping years...)."""

from __future__ import annotations

from analytics.errors import InsightError


class ResearchError(InsightError):
    title = "The comparison cannot be made"
