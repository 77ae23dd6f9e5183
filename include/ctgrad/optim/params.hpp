#pragma once
/// \file optim::params(): a parameter list for an Optimizer made from loose Params.
#include <boost/hana/tuple.hpp>

#include <ctgrad/tensor.hpp>

namespace ctgrad::optim {

/// Collects Params (possibly of different ranks and scalar types) into the parameter list an
/// Optimizer takes: a `boost::hana::tuple<Param<T1, N1>*, Param<T2, N2>*, ...>`, the same type a
/// model's `parameters()` returns. The Params are referred to by address, so they must outlive
/// the optimizer.
template <class... T, std::size_t... N>
auto params(Param<T, N>&... ps) {
    return boost::hana::make_tuple(&ps...);
}

}  // namespace ctgrad::optim
