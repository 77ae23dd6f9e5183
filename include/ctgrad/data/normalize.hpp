#pragma once
/// \file Column whitening (standardisation), as d2l's get_data_ch11 does for the airfoil data.
#include <cmath>
#include <cstddef>
#include <string>

#include <ctgrad/data/error.hpp>
#include <ctgrad/tensor.hpp>

namespace ctgrad::data {

/// The per-column statistics used by whiten_columns, so the same transform can be applied elsewhere.
template <class T>
struct ColumnStats {
    Tensor<T, 1> mean;  ///< mean of each column
    Tensor<T, 1> std;   ///< population standard deviation (ddof = 0) of each column
};

/// Replaces every column x of `table` (rows x cols) by (x - mean(x)) / std(x), in place, with std the
/// population standard deviation (numpy's default ddof = 0), exactly as d2l's
/// `(data - data.mean(axis=0)) / data.std(axis=0)`. Sums are accumulated in long double (two passes), so
/// float tables lose no accuracy. Returns the statistics. Throws DataError for a table without rows or
/// with a constant column (std 0), where numpy would silently produce NaN. `source` names where the table
/// came from (e.g. the file); when given, the messages start with it and count columns from 1, as the
/// table reader counts fields ("airfoil_self_noise.dat: field 3 of every row is constant ..."); without it
/// they start with "whiten_columns:" and count from 0.
template <class T>
ColumnStats<T> whiten_columns(Tensor<T, 2>& table, const std::string& source = {}) {
    const std::size_t rows = table.shape(0), cols = table.shape(1);
    if (rows == 0) throw DataError((source.empty() ? "whiten_columns" : source) + ": the table has no rows");
    ColumnStats<T> stats{Tensor<T, 1>::from_shape({cols}), Tensor<T, 1>::from_shape({cols})};
    for (std::size_t c = 0; c < cols; ++c) {
        long double sum = 0;
        for (std::size_t r = 0; r < rows; ++r) sum += table(r, c);
        const long double mean = sum / static_cast<long double>(rows);
        long double ss = 0;
        for (std::size_t r = 0; r < rows; ++r) {
            const long double d = table(r, c) - mean;
            ss += d * d;
        }
        const long double sd = std::sqrt(ss / static_cast<long double>(rows));
        if (!(sd > 0) || !std::isfinite(static_cast<double>(sd)))
            throw DataError(source.empty()
                                ? "whiten_columns: column " + std::to_string(c) +
                                      " has zero (or non-finite) standard deviation; it cannot be whitened"
                                : source + ": field " + std::to_string(c + 1) + " of every row is " +
                                      (sd > 0 ? "too large to whiten (non-finite standard deviation)"
                                              : "the same value (zero standard deviation); it cannot be whitened"));
        for (std::size_t r = 0; r < rows; ++r) table(r, c) = static_cast<T>((table(r, c) - mean) / sd);
        stats.mean(c) = static_cast<T>(mean);
        stats.std(c) = static_cast<T>(sd);
    }
    return stats;
}

}  // namespace ctgrad::data
