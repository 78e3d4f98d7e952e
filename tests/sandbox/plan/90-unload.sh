# SPDX-License-Identifier: GPL-2.0
# Unload leaves nothing behind.
. /hyvm/plan/00-lib.sh
l=$(live)
[ "$l" = "vms 0 vcpus 0 " ] && pass nothing-live-before-unload || fail nothing-live-before-unload "$l"
check module-unload rmmod hyvm
check dev-node-gone sh -c '! test -e /dev/hyvm'
check reload insmod /hyvm/modules/hyvm.ko
check unload-again rmmod hyvm
dmesg | grep -E 'hyvm.*(leak|WARN)' && fail no-leak-warnings || pass no-leak-warnings
