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
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zipfile

TIMING_COLUMNS = {"seconds", "time_s"}


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def without_timings(rows):
    """metrics.csv rows with the timing columns removed (they differ between any two runs)."""
    keep = [i for i, c in enumerate(rows[0]) if c not in TIMING_COLUMNS]
    return [[r[i] for i in keep] for r in rows]


def npz_members(path):
    """The members of an .npz and their bytes (the zip's timestamps differ between runs)."""
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def run(cmd, env, timeout):
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    print("$", " ".join(cmd), "->", proc.returncode)
    return proc


def same_run(tmp, full_out, full_npz, other_out, other_npz, what):
    a, b = without_timings(read_rows(os.path.join(full_out, "metrics.csv"))), \
        without_timings(read_rows(os.path.join(other_out, "metrics.csv")))
    if a != b:
        fail(f"{what}: metrics.csv rows differ from the uninterrupted run's:\n{a}\n{b}")
    if npz_members(full_npz) != npz_members(other_npz):
        fail(f"{what}: the final weights differ from the uninterrupted run's")
    print(f"{what}: {len(a) - 1} metrics rows and {len(npz_members(full_npz))} weight arrays identical")


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
    p.add_argument("--resume-at", type=int, metavar="K",
                   help="also run with --epochs K, then --resume with the full arguments; compare weights and rows")
    p.add_argument("--interrupt-after", type=float, metavar="SECONDS",
                   help="also run, send SIGINT SECONDS after its first epoch line (expect 130), --resume; "
                        "compare with the full run")
    p.add_argument("--eval-after", action="store_true",
                   help="then --load the saved weights --eval-only: the same test_acc, a per-class table")
    p.add_argument("--out-is-file", action="store_true", help="pass --out naming an existing file")
    p.add_argument("--prefill-out", action="store_true",
                   help="put an earlier run's summary.json and plot.png into --out first: they must not survive")
    p.add_argument("--first-run", action="append", default=[], metavar="ARG",
                   help="run the trainer with these arguments (and --out) before the run under test")
    p.add_argument("--expect-no-out", action="store_true", help="the --out folder must not exist afterwards")
    p.add_argument("--concurrent", action="store_true",
                   help="start a second run on the same --out while the first runs: refused with exit 3 naming its pid")
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
        # "{tmp}" in an argument stands for this test's temporary folder.
        args = [x.replace("{tmp}", tmp) for x in args]
        a.first_run = [x.replace("{tmp}", tmp) for x in a.first_run]
        env = dict(os.environ)
        out_dir = os.path.join(tmp, "run")
        if a.outputs:
            args += ["--out", out_dir]
        if a.out_is_file:
            with open(os.path.join(tmp, "a-file"), "w") as f:
                f.write("not a folder\n")
            args += ["--out", os.path.join(tmp, "a-file")]
        if a.prefill_out:
            os.makedirs(out_dir)
            with open(os.path.join(out_dir, "summary.json"), "w") as f:
                json.dump({"status": "completed", "from_an_earlier_run": True}, f)
            with open(os.path.join(out_dir, "plot.png"), "w") as f:
                f.write("an earlier run's plot")
            with open(os.path.join(out_dir, "notes.txt"), "w") as f:
                f.write("the user's own file")
        if a.first_run:
            first = run([a.exe] + a.first_run + ["--out", out_dir], env, a.timeout)
            if first.returncode != 0:
                fail("the first run failed", first)
        full_npz = os.path.join(tmp, "full.npz")
        if a.resume_at or a.interrupt_after or a.eval_after:
            args += ["--save", full_npz]
        if a.concurrent:
            first = subprocess.Popen([a.exe] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            lock = os.path.join(out_dir, ".lock")
            for _ in range(600):
                if os.path.exists(lock) and open(lock).read().strip():
                    break
                time.sleep(0.05)
            second = run([a.exe] + args, env, a.timeout)
            out1, err1 = first.communicate(timeout=a.timeout)
            if second.returncode != 3 or str(first.pid) not in second.stderr:
                fail(f"second run: exit {second.returncode}, expected 3 and a message naming pid {first.pid}", second)
            if first.returncode != 0:
                fail(f"first run: exit {first.returncode}\n{out1}\n{err1}")
            print("second run refused:", second.stderr.strip())
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
        if a.concurrent:
            args = [x for x in args]  # the first run's files are checked below like any run's
            proc = subprocess.CompletedProcess([a.exe] + args, 0, out1, err1)
        else:
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

        if a.expect_no_out and os.path.exists(out_dir):
            fail(f"the run left {out_dir} behind: {os.listdir(out_dir)}", proc)
        if a.prefill_out:
            if os.path.exists(os.path.join(out_dir, "summary.json")):
                with open(os.path.join(out_dir, "summary.json")) as f:
                    if "from_an_earlier_run" in json.load(f):
                        fail("the earlier run's summary.json survived", proc)
            if os.path.exists(os.path.join(out_dir, "plot.png")) and open(os.path.join(out_dir, "plot.png"), "rb").read() == b"an earlier run's plot":
                fail("the earlier run's plot.png survived", proc)
            if not os.path.exists(os.path.join(out_dir, "notes.txt")):
                fail("the user's own file in --out was removed", proc)
            if a.expect_exit != 0:
                with open(os.path.join(out_dir, "summary.json")) as f:
                    st = json.load(f).get("status")
                if st not in ("diverged", "interrupted"):
                    fail(f"a failed run's summary.json says status {st!r}", proc)
        base = [x for x in args if x not in ("--save", full_npz)]
        if a.resume_at:
            part = os.path.join(tmp, "part")
            epochs = [x for x in base]
            if "--epochs" in epochs:
                epochs[epochs.index("--epochs") + 1] = str(a.resume_at)
            else:
                epochs += ["--epochs", str(a.resume_at)]
            first = run([a.exe] + [x if x != out_dir else part for x in epochs], env, a.timeout)
            if first.returncode != 0:
                fail("the first part failed", first)
            second = run([a.exe] + [x if x != out_dir else part for x in base] +
                         ["--resume", "--save", os.path.join(tmp, "resumed.npz")], env, a.timeout)
            if second.returncode != 0:
                fail("the resumed run failed", second)
            same_run(tmp, out_dir, full_npz, part, os.path.join(tmp, "resumed.npz"), f"resumed after {a.resume_at} epochs")
        if a.interrupt_after:
            part = os.path.join(tmp, "interrupted")
            cmd = [a.exe] + [x if x != out_dir else part for x in base]
            p2 = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            # Timed from the end of epoch 1 (the trainer flushes each epoch line to stderr), not from
            # the start: data loading takes from under a second to many (sanitizers), and a fixed delay
            # from the start could land before training or after its end on a faster machine.
            seen = []
            for line in p2.stderr:
                seen.append(line)
                if line.startswith("epoch 1/"):
                    break
            time.sleep(a.interrupt_after)
            p2.send_signal(signal.SIGINT)
            o2, e2 = p2.communicate(timeout=a.timeout)
            e2 = "".join(seen) + e2
            print("$", " ".join(cmd), "(SIGINT", a.interrupt_after, "s after epoch 1) ->", p2.returncode)
            if p2.returncode != 130 or "--resume" not in e2:
                fail(f"interrupted run: exit {p2.returncode}, expected 130 and a hint naming --resume\n{o2}\n{e2}")
            with open(os.path.join(part, "summary.json")) as f:
                if json.load(f).get("status") != "interrupted":
                    fail("the interrupted run's summary.json does not say status interrupted")
            second = run(cmd + ["--resume", "--save", os.path.join(tmp, "resumed.npz")], env, a.timeout)
            if second.returncode != 0:
                fail("the resumed run failed", second)
            print(second.stderr.strip().splitlines()[0] if second.stderr.strip() else "")
            same_run(tmp, out_dir, full_npz, part, os.path.join(tmp, "resumed.npz"), "resumed after Ctrl-C")
        if a.eval_after:
            ev = os.path.join(tmp, "eval")
            third = run([a.exe, "--load", full_npz, "--eval-only", "--out", ev] +
                        [x for x in base if x not in ("--out", out_dir)], env, a.timeout)
            if third.returncode != 0 or "ankle boot" not in third.stdout:
                fail("--eval-only failed or printed no per-class table", third)
            with open(os.path.join(ev, "summary.json")) as f:
                es = json.load(f)
            with open(os.path.join(out_dir, "summary.json")) as f:
                ts = json.load(f)
            if es["test_acc"] != ts["test_acc"] or es["status"] != "completed" or len(es["per_class_acc"]) != 10:
                fail(f"--eval-only: test_acc {es['test_acc']} vs the training run's {ts['test_acc']}")
            if not es.get("test_examples_per_sec", 0) > 0 or "images/s)" not in third.stdout:
                fail("--eval-only: no inference speed (summary.json test_examples_per_sec, the printed images/s)", third)
            if shutil.which("gnuplot") and not os.path.getsize(os.path.join(ev, "confusion.png")) > 0:
                fail("no confusion.png")
            print(f"--eval-only: test_acc {es['test_acc']} as at the end of training")

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
        elif a.outputs and os.path.exists(os.path.join(out_dir, "summary.json")):  # a failed run's summary
            with open(os.path.join(out_dir, "summary.json")) as f:
                s = json.load(f)
        for expr in a.check:
            ok = eval(expr, {"math": math, "s": s, "rows": rows, "out": proc.stdout, "err": proc.stderr})
            if not ok:
                fail(f"check failed: {expr}\nsummary: {json.dumps(s, indent=1)}")
    print("PASS")


if __name__ == "__main__":
    main()
