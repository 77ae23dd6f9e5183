#pragma once
// The convolution's fused epilogue (Conv2dEpilogue: ReLU, then max or average pooling), applied per
// image while its output is still in cache, and its adjoint: the gradient with respect to the
// convolution's own output, rebuilt per image from the gradient of the layer output. Shared by the
// direct and the GEMM paths. Private to src/kernels.
#include "conv2d_geometry.hpp"
#include "maxpool_plane.hpp"
#include "simd_helpers.hpp"

#include <ctgrad/kernels/conv2d.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace ctgrad::kernels::detail {

// Refuses epilogues the kernels cannot run (see Conv2dEpilogue).
inline void check_epilogue(const Conv2dEpilogue& ep) {
    if (ep.pool && ep.pool_stride == 0)
        throw std::invalid_argument("conv2d epilogue: pool = " + std::to_string(ep.pool) +
                                    " needs pool_stride >= 1, got 0");
    if (ep.pool && ep.avg_pool && ep.relu)
        throw std::invalid_argument("conv2d epilogue: relu with avg_pool is not supported (the backward pass "
                                    "needs the ReLU mask before averaging); fuse the ReLU only and pool separately");
}

// Average pooling of one plane (rows of xp ld apart): each window summed in row-major order, divided
// by its area.
template <class T>
void avg_plane_forward(const Pool2dShape& s, const T* xp, std::size_t ld, T* __restrict yp) {
    const std::size_t k = s.kernel, st = s.stride, OH = s.out_h(), OW = s.out_w();
    const T area = T(k * k);
    for (std::size_t oh = 0; oh < OH; ++oh)
        for (std::size_t ow = 0; ow < OW; ++ow) {
            const T* win = xp + oh * st * ld + ow * st;
            T acc = T(0);
            for (std::size_t kh = 0; kh < k; ++kh)
                for (std::size_t kw = 0; kw < k; ++kw) acc += win[kh * ld + kw];
            yp[oh * OW + ow] = acc / area;
        }
}

// Its adjoint: dx (one dense in_h x in_w plane, overwritten) gets dy / area at every position of each
// window, windows in row-major order (overlapping windows add up in that fixed order).
template <class T>
void avg_plane_backward(const Pool2dShape& s, const T* __restrict dyp, T* __restrict dxp) {
    const std::size_t k = s.kernel, st = s.stride, Wd = s.in_w, OH = s.out_h(), OW = s.out_w();
    const T area = T(k * k);
    std::fill(dxp, dxp + s.in_h * Wd, T(0));
    for (std::size_t oh = 0; oh < OH; ++oh)
        for (std::size_t ow = 0; ow < OW; ++ow) {
            const T g = dyp[oh * OW + ow] / area;
            T* win = dxp + oh * st * Wd + ow * st;
            for (std::size_t kh = 0; kh < k; ++kh)
                for (std::size_t kw = 0; kw < k; ++kw) win[kh * Wd + kw] += g;
        }
}

// Applies the epilogue to one image's convolution output (OC planes of OH x OW; rows ld apart, planes
// ldp apart; modified in place by the ReLU) and writes the layer output y densely (and, with max
// pooling, the argmax).
template <class T>
void epilogue_image(const Conv2dEpilogue& ep, T* src, std::size_t OC, std::size_t OH, std::size_t OW, std::size_t ld,
                    std::size_t ldp, T* __restrict y, std::uint32_t* __restrict argmax) {
    if (!ep.pool) {
        if (ep.relu)
            for (std::size_t oc = 0; oc < OC; ++oc)
                for (std::size_t oh = 0; oh < OH; ++oh) {
                    T* row = src + oc * ldp + oh * ld;
                    for (std::size_t i = 0; i < OW; ++i) row[i] = std::max(row[i], T(0));
                }
        if (src != y) copy_planes(y, OH * OW, OW, src, ldp, ld, OC, OH, OW);
        return;
    }
    const Pool2dShape ps{1, 1, OH, OW, ep.pool, ep.pool_stride};
    const std::size_t PP = ps.out_h() * ps.out_w();
    if (ep.avg_pool) {
        for (std::size_t oc = 0; oc < OC; ++oc) avg_plane_forward(ps, src + oc * ldp, ld, y + oc * PP);
        return;
    }
    for (std::size_t oc = 0; oc < OC; ++oc) {
        T* yc = y + oc * PP;
        pool_plane_forward(ps, src + oc * ldp, ld, yc, argmax + oc * PP);
        if (ep.relu)  // ReLU commutes with the max; std::max keeps a NaN maximum
            for (std::size_t i = 0; i < PP; ++i) yc[i] = std::max(yc[i], T(0));
    }
}

// The gradient with respect to the convolution's own output, image by image, from the gradient dy of
// the layer output (after the epilogue): routed back through the pooling (argmax, or spread over the
// window) and masked by y > 0 for the ReLU, in a per-thread buffer that stays in L1/L2, so that no
// batch-sized gradient of the convolution output is ever stored.
template <class T>
struct OutputGrad {
    const T* dy;
    const T* y;
    const std::uint32_t* argmax;
    Conv2dEpilogue ep;
    std::size_t OC, OH, OW, P, PP;  // channels, convolution-output plane, layer-output plane
    OutputGrad(const Conv2dShape& s, const T* dy_, const Conv2dEpilogue& ep_, const T* y_, const std::uint32_t* am)
        : dy(dy_), y(y_), argmax(am), ep(ep_), OC(s.out_channels), OH(s.out_h()), OW(s.out_w()), P(OH * OW),
          PP(ep_.out_h(OH) * ep_.out_w(OW)) {}
    // Elements of the per-thread buffer image() needs (0: dy is used as it is).
    std::size_t buffer_size() const { return ep.relu || ep.pool ? OC * P : 0; }
    // Image n's gradient (OC x OH x OW), in buf or straight from dy.
    const T* image(std::size_t n, T* __restrict buf) const {
        if (!ep.pool) return masked(n, buf);  // PP == P
        const T* __restrict d = dy + n * OC * PP;
        if (ep.avg_pool) {
            for (std::size_t oc = 0; oc < OC; ++oc) avg_plane_backward(pool_shape(), d + oc * PP, buf + oc * P);
            return buf;
        }
        max_pool_backward(n, buf, OW, P);
        return buf;
    }
    // Image n's gradient written into dst, planes ldp and rows ld apart (the columns past OW are not
    // written), as the direct kernels' padded-width layout wants it. The vectorised max-pool backward
    // writes those rows itself, saving a copy of every row; otherwise image() fills buf, copied over.
    void image_to(std::size_t n, T* __restrict dst, std::size_t ld, std::size_t ldp, T* __restrict buf) const {
        if (ep.pool && !ep.avg_pool && pool_backward_vectorised<T>(pool_shape()))
            return max_pool_backward(n, dst, ld, ldp);
        copy_planes(dst, ldp, ld, image(n, buf), P, OW, OC, OH, OW);
    }

    // Image n's gradient transposed, dst[q * OC + oc] for pixel q = oh * OW + ow (P x OC), as the
    // channel-vectorised weight gradient reads it. Through a max pool it is scattered straight from
    // the pooled gradient (a quarter of the pixels for 2x2 windows) instead of routed densely and
    // transposed. buf: as for image().
    void image_transposed(std::size_t n, T* __restrict dst, T* __restrict buf) const {
        if (ep.pool && !ep.avg_pool) {
            std::fill(dst, dst + P * OC, T(0));
            const T* d = masked(n, buf);
            const std::uint32_t* am = argmax + n * OC * PP;
            for (std::size_t oc = 0; oc < OC; ++oc)
                for (std::size_t j = 0; j < PP; ++j) dst[std::size_t(am[oc * PP + j]) * OC + oc] += d[oc * PP + j];
            return;
        }
        const T* g = image(n, buf);
        for (std::size_t oc = 0; oc < OC; ++oc)
            for (std::size_t q = 0; q < P; ++q) dst[q * OC + oc] = g[oc * P + q];
    }

    // Image n's gradient of the layer output (OC x PP), masked by y > 0 with the ReLU (in buf, by a
    // loop without branches) or straight from dy. Without pooling that is the gradient of the
    // convolution output; with max pooling, what reaches each window's arg-max, as
    // pool_plane_backward routes it.
    const T* masked(std::size_t n, T* __restrict buf) const {
        const T* d = dy + n * OC * PP;
        if (!ep.relu) return d;
        const T* yn = y + n * OC * PP;
        for (std::size_t o = 0; o < OC * PP; ++o) buf[o] = yn[o] > T(0) ? d[o] : T(0);
        return buf;
    }

private:
    Pool2dShape pool_shape() const { return {1, 1, OH, OW, ep.pool, ep.pool_stride}; }
    // dy routed to each window's arg-max (masked by y > 0 with the ReLU), planes ldp and rows ld apart.
    void max_pool_backward(std::size_t n, T* __restrict dst, std::size_t ld, std::size_t ldp) const {
        const T* d = dy + n * OC * PP;
        const T* yn = ep.relu ? y + n * OC * PP : nullptr;
        for (std::size_t oc = 0; oc < OC; ++oc)
            pool_plane_backward(pool_shape(), d + oc * PP, argmax + n * OC * PP + oc * PP, dst + oc * ldp,
                                yn ? yn + oc * PP : nullptr, ld);
    }
};

}  // namespace ctgrad::kernels::detail
