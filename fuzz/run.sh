#!/usr/bin/env bash
# `make fuzz`: builds the fuzz targets with cargo-fuzz on the stable toolchain
# (RUSTC_BOOTSTRAP=1 for the coverage flags libFuzzer needs, no sanitizer: the
# decoders are safe Rust), makes the seed corpora once (make_seeds.py), then
# fuzzes each target for FUZZ_SECONDS. A crash, a hang (FUZZ_TIMEOUT seconds on
# one input) or going over FUZZ_RSS_MB leaves the input in fuzz/artifacts/<target>/
# and makes this exit non-zero; `fuzz/run.sh <target> <that file>` replays it.
set -euo pipefail

FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
FUZZ_TIMEOUT="${FUZZ_TIMEOUT:-20}"
FUZZ_RSS_MB="${FUZZ_RSS_MB:-1536}"
FUZZ_TARGETS="${FUZZ_TARGETS:-image_file tiff pdf}"

here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
cargo_fuzz="$here/.tools/bin/cargo-fuzz"
[ -x "$cargo_fuzz" ] || ../scripts/install-fuzz-tools.sh
target_dir="${CARGO_TARGET_DIR:-$here/target}/fuzz"
export RUSTC_BOOTSTRAP=1
build=(--sanitizer none --release --debug-assertions --target-dir "$target_dir")

if [ $# -eq 2 ]; then # replay one input
  "$cargo_fuzz" run "${build[@]}" "$1" "$2"
  exit
fi

"$cargo_fuzz" build "${build[@]}"
[ -d seeds ] || { /usr/bin/python3 make_seeds.py seeds.tmp && mv seeds.tmp seeds; }

failed=()
for t in $FUZZ_TARGETS; do
  mkdir -p "corpus/$t" "artifacts/$t"
  log="artifacts/$t/last-run.log"
  echo "fuzzing $t for ${FUZZ_SECONDS}s (log: fuzz/$log)" >&2
  if "$cargo_fuzz" run "${build[@]}" "$t" "corpus/$t" "seeds/$t" -- \
      -max_total_time="$FUZZ_SECONDS" -timeout="$FUZZ_TIMEOUT" -rss_limit_mb="$FUZZ_RSS_MB" \
      -artifact_prefix="artifacts/$t/" -print_final_stats=1 >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
    failed+=("$t")
    grep -E "ERROR|panicked|SUMMARY|Test unit written" "$log" | head -20 >&2 || true
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1)
  echo "$t: $status, ${runs:-?} runs, ${rate:-?} execs/s, ${cov:-cov: ?}, corpus $(ls "corpus/$t" | wc -l) files"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found problems in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
