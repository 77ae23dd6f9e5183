#pragma once
/// \file dist::init() and dist::Environment: MPI's lifetime as an RAII object.
///
///     int main(int argc, char** argv) {
///         auto env = ctgrad::dist::init(argc, argv);          // MPI_Init_thread(FUNNELED)
///         const int status = run_training();                  // dist::rank(), dist::size() ...
///         return env.finish(status);                          // non-zero on one rank stops all ranks
///     }                                                       // ~Environment: MPI_Finalize
///
/// Threads: MPI is initialised with MPI_THREAD_FUNNELED — OpenMP threads compute, only the main
/// thread calls ctgrad::dist (all dist:: functions are to be called from the thread that called
/// init()).
namespace ctgrad::dist {

/// Owns the MPI session: MPI_Finalize runs when it is destroyed. Move-only; obtained from init().
/// Built without MPI it does nothing, except that init() refuses to run as one of several
/// processes launched by mpirun (OMPI_COMM_WORLD_SIZE, PMI_SIZE > 1): every process would think it is
/// rank 0 and train alone.
class Environment {
public:
    /// Takes over the session from `other`, which no longer finalizes MPI.
    Environment(Environment&& other) noexcept : owner_(other.owner_) { other.owner_ = false; }
    Environment& operator=(Environment&&) = delete;
    Environment(const Environment&) = delete;
    Environment& operator=(const Environment&) = delete;
    /// MPI_Finalize (if this object initialised MPI and MPI is not finalised yet).
    ~Environment();

    /// Ends the job consistently with the exit status `status` of this rank and returns it:
    /// 0, or a single process: returns `status` (MPI_Finalize follows in the destructor).
    /// Non-zero with several ranks: prints `rank R of N: exit status S; stopping all ranks` to
    /// stderr and calls MPI_Abort(status), which ends every rank of the job (mpirun exits non-zero)
    /// — the other ranks may be waiting in a collective call for this one, so finalising would hang.
    int finish(int status) noexcept;

private:
    friend Environment init(int& argc, char**& argv);
    explicit Environment(bool owner) noexcept : owner_(owner) {}
    bool owner_;
};

/// Initialises MPI (MPI_Init_thread with MPI_THREAD_FUNNELED) unless it already is, and sets
/// MPI_ERRORS_RETURN on the communicator (MPI failures become dist::Error exceptions). Call once,
/// first thing in main(), and keep the result alive until the end. A program started without an MPI
/// launcher (no mpirun/mpiexec/srun variables OMPI_COMM_WORLD_SIZE, PMIX_RANK, PMI_RANK, PMI_SIZE)
/// does not initialise MPI: it is one process, and skips MPI's singleton start-up (about a second);
/// call MPI_Init yourself before init() to force it. Throws dist::Error if MPI cannot
/// be initialised or gives less than FUNNELED, or (built without MPI) when launched as one of
/// several MPI processes.
[[nodiscard]] Environment init(int& argc, char**& argv);

}  // namespace ctgrad::dist
