#pragma once
/// \file dist::GradientAllReduce: makes every rank's gradients the gradient of the global batch,
/// through one flat buffer allocated once, before the optimizer's update.
///
///     auto net = nn::lenet<float>();
///     optim::Optimizer opt(net.parameters(), optim::SGD{}, sched::Constant{.lr = 0.1});
///     dist::GradientAllReduce sync(net.parameters());   // also copies rank 0's weights to all ranks
///     for (auto& batch : loader.epoch()) {               // loader built with .shard = {rank, size}
///         backward(nn::cross_entropy(net(batch.x), batch.y));   // mean over this rank's share
///         sync(batch.size(), batch.global_count);        // weighted sum over the ranks
///         opt.step();                                     // identical update on every rank
///     }
///
/// WHAT THIS OBJECT REPRESENTS: the gradient buffers of a fixed list of parameters, all of one
/// scalar type T (float or double), laid end to end in one preallocated std::vector<T>. A call
/// packs every grad() into it (scaled by this rank's weight), runs one in-place MPI_Allreduce(SUM)
/// and unpacks the result into every grad(). No heap allocation per call. With one process a call
/// does nothing at all.
///
/// Why a weight: a loss that is a mean over the batch has gradient sum_r (n_r / n) g_r, where rank r
/// saw n_r of the n examples and g_r is the gradient of its own mean. With equal shares the weight
/// is 1 / size(), i.e. the average (operator()()). A rank with no examples in a batch still calls,
/// with local_count 0 (its gradients must be zero, as after optim::Optimizer::step()).
///
/// Requires: every rank constructs it with the same parameter shapes (checked: the element count
/// is compared over the ranks) and calls it the same number of times, from the thread that called
/// dist::init(). The Params must outlive it.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

#include <boost/hana/for_each.hpp>
#include <boost/hana/tuple.hpp>

#include <ctgrad/dist/all_reduce.hpp>
#include <ctgrad/dist/error.hpp>
#include <ctgrad/dist/world.hpp>
#include <ctgrad/tensor.hpp>

namespace ctgrad::dist {

namespace detail {
template <class P>
struct param_list_scalar {};
template <class T0, std::size_t N0, class... T, std::size_t... N>
struct param_list_scalar<boost::hana::tuple<Param<T0, N0>*, Param<T, N>*...>> {
    using type = T0;
    static constexpr bool uniform = (std::is_same_v<T0, T> && ...);
};
template <class P>
concept has_param_scalar = requires { typename param_list_scalar<P>::type; };
}  // namespace detail

/// A parameter list as model.parameters() and optim::params(...) return it — a
/// `boost::hana::tuple<Param<T, N1>*, Param<T, N2>*, ...>` — with at least one parameter and one
/// scalar type T for all of them.
template <class P>
concept UniformParamList = detail::has_param_scalar<P> && detail::param_list_scalar<P>::uniform;

/// All-reduces the gradients of a parameter list; see the file comment for the contract.
template <class Params>
class GradientAllReduce {
    static_assert(detail::has_param_scalar<Params>,
                  "dist::GradientAllReduce: the parameter list must be a non-empty boost::hana::tuple of "
                  "Param<T, N>* (what model.parameters() and optim::params(p1, p2, ...) return)");
    static_assert(!detail::has_param_scalar<Params> || UniformParamList<Params>,
                  "dist::GradientAllReduce: all parameters must have one scalar type (all float or all double), "
                  "so that their gradients share one buffer");

public:
    /// The parameters' scalar type.
    using value_type = typename detail::param_list_scalar<Params>::type;

    /// Takes the list (pointers: the Params must outlive this object) and allocates the buffer.
    /// With several ranks it checks that all ranks hold the same number of elements and, if
    /// `broadcast_initial` (default), copies rank 0's parameter values to the other ranks, so every
    /// replica starts from the same weights whatever each rank's initialisation did. Collective:
    /// every rank must construct it at the same point. Throws dist::Error.
    explicit GradientAllReduce(Params params, bool broadcast_initial = true) : params_(std::move(params)) {
        std::size_t n = 0;
        boost::hana::for_each(params_, [&](auto* p) { n += p->size(); });
        if (size() > 1) {
            std::uint64_t total = n;  // a rank whose count is not the mean sees that the models differ
            all_reduce(std::span<std::uint64_t>(&total, 1));
            if (total != std::uint64_t(n) * std::uint64_t(size()))
                throw Error(rank(), describe_rank() + ": dist::GradientAllReduce: the ranks' models differ (this rank has " +
                                        std::to_string(n) + " parameter elements, the ranks hold " +
                                        std::to_string(total) + " together)");
            if (broadcast_initial)
                boost::hana::for_each(params_, [](auto* p) { broadcast(p->value(), 0); });
            buffer_.resize(n);
        }
        elements_ = n;
    }

    /// Makes every grad() the weighted sum over the ranks of grad() x local_count / global_count:
    /// the gradient of a mean loss over the global batch when each rank's loss is the mean over its
    /// local_count examples of that batch's global_count. Throws std::invalid_argument if
    /// global_count is 0 or smaller than local_count, dist::Error if MPI fails.
    void operator()(std::size_t local_count, std::size_t global_count) {
        if (global_count == 0 || local_count > global_count)
            throw std::invalid_argument("dist::GradientAllReduce: this rank's share (" + std::to_string(local_count) +
                                        ") must be at most the global batch (" + std::to_string(global_count) +
                                        ") and the batch not empty");
        run(value_type(double(local_count) / double(global_count)));
    }
    /// Makes every grad() the mean over the ranks (equal shares: weight 1 / size()).
    void operator()() { run(value_type(1.0 / double(size()))); }

    /// Number of gradient elements reduced per call; bytes() = elements() x sizeof(T).
    std::size_t elements() const noexcept { return elements_; }
    /// Number of gradient bytes reduced per call.
    std::size_t bytes() const noexcept { return elements_ * sizeof(value_type); }
    /// Calls so far and the wall time spent in MPI_Allreduce (including waiting for slower ranks),
    /// for measuring the communication share of a step.
    std::size_t calls() const noexcept { return calls_; }
    /// Wall time in seconds spent in MPI_Allreduce over those calls.
    double seconds() const noexcept { return seconds_; }
    /// Sets calls() and seconds() back to 0.
    void reset_timer() noexcept { calls_ = 0, seconds_ = 0; }

private:
    void run(value_type weight) {
        if (size() == 1) return;  // one process: the local gradient is the global one
        value_type* b = buffer_.data();
        boost::hana::for_each(params_, [&](auto* p) {
            const value_type* g = p->grad().data();
            for (std::size_t i = 0, n = p->size(); i < n; ++i) b[i] = g[i] * weight;
            b += p->size();
        });
        const auto t0 = std::chrono::steady_clock::now();
        ::ctgrad::dist::detail::all_reduce_sum(buffer_.data(), buffer_.size(), ::ctgrad::dist::detail::scalar_of<value_type>());
        seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        ++calls_;
        b = buffer_.data();
        boost::hana::for_each(params_, [&](auto* p) {
            std::copy_n(b, p->size(), p->grad().data());
            b += p->size();
        });
    }

    Params params_;
    std::vector<value_type> buffer_;
    std::size_t elements_ = 0;
    std::size_t calls_ = 0;
    double seconds_ = 0;
};

/// Deduces the parameter tuple type from the constructor's argument.
template <class Params>
GradientAllReduce(Params, bool) -> GradientAllReduce<Params>;

}  // namespace ctgrad::dist
