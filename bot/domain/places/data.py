"""The package data files (``bot/data/*.csv``) that places are built from."""

from __future__ import annotations

import csv
import io
from importlib import resources


def read_rows(name: str) -> list[dict[str, str]]:
    """The rows of ``bot/data/<name>`` (UTF-8 CSV with a header line) as dicts."""
    text = resources.files("bot").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))
