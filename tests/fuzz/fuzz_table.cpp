// libFuzzer target for the table reader and column whitening: any input must either load or throw
// DataError. A table that loads is rectangular and finite, and whitening it either succeeds with
// finite values or throws DataError (constant or overflowing column).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include <ctgrad/data/normalize.hpp>
#include <ctgrad/data/table.hpp>

#include "input_file.hpp"

namespace {
template <class T>
void check(const std::filesystem::path& path) {
    try {
        auto t = ctgrad::data::read_table<T>(path);
        if (t.shape(0) == 0 || t.shape(1) == 0) std::abort();  // "no rows" is an error, never an empty table
        for (const T v : t)
            if (!std::isfinite(v)) std::abort();
        ctgrad::data::whiten_columns(t, path.string());
        for (const T v : t)
            if (!std::isfinite(v)) std::abort();
    } catch (const ctgrad::data::DataError&) {
    }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto& path = ctgrad_fuzz::write_input(data, size, ".dat");
    static const ctgrad_fuzz::RemoveAtExit cleanup{path};
    check<double>(path);
    check<float>(path);
    return 0;
}
