#pragma once
/// \file Readers for the IDX format of MNIST / Fashion-MNIST (plain or gzip-compressed).
#include <cstdint>
#include <filesystem>

#include <ctgrad/data/error.hpp>
#include <ctgrad/tensor.hpp>

namespace ctgrad::data {

/// The largest item (one image: rows x columns bytes) the IDX readers accept, 2^31 bytes; larger
/// dimensions are refused even in a file with a count of 0.
inline constexpr std::uint64_t max_idx_item_bytes = std::uint64_t{1} << 31;

/// Reads an IDX3 unsigned-byte image file (magic 0x00000803) as an N x rows x cols tensor.
/// Gzip compression is detected by the 0x1f8b magic, not by the file name. Throws DataError naming the
/// file and byte offset on a bad magic, zero rows/cols, images larger than max_idx_item_bytes, truncated
/// pixel data, trailing bytes after the last image, or a corrupt/truncated gzip stream (offsets into a
/// gzip file count decompressed bytes). Only regular files (or links to them) are read: a FIFO or a
/// device is refused before reading. A count of 0 is valid here (load_fashion_mnist refuses it).
Tensor<std::uint8_t, 3> read_idx_images(const std::filesystem::path& path);

/// Reads an IDX1 unsigned-byte label file (magic 0x00000801) as a tensor of N labels.
/// Same detection and validation as read_idx_images.
Tensor<std::uint8_t, 1> read_idx_labels(const std::filesystem::path& path);

/// Converts uint8 images (N x rows x cols) to float NCHW (N x 1 x rows x cols) scaled to [0, 1]
/// (pixel / 255), the way d2l's ToTensor() does.
Tensor<float, 4> to_float_images(const Tensor<std::uint8_t, 3>& images);

/// Throws DataError unless there is exactly one label per image. `what` names the pair in the message
/// (e.g. the two file names).
void check_same_count(const Tensor<std::uint8_t, 3>& images, const Tensor<std::uint8_t, 1>& labels,
                      const std::string& what);

/// Throws DataError, naming `file` and the byte offset of the first offending label (8 + index), unless
/// every label is below `num_classes`.
void check_label_range(const Tensor<std::uint8_t, 1>& labels, unsigned num_classes,
                       const std::filesystem::path& file);

}  // namespace ctgrad::data
