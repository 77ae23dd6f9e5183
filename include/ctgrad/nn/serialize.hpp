#pragma once
/// \file nn::save / nn::load: a model's weights as a NumPy `.npz` file that numpy and PyTorch read.
///
/// Keys and layouts are those of the equivalent `torch.nn.Sequential`'s `state_dict()`: the layer's
/// index in the Sequential, then `weight` / `bias` ("0.weight", "0.bias", "3.weight", ...). A Linear
/// weight, held as (In, Out) for a transpose-free forward product, is stored as PyTorch's
/// (out_features, in_features); a Conv2d weight as (out_channels, in_channels, kH, kW), as held.
/// The dtype is the model's scalar type (float32 / float64). So, in Python,
///
///     net.load_state_dict({k: torch.from_numpy(v) for k, v in np.load("lenet.npz").items()})
///
/// loads ctgrad's LeNet into d2l's PyTorch LeNet. Three forms:
///
///     nn::save(model, "lenet.npz");                         // a Sequential (nested ones: "3.0.weight")
///     nn::save(linear, "fc.npz");                           // one layer: "weight" (out, in), "bias"
///     nn::save(optim::params(w, b), "linreg.npz");          // loose Params: keys "0", "1", ... as held
///     nn::save(nn::named(optim::params(w, b), {"w", "b"}), "linreg.npz");   // keys of your choice
///
/// and nn::load(same, path) for each. Loading is all-or-nothing: the whole file is read and every key,
/// dtype and shape checked against the model before the first parameter is written, so a failure
/// leaves the model untouched. Errors (io::FormatError, a data::DataError) name the file and: a
/// missing key with the shape expected, an extra key, a shape mismatch with both shapes, a dtype
/// mismatch, or a file that is not an .npz / is truncated / is corrupt.
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/hana/for_each.hpp>
#include <boost/hana/length.hpp>
#include <boost/hana/tuple.hpp>

#include <ctgrad/io/npz.hpp>
#include <ctgrad/io/tensor_array.hpp>
#include <ctgrad/nn/linear.hpp>
#include <ctgrad/nn/sequential.hpp>
#include <ctgrad/tensor.hpp>

namespace ctgrad::nn {

/// Loose Params with the key each is saved under (see nn::named()).
template <class Params>
struct NamedParams {
    Params params;                   ///< boost::hana::tuple<Param<T, N>*...> (optim::params(...))
    std::vector<std::string> names;  ///< one distinct key per Param
};

/// Gives loose Params their keys in a weights file. Throws std::invalid_argument unless there is one
/// distinct, non-empty name per Param.
template <class... T, std::size_t... N>
NamedParams<boost::hana::tuple<Param<T, N>*...>> named(boost::hana::tuple<Param<T, N>*...> params,
                                                        std::vector<std::string> names) {
    if (names.size() != sizeof...(T))
        throw std::invalid_argument("nn::named: " + std::to_string(names.size()) + " names for " +
                                    std::to_string(sizeof...(T)) + " parameters");
    std::set<std::string> seen;
    for (const auto& n : names)
        if (n.empty() || !seen.insert(n).second)
            throw std::invalid_argument("nn::named: the names must be distinct and non-empty ('" + n + "')");
    return {std::move(params), std::move(names)};
}

namespace detail {
template <class L>
struct is_linear : std::false_type {};
template <std::size_t I, std::size_t O, class T>
struct is_linear<Linear<I, O, T>> : std::true_type {};

template <class M>
struct is_sequential : std::false_type {};
template <class... L>
struct is_sequential<Sequential<L...>> : std::true_type {
    static constexpr std::size_t size = sizeof...(L);
};

template <class P>
struct is_param_list : std::false_type {};
template <class... T, std::size_t... N>
struct is_param_list<boost::hana::tuple<Param<T, N>*...>> : std::true_type {};

template <class P>
struct is_named : std::false_type {};
template <class P>
struct is_named<NamedParams<P>> : std::true_type {};

/// Calls f(key, param, transpose) for every parameter of a layer, with keys under `prefix`.
template <class L, class F>
void visit_layer(const std::string& prefix, L& layer, F& f);

template <class S, class F>
void visit_sequential(const std::string& prefix, S& seq, F& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (visit_layer(prefix + std::to_string(I) + ".", seq.template layer<I>(), f), ...);
    }(std::make_index_sequence<is_sequential<S>::size>{});
}

template <class L, class F>
void visit_layer(const std::string& prefix, L& layer, F& f) {
    if constexpr (is_sequential<L>::value) {
        visit_sequential(prefix, layer, f);
    } else if constexpr (requires { layer.weight.value(); layer.bias.value(); }) {
        f(prefix + "weight", layer.weight, is_linear<L>::value);
        f(prefix + "bias", layer.bias, false);
    } else if constexpr (requires { layer.parameters(); }) {
        // Any other layer with parameters: its parameters() in order, as "<index>.0", "<index>.1", ...
        std::size_t i = 0;
        boost::hana::for_each(layer.parameters(), [&](auto* p) { f(prefix + std::to_string(i++), *p, false); });
    }
}
}  // namespace detail

namespace detail {
/// A single layer with `weight` and `bias` (PyTorch's state_dict of one nn.Linear: "weight", "bias").
template <class M>
concept single_layer = !is_sequential<M>::value && requires(M& m) {
    m.weight.value();
    m.bias.value();
};
}  // namespace detail

/// What nn::save / nn::load accept: a Sequential, a single layer with weight and bias (nn::Linear,
/// nn::Conv2d: keys "weight", "bias"), a parameter list (optim::params(...) or model.parameters()),
/// or NamedParams.
template <class M>
concept Saveable = detail::is_sequential<std::remove_cvref_t<M>>::value ||
                   detail::single_layer<std::remove_cvref_t<M>> ||
                   detail::is_param_list<std::remove_cvref_t<M>>::value || detail::is_named<std::remove_cvref_t<M>>::value;

/// Calls f(key, Param<T, N>&, transpose) for every parameter of `m` in state-dict order; `transpose`
/// marks a Linear weight (stored transposed). `prefix` is put before every key.
template <Saveable M, class F>
void for_each_state(M&& m, F&& f, const std::string& prefix = "") {
    using D = std::remove_cvref_t<M>;
    if constexpr (detail::is_sequential<D>::value) {
        detail::visit_sequential(prefix, m, f);
    } else if constexpr (detail::single_layer<D>) {
        detail::visit_layer(prefix, m, f);
    } else if constexpr (detail::is_param_list<D>::value) {
        std::size_t i = 0;
        boost::hana::for_each(m, [&](auto* p) { f(prefix + std::to_string(i++), *p, false); });
    } else {
        std::size_t i = 0;
        boost::hana::for_each(m.params, [&](auto* p) { f(prefix + m.names[i++], *p, false); });
    }
}

/// The model's state dict as arrays, keys under `prefix` (the arrays a weights file holds).
template <Saveable M>
std::vector<io::NpyArray> state_arrays(M&& m, const std::string& prefix = "") {
    std::vector<io::NpyArray> out;
    for_each_state(m, [&](const std::string& key, auto& p, bool t) { out.push_back(io::to_array(key, p.value(), t)); },
                   prefix);
    return out;
}

/// Checks `arrays` (keys under `prefix`; others are ignored when `ignore_others`) against the model:
/// returns one line per problem (missing key, extra key, wrong dtype or shape), empty if they fit.
template <Saveable M>
std::vector<std::string> check_state(M&& m, const std::map<std::string, const io::NpyArray*>& arrays,
                                     const std::string& prefix = "", bool ignore_others = false) {
    std::vector<std::string> problems;
    std::set<std::string> used;
    std::vector<std::string> expected;
    for_each_state(
        m,
        [&](const std::string& key, auto& p, bool t) {
            expected.push_back(key);
            auto it = arrays.find(key);
            if (it == arrays.end()) {
                problems.push_back("missing key '" + key + "' (expected " +
                                   io::dtype_name(io::dtype_of<typename std::remove_cvref_t<decltype(p)>::value_type>()) +
                                   " " + io::shape_str(io::file_shape(p.value(), t)) + ")");
                return;
            }
            used.insert(key);
            if (auto e = io::mismatch(*it->second, p.value(), t); !e.empty()) problems.push_back(e);
        },
        prefix);
    if (!ignore_others) {
        for (const auto& [key, a] : arrays) {
            if (used.count(key)) continue;
            std::string known;
            for (std::size_t i = 0; i < expected.size() && i < 12; ++i) known += (i ? ", " : "") + expected[i];
            if (expected.size() > 12) known += ", ...";
            problems.push_back("unexpected key '" + key + "' " + a->shape_str() + " (the model's keys are " + known + ")");
        }
    }
    return problems;
}

/// Copies checked arrays into the model (call after check_state() found nothing).
template <Saveable M>
void commit_state(M&& m, const std::map<std::string, const io::NpyArray*>& arrays, const std::string& prefix = "") {
    for_each_state(m, [&](const std::string& key, auto& p, bool t) { io::copy_into(*arrays.at(key), p.value(), t); },
                   prefix);
}

/// Throws io::FormatError naming `source` and listing `problems` (at most 6).
inline void throw_problems(const std::string& source, const std::vector<std::string>& problems) {
    std::string msg = source + ": does not fit the model: ";
    for (std::size_t i = 0; i < problems.size() && i < 6; ++i) msg += (i ? "; " : "") + problems[i];
    if (problems.size() > 6) msg += "; and " + std::to_string(problems.size() - 6) + " more";
    throw io::FormatError(msg);
}

/// Writes the weights of `m` to `path` as an .npz (crash-safe: a temporary file renamed into place).
/// Throws std::runtime_error naming the file if it cannot be written.
template <Saveable M>
void save(M&& m, const std::filesystem::path& path) {
    io::write_npz(path, state_arrays(m));
}

/// Reads the weights of `m` from the .npz at `path`: every key of the model must be there with the
/// model's dtype and shape, and no other key. All-or-nothing (see the file comment). Throws
/// io::FormatError naming the file.
template <Saveable M>
void load(M&& m, const std::filesystem::path& path) {
    const auto arrays = io::read_npz(path);
    std::map<std::string, const io::NpyArray*> by_key;
    for (const auto& a : arrays) by_key[a.key] = &a;
    if (auto problems = check_state(m, by_key); !problems.empty()) throw_problems(path.string(), problems);
    commit_state(m, by_key);
}

}  // namespace ctgrad::nn
