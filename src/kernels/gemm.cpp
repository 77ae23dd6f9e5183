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
    const double work = double(M) * double(N) * double(K);
    if (work < 4096.0 || N < 4) {
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
