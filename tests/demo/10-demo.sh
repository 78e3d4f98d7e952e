# SPDX-License-Identifier: GPL-2.0
# make demo: what hyvm can do in this emulated host today.
step() { echo; echo "\$ $*"; "$@"; }
echo "== hyvm demo in an emulated host: $(uname -r), $(grep -m1 'model name' /proc/cpuinfo)"
step insmod /hyvm/modules/hyvm.ko
step cat /sys/class/misc/hyvm/engines
step vmtool caps
echo; echo "# the paper's isPrime guest under each engine this host has"
for e in bt svm kvm; do
	[ $e = kvm ] && modprobe kvm_amd 2>/dev/null
	step vmtool run --engine $e --mem 64M /hyvm/guests/isprime.elf
	echo "(exit status $?: 1 means the guest passed)"
done
modprobe -r kvm_amd 2>/dev/null
echo; echo "# a VM held by a process, as vmtool stat sees it"
hyvm-abi-test hold >/dev/null & pid=$!
sleep 1
step vmtool stat
kill -9 $pid; wait $pid 2>/dev/null
step cat /sys/kernel/debug/hyvm/live
step rmmod hyvm
echo "== demo done"
