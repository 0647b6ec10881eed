# Two commands do all the set-up on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt
# One thread per numeric library: runs are single-threaded and deterministic.
export OMP_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export MPLBACKEND := Agg

.PHONY: demo test test-fast bench bench-scale lint reference course clean browser screenshot

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Stamp files: reinstall only when the project's dependency files change.
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) -e '.[test,dask]'
	touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	$(BIN)/fraudsim run scenarios/quickstart.toml

# The report's browser test needs Debian's chromium and chromedriver. `make test` never installs
# system packages: it uses them if present and skips the test, saying why, otherwise. `make
# browser` installs them (as root, with apt-get), best effort.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	    apt-get install -y -q chromium chromium-driver >/dev/null 2>&1; } || \
	  echo "chromium not installed: the browser test will be skipped"

# The README's screenshot, from the demo's report (run `make demo` first).
screenshot: $(VENV)/.installed-test browser
	$(BIN)/python benchmarks/screenshot.py reports/quickstart

# Two processes, each taking whole test files (a file's module fixtures are computed once).
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

test-fast: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q -n 2 --dist loadfile -m "not slow"

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/run.py --docs

bench-scale: $(VENV)/.installed-test
	$(BIN)/python benchmarks/scale.py --goal --docs

lint: $(VENV)/.installed-test
	$(PIP) 'ruff==0.17.5'
	$(BIN)/ruff check sim tests benchmarks
	$(BIN)/ruff format --check sim tests benchmarks

reference: $(VENV)/.installed
	$(BIN)/python -m sim.docgen > docs/scenario-reference.md

# The course (scenarios/README.md, docs/when-online-pays.md) with every lesson's answer measured:
# runs what changed since scenarios/answers.json was written (reports/course/), not part of `make test`.
course: $(VENV)/.installed
	$(BIN)/python benchmarks/course.py

clean:
	rm -rf $(VENV) reports/*/ .pytest_cache
