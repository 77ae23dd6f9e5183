// Writes sample weights files and a checkpoint for tests/io/check_npz.py (numpy reads them) and
// tests/interop/lenet_torch.py (PyTorch loads them): <dir>/lenet.npz, mlp64.npz, loose.npz,
// checkpoint.npz, and values.txt listing every array as "key dtype shape v0 v1 ..." (values printed
// with enough digits to round-trip), plus interop.npz: 16 images (test images when
// $CTGRAD_DATA_DIR is set, else a fixed pattern) and ctgrad LeNet's logits for them.
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/data/data.hpp>
#include <ctgrad/nn/models.hpp>
#include <ctgrad/optim/optimizer.hpp>
#include <ctgrad/sched/schedules.hpp>
#include <ctgrad/train/checkpoint.hpp>
#include <xtensor/xview.hpp>

using namespace ctgrad;
namespace fs = std::filesystem;

namespace {
void dump(std::FILE* f, const std::string& file, const std::vector<io::NpyArray>& arrays) {
    for (const auto& a : arrays) {
        std::fprintf(f, "%s %s %s %s", file.c_str(), a.key.c_str(), io::dtype_name(a.dtype), a.shape_str().c_str());
        for (std::size_t i = 0; i < a.elements(); ++i) {
            if (a.dtype == io::DType::f4) std::fprintf(f, " %.9g", double(reinterpret_cast<const float*>(a.bytes.data())[i]));
            else if (a.dtype == io::DType::f8) std::fprintf(f, " %.17g", reinterpret_cast<const double*>(a.bytes.data())[i]);
        }
        std::fprintf(f, "\n");
    }
}
}  // namespace

int main(int argc, char** argv) {
    if (argc == 3 && std::string(argv[1]) == "--read") {  // what ctgrad reads from a numpy-written file
        try {
            std::FILE* out = stdout;
            dump(out, "read", io::read_npz(argv[2]));
        } catch (const io::FormatError& e) {
            std::fprintf(stderr, "%s\n", e.what());
            return 3;
        }
        return 0;
    }
    if (argc != 2) {
        std::fprintf(stderr, "usage: npz_sample DIR | npz_sample --read FILE\n");
        return 2;
    }
    const fs::path dir = argv[1];
    fs::create_directories(dir);
    std::FILE* values = std::fopen((dir / "values.txt").c_str(), "w");

    nn::manual_seed(3);
    auto lenet = nn::lenet<float>();
    nn::init::uniform(lenet.template layer<0>().bias.value(), 0.1);  // non-zero biases, to check them too
    nn::init::uniform(lenet.template layer<7>().bias.value(), 0.1);
    nn::save(lenet, dir / "lenet.npz");
    dump(values, "lenet.npz", nn::state_arrays(lenet));

    auto mlp = nn::dropout_mlp<double>(32, 16);
    nn::save(mlp, dir / "mlp64.npz");
    dump(values, "mlp64.npz", nn::state_arrays(mlp));

    Param<float, 2> w(xt::xtensor<float, 2>{{1.5f, -2.f, 3.f}, {4.f, 5.f, 6.25f}});
    Param<double, 1> b(xt::xtensor<double, 1>{0.1, -0.2});
    nn::save(nn::named(optim::params(w, b), {"w", "b"}), dir / "loose.npz");
    dump(values, "loose.npz", nn::state_arrays(nn::named(optim::params(w, b), {"w", "b"})));

    // A checkpoint after two Adam steps.
    optim::Optimizer opt(optim::params(w, b), optim::Adam{}, sched::Constant{.lr = 0.01});
    w.grad().fill(0.5f);
    b.grad().fill(-1.0);
    opt.step();
    w.grad().fill(0.25f);
    opt.step();
    train::Checkpoint c;
    c.add_model(nn::named(optim::params(w, b), {"w", "b"}));
    c.add_optimizer(opt);
    c.meta["epochs_done"] = 2;
    c.save(dir / "checkpoint.npz");
    auto arrays = c.arrays;
    dump(values, "checkpoint.npz", arrays);
    std::fclose(values);

    // Interop: 16 images and ctgrad's logits.
    Tensor<float, 4> images = Tensor<float, 4>::from_shape({16, 1, 28, 28});
    if (const char* d = std::getenv("CTGRAD_DATA_DIR"); d && *d) {
        const auto raw = data::load_fashion_mnist(d);
        const Tensor<float, 4> test = data::to_float_images(raw.test_images);
        images = xt::view(test, xt::range(0, 16), xt::all(), xt::all(), xt::all());
    } else {
        for (std::size_t i = 0; i < images.size(); ++i) images.data()[i] = float((i * 7919) % 256) / 255.f;
    }
    lenet.eval();
    const Tensor<float, 2> logits = eval(lenet(images));
    io::write_npz(dir / "interop.npz", {io::to_array("images", images), io::to_array("logits", logits)});
    std::printf("wrote %s\n", dir.c_str());
    return 0;
}
