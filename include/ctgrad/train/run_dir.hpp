#pragma once
/// \file The run folder (`--out`) of a trainer: one run at a time, and never files of two runs.
///
///  - `--out` naming an existing file (or a path through one) is a bad argument: exit 2.
///  - The folder is created only after the data loaded (a data error leaves nothing behind).
///  - It is locked (flock on `<out>/.lock`, which holds the owner's pid) for the whole run; a second
///    run on the same folder is refused at once, naming the other process's pid: exit 3.
///  - A fresh run (not `--resume`) removes the files an earlier run left there (run_files(); other
///    files are kept), so an earlier run's summary or plot never sits beside this run's metrics.
///  - Stale temporary files of an interrupted atomic write (`.<name>.XXXXXX`) are removed too.
#include <filesystem>
#include <string>
#include <vector>

namespace ctgrad::train {

/// The names a trainer may write into its run folder (removed when a fresh run starts there).
const std::vector<std::string>& run_files();

/// Throws ExitWithMessage(exit_code::bad_arguments) if `dir` exists but is not a folder, or a
/// component of it is a file. Call it right after parsing the command line.
void check_out_path(const std::filesystem::path& dir);

/// An open, locked run folder.
class RunDir {
public:
    /// Creates `dir` if needed, locks it, and unless `resume` removes an earlier run's files.
    /// Throws ExitWithMessage: bad_arguments for a file in the way, data_problem if another process
    /// holds the lock (naming its pid), failure if the folder cannot be created.
    RunDir(std::filesystem::path dir, bool resume);
    ~RunDir();
    RunDir(const RunDir&) = delete;
    RunDir& operator=(const RunDir&) = delete;

    /// The run folder.
    const std::filesystem::path& path() const noexcept { return dir_; }
    /// The file `name` in the folder.
    std::filesystem::path operator/(const std::string& name) const { return dir_ / name; }

private:
    std::filesystem::path dir_;
    int fd_ = -1;
};

}  // namespace ctgrad::train
