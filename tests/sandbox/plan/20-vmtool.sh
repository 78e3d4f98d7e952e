# SPDX-License-Identifier: GPL-2.0
# vmtool: caps per host, argument checking, the run plumbing.
. /hyvm/plan/00-lib.sh
caps=$(vmtool caps 2>&1); rc=$?
echo "$caps"
[ $rc = 0 ] && echo "$caps" | grep -qx 'api 1' && pass vmtool-caps || fail vmtool-caps "rc $rc"
echo "$caps" | grep -q '^engine bt available' && pass caps-bt || fail caps-bt
case $HYVM_HOST in
qemu)
	echo "$caps" | grep -q '^engine svm available.*NPT' && pass caps-svm-npt || fail caps-svm-npt
	echo "$caps" | grep -q '^engine vmx unavailable.*\[No such device\]' && pass caps-no-vmx || fail caps-no-vmx ;;
bochs)
	echo "$caps" | grep -q '^engine vmx available.*EPT' && pass caps-vmx-ept || fail caps-vmx-ept
	echo "$caps" | grep -q '^engine svm unavailable' && pass caps-no-svm || fail caps-no-svm ;;
esac
vmtool --help >/dev/null; [ $? = 0 ] && pass vmtool-help || fail vmtool-help
vmtool run --help | grep -q -- '--engine' && pass vmtool-run-help || fail vmtool-run-help
for bad in "run" "run --engine nope x" "run --mem 12Q x" "run --mem 100 x" \
	   "run --load-addr 0x7 x" "frobnicate" "run a b"; do
	out=$(vmtool $bad 2>&1 >/dev/null); rc=$?
	if [ $rc = 2 ] && [ -n "$out" ]; then pass "vmtool-usage-error($bad)"
	else fail "vmtool-usage-error($bad)" "rc $rc: $out"; fi
done
out=$(vmtool run /nonexistent 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "cannot open image" && pass vmtool-missing-image ||
	fail vmtool-missing-image "rc $rc: $out"
make_tiny_guest /tmp/tiny.bin
out=$(vmtool run --engine bt --mem 1M /tmp/tiny.bin 2>&1); rc=$?
echo "$out"
# The debug-exit port decides vmtool's exit status.
[ $rc = 67 ] && pass vmtool-run-bt-debug-exit || fail vmtool-run-bt-debug-exit "rc $rc"
printf '\364' >/tmp/hlt.bin		# hlt
out=$(vmtool run --engine bt --mem 1M /tmp/hlt.bin 2>&1); rc=$?
[ $rc = 0 ] && pass vmtool-run-bt-hlt || fail vmtool-run-bt-hlt "rc $rc: $out"
printf '\353\376' >/tmp/loop.bin	# jmp $: stopped by a signal
vmtool run --engine bt --mem 1M /tmp/loop.bin >/tmp/loop.out 2>&1 &
p=$!; sleep 1
# While it spins, its counters move: the interpreter counts instructions.
a=$(vmtool stat | awk '/bt_insns/ {print $2}'); sleep 1
b=$(vmtool stat | awk '/bt_insns/ {print $2}')
[ -n "$a" ] && [ -n "$b" ] && [ "$b" -gt "$a" ] && pass vmtool-stat-bt-insns-move ||
	fail vmtool-stat-bt-insns-move "bt_insns '$a' then '$b'"
kill -TERM $p; wait $p; rc=$?
[ $rc = 1 ] && grep -q 'stopped by signal' /tmp/loop.out && pass vmtool-run-bt-signal ||
	fail vmtool-run-bt-signal "rc $rc: $(cat /tmp/loop.out)"
# lidt cs:[8] (limit 0); ud2; then the descriptor: #UD, #DF, shutdown.
printf '\056\017\001\036\010\000\017\013\000\000\000\000\000\000' >/tmp/ud.bin
out=$(vmtool run --engine bt --mem 1M /tmp/ud.bin 2>&1); rc=$?
echo "$out"
[ $rc = 1 ] && echo "$out" | grep -q 'triple fault' && pass vmtool-run-bt-triple-fault ||
	fail vmtool-run-bt-triple-fault "rc $rc: $out"
check live-after-run grep -q 'vms 0' /sys/kernel/debug/hyvm/live
check vmtool-stat-empty sh -c 'vmtool stat | grep -q "no VMs running"'
