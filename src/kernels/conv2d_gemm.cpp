// Convolution as per-image GEMM (any stride; the direct kernels take stride 1). The im2col matrix of
// one image (LeNet-sized layers: 25 x 784 or 150 x 100 values, 60-80 KB) stays in L2 between being
// written and being multiplied, instead of streaming a batch-sized im2col matrix through memory
// twice. For the forward pass and the weight gradient it is written straight into the GEMM's
// packed-B layout from a zero-padded copy of the image, through offset tables (a gather), so there is
// no separate packing copy and no bounds logic in the inner loop. The input gradient multiplies
// W^T dy into a column buffer and adds it back onto the image (col2im). The batch is split by
// conv2d_chunks.hpp; the GEMMs inside run serially.
#include "conv2d_chunks.hpp"
#include "conv2d_geometry.hpp"
#include "conv2d_paths.hpp"
#include "gemm_core.hpp"

#include <ctgrad/expr/scratch.hpp>
#include <ctgrad/kernels/gemm.hpp>

#include <algorithm>
#include <cstdint>

namespace ctgrad::kernels::detail {
namespace {

// Offset tables into the zero-padded image: element (k, q) of the im2col matrix, k = (c, kh, kw) and
// q = (oh, ow), is xpad[koff[k] + qoff[q]]. Both tables are padded (with offset 0) to whole packed
// panels, since the gathers load a panel's indices even where they mask the lanes off.
struct GatherGeometry : Padded {
    std::size_t K, P;
    Scratch<std::uint32_t> koff, qoff;
    static std::size_t panels(std::size_t n) { return std::max(round_up_nr<float>(n), round_up_nr<double>(n)); }
    explicit GatherGeometry(const Conv2dShape& s)
        : Padded(s), K(s.in_channels * s.kernel * s.kernel), P(s.out_h() * s.out_w()), koff(panels(K)),
          qoff(panels(P)) {
        std::fill(koff.data(), koff.data() + koff.size(), 0u);
        std::fill(qoff.data(), qoff.data() + qoff.size(), 0u);
        tap_offsets(s, *this, koff.data());
        pixel_offsets(s, *this, qoff.data());
    }
};

// Writes the R x N matrix M[r][n] = xpad[roff[r] + noff[n]] into the packed-B layout (zero columns past
// N). Forward: rows are k, columns q (roff = koff, noff = qoff); weight gradient: the transpose.
template <class T>
void pack_gather(const T* __restrict xpad, const std::uint32_t* __restrict roff, std::size_t R,
                 const std::uint32_t* __restrict noff, std::size_t N, T* __restrict bp) {
    constexpr std::size_t NR = Cfg<T>::NR, KC = Cfg<T>::KC;
    const std::size_t n_pad = round_up_nr<T>(N);
    for (std::size_t r = 0; r < R; ++r) {
        const T* base = xpad + roff[r];
        T* row = bp + packed_b_index<T>(R, n_pad, r, 0);
        const std::size_t kc = std::min(KC, R - (r - r % KC));
        for (std::size_t j0 = 0; j0 < N; j0 += NR) gather_zero_fill<NR>(base, noff + j0, row + j0 * kc, N - j0);
    }
}

// Output positions o in [lo, hi) for which o*stride + kk - pad falls inside [0, in).
struct Range {
    std::size_t lo, hi;
};
Range valid_range(std::size_t kk, std::size_t in, std::size_t out, std::size_t stride, std::size_t pad) {
    const std::size_t lo = kk >= pad ? 0 : std::min(out, (pad - kk + stride - 1) / stride);
    const std::size_t hi = in + pad > kk ? std::min(out, (in + pad - kk - 1) / stride + 1) : 0;
    return {lo, std::max(lo, hi)};
}

// The adjoint of im2col: dx[c, ih, iw] += col[(c*k + kh)*k + kw][oh*OW + ow] for every position
// (ih, iw) = (oh*s + kh - p, ow*s + kw - p) inside the image.
template <class T>
void col2im_add(const Conv2dShape& s, const T* col, T* dx) {
    const std::size_t H = s.in_h, Wd = s.in_w, k = s.kernel, st = s.stride, p = s.padding;
    const std::size_t OH = s.out_h(), OW = s.out_w(), P = OH * OW;
    for (std::size_t c = 0; c < s.in_channels; ++c)
        for (std::size_t kh = 0; kh < k; ++kh) {
            const Range rr = valid_range(kh, H, OH, st, p);
            for (std::size_t kw = 0; kw < k; ++kw) {
                const Range cr = valid_range(kw, Wd, OW, st, p);
                const T* srcc = col + ((c * k + kh) * k + kw) * P;
                for (std::size_t oh = rr.lo; oh < rr.hi; ++oh) {
                    const T* d = srcc + oh * OW;
                    T* dst = dx + (c * H + oh * st + kh - p) * Wd;
                    if (st == 1 && cr.hi > cr.lo) {
                        add_run(dst + (cr.lo + kw - p), d + cr.lo, cr.hi - cr.lo);
                    } else {
                        for (std::size_t ow = cr.lo; ow < cr.hi; ++ow) dst[ow * st + kw - p] += d[ow];
                    }
                }
            }
        }
}

}  // namespace

template <class T>
void gemm_forward(const Conv2dShape& s, const T* x, const T* w, const T* bias, T* y, const Conv2dEpilogue& ep,
                  std::uint32_t* argmax) {
    const GatherGeometry g(s);
    const std::size_t OC = s.out_channels, K = g.K, P = g.P, OH = s.out_h(), OW = s.out_w();
    const std::size_t in_sz = s.in_channels * s.in_h * s.in_w, out_sz = OC * ep.out_h(OH) * ep.out_w(OW);
    struct Buffers {
        Scratch<T> xpad, bp, ytmp;
    };
    for_each_image(
        s.batch,
        [&] {
            Buffers b{Scratch<T>(s.in_channels * g.plane()), Scratch<T>(K * round_up_nr<T>(P)),
                      Scratch<T>(ep.pool ? OC * P : 0)};
            std::fill(b.xpad.data(), b.xpad.data() + b.xpad.size(), T(0));  // the border stays zero
            return b;
        },
        [&](std::size_t n, Buffers& b) {
            // Without pooling the GEMM writes the layer output in place; with it, a per-image buffer.
            T* yn = y + n * out_sz;
            T* cn = ep.pool ? b.ytmp.data() : yn;
            pad_image(s, g, x + n * in_sz, b.xpad.data());
            pack_gather(b.xpad.data(), g.koff.data(), K, g.qoff.data(), P, b.bp.data());
            if (bias)
                for (std::size_t oc = 0; oc < OC; ++oc) std::fill(cn + oc * P, cn + (oc + 1) * P, bias[oc]);
            gemm_prepacked_b(false, OC, P, K, T(1), w, K, b.bp.data(), bias ? T(1) : T(0), cn, P);
            epilogue_image(ep, cn, OC, OH, OW, OW, P, yn, argmax ? argmax + n * out_sz : nullptr);
        });
}

template <class T>
void gemm_backward_input(const Conv2dShape& s, const OutputGrad<T>& og, const T* w, T* dx) {
    const std::size_t OC = s.out_channels, K = s.in_channels * s.kernel * s.kernel, P = s.out_h() * s.out_w();
    const std::size_t in_sz = s.in_channels * s.in_h * s.in_w;
    const bool pointwise = is_pointwise(s);
    struct Buffers {
        Scratch<T> col, dym;
    };
    for_each_image(
        s.batch, [&] { return Buffers{Scratch<T>(pointwise ? 0 : K * P), Scratch<T>(og.buffer_size())}; },
        [&](std::size_t n, Buffers& b) {
            const T* dyn = og.image(n, b.dym.data());
            T* dxn = dx + n * in_sz;
            if (pointwise) {  // the image is the K x P matrix: dx = W^T dy directly
                gemm(true, false, K, P, OC, T(1), w, K, dyn, P, T(0), dxn, P);
                return;
            }
            gemm(true, false, K, P, OC, T(1), w, K, dyn, P, T(0), b.col.data(), P);
            std::fill(dxn, dxn + in_sz, T(0));
            col2im_add(s, b.col.data(), dxn);
        });
}

template <class T>
void gemm_backward_weights(const Conv2dShape& s, const T* x, const OutputGrad<T>& og, T* dw, T* db) {
    const GatherGeometry g(s);
    const std::size_t OC = s.out_channels, K = g.K, P = g.P;
    const std::size_t in_sz = s.in_channels * s.in_h * s.in_w;
    struct Buffers {
        Scratch<T> xpad, bp, dym;
    };
    reduce_over_images<T>(
        s.batch, OC * K + OC,  // dw, then db
        [&] {
            Buffers b{Scratch<T>(s.in_channels * g.plane()), Scratch<T>(P * round_up_nr<T>(K)),
                      Scratch<T>(og.buffer_size())};
            std::fill(b.xpad.data(), b.xpad.data() + b.xpad.size(), T(0));
            return b;
        },
        [&](std::size_t n, Buffers& b, T* part) {
            const T* dyn = og.image(n, b.dym.data());
            // dw[oc, k] += sum_q dy[oc, q] * col[k, q]: B is col transposed (P x K).
            pad_image(s, g, x + n * in_sz, b.xpad.data());
            pack_gather(b.xpad.data(), g.qoff.data(), P, g.koff.data(), K, b.bp.data());
            gemm_prepacked_b(false, OC, K, P, T(1), dyn, P, b.bp.data(), T(1), part, K);
            if (db)
                for (std::size_t oc = 0; oc < OC; ++oc) {
                    T acc = T(0);
                    for (std::size_t i = 0; i < P; ++i) acc += dyn[oc * P + i];
                    part[OC * K + oc] += acc;
                }
        },
        [&](const T* part) {
            for (std::size_t i = 0; i < OC * K; ++i) dw[i] += part[i];
            if (db)
                for (std::size_t oc = 0; oc < OC; ++oc) db[oc] += part[OC * K + oc];
        });
}

template void gemm_forward(const Conv2dShape&, const float*, const float*, const float*, float*, const Conv2dEpilogue&,
                           std::uint32_t*);
template void gemm_forward(const Conv2dShape&, const double*, const double*, const double*, double*,
                           const Conv2dEpilogue&, std::uint32_t*);
template void gemm_backward_input(const Conv2dShape&, const OutputGrad<float>&, const float*, float*);
template void gemm_backward_input(const Conv2dShape&, const OutputGrad<double>&, const double*, double*);
template void gemm_backward_weights(const Conv2dShape&, const float*, const OutputGrad<float>&, float*, float*);
template void gemm_backward_weights(const Conv2dShape&, const double*, const OutputGrad<double>&, double*, double*);

}  // namespace ctgrad::kernels::detail
