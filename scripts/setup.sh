#!/usr/bin/env bash
# Idempotent setup: the Debian -dev packages Contour links and a CPU libtorch 2.11.0.
# libtorch comes from PyPI wheels, extracted once per machine into ~/.cache/contour and linked
# into .deps/ of this checkout, so a fresh clone (CI's) reuses it in milliseconds.
set -euo pipefail

TORCH_VERSION=2.11.0
CUDART_VERSION=13.0.96   # pinned by torch 2.11.0; libtorch_cpu.so NEEDS libcudart.so.13
CUPTI_VERSION=13.0.85    # ... and libcupti.so.13 (no GPU or driver is needed to load them)
APT_PACKAGES="libpng-dev zlib1g-dev libturbojpeg0-dev libtiff-dev libnifti2-dev"

root=$(cd "$(dirname "$0")/.." && pwd)
cache="${CONTOUR_CACHE:-$HOME/.cache/contour}"
libtorch="$cache/libtorch-$TORCH_VERSION"

say() { printf 'setup: %s\n' "$*"; }

# 1. Debian packages, only those missing.
missing=""
for p in $APT_PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  say "installing Debian packages:$missing"
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq $missing >/dev/null
fi

# 2. libtorch, unless the user points the build at their own (LIBTORCH=/path/to/site-packages/torch).
if [ -n "${LIBTORCH:-}" ]; then
  [ -f "$LIBTORCH/lib/libtorch_cpu.so" ] || { echo "setup: LIBTORCH=$LIBTORCH has no lib/libtorch_cpu.so" >&2; exit 1; }
  say "using LIBTORCH=$LIBTORCH"
  exit 0
fi

if [ ! -f "$libtorch/.complete" ]; then
  wheels="$cache/wheels"
  mkdir -p "$wheels"
  say "downloading torch==$TORCH_VERSION (530 MB) and the two CUDA runtime wheels libtorch_cpu needs"
  python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$wheels" \
    "torch==$TORCH_VERSION" "nvidia-cuda-runtime==$CUDART_VERSION" "nvidia-cuda-cupti==$CUPTI_VERSION"
  tmp="$libtorch.tmp.$$"
  rm -rf "$tmp"; mkdir -p "$tmp"
  say "extracting libtorch into $libtorch"
  python3 - "$wheels" "$tmp" "$TORCH_VERSION" "$CUDART_VERSION" "$CUPTI_VERSION" <<'PY'
import sys, zipfile, glob, os
wheels, out, tv, rv, cv = sys.argv[1:]
def pick(pattern):
    found = sorted(glob.glob(os.path.join(wheels, pattern)))
    if not found:
        sys.exit(f"setup: no wheel matching {pattern} in {wheels}")
    return found[-1]
wanted_torch = ("torch/lib/libc10.so", "torch/lib/libtorch_cpu.so", "torch/lib/libgomp.so.1",
                "torch/lib/libshm.so", "torch/version.py")
def extract(whl, keep):
    with zipfile.ZipFile(whl) as z:
        for info in z.infolist():
            if keep(info.filename):
                z.extract(info, out)
                mode = (info.external_attr >> 16) & 0o777
                if mode:
                    os.chmod(os.path.join(out, info.filename), mode)
extract(pick(f"torch-{tv}-*.whl"),
        lambda n: n in wanted_torch or n.startswith("torch/include/"))
extract(pick(f"nvidia_cuda_runtime-{rv}-*.whl"), lambda n: n.startswith("nvidia/cu13/lib/libcudart.so"))
extract(pick(f"nvidia_cuda_cupti-{cv}-*.whl"), lambda n: n.startswith("nvidia/cu13/lib/libcupti.so"))
PY
  touch "$tmp/.complete"
  rm -rf "$libtorch"; mv "$tmp" "$libtorch"
fi

mkdir -p "$root/.deps"
if [ "$(readlink "$root/.deps/libtorch" 2>/dev/null)" != "$libtorch" ]; then
  ln -sfn "$libtorch" "$root/.deps/libtorch"
fi
say "libtorch $TORCH_VERSION ready at .deps/libtorch -> $libtorch"
