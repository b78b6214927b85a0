# cnnlab — the two commands of the README, plus the lab.
#   make course   set up, execute every notebook (quick profile) and render the handouts
#   make test     set up and run the whole test suite (what CI runs)
#   make lab      open JupyterLab on the course
PYTHON ?= python3
PROFILE ?= quick
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.cnnlab-installed
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: env course test lint unit nbval exercises notebooks lab clean

# The environment: a venv with the package (editable) and the pinned versions of constraints.txt
# (torch pinned to the CPU wheel; the package itself only declares ranges).
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	$(BIN)/python -m pip check
	touch $@

env: $(STAMP)

course: $(STAMP)
	$(BIN)/python -m cnnlab course --profile $(PROFILE) --out build

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m cnnlab exercises --check
	$(BIN)/python -m pytest -p no:cacheprovider tests notebooks solutions $(NBVAL)

unit: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider tests

nbval: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider notebooks solutions $(NBVAL)

# Authoring: regenerate student notebooks, re-execute the committed notebooks in place.
exercises: $(STAMP)
	$(BIN)/python -m cnnlab exercises

notebooks: $(STAMP)
	$(BIN)/python -m cnnlab notebooks notebooks solutions

# From the repository root, so notebooks/, exercises/ and solutions/ are all in the file browser.
# Root (containers, CI boxes) needs --allow-root; LAB_ARGS passes more (e.g. --no-browser).
lab: $(STAMP)
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

clean:
	rm -rf build .pytest_cache
