#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install, with apt, what building and testing hyvm needs on Debian 12.
# Does nothing when everything is already there.
set -euo pipefail
pkgs=(build-essential bc bison flex libelf-dev libssl-dev kmod cpio sparse
      libcmocka-dev libzydis-dev linux-headers-amd64 linux-image-amd64
      linux-source-6.1 busybox-static qemu-system-x86 bochs bochsbios vgabios
      bochs-term grub-pc-bin grub-common xorriso mtools rsync gnuplot-nox)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#pkgs[@]} packages present" >&2
	exit 0
fi
echo "install-deps: installing ${missing[*]} (apt, about 230 MB on a fresh machine)" >&2
sudo=
[ "$(id -u)" = 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
# INITRD=No: the kernel image is booted with our own initramfs, so skip
# update-initramfs (about 45 s each time).
$sudo apt-get -o DPkg::Lock::Timeout=600 update -q >&2
$sudo env INITRD=No DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
	install -y -q --no-install-recommends "${missing[@]}" >&2
echo "install-deps: done" >&2
