// Fused vs unfused elementwise work: y = relu(a*x + b) * m / (1 - p), forward and backward of
// sum(y) with respect to a, x and b, on 2^20 and 2^24 floats.
//   fused        ctgrad: one loop forward (assign) / one loop value + three gradients (backward)
//   fresh        one SIMD loop per op, each result in a freshly allocated tensor (an eager framework)
//   prealloc     one SIMD loop per op into buffers allocated once
//   hand         a hand-written xsimd loop doing the whole computation in one pass (the limit)
// Bytes counted are the minimal traffic of the computation (forward: a, x, b, m read, y written;
// backward: a, x, b, m read, three gradients read and written), for every variant alike, so the
// reported GB/s compare directly.
// eval_new_fused / eval_new_loop: eval() into a new Tensor against a plain loop into a new Tensor.
#include <benchmark/benchmark.h>

#include <ctgrad/ctgrad.hpp>

#include <random>

using namespace ctgrad;
using B = xsimd::batch<float>;

namespace {
constexpr float kP = 0.5f;

struct Data {
    Param<float, 1> a, x, b;
    Tensor<float, 1> m;
    explicit Data(std::size_t n) {
        std::mt19937 g(42);
        std::normal_distribution<float> d;
        auto fill = [&] {
            auto t = Tensor<float, 1>::from_shape({n});
            for (auto& v : t) v = d(g);
            return t;
        };
        a = Param<float, 1>(fill());
        x = Param<float, 1>(fill());
        b = Param<float, 1>(fill());
        m = fill();
        for (auto& v : m) v = v > 0 ? 1.f : 0.f;  // a dropout mask
    }
};

/// out[i] = f(in0[i], in1[i], ...) as one SIMD loop: one eager op.
template <class F, class... In>
void map(float* out, std::size_t n, F f, const In*... in) {
    std::size_t i = 0;
    for (; i + B::size <= n; i += B::size) f(B::load_unaligned(in + i)...).store_unaligned(out + i);
    for (; i < n; ++i) out[i] = f(in[i]...);
}
Tensor<float, 1> fresh(std::size_t n) { return Tensor<float, 1>::from_shape({n}); }

// The ops of the chain and of its reverse pass, as an eager framework runs them.
struct Ops {
    static auto mul() { return [](auto u, auto v) { return u * v; }; }
    static auto add() { return [](auto u, auto v) { return u + v; }; }
    static auto relu() { return [](auto u) { return vm::max(u, decltype(u)(0)); }; }
    static auto div_1mp() { return [](auto u) { return u / (decltype(u)(1) - decltype(u)(kP)); }; }
    static auto relu_grad() { return [](auto g, auto z) { return vm::where_positive(z, g); }; }
};

void set_bytes(benchmark::State& s, std::size_t n, std::size_t streams) {
    s.SetBytesProcessed(std::int64_t(s.iterations()) * std::int64_t(n * streams * sizeof(float)));
}

// ---------------------------------------------------------------- forward
void BM_forward_fused(benchmark::State& s) {
    const std::size_t n = std::size_t(s.range(0));
    Data d(n);
    auto y = fresh(n);
    for (auto _ : s) {
        assign(y, relu(d.a * d.x + d.b) * d.m / (1 - kP));
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    set_bytes(s, n, 5);
}

void BM_forward_fresh(benchmark::State& s) {
    const std::size_t n = std::size_t(s.range(0));
    Data d(n);
    for (auto _ : s) {
        auto t1 = fresh(n); map(t1.data(), n, Ops::mul(), d.a.value().data(), d.x.value().data());
        auto t2 = fresh(n); map(t2.data(), n, Ops::add(), t1.data(), d.b.value().data());
        auto t3 = fresh(n); map(t3.data(), n, Ops::relu(), t2.data());
        auto t4 = fresh(n); map(t4.data(), n, Ops::mul(), t3.data(), d.m.data());
        auto y = fresh(n); map(y.data(), n, Ops::div_1mp(), t4.data());
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    set_bytes(s, n, 5);
}

void BM_forward_prealloc(benchmark::State& s) {
    const std::size_t n = std::size_t(s.range(0));
    Data d(n);
    auto t1 = fresh(n), t2 = fresh(n), t3 = fresh(n), t4 = fresh(n), y = fresh(n);
    for (auto _ : s) {
        map(t1.data(), n, Ops::mul(), d.a.value().data(), d.x.value().data());
        map(t2.data(), n, Ops::add(), t1.data(), d.b.value().data());
        map(t3.data(), n, Ops::relu(), t2.data());
        map(t4.data(), n, Ops::mul(), t3.data(), d.m.data());
        map(y.data(), n, Ops::div_1mp(), t4.data());
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    set_bytes(s, n, 5);
}

void BM_forward_hand(benchmark::State& s) {
    const std::size_t n = std::size_t(s.range(0));
    Data d(n);
    auto y = fresh(n);
    for (auto _ : s) {
        map(y.data(), n, [](auto a, auto x, auto b, auto m) {
            using V = decltype(a);
            return vm::max(a * x + b, V(0)) * m / (V(1) - V(kP));
        }, d.a.value().data(), d.x.value().data(), d.b.value().data(), d.m.data());
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    set_bytes(s, n, 5);
}

// ---------------------------------------------------------------- backward (value + grads)
void BM_backward_fused(benchmark::State& s) {
    const std::size_t n = std::size_t(s.range(0));
    Data d(n);
    for (auto _ : s) {
        float loss = backward(sum(relu(d.a * d.x + d.b) * d.m / (1 - kP)));
        benchmark::DoNotOptimize(loss);
        benchmark::ClobberMemory();
    }
    set_bytes(s, n, 10);
}

/// Eager forward (keeping what backward needs) and eager backward, each op one loop.
template <bool Fresh>
void eager_backward(benchmark::State& s) {
    const std::size_t n = std::size_t(s.range(0));
    Data d(n);
    const float* a = d.a.value().data();
    const float* x = d.x.value().data();
    const float* b = d.b.value().data();
    float* ga = d.a.grad().data();
    float* gx = d.x.grad().data();
    float* gb = d.b.grad().data();
    Tensor<float, 1> pre[7];
    if (!Fresh)
        for (auto& t : pre) t = fresh(n);
    for (auto _ : s) {
        Tensor<float, 1> t[7];
        auto buf = [&](int i) -> Tensor<float, 1>& {
            if (Fresh) t[i] = fresh(n);
            return Fresh ? t[i] : pre[i];
        };
        auto& t1 = buf(0); map(t1.data(), n, Ops::mul(), a, x);
        auto& z = buf(1); map(z.data(), n, Ops::add(), t1.data(), b);
        auto& r = buf(2); map(r.data(), n, Ops::relu(), z.data());
        auto& t4 = buf(3); map(t4.data(), n, Ops::mul(), r.data(), d.m.data());
        auto& y = buf(4); map(y.data(), n, Ops::div_1mp(), t4.data());
        float loss = 0;
        {
            B acc(0.f);
            std::size_t i = 0;
            for (; i + B::size <= n; i += B::size) acc += B::load_unaligned(y.data() + i);
            loss = xsimd::hadd(acc);
            for (; i < n; ++i) loss += y.data()[i];
        }
        // reverse: d loss / d t4 = 1/(1-p) everywhere; then through *m, relu, +b, a*x
        auto& g = buf(5);
        std::fill(g.begin(), g.end(), 1.f / (1.f - kP));
        map(g.data(), n, Ops::mul(), g.data(), d.m.data());
        map(g.data(), n, Ops::relu_grad(), g.data(), z.data());
        map(gb, n, Ops::add(), gb, g.data());
        auto& tmp = buf(6);
        map(tmp.data(), n, Ops::mul(), g.data(), x);
        map(ga, n, Ops::add(), ga, tmp.data());
        map(tmp.data(), n, Ops::mul(), g.data(), a);
        map(gx, n, Ops::add(), gx, tmp.data());
        benchmark::DoNotOptimize(loss);
        benchmark::ClobberMemory();
    }
    set_bytes(s, n, 10);
}
void BM_backward_fresh(benchmark::State& s) { eager_backward<true>(s); }
void BM_backward_prealloc(benchmark::State& s) { eager_backward<false>(s); }

void BM_backward_hand(benchmark::State& s) {
    const std::size_t n = std::size_t(s.range(0));
    Data d(n);
    const float* a = d.a.value().data();
    const float* x = d.x.value().data();
    const float* b = d.b.value().data();
    const float* m = d.m.data();
    float* ga = d.a.grad().data();
    float* gx = d.x.grad().data();
    float* gb = d.b.grad().data();
    for (auto _ : s) {
        B acc(0.f);
        float loss = 0;
        const B scale(1.f / (1.f - kP));
        std::size_t i = 0;
        for (; i + B::size <= n; i += B::size) {
            const B av = B::load_unaligned(a + i), xv = B::load_unaligned(x + i), mv = B::load_unaligned(m + i);
            const B z = av * xv + B::load_unaligned(b + i);
            acc += xsimd::max(z, B(0.f)) * mv * scale;
            const B g = xsimd::select(z > B(0.f), mv * scale, B(0.f));
            (B::load_unaligned(ga + i) + g * xv).store_unaligned(ga + i);
            (B::load_unaligned(gx + i) + g * av).store_unaligned(gx + i);
            (B::load_unaligned(gb + i) + g).store_unaligned(gb + i);
        }
        loss = xsimd::hadd(acc);
        for (; i < n; ++i) {
            const float z = a[i] * x[i] + b[i];
            loss += std::max(z, 0.f) * m[i] / (1 - kP);
            const float g = z > 0 ? m[i] / (1 - kP) : 0.f;
            ga[i] += g * x[i];
            gx[i] += g * a[i];
            gb[i] += g;
        }
        benchmark::DoNotOptimize(loss);
        benchmark::ClobberMemory();
    }
    set_bytes(s, n, 10);
}

// ---------------------------------------------------------------- eval into a new tensor
// y = eval(relu(constant(x) * a + b) * constant(m) / (1 - p)) with scalars a, b, p, against a plain
// loop writing the same values into a freshly constructed Tensor: both allocate the result on every
// iteration (2^24 floats: 64 MB, fresh pages from the kernel each time), so what differs is the loop.
struct EvalData {
    Tensor<float, 1> x, m;
    float a = 1.5f, b = -0.25f, p = kP;
    explicit EvalData(std::size_t n) {
        Data d(n);
        x = d.x.value();
        m = d.m;
        benchmark::DoNotOptimize(p);  // a run-time scalar in both variants, as in a real program
    }
};

void BM_eval_new_fused(benchmark::State& s) {
    const std::size_t n = std::size_t(s.range(0));
    EvalData d(n);
    for (auto _ : s) {
        Tensor<float, 1> y = eval(relu(constant(d.x) * d.a + d.b) * constant(d.m) / (1.f - d.p));
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    set_bytes(s, n, 3);
}

void BM_eval_new_loop(benchmark::State& s) {
    const std::size_t n = std::size_t(s.range(0));
    EvalData d(n);
    for (auto _ : s) {
        Tensor<float, 1> y(d.x.shape());
        const float* x = d.x.data();
        const float* m = d.m.data();
        float* o = y.data();
        const float a = d.a, b = d.b, q = 1.f - d.p;
        for (std::size_t i = 0; i < n; ++i) o[i] = std::max(x[i] * a + b, 0.f) * m[i] / q;
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    set_bytes(s, n, 3);
}
}  // namespace

#define SIZES ->Arg(1 << 20)->Arg(1 << 24)->Unit(benchmark::kMicrosecond)
BENCHMARK(BM_forward_fused) SIZES;
BENCHMARK(BM_forward_fresh) SIZES;
BENCHMARK(BM_forward_prealloc) SIZES;
BENCHMARK(BM_forward_hand) SIZES;
BENCHMARK(BM_backward_fused) SIZES;
BENCHMARK(BM_backward_fresh) SIZES;
BENCHMARK(BM_backward_prealloc) SIZES;
BENCHMARK(BM_backward_hand) SIZES;
BENCHMARK(BM_eval_new_fused) SIZES;
BENCHMARK(BM_eval_new_loop) SIZES;

BENCHMARK_MAIN();
