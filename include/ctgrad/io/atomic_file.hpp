#pragma once
/// \file Crash-safe file replacement: write a temporary file in the target's folder, fsync it, rename
/// it over the target, fsync the folder. A kill -9 or power loss at any moment leaves either the old
/// complete file or the new complete file under the target's name, never a partial one.
#include <filesystem>
#include <string_view>

namespace ctgrad::io {

/// Replaces `path` by a file holding `bytes`, atomically (see the file comment). Throws
/// std::runtime_error naming the file (and the system's reason) if it cannot be written. With
/// `durable` false the fsyncs are skipped: the replacement is still atomic for the processes (a kill
/// -9 leaves the old or the new file), but a power loss may lose it; for files rewritten often.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes, bool durable = true);

/// For writers that need a file name of their own (e.g. libzip): reserves a temporary file next to
/// `target`; write it through temp(), then commit() fsyncs it and renames it onto `target`. Without
/// commit() (an exception on the way) the destructor removes the temporary file.
class AtomicReplace {
public:
    /// Creates the (empty) temporary file `.<name>.XXXXXX` in target's folder. Throws
    /// std::runtime_error naming the folder if it cannot.
    explicit AtomicReplace(std::filesystem::path target);
    AtomicReplace(const AtomicReplace&) = delete;
    AtomicReplace& operator=(const AtomicReplace&) = delete;
    ~AtomicReplace();

    /// The temporary file to write.
    const std::filesystem::path& temp() const noexcept { return temp_; }
    /// The final name.
    const std::filesystem::path& target() const noexcept { return target_; }
    /// fsync(temp), rename(temp, target), fsync(folder) (without `durable`: only the rename). Throws
    /// std::runtime_error naming the file.
    void commit(bool durable = true);

private:
    std::filesystem::path target_, temp_;
    bool done_ = false;
};

}  // namespace ctgrad::io
