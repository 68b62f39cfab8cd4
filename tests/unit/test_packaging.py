"""The wheel works on its own: built from a copy of the project, installed into a fresh venv,
run from an unrelated folder, it has its catalogues (both languages), reference data and
migrations, and the ``sauciens`` console script.

The new venv has no pip and no packages of its own: a ``.pth`` file puts this environment's
site-packages after its own for the dependencies (only its directory, so the editable install of
the checkout there is not activated), and this environment's pip installs the wheel into it."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
# What the wheel is built from; everything else in the checkout (tests, bench) stays out.
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "bot", "handlers", "db", "locales")
MIGRATIONS = len(list((ROOT / "db" / "migrations").glob("[0-9][0-9][0-9][0-9]_*.sql")))


@dataclass(frozen=True)
class Installed:
    venv: Path
    python: Path
    script: Path
    cwd: Path  # an unrelated empty folder to run in

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SAUCIENS_", "PYTHON"))}
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        return env

    def run(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(a) for a in args], cwd=self.cwd, env=self.env(), capture_output=True, text=True, timeout=60
        )

    def python_c(self, code: str) -> str:
        done = self.run(self.python, "-c", textwrap.dedent(code))
        assert done.returncode == 0, done.stderr
        return done.stdout


def _pip(*args: str | Path, cwd: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--quiet", "--disable-pip-version-check", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    tmp = tmp_path_factory.mktemp("packaging")
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, src / name)
    # Without build isolation the build uses this environment's (locked) setuptools: no network.
    _pip("wheel", "--no-deps", "--no-index", "--no-build-isolation", "-w", tmp / "dist", src, cwd=tmp)
    (wheel,) = (tmp / "dist").glob("sauciens-*.whl")

    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True, timeout=60)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n", "utf-8")
    _pip("--python", python, "install", "--no-deps", "--no-index", wheel, cwd=tmp)

    cwd = tmp / "elsewhere"
    cwd.mkdir()
    return Installed(venv=venv, python=python, script=venv / "bin" / "sauciens", cwd=cwd)


def test_the_installed_code_is_the_wheels(installed: Installed) -> None:
    out = installed.python_c(
        """
        import bot, db, handlers, locales
        for m in (bot, db, handlers, locales):
            print(m.__file__)
        """
    )
    files = [Path(line) for line in out.split()]
    assert len(files) == 4
    for f in files:
        assert f.is_relative_to(installed.venv), f"{f} is not from the installed wheel"


def test_console_script_help(installed: Installed) -> None:
    done = installed.run(installed.script, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: sauciens ")
    for command in ("run", "migrate", "demo", "volunteers", "alerts"):
        assert command in done.stdout


def test_console_script_migrates_a_database_from_any_folder(installed: Installed) -> None:
    (installed.cwd / "cfg.toml").write_text('[database]\npath = "var/bot.sqlite3"\n', "utf-8")
    done = installed.run(installed.script, "--config", "cfg.toml", "migrate")
    assert done.returncode == 0, done.stderr
    assert f"{MIGRATIONS} migration(s) applied" in done.stdout
    assert (installed.cwd / "var" / "bot.sqlite3").stat().st_size > 0
    again = installed.run(installed.script, "--config", "cfg.toml", "migrate")
    assert again.returncode == 0, again.stderr
    assert "0 migration(s) applied" in again.stdout


def _latvian_samples(count: int) -> dict[str, str]:
    """A few singular messages whose Latvian text differs from the English msgid."""
    with (ROOT / "locales" / "lv" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="lv")
    found = {
        m.id: m.string
        for m in catalog
        if isinstance(m.id, str) and m.id and isinstance(m.string, str) and m.string and m.string != m.id
    }
    assert len(found) >= count
    return dict(sorted(found.items())[:count])


def test_translations_in_both_languages(installed: Installed) -> None:
    samples = _latvian_samples(5)
    out = installed.python_c(
        f"""
        import json
        from bot.i18n import translator
        ids = {list(samples)!r}
        print(json.dumps({{lang: [translator(lang)._(i) for i in ids] for lang in ("lv", "en")}}))
        """
    )
    got = json.loads(out)
    assert got["lv"] == list(samples.values())
    assert got["en"] == list(samples)


def test_reference_data_and_migrations(installed: Installed) -> None:
    data = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "bot" / "data").iterdir() if p.is_file())
    migrations = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "db" / "migrations").glob("*.sql"))
    assert len(data) >= 2
    assert len(migrations) == MIGRATIONS
    out = installed.python_c(
        f"""
        import hashlib
        from importlib.resources import files
        from bot.domain.skills import skills
        for name in {data + migrations!r}:
            package, _, rest = name.partition("/")
            print(name, hashlib.sha256(files(package).joinpath(rest).read_bytes()).hexdigest())
        print("skills", len(skills()))
        """
    )
    lines = dict(line.split(" ", 1) for line in out.splitlines())
    for name in data + migrations:
        assert lines[name] == hashlib.sha256((ROOT / name).read_bytes()).hexdigest(), name
    with (ROOT / "bot" / "data" / "skills.csv").open(encoding="utf-8") as fh:
        assert int(lines["skills"]) == sum(1 for _ in csv.DictReader(fh)) > 0
