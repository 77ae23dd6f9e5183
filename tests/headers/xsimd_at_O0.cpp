// Compiled (syntax only) at -O0 for an AVX-512BW target by tests/headers/meson.build: the math of
// ctgrad::vm on xsimd batches must compile there. Debian's xsimd 8.1 does not, with GCC, unless
// ctgrad/simd/xsimd.hpp's workaround is in place (see that header).
#include <ctgrad/simd/vm.hpp>

template <class T>
xsimd::batch<T> all_math(const xsimd::batch<T>& x) {
    namespace vm = ctgrad::vm;
    return vm::exp(x) + vm::log(x) + vm::log1p(x) + vm::abs(x) + vm::sqrt(x) + vm::tanh(x) + vm::max(x, x) +
           vm::where_positive(x, x);
}

template xsimd::batch<float> all_math(const xsimd::batch<float>&);
template xsimd::batch<double> all_math(const xsimd::batch<double>&);
