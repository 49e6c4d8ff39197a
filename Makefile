# The two commands of the README, plus the benchmarks. Each creates .venv when needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench fuzz schema clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if (3, 11) <= v < (3, 13) else "bssrules needs Python 3.11 or 3.12 (durable-rules does not import on 3.13); set PYTHON=...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/bssrules demo

# One pytest worker per core and one more (each PostgreSQL-tier worker makes a database of its
# own): a worker waiting for PostgreSQL leaves its core to another — on this 2-core machine the
# suite took 9 min 49 s with two workers and 8 min 40 s with three, the same afternoon. A worker
# that runs out of tests takes half of what another has left (worksteal), and the longest tests
# start first (tests/conftest.py), so that every core stays busy to the end. TEST_ARGS= runs the
# suite in one process.
WORKERS := $(shell echo $$(( $$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1) + 1 )))
TEST_ARGS ?= -n $(WORKERS) --dist worksteal

test: $(STAMP)
	$(BIN)/python -m pytest $(TEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# The API fuzzed hard, outside `make test` (which runs a bounded sample): every operation gets
# 100 schemathesis examples, then hostile values (NUL, surrogates, emoji, 10,000 characters,
# numbers at and beyond every bound); prints the figures, exits non-zero on any 5xx. Several
# minutes. FUZZ_ARGS="--database-url postgresql://..." runs it on PostgreSQL.
FUZZ_ARGS ?=

fuzz: $(STAMP)
	$(BIN)/python tools/fuzz.py $(FUZZ_ARGS)

# Regenerate the shipped JSON Schemas after changing the model (a test checks they match).
schema: $(STAMP)
	$(BIN)/python -c "from bssrules.catalog.schema import write_catalog_schema; from bssrules.rules.schema import write_rules_schema; print(write_catalog_schema(), write_rules_schema())"

clean:
	rm -rf $(VENV) bssrules.db build *.egg-info .pytest_cache .hypothesis
