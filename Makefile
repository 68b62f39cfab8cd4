# Sauciens: every target bootstraps .venv first (only python3 and make needed): the exact versions
# pinned, with hashes, in requirements.lock, then the project itself (editable, no dependencies).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
LOCK := requirements.lock
LOCKED := $(VENV)/.locked
STAMP := $(VENV)/.installed
CONFIG ?= config.toml
# pip-compile keeps the pins already in its output file; the lock is replaced only if it changed
# (a rewritten but equal lock would rebuild the venv for nothing).
PIP_COMPILE = cp $(LOCK) $(LOCK).new && CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile --quiet \
	--generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
	--extra test --extra dev -o $(LOCK).new pyproject.toml

.PHONY: demo test lint lock lock-upgrade run migrate locales bench bench-roster clean

# A changed lock file rebuilds the venv from scratch, so nothing unpinned is left over.
$(LOCKED): $(LOCK)
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r $(LOCK)
	touch $(LOCKED)

$(STAMP): $(LOCKED) pyproject.toml
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m bot demo

test: $(STAMP)
	$(PY) -m pytest -q

# ruff (lint and format) and mypy (strict for bot/domain, bot/application, db; see pyproject.toml).
# All three run; the target fails if any does.
lint: $(STAMP)
	@status=0; \
	$(VENV)/bin/ruff check . || status=1; \
	$(VENV)/bin/ruff format --check . || status=1; \
	$(VENV)/bin/mypy || status=1; \
	exit $$status

# After changing dependencies in pyproject.toml: re-resolve, keeping every other pin as it is.
lock: $(STAMP)
	$(PIP_COMPILE)
	@if cmp -s $(LOCK).new $(LOCK); then rm $(LOCK).new; echo "$(LOCK) unchanged"; else mv $(LOCK).new $(LOCK); fi

# Move every pin to the newest release the constraints in pyproject.toml allow.
lock-upgrade: $(STAMP)
	$(PIP_COMPILE) --upgrade
	@if cmp -s $(LOCK).new $(LOCK); then rm $(LOCK).new; echo "$(LOCK) unchanged"; else mv $(LOCK).new $(LOCK); fi

run: $(STAMP)
	$(PY) -m bot --config $(CONFIG) run

migrate: $(STAMP)
	$(PY) -m bot --config $(CONFIG) migrate

# Developers: after changing user-facing strings, re-extract and merge into both catalogs,
# then translate the new entries in locales/lv (a test fails while any is missing).
locales: $(STAMP)
	$(VENV)/bin/pybabel extract --no-location --sort-output -k _ -k n_:1,2 -k N_ \
		-o locales/messages.pot bot handlers
	$(PY) -m bot.i18n_tools update

bench: $(STAMP)
	$(PY) -m bench.delivery

bench-roster: $(STAMP)
	$(PY) -m bench.roster

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build sauciens.egg-info
