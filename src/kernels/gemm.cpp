// Packed, cache-blocked GEMM (BLIS loop order) with an xsimd register-blocked micro-kernel.
//
// Loops: jc (NC columns of C) -> pc (KC of the inner dimension; pack B block) -> ic (MC rows; pack A
// block) -> jr (NR columns) -> ir (MR rows) -> micro-kernel. The packed B block lives in L2/L3, the
// packed A block in L2, one B micro-panel (KC x NR) in L1 while the ir loop sweeps A. Transposes are
// absorbed by the packing, so the micro-kernel sees one layout. Edge tiles are handled by
// instantiating the micro-kernel for every row count (no wasted rows) and by a narrower one-vector
// variant when at most one SIMD vector of columns remains.
#include "gemm_core.hpp"

#include <ctgrad/kernels/gemm.hpp>

#include <algorithm>
#include <omp.h>

namespace ctgrad::kernels {
namespace {
using namespace detail;

// Reference loop for tiny problems, where packing costs more than it saves.
template <class T>
void gemm_small(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A, std::size_t lda,
                const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc) {
    for (std::size_t i = 0; i < M; ++i) {
        T* c = C + i * ldc;
        if (beta == T(0))
            for (std::size_t j = 0; j < N; ++j) c[j] = T(0);
        else if (beta != T(1))
            for (std::size_t j = 0; j < N; ++j) c[j] *= beta;
        for (std::size_t k = 0; k < K; ++k) {
            const T a = alpha * (ta ? A[k * lda + i] : A[i * lda + k]);
            if (!tb) {
                const T* b = B + k * ldb;
                for (std::size_t j = 0; j < N; ++j) c[j] += a * b[j];
            } else {
                for (std::size_t j = 0; j < N; ++j) c[j] += a * B[j * ldb + k];
            }
        }
    }
}

// Products with fewer than 4 columns (matrix-vector shapes such as X w in a linear regression): the
// packed path would pad N up to NR columns, and the row-update loop above keeps C's elements in
// memory, a load/store chain per k. Here the NN partial sums of an output row stay in registers.
template <class T, std::size_t NN>
void gemm_narrow(bool ta, bool tb, std::size_t M, std::size_t K, T alpha, const T* A, std::size_t lda, const T* B,
                 std::size_t ldb, T beta, T* C, std::size_t ldc) {
    using V = xsimd::batch<T>;
    constexpr std::size_t W = V::size;
    const auto b_at = [&](std::size_t k, std::size_t j) { return tb ? B[j * ldb + k] : B[k * ldb + j]; };
    const auto put = [&](std::size_t i, std::size_t j, T acc) {
        T& c = C[i * ldc + j];
        c = beta == T(0) ? alpha * acc : alpha * acc + beta * c;
    };
    if (!ta) {
        // Row i of A is contiguous: one dot product per output, SIMD when B's column is contiguous too.
        const bool simd = NN == 1 && (tb || ldb == 1) && K >= W;
        for (std::size_t i = 0; i < M; ++i) {
            const T* a = A + i * lda;
            T acc[NN] = {};
            std::size_t k = 0;
            if (simd) {
                V s0(T(0)), s1(T(0));  // two chains hide the FMA latency
                for (; k + 2 * W <= K; k += 2 * W) {
                    s0 = xsimd::fma(V::load_unaligned(a + k), V::load_unaligned(B + k), s0);
                    s1 = xsimd::fma(V::load_unaligned(a + k + W), V::load_unaligned(B + k + W), s1);
                }
                for (; k + W <= K; k += W) s0 = xsimd::fma(V::load_unaligned(a + k), V::load_unaligned(B + k), s0);
                acc[0] = xsimd::hadd(s0 + s1);
            }
            for (; k < K; ++k)
                for (std::size_t j = 0; j < NN; ++j) acc[j] += a[k] * b_at(k, j);
            for (std::size_t j = 0; j < NN; ++j) put(i, j, acc[j]);
        }
        return;
    }
    // op(A) = Aᵀ: row k of A holds the k-th term of every output row, so sweep A row by row and
    // keep the sums of a block of outputs in a small local array (the inner loop vectorises).
    constexpr std::size_t MB = 64;
    for (std::size_t i0 = 0; i0 < M; i0 += MB) {
        const std::size_t mb = std::min(MB, M - i0);
        alignas(64) T acc[NN][MB];
        for (std::size_t j = 0; j < NN; ++j)
            for (std::size_t r = 0; r < mb; ++r) acc[j][r] = T(0);
        for (std::size_t k = 0; k < K; ++k) {
            const T* a = A + k * lda + i0;
            for (std::size_t j = 0; j < NN; ++j) {
                const T bk = b_at(k, j);
                for (std::size_t r = 0; r < mb; ++r) acc[j][r] += a[r] * bk;
            }
        }
        for (std::size_t r = 0; r < mb; ++r)
            for (std::size_t j = 0; j < NN; ++j) put(i0 + r, j, acc[j][r]);
    }
}

// One thread's share: the whole blocked algorithm on an M x N block of C.
template <class T>
void gemm_serial(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A,
                 std::size_t lda, const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc) {
    using Cf = Cfg<T>;
    const std::size_t kc_max = std::min(Cf::KC, K);
    const std::size_t nc_max = std::min(Cf::NC, (N + Cf::NR - 1) / Cf::NR * Cf::NR);
    const std::size_t mc_max = std::min(Cf::MC, (M + Cf::MR - 1) / Cf::MR * Cf::MR);
    Scratch<T> apack(mc_max * kc_max), bpack(nc_max * kc_max);
    for (std::size_t jc = 0; jc < N; jc += Cf::NC) {
        const std::size_t nc = std::min(Cf::NC, N - jc);
        for (std::size_t pc = 0; pc < K; pc += Cf::KC) {
            const std::size_t kc = std::min(Cf::KC, K - pc);
            const T b_eff = pc == 0 ? beta : T(1);  // later K blocks accumulate onto the first
            pack_b(tb, B, ldb, pc, jc, kc, nc, bpack.data());
            for (std::size_t ic = 0; ic < M; ic += Cf::MC) {
                const std::size_t mc = std::min(Cf::MC, M - ic);
                pack_a(ta, A, lda, ic, pc, mc, kc, apack.data());
                macro(mc, nc, kc, apack.data(), bpack.data(), alpha, b_eff, C + ic * ldc + jc, ldc);
            }
        }
    }
}

template <class T>
void gemm_impl(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A, std::size_t lda,
               const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc) {
    if (M == 0 || N == 0) return;
    if (K == 0 || alpha == T(0)) {
        for (std::size_t i = 0; i < M; ++i)
            for (std::size_t j = 0; j < N; ++j) C[i * ldc + j] = beta == T(0) ? T(0) : beta * C[i * ldc + j];
        return;
    }
    switch (N) {
    case 1: return gemm_narrow<T, 1>(ta, tb, M, K, alpha, A, lda, B, ldb, beta, C, ldc);
    case 2: return gemm_narrow<T, 2>(ta, tb, M, K, alpha, A, lda, B, ldb, beta, C, ldc);
    case 3: return gemm_narrow<T, 3>(ta, tb, M, K, alpha, A, lda, B, ldb, beta, C, ldc);
    default: break;
    }
    const double work = double(M) * double(N) * double(K);
    if (work < 4096.0) {
        gemm_small(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    // Threads only pay off above a few hundred microseconds of serial work; nested calls (e.g. from a
    // batch-parallel convolution) stay serial.
    int nt = omp_in_parallel() ? 1 : omp_get_max_threads();
    nt = std::min<int>(nt, int(work / (64.0 * 64.0 * 64.0)) + 1);
    if (nt <= 1) {
        gemm_serial(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    // Split the larger dimension of C into nt slabs aligned to the micro-tile; each thread runs the
    // whole blocked algorithm on its slab (re-packing the shared operand costs O(K*N), negligible).
    const bool split_m = M >= N;
    const std::size_t unit = split_m ? Cfg<T>::MR : Cfg<T>::NR;
    const std::size_t dim = split_m ? M : N;
    const std::size_t units = (dim + unit - 1) / unit;
    nt = std::min<int>(nt, int(units));
#pragma omp parallel num_threads(nt)
    {
        const std::size_t t = std::size_t(omp_get_thread_num()), n = std::size_t(omp_get_num_threads());
        const std::size_t lo = std::min(dim, units * t / n * unit), hi = std::min(dim, units * (t + 1) / n * unit);
        if (hi > lo) {
            if (split_m)
                gemm_serial(ta, tb, hi - lo, N, K, alpha, ta ? A + lo : A + lo * lda, lda, B, ldb, beta,
                            C + lo * ldc, ldc);
            else
                gemm_serial(ta, tb, M, hi - lo, K, alpha, A, lda, tb ? B + lo * ldb : B + lo, ldb, beta, C + lo,
                            ldc);
        }
    }
}
}  // namespace

void gemm(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, float alpha, const float* A, std::size_t lda,
          const float* B, std::size_t ldb, float beta, float* C, std::size_t ldc) {
    gemm_impl(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
void gemm(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, double alpha, const double* A,
          std::size_t lda, const double* B, std::size_t ldb, double beta, double* C, std::size_t ldc) {
    gemm_impl(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace ctgrad::kernels
