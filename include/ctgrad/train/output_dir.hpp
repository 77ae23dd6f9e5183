#pragma once
/// \file The run's output directory (`--out`).
#include <filesystem>
#include <string>

namespace ctgrad::train {

/// Creates `dir` (and its parents) if needed and returns it. Throws ExitWithMessage(exit_code::
/// bad_arguments) if `dir` or a folder on its path is a file, std::runtime_error naming the
/// directory if it cannot be created. (The trainers that checkpoint use train::RunDir, which also
/// locks the folder.)
std::filesystem::path prepare_out_dir(const std::filesystem::path& dir);

}  // namespace ctgrad::train
