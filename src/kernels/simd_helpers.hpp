#pragma once
// The SIMD operations the kernels need beyond what xsimd 8 offers or what GCC 12 compiles well from
// plain loops: a copy of a short row, adds of short rows into aligned vectors, and a masked gather
// with 32-bit indices. This is the one place the convolution kernels use AVX-512 intrinsics; every
// other vector loop is xsimd::batch.
// (maxpool_plane.hpp keeps its own 2x2 pooling kernel, written in intrinsics throughout.)
// Private to src/kernels.
#include <ctgrad/simd/xsimd.hpp>
#if XSIMD_WITH_AVX512F
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace ctgrad::kernels::detail {

// Makes the compiler hold v in a vector register from here on (an empty asm that "changes" it). Why:
// GCC 12, short of registers in a tile, turns a vector loaded once and used by several FMAs back into
// a memory operand of each FMA, one load per FMA; on a core that loads one 64-byte vector per cycle
// the tile is then bound by its loads instead of its FMAs.
template <class B>
inline void keep_in_register(B& v) {
#if defined(__x86_64__) || defined(__i386__)
    asm("" : "+v"(v.data));
#else
    (void)v;
#endif
}

// d[i] += s[i] for i < n: full xsimd vectors plus a scalar tail.
template <class T>
inline void add_run(T* __restrict d, const T* __restrict s, std::size_t n) {
    using batch = xsimd::batch<T>;
    std::size_t i = 0;
    for (; i + batch::size <= n; i += batch::size)
        (batch::load_unaligned(d + i) + batch::load_unaligned(s + i)).store_unaligned(d + i);
    for (; i < n; ++i) d[i] += s[i];
}

// The part of a short run of n <= W values (W = 64 / sizeof(T) lanes) starting at column col of a
// row of aligned vectors that lands in vector v of the row: the lanes in `mask` (0: none) take run
// values lane + skip (skip < 0 when the run starts mid-vector).
struct RunPiece {
    std::uint64_t mask;
    std::ptrdiff_t skip;
};
template <class T>
RunPiece run_piece(std::size_t col, std::size_t n, std::size_t v) {
    constexpr std::ptrdiff_t W = 64 / sizeof(T);
    const std::ptrdiff_t lo = std::ptrdiff_t(col) - std::ptrdiff_t(v) * W;  // lane of run value 0
    if (lo >= W || lo + std::ptrdiff_t(n) <= 0) return {0, 0};
    const std::uint64_t run = (std::uint64_t(1) << n) - 1u, lanes = (std::uint64_t(1) << W) - 1u;
    return {(lo >= 0 ? run << lo : run >> -lo) & lanes, -lo};
}

// For each of `rows` rows i: d[i * ld] (one aligned vector) += the pieces [pc, pc + n) of runs, in
// that order, lane l of piece k being s[i * ls + pc[k].skip + l] where pc[k].mask has bit l. s must
// be readable one vector before and after each run. With AVX-512 the pieces are masked loads summed in
// registers, their masks held in mask registers across the rows (N = n pieces, up to 7 of them), and
// each d is read and written once as a whole aligned vector. Why: the convolution's pooled input
// gradient adds overlapping short rows; a masked or an unaligned store overlapping the next one
// cannot forward to its load, which then waits until the store reaches the cache.
#if XSIMD_WITH_AVX512F
// The AVX-512 operations add_pieces_fixed needs, per element type.
template <class T>
struct Zmm;
template <>
struct Zmm<float> {
    using vec = __m512;
    using mask = __mmask16;
    static vec load(const float* p) { return _mm512_load_ps(p); }
    static vec load_masked(mask m, const float* p) { return _mm512_maskz_loadu_ps(m, p); }
    static vec add(vec a, vec b) { return _mm512_add_ps(a, b); }
    static void store(float* p, vec v) { _mm512_store_ps(p, v); }
};
template <>
struct Zmm<double> {
    using vec = __m512d;
    using mask = __mmask8;
    static vec load(const double* p) { return _mm512_load_pd(p); }
    static vec load_masked(mask m, const double* p) { return _mm512_maskz_loadu_pd(m, p); }
    static vec add(vec a, vec b) { return _mm512_add_pd(a, b); }
    static void store(double* p, vec v) { _mm512_store_pd(p, v); }
};
#endif

template <std::size_t N, class T>
inline void add_pieces_fixed(T* __restrict d, std::size_t ld, const T* s, std::size_t ls, std::size_t rows,
                             const RunPiece* pc) {
#if XSIMD_WITH_AVX512F
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
        using Z = Zmm<T>;
        typename Z::mask m[N];
        std::ptrdiff_t sk[N];
        for (std::size_t k = 0; k < N; ++k) m[k] = typename Z::mask(pc[k].mask), sk[k] = pc[k].skip;
        for (std::size_t i = 0; i < rows; ++i) {
            typename Z::vec acc = Z::load(d + i * ld);
            for (std::size_t k = 0; k < N; ++k) acc = Z::add(acc, Z::load_masked(m[k], s + i * ls + sk[k]));
            Z::store(d + i * ld, acc);
        }
        return;
    }
#endif
    constexpr std::size_t W = 64 / sizeof(T);
    for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t k = 0; k < N; ++k)
            for (std::size_t l = 0; l < W; ++l)
                if (pc[k].mask >> l & 1u) d[i * ld + l] += s[std::ptrdiff_t(i * ls + l) + pc[k].skip];
}
template <class T>
inline void add_pieces(T* __restrict d, std::size_t ld, const T* s, std::size_t ls, std::size_t rows,
                       const RunPiece* pc, std::size_t n) {
    for (; n > 7; n -= 7, pc += 7) add_pieces_fixed<7>(d, ld, s, ls, rows, pc);  // in the same order
    const auto run = [&]<std::size_t... K>(std::index_sequence<K...>) {
        ((n == K + 1 ? add_pieces_fixed<K + 1>(d, ld, s, ls, rows, pc) : void()), ...);
    };
    run(std::make_index_sequence<7>{});
}

// d[0, n) = s[0, n) for the short rows of the convolutions (10-32 values), without a libc call or
// a masked store: two fixed-size copies that overlap in the middle (the small-size path of a libc
// memcpy, inlined), each a single vector move. Why: GCC turns a loop of vector copies back into a
// memmove call (loop distribution): that call and the masked tail store drew a quarter of the
// profile samples of LeNet's conv1 weight gradient on an AVX-512 AMD EPYC (bench/README.md, "Short
// row copies"). Rows over 128 bytes go to memcpy, which is the best copy at that size.
inline void copy_bytes_short(char* __restrict d, const char* __restrict s, std::size_t b) {
    const auto two = [&]<std::size_t N>(std::integral_constant<std::size_t, N>) {
        __builtin_memcpy(d, s, N);
        __builtin_memcpy(d + b - N, s + b - N, N);
    };
    if (b > 128)
        std::memcpy(d, s, b);
    else if (b >= 64)
        two(std::integral_constant<std::size_t, 64>{});
    else if (b >= 32)
        two(std::integral_constant<std::size_t, 32>{});
    else if (b >= 16)
        two(std::integral_constant<std::size_t, 16>{});
    else if (b >= 8)
        two(std::integral_constant<std::size_t, 8>{});
    else if (b >= 4)
        two(std::integral_constant<std::size_t, 4>{});
    else if (b > 0)
        std::memcpy(d, s, b);
}
template <class T>
inline void copy_short(T* __restrict d, const T* __restrict s, std::size_t n) {
    static_assert(std::is_trivially_copyable_v<T>, "copy_short copies bytes");
    copy_bytes_short(reinterpret_cast<char*>(d), reinterpret_cast<const char*>(s), n * sizeof(T));
}

// d[c] = base[o[c]] for c < live, 0 for live <= c < N (o holds N readable entries; d is 64-byte
// aligned; N a multiple of 16). GCC 12 does not emit gather instructions for the plain loop when
// tuning for recent Intel cores (it inserts lanes one by one), hence the intrinsics.
template <std::size_t N>
inline void gather_zero_fill(const float* __restrict base, const std::uint32_t* __restrict o, float* __restrict d,
                             std::size_t live) {
#if XSIMD_WITH_AVX512F
    static_assert(N % 16 == 0, "gather_zero_fill<float>: N must be a multiple of 16 lanes");
    for (std::size_t c = 0; c < N; c += 16) {
        const std::size_t l = live > c ? std::min<std::size_t>(16, live - c) : 0;
        const __mmask16 m = __mmask16((1u << l) - 1u);
        const __m512i ix = _mm512_loadu_si512(o + c);
        _mm512_store_ps(d + c, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, ix, base, 4));
    }
#else
    for (std::size_t c = 0; c < N; ++c) d[c] = c < live ? base[o[c]] : 0.0f;
#endif
}
template <std::size_t N>
inline void gather_zero_fill(const double* __restrict base, const std::uint32_t* __restrict o, double* __restrict d,
                             std::size_t live) {
#if XSIMD_WITH_AVX512F
    static_assert(N % 8 == 0, "gather_zero_fill<double>: N must be a multiple of 8 lanes");
    for (std::size_t c = 0; c < N; c += 8) {
        const std::size_t l = live > c ? std::min<std::size_t>(8, live - c) : 0;
        const __mmask8 m = __mmask8((1u << l) - 1u);
        const __m256i ix = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(o + c));
        _mm512_store_pd(d + c, _mm512_mask_i32gather_pd(_mm512_setzero_pd(), m, ix, base, 8));
    }
#else
    for (std::size_t c = 0; c < N; ++c) d[c] = c < live ? base[o[c]] : 0.0;
#endif
}

}  // namespace ctgrad::kernels::detail
