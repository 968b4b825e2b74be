# Two entry points: `make demo` (the course's main job) and `make test` (the whole suite).
# Each creates .venv with Python 3.11 (or $(PYTHON)) on first use and reuses it after.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(BIN):$(PATH)
export MPLBACKEND := Agg
# Small matrices on few cores: BLAS threads oversubscribe under pytest -n 2 and slow everything down.
export OPENBLAS_NUM_THREADS := 1
export OMP_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
# Three workers on two cores: the tests wait on kernels, round trips and time limits more than
# they compute (two workers kept the cores 60% busy). The tests of one xdist_group (a notebook's
# cells, a module marked with it) run on one worker, in order; every other test spreads as usual
# (tests/xdist_groups.py).
XDIST := -n 3 -p tests.xdist_groups
# nbval over the notebooks, with the course's rules (tests/nbval_course.py): source notebooks may
# not raise anywhere, release exercises only in raises-exception cells (tests/tag_raises.py).
NBVAL := -p tests.nbval_course --nbval-lax --nbval-current-env --nbval-cell-timeout=300
NOTEBOOKS := source release

.PHONY: install demo lab test test-quick test-course test-notebooks test-nbval test-autograder validate lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/grader demo

# The instructor's JupyterLab on the course, formgrader included. The venv's tools come first
# on PATH (exported above): formgrader runs nbgrader's `alembic` when it opens a gradebook.
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=$(CURDIR) $(LAB_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(XDIST) $(NBVAL) --durations=15 $(PYTEST_ARGS) tests $(NOTEBOOKS)

test-course: $(STAMP)
	$(BIN)/python -m pytest -m course $(PYTEST_ARGS)

test-notebooks: $(STAMP)
	$(BIN)/python -m pytest $(XDIST) -m notebooks $(PYTEST_ARGS)

test-nbval: $(STAMP)
	$(BIN)/python -m pytest $(XDIST) $(NBVAL) -m nbval $(PYTEST_ARGS) tests $(NOTEBOOKS)

# The instructor's edit-and-check loop: make validate NB=source/03-losses/lecture.ipynb
validate: $(STAMP)
	@test -n "$(NB)" || { echo "usage: make validate NB=path/to/notebook.ipynb"; exit 2; }
	$(BIN)/python -m pytest $(NBVAL) $(PYTEST_ARGS) $(NB)

test-autograder: $(STAMP)
	$(BIN)/python -m pytest $(XDIST) -m autograder $(PYTEST_ARGS)

test-quick: $(STAMP)
	NN_COURSE_QUICK=1 $(BIN)/python -m pytest $(XDIST) $(NBVAL) $(PYTEST_ARGS) tests $(NOTEBOOKS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check course autograder tests benchmarks

clean:
	rm -rf $(VENV) demo-workspace .pytest_cache
