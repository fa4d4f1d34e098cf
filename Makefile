# fupin — the two commands: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

export AIRFLOW_HOME ?= $(CURDIR)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER = $(CURDIR)/dags
export AIRFLOW__CORE__LOAD_EXAMPLES = False
export AIRFLOW__CORE__PLUGINS_FOLDER = $(CURDIR)/plugins

.PHONY: setup test demo bench airflow-db clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

airflow-db: setup
	$(BIN)/airflow db migrate > /dev/null

test: setup
	$(BIN)/pytest -q

demo: setup airflow-db
	$(BIN)/fupin demo run --data-root $(CURDIR)/demo

bench: setup
	$(BIN)/python bench/bench_ingest.py

clean:
	rm -rf $(VENV) .airflow demo data
