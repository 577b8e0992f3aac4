# Two commands for users: `make demo` and `make test`. Both create .venv on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test venv templates clean render

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/selfeval-xl demo --out demo-output

test: $(STAMP)
	$(BIN)/python -m pytest -q

templates: $(STAMP)
	$(BIN)/python build_templates.py

render: $(STAMP)
	$(BIN)/python tools/render.py demo-output --out demo-output/png

clean:
	rm -rf $(VENV) demo-output .pytest_cache
