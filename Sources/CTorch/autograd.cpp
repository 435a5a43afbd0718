// Autograd: gradients of one or many objectives (CAOB needs per-objective gradients).
#include "internal.h"
#include <torch/csrc/autograd/autograd.h>

extern "C" {

ct_status ct_set_requires_grad(ct_tensor t, int flag) { CT_GUARD(t->t.requires_grad_(flag != 0)); }
int ct_requires_grad(ct_tensor t) { return t->t.requires_grad() ? 1 : 0; }
int ct_is_leaf(ct_tensor t) { return t->t.is_leaf() ? 1 : 0; }

ct_status ct_backward(ct_tensor t, ct_tensor grad, int retain_graph, int create_graph) {
  CT_GUARD(t->t.backward(ctorch::opt(grad), retain_graph ? std::optional<bool>(true) : std::optional<bool>(create_graph != 0),
                         create_graph != 0));
}

ct_status ct_grad(ct_tensor t, ct_tensor *out) {
  CT_GUARD({
    const at::Tensor &g = t->t.grad();
    *out = g.defined() ? ctorch::wrap(g) : nullptr;
  });
}

ct_status ct_set_grad(ct_tensor t, ct_tensor grad) {
  CT_GUARD(t->t.mutable_grad() = grad ? grad->t : at::Tensor());
}

ct_status ct_detach(ct_tensor t, ct_tensor *out) { CT_OUT(t->t.detach()); }

ct_status ct_autograd_grad(const ct_tensor *outputs, int n_out, const ct_tensor *grad_outputs,
                           const ct_tensor *inputs, int n_in, int retain_graph, int create_graph,
                           int allow_unused, ct_tensor *outs) {
  CT_GUARD({
    std::vector<at::Tensor> o, go, in;
    for (int i = 0; i < n_out; ++i) {
      o.push_back(outputs[i]->t);
      go.push_back(grad_outputs && grad_outputs[i] ? grad_outputs[i]->t : at::Tensor());
    }
    for (int i = 0; i < n_in; ++i) in.push_back(inputs[i]->t);
    auto g = torch::autograd::grad(o, in, go, retain_graph ? std::optional<bool>(true) : std::nullopt,
                                   create_graph != 0, allow_unused != 0);
    for (int i = 0; i < n_in; ++i) outs[i] = g[i].defined() ? ctorch::wrap(g[i]) : nullptr;
  });
}

}  // extern "C"
