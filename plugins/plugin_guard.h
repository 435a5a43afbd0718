// What every Contour CUDA plugin's flat functions share: an exception never crosses into the shim;
// it becomes -1 and its message in the caller's buffer.
#pragma once
#include <c10/util/Exception.h>

#include <cstring>
#include <string>

namespace contour_plugin {
inline void copy_error(const std::string &message, char *err, size_t errlen) {
  if (!err || errlen == 0) return;
  std::strncpy(err, message.c_str(), errlen - 1);
  err[errlen - 1] = '\0';
}

/// Runs `body`; 0 on success, else -1 with the exception's message in err.
template <class F>
int guarded(char *err, size_t errlen, F &&body) noexcept {
  try {
    body();
    return 0;
  } catch (const c10::Error &e) {
    copy_error(e.what_without_backtrace(), err, errlen);
  } catch (const std::exception &e) {
    copy_error(e.what(), err, errlen);
  } catch (...) {
    copy_error("unknown error", err, errlen);
  }
  return -1;
}
}  // namespace contour_plugin
