#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# stage.sh stock|test: build hyvm.ko (and hyvm_kunit.ko where the kernel has
# KUnit) for a sandbox kernel, vmtool and the in-host test programs, and lay
# them out as tests/sandbox/run.sh wants: build/stage-<kernel>/{modules,bin,plan}.
# The module is built in a copy of the tree so that builds for different
# kernels do not overwrite each other's objects.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
kernel=${1:?stock or test}
build=$top/build
src=$build/mod-$kernel
stage=$build/stage-$kernel
log() { echo "stage: $*" >&2; }

case $kernel in
test)  kdir=$("$top/tests/sandbox/build-kernel.sh")/linux-source-6.1 ;;
stock) kdir=$(ls -d /usr/src/linux-headers-*-amd64 | sort -V | tail -1) ;;
*) echo "stage: kernel must be stock or test" >&2; exit 2 ;;
esac
log "building hyvm.ko for $kernel ($kdir)"
mkdir -p "$src"
rsync -a --delete --exclude /build --exclude /.git --exclude '*.o' \
	--exclude '*.ko' "$top/" "$src/"
make -s -C "$src" module KDIR="$kdir" >&2
make -s -C "$top/tools/vmtool" >&2
make -s -C "$top/tests/guests" OUT="$build/guests" >&2
make -s -C "$top/tests/integration" BUILD="$build/bin" >&2
rm -rf "$stage"
mkdir -p "$stage/modules" "$stage/bin" "$stage/plan"
cp "$src"/*.ko "$stage/modules/"
cp "$top/tools/vmtool/vmtool" "$build"/bin/* "$stage/bin/"
cp "$top"/tests/sandbox/plan/* "$stage/plan/"
make -s -C "$top/tests/guests/svm-smoke" O="$stage/guests/svm-smoke" >&2
mkdir -p "$stage/guests" && cp "$build"/guests/*.elf "$build"/guests/*.bin "$stage/guests/"
make -s -C "$top/bench" stage STAGE="$stage" OUT="$build/bench" >&2
echo "$stage"
