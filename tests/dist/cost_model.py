#!/usr/bin/env python3
"""The alpha-beta cost model of docs/distributed.md: predicted speed-up of data-parallel training
over N nodes (one rank per node) for LeNet and the dropout MLP.

Per step: T(N) = T_c(b) + T_ar(N), with
  T_c(b)  = t0 + b / r                               compute of a node at local batch b (measured:
                                                     t0 the fixed per-step cost, r images/s at batch 256
                                                     on this 2-core machine, 1 rank x 2 threads)
  T_ar(N) = 2 log2(N) alpha + 2 (N - 1) / N * M / beta   all-reduce of M bytes (recursive halving /
                                                     doubling, or a ring, for the bandwidth term)
Strong scaling keeps the global batch at 256 (b = 256 / N: the same trajectory as one process):
speed-up T(1) / T(N). Weak scaling keeps 256 per node (global batch 256 N: another optimisation
problem): speed-up N T_c(256) / (T_c(256) + T_ar(N)).
"""
import math

MODELS = {  # bytes all-reduced per step (float32 gradients), t0 [s], r [images/s]
    "LeNet": (61706 * 4, 0.30e-3, 41000.0),
    "MLP": (269322 * 4, 0.25e-3, 115000.0),
}
LINKS = {  # alpha [s] (per message, assumed), beta [bytes/s] (line rate)
    "10 Gbit/s (TCP, alpha 25 us)": (25e-6, 10e9 / 8),
    "100 Gbit/s (RDMA, alpha 2 us)": (2e-6, 100e9 / 8),
}
NODES = [1, 2, 4, 8, 16, 32, 64]
GLOBAL_BATCH = 256


def t_allreduce(n, m, alpha, beta):
    return 0.0 if n == 1 else 2 * math.log2(n) * alpha + 2 * (n - 1) / n * m / beta


def main():
    for model, (m, t0, r) in MODELS.items():
        tc = lambda b: t0 + b / r
        for link, (alpha, beta) in LINKS.items():
            print(f"{model}, {m} bytes/step, {link}")
            print("  nodes | local batch | compute ms | all-reduce ms | strong speed-up | weak speed-up")
            for n in NODES:
                b = GLOBAL_BATCH / n
                ta = t_allreduce(n, m, alpha, beta)
                strong = tc(GLOBAL_BATCH) / (tc(b) + ta)
                weak = n * tc(GLOBAL_BATCH) / (tc(GLOBAL_BATCH) + ta)
                print(f"  {n:5d} | {b:11g} | {tc(b) * 1e3:10.3f} | {ta * 1e3:13.3f} | {strong:15.1f} | {weak:13.1f}")


if __name__ == "__main__":
    main()
