#pragma once
/// \file Exit statuses of the example trainers (docs/trainers.md), one place for every program.

namespace ctgrad::train::exit_code {

inline constexpr int ok = 0;             ///< success (also `--help`)
inline constexpr int failure = 1;        ///< any other error (e.g. the output directory cannot be written)
inline constexpr int bad_arguments = 2;  ///< the command line could not be parsed or a value is out of range
inline constexpr int data_problem = 3;   ///< a data file is missing or corrupt (the message names it)
inline constexpr int diverged = 4;       ///< training produced a non-finite loss
inline constexpr int interrupted = 130;  ///< stopped by Ctrl-C (SIGINT) after writing a checkpoint

}  // namespace ctgrad::train::exit_code
