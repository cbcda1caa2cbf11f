# `make demo` and `make test` are the two commands of the README: each sets up .venv first.
.PHONY: setup demo test lint

setup:
	@./scripts/setup.sh

demo: setup
	.venv/bin/gankit train configs/quickstart.yaml --out runs/quickstart-$$(date +%Y%m%d-%H%M%S)

test: setup
	.venv/bin/python -m pytest -n 2

lint: setup
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
