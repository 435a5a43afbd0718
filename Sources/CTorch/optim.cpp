// Optimizer steps over all of a group's parameters at once with ATen's multi-tensor (`_foreach_`)
// kernels, as PyTorch's default `foreach` implementation: on a GPU a few launches per step
// instead of ~8 per parameter (ConDSeg-ResNet50's Adam step: 23 ms → a few ms on an H200); on the
// CPU the same per-tensor arithmetic as before.
#include "internal.h"

#include <c10/core/GradMode.h>

#include <cmath>

extern "C" {

ct_status ct_adam_step(const ct_tensor *params, const ct_tensor *grads, const ct_tensor *exp_avgs,
                       const ct_tensor *exp_avg_sqs, const ct_tensor *max_exp_avg_sqs, const double *steps, int n,
                       double lr, double beta1, double beta2, double eps, double weight_decay, int decoupled) noexcept {
  CT_GUARD({
    if (n == 0) return 0;
    if (!steps) throw std::invalid_argument("step list is NULL");
    auto p = ctorch::Ts(params, n, "parameter"), g = ctorch::Ts(grads, n, "gradient");
    auto m = ctorch::Ts(exp_avgs, n, "exp_avg"), v = ctorch::Ts(exp_avg_sqs, n, "exp_avg_sq");
    c10::AutoGradMode no_grad(false);
    if (weight_decay != 0) {
      if (decoupled) at::_foreach_mul_(p, 1 - lr * weight_decay);
      else g = at::_foreach_add(g, p, weight_decay);
    }
    at::_foreach_lerp_(m, g, 1 - beta1);
    at::_foreach_mul_(v, beta2);
    at::_foreach_addcmul_(v, g, g, 1 - beta2);
    std::vector<at::Scalar> step_size, correction2;
    step_size.reserve(n);
    correction2.reserve(n);
    for (int i = 0; i < n; ++i) {
      step_size.emplace_back(-lr / (1 - std::pow(beta1, steps[i])));
      correction2.emplace_back(std::sqrt(1 - std::pow(beta2, steps[i])));
    }
    std::vector<at::Tensor> denom;
    if (max_exp_avg_sqs) {
      auto mx = ctorch::Ts(max_exp_avg_sqs, n, "max_exp_avg_sq");
      at::_foreach_maximum_(mx, v);
      denom = at::_foreach_sqrt(mx);
    } else {
      denom = at::_foreach_sqrt(v);
    }
    at::_foreach_div_(denom, correction2);
    at::_foreach_add_(denom, eps);
    at::_foreach_addcdiv_(p, m, denom, step_size);
  });
}

}  // extern "C"
