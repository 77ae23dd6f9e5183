#pragma once
/// \file The trainers' command line: the common flags of docs/trainers.md and parse() with the
/// project's exit statuses (0 after `--help`, 2 for bad arguments, with the parser's message).
///
///     train::CommandLine cli{"d2l 12.5: minibatch SGD on the airfoil data"};
///     train::CommonOptions opt{.epochs = 2, .batch_size = 10, .lr = 0.05};
///     train::add_common_flags(cli, opt, "airfoil");
///     cli.option("--optimizer", name, "update rule").show_default().check(train::one_of({"sgd", "adam"}));
///     cli.parse(argc, argv);          // throws ExitRequest, which run_main() turns into the status
///
/// The parsing is CLI11's, compiled once into the library (src/train/cli.cpp): a trainer that
/// included CLI11 spent about a third of its code and ten seconds of its compile time on it. Hence
/// the fixed set of value types below instead of a template.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <ctgrad/data/datasets.hpp>
#include <ctgrad/train/arg_checks.hpp>

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

/// A rule for a flag's value, applied to the text as typed, before conversion.
struct Check {
    /// "" when the text is acceptable, else the reason ("must be ..., got '...'"), which the error
    /// message prints after the flag's name.
    std::function<std::string(const std::string&)> test;
    /// The accepted values for `--help`, e.g. "in [1, 1000]".
    std::string description;
};

/// An unsigned integer flag in [lo, hi] (for std::size_t, std::uint64_t and int targets): digits only,
/// so that `-1` or `1e9` is refused instead of wrapped or truncated.
///     cli.option("--steps", steps, "number of updates").check(train::count_in(1, 1'000'000));
Check count_in(std::uint64_t lo, std::uint64_t hi);

/// A real flag: finite (no nan, no inf) and within the interval.
///     cli.option("--rho", rho, "decay").check(train::real_in(0, 1, train::Ends::open_high));   // 0 <= rho < 1
Check real_in(double lo, double hi, Ends ends = Ends::closed);

/// A finite real flag > 0 (learning rates and the like).
Check positive_real();

/// A flag whose value must be one of `choices` (exact match).
Check one_of(std::vector<std::string> choices);

/// A program's command line: flags bound to variables, then parse(). Flag names are as CLI11 takes
/// them: "--name", or several names separated by commas ("--steps,--epochs").
class CommandLine {
    struct Impl;

public:
    /// A flag added to a CommandLine, to refine it. Valid as long as its CommandLine.
    class Flag {
    public:
        /// Adds a rule for the value (any number of rules; all must pass).
        Flag& check(Check c);
        /// Shows the variable's value at the time of this call as the default in `--help`.
        Flag& show_default();
        /// Replaces the help text.
        Flag& help(const std::string& text);
        /// This flag may only be given together with `other`.
        Flag& needs(const Flag& other);
        /// This flag may not be given together with `other`.
        Flag& excludes(const Flag& other);

    private:
        friend class CommandLine;
        Flag(Impl* impl, std::size_t index) : impl_(impl), index_(index) {}
        Impl* impl_;
        std::size_t index_;
    };

    /// A program whose `--help` starts with `description`.
    explicit CommandLine(const std::string& description);
    ~CommandLine();
    CommandLine(const CommandLine&) = delete;
    CommandLine& operator=(const CommandLine&) = delete;

    /// A flag with a value, stored into `target` when given (the target keeps its value otherwise).
    Flag option(const std::string& names, std::string& target, const std::string& help);
    /// \copydoc option(const std::string&, std::string&, const std::string&)
    Flag option(const std::string& names, int& target, const std::string& help);
    /// \copydoc option(const std::string&, std::string&, const std::string&)
    Flag option(const std::string& names, long& target, const std::string& help);
    /// \copydoc option(const std::string&, std::string&, const std::string&)
    Flag option(const std::string& names, long long& target, const std::string& help);
    /// \copydoc option(const std::string&, std::string&, const std::string&)
    Flag option(const std::string& names, unsigned& target, const std::string& help);
    /// \copydoc option(const std::string&, std::string&, const std::string&)
    Flag option(const std::string& names, unsigned long& target, const std::string& help);
    /// \copydoc option(const std::string&, std::string&, const std::string&)
    Flag option(const std::string& names, unsigned long long& target, const std::string& help);
    /// \copydoc option(const std::string&, std::string&, const std::string&)
    Flag option(const std::string& names, float& target, const std::string& help);
    /// \copydoc option(const std::string&, std::string&, const std::string&)
    Flag option(const std::string& names, double& target, const std::string& help);
    /// A flag with an integer value, passed to `on_value` while parsing (after the checks).
    Flag option(const std::string& names, std::function<void(int)> on_value, const std::string& help);
    /// A flag without a value: sets `target` to true when given.
    Flag flag(const std::string& names, bool& target, const std::string& help);
    /// A flag without a value: calls `on_set` while parsing when given.
    Flag flag(const std::string& names, std::function<void()> on_set, const std::string& help);

    /// The flag added under `name` (any of its names). Throws std::logic_error if there is none.
    Flag operator[](const std::string& name);
    /// Whether the flag `name` was given on the command line (after parse()).
    bool given(const std::string& name) const;

    /// Parses the command line. On `--help` prints the help to stdout and throws ExitRequest{0}; on a
    /// parse or validation error prints the message (naming the flag) to stderr and throws
    /// ExitRequest{exit_code::bad_arguments}.
    void parse(int argc, char** argv);

private:
    std::unique_ptr<Impl> impl_;
};

/// Sets the number of threads the kernels use for the rest of the program (parallel::set_num_threads,
/// parallel/thread_pool.hpp); n <= 0 leaves the default.
void set_num_threads(int n);

/// The number of processors this process may run on (parallel::available_cores()).
int available_cores();

/// Upper limits of the common flags (far above any sensible run; they exist so that a typo cannot
/// request 2^64 epochs or a thread per byte).
inline constexpr std::uint64_t max_epochs = 1'000'000;
/// Upper limit of the batch size flag.
inline constexpr std::uint64_t max_batch_size = 1u << 24;
/// Upper limit of the thread count flag.
inline constexpr int max_threads = 1024;

/// Adds the flags selected by `which` to `cli`, bound to the members of `o` (whose current values are
/// shown as defaults in `--help`). `example` names the program: `--out` defaults to runs/<example>.
/// `--threads N` calls set_num_threads(N) while parsing; N above the number of cores is accepted
/// (oversubscription is legitimate for experiments) with a warning on stderr, since it usually makes
/// the run much slower; N above max_threads is refused.
void add_common_flags(CommandLine& cli, CommonOptions& o, const std::string& example, unsigned which = flags::all);

}  // namespace ctgrad::train
