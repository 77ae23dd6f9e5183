#pragma once
/// \file The run's output directory (`--out`).
#include <filesystem>
#include <string>

namespace ctgrad::train {

/// Creates `dir` (and its parents) if needed and returns it. Throws std::runtime_error naming the
/// directory if it cannot be created or is not a directory.
std::filesystem::path prepare_out_dir(const std::filesystem::path& dir);

}  // namespace ctgrad::train
