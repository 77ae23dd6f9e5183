#pragma once
/// \file Ctrl-C (SIGINT) as a request to stop cleanly: a training loop that holds an InterruptGuard
/// finishes its current step, writes a checkpoint, and throws Interrupted; run_main() prints the
/// message (how to resume) and exits with exit_code::interrupted (130, the shell's code for SIGINT).
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>

#include <ctgrad/train/metrics.hpp>

namespace ctgrad::train {

/// While alive, SIGINT sets a flag (read by interrupt_requested()) instead of killing the process; a
/// second Ctrl-C kills it as usual. The destructor restores the previous handler. Not nestable.
class InterruptGuard {
public:
    InterruptGuard();
    ~InterruptGuard();
    InterruptGuard(const InterruptGuard&) = delete;
    InterruptGuard& operator=(const InterruptGuard&) = delete;
};

/// True once SIGINT arrived under an InterruptGuard (async-signal-safe flag).
bool interrupt_requested() noexcept;
/// Clears the flag (tests; a program that carries on after handling it).
void clear_interrupt() noexcept;

/// Where an epoch stands when it is interrupted after a step: the next batch to train and the
/// sums so far. A resumed run_epoch() continues from it.
struct EpochPosition {
    std::size_t epoch = 0;       ///< 0-based epoch
    std::size_t next_batch = 0;  ///< batches of this epoch already trained
    EpochStats stats{};          ///< their sums (seconds: training time so far in this epoch)
};

/// Thrown by run_epoch() after the step during which SIGINT arrived (position set), or by a trainer
/// between epochs. The trainer catches it, writes its checkpoint, and rethrows it with the message
/// for the user; run_main() exits with exit_code::interrupted.
class Interrupted : public std::runtime_error {
public:
    /// Interrupted at `pos` (if during an epoch), with message `what`.
    explicit Interrupted(std::optional<EpochPosition> pos, const std::string& what = "interrupted")
        : std::runtime_error(what), position(std::move(pos)) {}
    /// Where in the epoch the interrupt took effect (empty: between epochs).
    std::optional<EpochPosition> position;
};

}  // namespace ctgrad::train
