// Max-pooling kernels against naive loops: values drawn from {0, 1, 2} so windows are full of ties
// (the first maximum in row-major window order must win), overlapping and non-overlapping windows,
// sizes that leave a remainder, float and double, 1 and 2 threads; the backward pass must overwrite dx
// and accumulate where windows overlap.
#include <ctgrad/kernels/maxpool2d.hpp>
#include <ctgrad/parallel/thread_pool.hpp>

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace {
using ctgrad::kernels::Pool2dShape;

template <class T>
void check_pool_shape(const Pool2dShape& s, std::mt19937& rng) {
    const std::size_t HW = s.in_h * s.in_w, OH = s.out_h(), OW = s.out_w(), planes = s.batch * s.channels;
    std::uniform_int_distribution<int> small(0, 2);
    std::uniform_real_distribution<T> real(T(-1), T(1));
    std::vector<T> x(planes * HW), dy(planes * OH * OW);
    for (auto& v : x) v = T(small(rng));
    for (auto& v : dy) v = real(rng);

    std::vector<T> ry(dy.size()), rdx(x.size(), T(0));
    std::vector<std::uint32_t> ra(dy.size());
    for (std::size_t pl = 0; pl < planes; ++pl)
        for (std::size_t oh = 0; oh < OH; ++oh)
            for (std::size_t ow = 0; ow < OW; ++ow) {
                T best = -std::numeric_limits<T>::infinity();
                std::uint32_t bi = 0;
                for (std::size_t kh = 0; kh < s.kernel; ++kh)
                    for (std::size_t kw = 0; kw < s.kernel; ++kw) {
                        const std::size_t i = (oh * s.stride + kh) * s.in_w + ow * s.stride + kw;
                        if (x[pl * HW + i] > best) best = x[pl * HW + i], bi = std::uint32_t(i);
                    }
                const std::size_t o = (pl * OH + oh) * OW + ow;
                ry[o] = best;
                ra[o] = bi;
                rdx[pl * HW + bi] += dy[o];
            }

    std::vector<T> y(dy.size(), std::numeric_limits<T>::quiet_NaN());
    std::vector<std::uint32_t> a(dy.size(), 0xFFFFFFFFu);
    ctgrad::kernels::maxpool2d_forward(s, x.data(), y.data(), a.data());
    BOOST_TEST(y == ry, boost::test_tools::per_element());
    BOOST_TEST(a == ra, boost::test_tools::per_element());

    std::vector<T> dx(x.size(), std::numeric_limits<T>::quiet_NaN());
    ctgrad::kernels::maxpool2d_backward(s, dy.data(), a.data(), dx.data());
    // Same order of additions as the reference, so exact equality holds.
    BOOST_TEST(dx == rdx, boost::test_tools::per_element());
}

template <class T>
void run_all_maxpool2d(int threads) {
    ctgrad::parallel::set_num_threads(threads);
    std::mt19937 rng(11 + threads);
    check_pool_shape<T>({64, 6, 28, 28, 2, 2}, rng);  // LeNet pool1 (big enough to use threads)
    check_pool_shape<T>({64, 16, 10, 10, 2, 2}, rng);  // LeNet pool2
    const std::size_t geo[][4] = {{2, 2, 7, 9}, {3, 2, 9, 8}, {3, 3, 10, 11}, {2, 1, 5, 6},
                                  {3, 1, 6, 6}, {1, 1, 4, 5}, {4, 3, 13, 9}, {5, 5, 5, 5}};
    for (const auto& g : geo) check_pool_shape<T>({3, 4, g[2], g[3], g[0], g[1]}, rng);
    ctgrad::parallel::set_num_threads(1);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(maxpool2d_kernel)

BOOST_AUTO_TEST_CASE(output_size) {
    const Pool2dShape a{1, 1, 28, 28, 2, 2}, b{1, 1, 9, 8, 3, 2};
    BOOST_TEST(a.out_h() == 14u);
    BOOST_TEST(b.out_h() == 4u);
    BOOST_TEST(b.out_w() == 3u);
}
BOOST_AUTO_TEST_CASE(first_maximum_wins_ties) {
    // One 2x2 window of equal values, and one 3x3 window with the maximum twice.
    const float x1[4] = {1, 1, 1, 1};
    float y;
    std::uint32_t a;
    ctgrad::kernels::maxpool2d_forward(Pool2dShape{1, 1, 2, 2, 2, 2}, x1, &y, &a);
    BOOST_TEST(y == 1.0f);
    BOOST_TEST(a == 0u);
    const double x2[9] = {0, 0, 0, 0, 5, 0, 5, 0, 0};
    double yd;
    ctgrad::kernels::maxpool2d_forward(Pool2dShape{1, 1, 3, 3, 3, 3}, x2, &yd, &a);
    BOOST_TEST(yd == 5.0);
    BOOST_TEST(a == 4u);
}
// NaN propagates as in PyTorch: a window with a NaN gives NaN and the arg-max of its first NaN in
// row-major order; a later NaN or value never replaces it. One row of 20 windows (the float AVX-512
// path takes 16 per step, then a remainder of 4), each holding a pattern of NaNs, infinities and
// signed zeros in its top-left 2x2 corner; 3x3 windows (the rest -1) run the scalar path.
template <class T>
void check_nan_windows(std::size_t k) {
    const T n = std::numeric_limits<T>::quiet_NaN(), inf = std::numeric_limits<T>::infinity();
    const std::vector<std::vector<T>> patterns = {
        {n, 1, 2, 3},   {1, n, 2, 3},     {1, 2, n, 3},     {1, 2, 3, n},  {n, n, 1, 2},
        {1, n, n, 2},   {inf, n, 1, 2},   {n, inf, 1, 2},   {-inf, -inf, -inf, -inf},
        {-0.0, 0.0, 0.0, -0.0},           {1, 2, inf, n},   {3, 2, 1, 0},  {-1, n, -2, n},
        {0, 0, 0, n},   {n, n, n, n},     {5, 5, 5, 5},     {2, n, 9, 1},  {-inf, 1, n, inf},
        {7, 8, 9, 10},  {n, 0, 0, 0}};
    const std::size_t W = k * patterns.size(), H = k;
    std::vector<T> x(H * W, T(-1));
    for (std::size_t p = 0; p < patterns.size(); ++p)  // the pattern on the window's 2x2 corner
        for (std::size_t i = 0; i < 4; ++i) x[(i / 2) * W + p * k + i % 2] = patterns[p][i];
    const Pool2dShape s{1, 1, H, W, k, k};
    std::vector<T> y(patterns.size());
    std::vector<std::uint32_t> a(patterns.size());
    ctgrad::kernels::maxpool2d_forward(s, x.data(), y.data(), a.data());
    std::size_t bad = 0;
    for (std::size_t p = 0; p < patterns.size(); ++p) {
        std::size_t arg = p * k;
        for (std::size_t kh = 0; kh < k; ++kh)
            for (std::size_t kw = 0; kw < k; ++kw) {
                const std::size_t i = kh * W + p * k + kw;
                if (x[i] > x[arg] || (std::isnan(x[i]) && !std::isnan(x[arg]))) arg = i;
            }
        const bool same = std::isnan(x[arg]) ? std::isnan(y[p])
                                             : y[p] == x[arg] && std::signbit(y[p]) == std::signbit(x[arg]);
        bad += !same || a[p] != arg;
    }
    BOOST_TEST(bad == 0u, "window size " << k);
}
BOOST_AUTO_TEST_CASE(nan_propagates_first_nan_wins) {
    for (std::size_t k : {2, 3}) {
        check_nan_windows<float>(k);
        check_nan_windows<double>(k);
    }
}
BOOST_AUTO_TEST_CASE(float_1_thread) { run_all_maxpool2d<float>(1); }
BOOST_AUTO_TEST_CASE(float_2_threads) { run_all_maxpool2d<float>(2); }
BOOST_AUTO_TEST_CASE(double_1_thread) { run_all_maxpool2d<double>(1); }
BOOST_AUTO_TEST_CASE(double_2_threads) { run_all_maxpool2d<double>(2); }

BOOST_AUTO_TEST_SUITE_END()
