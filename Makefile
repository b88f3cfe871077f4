# Two commands on a fresh machine (Python 3.11+, make):
#   make notebooks   # venv + execute every notebook (default profile) into build/, then a metrics table
#   make test        # venv + pytest for helpers + nbval over every notebook
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
NOTEBOOKS := $(sort $(wildcard *.ipynb))
NB ?= $(NOTEBOOKS)
# how every target executes a notebook (no per-cell time limit: full profiles run long; widget state is
# stored so a saved notebook shows each widget's last view, e.g. the attention browser's image)
EXECUTE := $(VENV)/bin/jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=-1 \
	--ExecutePreprocessor.store_widget_state=True
# pip on some machines warns about every missing local index entry; keep real errors, drop that noise
QUIET_PIP := { grep -v -E "is ignored: it is neither a file nor a directory" || true; }

.PHONY: venv venv-test venv-bench bench notebooks test test-helpers test-notebooks lab regenerate summary clean

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip 2>&1 | $(QUIET_PIP)
	$(PY) -m pip install -q -r requirements.txt 2>&1 | $(QUIET_PIP)
	$(PY) -m pip install -q --no-deps -e . 2>&1 | $(QUIET_PIP)
	touch $@

venv-test: $(VENV)/.installed-test
$(VENV)/.installed-test: requirements-test.txt $(VENV)/.installed
	$(PY) -m pip install -q -r requirements-test.txt 2>&1 | $(QUIET_PIP)
	touch $@

venv-bench: $(VENV)/.installed-bench
$(VENV)/.installed-bench: requirements-bench.txt $(VENV)/.installed
	$(PY) -m pip install -q -r requirements-bench.txt 2>&1 | $(QUIET_PIP)
	touch $@

## Our word2vec trainer vs gensim on the same corpus and cores -> results/word2vec_vs_gensim.json
bench: venv-bench
	$(PY) benchmarks/word2vec_vs_gensim.py

## Execute every notebook with the default profile (full on a GPU, else quick) into build/notebooks;
## the committed notebooks and results/ are never touched. Then print every notebook's metrics.
notebooks: venv
	mkdir -p build/notebooks build/results
	for nb in $(NB); do \
	  start=$$(date +%s); \
	  RESULTS_DIR=build/results $(EXECUTE) --output-dir build/notebooks "$$nb"; \
	  echo "executed $$nb in $$(( $$(date +%s) - start )) s -> build/notebooks/$$nb"; \
	done
	$(PY) -m helpers.results build/results

test: test-helpers test-notebooks

test-helpers: venv-test
	$(PY) -m pytest tests

## nbval in lax mode: every cell must run; cells tagged `# NBVAL_CHECK_OUTPUT` must reproduce their output.
test-notebooks: venv
	failed=""; \
	for nb in $(NB); do \
	  start=$$(date +%s); \
	  RESULTS_DIR=build/results $(PY) -m pytest -q -p no:cacheprovider --nbval-lax --nbval-current-env \
	    --nbval-sanitize-with .ci/nbval-sanitize.cfg "$$nb" || failed="$$failed $$nb"; \
	  echo "nbval $$nb: $$(( $$(date +%s) - start )) s"; \
	done; \
	if [ -n "$$failed" ]; then echo "nbval FAILED:$$failed"; exit 1; fi

## Re-run notebooks in place with PROFILE=full (the outputs users read) and write results/<nb>.json.
## One notebook: make regenerate NB=selfattn_numpy.ipynb
regenerate: venv
	for nb in $(NB); do \
	  PROFILE=full $(EXECUTE) --inplace "$$nb"; \
	done
	$(PY) -m helpers.results results

summary: venv
	$(PY) -m helpers.results results

lab: venv
	$(VENV)/bin/jupyter lab

clean:
	rm -rf build .pytest_cache
