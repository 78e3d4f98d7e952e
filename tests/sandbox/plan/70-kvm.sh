# SPDX-License-Identifier: GPL-2.0
# The KVM baseline loads in this emulated host, beside hyvm.
. /hyvm/plan/00-lib.sh
case $HYVM_HOST in
qemu) m=kvm_amd ;;
bochs) m=kvm_intel ;;
*) skip kvm-baseline "unknown host $HYVM_HOST"; exit 0 ;;
esac
check "kvm-baseline-$m" modprobe $m
check kvm-dev test -c /dev/kvm
check caps-with-kvm-loaded vmtool caps
modprobe -r $m
