#!/usr/bin/env python3
"""Loads a ctgrad LeNet weights file into d2l's PyTorch LeNet and compares the logits on 16 images
with ctgrad's (tests/io/npz_sample.cpp writes lenet.npz and interop.npz: the images, Fashion-MNIST
test images when $CTGRAD_DATA_DIR is set, and ctgrad's logits). Passes when the largest absolute
difference is below 1e-4.

usage: lenet_torch.py NPZ_SAMPLE_EXE     (exit 77, skipped, when torch or numpy is missing;
                                         Debian: python3-torch python3-numpy)
"""
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
    from torch import nn
except ImportError as e:
    print(f"SKIP: {e.name} is not installed (Debian: python3-torch python3-numpy)")
    sys.exit(77)


def d2l_lenet():
    """d2l's LeNet of the learning-rate-scheduling chapter (ReLU, max pooling)."""
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(), nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10))


def main():
    with tempfile.TemporaryDirectory(prefix="ctgrad-interop-") as tmp:
        subprocess.run([sys.argv[1], tmp], check=True)
        net = d2l_lenet()
        weights = np.load(f"{tmp}/lenet.npz")
        net.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})  # strict: every key, every shape
        net.eval()
        sample = np.load(f"{tmp}/interop.npz")
        with torch.no_grad():
            logits = net(torch.from_numpy(sample["images"])).numpy()
        diff = np.abs(logits - sample["logits"]).max()
        same_class = (logits.argmax(1) == sample["logits"].argmax(1)).all()
        print(f"torch {torch.__version__}: 16 images, max |logits_torch - logits_ctgrad| = {diff:.3g}, "
              f"same predicted classes: {same_class}")
        if not diff < 1e-4:
            print("FAIL: the logits differ by more than 1e-4")
            sys.exit(1)
        print("PASS")


if __name__ == "__main__":
    main()
