// The thread pool behind parallel::for_each_chunk (the strategy is described in
// include/ctgrad/parallel/thread_pool.hpp).
//
// One loop runs at a time. Its chunks are claimed with a compare-and-swap on one 64-bit word holding
// (loop generation << 32 | next chunk): a thread that read the word of an earlier loop cannot claim
// a chunk of a later one, so the loop's description (count, participant, context) needs no lock.
// The caller publishes a loop, takes part in it, then waits until `done` reaches the chunk count;
// it never waits for a worker that has claimed nothing.
#include <ctgrad/parallel/thread_pool.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace ctgrad::parallel {
namespace {

thread_local bool t_in_parallel = false;

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#endif
}

// Sleeps while `word` holds `seen` (a spurious return is possible; callers re-check), and wakes all
// sleepers of `word`. Linux: the futex system call itself, so that the spinning before it is only
// the one chosen here (libstdc++'s std::atomic::wait adds its own spin and sched_yield calls);
// elsewhere std::atomic::wait/notify.
void sleep_while(std::atomic<std::uint32_t>& word, std::uint32_t seen) noexcept {
#if defined(__linux__)
    static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, seen, nullptr, nullptr, 0);
#else
    word.wait(seen, std::memory_order_seq_cst);
#endif
}
void wake_all(std::atomic<std::uint32_t>& word) noexcept {
#if defined(__linux__)
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, 0x7fffffff, nullptr, nullptr, 0);
#else
    word.notify_all();
#endif
}

// How long a thread spins before it sleeps: idle workers (the next loop of a training step usually
// follows within tens of microseconds) and a caller waiting for a chunk another thread holds.
// Short enough that a competing process, or a descheduled thread of ours, gets the core back soon.
constexpr auto kSpin = std::chrono::microseconds(50);

// After the spin, an idle worker keeps polling for this long, yielding its core between polls: on
// an otherwise idle core it stays awake for the next loop of a training step (waking from a futex
// costs tens of microseconds per loop, which made 2 threads ~30% slower than OpenMP's long spin on a
// quiet machine), while a runnable competitor on that core gets it back at every poll.
constexpr auto kYieldingPoll = std::chrono::milliseconds(2);

// Polls pred() with sched_yield() in between for up to kYieldingPoll; returns pred().
template <class Pred>
bool poll_yielding(Pred pred) noexcept {
    const auto until = std::chrono::steady_clock::now() + kYieldingPoll;
    for (;;) {
        if (pred()) return true;
        if (std::chrono::steady_clock::now() >= until) return pred();
        sched_yield();
    }
}

// Spins until pred() holds or kSpin has passed; returns pred().
template <class Pred>
bool spin_until(Pred pred) noexcept {
    if (pred()) return true;
    const auto until = std::chrono::steady_clock::now() + kSpin;
    for (;;) {
        for (int i = 0; i < 32; ++i) {
            if (pred()) return true;
            cpu_relax();
        }
        if (std::chrono::steady_clock::now() >= until) return pred();
    }
}

int parse_count(const char* text) {
    if (!text) return 0;
    int v = 0;
    const char* end = text + std::strlen(text);
    const auto [p, ec] = std::from_chars(text, end, v);
    // OMP_NUM_THREADS may be a list ("4,2" for nested levels): the first entry is the one that applies.
    if (ec != std::errc() || v < 1 || (p != end && *p != ',')) return 0;
    return v;
}

int default_threads() {
    if (int n = parse_count(std::getenv("CTGRAD_NUM_THREADS"))) return n;
    if (int n = parse_count(std::getenv("OMP_NUM_THREADS"))) return n;
    return available_cores();
}

std::atomic<int> g_wanted{0};  // set_num_threads; 0: default_threads()
std::atomic<int> g_dynamic{-1};  // set_dynamic; -1: not set, $CTGRAD_DYNAMIC decides

// --- The dynamic thread count: how many of this process's cores other processes leave free.

// How often the cores' load is measured: long enough for /proc/stat's 10 ms ticks to average out,
// short enough to follow a competitor that starts or stops within a fraction of a second.
constexpr auto kLoadWindow = std::chrono::milliseconds(100);

// The cores' busy time and this process's CPU time at one moment.
struct LoadSample {
    bool ok = false;
    std::chrono::steady_clock::time_point when;
    double busy_s = 0;  // busy time of the CPUs in the affinity mask, summed
    double own_s = 0;   // this process's CPU time (all its threads)
    int cores = 0;      // CPUs in the affinity mask
};

#if defined(__linux__)
// Reads the sample from /proc/stat (busy = user + nice + system + irq + softirq + steal of each
// allowed CPU) and CLOCK_PROCESS_CPUTIME_ID. No allocation: the per-CPU lines come first in
// /proc/stat and are parsed from a fixed buffer as they are read.
LoadSample read_load() {
    LoadSample out;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return out;
    static const long hz = sysconf(_SC_CLK_TCK);
    timespec own{};
    if (hz <= 0 || clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &own) != 0) return out;
    const int fd = ::open("/proc/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return out;
    char buf[4096];
    std::size_t have = 0;
    unsigned long long ticks = 0;
    int cores = 0;
    bool done = false;
    while (!done) {
        const ssize_t n = ::read(fd, buf + have, sizeof buf - have);
        if (n <= 0) break;
        have += std::size_t(n);
        std::size_t pos = 0;
        for (;;) {
            const char* line = buf + pos;
            const char* nl = static_cast<const char*>(std::memchr(line, '\n', have - pos));
            if (!nl) break;
            pos = std::size_t(nl - buf) + 1;
            // "cpu" alone is the total; "cpuN" one CPU; the first other line ends the CPU lines.
            if (nl - line < 4 || std::memcmp(line, "cpu", 3) != 0) { done = true; break; }
            if (line[3] < '0' || line[3] > '9') continue;
            const char* p = line + 3;
            unsigned cpu = 0;
            auto [q, ec] = std::from_chars(p, nl, cpu);
            if (ec != std::errc() || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &set)) continue;
            unsigned long long f[8] = {};
            for (int i = 0; i < 8 && q < nl; ++i) {
                while (q < nl && *q == ' ') ++q;
                q = std::from_chars(q, nl, f[i]).ptr;
            }
            ticks += f[0] + f[1] + f[2] + f[5] + f[6] + f[7];  // not idle (3) or iowait (4)
            ++cores;
        }
        std::memmove(buf, buf + pos, have - pos);  // a line cut by the read: kept for the next one
        have -= pos;
        if (have == sizeof buf) break;  // a line longer than the buffer: not a CPU line
    }
    ::close(fd);
    if (cores == 0) return out;
    out.ok = true;
    out.when = std::chrono::steady_clock::now();
    out.busy_s = double(ticks) / double(hz);
    out.own_s = double(own.tv_sec) + 1e-9 * double(own.tv_nsec);
    out.cores = cores;
    return out;
}
#else
LoadSample read_load() { return {}; }
#endif

// The number of threads loops may use: updated at most once per kLoadWindow by the thread that
// holds the pool (so one at a time), read by active_threads() from any thread.
class CoreLoad {
public:
    int usable(int wanted) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= next_) {
            next_ = now + kLoadWindow;
            const LoadSample s = read_load();
            if (s.ok && last_.ok && s.cores == last_.cores) {
                const double wall = std::chrono::duration<double>(s.when - last_.when).count();
                // Cores' busy time not spent by this process, as a number of cores.
                const double others = std::max(0.0, ((s.busy_s - last_.busy_s) - (s.own_s - last_.own_s)) / wall);
                free_.store(std::max(1, int(std::lround(double(s.cores) - others))), std::memory_order_relaxed);
            } else if (!s.ok) {
                free_.store(INT_MAX, std::memory_order_relaxed);  // cannot tell: use every thread
            }
            last_ = s;
        }
        return std::min(wanted, free_.load(std::memory_order_relaxed));
    }
    int last() const noexcept { return free_.load(std::memory_order_relaxed); }

private:
    std::chrono::steady_clock::time_point next_{};
    LoadSample last_{};
    std::atomic<int> free_{INT_MAX};  // INT_MAX until the first window is measured
};

}  // namespace

namespace detail {

class Pool {
public:
    static Pool& instance() {
        static Pool pool;
        return pool;
    }
    ~Pool() { resize(0); }

    void run(std::size_t count, Participant participant, void* context) {
        if (count == 0) return;
        const int wanted = num_threads();
        if (count == 1 || wanted <= 1 || t_in_parallel || count >= 0xffffffffu || busy_.test_and_set(std::memory_order_acquire))
            return run_serial(count, participant, context);
        struct Release {
            std::atomic_flag& f;
            ~Release() { f.clear(std::memory_order_release); }
        } release{busy_};
        const int threads = dynamic() ? load_.usable(wanted) : wanted;
        if (threads <= 1) return run_serial(count, participant, context);  // idle workers go to sleep
        // The workers exist for num_threads(); the dynamic count only limits how many take part, so
        // that a changing load does not start and stop threads.
        resize(std::size_t(wanted) - 1);
        taking_part_.store(threads - 1, std::memory_order_relaxed);

        // Publish the loop. First the state word takes the new generation with no chunk to claim:
        // a worker that read the previous loop's word and then this loop's count must fail its
        // compare-and-swap (it read count_ with acquire, so it sees at least this closed word). Then
        // the fields, then the word that opens the loop (release: a worker that claims from it reads
        // current fields).
        const std::uint32_t gen = ++gen_;
        state_.store(std::uint64_t(gen) << 32 | 0xffffffffu, std::memory_order_seq_cst);
        count_.store(count, std::memory_order_release);
        participant_.store(participant, std::memory_order_relaxed);
        context_.store(context, std::memory_order_relaxed);
        done_.store(0, std::memory_order_relaxed);
        cancelled_.store(false, std::memory_order_relaxed);
        error_ = nullptr;
        error_set_.store(false, std::memory_order_relaxed);
        state_.store(std::uint64_t(gen) << 32, std::memory_order_release);
        wake_.fetch_add(1, std::memory_order_seq_cst);
        if (sleepers_.load(std::memory_order_seq_cst) > 0) wake_all(wake_);

        t_in_parallel = true;
        ChunkClaims claims(this, gen, count);
        participant(context, claims);
        wait_done(count);
        t_in_parallel = false;
        if (error_set_.load(std::memory_order_acquire)) {
            std::exception_ptr e = std::move(error_);
            error_ = nullptr;
            std::rethrow_exception(e);
        }
    }

    bool claim(ChunkClaims& c, std::size_t& chunk) noexcept {
        std::uint64_t v = state_.load(std::memory_order_acquire);
        for (;;) {
            if (std::uint32_t(v >> 32) != c.gen_ || (v & 0xffffffffu) >= c.count_) return false;
            if (state_.compare_exchange_weak(v, v + 1, std::memory_order_acquire, std::memory_order_acquire)) {
                chunk = std::size_t(v & 0xffffffffu);
                return true;
            }
        }
    }
    void finished(const ChunkClaims& c) noexcept {
        const std::size_t d = std::size_t(done_.fetch_add(1, std::memory_order_seq_cst)) + 1;
        if (d == c.count_ && caller_sleeping_.load(std::memory_order_seq_cst)) wake_all(done_);
    }
    void fail(std::exception_ptr e) noexcept {
        cancelled_.store(true, std::memory_order_relaxed);
        // The caller reads error_ after every chunk is reported finished (release/acquire on done_).
        if (!error_set_.exchange(true, std::memory_order_acq_rel)) error_ = std::move(e);
    }
    bool cancelled() const noexcept { return cancelled_.load(std::memory_order_relaxed); }

private:
    Pool() = default;

    static void run_serial(std::size_t count, Participant participant, void* context) {
        const bool outer = t_in_parallel;
        t_in_parallel = true;
        ChunkClaims claims(nullptr, 0, count);
        participant(context, claims);
        t_in_parallel = outer;
        if (claims.error_) std::rethrow_exception(claims.error_);
    }

    void wait_done(std::size_t count) noexcept {
        if (spin_until([&] { return done_.load(std::memory_order_acquire) >= count; })) return;
        caller_sleeping_.store(true, std::memory_order_seq_cst);
        for (std::uint32_t d; (d = done_.load(std::memory_order_seq_cst)) < count;) sleep_while(done_, d);
        caller_sleeping_.store(false, std::memory_order_relaxed);
    }

    // Starts or stops workers so that `n` exist. Called with busy_ held (or from the destructor), so
    // no loop is running; a worker may still be leaving the previous one, which join() waits for.
    void resize(std::size_t n) {
        if (workers_.size() == n) return;
        if (!workers_.empty()) {
            stop_.store(true, std::memory_order_seq_cst);
            wake_.fetch_add(1, std::memory_order_seq_cst);
            wake_all(wake_);
            for (auto& w : workers_) w.join();
            workers_.clear();
            stop_.store(false, std::memory_order_relaxed);
        }
        // A new worker starts from the wake-up count of now: read in the thread, a stop signal sent
        // before the thread first ran would be taken for the state to wait on, and join() would hang.
        const std::uint32_t seen = wake_.load(std::memory_order_seq_cst);
        workers_.reserve(n);
        for (std::size_t i = 0; i < n; ++i) workers_.emplace_back([this, seen, i] { work(int(i), seen); });
    }

    void work(int index, std::uint32_t seen) {
        t_in_parallel = true;  // loops started inside a chunk run serially
        for (;;) {
            const auto woken = [&] { return wake_.load(std::memory_order_acquire) != seen; };
            if (!spin_until(woken) && !poll_yielding(woken)) {
                sleepers_.fetch_add(1, std::memory_order_seq_cst);
                while (wake_.load(std::memory_order_seq_cst) == seen) sleep_while(wake_, seen);
                sleepers_.fetch_sub(1, std::memory_order_relaxed);
            }
            seen = wake_.load(std::memory_order_acquire);
            if (stop_.load(std::memory_order_acquire)) return;
            // Workers past the dynamic count sit this loop out (a value read from a later loop
            // only makes a worker skip or join one loop it would not have: chunks are claimed, so
            // every one still runs exactly once).
            if (index >= taking_part_.load(std::memory_order_relaxed)) continue;
            // Join the current loop if it still has chunks. If another loop is published meanwhile,
            // the word's generation changes before its count does, so the claim below fails (the
            // count read may be newer than the word, never older) and the worker waits again.
            const std::uint64_t v = state_.load(std::memory_order_acquire);
            ChunkClaims claims(this, std::uint32_t(v >> 32), count_.load(std::memory_order_acquire));
            std::size_t first;
            if (!claim(claims, first)) continue;
            // The claim succeeded, so the loop is the one whose fields were published before its
            // state: they are current.
            claims.first_ = first;
            participant_.load(std::memory_order_relaxed)(context_.load(std::memory_order_relaxed), claims);
        }
    }

    alignas(64) std::atomic<std::uint64_t> state_{0};  // generation << 32 | next unclaimed chunk
    alignas(64) std::atomic<std::uint32_t> done_{0};    // chunks reported finished (a futex word)
    std::atomic<bool> caller_sleeping_{false};
    alignas(64) std::atomic<std::uint32_t> wake_{0};    // bumped for every loop and for stop
    std::atomic<int> sleepers_{0};
    std::atomic<bool> stop_{false};
    std::atomic<std::size_t> count_{0};
    std::atomic<Participant> participant_{nullptr};
    std::atomic<void*> context_{nullptr};
    std::atomic<bool> cancelled_{false};
    std::atomic<bool> error_set_{false};
    std::exception_ptr error_{};
    std::atomic<int> taking_part_{0};  // workers that join the current loop (dynamic count)
    std::uint32_t gen_ = 0;  // written by the thread holding busy_
    CoreLoad load_;          // used by the thread holding busy_
    std::atomic_flag busy_ = ATOMIC_FLAG_INIT;
    std::vector<std::thread> workers_;

    friend int ctgrad::parallel::active_threads();
};

bool ChunkClaims::claim(std::size_t& chunk) noexcept {
    if (first_ != std::size_t(-1)) {
        chunk = first_;
        first_ = std::size_t(-1);
        return true;
    }
    if (pool_) return pool_->claim(*this, chunk);
    if (next_ >= count_) return false;
    chunk = next_++;
    return true;
}
void ChunkClaims::finished() noexcept {
    if (pool_) pool_->finished(*this);
}
void ChunkClaims::fail(std::exception_ptr e) noexcept {
    if (pool_) return pool_->fail(std::move(e));
    if (!error_) error_ = std::move(e);
    cancelled_ = true;
}
bool ChunkClaims::cancelled() const noexcept { return pool_ ? pool_->cancelled() : cancelled_; }

void run_chunks(std::size_t count, Participant participant, void* context) {
    Pool::instance().run(count, participant, context);
}

}  // namespace detail

void set_num_threads(int n) { g_wanted.store(n > 0 ? n : 0, std::memory_order_relaxed); }

int num_threads() {
    const int n = g_wanted.load(std::memory_order_relaxed);
    if (n > 0) return n;
    static const int fallback = default_threads();
    return fallback;
}

int available_cores() {
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        const int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
#endif
    return std::max(1u, std::thread::hardware_concurrency());
}

bool in_parallel() noexcept { return t_in_parallel; }

void set_dynamic(bool on) { g_dynamic.store(on ? 1 : 0, std::memory_order_relaxed); }

bool dynamic() {
    const int d = g_dynamic.load(std::memory_order_relaxed);
    if (d >= 0) return d == 1;
    static const bool from_env = [] {
        const char* v = std::getenv("CTGRAD_DYNAMIC");
        return !(v && std::strcmp(v, "0") == 0);
    }();
    return from_env;
}

int active_threads() {
    const int n = num_threads();
    if (n <= 1 || !dynamic()) return n;
    return std::min(n, detail::Pool::instance().load_.last());
}

}  // namespace ctgrad::parallel
