#pragma once
/// \file train::Checkpoint: everything a training run needs to continue exactly where it stopped, in
/// one `.npz` file that numpy reads too.
///
/// Layout (keys of the archive):
///   - `model.<state-dict key>`    the model's parameters, as nn::save writes them ("model.0.weight");
///   - `optim.<i>.<k>`             the update rule's k-th state tensor of parameter i (Adam: k = 0 v, 1 s),
///                                 shaped like the parameter as held in memory;
///   - `loader.<name>.order`       a DataLoader's current order (uint64);
///   - `meta`                      a uint8 array holding JSON text: the format name and version ("format",
///                                 "format_version"), the
///                                 optimizer's update count and schedule position, each loader's
///                                 generator state and epoch count, the generators of dropout layers
///                                 (and any other the trainer adds), the epoch, the metrics so far and the
///                                 run's settings. Read it in Python with
///                                 `json.loads(bytes(np.load("checkpoint.npz")["meta"]))`.
/// Scalars live in JSON because they are few and of mixed types; numbers keep full precision (a
/// double prints with 17 significant digits, a uint64 exactly).
///
///     train::Checkpoint c;
///     c.add_model(net);  c.add_optimizer(opt);  c.add_loader("train", loader);  c.meta["epoch"] = 3;
///     c.save(out / "checkpoint.npz");                   // crash-safe (temporary file, fsync, rename)
///     auto r = train::Checkpoint::read(out / "checkpoint.npz");   // io::FormatError naming the file
///     r.restore_model(net);  r.restore_optimizer(opt);  r.restore_loader("train", loader);
///
/// Each restore_* checks everything it needs (keys, dtypes, shapes) before it writes anything.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <boost/hana/at.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/length.hpp>
#include <nlohmann/json.hpp>

#include <ctgrad/io/npz.hpp>
#include <ctgrad/io/tensor_array.hpp>
#include <ctgrad/nn/dropout.hpp>
#include <ctgrad/nn/serialize.hpp>

namespace ctgrad::train {

/// A checkpoint being written or one that was read (see the file comment).
class Checkpoint {
public:
    /// The format name, written as `format` in the `meta` array.
    static constexpr const char* format_name = "ctgrad-checkpoint";
    /// The format version, written as `format_version` in the `meta` array.
    static constexpr int format_version = 1;

    /// Scalars and small structured values (stored as the `meta` array).
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    /// Tensors, by key.
    std::vector<io::NpyArray> arrays;
    /// The file it was read from (for messages).
    std::string source = "checkpoint";

    /// The model's parameters under `model.` and the generators of its nn::Dropout layers (a Sequential).
    template <nn::Saveable M>
    void add_model(M&& m) {
        for (auto& a : nn::state_arrays(m, "model.")) arrays.push_back(std::move(a));
        auto& d = meta["dropout"];
        d = nlohmann::ordered_json::object();
        for_each_dropout(m, [&](const std::string& key, nn::Dropout& l) { d[key] = l.state(); });
    }
    /// Restores what add_model() stored. Throws io::FormatError naming the file and every key that does
    /// not fit; writes nothing then.
    template <nn::Saveable M>
    void restore_model(M&& m) const {
        const auto by_key = index();
        auto problems = nn::check_state(m, by_key, "model.", true);
        for (const auto& [key, a] : by_key)
            if (key.rfind("model.", 0) == 0) {
                bool known = false;
                nn::for_each_state(m, [&](const std::string& k, auto&, bool) { known |= k == key; }, "model.");
                if (!known) problems.push_back("unexpected key '" + key + "' " + a->shape_str());
            }
        const auto& d = meta.contains("dropout") ? meta["dropout"] : nlohmann::ordered_json::object();
        for_each_dropout(m, [&](const std::string& key, nn::Dropout&) {
            if (!d.contains(key) || !d[key].is_number_unsigned())
                problems.push_back("no generator state for the dropout layer " + key);
        });
        if (!problems.empty()) nn::throw_problems(source, problems);
        nn::commit_state(m, by_key, "model.");
        for_each_dropout(m, [&](const std::string& key, nn::Dropout& l) { l.seed(d[key].get<std::uint64_t>()); });
    }

    /// The optimizer's rule state (`optim.<i>.<k>`), update count and schedule position.
    template <class Opt>
    void add_optimizer(const Opt& opt) {
        std::size_t i = 0;
        boost::hana::for_each(opt.state(), [&](const auto& slots) {
            for (std::size_t k = 0; k < slots.size(); ++k)
                arrays.push_back(io::to_array("optim." + std::to_string(i) + "." + std::to_string(k), slots[k]));
            ++i;
        });
        meta["optimizer"] = {{"update_count", opt.update_count()}, {"schedule_step", opt.schedule_step()}};
    }
    /// Restores what add_optimizer() stored; every state tensor must have its parameter's shape.
    template <class Opt>
    void restore_optimizer(Opt& opt) const {
        const auto by_key = index();
        std::vector<std::string> problems;
        const auto& o = meta.contains("optimizer") ? meta["optimizer"] : nlohmann::ordered_json();
        if (!o.is_object() || !o.contains("update_count") || !o.contains("schedule_step") ||
            !o["update_count"].is_number_unsigned() || !o["schedule_step"].is_number_unsigned())
            problems.push_back("meta: no optimizer counters (update_count, schedule_step)");
        auto visit = [&](auto&& f) {
            std::size_t i = 0;
            [&]<std::size_t... I>(std::index_sequence<I...>) {
                (f(i++, *boost::hana::at_c<I>(opt.parameters()), boost::hana::at_c<I>(opt.state())), ...);
            }(std::make_index_sequence<decltype(boost::hana::length(opt.parameters()))::value>{});
        };
        visit([&](std::size_t i, auto& p, auto& slots) {
            for (std::size_t k = 0; k < slots.size(); ++k) {
                const std::string key = "optim." + std::to_string(i) + "." + std::to_string(k);
                auto it = by_key.find(key);
                if (it == by_key.end()) problems.push_back("missing key '" + key + "'");
                else if (auto e = io::mismatch(*it->second, p.value()); !e.empty()) problems.push_back(e);
            }
        });
        if (!problems.empty()) nn::throw_problems(source, problems);
        visit([&](std::size_t i, auto& p, auto& slots) {
            for (std::size_t k = 0; k < slots.size(); ++k) {
                auto& s = slots[k];
                if (s.shape() != p.value().shape()) s.resize(p.value().shape());
                io::copy_into(*by_key.at("optim." + std::to_string(i) + "." + std::to_string(k)), s);
            }
        });
        opt.set_update_count(o["update_count"].get<std::size_t>());
        opt.set_schedule_step(o["schedule_step"].get<std::size_t>());
    }

    /// A DataLoader's generator, epoch count and current order, under `name`.
    template <class Loader>
    void add_loader(const std::string& name, const Loader& l) {
        Tensor<std::uint64_t, 1> order = Tensor<std::uint64_t, 1>::from_shape({l.order().size()});
        std::copy(l.order().begin(), l.order().end(), order.begin());
        arrays.push_back(io::to_array("loader." + name + ".order", order));
        meta["loaders"][name] = {{"rng", l.rng_state()}, {"epochs_started", l.epochs_started()}};
    }
    /// Restores what add_loader() stored (the loader must hold the same number of examples).
    template <class Loader>
    void restore_loader(const std::string& name, Loader& l) const {
        const auto by_key = index();
        const std::string key = "loader." + name + ".order";
        auto it = by_key.find(key);
        const bool has_meta = meta.contains("loaders") && meta["loaders"].contains(name) &&
                              meta["loaders"][name].contains("rng") && meta["loaders"][name]["rng"].is_string() &&
                              meta["loaders"][name].contains("epochs_started");
        Tensor<std::uint64_t, 1> order = Tensor<std::uint64_t, 1>::from_shape({l.size()});
        std::vector<std::string> problems;
        if (it == by_key.end()) problems.push_back("missing key '" + key + "'");
        else if (auto e = io::mismatch(*it->second, order); !e.empty()) problems.push_back(e);
        if (!has_meta) problems.push_back("meta: no state of the data loader '" + name + "'");
        if (!problems.empty()) nn::throw_problems(source, problems);
        io::copy_into(*it->second, order);
        std::vector<std::size_t> o(order.begin(), order.end());
        try {
            l.restore(meta["loaders"][name]["rng"].get<std::string>(),
                      meta["loaders"][name]["epochs_started"].get<std::size_t>(), o);
        } catch (const data::DataError& e) {
            throw io::FormatError(source + ": " + e.what());
        }
    }

    /// Writes the checkpoint to `path` (crash-safe). Throws std::runtime_error naming the file.
    void save(const std::filesystem::path& path) const;

    /// Reads a checkpoint. Throws io::FormatError naming the file if it is missing, not an .npz, has no
    /// valid `meta`, or is of another format or version.
    static Checkpoint read(const std::filesystem::path& path);

    /// `meta[key]`, throwing io::FormatError naming the file if it is missing.
    const nlohmann::ordered_json& need(const std::string& key) const;

    /// Calls f(key, nn::Dropout&) for every Dropout layer of a Sequential (key: its state-dict index, e.g. "3").
    template <class M, class F>
    static void for_each_dropout(M&& m, F&& f, const std::string& prefix = "") {
        using D = std::remove_cvref_t<M>;
        if constexpr (nn::detail::is_sequential<D>::value) {
            [&]<std::size_t... I>(std::index_sequence<I...>) {
                (visit_dropout(prefix + std::to_string(I), m.template layer<I>(), f), ...);
            }(std::make_index_sequence<nn::detail::is_sequential<D>::size>{});
        }
    }

private:
    template <class L, class F>
    static void visit_dropout(const std::string& key, L& layer, F& f) {
        if constexpr (std::is_same_v<L, nn::Dropout>) f(key, layer);
        else if constexpr (nn::detail::is_sequential<L>::value) for_each_dropout(layer, f, key + ".");
    }
    std::map<std::string, const io::NpyArray*> index() const {
        std::map<std::string, const io::NpyArray*> m;
        for (const auto& a : arrays) m[a.key] = &a;
        return m;
    }
};

}  // namespace ctgrad::train
