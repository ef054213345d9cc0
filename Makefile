# chainrule: every target sets up .venv by itself (pip only, no sudo).
#   make demo     the main job: the article end to end (chainrule demo)
#   make test     the test suite, notebooks included
#   make test-pythons  the tests (no notebooks) under Python 3.10 to 3.13, each in .venv-3.X
#   make bench    speed and memory against micrograd and plain-float backprop
#   make lint     ruff
#   make notebooks          open the notebooks in JupyterLab
#   make notebooks-refresh  re-execute the notebooks in place (outputs committed)

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check --quiet

.PHONY: demo test test-pythons bench lint notebooks notebooks-refresh venv clean

# One stamp per set of extras: re-installs when the packaging files change.
$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-%: setup.cfg pyproject.toml | $(PY)
	$(PIP) install -e ".[$(subst +,$(comma),$*)]"
	@touch $@

comma := ,

venv: $(VENV)/.installed-dev

demo: $(VENV)/.installed-dev
	$(VENV)/bin/chainrule demo

test: $(VENV)/.installed-dev+notebooks
	$(PY) -m pytest --nbmake --nbmake-timeout=300 tests notebooks

# Every supported Python, found through pyenv or PATH; a missing one is skipped.
test-pythons:
	.ci/test-pythons

bench: $(VENV)/.installed-dev+bench
	$(PY) -m benchmarks

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check engine nn viz chainrule tests benchmarks

notebooks: $(VENV)/.installed-dev+notebooks
	$(VENV)/bin/jupyter lab notebooks

notebooks-refresh: $(VENV)/.installed-dev+notebooks
	$(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace \
	  --ExecutePreprocessor.record_timing=False notebooks/*.ipynb

clean:
	rm -rf $(VENV) .venv-3.* out build *.egg-info .pytest_cache .ruff_cache .hypothesis
