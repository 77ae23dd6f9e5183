#pragma once
/// \file dist::all_reduce(): sums (or averages) a tensor or a span element-wise over all ranks, in
/// place, so every rank ends with the same result. One process: the values stay as they are.
///
///     Tensor<float, 2> g = ...;                 // this rank's contribution
///     dist::all_reduce(g, dist::Reduce::mean);  // now the element-wise mean over the ranks
///
/// Every rank must call it with the same number of elements and scalar type, in the same order as
/// the other collective calls (MPI's rule); the call blocks until all ranks have joined.
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <type_traits>

#include <ctgrad/dist/world.hpp>
#include <ctgrad/tensor.hpp>

namespace ctgrad::dist {

/// What all_reduce computes element-wise.
enum class Reduce {
    sum,   ///< x_0 + x_1 + ... + x_{N-1}
    mean,  ///< the sum divided by size() (floating-point types only)
};

/// Scalar types MPI can reduce for us: float, double and 64-bit integers (counts).
template <class T>
concept Reducible = std::same_as<T, float> || std::same_as<T, double> || std::same_as<T, std::int64_t> ||
                    std::same_as<T, std::uint64_t>;

namespace detail {
/// The scalar type tags the compiled implementation understands.
enum class Scalar { f32, f64, i64, u64 };
template <class T>
constexpr Scalar scalar_of() {
    if constexpr (std::same_as<T, float>) return Scalar::f32;
    else if constexpr (std::same_as<T, double>) return Scalar::f64;
    else if constexpr (std::same_as<T, std::int64_t>) return Scalar::i64;
    else return Scalar::u64;
}
/// In-place MPI_Allreduce(MPI_SUM) of `count` elements at `data` (split into calls of at most
/// INT_MAX elements); no-op for one process. Throws dist::Error.
void all_reduce_sum(void* data, std::size_t count, Scalar type);
/// In-place MPI_Bcast of `bytes` bytes from `root`; no-op for one process. Throws dist::Error.
void broadcast_bytes(void* data, std::size_t bytes, int root);
}  // namespace detail

/// Reduces `values` over all ranks in place (sum, or mean for float/double). Allocates nothing
/// itself. Throws dist::Error if MPI fails, std::invalid_argument for the mean of integers.
template <Reducible T>
void all_reduce(std::span<T> values, Reduce op = Reduce::sum) {
    detail::all_reduce_sum(values.data(), values.size(), detail::scalar_of<T>());
    if (op == Reduce::mean) {
        if constexpr (std::is_floating_point_v<T>) {
            const T inv = T(1) / T(size());
            for (T& v : values) v *= inv;
        } else {
            throw std::invalid_argument("dist::all_reduce: Reduce::mean needs float or double values");
        }
    }
}

/// Reduces a whole tensor over all ranks in place (see the span form). Every rank's tensor must
/// hold the same number of elements.
template <Reducible T, std::size_t N>
void all_reduce(Tensor<T, N>& t, Reduce op = Reduce::sum) {
    all_reduce(std::span<T>(t.data(), t.size()), op);
}

/// Copies `values` of rank `root` to every other rank (MPI_Bcast). Throws dist::Error.
template <Reducible T>
void broadcast(std::span<T> values, int root = 0) {
    detail::broadcast_bytes(values.data(), values.size_bytes(), root);
}

/// Copies the tensor of rank `root` to every other rank; the shapes must already agree.
template <Reducible T, std::size_t N>
void broadcast(Tensor<T, N>& t, int root = 0) {
    broadcast(std::span<T>(t.data(), t.size()), root);
}

}  // namespace ctgrad::dist
