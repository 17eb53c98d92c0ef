#!/usr/bin/env python3
"""Summarize a JMH JSON result of Switchboard's benchmarks: a table, ratio lines, target lines.

Usage: summarize.py RESULT.json [RESULT.json ...]

With several results (the rounds of `scripts/bench.sh --paired=N`, each holding every variant of
one round), each ratio is computed within each round and combined by its geometric mean, so that
the machine's drift between rounds cancels out; a `rounds <name>: ...` line before each such
ratio lists the rounds' values.

Every ratio is printed as `ratio <name>: <value>`, one per line, so that a script can check it:

  ratio switchboard/spring route <tenants>      Switchboard's ns/op over Spring's (lower is better)
  ratio handoff/spring route <tenants>          Switchboard's hand-off without the decision over Spring
  ratio switchboard route <max>/<min>           Switchboard's ns/op at the most tenants over the fewest
  ratio spring route <max>/<min>                the same for Spring
  ratio routed/direct <select|insert> c<N>      Switchboard's ops/s over plain jOOQ on a pool (higher is better)
  ratio routed/spring <select|insert> c<N>      Switchboard's ops/s over jOOQ on Spring's routing
  ratio facade/<direct|spring> ...              the same through TenantDatabase.query / execute
  ratio declared/<direct|spring> ...            the same through TenantDatabase.read / write
  ratio causal/pin write-read c<N>              causal consistency's requests/s over the pin's
  ratio replica-reads/reads <pin|causal> c<N>   the share of reads after a write that a replica served

The route ratios and targets are for a datasource per tenant; for tenants that share N
datasources (`-p dataSources=N`) the same names end in ` over N datasources`.

Then one `target <name>: met|missed (...)` line per target of issue #6. A ratio or target whose
benchmarks are not in the result is left out.
"""

import json
import math
import sys

ROUTE = "RouteDecisionBenchmark"
END_TO_END = "EndToEndBenchmark"
READ_YOUR_WRITES = "ReadYourWritesBenchmark"

# EndToEndBenchmark's variants that route through Switchboard: RoutedDsl.dsl(), TenantDatabase.query
# and execute, TenantDatabase.read and write.
ENTRY_POINTS = ("routed", "facade", "declared")

# The layout of RouteDecisionBenchmark in which each tenant has its own datasource.
PER_TENANT = "per-tenant"

# The flatness check: the slowest tenant count may cost at most this much more than the fastest.
FLAT_TOLERANCE = 1.25


def load(path):
    with open(path, encoding="utf-8") as file:
        runs = json.load(file)
    rows = []
    for run in runs:
        name = run["benchmark"].rsplit(".", 2)
        primary = run["primaryMetric"]
        norm = run.get("secondaryMetrics", {}).get("gc.alloc.rate.norm")
        iterations = [value for fork in primary.get("rawData", []) for value in fork]
        rows.append({
            "class": name[-2],
            "method": name[-1],
            "params": run.get("params", {}),
            "score": primary["score"],
            "error": primary.get("scoreError"),
            "unit": primary["scoreUnit"],
            "bytes": norm["score"] if norm else None,
            "secondary": {key: value["score"] for key, value in run.get("secondaryMetrics", {}).items()},
            "range": (min(iterations), max(iterations)) if iterations else None,
        })
    return rows


def number(value):
    # JMH writes "NaN" for the error of a single iteration.
    try:
        value = float(value)
    except (TypeError, ValueError):
        return "n/a"
    if value != value:
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def bytes_per_op(value):
    return "n/a" if value is None else f"{round(float(value)):,}"


def table(rows):
    header = ("benchmark", "params", "score", "error", "unit", "B/op", "iterations min-max")
    lines = [header]
    for row in rows:
        params = " ".join(f"{key}={value}" for key, value in sorted(row["params"].items()))
        lines.append((f"{row['class']}.{row['method']}", params, number(row["score"]),
                      "± " + number(row["error"]), row["unit"], bytes_per_op(row["bytes"]),
                      f"{number(row['range'][0])}-{number(row['range'][1])}" if row["range"] else "n/a"))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    right = {2, 3, 5, 6}
    for line in lines:
        print("  ".join(cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
                        for i, cell in enumerate(line)).rstrip())


def find(rows, cls, method, **params):
    for row in rows:
        if row["class"] == cls and row["method"] == method and all(
                row["params"].get(key) == value for key, value in params.items()):
            return row
    return None


def route_layouts(rows):
    """The datasource layouts of the routing rows, each with the suffix of its ratio and target
    names: none for a datasource per tenant (and for results from before the parameter), and
    ` over <N> datasources` for tenants that share N."""
    layouts = sorted({row["params"].get("dataSources") for row in rows
                      if row["class"] == ROUTE and "tenants" in row["params"]},
                     key=lambda layout: (layout not in (None, PER_TENANT), layout or ""))
    return [(layout, "" if layout in (None, PER_TENANT) else f" over {layout} datasources") for layout in layouts]


def route_scores(rows, layout, method):
    """ns/op of one routing method in one layout, by tenant count."""
    return {int(row["params"]["tenants"]): row["score"] for row in rows
            if row["class"] == ROUTE and row["method"] == method and "tenants" in row["params"]
            and row["params"].get("dataSources") == layout}


def main(paths):
    rounds = [load(path) for path in paths]
    shown = []
    for index, rows in enumerate(rounds, 1):
        for row in rows:
            if len(rounds) > 1:
                row = dict(row, params=dict(row["params"], round=str(index)))
            shown.append(row)
    shown.sort(key=lambda row: (row["class"], row["method"],
                                tuple((0, int(v), "") if v.isdigit() else (1, 0, v) for _, v in sorted(row["params"].items()))))
    table(shown)
    print()

    per_round = [compute_ratios(rows) for rows in rounds]
    names = list(dict.fromkeys(name for values in per_round for name, _ in values))
    ratios = []
    for name in names:
        values = [value for round_values in per_round for key, value in round_values if key == name]
        if len(rounds) > 1:
            print(f"rounds {name}: " + " ".join(f"{value:.2f}" for value in values))
        ratios.append((name, math.exp(sum(math.log(value) for value in values) / len(values))))
    for name, value in ratios:
        print(f"ratio {name}: {value:.2f}")

    # The route targets need absolute times: from a single result only.
    rows = rounds[0] if len(rounds) == 1 else []
    print_targets(rows, ratios)


def compute_ratios(rows):
    ratios = []

    for layout, suffix in route_layouts(rows):
        ours, spring, hand_off = (route_scores(rows, layout, method) for method in ("switchboard", "spring", "handOff"))
        for tenants in sorted(ours.keys() & spring.keys()):
            ratios.append((f"switchboard/spring route {tenants}{suffix}", ours[tenants] / spring[tenants]))
            if tenants in hand_off:
                ratios.append((f"handoff/spring route {tenants}{suffix}", hand_off[tenants] / spring[tenants]))
        for method, scores in (("switchboard", ours), ("spring", spring)):
            if len(scores) > 1:
                low, high = min(scores), max(scores)
                ratios.append((f"{method} route {high}/{low}{suffix}", scores[high] / scores[low]))

    for operation in ("select", "insert"):
        for concurrency in ("1", "64"):
            method = f"{operation}C{concurrency}"
            for entry in ENTRY_POINTS:
                routed = find(rows, END_TO_END, method, variant=entry)
                for other in ("direct", "spring"):
                    base = find(rows, END_TO_END, method, variant=other)
                    if routed and base:
                        ratios.append((f"{entry}/{other} {operation} c{concurrency}", routed["score"] / base["score"]))

    for concurrency in ("1", "16"):
        method = f"writeThenReadC{concurrency}"
        pin = find(rows, READ_YOUR_WRITES, method, consistency="pin")
        causal = find(rows, READ_YOUR_WRITES, method, consistency="causal")
        if pin and causal:
            ratios.append((f"causal/pin write-read c{concurrency}", causal["score"] / pin["score"]))
        for row in (pin, causal):
            if row:
                replica = row["secondary"].get("replicaReads", 0)
                primary = row["secondary"].get("primaryReads", 0)
                if replica + primary > 0:
                    ratios.append((f"replica-reads/reads {row['params']['consistency']} c{concurrency}",
                                   replica / (replica + primary)))

    return ratios


def print_targets(rows, ratios):
    targets = []
    for layout, suffix in route_layouts(rows):
        ours, spring, hand_off = (route_scores(rows, layout, method) for method in ("switchboard", "spring", "handOff"))
        if ours:
            worst = max(ours.values())
            targets.append((f"switchboard route <= 50 ns/op{suffix}", worst <= 50, f"slowest {number(worst)} ns/op"))
        shared = sorted(ours.keys() & spring.keys())
        if shared:
            worst = max(ours[tenants] / spring[tenants] for tenants in shared)
            floor = [hand_off[tenants] / spring[tenants] for tenants in shared if tenants in hand_off]
            detail = f"highest {worst:.2f}" + (f"; the hand-off alone, highest {max(floor):.2f}" if floor else "")
            targets.append((f"switchboard/spring route <= 0.33{suffix}", worst <= 1 / 3, detail))
        if len(ours) > 1:
            spread = max(ours.values()) / min(ours.values())
            targets.append((f"switchboard route flat across tenant counts (max/min <= {FLAT_TOLERANCE}){suffix}",
                            spread <= FLAT_TOLERANCE, f"max/min {spread:.2f}"))
    for entry in ENTRY_POINTS:
        direct = [value for name, value in ratios if name.startswith(f"{entry}/direct ")]
        if direct:
            targets.append((f"{entry}/direct >= 0.97", min(direct) >= 0.97, f"lowest {min(direct):.2f}"))
        spring = [value for name, value in ratios if name.startswith(f"{entry}/spring ")]
        if spring:
            targets.append((f"{entry}/spring >= 1.00", min(spring) >= 1.0, f"lowest {min(spring):.2f}"))

    if targets:
        print()
    for name, met, detail in targets:
        print(f"target {name}: {'met' if met else 'missed'} ({detail})")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: summarize.py RESULT.json [RESULT.json ...]")
    main(sys.argv[1:])
