#pragma once
/// \file NumPy `.npy` arrays and `.npz` archives (a zip of `.npy` files, as `numpy.savez` writes them),
/// the container of ctgrad's weights files and checkpoints.
///
/// The zip container is Debian's libzip (a maintained library that checks CRCs and the archive's
/// consistency); the `.npy` header is ctgrad's own small writer and strict parser (see the README
/// for why not xtensor's xnpy.hpp). Arrays are stored uncompressed, like `numpy.savez`; reading also
/// accepts deflate-compressed members (`numpy.savez_compressed`).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <ctgrad/data/error.hpp>

namespace ctgrad::io {

/// A weights file or checkpoint that cannot be read: missing, not a zip archive, truncated, or not
/// what the reader expected. The message names the file, the array (key) and what was expected.
/// Derives from data::DataError, so the trainers exit with status 3.
class FormatError : public data::DataError {
public:
    /// An error with message `what`.
    explicit FormatError(const std::string& what) : data::DataError(what) {}
};

/// Element types ctgrad writes and reads (little-endian; NumPy's descr in the comment).
enum class DType : std::uint8_t {
    f4,  ///< '<f4' float32
    f8,  ///< '<f8' float64
    u1,  ///< '|u1' uint8
    i8,  ///< '<i8' int64
    u8,  ///< '<u8' uint64
};
/// Bytes per element.
std::size_t dtype_size(DType t) noexcept;
/// NumPy's descr string ('<f4', ...).
const char* dtype_descr(DType t) noexcept;
/// A readable name ("float32", ...).
const char* dtype_name(DType t) noexcept;
/// The DType of a C++ scalar type.
template <class T>
constexpr DType dtype_of() {
    if constexpr (std::is_same_v<T, float>) return DType::f4;
    else if constexpr (std::is_same_v<T, double>) return DType::f8;
    else if constexpr (std::is_same_v<T, std::uint8_t>) return DType::u1;
    else if constexpr (std::is_same_v<T, std::int64_t>) return DType::i8;
    else {
        static_assert(std::is_same_v<T, std::uint64_t>, "io::dtype_of: only float, double, uint8, int64, uint64");
        return DType::u8;
    }
}

/// One array of an archive: its key (the member name without ".npy"), element type, shape (C order)
/// and raw little-endian bytes (product(shape) * dtype_size(dtype) of them).
struct NpyArray {
    /// The member name without ".npy".
    std::string key;
    /// The element type.
    DType dtype = DType::f4;
    /// The shape, in C order.
    std::vector<std::size_t> shape;
    /// The raw little-endian element bytes.
    std::vector<std::byte> bytes;

    /// product(shape) (1 for a scalar, shape {}).
    std::size_t elements() const noexcept;
    /// "(6, 1, 5, 5)" as NumPy prints a shape.
    std::string shape_str() const;
};

/// "(6, 1, 5, 5)"
std::string shape_str(const std::vector<std::size_t>& shape);

/// The `.npy` serialisation of one array (format 1.0, header padded to 64 bytes).
std::string npy_bytes(const NpyArray& a);
/// Parses a `.npy` member; `where` names it in errors ("lenet.npz: 0.weight.npy"). Throws FormatError.
NpyArray parse_npy(const std::byte* data, std::size_t size, const std::string& where);

/// Writes `arrays` as an `.npz` archive at `path` (members `<key>.npy`, stored), crash-safely: a
/// temporary file in the same folder, fsync'd and renamed (io/atomic_file.hpp). Throws
/// std::runtime_error naming the file on failure, std::invalid_argument for duplicate keys or a
/// byte count that does not match the shape.
void write_npz(const std::filesystem::path& path, const std::vector<NpyArray>& arrays);

/// Reads every `.npy` member of the archive at `path`, in archive order. Throws FormatError naming the
/// file (missing, unreadable, not a zip archive, truncated, CRC error, a member that is not a valid
/// `.npy`, duplicate keys).
std::vector<NpyArray> read_npz(const std::filesystem::path& path);

}  // namespace ctgrad::io
