#!/usr/bin/env bash
# Installs what `make fuzz` needs beyond scripts/install-deps.sh: cargo-fuzz (the
# libFuzzer driver), pinned, into fuzz/.tools/bin, built with the machine's stable
# toolchain. Safe to re-run: it only builds when the pinned version is missing.
# (`make fuzz` runs it with RUSTC_BOOTSTRAP=1 and no sanitizer: see fuzz/run.sh.)
set -euo pipefail

CARGO_FUZZ_VERSION=0.13.1

root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/fuzz/.tools"
if ! "$tools/bin/cargo-fuzz" --version 2>/dev/null | grep -qx "cargo-fuzz $CARGO_FUZZ_VERSION"; then
  echo "installing cargo-fuzz $CARGO_FUZZ_VERSION into $tools" >&2
  cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION" --root "$tools" --quiet
fi
