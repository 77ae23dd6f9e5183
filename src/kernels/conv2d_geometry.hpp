#pragma once
// Index arithmetic shared by the convolution paths, written once: the tap offset table into a
// zero-padded image, the strided copy of planes between the dense NCHW layout and a padded or
// widened one (padding an image, spreading dy over the padded width, cropping dx back), and the
// padded-width geometry of the direct kernels. Private to src/kernels.
#include "simd_helpers.hpp"

#include <ctgrad/expr/scratch.hpp>
#include <ctgrad/kernels/conv2d.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace ctgrad::kernels::detail {

// A 1x1, stride-1, unpadded convolution needs no im2col: the image is already the K x P matrix.
inline bool is_pointwise(const Conv2dShape& s) { return s.kernel == 1 && s.stride == 1 && s.padding == 0; }

// Size of the zero-padded image: C planes of Hp x Wp.
struct Padded {
    std::size_t Hp, Wp;
    explicit Padded(const Conv2dShape& s) : Hp(s.in_h + 2 * s.padding), Wp(s.in_w + 2 * s.padding) {}
    std::size_t plane() const { return Hp * Wp; }
};

// koff[k] for tap k = (c, kh, kw) in weight order: its offset (c * Hp + kh) * Wp + kw into the padded
// image, so that output pixel (oh, ow) of tap k reads xpad[koff[k] + oh * stride * Wp + ow * stride].
inline void tap_offsets(const Conv2dShape& s, const Padded& pd, std::uint32_t* koff) {
    std::size_t i = 0;
    for (std::size_t c = 0; c < s.in_channels; ++c)
        for (std::size_t kh = 0; kh < s.kernel; ++kh)
            for (std::size_t kw = 0; kw < s.kernel; ++kw) koff[i++] = std::uint32_t((c * pd.Hp + kh) * pd.Wp + kw);
}

// qoff[q] for output pixel q = (oh, ow): the offset (oh * Wp + ow) * stride of its window's corner in
// the padded image (OH * OW entries).
inline void pixel_offsets(const Conv2dShape& s, const Padded& pd, std::uint32_t* qoff) {
    for (std::size_t oh = 0, i = 0; oh < s.out_h(); ++oh)
        for (std::size_t ow = 0; ow < s.out_w(); ++ow) qoff[i++] = std::uint32_t((oh * pd.Wp + ow) * s.stride);
}

// dst[p * dplane + r * drow + i] = src[p * splane + r * srow + i] for `planes` planes of rows x width.
// Pads an image (into a buffer whose border is zero already), spreads dy over the padded width (the
// columns past the image stay zero) and crops a padded dx back to the image.
template <class T>
void copy_planes(T* __restrict dst, std::size_t dplane, std::size_t drow, const T* __restrict src, std::size_t splane,
                 std::size_t srow, std::size_t planes, std::size_t rows, std::size_t width) {
    for (std::size_t p = 0; p < planes; ++p)
        for (std::size_t r = 0; r < rows; ++r) copy_short(dst + p * dplane + r * drow, src + p * splane + r * srow, width);
}

// Copies image x (C x H x W) into the interior of xpad (C x Hp x Wp); the border is not written and
// must be zero already (the buffers are zeroed once per thread).
template <class T>
void pad_image(const Conv2dShape& s, const Padded& pd, const T* x, T* xpad) {
    copy_planes(xpad + s.padding * pd.Wp + s.padding, pd.plane(), pd.Wp, x, s.in_h * s.in_w, s.in_w, s.in_channels,
                s.in_h, s.in_w);
}

// Image n of the batch x in its padded layout, for kernels whose reads from it reach `reach` elements
// past its start: x itself when the convolution has no padding (the padded layout is then the
// image) and those reads stay inside the batch (reads past the image's end land in the next image and
// only feed results that are dropped); otherwise a copy into xpad, whose border is zero. Skipping the
// copy saves a pass over every image of LeNet's conv2.
template <class T>
const T* padded_image(const Conv2dShape& s, const Padded& pd, const T* x, std::size_t n, std::size_t reach, T* xpad) {
    const std::size_t in_sz = s.in_channels * s.in_h * s.in_w;
    if (s.padding == 0 && n * in_sz + reach <= s.batch * in_sz) return x + n * in_sz;
    pad_image(s, pd, x + n * in_sz, xpad);
    return xpad;
}

// Padded-width formulation of a stride-1 convolution: output pixel (oh, ow) is q = oh * Wp + ow, and
// tap k reads xpad[koff[k] + q], so over q the convolution is a 1-D correlation with contiguous loads.
// Q = the last valid q + 1, rounded up to vectors of W as Qv; the columns ow >= OW are computed and
// discarded. koff has Kp = K rounded up to k_multiple entries, the extra ones reading offset 0 (their
// results are never used). Vector loads reach up to koff[K-1] + Qv: xlen covers that with a zero tail.
struct FlatGeometry : Padded {
    std::size_t K, Kp, OH, OW, Q, Qv, xlen;
    Scratch<std::uint32_t> koff;
    FlatGeometry(const Conv2dShape& s, std::size_t W, std::size_t k_multiple)
        : Padded(s), K(s.in_channels * s.kernel * s.kernel), Kp((K + k_multiple - 1) / k_multiple * k_multiple),
          OH(s.out_h()), OW(s.out_w()), Q((OH - 1) * Wp + OW), Qv((Q + W - 1) / W * W), koff(Kp) {
        std::fill(koff.data(), koff.data() + Kp, 0u);
        tap_offsets(s, *this, koff.data());
        xlen = std::max(s.in_channels * plane(), std::size_t(koff.data()[K - 1]) + Qv);
    }
};

}  // namespace ctgrad::kernels::detail
