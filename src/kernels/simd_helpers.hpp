#pragma once
// The SIMD operations the kernels need beyond what xsimd 8 offers or what GCC 12 compiles well from
// plain loops: a copy of a short row and a masked gather with 32-bit indices. This is the one
// place the convolution kernels use AVX-512 intrinsics; every other vector loop is xsimd::batch.
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

// d[i] += s[i] for i < n: full xsimd vectors plus a scalar tail.
template <class T>
inline void add_run(T* __restrict d, const T* __restrict s, std::size_t n) {
    using batch = xsimd::batch<T>;
    std::size_t i = 0;
    for (; i + batch::size <= n; i += batch::size)
        (batch::load_unaligned(d + i) + batch::load_unaligned(s + i)).store_unaligned(d + i);
    for (; i < n; ++i) d[i] += s[i];
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
