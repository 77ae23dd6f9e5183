// Optimizer step: ctgrad's fused update vs an eager, unfused update (one materialised xtensor
// temporary per arithmetic op, as PyTorch runs d2l's from-scratch optimizers) vs a hand-written
// loop, for SGD, Adagrad and Adam over 1M and 16M float parameters. A fourth variant evaluates
// the same ops into preallocated temporaries, to separate traffic from allocation cost.
//
// GB/s counts the minimum traffic of one update (every array read once and written once:
// w, g and the rule's state), the same figure for all three variants, so it is an effective
// bandwidth and the ratios are ratios of time. All three variants zero the gradient.
//
// Since the gradient is zero after the first step, the state decays towards zero; flush-to-zero
// and denormals-are-zero are set for all variants so denormal arithmetic does not distort the
// timings (ML frameworks commonly run this way).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstddef>

#include <xmmintrin.h>
#include <pmmintrin.h>

#include <xtensor/xnoalias.hpp>

#include <ctgrad/optim/optimizer.hpp>
#include <ctgrad/sched/schedules.hpp>

using namespace ctgrad;
using F = float;
using Vec = Tensor<F, 1>;

namespace {
constexpr F lr = 0.01f, eps = 1e-6f, b1 = 0.9f, b2 = 0.999f;

Vec filled(std::size_t n, F value) {
    Vec v = xt::empty<F>({n});
    for (std::size_t i = 0; i < n; ++i) v(i) = value * F(1 + (i % 7));
    return v;
}

void set_counters(benchmark::State& state, std::size_t n, std::size_t arrays) {
    // each array read once and written once
    const double bytes = double(n) * sizeof(F) * 2.0 * double(arrays);
    state.counters["GB/s"] = benchmark::Counter(bytes * double(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
}

void flush_denormals() { _mm_setcsr(_mm_getcsr() | 0x8040); }  // FTZ | DAZ

// ---------------------------------------------------------------- fused (the library)
template <class Rule>
void fused(benchmark::State& state, Rule rule, std::size_t arrays) {
    flush_denormals();
    const std::size_t n = std::size_t(state.range(0));
    Param<F, 1> p(filled(n, 1.0f));
    p.grad() = filled(n, 0.01f);
    optim::Optimizer opt(optim::params(p), rule, sched::Constant{.lr = lr});
    for (auto _ : state) {
        opt.step();
        benchmark::ClobberMemory();
    }
    set_counters(state, n, arrays);
}
void BM_sgd_fused(benchmark::State& s) { fused(s, optim::SGD{}, 2); }
void BM_adagrad_fused(benchmark::State& s) { fused(s, optim::Adagrad{}, 3); }
void BM_adam_fused(benchmark::State& s) { fused(s, optim::Adam{}, 4); }

// ---------------------------------------------------------------- hand-written loops
// The same arithmetic as the library's rules, one plain loop each.
__attribute__((noinline)) void sgd_loop(F* __restrict w, F* __restrict g, std::size_t n) {
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i) {
        w[i] -= lr * g[i];
        g[i] = 0;
    }
}
__attribute__((noinline)) void adagrad_loop(F* __restrict w, F* __restrict g, F* __restrict s, std::size_t n) {
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i) {
        const F gi = g[i];
        const F si = s[i] + gi * gi;
        w[i] -= lr * gi / std::sqrt(si + eps);
        s[i] = si;
        g[i] = 0;
    }
}
__attribute__((noinline)) void adam_loop(F* __restrict w, F* __restrict g, F* __restrict v, F* __restrict s,
                                         std::size_t n, F step, F inv_bias2) {
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i) {
        const F gi = g[i];
        const F vi = b1 * v[i] + (1 - b1) * gi;
        const F si = b2 * s[i] + (1 - b2) * (gi * gi);
        w[i] -= step * vi / (std::sqrt(si * inv_bias2) + eps);
        v[i] = vi;
        s[i] = si;
        g[i] = 0;
    }
}

void BM_sgd_hand(benchmark::State& state) {
    flush_denormals();
    const std::size_t n = std::size_t(state.range(0));
    Vec w = filled(n, 1.0f), g = filled(n, 0.01f);
    for (auto _ : state) {
        sgd_loop(w.data(), g.data(), n);
        benchmark::ClobberMemory();
    }
    set_counters(state, n, 2);
}
void BM_adagrad_hand(benchmark::State& state) {
    flush_denormals();
    const std::size_t n = std::size_t(state.range(0));
    Vec w = filled(n, 1.0f), g = filled(n, 0.01f), s = xt::zeros<F>({n});
    for (auto _ : state) {
        adagrad_loop(w.data(), g.data(), s.data(), n);
        benchmark::ClobberMemory();
    }
    set_counters(state, n, 3);
}
void BM_adam_hand(benchmark::State& state) {
    flush_denormals();
    const std::size_t n = std::size_t(state.range(0));
    Vec w = filled(n, 1.0f), g = filled(n, 0.01f), v = xt::zeros<F>({n}), s = xt::zeros<F>({n});
    std::size_t t = 0;
    for (auto _ : state) {
        ++t;
        const F step = F(double(lr) / (1 - std::pow(double(b1), double(t))));
        const F inv_bias2 = F(1 / (1 - std::pow(double(b2), double(t))));
        adam_loop(w.data(), g.data(), v.data(), s.data(), n, step, inv_bias2);
        benchmark::ClobberMemory();
    }
    set_counters(state, n, 4);
}

// ---------------------------------------------------------------- unfused (eager)
// d2l's from-scratch code as an eager framework runs it: every arithmetic op materialises a new
// tensor (allocated per op), `x[:] = e` copies the result in, `x -= e` is an in-place op.
void BM_sgd_unfused(benchmark::State& state) {
    flush_denormals();
    const std::size_t n = std::size_t(state.range(0));
    Vec w = filled(n, 1.0f), g = filled(n, 0.01f);
    for (auto _ : state) {
        Vec t1 = lr * g;  // param -= lr * param.grad
        w -= t1;
        g.fill(0);        // param.grad.zero_()
        benchmark::ClobberMemory();
    }
    set_counters(state, n, 2);
}
void BM_adagrad_unfused(benchmark::State& state) {
    flush_denormals();
    const std::size_t n = std::size_t(state.range(0));
    Vec w = filled(n, 1.0f), g = filled(n, 0.01f), s = xt::zeros<F>({n});
    for (auto _ : state) {
        Vec t1 = g * g;  // s[:] += torch.square(p.grad)
        s += t1;
        Vec t2 = s + eps;  // p[:] -= lr * p.grad / torch.sqrt(s + eps)
        Vec t3 = xt::sqrt(t2);
        Vec t4 = lr * g;
        Vec t5 = t4 / t3;
        w -= t5;
        g.fill(0);
        benchmark::ClobberMemory();
    }
    set_counters(state, n, 3);
}
void BM_adam_unfused(benchmark::State& state) {
    flush_denormals();
    const std::size_t n = std::size_t(state.range(0));
    Vec w = filled(n, 1.0f), g = filled(n, 0.01f), v = xt::zeros<F>({n}), s = xt::zeros<F>({n});
    std::size_t t = 0;
    for (auto _ : state) {
        ++t;
        const F c1 = F(1 - std::pow(double(b1), double(t))), c2 = F(1 - std::pow(double(b2), double(t)));
        {   // v[:] = beta1 * v + (1 - beta1) * p.grad
            Vec t1 = b1 * v;
            Vec t2 = (1 - b1) * g;
            Vec t3 = t1 + t2;
            v = t3;
        }
        {   // s[:] = beta2 * s + (1 - beta2) * torch.square(p.grad)
            Vec t1 = g * g;
            Vec t2 = b2 * s;
            Vec t3 = (1 - b2) * t1;
            Vec t4 = t2 + t3;
            s = t4;
        }
        {   // p[:] -= lr * v_bias_corr / (torch.sqrt(s_bias_corr) + eps)
            Vec vh = v / c1;
            Vec sh = s / c2;
            Vec t1 = xt::sqrt(sh);
            Vec t2 = t1 + eps;
            Vec t3 = lr * vh;
            Vec t4 = t3 / t2;
            w -= t4;
        }
        g.fill(0);
        benchmark::ClobberMemory();
    }
    set_counters(state, n, 4);
}

// ---------------------------------------------------------------- unfused, preallocated
// The same op-by-op evaluation into temporaries allocated once outside the loop (a caching
// allocator's best case): isolates the cost of the extra memory traffic from allocation.
void BM_sgd_unfused_prealloc(benchmark::State& state) {
    flush_denormals();
    const std::size_t n = std::size_t(state.range(0));
    Vec w = filled(n, 1.0f), g = filled(n, 0.01f), t1 = xt::empty<F>({n});
    for (auto _ : state) {
        xt::noalias(t1) = lr * g;
        w -= t1;
        g.fill(0);
        benchmark::ClobberMemory();
    }
    set_counters(state, n, 2);
}
void BM_adagrad_unfused_prealloc(benchmark::State& state) {
    flush_denormals();
    const std::size_t n = std::size_t(state.range(0));
    Vec w = filled(n, 1.0f), g = filled(n, 0.01f), s = xt::zeros<F>({n});
    Vec t1 = xt::empty<F>({n}), t2 = xt::empty<F>({n}), t3 = xt::empty<F>({n});
    for (auto _ : state) {
        xt::noalias(t1) = g * g;
        s += t1;
        xt::noalias(t2) = s + eps;
        xt::noalias(t3) = xt::sqrt(t2);
        xt::noalias(t1) = lr * g;
        xt::noalias(t2) = t1 / t3;
        w -= t2;
        g.fill(0);
        benchmark::ClobberMemory();
    }
    set_counters(state, n, 3);
}
void BM_adam_unfused_prealloc(benchmark::State& state) {
    flush_denormals();
    const std::size_t n = std::size_t(state.range(0));
    Vec w = filled(n, 1.0f), g = filled(n, 0.01f), v = xt::zeros<F>({n}), s = xt::zeros<F>({n});
    Vec t1 = xt::empty<F>({n}), t2 = xt::empty<F>({n}), t3 = xt::empty<F>({n}), t4 = xt::empty<F>({n});
    std::size_t t = 0;
    for (auto _ : state) {
        ++t;
        const F c1 = F(1 - std::pow(double(b1), double(t))), c2 = F(1 - std::pow(double(b2), double(t)));
        xt::noalias(t1) = b1 * v;
        xt::noalias(t2) = (1 - b1) * g;
        xt::noalias(t3) = t1 + t2;
        v = t3;
        xt::noalias(t1) = g * g;
        xt::noalias(t2) = b2 * s;
        xt::noalias(t3) = (1 - b2) * t1;
        xt::noalias(t4) = t2 + t3;
        s = t4;
        xt::noalias(t1) = v / c1;
        xt::noalias(t2) = s / c2;
        xt::noalias(t3) = xt::sqrt(t2);
        xt::noalias(t4) = t3 + eps;
        xt::noalias(t2) = lr * t1;
        xt::noalias(t3) = t2 / t4;
        w -= t3;
        g.fill(0);
        benchmark::ClobberMemory();
    }
    set_counters(state, n, 4);
}

constexpr long M1 = 1L << 20, M16 = 16L << 20;
}  // namespace

BENCHMARK(BM_sgd_fused)->Arg(M1)->Arg(M16)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_sgd_hand)->Arg(M1)->Arg(M16)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_sgd_unfused)->Arg(M1)->Arg(M16)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_sgd_unfused_prealloc)->Arg(M1)->Arg(M16)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_adagrad_fused)->Arg(M1)->Arg(M16)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_adagrad_hand)->Arg(M1)->Arg(M16)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_adagrad_unfused)->Arg(M1)->Arg(M16)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_adagrad_unfused_prealloc)->Arg(M1)->Arg(M16)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_adam_fused)->Arg(M1)->Arg(M16)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_adam_hand)->Arg(M1)->Arg(M16)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_adam_unfused)->Arg(M1)->Arg(M16)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_adam_unfused_prealloc)->Arg(M1)->Arg(M16)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
