#!/usr/bin/env bash
# ctgrad against libtorch, side by side in one process and one run, with libtorch's matrix products on
# OpenBLAS's OpenMP build (its strongest configuration on Debian: the pthread build fights torch's own
# OpenMP threads, the reference BLAS is ~30x slower). Builds bench/bench_vs_libtorch, runs the LeNet and
# dropout-MLP training steps (batch 256) and inference passes (batch 1000, eval mode) of both libraries
# with 1 and 2 threads, repetitions interleaved at random, and prints one table of medians and ratios.
#
# Usage: bench/compare_libtorch.sh [BUILD_DIR]        (default: build-libtorch in the source tree)
# Environment (all optional):
#   REPS=5  MIN_TIME=1            repetitions of each benchmark, seconds per repetition
#   MARCH=native                  -Dmarch of a new build directory
#   OPENBLAS_OPENMP_DIR=DIR       the folder holding OpenBLAS-OpenMP's libblas.so.3 (default: from dpkg)
#   OPENBLAS_CORETYPE=NAME        OpenBLAS kernel set (default: chosen from /proc/cpuinfo, see below)
#   OMP_WAIT_POLICY, ...          passed through: libtorch's and OpenBLAS's libgomp threads (ctgrad has its own pool)
#   JSON_OUT=FILE                 keep Google Benchmark's JSON output there
# Needs: meson, ninja, a C++20 compiler, python3, Google Benchmark (libbenchmark-dev), and the Debian
# packages libtorch-dev and libopenblas0-openmp.
set -euo pipefail

die() {
    echo "compare_libtorch.sh: $*" >&2
    exit 1
}

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$src/build-libtorch}
reps=${REPS:-5}
min_time=${MIN_TIME:-1}
[[ $reps =~ ^[0-9]+$ && $reps -ge 3 ]] || die "REPS must be a whole number >= 3 (medians of at least 3), got '$reps'"
[[ $min_time =~ ^[0-9]+([.][0-9]+)?$ ]] || die "MIN_TIME must be a number of seconds, got '$min_time'"

for tool in meson ninja python3; do
    command -v "$tool" >/dev/null || die "'$tool' not found on PATH (needed to build and to print the table)"
done

# --- The packages. On Debian/Ubuntu ask dpkg; elsewhere meson's -Dlibtorch=enabled reports a missing libtorch.
have_dpkg=false
command -v dpkg-query >/dev/null && have_dpkg=true
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
if $have_dpkg; then
    installed libtorch-dev || die "libtorch is missing: install the package libtorch-dev (apt-get install libtorch-dev)"
fi

# --- OpenBLAS's OpenMP build: the folder its package installs (libblas.so.3 in <libdir>/<triplet>/openblas-openmp).
blas_dir=${OPENBLAS_OPENMP_DIR:-}
if [[ -z $blas_dir ]]; then
    if $have_dpkg && installed libopenblas0-openmp; then
        lib=$(dpkg -L libopenblas0-openmp | grep '/openblas-openmp/libblas\.so\.3$' | head -n1 || true)
        [[ -n $lib ]] && blas_dir=$(dirname "$lib")
    elif ! $have_dpkg; then
        triplet=$( (gcc -print-multiarch || cc -print-multiarch) 2>/dev/null || true)
        [[ -n $triplet ]] && blas_dir=/usr/lib/$triplet/openblas-openmp
    fi
fi
[[ -n $blas_dir && -e $blas_dir/libblas.so.3 ]] ||
    die "OpenBLAS's OpenMP build is missing: install the package libopenblas0-openmp (apt-get install libopenblas0-openmp), or set OPENBLAS_OPENMP_DIR to the folder holding its libblas.so.3"
blas_dir=$(cd "$blas_dir" && pwd -P)

# --- OpenBLAS 0.3.21 does not recognise recent CPUs (on a Sapphire Rapids VM it falls back to its SSE3
# "Prescott" kernels, ~5x slower): pick the widest kernel set the CPU supports unless the caller chose.
# A machine-wide OPENBLAS_CORETYPE (one of our VMs exports Haswell to every process) is kept but
# reported: on an AVX-512 CPU it makes libtorch's GEMM ~25% slower (58 against 77 GFLOP/s, 1 thread).
if [[ -r /proc/cpuinfo ]]; then
    flags=" $(grep -m1 '^flags' /proc/cpuinfo) "
    has() { [[ $flags == *" $1 "* ]]; }
    widest=
    if has avx512f && has avx512bw && has avx512dq && has avx512vl; then
        widest=SkylakeX
    elif has avx2 && has fma; then
        widest=Haswell
    fi
    if [[ -z ${OPENBLAS_CORETYPE:-} ]]; then
        [[ -n $widest ]] && export OPENBLAS_CORETYPE=$widest
    elif [[ $widest == SkylakeX && $OPENBLAS_CORETYPE =~ ^(Haswell|Zen|Sandybridge|Nehalem|Core2|Prescott)$ ]]; then
        echo "compare_libtorch.sh: warning: OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE is set, a narrower kernel set than" \
             "this CPU's AVX-512 (SkylakeX): libtorch is not measured at its strongest; unset it to let this script choose" >&2
    fi
fi

# --- Build (a new directory, or reconfigure an existing one for libtorch and the benchmarks).
if [[ -f $build/build.ninja ]]; then
    meson configure "$build" -Dlibtorch=enabled -Dbenchmarks=enabled >/dev/null ||
        die "could not reconfigure $build with -Dlibtorch=enabled (is libtorch-dev installed? see the message above)"
else
    meson setup "$build" "$src" -Dmarch="${MARCH:-native}" -Dlibtorch=enabled -Dbenchmarks=enabled \
        -Dtests=false -Dexamples=false >/dev/null ||
        die "meson setup failed (libtorch-dev and libbenchmark-dev must be installed; see the message above)"
fi
meson compile -C "$build" bench/bench_vs_libtorch >/dev/null || die "building bench/bench_vs_libtorch failed"
exe=$build/bench/bench_vs_libtorch

export LD_LIBRARY_PATH=$blas_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

# --- The loader must resolve libtorch's libblas.so.3 to that folder...
resolved=$(ldd "$exe" | awk '$1 == "libblas.so.3" { print $3 }')
[[ -n $resolved ]] || die "$exe does not link libblas.so.3 (ldd); cannot check which BLAS libtorch uses"
[[ $(cd "$(dirname "$resolved")" && pwd -P) == "$blas_dir" ]] ||
    die "libblas.so.3 resolves to $resolved, not to $blas_dir (ldd)"

json=${JSON_OUT:-$(mktemp "${TMPDIR:-/tmp}/compare_libtorch.XXXXXX")}
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
echo "Running $exe: $reps repetitions x ${min_time}s of 20 benchmarks, interleaved (a few minutes) ..." >&2
"$exe" --benchmark_filter='^BM_(torch_)?(lenet|mlp)_(train_step|infer|infer_chunked)/' \
    --benchmark_repetitions="$reps" --benchmark_min_time="$min_time" \
    --benchmark_enable_random_interleaving=true \
    --benchmark_out="$json" --benchmark_out_format=json >/dev/null ||
    die "$exe failed"
load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')

# --- ... and the process must really have run on it (the benchmark records what it had mapped).
python3 - "$json" "$blas_dir" "$load_before" "$load_after" "${OMP_WAIT_POLICY:-unset}" <<'EOF'
import json, os, statistics, sys
path, blas_dir, load_before, load_after, wait = sys.argv[1:]
with open(path) as f:
    d = json.load(f)
ctx = d["context"]
lib = ctx.get("blas_library", "none")
if os.path.dirname(os.path.realpath(lib)) != blas_dir or ctx.get("openblas_parallel") != "2":
    sys.exit(f"compare_libtorch.sh: the benchmark ran on BLAS '{lib}' (OpenBLAS threading "
             f"{ctx.get('openblas_parallel')}), not on OpenBLAS's OpenMP build in {blas_dir}")
runs = {}
for b in d["benchmarks"]:
    if b.get("run_type") == "iteration":
        runs.setdefault(b["run_name"], []).append(b["img/s"])
def get(name):
    v = runs.get(name)
    if not v:
        sys.exit(f"compare_libtorch.sh: no result for {name}")
    return v
k = lambda v: f"{v / 1e3:.1f}k"
print(f"ctgrad vs libtorch, {ctx['date']}, {ctx['host_name']}, "
      f"{ctx['num_cpus']} CPUs at {ctx['mhz_per_cpu']} MHz")
print(f"libtorch BLAS: {lib} (OpenMP build, kernels {ctx.get('openblas_core')}); OMP_WAIT_POLICY={wait}")
print(f"load average (1/5/15 min) before {load_before}, after {load_after}; medians of {len(get('BM_lenet_infer/1/real_time'))} "
      "repetitions, [min-max]; images/s")
print()
print(f"| {'model':<6} | {'pass':<18} | thr | {'ctgrad':<22} | {'libtorch':<22} | ctgrad / libtorch |")
print(f"|{'-' * 8}|{'-' * 20}|-----|{'-' * 24}|{'-' * 24}|-------------------|")
chunked = {}
for model, label in (("lenet", "LeNet"), ("mlp", "MLP")):
    for mode, what in (("train_step", "train (batch 256)"), ("infer", "infer (batch 1000)")):
        for t in (1, 2):
            c = get(f"BM_{model}_{mode}/{t}/real_time")
            l = get(f"BM_torch_{model}_{mode}/{t}/real_time")
            mc, ml = statistics.median(c), statistics.median(l)
            if mode == "infer":  # libtorch's faster form: one batch of 1000, or chunks of 250
                lc = get(f"BM_torch_{model}_infer_chunked/{t}/real_time")
                chunked[(model, t)] = (ml, statistics.median(lc))
                if statistics.median(lc) > ml:
                    l, ml = lc, statistics.median(lc)
            cs = f"{k(mc)} [{k(min(c))}-{k(max(c))}]"
            ls = f"{k(ml)} [{k(min(l))}-{k(max(l))}]"
            print(f"| {label:<6} | {what:<18} | {t:>3} | {cs:<22} | {ls:<22} | {mc / ml:>16.2f}x |")
print()
print("libtorch inference, one batch of 1000 / chunks of 250 (the table takes the faster): " +
      ", ".join(f"{m} {t} thr {k(a)} / {k(b)}" for (m, t), (a, b) in chunked.items()))
EOF
echo "JSON: $json" >&2
