# Two commands set everything up on a fresh machine: `make demo` and `make test`.
# Each creates .venv when it is missing and reinstalls when pyproject.toml changes.

VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench clean live-site live-reset phpunit phpunit11

# Moodle versions for the live tier and Moodle's PHPUnit (tests/live/versions.py): every one
# found in MOODLE_SRC (default ../shared/moodle/source) unless V names some, e.g. V=4.5.6.
V ?=
JOBS ?= 1
comma := ,
ifneq ($(strip $(V)),)
export MOODLE_VERSIONS := $(subst $() ,$(comma),$(strip $(V)))
endif

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,postgres]'
	@touch $(STAMP)

demo: $(STAMP)  ## run check and sync against the bundled sandbox Moodle, SQLite database
	$(BIN)/python scripts/demo.py

test: $(STAMP)  ## the whole test suite (PostgreSQL tests skip with a reason when none is found)
	$(BIN)/pytest

live-site: $(STAMP)  ## build (or start) a Moodle site per version under var/live; V=, PHPUNIT=1, JOBS=n
	$(BIN)/python -m tests.live.site build $(if $(PHPUNIT),--phpunit) --jobs $(JOBS)

live-reset: $(STAMP)  ## the live sites back to their starting data (database snapshot)
	$(BIN)/python -m tests.live.site reset

phpunit: $(STAMP)  ## Moodle's PHPUnit on each built site: the plugins' suites, core's privacy tests; V=, ARGS=
	$(BIN)/python -m tests.live.phpunit $(if $(ARGS),-- $(ARGS))

phpunit11: $(STAMP)  ## PHPUnit 11 (for Moodle 5) from Debian 13 into var/phpunit11
	$(BIN)/python -m tests.live.phpunit fetch

lint: $(STAMP)  ## ruff (lint and format check), mypy, php -l on the plugin, worker_needs.php current
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	@if command -v php >/dev/null; then \
		find local_cetadsync block_cetadsync -name '*.php' -print0 | xargs -0 -n1 php -l >/dev/null && echo "php -l: local_cetadsync, block_cetadsync OK"; \
	else echo "php -l skipped: php is not installed"; fi
	$(BIN)/python scripts/gen_worker_needs.py --check
	@$(MAKE) --no-print-directory phpcs

# Moodle's own code checker (moodle-cs, from ../shared/moodle/tools or MOODLE_TOOLS): the
# `moodle` standard with no error and no warning, `moodle-extra` with no error.
MOODLE_TOOLS ?= ../shared/moodle/tools
CODECHECKER_TARBALL := $(firstword $(wildcard $(MOODLE_TOOLS)/moodle-local_codechecker-*.tar.xz))
PHPCS := var/codechecker/codechecker/vendor/bin/phpcs
PLUGINS := local_cetadsync block_cetadsync
.PHONY: phpcs
phpcs:
	@if ! command -v php >/dev/null; then echo "phpcs skipped: php is not installed"; \
	elif [ -z "$(CODECHECKER_TARBALL)" ]; then echo "phpcs skipped: no moodle-local_codechecker tarball in $(MOODLE_TOOLS) (set MOODLE_TOOLS)"; \
	else \
		test -x $(PHPCS) || { mkdir -p var/codechecker && tar -xJf $(CODECHECKER_TARBALL) -C var/codechecker; }; \
		php $(PHPCS) -q --standard=moodle --warning-severity=1 --report=summary $(PLUGINS) && \
		php $(PHPCS) -q --standard=moodle-extra --warning-severity=0 --report=summary $(PLUGINS) && \
		echo "phpcs: moodle and moodle-extra clean on $(PLUGINS)"; \
	fi

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)  ## every benchmark, each against a baseline measured in the same run; BENCH=pages one
	$(BIN)/python benchmarks/run_all.py $(BENCH)

clean:
	-test -d var/live && $(BIN)/python -m tests.live.site stop
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

.PHONY: chaos
CHAOS_RUNS ?= 100
chaos: $(STAMP)  ## seeded faulty fortnights vs fault-free twins on both paths; CHAOS_SEED=s CHAOS_PATH=core|plugin reruns one
	$(BIN)/python -m chaos --runs $(CHAOS_RUNS) $(if $(CHAOS_SEED),--seed $(CHAOS_SEED)) $(if $(CHAOS_PATH),--path $(CHAOS_PATH))
