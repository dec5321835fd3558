"""``crossmargin margin --method span --span-file FILE`` end to end."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from typer.testing import CliRunner

from crossmargin.bench.span import run_span_bench
from crossmargin.interfaces.cli.app import app
from tests.conftest import make_market

DATA = Path(__file__).parents[1] / "data" / "span"
runner = CliRunner()

PORTFOLIO = """\
currency: USD
accounts:
  - id: SPREAD
    positions:
      - {type: future, symbol: CN6, underlying: C, expiry: 2026-07-14, multiplier: 5000,
         quantity: 2}
      - {type: future, symbol: SN6, underlying: S, expiry: 2026-07-14, multiplier: 5000,
         quantity: -1}
  - id: MIXED
    positions:
      - {type: future, symbol: SN6, underlying: S, expiry: 2026-07-14, multiplier: 5000,
         quantity: 1}
      - {type: equity, symbol: AAPL, quantity: 10}
"""


def _portfolio(tmp_path: Path, text: str = PORTFOLIO) -> Path:
    path = tmp_path / "book.yaml"
    path.write_text(text)
    return path


def test_margin_json_with_the_file_as_market(tmp_path: Path) -> None:
    result = runner.invoke(app, ["margin", str(_portfolio(tmp_path)), "--method", "span",
                                 "--span-file", str(DATA / "cme_inter.spn"),
                                 "--format", "json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["as_of"] == "2026-03-02"
    spread, mixed = doc["accounts"]
    (m,) = spread["methods"]
    assert m["method"] == "span" and m["maintenance_margin"] == 2700.0
    assert m["initial_margin"] == 2970.0
    assert m["components"]["inter_spread_credit"] == 3300.0
    assert set(m["components"]["groups"]) == {"C", "S"}
    assert m["detail"]["combined_commodities"]["C"]["scenario"] == 13
    assert "cme_inter.spn" in m["params"]["source"]
    assert mixed["methods"][0]["maintenance_margin"] == 2500.0
    assert any("outside its scope" in n and "AAPL" in n for n in doc["notes"])


def test_margin_table(tmp_path: Path) -> None:
    result = runner.invoke(app, ["margin", str(_portfolio(tmp_path)), "--method", "span",
                                 "--span-file", str(DATA / "cme_inter.spn")])
    assert result.exit_code == 0, result.stderr
    assert "SPREAD" in result.stdout and "2,700.00" in result.stdout


def test_bad_invocations_exit_2_with_one_line(tmp_path: Path) -> None:
    book = str(_portfolio(tmp_path))
    for args, message in (
        (["--method", "span"], "--span-file"),
        (["--span-file", str(DATA / "cme_inter.spn")], "--span-file"),
        (["--method", "span", "--span-file", str(tmp_path / "none.spn")], "file not found"),
        (["--method", "span", "--span-file", str(DATA / "cme_intra.spn")],
         "instrument='CN6': no product C"),
    ):
        result = runner.invoke(app, ["margin", book, *args, "--format", "json"])
        assert result.exit_code == 2, (args, result.stdout)
        assert result.stderr.count("\n") == 1 and message in result.stderr
        assert "Traceback" not in result.stderr


def test_margin_reads_the_file_zipped_as_published(tmp_path: Path) -> None:
    zipped = tmp_path / "cme.20260302.s.spn.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(DATA / "cme_inter.spn", "cme.20260302.s.spn")
    result = runner.invoke(app, ["margin", str(_portfolio(tmp_path)), "--method", "span",
                                 "--span-file", str(zipped), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    (m,) = json.loads(result.stdout)["accounts"][0]["methods"]
    assert m["maintenance_margin"] == 2700.0 and "spn.zip" in m["params"]["source"]
    zipped.write_bytes(zipped.read_bytes()[:100])
    result = runner.invoke(app, ["margin", str(_portfolio(tmp_path)), "--method", "span",
                                 "--span-file", str(zipped), "--format", "json"])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "corrupt archive" in result.stderr


def test_span_bench_report_shape(tmp_path: Path) -> None:
    doc = run_span_bench(products=30, futures=3, options=2, repeats=1, directory=tmp_path)
    assert doc["products"] == 30 and doc["portfolios"] == 60 and doc["contracts"] == 150
    assert doc["round_trip_equal"] is True and doc["within_limit"] is None
    for key in ("file_mb", "parse_seconds", "peak_parse_mb", "model_mb",
                "contracts_per_second", "expat_seconds", "tree_alone_seconds",
                "iterparse_alone_seconds", "parse_vs_tree_alone", "parse_vs_iterparse_alone"):
        assert doc[key] > 0, key
    assert doc["transient_mb"] >= 0
    assert list(tmp_path.iterdir()) == []


def test_without_a_file_span_publishes_for_the_book() -> None:
    """``method_for`` builds span for a book without a file: it publishes risk parameters
    for the book's futures from the market, so a silo can be SPAN-margined."""
    from crossmargin.book.io import read_nested
    from crossmargin.methods.registry import method_for

    book = read_nested({"accounts": [{"id": "A", "positions": [
        {"type": "future", "symbol": "BTCU8", "underlying": "BTC", "expiry": "2018-09-28",
         "quantity": 1}]}]}, as_of=None)
    method = method_for("span", book, make_market())
    result = method.compute(book, make_market())
    assert result.initial_margin[0] > 0
