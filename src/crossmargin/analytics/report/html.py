"""The evidence report as one self-contained HTML page.

The page carries its own style sheet and plotly.js (embedded once, before the first
figure), so it opens offline from a file and loads nothing from the network. Each
section starts with the supervisory question it answers, then its tables and figures;
a section that could not be computed says so and why.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TypeVar

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from crossmargin import __version__
from crossmargin.analytics.report.evidence import Evidence
from crossmargin.analytics.report.figures import report_figures
from crossmargin.analytics.report.sections import (
    BACKTEST_COLUMNS,
    BacktestEvidence,
    ProcyclicalityEvidence,
    StressEvidence,
    Unavailable,
)

__all__ = ["FIGURE_CLASS", "money", "render_html"]

#: Class of the element that holds each figure (the browser test counts them).
FIGURE_CLASS = "figure"
_PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}
_LIGHTS = {"green": "#2ca02c", "yellow": "#e3b505", "red": "#d62728"}

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
margin:0;color:#1b1b1b;background:#fafafa;line-height:1.45}
main{max-width:1120px;margin:0 auto;padding:24px 32px 64px;background:#fff}
h1{font-size:1.7em;margin:0 0 .2em}h2{margin-top:2.2em;border-bottom:2px solid #ddd;
padding-bottom:.2em}h3{margin-top:1.6em}
.question{background:#eef4fb;border-left:4px solid #1f77b4;padding:.6em 1em;margin:1em 0}
.unavailable{background:#fff4e5;border-left:4px solid #e3b505;padding:.6em 1em}
table{border-collapse:collapse;margin:.8em 0;font-size:.88em}
th,td{border:1px solid #ddd;padding:4px 8px;vertical-align:top}
th{background:#f2f2f2;text-align:left}td.num{text-align:right;font-variant-numeric:
tabular-nums;white-space:nowrap}
.light{display:inline-block;padding:1px 10px;border-radius:10px;color:#fff;font-weight:600}
.meta td:first-child{font-weight:600}nav ol{columns:2}
.figure{margin:1em 0}.scroll{overflow-x:auto}small,.note{color:#555}details{margin:1em 0}
"""

#: The page's sections, in order: id -> title.
_SECTIONS = {"capital": "Capital freed", "backtest": "Backtests",
             "procyclicality": "Procyclicality", "stress": "Stress and Cover-2",
             "provenance": "Parameters and data"}
_QUESTIONS = {
    "capital": (
        "How much capital would cross-margining free, for which accounts, and where does "
        "it come from? (SEC/CFTC joint request for comment, June 2026: cross-margining "
        "and cross-product offsets.) Each account is margined as today, silo by silo, "
        "then under the conservative-of-two rule and as one unified portfolio; the "
        "capital freed is the silo requirement less the arrangement's."),
    "backtest": (
        "Does the margin still cover the risk? Each day's margin, computed with only the "
        "data known that day, is set against the loss realised over the margin period of "
        "risk that followed; coverage of at least 99% is the CPMI-IOSCO standard "
        "(PFMI Principle 6). Kupiec tests the exception count, Christoffersen their "
        "independence; the Basel traffic light zones the count for 250 days."),
    "procyclicality": (
        "Does margin jump when markets are stressed, calling for cash when it is "
        "scarcest? The same model with and without the anti-procyclicality tools of EMIR "
        "RTS 153/2013 article 28 (a buffer, a weight on stressed observations, a floor "
        "at the ten-year look-back margin): the peak-to-trough ratio and the largest "
        "1-day and 5-day increases."),
    "stress": (
        "Could the clearing house withstand the default of its largest members in extreme "
        "but plausible markets? Historical and hypothetical scenarios give each "
        "account's loss beyond its margin and collateral; Cover-1 and Cover-2 are the "
        "uncovered losses of the one and two members with the largest (PFMI Principle "
        "4)."),
    "provenance": (
        "Where does every number come from? Each parameter set the computations used, "
        "with the document it cites, the market data with its source, licence and "
        "coverage, and every caveat the computations returned."),
}


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


Format = Callable[[object], str]
S = TypeVar("S")


def _real(value: object) -> float | None:
    """Return a table cell as a float; ``None`` where it is missing (NaN, None, text)."""
    if isinstance(value, int | float | np.integer | np.floating) and value == value:
        return float(value)
    return None


def money(value: object, currency: str) -> str:
    """Format an amount with its currency, whole units: ``USD 1,234,567``."""
    x = _real(value)
    return "-" if x is None else f"{currency} {x:,.0f}"


def _money(currency: str) -> Format:
    return functools.partial(money, currency=currency)


def _share(value: object) -> str:
    x = _real(value)
    return "-" if x is None else f"{x:.1%}"


def _number(value: object) -> str:
    x = _real(value)
    return "-" if x is None else f"{x:,.3f}"


def _count(value: object) -> str:
    x = _real(value)
    return "-" if x is None else f"{round(x):,}"


def _light(value: object) -> str:
    colour = _LIGHTS.get(str(value), "#7f7f7f")
    return f'<span class="light" style="background:{colour}">{_e(value)}</span>'


def _table(frame: pd.DataFrame, formats: Mapping[str, Format], *,
           index: str) -> str:
    """Return ``frame`` as an HTML table, each column formatted by ``formats``."""
    cols = [c for c in formats if c in frame.columns]
    head = "".join(f"<th>{_e(c.replace('_', ' '))}</th>" for c in [index, *cols])
    rows = []
    numeric = {c for c in cols if pd.api.types.is_numeric_dtype(frame[c])}
    for key, row in frame.iterrows():
        cells = "".join(f'<td class="num">{formats[c](row[c])}</td>' if c in numeric
                        else f"<td>{formats[c](row[c])}</td>" for c in cols)
        rows.append(f"<tr><td>{_e(key)}</td>{cells}</tr>")
    return (f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def _text_table(frame: pd.DataFrame, *, index: str) -> str:
    return _table(frame, {c: _e for c in frame.columns}, index=index)


def _figure(fig: go.Figure, name: str, *, first: bool) -> str:
    body = fig.to_html(full_html=False, include_plotlyjs=first, div_id=f"fig-{name}",
                       config=_PLOTLY_CONFIG)
    return f'<div class="{FIGURE_CLASS}" data-name="{_e(name)}">{body}</div>'


class _Figures:
    """Emit each figure once, plotly.js with the first."""

    def __init__(self, figures: Mapping[str, go.Figure]) -> None:
        self._figures = figures
        self._first = True

    def __call__(self, name: str) -> str:
        if name not in self._figures:
            return ""
        out = _figure(self._figures[name], name, first=self._first)
        self._first = False
        return out


def _heading(key: str) -> str:
    """Return a section's numbered title and the question it answers."""
    number = list(_SECTIONS).index(key) + 1
    return (f'<h2 id="{key}">{number}. {_e(_SECTIONS[key])}</h2>\n'
            f'<p class="question">{_e(_QUESTIONS[key])}</p>')


def _risk_section(key: str, section: S | Unavailable, body: Callable[[S], list[str]]
                  ) -> str:
    """Return a risk section: its body, or why it is not available."""
    if isinstance(section, Unavailable):
        return (f'{_heading(key)}\n<p class="unavailable">Not available: '
                f"{_e(section.reason)}</p>")
    return "\n".join([_heading(key), *body(section)])


def _capital(ev: Evidence, fig: _Figures) -> str:
    cf = ev.capital
    m, share, count = _money(cf.currency), _share, _count
    summary = _table(cf.summary(), {
        "accounts": count, "silo_total": m, "margin_total": m, "freed_total": m,
        "freed_share": share, "mean": m, "p5": m, "p25": m, "p50": m, "p75": m, "p95": m,
        "better": share, "worse": share}, index="arrangement")
    parts = [
        _heading("capital"),
        f"<p>Totals over the population and the distribution of the capital freed per "
        f"account (p5 ... p95: percentiles); <em>better</em> and <em>worse</em> are the "
        f"shares of accounts with less and with more margin than under the silos. "
        f"Amounts in {_e(cf.currency)}.</p>", summary,
        fig("capital_histogram"), fig("capital_ecdf"),
        "<h3>By asset class</h3><p>Accounts grouped by the asset classes they hold. "
        "Boxes span the quartiles, whiskers the 5th to 95th percentiles.</p>",
        fig("capital_by_asset_class")]
    for arr in cf.arrangements:
        parts.append(f"<p><small>{_e(arr)}</small></p>" + _table(
            cf.by_label("asset_classes", arr),
            {"accounts": count, "silo_total": m, "freed_total": m, "freed_share": share,
             "median": m}, index="asset classes"))
    parts += [f"<h3>By strategy</h3><p>Strategy labels: {_e(cf.strategy_source)}.</p>",
              fig("capital_by_strategy")]
    if "freed_unified" in cf.accounts.columns and "cross_silo_offset" in cf.accounts:
        parts += [
            "<h3>Where the unified saving comes from</h3><p>The capital the unified "
            "portfolio frees splits exactly into the change of model (each silo's own "
            "method against the unified model on the same positions) and the cross-silo "
            "offset (netting positions of different silos under one model).</p>",
            fig("capital_split"),
            _table(cf.silo_split, {"silo": m, "unified": m, "change_of_model": m},
                   index="silo")]
    return "\n".join(parts)


def _backtest(ev: Evidence, fig: _Figures) -> str:
    special: dict[str, Format] = {
        "observations": _count, "exceptions": _count, "coverage": _share,
        "traffic_light": _light, "worst_shortfall": _money(ev.population.currency)}
    formats: dict[str, Format] = {"mpor_days": _count}
    for c in BACKTEST_COLUMNS:
        formats[c] = special.get(c, _number)
        if c == "traffic_light":
            formats.update(dict.fromkeys(_LIGHTS, _count))

    def body(bt: BacktestEvidence) -> list[str]:
        return [
            f"<p>Window {ev.window[0]} to {ev.window[1]}; target coverage "
            f"{bt.confidence:.1%}. The statistics pool every account's days (observations "
            "and exceptions are account-days); the traffic light zones the pooled count "
            "of each account's most recent days; green, yellow and red count the "
            "accounts in each zone on their own. Worst shortfall: the largest loss "
            "beyond an account's margin (negative: the smallest cushion).</p>",
            _table(bt.table, formats, index="model"), fig("backtest_series"),
            _notes(bt.notes)]

    return _risk_section("backtest", ev.backtest, body)


def _procyclicality(ev: Evidence, fig: _Figures) -> str:
    m = _money(ev.population.currency)

    def body(pc: ProcyclicalityEvidence) -> list[str]:
        formats: dict[str, Format] = {"observations": _count, "peak": m, "trough": m,
                                      "peak_to_trough": _number}
        for n in pc.horizons:
            formats.update({f"increase_{n}d": _share, f"increase_{n}d_date": _e})
        return [
            "<p>The book's total margin each business day of the window under each "
            "arrangement, and the unified margin without its anti-procyclicality tools "
            "(the requirement less the tools' components). Peak to trough: the highest "
            "total over the lowest; increase over n days: the largest rise relative to "
            f"the margin n days before ({', '.join(str(n) for n in pc.horizons)} days). "
            "Each tool alone: crossmargin procyclicality.</p>",
            _table(pc.table, formats, index="model"), fig("procyclicality"),
            _notes(pc.notes)]

    return _risk_section("procyclicality", ev.procyclicality, body)


def _stress(ev: Evidence, fig: _Figures) -> str:
    m = _money(ev.population.currency)

    def body(st: StressEvidence) -> list[str]:
        members = (f"{st.members:,} clearing members" if ev.population.members
                   else f"no clearing members named: each of the {st.members:,} accounts "
                        "stands alone")
        return [
            f"<p>{_e(members)}. The largest Cover-1 and Cover-2 over the scenarios, by "
            "margin model:</p>",
            _table(st.cover, {"cover_1": m, "cover_1_scenario": _e, "cover_1_members": _e,
                              "cover_2": m, "cover_2_scenario": _e, "cover_2_members": _e},
                   index="model"),
            "<h3>Scenarios</h3>",
            _table(st.scenarios, {"title": _e, "kind": _e, "loss": m,
                                  "accounts_losing": _count}, index="scenario"),
            fig("stress_uncovered"), fig("cover"),
            "<details><summary>Uncovered loss and Cover-n by scenario and model</summary>",
            _table(st.uncovered.reset_index("model"), {
                "model": _e, "uncovered": m, "accounts_uncovered": _count, "cover_1": m,
                "cover_1_members": _e, "cover_2": m, "cover_2_members": _e},
                index="scenario"),
            "</details>", _notes(st.notes)]

    return _risk_section("stress", ev.stress, body)


def _notes(notes: tuple[str, ...]) -> str:
    if not notes:
        return ""
    items = "".join(f"<li>{_e(n)}</li>" for n in notes)
    return (f"<details><summary>{len(notes)} note{'s' * (len(notes) > 1)} from the "
            f'computations</summary><ul class="note">{items}</ul></details>')


def _provenance(ev: Evidence) -> str:
    pv = ev.provenance
    return "\n".join([
        _heading("provenance"),
        "<h3>Parameter sets</h3>", _text_table(pv.params, index="id"),
        "<h3>Market data</h3><p>Real daily history bundled with the engine; each series' "
        "source file, checksum and transformation are documented in the package's "
        "market data provenance file (market/data/PROVENANCE.md).</p>",
        f"<details><summary>{len(pv.series)} series</summary>"
        f"{_text_table(pv.series, index='series')}</details>",
        "<h3>Notes from the computations</h3>", _notes(pv.notes) or "<p>None.</p>"])


def _header(ev: Evidence) -> str:
    p = ev.population
    rows = [("population", p.source), ("as of", p.as_of.isoformat()),
            ("market", p.market), ("currency", p.currency),
            ("accounts", f"{p.accounts:,}"), ("positions", f"{p.positions:,}"),
            ("instruments", f"{p.instruments:,}"),
            ("clearing members", f"{p.members:,}" if p.members else "none named"),
            ("backtest window", f"{ev.window[0]} to {ev.window[1]}"),
            ("input hash (SHA-256)", p.input_hash),
            ("generated", f"crossmargin {__version__}, "
                          f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}")]
    meta = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in rows)
    missing = ev.unavailable()
    warn = "".join(f'<p class="unavailable">{_e(k)}: not available ({_e(v)})</p>'
                   for k, v in missing.items())
    nav = "".join(f'<li><a href="#{k}">{_e(t)}</a></li>' for k, t in _SECTIONS.items())
    return (f"<h1>Cross-margining: the evidence</h1><table class=\"meta\">{meta}</table>"
            f"{warn}<nav><ol>{nav}</ol></nav>")


def render_html(ev: Evidence, *, figures: Mapping[str, go.Figure] | None = None) -> str:
    """Return the report of ``ev`` as one self-contained HTML document.

    ``figures`` are those of :func:`~crossmargin.analytics.report.figures.report_figures`
    when already drawn (for the PNG export too).
    """
    fig = _Figures(report_figures(ev) if figures is None else figures)
    body = "\n".join([_header(ev), _capital(ev, fig), _backtest(ev, fig),
                      _procyclicality(ev, fig), _stress(ev, fig), _provenance(ev)])
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>Cross-margining evidence, {_e(ev.population.as_of)}</title>"
            f"<style>{_STYLE}</style></head><body><main>\n{body}\n</main></body></html>\n")
