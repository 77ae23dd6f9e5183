// dist::init() and the Environment guard: MPI_Init_thread / MPI_Finalize / MPI_Abort.
#include <ctgrad/dist/environment.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <ctgrad/dist/error.hpp>
#include <ctgrad/dist/world.hpp>

#include "mpi_check.hpp"

namespace ctgrad::dist {

namespace {
/// True if an MPI launcher started this process: mpirun/mpiexec (Open MPI, MPICH, Intel MPI) or
/// srun with PMI/PMIx set these variables.
bool started_by_launcher() {
    for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
        if (std::getenv(name)) return true;
    return false;
}
/// Number of processes the launcher started (1 if unknown).
[[maybe_unused]] long launched_processes() {
    for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
        if (const char* v = std::getenv(name)) return std::strtol(v, nullptr, 10);
    return 1;  // unknown (PMIx alone): do not refuse
}
}  // namespace

#ifdef CTGRAD_WITH_MPI

Environment init(int& argc, char**& argv) {
    int already = 0;
    MPI_Initialized(&already);
    if (already) {  // someone else owns MPI's lifetime; just make sure errors come back to us
        detail::check_mpi(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
        return Environment(false);
    }
    // Started without a launcher: one process. MPI's singleton start-up would cost about a second
    // (Open MPI 4) and buy nothing, so MPI stays uninitialised and dist:: describes rank 0 of 1.
    if (!started_by_launcher()) return Environment(false);
    int provided = 0;
    const int rc = MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS) throw Error(0, "MPI_Init_thread failed (error " + std::to_string(rc) + ")");
    Environment env(true);  // from here on, MPI_Finalize runs even if a check below throws
    detail::check_mpi(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    if (provided < MPI_THREAD_FUNNELED)
        throw Error(rank(), describe_rank() + ": MPI provides thread level " + std::to_string(provided) +
                                ", below MPI_THREAD_FUNNELED (OpenMP threads next to MPI)");
    return env;
}

Environment::~Environment() {
    if (!owner_) return;
    int fin = 0;
    MPI_Finalized(&fin);
    if (!fin) MPI_Finalize();
}

int Environment::finish(int status) noexcept {
    if (status == 0 || size() == 1) return status;
    std::fflush(stdout);
    std::fprintf(stderr, "%s: exit status %d; stopping all ranks\n", describe_rank().c_str(), status);
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, status);
    std::_Exit(status);  // MPI_Abort does not return; in case it does
}

#else

Environment init(int&, char**&) {
    if (const long n = launched_processes(); n > 1)
        throw Error(0, "ctgrad was built without MPI (meson -Dmpi=disabled, or MPI not found) but this is one of " +
                           std::to_string(n) +
                           " processes started by an MPI launcher: each would train alone. Rebuild with "
                           "-Dmpi=enabled (libopenmpi-dev) or run one process");
    return Environment(false);
}
Environment::~Environment() = default;
int Environment::finish(int status) noexcept { return status; }

#endif

}  // namespace ctgrad::dist
