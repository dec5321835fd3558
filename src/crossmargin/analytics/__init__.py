"""Analytics over margin results: attribution of requirements (more to come).

This layer sits above ``methods/`` and ``results/`` and imports them; nothing below
imports it.
"""

from crossmargin.analytics.attribution import (
    Attribution,
    GroupAttribution,
    PositionAttribution,
    attribute,
    explain,
    incremental_margins,
)

__all__ = [
    "Attribution",
    "GroupAttribution",
    "PositionAttribution",
    "attribute",
    "explain",
    "incremental_margins",
]
