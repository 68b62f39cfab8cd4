"""Cells that a person typed, written to CSV files that coordinators open in a spreadsheet:
a cell that starts like a formula (``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is
prefixed with ``'`` so that the spreadsheet shows it as text instead of running it. One rule,
for every export (the alert export and the volunteer list)."""

from __future__ import annotations

__all__ = ["neutralise", "restore"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """``value`` as a cell no spreadsheet runs as a formula (a leading ``'`` is doubled, so
    that :func:`restore` gives back exactly ``value``)."""
    if value.startswith(_FORMULA_START) or value.startswith("'"):
        return "'" + value
    return value


def restore(value: str) -> str:
    """The value of a cell written by :func:`neutralise`."""
    if len(value) > 1 and value[0] == "'" and (value[1] in "=+-@'" or value[1] in "\t\r"):
        return value[1:]
    return value
