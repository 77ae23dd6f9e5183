#include <ctgrad/train/run_main.hpp>

#include <cstdio>
#include <exception>
#include <new>
#include <string>

#include <ctgrad/data/error.hpp>
#include <ctgrad/train/interrupt.hpp>

namespace ctgrad::train {

int run_main(int argc, char** argv, const std::function<int()>& body) noexcept {
    std::string prog = argc > 0 && argv[0] ? argv[0] : "ctgrad";
    if (auto slash = prog.rfind('/'); slash != std::string::npos) prog.erase(0, slash + 1);
    const auto fail = [&](const char* kind, const char* what, int code) {
        std::fflush(stdout);  // keep stdout's lines before the message when both go to one terminal
        std::fprintf(stderr, "%s: %s%s\n", prog.c_str(), kind, what);
        return code;
    };
    try {
        const int code = body();
        std::fflush(stdout);
        return code;
    } catch (const ExitRequest& e) {
        std::fflush(stdout);
        return e.code;
    } catch (const Interrupted& e) {
        return fail("", e.what(), exit_code::interrupted);
    } catch (const ExitWithMessage& e) {
        return fail("", e.what(), e.code());
    } catch (const data::DataError& e) {
        return fail("data error: ", e.what(), exit_code::data_problem);
    } catch (const Diverged& e) {
        return fail("", e.what(), exit_code::diverged);
    } catch (const AnomalyError& e) {  // outside a training step, e.g. while evaluating
        return fail("", e.what(), exit_code::diverged);
    } catch (const std::bad_alloc&) {
        // Not "error: std::bad_alloc": say what happened and what to change.
        return fail("error: ", "out of memory: an allocation failed (the sizes asked for need more memory than is "
                    "available; try smaller sizes, e.g. --batch-size, --limit-train or the model's dimensions)",
                    exit_code::failure);
    } catch (const std::exception& e) {
        return fail("error: ", e.what(), exit_code::failure);
    } catch (...) {
        return fail("error: ", "unknown exception", exit_code::failure);
    }
}

}  // namespace ctgrad::train
