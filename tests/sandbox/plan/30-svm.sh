# SPDX-License-Identifier: GPL-2.0
# The svm engine (AMD-V, nested paging): small real-mode guests from
# tests/guests/svm-smoke under "vmtool run --engine svm", hostile ones
# included; the host must stay healthy whatever they do.
. /hyvm/plan/00-lib.sh
g=/hyvm/guests/svm-smoke
if ! vmtool caps 2>/dev/null | grep -q '^engine svm available'; then
	skip svm "svm is not available on this host"
	exit 0
fi
if [ ! -f $g/tiny.bin ]; then
	fail svm-guests "no $g/tiny.bin in the stage"
	exit 0
fi
dmesg_before=$(dmesg | grep -cE 'BUG|Oops|WARNING|general protection|hyvm.*leak')

# svm_run NAME WANT_RC [GREP] -- VMTOOL-ARGS...: PASS when vmtool exits
# with WANT_RC and its output (stdout and stderr) matches GREP.
svm_run() {
	name=$1 want=$2 pat=$3; shift 4
	out=$(timeout 60 vmtool run --engine svm "$@" 2>&1); rc=$?
	if [ "$rc" = "$want" ] && { [ -z "$pat" ] || echo "$out" | grep -q "$pat"; }; then
		pass "$name"
	else
		fail "$name" "rc $rc want $want: $(echo "$out" | tail -2 | tr '\n' ' ')"
	fi
}

svm_run svm-tiny 1 '' -- --mem 1M $g/tiny.bin
svm_run svm-hello 85 '^hello$' -- --mem 1M $g/hello.bin
svm_run svm-in-0xe9 33 '' -- --mem 1M $g/in.bin
svm_run svm-string-io 225 "^string io$" -- --mem 1M $g/strio.bin
svm_run svm-rep-string-io 227 '^rep string io k$' -- --mem 1M $g/repio.bin
svm_run svm-hlt 0 halting -- --mem 1M $g/hlt.bin
svm_run svm-cpuid 65 'cpuid ok' -- --mem 1M $g/cpuid.bin
svm_run svm-msr 97 '' -- --mem 1M $g/msr.bin
svm_run svm-illegal-insns 129 '' -- --mem 1M $g/illegal.bin
svm_run svm-wild-msrs-ports 231 "" -- --mem 1M $g/wild.bin
svm_run svm-virtual-debug-regs 233 "" -- --mem 1M $g/dbg.bin
svm_run svm-triple-fault 1 'shut' -- --mem 1M $g/triple.bin
svm_run svm-alive-after-triple-fault 1 '' -- --mem 1M $g/tiny.bin
# RAM ends at 0x20000: a store and a load at 0x30000 are MMIO, emulated and
# handed to vmtool (open bus: writes dropped, reads all ones).  A vmtool
# that does not serve MMIO yet must stop the guest with an error instead.
out=$(vmtool run --engine svm --mem 128K $g/beyond.bin 2>&1); rc=$?
echo "beyond-ram: rc $rc: $out"
if [ $rc = 193 ] || { [ $rc = 1 ] && echo "$out" | grep -q 'exit reason 2'; }; then
	pass svm-beyond-ram-mmio
else
	fail svm-beyond-ram-mmio "rc $rc: $(echo "$out" | tail -2 | tr '\n' ' ')"
fi
svm_run svm-big-mem 1 '' -- --mem 512M $g/tiny.bin
svm_run svm-exit-storm 161 '' -- --mem 1M $g/storm.bin
# Every page of 128 MiB touched: pinned while the VM lives, all given
# back when it goes.
avail() { sed -n 's/^MemAvailable: *\([0-9]*\) kB/\1/p' /proc/meminfo; }
before=$(avail)
svm_run svm-touch-all-ram 229 '' -- --mem 128M $g/touch.bin
svm_run svm-touch-all-ram-again 229 '' -- --mem 128M $g/touch.bin
after=$(avail)
echo "MemAvailable before $before kB, after $after kB"
# A leak would be 256 MiB; allow for the page cache and per-CPU lists.
[ $((before - after)) -lt 65536 ] && pass svm-touched-ram-released ||
	fail svm-touched-ram-released "MemAvailable $before -> $after kB"

# Several svm guests at once: six exit storms started together must each
# end with its own status, and the VMs must all go.  Under QEMU they run on
# the last CPU, never on CPU 0: QEMU's software CPU loses updates of CPU
# 0's SVM state while another CPU restores FPU state, which no hypervisor
# can prevent (Documentation/svm.rst, "Several guests at once under
# QEMU"; tests/sandbox/stress/svm-parallel.sh runs them unpinned).
pin=
ncpu=$(grep -c '^processor' /proc/cpuinfo)
if [ "$HYVM_HOST" = qemu ] && [ "$ncpu" -gt 1 ]; then
	pin="taskset -c $((ncpu - 1))"
fi
i=0
while [ $i -lt 6 ]; do
	($pin timeout 60 vmtool run --engine svm --mem 1M $g/storm.bin \
		>/tmp/svm-par$i.out 2>&1; echo $? >/tmp/svm-par$i.rc) &
	i=$((i + 1))
done
wait
bad=
for i in 0 1 2 3 4 5; do
	rc=$(cat /tmp/svm-par$i.rc)
	[ "$rc" = 161 ] || bad="$bad guest $i rc $rc: $(tail -1 /tmp/svm-par$i.out);"
done
[ -z "$bad" ] && pass svm-parallel-storms || fail svm-parallel-storms "$bad"
l=$(live)
[ "$l" = "vms 0 vcpus 0 " ] && pass svm-parallel-freed || fail svm-parallel-freed "$l"

# A guest that never exits by itself: counters while it runs, then a
# signal must end the run.
vmtool run --engine svm --mem 1M $g/spin.bin >/tmp/spin.out 2>&1 &
pid=$!
sleep 2
st=$(cat /sys/kernel/debug/hyvm/$pid-*/vcpu0/stats 2>/dev/null)
echo "$st" | grep -E 'hwexit_(intr|npf)'
intr=$(echo "$st" | sed -n 's/^hwexit_intr //p')
[ "${intr:-0}" -gt 0 ] && pass svm-debugfs-exit-counters ||
	fail svm-debugfs-exit-counters "hwexit_intr '${intr}'"
vmtool stat 2>&1 | grep -q "hwexit_intr" && pass svm-vmtool-stat ||
	fail svm-vmtool-stat "$(vmtool stat 2>&1 | head -3 | tr '\n' ' ')"
kill -TERM $pid
i=0
while kill -0 $pid 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 $pid 2>/dev/null; then
	fail svm-spin-sigterm "vmtool still running 5 s after SIGTERM"
	kill -9 $pid
else
	wait $pid; rc=$?
	[ $rc = 1 ] && pass svm-spin-sigterm || fail svm-spin-sigterm "rc $rc"
fi
vmtool run --engine svm --mem 1M $g/spin.bin >/dev/null 2>&1 &
pid=$!
sleep 1
kill -9 $pid; wait $pid 2>/dev/null
l=$(live)
[ "$l" = "vms 0 vcpus 0 " ] && pass svm-freed-after-kill9 || fail svm-freed-after-kill9 "$l"

# The exit tracepoint.
t=/sys/kernel/tracing
if [ -d $t/events/hyvm/hyvm_exit ]; then
	echo 0 >$t/tracing_on; echo >$t/trace
	echo 1 >$t/events/hyvm/hyvm_exit/enable && echo 1 >$t/tracing_on
	vmtool run --engine svm --mem 1M $g/cpuid.bin >/dev/null 2>&1
	echo 0 >$t/tracing_on; echo 0 >$t/events/hyvm/hyvm_exit/enable
	grep -q 'hyvm_exit:.* cpuid code 0x72' $t/trace && pass svm-trace-exit ||
		fail svm-trace-exit "$(grep hyvm_exit $t/trace | head -2 | tr '\n' ' ')"
else
	fail svm-trace-exit "no $t/events/hyvm/hyvm_exit"
fi

# Beside kvm_amd: it holds SVM only while it has VMs, so both can run,
# but not at the same time: while a KVM guest runs, svm VMs are refused
# with EBUSY and a reason; once it is gone they work again.
if modprobe kvm_amd 2>/dev/null; then
	svm_run svm-with-kvm-loaded 1 '' -- --mem 1M $g/tiny.bin
	vmtool run --engine kvm --mem 1M $g/spin.bin >/dev/null 2>&1 &
	kpid=$!
	sleep 2
	if kill -0 $kpid 2>/dev/null; then
		out=$(vmtool run --engine svm --mem 1M $g/tiny.bin 2>&1); rc=$?
		caps=$(vmtool caps 2>&1 | grep '^engine svm')
		echo "$caps"
		if [ $rc = 1 ] && echo "$out" | grep -q 'busy' &&
		   echo "$caps" | grep -q 'another hypervisor'; then
			pass svm-refused-while-kvm-runs
		else
			fail svm-refused-while-kvm-runs "rc $rc: $out; $caps"
		fi
		kill $kpid; wait $kpid 2>/dev/null
		svm_run svm-after-kvm-guest 1 '' -- --mem 1M $g/tiny.bin
		# And the other way round: KVM cannot take SVM from a running
		# svm guest, which goes on undisturbed.
		vmtool run --engine svm --mem 1M $g/spin.bin >/dev/null 2>&1 &
		spid=$!
		sleep 1
		out=$(timeout 60 vmtool run --engine kvm --mem 1M $g/tiny.bin 2>&1); rc=$?
		if [ $rc = 1 ] && echo "$out" | grep -q busy &&
		   kill -0 $spid 2>/dev/null; then
			pass svm-kvm-refused-while-svm-runs
		else
			fail svm-kvm-refused-while-svm-runs "kvm rc $rc: $out"
		fi
		kill $spid; wait $spid 2>/dev/null
	else
		skip svm-refused-while-kvm-runs "no KVM guest ran (vmtool --engine kvm)"
	fi
	modprobe -r kvm_amd
fi

# The guest suite (tests/guests, as 25-guests-kvm.sh runs it under KVM):
# a guest passes when its last line is "<name>: pass" and it wrote 0 to
# the debug-exit port.
for f in /hyvm/guests/*; do
	[ -f "$f" ] || continue
	name=${f##*/}
	name=${name%.*}
	out=$(timeout 300 vmtool run --engine svm --mem 64M "$f" 2>&1); rc=$?
	echo "$out" | sed 's/^/  | /'
	if [ $rc = 1 ] && echo "$out" | tail -1 | grep -q "^$name: pass"; then
		pass "guest-svm/$name"
	else
		why=$(echo "$out" | grep -E 'FAILED|crash|fail|vmtool:' | head -2 | tr '\n' ' ')
		[ $rc = 124 ] && why="timed out"
		fail "guest-svm/$name" "exit status $rc${why:+: $why}"
	fi
done

l=$(live)
[ "$l" = "vms 0 vcpus 0 " ] && pass svm-nothing-live || fail svm-nothing-live "$l"
n=$(dmesg | grep -cE 'BUG|Oops|WARNING|general protection|hyvm.*leak')
[ "$n" = "$dmesg_before" ] && pass svm-host-log-clean ||
	fail svm-host-log-clean "$(dmesg | grep -E 'BUG|Oops|WARNING|general protection' | tail -2 | tr '\n' ' ')"
