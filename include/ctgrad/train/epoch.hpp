#pragma once
/// \file An epoch loop over a DataLoader with a per-batch callback: timing, loss/accuracy
/// accumulation, the divergence check and the progress display in one place.
///
///     for (std::size_t epoch = 0; epoch < opt.epochs; ++epoch) {
///         auto stats = train::run_epoch(loader, epoch, progress, [&](auto& batch) {
///             const float loss = backward(nn::cross_entropy(model(batch.x), batch.y));
///             optimizer.step();
///             return train::StepResult{loss, correct};   // or just the loss
///         });
///         auto test = train::evaluate(test_loader, [&](auto& batch) { ... return train::StepResult{...}; });
///         progress.end_epoch("test acc " + ...);
///     }
#include <cstddef>
#include <type_traits>

#include <ctgrad/train/errors.hpp>
#include <ctgrad/train/interrupt.hpp>
#include <ctgrad/train/metrics.hpp>
#include <ctgrad/train/progress.hpp>
#include <ctgrad/train/timer.hpp>

namespace ctgrad::train {

/// What a batch callback may return instead of a bare loss: the batch's mean loss and, for
/// classifiers, the number of correct predictions.
struct StepResult {
    /// The batch's mean loss.
    double loss = 0;
    /// Correct predictions in the batch (classifiers; 0 otherwise).
    std::size_t correct = 0;
};

namespace detail {
template <class R>
StepResult to_step_result(const R& r) {
    if constexpr (std::is_same_v<R, StepResult>) return r;
    else return StepResult{static_cast<double>(r), 0};
}
}  // namespace detail

/// Runs one training epoch: calls `step(batch)` for every batch of `loader.epoch()` (the callback
/// does forward, backward and the optimizer step, and returns the mean loss of the batch or a
/// StepResult). Throws Diverged as soon as a loss is not finite (or anomaly detection stops a step). Reports each batch to `progress`
/// (begin_epoch() is called here; call end_epoch() yourself after any evaluation). `epoch` is 0-based.
///
/// Interruption and resumption: after each step, if Ctrl-C arrived under an InterruptGuard, throws
/// Interrupted with the EpochPosition (the batches done and their sums). Given such a position
/// (`resume`, e.g. from a checkpoint, with the loader restored to that epoch's order), the epoch
/// continues from its next batch without drawing a new order, and the returned stats are those of
/// the whole epoch, as if it had not been interrupted.
template <class Loader, class Step>
EpochStats run_epoch(Loader& loader, std::size_t epoch, Progress& progress, Step&& step,
                     const EpochPosition* resume = nullptr) {
    EpochStats stats = resume ? resume->stats : EpochStats{};
    const double before = stats.seconds;
    std::size_t b = resume ? resume->next_batch : 0;
    progress.begin_epoch(epoch);
    if (!resume) (void)loader.epoch();  // draws this epoch's order
    Timer timer;
    for (const std::size_t n = loader.num_batches(); b < n; ++b) {
        auto& batch = loader.batch(b);
        const StepResult r = anomaly_as_divergence(epoch + 1, stats.batches + 1,
                                                   [&] { return detail::to_step_result(step(batch)); });
        check_finite(r.loss, epoch + 1, stats.batches + 1);
        stats.add(r.loss, batch.size(), r.correct);
        progress.step(batch.size(), r.loss);
        if (interrupt_requested()) [[unlikely]] {
            stats.seconds = before + timer.stop();
            throw Interrupted(EpochPosition{epoch, b + 1, stats});
        }
    }
    stats.seconds = before + timer.stop();
    return stats;
}

/// An evaluation pass: calls `fn(batch)` (returning the mean loss or a StepResult) for every batch
/// of `loader.epoch()` and accumulates; no divergence check, no progress display.
template <class Loader, class Fn>
EpochStats evaluate(Loader& loader, Fn&& fn) {
    EpochStats stats;
    Timer timer;
    for (auto& batch : loader.epoch()) {
        const StepResult r = detail::to_step_result(fn(batch));
        stats.add(r.loss, batch.size(), r.correct);
    }
    stats.seconds = timer.stop();
    return stats;
}

}  // namespace ctgrad::train
