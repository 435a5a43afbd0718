// Library state, devices, generators, tensor lifecycle, metadata and creation.
#include "internal.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>
#include <torch/headeronly/version.h>
#include <dlfcn.h>
#include <cstring>
#include <mutex>

#define CT_STR2(x) #x
#define CT_STR(x) CT_STR2(x)

namespace {
thread_local std::string last_error;
std::once_flag cuda_once;
std::string cuda_status = "CUDA not initialised";
bool cuda_ok = false;
}  // namespace

void ctorch::set_error(const char *message) noexcept {
  try {
    last_error = message ? message : "unknown error";
  } catch (...) {
    // Out of memory for the message itself: keep whatever was there.
  }
}

at::Device ctorch::device(int type, int index) {
  switch (type) {
    case CT_DEVICE_CPU:
      if (index != 0 && index != -1) throw std::invalid_argument("CPU device index must be 0, got " + std::to_string(index));
      return at::Device(at::kCPU);
    case CT_DEVICE_CUDA: {
      if (index < 0) throw std::invalid_argument("CUDA device index must be >= 0, got " + std::to_string(index));
      if (!ct_cuda_init()) throw std::runtime_error(cuda_status);
      int n = ct_cuda_device_count();
      if (index >= n)
        throw std::invalid_argument("CUDA device index " + std::to_string(index) + " out of range (" + std::to_string(n) +
                                    " device(s))");
      return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index));
    }
  }
  throw std::invalid_argument("unknown device type code " + std::to_string(type) + " (CPU is 0, CUDA is 1)");
}

at::DeviceType ctorch::device_type(int type) {
  switch (type) {
    case CT_DEVICE_CPU: return at::kCPU;
    case CT_DEVICE_CUDA: return at::kCUDA;
  }
  throw std::invalid_argument("unknown device type code " + std::to_string(type) + " (CPU is 0, CUDA is 1)");
}

extern "C" {

const char *ct_last_error(void) noexcept { return last_error.c_str(); }

const char *ct_torch_version(void) noexcept {
  return CT_STR(TORCH_VERSION_MAJOR) "." CT_STR(TORCH_VERSION_MINOR) "." CT_STR(TORCH_VERSION_PATCH);
}

// Only torch_cpu is linked (so a CPU machine needs no CUDA stack). Where the CUDA build of
// libtorch sits beside it, loading libtorch_cuda with RTLD_GLOBAL registers ATen's CUDA hooks,
// which avoids tch-rs's "Cannot initialize CUDA without ATen_cuda library" (--as-needed drops it).
int ct_cuda_init(void) noexcept {
  // call_once itself may throw (std::system_error); that reads as "unavailable".
  try {
  std::call_once(cuda_once, [] {
    try {
      Dl_info info;
      std::string dir;
      if (dladdr(reinterpret_cast<void *>(&at::globalContext), &info) && info.dli_fname) {
        dir = info.dli_fname;
        auto slash = dir.rfind('/');
        dir = slash == std::string::npos ? std::string() : dir.substr(0, slash + 1);
      }
      std::string path = dir + "libtorch_cuda.so";
      void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
      if (!handle) {
        const char *why = dlerror();
        cuda_status = std::string("CUDA unavailable: could not load ") + path + (why ? std::string(" (") + why + ")" : "");
        return;
      }
      if (!at::hasCUDA()) {
        cuda_status = "CUDA unavailable: libtorch_cuda loaded but no CUDA device or driver was found";
        return;
      }
      cuda_ok = true;
      cuda_status.clear();
    } catch (const std::exception &e) {
      cuda_status = std::string("CUDA unavailable: ") + e.what();
    } catch (...) {
      cuda_status = "CUDA unavailable: unknown error";
    }
  });
  } catch (...) {
    return 0;
  }
  return cuda_ok ? 1 : 0;
}

const char *ct_cuda_status(void) noexcept { return cuda_status.c_str(); }

int ct_cuda_device_count(void) noexcept {
  if (!ct_cuda_init()) return 0;
  try {
    return static_cast<int>(at::detail::getCUDAHooks().deviceCount());
  } catch (...) {
    return 0;
  }
}

ct_status ct_cuda_synchronize(void) noexcept {
  CT_GUARD(if (ct_cuda_init()) at::detail::getCUDAHooks().deviceSynchronize(-1));
}

int ct_get_num_threads(void) noexcept { CT_VALUE(-1, at::get_num_threads()); }
ct_status ct_set_num_threads(int n) noexcept {
  CT_GUARD(if (n < 1) throw std::invalid_argument("thread count must be >= 1, got " + std::to_string(n));
           at::set_num_threads(n));
}
// at::manual_seed asks ATen's CUDA hooks whether to seed the GPUs too, and ATen keeps the first
// answer for the process: load libtorch_cuda first, or a seeded run would never see its GPU.
ct_status ct_manual_seed(uint64_t seed) noexcept { CT_GUARD(ct_cuda_init(); at::manual_seed(seed)); }
ct_status ct_set_deterministic(int enabled) noexcept {
  CT_GUARD(at::globalContext().setDeterministicAlgorithms(enabled != 0, false));
}
int ct_is_grad_enabled(void) noexcept { CT_VALUE(-1, at::GradMode::is_enabled() ? 1 : 0); }
int ct_set_grad_enabled(int enabled) noexcept {
  try {
    bool previous = at::GradMode::is_enabled();
    at::GradMode::set_enabled(enabled != 0);
    return previous ? 1 : 0;
  }
  CT_CATCH(-1)
}

// ---- generators ---------------------------------------------------------------------------

ct_status ct_generator_new(uint64_t seed, ct_device_type dev_type, int dev_index, ct_generator *out) noexcept {
  CT_GUARD({
    at::Generator g;
    auto d = ctorch::device(dev_type, dev_index);
    if (d.is_cuda()) {
      g = at::detail::getCUDAHooks().getNewGenerator(d.index());
    } else {
      g = at::make_generator<at::CPUGeneratorImpl>(seed);
    }
    g.set_current_seed(seed);
    *out = new ct_generator_s{std::move(g)};
  });
}
void ct_generator_free(ct_generator g) noexcept { delete g; }
ct_status ct_generator_get_state(ct_generator g, ct_tensor *out) noexcept {
  CT_GUARD({
    if (!g) throw std::invalid_argument("generator handle is NULL");
    std::lock_guard<std::mutex> lock(g->g.mutex());
    *out = ctorch::wrap(g->g.get_state());
  });
}
ct_status ct_generator_set_state(ct_generator g, ct_tensor state) noexcept {
  CT_GUARD({
    if (!g) throw std::invalid_argument("generator handle is NULL");
    std::lock_guard<std::mutex> lock(g->g.mutex());
    g->g.set_state(ctorch::T(state));
  });
}

// ---- lifecycle, metadata --------------------------------------------------------------------

void ct_free(ct_tensor t) noexcept { delete t; }
ct_status ct_alias(ct_tensor t, ct_tensor *out) noexcept { CT_OUT(ctorch::T(t)); }
int ct_ndim(ct_tensor t) noexcept { CT_VALUE(-1, static_cast<int>(ctorch::T(t).dim())); }
ct_status ct_shape(ct_tensor t, int64_t *out) noexcept {
  CT_GUARD({ auto s = ctorch::T(t).sizes(); std::copy(s.begin(), s.end(), out); });
}
ct_status ct_strides(ct_tensor t, int64_t *out) noexcept {
  CT_GUARD({ auto s = ctorch::T(t).strides(); std::copy(s.begin(), s.end(), out); });
}
int64_t ct_numel(ct_tensor t) noexcept { CT_VALUE(-1, ctorch::T(t).numel()); }
int ct_dtype(ct_tensor t) noexcept { CT_VALUE(-1, static_cast<int>(ctorch::T(t).scalar_type())); }
ct_status ct_device(ct_tensor t, ct_device_type *type, int *index) noexcept {
  CT_GUARD({
    auto d = ctorch::T(t).device();
    if (!d.is_cpu() && !d.is_cuda()) throw std::invalid_argument(std::string("tensor is on unsupported device ") + d.str());
    *type = d.is_cuda() ? CT_DEVICE_CUDA : CT_DEVICE_CPU;
    *index = d.has_index() ? d.index() : 0;
  });
}
int ct_is_contiguous(ct_tensor t) noexcept { CT_VALUE(-1, ctorch::T(t).is_contiguous() ? 1 : 0); }
int ct_defined(ct_tensor t) noexcept { return t && ctorch::T(t).defined() ? 1 : 0; }
int ct_same(ct_tensor a, ct_tensor b) noexcept {
  CT_VALUE(-1, ctorch::T(a).unsafeGetTensorImpl() == ctorch::T(b).unsafeGetTensorImpl() ? 1 : 0);
}

// ---- creation -------------------------------------------------------------------------------

ct_status ct_from_data(const void *data, size_t nbytes, const int64_t *shape, int ndim, ct_scalar_type dtype,
                       ct_tensor *out) noexcept {
  CT_GUARD({
    auto t = at::empty(ctorch::ints(shape, ndim), at::TensorOptions().dtype(ctorch::dtype(dtype)));
    if (t.nbytes() != nbytes)
      throw std::invalid_argument("data size " + std::to_string(nbytes) + " bytes does not match shape and dtype (" +
                                  std::to_string(t.nbytes()) + " bytes)");
    if (nbytes && !data) throw std::invalid_argument("data pointer is NULL");
    if (nbytes) std::memcpy(t.data_ptr(), data, nbytes);
    *out = ctorch::wrap(std::move(t));
  });
}

ct_status ct_copy_data(ct_tensor t, ct_scalar_type dtype, void *dst, size_t nbytes) noexcept {
  CT_GUARD({
    auto c = ctorch::T(t).detach().to(at::kCPU, ctorch::dtype(dtype)).contiguous();
    if (c.nbytes() != nbytes)
      throw std::invalid_argument("destination size " + std::to_string(nbytes) + " bytes does not match the tensor (" +
                                  std::to_string(c.nbytes()) + " bytes)");
    if (nbytes && !dst) throw std::invalid_argument("destination pointer is NULL");
    if (nbytes) std::memcpy(dst, c.data_ptr(), nbytes);
  });
}

ct_status ct_full(const int64_t *shape, int ndim, double value, ct_scalar_type dtype, ct_device_type dev_type, int dev_index,
                    ct_tensor *out) noexcept {
  CT_OUT(at::full(ctorch::ints(shape, ndim), value, ctorch::options(dtype, dev_type, dev_index)));
}

ct_status ct_arange(double start, double end, double step, ct_scalar_type dtype, ct_device_type dev_type, int dev_index,
                    ct_tensor *out) noexcept {
  CT_OUT(at::arange(start, end, step, ctorch::options(dtype, dev_type, dev_index)));
}

ct_status ct_linspace(double start, double end, int64_t steps, ct_scalar_type dtype, ct_device_type dev_type, int dev_index,
                    ct_tensor *out) noexcept {
  CT_OUT(at::linspace(start, end, steps, ctorch::options(dtype, dev_type, dev_index)));
}

ct_status ct_random(ct_random_kind kind, const int64_t *shape, int ndim, double low, double high,
                    ct_scalar_type dtype, ct_device_type dev_type, int dev_index, ct_generator gen,
                    ct_tensor *out) noexcept {
  CT_GUARD({
    auto opts = ctorch::options(dtype, dev_type, dev_index);
    auto size = ctorch::ints(shape, ndim);
    std::optional<at::Generator> g = gen ? std::optional<at::Generator>(gen->g) : std::nullopt;
    at::Tensor t;
    switch (kind) {
      case CT_RANDOM_UNIFORM: t = at::rand(size, g, opts); break;
      case CT_RANDOM_NORMAL: t = at::randn(size, g, opts); break;
      case CT_RANDOM_INTEGERS: t = at::randint(static_cast<int64_t>(low), static_cast<int64_t>(high), size, g, opts); break;
      default: throw std::invalid_argument("unknown random kind " + std::to_string(static_cast<int>(kind)));
    }
    *out = ctorch::wrap(std::move(t));
  });
}

ct_status ct_eye(int64_t n, ct_scalar_type dtype, ct_device_type dev_type, int dev_index,
                    ct_tensor *out) noexcept {
  CT_OUT(at::eye(n, ctorch::options(dtype, dev_type, dev_index)));
}

// ---- conversion, views ----------------------------------------------------------------------

ct_status ct_to(ct_tensor t, ct_scalar_type dtype, ct_device_type dev_type, int dev_index, int copy,
                ct_tensor *out) noexcept {
  CT_OUT(ctorch::T(t).to(ctorch::device(dev_type, dev_index), ctorch::dtype(dtype), false, copy != 0));
}
ct_status ct_contiguous(ct_tensor t, ct_tensor *out) noexcept { CT_OUT(ctorch::T(t).contiguous()); }
ct_status ct_clone(ct_tensor t, ct_tensor *out) noexcept { CT_OUT(ctorch::T(t).clone()); }
ct_status ct_reshape(ct_tensor t, const int64_t *shape, int ndim, ct_tensor *out) noexcept {
  CT_OUT(ctorch::T(t).reshape(ctorch::ints(shape, ndim)));
}
ct_status ct_permute(ct_tensor t, const int64_t *dims, int ndim, ct_tensor *out) noexcept {
  CT_OUT(ctorch::T(t).permute(ctorch::ints(dims, ndim)));
}
ct_status ct_transpose(ct_tensor t, int64_t d0, int64_t d1, ct_tensor *out) noexcept { CT_OUT(ctorch::T(t).transpose(d0, d1)); }
ct_status ct_as_strided(ct_tensor t, const int64_t *size, const int64_t *stride, int ndim, int64_t offset,
                        ct_tensor *out) noexcept {
  CT_OUT(ctorch::T(t).as_strided(ctorch::ints(size, ndim), ctorch::ints(stride, ndim), offset));
}
ct_status ct_expand(ct_tensor t, const int64_t *shape, int ndim, ct_tensor *out) noexcept {
  CT_OUT(ctorch::T(t).expand(ctorch::ints(shape, ndim)));
}
ct_status ct_squeeze(ct_tensor t, int64_t dim, int all, ct_tensor *out) noexcept {
  CT_OUT(all ? ctorch::T(t).squeeze() : ctorch::T(t).squeeze(dim));
}
ct_status ct_unsqueeze(ct_tensor t, int64_t dim, ct_tensor *out) noexcept { CT_OUT(ctorch::T(t).unsqueeze(dim)); }
ct_status ct_flatten(ct_tensor t, int64_t start, int64_t end, ct_tensor *out) noexcept { CT_OUT(ctorch::T(t).flatten(start, end)); }
ct_status ct_slice(ct_tensor t, int64_t dim, int64_t start, int64_t end, int64_t step, ct_tensor *out) noexcept {
  CT_OUT(ctorch::T(t).slice(dim, start, end, step));
}
ct_status ct_select(ct_tensor t, int64_t dim, int64_t index, ct_tensor *out) noexcept { CT_OUT(ctorch::T(t).select(dim, index)); }
ct_status ct_index_select(ct_tensor t, int64_t dim, ct_tensor index, ct_tensor *out) noexcept {
  CT_OUT(ctorch::T(t).index_select(dim, ctorch::T(index)));
}
ct_status ct_flip(ct_tensor t, const int64_t *dims, int ndim, ct_tensor *out) noexcept {
  CT_OUT(ctorch::T(t).flip(ctorch::ints(dims, ndim)));
}
ct_status ct_roll(ct_tensor t, const int64_t *shifts, const int64_t *dims, int n, ct_tensor *out) noexcept {
  CT_OUT(ctorch::T(t).roll(ctorch::ints(shifts, n), ctorch::ints(dims, n)));
}
ct_status ct_repeat(ct_tensor t, const int64_t *repeats, int n, ct_tensor *out) noexcept {
  CT_OUT(ctorch::T(t).repeat(ctorch::ints(repeats, n)));
}
ct_status ct_unfold(ct_tensor t, int64_t dim, int64_t size, int64_t step, ct_tensor *out) noexcept {
  CT_OUT(ctorch::T(t).unfold(dim, size, step));
}
ct_status ct_im2col(ct_tensor t, int64_t kernel, int64_t padding, ct_tensor *out) noexcept {
  CT_OUT(at::im2col(ctorch::T(t), {kernel, kernel}, {1, 1}, {padding, padding}, {1, 1}));
}
ct_status ct_col2im(ct_tensor t, int64_t height, int64_t width, int64_t kernel, int64_t padding, ct_tensor *out) noexcept {
  CT_OUT(at::col2im(ctorch::T(t), {height, width}, {kernel, kernel}, {1, 1}, {padding, padding}, {1, 1}));
}
ct_status ct_cat(const ct_tensor *ts, int n, int64_t dim, int stack, ct_tensor *out) noexcept {
  CT_GUARD({
    auto v = ctorch::Ts(ts, n);
    *out = ctorch::wrap(stack ? at::stack(v, dim) : at::cat(v, dim));
  });
}
ct_status ct_split(ct_tensor t, int64_t size, int64_t dim, int chunks, ct_tensor *outs, int cap, int *count) noexcept {
  CT_GUARD({
    auto parts = chunks ? ctorch::T(t).chunk(size, dim) : ctorch::T(t).split(size, dim);
    if (!outs || !count) throw std::invalid_argument("output pointer is NULL");
    if (static_cast<int>(parts.size()) > cap) throw std::invalid_argument("split produced more pieces than expected");
    *count = static_cast<int>(parts.size());
    for (size_t i = 0; i < parts.size(); ++i) outs[i] = ctorch::wrap(parts[i]);
  });
}

// ---- the default CPU generator's state (checkpointed so a resumed run draws what the
// uninterrupted one would) ------------------------------------------------------------------
ct_status ct_default_cpu_generator_get_state(ct_tensor *out) noexcept {
  CT_GUARD({
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    *out = ctorch::wrap(gen.get_state());
  });
}
ct_status ct_default_cpu_generator_set_state(ct_tensor state) noexcept {
  CT_GUARD({
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(ctorch::T(state));
  });
}

}  // extern "C"
