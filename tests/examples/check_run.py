#!/usr/bin/env python3
"""Runs an example trainer and checks what it did: exit status, messages, and (with --outputs) that
metrics.csv and summary.json exist and parse, plus conditions on their contents.

Exit status: 0 pass, 1 fail, 77 skipped (the test needs the data sets and CTGRAD_DATA_DIR is unset).
"""
import argparse
import csv
import gzip
import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile


def fail(msg, proc=None):
    print("FAIL:", msg)
    if proc is not None:
        print("--- stdout ---\n" + proc.stdout + "--- stderr ---\n" + proc.stderr)
    sys.exit(1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--exe", required=True)
    p.add_argument("--expect-exit", type=int, default=0)
    p.add_argument("--needs-data", action="store_true", help="skip (77) unless CTGRAD_DATA_DIR is set")
    p.add_argument("--outputs", action="store_true", help="pass --out TMP and check the files there")
    p.add_argument("--corrupt-airfoil", type=int, metavar="BYTES",
                   help="pass --data-dir with an airfoil file truncated to BYTES bytes")
    p.add_argument("--fake-fashion", metavar="TRAIN,TEST",
                   help="pass --data-dir with a Fashion-MNIST of TRAIN and TEST blank images (0 allowed: an empty set)")
    p.add_argument("--fashion-subset", metavar="TRAIN,TEST",
                   help="pass --data-dir with the first TRAIN and TEST images of the real Fashion-MNIST (needs the data)")
    p.add_argument("--memory-limit", type=int, metavar="MB",
                   help="run under an address-space limit of MB (skipped for sanitizer builds, which reserve terabytes)")
    p.add_argument("--no-gnuplot", action="store_true", help="run with a PATH that has no gnuplot")
    p.add_argument("--stdout-re", action="append", default=[])
    p.add_argument("--stderr-has", action="append", default=[])
    p.add_argument("--stderr-lacks", action="append", default=[])
    p.add_argument("--check", action="append", default=[],
                   help="Python expression over s (summary), rows (metrics.csv), out (stdout), err (stderr)")
    p.add_argument("--timeout", type=float, default=300)
    p.add_argument("args", nargs=argparse.REMAINDER)
    a = p.parse_args()
    args = [x for x in a.args if x != "--"]

    data_dir = os.environ.get("CTGRAD_DATA_DIR", "")
    if (a.needs_data or a.corrupt_airfoil is not None or a.fashion_subset) and not data_dir:
        print("SKIP: CTGRAD_DATA_DIR is not set")
        sys.exit(77)
    preexec = None
    if a.memory_limit is not None:
        with open(a.exe, "rb") as f:
            if b"__asan_init" in f.read():
                print("SKIP: an AddressSanitizer build cannot run under an address-space limit")
                sys.exit(77)
        import resource
        limit = a.memory_limit << 20
        preexec = lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    with tempfile.TemporaryDirectory(prefix="ctgrad-example-") as tmp:
        env = dict(os.environ)
        out_dir = os.path.join(tmp, "run")
        if a.outputs:
            args += ["--out", out_dir]
        if a.corrupt_airfoil is not None:
            src = os.path.join(data_dir, "airfoil", "airfoil_self_noise.dat")
            os.makedirs(os.path.join(tmp, "data", "airfoil"))
            with open(src, "rb") as f:
                head = f.read(a.corrupt_airfoil)
            with open(os.path.join(tmp, "data", "airfoil", "airfoil_self_noise.dat"), "wb") as f:
                f.write(head)
            args += ["--data-dir", os.path.join(tmp, "data")]
        if a.fake_fashion is not None or a.fashion_subset:
            d = os.path.join(tmp, "data", "fashion-mnist")
            os.makedirs(d)
            n_train, n_test = (int(x) for x in (a.fake_fashion or a.fashion_subset).split(","))
            for prefix, n in (("train", n_train), ("t10k", n_test)):
                if a.fashion_subset:  # the first n images and labels of the real files
                    src = os.path.join(data_dir, "fashion-mnist", prefix + "-%s-idx%d-ubyte.gz")
                    with gzip.open(src % ("images", 3)) as f:
                        pixels = f.read(16 + n * 28 * 28)[16:]
                    with gzip.open(src % ("labels", 1)) as f:
                        labels = f.read(8 + n)[8:]
                else:  # blank images
                    pixels, labels = bytes(n * 28 * 28), bytes(i % 10 for i in range(n))
                # Plain IDX under the .gz names (the reader detects gzip by its magic, not the name).
                with open(os.path.join(d, prefix + "-images-idx3-ubyte.gz"), "wb") as f:
                    f.write(struct.pack(">IIII", 0x803, n, 28, 28) + pixels)
                with open(os.path.join(d, prefix + "-labels-idx1-ubyte.gz"), "wb") as f:
                    f.write(struct.pack(">II", 0x801, n) + labels)
            args += ["--data-dir", os.path.join(tmp, "data")]
        if a.no_gnuplot:
            os.makedirs(os.path.join(tmp, "bin"))
            env["PATH"] = os.path.join(tmp, "bin")
        proc = subprocess.run([a.exe] + args, capture_output=True, text=True, env=env, timeout=a.timeout,
                              preexec_fn=preexec)
        print("$", " ".join([a.exe] + args))
        print(proc.stdout, end="")
        print(proc.stderr, end="", file=sys.stderr)
        if proc.returncode != a.expect_exit:
            fail(f"exit status {proc.returncode}, expected {a.expect_exit}", proc)
        for pattern in a.stdout_re:
            if not re.search(pattern, proc.stdout):
                fail(f"stdout does not match {pattern!r}", proc)
        for text in a.stderr_has:
            if text not in proc.stderr:
                fail(f"stderr does not contain {text!r}", proc)
        for text in a.stderr_lacks:
            if text in proc.stderr:
                fail(f"stderr contains {text!r}", proc)

        s, rows = {}, []
        if a.outputs and a.expect_exit == 0:
            with open(os.path.join(out_dir, "metrics.csv"), newline="") as f:
                reader = csv.DictReader(f)
                for r in reader:
                    rows.append({k: (float(v) if re.fullmatch(r"[-+0-9.eE]+|nan|inf", v) else v) for k, v in r.items()})
                if not reader.fieldnames:
                    fail("metrics.csv has no header row")
            if not rows:
                fail("metrics.csv has no data rows")
            with open(os.path.join(out_dir, "summary.json")) as f:
                s = json.load(f)
            if not os.path.exists(os.path.join(out_dir, "plot.gp")):
                fail("plot.gp was not written")
            png = os.path.join(out_dir, "plot.png")
            if a.no_gnuplot:
                if os.path.exists(png) or "plot skipped" not in proc.stderr:
                    fail("without gnuplot: expected no plot.png and a 'plot skipped' message", proc)
            elif shutil.which("gnuplot") and not os.path.getsize(png) > 0:
                fail("gnuplot is on PATH but plot.png was not made", proc)
        for expr in a.check:
            ok = eval(expr, {"math": math, "s": s, "rows": rows, "out": proc.stdout, "err": proc.stderr})
            if not ok:
                fail(f"check failed: {expr}\nsummary: {json.dumps(s, indent=1)}")
    print("PASS")


if __name__ == "__main__":
    main()
