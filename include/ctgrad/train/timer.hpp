#pragma once
/// \file Timer: d2l's stopwatch (start/stop, the sum and running sums of the recorded intervals).
#include <chrono>
#include <vector>

namespace ctgrad::train {

/// Records intervals between start() and stop(), like d2l.Timer. Starts running on construction.
class Timer {
public:
    /// A monotonic clock.
    using clock = std::chrono::steady_clock;
    /// Starts the first interval.
    Timer() { start(); }
    /// Starts an interval.
    void start() { t0_ = clock::now(); }
    /// Ends the interval and records it; returns its length in seconds.
    double stop() {
        times_.push_back(std::chrono::duration<double>(clock::now() - t0_).count());
        return times_.back();
    }
    /// Seconds since the last start() (the interval is not recorded).
    double elapsed() const { return std::chrono::duration<double>(clock::now() - t0_).count(); }
    /// Sum of the recorded intervals, in seconds.
    double sum() const {
        double s = 0;
        for (double t : times_) s += t;
        return s;
    }
    /// Mean of the recorded intervals (0 if none).
    double avg() const { return times_.empty() ? 0 : sum() / double(times_.size()); }
    /// Running sums of the recorded intervals (d2l's cumsum(): the time axis of a loss-vs-time plot).
    std::vector<double> cumsum() const {
        std::vector<double> c;
        double s = 0;
        for (double t : times_) c.push_back(s += t);
        return c;
    }
    /// The recorded intervals, in seconds.
    const std::vector<double>& times() const { return times_; }

private:
    clock::time_point t0_;
    std::vector<double> times_;
};

}  // namespace ctgrad::train
