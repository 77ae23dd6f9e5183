#pragma once
/// \file Reader for whitespace/tab separated numeric tables (the airfoil data set).
#include <cstddef>
#include <filesystem>

#include <ctgrad/data/error.hpp>
#include <ctgrad/tensor.hpp>

namespace ctgrad::data {

/// The largest table file read_table accepts (256 MiB; the airfoil data is 60 kB). Bounds memory for a
/// wrong path such as a disk image.
inline constexpr std::size_t max_table_bytes = std::size_t{256} << 20;
/// The longest line read_table accepts (1 MiB), so a binary file fails at its first line.
inline constexpr std::size_t max_table_line_bytes = std::size_t{1} << 20;

/// Reads a table of numbers: one row per line, fields separated by spaces and/or tabs, LF or CRLF line
/// ends, no header. Blank lines are accepted only at the end of the file. Values are parsed as double
/// (like numpy's genfromtxt) and then converted to T. Throws DataError naming the file, line and field
/// (with its 1-based character column) for a field that is not a finite number, a row whose field count
/// differs from the first row's, a blank line inside the data, or a file with no rows. The path must name
/// a regular file (or a symbolic link to one) of at most max_table_bytes with lines of at most
/// max_table_line_bytes: a FIFO or device (`/dev/zero`) is refused before reading, so nothing blocks
/// or grows without bound.
/// Instantiated for T = double (the default) and T = float.
template <class T = double>
Tensor<T, 2> read_table(const std::filesystem::path& path);

/// Compiled once in the library (double).
extern template Tensor<double, 2> read_table<double>(const std::filesystem::path&);
/// Compiled once in the library (float).
extern template Tensor<float, 2> read_table<float>(const std::filesystem::path&);

}  // namespace ctgrad::data
