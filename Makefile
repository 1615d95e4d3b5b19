# Two commands: `make run` serves the demo, `make test` checks everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: setup run test lint fmt suite messages bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/xietong run

test: setup lint suite

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

suite: setup
	@[ -x /usr/bin/chromium ] || echo "note: browser tests skip: Chromium not found at /usr/bin/chromium"
	@fc-list :lang=zh family 2>/dev/null | grep -q . || echo "note: PDF tests skip: no Chinese font (Debian: fonts-noto-cjk)"
	@$(BIN)/python -c "import cairosvg" 2>/dev/null || echo "note: chart PNG/PDF tests skip: no cairo library (Debian: libcairo2)"
	@command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ] || echo "note: the several-servers test skips: redis-server not found (Debian: redis-server)"
	@[ -n "$$TEST_DATABASE_URL" ] || echo "note: PostgreSQL not tested: TEST_DATABASE_URL is not set (SQLite only)"
	$(BIN)/pytest

fmt: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Re-extract messages into both catalogs, keeping every translation already there.
messages: setup
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k Invalid -k NotFound -k Forbidden -k Conflict \
		-k Throttled -k Unavailable -k DomainError -k fail:2 -k gettext -k ngettext:1,2 -k translate:2 -k _ \
		--no-location --no-wrap --sort-output -o server/locale/messages.pot .
	$(BIN)/pybabel update -i server/locale/messages.pot -d server/locale --no-fuzzy-matching --no-wrap
	rm server/locale/messages.pot

bench: setup
	$(BIN)/python bench/cpm.py
	$(BIN)/python bench/sqlite_locking.py
	$(BIN)/python bench/plan_500.py
	$(BIN)/python bench/requirements.py
	$(BIN)/python bench/snapshots.py
	$(BIN)/python bench/updates.py
	$(BIN)/python bench/meeting_fanout.py
	$(BIN)/python bench/hardening.py
	$(BIN)/python bench/change_impact.py
	$(BIN)/python bench/operations.py
	$(BIN)/python bench/dates.py
	$(BIN)/python bench/plan_import.py 5000 300
	$(BIN)/python bench/reads.py

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
