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
#include <ctgrad/parallel/thread_pool.hpp>

#include <algorithm>
#include <type_traits>

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
// memory, a load/store chain per k. Here the partial sums stay in registers: SIMD across rows when
// op(A) = Aᵀ (its rows are A's columns, contiguous across i), SIMD dot products when a long row of A
// meets a contiguous column of B, and otherwise 4 rows at a time so that 4 FMA chains overlap.
template <class T, std::size_t NN>
void gemm_narrow(bool ta, bool tb, std::size_t M, std::size_t K, T alpha, const T* A, std::size_t lda, const T* B,
                 std::size_t ldb, T beta, T* C, std::size_t ldc) {
    using V = xsimd::batch<T>;
    constexpr std::size_t W = V::size;
    const std::size_t ai = ta ? 1 : lda, ak = ta ? lda : 1;  // op(A)(i, k) = A[i * ai + k * ak]
    const std::size_t bk = tb ? 1 : ldb, bj = tb ? ldb : 1;  // op(B)(k, j) = B[k * bk + j * bj]
    const auto put = [&](std::size_t i, std::size_t j, T acc) {
        T& c = C[i * ldc + j];
        c = beta == T(0) ? alpha * acc : alpha * acc + beta * c;
    };
    std::size_t i = 0;
    if (ta) {
        for (; i + W <= M; i += W) {
            V acc[NN];
            for (std::size_t j = 0; j < NN; ++j) acc[j] = V(T(0));
            for (std::size_t k = 0; k < K; ++k) {
                const V a = V::load_unaligned(A + k * lda + i);
                for (std::size_t j = 0; j < NN; ++j) acc[j] = xsimd::fma(a, V(B[k * bk + j * bj]), acc[j]);
            }
            alignas(64) T tmp[W];
            for (std::size_t j = 0; j < NN; ++j) {
                acc[j].store_aligned(tmp);
                for (std::size_t r = 0; r < W; ++r) put(i + r, j, tmp[r]);
            }
        }
    } else if (NN == 1 && bk == 1 && K >= 2 * W) {
        for (; i < M; ++i) {
            const T* a = A + i * lda;
            V s0(T(0)), s1(T(0));  // two chains hide the FMA latency
            std::size_t k = 0;
            for (; k + 2 * W <= K; k += 2 * W) {
                s0 = xsimd::fma(V::load_unaligned(a + k), V::load_unaligned(B + k), s0);
                s1 = xsimd::fma(V::load_unaligned(a + k + W), V::load_unaligned(B + k + W), s1);
            }
            for (; k + W <= K; k += W) s0 = xsimd::fma(V::load_unaligned(a + k), V::load_unaligned(B + k), s0);
            T acc = xsimd::hadd(s0 + s1);
            for (; k < K; ++k) acc += a[k] * B[k];
            put(i, 0, acc);
        }
        return;
    }
    const auto rows = [&]<std::size_t R>(std::integral_constant<std::size_t, R>, std::size_t i0) {
        T acc[R][NN] = {};
        for (std::size_t k = 0; k < K; ++k) {
            T b[NN];
            for (std::size_t j = 0; j < NN; ++j) b[j] = B[k * bk + j * bj];
            for (std::size_t r = 0; r < R; ++r) {
                const T a = A[(i0 + r) * ai + k * ak];
                for (std::size_t j = 0; j < NN; ++j) acc[r][j] += a * b[j];
            }
        }
        for (std::size_t r = 0; r < R; ++r)
            for (std::size_t j = 0; j < NN; ++j) put(i0 + r, j, acc[r][j]);
    };
    for (; i + 4 <= M; i += 4) rows(std::integral_constant<std::size_t, 4>{}, i);
    for (; i < M; ++i) rows(std::integral_constant<std::size_t, 1>{}, i);
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

// Row chunks over one shared packed copy of op(B): B is packed once (itself in parallel, by KC block
// and group of NR panels), then each of `chunks` chunks of rows packs its rows of A per KC block and
// sweeps all of B's columns (NC at a time). Splitting the rows with a private B per thread would
// pack B once per chunk; sharing it is what lets 2 threads gain on the MLP's products.
// The micro-tiles of rows are dealt out evenly (chunks <= tiles), the chunks with one tile more
// first: chunks of 4 tiles and a remainder left the MLP's 256 rows as five chunks of 48 and one of
// 16, and the thread that took three full chunks did 144 rows, 12.5% more than half; 4, 4, 4, 4, 3
// and 3 tiles leave it 132.
template <class T>
void gemm_rows(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A, std::size_t lda,
               const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc, std::size_t chunks) {
    using Cf = Cfg<T>;
    const std::size_t tiles = (M + Cf::MR - 1) / Cf::MR, per_chunk = tiles / chunks, extra = tiles % chunks;
    const auto first_row = [&](std::size_t c) {
        return std::min(M, (c * per_chunk + std::min(c, extra)) * Cf::MR);
    };
    const std::size_t max_rows = (per_chunk + (extra ? 1 : 0)) * Cf::MR;  // pack_a pads to whole tiles
    const std::size_t n_pad = round_up_nr<T>(N);
    Scratch<T> bp(K * n_pad);  // packed_b_index layout
    constexpr std::size_t kPanelsPerChunk = 4;  // 128 columns: two chunks for the MLP's 256
    const std::size_t kblocks = (K + Cf::KC - 1) / Cf::KC;
    const std::size_t groups = (n_pad / Cf::NR + kPanelsPerChunk - 1) / kPanelsPerChunk;
    parallel::for_each_chunk(kblocks * groups, [&](std::size_t c) {
        const std::size_t pc = c / groups * Cf::KC, kc = std::min(Cf::KC, K - pc);
        const std::size_t j0 = c % groups * kPanelsPerChunk * Cf::NR, nc = std::min(kPanelsPerChunk * Cf::NR, N - j0);
        pack_b(tb, B, ldb, pc, j0, kc, nc, bp.data() + pc * n_pad + j0 * kc);
    });
    parallel::for_each_chunk(
        chunks, [&] { return Scratch<T>(max_rows * std::min(Cf::KC, K)); },
        [&](std::size_t c, Scratch<T>& ap) {
            const std::size_t i0 = first_row(c), mc = first_row(c + 1) - i0;
            for (std::size_t pc = 0; pc < K; pc += Cf::KC) {
                const std::size_t kc = std::min(Cf::KC, K - pc);
                const T b_eff = pc == 0 ? beta : T(1);  // later K blocks accumulate onto the first
                pack_a(ta, A, lda, i0, pc, mc, kc, ap.data());
                for (std::size_t jc = 0; jc < N; jc += Cf::NC)
                    macro(mc, std::min(Cf::NC, N - jc), kc, ap.data(), bp.data() + pc * n_pad + jc * kc, alpha,
                          b_eff, C + i0 * ldc + jc, ldc);
            }
        });
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
    // Chunks of about kChunkWork multiply-adds (a few tens of microseconds), so that a descheduled
    // thread holds up the others by little; their number depends on the shape only. Every element
    // of C is computed by one chunk, over the same KC blocks in the same k order, and chunk
    // boundaries fall on MR rows / NR columns, so every element sits at the same position of the same
    // kind of micro-tile (full or edge) as in the serial algorithm: C is bit-identical for any thread
    // count (tests/kernels/test_determinism.cpp). Nested calls (e.g. from a batch-parallel
    // convolution) run their chunks serially.
    // Products of at least kSplitWork multiply-adds are split in two even when smaller than two
    // chunks: the MLP's 10-column layer (256 x 10 x 256, ~30 µs) ran serially three times a step,
    // a third of the serial part of a 2-thread step.
    constexpr double kChunkWork = double(1 << 20), kSplitWork = double(1 << 18);
    constexpr std::size_t MR = Cfg<T>::MR, NR = Cfg<T>::NR;
    const std::size_t want = parallel::in_parallel() ? 1
                             : work >= kSplitWork    ? std::max<std::size_t>(2, std::size_t(work / kChunkWork))
                                                     : 1;
    if (want >= 2 && M >= 2 * 4 * MR) {
        // Row chunks of about 4 micro-tiles or more (each B micro-panel in L1 serves the tiles of a
        // chunk), B packed once for all of them.
        const std::size_t rows = std::max(4 * MR, ((M + want - 1) / want + MR - 1) / MR * MR);
        return gemm_rows(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, (M + rows - 1) / rows);
    }
    if (want >= 2 && N >= 2 * 4 * NR) {
        // Few rows: column slabs, each packing its own part of B and the (small) A.
        const std::size_t cols = std::max(4 * NR, ((N + want - 1) / want + NR - 1) / NR * NR);
        parallel::for_each_chunk((N + cols - 1) / cols, [&](std::size_t c) {
            const std::size_t lo = c * cols, n = std::min(cols, N - lo);
            gemm_serial(ta, tb, M, n, K, alpha, A, lda, tb ? B + lo * ldb : B + lo, ldb, beta, C + lo, ldc);
        });
        return;
    }
    gemm_serial(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
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
