#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build hyvm's test kernel (KUnit, tracepoints, KVM as modules) from Debian's
# linux-source-6.1, once per machine: the result is cached outside the
# checkout under $HYVM_CACHE, keyed by the config fragment, this script and
# the source package version. Prints the build directory on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${HYVM_CACHE:-$HOME/.cache/hyvm}
tarball=/usr/src/linux-source-6.1.tar.xz
log() { echo "build-kernel: $*" >&2; }

[ -f "$tarball" ] || { log "missing $tarball (apt-get install linux-source-6.1)"; exit 1; }
srcver=$(dpkg-query -W -f '${Version}' linux-source-6.1)
key=$( (cat "$here/kernel.config" "$here/build-kernel.sh"; echo "$srcver") | sha256sum | cut -c1-16)
dir=$cache/kernel-$key
if [ -f "$dir/done" ]; then
	log "cached test kernel $dir"
	echo "$dir"
	exit 0
fi
mkdir -p "$cache"
# Serialize concurrent builds of the same key.
exec 9>"$cache/kernel-$key.lock"
flock 9
if [ -f "$dir/done" ]; then echo "$dir"; exit 0; fi
rm -rf "$dir"
mkdir -p "$dir"
log "extracting linux-source $srcver into $dir (once per machine)"
tar -C "$dir" -xf "$tarball"
src=$dir/linux-source-6.1
log "configuring: tinyconfig + $here/kernel.config"
make -C "$src" -s tinyconfig >&2
"$src/scripts/kconfig/merge_config.sh" -m -O "$src" "$src/.config" "$here/kernel.config" >/dev/null
make -C "$src" -s olddefconfig >&2
# Check that the options the tests rely on survived olddefconfig.
for opt in KUNIT=m KVM_AMD=m KVM_INTEL=m DEBUG_FS=y MODULE_UNLOAD=y TRACING=y SERIAL_8250_CONSOLE=y; do
	grep -qx "CONFIG_$opt" "$src/.config" || { log "CONFIG_$opt did not stick"; exit 1; }
done
jobs=$(nproc)
log "building bzImage and modules with -j$jobs (about 15 minutes on 2 cores, once)"
start=$(date +%s)
make -C "$src" -s -j"$jobs" LOCALVERSION=-hyvm bzImage modules >"$dir/build.log" 2>&1 ||
	{ tail -40 "$dir/build.log" >&2; exit 1; }
make -C "$src" -s INSTALL_MOD_PATH="$dir/root" modules_install >&2
log "built in $(( $(date +%s) - start )) s"
touch "$dir/done"
echo "$dir"
