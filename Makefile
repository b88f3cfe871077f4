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

# Python 3.13 (Colab's) for the Colab-like test: pyenv's 3.13, else python3.13 on PATH; the first that runs
# (a pyenv shim for a version that is not selected is on PATH but fails)
COLAB_PYTHON ?= $(shell for c in $$(ls -d $$(pyenv root 2>/dev/null || echo ~/.pyenv)/versions/3.13*/bin/python3.13 2>/dev/null) \
  $$(command -v python3.13); do "$$c" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null && { echo "$$c"; break; }; done)

.PHONY: venv venv-bench bench sentiment-routes a3-vit-sweeps notebooks test test-helpers test-notebooks test-colab colab lab regenerate summary clean

## the runtime (requirements.txt) plus what executes and tests notebooks (requirements-dev.txt)
venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip 2>&1 | $(QUIET_PIP)
	$(PY) -m pip install -q -r requirements-dev.txt 2>&1 | $(QUIET_PIP)
	$(PY) -m pip install -q --no-deps -e . 2>&1 | $(QUIET_PIP)
	touch $@

venv-bench: $(VENV)/.installed-bench
$(VENV)/.installed-bench: requirements-bench.txt $(VENV)/.installed
	$(PY) -m pip install -q -r requirements-bench.txt 2>&1 | $(QUIET_PIP)
	touch $@

## Our word2vec trainer vs gensim on the same corpus and cores -> results/word2vec_vs_gensim.json
bench: venv-bench
	$(PY) benchmarks/word2vec_vs_gensim.py

## hw5_sentiment's routes toward its 85 % target, each trained once (resumable) -> results/sentiment_routes.json
sentiment-routes: venv
	$(PY) benchmarks/sentiment_routes.py

## A3_vit's depth sweep at the main model's budget and its 2x2-patch sweep, two seeds (resumable) -> results/a3_vit_sweeps.json
a3-vit-sweeps: venv
	$(PY) benchmarks/a3_vit_sweeps.py

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

## helpers' tests, nbval over every notebook, then the Colab-like run; each step's time is printed. The Colab-like
## venv (pip only, no torch work) is built in the background meanwhile, so its few minutes overlap the tests.
test: venv
	@t0=$$(date +%s); colab_pid=""; \
	if [ -n "$(COLAB_PYTHON)" ]; then \
	  mkdir -p build/colab-like; \
	  $(PY) .ci/colab_like.py --python "$(COLAB_PYTHON)" --venv-only > build/colab-like/venv.log 2>&1 & colab_pid=$$!; \
	  trap 'kill $$colab_pid 2>/dev/null || true' EXIT; \
	fi; \
	$(MAKE) --no-print-directory test-helpers; t1=$$(date +%s); echo "step test-helpers: $$((t1 - t0)) s"; \
	$(MAKE) --no-print-directory test-notebooks; t2=$$(date +%s); echo "step test-notebooks (nbval): $$((t2 - t1)) s"; \
	if [ -n "$$colab_pid" ]; then \
	  wait $$colab_pid || { cat build/colab-like/venv.log; echo "the Colab-like venv did not build"; exit 1; }; \
	  trap - EXIT; cat build/colab-like/venv.log; \
	fi; \
	$(MAKE) --no-print-directory test-colab; t3=$$(date +%s); echo "step test-colab: $$((t3 - t2)) s"; \
	echo "make test: $$((t3 - t0)) s (helpers $$((t1 - t0)), nbval $$((t2 - t1)), Colab-like $$((t3 - t2)))"

test-helpers: venv
	$(PY) -m pytest tests

## nbval in lax mode: every cell must run; cells tagged `nbval-check-output` (cell metadata) must reproduce their output.
test-notebooks: venv
	failed=""; \
	for nb in $(NB); do \
	  start=$$(date +%s); \
	  RESULTS_DIR=build/results $(PY) -m pytest -q -p no:cacheprovider --nbval-lax --nbval-current-env \
	    --nbval-sanitize-with .ci/nbval-sanitize.cfg "$$nb" || failed="$$failed $$nb"; \
	  echo "nbval $$nb: $$(( $$(date +%s) - start )) s"; \
	done; \
	if [ -n "$$failed" ]; then echo "nbval FAILED:$$failed"; exit 1; fi

## Every notebook opened alone as Colab opens it (bootstrap cell, Colab's package versions, Python 3.13, a stub
## google.colab), PROFILE=quick; see .ci/colab_like.py. Skipped, saying so, without Python 3.13 unless COLAB_REQUIRED=1.
test-colab: venv
	@if [ -z "$(COLAB_PYTHON)" ]; then \
	  echo "test-colab: no Python 3.13 found (set COLAB_PYTHON=/path/to/python3.13); skipped"; \
	  [ -z "$$COLAB_REQUIRED" ] || exit 1; \
	else \
	  $(PY) .ci/colab_like.py --python "$(COLAB_PYTHON)" $(if $(filter-out $(NB),$(NOTEBOOKS)),$(NB),); \
	fi

## Pin the Colab bootstrap cells to HEAD (and set the repository once): make colab REPO=https://github.com/OWNER/NAME
colab: venv
	$(PY) -m helpers.colab $(if $(REPO),--repo $(REPO),)

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
