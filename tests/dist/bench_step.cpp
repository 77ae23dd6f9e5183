// Data-parallel training-step throughput: LeNet or the dropout MLP on synthetic Fashion-MNIST-sized
// images, global batch B split over the ranks, GradientAllReduce before every SGD step. Prints (rank
// 0) images per second over all ranks and the time per step spent in the all-reduce (including the
// wait for the slower rank). Not a test: run it by hand, e.g.
//   OMP_NUM_THREADS=1 mpirun -np 2 build/tests/dist/bench_dist_step lenet 256 40
//   OMP_NUM_THREADS=2 build/tests/dist/bench_dist_step lenet 256 40
//   mpirun -np 2 build/tests/dist/bench_dist_step allreduce 0 200     (all-reduce time against size)
#include <algorithm>
#include <cstdio>
#include <vector>
#include <cstdlib>
#include <string>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/dist/dist.hpp>

using namespace ctgrad;

namespace {
template <class Net>
int run(Net& net, const char* name, std::size_t global, int steps) {
    const std::size_t ranks = std::size_t(dist::size()), r = std::size_t(dist::rank());
    const std::size_t local = global / ranks + (r < global % ranks ? 1 : 0);
    auto x = Tensor<float, 4>::from_shape({local, 1, 28, 28});
    auto y = Tensor<std::uint8_t, 1>::from_shape({local});
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = float((i * 7919 + r) % 256) / 255.f;
    for (std::size_t i = 0; i < local; ++i) y(i) = std::uint8_t((i + r) % 10);
    optim::Optimizer opt(net.parameters(), optim::SGD{}, sched::Constant{.lr = 0.01});
    dist::GradientAllReduce sync(net.parameters());
    auto step = [&] {
        backward(nn::cross_entropy(net(x), y));
        sync(local, global);
        opt.step();
    };
    for (int i = 0; i < 3; ++i) step();  // warm-up: scratch buffers, thread team, MPI connections
    sync.reset_timer();
    dist::barrier();
    const double t0 = dist::wall_time();
    for (int i = 0; i < steps; ++i) step();
    const double seconds = dist::wall_time() - t0;
    double comm[2] = {sync.seconds(), sync.seconds()};  // mean and max over ranks of the all-reduce time
    double worst = comm[1];
    dist::all_reduce(std::span<double>(comm, 1), dist::Reduce::mean);
    {
        // max = the slowest rank's time: gather by summing one-hot contributions
        std::vector<double> all(ranks, 0.0);
        all[r] = worst;
        dist::all_reduce(std::span<double>(all));
        for (double v : all) worst = std::max(worst, v);
    }
    const int threads = parallel::num_threads();
    if (dist::is_root())
        std::printf("%s ranks %zu threads/rank %d batch %zu steps %d: %.0f img/s, %.3f ms/step, all-reduce %.3f ms/step "
                    "(max rank %.3f), %zu bytes/step\n",
                    name, ranks, threads, global, steps, double(global) * steps / seconds, seconds / steps * 1e3,
                    comm[0] / steps * 1e3, worst / steps * 1e3, sync.bytes());
    return 0;
}
/// Time of one in-place all-reduce of n floats (median of `reps`, each after a barrier so that the
/// time is the transfer and reduction, not a wait for a late rank): the α-β fit of docs/distributed.md.
void sweep_all_reduce(int reps) {
    for (std::size_t n : {1ul, 256ul, 4096ul, 16384ul, 61706ul, 269322ul, 1048576ul}) {
        std::vector<float> buf(n, 1.f);
        std::vector<double> t;
        for (int i = 0; i < reps + 3; ++i) {
            dist::barrier();
            const double t0 = dist::wall_time();
            dist::all_reduce(std::span<float>(buf));
            if (i >= 3) t.push_back(dist::wall_time() - t0);
        }
        std::sort(t.begin(), t.end());
        double med = t.empty() ? 0 : t[t.size() / 2];
        dist::all_reduce(std::span<double>(&med, 1), dist::Reduce::mean);
        if (dist::is_root())
            std::printf("all-reduce ranks %d: %zu floats (%zu bytes): median %.1f us\n", dist::size(), n, n * 4, med * 1e6);
    }
}
}  // namespace

int main(int argc, char** argv) {
    auto env = dist::init(argc, argv);
    const std::string model = argc > 1 ? argv[1] : "lenet";
    const std::size_t batch = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 256;
    const int steps = argc > 3 ? std::atoi(argv[3]) : 40;
    nn::manual_seed(1);
    int status = 0;
    try {
        if (model == "allreduce") {
            sweep_all_reduce(steps);
        } else if (model == "lenet") {
            auto net = nn::lenet<float>();
            status = run(net, "lenet", batch, steps);
        } else {
            auto net = nn::dropout_mlp<float>();
            status = run(net, "mlp", batch, steps);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_dist_step: %s\n", e.what());
        status = 1;
    }
    return env.finish(status);
}
