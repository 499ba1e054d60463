# Every target bootstraps itself (bin/bootstrap: .venv with pinned deps, airflow_home migrated).
.PHONY: demo test up bench lint sandbox clean help
SHELL := /bin/bash

help:
	@echo "make demo   - run every DAG once against the local sandbox APIs and print what moved"
	@echo "make test   - the whole test suite"
	@echo "make up     - Airflow UI (127.0.0.1:8080) + scheduler + sandboxes; Ctrl-C stops all"
	@echo "make bench  - every benchmark, one table of figures vs goals"
	@echo "make lint   - ruff (with Airflow AIR rules)"

demo:
	@bin/bootstrap
	@. bin/env.sh && python -m amc_joor_sandbox.demo

# Tests get their own Airflow home (and metadata DB), so test runs never show up in `make up`'s UI.
test: export AIRFLOW_HOME := $(CURDIR)/var/test_airflow_home
test:
	@bin/bootstrap
	@. bin/env.sh && { python -m pytest -q $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests - failing" >&2; exit 1; fi; exit $$rc; }

up:
	@bin/up

bench:
	@bin/bootstrap
	@. bin/env.sh && python bench/run_all.py

lint:
	@bin/bootstrap
	@. bin/env.sh && ruff check dags include tests bench

sandbox:
	@bin/sandbox

clean:
	rm -rf airflow_home var .pytest_cache .ruff_cache
