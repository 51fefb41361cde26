# Two commands set up a fresh machine and do the work:
#   make run    create .venv if needed, then start the web app on http://127.0.0.1:8000
#   make test   create .venv if needed (and install Debian's chromium for the browser tests if it
#               is missing), then ruff (lint + format check) and every test
# Both are idempotent: the venv is rebuilt only when pyproject.toml changes.

PYTHON ?= python3
VENV   ?= .venv
# The CPU wheel of torch that lies on this workplace's machines. Elsewhere, set TORCH_SPEC to any
# torch (e.g. `make test TORCH_SPEC=torch`) or to nothing to let pip resolve pyproject's range.
TORCH_SPEC ?= torch==2.13.0

BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The browser tests drive Debian's chromium (never a browser downloaded by Playwright).
CHROMIUM := /usr/bin/chromium

.PHONY: run test lint format bench fuzz smoke clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(if $(TORCH_SPEC),$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)")
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/optiscope serve

$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

test: $(STAMP) $(CHROMIUM)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP) $(CHROMIUM)
	$(BIN)/python bench/optimizer_step.py
	$(BIN)/python bench/engine_throughput.py
	$(BIN)/python bench/load.py
	$(BIN)/python bench/page_stream.py --runs 3
	$(BIN)/python bench/networks.py

# The API fuzzed at length: tests/app/test_fuzz.py with 2000 random examples per test instead of
# the normal run's few (8 minutes on a busy 2-core machine; OPTISCOPE_FUZZ_EXAMPLES=N for more).
fuzz: $(STAMP)
	OPTISCOPE_FUZZ_EXAMPLES=$${OPTISCOPE_FUZZ_EXAMPLES:-2000} $(BIN)/python -m pytest -p no:cacheprovider tests/app/test_fuzz.py

# Build the Docker image with podman and check it end to end (root; see scripts/container-smoke.sh).
smoke:
	sh ../shared/tools/container-setup.sh
	scripts/container-smoke.sh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
