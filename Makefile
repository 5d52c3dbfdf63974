# Shortcuts; scripts/ holds the real commands (README: Quick start, Tests, Benchmarks).
.PHONY: run test bench

run:
	./scripts/run

test:
	./scripts/test

# The benchmark suite (about 45 minutes on 2 cores, scales 0.1, 1 and 5): writes bench/RESULTS.md.
bench:
	./scripts/setup
	.venv/bin/python bench/run.py
