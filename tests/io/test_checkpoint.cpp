// train::Checkpoint: a checkpoint restores the model, the optimizer's state, the data order and the
// dropout masks, so a resumed run continues exactly; a checkpoint of another model is refused.
// (Its own translation unit: it instantiates a training step, the costliest part to compile.)
#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn/models.hpp>
#include <ctgrad/nn/serialize.hpp>
#include <ctgrad/data/data_loader.hpp>
#include <ctgrad/optim/optimizer.hpp>
#include <ctgrad/sched/schedules.hpp>
#include <ctgrad/train/checkpoint.hpp>

#include "serialize_helpers.hpp"

using namespace ctgrad;
using namespace serialize_test;

BOOST_AUTO_TEST_SUITE(checkpoint)

BOOST_AUTO_TEST_CASE(checkpoint_restores_optimizer_loader_and_dropout) {
    auto net = nn::dropout_mlp<float>(16, 8, 0.5, 0.3);
    optim::Optimizer opt(net.parameters(), optim::Adam{}, sched::Constant{.lr = 0.01});
    Tensor<float, 4> x = xt::ones<float>({10, 1, 28, 28});
    Tensor<std::uint8_t, 1> y = xt::zeros<std::uint8_t>({10});
    data::DataLoader loader(x, y, {.batch_size = 3, .shuffle = true, .seed = 5});
    auto train_step = [&](auto& n, auto& o, auto& l) {
        for (std::size_t b = 0; b < l.num_batches(); ++b) {
            auto& batch = l.batch(b);
            backward(nn::cross_entropy(n(batch.x), batch.y));
            o.step();
        }
    };
    (void)loader.epoch();
    train_step(net, opt, loader);
    train::Checkpoint c;
    c.add_model(net);
    c.add_optimizer(opt);
    c.add_loader("train", loader);
    c.save(tmp().path / "ckpt.npz");
    // Carry on: the reference.
    (void)loader.epoch();
    train_step(net, opt, loader);
    const auto want = snapshot(net);
    const std::vector<std::size_t> want_order(loader.order().begin(), loader.order().end());

    auto net2 = nn::dropout_mlp<float>(16, 8, 0.5, 0.3);
    optim::Optimizer opt2(net2.parameters(), optim::Adam{}, sched::Constant{.lr = 0.01});
    data::DataLoader loader2(x, y, {.batch_size = 3, .shuffle = true, .seed = 99});
    const auto r = train::Checkpoint::read(tmp().path / "ckpt.npz");
    r.restore_model(net2);
    r.restore_optimizer(opt2);
    r.restore_loader("train", loader2);
    BOOST_TEST(opt2.update_count() == 4u);
    BOOST_TEST(net2.template layer<3>().state() != 0u);
    (void)loader2.epoch();
    BOOST_TEST((std::vector<std::size_t>(loader2.order().begin(), loader2.order().end()) == want_order));
    train_step(net2, opt2, loader2);
    BOOST_TEST((snapshot(net2) == want));  // weights, Adam moments, dropout masks, order: all continued

    // A checkpoint of another model: refused, naming the file, nothing written.
    auto other = nn::dropout_mlp<float>(32, 8);
    const auto before = snapshot(other);
    const auto msg = error_of([&] { r.restore_model(other); });
    CHECK_HAS(msg, "ckpt.npz");
    CHECK_HAS(msg, "key 'model.1.weight': the model's shape is (32, 784), the file's is (16, 784)");
    BOOST_TEST((snapshot(other) == before));
    // A weights file is not a checkpoint.
    nn::save(net, tmp().path / "weights_only.npz");
    CHECK_HAS(error_of([&] { train::Checkpoint::read(tmp().path / "weights_only.npz"); }), "not a ctgrad checkpoint");
}

BOOST_AUTO_TEST_SUITE_END()
