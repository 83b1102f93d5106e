#!/usr/bin/env python3
"""Compare the KPIs a run published with the simulator's ground truth; print a markdown page.

usage: python3 docs/tools/ground_truth.py <messages.jsonl> <truth.jsonl>
(messages: the replay/demo output, one {"topic","payload"} per line; truth: simulators' *.truth.jsonl)
"""
import json, sys

messages, truth_path = sys.argv[1], sys.argv[2]
latest = {}
for line in open(messages):
    m = json.loads(line)
    p = m["payload"]
    if p.get("schema") == "edgecollector.kpi/1":
        latest[p["id"]] = p
truth = [json.loads(l) for l in open(truth_path)]
heats = {t["heatId"]: t for t in truth if t["kind"] == "heat" and t.get("close")}
shifts = {(t["entity"], t["start"]): t for t in truth if t["kind"] == "shift"}

def rel(a, b):
    if b == 0:
        return "0" if a == 0 else "inf"
    return f"{abs(a - b) / abs(b):.1e}"

def row(label, got, exp, energy):
    g, e = got, exp
    cells = [label]
    for name, gv, ev in [
        ("charged", g["metal"]["chargedKg"], e["metal"]["chargedKg"]),
        ("tapped", g["metal"]["tappedKg"], e["metal"]["tappedKg"]),
        ("gas", g["energy"]["gasNm3"], energy["gasNm3"]),
        ("kWh", g["energy"]["electricityKWh"], energy["electricityKWh"]),
        ("S1", g["emissions"]["scope1TCO2e"], energy["scope1TCO2e"]),
        ("S2", g["emissions"]["scope2LocationTCO2e"], energy["scope2LocationTCO2e"]),
    ]:
        cells.append(f"{gv:.3f} / {ev:.3f} ({rel(gv, ev)})")
    gi, ei = g["emissions"]["intensityTCO2ePerT"], energy.get("intensityTCO2ePerT")
    cells.append("-" if gi is None or ei is None else f"{gi:.5f} / {ei:.5f} ({rel(gi, ei)})")
    return "| " + " | ".join(cells) + " |"

print("| heat / shift | charged kg | tapped kg | gas Nm3 | kWh | scope 1 t | scope 2 t | tCO2e/t |")
print("|---|---|---|---|---|---|---|---|")
for p in sorted(latest.values(), key=lambda p: (p["window"]["kind"], p["window"]["start"], p["entity"])):
    kind = p["window"]["kind"]
    if kind == "heat" and p["window"]["heatId"] in heats:
        t = heats[p["window"]["heatId"]]
        print(row(p["window"]["heatId"], p, t, t["withSiteMeters"]))
    elif kind == "shift" and (p["entity"], p["window"]["start"]) in shifts:
        t = shifts[(p["entity"], p["window"]["start"])]
        print(row(f'{p["entity"]} shift {p["window"]["start"]}', p, t, t["withSiteMeters"]))
