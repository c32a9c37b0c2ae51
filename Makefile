# The one entry point: `make run` starts the bot on the embedded default, `make test` runs the suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# what running needs (`pip install -e .`, ~105 MB) and what testing needs on top (the test tools and the Teams
# extra, ~630 MB): `make run` installs only the first
RUN_STAMP  := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run sandbox screenshots test lint format messages bench chaos mutation clean clean-data

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The distribution used to be called `notifbot`: a venv made before the rename to marketo-notifbot still has that
# name, which `pip install -U` would "upgrade" to the unrelated `notifbot` on the package index, so it goes first.
$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip uninstall --quiet --yes notifbot
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

# the test install includes the runtime, so it counts for `make run` too
$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip uninstall --quiet --yes notifbot
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(TEST_STAMP) $(RUN_STAMP)

# `make run PORT=9090` (or `PORT=9090 make run`) chooses the port; `make run HOST=0.0.0.0` the address, taken from
# the command line only: some shells export HOST as the machine's name. Unset, the config's server.host/port apply.
SERVE_ARGS := $(if $(PORT),--port $(PORT)) $(if $(filter command line,$(origin HOST)),--host $(HOST))
run: $(RUN_STAMP)
	$(BIN)/notifbot $(strip serve $(SERVE_ARGS))

# `make sandbox` (`PORT=8091` for another port): the bot beside a local page playing Slack and Teams (loopback only),
# with the fake Marketo instance so /marketo quota and stale-triggers have data (`MARKETO=no` leaves it out)
sandbox: $(RUN_STAMP)
	$(BIN)/notifbot $(strip sandbox $(if $(PORT),--port $(PORT)) $(if $(filter no,$(MARKETO)),,--marketo))

# The README's pictures of the sandbox and of the console it opens, into docs/img/ (tools/screenshots.py): Playwright
# (the test extra) drives the system's Chromium (NOTIFBOT_CHROMIUM, else `chromium`); as root it installs Debian's
# emoji font when none is there
screenshots: $(TEST_STAMP)
	$(BIN)/python tools/screenshots.py

# three workers on the CI machine's two cores: most of a test's time is spent waiting (on servers, subprocesses,
# PostgreSQL), so a third keeps the cores busy; a test module stays on one worker, so its shared servers start once
TEST_WORKERS ?= 3
test: $(TEST_STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests bench tools hatch_build.py
	$(BIN)/ruff format --check src tests bench tools hatch_build.py
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	@# the committed message template must be what the code says today, and every catalog must be up to date with it
	@mkdir -p var
	@$(EXTRACT) -o var/notifbot.pot src/notifbot
	@diff -u $(POT) var/notifbot.pot >/dev/null || { diff -u $(POT) var/notifbot.pot | head -40; \
		echo "the user-facing strings changed: run \`make messages\` and translate the new entries"; exit 1; }
	@$(BIN)/pybabel update --check --ignore-pot-creation-date -i $(POT) -d $(LOCALES) -D notifbot --no-wrap >/dev/null 2>&1 || \
		{ echo "a catalog is behind the template: run \`make messages\`"; exit 1; }

# The gettext catalogs (docs/architecture.md "How to add a user-facing string"): extract every _()/N_()/ngettext/
# pgettext string into the template, then bring each locale's .po up to date with it (new entries empty, changed
# ones fuzzy). The .mo files are compiled by the build (hatch_build.py), never committed.
POT     := src/notifbot/i18n/notifbot.pot
LOCALES := src/notifbot/i18n/locales
EXTRACT := $(BIN)/pybabel -q extract -F babel.cfg --no-location --sort-output --omit-header --no-wrap -c TRANSLATORS: \
	--project notifbot
messages: $(TEST_STAMP)
	$(EXTRACT) -o $(POT) src/notifbot
	$(BIN)/pybabel update -i $(POT) -d $(LOCALES) -D notifbot --ignore-pot-creation-date --no-wrap

format: $(TEST_STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

# wrk is the load generator the README's figures were measured with, Alertmanager the storm bench's yardstick
# (issue #13); each is installed here when it is missing (as root)
bench: $(TEST_STAMP)
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -q wrk >/dev/null; } || \
		echo "wrk not installed (apt-get install wrk): falling back to the Python load generator"
	@command -v prometheus-alertmanager >/dev/null || command -v alertmanager >/dev/null || \
		{ [ "$$(id -u)" = 0 ] && apt-get install -y -q prometheus-alertmanager >/dev/null; } || \
		echo "prometheus-alertmanager not installed (apt-get install prometheus-alertmanager): the storm bench skips it"
	@# each runs even when one before misses a target; the exit status is the worst of them
	status=0; $(BIN)/python bench/run.py || status=$$?; $(BIN)/python bench/storm.py || status=$$?; \
		$(BIN)/python bench/retention.py --out bench/results/retention.json || status=$$?; \
		$(BIN)/python bench/console.py --out bench/results/console.json || status=$$?; \
		$(BIN)/python bench/sandbox_storm.py || status=$$?; exit $$status

# The fault matrix (kill -9, slow/lost Slack answers, disk full, read-only database); root for the last two.
chaos: $(TEST_STAMP)
	$(BIN)/python bench/chaos.py

# Mutation testing of the text, limit, link, routing and signature checks against their unit tests (docs/mutation.md):
# a fresh mutmut run (the spinner goes to mutants/mutmut-run.log), then the score per module, every survivor's
# diff, and the module-level constant mutants; fails below 95 %. Not part of `make test` (a few minutes).
mutation: $(TEST_STAMP)
	rm -rf mutants
	mkdir -p mutants
	@echo "$(BIN)/mutmut run > mutants/mutmut-run.log"; start=$$(date +%s); \
	$(BIN)/mutmut run > mutants/mutmut-run.log 2>&1 || { tail -n 40 mutants/mutmut-run.log; exit 1; }; \
	echo "mutmut run took $$(( $$(date +%s) - start )) s ($$(grep -ao '[0-9.]* mutations/second' mutants/mutmut-run.log))"
	$(BIN)/python bench/mutation_score.py

# The venv and the tools' caches; never var/, where the embedded default keeps its data (`make clean-data`).
clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache mutants

# Deletes var/: the default database (stored events, undelivered messages in the outbox, mutes, acknowledgements,
# alert groups), the default Teams sign-in record and what `make lint` writes there. Paths set elsewhere in a config
# are not touched.
clean-data:
	@echo "deleting var/: the default database (stored events, undelivered messages, mutes, acknowledgements)" \
		"and the Teams sign-in record (var/teams-auth.json)"
	rm -rf var
