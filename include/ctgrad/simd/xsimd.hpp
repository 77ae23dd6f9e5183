#pragma once
/// \file xsimd, included the one way ctgrad includes it: every ctgrad header and source file includes
/// this header instead of <xsimd/xsimd.hpp>.
///
/// Why a wrapper: xsimd before version 10 (Debian 12 ships 8.1) does not compile without optimization
/// (-O0) for AVX-512BW targets with GCC. Without __OPTIMIZE__, GCC's <avx512bwintrin.h> defines
/// _mm512_mask_blend_epi8 and _mm512_mask_blend_epi16 as macros whose C-style vector casts reject
/// xsimd's batch objects, and xsimd's integer select() names both in every instantiation (a switch,
/// not `if constexpr`), so any xsimd math (log, exp, ...) on any element type fails to compile
/// (fixed upstream in xsimd 10, pull request 852). Here the two names are redefined as functions taking
/// the intrinsic types, which are what GCC defines them as when optimizing, so the batches convert
/// implicitly. This must be seen before xsimd's AVX-512BW header: a translation unit that includes
/// <xsimd/xsimd.hpp> itself before any ctgrad header, at -O0, for AVX-512BW, still gets xsimd's error.
#include <xsimd/config/xsimd_config.hpp>

#if defined(__GNUC__) && !defined(__clang__) && !defined(__OPTIMIZE__) && defined(__AVX512BW__) && \
    XSIMD_VERSION_MAJOR < 10
#include <immintrin.h>

namespace ctgrad::simd_detail {
/// _mm512_mask_blend_epi8 as GCC defines it when optimizing.
inline __m512i mask_blend_epi8(__mmask64 mask, __m512i a, __m512i b) {
    return (__m512i)__builtin_ia32_blendmb_512_mask((__v64qi)a, (__v64qi)b, mask);
}
/// _mm512_mask_blend_epi16 as GCC defines it when optimizing.
inline __m512i mask_blend_epi16(__mmask32 mask, __m512i a, __m512i b) {
    return (__m512i)__builtin_ia32_blendmw_512_mask((__v32hi)a, (__v32hi)b, mask);
}
}  // namespace ctgrad::simd_detail

#undef _mm512_mask_blend_epi8
#undef _mm512_mask_blend_epi16
#define _mm512_mask_blend_epi8 ::ctgrad::simd_detail::mask_blend_epi8
#define _mm512_mask_blend_epi16 ::ctgrad::simd_detail::mask_blend_epi16
#endif

#include <xsimd/xsimd.hpp>
