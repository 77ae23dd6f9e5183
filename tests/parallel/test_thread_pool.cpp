// parallel::for_each_chunk and the thread count: every chunk runs exactly once for any thread count
// and chunk count, per-thread state is made at most once per thread, nested loops run serially on
// the thread that starts them, an exception in a chunk reaches the caller and leaves the pool usable,
// loops started from two threads at once both complete, reductions in chunk order do not depend
// on the thread count, and the dynamic thread count leaves cores other processes keep busy to them.
#include <ctgrad/parallel/thread_pool.hpp>

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace ctgrad;

namespace {
// Restores the default thread count when a test ends, whatever it set.
struct DefaultThreads {
    ~DefaultThreads() { parallel::set_num_threads(0); }
};

// A chunk of work long enough that several threads get to take part.
double busy(std::size_t c) {
    double x = double(c);
    for (int i = 0; i < 2000; ++i) x = x * 0.999 + 1.0;
    return x;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(thread_pool)

BOOST_AUTO_TEST_CASE(every_chunk_runs_exactly_once) {
    DefaultThreads restore;
    for (int threads : {1, 2, 3, 4}) {
        parallel::set_num_threads(threads);
        BOOST_TEST(parallel::num_threads() == threads);
        for (std::size_t count : {0u, 1u, 2u, 3u, 7u, 64u, 1000u}) {
            std::vector<std::atomic<int>> runs(count);
            std::vector<double> out(count);
            parallel::for_each_chunk(count, [&](std::size_t c) {
                runs[c].fetch_add(1);
                out[c] = busy(c);
            });
            for (std::size_t c = 0; c < count; ++c)
                BOOST_TEST(runs[c].load() == 1, "threads " << threads << ", " << count << " chunks: chunk " << c
                                                           << " ran " << runs[c].load() << " times");
        }
    }
}

BOOST_AUTO_TEST_CASE(many_short_loops) {
    // Loops published in quick succession: a worker that wakes late must not claim a chunk of a later
    // loop with the description of an earlier one.
    DefaultThreads restore;
    parallel::set_num_threads(3);
    std::vector<int> hits(5);
    for (int loop = 0; loop < 20000; ++loop) {
        const std::size_t count = 2 + std::size_t(loop % 4);
        parallel::for_each_chunk(count, [&](std::size_t c) { ++hits[c]; });  // chunks write disjoint slots
    }
    int total = 0;
    for (int h : hits) total += h;
    BOOST_TEST(total == 20000 / 4 * (2 + 3 + 4 + 5));
    BOOST_TEST(hits[0] == 20000);
    BOOST_TEST(hits[4] == 20000 / 4);
}

BOOST_AUTO_TEST_CASE(state_is_made_once_per_participating_thread) {
    DefaultThreads restore;
    for (int threads : {1, 2, 3}) {
        parallel::set_num_threads(threads);
        std::atomic<int> made{0};
        std::mutex m;
        std::set<std::thread::id> ids;
        std::vector<int> owner(200, -1);
        parallel::for_each_chunk(
            owner.size(), [&] { return made.fetch_add(1); },
            [&](std::size_t c, int& state) {
                owner[c] = state;
                busy(c);
                std::lock_guard lock(m);
                ids.insert(std::this_thread::get_id());
            });
        BOOST_TEST(made.load() >= 1);
        BOOST_TEST(made.load() <= threads);
        BOOST_TEST(int(ids.size()) == made.load());  // one state per thread that ran chunks
        for (int o : owner) BOOST_TEST((o >= 0 && o < made.load()));
    }
}

BOOST_AUTO_TEST_CASE(one_thread_runs_on_the_caller_in_order) {
    DefaultThreads restore;
    parallel::set_num_threads(1);
    std::vector<std::size_t> order;
    std::vector<std::thread::id> who;
    parallel::for_each_chunk(50, [&](std::size_t c) {
        order.push_back(c);
        who.push_back(std::this_thread::get_id());
    });
    BOOST_TEST(order.size() == 50u);
    for (std::size_t c = 0; c < order.size(); ++c) {
        BOOST_TEST(order[c] == c);
        BOOST_TEST((who[c] == std::this_thread::get_id()));
    }
}

BOOST_AUTO_TEST_CASE(nested_loops_run_serially_on_the_chunk_thread) {
    DefaultThreads restore;
    parallel::set_num_threads(3);
    BOOST_TEST(!parallel::in_parallel());
    constexpr std::size_t outer = 16, inner = 9;
    std::vector<std::vector<std::size_t>> order(outer);
    std::vector<int> wrong_thread(outer, 0), flag(outer, 0);
    parallel::for_each_chunk(outer, [&](std::size_t o) {
        flag[o] = parallel::in_parallel() ? 1 : 0;
        const auto me = std::this_thread::get_id();
        parallel::for_each_chunk(inner, [&](std::size_t i) {
            order[o].push_back(i);  // unsynchronised: fine only if the inner loop is serial
            if (std::this_thread::get_id() != me) wrong_thread[o] = 1;
            busy(i);
        });
    });
    BOOST_TEST(!parallel::in_parallel());
    for (std::size_t o = 0; o < outer; ++o) {
        BOOST_TEST(flag[o] == 1);
        BOOST_TEST(wrong_thread[o] == 0);
        BOOST_TEST(order[o].size() == inner);
        for (std::size_t i = 0; i < order[o].size(); ++i) BOOST_TEST(order[o][i] == i);
    }
}

BOOST_AUTO_TEST_CASE(exception_from_a_chunk_reaches_the_caller) {
    DefaultThreads restore;
    for (int threads : {1, 2, 3}) {
        parallel::set_num_threads(threads);
        std::vector<std::atomic<int>> runs(100);
        bool caught = false;
        try {
            parallel::for_each_chunk(runs.size(), [&](std::size_t c) {
                runs[c].fetch_add(1);
                busy(c);
                if (c == 37) throw std::runtime_error("chunk 37 failed");
            });
        } catch (const std::runtime_error& e) {
            caught = std::strcmp(e.what(), "chunk 37 failed") == 0;
        }
        BOOST_TEST(caught, "threads " << threads);
        BOOST_TEST(runs[37].load() == 1);
        for (auto& r : runs) BOOST_TEST(r.load() <= 1);  // skipped chunks are not run later

        // A failing make_state is reported the same way.
        bool caught_make = false;
        try {
            parallel::for_each_chunk(
                10, []() -> int { throw std::logic_error("no state"); }, [](std::size_t, int&) {});
        } catch (const std::logic_error&) {
            caught_make = true;
        }
        BOOST_TEST(caught_make, "threads " << threads);

        // The pool is usable afterwards.
        std::vector<std::atomic<int>> again(64);
        parallel::for_each_chunk(again.size(), [&](std::size_t c) { again[c].fetch_add(1); });
        for (auto& r : again) BOOST_TEST(r.load() == 1);
    }
}

BOOST_AUTO_TEST_CASE(loops_from_two_threads_at_once) {
    // One of them may have to run serially (one loop uses the pool at a time); both must complete.
    DefaultThreads restore;
    parallel::set_num_threads(2);
    std::vector<std::atomic<int>> a(300), b(300);
    auto run = [](std::vector<std::atomic<int>>& v) {
        for (int rep = 0; rep < 50; ++rep) parallel::for_each_chunk(v.size(), [&](std::size_t c) {
            v[c].fetch_add(1);
            busy(c);
        });
    };
    std::thread other([&] { run(b); });
    run(a);
    other.join();
    for (auto& r : a) BOOST_TEST(r.load() == 50);
    for (auto& r : b) BOOST_TEST(r.load() == 50);
}

BOOST_AUTO_TEST_CASE(ordered_reduction_is_bit_identical_for_any_thread_count) {
    DefaultThreads restore;
    std::vector<float> x(100000);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = 1.0f / float(1 + i % 977) - 0.0007f * float(i % 13);
    constexpr std::size_t chunk = 1000;
    auto sum = [&] {
        std::vector<float> part(x.size() / chunk);
        parallel::for_each_chunk(part.size(), [&](std::size_t c) {
            float s = 0;
            for (std::size_t i = c * chunk; i < (c + 1) * chunk; ++i) s += x[i];
            part[c] = s;
        });
        float total = 0;
        for (float p : part) total += p;
        return total;
    };
    parallel::set_num_threads(1);
    const float one = sum();
    for (int threads : {2, 3, 4}) {
        parallel::set_num_threads(threads);
        for (int rep = 0; rep < 20; ++rep) {
            const float t = sum();
            BOOST_TEST(std::memcmp(&t, &one, sizeof t) == 0, "threads " << threads << ": " << t << " vs " << one);
        }
    }
}

BOOST_AUTO_TEST_CASE(thread_count_settings) {
    DefaultThreads restore;
    BOOST_TEST(parallel::available_cores() >= 1);
    parallel::set_num_threads(0);
    BOOST_TEST(parallel::num_threads() >= 1);
    parallel::set_num_threads(5);
    BOOST_TEST(parallel::num_threads() == 5);
    parallel::set_num_threads(-3);  // back to the default
    BOOST_TEST(parallel::num_threads() >= 1);
    // Changing the count between loops starts and stops workers; every loop still runs each chunk once.
    for (int threads : {4, 1, 3, 2, 1, 4}) {
        parallel::set_num_threads(threads);
        std::vector<std::atomic<int>> runs(40);
        std::mutex m;
        std::set<std::thread::id> ids;
        parallel::for_each_chunk(runs.size(), [&](std::size_t c) {
            runs[c].fetch_add(1);
            busy(c);
            std::lock_guard lock(m);
            ids.insert(std::this_thread::get_id());
        });
        for (auto& r : runs) BOOST_TEST(r.load() == 1);
        BOOST_TEST(int(ids.size()) <= threads);
    }
}

namespace {
// Processes that keep one core busy each until the object is destroyed.
class Competitors {
public:
    explicit Competitors(int n) {
        for (int i = 0; i < n; ++i) {
            const pid_t pid = fork();
            if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
                for (std::atomic<unsigned long> spins{0};;) spins.fetch_add(1, std::memory_order_relaxed);
            }
            if (pid > 0) pids_.push_back(pid);
        }
    }
    ~Competitors() {
        for (pid_t p : pids_) kill(p, SIGKILL);
        for (pid_t p : pids_) waitpid(p, nullptr, 0);
    }
    std::size_t size() const { return pids_.size(); }

private:
    std::vector<pid_t> pids_;
};

// Runs parallel loops for `ms` milliseconds (the pool measures the cores' load while it runs loops).
void run_loops_for(int ms) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    std::vector<double> out(64);
    while (std::chrono::steady_clock::now() < until)
        parallel::for_each_chunk(out.size(), [&](std::size_t c) { out[c] = busy(c); });
}

struct DynamicOn {
    DynamicOn() { parallel::set_dynamic(true); }
    ~DynamicOn() { parallel::set_dynamic(false); }  // tests/main.cpp's setting for the other tests
};
}  // namespace

BOOST_AUTO_TEST_CASE(dynamic_count_leaves_busy_cores_to_other_processes) {
    DefaultThreads restore;
    DynamicOn dynamic;
    const int cores = parallel::available_cores();
    parallel::set_num_threads(cores);
    BOOST_TEST(parallel::dynamic());
    BOOST_TEST(parallel::active_threads() >= 1);
    BOOST_TEST(parallel::active_threads() <= cores);
    if (cores < 2 || cores > 64) {
        BOOST_TEST_MESSAGE("the contention check needs 2-64 cores; this process may use " << cores);
        return;
    }
    {
        // All cores but one kept busy by other processes (a busier machine leaves even fewer free):
        // after a few measurement windows the loops run on the calling thread alone.
        Competitors others(cores - 1);
        BOOST_TEST(int(others.size()) == cores - 1);
        run_loops_for(600);
        BOOST_TEST(parallel::active_threads() == 1);
        BOOST_TEST(parallel::num_threads() == cores);  // the setting is unchanged
        std::mutex m;
        std::set<std::thread::id> ids;
        std::vector<double> out(64);
        parallel::for_each_chunk(out.size(), [&](std::size_t c) {
            out[c] = busy(c);
            std::lock_guard lock(m);
            ids.insert(std::this_thread::get_id());
        });
        BOOST_TEST(ids.size() == 1u);
        BOOST_TEST((*ids.begin() == std::this_thread::get_id()));

        // Turned off, loops may use every thread again whatever the load.
        parallel::set_dynamic(false);
        BOOST_TEST(!parallel::dynamic());
        BOOST_TEST(parallel::active_threads() == cores);
    }
}

BOOST_AUTO_TEST_SUITE_END()
