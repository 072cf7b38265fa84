# Two commands do everything: `make run` opens the app, `make test` runs the checks.
# Both create .venv and install what is missing first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test lint typecheck pytest screenshots package bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

sysdeps-run:
	@sh scripts/system-deps.sh run
sysdeps-test:
	@sh scripts/system-deps.sh test

run: sysdeps-run $(STAMP)
	$(BIN)/handshake-doctor $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check core gui handshake_doctor

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: sysdeps-test $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest

screenshots: sysdeps-test $(STAMP)
	xvfb-run -a -s "-screen 0 1400x1000x24" $(BIN)/python scripts/screenshots.py docs/screenshots

bench: $(STAMP)
	for f in benchmarks/*.py; do echo "== $$f"; QT_QPA_PLATFORM=offscreen $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .pytest_cache
