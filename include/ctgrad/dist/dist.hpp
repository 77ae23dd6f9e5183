#pragma once
/// \file ctgrad::dist in one include: data-parallel training over MPI processes (see
/// docs/distributed.md). Without MPI the same calls describe a single process.
#include <ctgrad/dist/all_reduce.hpp>
#include <ctgrad/dist/environment.hpp>
#include <ctgrad/dist/error.hpp>
#include <ctgrad/dist/gradient_all_reduce.hpp>
#include <ctgrad/dist/world.hpp>
