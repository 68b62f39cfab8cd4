# Sauciens: every target bootstraps .venv from pyproject.toml first (only python3 and make needed).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CONFIG ?= config.toml

.PHONY: demo test run migrate locales bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m bot demo

test: $(STAMP)
	$(PY) -m pytest -q

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

clean:
	rm -rf $(VENV) .pytest_cache
