#pragma once
// Building blocks of the blocked GEMM, shared by gemm.cpp and the convolution kernels (which write
// their im2col matrix directly in the packed-B layout, skipping a copy). Private to src/kernels.
#include <ctgrad/expr/scratch.hpp>

#include <ctgrad/simd/xsimd.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

#if defined(__SSE__)
#include <immintrin.h>
#endif

namespace ctgrad::kernels::detail {

template <class T>
struct Cfg {
    using batch = xsimd::batch<T>;
    static constexpr std::size_t W = batch::size;  // lanes per vector
    static constexpr std::size_t NV = 2;           // vectors per micro-tile row
    static constexpr std::size_t NR = W * NV;
#if XSIMD_WITH_AVX512F
    // 32 vector registers: 12x2 accumulators + 2 B vectors + 1 broadcast.
    static constexpr std::size_t MR = 12;
#else
    // 16 vector registers (SSE2/AVX2): 6x2 accumulators + 2 B vectors + 1 broadcast.
    static constexpr std::size_t MR = 6;
#endif
#if XSIMD_WITH_AVX512F
    static constexpr std::size_t kRegs = 32;
#else
    static constexpr std::size_t kRegs = 16;
#endif
    static_assert(MR * NV + NV + 1 <= kRegs, "GEMM micro-tile: MR*NV accumulators + NV B vectors + 1 broadcast "
                                             "must fit the vector registers");
    // KC x NR of B (32 KB for float/AVX-512) stays in L1 while the ir loop sweeps the A block.
    static constexpr std::size_t KC = 256;
    static constexpr std::size_t MC = MR * 16;
    static constexpr std::size_t NC = NR * 64;
};

// How many rows ahead the packing routines prefetch when they walk a matrix row by row. Consecutive
// rows are a leading dimension apart (1-3 KB for the MLP's matrices), a stride the hardware
// prefetchers do not follow across pages, so without it every row is a cache miss to L3: packing
// took ~19% of the MLP's training step, most of it waiting on those misses.
inline constexpr std::size_t kPrefetchRows = 8;

// Prefetches the n values at p (one touch per cache line) into L1.
template <class T>
inline void prefetch_span(const T* p, std::size_t n) noexcept {
    const char* c = reinterpret_cast<const char*>(p);
    for (std::size_t b = 0; b < n * sizeof(T); b += 64) __builtin_prefetch(c + b);
}

// dst[k * ldd + r] = src[r * lds + k] for 4 rows r and kc values k: four rows of a matrix written as
// columns of a packed panel. For float on x86, 4 x 4 blocks are transposed in SSE registers (four
// loads, eight shuffles, four stores for 16 values, against 16 scalar loads and stores).
template <class T>
inline void transpose_4_rows(const T* src, std::size_t lds, std::size_t kc, T* dst, std::size_t ldd) {
    std::size_t k = 0;
#if defined(__SSE__)
    if constexpr (std::is_same_v<T, float>) {
        for (; k + 4 <= kc; k += 4) {
            __m128 r0 = _mm_loadu_ps(src + k), r1 = _mm_loadu_ps(src + lds + k);
            __m128 r2 = _mm_loadu_ps(src + 2 * lds + k), r3 = _mm_loadu_ps(src + 3 * lds + k);
            _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
            _mm_storeu_ps(dst + k * ldd, r0);
            _mm_storeu_ps(dst + (k + 1) * ldd, r1);
            _mm_storeu_ps(dst + (k + 2) * ldd, r2);
            _mm_storeu_ps(dst + (k + 3) * ldd, r3);
        }
    }
#endif
    for (; k < kc; ++k)
        for (std::size_t r = 0; r < 4; ++r) dst[k * ldd + r] = src[r * lds + k];
}

// Splits one row of n values over P-wide panels `stride` apart: values [q P, q P + P) go to
// d + q * stride, zero-padded past n (a row of Aᵀ into MR-row panels, a row of B into NR-column ones).
template <std::size_t P, class T>
inline void split_row(const T* s, std::size_t n, T* d, std::size_t stride) {
    for (std::size_t j = 0; j < n; j += P, d += stride) {
        const std::size_t m = std::min(P, n - j);
        std::size_t c = 0;
        for (; c < m; ++c) d[c] = s[j + c];
        for (; c < P; ++c) d[c] = T(0);
    }
}

// Packs rows [i0, i0+mc) x cols [p0, p0+kc) of op(A) into MR-row micro-panels: panel p holds, for each
// k, the MR values of its rows (zero-padded past the last row).
template <class T>
void pack_a(bool ta, const T* A, std::size_t lda, std::size_t i0, std::size_t p0, std::size_t mc, std::size_t kc,
            T* dst) {
    constexpr std::size_t MR = Cfg<T>::MR;
    if (!ta) {
        for (std::size_t ir = 0; ir < mc; ir += MR) {
            const std::size_t rows = std::min(MR, mc - ir);
            T* d = dst + ir * kc;
            std::size_t r = 0;
            for (; r + 4 <= rows; r += 4) transpose_4_rows(A + (i0 + ir + r) * lda + p0, lda, kc, d + r, MR);
            for (; r < rows; ++r) {
                const T* s = A + (i0 + ir + r) * lda + p0;
                for (std::size_t k = 0; k < kc; ++k) d[k * MR + r] = s[k];
            }
            for (std::size_t r = rows; r < MR; ++r)
                for (std::size_t k = 0; k < kc; ++k) d[k * MR + r] = T(0);
        }
        return;
    }
    // op(A) = Aᵀ: row p0 + k of A holds the k-th values of all mc rows, contiguous. Each such row is
    // read once, whole, and scattered over the panels.
    for (std::size_t k = 0; k < kc; ++k) {
        const T* s = A + (p0 + k) * lda + i0;
        if (k + kPrefetchRows < kc) prefetch_span(s + kPrefetchRows * lda, mc);
        split_row<MR>(s, mc, dst + k * MR, MR * kc);
    }
}

// Packs rows [p0, p0+kc) x cols [j0, j0+nc) of op(B) into NR-column micro-panels: panel p holds, for each
// k, NR consecutive values (zero-padded past the last column).
template <class T>
void pack_b(bool tb, const T* B, std::size_t ldb, std::size_t p0, std::size_t j0, std::size_t kc, std::size_t nc,
            T* dst) {
    constexpr std::size_t NR = Cfg<T>::NR;
    if (!tb) {
        // Row p0 + k of B holds the k-th values of all nc columns: read once, whole, split over the panels.
        for (std::size_t k = 0; k < kc; ++k) {
            const T* s = B + (p0 + k) * ldb + j0;
            if (k + kPrefetchRows < kc) prefetch_span(s + kPrefetchRows * ldb, nc);
            split_row<NR>(s, nc, dst + k * NR, NR * kc);
        }
        return;
    }
    // op(B) = Bᵀ: row j0 + c of B holds column c's values, contiguous in k. Transposed in blocks of
    // kKB values of k, so that the part of the panel being written (kKB x NR) stays in L1 while the
    // NR source rows are read.
    constexpr std::size_t kKB = 16;
    for (std::size_t jr = 0; jr < nc; jr += NR) {
        const std::size_t cols = std::min(NR, nc - jr);
        T* d = dst + jr * kc;
        for (std::size_t k0 = 0; k0 < kc; k0 += kKB) {
            const std::size_t k1 = std::min(kc, k0 + kKB);
            std::size_t c = 0;
            for (; c + 4 <= cols; c += 4)
                transpose_4_rows(B + (j0 + jr + c) * ldb + p0 + k0, ldb, k1 - k0, d + k0 * NR + c, NR);
            for (; c < cols; ++c) {
                const T* s = B + (j0 + jr + c) * ldb + p0;
                for (std::size_t k = k0; k < k1; ++k) d[k * NR + c] = s[k];
            }
            for (std::size_t c = cols; c < NR; ++c)
                for (std::size_t k = k0; k < k1; ++k) d[k * NR + c] = T(0);
        }
    }
}

// ROWS x (NV*W) tile: acc = sum_k a[k,:] (x) b[k,:], then C = alpha*acc + beta*C on the first `cols`
// columns (beta == 0: C is not read).
template <class T, std::size_t ROWS, std::size_t NV>
void micro(std::size_t kc, const T* __restrict a, const T* __restrict b, T alpha, T beta, T* __restrict C,
           std::size_t ldc, std::size_t cols) {
    using batch = typename Cfg<T>::batch;
    constexpr std::size_t W = Cfg<T>::W, MR = Cfg<T>::MR, NR = Cfg<T>::NR;
    batch acc[ROWS][NV];
#pragma GCC unroll 16
    for (std::size_t r = 0; r < ROWS; ++r)
#pragma GCC unroll 4
        for (std::size_t v = 0; v < NV; ++v) acc[r][v] = batch(T(0));
    for (std::size_t k = 0; k < kc; ++k) {
        batch bv[NV];
#pragma GCC unroll 4
        for (std::size_t v = 0; v < NV; ++v) bv[v] = batch::load_aligned(b + k * NR + v * W);
#pragma GCC unroll 16
        for (std::size_t r = 0; r < ROWS; ++r) {
            const batch ar(a[k * MR + r]);
#pragma GCC unroll 4
            for (std::size_t v = 0; v < NV; ++v) acc[r][v] = xsimd::fma(ar, bv[v], acc[r][v]);
        }
    }
    const batch va(alpha), vb(beta);
    if (cols == NV * W) {
#pragma GCC unroll 16
        for (std::size_t r = 0; r < ROWS; ++r) {
            T* c = C + r * ldc;
#pragma GCC unroll 4
            for (std::size_t v = 0; v < NV; ++v) {
                batch out = acc[r][v] * va;
                if (beta != T(0)) out = xsimd::fma(vb, batch::load_unaligned(c + v * W), out);
                out.store_unaligned(c + v * W);
            }
        }
    } else {
        alignas(64) T tmp[NV * W];
        for (std::size_t r = 0; r < ROWS; ++r) {
            T* c = C + r * ldc;
            for (std::size_t v = 0; v < NV; ++v) (acc[r][v] * va).store_aligned(tmp + v * W);
            if (beta == T(0))
                for (std::size_t j = 0; j < cols; ++j) c[j] = tmp[j];
            else
                for (std::size_t j = 0; j < cols; ++j) c[j] = tmp[j] + beta * c[j];
        }
    }
}

template <class T>
using MicroFn = void (*)(std::size_t, const T*, const T*, T, T, T*, std::size_t, std::size_t);

// Table of micro-kernels indexed by [NV-1][rows-1].
template <class T, std::size_t NV, std::size_t... R>
constexpr auto make_row_table(std::index_sequence<R...>) {
    return std::array<MicroFn<T>, sizeof...(R)>{&micro<T, R + 1, NV>...};
}
template <class T>
struct MicroTable {
    static constexpr auto one = make_row_table<T, 1>(std::make_index_sequence<Cfg<T>::MR>{});
    static constexpr auto two = make_row_table<T, 2>(std::make_index_sequence<Cfg<T>::MR>{});
};

template <class T>
void macro(std::size_t mc, std::size_t nc, std::size_t kc, const T* ap, const T* bp, T alpha, T beta, T* C,
           std::size_t ldc) {
    constexpr std::size_t MR = Cfg<T>::MR, NR = Cfg<T>::NR, W = Cfg<T>::W;
    for (std::size_t jr = 0; jr < nc; jr += NR) {
        const std::size_t cols = std::min(NR, nc - jr);
        const auto& table = cols <= W ? MicroTable<T>::one : MicroTable<T>::two;
        for (std::size_t ir = 0; ir < mc; ir += MR) {
            const std::size_t rows = std::min(MR, mc - ir);
            table[rows - 1](kc, ap + ir * kc, bp + jr * kc, alpha, beta, C + ir * ldc + jr, ldc, cols);
        }
    }
}

/// Offset of element (k, j) of a K x N matrix B packed for gemm_prepacked_b: KC-row blocks one after
/// another, each a sequence of NR-column panels holding kc x NR values row by row. Total size
/// K * round_up(N, NR); columns past N must be zero.
template <class T>
inline std::size_t packed_b_index(std::size_t K, std::size_t n_pad, std::size_t k, std::size_t j) {
    constexpr std::size_t KC = Cfg<T>::KC, NR = Cfg<T>::NR;
    const std::size_t pc = k - k % KC, kc = std::min(KC, K - pc);
    return pc * n_pad + (j - j % NR) * kc + (k - pc) * NR + j % NR;
}
template <class T>
constexpr std::size_t round_up_nr(std::size_t n) {
    return (n + Cfg<T>::NR - 1) / Cfg<T>::NR * Cfg<T>::NR;
}

/// C = alpha * op(A) * B + beta * C (beta == 0: C not read), with B already packed (packed_b_index).
/// Serial; meant for the per-image products of the convolutions.
template <class T>
void gemm_prepacked_b(bool ta, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A, std::size_t lda,
                      const T* Bp, T beta, T* C, std::size_t ldc) {
    using Cf = Cfg<T>;
    const std::size_t n_pad = round_up_nr<T>(N);
    const std::size_t mc_max = std::min(Cf::MC, (M + Cf::MR - 1) / Cf::MR * Cf::MR);
    Scratch<T> apack(mc_max * std::min(Cf::KC, K));
    for (std::size_t pc = 0; pc < K; pc += Cf::KC) {
        const std::size_t kc = std::min(Cf::KC, K - pc);
        const T b_eff = pc == 0 ? beta : T(1);
        for (std::size_t ic = 0; ic < M; ic += Cf::MC) {
            const std::size_t mc = std::min(Cf::MC, M - ic);
            pack_a(ta, A, lda, ic, pc, mc, kc, apack.data());
            macro(mc, N, kc, apack.data(), Bp + pc * n_pad, alpha, b_eff, C + ic * ldc, ldc);
        }
    }
}

}  // namespace ctgrad::kernels::detail
