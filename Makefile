# The course's two commands:
#   make reproduce   set up .venv if needed, then run every notebook (quick profile) and write the report
#   make test        set up .venv if needed, then run the test suite (pytest + nbval over the notebooks)
# Offline, point COURSE_DATA at a folder holding the datasets, e.g. COURSE_DATA=../shared/data make test

PYTHON ?= python3
VENV ?= .venv
PROFILE ?= quick
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Notebook kernels run inside notebooks/, so a relative data folder is made absolute here.
ifdef COURSE_DATA
export COURSE_DATA := $(abspath $(COURSE_DATA))
endif

.PHONY: reproduce test setup clean-venv

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test]"
	touch $(STAMP)

reproduce: $(STAMP)
	$(BIN)/python -m experiments run --profile $(PROFILE)

test: $(STAMP)
	$(BIN)/python -m pytest tests notebooks --nbval-lax --nbval-current-env --nbval-cell-timeout=900 -p no:cacheprovider

clean-venv:
	rm -rf $(VENV)
