# SPDX-License-Identifier: GPL-2.0
# The vmx engine (VT-x, EPT, unrestricted guest), in Bochs: the small
# real-mode guests of tests/guests/svm-smoke (they use nothing AMD-specific),
# hostile ones included, then the guest suite; the host must stay healthy
# whatever they do.  Then the same engine without EPT (ept=0): shadow page
# tables, in the same boot.
. /hyvm/plan/00-lib.sh
g=/hyvm/guests/svm-smoke
if ! vmtool caps 2>/dev/null | grep -q '^engine vmx available'; then
	skip vmx "vmx is not available on this host: $(vmtool caps 2>&1 | grep '^engine vmx')"
	exit 0
fi
if [ ! -f $g/tiny.bin ]; then
	fail vmx-guests "no $g/tiny.bin in the stage"
	exit 0
fi
dmesg_before=$(dmesg | grep -cE 'BUG|Oops|WARNING|general protection|hyvm.*leak')

# vmx_run NAME WANT_RC [GREP] -- VMTOOL-ARGS...: PASS when vmtool exits
# with WANT_RC and its output (stdout and stderr) matches GREP.
vmx_run() {
	name=$1 want=$2 pat=$3; shift 4
	out=$(timeout 120 vmtool run --engine vmx "$@" 2>&1); rc=$?
	if [ "$rc" = "$want" ] && { [ -z "$pat" ] || echo "$out" | grep -q "$pat"; }; then
		pass "$name"
	else
		fail "$name" "rc $rc want $want: $(echo "$out" | tail -2 | tr '\n' ' ')"
	fi
}

vmx_run vmx-tiny 1 '' -- --mem 1M $g/tiny.bin
vmx_run vmx-hello 85 '^hello$' -- --mem 1M $g/hello.bin
vmx_run vmx-in-0xe9 33 '' -- --mem 1M $g/in.bin
vmx_run vmx-string-io 225 "^string io$" -- --mem 1M $g/strio.bin
vmx_run vmx-rep-string-io 227 '^rep string io k$' -- --mem 1M $g/repio.bin
vmx_run vmx-hlt 0 halting -- --mem 1M $g/hlt.bin
vmx_run vmx-cpuid 65 'cpuid ok' -- --mem 1M $g/cpuid.bin
vmx_run vmx-msr 97 '' -- --mem 1M $g/msr.bin
vmx_run vmx-illegal-insns 129 '' -- --mem 1M $g/illegal.bin
vmx_run vmx-wild-msrs-ports 231 "" -- --mem 1M $g/wild.bin
vmx_run vmx-virtual-debug-regs 233 "" -- --mem 1M $g/dbg.bin
vmx_run vmx-triple-fault 1 'shut' -- --mem 1M $g/triple.bin
vmx_run vmx-alive-after-triple-fault 1 '' -- --mem 1M $g/tiny.bin
# RAM ends at 0x20000: a store and a load at 0x30000 are MMIO, emulated and
# handed to vmtool (open bus: writes dropped, reads all ones).
out=$(vmtool run --engine vmx --mem 128K $g/beyond.bin 2>&1); rc=$?
echo "beyond-ram: rc $rc: $out"
if [ $rc = 193 ] || { [ $rc = 1 ] && echo "$out" | grep -q 'exit reason 2'; }; then
	pass vmx-beyond-ram-mmio
else
	fail vmx-beyond-ram-mmio "rc $rc: $(echo "$out" | tail -2 | tr '\n' ' ')"
fi
vmx_run vmx-exit-storm 161 '' -- --mem 1M $g/storm.bin
# Every page of 128 MiB touched: pinned while the VM lives, all given back
# when it goes.
avail() { sed -n 's/^MemAvailable: *\([0-9]*\) kB/\1/p' /proc/meminfo; }
before=$(avail)
vmx_run vmx-touch-all-ram 229 "" -- --mem 128M $g/touch.bin
vmx_run vmx-touch-all-ram-again 229 "" -- --mem 128M $g/touch.bin
after=$(avail)
echo "MemAvailable before $before kB, after $after kB"
[ $((before - after)) -lt 65536 ] && pass vmx-touched-ram-released ||
	fail vmx-touched-ram-released "MemAvailable $before -> $after kB"

# A guest that never exits by itself: counters while it runs, then a
# signal must end the run.
vmtool run --engine vmx --mem 1M $g/spin.bin >/tmp/spin.out 2>&1 &
pid=$!
sleep 2
st=$(cat /sys/kernel/debug/hyvm/$pid-*/vcpu0/stats 2>/dev/null)
echo "$st" | grep -E 'hwexit_(intr|npf)'
intr=$(echo "$st" | sed -n 's/^hwexit_intr //p')
[ "${intr:-0}" -gt 0 ] && pass vmx-debugfs-exit-counters ||
	fail vmx-debugfs-exit-counters "hwexit_intr '${intr}'"
kill -TERM $pid
i=0
while kill -0 $pid 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 $pid 2>/dev/null; then
	fail vmx-spin-sigterm "vmtool still running 10 s after SIGTERM"
	kill -9 $pid
else
	wait $pid; rc=$?
	[ $rc = 1 ] && pass vmx-spin-sigterm || fail vmx-spin-sigterm "rc $rc"
fi
vmtool run --engine vmx --mem 1M $g/spin.bin >/dev/null 2>&1 &
pid=$!
sleep 1
kill -9 $pid; wait $pid 2>/dev/null
l=$(live)
[ "$l" = "vms 0 vcpus 0 " ] && pass vmx-freed-after-kill9 || fail vmx-freed-after-kill9 "$l"

# The exit tracepoint: CPUID is VMX exit reason 10.
t=/sys/kernel/tracing
if [ -d $t/events/hyvm/hyvm_exit ]; then
	echo 0 >$t/tracing_on; echo >$t/trace
	echo 1 >$t/events/hyvm/hyvm_exit/enable && echo 1 >$t/tracing_on
	vmtool run --engine vmx --mem 1M $g/cpuid.bin >/dev/null 2>&1
	echo 0 >$t/tracing_on; echo 0 >$t/events/hyvm/hyvm_exit/enable
	grep -q 'hyvm_exit:.* cpuid code 0xa ' $t/trace && pass vmx-trace-exit ||
		fail vmx-trace-exit "$(grep hyvm_exit $t/trace | head -2 | tr '\n' ' ')"
else
	fail vmx-trace-exit "no $t/events/hyvm/hyvm_exit"
fi

# Beside kvm_intel: it holds VMX only while it has VMs, so both can run,
# but not at the same time.  The KVM guest spins with IF set (sti; jmp $):
# Bochs does not exit a guest spinning with IF clear on host interrupts,
# and kvm_intel has no preemption timer to fall back on as hyvm has.
printf '\373\353\376' >/tmp/spin-sti.bin
if modprobe kvm_intel 2>/dev/null; then
	vmx_run vmx-with-kvm-loaded 1 '' -- --mem 1M $g/tiny.bin
	vmtool run --engine kvm --mem 1M /tmp/spin-sti.bin >/dev/null 2>&1 &
	kpid=$!
	sleep 3
	if kill -0 $kpid 2>/dev/null; then
		out=$(vmtool run --engine vmx --mem 1M $g/tiny.bin 2>&1); rc=$?
		# Refused by the probe (CR4.VMXE set here) or at VMXON time
		# (on another CPU), with the reason in caps or the log.
		caps=$(vmtool caps 2>&1 | grep '^engine vmx')
		echo "$caps"
		if [ $rc = 1 ] && echo "$out" | grep -q 'busy' &&
		   { echo "$caps" | grep -q 'another hypervisor' ||
		     dmesg | grep -q 'another hypervisor has VMX enabled'; }; then
			pass vmx-refused-while-kvm-runs
		else
			fail vmx-refused-while-kvm-runs "rc $rc: $out; $caps"
		fi
		kill $kpid; wait $kpid 2>/dev/null
		vmx_run vmx-after-kvm-guest 1 '' -- --mem 1M $g/tiny.bin
	else
		skip vmx-refused-while-kvm-runs "no KVM guest ran (vmtool --engine kvm)"
	fi
	modprobe -r kvm_intel
fi

# The guest suite (tests/guests), as 26-guests-bt.sh runs it.
for f in /hyvm/guests/*; do
	[ -f "$f" ] || continue
	guest_result vmx "$f"
done

# ept=0: the guest on shadow page tables (virt/vmx/shadow.c on
# virt/shadow_host.c), in the interpreter until it reaches long mode.
p=/sys/module/hyvm/parameters/ept
if [ -w $p ]; then
	echo 0 >$p
	# Real-mode smoke guests never leave the interpreter: the results
	# must be those of ept=1.  (guest_result sets $g: the smoke guests'
	# directory is named again.)
	sg=/hyvm/guests/svm-smoke
	for s in "tiny 1" "hello 85" "cpuid 65" "triple 1"; do
		set -- $s
		vmx_run "vmx-ept0-smoke-$1" $2 '' -- --mem 1M $sg/$1.bin
	done
	for f in /hyvm/guests/*; do
		[ -f "$f" ] || continue
		guest_result vmx "$f" | sed 's|guest-vmx/|guest-vmx-ept0/|'
	done
	# A long-mode guest that keeps faulting (the pgfault benchmark with
	# many iterations): its shadow counters while it runs, and the #PF
	# exits of the hardware behind them.
	gp=/hyvm/guests/bench/pgfault.elf
	if [ -f "$gp" ]; then
		vmtool run --engine vmx --mem 64M --cmdline "n=100000000" "$gp" >/dev/null 2>&1 &
		pid=$!
		sleep 5
		st=$(cat /sys/kernel/debug/hyvm/$pid-*/stats 2>/dev/null)
		vst=$(cat /sys/kernel/debug/hyvm/$pid-*/vcpu0/stats 2>/dev/null)
		kill $pid; wait $pid
		echo "$st" | grep '^shadow_'
		echo "$vst" | grep -E '^hwexit_exception'
		hf=$(echo "$st" | sed -n 's/^shadow_hidden_faults //p')
		tf=$(echo "$st" | sed -n 's/^shadow_true_faults //p')
		[ "${hf:-0}" -gt 0 ] && [ "${tf:-0}" -gt 0 ] && pass vmx-ept0-debugfs-shadow-counters ||
			fail vmx-ept0-debugfs-shadow-counters "hidden '${hf}' true '${tf}'"
		pf=$(echo "$vst" | sed -n 's/^hwexit_exception //p')
		[ "${pf:-0}" -ge "${hf:-0}" ] && [ "${pf:-0}" -gt 0 ] && pass vmx-ept0-pf-exits ||
			fail vmx-ept0-pf-exits "hwexit_exception '${pf}', hidden faults '${hf}'"
	else
		fail vmx-ept0-debugfs-shadow-counters "no $gp"
	fi
	# The shadow fault tracepoint, from a multiboot guest: started in
	# protected mode (the interpreter's), it switches to long mode, where
	# the hardware runs it and faults on the shadow tables.
	check_shadow_fault_trace vmx-ept0-trace-shadow-fault vmx /hyvm/guests/multiboot.elf
	echo 1 >$p
	s=$(shadow_live)
	[ "$s" = "tables 0 pinned 0 " ] && pass vmx-ept0-no-shadow-table-or-pin-left ||
		fail vmx-ept0-no-shadow-table-or-pin-left "$s"
else
	fail vmx-ept0 "no writable $p"
fi

l=$(live)
[ "$l" = "vms 0 vcpus 0 " ] && pass vmx-nothing-live || fail vmx-nothing-live "$l"
n=$(dmesg | grep -cE 'BUG|Oops|WARNING|general protection|hyvm.*leak')
[ "$n" = "$dmesg_before" ] && pass vmx-host-log-clean ||
	fail vmx-host-log-clean "$(dmesg | grep -E 'BUG|Oops|WARNING|general protection' | tail -2 | tr '\n' ' ')"
