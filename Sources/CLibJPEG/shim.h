// libjpeg-turbo's TurboJPEG API: no setjmp/longjmp, errors through tjGetErrorStr2.
#include <turbojpeg.h>
