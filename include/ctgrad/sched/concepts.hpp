#pragma once
/// \file The Schedule concept: what a learning-rate schedule must provide.
#include <concepts>
#include <cstddef>

namespace ctgrad::sched {

/// A learning-rate schedule: a copyable object with a pure `operator()(std::size_t t) const`
/// returning the rate (convertible to double) at position t. What t counts (updates or epochs)
/// is decided by the Optimizer's pace (see optim::Pace), not by the schedule.
///
/// Any user type with that call operator plugs in; nothing needs to be registered. A schedule
/// chosen at run time can be held in a `std::function<double(std::size_t)>`, which is one too
/// (examples/lenet.cpp does this: one optimizer type, hence one instantiation of the training loop).
template <class S>
concept Schedule = std::copy_constructible<S> && requires(const S& s, std::size_t t) {
    { s(t) } -> std::convertible_to<double>;
};

}  // namespace ctgrad::sched
