#ifndef CONTOUR_CLEAKCHECK_H
#define CONTOUR_CLEAKCHECK_H

/// Runs LeakSanitizer's check now; returns 1 when it reported leaks, 0 otherwise, and -1 in a build
/// without AddressSanitizer (nothing to check).
int contour_leak_check_now(void);

#endif
