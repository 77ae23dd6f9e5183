// A rank that dies (SIGKILL, as the kernel's OOM killer would) while the others wait for it in an
// all-reduce: the launcher must end the whole job with a non-zero status instead of hanging.
// Run by mpi_run.py --expect-fail under `mpirun -np 2` with a time limit: the test is that mpirun
// returns (non-zero) within seconds.
#include <csignal>
#include <cstdio>
#include <vector>

#include <ctgrad/dist/dist.hpp>

int main(int argc, char** argv) {
    auto env = ctgrad::dist::init(argc, argv);
    std::vector<float> g(1000, 1.f);
    ctgrad::dist::all_reduce(std::span<float>(g));  // everyone is up
    if (ctgrad::dist::rank() == 1) std::raise(SIGKILL);
    try {
        ctgrad::dist::all_reduce(std::span<float>(g));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return env.finish(1);
    }
    std::fprintf(stderr, "%s: the all-reduce returned although rank 1 died\n", ctgrad::dist::describe_rank().c_str());
    return 0;
}
