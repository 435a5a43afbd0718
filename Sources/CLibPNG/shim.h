// libpng's simplified API (png_image): errors come back in png_image.message, no longjmp.
// Row strides of that API count samples, not bytes.
#include <png.h>
#include <string.h>

/// A zeroed png_image with the version set, as the simplified API requires.
static inline png_image contour_png_image(void) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    return image;
}

// Function-like and composite format macros are not visible to Swift.
static const png_uint_32 contour_png_format_gray8 = PNG_FORMAT_GRAY;
static const png_uint_32 contour_png_format_gray16 = PNG_FORMAT_LINEAR_Y;
static const png_uint_32 contour_png_format_rgb8 = PNG_FORMAT_RGB;
static const png_uint_32 contour_png_format_rgb16 = PNG_FORMAT_LINEAR_RGB;
