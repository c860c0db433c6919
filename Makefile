# The two commands a new user needs (see README.md):
#   make run   installs what is missing, builds, digitizes samples/ into ./var, prints the summary and counts
#   make test  installs what is missing and runs the whole test suite
# Both are safe to re-run.

CARGO ?= cargo
DATA_DIR ?= var

.PHONY: run test deps build samples fixtures lint clean

deps:
	./scripts/install-deps.sh

build: deps
	$(CARGO) build --release --locked

# batch prints the run's summary and then the digitization counts.
run: build
	./target/release/sohoa batch samples --data-dir $(DATA_DIR)

test: deps
	$(CARGO) test --release --locked

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

# Regenerates the committed samples (deterministic) from scripts/make_samples.py.
samples: deps
	rm -rf samples && /usr/bin/python3 scripts/make_samples.py samples samples

clean:
	rm -rf $(DATA_DIR)
