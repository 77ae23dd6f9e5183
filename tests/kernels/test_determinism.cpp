// Thread-count independence of the kernels: every convolution path (direct and im2col + GEMM; forward,
// input gradient, both weight-gradient variants; with no epilogue, ReLU + max pooling and average
// pooling) and every GEMM path (serial, split over rows, split over columns, narrow) gives
// bit-identical results with 1, 2 and 3 threads (compared with memcmp).
#include <ctgrad/kernels/conv2d.hpp>
#include <ctgrad/kernels/gemm.hpp>
#include <ctgrad/parallel/thread_pool.hpp>

#include <boost/test/unit_test.hpp>

#include <cstring>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "random_vector.hpp"

namespace {
using ctgrad::kernels::Conv2dEpilogue;
using ctgrad::kernels::Conv2dShape;

using ctgrad::test::rand_vec;

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

// Everything one convolution layer computes, for one thread count.
template <class T>
struct ConvResults {
    std::vector<T> y, dx, dw, db;
    std::vector<std::uint32_t> argmax;
};

template <class T>
ConvResults<T> run_conv(const Conv2dShape& s, const Conv2dEpilogue& ep, int threads, std::uint32_t seed) {
    std::mt19937 rng(seed);  // the same inputs for every thread count
    const std::size_t OH = s.out_h(), OW = s.out_w();
    const std::size_t ys = s.batch * s.out_channels * ep.out_h(OH) * ep.out_w(OW);
    const std::size_t ws = s.out_channels * s.in_channels * s.kernel * s.kernel;
    const auto x = rand_vec<T>(s.batch * s.in_channels * s.in_h * s.in_w, rng), w = rand_vec<T>(ws, rng);
    const auto bias = rand_vec<T>(s.out_channels, rng), dy = rand_vec<T>(ys, rng);
    ConvResults<T> r;
    r.y.resize(ys);
    r.argmax.resize(ys);
    r.dx.resize(x.size());
    r.dw = rand_vec<T>(ws, rng);  // the weight gradients accumulate onto these
    r.db = rand_vec<T>(s.out_channels, rng);
    ctgrad::parallel::set_num_threads(threads);
    ctgrad::kernels::conv2d_forward(s, x.data(), w.data(), bias.data(), r.y.data(), ep, r.argmax.data());
    ctgrad::kernels::conv2d_backward_input(s, dy.data(), w.data(), r.dx.data(), ep, r.y.data(), r.argmax.data());
    ctgrad::kernels::conv2d_backward_weights(s, x.data(), dy.data(), r.dw.data(), r.db.data(), ep, r.y.data(),
                                             r.argmax.data());
    ctgrad::parallel::set_num_threads(1);
    return r;
}

template <class T>
void check_conv(const Conv2dShape& s, const Conv2dEpilogue& ep, const char* path) {
    std::ostringstream name;
    name << path << ": N=" << s.batch << " C=" << s.in_channels << " H=" << s.in_h << " W=" << s.in_w
         << " OC=" << s.out_channels << " k=" << s.kernel << " s=" << s.stride << " p=" << s.padding
         << (ep.relu ? " relu" : "") << (ep.pool ? (ep.avg_pool ? " avgpool" : " maxpool") : "");
    const auto one = run_conv<T>(s, ep, 1, 11);
    for (int t : {2, 3}) {
        const auto r = run_conv<T>(s, ep, t, 11);
        BOOST_TEST(same_bits(r.y, one.y), "forward, " << t << " threads vs 1, " << name.str());
        BOOST_TEST(same_bits(r.dx, one.dx), "input gradient, " << t << " threads vs 1, " << name.str());
        BOOST_TEST(same_bits(r.dw, one.dw), "weight gradient, " << t << " threads vs 1, " << name.str());
        BOOST_TEST(same_bits(r.db, one.db), "bias gradient, " << t << " threads vs 1, " << name.str());
        if (ep.pool && !ep.avg_pool) BOOST_TEST((r.argmax == one.argmax), "argmax, " << t << " threads, " << name.str());
    }
}

template <class T>
void conv_paths() {
    // Batches of 37 and 70 make uneven chunks (19 of 2, 35 of 2) that no thread count divides evenly.
    const Conv2dEpilogue none{}, relu_max{.relu = true, .pool = 2, .pool_stride = 2},
        avg{.pool = 2, .pool_stride = 2, .avg_pool = true};
    constexpr std::size_t W = 64 / sizeof(T);  // vector width with AVX-512; other widths take other paths
    for (const auto& ep : {none, relu_max, avg}) {
        // Direct kernels; weight gradient over q with 6 and with 13 output channels.
        check_conv<T>({37, 1, 28, 28, 6, 5, 1, 2}, ep, "direct (LeNet conv1)");
        check_conv<T>({37, 3, 11, 12, 13, 3, 1, 1}, ep, "direct, remainder channel tile");
        // Weight gradient over output channels (one and two vectors of them).
        check_conv<T>({70, 6, 14, 14, 16, 5, 1, 0}, ep, "direct (LeNet conv2)");
        check_conv<T>({37, 2, 10, 10, W, 3, 1, 1}, ep, "direct, one vector of channels");
        check_conv<T>({37, 2, 10, 10, 2 * W, 3, 1, 1}, ep, "direct, two vectors of channels");
        // im2col + GEMM: strided, and the 1x1 input gradient.
        check_conv<T>({37, 3, 13, 12, 5, 3, 2, 1}, ep, "im2col + GEMM, stride 2");
        check_conv<T>({37, 5, 8, 8, 7, 1, 1, 0}, ep, "1x1 (GEMM input gradient)");
    }
}

// C = alpha op(A) op(B) + beta C with the same inputs for 1, 2 and 3 threads.
template <class T>
void check_gemm(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, T beta) {
    std::mt19937 rng(5);
    const auto A = rand_vec<T>(M * K, rng), B = rand_vec<T>(K * N, rng), C0 = rand_vec<T>(M * N, rng);
    const auto run = [&](int threads) {
        std::vector<T> C = C0;
        ctgrad::parallel::set_num_threads(threads);
        ctgrad::kernels::gemm(ta, tb, M, N, K, T(0.75), A.data(), ta ? M : K, B.data(), tb ? K : N, beta, C.data(), N);
        ctgrad::parallel::set_num_threads(1);
        return C;
    };
    const auto one = run(1);
    for (int t : {2, 3})
        BOOST_TEST(same_bits(run(t), one), "gemm ta=" << ta << " tb=" << tb << " M=" << M << " N=" << N << " K=" << K
                                                      << " beta=" << beta << ", " << t << " threads vs 1");
}

template <class T>
void gemm_paths() {
    for (bool ta : {false, true})
        for (bool tb : {false, true})
            for (T beta : {T(0), T(0.5)}) {
                check_gemm<T>(ta, tb, 301, 77, 290, beta);   // rows split over threads, K over two blocks
                check_gemm<T>(ta, tb, 45, 333, 150, beta);   // columns split, a column tail
                check_gemm<T>(ta, tb, 256, 10, 256, beta);   // LeNet's classifier shape
                check_gemm<T>(ta, tb, 500, 3, 700, beta);    // narrow (N < 4)
                check_gemm<T>(ta, tb, 20, 20, 20, beta);     // small: one thread whatever is asked
            }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(thread_count_independence)

BOOST_AUTO_TEST_CASE(conv2d_float) { conv_paths<float>(); }
BOOST_AUTO_TEST_CASE(conv2d_double) { conv_paths<double>(); }
BOOST_AUTO_TEST_CASE(gemm_float) { gemm_paths<float>(); }
BOOST_AUTO_TEST_CASE(gemm_double) { gemm_paths<double>(); }

BOOST_AUTO_TEST_SUITE_END()
