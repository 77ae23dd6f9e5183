#!/usr/bin/env python3
"""Runs a program under mpirun and checks it (the 'mpi' test suite).

  mpi_run.py --mpirun M --np 2 --compare [tolerances] -- EXE ARGS...
      runs EXE ARGS once as one process and once as `mpirun -np 2` (each with its own --out), and
      checks that the summary.json numbers and metrics.csv rows agree within the tolerances, that
      only rank 0 printed its final lines, and that summary.json records the ranks.
  mpi_run.py --mpirun M --expect-fail --stderr-has TEXT --max-seconds S -- MPIRUN-ARGS...
      runs `mpirun MPIRUN-ARGS` and checks it exits non-zero within S seconds with TEXT on stderr.

Exit status: 0 pass, 1 fail, 77 skipped (needs the data sets and CTGRAD_DATA_DIR is unset).
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time

MPI_FLAGS = ["--allow-run-as-root", "--oversubscribe"]


def fail(msg, proc=None):
    print("FAIL:", msg)
    if proc is not None:
        print("--- stdout ---\n" + proc.stdout + "--- stderr ---\n" + proc.stderr)
    sys.exit(1)


def run(cmd, timeout):
    print("$", " ".join(cmd))
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        fail(f"no exit within {timeout} s (a hang?): {' '.join(cmd)}\n{e.stdout}\n{e.stderr}")
    return p, time.monotonic() - t0


def rel(a, b):
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mpirun", required=True)
    p.add_argument("--np", type=int, default=2)
    p.add_argument("--needs-data", action="store_true")
    p.add_argument("--compare", action="store_true")
    p.add_argument("--rel", action="append", default=[], metavar="KEY=TOL",
                   help="summary.json / metrics.csv number KEY agrees within relative TOL")
    p.add_argument("--abs", action="append", default=[], metavar="KEY=TOL",
                   help="summary.json / metrics.csv number KEY agrees within absolute TOL")
    p.add_argument("--final-line", default="", help="a stdout line start the root prints once (and only it)")
    p.add_argument("--expect-fail", action="store_true")
    p.add_argument("--stderr-has", action="append", default=[])
    p.add_argument("--max-seconds", type=float, default=120)
    p.add_argument("args", nargs=argparse.REMAINDER)
    a = p.parse_args()
    args = [x for x in a.args if x != "--"]
    if a.needs_data and not os.environ.get("CTGRAD_DATA_DIR"):
        print("SKIP: CTGRAD_DATA_DIR is not set")
        sys.exit(77)

    if a.expect_fail:
        proc, secs = run([a.mpirun] + MPI_FLAGS + args, timeout=a.max_seconds)
        print(f"exit {proc.returncode} after {secs:.1f} s")
        if proc.returncode == 0:
            fail("the job succeeded; expected a non-zero exit", proc)
        for t in a.stderr_has:
            if t not in proc.stderr:
                fail(f"stderr lacks {t!r}", proc)
        print(proc.stderr)
        return

    tols = [(k, float(v), "rel") for k, v in (x.split("=") for x in a.rel)] + \
           [(k, float(v), "abs") for k, v in (x.split("=") for x in a.abs)]
    with tempfile.TemporaryDirectory(prefix="ctgrad-mpi-") as tmp:
        one, two = os.path.join(tmp, "one"), os.path.join(tmp, "two")
        p1, s1 = run(args + ["--out", one], a.max_seconds)
        if p1.returncode != 0:
            fail("the single-process run failed", p1)
        p2, s2 = run([a.mpirun] + MPI_FLAGS + ["-np", str(a.np)] + args + ["--out", two], a.max_seconds)
        if p2.returncode != 0:
            fail(f"the {a.np}-rank run failed", p2)
        print(f"1 process: {s1:.1f} s, {a.np} ranks: {s2:.1f} s")
        sum1 = json.load(open(os.path.join(one, "summary.json")))
        sum2 = json.load(open(os.path.join(two, "summary.json")))
        rows1 = list(csv.DictReader(open(os.path.join(one, "metrics.csv"))))
        rows2 = list(csv.DictReader(open(os.path.join(two, "metrics.csv"))))
        if sum2.get("ranks") != a.np or sum1.get("ranks") != 1:
            fail(f"summary.json ranks: {sum1.get('ranks')} and {sum2.get('ranks')}, expected 1 and {a.np}")
        if "threads_per_rank" not in sum2:
            fail("summary.json lacks threads_per_rank")
        if len(rows1) != len(rows2):
            fail(f"metrics.csv: {len(rows1)} rows in one process, {len(rows2)} with {a.np} ranks")
        if a.final_line:
            n = sum(1 for line in p2.stdout.splitlines() if line.startswith(a.final_line))
            if n != 1:
                fail(f"{n} lines start with {a.final_line!r} in the {a.np}-rank stdout; only rank 0 prints", p2)
        worst = {}
        for key, tol, kind in tols:
            pairs = []
            if key in sum1:
                pairs.append((float(sum1[key]), float(sum2[key]), "summary"))
            if rows1 and key in rows1[0]:
                pairs += [(float(r1[key]), float(r2[key]), f"metrics row {i + 1}")
                          for i, (r1, r2) in enumerate(zip(rows1, rows2))]
            if not pairs:
                fail(f"no number {key!r} in summary.json or metrics.csv")
            for x, y, where in pairs:
                d = rel(x, y) if kind == "rel" else abs(x - y)
                worst[key] = max(worst.get(key, 0.0), d)
                if d > tol:
                    fail(f"{key} ({where}): {x} in one process, {y} with {a.np} ranks: {kind} difference {d:.3g} > {tol}")
        for key, d in worst.items():
            print(f"{key}: largest difference {d:.3g}")


if __name__ == "__main__":
    main()
