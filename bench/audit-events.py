#!/usr/bin/env python3
"""Writes N audit events (JSON lines) replicated from the repository's test corpus.

The mix is what a cluster's audit log looks like: mostly the reads and writes of a benign
cluster (the hkerma dataset, converted from its flattened CSV), and about one event in a
hundred from the labelled attack material (Falco's traces and Panther's labelled events,
positive and negative). Every copy gets a fresh auditID and timestamps that advance, so
windows and baselines see a stream that moves in time.

    bench/audit-events.py N OUT.jsonl [--rate EVENTS_PER_SECOND]
"""
import csv, glob, io, json, os, re, sys, uuid
from datetime import datetime, timedelta, timezone

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DATA = os.path.join(ROOT, "crates/audit/tests/data")


def benign():
    events = []
    text = open(os.path.join(DATA, "corpus/hkerma_audit-logs.csv"), encoding="utf-8").read()
    for row in csv.reader(io.StringIO(text)):
        if len(row) < 12 or not row[3]:
            continue
        _host, ts, user, verb, resource, sub, name, _rname, uri, audit_id, stage, code = row[:12]
        ns = re.search(r"/namespaces/([^/?]+)", uri)
        ref = {"resource": resource, "apiVersion": "v1"} if resource else None
        if ref is not None:
            if ns and not (resource == "namespaces"):
                ref["namespace"] = ns.group(1)
            if name:
                ref["name"] = name
            if sub:
                ref["subresource"] = sub
        groups = ["system:authenticated"]
        if user.startswith("system:serviceaccount:"):
            groups = ["system:serviceaccounts", "system:serviceaccounts:" + user.split(":")[2], "system:authenticated"]
        elif user.startswith("system:node:"):
            groups = ["system:nodes", "system:authenticated"]
        agent = "kubectl/v1.26.1 (linux/amd64) kubernetes/8f94681" if not user.startswith("system:") else "kube-controller-manager/v1.26.1 (linux/amd64) kubernetes/8f94681/system:serviceaccount"
        event = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", "auditID": audit_id,
                 "stage": stage or "ResponseComplete", "requestURI": uri, "verb": verb,
                 "user": {"username": user, "groups": groups}, "sourceIPs": ["10.0.0.11"], "userAgent": agent,
                 "responseStatus": {"metadata": {}, "code": int(code) if code.isdigit() else 200},
                 "requestReceivedTimestamp": ts, "stageTimestamp": ts,
                 "annotations": {"authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": ""}}
        if ref is not None:
            event["objectRef"] = ref
        events.append(event)
    return events


def attacks():
    events = []
    for path in sorted(glob.glob(os.path.join(DATA, "falco/traces/*.json"))):
        text = open(path, encoding="utf-8").read()
        for line in text.splitlines() if text.lstrip().startswith("{\"") and "\n{" in text else [text]:
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict) and ("verb" in value or value.get("kind") == "Event"):
                events.append(value)
    for line in open(os.path.join(DATA, "corpus/panther-labelled-events.jsonl"), encoding="utf-8"):
        test = json.loads(line)
        inner = test.get("k8s_event")
        if isinstance(inner, dict) and "verb" in inner:
            events.append(inner)
    return events


def main():
    count, out = int(sys.argv[1]), sys.argv[2]
    rate = float(sys.argv[sys.argv.index("--rate") + 1]) if "--rate" in sys.argv else 300.0
    base, rare = benign(), attacks()
    start = datetime(2026, 1, 5, 9, 0, 0, tzinfo=timezone.utc)
    step = timedelta(seconds=1.0 / rate)
    with open(out, "w", encoding="utf-8") as f:
        b = r = 0
        for i in range(count):
            if i % 100 == 99:
                event = dict(rare[r % len(rare)])
                r += 1
            else:
                event = dict(base[b % len(base)])
                b += 1
            ts = (start + step * i).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            event["auditID"] = str(uuid.UUID(int=i + 1))
            event["requestReceivedTimestamp"] = ts
            event["stageTimestamp"] = ts
            f.write(json.dumps(event, separators=(",", ":")))
            f.write("\n")
    print(f"{count} events ({len(base)} benign and {len(rare)} labelled-attack events replicated) to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
