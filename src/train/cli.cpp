// The trainers' command line (cli.hpp) on CLI11. CLI11 is header-only and heavy to compile; keeping
// it in this one file is what keeps it out of every trainer's compile time and out of the headers a
// user of ctgrad::train needs.
#include <ctgrad/train/cli.hpp>

#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <utility>

#include <CLI/CLI.hpp>

#include <ctgrad/expr/anomaly_mode.hpp>
#include <ctgrad/parallel/thread_pool.hpp>
#include <ctgrad/train/errors.hpp>
#include <ctgrad/train/exit_codes.hpp>
#include <ctgrad/train/persist_options.hpp>

namespace ctgrad::train {

struct CommandLine::Impl {
    CLI::App app;
    std::vector<CLI::Option*> options;  // Flag::index_ indexes this

    explicit Impl(const std::string& description) : app(description) {}
    Flag add(CLI::Option* o) {
        options.push_back(o);
        return Flag(this, options.size() - 1);
    }
};

// ---- Check factories

Check count_in(std::uint64_t lo, std::uint64_t hi) {
    return {[lo, hi](const std::string& s) { return check_count(s, lo, hi); },
            hi == std::numeric_limits<std::uint64_t>::max()
                ? ">= " + std::to_string(lo)
                : "in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]"};
}

Check real_in(double lo, double hi, Ends ends) {
    return {[lo, hi, ends](const std::string& s) { return check_real(s, lo, hi, ends); },
            describe_interval(lo, hi, ends)};
}

Check positive_real() { return real_in(0, HUGE_VAL, Ends::open); }

Check one_of(std::vector<std::string> choices) {
    std::string description = "{";
    for (std::size_t i = 0; i < choices.size(); ++i) description += (i ? "," : "") + choices[i];
    description += "}";
    return {[choices = std::move(choices)](const std::string& s) { return check_choice(s, choices); },
            std::move(description)};
}

// ---- Flag

CommandLine::Flag& CommandLine::Flag::check(Check c) {
    impl_->options[index_]->check(
        CLI::Validator([test = std::move(c.test)](std::string& s) { return test(s); }, std::move(c.description)));
    return *this;
}

CommandLine::Flag& CommandLine::Flag::show_default() {
    impl_->options[index_]->capture_default_str();
    return *this;
}

CommandLine::Flag& CommandLine::Flag::help(const std::string& text) {
    impl_->options[index_]->description(text);
    return *this;
}

CommandLine::Flag& CommandLine::Flag::needs(const Flag& other) {
    impl_->options[index_]->needs(other.impl_->options[other.index_]);
    return *this;
}

CommandLine::Flag& CommandLine::Flag::excludes(const Flag& other) {
    impl_->options[index_]->excludes(other.impl_->options[other.index_]);
    return *this;
}

// ---- CommandLine

CommandLine::CommandLine(const std::string& description) : impl_(std::make_unique<Impl>(description)) {}
CommandLine::~CommandLine() = default;

namespace {
template <class T>
CLI::Option* add_value(CLI::App& app, const std::string& names, T& target, const std::string& help) {
    return app.add_option(names, target, help);
}
}  // namespace

CommandLine::Flag CommandLine::option(const std::string& names, std::string& target, const std::string& help) {
    return impl_->add(add_value(impl_->app, names, target, help));
}
CommandLine::Flag CommandLine::option(const std::string& names, int& target, const std::string& help) {
    return impl_->add(add_value(impl_->app, names, target, help));
}
CommandLine::Flag CommandLine::option(const std::string& names, long& target, const std::string& help) {
    return impl_->add(add_value(impl_->app, names, target, help));
}
CommandLine::Flag CommandLine::option(const std::string& names, long long& target, const std::string& help) {
    return impl_->add(add_value(impl_->app, names, target, help));
}
CommandLine::Flag CommandLine::option(const std::string& names, unsigned& target, const std::string& help) {
    return impl_->add(add_value(impl_->app, names, target, help));
}
CommandLine::Flag CommandLine::option(const std::string& names, unsigned long& target, const std::string& help) {
    return impl_->add(add_value(impl_->app, names, target, help));
}
CommandLine::Flag CommandLine::option(const std::string& names, unsigned long long& target, const std::string& help) {
    return impl_->add(add_value(impl_->app, names, target, help));
}
CommandLine::Flag CommandLine::option(const std::string& names, float& target, const std::string& help) {
    return impl_->add(add_value(impl_->app, names, target, help));
}
CommandLine::Flag CommandLine::option(const std::string& names, double& target, const std::string& help) {
    return impl_->add(add_value(impl_->app, names, target, help));
}

CommandLine::Flag CommandLine::option(const std::string& names, std::function<void(int)> on_value,
                                      const std::string& help) {
    return impl_->add(impl_->app.add_option_function<int>(
        names, [f = std::move(on_value)](const int& v) { f(v); }, help));
}

CommandLine::Flag CommandLine::flag(const std::string& names, bool& target, const std::string& help) {
    return impl_->add(impl_->app.add_flag(names, target, help));
}

CommandLine::Flag CommandLine::flag(const std::string& names, std::function<void()> on_set, const std::string& help) {
    return impl_->add(impl_->app.add_flag_callback(names, std::move(on_set), help));
}

CommandLine::Flag CommandLine::operator[](const std::string& name) {
    if (const CLI::Option* o = impl_->app.get_option_no_throw(name))
        for (std::size_t i = 0; i < impl_->options.size(); ++i)
            if (impl_->options[i] == o) return Flag(impl_.get(), i);
    throw std::logic_error("CommandLine: no flag named " + name + " was added");
}

bool CommandLine::given(const std::string& name) const {
    const CLI::Option* o = impl_->app.get_option_no_throw(name);
    if (!o) throw std::logic_error("CommandLine::given: no flag named " + name + " was added");
    return o->count() > 0;
}

void CommandLine::parse(int argc, char** argv) {
    try {
        impl_->app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = impl_->app.exit(e);  // prints help or the error message
        throw ExitRequest{code == 0 ? exit_code::ok : exit_code::bad_arguments};
    }
}

// ---- The common and persistence flags

void set_num_threads(int n) {
    if (n > 0) parallel::set_num_threads(n);
}

int available_cores() { return parallel::available_cores(); }

void add_common_flags(CommandLine& cli, CommonOptions& o, const std::string& example, unsigned which) {
    if (o.out.empty()) o.out = "runs/" + example;
    if (which & flags::data_dir)
        cli.option("--data-dir", o.data_dir, "data directory (default: $CTGRAD_DATA_DIR, then ./data)");
    if (which & flags::epochs)
        cli.option("--epochs", o.epochs, "number of epochs").show_default().check(count_in(1, max_epochs));
    if (which & flags::batch_size)
        cli.option("--batch-size", o.batch_size, "examples per minibatch").show_default().check(count_in(1, max_batch_size));
    if (which & flags::lr) cli.option("--lr", o.lr, "learning rate").show_default().check(positive_real());
    if (which & flags::seed)
        cli.option("--seed", o.seed, "random seed").show_default().check(count_in(0, std::numeric_limits<std::uint64_t>::max()));
    if (which & flags::threads)
        cli.option(
               "--threads",
               [&o](int n) {
                   o.threads = n;
                   if (const int cores = available_cores(); n > cores)
                       std::fprintf(stderr,
                                    "warning: --threads %d is more than the %d core(s) of this machine; the run "
                                    "will likely be slower than with --threads %d\n",
                                    n, cores, cores);
                   set_num_threads(n);
               },
               "number of threads (default: all cores)")
            .check(count_in(1, max_threads));
    if (which & flags::out) cli.option("--out", o.out, "output directory").show_default();
    if (which & flags::detect_anomaly)
        cli.flag(
            "--detect-anomaly", [] { ctgrad::detect_anomaly(true); },
            "check every value and gradient for NaN/Inf and stop at the first, naming the operation (slow: for debugging)");
}

void add_persist_flags(CommandLine& cli, PersistOptions& o, bool eval) {
    cli.option("--checkpoint-every", o.checkpoint_every,
               "write <out>/checkpoint.npz every N epochs (0: only at the end and on Ctrl-C)")
        .show_default();
    auto resume = cli.flag("--resume", o.resume,
                           "continue the run in --out from its last checkpoint (same model flags; --epochs may grow)");
    cli.option("--save", o.save, "write the final weights to FILE (.npz, PyTorch state_dict keys)");
    if (eval) {
        auto load = cli.option("--load", o.load, "read the weights from FILE (.npz written by --save)");
        auto only = cli.flag("--eval-only", o.eval_only,
                             "no training: test loss, accuracy, per-class table and confusion matrix of --load");
        only.needs(load);
        load.needs(only);
        resume.excludes(only);
    }
}

void check_same_flags(const Summary& saved, const Summary& now, const std::string& checkpoint) {
    for (auto it = now.begin(); it != now.end(); ++it) {
        const auto& key = it.key();
        const std::string was = saved.contains(key) ? saved[key].dump() : std::string("(not set)");
        if (was != it.value().dump())
            throw ExitWithMessage(exit_code::bad_arguments,
                                  "--resume: " + key + " differs: the run in " + checkpoint + " used " + key + " " + was +
                                      ", this command gives " + it.value().dump() +
                                      " (resume with the same model flags, or start a fresh run without --resume)");
    }
}

}  // namespace ctgrad::train
