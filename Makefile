# Every target works on a fresh machine with only Python 3.11, pip and git.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CONFIG ?= config/default.yaml

.PHONY: run test test-pykka-oldest chaos demo lint bench mutate clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m mt5guard run --config $(CONFIG)

# Two processes, each test file in one of them (its module fixtures start once): most of
# the suite waits on real subprocesses and deadlines, not on the CPU. Tests marked
# `alone` (a flood that must still let a client in on time) run afterwards, by themselves.
PYTEST_PARALLEL := -n 2 --dist loadfile -m "not alone"

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_PARALLEL)
	$(PY) -m pytest -m alone

# The standalone tree on simulated terminals, 45x faster, with a scripted outage (~25 s).
demo: $(STAMP)
	$(PY) -m mt5guard demo

# 1,000 seeds of 3 accounts over 2 simulated days on the deterministic runtime, 2 processes.
SEEDS ?= 1000
JOBS ?= 2
chaos: $(STAMP)
	$(PY) -m mt5guard.testing.chaos --seeds $(SEEDS) --days 2 --accounts 3 --jobs $(JOBS)

# The oldest pykka we claim (pyproject: pykka>=4.1,<5); `make test` gets the newest.
OLDEST_VENV := .venv-pykka-oldest
$(OLDEST_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(OLDEST_VENV)/bin/python -m pip install --quiet -e '.[test]' 'pykka==4.1.*'
	touch $@

test-pykka-oldest: $(OLDEST_VENV)/.installed
	$(OLDEST_VENV)/bin/python -c "import importlib.metadata as m; print('pykka', m.version('pykka'))"
	$(OLDEST_VENV)/bin/python -m pytest $(PYTEST_PARALLEL)
	$(OLDEST_VENV)/bin/python -m pytest -m alone

lint: $(STAMP)
	$(VENV)/bin/ruff check mt5guard tests bench run.py
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) bench/run_all.py

# Mutation run over the order path, the breaker policy and the journal ([tool.mutmut] in
# pyproject.toml; mypy on PATH for its type_check_command; ~15 min on 2 cores). The score, the wall time and
# the survivors: docs/testing.md.
mutate: $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,mutate]'
	rm -rf mutants
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/mutmut run --max-children 2
	$(VENV)/bin/mutmut results

clean:
	rm -rf $(VENV) $(OLDEST_VENV) build *.egg-info mutants
