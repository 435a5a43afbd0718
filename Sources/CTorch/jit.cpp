// TorchScript modules (torch.jit.save files) loaded and run through libtorch's JIT: a
// user-supplied model such as a promptable segmenter, called with tensors and None.
#include "internal.h"

#include <torch/script.h>

struct ct_module_s {
  torch::jit::Module m;
};

namespace {
int forward_arguments(ct_module m) {
  if (!m) throw std::invalid_argument("module handle is NULL");
  auto method = m->m.find_method("forward");
  if (!method) throw std::invalid_argument("the TorchScript module has no forward method");
  // The schema's first argument is `self`.
  return static_cast<int>(method->function().getSchema().arguments().size()) - 1;
}
}  // namespace

extern "C" {

ct_status ct_jit_load(const char *path, int dev_type, int dev_index, ct_module *out) noexcept {
  CT_GUARD({
    if (!path) throw std::invalid_argument("path is NULL");
    if (!out) throw std::invalid_argument("output pointer is NULL");
    auto device = ctorch::device(dev_type, dev_index);
    auto module = torch::jit::load(std::string(path), device);
    module.eval();
    *out = new ct_module_s{std::move(module)};
  });
}

void ct_jit_free(ct_module m) noexcept { delete m; }

int ct_jit_forward_arguments(ct_module m) noexcept { CT_VALUE(-1, forward_arguments(m)); }

ct_status ct_jit_forward(ct_module m, const ct_tensor *inputs, int n, ct_tensor *out) noexcept {
  CT_GUARD({
    if (!m) throw std::invalid_argument("module handle is NULL");
    if (!out) throw std::invalid_argument("output pointer is NULL");
    if (n < 0 || (n > 0 && !inputs)) throw std::invalid_argument("bad input list");
    std::vector<c10::IValue> args;
    args.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      if (inputs[i]) args.emplace_back(ctorch::T(inputs[i])); else args.emplace_back(c10::IValue());
    }
    torch::NoGradGuard no_grad;
    auto result = m->m.forward(std::move(args));
    // A tensor, or a tuple/list whose first element is one (SAM returns masks, scores, …).
    if (result.isTuple()) {
      auto &elements = result.toTupleRef().elements();
      if (elements.empty()) throw std::invalid_argument("forward returned an empty tuple, not a tensor");
      result = elements[0];
    } else if (result.isTensorList()) {
      auto list = result.toTensorList();
      if (list.size() == 0) throw std::invalid_argument("forward returned an empty list, not a tensor");
      result = c10::IValue(list.get(0));
    }
    if (!result.isTensor()) throw std::invalid_argument("forward returned " + result.tagKind() + ", not a tensor");
    *out = ctorch::wrap(result.toTensor());
  });
}

}  // extern "C"
