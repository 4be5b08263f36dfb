# POS Member — the two commands of the README, and a few for developers.
#   make demo   install, create the demo store, open the till
#   make test   install (with system packages), run the whole suite and the linter
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
ARGS   ?=

.PHONY: demo test run lint i18n bench screenshots clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

# dev includes the [server] extra (FastAPI, uvicorn, psycopg); a till needs only the base.
$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

demo: $(VENV)/.installed
	scripts/system-deps.sh
	scripts/with-keyring.sh $(BIN)/pos-member demo $(ARGS)

run: $(VENV)/.installed
	scripts/with-keyring.sh $(BIN)/pos-member run $(ARGS)

test: $(VENV)/.installed-dev
	scripts/system-deps.sh
	$(BIN)/ruff check .
	POS_MEMBER_REQUIRE_KEYRING=1 POS_MEMBER_REQUIRE_POSTGRES=1 scripts/with-keyring.sh $(BIN)/python -m pytest $(ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

i18n: $(VENV)/.installed
	$(BIN)/python scripts/i18n.py

bench: $(VENV)/.installed-dev
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
