// The checks behind the command line's count_in and real_in (cli.hpp), which look at the text as typed.
#include <ctgrad/train/arg_checks.hpp>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace ctgrad::train {

namespace {
/// The text as it can be quoted in a message: at most 40 characters.
std::string quote(const std::string& text) {
    return "'" + (text.size() > 40 ? text.substr(0, 40) + "..." : text) + "'";
}

/// A number as a user would write it: 1e+06 -> 1000000, 0.5 -> 0.5.
std::string num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.15g", v);
    return buf;
}
}  // namespace

std::string check_count(const std::string& text, std::uint64_t lo, std::uint64_t hi) {
    const std::string want = "must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi);
    // Digits only: from_chars would skip nothing, but reject a sign explicitly for a clear message.
    std::uint64_t v = 0;
    const char* b = text.data();
    const char* e = b + text.size();
    const auto [ptr, ec] = std::from_chars(b, e, v);
    if (text.empty() || ec == std::errc::invalid_argument || ptr != e) return want + ", got " + quote(text);
    if (ec == std::errc::result_out_of_range || v > hi || v < lo)
        return want + ", got " + quote(text) + (ec == std::errc::result_out_of_range ? " (too large)" : "");
    return {};
}

std::string check_choice(const std::string& text, const std::vector<std::string>& choices) {
    for (const auto& c : choices)
        if (text == c) return {};
    std::string want = "must be one of ";
    for (std::size_t i = 0; i < choices.size(); ++i) want += (i ? ", " : "") + choices[i];
    return want + ", got " + quote(text);
}

std::string describe_real(double lo, double hi, Ends ends) {
    const bool lo_open = ends == Ends::open || ends == Ends::open_low;
    const bool hi_open = ends == Ends::open || ends == Ends::open_high;
    if (std::isinf(hi)) return std::string("x ") + (lo_open ? "> " : ">= ") + num(lo);
    return num(lo) + (lo_open ? " < x " : " <= x ") + (hi_open ? "< " : "<= ") + num(hi);
}

std::string describe_interval(double lo, double hi, Ends ends) {
    const bool lo_open = ends == Ends::open || ends == Ends::open_low;
    const bool hi_open = ends == Ends::open || ends == Ends::open_high;
    return std::string("in ") + (lo_open ? "(" : "[") + num(lo) + ", " + (std::isinf(hi) ? "inf" : num(hi)) +
           (hi_open || std::isinf(hi) ? ")" : "]");
}

std::string check_real(const std::string& text, double lo, double hi, Ends ends) {
    const bool lo_open = ends == Ends::open || ends == Ends::open_low;
    const bool hi_open = ends == Ends::open || ends == Ends::open_high;
    const std::string want = std::isinf(hi) ? "must be a finite number " + describe_real(lo, hi, ends).substr(2)
                                            : "must be a number with " + describe_real(lo, hi, ends);
    // strtod, not from_chars: it also takes a leading '+' and hexadecimal floats, as CLI11's conversion does.
    char* end = nullptr;
    const double v = text.empty() ? 0.0 : std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size()) return want + ", got " + quote(text);
    if (!std::isfinite(v)) return want + ", got " + quote(text) + " (not a finite number)";
    if ((lo_open ? !(v > lo) : !(v >= lo)) || (hi_open ? !(v < hi) : !(v <= hi))) return want + ", got " + quote(text);
    return {};
}

}  // namespace ctgrad::train
