# Shortcuts; scripts/ holds the real commands (README: Quick start, Tests, Benchmarks).
.PHONY: run test bench bench-cluster lock

run:
	./scripts/run

test:
	./scripts/test

# The benchmark suite (about 45 minutes on 2 cores, scales 0.1, 1 and 5): writes bench/RESULTS.md.
bench:
	./scripts/setup
	.venv/bin/python bench/run.py

# One Patroni cluster at synthetic scales 1 and 5 (about 25 minutes, 50 GiB of disk at its
# peak): writes bench/CLUSTER.md (docs/scaling.md).
bench-cluster:
	./scripts/setup
	./scripts/cluster
	.venv/bin/python bench/cluster_scale.py --scales 1,5 --output bench/CLUSTER.md

# The lock files (README "Dependencies"): what the image (requirements/app.txt), scripts/setup and
# CI (requirements/dev.txt) and the image's build stage (requirements/build.txt) install, every
# version pinned with its hashes, for any platform (--universal) on Python 3.11 and newer.
# `make lock` after a change to pyproject.toml keeps every other pin; `make lock UPGRADE=1` moves
# every package to its newest allowed release; UPGRADE_PACKAGE=flask moves one.
UV_COMPILE = .venv/bin/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock" $(if $(UPGRADE),--upgrade) \
	$(if $(UPGRADE_PACKAGE),--upgrade-package $(UPGRADE_PACKAGE))
lock:
	./scripts/setup
	$(UV_COMPILE) pyproject.toml --output-file requirements/app.txt
	$(UV_COMPILE) pyproject.toml --extra dev --output-file requirements/dev.txt
	$(UV_COMPILE) requirements/build.in --output-file requirements/build.txt
