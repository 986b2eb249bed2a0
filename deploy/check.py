#!/usr/bin/env python3
"""Renders every kustomization under deploy/ (the base and each overlay) and checks it offline:
the Kubernetes schemas of the oldest and newest version we support (kubernetes-validate, strict),
then what no schema knows: SHARDS equals the StatefulSet's replicas, the ServiceMonitor selects
the governing Service by a port it has, and every ConfigMap item names a key the ConfigMap has.
The ServiceMonitor (a CRD) has no schema in kubernetes-validate: it gets the checks here instead.
Usage: deploy/check.py [KUBECTL]  (needs kubernetes-validate and PyYAML on PATH / in Python)."""

import subprocess
import sys
from pathlib import Path

import yaml

# The pod-index label that gives each shard its number is on by default from 1.28 on.
VERSIONS = ["1.28.0", "1.37.0"]
deploy = Path(__file__).resolve().parent
kubectl = sys.argv[1] if len(sys.argv) > 1 else "kubectl"


def problems(name, docs):
    """What is wrong in one rendering, beyond the schemas."""
    by_kind = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], []).append(doc)
    (sts,) = by_kind["StatefulSet"]
    spec = sts["spec"]
    (container,) = [c for c in spec["template"]["spec"]["containers"] if c["name"] == "tillbridge"]
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    if env.get("SHARDS") != str(spec["replicas"]):
        yield f"SHARDS is {env.get('SHARDS')!r} but replicas is {spec['replicas']}: copy the base's `replacements` into the overlay"
    services = {s["metadata"]["name"]: s for s in by_kind.get("Service", [])}
    governing = services.get(spec["serviceName"])
    if governing is None:
        yield f"no Service {spec['serviceName']!r}, the StatefulSet's serviceName"
    for monitor in by_kind.get("ServiceMonitor", []):
        wanted = monitor["spec"]["selector"]["matchLabels"]
        chosen = [s for s in services.values() if wanted.items() <= s["metadata"].get("labels", {}).items()]
        if chosen != [governing]:
            yield f"ServiceMonitor {monitor['metadata']['name']} selects {[s['metadata']['name'] for s in chosen]}, not the governing Service alone"
        ports = {p["name"] for s in chosen for p in s["spec"]["ports"]}
        for endpoint in monitor["spec"]["endpoints"]:
            if endpoint["port"] not in ports:
                yield f"ServiceMonitor scrapes port {endpoint['port']!r}, which its Service lacks"
    maps = {m["metadata"]["name"]: m for m in by_kind.get("ConfigMap", [])}
    for volume in spec["template"]["spec"]["volumes"]:
        source = volume.get("configMap")
        if source and source["name"] in maps:
            keys = maps[source["name"]].get("data", {})
            for item in source.get("items", []):
                if item["key"] not in keys:
                    yield f"volume {volume['name']}: item {item['key']!r} is not in ConfigMap {source['name']}"


failed = False
for kustomization in sorted(deploy.glob("**/kustomization.yaml")):
    folder = kustomization.parent
    name = folder.relative_to(deploy)
    rendered = subprocess.run([kubectl, "kustomize", str(folder)], check=True, capture_output=True, text=True).stdout
    out = Path(f"/tmp/tillbridge-deploy-{str(name).replace('/', '-')}.yaml")
    out.write_text(rendered)
    for version in VERSIONS:
        result = subprocess.run(
            ["kubernetes-validate", "--strict", "--quiet", "--no-warn", "-k", version, str(out)],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            failed = True
            print(f"{name}: Kubernetes {version}:\n{result.stdout}{result.stderr}", file=sys.stderr)
    for problem in problems(name, list(yaml.safe_load_all(rendered))):
        failed = True
        print(f"{name}: {problem}", file=sys.stderr)
    print(f"deploy/{name}: rendered and checked against Kubernetes {', '.join(VERSIONS)}")
sys.exit(1 if failed else 0)
