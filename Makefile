# Two commands on a fresh clone: `make run` and `make test`. Each bootstraps .venv itself.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench lint gallery briefing clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## run: with DISCORD_TOKEN set, start the bot; without it, write today's briefing preview to ./out/
run: $(STAMP)
	$(BIN)/python -m bot run $(if $(DATA_DIR),--data-dir $(DATA_DIR),)

## test: the whole test suite (tests needing ../shared/data skip with a reason where it is absent)
test: $(STAMP)
	$(BIN)/python -m pytest

## bench: performance figures, printed and written to bench/results.json
bench: $(STAMP)
	$(BIN)/python -m bench $(if $(DATA_DIR),--data-dir $(DATA_DIR),)

lint: $(STAMP)
	$(BIN)/ruff check bot cogs analytics tests bench
	$(BIN)/mypy

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
