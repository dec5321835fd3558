"""Turn engine errors into one line on stderr and a non-zero exit code."""

from __future__ import annotations

import functools
import os
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import ParamSpec, TypeVar

import typer

from crossmargin.core.errors import CrossmarginError, InputError

__all__ = ["EXIT_BAD_INPUT", "EXIT_INTERNAL", "guarded", "write_atomically"]

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 1

P = ParamSpec("P")
R = TypeVar("R")


def guarded(func: Callable[P, R]) -> Callable[P, R]:
    """Run a command; bad input exits 2 with one line, a bug exits 1 with one line.

    Set ``CROSSMARGIN_DEBUG=1`` to see the traceback of an internal error.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except CrossmarginError as err:
            print(f"error: {err}", file=sys.stderr)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as err:
            if os.environ.get("CROSSMARGIN_DEBUG"):
                raise
            text = " ".join(str(err).split()) or type(err).__name__
            print(f"internal error: {type(err).__name__}: {text}", file=sys.stderr)
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper


def distinct(values: list[str] | None, *, field: str) -> list[str]:
    """Return the names given to a repeatable option, refusing one given twice.

    A name given twice would run its method or arrangement twice.

    Raises
    ------
    InputError
        A name given twice, named with ``field`` (the option).
    """
    seen: set[str] = set()
    for value in values or []:
        if value in seen:
            raise InputError("given twice", field=field, value=value)
        seen.add(value)
    return list(values or [])


def write_atomically(path: Path, text: str | Iterable[str]) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename (never half-written).

    ``text`` may come in pieces (an iterable of str), written as they come: an error
    while they are produced leaves no file behind. The file gets the permissions a new
    file gets under the process's umask.

    Raises
    ------
    InputError
        The path cannot be written (a directory, a parent that is a file, no
        permission): one line naming the path.
    """
    if path.is_dir():
        raise InputError("is a directory, not a file", field="--out", value=str(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise _unwritable(path, exc) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.writelines([text] if isinstance(text, str) else text)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _unwritable(path, exc) from None
        raise


def _unwritable(path: Path, exc: OSError) -> InputError:
    return InputError(f"cannot write here: {exc.strerror or exc}", field="--out",
                      value=str(path))


def _umask() -> int:
    """Return the process's umask (reading it means setting it; it is set back at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
