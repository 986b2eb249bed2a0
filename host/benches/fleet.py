#!/usr/bin/env python3
"""Many integrations in one process: RSS and CPU of `tillbridge run --integrations`.

Starts PAIRS simulator pairs (`tillbridge sim shopware|ccv`), writes INTEGRATIONS integration
folders spread over them (each its own flows.toml and state file; a stock flow every 30 seconds),
runs them in one process for SECONDS, samples the process's RSS and CPU from /proc, and checks in
its log that every integration finished its runs without a failed record.

    cargo build --release -p tillbridge
    python3 host/benches/fleet.py [--binary target/release/tillbridge] [--integrations 100]
        [--pairs 20] [--seconds 150]
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

CONFIG = """
[host]
state = "state.redb"
cache_dir = "{cache}"

[plugins.shopware]
file = "builtin:shopware"

[plugins.ccv-salespos]
file = "builtin:ccv-salespos"

[connections.shop]
plugin = "shopware"
url = "{shop[base_url]}"
secrets = {{ client_id = "{shop[client_id]}", client_secret = "{shop[client_secret]}" }}

[connections.pos]
plugin = "ccv-salespos"
url = "{pos[base_url]}"
secrets = {{ public_key = "{pos[public_key]}", secret = "{pos[secret]}" }}

[flows.stock]
kind = "stock"
source = "pos"
target = "shop"
schedule = "*/30 * * * * *"

[dashboard]
enabled = false
"""

TICK = os.sysconf("SC_CLK_TCK")


def sim(binary, system):
    proc = subprocess.Popen([binary, "sim", system, "--port", "0"], stdout=subprocess.PIPE, text=True)
    return proc, json.loads(proc.stdout.readline())


def sample(pid):
    """RSS in MiB and CPU seconds (user + system) of `pid`."""
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:")) / 1024
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return rss, (int(fields[11]) + int(fields[12])) / TICK


def main():
    args = argparse.ArgumentParser()
    args.add_argument("--binary", default="target/release/tillbridge")
    args.add_argument("--integrations", type=int, default=100)
    args.add_argument("--pairs", type=int, default=20)
    args.add_argument("--seconds", type=int, default=150)
    args = args.parse_args()
    work = tempfile.mkdtemp(prefix="tillbridge-fleet-")
    sims = [(sim(args.binary, "shopware"), sim(args.binary, "ccv")) for _ in range(args.pairs)]
    names = [f"shop-{i:03}" for i in range(args.integrations)]
    for i, name in enumerate(names):
        (_, shop), (_, pos) = sims[i % args.pairs]
        os.makedirs(f"{work}/fleet/{name}")
        with open(f"{work}/fleet/{name}/flows.toml", "w") as f:
            f.write(CONFIG.format(cache=f"{work}/cache", shop=shop, pos=pos))
    daemon = subprocess.Popen(
        [args.binary, "run", "--integrations", f"{work}/fleet"],
        stderr=subprocess.PIPE, text=True, env={**os.environ, "NO_COLOR": "1"},
    )
    log = []
    reader = threading.Thread(target=lambda: log.extend(daemon.stderr), daemon=True)
    reader.start()
    samples = []
    start = time.time()
    while time.time() - start < args.seconds:
        samples.append((time.time() - start, time.gmtime().tm_sec, *sample(daemon.pid)))
        time.sleep(0.5)
    daemon.terminate()
    daemon.wait()
    reader.join(5)
    for pair in sims:
        for proc, _ in pair:
            proc.terminate()
            proc.wait()

    finished = {n: 0 for n in names}
    failed = []
    for line in log:
        m = re.search(r"integration=(shop-\d+)", line)
        if m and "status=Finished" in line:
            finished[m.group(1)] += 1
        if m and ("broken" in line or "failed" in line or "ERROR" in line):
            failed.append(line.strip())
    # Idle: the seconds 10-25 and 40-55 of a minute, between the runs at :00 and :30, after start-up.
    idle = [s for s in samples if s[0] > 35 and (10 <= s[1] <= 25 or 40 <= s[1] <= 55)]
    busy = [s for s in samples if s[0] > 35 and (s[1] <= 5 or 30 <= s[1] <= 35)]
    cpu = lambda ss: sum(b[3] - a[3] for a, b in zip(ss, ss[1:]) if b[0] - a[0] < 1) / max(
        sum(b[0] - a[0] for a, b in zip(ss, ss[1:]) if b[0] - a[0] < 1), 1e-9)
    started = next((s for s in samples if s[0] > 30), samples[-1])
    print(f"integrations: {args.integrations} over {args.pairs} simulator pairs, {args.seconds} s")
    print(f"runs finished per integration: min {min(finished.values())}, max {max(finished.values())}")
    print(f"error lines: {len(failed)}")
    for line in failed[:10]:
        print("  " + line)
    print(f"RSS after start-up (30 s): {started[2]:.0f} MiB; CPU used by then: {started[3]:.1f} s")
    print(f"RSS at idle: {max(s[2] for s in idle):.0f} MiB max; CPU at idle: {100 * cpu(idle):.1f} % of a core")
    print(f"RSS during runs: {max(s[2] for s in busy):.0f} MiB max; CPU during runs: {100 * cpu(busy):.1f} % of a core")
    print(f"RSS peak: {max(s[2] for s in samples):.0f} MiB; CPU in all: {samples[-1][3]:.1f} s")
    ok = min(finished.values()) > 0 and not failed
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
