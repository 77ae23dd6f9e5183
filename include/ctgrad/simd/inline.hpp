#pragma once
/// \file CTGRAD_INLINE: forced inlining for the per-element functions of the fused loops (a call
/// per element or per SIMD batch would cost more than the arithmetic).
#define CTGRAD_INLINE __attribute__((always_inline)) inline  ///< Forced inlining (always_inline).
