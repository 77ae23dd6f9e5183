// train::CommandLine: flags bound to variables, the value checks (on the text as typed), relations
// between flags, and parse()'s exit statuses.
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <ctgrad/train/cli.hpp>
#include <ctgrad/train/errors.hpp>
#include <ctgrad/train/exit_codes.hpp>
#include <ctgrad/train/persist_options.hpp>

using namespace ctgrad;

namespace {
/// Parses `args` (after a program name) with `cli`; returns the exit status parse() asked for, or
/// -1 if it returned normally.
int parse(train::CommandLine& cli, std::vector<std::string> args) {
    args.insert(args.begin(), "prog");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    try {
        cli.parse(int(argv.size()), argv.data());
    } catch (const train::ExitRequest& e) {
        return e.code;
    }
    return -1;
}

/// The arguments as typed, for failure messages.
std::string joined(const std::vector<std::string>& args) {
    std::string r;
    for (const auto& a : args) r += (r.empty() ? "" : " ") + a;
    return r;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(train_cli)

BOOST_AUTO_TEST_CASE(values_reach_their_variables) {
    train::CommandLine cli{"test"};
    std::string name = "a";
    int i = 0;
    std::size_t n = 0;
    std::uint64_t big = 0;
    double x = 0;
    float f = 0;
    bool on = false;
    cli.option("--name", name, "");
    cli.option("--i", i, "");
    cli.option("--n,--count", n, "");
    cli.option("--big", big, "");
    cli.option("--x", x, "");
    cli.option("--f", f, "");
    cli.flag("--on", on, "");
    BOOST_TEST(parse(cli, {"--name", "b", "--i", "-3", "--count", "7", "--big", "18446744073709551615", "--x",
                           "0.25", "--f", "1.5", "--on"}) == -1);
    BOOST_TEST(name == "b");
    BOOST_TEST(i == -3);
    BOOST_TEST(n == 7u);
    BOOST_TEST(big == std::numeric_limits<std::uint64_t>::max());
    BOOST_TEST(x == 0.25);
    BOOST_TEST(f == 1.5f);
    BOOST_TEST(on);
    BOOST_TEST(cli.given("--n"));
    BOOST_TEST(cli.given("--count"));
}

BOOST_AUTO_TEST_CASE(unknown_names_are_programming_errors) {
    train::CommandLine cli{"test"};
    double x = 0;
    cli.option("--x", x, "");
    BOOST_CHECK_THROW(cli["--y"], std::logic_error);
    BOOST_CHECK_THROW((void)cli.given("--y"), std::logic_error);
}

BOOST_AUTO_TEST_CASE(absent_flags_keep_their_values) {
    train::CommandLine cli{"test"};
    double lr = 0.3;
    cli.option("--lr", lr, "").show_default().check(train::positive_real());
    BOOST_TEST(parse(cli, {}) == -1);
    BOOST_TEST(lr == 0.3);
    BOOST_TEST(!cli.given("--lr"));
}

BOOST_AUTO_TEST_CASE(checks_refuse_bad_text_with_status_2) {
    const std::vector<std::vector<std::string>> bad{
        {"--steps", "0"},   {"--steps", "-1"}, {"--steps", "1e3"}, {"--steps", "1001"},  {"--rate", "nan"}, {"--rate", "0"},
        {"--rate", "inf"},  {"--rho", "1"},    {"--rule", "lbfgs"}, {"--unknown", "1"}, {"--steps"}};
    for (const auto& args : bad) {
        train::CommandLine cli{"test"};
        std::size_t steps = 1;
        double rate = 1, rho = 0;
        std::string rule = "sgd";
        cli.option("--steps", steps, "").check(train::count_in(1, 1000));
        cli.option("--rate", rate, "").check(train::positive_real());
        cli.option("--rho", rho, "").check(train::real_in(0, 1, train::Ends::open_high));
        cli.option("--rule", rule, "").check(train::one_of({"sgd", "adam"}));
        BOOST_TEST(parse(cli, args) == train::exit_code::bad_arguments, joined(args));
        BOOST_TEST(steps == 1u);
        BOOST_TEST(rate == 1.0);
        BOOST_TEST(rho == 0.0);
        BOOST_TEST(rule == "sgd");
    }
}

BOOST_AUTO_TEST_CASE(checks_accept_the_edges) {
    train::CommandLine cli{"test"};
    std::size_t steps = 0;
    double rho = 1;
    std::string rule;
    cli.option("--steps", steps, "").check(train::count_in(1, 1000));
    cli.option("--rho", rho, "").check(train::real_in(0, 1, train::Ends::open_high));
    cli.option("--rule", rule, "").check(train::one_of({"sgd", "adam"}));
    BOOST_TEST(parse(cli, {"--steps", "1000", "--rho", "0", "--rule", "adam"}) == -1);
    BOOST_TEST(steps == 1000u);
    BOOST_TEST(rho == 0.0);
    BOOST_TEST(rule == "adam");
}

BOOST_AUTO_TEST_CASE(check_messages_name_the_rule_and_the_text) {
    BOOST_TEST(train::one_of({"sgd", "adam"}).test("adam").empty());
    BOOST_TEST(train::one_of({"sgd", "adam"}).test("lbfgs") == "must be one of sgd, adam, got 'lbfgs'");
    BOOST_TEST(train::count_in(1, 10).test("11") == "must be a whole number from 1 to 10, got '11'");
    BOOST_TEST(train::count_in(1, 10).description == "in [1, 10]");
    BOOST_TEST(train::positive_real().test("nan") == "must be a finite number > 0, got 'nan' (not a finite number)");
}

BOOST_AUTO_TEST_CASE(help_exits_with_status_0) {
    train::CommandLine cli{"test"};
    BOOST_TEST(parse(cli, {"--help"}) == train::exit_code::ok);
}

BOOST_AUTO_TEST_CASE(callbacks_run_while_parsing) {
    train::CommandLine cli{"test"};
    int seen = 0;
    bool flagged = false;
    cli.option("--k", [&](int k) { seen = k; }, "").check(train::count_in(1, 8));
    cli.flag("--now", [&] { flagged = true; }, "");
    BOOST_TEST(parse(cli, {"--k", "5", "--now"}) == -1);
    BOOST_TEST(seen == 5);
    BOOST_TEST(flagged);
}

BOOST_AUTO_TEST_CASE(relations_between_flags) {
    auto make = [](train::PersistOptions& po, bool& compare) {
        auto cli = std::make_unique<train::CommandLine>("test");
        train::add_persist_flags(*cli, po, /*eval=*/true);
        cli->flag("--compare", compare, "");
        (*cli)["--save"].excludes((*cli)["--compare"]);
        return cli;
    };
    {
        train::PersistOptions po;
        bool compare = false;
        auto cli = make(po, compare);
        BOOST_TEST(parse(*cli, {"--load", "w.npz", "--eval-only"}) == -1);
        BOOST_TEST(po.load == "w.npz");
        BOOST_TEST(po.eval_only);
    }
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"--load", "w.npz"}, {"--eval-only"}, {"--resume", "--load", "w.npz", "--eval-only"},
          {"--save", "w.npz", "--compare"}}) {
        train::PersistOptions po;
        bool compare = false;
        auto cli = make(po, compare);
        BOOST_TEST(parse(*cli, args) == train::exit_code::bad_arguments, joined(args));
    }
}

BOOST_AUTO_TEST_CASE(common_flags_bind_to_the_options) {
    train::CommandLine cli{"test"};
    train::CommonOptions o;
    train::add_common_flags(cli, o, "prog", train::flags::lr | train::flags::out);
    BOOST_TEST(o.out == "runs/prog");
    cli["--lr"].help("learning rate (default: the rule's)");
    BOOST_TEST(parse(cli, {"--lr", "0.5"}) == -1);
    BOOST_TEST(o.lr == 0.5);
}

BOOST_AUTO_TEST_SUITE_END()
