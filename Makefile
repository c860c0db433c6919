# The two commands a new user needs (see README.md):
#   make run   installs what is missing, builds, imports the sample unit tree and receipt register, digitizes samples/
#              into ./var, then prints the 2023 report and the dossiers still missing scans
#   make test  installs what is missing and runs the whole test suite (with a throw-away PostgreSQL)
# Both are safe to re-run.

CARGO ?= cargo
DATA_DIR ?= var

.PHONY: run test deps build samples fixtures lint clean fuzz

deps:
	./scripts/install-deps.sh

build: deps
	$(CARGO) build --release --locked

SOHOA = ./target/release/sohoa --data-dir $(DATA_DIR)

# The unit tree and the register first (which units, which dossiers were received), then the scans,
# then what leaders read.
run: build
	$(SOHOA) units import config/units.toml
	$(SOHOA) register import samples/_register/so-tiep-nhan-2023.csv
	$(SOHOA) batch samples
	$(SOHOA) report --year 2023
	$(SOHOA) report missing --year 2023

# The record-store tests also run against PostgreSQL: a throw-away cluster on loopback,
# started and removed by scripts/with-postgres.sh.
test: deps
	./scripts/with-postgres.sh $(CARGO) test --release --locked

# Fuzzes each decoder (fuzz/: cargo-fuzz on the stable toolchain) for FUZZ_SECONDS; kept out of
# `make test`. A finding is left in fuzz/artifacts/ and fails the run (see README.md).
FUZZ_SECONDS ?= 60
fuzz: deps
	./scripts/install-fuzz-tools.sh
	FUZZ_SECONDS=$(FUZZ_SECONDS) ./fuzz/run.sh

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

# Regenerates the committed samples (deterministic) from scripts/make_samples.py.
samples: deps
	rm -rf samples && /usr/bin/python3 scripts/make_samples.py samples samples

clean:
	rm -rf $(DATA_DIR)
