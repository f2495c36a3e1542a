# Two commands do all the set-up on a fresh machine:
#   make run    the whole center on embedded defaults (demo data, Telnyx sandbox, simulated callers)
#   make test   the test suite, against the machine's PostgreSQL and Redis
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FRONTEND_SRC := $(shell find frontend -type f 2>/dev/null)

# Tests run against real services; override either URL to point elsewhere.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/contactcenter
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: setup run test browser benchmark clean

setup: $(VENV)/.installed static/dist/app.js

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

static/dist/app.js: node_modules/.package-lock.json $(FRONTEND_SRC)
	npm run --silent build

run: setup
	$(BIN)/python manage.py runcenter

# Browser tests drive Debian's chromium (Playwright never downloads a browser here).
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "browser tests need Debian's chromium: sudo apt-get install -y chromium"; fi; }

test: setup browser
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
	  SECRET_KEY=$${SECRET_KEY:-test-only-not-a-secret} CONN_MAX_AGE=0 CHANNELS_PREFIX=cc-test STATIC_MANIFEST=false \
	  $(BIN)/python -m pytest $(ARGS)

benchmark: setup
	$(BIN)/python benchmarks/webhooks.py $(ARGS)

clean:
	rm -rf $(VENV) node_modules static/dist var
