#pragma once
// What the example trainers need to run unchanged under `mpirun -np N` (ctgrad::dist; without MPI
// everything below describes one process): main() that brings MPI up and stops every rank when one
// fails, this rank's DataLoader shard, epoch figures summed over the ranks, and the process layout
// for summary.json. Only rank 0 prints, plots and writes files; the trainers test dist::is_root().
#include <cstdio>
#include <optional>
#include <span>
#include <utility>

#include <ctgrad/data/data_loader.hpp>
#include <ctgrad/dist/dist.hpp>
#include <ctgrad/parallel/thread_pool.hpp>
#include <ctgrad/train/metrics.hpp>
#include <ctgrad/train/run_main.hpp>
#include <ctgrad/train/summary.hpp>

namespace example {

/// train::run_main() inside an MPI session: a non-zero exit status on any rank (after run_main has
/// printed the message) ends the whole job with that status, naming the rank (dist::Environment::finish).
template <class F>
int run_main_distributed(int argc, char** argv, F&& body) {
    std::optional<ctgrad::dist::Environment> env;
    try {
        env.emplace(ctgrad::dist::init(argc, argv));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: error: %s\n", argc > 0 ? argv[0] : "ctgrad", e.what());
        return ctgrad::train::exit_code::failure;
    }
    return env->finish(ctgrad::train::run_main(argc, argv, std::forward<F>(body)));
}

/// This rank's share of every batch (LoaderOptions::shard).
inline ctgrad::data::Shard shard() {
    return {std::size_t(ctgrad::dist::rank()), std::size_t(ctgrad::dist::size())};
}

/// Sums an epoch's loss, correct predictions and examples over the ranks (each rank saw its shard),
/// so every rank holds the figures of the whole epoch. Doubles hold the counts exactly (< 2^53).
inline void reduce_over_ranks(ctgrad::train::EpochStats& s) {
    double v[3] = {s.loss_sum, double(s.correct), double(s.examples)};
    ctgrad::dist::all_reduce(std::span<double>(v, 3));
    s.loss_sum = v[0];
    s.correct = std::size_t(v[1]);
    s.examples = std::size_t(v[2]);
}

/// Threads each rank computes with (--threads is per rank).
inline int threads_per_rank() { return ctgrad::parallel::num_threads(); }

/// summary.json's description of the process layout and the communication per step.
template <class Sync>
void describe_layout(ctgrad::train::Summary& s, const Sync& sync) {
    s["ranks"] = ctgrad::dist::size();
    s["threads_per_rank"] = threads_per_rank();
    s["allreduce_bytes_per_step"] = ctgrad::dist::size() > 1 ? sync.bytes() : 0;
    s["allreduce_ms_per_step"] = sync.calls() ? sync.seconds() / double(sync.calls()) * 1e3 : 0.0;
}

}  // namespace example
