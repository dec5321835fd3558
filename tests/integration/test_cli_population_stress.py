"""``crossmargin population`` then ``crossmargin stress`` on its file, end to end."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from crossmargin.interfaces.cli.app import app

runner = CliRunner()


def test_population_file_stressed_with_cover_2(tmp_path: Path) -> None:
    book = tmp_path / "pop.parquet"
    made = runner.invoke(app, ["population", "--accounts", "300", "--as-of", "2016-06-30",
                               "--members", "6", "--seed", "3", "--out", str(book),
                               "--format", "json"])
    assert made.exit_code == 0, made.stdout
    assert book.is_file()
    result = runner.invoke(app, ["stress", str(book), "--as-of", "2016-06-30",
                                 "--method", "grid", "--format", "json"])
    assert result.exit_code == 0, result.stdout
    doc = json.loads(result.stdout)
    text = json.dumps(doc)
    assert "cover_2" in text and "cover_1" in text


def test_bench_stress_json() -> None:
    result = runner.invoke(app, ["bench", "stress", "--accounts", "200", "--members", "5",
                                 "--method", "grid", "--as-of", "2016-06-30"])
    assert result.exit_code == 0, result.stdout
    doc = json.loads(result.stdout)
    assert doc["accounts"] == 200 and doc["stress_seconds"] >= 0
    assert doc["cover_2"] >= doc["cover_1"] >= 0
