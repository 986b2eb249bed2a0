#!/usr/bin/env bash
# One property test run long: chunks of PROPTEST_CASES (each a fresh random seed, doubled while a
# chunk takes under 30 s of CPU) until the property has had at least 600 s of CPU, or a failure
# (printed, with proptest's shrunk case; the seed is saved under proptest-regressions/).
#
# Usage: tests/long-property-run.sh TEST-BINARY FULL::TEST::NAME
#   the binary from `cargo test -p PACKAGE --lib --no-run` (it prints the path), the name from
#   `TEST-BINARY --list`. Runs at nice 19, so other work on the machine goes first.
set -euo pipefail
bin=$1 name=$2
cases=5000 total_cpu=0 total_cases=0
times=$(mktemp) out=$(mktemp)
trap 'rm -f "$times" "$out"' EXIT
while awk "BEGIN{exit !($total_cpu < 600)}"; do
  if ! /usr/bin/time -o "$times" -f "%U %S" env PROPTEST_CASES=$cases nice -n 19 \
      "$bin" "$name" --exact --test-threads 1 >"$out" 2>&1 \
      || ! grep -q "test result: ok. 1 passed" "$out"; then
    cat "$out"
    echo "$name: FAILED after $total_cases cases" >&2
    exit 1
  fi
  cpu=$(tail -1 "$times" | awk '{print $1 + $2}')
  total_cpu=$(awk "BEGIN{print $total_cpu + $cpu}")
  total_cases=$((total_cases + cases))
  if awk "BEGIN{exit !($cpu < 30)}"; then cases=$((cases * 2)); fi
done
echo "$name: $total_cases cases, $total_cpu s CPU, no failure"
