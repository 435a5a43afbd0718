// Reference timings taken inside C++, so `contour bench engine` can separate libtorch's own
// dispatch cost from what the Swift binding adds.
#include "internal.h"
#include <chrono>

extern "C" {

ct_status ct_bench_add_loop(int64_t n, double *seconds) noexcept {
  CT_GUARD({
    if (!seconds) throw std::invalid_argument("output pointer is NULL");
    auto a = at::ones({1}), b = at::ones({1});
    at::Tensor c;
    auto start = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < n; ++i) c = at::add(a, b);
    auto end = std::chrono::steady_clock::now();
    *seconds = std::chrono::duration<double>(end - start).count();
  });
}

}  // extern "C"
