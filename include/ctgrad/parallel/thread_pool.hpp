#pragma once
/// \file ctgrad's own thread pool: how many threads the kernels use, and the one parallel loop they
/// run on (`parallel::for_each_chunk`).
///
/// Strategy (chosen for a machine shared with other processes, where any thread may be descheduled
/// at any moment):
/// - The calling thread works too. Work is cut into chunks whose boundaries depend on the problem
///   size only; the caller and the pool's workers claim chunks one at a time from an atomic counter.
/// - The caller never waits for a worker to arrive: a worker that is not running when a loop starts
///   simply claims nothing, and the caller does the chunks itself. At the end the caller waits only
///   for chunks another thread has already claimed, so a descheduled worker delays a loop by at most
///   the one chunk it holds. (A fork-join barrier, as in OpenMP's default, waits for every thread of
///   the team; with one core busy elsewhere that made 2 threads several times slower than 1.)
/// - Idle workers spin for about 50 µs (loops in a training step follow each other closely), then
///   poll for 2 ms more with sched_yield() between polls (awake for the next loop on an idle core,
///   yet giving the core to any competitor at every poll), then sleep on a futex and cost nothing. The caller, waiting for a claimed chunk,
///   spins about as long and then sleeps as well, so that a descheduled worker can take its core.
/// - Results do not depend on the thread count or on timing: a chunk's work is the same whoever runs
///   it, and callers that sum across chunks add the per-chunk partials in chunk order.
/// - A loop started inside a chunk (nested parallelism) runs serially on the thread running the
///   chunk; a loop started while another thread of the program is using the pool also runs serially.
/// - Dynamic thread count (set_dynamic, on by default; OpenMP calls the same idea OMP_DYNAMIC):
///   every 100 ms the pool measures how much CPU time other processes took on the cores this
///   process may use (the cores' busy time in /proc/stat minus this process's own CPU time), and
///   loops use only the cores left free, rounded to the nearest whole core, at least 1 and at most
///   num_threads(). A second thread on a core another process keeps busy gets a share of that core
///   and holds up every loop whose chunk it holds when it is descheduled; the serial parts of a
///   step then also compete with it (before this, with a `yes >/dev/null` beside it the dropout
///   MLP ran up to 9% slower on 2 threads than on 1). A program that is alone keeps all its threads.
#include <cstddef>
#include <exception>
#include <utility>

namespace ctgrad::parallel {

/// Sets the number of threads the kernels use, counting the calling thread (n >= 1; n <= 0 restores
/// the default). Takes effect at the next parallel loop; the workers are started or stopped then.
/// The default: $CTGRAD_NUM_THREADS, else $OMP_NUM_THREADS (kept for scripts written for the
/// OpenMP builds), else available_cores().
void set_num_threads(int n);

/// The number of threads a parallel loop started now may use (>= 1).
int num_threads();

/// The number of processors this process may run on (its CPU affinity mask).
int available_cores();

/// Turns the dynamic thread count on or off (see the file comment). Default: on, unless
/// $CTGRAD_DYNAMIC is 0. Off: loops always use num_threads() threads.
void set_dynamic(bool on);

/// True while the dynamic thread count is on.
bool dynamic();

/// The number of threads the next parallel loop started now will use: num_threads(), or fewer while
/// other processes keep cores busy and dynamic() is on (the last measurement; between 1 and
/// num_threads()).
int active_threads();

/// True on a thread that is running a chunk of a parallel loop (a loop started there runs serially).
bool in_parallel() noexcept;

namespace detail {
class Pool;
/// The chunks of one running loop, as seen by one participating thread. Not for direct use: see
/// for_each_chunk.
class ChunkClaims {
public:
    /// Claims the next chunk not yet claimed by any thread; false when there is none.
    bool claim(std::size_t& chunk) noexcept;
    /// Reports one chunk claimed by this thread as done (after the work and any per-thread state it
    /// used is gone: the loop's caller may return as soon as every claimed chunk is reported).
    void finished() noexcept;
    /// Records the exception thrown by a chunk (the first one is kept) and cancels the chunks that
    /// have not started.
    void fail(std::exception_ptr e) noexcept;
    /// True after a chunk failed: the remaining chunks are claimed and reported without running.
    bool cancelled() const noexcept;

private:
    friend class Pool;
    ChunkClaims(Pool* pool, unsigned gen, std::size_t count) noexcept : pool_(pool), gen_(gen), count_(count) {}
    Pool* pool_;           // null: serial loop on the calling thread
    unsigned gen_;         // the loop this view belongs to
    std::size_t count_;    // number of chunks
    std::size_t next_ = 0; // serial loop: the next chunk
    std::size_t first_ = std::size_t(-1);  // a chunk the pool claimed for this thread before the call
    std::exception_ptr error_{};           // serial loop: the first exception
    bool cancelled_ = false;               // serial loop
};

/// What each participating thread runs: claims chunks through `claims` until none is left.
using Participant = void (*)(void* context, ChunkClaims& claims);

/// Runs `participant` on the calling thread and on the pool's available workers, returns when every
/// chunk of [0, count) has been reported finished, then rethrows the first recorded exception.
void run_chunks(std::size_t count, Participant participant, void* context);
}  // namespace detail

/// Runs `body(chunk, state)` once for every chunk in [0, count), spread over the calling thread and
/// the pool's workers; returns when all have finished. Each thread that takes part calls
/// `make_state()` once, before its first chunk, and passes the result by reference to the chunks it
/// runs (per-thread scratch buffers); the state is destroyed before the loop returns.
///
/// Which thread runs which chunk, and in what order, is unspecified, so `body` must write disjoint
/// data per chunk; for a reduction give every chunk its own partial result and combine them in
/// chunk order after the loop (results are then bit-identical for any thread count).
///
/// If a chunk throws, chunks not yet started are skipped and the first exception is rethrown on the
/// calling thread once the chunks already running have finished.
template <class Make, class Body>
void for_each_chunk(std::size_t count, Make&& make_state, Body&& body) {
    struct Context {
        Make& make;
        Body& body;
    } context{make_state, body};
    detail::run_chunks(
        count,
        [](void* p, detail::ChunkClaims& claims) {
            auto& cx = *static_cast<Context*>(p);
            std::size_t c;
            if (!claims.claim(c)) return;
            bool failed = false;
            try {
                auto state = cx.make();
                for (;;) {
                    if (!claims.cancelled()) cx.body(c, state);
                    std::size_t next;
                    if (!claims.claim(next)) break;
                    claims.finished();
                    c = next;
                }
            } catch (...) {
                claims.fail(std::current_exception());
                failed = true;
            }
            if (failed)  // skip the rest rather than leave them unclaimed
                for (std::size_t rest; claims.claim(rest);) claims.finished();
            claims.finished();  // the last chunk, reported after the state is gone
        },
        &context);
}

/// Runs `body(chunk)` once for every chunk in [0, count); see the three-argument form.
template <class Body>
void for_each_chunk(std::size_t count, Body&& body) {
    struct None {};
    for_each_chunk(count, [] { return None{}; }, [&body](std::size_t c, None&) { body(c); });
}

}  // namespace ctgrad::parallel
