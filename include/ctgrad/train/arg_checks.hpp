#pragma once
/// \file Checks of command-line values as typed, with readable messages (the part of the command-line
/// helpers behind train::count_in and train::real_in, cli.hpp).
///
/// CLI11 converts before its own range checks run, and its conversion saturates (`99999999999999999999`
/// becomes 2^64 - 1), wraps (`-1` becomes 2^64 - 1 for an unsigned target) and accepts `nan`, which
/// passes every comparison; its range message prints DBL_MAX in full. These checks look at the text
/// before any conversion. Each returns "" when the text is acceptable, else the reason, which CLI11
/// prints after the flag's name, e.g. `--lr: must be a finite number > 0, got 'nan'`.
#include <cstdint>
#include <string>
#include <vector>

namespace ctgrad::train {

/// Which ends of a real interval belong to it.
enum class Ends {
    closed,     ///< lo <= x <= hi
    open,       ///< lo <  x <  hi
    open_low,   ///< lo <  x <= hi
    open_high,  ///< lo <= x <  hi
};

/// "" if `text` is a whole decimal number (digits only: no sign, exponent or fraction) in [lo, hi];
/// else e.g. "must be a whole number from 1 to 1000000, got '-1'".
std::string check_count(const std::string& text, std::uint64_t lo, std::uint64_t hi);

/// "" if `text` is a finite real number in the interval from lo to hi with the given ends (hi may be
/// +infinity: no upper bound); else e.g. "must be a finite number > 0, got 'nan'" or
/// "must be a number with 0 <= x < 1, got '1.0'".
std::string check_real(const std::string& text, double lo, double hi, Ends ends = Ends::closed);

/// "" if `text` is one of `choices`; else e.g. "must be one of sgd, adam, got 'lbfgs'".
std::string check_choice(const std::string& text, const std::vector<std::string>& choices);

/// The interval as an inequality, e.g. "0 <= x < 1" or "x > 0" (hi = +infinity), for messages.
std::string describe_real(double lo, double hi, Ends ends);

/// The interval in interval notation, e.g. "in [0, 1)" or "in (0, inf)", for `--help`.
std::string describe_interval(double lo, double hi, Ends ends);

}  // namespace ctgrad::train
