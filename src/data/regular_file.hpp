#pragma once
// The readers' first check on a path (internal to src/data).
#include <filesystem>
#include <string>

#include <ctgrad/data/error.hpp>

namespace ctgrad::data::detail {

/// Throws DataError unless `path` is a regular file (following symbolic links): a FIFO would block
/// and a device such as /dev/zero never ends.
inline void require_regular_file(const std::filesystem::path& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (st.type() == fs::file_type::not_found) throw DataError(path.string() + ": cannot open: file not found");
    if (ec) throw DataError(path.string() + ": cannot open: " + ec.message());
    if (st.type() == fs::file_type::directory) throw DataError(path.string() + ": cannot open: it is a directory");
    if (st.type() != fs::file_type::regular) {
        const char* kind = st.type() == fs::file_type::fifo        ? "a FIFO (named pipe)"
                           : st.type() == fs::file_type::character ? "a character device"
                           : st.type() == fs::file_type::block     ? "a block device"
                           : st.type() == fs::file_type::socket    ? "a socket"
                                                                   : "of an unsupported type";
        throw DataError(path.string() + ": cannot open: it is " + kind + "; expected a regular file");
    }
}

}  // namespace ctgrad::data::detail
