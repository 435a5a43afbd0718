// Linear algebra and the neural-network functions (convolution, pooling, normalisation, losses).
#include "internal.h"

namespace {
int64_t reduction(ct_reduction r) {
  switch (r) {
    case CT_REDUCTION_NONE: return at::Reduction::None;
    case CT_REDUCTION_MEAN: return at::Reduction::Mean;
    case CT_REDUCTION_SUM: return at::Reduction::Sum;
  }
  throw std::invalid_argument("unknown loss reduction " + std::to_string(static_cast<int>(r)));
}
}  // namespace

extern "C" {

ct_status ct_matmul(ct_tensor a, ct_tensor b, ct_tensor *out) noexcept { CT_OUT(at::matmul(ctorch::T(a), ctorch::T(b))); }
ct_status ct_linear(ct_tensor x, ct_tensor w, ct_tensor b, ct_tensor *out) noexcept {
  CT_OUT(at::linear(ctorch::T(x), ctorch::T(w), ctorch::optional(b)));
}

ct_status ct_convolution(ct_tensor x, ct_tensor w, ct_tensor b, const int64_t *stride, const int64_t *padding,
                         const int64_t *dilation, int transposed, const int64_t *output_padding, int64_t groups,
                         int spatial, ct_tensor *out) noexcept {
  CT_GUARD({
    if (spatial < 1 || spatial > 3) throw std::invalid_argument("convolution needs 1, 2 or 3 spatial dimensions");
    if (ctorch::T(x).dim() != spatial + 2)
      throw std::invalid_argument("convolution input must be (N, C, " + std::to_string(spatial) +
                                  " spatial dims), got " + std::to_string(ctorch::T(x).dim()) + " dims");
    std::vector<int64_t> zeros(spatial, 0);
    auto st = ctorch::ints(stride, spatial), pd = ctorch::ints(padding, spatial), dl = ctorch::ints(dilation, spatial);
    auto op = output_padding ? ctorch::ints(output_padding, spatial) : at::IntArrayRef(zeros);
    auto bias = ctorch::optional(b);
    at::Tensor r;
    // The per-rank ops (not at::convolution) so autocast and other dispatch wrappers see them, as in PyTorch.
    if (transposed) {
      switch (spatial) {
        case 1: r = at::conv_transpose1d(ctorch::T(x), ctorch::T(w), bias, st, pd, op, groups, dl); break;
        case 2: r = at::conv_transpose2d(ctorch::T(x), ctorch::T(w), bias, st, pd, op, groups, dl); break;
        default: r = at::conv_transpose3d(ctorch::T(x), ctorch::T(w), bias, st, pd, op, groups, dl); break;
      }
    } else {
      switch (spatial) {
        case 1: r = at::conv1d(ctorch::T(x), ctorch::T(w), bias, st, pd, dl, groups); break;
        case 2: r = at::conv2d(ctorch::T(x), ctorch::T(w), bias, st, pd, dl, groups); break;
        default: r = at::conv3d(ctorch::T(x), ctorch::T(w), bias, st, pd, dl, groups); break;
      }
    }
    *out = ctorch::wrap(std::move(r));
  });
}

ct_status ct_pool(ct_pool_kind kind, ct_tensor x, int spatial, const int64_t *kernel, const int64_t *stride,
                  const int64_t *padding, const int64_t *dilation, int ceil_mode, int count_include_pad,
                  ct_tensor *out) noexcept {
  CT_GUARD({
    auto k = ctorch::ints(kernel, spatial), s = ctorch::ints(stride, spatial), p = ctorch::ints(padding, spatial);
    bool c = ceil_mode != 0;
    at::Tensor r;
    if (kind != CT_POOL_MAX && kind != CT_POOL_AVG)
      throw std::invalid_argument("unknown pooling kind " + std::to_string(static_cast<int>(kind)));
    if (kind == CT_POOL_MAX) {
      auto d = ctorch::ints(dilation, spatial);
      switch (spatial) {
        case 1: r = at::max_pool1d(ctorch::T(x), k, s, p, d, c); break;
        case 2: r = at::max_pool2d(ctorch::T(x), k, s, p, d, c); break;
        case 3: r = at::max_pool3d(ctorch::T(x), k, s, p, d, c); break;
        default: throw std::invalid_argument("pooling needs 1, 2 or 3 spatial dimensions");
      }
    } else {
      bool inc = count_include_pad != 0;
      switch (spatial) {
        case 1: r = at::avg_pool1d(ctorch::T(x), k, s, p, c, inc); break;
        case 2: r = at::avg_pool2d(ctorch::T(x), k, s, p, c, inc); break;
        case 3: r = at::avg_pool3d(ctorch::T(x), k, s, p, c, inc); break;
        default: throw std::invalid_argument("pooling needs 1, 2 or 3 spatial dimensions");
      }
    }
    *out = ctorch::wrap(std::move(r));
  });
}

ct_status ct_adaptive_pool(ct_pool_kind kind, ct_tensor x, int spatial, const int64_t *output_size, ct_tensor *out) noexcept {
  CT_GUARD({
    if (kind != CT_POOL_MAX && kind != CT_POOL_AVG)
      throw std::invalid_argument("unknown pooling kind " + std::to_string(static_cast<int>(kind)));
    auto o = ctorch::ints(output_size, spatial);
    at::Tensor r;
    switch (spatial * 2 + kind) {
      case 2: r = std::get<0>(at::adaptive_max_pool1d(ctorch::T(x), o)); break;
      case 3: r = at::adaptive_avg_pool1d(ctorch::T(x), o); break;
      case 4: r = std::get<0>(at::adaptive_max_pool2d(ctorch::T(x), o)); break;
      case 5: r = at::adaptive_avg_pool2d(ctorch::T(x), o); break;
      case 6: r = std::get<0>(at::adaptive_max_pool3d(ctorch::T(x), o)); break;
      case 7: r = at::adaptive_avg_pool3d(ctorch::T(x), o); break;
      default: throw std::invalid_argument("adaptive pooling needs 1, 2 or 3 spatial dimensions");
    }
    *out = ctorch::wrap(std::move(r));
  });
}

ct_status ct_interpolate(ct_tensor x, ct_interpolation mode, const int64_t *sizes, const double *scales, int spatial,
                         int align_corners, ct_tensor *out) noexcept {
  CT_GUARD({
    if (spatial < 1 || spatial > 3) throw std::invalid_argument("interpolate needs 1, 2 or 3 spatial dimensions");
    if (ctorch::T(x).dim() != spatial + 2) throw std::invalid_argument("interpolate input must be (N, C, spatial...)");
    if (!sizes && !scales) throw std::invalid_argument("interpolate needs sizes or scales");
    std::vector<int64_t> size(spatial);
    std::vector<double> sc;
    for (int i = 0; i < spatial; ++i) {
      if (sizes) size[i] = sizes[i];
      else size[i] = static_cast<int64_t>(std::floor(ctorch::T(x).size(i + 2) * scales[i]));
    }
    auto o = at::IntArrayRef(size);
    bool ac = align_corners != 0;
    std::optional<double> s0, s1, s2;
    if (!sizes) { s0 = scales[0]; if (spatial > 1) s1 = scales[1]; if (spatial > 2) s2 = scales[2]; }
    at::Tensor r;
    if (mode == CT_INTERPOLATE_LINEAR) {
      switch (spatial) {
        case 1: r = at::upsample_linear1d(ctorch::T(x), o, ac, s0); break;
        case 2: r = at::upsample_bilinear2d(ctorch::T(x), o, ac, s0, s1); break;
        case 3: r = at::upsample_trilinear3d(ctorch::T(x), o, ac, s0, s1, s2); break;
      }
    } else if (mode == CT_INTERPOLATE_NEAREST) {
      switch (spatial) {
        case 1: r = at::upsample_nearest1d(ctorch::T(x), o, s0); break;
        case 2: r = at::upsample_nearest2d(ctorch::T(x), o, s0, s1); break;
        case 3: r = at::upsample_nearest3d(ctorch::T(x), o, s0, s1, s2); break;
      }
    } else if (mode == CT_INTERPOLATE_NEAREST_EXACT) {
      switch (spatial) {
        case 1: r = at::_upsample_nearest_exact1d(ctorch::T(x), o, s0); break;
        case 2: r = at::_upsample_nearest_exact2d(ctorch::T(x), o, s0, s1); break;
        case 3: r = at::_upsample_nearest_exact3d(ctorch::T(x), o, s0, s1, s2); break;
      }
    }
    if (!r.defined()) throw std::invalid_argument("unknown interpolation mode " + std::to_string(static_cast<int>(mode)));
    *out = ctorch::wrap(std::move(r));
  });
}

ct_status ct_pad(ct_tensor x, const int64_t *pad, int n, ct_pad_mode mode, double value, ct_tensor *out) noexcept {
  CT_GUARD({
    const char *m = nullptr;
    switch (mode) {
      case CT_PAD_CONSTANT: m = "constant"; break;
      case CT_PAD_REFLECT: m = "reflect"; break;
      case CT_PAD_REPLICATE: m = "replicate"; break;
      case CT_PAD_CIRCULAR: m = "circular"; break;
    }
    if (!m) throw std::invalid_argument("unknown padding mode " + std::to_string(static_cast<int>(mode)));
    *out = ctorch::wrap(at::pad(ctorch::T(x), ctorch::ints(pad, n), m,
                                mode == CT_PAD_CONSTANT ? std::optional<double>(value) : std::nullopt));
  });
}

ct_status ct_softmax(ct_tensor x, int64_t dim, int log, ct_tensor *out) noexcept {
  CT_OUT(log ? at::log_softmax(ctorch::T(x), dim) : at::softmax(ctorch::T(x), dim));
}
ct_status ct_dropout(ct_tensor x, double p, int train, ct_tensor *out) noexcept { CT_OUT(at::dropout(ctorch::T(x), p, train != 0)); }

ct_status ct_batch_norm(ct_tensor x, ct_tensor w, ct_tensor b, ct_tensor running_mean, ct_tensor running_var,
                        int training, double momentum, double eps, ct_tensor *out) noexcept {
  CT_OUT(at::batch_norm(ctorch::T(x), ctorch::optional(w), ctorch::optional(b), ctorch::optional(running_mean),
                        ctorch::optional(running_var), training != 0, momentum, eps, true));
}
ct_status ct_instance_norm(ct_tensor x, ct_tensor w, ct_tensor b, ct_tensor running_mean, ct_tensor running_var,
                           int use_input_stats, double momentum, double eps, ct_tensor *out) noexcept {
  CT_OUT(at::instance_norm(ctorch::T(x), ctorch::optional(w), ctorch::optional(b), ctorch::optional(running_mean),
                           ctorch::optional(running_var), use_input_stats != 0, momentum, eps, true));
}
ct_status ct_group_norm(ct_tensor x, int64_t groups, ct_tensor w, ct_tensor b, double eps, ct_tensor *out) noexcept {
  CT_OUT(at::group_norm(ctorch::T(x), groups, ctorch::optional(w), ctorch::optional(b), eps, true));
}
ct_status ct_layer_norm(ct_tensor x, const int64_t *shape, int n, ct_tensor w, ct_tensor b, double eps, ct_tensor *out) noexcept {
  CT_OUT(at::layer_norm(ctorch::T(x), ctorch::ints(shape, n), ctorch::optional(w), ctorch::optional(b), eps, true));
}

ct_status ct_cross_entropy(ct_tensor logits, ct_tensor target, ct_tensor weight, ct_reduction reduction,
                           int64_t ignore_index, double label_smoothing, ct_tensor *out) noexcept {
  CT_OUT(at::cross_entropy_loss(ctorch::T(logits), ctorch::T(target), ctorch::optional(weight), ::reduction(reduction),
                                ignore_index < -1000000000LL ? -100 : ignore_index, label_smoothing));
}
ct_status ct_bce_with_logits(ct_tensor logits, ct_tensor target, ct_tensor weight, ct_tensor pos_weight,
                             ct_reduction reduction, ct_tensor *out) noexcept {
  CT_OUT(at::binary_cross_entropy_with_logits(ctorch::T(logits), ctorch::T(target), ctorch::optional(weight),
                                              ctorch::optional(pos_weight), ::reduction(reduction)));
}

}  // extern "C"
