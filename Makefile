# Everything runs from a virtual environment in .venv, made on first use.
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin

$(BIN)/antifraud-bot: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

.PHONY: install chat test lint bench validate
install: $(BIN)/antifraud-bot

chat: install  ## talk to the bot offline, in this terminal
	$(BIN)/antifraud-bot chat

validate: install  ## check intents/ and content/
	$(BIN)/antifraud-bot validate

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

test: lint  ## lint, validate the content, run every test
	$(BIN)/antifraud-bot validate
	$(BIN)/python -m pytest

bench: install  ## run all benchmarks and rewrite docs/benchmarks.md
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python -m bench
