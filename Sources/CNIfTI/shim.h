// nifticlib's NIfTI-2 API (reads NIfTI-1 and NIfTI-2, .nii and .nii.gz through znzlib).
#include <nifti/nifti2_io.h>
