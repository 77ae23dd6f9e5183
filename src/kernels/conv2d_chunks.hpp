#pragma once
// How the convolution kernels spread a batch over threads (parallel::for_each_chunk), in one place:
// the chunks, the per-thread scratch buffers and the reduction of per-image contributions (weight
// and bias gradients). Private to src/kernels.
//
// Determinism: the batch is cut into chunks whose boundaries depend on the batch size only (never on
// the thread count). Outputs written per image (y, dx) do not depend on which thread computes them.
// Sums over images (dw, db) are accumulated per chunk, in image order, into that chunk's own partial
// buffer, and the partials are then added in chunk order by the calling thread; so the results are
// bit-identical for any thread count and any timing.
#include <ctgrad/expr/scratch.hpp>
#include <ctgrad/parallel/thread_pool.hpp>

#include <algorithm>
#include <cstddef>

namespace ctgrad::kernels::detail {

// At most kMaxChunks chunks of equal size (the last may be shorter). Threads claim chunks one at a
// time: when the other engineers' jobs deschedule one of our threads, the others take over the
// chunks it has not claimed, and the caller waits at most for the one it holds. 32 chunks keep that
// balancing fine-grained for up to a few threads while bounding the memory of the per-chunk partial
// sums (32 copies of dw).
struct Chunks {
    static constexpr std::size_t kMaxChunks = 32;
    std::size_t count, size;
    explicit Chunks(std::size_t batch)
        : count(std::min(batch, kMaxChunks)), size(count ? (batch + count - 1) / count : 0) {
        if (size) count = (batch + size - 1) / size;
    }
    std::size_t begin(std::size_t c) const { return c * size; }
    std::size_t end(std::size_t c, std::size_t batch) const { return std::min(batch, (c + 1) * size); }
};

// body(n, scratch) for every image n < batch. make_scratch() runs once per participating thread and
// returns that thread's buffers (its value is passed to body by reference).
template <class Make, class Body>
void for_each_image(std::size_t batch, Make make_scratch, Body body) {
    const Chunks ch(batch);
    parallel::for_each_chunk(ch.count, make_scratch, [&](std::size_t c, auto& scratch) {
        for (std::size_t n = ch.begin(c); n < ch.end(c, batch); ++n) body(n, scratch);
    });
}

// The ordered reduction: body(n, scratch, part) adds image n's contribution into part, its chunk's
// partial buffer of part_size T's (zeroed before the first image of the chunk); afterwards
// combine(part) is called for the chunks' partials in chunk order, on the calling thread.
template <class T, class Make, class Body, class Combine>
void reduce_over_images(std::size_t batch, std::size_t part_size, Make make_scratch, Body body, Combine combine) {
    const Chunks ch(batch);
    Scratch<T> part(ch.count * part_size);
    parallel::for_each_chunk(ch.count, make_scratch, [&](std::size_t c, auto& scratch) {
        T* p = part.data() + c * part_size;
        std::fill(p, p + part_size, T(0));  // first touched by the thread that uses it
        for (std::size_t n = ch.begin(c); n < ch.end(c, batch); ++n) body(n, scratch, p);
    });
    for (std::size_t c = 0; c < ch.count; ++c) combine(static_cast<const T*>(part.data() + c * part_size));
}

}  // namespace ctgrad::kernels::detail
