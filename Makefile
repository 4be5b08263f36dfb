# POS Member — the two commands of the README, and a few for developers.
#   make demo   install, create the demo store, open the till
#   make test   install (with system packages), build the bundle, run the whole suite and the linter
#   make bundle the till's one-folder bundle a store installs (dist/pos-member, build.spec)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
ARGS   ?=

.PHONY: demo test run lint i18n bench screenshots clean bundle

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

# The suite runs the built bundle headless (tests/test_bundle.py): a missing data file or hidden
# import fails it.
test: $(VENV)/.installed-dev
	scripts/system-deps.sh
	$(BIN)/ruff check .
	$(BIN)/python scripts/bundle.py
	POS_MEMBER_REQUIRE_KEYRING=1 POS_MEMBER_REQUIRE_POSTGRES=1 POS_MEMBER_REQUIRE_BUNDLE=1 scripts/with-keyring.sh $(BIN)/python -m pytest $(ARGS)

bundle: $(VENV)/.installed-dev
	$(BIN)/python scripts/bundle.py

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

i18n: $(VENV)/.installed
	$(BIN)/python scripts/i18n.py

bench: $(VENV)/.installed-dev
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build dist
