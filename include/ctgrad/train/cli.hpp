#pragma once
/// \file Command-line helpers on top of CLI11: the common flags of docs/trainers.md and parse() with the
/// project's exit statuses (0 after `--help`, 2 for bad arguments, with CLI11's message).
///
///     CLI::App app{"d2l 12.5: minibatch SGD on the airfoil data"};
///     train::CommonOptions opt{.epochs = 2, .batch_size = 10, .lr = 0.05};
///     train::add_common_flags(app, opt, "airfoil");
///     app.add_option("--optimizer", name, "update rule")->check(CLI::IsMember({"sgd", "adam"}));
///     train::parse(app, argc, argv);          // throws ExitRequest, which run_main() turns into the status
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include <ctgrad/data/datasets.hpp>
#include <ctgrad/expr/anomaly_mode.hpp>
#include <ctgrad/train/arg_checks.hpp>
#include <ctgrad/train/errors.hpp>

namespace ctgrad::train {

/// Which common flags a program offers (bit set; combine with |).
namespace flags {
/// `--data-dir`
inline constexpr unsigned data_dir = 1u << 0;
/// `--epochs`
inline constexpr unsigned epochs = 1u << 1;
/// `--batch-size`
inline constexpr unsigned batch_size = 1u << 2;
/// `--lr`
inline constexpr unsigned lr = 1u << 3;
/// `--seed`
inline constexpr unsigned seed = 1u << 4;
/// `--threads`
inline constexpr unsigned threads = 1u << 5;
/// `--out`
inline constexpr unsigned out = 1u << 6;
/// `--detect-anomaly`
inline constexpr unsigned detect_anomaly = 1u << 7;
/// All of the above.
inline constexpr unsigned all = (1u << 8) - 1;
}  // namespace flags

/// Values of the common flags. Initialise the members with the program's defaults before
/// add_common_flags(); the flags overwrite them.
struct CommonOptions {
    std::string data_dir{};      ///< `--data-dir`; empty: $CTGRAD_DATA_DIR, then ./data
    std::size_t epochs = 1;      ///< `--epochs` (>= 1)
    std::size_t batch_size = 1;  ///< `--batch-size` (>= 1)
    double lr = 0.1;             ///< `--lr` (> 0)
    std::uint64_t seed = 0;      ///< `--seed`
    int threads = 0;             ///< `--threads` (>= 1); 0: parallel::num_threads()'s default
    std::string out{};           ///< `--out`; empty: runs/<example>

    /// The data directory by the rule of docs/trainers.md (`--data-dir`, else $CTGRAD_DATA_DIR, else ./data).
    std::filesystem::path data_path() const {
        return data::resolve_data_dir(data_dir.empty() ? std::nullopt : std::optional<std::string>(data_dir));
    }
};

/// Sets the number of threads the kernels use for the rest of the program (parallel::set_num_threads,
/// parallel/thread_pool.hpp); n <= 0 leaves the default.
void set_num_threads(int n);

/// The number of processors this process may run on (parallel::available_cores()).
int available_cores();

/// A CLI11 validator for an unsigned integer flag in [lo, hi]; use it on std::size_t, std::uint64_t and
/// int targets instead of CLI::PositiveNumber / CLI::Range.
///     app.add_option("--steps", steps, "number of updates")->check(train::count_in(1, 1'000'000));
inline CLI::Validator count_in(std::uint64_t lo, std::uint64_t hi) {
    return CLI::Validator([lo, hi](std::string& s) { return check_count(s, lo, hi); },
                          hi == std::numeric_limits<std::uint64_t>::max()
                              ? ">= " + std::to_string(lo)
                              : "in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
}

/// A CLI11 validator for a real flag: finite (no nan, no inf) and within the interval.
///     app.add_option("--rho", rho)->check(train::real_in(0, 1, train::Ends::open_high));   // 0 <= rho < 1
inline CLI::Validator real_in(double lo, double hi, Ends ends = Ends::closed) {
    return CLI::Validator([lo, hi, ends](std::string& s) { return check_real(s, lo, hi, ends); },
                          describe_interval(lo, hi, ends));
}

/// A CLI11 validator for a finite real flag > 0 (learning rates and the like).
inline CLI::Validator positive_real() { return real_in(0, HUGE_VAL, Ends::open); }

/// Upper limits of the common flags (far above any sensible run; they exist so that a typo cannot
/// request 2^64 epochs or a thread per byte).
inline constexpr std::uint64_t max_epochs = 1'000'000;
/// Upper limit of the batch size flag.
inline constexpr std::uint64_t max_batch_size = 1u << 24;
/// Upper limit of the thread count flag.
inline constexpr int max_threads = 1024;

/// Adds the flags selected by `which` to `app`, bound to the members of `o` (whose current values are
/// shown as defaults in `--help`). `example` names the program: `--out` defaults to runs/<example>.
/// `--threads N` calls set_num_threads(N) while parsing; N above the number of cores is accepted
/// (oversubscription is legitimate for experiments) with a warning on stderr, since it usually makes
/// the run much slower; N above max_threads is refused.
inline void add_common_flags(CLI::App& app, CommonOptions& o, const std::string& example,
                             unsigned which = flags::all) {
    if (o.out.empty()) o.out = "runs/" + example;
    if (which & flags::data_dir)
        app.add_option("--data-dir", o.data_dir, "data directory (default: $CTGRAD_DATA_DIR, then ./data)");
    if (which & flags::epochs)
        app.add_option("--epochs", o.epochs, "number of epochs")->capture_default_str()->check(count_in(1, max_epochs));
    if (which & flags::batch_size)
        app.add_option("--batch-size", o.batch_size, "examples per minibatch")
            ->capture_default_str()
            ->check(count_in(1, max_batch_size));
    if (which & flags::lr)
        app.add_option("--lr", o.lr, "learning rate")->capture_default_str()->check(positive_real());
    if (which & flags::seed)
        app.add_option("--seed", o.seed, "random seed")
            ->capture_default_str()
            ->check(count_in(0, std::numeric_limits<std::uint64_t>::max()));
    if (which & flags::threads)
        app.add_option_function<int>(
               "--threads",
               [&o](const int& n) {
                   o.threads = n;
                   if (const int cores = available_cores(); n > cores)
                       std::fprintf(stderr,
                                    "warning: --threads %d is more than the %d core(s) of this machine; the run "
                                    "will likely be slower than with --threads %d\n",
                                    n, cores, cores);
                   set_num_threads(n);
               },
               "number of threads (default: all cores)")
            ->check(count_in(1, max_threads));
    if (which & flags::out) app.add_option("--out", o.out, "output directory")->capture_default_str();
    if (which & flags::detect_anomaly)
        app.add_flag_callback(
            "--detect-anomaly", [] { ctgrad::detect_anomaly(true); },
            "check every value and gradient for NaN/Inf and stop at the first, naming the operation (slow: for debugging)");
}

/// Parses the command line. On `--help` prints the help to stdout and throws ExitRequest{0}; on a
/// parse or validation error prints CLI11's message to stderr and throws
/// ExitRequest{exit_code::bad_arguments}.
inline void parse(CLI::App& app, int argc, char** argv) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);  // prints help or the error message
        throw ExitRequest{code == 0 ? exit_code::ok : exit_code::bad_arguments};
    }
}

}  // namespace ctgrad::train
