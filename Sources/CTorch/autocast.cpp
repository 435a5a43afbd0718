// Automatic mixed precision (autocast) per device type, as torch.autocast does it.
#include "internal.h"
#include <ATen/autocast_mode.h>

extern "C" {

ct_status ct_autocast_enter(int dev_type, int dtype, int *previous_enabled, int *previous_dtype) {
  CT_GUARD({
    auto d = dev_type == 1 ? at::kCUDA : at::kCPU;
    *previous_enabled = at::autocast::is_autocast_enabled(d) ? 1 : 0;
    *previous_dtype = static_cast<int>(at::autocast::get_autocast_dtype(d));
    at::autocast::set_autocast_dtype(d, ctorch::dtype(dtype));
    at::autocast::set_autocast_enabled(d, true);
    at::autocast::increment_nesting();
  });
}

ct_status ct_autocast_exit(int dev_type, int previous_enabled, int previous_dtype) {
  CT_GUARD({
    auto d = dev_type == 1 ? at::kCUDA : at::kCPU;
    // Cached casts of weights are only valid inside the outermost region.
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    at::autocast::set_autocast_enabled(d, previous_enabled != 0);
    at::autocast::set_autocast_dtype(d, ctorch::dtype(previous_dtype));
  });
}

}  // extern "C"
