"""The fused aggregation/reduction kernels and their plain-numpy twins.

``reduce_segments`` aggregates positions into segments (accounts, or account x group)
and reduces each segment's scenario losses (max loss, weighted max, expected shortfall,
value at risk) without forming the segments x scenarios matrix; ``account_totals`` sums
per-group charges into accounts. One account is a batch of one: ``scenario_vector``,
``reduce_vector`` and ``WhatIf`` serve the interactive what-if. The twins live in
:mod:`crossmargin.kernels.reference`.
"""

from crossmargin.kernels.reduce import (
    ExpectedShortfall,
    MaxLoss,
    Reduction,
    SegmentReduction,
    ValueAtRisk,
    WeightedMax,
    account_totals,
    pass_precision,
    reduce_segments,
    tail_count,
)
from crossmargin.kernels.vector import (
    VectorReduction,
    WhatIf,
    reduce_vector,
    scenario_vector,
    tail_scenarios,
)
from crossmargin.kernels.warm import warmup

__all__ = [
    "ExpectedShortfall",
    "MaxLoss",
    "Reduction",
    "SegmentReduction",
    "ValueAtRisk",
    "VectorReduction",
    "WeightedMax",
    "WhatIf",
    "account_totals",
    "pass_precision",
    "reduce_segments",
    "reduce_vector",
    "scenario_vector",
    "tail_count",
    "tail_scenarios",
    "warmup",
]
