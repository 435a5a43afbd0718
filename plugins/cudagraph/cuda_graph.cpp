// CUDA graphs for Contour's shim, built apart (`make cudagraph` → libcontour_cudagraph.so) because
// at::cuda::CUDAGraph lives in libtorch_cuda, which a CPU build of Contour does not link. The shim
// (Sources/CTorch/cuda_graph.cpp) dlopens this library and calls the flat functions below. A graph
// records every kernel one call launches (a whole forward) and replays them in one launch, which is
// what lifts small-batch inference when it is bound by launch overhead rather than arithmetic.
#include <ATen/autocast_mode.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/version.h>

#include "../plugin_guard.h"

#include <optional>
#include <string>

#define CT_GRAPH_STR2(x) #x
#define CT_GRAPH_STR(x) CT_GRAPH_STR2(x)
#define CT_EXPORT extern "C" __attribute__((visibility("default")))

namespace {
using contour_plugin::guarded;

/// A graph and, while capturing, the side stream it records on (capture on the legacy default
/// stream is not allowed) and the autocast cache state to restore.
struct Graph {
  at::cuda::CUDAGraph graph;
  std::optional<c10::cuda::CUDAStreamGuard> stream;
  bool autocast_cache = true;
  bool capturing = false;
  bool captured = false;
};

Graph &G(void *h) {
  if (!h) throw std::invalid_argument("CUDA graph handle is NULL");
  return *static_cast<Graph *>(h);
}
}  // namespace

/// The libtorch version this plugin was compiled against, "major.minor.patch".
CT_EXPORT const char *ct_cudagraph_torch_version(void) noexcept {
  return CT_GRAPH_STR(TORCH_VERSION_MAJOR) "." CT_GRAPH_STR(TORCH_VERSION_MINOR) "." CT_GRAPH_STR(TORCH_VERSION_PATCH);
}

CT_EXPORT int ct_cudagraph_create(void **out, char *err, size_t errlen) noexcept {
  return guarded(err, errlen, [&] {
    if (!out) throw std::invalid_argument("ct_cudagraph_create: output pointer is NULL");
    *out = new Graph();
  });
}

CT_EXPORT void ct_cudagraph_destroy(void *h) noexcept {
  try {
    auto *g = static_cast<Graph *>(h);
    if (g && g->capturing) {
      g->graph.capture_end();  // frees the capture state; the graph is dropped anyway
    }
    delete g;
  } catch (...) {
  }
}

/// Starts recording on a side stream of `device`: work already queued finishes first, and
/// autocast's weight cache is off while recording (cached casts would outlive the capture's pool).
CT_EXPORT int ct_cudagraph_begin(void *h, int device, char *err, size_t errlen) noexcept {
  return guarded(err, errlen, [&] {
    auto &g = G(h);
    if (g.capturing) throw std::logic_error("the CUDA graph is already capturing");
    if (g.captured) throw std::logic_error("the CUDA graph was captured already; make a new one");
    auto index = static_cast<c10::DeviceIndex>(device);
    c10::cuda::device_synchronize();
    g.stream.emplace(c10::cuda::getStreamFromPool(false, index));
    g.autocast_cache = at::autocast::is_autocast_cache_enabled();
    at::autocast::set_autocast_cache_enabled(false);
    try {
      g.graph.capture_begin();
    } catch (...) {
      at::autocast::set_autocast_cache_enabled(g.autocast_cache);
      g.stream.reset();
      throw;
    }
    g.capturing = true;
  });
}

/// Ends the recording (instantiating the graph) and returns to the caller's stream.
CT_EXPORT int ct_cudagraph_end(void *h, char *err, size_t errlen) noexcept {
  return guarded(err, errlen, [&] {
    auto &g = G(h);
    if (!g.capturing) throw std::logic_error("the CUDA graph is not capturing");
    g.capturing = false;
    at::autocast::set_autocast_cache_enabled(g.autocast_cache);
    try {
      g.graph.capture_end();
    } catch (...) {
      g.stream.reset();
      throw;
    }
    // The caller's stream waits for the recording stream's last work (the capture's own frees).
    auto side = g.stream->current_stream();
    g.stream.reset();
    c10::cuda::getCurrentCUDAStream(side.device_index()).synchronize();
    side.synchronize();
    g.captured = true;
  });
}

/// Launches the recorded work on the current stream: it reads and writes the same memory as when
/// recorded, so new inputs are copied into the recorded input tensors first.
CT_EXPORT int ct_cudagraph_replay(void *h, char *err, size_t errlen) noexcept {
  return guarded(err, errlen, [&] {
    auto &g = G(h);
    if (!g.captured) throw std::logic_error("the CUDA graph has not been captured");
    g.graph.replay();
  });
}
