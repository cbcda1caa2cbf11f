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

# The benchmarks page: docs/BENCHMARKS.md is rendered from the records in docs/benchmarks/.
.PHONY: benchmarks-page bench bench-quick
benchmarks-page: setup
	.venv/bin/python bench/render.py

bench: setup  # every benchmark at the page's size (hours on a 2-core CPU): runs/bench/
	.venv/bin/python bench/suite.py --size full --out runs/bench

bench-quick: setup  # every benchmark at tiny size, into a temporary folder (minutes; CI)
	.venv/bin/python bench/suite.py
