// GEMM kernels against a naive triple loop: every transpose combination, odd sizes that exercise all
// micro-tile edges, padded leading dimensions, alpha/beta (including beta == 0 with NaN in C, which must
// not be read), float and double, one and two threads.
#include <ctgrad/kernels/gemm.hpp>
#include <ctgrad/parallel/thread_pool.hpp>

#include <boost/test/unit_test.hpp>

#include <array>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace {

template <class T>
void naive_gemm(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A, std::size_t lda,
                const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc) {
    for (std::size_t i = 0; i < M; ++i)
        for (std::size_t j = 0; j < N; ++j) {
            long double s = 0;
            for (std::size_t k = 0; k < K; ++k)
                s += (long double)(ta ? A[k * lda + i] : A[i * lda + k]) * (tb ? B[j * ldb + k] : B[k * ldb + j]);
            const long double prev = beta == T(0) ? 0.0L : (long double)beta * C[i * ldc + j];
            C[i * ldc + j] = T(alpha * s + prev);
        }
}

template <class T>
void check_case(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, T alpha, T beta, std::mt19937& rng,
                bool padded = true) {
    std::uniform_real_distribution<T> dist(T(-1), T(1));
    // Leading dimensions padded by a few elements to catch stride mistakes (or tight: a matrix-vector
    // product then reads B's column contiguously, ldb = 1).
    const std::size_t lda = (ta ? M : K) + (padded ? 3 : 0), ldb = (tb ? K : N) + (padded ? 2 : 0);
    const std::size_t ldc = N + (padded ? 5 : 0);
    const std::size_t arows = ta ? K : M, brows = tb ? N : K;
    std::vector<T> A(arows * lda), B(brows * ldb), C(M * ldc), R;
    for (auto& v : A) v = dist(rng);
    for (auto& v : B) v = dist(rng);
    if (beta == T(0))
        for (auto& v : C) v = std::numeric_limits<T>::quiet_NaN();
    else
        for (auto& v : C) v = dist(rng);
    R = C;
    naive_gemm(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, R.data(), ldc);
    ctgrad::kernels::gemm(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
    const T tol = (std::is_same_v<T, float> ? T(2e-6) : T(1e-14)) * T(K + 1);
    std::size_t bad = 0;
    for (std::size_t i = 0; i < M; ++i)
        for (std::size_t j = 0; j < N; ++j) {
            const T c = C[i * ldc + j], r = R[i * ldc + j];
            if (!(std::abs(c - r) <= tol * (T(1) + std::abs(r)))) ++bad;
        }
    // Padding columns of C must be untouched.
    for (std::size_t i = 0; i < M; ++i)
        for (std::size_t j = N; j < ldc; ++j) {
            const T c = C[i * ldc + j], r = R[i * ldc + j];
            if (!(c == r || (std::isnan(c) && std::isnan(r)))) ++bad;
        }
    BOOST_TEST(bad == 0u, "ta=" << ta << " tb=" << tb << " M=" << M << " N=" << N << " K=" << K
                                << " alpha=" << alpha << " beta=" << beta << " mismatches=" << bad);
}

template <class T>
void run_all_gemm(int threads) {
    ctgrad::parallel::set_num_threads(threads);
    std::mt19937 rng(42 + threads);
    const std::size_t sizes[][3] = {{1, 1, 1},    {2, 3, 4},     {7, 5, 3},     {6, 25, 784},  {13, 17, 19},
                                    {33, 65, 31}, {97, 130, 70}, {25, 784, 6},  {150, 100, 16}, {256, 10, 256},
                                    {300, 1, 40}, {1, 300, 40},  {64, 64, 600}, {200, 333, 257}, {130, 47, 513}};
    const T ab[][2] = {{T(1), T(0)}, {T(0.5), T(1)}, {T(-2), T(0.25)}};
    for (const auto& s : sizes)
        for (int t = 0; t < 4; ++t)
            for (const auto& p : ab) check_case<T>(t & 1, t & 2, s[0], s[1], s[2], p[0], p[1], rng);
    // Narrow products (N < 4: matrix-vector shapes such as d2l's linear regression), padded and tight.
    for (std::size_t n : {1, 2, 3})
        for (const auto& mk : {std::array<std::size_t, 2>{1, 5}, {10, 5}, {7, 33}, {100, 64}})
            for (int t = 0; t < 4; ++t)
                for (const auto& p : ab)
                    for (bool padded : {true, false}) check_case<T>(t & 1, t & 2, mk[0], n, mk[1], p[0], p[1], rng, padded);
    // Big enough for the threaded path and several KC/MC/NC blocks.
    for (int t = 0; t < 4; ++t) check_case<T>(t & 1, t & 2, 517, 1100, 531, T(1), T(0.5), rng);
    ctgrad::parallel::set_num_threads(1);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(gemm_kernel)

BOOST_AUTO_TEST_CASE(float_1_thread) { run_all_gemm<float>(1); }
BOOST_AUTO_TEST_CASE(float_2_threads) { run_all_gemm<float>(2); }
BOOST_AUTO_TEST_CASE(double_1_thread) { run_all_gemm<double>(1); }
BOOST_AUTO_TEST_CASE(double_2_threads) { run_all_gemm<double>(2); }

BOOST_AUTO_TEST_CASE(zero_k_scales_c) {
    std::vector<float> C{1, 2, 3, 4};
    ctgrad::kernels::gemm(false, false, 2, 2, 0, 1.0f, nullptr, 1, nullptr, 2, 2.0f, C.data(), 2);
    BOOST_TEST(C == (std::vector<float>{2, 4, 6, 8}), boost::test_tools::per_element());
    std::vector<double> D(4, std::numeric_limits<double>::quiet_NaN());
    ctgrad::kernels::gemm(false, false, 2, 2, 0, 1.0, nullptr, 1, nullptr, 2, 0.0, D.data(), 2);
    BOOST_TEST(D == (std::vector<double>(4, 0.0)), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
