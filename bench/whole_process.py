#!/usr/bin/env python3
"""Whole-process measurements for scripts/bench.sh.

  whole_process.py run OUT LABEL PEER RECORDS VALUE_BYTES BROKER_PID INPUT -- CMD...
      runs CMD with INPUT on stdin and appends one JSON line to OUT: wall
      seconds (start-up included), the process's user and system CPU and
      peak RSS (from wait4, children included), and the broker's CPU
      (utime + stime of BROKER_PID from /proc, all its threads) before and
      after. Fails if CMD fails.
  whole_process.py table OUT
      prints the rows of OUT as a Markdown table, each row's peers side by
      side with the ratios ours / kcat; a row run several times shows the
      median of each figure.
"""
import json
import os
import subprocess
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def cpu_of(pid):
    """utime + stime of a process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15
    return (int(fields[11]) + int(fields[12])) / TICK


def run(out, label, peer, records, size, broker, path, cmd):
    b0 = cpu_of(broker)
    with open(path, "rb") as stdin:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        stdout = p.stdout.read()
        stderr = p.stderr.read()
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
    b1 = cpu_of(broker)
    code = os.waitstatus_to_exitcode(status)
    text = (stdout + stderr).decode(errors="replace").strip()
    if code != 0:
        sys.exit(f"{peer} ({label}) failed with {code}:\n{text}")
    # kafka-produce and the Python loop print their count; kcat exits 1 on
    # any failed delivery (and prints nothing).
    if peer != "kcat" and not any(
        l.startswith(f"records: {records}  delivered: {records}  failed: 0 ") for l in text.splitlines()
    ):
        sys.exit(f"{peer} ({label}) did not deliver {records} records:\n{text}")
    row = {
        "label": label, "peer": peer, "records": records, "size": size,
        "wall": wall, "user": ru.ru_utime, "sys": ru.ru_stime, "rss_kb": ru.ru_maxrss,
        "broker_cpu": b1 - b0,
    }
    with open(out, "a") as f:
        f.write(json.dumps(row) + "\n")
    print(f"  {peer:<14} {records / wall:>10,.0f} msgs/s  {records * size / wall / 1e6:7.1f} MB/s  "
          f"cpu {1e9 * (ru.ru_utime + ru.ru_stime) / records:6.0f} ns/rec  rss {ru.ru_maxrss / 1024:6.1f} MB  "
          f"broker {1e9 * (b1 - b0) / records:6.0f} ns/rec  ({wall:.2f} s)", flush=True)


def table(out):
    runs = [json.loads(l) for l in open(out)]
    # Several runs of a row: each figure is its median over them.
    grouped = {}
    for r in runs:
        grouped.setdefault((r["label"], r["peer"]), []).append(r)
    med = lambda xs: sorted(xs)[len(xs) // 2] if len(xs) % 2 else sum(sorted(xs)[len(xs) // 2 - 1:len(xs) // 2 + 1]) / 2
    rows = []
    for (label, peer), rs in grouped.items():
        rate = med([r["records"] / r["wall"] for r in rs])
        rows.append({"label": label, "peer": peer, "records": rs[0]["records"], "wall": rs[0]["records"] / rate,
                     "user": med([r["user"] + r["sys"] for r in rs]), "sys": 0.0,
                     "rss_kb": med([r["rss_kb"] for r in rs]), "broker_cpu": med([r["broker_cpu"] for r in rs]),
                     "runs": len(rs)})
    labels = list(dict.fromkeys(r["label"] for r in rows))
    by = {(r["label"], r["peer"]): r for r in rows}
    print(f"Medians of {max(r['runs'] for r in rows)} runs per row.\n")
    ns = lambda r, k: 1e9 * k(r) / r["records"]
    cpu = lambda r: r["user"] + r["sys"]
    ratio = lambda a, b: f"{a / b:.2f}" if b else "n/a"
    print("| row | msgs/s ours | msgs/s kcat | ratio | CPU ns/rec ours | kcat | ratio "
          "| peak RSS MB ours | kcat | broker CPU ns/rec under ours | under kcat | ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for label in labels:
        o, k = by.get((label, "ours")), by.get((label, "kcat"))
        if o is None or k is None:
            continue
        ro, rk = o["records"] / o["wall"], k["records"] / k["wall"]
        co, ck = ns(o, cpu), ns(k, cpu)
        bo, bk = ns(o, lambda r: r["broker_cpu"]), ns(k, lambda r: r["broker_cpu"])
        print(f"| {label} | {ro:,.0f} | {rk:,.0f} | {ro / rk:.2f} | {co:,.0f} | {ck:,.0f} | {co / ck:.2f} "
              f"| {o['rss_kb'] / 1024:.0f} | {k['rss_kb'] / 1024:.0f} | {bo:,.0f} | {bk:,.0f} | {ratio(bo, bk)} |")
    # Other peers (ours with a non-default setting, the Python loop) against
    # kcat in the same row.
    for r in rows:
        k = by.get((r["label"], "kcat"))
        if r["peer"] in ("ours", "kcat") or k is None:
            continue
        rate, c, b = r["records"] / r["wall"], ns(r, cpu), ns(r, lambda x: x["broker_cpu"])
        print(f"| {r['label']}, {r['peer']} | {rate:,.0f} | {k['records'] / k['wall']:,.0f} "
              f"| {rate / (k['records'] / k['wall']):.2f} | {c:,.0f} | {ns(k, cpu):,.0f} | {c / ns(k, cpu):.2f} "
              f"| {r['rss_kb'] / 1024:.0f} | {k['rss_kb'] / 1024:.0f} | {b:,.0f} "
              f"| {ns(k, lambda x: x['broker_cpu']):,.0f} | {ratio(b, ns(k, lambda x: x['broker_cpu']))} |")

if __name__ == "__main__":
    if sys.argv[1] == "run":
        sep = sys.argv.index("--")
        out, label, peer, records, size, broker, path = sys.argv[2:sep]
        run(out, label, peer, int(records), int(size), int(broker), path, sys.argv[sep + 1:])
    elif sys.argv[1] == "table":
        table(sys.argv[2])
    else:
        sys.exit(__doc__)
