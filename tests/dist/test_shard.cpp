// DataLoader shards (LoaderOptions::shard): the shards of a batch are consecutive, balanced parts
// that together are exactly the single-process batch, in order, for every batch of every epoch.
#include <numeric>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <ctgrad/data/data_loader.hpp>

using namespace ctgrad;

BOOST_AUTO_TEST_SUITE(data_loader_shards)

BOOST_AUTO_TEST_CASE(shards_partition_every_global_batch) {
    const std::size_t n = 103;
    Tensor<float, 2> x = Tensor<float, 2>::from_shape({n, 2});
    Tensor<int, 1> y = Tensor<int, 1>::from_shape({n});
    for (std::size_t i = 0; i < n; ++i) x(i, 0) = float(i), x(i, 1) = -float(i), y(i) = int(i);
    for (std::size_t shards : {1u, 2u, 3u, 4u}) {
        for (std::size_t batch : {1u, 2u, 10u, 32u, 103u}) {
            data::DataLoader whole(x, y, {.batch_size = batch, .shuffle = true, .seed = 9});
            std::vector<data::DataLoader<float, 2, int>> parts;
            for (std::size_t r = 0; r < shards; ++r)
                parts.emplace_back(x, y, data::LoaderOptions{.batch_size = batch, .shuffle = true, .seed = 9,
                                                             .shard = {r, shards}});
            for (int epoch = 0; epoch < 2; ++epoch) {
                auto e = whole.epoch();
                std::vector<decltype(parts[0].epoch())> pe;
                for (auto& p : parts) pe.push_back(p.epoch());
                std::size_t b = 0;
                for (auto& g : e) {
                    std::vector<std::size_t> joined;
                    for (std::size_t r = 0; r < shards; ++r) {
                        BOOST_TEST(parts[r].num_batches() == whole.num_batches());
                        auto& s = parts[r].batch(b);
                        BOOST_TEST(s.global_count == g.size());
                        // balanced: sizes differ by at most one, larger ones first
                        BOOST_TEST(s.size() == g.size() / shards + (r < g.size() % shards ? 1 : 0));
                        for (std::size_t i = 0; i < s.size(); ++i) {
                            joined.push_back(s.indices[i]);
                            BOOST_TEST(s.x(i, 0) == float(s.indices[i]));
                            BOOST_TEST(s.y(i) == int(s.indices[i]));
                        }
                    }
                    BOOST_TEST(std::equal(joined.begin(), joined.end(), g.indices.begin(), g.indices.end()));
                    ++b;
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(bad_shard_is_refused) {
    Tensor<float, 2> x = Tensor<float, 2>::from_shape({4, 1});
    Tensor<int, 1> y = Tensor<int, 1>::from_shape({4});
    BOOST_CHECK_THROW(data::DataLoader(x, y, {.batch_size = 2, .shard = {2, 2}}), data::DataError);
    BOOST_CHECK_THROW(data::DataLoader(x, y, {.batch_size = 2, .shard = {0, 0}}), data::DataError);
}

BOOST_AUTO_TEST_SUITE_END()
