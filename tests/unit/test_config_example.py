"""config.example.toml documents every setting and loads as it is."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel

from bot.settings import Settings, load_settings

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def test_example_documents_every_key_and_loads():
    data = tomllib.loads(EXAMPLE.read_text("utf-8"))
    for section, field in Settings.model_fields.items():
        model = field.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        assert section in data, section
        assert set(data[section]) == set(model.model_fields), section
    settings = load_settings(EXAMPLE, required=True)
    assert settings.broadcast.messages_per_second == 30
