# SPDX-License-Identifier: GPL-2.0
# Tracepoints: VM create/destroy and run entry/exit reach ftrace.
. /hyvm/plan/00-lib.sh
t=/sys/kernel/tracing
if [ ! -d $t/events/hyvm ]; then
	fail tracepoints "no $t/events/hyvm"
	exit 0
fi
echo 0 >$t/tracing_on; echo >$t/trace
echo 1 >$t/events/hyvm/enable && echo 1 >$t/tracing_on
make_tiny_guest /tmp/tiny.bin
vmtool run --engine bt --mem 1M /tmp/tiny.bin >/dev/null 2>&1
echo 0 >$t/tracing_on; echo 0 >$t/events/hyvm/enable
tr=$(cat $t/trace)
for ev in hyvm_vm_create hyvm_run_enter hyvm_run_exit hyvm_vm_destroy; do
	echo "$tr" | grep -q "$ev:" && pass "trace-$ev" || fail "trace-$ev"
done
echo "$tr" | grep -q 'hyvm_vm_create:.*engine bt' && pass trace-engine-name || fail trace-engine-name
echo "$tr" | grep hyvm_ | head -5
