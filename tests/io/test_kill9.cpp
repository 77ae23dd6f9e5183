// A real kill -9 during checkpoint writes: a forked child rewrites a checkpoint in a loop (the
// weights of every version hold the version number); the parent kills it with SIGKILL after a
// varying delay, then reads the checkpoint. Every time it must load completely, all parameters from
// one version, never older than the last version seen; then the run folder is opened as a trainer
// would, which removes the killed writes' temporary files.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <random>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn/models.hpp>
#include <ctgrad/optim/optimizer.hpp>
#include <ctgrad/sched/schedules.hpp>
#include <ctgrad/train/checkpoint.hpp>
#include <ctgrad/train/run_dir.hpp>

using namespace ctgrad;
namespace fs = std::filesystem;

namespace {
/// Sets every parameter (and the optimizer's state) to `v`.
template <class Net, class Opt>
void fill(Net& net, Opt& opt, float v) {
    nn::for_each_state(net, [&](const std::string&, auto& p, bool) { std::fill(p.value().begin(), p.value().end(), v); });
    boost::hana::for_each(opt.state(), [&](auto& slots) {
        for (auto& s : slots) std::fill(s.begin(), s.end(), v);
    });
    opt.set_update_count(std::size_t(v));
}

[[noreturn]] void child(const fs::path& file, float first_version) {
    auto net = nn::lenet<float>();
    optim::Optimizer opt(net.parameters(), optim::Adam{}, sched::Constant{.lr = 0.1});
    for (float version = first_version;; ++version) {
        fill(net, opt, version);
        train::Checkpoint c;
        c.add_model(net);
        c.add_optimizer(opt);
        c.meta["version"] = version;
        c.save(file);
    }
}
}  // namespace

BOOST_AUTO_TEST_SUITE(kill9)

BOOST_AUTO_TEST_CASE(kill9_during_checkpoint_writes) {
    std::string t = (fs::temp_directory_path() / "ctgrad-kill9-XXXXXX").string();
    const fs::path dir = ::mkdtemp(t.data());
    const fs::path file = dir / "checkpoint.npz";
    std::mt19937 rng(7);
    // A write (LeNet, Adam's two state tensors, fsync twice) takes from a few to tens of milliseconds
    // here, so kills land before, inside and between writes.
    std::uniform_int_distribution<int> delay_us(0, 150000);
    float last = 0;
    int advanced = 0;
    constexpr int rounds = 50;
    for (int round = 0; round < rounds; ++round) {
        std::fflush(nullptr);
        const pid_t pid = fork();
        BOOST_REQUIRE(pid >= 0);
        if (pid == 0) child(file, float(round * 1000 + 1));
        // The first round waits for one complete version, however slow the build (a sanitizer build
        // on a loaded machine took more than 200 ms for it), so every round has a checkpoint to load.
        if (round == 0) {
            const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
            while (!fs::exists(file) && std::chrono::steady_clock::now() < give_up)
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        std::this_thread::sleep_for(std::chrono::microseconds(delay_us(rng)));
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        BOOST_REQUIRE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        BOOST_REQUIRE_MESSAGE(fs::exists(file), "round " << round << ": no checkpoint after 60 s of writing");
        const auto c = train::Checkpoint::read(file);  // must never throw
        auto net = nn::lenet<float>();
        optim::Optimizer opt(net.parameters(), optim::Adam{}, sched::Constant{.lr = 0.1});
        c.restore_model(net);
        c.restore_optimizer(opt);
        const float v = c.meta["version"].get<float>();
        bool same = opt.update_count() == std::size_t(v);
        nn::for_each_state(net, [&](const std::string&, auto& p, bool) {
            for (float x : p.value()) same &= x == v;
        });
        boost::hana::for_each(opt.state(), [&](auto& slots) {
            for (auto& s : slots)
                for (float x : s) same &= x == v;
        });
        BOOST_TEST(same, "round " << round << ": a checkpoint mixes versions (meta says " << v << ")");
        BOOST_TEST(v >= last, "round " << round << ": version " << v << " after " << last);
        advanced += v > last;
        last = v;
    }
    BOOST_TEST_MESSAGE("all " << rounds << " kills left a loadable checkpoint; the last version was " << last << ", "
                              << advanced << " rounds got further");
    BOOST_TEST(advanced > 5);
    // Killed writes leave temporary files; opening the run folder removes them, keeps the checkpoint.
    { train::RunDir open(dir, /*resume=*/true); }
    for (const auto& e : fs::directory_iterator(dir)) {
        const auto name = e.path().filename().string();
        BOOST_TEST((name == "checkpoint.npz" || name == ".lock"), "left over: " << name);
    }
    fs::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()
