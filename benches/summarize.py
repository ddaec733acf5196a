"""Reads the wrk runs (TSV: rep kind method rps p50_us p99_us) and prints the BENCHMARKS.md
table: medians per server and method, and the ratios secured/bare and secured/tower."""
import statistics
import sys
from collections import defaultdict

rows = defaultdict(list)
for line in open(sys.argv[1]):
    rep, kind, method, rps, p50, p99 = line.split()
    rows[(kind, method)].append((float(rps), float(p50), float(p99)))

def med(kind, method, i):
    return statistics.median(r[i] for r in rows[(kind, method)])

print("| server | method | req/s (median) | p50 µs | p99 µs | runs |")
print("|---|---|---|---|---|---|")
for method in ("GET", "POST"):
    for kind in ("bare", "secured", "tower"):
        if rows[(kind, method)]:
            print(f"| {kind} | {method} | {med(kind, method, 0):,.0f} | {med(kind, method, 1):.0f} | "
                  f"{med(kind, method, 2):.0f} | {len(rows[(kind, method)])} |")
print()
print("| method | secured / bare | secured / tower |")
print("|---|---|---|")
for method in ("GET", "POST"):
    if rows[("secured", method)] and rows[("bare", method)] and rows[("tower", method)]:
        b = med("secured", method, 0)
        print(f"| {method} | {b / med('bare', method, 0):.2f}× | {b / med('tower', method, 0):.2f}× |")
