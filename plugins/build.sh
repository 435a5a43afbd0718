#!/usr/bin/env bash
# Builds one of Contour's CUDA plugins — the pieces of the shim that need libtorch_cuda, which a CPU
# build does not link: `nccl` (the nccl backend, plugins/nccl/ → libcontour_nccl.so) or `cudagraph`
# (CUDA graphs, plugins/cudagraph/ → libcontour_cudagraph.so) — against the CUDA build of torch
# that $PYTHON (default python3) imports: its headers and torch/lib, the CUDA runtime headers from
# $CUDA_HOME (default /usr/local/cuda) or the nvidia CUDA wheels, and for nccl nccl.h from the
# nvidia-nccl wheel (or $CUDA_HOME/include, /usr/include); CONTOUR_CUDA_INCLUDE (folders separated
# by ':') is searched first. Usage: build.sh nccl|cudagraph [OUTPUT].
# That torch must be the libtorch Contour runs with (same version: the shim checks it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
name=${1:-}
case "$name" in
  nccl) defines=(-DUSE_C10D_NCCL) ;;
  cudagraph) defines=() ;;
  *) echo "usage: plugins/build.sh nccl|cudagraph [OUTPUT]" >&2; exit 2 ;;
esac
out=${2:-.build/$name/libcontour_$name.so}
export PLUGIN=$name
py=${PYTHON:-python3}
cxx=${CXX:-c++}
command -v "$py" >/dev/null || { echo "make $name: '$py' not found; give a python with a CUDA build of torch: make $name CUDA_PYTHON=/path/to/python" >&2; exit 1; }
command -v "$cxx" >/dev/null || { echo "make $name: no C++ compiler '$cxx'; set CXX" >&2; exit 1; }

# One line each: ABI, torch/lib, then include folders.
if ! found=$("$py" - <<'PY'
import glob, os, sys
P = os.environ["PLUGIN"]
try:
    import torch
except Exception as e:
    sys.exit(f"make {P}: {sys.executable} cannot import torch ({e}): give a python with a CUDA build of torch, make {P} CUDA_PYTHON=/path/to/python")
if not torch.version.cuda:
    sys.exit(f"make {P}: torch {torch.__version__} at {os.path.dirname(torch.__file__)} is a CPU build (torch.version.cuda is None); the {P} plugin needs a CUDA build")
root = os.path.dirname(torch.__file__)
lib = os.path.join(root, "lib")
if not glob.glob(os.path.join(lib, "libtorch_cuda.so")):
    sys.exit(f"make {P}: {lib} has no libtorch_cuda.so")
includes = [os.path.join(root, "include"), os.path.join(root, "include", "torch", "csrc", "api", "include")]
site = os.path.dirname(root)
cuda_home = os.environ.get("CUDA_HOME") or os.environ.get("CUDA_PATH") or "/usr/local/cuda"
def first(header, candidates):
    for d in candidates:
        if os.path.isfile(os.path.join(d, header)):
            return d
    sys.exit(f"make {P}: no {header} in " + ", ".join(dict.fromkeys(candidates)) + ": set CUDA_HOME to a CUDA "
             f"{torch.version.cuda} toolkit, or name a folder holding it in CONTOUR_CUDA_INCLUDE (e.g. the nvidia-cuda-cccl wheel's include)")
extra = [d for d in os.environ.get("CONTOUR_CUDA_INCLUDE", "").split(":") if d]
wheels = sorted(glob.glob(os.path.join(site, "nvidia", "*", "include")))
toolkit = [os.path.join(cuda_home, "include"), os.path.join(cuda_home, "include", "cccl")]
# The toolkit's headers first when its CUDA major version is torch's, else the wheels' (torch's own).
def toolkit_major():
    try:
        for line in open(os.path.join(cuda_home, "include", "cuda.h")):
            if line.startswith("#define CUDA_VERSION "):
                return int(line.split()[2]) // 1000
    except (OSError, ValueError, IndexError):
        pass
    return None
if toolkit_major() != int(torch.version.cuda.split(".")[0]):
    toolkit, wheels = wheels, toolkit
toolkit = extra + toolkit
cuda = first("cuda_runtime_api.h", toolkit + wheels)
includes.append(cuda)
# A toolkit has crt/ (nvcc's) and CCCL's nv/target (include/cccl since CUDA 13); the runtime
# wheel has neither: the nvidia-cuda-cccl wheel or triton's copy fill in (host code needs only macros).
fallbacks = toolkit + wheels + [os.path.join(w, "cccl") for w in wheels] + [os.path.join(site, "triton", "backends", "nvidia", "include")]
for header in ["crt/host_config.h", "nv/target"]:
    includes.append(first(header, [cuda] + fallbacks))
if os.environ["PLUGIN"] == "nccl":
    includes.append(first("nccl.h", extra + [os.path.join(site, "nvidia", "nccl", "include")] + wheels + [os.path.join(cuda_home, "include"), "/usr/include"]))
print(int(torch._C._GLIBCXX_USE_CXX11_ABI))
print(lib)
print("\n".join(dict.fromkeys(includes)))
PY
); then exit 1; fi
abi=$(sed -n 1p <<<"$found")
lib=$(sed -n 2p <<<"$found")
incs=()
while IFS= read -r d; do incs+=(-isystem "$d"); done < <(sed -n '3,$p' <<<"$found")

mkdir -p "$(dirname "$out")"
set -x
"$cxx" -std=c++17 -O2 -fPIC -shared -fvisibility=hidden "${defines[@]}" -D_GLIBCXX_USE_CXX11_ABI="$abi" \
  -Wno-deprecated-declarations "${incs[@]}" "$here/$name"/*.cpp -o "$out" \
  -L"$lib" -Wl,--no-as-needed -ltorch_cuda -ltorch_cpu -lc10_cuda -lc10 -Wl,--as-needed \
  -Wl,-rpath,"$lib" -Wl,-rpath,'$ORIGIN'
