// Automatic mixed precision (autocast) per device type, as torch.autocast does it.
#include "internal.h"
#include <ATen/autocast_mode.h>

extern "C" {

ct_status ct_autocast_enter(ct_device_type dev_type, ct_scalar_type dtype, int *previous_enabled,
                            ct_scalar_type *previous_dtype) noexcept {
  CT_GUARD({
    auto d = ctorch::device_type(dev_type);
    auto target = ctorch::dtype(dtype);
    if (target != at::kHalf && target != at::kBFloat16)
      throw std::invalid_argument(std::string("autocast dtype must be float16 or bfloat16, got ") + c10::toString(target));
    if (!previous_enabled || !previous_dtype) throw std::invalid_argument("output pointer is NULL");
    *previous_enabled = at::autocast::is_autocast_enabled(d) ? 1 : 0;
    *previous_dtype = static_cast<ct_scalar_type>(at::autocast::get_autocast_dtype(d));
    at::autocast::set_autocast_dtype(d, target);
    at::autocast::set_autocast_enabled(d, true);
    at::autocast::increment_nesting();
  });
}

ct_status ct_autocast_exit(ct_device_type dev_type, int previous_enabled, ct_scalar_type previous_dtype) noexcept {
  CT_GUARD({
    auto d = ctorch::device_type(dev_type);
    auto previous = ctorch::dtype(previous_dtype);
    // Cached casts of weights are only valid inside the outermost region.
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    at::autocast::set_autocast_enabled(d, previous_enabled != 0);
    at::autocast::set_autocast_dtype(d, previous);
  });
}

}  // extern "C"
