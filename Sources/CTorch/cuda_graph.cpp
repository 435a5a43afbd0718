// CUDA graphs through libcontour_cudagraph.so (plugins/cudagraph/): at::cuda::CUDAGraph lives in
// libtorch_cuda, which this shim does not link, so the plugin wraps it in flat functions.
#include "internal.h"

#include <dlfcn.h>
#include <mutex>

namespace {
using create_fn = int (*)(void **out, char *err, size_t errlen);
using begin_fn = int (*)(void *g, int device, char *err, size_t errlen);
using call_fn = int (*)(void *g, char *err, size_t errlen);
using destroy_fn = void (*)(void *g);

struct Plugin {
  create_fn create = nullptr;
  begin_fn begin = nullptr;
  call_fn end = nullptr, replay = nullptr;
  destroy_fn destroy = nullptr;
  std::string status;
};

const Plugin &plugin() {
  static Plugin p;
  static std::once_flag once;
  std::call_once(once, [] {
    try {
      if (!ct_cuda_init()) {
        p.status = std::string("CUDA graphs need CUDA: ") + ct_cuda_status();
        return;
      }
      void *h = ctorch::load_plugin({"cudagraph", "CONTOUR_CUDAGRAPH_PLUGIN", "CUDA graphs"}, p.status);
      if (!h) return;
      p.create = reinterpret_cast<create_fn>(dlsym(h, "ct_cudagraph_create"));
      p.begin = reinterpret_cast<begin_fn>(dlsym(h, "ct_cudagraph_begin"));
      p.end = reinterpret_cast<call_fn>(dlsym(h, "ct_cudagraph_end"));
      p.replay = reinterpret_cast<call_fn>(dlsym(h, "ct_cudagraph_replay"));
      p.destroy = reinterpret_cast<destroy_fn>(dlsym(h, "ct_cudagraph_destroy"));
      if (!p.create || !p.begin || !p.end || !p.replay || !p.destroy) {
        p.create = nullptr;
        p.status = "the cudagraph plugin lacks one of its functions: rebuild it with `make cudagraph`";
      }
    } catch (const std::exception &e) {
      p.status = std::string("loading the cudagraph plugin failed: ") + e.what();
    }
  });
  return p;
}

const Plugin &usable() {
  const auto &p = plugin();
  if (!p.create) throw std::runtime_error(p.status);
  return p;
}

void check(int rc, const char *err) {
  if (rc != 0) throw std::runtime_error(std::string("CUDA graph: ") + err);
}
}  // namespace

struct ct_cuda_graph_s {
  void *plugin_graph = nullptr;
};

extern "C" {

const char *ct_cuda_graph_status(void) noexcept { return plugin().status.c_str(); }

ct_status ct_cuda_graph_new(ct_cuda_graph *out) noexcept {
  CT_GUARD({
    if (!out) throw std::invalid_argument("output pointer is NULL");
    const auto &p = usable();
    char err[1024] = {0};
    void *g = nullptr;
    check(p.create(&g, err, sizeof err), err);
    *out = new ct_cuda_graph_s{g};
  });
}

ct_status ct_cuda_graph_begin(ct_cuda_graph g, int device_index) noexcept {
  CT_GUARD({
    if (!g) throw std::invalid_argument("CUDA graph handle is NULL");
    if (device_index < 0 || device_index >= ct_cuda_device_count())
      throw std::invalid_argument("CUDA graph: no CUDA device " + std::to_string(device_index));
    char err[1024] = {0};
    check(usable().begin(g->plugin_graph, device_index, err, sizeof err), err);
  });
}

ct_status ct_cuda_graph_end(ct_cuda_graph g) noexcept {
  CT_GUARD({
    if (!g) throw std::invalid_argument("CUDA graph handle is NULL");
    char err[1024] = {0};
    check(usable().end(g->plugin_graph, err, sizeof err), err);
  });
}

ct_status ct_cuda_graph_replay(ct_cuda_graph g) noexcept {
  CT_GUARD({
    if (!g) throw std::invalid_argument("CUDA graph handle is NULL");
    char err[1024] = {0};
    check(usable().replay(g->plugin_graph, err, sizeof err), err);
  });
}

void ct_cuda_graph_free(ct_cuda_graph g) noexcept {
  if (!g) return;
  if (const auto &p = plugin(); p.destroy) p.destroy(g->plugin_graph);
  delete g;
}

}  // extern "C"
