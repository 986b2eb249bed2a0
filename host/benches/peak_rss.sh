#!/usr/bin/env bash
# Peak RSS of tillbridge's runs over the generated 10,000-product shop (BENCHMARKS.md, "Memory"):
# the simulators in processes of their own, CCV's limits off (`tillbridge sim ccv --no-limits`)
# and the host's pacing as high, so that a run takes seconds, not CCV's hours; each run is one
# `tillbridge once FLOW` under GNU time (wall, CPU seconds, peak RSS) in a fresh folder.
# Usage: host/benches/peak_rss.sh [BINARY] [FLOW…]
#   default: target/release/tillbridge; stock stock products stock products
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(realpath "${1:-$root/target/release/tillbridge}")
shift || true
flows=("$@")
[ ${#flows[@]} -gt 0 ] || flows=(stock stock products stock products)
work=$(mktemp -d /tmp/tillbridge-rss-XXXX)
cd "$work"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
"$bin" sim ccv --seed generated --no-limits --port 0 >ccv.json 2>ccv.log & pids+=($!)
"$bin" sim shopware --seed generated --port 0 >shop.json 2>shop.log & pids+=($!)
until [ -s ccv.json ] && [ -s shop.json ]; do sleep 1; done
export CCV_URL=$(jq -r .base_url ccv.json) SHOPWARE_URL=$(jq -r .base_url shop.json)

# The default flows.toml with CCV's pacing as high; the generated POS has no product properties
# but "Batch", so none are mapped.
high='rate_limits = { total_per_window = 1000000, reads_per_window = 1000000, writes_per_window = 1000000, window_secs = 1, operations = { "GET /productqueries" = { requests = 1000000, per_seconds = 1 } } }'
grep -v '^properties = ' "$root/flows.toml" |
  awk -v high="$high" '/^rate_limits = /{print high; next} {print}' >flows.toml
grep -q 'writes_per_window = 1000000' flows.toml

"$bin" check >check.out 2>&1 # compiles the plugins into the cache, outside the runs measured
for flow in "${flows[@]}"; do
  code=0
  /usr/bin/time -f '%e %U %S %M' -o time.txt "$bin" once "$flow" >"$flow.out" 2>"$flow.log" || code=$?
  read -r wall user sys rss < <(tail -n 1 time.txt)
  printf '%-9s exit %s  wall %6.1f s  cpu %6.2f s  peak RSS %6d KiB  %s\n' "$flow" "$code" \
    "$wall" "$(awk "BEGIN{print $user + $sys}")" "$rss" "$(grep -m1 ' records' "$flow.out" | sed 's/^ *//')"
done
echo "state file: $(stat -c %s tillbridge.redb) B; work dir: $work"
