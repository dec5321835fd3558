"""The evidence report in a real headless Chromium: no JavaScript error, every chart drawn.

Needs Chromium and its driver (Debian: ``apt-get install chromium chromium-driver``);
without them the tests skip and say so. The browser resolves no host name, so anything
the page tried to load from a network would fail and show in its console log.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crossmargin.analytics.report.figures import report_figures
from crossmargin.analytics.report.html import FIGURE_CLASS, render_html
from crossmargin.analytics.report.png import PNG_SCALE, PNG_WIDTH, export_png
from tests.unit.test_report import CLI, report_evidence, write_population

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.service import Service  # noqa: E402

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser",
                                               "google-chrome")) if p), None)
DRIVER = shutil.which("chromedriver")
needs_browser = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="needs Chromium and chromedriver on PATH (Debian: apt-get install chromium "
           "chromium-driver)")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,2000", "--host-resolver-rules=MAP * ~NOTFOUND"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=opts)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _open(driver: object, path: Path) -> list[dict[str, object]]:
    """Load ``path`` and return the browser console entries it logged."""
    driver.get(path.resolve().as_uri())  # type: ignore[attr-defined]
    return list(driver.get_log("browser"))  # type: ignore[attr-defined]


@needs_browser
@pytest.mark.parametrize("full", [True, False], ids=["all-sections", "risk-missing"])
def test_report_opens_offline_without_errors_and_draws_every_chart(
        browser: object, tmp_path: Path, full: bool) -> None:
    ev = report_evidence(full=full)
    figures = report_figures(ev)
    page = tmp_path / "report.html"
    page.write_text(render_html(ev, figures=figures), encoding="utf-8")
    log = _open(browser, page)
    severe = [e for e in log if e.get("level") == "SEVERE"]
    assert severe == [], severe
    drawn = browser.execute_script(  # type: ignore[attr-defined]
        "return Array.from(document.querySelectorAll(arguments[0])).map(f => ["
        " f.dataset.name,"
        " f.querySelectorAll('.js-plotly-plot .main-svg').length,"
        " f.querySelectorAll('.js-plotly-plot g.trace').length,"
        " f.querySelectorAll('.js-plotly-plot g.trace path').length])",
        f"div.{FIGURE_CLASS}")
    assert [d[0] for d in drawn] == list(figures)
    for name, svgs, traces, marks in drawn:
        assert svgs >= 1, f"{name}: plotly drew no svg"
        assert traces >= 1 and marks >= traces, f"{name}: the plot area is empty"


@needs_browser
def test_png_export_writes_each_chart(tmp_path: Path) -> None:
    figures = report_figures(report_evidence())
    some = {k: figures[k] for k in ("capital_by_asset_class", "backtest_series")}
    paths = export_png(some, tmp_path / "png")
    assert [p.name for p in paths] == ["capital_by_asset_class.png", "backtest_series.png"]
    for p in paths:
        data = p.read_bytes()
        assert data[:8] == PNG_MAGIC
        assert int.from_bytes(data[16:20], "big") == PNG_WIDTH * PNG_SCALE  # IHDR width
    assert sorted(p.name for p in (tmp_path / "png").iterdir()) == sorted(
        p.name for p in paths)


@needs_browser
@pytest.mark.slow
def test_cli_report_with_png_dir_opens_in_the_browser(browser: object, tmp_path: Path
                                                       ) -> None:
    """The command end to end on a small population: the page it writes opens without
    an error and draws every chart, and the PNGs are the page's charts."""
    population = write_population(tmp_path / "pop.parquet")
    out, png_dir = tmp_path / "report.html", tmp_path / "slides"
    result = CliRunner().invoke(CLI, [
        "report", "--population", str(population), "--out", str(out), "--as-of",
        "2018-06-29", "--from", "2018-06-18", "--to", "2018-06-22", "--max-stale-days",
        "curve=500", "--png-dir", str(png_dir), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert all(v == "done" for v in doc["sections"].values())
    names = [Path(p).stem for p in doc["png"]]
    assert sorted(p.name for p in png_dir.iterdir()) == sorted(f"{n}.png" for n in names)
    assert {"backtest_series", "procyclicality", "stress_uncovered", "cover"} <= set(names)
    for path in doc["png"]:
        data = Path(path).read_bytes()
        assert data[:8] == PNG_MAGIC
        assert int.from_bytes(data[16:20], "big") == PNG_WIDTH * PNG_SCALE  # IHDR width
    log = _open(browser, out)
    assert [e for e in log if e.get("level") == "SEVERE"] == []
    drawn = browser.execute_script(  # type: ignore[attr-defined]
        "return Array.from(document.querySelectorAll(arguments[0])).map(f => ["
        " f.dataset.name, f.querySelectorAll('.js-plotly-plot g.trace').length])",
        f"div.{FIGURE_CLASS}")
    assert [d[0] for d in drawn] == names
    assert all(traces >= 1 for _, traces in drawn)
