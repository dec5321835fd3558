"""Errors that name what was wrong, where it was and which value caused it."""

from __future__ import annotations

__all__ = ["CrossmarginError", "InputError", "MissingDataError"]


class CrossmarginError(Exception):
    """Base class of every error the engine raises on purpose."""


class InputError(CrossmarginError, ValueError):
    """Bad input: names the file, the field and the offending value in one line.

    Parameters
    ----------
    reason : str
        What is wrong, in a few words ("must be positive", "unknown type").
    source : str, optional
        The file (or other origin) the value came from.
    field : str, optional
        Dotted path of the field, e.g. ``accounts[0].positions[2].strike``.
    value : object, optional
        The offending value, shown with ``repr``.
    """

    def __init__(
        self,
        reason: str,
        *,
        source: str | None = None,
        field: str | None = None,
        value: object = None,
        has_value: bool | None = None,
    ) -> None:
        self.reason = reason
        self.source = source
        self.field = field
        self.value = value
        self.has_value = value is not None if has_value is None else has_value
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """Return the message as one line: ``file: field=value: reason``."""
        where = []
        if self.source:
            where.append(str(self.source))
        if self.field:
            where.append(
                f"{self.field}={self.value!r}" if self.has_value else str(self.field)
            )
        text = ": ".join([*where, self.reason])
        return " ".join(text.split())

    def located(self, source: str) -> InputError:
        """Return a copy of this error that names ``source`` as its origin."""
        return InputError(
            self.reason,
            source=source,
            field=self.field,
            value=self.value,
            has_value=self.has_value,
        )


class MissingDataError(InputError):
    """A price, volatility, curve or rate needed to value a held instrument is missing."""
