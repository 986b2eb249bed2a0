#!/usr/bin/env bash
# What an idle daemon costs (BENCHMARKS.md, "An idle daemon"): `tillbridge run` with every flow
# of the default flows.toml scheduled once a year, the demo simulators in processes of their own;
# after 8 s of start, the daemon's CPU ticks (1/100 s) and its threads' context switches over
# 30 s, from /proc. Linux only.
# Usage: host/benches/idle.sh [BINARY]   (default: target/release/tillbridge)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(realpath "${1:-$root/target/release/tillbridge}")
work=$(mktemp -d /tmp/tillbridge-idle-XXXX)
cd "$work"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
"$bin" sim ccv --port 0 >ccv.json 2>ccv.log & pids+=($!)
"$bin" sim shopware --port 0 >shop.json 2>shop.log & pids+=($!)
until [ -s ccv.json ] && [ -s shop.json ]; do sleep 1; done
export CCV_URL=$(jq -r .base_url ccv.json) SHOPWARE_URL=$(jq -r .base_url shop.json)
sed 's/^schedule = .*/schedule = "0 0 1 1 *"/' "$root/flows.toml" >flows.toml
"$bin" run >run.out 2>run.log & daemon=$!; pids+=($daemon)
switches() { cat /proc/"$daemon"/task/*/status | awk '/ctxt_switches/ {s += $2} END {print s}'; }
ticks() { awk '{print $14 + $15}' /proc/"$daemon"/stat; }
sleep 8
t0=$(ticks) s0=$(switches)
sleep 30
echo "idle for 30 s: $(($(ticks) - t0)) CPU ticks (1/100 s), $(($(switches) - s0)) context switches"
