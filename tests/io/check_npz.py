#!/usr/bin/env python3
"""Reads ctgrad's .npz files with numpy and checks keys, shapes, dtypes and values against what the
writer printed (tests/io/npz_sample.cpp), and that a checkpoint's meta is JSON numpy can reach.

usage: check_npz.py NPZ_SAMPLE_EXE   (exit 77, skipped, if numpy is missing)
"""
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:
    print("SKIP: numpy is not installed (Debian: python3-numpy)")
    sys.exit(77)


def main():
    with tempfile.TemporaryDirectory(prefix="ctgrad-npz-") as tmp:
        subprocess.run([sys.argv[1], tmp], check=True)
        expected = {}
        with open(os.path.join(tmp, "values.txt")) as f:
            for line in f:
                parts = line.split()
                file, key, dtype = parts[0], parts[1], parts[2]
                # shape like "(6, 1, 5, 5)" or "(10,)" or "()": the tokens up to the one ending in ')'
                i = 3
                shape_txt = parts[i]
                while not shape_txt.endswith(")"):
                    i += 1
                    shape_txt += parts[i]
                shape = tuple(int(x) for x in shape_txt.strip("()").split(",") if x)
                expected[(file, key)] = (dtype, shape, parts[i + 1:])
        files = sorted({f for f, _ in expected})
        checked = 0
        for file in files:
            z = np.load(os.path.join(tmp, file), allow_pickle=False)
            want_keys = [k for f, k in expected if f == file]
            got_keys = [k for k in z.files if k != "meta"]
            assert sorted(got_keys) == sorted(want_keys), f"{file}: keys {got_keys}, expected {want_keys}"
            for key in want_keys:
                dtype, shape, values = expected[(file, key)]
                a = z[key]
                assert a.dtype == np.dtype(dtype), f"{file}/{key}: dtype {a.dtype}, expected {dtype}"
                assert a.shape == shape, f"{file}/{key}: shape {a.shape}, expected {shape}"
                if values:
                    want = np.array([float(v) for v in values], dtype=a.dtype).reshape(shape)
                    assert np.array_equal(a, want), f"{file}/{key}: values differ (max {np.abs(a - want).max()})"
                checked += 1
        # PyTorch's layouts: LeNet's Linear weights are (out, in).
        z = np.load(os.path.join(tmp, "lenet.npz"))
        assert z["7.weight"].shape == (120, 400) and z["11.weight"].shape == (10, 84)
        assert z["0.weight"].shape == (6, 1, 5, 5)
        # The checkpoint: optimizer state, counters and meta JSON.
        c = np.load(os.path.join(tmp, "checkpoint.npz"))
        meta = json.loads(bytes(c["meta"]).decode())
        assert meta["format"] == "ctgrad-checkpoint" and meta["format_version"] == 1, meta
        assert meta["optimizer"]["update_count"] == 2, meta
        assert meta["epochs_done"] == 2
        assert c["optim.0.0"].shape == (2, 3) and c["optim.1.1"].shape == (2,)
        # After two Adam steps the first moment of w is (1 - 0.9) * 0.25 + 0.9 * (1 - 0.9) * 0.5.
        v = np.float32(0.1) * np.float32(0.25) + np.float32(0.9) * (np.float32(0.1) * np.float32(0.5))
        assert np.allclose(c["optim.0.0"], v, rtol=1e-6), c["optim.0.0"]
        i = np.load(os.path.join(tmp, "interop.npz"))
        assert i["images"].shape == (16, 1, 28, 28) and i["logits"].shape == (16, 10)
        assert np.isfinite(i["logits"]).all()
        # The other way: ctgrad reads what numpy writes, stored (savez) and deflated (savez_compressed).
        rng = np.random.default_rng(1)
        arrays = {"a.weight": rng.standard_normal((3, 4)).astype(np.float32),
                  "b": rng.standard_normal(5), "c": np.float32(2.5).reshape(()), "d": np.zeros((0, 3), np.float32)}
        for save in (np.savez, np.savez_compressed):
            path = os.path.join(tmp, f"{save.__name__}.npz")
            save(path, **arrays)
            got = subprocess.run([sys.argv[1], "--read", path], check=True, capture_output=True, text=True).stdout
            lines = {l.split()[1]: l.split() for l in got.splitlines()}
            assert sorted(lines) == sorted(arrays), (save.__name__, got)
            for k, v in arrays.items():
                parts = lines[k]
                vals = parts[-v.size:] if v.size else []
                assert np.array_equal(np.array([float(x) for x in vals], dtype=v.dtype).reshape(v.shape), v), (k, parts)
            checked += len(arrays)
        # A big-endian or Fortran-ordered array is refused with a message naming the member.
        path = os.path.join(tmp, "bad.npz")
        np.savez(path, x=np.arange(6, dtype=">f4").reshape(2, 3))
        r = subprocess.run([sys.argv[1], "--read", path], capture_output=True, text=True)
        assert r.returncode == 3 and "x.npy" in r.stderr and ">f4" in r.stderr, r.stderr
        np.savez(path, x=np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)))
        r = subprocess.run([sys.argv[1], "--read", path], capture_output=True, text=True)
        assert r.returncode == 3 and "Fortran order" in r.stderr, r.stderr
        print(f"PASS: {checked} arrays in {len(files) + 2} files, numpy {np.__version__}")


if __name__ == "__main__":
    main()
