// IDX readers: valid plain and gzip files, and every malformed case with its message.
#include <boost/test/unit_test.hpp>
#include <sys/stat.h>
#include <zlib.h>

#include <ctgrad/data/idx.hpp>

#include "helpers.hpp"

namespace data = ctgrad::data;
using namespace ctgrad_test;
using Bytes = std::vector<std::uint8_t>;

namespace {

void put32(Bytes& b, std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(v >> s));
}

/// An IDX file: magic, dimensions, then `payload`.
Bytes idx(std::uint32_t magic, std::vector<std::uint32_t> dims, const Bytes& payload) {
    Bytes b;
    put32(b, magic);
    for (auto d : dims) put32(b, d);
    b.insert(b.end(), payload.begin(), payload.end());
    return b;
}

Bytes iota_bytes(std::size_t n, std::uint8_t start = 0) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(start + i);
    return b;
}

/// One gzip member holding `raw` (zlib's deflate with the gzip wrapper).
Bytes gzip(const Bytes& raw) {
    z_stream zs{};
    BOOST_REQUIRE(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    Bytes out(deflateBound(&zs, raw.size()) + 64);
    zs.next_in = const_cast<Bytes::value_type*>(raw.data());
    zs.avail_in = static_cast<uInt>(raw.size());
    zs.next_out = out.data();
    zs.avail_out = static_cast<uInt>(out.size());
    BOOST_REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
}

Bytes cat(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

const Bytes pixels = iota_bytes(3 * 2 * 4, 7);  // 3 images of 2 x 4
const Bytes images_file = idx(0x803, {3, 2, 4}, pixels);
const Bytes labels_file = idx(0x801, {5}, Bytes{3, 1, 4, 1, 5});

void check_images(const ctgrad::Tensor<std::uint8_t, 3>& t) {
    BOOST_TEST_REQUIRE(t.shape(0) == 3u);
    BOOST_TEST_REQUIRE(t.shape(1) == 2u);
    BOOST_TEST_REQUIRE(t.shape(2) == 4u);
    for (std::size_t i = 0; i < 3; ++i)
        for (std::size_t r = 0; r < 2; ++r)
            for (std::size_t c = 0; c < 4; ++c) BOOST_TEST(t(i, r, c) == pixels[i * 8 + r * 4 + c]);
}

void check_labels(const ctgrad::Tensor<std::uint8_t, 1>& t) {
    BOOST_TEST_REQUIRE(t.size() == 5u);
    const Bytes want{3, 1, 4, 1, 5};
    for (std::size_t i = 0; i < 5; ++i) BOOST_TEST(t(i) == want[i]);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(idx_reader)

BOOST_AUTO_TEST_CASE(valid_plain_and_gzip) {
    TempDir tmp;
    check_images(data::read_idx_images(tmp.write("images-idx3-ubyte", images_file)));
    check_images(data::read_idx_images(tmp.write("images-idx3-ubyte.gz", gzip(images_file))));
    check_labels(data::read_idx_labels(tmp.write("labels-idx1-ubyte", labels_file)));
    check_labels(data::read_idx_labels(tmp.write("labels-idx1-ubyte.gz", gzip(labels_file))));
}

BOOST_AUTO_TEST_CASE(gzip_detected_by_magic_not_name) {
    TempDir tmp;
    check_images(data::read_idx_images(tmp.write("gzip-without-suffix", gzip(images_file))));
    check_images(data::read_idx_images(tmp.write("plain-with-suffix.gz", images_file)));
}

BOOST_AUTO_TEST_CASE(multi_member_gzip) {
    // gunzip accepts concatenated members; so do we.
    TempDir tmp;
    const Bytes first(images_file.begin(), images_file.begin() + 21), rest(images_file.begin() + 21, images_file.end());
    check_images(data::read_idx_images(tmp.write("two-members.gz", cat(gzip(first), gzip(rest)))));
}

BOOST_AUTO_TEST_CASE(large_gzip_round_trip) {
    // More than one 64 KiB input buffer of compressed data, so refills are exercised.
    TempDir tmp;
    std::mt19937 rng(1);
    Bytes px(200 * 28 * 28);
    for (auto& p : px) p = static_cast<std::uint8_t>(rng());
    const auto t = data::read_idx_images(tmp.write("big.gz", gzip(idx(0x803, {200, 28, 28}, px))));
    BOOST_TEST_REQUIRE(t.size() == px.size());
    BOOST_TEST(std::equal(px.begin(), px.end(), t.data()));
}

BOOST_AUTO_TEST_CASE(bad_magic) {
    TempDir tmp;
    const auto p = tmp.write("train-images-idx3-ubyte", labels_file);
    std::string m = error_of([&] { data::read_idx_images(p); });
    BOOST_TEST(m == p.string() + ": byte 0: expected IDX magic 0x00000803 (images), found 0x00000801 (labels)");

    const auto pl = tmp.write("train-labels-idx1-ubyte.gz", gzip(images_file));
    m = error_of([&] { data::read_idx_labels(pl); });
    BOOST_TEST(m == pl.string() +
                        ": byte 0 (decompressed): expected IDX magic 0x00000801 (labels), found 0x00000803 (images)");

    const auto pt = tmp.write("text", std::string("hello, world\n"));
    m = error_of([&] { data::read_idx_images(pt); });
    CHECK_CONTAINS(m, pt.string() + ": byte 0: expected IDX magic 0x00000803");
    CHECK_CONTAINS(m, "not an IDX file");

    const auto pf = tmp.write("floats", idx(0x0d03, {1, 1, 1}, Bytes{0, 0, 0, 0}));  // IDX float32 images
    m = error_of([&] { data::read_idx_images(pf); });
    CHECK_CONTAINS(m, "found 0x00000d03 (IDX type 0x0d with 3 dimensions)");
}

BOOST_AUTO_TEST_CASE(wrong_dimensions) {
    TempDir tmp;
    const auto p0 = tmp.write("zero-rows", idx(0x803, {3, 0, 4}, {}));
    std::string m = error_of([&] { data::read_idx_images(p0); });
    BOOST_TEST(m == p0.string() + ": byte 8: expected a positive number of rows, found 0");

    const auto p1 = tmp.write("zero-cols", idx(0x803, {3, 2, 0}, {}));
    m = error_of([&] { data::read_idx_images(p1); });
    BOOST_TEST(m == p1.string() + ": byte 12: expected a positive number of columns, found 0");

    // Dimensions that claim far more data than the file holds are rejected before allocating.
    const auto p2 = tmp.write("huge", idx(0x803, {0xffffffffu, 0xffffffffu, 0xffffffffu}, pixels));
    m = error_of([&] { data::read_idx_images(p2); });
    CHECK_CONTAINS(m, p2.string() + ": byte 4: dimensions 4294967295 x 4294967295 x 4294967295 need more than 2^64");
    const auto p3 = tmp.write("huge.gz", gzip(idx(0x803, {60000, 28000, 28000}, pixels)));
    m = error_of([&] { data::read_idx_images(p3); });
    CHECK_CONTAINS(m, p3.string() + ": byte 4 (decompressed): dimensions 60000 x 28000 x 28000 need");
    CHECK_CONTAINS(m, "gzip file can hold");

    // Dimensions that disagree with the data length: fewer images announced than present.
    const auto p4 = tmp.write("count-too-small", idx(0x803, {2, 2, 4}, pixels));
    m = error_of([&] { data::read_idx_images(p4); });
    BOOST_TEST(m == p4.string() + ": byte 32: expected end of file after 2 images (2 x 2 x 4), found 8 trailing byte(s)");
}

BOOST_AUTO_TEST_CASE(truncated) {
    TempDir tmp;
    const Bytes cut(images_file.begin(), images_file.end() - 5);
    const auto p = tmp.write("truncated", cut);
    std::string m = error_of([&] { data::read_idx_images(p); });
    BOOST_TEST(m == p.string() + ": byte 35: expected 24 bytes of pixel data (3 x 2 x 4) after the 16-byte header, "
                                 "but the data ends after 19 (truncated file)");
    const auto pg = tmp.write("truncated.gz", gzip(cut));
    m = error_of([&] { data::read_idx_images(pg); });
    CHECK_CONTAINS(m, pg.string() + ": byte 35 (decompressed): expected 24 bytes of pixel data");

    const auto pl = tmp.write("labels-truncated", idx(0x801, {6}, Bytes{1, 2, 3}));
    m = error_of([&] { data::read_idx_labels(pl); });
    BOOST_TEST(m == pl.string() + ": byte 11: expected 6 bytes of label data (6) after the 8-byte header, "
                                  "but the data ends after 3 (truncated file)");

    const auto ph = tmp.write("header-truncated", Bytes(images_file.begin(), images_file.begin() + 10));
    m = error_of([&] { data::read_idx_images(ph); });
    BOOST_TEST(m == ph.string() + ": byte 10: expected 3 4-byte dimensions after the magic, but the file ends there "
                                  "(truncated header)");

    const auto pe = tmp.write("empty", Bytes{});
    m = error_of([&] { data::read_idx_labels(pe); });
    BOOST_TEST(m == pe.string() + ": byte 0: expected IDX magic 0x00000801 (labels), but the file holds only 0 bytes");
}

BOOST_AUTO_TEST_CASE(trailing_bytes) {
    TempDir tmp;
    const Bytes extra = cat(images_file, Bytes{0, 0, 0});
    const auto p = tmp.write("trailing", extra);
    std::string m = error_of([&] { data::read_idx_images(p); });
    BOOST_TEST(m == p.string() + ": byte 40: expected end of file after 3 images (3 x 2 x 4), found 3 trailing byte(s)");
    const auto pg = tmp.write("trailing.gz", gzip(extra));
    m = error_of([&] { data::read_idx_images(pg); });
    BOOST_TEST(m == pg.string() +
                        ": byte 40 (decompressed): expected end of file after 3 images (3 x 2 x 4), found at least 3 "
                        "trailing byte(s)");
    const auto pl = tmp.write("labels-trailing", cat(labels_file, Bytes{9}));
    m = error_of([&] { data::read_idx_labels(pl); });
    BOOST_TEST(m == pl.string() + ": byte 13: expected end of file after 5 labels (5), found 1 trailing byte(s)");

    // Garbage after the gzip stream itself (not another gzip member).
    const Bytes gz = gzip(images_file);
    const auto pj = tmp.write("junk-after-gzip.gz", cat(gz, Bytes{'j', 'u', 'n', 'k'}));
    m = error_of([&] { data::read_idx_images(pj); });
    BOOST_TEST(m == pj.string() + ": compressed byte " + std::to_string(gz.size()) +
                        ": expected end of file after the gzip stream, found trailing bytes (first 0x6a)");
}

BOOST_AUTO_TEST_CASE(corrupt_gzip) {
    TempDir tmp;
    std::mt19937 rng(3);
    Bytes px(4000);
    for (auto& p : px) p = static_cast<std::uint8_t>(rng() % 7);
    const Bytes raw = idx(0x803, {10, 20, 20}, px);
    const Bytes gz = gzip(raw);

    Bytes body = gz;  // damage the deflate data after the 10-byte gzip header
    for (std::size_t i = 12; i < 40; ++i) body[i] = 0xff;
    const auto pb = tmp.write("corrupt-body.gz", body);
    std::string m = error_of([&] { data::read_idx_images(pb); });
    CHECK_CONTAINS(m, pb.string() + ": compressed byte ");
    CHECK_CONTAINS(m, "corrupt gzip data");

    Bytes crc = gz;  // damage the CRC-32 in the trailer: data decompresses, the check must fail
    crc[crc.size() - 8] ^= 0x55;
    const auto pc = tmp.write("corrupt-crc.gz", crc);
    m = error_of([&] { data::read_idx_images(pc); });
    CHECK_CONTAINS(m, pc.string() + ": compressed byte ");
    CHECK_CONTAINS(m, "corrupt gzip data (incorrect data check)");

    Bytes len = gz;  // damage the length in the trailer
    len[len.size() - 1] ^= 0x01;
    const auto pn = tmp.write("corrupt-length.gz", len);
    m = error_of([&] { data::read_idx_images(pn); });
    CHECK_CONTAINS(m, "corrupt gzip data (incorrect length check)");

    const auto pt = tmp.write("gzip-truncated.gz", Bytes(gz.begin(), gz.end() - 6));  // trailer cut
    m = error_of([&] { data::read_idx_images(pt); });
    BOOST_TEST(m == pt.string() + ": compressed byte " + std::to_string(gz.size() - 6) +
                        ": gzip stream truncated (the file ends before the end of the compressed data)");

    const auto ph = tmp.write("gzip-header-only.gz", Bytes(gz.begin(), gz.begin() + 5));
    m = error_of([&] { data::read_idx_images(ph); });
    CHECK_CONTAINS(m, "gzip stream truncated");
}

BOOST_AUTO_TEST_CASE(missing_file) {
    TempDir tmp;
    const auto p = tmp.dir / "nope-idx3-ubyte.gz";
    BOOST_TEST(error_of([&] { data::read_idx_images(p); }) == p.string() + ": cannot open: file not found");
    BOOST_TEST(error_of([&] { data::read_idx_labels(tmp.dir); }) == tmp.dir.string() + ": cannot open: it is a directory");
}

BOOST_AUTO_TEST_CASE(zero_count_with_huge_images) {
    // Found by fuzzing: with a count of 0 the file-size check passes (0 bytes of data), and rows x cols
    // of 4278188384 x 2952790027 overflowed the tensor's strides (UBSan: signed overflow in xtensor).
    TempDir tmp;
    const auto p = tmp.write("huge", idx(0x803, {0, 0xfefff960u, 0xb000000bu}, Bytes{}));
    BOOST_TEST(error_of([&] { data::read_idx_images(p); }) ==
               p.string() + ": byte 8: dimensions 0 x 4278188384 x 2952790027 give 12632591993902446368-byte items, "
                            "more than the 2147483648 bytes an item may have (wrong dimensions?)");
    // An empty file of 28 x 28 images is valid IDX.
    const auto e = tmp.write("empty", idx(0x803, {0, 28, 28}, Bytes{}));
    BOOST_TEST(data::read_idx_images(e).shape(0) == 0u);
}

BOOST_AUTO_TEST_CASE(not_a_regular_file) {
    // Reading a FIFO would block until a writer comes (forever in a batch job); a device may never end.
    TempDir tmp;
    const auto fifo = tmp.dir / "fifo-idx3-ubyte";
    BOOST_TEST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    BOOST_TEST(error_of([&] { data::read_idx_images(fifo); }) ==
               fifo.string() + ": cannot open: it is a FIFO (named pipe); expected a regular file");
    BOOST_TEST(error_of([&] { data::read_idx_labels("/dev/zero"); }) ==
               "/dev/zero: cannot open: it is a character device; expected a regular file");
    // A symbolic link to a regular file is fine; a link loop is an error naming the file.
    const auto target = tmp.write("images", images_file);
    std::filesystem::create_symlink(target, tmp.dir / "link");
    check_images(data::read_idx_images(tmp.dir / "link"));
    std::filesystem::create_symlink(tmp.dir / "loop", tmp.dir / "loop");
    CHECK_CONTAINS(error_of([&] { data::read_idx_images(tmp.dir / "loop"); }), (tmp.dir / "loop").string() + ": cannot open");
}

BOOST_AUTO_TEST_CASE(count_mismatch) {
    TempDir tmp;
    const auto images = data::read_idx_images(tmp.write("i", images_file));
    const auto labels = data::read_idx_labels(tmp.write("l", labels_file));
    const std::string m = error_of([&] { data::check_same_count(images, labels, "i vs l"); });
    BOOST_TEST(m == "i vs l: expected one label per image, found 3 images and 5 labels");
    const auto three = data::read_idx_labels(tmp.write("l3", idx(0x801, {3}, Bytes{0, 1, 2})));
    BOOST_CHECK_NO_THROW(data::check_same_count(images, three, "i vs l3"));
}

BOOST_AUTO_TEST_CASE(label_range) {
    TempDir tmp;
    const auto p = tmp.write("labels", idx(0x801, {4}, Bytes{0, 9, 10, 3}));
    const auto labels = data::read_idx_labels(p);
    BOOST_CHECK_NO_THROW(data::check_label_range(labels, 11, p));
    BOOST_TEST(error_of([&] { data::check_label_range(labels, 10, p); }) ==
               p.string() + ": byte 10: label 2 is 10, expected a class in 0..9");
}

BOOST_AUTO_TEST_CASE(float_images) {
    ctgrad::Tensor<std::uint8_t, 3> u = ctgrad::Tensor<std::uint8_t, 3>::from_shape({2, 1, 3});
    const std::uint8_t vals[] = {0, 255, 128, 1, 2, 51};
    std::copy(std::begin(vals), std::end(vals), u.data());
    const auto f = data::to_float_images(u);
    BOOST_TEST(f.shape(0) == 2u);
    BOOST_TEST(f.shape(1) == 1u);
    BOOST_TEST(f.shape(2) == 1u);
    BOOST_TEST(f.shape(3) == 3u);
    BOOST_TEST(f(0, 0, 0, 0) == 0.0f);
    BOOST_TEST(f(0, 0, 0, 1) == 1.0f);
    BOOST_TEST(f(0, 0, 0, 2) == 128.0f / 255.0f);
    BOOST_TEST(f(1, 0, 0, 2) == 0.2f);
}

BOOST_AUTO_TEST_CASE(random_damage_is_reported_not_crashed) {
    // Random byte flips, truncations and appends of plain and gzip files: every read either succeeds
    // with the announced shape or throws DataError (run under ASan/UBSan to catch memory errors).
    TempDir tmp;
    std::mt19937 rng(7);
    Bytes px(5 * 6 * 7);
    for (auto& p : px) p = static_cast<std::uint8_t>(rng() % 3);
    const Bytes plain = idx(0x803, {5, 6, 7}, px);
    const Bytes gz = gzip(plain);
    int errors = 0, reads = 0;
    for (int trial = 0; trial < 400; ++trial) {
        Bytes b = trial % 2 ? gz : plain;
        switch (rng() % 3) {
            case 0:
                for (int k = 0, n = 1 + static_cast<int>(rng() % 4); k < n; ++k) b[rng() % b.size()] ^= static_cast<std::uint8_t>(1 + rng() % 255);
                break;
            case 1: b.resize(rng() % b.size()); break;
            default:
                for (int k = 0, n = 1 + static_cast<int>(rng() % 8); k < n; ++k) b.push_back(static_cast<std::uint8_t>(rng()));
        }
        const auto p = tmp.write("damaged", b);
        try {
            const auto t = data::read_idx_images(p);
            BOOST_TEST_REQUIRE(t.size() == t.shape(0) * t.shape(1) * t.shape(2));
            ++reads;
        } catch (const data::DataError& e) {
            BOOST_TEST_REQUIRE(contains(e.what(), p.string() + ": "));
            ++errors;
        }
    }
    BOOST_TEST_MESSAGE(errors << " damaged files rejected, " << reads << " still valid (e.g. a flipped pixel)");
    BOOST_TEST(errors > 300);
}

BOOST_AUTO_TEST_SUITE_END()
