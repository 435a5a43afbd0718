// The nccl backend of Contour's shim, built apart (`make nccl` → libcontour_nccl.so) because it
// needs libtorch_cuda and the CUDA/NCCL headers, which a CPU build of Contour does not have. The
// shim (Sources/CTorch/distributed.cpp) dlopens this library after libtorch_cuda and calls the two
// flat functions below; the c10d objects cross as pointers to intrusive_ptrs, so both sides must be
// built against the same libtorch (ct_nccl_torch_version lets the shim check that).
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#include <torch/version.h>

#include "../plugin_guard.h"

#include <chrono>
#include <string>

#define CT_NCCL_STR2(x) #x
#define CT_NCCL_STR(x) CT_NCCL_STR2(x)

extern "C" {

/// The libtorch version this plugin was compiled against, "major.minor.patch".
__attribute__((visibility("default"))) const char *ct_nccl_torch_version(void) noexcept {
  return CT_NCCL_STR(TORCH_VERSION_MAJOR) "." CT_NCCL_STR(TORCH_VERSION_MINOR) "." CT_NCCL_STR(TORCH_VERSION_PATCH);
}

/// A ProcessGroupNCCL over `store` (a c10::intrusive_ptr<c10d::Store>*) bound to CUDA device
/// `device_index` (the rank's GPU, so barrier need not guess it), collectives timing out after
/// `timeout_ms`. On success 0 and *backend_out = new c10::intrusive_ptr<c10d::Backend>
/// (the caller deletes it); on failure -1 and the reason in err.
__attribute__((visibility("default"))) int ct_nccl_create(void *store, int rank, int world, int device_index, int64_t timeout_ms,
                                                          void **backend_out, char *err, size_t errlen) noexcept {
  return contour_plugin::guarded(err, errlen, [&] {
    if (!store || !backend_out) throw std::invalid_argument("ct_nccl_create: store or output pointer is NULL");
    if (world < 1 || rank < 0 || rank >= world)
      throw std::invalid_argument("ct_nccl_create: rank " + std::to_string(rank) + " of world size " + std::to_string(world));
    if (device_index < 0) throw std::invalid_argument("ct_nccl_create: CUDA device index " + std::to_string(device_index));
    if (timeout_ms < 1) throw std::invalid_argument("ct_nccl_create: timeout must be ≥ 1 ms");
    const auto &s = *static_cast<c10::intrusive_ptr<c10d::Store> *>(store);
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = std::chrono::milliseconds(timeout_ms);
    auto pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(s, rank, world, options);
    pg->setBoundDeviceId(at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(device_index)));
    *backend_out = new c10::intrusive_ptr<c10d::Backend>(std::move(pg));
  });
}

}  // extern "C"
