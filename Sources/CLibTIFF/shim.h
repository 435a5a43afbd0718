// libtiff. Its error and warning handlers print to stderr by default; Contour installs a
// handler that keeps the last message for a Swift error instead.
#include <tiffio.h>
#include <stdarg.h>
#include <stdio.h>

// Per thread, so concurrent readers (the data loader) keep their own messages. A function-local
// static, because Swift's importer does not emit file-scope statics of a header.
static inline char *contour_tiff_error_buffer(void) {
    static _Thread_local char buffer[512];
    return buffer;
}

static void contour_tiff_error_handler(const char *module, const char *fmt, va_list ap) {
    char *b = contour_tiff_error_buffer();
    int n = snprintf(b, 512, "%s: ", module ? module : "libtiff");
    if (n < 0 || n >= 512) n = 0;
    vsnprintf(b + n, 512 - (size_t)n, fmt, ap);
}

static void contour_tiff_quiet(const char *module, const char *fmt, va_list ap) {
    (void)module; (void)fmt; (void)ap;
}

static inline void contour_tiff_install_handlers(void) {
    TIFFSetErrorHandler(contour_tiff_error_handler);
    TIFFSetWarningHandler(contour_tiff_quiet);
}

static inline const char *contour_tiff_last_error(void) { return contour_tiff_error_buffer(); }
static inline void contour_tiff_clear_error(void) { contour_tiff_error_buffer()[0] = 0; }

// TIFFGetField is variadic, which Swift cannot call: typed wrappers.
static inline int contour_tiff_get_u32(TIFF *t, uint32_t tag, uint32_t *v) { return TIFFGetField(t, tag, v); }
static inline int contour_tiff_get_u16(TIFF *t, uint32_t tag, uint16_t *v) { return TIFFGetField(t, tag, v); }
static inline int contour_tiff_get_u16_default(TIFF *t, uint32_t tag, uint16_t *v) { return TIFFGetFieldDefaulted(t, tag, v); }
static inline int contour_tiff_get_float(TIFF *t, uint32_t tag, float *v) { return TIFFGetField(t, tag, v); }
static inline int contour_tiff_set_u32(TIFF *t, uint32_t tag, uint32_t v) { return TIFFSetField(t, tag, v); }
static inline int contour_tiff_set_u16(TIFF *t, uint32_t tag, uint16_t v) { return TIFFSetField(t, tag, (int)v); }
