// Shared by the shim's translation units: handle layout and the exception guard.
#pragma once
#include <ATen/ATen.h>
#include <string>
#include <vector>
#include "ctorch.h"

struct ct_tensor_s {
  at::Tensor t;
};
struct ct_generator_s {
  at::Generator g;
};

namespace ctorch {
void set_error(const char *message);

inline ct_tensor wrap(at::Tensor t) { return new ct_tensor_s{std::move(t)}; }
inline const at::Tensor &T(ct_tensor h) { return h->t; }
inline at::Tensor opt(ct_tensor h) { return h ? h->t : at::Tensor(); }
inline std::optional<at::Tensor> optional(ct_tensor h) {
  return h ? std::optional<at::Tensor>(h->t) : std::nullopt;
}
inline at::IntArrayRef ints(const int64_t *p, int n) { return at::IntArrayRef(p, static_cast<size_t>(n)); }
inline at::ScalarType dtype(int code) { return static_cast<at::ScalarType>(code); }
inline at::Device device(int type, int index) {
  return type == 1 ? at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index)) : at::Device(at::kCPU);
}
inline at::TensorOptions options(int dtype_code, int dev_type, int dev_index) {
  return at::TensorOptions().dtype(dtype(dtype_code)).device(device(dev_type, dev_index));
}
}  // namespace ctorch

// Every entry point body runs inside CT_GUARD: C++ exceptions become an error status.
#define CT_GUARD(...)                                                    \
  try {                                                                  \
    __VA_ARGS__;                                                              \
    return 0;                                                            \
  } catch (const c10::Error &e) {                                        \
    ctorch::set_error(e.what_without_backtrace());                       \
  } catch (const std::exception &e) {                                    \
    ctorch::set_error(e.what());                                         \
  } catch (...) {                                                        \
    ctorch::set_error("unknown C++ exception in libtorch");              \
  }                                                                      \
  return 1;

#define CT_OUT(...) CT_GUARD(*out = ctorch::wrap(__VA_ARGS__))
