#pragma once
/// \file The exceptions a trainer throws to end with a specific exit status, and the divergence check.
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>

#include <limits>

#include <ctgrad/expr/anomaly_mode.hpp>
#include <ctgrad/train/exit_codes.hpp>

namespace ctgrad::train {

/// Training produced a non-finite loss. run_main() prints the message and exits with exit_code::diverged.
class Diverged : public std::runtime_error {
public:
    /// `epoch` and `step` are 1-based positions as a user counts them (step within the epoch).
    Diverged(double loss, std::size_t epoch, std::size_t step)
        : std::runtime_error("training diverged: the loss is " + std::to_string(loss) + " at epoch " +
                             std::to_string(epoch) + ", step " + std::to_string(step) +
                             " (try a smaller learning rate; to stop at the first operation that produces a NaN or "
                             "infinity, rerun with --detect-anomaly or call ctgrad::detect_anomaly(true))"),
          loss_(loss), epoch_(epoch), step_(step) {}
    /// Anomaly detection (ctgrad::detect_anomaly) stopped the step: its message, with the position.
    Diverged(const AnomalyError& anomaly, std::size_t epoch, std::size_t step)
        : std::runtime_error("training diverged at epoch " + std::to_string(epoch) + ", step " + std::to_string(step) +
                             ": " + anomaly.what()),
          loss_(std::numeric_limits<double>::quiet_NaN()), epoch_(epoch), step_(step) {}
    /// The non-finite loss (NaN when anomaly detection stopped the step before a loss existed).
    double loss() const noexcept { return loss_; }
    /// The epoch where it happened (1-based).
    std::size_t epoch() const noexcept { return epoch_; }
    /// The step within the epoch (1-based).
    std::size_t step() const noexcept { return step_; }

private:
    double loss_;
    std::size_t epoch_, step_;
};

/// Throws Diverged unless `loss` is finite. `epoch` and `step` are 1-based.
inline void check_finite(double loss, std::size_t epoch, std::size_t step) {
    if (!std::isfinite(loss)) [[unlikely]]
        throw Diverged(loss, epoch, step);
}

/// Runs f() (a training step) at 1-based `epoch` and `step`; an AnomalyError from it becomes
/// Diverged, so a trainer handles it as any divergence.
template <class F>
decltype(auto) anomaly_as_divergence(std::size_t epoch, std::size_t step, F&& f) {
    try {
        return f();
    } catch (const AnomalyError& e) {
        throw Diverged(e, epoch, step);
    }
}

/// Ends the program with `code` once the stack has unwound (thrown by parse() for `--help` and bad
/// arguments, after the message has been printed). Caught by run_main().
struct ExitRequest {
    /// The exit status.
    int code;
};

}  // namespace ctgrad::train

namespace ctgrad::train {

/// Ends the program with `code` after printing the message (prefixed with the program name) to
/// stderr; caught by run_main(). For failures that are neither data nor divergence, e.g. an `--out`
/// that is a file (exit_code::bad_arguments) or a run folder in use (exit_code::data_problem).
class ExitWithMessage : public std::runtime_error {
public:
    /// Ends the program with exit status `code` and message `what`.
    ExitWithMessage(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
    /// The exit status.
    int code() const noexcept { return code_; }

private:
    int code_;
};

}  // namespace ctgrad::train
