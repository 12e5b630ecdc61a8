# The course's two commands:
#   make reproduce   set up .venv if needed, then run every notebook (quick profile) and write the report
#   make test        set up .venv if needed, then lint, run the unit tests, check the notebooks'
#                    stored outputs, run every lesson once (quick) in JupyterLab in Chromium (with
#                    papermill where chromium is missing, saying so) with its claims gated, build
#                    the website
# Offline, point COURSE_DATA at a folder holding the datasets, e.g. COURSE_DATA=../shared/data make test
# Other targets: make book | make lab | make browser | make lint | make lock | make clean-venv

PYTHON ?= python3
VENV ?= .venv
PROFILE ?= quick
JOBS ?= 2
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHECKED_NOTEBOOKS := $(shell grep -l NBVAL_CHECK_OUTPUT notebooks/*.ipynb)

# Notebook kernels run inside notebooks/, so a relative data folder is made absolute here.
ifdef COURSE_DATA
export COURSE_DATA := $(abspath $(COURSE_DATA))
endif

.PHONY: reproduce test lint setup lock clean-venv book lab browser

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; v = sys.version_info; sys.exit(0 if v >= (3, 10) else \
		f"Python 3.10 or later is needed, and $(PYTHON) is {v[0]}.{v[1]}: run make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@$(MAKE) --no-print-directory torch-for-this-machine
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test,book]"
	touch $(STAMP)

# Without an NVIDIA driver, torch's CPU build (about 0.2 GB) instead of PyPI's default Linux wheel,
# which brings several GB of CUDA libraries; the default wheel where the CPU index cannot be reached.
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
TORCH_PIN := $(shell sed -n 's/^torch==\([^ ;]*\).*/\1/p' constraints.txt | head -n 1)
.PHONY: torch-for-this-machine
torch-for-this-machine:
	@if [ "$$(uname -s)" != Linux ] || command -v nvidia-smi > /dev/null 2>&1 \
		|| [ -e /proc/driver/nvidia ]; then \
		echo "torch: the default wheel (an NVIDIA driver is present, or not Linux)"; \
	elif $(BIN)/python -m pip install --quiet --timeout 20 --retries 1 \
		--index-url $(TORCH_CPU_INDEX) "torch==$(TORCH_PIN)"; then \
		echo "torch: the CPU build $(TORCH_PIN) (no NVIDIA driver found)"; \
	else \
		echo "torch: $(TORCH_CPU_INDEX) could not be reached; the default wheel follows"; \
	fi

reproduce: $(STAMP)
	$(BIN)/python -m experiments run --profile $(PROFILE)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest -n $(JOBS) -p no:cacheprovider --durations=15 tests
	$(BIN)/python -m pytest -p no:cacheprovider --nbval-lax --nbval-current-env $(CHECKED_NOTEBOOKS)
	$(BIN)/python -m experiments run --profile quick --jobs $(JOBS) --strict \
		--in-browser --if-chromium --max-silent-s 20
	$(BIN)/python -m experiments book --run runs/quick --out _build/book

# The course as a website from the last run (make reproduce first): _build/book/index.html
book: $(STAMP)
	$(BIN)/python -m experiments book --run runs/$(PROFILE) --out _build/book

# JupyterLab on the lessons, with the course's settings
lab: $(STAMP)
	$(BIN)/python -m experiments lab

# Every lesson run in JupyterLab in Chromium as a learner runs it, and checked; screenshots in
# runs/browser/browser
browser: $(STAMP)
	$(BIN)/python -m experiments run --profile $(PROFILE) --jobs $(JOBS) --in-browser --out runs/browser

# constraints.txt: one lock for every supported Python (3.10-3.13), made by uv from pyproject.toml.
lock:
	$(PYTHON) -m venv /tmp/course-lock && /tmp/course-lock/bin/pip install --quiet uv
	echo "torch==2.13.0" > /tmp/course-lock/torch-pin.txt
	grep '^#' constraints.txt > /tmp/course-lock/header.txt
	grep -v '^#' constraints.txt > /tmp/course-lock/lock.txt  # uv keeps these pins where it can
	/tmp/course-lock/bin/uv pip compile pyproject.toml --extra test --extra dev --extra book --universal \
		--python-version 3.10 --no-annotate --no-header \
		--constraint /tmp/course-lock/torch-pin.txt -o /tmp/course-lock/lock.txt
	cat /tmp/course-lock/header.txt /tmp/course-lock/lock.txt > constraints.txt

clean-venv:
	rm -rf $(VENV)
