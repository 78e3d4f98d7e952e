# SPDX-License-Identifier: GPL-2.0
# make demo: what hyvm can do in this emulated host today.
step() { echo; echo "\$ $*"; "$@"; }
echo "== hyvm demo in an emulated host: $(uname -r), $(grep -m1 'model name' /proc/cpuinfo)"
step insmod /hyvm/modules/hyvm.ko
step cat /sys/class/misc/hyvm/engines
step vmtool caps
printf '\260\000\346\364\364' >/tmp/tiny.bin
echo; echo "# a 5-byte real-mode guest: mov al,0; out 0xf4,al; hlt"
step vmtool run --engine bt --mem 1M /tmp/tiny.bin
echo "(exit status $?)"
echo; echo "# a VM held by a process, as vmtool stat sees it"
hyvm-abi-test hold >/dev/null & pid=$!
sleep 1
step vmtool stat
kill -9 $pid; wait $pid 2>/dev/null
step cat /sys/kernel/debug/hyvm/live
step rmmod hyvm
echo "== demo done"
