// libtorch's own profiler (Kineto, CPU activities; CUDA too where it is present): the op-level
// timings torch.profiler gives PyTorch users, written as the same Chrome trace.
#include "internal.h"

#include <torch/csrc/autograd/profiler_kineto.h>

namespace {
namespace prof = torch::profiler::impl;

std::set<prof::ActivityType> activities() {
  std::set<prof::ActivityType> a{prof::ActivityType::CPU};
  if (ct_cuda_init()) a.insert(prof::ActivityType::CUDA);
  return a;
}

prof::ProfilerConfig config(bool shapes) { return prof::ProfilerConfig(prof::ProfilerState::KINETO, shapes); }
}  // namespace

extern "C" {

ct_status ct_profiler_start(int record_shapes) noexcept {
  CT_GUARD({
    if (torch::autograd::profiler::isProfilerEnabledInMainThread())
      throw std::runtime_error("the profiler is already running");
    torch::autograd::profiler::prepareProfiler(config(record_shapes != 0), activities());
    torch::autograd::profiler::enableProfiler(config(record_shapes != 0), activities());
  });
}

ct_status ct_profiler_stop(const char *trace_path) noexcept {
  CT_GUARD({
    if (!torch::autograd::profiler::isProfilerEnabledInMainThread())
      throw std::runtime_error("the profiler is not running");
    auto result = torch::autograd::profiler::disableProfiler();
    if (trace_path && *trace_path) result->save(trace_path);
  });
}

}  // extern "C"
