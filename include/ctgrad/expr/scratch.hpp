#pragma once
/// \file Caching pool for the intermediate buffers of expression nodes.
///
/// Boundary nodes (matmul, reductions, convolutions, ...) need buffers for their results and
/// gradients. A training loop builds the same graph every step, so the same sizes are requested
/// in the same order: a per-thread free list by power-of-two size class turns every request after
/// the first step into a pop, and a steady-state training step performs no heap allocation.
#include <cstddef>
#include <cstdlib>
#include <new>
#include <utility>
#include <vector>

namespace ctgrad {

namespace detail {
class ScratchPool {
public:
    static constexpr std::size_t kAlign = 64;
    static ScratchPool& local() {
        thread_local ScratchPool pool;
        return pool;
    }
    static std::size_t size_class(std::size_t bytes) {
        std::size_t c = 6;  // 64 bytes minimum
        while ((std::size_t{1} << c) < bytes) ++c;
        return c;
    }
    void* acquire(std::size_t cls) {
        auto& list = free_[cls];
        if (!list.empty()) {
            void* p = list.back();
            list.pop_back();
            return p;
        }
        void* p = ::operator new(std::size_t{1} << cls, std::align_val_t{kAlign});
        // Reserve room for the block's return now, so that release() never allocates.
        list.reserve(++outstanding_[cls]);
        return p;
    }
    void release(void* p, std::size_t cls) noexcept { free_[cls].push_back(p); }
    /// Out of line: expression nodes are moved several times while a graph is built, and their
    /// moved-from (empty) Scratch members must cost one test on destruction, not a call.
    [[gnu::noinline]] static void release_local(void* p, std::size_t cls) noexcept { local().release(p, cls); }
    /// Returns every cached block to the system (blocks in use are unaffected).
    void trim() noexcept {
        for (auto& list : free_) {
            for (void* p : list) ::operator delete(p, std::align_val_t{kAlign});
            list.clear();
        }
    }
    ~ScratchPool() { trim(); }

private:
    std::vector<void*> free_[64];
    std::size_t outstanding_[64] = {};
};
}  // namespace detail

/// Frees the memory cached by this thread's scratch pool.
inline void release_scratch_memory() { detail::ScratchPool::local().trim(); }

/// A buffer of n T's from the calling thread's scratch pool, returned to it on destruction.
/// Copying copies the contents into a new buffer.
template <class T>
class Scratch {
public:
    Scratch() = default;
    /// A buffer of n elements from the calling thread's pool.
    explicit Scratch(std::size_t n) { resize(n); }
    /// A new buffer holding a copy of the elements.
    Scratch(const Scratch& o) : Scratch(o.n_) {
        for (std::size_t i = 0; i < n_; ++i) p_[i] = o.p_[i];
    }
    /// Takes over the buffer.
    Scratch(Scratch&& o) noexcept : p_(o.p_), n_(o.n_), cls_(o.cls_) {
        o.p_ = nullptr;
        o.n_ = 0;
    }
    /// Copy-and-swap assignment.
    Scratch& operator=(Scratch o) noexcept {
        std::swap(p_, o.p_);
        std::swap(n_, o.n_);
        std::swap(cls_, o.cls_);
        return *this;
    }
    ~Scratch() {
        if (p_) detail::ScratchPool::release_local(p_, cls_);
    }

    /// Makes room for n elements; contents are unspecified after a change of size class.
    void resize(std::size_t n) {
        const std::size_t cls = detail::ScratchPool::size_class(n * sizeof(T));
        if (p_ && cls == cls_) {
            n_ = n;
            return;
        }
        free();
        p_ = static_cast<T*>(detail::ScratchPool::local().acquire(cls));
        cls_ = cls;
        n_ = n;
    }
    /// The elements.
    T* data() noexcept { return p_; }
    /// The elements.
    const T* data() const noexcept { return p_; }
    /// The number of elements.
    std::size_t size() const noexcept { return n_; }

private:
    void free() noexcept {
        if (p_) detail::ScratchPool::release_local(p_, cls_);
        p_ = nullptr;
        n_ = 0;
    }
    T* p_ = nullptr;
    std::size_t n_ = 0;
    std::size_t cls_ = 0;
};

}  // namespace ctgrad
