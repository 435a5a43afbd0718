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

void ctorch::set_error(const char *message) { last_error = message ? message : "unknown error"; }

extern "C" {

const char *ct_last_error(void) { return last_error.c_str(); }

const char *ct_torch_version(void) {
  return CT_STR(TORCH_VERSION_MAJOR) "." CT_STR(TORCH_VERSION_MINOR) "." CT_STR(TORCH_VERSION_PATCH);
}

// Only torch_cpu is linked (so a CPU machine needs no CUDA stack). Where the CUDA build of
// libtorch sits beside it, loading libtorch_cuda with RTLD_GLOBAL registers ATen's CUDA hooks,
// which avoids tch-rs's "Cannot initialize CUDA without ATen_cuda library" (--as-needed drops it).
int ct_cuda_init(void) {
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
  return cuda_ok ? 1 : 0;
}

const char *ct_cuda_status(void) { return cuda_status.c_str(); }

int ct_cuda_device_count(void) {
  if (!ct_cuda_init()) return 0;
  try {
    return static_cast<int>(at::detail::getCUDAHooks().deviceCount());
  } catch (...) {
    return 0;
  }
}

ct_status ct_cuda_synchronize(void) {
  CT_GUARD(if (ct_cuda_init()) at::detail::getCUDAHooks().deviceSynchronize(-1));
}

int ct_get_num_threads(void) { return at::get_num_threads(); }
ct_status ct_set_num_threads(int n) { CT_GUARD(at::set_num_threads(n)); }
ct_status ct_manual_seed(uint64_t seed) { CT_GUARD(at::manual_seed(seed)); }
ct_status ct_set_deterministic(int enabled) {
  CT_GUARD(at::globalContext().setDeterministicAlgorithms(enabled != 0, false));
}
int ct_is_grad_enabled(void) { return at::GradMode::is_enabled() ? 1 : 0; }
int ct_set_grad_enabled(int enabled) {
  bool previous = at::GradMode::is_enabled();
  at::GradMode::set_enabled(enabled != 0);
  return previous ? 1 : 0;
}

// ---- generators ---------------------------------------------------------------------------

ct_status ct_generator_new(uint64_t seed, int dev_type, int dev_index, ct_generator *out) {
  CT_GUARD({
    at::Generator g;
    if (dev_type == 1) {
      if (!ct_cuda_init()) throw std::runtime_error(cuda_status);
      g = at::detail::getCUDAHooks().getNewGenerator(static_cast<c10::DeviceIndex>(dev_index));
    } else {
      g = at::make_generator<at::CPUGeneratorImpl>(seed);
    }
    g.set_current_seed(seed);
    *out = new ct_generator_s{std::move(g)};
  });
}
void ct_generator_free(ct_generator g) { delete g; }
ct_status ct_generator_get_state(ct_generator g, ct_tensor *out) {
  CT_GUARD({
    std::lock_guard<std::mutex> lock(g->g.mutex());
    *out = ctorch::wrap(g->g.get_state());
  });
}
ct_status ct_generator_set_state(ct_generator g, ct_tensor state) {
  CT_GUARD({
    std::lock_guard<std::mutex> lock(g->g.mutex());
    g->g.set_state(state->t);
  });
}

// ---- lifecycle, metadata --------------------------------------------------------------------

void ct_free(ct_tensor t) { delete t; }
ct_status ct_alias(ct_tensor t, ct_tensor *out) { CT_OUT(t->t); }
int ct_ndim(ct_tensor t) { return static_cast<int>(t->t.dim()); }
ct_status ct_shape(ct_tensor t, int64_t *out) {
  CT_GUARD({ auto s = t->t.sizes(); std::memcpy(out, s.data(), s.size() * sizeof(int64_t)); });
}
ct_status ct_strides(ct_tensor t, int64_t *out) {
  CT_GUARD({ auto s = t->t.strides(); std::memcpy(out, s.data(), s.size() * sizeof(int64_t)); });
}
int64_t ct_numel(ct_tensor t) { return t->t.numel(); }
int ct_dtype(ct_tensor t) { return static_cast<int>(t->t.scalar_type()); }
void ct_device(ct_tensor t, int *type, int *index) {
  auto d = t->t.device();
  *type = d.is_cuda() ? 1 : 0;
  *index = d.has_index() ? d.index() : 0;
}
int ct_is_contiguous(ct_tensor t) { return t->t.is_contiguous() ? 1 : 0; }
int ct_defined(ct_tensor t) { return t && t->t.defined() ? 1 : 0; }
int ct_same(ct_tensor a, ct_tensor b) { return a->t.unsafeGetTensorImpl() == b->t.unsafeGetTensorImpl() ? 1 : 0; }

// ---- creation -------------------------------------------------------------------------------

ct_status ct_from_data(const void *data, size_t nbytes, const int64_t *shape, int ndim, int dtype, ct_tensor *out) {
  CT_GUARD({
    auto t = at::empty(ctorch::ints(shape, ndim), at::TensorOptions().dtype(ctorch::dtype(dtype)));
    if (t.nbytes() != nbytes) throw std::invalid_argument("data size does not match shape and dtype");
    if (nbytes) std::memcpy(t.data_ptr(), data, nbytes);
    *out = ctorch::wrap(std::move(t));
  });
}

ct_status ct_copy_data(ct_tensor t, int dtype, void *dst, size_t nbytes) {
  CT_GUARD({
    auto c = t->t.detach().to(at::kCPU, ctorch::dtype(dtype)).contiguous();
    if (c.nbytes() != nbytes) throw std::invalid_argument("destination size does not match the tensor");
    if (nbytes) std::memcpy(dst, c.data_ptr(), nbytes);
  });
}

ct_status ct_full(const int64_t *shape, int ndim, double value, int dtype, int dev_type, int dev_index, ct_tensor *out) {
  CT_OUT(at::full(ctorch::ints(shape, ndim), value, ctorch::options(dtype, dev_type, dev_index)));
}

ct_status ct_arange(double start, double end, double step, int dtype, int dev_type, int dev_index, ct_tensor *out) {
  CT_OUT(at::arange(start, end, step, ctorch::options(dtype, dev_type, dev_index)));
}

ct_status ct_linspace(double start, double end, int64_t steps, int dtype, int dev_type, int dev_index, ct_tensor *out) {
  CT_OUT(at::linspace(start, end, steps, ctorch::options(dtype, dev_type, dev_index)));
}

ct_status ct_random(int kind, const int64_t *shape, int ndim, double low, double high, int dtype,
                    int dev_type, int dev_index, ct_generator gen, ct_tensor *out) {
  CT_GUARD({
    auto opts = ctorch::options(dtype, dev_type, dev_index);
    auto size = ctorch::ints(shape, ndim);
    std::optional<at::Generator> g = gen ? std::optional<at::Generator>(gen->g) : std::nullopt;
    at::Tensor t;
    switch (kind) {
      case 0: t = at::rand(size, g, opts); break;
      case 1: t = at::randn(size, g, opts); break;
      case 2: t = at::randint(static_cast<int64_t>(low), static_cast<int64_t>(high), size, g, opts); break;
      default: throw std::invalid_argument("unknown random kind");
    }
    *out = ctorch::wrap(std::move(t));
  });
}

ct_status ct_eye(int64_t n, int dtype, int dev_type, int dev_index, ct_tensor *out) {
  CT_OUT(at::eye(n, ctorch::options(dtype, dev_type, dev_index)));
}

// ---- conversion, views ----------------------------------------------------------------------

ct_status ct_to(ct_tensor t, int dtype, int dev_type, int dev_index, int copy, ct_tensor *out) {
  CT_GUARD({
    if (dev_type == 1 && !ct_cuda_init()) throw std::runtime_error(cuda_status);
    *out = ctorch::wrap(t->t.to(ctorch::device(dev_type, dev_index), ctorch::dtype(dtype), false, copy != 0));
  });
}
ct_status ct_contiguous(ct_tensor t, ct_tensor *out) { CT_OUT(t->t.contiguous()); }
ct_status ct_clone(ct_tensor t, ct_tensor *out) { CT_OUT(t->t.clone()); }
ct_status ct_reshape(ct_tensor t, const int64_t *shape, int ndim, ct_tensor *out) {
  CT_OUT(t->t.reshape(ctorch::ints(shape, ndim)));
}
ct_status ct_permute(ct_tensor t, const int64_t *dims, int ndim, ct_tensor *out) {
  CT_OUT(t->t.permute(ctorch::ints(dims, ndim)));
}
ct_status ct_transpose(ct_tensor t, int64_t d0, int64_t d1, ct_tensor *out) { CT_OUT(t->t.transpose(d0, d1)); }
ct_status ct_expand(ct_tensor t, const int64_t *shape, int ndim, ct_tensor *out) {
  CT_OUT(t->t.expand(ctorch::ints(shape, ndim)));
}
ct_status ct_squeeze(ct_tensor t, int64_t dim, int all, ct_tensor *out) {
  CT_OUT(all ? t->t.squeeze() : t->t.squeeze(dim));
}
ct_status ct_unsqueeze(ct_tensor t, int64_t dim, ct_tensor *out) { CT_OUT(t->t.unsqueeze(dim)); }
ct_status ct_flatten(ct_tensor t, int64_t start, int64_t end, ct_tensor *out) { CT_OUT(t->t.flatten(start, end)); }
ct_status ct_slice(ct_tensor t, int64_t dim, int64_t start, int64_t end, int64_t step, ct_tensor *out) {
  CT_OUT(t->t.slice(dim, start, end, step));
}
ct_status ct_select(ct_tensor t, int64_t dim, int64_t index, ct_tensor *out) { CT_OUT(t->t.select(dim, index)); }
ct_status ct_index_select(ct_tensor t, int64_t dim, ct_tensor index, ct_tensor *out) {
  CT_OUT(t->t.index_select(dim, index->t));
}
ct_status ct_flip(ct_tensor t, const int64_t *dims, int ndim, ct_tensor *out) {
  CT_OUT(t->t.flip(ctorch::ints(dims, ndim)));
}
ct_status ct_roll(ct_tensor t, const int64_t *shifts, const int64_t *dims, int n, ct_tensor *out) {
  CT_OUT(t->t.roll(ctorch::ints(shifts, n), ctorch::ints(dims, n)));
}
ct_status ct_repeat(ct_tensor t, const int64_t *repeats, int n, ct_tensor *out) {
  CT_OUT(t->t.repeat(ctorch::ints(repeats, n)));
}
ct_status ct_unfold(ct_tensor t, int64_t dim, int64_t size, int64_t step, ct_tensor *out) {
  CT_OUT(t->t.unfold(dim, size, step));
}
ct_status ct_cat(const ct_tensor *ts, int n, int64_t dim, int stack, ct_tensor *out) {
  CT_GUARD({
    std::vector<at::Tensor> v;
    v.reserve(n);
    for (int i = 0; i < n; ++i) v.push_back(ts[i]->t);
    *out = ctorch::wrap(stack ? at::stack(v, dim) : at::cat(v, dim));
  });
}
ct_status ct_split(ct_tensor t, int64_t size, int64_t dim, int chunks, ct_tensor *outs, int cap, int *count) {
  CT_GUARD({
    auto parts = chunks ? t->t.chunk(size, dim) : t->t.split(size, dim);
    if (static_cast<int>(parts.size()) > cap) throw std::invalid_argument("split produced more pieces than expected");
    *count = static_cast<int>(parts.size());
    for (size_t i = 0; i < parts.size(); ++i) outs[i] = ctorch::wrap(parts[i]);
  });
}

}  // extern "C"

// ---- the default CPU generator's state (checkpointed so a resumed run draws what the
// uninterrupted one would) ------------------------------------------------------------------
ct_status ct_default_cpu_generator_get_state(ct_tensor *out) {
  CT_GUARD({
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    *out = ctorch::wrap(gen.get_state());
  });
}
ct_status ct_default_cpu_generator_set_state(ct_tensor state) {
  CT_GUARD({
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(state->t);
  });
}
