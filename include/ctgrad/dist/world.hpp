#pragma once
/// \file The process group of data-parallel training: dist::rank(), dist::size(), dist::is_root().
///
/// Built with MPI (`-Dmpi=enabled`, or `auto` when Open MPI is found; the macro CTGRAD_WITH_MPI is
/// then defined for the library and its users) these describe MPI_COMM_WORLD once dist::init() has
/// run. Built without MPI, or before dist::init(), the program is one process: rank 0 of 1. User
/// code is the same either way.
#include <string>

namespace ctgrad::dist {

/// True when ctgrad was built with MPI (CTGRAD_WITH_MPI), whether or not MPI has been initialised.
inline constexpr bool with_mpi =
#ifdef CTGRAD_WITH_MPI
    true;
#else
    false;
#endif

/// This process's rank in 0 .. size() - 1 (0 without MPI or before dist::init()).
int rank() noexcept;
/// Number of processes of the job (1 without MPI or before dist::init()).
int size() noexcept;
/// True on rank 0, the process that prints, plots and writes files.
inline bool is_root() noexcept { return rank() == 0; }
/// True between dist::init() and the end of the Environment it returned, when built with MPI.
bool initialized() noexcept;
/// `rank R of N` — the prefix of dist::Error messages, for a program's own messages.
std::string describe_rank();

/// Blocks until every rank has called it (MPI_Barrier; no-op for one process). Throws dist::Error.
void barrier();

/// True on every rank if `ok` is true on every rank (a logical-and all-reduce; `ok` itself for one
/// process). Lets all ranks agree that a step failed somewhere *before* they enter a collective
/// call, so none waits forever for a rank that gave up. Throws dist::Error.
bool all_ok(bool ok);

/// Seconds since an arbitrary point (MPI_Wtime with MPI, a steady clock without).
double wall_time() noexcept;

}  // namespace ctgrad::dist
