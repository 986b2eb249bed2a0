#!/usr/bin/env bash
# Footprint of one integration (BENCHMARKS.md, "Footprint per integration"): the simulators with
# the generated 10,000-product / 1,000-order shop, each in a process of its own, and tillbridge's
# own RSS and CPU seconds per run (GNU time), the state file's size after each, and the daemon's
# RSS while it waits. Usage: deploy/footprint.sh [BINARY] (default target/debug/tillbridge).
# Takes about half an hour: the 1,000-order run is paced by CCV's limits (100 orders a minute).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(realpath "${1:-$root/target/debug/tillbridge}") # the script works in a folder of its own
work=$(mktemp -d /tmp/tillbridge-footprint-XXXX)
cd "$work"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT

# The generated CCV shop reserves every article once (11,394 open orders in status 14): far more
# than a real till keeps open, and reading each one's rows once costs 85 minutes at CCV's limits.
# Keep 50 of them, as a busy shop might have.
"$bin" sim ccv --seed generated --port 0 >ccv.json 2>ccv.log & pids+=($!)
until [ -s ccv.json ]; do sleep 1; done
curl -sf "$(jq -r .base_url ccv.json)/__sim/state" |
  jq '.orders |= (to_entries | .[:50] | from_entries)' >ccv-seed.json
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true; rm ccv.json
"$bin" sim ccv --seed ccv-seed.json --port 0 >ccv.json 2>>ccv.log & pids+=($!)
"$bin" sim shopware --seed generated --port 0 >shop.json 2>shop.log & pids+=($!)
until [ -s ccv.json ] && [ -s shop.json ]; do sleep 1; done
export CCV_URL=$(jq -r .base_url ccv.json) SHOPWARE_URL=$(jq -r .base_url shop.json)

# The default flows.toml, all 1,000 orders in one run; the generated POS has no product
# properties but "Batch", so none are mapped.
sed -e 's/^batch_size = 100 /batch_size = 1000/' -e '/^properties = /d' "$root/flows.toml" >flows.toml
grep -q 'batch_size = 1000' flows.toml

state_size() { stat -c %s tillbridge.redb 2>/dev/null || echo 0; }
measure() { # LABEL COMMAND…: one command, its wall time, CPU seconds, peak RSS and the state file
  local label=$1; shift
  local code=0
  /usr/bin/time -f '%e %U %S %M' -o time.txt "$@" >"$label.out" 2>"$label.log" || code=$?
  read -r wall user sys rss < <(tail -n 1 time.txt)
  printf '%-22s exit %-2s wall %7.1f s  cpu %7.2f s  peak RSS %6d KiB  state %9d B\n' \
    "$label" "$code" "$wall" "$(awk "BEGIN{print $user + $sys}")" "$rss" "$(state_size)"
}

measure validate "$bin" validate
measure stock-first "$bin" once stock
measure stock-next "$bin" once stock
measure orders-1000 "$bin" once orders
measure orders-next "$bin" once orders
measure categories-first "$bin" once categories
measure categories-next "$bin" once categories
measure products-first timeout 420 "$bin" once products
measure products-next timeout 420 "$bin" once products

# State growth per run at steady state: 10 more unchanged stock runs.
before=$(state_size)
for i in $(seq 10); do "$bin" once stock >/dev/null 2>>steady.log || true; done
echo "10 unchanged stock runs: state file $before → $(state_size) B"
"$bin" state check >check.out 2>&1 || true
cat check.out

# The daemon waiting between runs: RSS after start (plugins loaded, dashboard up).
"$bin" run >run.out 2>run.log & pids+=($!)
daemon=$!
for t in 10 20 30 40 50 60; do
  sleep 10
  echo "daemon at ${t}s: $(grep VmRSS /proc/$daemon/status)  cpu ticks $(awk '{print $14+$15}' /proc/$daemon/stat)"
done
grep -c 'run started' run.log | sed 's/^/runs started meanwhile: /' || true
echo "work dir: $work"
