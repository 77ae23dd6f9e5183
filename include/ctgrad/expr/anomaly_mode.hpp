#pragma once
/// \file The anomaly-detection switch and its error: `ctgrad::detect_anomaly(true)` makes every
/// evaluation check values and adjoints for NaN and infinity and throw AnomalyError at the first
/// (the checks themselves are in anomaly.hpp). Off by default.
#include <atomic>
#include <stdexcept>
#include <string>

namespace ctgrad {

/// Thrown, under detect_anomaly(true), at the first NaN or infinity in a value or an adjoint.
class AnomalyError : public std::runtime_error {
public:
    /// The message names the node, the pass, the element and the values involved.
    explicit AnomalyError(const std::string& what) : std::runtime_error(what) {}
};

namespace detail {
inline std::atomic<bool> anomaly_flag{false};
}  // namespace detail

/// Turns anomaly detection on or off, for every thread; returns the previous setting.
inline bool detect_anomaly(bool on) noexcept { return detail::anomaly_flag.exchange(on, std::memory_order_relaxed); }
/// Whether anomaly detection is on.
inline bool anomaly_detection_enabled() noexcept { return detail::anomaly_flag.load(std::memory_order_relaxed); }

/// Anomaly detection on (or off) for the lifetime of the object, then back to the previous setting.
class AnomalyMode {
public:
    /// Sets anomaly detection to `on` until destruction.
    explicit AnomalyMode(bool on = true) noexcept : previous_(detect_anomaly(on)) {}
    /// Restores the setting found at construction.
    ~AnomalyMode() { detect_anomaly(previous_); }
    /// Not copyable: one object, one scope.
    AnomalyMode(const AnomalyMode&) = delete;
    /// Not copyable: one object, one scope.
    AnomalyMode& operator=(const AnomalyMode&) = delete;

private:
    bool previous_;
};

}  // namespace ctgrad
