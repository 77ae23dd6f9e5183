#pragma once
/// \file DataLoader: shuffled minibatches over an in-memory (features, labels) data set.
///
/// Usage, the way PyTorch's `for x, y in loader:` reads:
/// \code
///   auto images = data::to_float_images(data::read_idx_images(files.train_images));  // N x 1 x 28 x 28
///   auto labels = data::read_idx_labels(files.train_labels);                          // N
///   data::DataLoader loader(images, labels, {.batch_size = 256, .shuffle = true, .seed = 42});
///   for (std::size_t epoch = 0; epoch < num_epochs; ++epoch)
///       for (auto& batch : loader.epoch()) {   // each call of epoch() draws a new order
///           // batch.x: Tensor<float, 4> of batch.size() x 1 x 28 x 28; batch.y: Tensor<uint8_t, 1>
///           // batch.indices: which examples of the data set these are
///       }
/// \endcode
/// Batches are copied into two buffers owned by the loader (one for full batches, one for the final
/// partial batch), so after the first epoch no batch allocates. A batch stays valid until the iterator
/// moves on; copy it if you need to keep it.
///
/// The loader refers to lvalue tensors passed to it (they must outlive the loader) and takes ownership
/// of rvalue tensors (`DataLoader(std::move(x), std::move(y), ...)`), so a temporary cannot dangle.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <numeric>
#include <random>
#include <sstream>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <ctgrad/data/error.hpp>
#include <ctgrad/tensor.hpp>

namespace ctgrad::data {

/// Which share of every batch this process takes in data-parallel training (see LoaderOptions::shard).
struct Shard {
    std::size_t rank = 0;  ///< this process's share, 0 <= rank < size (dist::rank())
    std::size_t size = 1;  ///< number of shares (dist::size()); 1: the whole batch
};

/// DataLoader settings; PyTorch's names and d2l's defaults (keep the last partial batch).
struct LoaderOptions {
    std::size_t batch_size = 1;  ///< examples per batch (> 0)
    bool shuffle = true;         ///< draw a new random order each epoch; false: 0, 1, 2, ... every epoch
    bool drop_last = false;      ///< drop the final batch if it holds fewer than batch_size examples
    std::uint64_t seed = 0;      ///< seed of the std::mt19937_64 that draws the orders
    /// Data parallelism: batch b holds this shard's part of global batch b, the batch a single
    /// process would see. A global batch of n examples is cut into `size` consecutive parts of
    /// n / size examples, the first n % size parts one more (a part may be empty when n < size).
    /// num_batches(), size() and order() stay global; Batch::global_count is n. Every shard must use
    /// the same seed, batch_size, shuffle and drop_last, so all draw the same order.
    Shard shard{};
};

/// One minibatch, owned by the DataLoader and overwritten when the iteration moves on.
template <class X, std::size_t XN, class Y>
struct Batch {
    Tensor<X, XN> x;                        ///< size() x (the features' trailing shape)
    Tensor<Y, 1> y;                         ///< size() labels
    std::span<const std::size_t> indices;   ///< data-set index of each example, in batch order
    std::size_t global_count = 0;           ///< examples of the global batch over all shards (== size() unsharded)
    /// Number of examples in this batch.
    std::size_t size() const noexcept { return indices.size(); }
};

namespace detail {
/// Holds a tensor either by reference (lvalue given) or by value (rvalue given); cheap to move.
template <class Tn>
class HeldTensor {
public:
    HeldTensor(const Tn& t) : p_(std::shared_ptr<const Tn>(), &t) {}  // non-owning (aliasing ctor)
    HeldTensor(Tn&& t) : p_(std::make_shared<const Tn>(std::move(t))) {}
    const Tn& get() const noexcept { return *p_; }

private:
    std::shared_ptr<const Tn> p_;
};

/// Uniform integer in [0, range) from raw mt19937_64 output, by rejection. Written out because
/// std::uniform_int_distribution and std::shuffle differ between standard libraries; this way a seed
/// gives the same orders everywhere (mt19937_64's output is fixed by the standard).
inline std::uint64_t bounded_random(std::mt19937_64& rng, std::uint64_t range) {
    const std::uint64_t max = std::mt19937_64::max();  // 2^64 - 1
    const std::uint64_t limit = max - max % range;     // a multiple of range; reject r >= limit
    std::uint64_t r;
    do r = rng();
    while (r >= limit);
    return r % range;
}
}  // namespace detail

/// Iterates minibatches of (features, labels). `features` has the example index first and any rank
/// >= 1 (e.g. N x 1 x 28 x 28 images, N x 5 table rows); `labels` holds one label per example.
/// Element types are free (float/double features, integer or floating labels).
template <class X, std::size_t XN, class Y>
class DataLoader {
    static_assert(XN >= 1, "DataLoader: features need the example index as their first axis");

public:
    /// The type of the batches the loader hands out.
    using batch_type = Batch<X, XN, Y>;

    /// Throws DataError if features.shape(0) != labels.size() or batch_size == 0.
    /// Lvalue tensors are referred to (keep them alive); rvalue tensors are moved in and owned.
    DataLoader(detail::HeldTensor<Tensor<X, XN>> features, detail::HeldTensor<Tensor<Y, 1>> labels,
               LoaderOptions options = {})
        : features_(std::move(features)), labels_(std::move(labels)), opt_(options), rng_(options.seed) {
        const std::size_t n = features_.get().shape(0);
        if (n != labels_.get().size())
            throw DataError("DataLoader: features hold " + std::to_string(n) + " examples (shape[0]) but labels hold " +
                            std::to_string(labels_.get().size()));
        if (opt_.batch_size == 0) throw DataError("DataLoader: batch_size must be at least 1");
        if (opt_.shard.size == 0 || opt_.shard.rank >= opt_.shard.size)
            throw DataError("DataLoader: shard rank " + std::to_string(opt_.shard.rank) + " of " +
                            std::to_string(opt_.shard.size) + " shards (need rank < size)");
        row_ = 1;
        for (std::size_t d = 1; d < XN; ++d) row_ *= features_.get().shape(d);
        order_.resize(n);
        std::iota(order_.begin(), order_.end(), std::size_t{0});
    }

    class Epoch;

    /// Starts a new epoch (drawing a new order if shuffling) and returns it as a range of batches.
    /// Starting another epoch invalidates the iterators of the previous one (using them throws).
    Epoch epoch() {
        ++epoch_id_;
        std::iota(order_.begin(), order_.end(), std::size_t{0});
        if (opt_.shuffle)  // Fisher-Yates: every permutation equally likely
            for (std::size_t i = order_.size(); i > 1; --i)
                std::swap(order_[i - 1], order_[detail::bounded_random(rng_, i)]);
        filled_ = npos;
        return Epoch(this);
    }

    /// Number of examples in the data set.
    std::size_t size() const noexcept { return order_.size(); }
    /// Batches per epoch: ceil(size / batch_size), or floor with drop_last.
    std::size_t num_batches() const noexcept {
        return opt_.drop_last ? size() / opt_.batch_size : (size() + opt_.batch_size - 1) / opt_.batch_size;
    }
    /// The settings given at construction.
    const LoaderOptions& options() const noexcept { return opt_; }
    /// How many times epoch() has been called.
    std::size_t epochs_started() const noexcept { return epoch_id_; }
    /// The order of the current epoch (all examples, including any dropped at the end).
    std::span<const std::size_t> order() const noexcept { return order_; }
    /// The shuffling generator's state as text (std::mt19937_64's operator<<), for checkpoints.
    std::string rng_state() const {
        std::ostringstream s;
        s << rng_;
        return s.str();
    }
    /// Restores what rng_state(), epochs_started() and order() gave (a checkpoint): the next epoch()
    /// draws the order an uninterrupted run would, and batch(b) serves the restored epoch. Throws
    /// DataError if the state does not parse or `order` is not a permutation of 0 .. size()-1.
    void restore(const std::string& rng_state, std::size_t epochs_started, std::span<const std::size_t> order) {
        std::mt19937_64 g;
        std::istringstream s(rng_state);
        s >> g;
        if (!s) throw DataError("DataLoader::restore: the generator state does not parse");
        if (order.size() != size())
            throw DataError("DataLoader::restore: an order of " + std::to_string(order.size()) + " examples for a data set of " +
                            std::to_string(size()));
        std::vector<bool> seen(size());
        for (std::size_t k : order) {
            if (k >= size() || seen[k]) throw DataError("DataLoader::restore: the order is not a permutation");
            seen[k] = true;
        }
        rng_ = g;
        std::copy(order.begin(), order.end(), order_.begin());
        epoch_id_ = epochs_started;
        filled_ = npos;
    }
    /// The data the loader draws from.
    const Tensor<X, XN>& features() const noexcept { return features_.get(); }
    /// The whole data set's labels.
    const Tensor<Y, 1>& labels() const noexcept { return labels_.get(); }

    /// Batch `b` (0 <= b < num_batches()) of the current epoch, filled into the loader's buffer.
    batch_type& batch(std::size_t b) {
        if (b >= num_batches())
            throw std::out_of_range("DataLoader::batch: batch " + std::to_string(b) + " of " +
                                    std::to_string(num_batches()));
        const std::size_t global_begin = b * opt_.batch_size;
        const std::size_t global_count = std::min(opt_.batch_size, size() - global_begin);
        batch_type& out = global_count == opt_.batch_size ? full_ : tail_;
        if (filled_ == b) return out;
        // This shard's consecutive part of the global batch (the whole of it unsharded).
        const std::size_t part = global_count / opt_.shard.size, extra = global_count % opt_.shard.size;
        const std::size_t begin = global_begin + opt_.shard.rank * part + std::min(opt_.shard.rank, extra);
        const std::size_t count = part + (opt_.shard.rank < extra ? 1 : 0);
        out.global_count = global_count;
        std::array<std::size_t, XN> xs;
        xs[0] = count;
        for (std::size_t d = 1; d < XN; ++d) xs[d] = features_.get().shape(d);
        if (out.x.shape() != xs) out.x.resize(xs);  // only on first use of this buffer
        if (out.y.size() != count) out.y.resize({count});
        out.indices = std::span<const std::size_t>(order_).subspan(begin, count);
        const X* src = features_.get().data();
        X* dst = out.x.data();
        const Y* lsrc = labels_.get().data();
        for (std::size_t i = 0; i < count; ++i) {
            const std::size_t k = order_[begin + i];
            std::copy_n(src + k * row_, row_, dst + i * row_);
            out.y(i) = lsrc[k];
        }
        filled_ = b;
        return out;
    }

    /// End marker of an Epoch range.
    struct Sentinel {};

    /// Input iterator over the batches of one epoch.
    class Iterator {
    public:
        /// Iterator traits: a batch.
        using value_type = batch_type;
        /// Iterator traits.
        using difference_type = std::ptrdiff_t;
        Iterator() = default;
        /// The current batch (valid until the iterator moves on).
        batch_type& operator*() const { return loader_->batch(check()); }
        /// Member access to the current batch.
        batch_type* operator->() const { return &**this; }
        /// Moves to the next batch.
        Iterator& operator++() {
            check();
            ++b_;
            return *this;
        }
        /// Moves to the next batch (post-increment, for range algorithms).
        void operator++(int) { ++*this; }
        /// True after the last batch of the epoch.
        friend bool operator==(const Iterator& it, Sentinel) { return it.b_ >= it.loader_->num_batches(); }
        /// Index of the current batch within the epoch.
        std::size_t index() const noexcept { return b_; }

    private:
        friend class Epoch;
        Iterator(DataLoader* l, std::size_t id) : loader_(l), epoch_id_(id) {}
        std::size_t check() const {
            if (epoch_id_ != loader_->epoch_id_)
                throw std::logic_error("DataLoader: iterator of an epoch used after epoch() started another");
            return b_;
        }
        DataLoader* loader_ = nullptr;
        std::size_t epoch_id_ = 0;
        std::size_t b_ = 0;
    };

    /// The batches of one epoch, as returned by DataLoader::epoch().
    class Epoch {
    public:
        /// The first batch of this epoch.
        Iterator begin() const { return Iterator(loader_, id_); }
        /// The end of this epoch.
        Sentinel end() const { return {}; }
        /// Number of batches in this epoch.
        std::size_t size() const noexcept { return loader_->num_batches(); }

    private:
        friend class DataLoader;
        explicit Epoch(DataLoader* l) : loader_(l), id_(l->epoch_id_) {}
        DataLoader* loader_;
        std::size_t id_;
    };

private:
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);
    detail::HeldTensor<Tensor<X, XN>> features_;
    detail::HeldTensor<Tensor<Y, 1>> labels_;
    LoaderOptions opt_;
    std::mt19937_64 rng_;
    std::vector<std::size_t> order_;
    std::size_t row_ = 1;       // elements per example
    std::size_t epoch_id_ = 0;  // incremented by epoch(); iterators compare against it
    std::size_t filled_ = npos; // batch currently in a buffer (either full_ or tail_)
    batch_type full_, tail_;
};

/// `DataLoader loader(x, y, options)` deduces the element types and rank.
template <class X, std::size_t XN, class Y>
DataLoader(const Tensor<X, XN>&, const Tensor<Y, 1>&, LoaderOptions = {}) -> DataLoader<X, XN, Y>;

}  // namespace ctgrad::data
