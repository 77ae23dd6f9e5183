#pragma once
/// \file Conversions between Tensors and io::NpyArray (the arrays of an .npz), with the checks a
/// reader needs: the dtype and shape an array must have, named in the error.
#include <cstring>
#include <string>
#include <vector>

#include <ctgrad/io/npz.hpp>
#include <ctgrad/tensor.hpp>

namespace ctgrad::io {

/// `t` as an array named `key`; with `transpose` (rank 2 only) stored as t^T (a Linear weight
/// (In, Out) becomes PyTorch's (out, in)).
template <class T, std::size_t N>
NpyArray to_array(std::string key, const Tensor<T, N>& t, bool transpose = false) {
    NpyArray a;
    a.key = std::move(key);
    a.dtype = dtype_of<T>();
    a.shape.assign(t.shape().begin(), t.shape().end());
    a.bytes.resize(t.size() * sizeof(T));
    if constexpr (N == 2) {
        if (transpose) {
            const std::size_t r = t.shape()[0], c = t.shape()[1];
            a.shape = {c, r};
            T* out = reinterpret_cast<T*>(a.bytes.data());
            const T* in = t.data();
            for (std::size_t i = 0; i < r; ++i)
                for (std::size_t j = 0; j < c; ++j) out[j * r + i] = in[i * c + j];
            return a;
        }
    }
    if (t.size()) std::memcpy(a.bytes.data(), t.data(), a.bytes.size());
    return a;
}

/// A scalar (shape ()) array.
template <class T>
NpyArray scalar_array(std::string key, T v) {
    NpyArray a{std::move(key), dtype_of<T>(), {}, std::vector<std::byte>(sizeof(T))};
    std::memcpy(a.bytes.data(), &v, sizeof(T));
    return a;
}

/// The shape `t` would have in a file (transposed for a Linear weight).
template <class T, std::size_t N>
std::vector<std::size_t> file_shape(const Tensor<T, N>& t, bool transpose = false) {
    std::vector<std::size_t> s(t.shape().begin(), t.shape().end());
    if (transpose && N == 2) std::swap(s[0], s[1]);
    return s;
}

/// Empty if `a` can be copied into `t` (dtype of T, shape file_shape(t, transpose)); otherwise what
/// is wrong, naming the key and both shapes / dtypes.
template <class T, std::size_t N>
std::string mismatch(const NpyArray& a, const Tensor<T, N>& t, bool transpose = false) {
    const auto want = file_shape(t, transpose);
    std::string e;
    if (a.dtype != dtype_of<T>()) {
        e = "key '";
        e.append(a.key).append("': the file holds ").append(dtype_name(a.dtype)).append(", expected ");
        e.append(dtype_name(dtype_of<T>()));
        return e;
    }
    if (a.shape != want) {
        e = "key '";
        e.append(a.key).append("': the model's shape is ").append(shape_str(want));
        e.append(", the file's is ").append(a.shape_str());
    }
    return e;
}

/// Copies `a` into `t` (whose shape is kept); call only when mismatch(a, t, transpose) is empty.
template <class T, std::size_t N>
void copy_into(const NpyArray& a, Tensor<T, N>& t, bool transpose = false) {
    const T* in = reinterpret_cast<const T*>(a.bytes.data());
    if constexpr (N == 2) {
        if (transpose) {
            const std::size_t r = t.shape()[0], c = t.shape()[1];
            T* out = t.data();
            for (std::size_t i = 0; i < r; ++i)
                for (std::size_t j = 0; j < c; ++j) out[i * c + j] = in[j * r + i];
            return;
        }
    }
    if (t.size()) std::memcpy(t.data(), in, t.size() * sizeof(T));
}

}  // namespace ctgrad::io
