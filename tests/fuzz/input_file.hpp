#pragma once
// The readers take a path (and refuse anything but a regular file), so each fuzz input is written to
// a private temporary file first. One file per process, rewritten for every input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>

#include <unistd.h>

namespace ctgrad_fuzz {

/// Writes `data` to this process's scratch file and returns its path; `suffix` becomes part of the name.
inline const std::filesystem::path& write_input(const std::uint8_t* data, std::size_t size, const char* suffix) {
    static const std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("ctgrad-fuzz-" + std::to_string(::getpid()) + suffix);
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) throw std::runtime_error("cannot write the fuzz input file " + path.string());
    if (size && std::fwrite(data, 1, size, f) != size) {
        std::fclose(f);
        throw std::runtime_error("cannot write the fuzz input file " + path.string());
    }
    std::fclose(f);
    return path;
}

/// Removes the scratch file at exit.
struct RemoveAtExit {
    std::filesystem::path path;
    ~RemoveAtExit() {
        std::error_code ec;
        std::filesystem::remove(path, ec);
    }
};

}  // namespace ctgrad_fuzz
