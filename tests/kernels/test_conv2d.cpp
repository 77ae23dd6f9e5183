// Convolution kernels against direct seven-deep loops: forward (with and without bias), input gradient
// (must overwrite dx) and weight/bias gradients (must accumulate), over strides 1-3, paddings 0-2,
// kernels 1-5, several channel counts and odd image sizes, float and double, 1 and 2 threads.
#include <ctgrad/kernels/conv2d.hpp>
#include <ctgrad/parallel/thread_pool.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "random_vector.hpp"

namespace {
using ctgrad::kernels::Conv2dShape;

// Calls f(n, oc, oh, ow, ic, kh, kw, x_index) for every term of the convolution sum that touches the image.
template <class F>
void for_each_term(const Conv2dShape& s, F f) {
    for (std::size_t n = 0; n < s.batch; ++n)
        for (std::size_t oc = 0; oc < s.out_channels; ++oc)
            for (std::size_t oh = 0; oh < s.out_h(); ++oh)
                for (std::size_t ow = 0; ow < s.out_w(); ++ow)
                    for (std::size_t ic = 0; ic < s.in_channels; ++ic)
                        for (std::size_t kh = 0; kh < s.kernel; ++kh)
                            for (std::size_t kw = 0; kw < s.kernel; ++kw) {
                                const long ih = long(oh * s.stride + kh) - long(s.padding);
                                const long iw = long(ow * s.stride + kw) - long(s.padding);
                                if (ih < 0 || iw < 0 || ih >= long(s.in_h) || iw >= long(s.in_w)) continue;
                                const std::size_t xi = ((n * s.in_channels + ic) * s.in_h + std::size_t(ih)) * s.in_w +
                                                       std::size_t(iw);
                                const std::size_t wi = ((oc * s.in_channels + ic) * s.kernel + kh) * s.kernel + kw;
                                const std::size_t yi = ((n * s.out_channels + oc) * s.out_h() + oh) * s.out_w() + ow;
                                f(xi, wi, yi);
                            }
}

using ctgrad::test::rand_vec;

template <class T>
std::size_t count_mismatch(const std::vector<T>& got, const std::vector<long double>& want, T tol) {
    std::size_t bad = 0;
    for (std::size_t i = 0; i < got.size(); ++i)
        if (!(std::abs((long double)got[i] - want[i]) <= tol * (1 + std::abs(want[i])))) ++bad;
    return bad;
}

template <class T>
void check_shape(const Conv2dShape& s, std::mt19937& rng) {
    const std::size_t xs = s.batch * s.in_channels * s.in_h * s.in_w;
    const std::size_t ws = s.out_channels * s.in_channels * s.kernel * s.kernel;
    const std::size_t ys = s.batch * s.out_channels * s.out_h() * s.out_w();
    const auto x = rand_vec<T>(xs, rng), w = rand_vec<T>(ws, rng), bias = rand_vec<T>(s.out_channels, rng);
    const auto dy = rand_vec<T>(ys, rng), dw0 = rand_vec<T>(ws, rng), db0 = rand_vec<T>(s.out_channels, rng);
    const T tol = std::is_same_v<T, float> ? T(1e-5) : T(1e-12);
    const T nan = std::numeric_limits<T>::quiet_NaN();
    std::ostringstream name;
    name << "N=" << s.batch << " C=" << s.in_channels << " H=" << s.in_h << " W=" << s.in_w
         << " OC=" << s.out_channels << " k=" << s.kernel << " s=" << s.stride << " p=" << s.padding;

    // Forward, with and without bias; y starts as NaN, so anything not written shows.
    std::vector<long double> ry(ys, 0.0L), ryb(ys);
    for_each_term(s, [&](std::size_t xi, std::size_t wi, std::size_t yi) { ry[yi] += (long double)x[xi] * w[wi]; });
    const std::size_t P = s.out_h() * s.out_w();
    for (std::size_t i = 0; i < ys; ++i) ryb[i] = ry[i] + bias[(i / P) % s.out_channels];
    std::vector<T> y(ys, nan);
    ctgrad::kernels::conv2d_forward(s, x.data(), w.data(), bias.data(), y.data());
    BOOST_TEST(count_mismatch(y, ryb, tol) == 0u, "forward+bias " << name.str());
    std::fill(y.begin(), y.end(), nan);
    ctgrad::kernels::conv2d_forward(s, x.data(), w.data(), static_cast<const T*>(nullptr), y.data());
    BOOST_TEST(count_mismatch(y, ry, tol) == 0u, "forward " << name.str());

    // Input gradient overwrites dx (pre-filled with NaN).
    std::vector<long double> rdx(xs, 0.0L);
    for_each_term(s, [&](std::size_t xi, std::size_t wi, std::size_t yi) { rdx[xi] += (long double)dy[yi] * w[wi]; });
    std::vector<T> dx(xs, nan);
    ctgrad::kernels::conv2d_backward_input(s, dy.data(), w.data(), dx.data());
    BOOST_TEST(count_mismatch(dx, rdx, tol) == 0u, "backward_input " << name.str());

    // Weight and bias gradients accumulate onto what is there.
    std::vector<long double> rdw(dw0.begin(), dw0.end()), rdb(db0.begin(), db0.end());
    for_each_term(s, [&](std::size_t xi, std::size_t wi, std::size_t yi) { rdw[wi] += (long double)dy[yi] * x[xi]; });
    for (std::size_t i = 0; i < ys; ++i) rdb[(i / P) % s.out_channels] += dy[i];
    std::vector<T> dw = dw0, db = db0;
    ctgrad::kernels::conv2d_backward_weights(s, x.data(), dy.data(), dw.data(), db.data());
    BOOST_TEST(count_mismatch(dw, rdw, tol) == 0u, "backward_weights dw " << name.str());
    BOOST_TEST(count_mismatch(db, rdb, tol) == 0u, "backward_weights db " << name.str());
    dw = dw0;
    ctgrad::kernels::conv2d_backward_weights(s, x.data(), dy.data(), dw.data(), static_cast<T*>(nullptr));
    BOOST_TEST(count_mismatch(dw, rdw, tol) == 0u, "backward_weights (no db) " << name.str());

    // Fused ReLU: forward y = max(0, conv + bias); the backward passes mask dy by y > 0 (the kernel's
    // own output is the mask, so values rounding to either side of 0 cannot disagree).
    std::vector<T> yr(ys, nan);
    ctgrad::kernels::conv2d_forward(s, x.data(), w.data(), bias.data(), yr.data(), {.relu = true});
    std::vector<long double> ryr(ys);
    for (std::size_t i = 0; i < ys; ++i) ryr[i] = std::max(ryb[i], 0.0L);
    BOOST_TEST(count_mismatch(yr, ryr, tol) == 0u, "forward+bias+relu " << name.str());
    std::vector<T> dym(ys);
    for (std::size_t i = 0; i < ys; ++i) dym[i] = yr[i] > T(0) ? dy[i] : T(0);
    std::vector<long double> rdxm(xs, 0.0L), rdwm(dw0.begin(), dw0.end()), rdbm(db0.begin(), db0.end());
    for_each_term(s, [&](std::size_t xi, std::size_t wi, std::size_t yi) {
        rdxm[xi] += (long double)dym[yi] * w[wi];
        rdwm[wi] += (long double)dym[yi] * x[xi];
    });
    for (std::size_t i = 0; i < ys; ++i) rdbm[(i / P) % s.out_channels] += dym[i];
    std::fill(dx.begin(), dx.end(), nan);
    ctgrad::kernels::conv2d_backward_input(s, dy.data(), w.data(), dx.data(), {.relu = true}, yr.data());
    BOOST_TEST(count_mismatch(dx, rdxm, tol) == 0u, "backward_input relu " << name.str());
    dw = dw0;
    db = db0;
    ctgrad::kernels::conv2d_backward_weights(s, x.data(), dy.data(), dw.data(), db.data(), {.relu = true},
                                             yr.data());
    BOOST_TEST(count_mismatch(dw, rdwm, tol) == 0u, "backward_weights relu dw " << name.str());
    BOOST_TEST(count_mismatch(db, rdbm, tol) == 0u, "backward_weights relu db " << name.str());
}

// Fused (ReLU +) max pooling: the layer output is the pooled maximum of each window of conv + bias
// (ReLU'd); the backward passes route the pooled gradient to each window's arg-max (masked by y > 0
// with ReLU) before the convolution's own backward.
template <class T>
void check_fused_pool(const Conv2dShape& s, std::size_t K, std::size_t S, bool relu, std::mt19937& rng) {
    const ctgrad::kernels::Conv2dEpilogue ep{.relu = relu, .pool = K, .pool_stride = S};
    const std::size_t OH = s.out_h(), OW = s.out_w(), P = OH * OW, PH = ep.out_h(OH), PW = ep.out_w(OW);
    const std::size_t xs = s.batch * s.in_channels * s.in_h * s.in_w;
    const std::size_t ws = s.out_channels * s.in_channels * s.kernel * s.kernel;
    const std::size_t ys = s.batch * s.out_channels * P, ps = s.batch * s.out_channels * PH * PW;
    const auto x = rand_vec<T>(xs, rng), w = rand_vec<T>(ws, rng), bias = rand_vec<T>(s.out_channels, rng);
    const auto dy = rand_vec<T>(ps, rng);
    const T tol = std::is_same_v<T, float> ? T(1e-5) : T(1e-12);
    std::ostringstream name;
    name << "N=" << s.batch << " C=" << s.in_channels << " H=" << s.in_h << " W=" << s.in_w << " OC=" << s.out_channels
         << " k=" << s.kernel << " s=" << s.stride << " p=" << s.padding << " pool " << K << "/" << S
         << (relu ? " relu" : "");

    std::vector<long double> conv(ys);
    for (std::size_t i = 0; i < ys; ++i) conv[i] = bias[(i / P) % s.out_channels];
    for_each_term(s, [&](std::size_t xi, std::size_t wi, std::size_t yi) { conv[yi] += (long double)x[xi] * w[wi]; });
    std::vector<long double> want(ps);
    std::vector<std::size_t> arg(ps);  // index into conv
    for (std::size_t np = 0; np < s.batch * s.out_channels; ++np)
        for (std::size_t ph = 0; ph < PH; ++ph)
            for (std::size_t pw = 0; pw < PW; ++pw) {
                const std::size_t o = (np * PH + ph) * PW + pw;
                arg[o] = np * P + ph * S * OW + pw * S;
                for (std::size_t kh = 0; kh < K; ++kh)
                    for (std::size_t kw = 0; kw < K; ++kw) {
                        const std::size_t i = np * P + (ph * S + kh) * OW + pw * S + kw;
                        if (conv[i] > conv[arg[o]]) arg[o] = i;
                    }
                want[o] = relu ? std::max(conv[arg[o]], 0.0L) : conv[arg[o]];
            }
    std::vector<T> y(ps, std::numeric_limits<T>::quiet_NaN());
    std::vector<std::uint32_t> am(ps);
    ctgrad::kernels::conv2d_forward(s, x.data(), w.data(), bias.data(), y.data(), ep, am.data());
    BOOST_TEST(count_mismatch(y, want, tol) == 0u, "forward " << name.str());
    std::size_t bad_arg = 0;
    for (std::size_t o = 0; o < ps; ++o) bad_arg += (o / (PH * PW)) * P + am[o] != arg[o];
    BOOST_TEST(bad_arg == 0u, "argmax " << name.str());

    std::vector<long double> dconv(ys, 0.0L), rdx(xs, 0.0L), rdw(ws, 0.0L), rdb(s.out_channels, 0.0L);
    for (std::size_t o = 0; o < ps; ++o)
        if (!relu || y[o] > T(0)) dconv[arg[o]] += dy[o];
    for_each_term(s, [&](std::size_t xi, std::size_t wi, std::size_t yi) {
        rdx[xi] += dconv[yi] * w[wi];
        rdw[wi] += dconv[yi] * x[xi];
    });
    for (std::size_t i = 0; i < ys; ++i) rdb[(i / P) % s.out_channels] += dconv[i];
    std::vector<T> dx(xs), dw(ws, T(0)), db(s.out_channels, T(0));
    ctgrad::kernels::conv2d_backward_input(s, dy.data(), w.data(), dx.data(), ep, y.data(), am.data());
    BOOST_TEST(count_mismatch(dx, rdx, tol) == 0u, "backward_input " << name.str());
    ctgrad::kernels::conv2d_backward_weights(s, x.data(), dy.data(), dw.data(), db.data(), ep, y.data(), am.data());
    BOOST_TEST(count_mismatch(dw, rdw, tol) == 0u, "backward_weights dw " << name.str());
    BOOST_TEST(count_mismatch(db, rdb, tol) == 0u, "backward_weights db " << name.str());
}

// Fused average pooling (no ReLU): the layer output is the mean of each window of conv + bias; the
// backward passes spread each pooled gradient evenly over its window (overlapping windows add up)
// before the convolution's own backward. Reference: the unfused convolution and pooling in long double.
template <class T>
void check_fused_avg_pool(const Conv2dShape& s, std::size_t K, std::size_t S, std::mt19937& rng) {
    const ctgrad::kernels::Conv2dEpilogue ep{.pool = K, .pool_stride = S, .avg_pool = true};
    const std::size_t OH = s.out_h(), OW = s.out_w(), P = OH * OW, PH = ep.out_h(OH), PW = ep.out_w(OW);
    const std::size_t xs = s.batch * s.in_channels * s.in_h * s.in_w;
    const std::size_t ws = s.out_channels * s.in_channels * s.kernel * s.kernel;
    const std::size_t ys = s.batch * s.out_channels * P, ps = s.batch * s.out_channels * PH * PW;
    const auto x = rand_vec<T>(xs, rng), w = rand_vec<T>(ws, rng), bias = rand_vec<T>(s.out_channels, rng);
    const auto dy = rand_vec<T>(ps, rng), dw0 = rand_vec<T>(ws, rng), db0 = rand_vec<T>(s.out_channels, rng);
    const T tol = std::is_same_v<T, float> ? T(1e-5) : T(1e-12);
    std::ostringstream name;
    name << "N=" << s.batch << " C=" << s.in_channels << " H=" << s.in_h << " W=" << s.in_w << " OC=" << s.out_channels
         << " k=" << s.kernel << " s=" << s.stride << " p=" << s.padding << " avg pool " << K << "/" << S;

    std::vector<long double> conv(ys);
    for (std::size_t i = 0; i < ys; ++i) conv[i] = bias[(i / P) % s.out_channels];
    for_each_term(s, [&](std::size_t xi, std::size_t wi, std::size_t yi) { conv[yi] += (long double)x[xi] * w[wi]; });
    // Calls f(pooled index, conv index) for every element of every window.
    const auto for_each_window_term = [&](auto f) {
        for (std::size_t np = 0; np < s.batch * s.out_channels; ++np)
            for (std::size_t ph = 0; ph < PH; ++ph)
                for (std::size_t pw = 0; pw < PW; ++pw)
                    for (std::size_t kh = 0; kh < K; ++kh)
                        for (std::size_t kw = 0; kw < K; ++kw)
                            f((np * PH + ph) * PW + pw, np * P + (ph * S + kh) * OW + pw * S + kw);
    };
    std::vector<long double> want(ps, 0.0L);
    for_each_window_term([&](std::size_t o, std::size_t i) { want[o] += conv[i] / (long double)(K * K); });
    std::vector<T> y(ps, std::numeric_limits<T>::quiet_NaN());
    ctgrad::kernels::conv2d_forward(s, x.data(), w.data(), bias.data(), y.data(), ep);  // argmax not needed
    BOOST_TEST(count_mismatch(y, want, tol) == 0u, "forward " << name.str());

    std::vector<long double> dconv(ys, 0.0L), rdx(xs, 0.0L), rdw(dw0.begin(), dw0.end()),
        rdb(db0.begin(), db0.end());
    for_each_window_term([&](std::size_t o, std::size_t i) { dconv[i] += dy[o] / (long double)(K * K); });
    for_each_term(s, [&](std::size_t xi, std::size_t wi, std::size_t yi) {
        rdx[xi] += dconv[yi] * w[wi];
        rdw[wi] += dconv[yi] * x[xi];
    });
    for (std::size_t i = 0; i < ys; ++i) rdb[(i / P) % s.out_channels] += dconv[i];
    std::vector<T> dx(xs, std::numeric_limits<T>::quiet_NaN()), dw = dw0, db = db0;
    ctgrad::kernels::conv2d_backward_input(s, dy.data(), w.data(), dx.data(), ep);
    BOOST_TEST(count_mismatch(dx, rdx, tol) == 0u, "backward_input " << name.str());
    ctgrad::kernels::conv2d_backward_weights(s, x.data(), dy.data(), dw.data(), db.data(), ep);
    BOOST_TEST(count_mismatch(dw, rdw, tol) == 0u, "backward_weights dw " << name.str());
    BOOST_TEST(count_mismatch(db, rdb, tol) == 0u, "backward_weights db " << name.str());
}

template <class T>
void run_all_conv2d(int threads) {
    ctgrad::parallel::set_num_threads(threads);
    std::mt19937 rng(7 + threads);
    // LeNet's two layers (small batch) and the 1x1 fast path.
    check_shape<T>({3, 1, 28, 28, 6, 5, 1, 2}, rng);
    check_shape<T>({3, 6, 14, 14, 16, 5, 1, 0}, rng);
    check_shape<T>({2, 5, 6, 7, 3, 1, 1, 0}, rng);
    // A sweep over the geometry.
    for (std::size_t k : {1, 2, 3, 5})
        for (std::size_t st : {1, 2, 3})
            for (std::size_t p : {0, 1, 2})
                for (auto ch : {std::pair<std::size_t, std::size_t>{1, 4}, {3, 17}}) {
                    const std::size_t h = 7 + k, w = 9 + st;  // odd, non-square images
                    check_shape<T>({3, ch.first, h, w, ch.second, k, st, p}, rng);
                }
    // Stride-1 direct paths: output channels equal to one or two vectors (weight gradient vectorised
    // over channels; float 16 / 32, double 8 / 16), tap counts that need padding taps (K = 9, 18),
    // channel blocks with a remainder tile (13 = 6 + 6 + 1), input channels above one tile (12).
    check_shape<T>({2, 1, 9, 11, 16, 3, 1, 1}, rng);
    check_shape<T>({2, 2, 8, 9, 8, 3, 1, 0}, rng);
    check_shape<T>({2, 3, 7, 9, 32, 3, 1, 2}, rng);
    check_shape<T>({3, 5, 9, 10, 13, 3, 1, 1}, rng);
    check_shape<T>({2, 12, 6, 6, 7, 3, 1, 1}, rng);
    check_shape<T>({5, 2, 4, 30, 9, 4, 1, 3}, rng);  // wide rows, padding >= kernel - 1
    check_shape<T>({2, 2, 5, 37, 6, 3, 1, 1}, rng);  // rows longer than 32 floats (16 doubles)
    // Kernel as large as the padded image: a single output position.
    check_shape<T>({2, 2, 3, 3, 2, 5, 1, 1}, rng);
    // Fused epilogues: LeNet's conv + ReLU + 2x2 pooling, odd outputs (a leftover row and column),
    // overlapping windows, pooling without ReLU, and the strided (GEMM) path.
    check_fused_pool<T>({3, 1, 28, 28, 6, 5, 1, 2}, 2, 2, true, rng);
    check_fused_pool<T>({3, 6, 14, 14, 16, 5, 1, 0}, 2, 2, true, rng);
    check_fused_pool<T>({2, 3, 9, 11, 5, 3, 1, 1}, 2, 2, true, rng);
    check_fused_pool<T>({2, 3, 9, 11, 5, 3, 1, 1}, 3, 2, true, rng);
    check_fused_pool<T>({2, 3, 9, 11, 5, 3, 1, 1}, 3, 2, false, rng);
    check_fused_pool<T>({2, 2, 12, 13, 4, 3, 2, 1}, 2, 2, true, rng);
    check_fused_pool<T>({2, 2, 12, 13, 4, 3, 2, 1}, 3, 1, false, rng);
    // 16 output channels (float: the forward vectorised over channels): odd outputs, padding, pooled
    // rows wider than one tile (15 windows: 5 + 5 + 5), without ReLU.
    check_fused_pool<T>({2, 3, 9, 11, 16, 3, 1, 1}, 2, 2, true, rng);
    check_fused_pool<T>({2, 2, 8, 30, 16, 3, 1, 1}, 2, 2, true, rng);
    check_fused_pool<T>({3, 6, 14, 14, 16, 5, 1, 0}, 2, 2, false, rng);
    // The input gradient through the pool built from per-window patches: patches of several register
    // blocks (12 channels: 27 float vectors, 54 double), 3x3 windows, padding, a leftover row.
    check_fused_pool<T>({2, 12, 10, 10, 16, 5, 1, 2}, 2, 2, true, rng);
    check_fused_pool<T>({2, 2, 11, 12, 4, 3, 1, 1}, 3, 3, true, rng);
    check_fused_pool<T>({2, 2, 11, 12, 4, 3, 1, 1}, 3, 3, false, rng);
    // The float forward pooling its two-row tiles in registers: a remainder block of channels, an odd
    // last row, one column in a row's second vector, no padding (the tiles read the next image); rows
    // of exactly 32 columns.
    check_fused_pool<T>({2, 2, 11, 19, 9, 3, 1, 0}, 2, 2, true, rng);
    check_fused_pool<T>({2, 1, 34, 34, 7, 3, 1, 0}, 2, 2, false, rng);
    // Fused average pooling: LeNet's shapes, odd outputs, overlapping windows, the 1x1 path and the
    // strided (GEMM) path.
    check_fused_avg_pool<T>({3, 1, 28, 28, 6, 5, 1, 2}, 2, 2, rng);
    check_fused_avg_pool<T>({3, 6, 14, 14, 16, 5, 1, 0}, 2, 2, rng);
    check_fused_avg_pool<T>({2, 3, 9, 11, 5, 3, 1, 1}, 2, 2, rng);
    check_fused_avg_pool<T>({2, 3, 9, 11, 5, 3, 1, 1}, 3, 2, rng);
    check_fused_avg_pool<T>({2, 3, 9, 11, 5, 3, 1, 1}, 3, 1, rng);
    check_fused_avg_pool<T>({2, 5, 6, 7, 3, 1, 1, 0}, 2, 2, rng);
    check_fused_avg_pool<T>({2, 2, 12, 13, 4, 3, 2, 1}, 2, 2, rng);
    check_fused_avg_pool<T>({2, 2, 12, 13, 4, 3, 2, 1}, 3, 1, rng);
    ctgrad::parallel::set_num_threads(1);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(conv2d_kernel)

BOOST_AUTO_TEST_CASE(output_size) {
    const Conv2dShape a{1, 1, 28, 28, 6, 5, 1, 2}, b{1, 6, 14, 14, 16, 5, 1, 0}, c{1, 1, 7, 8, 1, 3, 2, 1};
    BOOST_TEST(a.out_h() == 28u);
    BOOST_TEST(b.out_w() == 10u);
    BOOST_TEST(c.out_h() == 4u);
    BOOST_TEST(c.out_w() == 4u);
}
// Epilogues the kernels cannot run are refused with a message instead of computing something wrong.
BOOST_AUTO_TEST_CASE(refused_epilogues) {
    const Conv2dShape s{1, 1, 6, 6, 2, 3, 1, 1};
    std::vector<float> x(36, 1.f), w(18, 1.f), y(2 * 9, 0.f), dx(36), dw(18), dy(18, 1.f);
    const ctgrad::kernels::Conv2dEpilogue relu_avg{.relu = true, .pool = 2, .pool_stride = 2, .avg_pool = true};
    const ctgrad::kernels::Conv2dEpilogue no_stride{.pool = 2, .pool_stride = 0};
    BOOST_CHECK_THROW(ctgrad::kernels::conv2d_forward(s, x.data(), w.data(), nullptr, y.data(), relu_avg),
                      std::invalid_argument);
    BOOST_CHECK_THROW(ctgrad::kernels::conv2d_backward_input(s, dy.data(), w.data(), dx.data(), relu_avg, y.data()),
                      std::invalid_argument);
    BOOST_CHECK_THROW(ctgrad::kernels::conv2d_backward_weights(s, x.data(), dy.data(), dw.data(), nullptr, relu_avg,
                                                               y.data()),
                      std::invalid_argument);
    BOOST_CHECK_THROW(ctgrad::kernels::conv2d_forward(s, x.data(), w.data(), nullptr, y.data(), no_stride),
                      std::invalid_argument);
}
// The fused (ReLU +) max-pool forward gives exactly the pooled unfused forward: the same sums (bias,
// then the taps in order, one FMA each) and the same maxima and arg-maxes, whichever algorithm the
// shape takes (with AVX-512, LeNet's conv2 takes one vectorised over output channels, and its conv1
// one pooling in registers: one and two vectors per row, a remainder block of channels). With a NaN in
// the input, the windows it reaches give NaN, at the first NaN of the window (PyTorch's rule).
BOOST_AUTO_TEST_CASE(fused_max_pool_equals_pooled_forward_bit_for_bit) {
    std::mt19937 rng(11);
    for (const Conv2dShape s : {Conv2dShape{4, 6, 14, 14, 16, 5, 1, 0}, Conv2dShape{2, 1, 28, 28, 6, 5, 1, 2},
                                Conv2dShape{2, 3, 9, 11, 16, 3, 1, 1}, Conv2dShape{2, 2, 11, 19, 9, 3, 1, 0},
                                Conv2dShape{2, 3, 9, 11, 5, 3, 1, 1}})
        for (int variant = 0; variant < 4; ++variant) {
            const bool relu = variant & 1, nan = variant & 2;
            const std::size_t OH = s.out_h(), OW = s.out_w(), PH = OH / 2, PW = OW / 2, NC = s.batch * s.out_channels;
            auto x = rand_vec<float>(s.batch * s.in_channels * s.in_h * s.in_w, rng);
            if (nan) x[s.in_w + 3] = std::numeric_limits<float>::quiet_NaN();  // image 0, channel 0, row 1
            const auto w = rand_vec<float>(s.out_channels * s.in_channels * s.kernel * s.kernel, rng);
            const auto bias = rand_vec<float>(s.out_channels, rng);
            std::vector<float> conv(NC * OH * OW), y(NC * PH * PW);
            std::vector<std::uint32_t> am(y.size());
            ctgrad::kernels::conv2d_forward(s, x.data(), w.data(), bias.data(), conv.data());
            const ctgrad::kernels::Conv2dEpilogue ep{.relu = relu, .pool = 2, .pool_stride = 2};
            ctgrad::kernels::conv2d_forward(s, x.data(), w.data(), bias.data(), y.data(), ep, am.data());
            std::size_t bad = 0, nans = 0;
            for (std::size_t p = 0; p < NC; ++p)
                for (std::size_t ph = 0; ph < PH; ++ph)
                    for (std::size_t pw = 0; pw < PW; ++pw) {
                        const float* c = conv.data() + p * OH * OW;
                        std::size_t arg = 2 * ph * OW + 2 * pw;
                        for (std::size_t i : {arg + 1, arg + OW, arg + OW + 1})
                            if (c[i] > c[arg] || (std::isnan(c[i]) && !std::isnan(c[arg]))) arg = i;
                        const float v = c[arg], want = relu ? std::max(v, 0.0f) : v;  // keeps a NaN
                        const std::size_t o = (p * PH + ph) * PW + pw;
                        bad += !(y[o] == want || (std::isnan(y[o]) && std::isnan(want))) || am[o] != arg;
                        nans += std::isnan(y[o]);
                    }
            BOOST_TEST(bad == 0u,
                       "C=" << s.in_channels << " OC=" << s.out_channels << " relu=" << relu << " nan=" << nan);
            BOOST_TEST((nans > 0) == nan);
        }
}
BOOST_AUTO_TEST_CASE(float_1_thread) { run_all_conv2d<float>(1); }
BOOST_AUTO_TEST_CASE(float_2_threads) { run_all_conv2d<float>(2); }
BOOST_AUTO_TEST_CASE(double_1_thread) { run_all_conv2d<double>(1); }
BOOST_AUTO_TEST_CASE(double_2_threads) { run_all_conv2d<double>(2); }

BOOST_AUTO_TEST_SUITE_END()
