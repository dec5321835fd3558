"""The console script's exit codes and its one-line usage errors."""

from __future__ import annotations

import sys

import pytest

from crossmargin.interfaces.cli.app import main


def _run(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(sys, "argv", ["crossmargin", *argv])
    with pytest.raises(SystemExit) as stop:
        main()
    code = stop.value.code
    assert isinstance(code, int)
    return code


@pytest.mark.parametrize(("argv", "message"), [
    (["backtest", "book.yaml", "--mpor-days", "0"],
     "crossmargin backtest: Invalid value for '--mpor-days'"),
    (["margin", "book.yaml", "--format", "xml"],
     "crossmargin margin: Invalid value for '--format'"),
    (["margin", "--bogus"], "crossmargin margin: No such option: --bogus"),
    (["nosuch"], "crossmargin: No such command 'nosuch'"),
    (["bench", "span", "--products", "0"], "crossmargin bench span: Invalid value"),
])
def test_usage_errors_are_one_line_and_exit_2(argv: list[str], message: str,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(argv, monkeypatch) == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err.count("\n") == 1 and out.err.startswith(message), out.err
    assert out.err.rstrip().endswith("--help)")


def test_help_exits_0_and_no_arguments_show_it_and_exit_2(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["--help"], monkeypatch) == 0
    assert "Usage: crossmargin" in capsys.readouterr().out
    assert _run([], monkeypatch) == 2
    out = capsys.readouterr()
    assert "Usage: crossmargin" in out.out and out.err == ""


def test_bad_input_still_names_the_file(monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["margin", "no-such-book.yaml"], monkeypatch) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no-such-book.yaml: file not found" in err


@pytest.mark.parametrize("argv", [
    ["margin", "DEMO", "--method", "grid", "--method", "grid"],
    ["compare", "DEMO", "--arrangement", "unified", "--arrangement", "unified"],
    ["procyclicality", "DEMO", "--from", "2018-01-02", "--to", "2018-02-01",
     "--method", "grid", "--method", "grid"],
])
def test_a_name_given_twice_is_refused(argv: list[str], monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    from crossmargin.examples import demo_portfolio_path

    argv = [str(demo_portfolio_path()) if a == "DEMO" else a for a in argv]
    assert _run(argv, monkeypatch) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "given twice" in err and "--" in err, err
