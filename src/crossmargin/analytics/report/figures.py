"""The report's plotly figures, one function per question the page answers.

Distributions are drawn from precomputed summaries (histogram counts, quantiles, box
statistics), never from one point per account: a page for a million accounts stays as
small and quick to draw as one for a thousand.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from crossmargin.analytics.report.capital import CapitalFreed
from crossmargin.analytics.report.sections import (
    BacktestEvidence,
    ProcyclicalityEvidence,
    StressEvidence,
)
from crossmargin.core.typing import FloatArray

if TYPE_CHECKING:
    from crossmargin.analytics.report.evidence import Evidence

__all__ = [
    "BINS",
    "ECDF_POINTS",
    "WHISKERS",
    "backtest_series",
    "box_statistics",
    "capital_by_label",
    "capital_ecdf",
    "capital_histogram",
    "capital_split",
    "clipped_histogram",
    "cover_bars",
    "procyclicality_series",
    "report_figures",
    "stress_uncovered",
]

#: Bars of the capital-freed histogram.
BINS = 60
#: Quantiles a histogram's range spans (values beyond are counted in the end bars).
CLIP = (0.005, 0.995)
#: Points of each empirical distribution function.
ECDF_POINTS = 201
#: Quantiles the box whiskers reach (the box spans the quartiles).
WHISKERS = (0.05, 0.95)
#: Groups shown in a box chart; the rest are pooled as "other".
MAX_GROUPS = 12
_TEMPLATE = "plotly_white"
_COLOURS = {"silo": "#7f7f7f", "conservative": "#1f77b4", "unified": "#2ca02c"}


def _layout(fig: go.Figure, *, title: str, x: str, y: str, height: int = 420) -> go.Figure:
    fig.update_layout(template=_TEMPLATE, title={"text": title, "x": 0.01},
                      height=height, margin={"l": 70, "r": 20, "t": 60, "b": 60},
                      legend={"orientation": "h", "y": -0.18})
    fig.update_xaxes(title_text=x)
    fig.update_yaxes(title_text=y)
    return fig


def clipped_histogram(values: Sequence[FloatArray], *, bins: int = BINS
                      ) -> tuple[FloatArray, list[FloatArray]]:
    """Return common bin edges and the counts of each series of ``values``.

    The edges span the ``CLIP`` quantiles of all values together; values beyond them
    count in the first or last bar, so every account is counted once.

    Returns
    -------
    edges : FloatArray, shape (bins + 1,)
    counts : list of FloatArray, each shape (bins,)
    """
    pooled = np.concatenate([np.asarray(v, dtype=np.float64) for v in values])
    lo, hi = np.quantile(pooled, CLIP) if pooled.size else (0.0, 1.0)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    counts = [np.histogram(np.clip(v, lo, hi), bins=edges)[0].astype(np.float64)
              for v in values]
    return edges, counts


def capital_histogram(cf: CapitalFreed) -> go.Figure:
    """Histogram of the capital each arrangement frees per account."""
    edges, counts = clipped_histogram([cf.freed(a) for a in cf.arrangements])
    mids, width = (edges[:-1] + edges[1:]) / 2, float(edges[1] - edges[0])
    fig = go.Figure([go.Bar(x=mids, y=c, width=width, name=a, opacity=0.6,
                            marker_color=_COLOURS.get(a),
                            hovertemplate=f"{a}: %{{y:,.0f}} accounts around "
                                          f"%{{x:,.0f}} {cf.currency}<extra></extra>")
                     for a, c in zip(cf.arrangements, counts, strict=True)])
    fig.update_layout(barmode="overlay")
    fig.update_yaxes(type="log")
    return _layout(fig, title="Capital freed per account, against today's silos "
                              "(accounts on a log scale)",
                   x=f"capital freed ({cf.currency}; negative: more margin)", y="accounts")


def capital_ecdf(cf: CapitalFreed) -> go.Figure:
    """Empirical distribution of the share of its silo margin each account saves."""
    p = np.linspace(0.0, 1.0, ECDF_POINTS)
    fig = go.Figure([go.Scatter(x=np.quantile(share, p, method="inverted_cdf"), y=p,
                                mode="lines", name=a,
                                line={"color": _COLOURS.get(a), "shape": "hv"},
                                hovertemplate=f"{a}: %{{y:.0%}} of accounts save at most "
                                              "%{x:.1%} of their silo margin<extra></extra>")
                     for a in cf.arrangements if (share := cf.freed_share(a)).size])
    fig.update_xaxes(tickformat=".0%")
    fig.update_yaxes(tickformat=".0%")
    return _layout(fig, title="Share of accounts saving at most a given share of their "
                              "silo margin", x="capital freed / silo initial margin",
                   y="share of accounts")


def box_statistics(values: FloatArray, labels: np.ndarray) -> pd.DataFrame:
    """Return the box of each label: quartiles, whiskers at ``WHISKERS``, mean, count.

    The ``MAX_GROUPS - 1`` largest groups keep their label; the rest pool as ``other``.
    """
    frame = pd.DataFrame({"label": labels, "value": values})
    sizes = frame["label"].value_counts()
    if len(sizes) > MAX_GROUPS:
        keep = set(sizes.index[:MAX_GROUPS - 1])
        frame["label"] = frame["label"].where(frame["label"].isin(keep), "other")
    grouped = frame.groupby("label", sort=True)["value"]
    q = grouped.quantile(np.array([WHISKERS[0], 0.25, 0.5, 0.75, WHISKERS[1]])).unstack()
    q.columns = ["lowerfence", "q1", "median", "q3", "upperfence"]
    q["mean"] = grouped.mean()
    q["count"] = grouped.size()
    return q.sort_values("median", ascending=False)


def capital_by_label(cf: CapitalFreed, *, label: str, title: str) -> go.Figure:
    """Box chart of the capital freed per account by ``label``, one box per arrangement.

    The boxes span the quartiles and the whiskers the 5th to 95th percentiles.
    """
    fig = go.Figure()
    for a in cf.arrangements:
        stats = box_statistics(cf.freed(a), cf.accounts[label].to_numpy())
        names = [f"{k} ({int(n):,})" for k, n in zip(stats.index, stats["count"], strict=True)]
        fig.add_trace(go.Box(x=names, q1=stats["q1"], median=stats["median"],
                             q3=stats["q3"], lowerfence=stats["lowerfence"],
                             upperfence=stats["upperfence"], mean=stats["mean"], name=a,
                             marker_color=_COLOURS.get(a)))
    fig.update_layout(boxmode="group")
    return _layout(fig, title=title, x="accounts (count)",
                   y=f"capital freed per account ({cf.currency})", height=460)


def capital_split(cf: CapitalFreed) -> go.Figure:
    """Waterfall of the unified saving: each silo's change of model, the offset.

    Totals over accounts; the bars add up to the unified arrangement's capital freed.
    """
    split = cf.silo_split
    offset = float(cf.accounts["cross_silo_offset"].sum())
    names = [f"change of model: {s}" for s in split.index] + ["cross-silo offset"]
    values = [*split["change_of_model"].astype(float), offset]
    total = float(cf.accounts["freed_unified"].sum())
    fig = go.Figure(go.Waterfall(
        x=[*names, "capital freed"], y=[*values, total],
        measure=["relative"] * len(values) + ["total"], texttemplate="%{y:,.0f}",
        hovertemplate=f"%{{x}}: %{{y:,.0f}} {cf.currency}<extra></extra>"))
    return _layout(fig, title="The unified saving: change of model and cross-silo offset",
                   x="", y=f"total over accounts ({cf.currency})")


def backtest_series(bt: BacktestEvidence, *, currency: str) -> go.Figure:
    """Margin against the realised loss over time, one panel per model.

    The bars (right axis) count the accounts whose own loss exceeded their margin.
    """
    names = list(bt.series)
    fig = make_subplots(rows=len(names), cols=1, shared_xaxes=True, subplot_titles=names,
                        vertical_spacing=0.08 if len(names) > 1 else 0.0,
                        specs=[[{"secondary_y": True}] for _ in names])
    for row, name in enumerate(names, start=1):
        s, first = bt.series[name], row == 1
        fig.add_trace(go.Bar(x=s.index, y=s["exceptions"], name="accounts with an exception",
                             marker_color="#d62728", opacity=0.5, legendgroup="exceptions",
                             showlegend=first), row=row, col=1, secondary_y=True)
        fig.add_trace(go.Scatter(x=s.index, y=s["margin"], mode="lines", name="margin",
                                 line={"color": "#1f77b4"}, legendgroup="margin",
                                 showlegend=first), row=row, col=1)
        fig.add_trace(go.Scatter(x=s.index, y=s["loss"], mode="lines", name="realised loss",
                                 line={"color": "#7f7f7f", "width": 1},
                                 legendgroup="loss", showlegend=first), row=row, col=1)
        top = max(1, int(s["exceptions"].max()))
        fig.update_yaxes(title_text="accounts", row=row, col=1, secondary_y=True,
                         range=[0, top * 1.1], dtick=max(1, math.ceil(top / 4)),
                         tickformat=",d", showgrid=False)
        fig.update_yaxes(title_text=currency, row=row, col=1, secondary_y=False)
    fig = _layout(fig, title="Margin against the loss realised over the margin period of risk",
                  x="", y="", height=max(340, 260 * len(names)))
    fig.update_yaxes(title_text=currency, secondary_y=False)
    return fig


def procyclicality_series(pc: ProcyclicalityEvidence, *, currency: str) -> go.Figure:
    """Total margin over time for each variant (with and without each tool)."""
    fig = go.Figure([go.Scatter(x=pc.series.index, y=pc.series[c], mode="lines", name=str(c))
                     for c in pc.series.columns])
    return _layout(fig, title="Margin over time, with and without the anti-procyclicality "
                              "tools", x="date", y=f"total margin ({currency})")


def stress_uncovered(st: StressEvidence, *, currency: str) -> go.Figure:
    """Uncovered stressed loss per scenario (beyond margin and collateral), per model."""
    order = st.scenarios.sort_values("loss").index
    fig = go.Figure()
    for model in st.uncovered.index.unique("model"):
        u = st.uncovered.xs(model, level="model").reindex(order)
        fig.add_trace(go.Bar(
            x=u["uncovered"], y=[st.scenarios.loc[k, "title"] for k in order],
            orientation="h", name=str(model), marker_color=_COLOURS.get(str(model)),
            customdata=u["accounts_uncovered"],
            hovertemplate=f"{model}: %{{x:,.0f}} {currency} over %{{customdata:,}} "
                          "accounts<extra></extra>"))
    fig.update_layout(barmode="group")
    return _layout(fig, title="Losses beyond margin and collateral, per stress scenario",
                   x=f"uncovered loss ({currency})", y="",
                   height=max(360, 26 * len(order) * max(1, len(fig.data)) + 160))


def cover_bars(st: StressEvidence, *, currency: str) -> go.Figure:
    """Cover-2 per scenario and model, the two members named in the hover text."""
    order = st.scenarios.sort_values("loss", ascending=False).index
    fig = go.Figure()
    for model in st.uncovered.index.unique("model"):
        u = st.uncovered.xs(model, level="model").reindex(order)
        fig.add_trace(go.Bar(
            x=[st.scenarios.loc[k, "title"] for k in order], y=u["cover_2"], name=str(model),
            marker_color=_COLOURS.get(str(model)), customdata=u["cover_2_members"],
            hovertemplate=f"{model}: %{{y:,.0f}} {currency} (%{{customdata}})<extra></extra>"))
    fig.update_layout(barmode="group")
    return _layout(fig, title="Cover-2: the uncovered loss of the two largest members",
                   x="", y=f"Cover-2 ({currency})", height=460)


def report_figures(ev: Evidence) -> dict[str, go.Figure]:
    """Return every figure of the report by name, in page order (the PNG export's too).

    Sections that could not be computed have no figure.
    """
    cf, ccy = ev.capital, ev.population.currency
    out = {
        "capital_histogram": capital_histogram(cf),
        "capital_ecdf": capital_ecdf(cf),
        "capital_by_asset_class": capital_by_label(
            cf, label="asset_classes", title="Capital freed per account, by asset classes held"),
        "capital_by_strategy": capital_by_label(
            cf, label="strategy", title="Capital freed per account, by strategy"),
    }
    if "cross_silo_offset" in cf.accounts.columns:
        out["capital_split"] = capital_split(cf)
    if isinstance(ev.backtest, BacktestEvidence) and ev.backtest.series:
        out["backtest_series"] = backtest_series(ev.backtest, currency=ccy)
    if isinstance(ev.procyclicality, ProcyclicalityEvidence):
        out["procyclicality"] = procyclicality_series(ev.procyclicality, currency=ccy)
    if isinstance(ev.stress, StressEvidence):
        out["stress_uncovered"] = stress_uncovered(ev.stress, currency=ccy)
        out["cover"] = cover_bars(ev.stress, currency=ccy)
    return out
