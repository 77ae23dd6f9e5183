// Reference GEMM: correct for every transpose combination; the i-k-j order keeps the inner loop
// contiguous in B and C so the compiler vectorises it.
#include <ctgrad/kernels/gemm.hpp>

#include <vector>

namespace ctgrad::kernels {
namespace {
template <class T>
void gemm_ref(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A, std::size_t lda,
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
}  // namespace

void gemm(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, float alpha, const float* A, std::size_t lda,
          const float* B, std::size_t ldb, float beta, float* C, std::size_t ldc) {
    gemm_ref(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
void gemm(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, double alpha, const double* A,
          std::size_t lda, const double* B, std::size_t ldb, double beta, double* C, std::size_t ldc) {
    gemm_ref(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace ctgrad::kernels
