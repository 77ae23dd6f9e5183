#pragma once
/// \file Progress display: a live bar on stderr when stderr is a terminal (epoch, batches done/total,
/// loss, examples/s, ETA), else one plain log line per epoch.
#include <cstddef>
#include <cstdio>
#include <string>

#include <ctgrad/train/timer.hpp>

namespace ctgrad::train {

/// Reports training progress on a stream (stderr by default). step() is cheap enough to call for
/// every batch even at batch size 1: it only updates counters, and looks at the clock every 32 calls
/// when drawing a bar (redrawing at most 10 times a second).
class Progress {
public:
    /// How to report.
    enum class Mode { automatic, bar, lines, quiet };
    /// `epochs` and `batches_per_epoch` are the totals (for the bar and the ETA). `automatic`: a bar if
    /// `out` is a terminal (isatty), else lines.
    Progress(std::size_t epochs, std::size_t batches_per_epoch, Mode mode = Mode::automatic,
             std::FILE* out = stderr);

    /// Starts epoch `epoch` (0-based) and resets the epoch's loss and example counts.
    void begin_epoch(std::size_t epoch);
    /// One batch done: `examples` examples with mean loss `loss`.
    void step(std::size_t examples, double loss) {
        ++batch_;
        examples_ += examples;
        loss_sum_ += loss * double(examples);
        if (bar_ && ++since_check_ >= 32) maybe_draw();
    }
    /// Ends the epoch: completes the bar (bar mode) or prints the epoch's line (lines mode):
    /// `epoch 3/10: loss 0.2451, 125000 examples/s` followed by `, <extra>` if given
    /// (e.g. "test acc 0.871").
    void end_epoch(const std::string& extra = "");
    /// Mean loss of the current epoch so far.
    double epoch_loss() const { return examples_ ? loss_sum_ / double(examples_) : 0.0; }
    /// True if a live bar is drawn.
    bool is_bar() const { return bar_; }

private:
    void maybe_draw();
    void draw(bool final);
    std::string line(bool final) const;

    std::FILE* out_;
    bool bar_ = false, quiet_ = false;
    std::size_t epochs_, batches_;
    std::size_t epoch_ = 0, batch_ = 0, examples_ = 0, since_check_ = 0;
    std::size_t batches_before_ = 0;  // batches of the completed epochs (for the ETA)
    double loss_sum_ = 0;
    double seconds_before_ = 0;       // time of the completed epochs
    double last_draw_ = -1;
    Timer epoch_timer_;
};

}  // namespace ctgrad::train
