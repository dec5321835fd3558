"""The allocator policy of :mod:`crossmargin.core.memory`."""

from __future__ import annotations

import platform
import sys

import pytest

from crossmargin.core import memory


def test_keep_freed_memory_sets_glibc_policy() -> None:
    """On Linux with glibc both mallopt calls succeed; elsewhere nothing is set."""
    glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert memory.keep_freed_memory() is glibc


def test_keep_freed_memory_is_a_no_op_off_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory.sys, "platform", "darwin")
    assert memory.keep_freed_memory() is False


def test_keep_freed_memory_without_a_c_library(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory.sys, "platform", "linux")
    monkeypatch.setattr(memory.ctypes.util, "find_library", lambda name: None)
    assert memory.keep_freed_memory() is False
