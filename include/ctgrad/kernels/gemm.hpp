#pragma once
/// \file General matrix product kernels (row-major), compiled once in src/kernels/.
#include <cstddef>

namespace ctgrad::kernels {

/// C = alpha * op(A) * op(B) + beta * C for row-major matrices, where op(X) is X or its transpose.
/// op(A) is M x K, op(B) is K x N, C is M x N; lda/ldb/ldc are the row strides of the stored
/// matrices. beta == 0 overwrites C without reading it. Large products are split over the library's
/// threads (parallel/thread_pool.hpp); C is bit-identical for any thread count.
void gemm(bool trans_a, bool trans_b, std::size_t M, std::size_t N, std::size_t K, float alpha, const float* A,
          std::size_t lda, const float* B, std::size_t ldb, float beta, float* C, std::size_t ldc);
/// The double-precision version of the function above.
void gemm(bool trans_a, bool trans_b, std::size_t M, std::size_t N, std::size_t K, double alpha, const double* A,
          std::size_t lda, const double* B, std::size_t ldb, double beta, double* C, std::size_t ldc);

}  // namespace ctgrad::kernels
