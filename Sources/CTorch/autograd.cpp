// Autograd: gradients of one or many objectives (CAOB needs per-objective gradients).
#include "internal.h"
#include <torch/csrc/autograd/autograd.h>

extern "C" {

ct_status ct_set_requires_grad(ct_tensor t, int flag) noexcept { CT_GUARD(ctorch::T(t).requires_grad_(flag != 0)); }
int ct_requires_grad(ct_tensor t) noexcept { CT_VALUE(-1, ctorch::T(t).requires_grad() ? 1 : 0); }
int ct_is_leaf(ct_tensor t) noexcept { CT_VALUE(-1, ctorch::T(t).is_leaf() ? 1 : 0); }

ct_status ct_backward(ct_tensor t, ct_tensor grad, int retain_graph, int create_graph) noexcept {
  CT_GUARD(ctorch::T(t).backward(ctorch::opt(grad), retain_graph ? std::optional<bool>(true) : std::optional<bool>(create_graph != 0),
                         create_graph != 0));
}

ct_status ct_grad(ct_tensor t, ct_tensor *out) noexcept {
  CT_GUARD({
    if (!out) throw std::invalid_argument("output pointer is NULL");
    const at::Tensor &g = ctorch::T(t).grad();
    *out = g.defined() ? ctorch::wrap(g) : nullptr;
  });
}

ct_status ct_set_grad(ct_tensor t, ct_tensor grad) noexcept {
  CT_GUARD(ctorch::T(t).mutable_grad() = ctorch::opt(grad));
}

ct_status ct_detach(ct_tensor t, ct_tensor *out) noexcept { CT_OUT(ctorch::T(t).detach()); }

ct_status ct_autograd_grad(const ct_tensor *outputs, int n_out, const ct_tensor *grad_outputs,
                           const ct_tensor *inputs, int n_in, int retain_graph, int create_graph,
                           int allow_unused, ct_tensor *outs) noexcept {
  CT_GUARD({
    if ((n_out > 0 && !outputs) || (n_in > 0 && (!inputs || !outs))) throw std::invalid_argument("tensor list is NULL");
    std::vector<at::Tensor> o, go, in;
    for (int i = 0; i < n_out; ++i) {
      o.push_back(ctorch::T(outputs[i]));
      go.push_back(grad_outputs ? ctorch::opt(grad_outputs[i]) : at::Tensor());
    }
    for (int i = 0; i < n_in; ++i) in.push_back(ctorch::T(inputs[i]));
    auto g = torch::autograd::grad(o, in, go, retain_graph ? std::optional<bool>(true) : std::nullopt,
                                   create_graph != 0, allow_unused != 0);
    for (int i = 0; i < n_in; ++i) outs[i] = g[i].defined() ? ctorch::wrap(g[i]) : nullptr;
  });
}

}  // extern "C"
