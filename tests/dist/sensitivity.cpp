// How far apart two single-process LeNet runs drift when their initial weights differ by one part
// in 10^7 (float rounding): the yardstick for comparing a 2-rank run with a 1-process run, whose
// gradients differ by the same order each step (the per-rank means are summed in another order).
// Not a test: run by hand (docs/distributed.md quotes it), e.g.
//   build/tests/dist/trajectory_sensitivity "$CTGRAD_DATA_DIR" 60000 2 0.3 [PERTURBATION_SEED]
#include <cstdio>
#include <cstdlib>
#include <random>

#include <ctgrad/ctgrad.hpp>
#include <xtensor/xview.hpp>

using namespace ctgrad;

int main(int argc, char** argv) {
    if (argc < 5) {
        std::fprintf(stderr, "usage: %s DATA_DIR TRAIN_IMAGES EPOCHS LR [PERTURBATION_SEED]\n", argv[0]);
        return 2;
    }
    const std::size_t limit = std::strtoul(argv[2], nullptr, 10), epochs = std::strtoul(argv[3], nullptr, 10);
    const double lr = std::atof(argv[4]);
    const unsigned perturbation_seed = argc > 5 ? unsigned(std::atoi(argv[5])) : 1u;
    auto raw = data::load_fashion_mnist(argv[1]);
    Tensor<std::uint8_t, 3> imgs = xt::view(raw.train_images, xt::range(0, limit), xt::all(), xt::all());
    Tensor<std::uint8_t, 1> labs = xt::view(raw.train_labels, xt::range(0, limit));
    const auto x = data::to_float_images(imgs), tx = data::to_float_images(raw.test_images);
    for (int perturbed = 0; perturbed < 2; ++perturbed) {
        nn::manual_seed(0);  // the trainers' default seed
        auto net = nn::lenet<float>();
        if (perturbed) {  // every weight times 1 +- 1e-7
            std::mt19937 g(perturbation_seed);
            boost::hana::for_each(net.parameters(), [&](auto* p) {
                for (auto& w : p->value()) w *= 1.f + (g() & 1 ? 1e-7f : -1e-7f);
            });
        }
        optim::Optimizer opt(net.parameters(), optim::SGD{}, sched::Constant{.lr = lr});
        data::DataLoader loader(x, labs, {.batch_size = 256, .shuffle = true, .seed = 0});
        data::DataLoader test(tx, raw.test_labels, {.batch_size = 256, .shuffle = false});
        for (std::size_t e = 0; e < epochs; ++e) {
            double loss = 0;
            net.train();
            for (auto& b : loader.epoch()) {
                loss += backward(nn::cross_entropy(net(b.x), b.y)) * double(b.size());
                opt.step();
            }
            net.eval();
            std::size_t correct = 0;
            for (auto& b : test.epoch()) {
                auto l = nn::cross_entropy(net(b.x), b.y);
                (void)eval(l);
                correct += l.correct();
            }
            std::printf("%s epoch %zu: train loss %.9g, test acc %.4f\n", perturbed ? "perturbed" : "reference", e + 1,
                        loss / double(limit), double(correct) / double(tx.shape(0)));
        }
    }
}
