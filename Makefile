# `make demo` and `make test` are the two commands of the README: each sets up .venv first.
.PHONY: setup demo test lint bench-quick

setup:
	@./scripts/setup.sh

demo: setup
	.venv/bin/gankit train configs/quickstart.yaml --out runs/quickstart-$$(date +%Y%m%d-%H%M%S)

test: setup
	.venv/bin/python -m pytest -n 2

lint: setup
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

# The GPU benchmark's own code run tiny on a CPU: a smoke run, not a speed figure.
bench-quick: setup
	.venv/bin/python bench/gpu.py --device cpu --tiny --out runs/bench-quick
