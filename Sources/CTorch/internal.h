// Shared by the shim's translation units: handle layout, argument validation and the exception guard.
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
void set_error(const char *message) noexcept;

/// Whether Contour supports this ScalarType (the ct_scalar_type values).
inline bool supported(at::ScalarType s) {
  switch (s) {
    case at::kByte: case at::kChar: case at::kShort: case at::kInt: case at::kLong: case at::kHalf:
    case at::kFloat: case at::kDouble: case at::kBool: case at::kBFloat16: return true;
    default: return false;
  }
}

// Results are checked here so that a Swift Tensor always holds a defined tensor of a known dtype.
inline ct_tensor wrap(at::Tensor t) {
  if (!t.defined()) throw std::logic_error("libtorch returned an undefined tensor");
  if (!supported(t.scalar_type()))
    throw std::invalid_argument(std::string("libtorch returned a tensor of dtype ") + c10::toString(t.scalar_type()) +
                                ", which Contour does not support");
  return new ct_tensor_s{std::move(t)};
}
/// The tensor behind a required handle; NULL or undefined is an error, never a default.
inline const at::Tensor &T(ct_tensor h) {
  if (!h) throw std::invalid_argument("tensor handle is NULL");
  if (!h->t.defined()) throw std::invalid_argument("tensor is undefined");
  return h->t;
}

/// The tensors behind n handles (`what` names the list in errors).
inline std::vector<at::Tensor> Ts(const ct_tensor *hs, int n, const char *what = "tensor") {
  if (n < 0 || (n > 0 && !hs)) throw std::invalid_argument(std::string(what) + " list is NULL");
  std::vector<at::Tensor> v;
  v.reserve(n);
  for (int i = 0; i < n; ++i) v.push_back(T(hs[i]));
  return v;
}
inline at::Tensor opt(ct_tensor h) { return h ? T(h) : at::Tensor(); }
inline std::optional<at::Tensor> optional(ct_tensor h) {
  return h ? std::optional<at::Tensor>(T(h)) : std::nullopt;
}
inline at::IntArrayRef ints(const int64_t *p, int n) {
  if (n < 0) throw std::invalid_argument("negative array length " + std::to_string(n));
  if (n > 0 && !p) throw std::invalid_argument("array pointer is NULL for length " + std::to_string(n));
  return at::IntArrayRef(p, static_cast<size_t>(n));
}
inline at::ScalarType dtype(int code) {
  if (code >= 0 && supported(static_cast<at::ScalarType>(code))) return static_cast<at::ScalarType>(code);
  throw std::invalid_argument("unknown dtype code " + std::to_string(code) +
                              " (supported: uint8 0, int8 1, int16 2, int32 3, int64 4, float16 5, float32 6, "
                              "float64 7, bool 11, bfloat16 15)");
}
/// Validates type and index (a CUDA device loads CUDA, and must exist).
at::Device device(int type, int index);
/// The device type alone (autocast), validated.
at::DeviceType device_type(int type);
inline at::TensorOptions options(int dtype_code, int dev_type, int dev_index) {
  return at::TensorOptions().dtype(dtype(dtype_code)).device(device(dev_type, dev_index));
}

/// A CUDA plugin (plugins/NAME/ → libcontour_NAME.so, exporting ct_NAME_torch_version).
struct PluginSpec {
  const char *name;     // "nccl"
  const char *env;      // the variable naming its path, "CONTOUR_NCCL_PLUGIN"
  const char *purpose;  // what needs it, for the error: "the nccl backend"
};
/// dlopens the plugin from $env, else beside the executable, in its ../NAME/ (where `make NAME`
/// puts it for .build/release/contour), or beside libtorch_cpu; checks it was built against this
/// libtorch. Returns the handle, or NULL with `why` saying what is missing.
void *load_plugin(const PluginSpec &spec, std::string &why);
}  // namespace ctorch

// Every entry point body runs inside CT_GUARD: C++ exceptions become an error status.
#define CT_CATCH(error_value)                                            \
  catch (const c10::Error &e) {                                          \
    ctorch::set_error(e.what_without_backtrace());                       \
  } catch (const std::exception &e) {                                    \
    ctorch::set_error(e.what());                                         \
  } catch (...) {                                                        \
    ctorch::set_error("unknown C++ exception in libtorch");              \
  }                                                                      \
  return error_value;

#define CT_GUARD(...)                                                    \
  try {                                                                  \
    __VA_ARGS__;                                                         \
    return 0;                                                            \
  }                                                                      \
  CT_CATCH(1)

/// For entry points returning a value: `expr` on success, `error_value` (and ct_last_error) on failure.
#define CT_VALUE(error_value, ...)                                       \
  try {                                                                  \
    return __VA_ARGS__;                                                  \
  }                                                                      \
  CT_CATCH(error_value)

#define CT_OUT(...)                                                      \
  CT_GUARD(if (!out) throw std::invalid_argument("output pointer is NULL"); *out = ctorch::wrap(__VA_ARGS__))
