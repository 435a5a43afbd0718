// Under `make check-sanitizers` the test binary checks for leaks at the end of the test bundle, not at
// exit: by exit, swift-corelibs-xctest's own suite/case run objects (a retain cycle of XCTest's) are
// unreachable and LeakSanitizer reports them as leaks in every run, with no Contour frame to suppress
// narrowly. At the bundle's end they are still reachable, so only real leaks are reported. Processes the
// tests start (`contour`, the launcher's workers) keep LeakSanitizer's ordinary check at exit.
#include "CLeakCheck.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CONTOUR_LEAK_CHECK 1
#endif
#endif

#ifdef CONTOUR_LEAK_CHECK
#include <sanitizer/lsan_interface.h>

const char *__lsan_default_options(void) { return "leak_check_at_exit=0"; }

// Defined in Swift (LeakCheck): adds the XCTest observer that calls contour_leak_check_now.
extern void contour_register_leak_check(void);

__attribute__((constructor)) static void contour_leak_check_init(void) { contour_register_leak_check(); }

int contour_leak_check_now(void) { return __lsan_do_recoverable_leak_check() ? 1 : 0; }
#else
int contour_leak_check_now(void) { return -1; }
#endif
