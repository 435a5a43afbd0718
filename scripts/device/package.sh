#!/usr/bin/env bash
# Packs Contour binaries built here, with the shared libraries they need that a CUDA machine
# without Swift lacks (Swift runtime, Foundation, XCTest, libpng/libtiff/libjpeg/nifticlib), into
# one archive for scripts/device/gpu_check.sh. libtorch is left out on purpose: the GPU machine's
# own torch 2.11 (CUDA build) provides libtorch_cpu/libc10 and the libtorch_cuda that Contour
# loads at start-up. glibc, libstdc++ and libgcc are left out too (the machine's are newer).
#
#   scripts/device/package.sh OUT.tar.xz BINARY...
set -euo pipefail
out=$1
shift
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/lib"
skip='^(linux-vdso|ld-linux|libc\.so|libm\.so|libdl\.so|libpthread\.so|librt\.so|libutil\.so|libstdc\+\+|libgcc_s|libtorch|libc10|libgomp|libcudart|libcupti|libz\.so)'
for bin in "$@"; do
  [ -x "$bin" ] || { echo "package.sh: $bin is not an executable file" >&2; exit 1; }
  cp "$bin" "$stage/"
  # ldd lists the whole closure of each binary's dependencies.
  ldd "$bin" | awk '/=> \// {print $1, $3}' | while read -r name path; do
    if ! [[ $name =~ $skip ]]; then cp -L "$path" "$stage/lib/$name"; fi
  done
done
strip --strip-unneeded "$stage"/lib/*.so* 2>/dev/null || true
for bin in "$@"; do strip --strip-debug "$stage/$(basename "$bin")"; done
# Fast xz: a 150 MB stage packs in about a minute to ~40 MB (the tool's working tree limit is 64 MiB).
XZ_OPT=${XZ_OPT:--1 -T2} tar -C "$stage" -cJf "$out" .
echo "$out: $(du -h "$out" | cut -f1) ($(ls "$stage/lib" | wc -l) libraries)"
