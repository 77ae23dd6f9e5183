#pragma once
/// \file One include for users: the expression DSL, autodiff, layers, optimizers, schedules, data,
/// and the thread count (parallel::set_num_threads).
#include <ctgrad/tensor.hpp>
#include <ctgrad/expr/functions.hpp>
#include <ctgrad/expr/matmul.hpp>
#include <ctgrad/expr/reduce.hpp>
#include <ctgrad/expr/anomaly.hpp>
#include <ctgrad/autodiff/backward.hpp>
#include <ctgrad/autodiff/gradcheck.hpp>
#include <ctgrad/nn/nn.hpp>
#include <ctgrad/optim/optimizer.hpp>
#include <ctgrad/optim/params.hpp>
#include <ctgrad/optim/rules.hpp>
#include <ctgrad/sched/schedules.hpp>
#include <ctgrad/data/data.hpp>
#include <ctgrad/parallel/thread_pool.hpp>
