"""The files in deploy/ say what the README says they do: the systemd unit, the Dockerfile, the
compose file and the service's configuration (Docker cannot run here; these read the files)."""

from __future__ import annotations

import os
import re
import shlex
import tomllib
from pathlib import Path

import pytest

from bot.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
STATE = Path("/var/lib/sauciens")


def unit() -> dict[str, dict[str, list[str]]]:
    """The unit's sections as key -> every value given (systemd allows repeated keys)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in (DEPLOY / "sauciens.service").read_text("utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        assert current is not None, f"a setting before any section: {line}"
        key, _, value = line.partition("=")
        current.setdefault(key, []).append(value)
    return sections


def one(section: dict[str, list[str]], key: str) -> str:
    values = section.get(key)
    assert values is not None and len(values) == 1, f"{key}: {values}"
    return values[0]


def test_the_systemd_unit_runs_the_bot_as_its_own_user_with_its_state_directory():
    u = unit()
    assert set(u) == {"Unit", "Service", "Install"}
    s = u["Service"]
    assert one(s, "User") == "sauciens" and one(s, "Group") == "sauciens"
    assert one(s, "StateDirectory") == "sauciens"
    exec_start = shlex.split(one(s, "ExecStart"))
    assert exec_start[0] == "/opt/sauciens/.venv/bin/sauciens"  # `make .venv/.installed` in /opt/sauciens
    assert exec_start[1:] == ["--config", "/etc/sauciens/config.toml", "run"]
    assert one(s, "Restart") == "on-failure"
    assert one(s, "RestartPreventExitStatus") == "2"  # the CLI's exit status for configuration errors
    assert one(s, "KillSignal") == "SIGTERM"
    assert 10 < int(one(s, "TimeoutStopSec")) <= 120
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "CapabilityBoundingSet": "",
        "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    }.items():
        assert one(s, key) == value, key
    assert one(u["Install"], "WantedBy") == "multi-user.target"
    assert "network-online.target" in one(u["Unit"], "After")


def test_the_service_configuration_puts_the_database_in_the_state_directory(monkeypatch):
    config = DEPLOY / "config.toml"
    assert "token" not in tomllib.loads(config.read_text("utf-8")).get("telegram", {})  # from the environment
    for key in [k for k in os.environ if k.startswith("SAUCIENS_")]:
        monkeypatch.delenv(key)
    settings = load_settings(config, required=True)
    assert settings.database.path == STATE / "sauciens.sqlite3"
    assert settings.telegram.token is None
    monkeypatch.setenv("SAUCIENS_TELEGRAM__TOKEN", "123456:ABCdefGHIjklMNOpqr")
    monkeypatch.setenv("SAUCIENS_ACCESS__ADMIN_IDS", "[12345]")
    settings = load_settings(config, required=True)
    assert settings.require_token() == "123456:ABCdefGHIjklMNOpqr" and settings.access.admin_ids == [12345]
    example = dict(
        line.split("=", 1) for line in (DEPLOY / "sauciens.env.example").read_text("utf-8").splitlines() if "=" in line
    )
    assert set(example) == {"SAUCIENS_TELEGRAM__TOKEN", "SAUCIENS_ACCESS__ADMIN_IDS"}


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments left out."""
    text = re.sub(r"\\\n\s*", " ", (DEPLOY / "Dockerfile").read_text("utf-8"))
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, args = line.partition(" ")
            found.append((instruction.upper(), args.strip()))
    return found


def test_the_dockerfile_installs_the_locked_dependencies_then_the_project_and_runs_as_a_user():
    steps = dockerfile()
    assert steps[0] == ("FROM", "python:3.11-slim")
    runs = [args for ins, args in steps if ins == "RUN"]
    locked = next(i for i, r in enumerate(runs) if "requirements.lock" in r)
    assert "--require-hashes -r /tmp/requirements.lock" in runs[locked]
    project = next(i for i, r in enumerate(runs) if "--no-deps" in r)
    assert locked < project and "--no-build-isolation" in runs[project]
    # everything it copies exists (the build context is the repository's root)
    for ins, args in steps:
        if ins == "COPY":
            *sources, _target = args.split()
            for source in sources:
                assert (ROOT / source).exists(), source
    # what the wheel needs is copied: the same sources tests/unit/test_packaging.py builds from
    copied = {s for ins, a in steps if ins == "COPY" for s in a.split()[:-1]}
    assert {"pyproject.toml", "README.md", "LICENSE", "bot", "handlers", "db", "locales"} <= copied
    users = [args for ins, args in steps if ins == "USER"]
    assert users == ["sauciens"]
    assert ("VOLUME", str(STATE)) in steps
    assert ("STOPSIGNAL", "SIGTERM") in steps
    assert steps[-1] == ("CMD", '["sauciens", "--config", "/config/config.toml", "run"]')
    assert ("COPY", "deploy/config.toml /config/config.toml") in steps


def test_the_docker_ignore_file_keeps_what_the_dockerfile_copies():
    rules = [
        line.strip()
        for line in (DEPLOY / "Dockerfile.dockerignore").read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert rules[0] == "*"
    kept = {r[1:] for r in rules if r.startswith("!")}
    copied = {s for ins, a in dockerfile() if ins == "COPY" for s in a.split()[:-1]}
    assert copied <= kept


def compose_lines() -> list[str]:
    return [line.rstrip() for line in (DEPLOY / "compose.yaml").read_text("utf-8").splitlines()]


def test_the_compose_file_keeps_the_database_in_a_volume_and_the_token_in_the_environment():
    # No YAML parser among the dependencies: the settings are checked line by line.
    active = [line for line in compose_lines() if line.strip() and not line.lstrip().startswith("#")]
    text = "\n".join(active)
    assert "services:\n  sauciens:\n" in text
    assert "    build:\n      context: ..\n      dockerfile: deploy/Dockerfile\n" in text
    assert (DEPLOY / ".." / "deploy" / "Dockerfile").is_file()
    assert "    restart: unless-stopped" in active
    assert "    stop_signal: SIGTERM" in active
    assert "      - sauciens-data:/var/lib/sauciens" in active
    assert text.endswith("volumes:\n  sauciens-data:")
    token = next(line for line in active if "SAUCIENS_TELEGRAM__TOKEN:" in line)
    assert "${SAUCIENS_TELEGRAM__TOKEN:?" in token  # required, never written in the file
    assert not any(re.search(r"\d+:[A-Za-z0-9_-]{20,}", line) for line in compose_lines())
    assert "ports:" not in text  # metrics stay unpublished unless the operator uncomments them
    assert any(line.strip().startswith('#   - "127.0.0.1:9464:9464"') for line in compose_lines())
    assert "stop_grace_period: 30s" in text


@pytest.mark.parametrize("name", ["sauciens.service", "Dockerfile", "compose.yaml", "config.toml"])
def test_deploy_files_have_no_secrets(name):
    text = (DEPLOY / name).read_text("utf-8")
    assert not re.search(r"\b\d{6,}:[A-Za-z0-9_-]{30,}\b", text)
