# fupin — the two commands: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

export AIRFLOW_HOME ?= $(CURDIR)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER = $(CURDIR)/dags
export AIRFLOW__CORE__LOAD_EXAMPLES = False
export AIRFLOW__CORE__PLUGINS_FOLDER = $(CURDIR)/plugins

.PHONY: setup tools test test-fast demo serve bench airflow-db images images-archive clean

setup: $(STAMP) tools

# Debian packages the suite and the demo need (no browser is ever downloaded at install time):
# fonts-noto-cjk for the Chinese of the PNG charts in the assessment mails; docker.io,
# docker-compose and mmdebstrap for the offline images and the compose test (`make images`);
# smbclient to drop files through the units' SMB shares; chromium + chromium-driver for the
# dashboard's browser tests. apt waits for a lock another apt holds instead of failing at once.
APT = apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends
# $(call need,<test that it is there>,<packages>,<what happens without them>)
need = @$(1) || { command -v apt-get >/dev/null && ($(APT) $(2) >/dev/null 2>&1 || \
	(apt-get update -qq && $(APT) $(2) >/dev/null)) ; } || echo "$(3)"
tools:
	$(call need,test -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc,fonts-noto-cjk,fonts-noto-cjk missing and not installable here: charts fall back to indicator ids)
	$(call need,command -v dockerd >/dev/null && command -v docker-compose >/dev/null && command -v mmdebstrap >/dev/null && command -v smbclient >/dev/null,docker.io docker-compose mmdebstrap smbclient,docker.io/docker-compose/mmdebstrap/smbclient missing and not installable here: the compose test will say so)
	$(call need,command -v chromium >/dev/null && command -v chromedriver >/dev/null,chromium chromium-driver,chromium/chromium-driver missing and not installable here: the browser tests will say so)

# uv installs the lock (requirements*.txt, every package ==) several times faster than pip: a
# fresh clone's `make demo` spent its first two minutes here. Pinned like the lock; pip only
# bootstraps it. Byte code is compiled at install, on every core: Python would keep what it
# compiles only where PYTHONDONTWRITEBYTECODE is unset, and machines set it (these do) — then
# every process compiled Airflow, pandas and GX anew: 10.5 s to import them, 4.2 s compiled.
UV_VERSION = 0.13.9
UV = $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(UV) -r requirements-dev.txt
	$(UV) --no-deps -e .
	touch $@

# the demo's Airflow metadata DB (SQLite); the demo loads the pools itself
airflow-db: setup
	$(BIN)/airflow db migrate > /dev/null

# the compose test (the production stack in containers, mostly waiting on them) runs beside the
# rest of the suite, each in its own temporary folder; both must pass. The suite runs on two
# workers, a test file's tests together (--dist loadfile: its module fixtures built once): one
# worker alone left a core idle while the stack waited — 18 min in all against 12.5 min
test: setup
	$(BIN)/ruff check .
	@mkdir -p build
	$(BIN)/pytest -q -m compose --basetemp=build/pytest-compose > build/compose-test.log 2>&1 & compose=$$!; \
	$(BIN)/pytest -q -n 2 --dist loadfile -m "not compose" --basetemp=build/pytest-suite; suite=$$?; \
	wait $$compose; stack=$$?; echo "--- tests/test_compose.py (build/compose-test.log) ---"; tail -n 40 build/compose-test.log; \
	exit $$(( suite || stack ))

# the tests that start no process, server or browser (unmarked: see tests/conftest.py), on two
# workers; a test over 2 s that is not marked slow fails the run
test-fast: setup
	$(BIN)/ruff check .
	$(BIN)/pytest -q -n 2 -m "not slow and not airflow and not distributed"

demo: setup airflow-db
	$(BIN)/fupin demo run --data-root $(CURDIR)/demo

# the whole platform on this machine, no Docker: airflow standalone (SQLite) + an SMTP sink
serve: setup
	$(BIN)/fupin serve --data-root $(CURDIR)/data

bench: setup
	$(BIN)/python bench/bench_ingest.py

# every image docker-compose.yaml needs, offline: Debian roots (mmdebstrap) and the lock's wheels
# (deploy/images/build.sh; needs a running dockerd). images-archive also writes the one file to
# carry into an intranet: `docker load -i build/fupin-images.tar.gz` there.
images: setup
	PYTHON=$(BIN)/python bash deploy/images/build.sh

images-archive: setup
	PYTHON=$(BIN)/python bash deploy/images/build.sh --save build/fupin-images.tar.gz

clean:
	rm -rf $(VENV) .airflow demo data
