# Two commands on a fresh machine (see README):
#   make run    install everything into .venv and run autobill on embedded defaults
#   make test   install everything into .venv and run the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run test venv lint clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null \
	  || { echo "autobill needs Python 3.11 or newer as '$(PYTHON)' (set PYTHON=python3.12 to pick another)."; exit 1; }
	@[ -x $(VENV)/bin/python ] || $(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing python3-venv with apt..."; \
	    apt-get install -y -qq python3-venv >/dev/null && $(PYTHON) -m venv $(VENV); \
	  else echo "Cannot create a virtual environment: install python3-venv (sudo apt install python3-venv)."; exit 1; fi; }
	@echo "Installing autobill and its dependencies into $(VENV) ..."
	@$(VENV)/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
	@$(VENV)/bin/python -m pip install -q -e '.[test]' > $(VENV)/pip.log 2>&1 \
	  || { tail -n 30 $(VENV)/pip.log; echo "pip could not install autobill (full log: $(VENV)/pip.log)."; exit 1; }
	@$(VENV)/bin/python -c 'import addon, rules, connectors, webapp, sandbox' \
	  || { echo "Installation into $(VENV) failed; see the pip output above."; exit 1; }
	@touch $(STAMP)

venv: $(STAMP)

run: venv
	@$(VENV)/bin/autobill run

test: venv
	@$(VENV)/bin/python -m tests.prepare
	@$(VENV)/bin/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: venv
	@$(VENV)/bin/ruff check addon rules connectors webapp sandbox tests bench

clean:
	rm -rf $(VENV) .autobill .pytest_cache
