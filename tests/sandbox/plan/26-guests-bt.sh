# SPDX-License-Identifier: GPL-2.0
# The guest suite under the bt engine (interpreter and, for guest user
# code, direct execution in its guest world), to be
# compared line by line with the KVM reference of 25-guests-kvm.sh.
. /hyvm/plan/00-lib.sh
set -- /hyvm/guests/*
if [ ! -e "$1" ]; then
	fail guest-bt "no guests in /hyvm/guests (tests/stage.sh builds them)"
	exit 0
fi
for g in "$@"; do
	[ -f "$g" ] || continue
	guest_result bt "$g"
done

# Guest user code runs directly in bt's guest world (bt_direct).
# stat NAME: the vCPU counter NAME from vmtool run --stats.
fstat() { awk -v n="$1" '$1 == n { print $2 }' "$2"; }
stat() { fstat "$1" /tmp/bt-stats.txt; }
# direct_check GUEST CMDLINE COUNTER...: the guest passes under bt with
# direct execution, each COUNTER moved and the monitor never faulted.
direct_check() {
	n=$1 g=/hyvm/guests/$1.elf c=$2; shift 2
	vmtool run --engine bt --stats --cmdline "$c" "$g" >/tmp/bt-guest.out 2>/tmp/bt-stats.txt
	rc=$?
	sed 's/^/  | /' /tmp/bt-stats.txt
	why=
	[ "$rc" = 1 ] || why="exit status $rc"
	[ "$(stat bt_direct)" = 1 ] || why="$why bt_direct '$(stat bt_direct)'"
	for c in "$@"; do
		v=$(stat $c)
		[ -n "$v" ] && [ "$v" -gt 0 ] || why="$why $c '$v'"
	done
	[ "$(stat bt_world_exit_monitor_fault)" = 0 ] ||
		why="$why monitor faults '$(stat bt_world_exit_monitor_fault)'"
	why="$why$(audit_why /tmp/bt-stats.txt)"
	[ -z "$why" ] && pass bt-direct-$n || fail bt-direct-$n "$why"
}
# audit_why FILE: what is wrong with the guest-world audits of a run made
# with bt_world_audit set: none made, or one found host state mapped.
audit_why() {
	a=$(awk '$1 == "bt_world_audits" { print $2 }' "$1")
	b=$(awk '$1 == "bt_world_audit_bad" { print $2 }' "$1")
	[ -n "$a" ] && [ "$a" -gt 0 ] || echo -n " bt_world_audits '$a'"
	[ "$b" = 0 ] || echo -n " bt_world_audit_bad '$b' ($(dmesg |
		grep -o 'bt guest world of vCPU.*' | tail -1))"
}
# Where the host cannot give direct execution (no NX, a host mapping in
# the VMM region), hyvm said why when the first bt VM was created, and
# every bt VM runs in the interpreter.  A CPU with Meltdown is no reason:
# the guest world maps nothing of the host.
refused=$(dmesg | grep -o 'bt: guest user code runs in the interpreter: .*' | head -1)
# The kernel thinks this CPU has Meltdown (Bochs's Intel models): the
# guest world must be given all the same.
if grep '^bugs' /proc/cpuinfo | grep -qw cpu_meltdown; then
	[ -z "$refused" ] && pass bt-direct-meltdown-cpu ||
		fail bt-direct-meltdown-cpu "${refused#bt: }"
fi
# Every 8th world entry checks that the guest world (user and kernel
# views) maps no host-only page and no host value (hyvm_bt_world_audit()).
if [ -w /sys/module/hyvm/parameters/bt_world_audit ]; then
	echo 8 >/sys/module/hyvm/parameters/bt_world_audit
fi
# Without UMIP (Bochs's models) guest user code stays in the interpreter;
# guest kernel code is still translated in the guest world.
nouser=$(dmesg | grep -o 'bt: guest user code stays in the interpreter: .*' | head -1)
if [ -n "$refused" ] || [ -n "$nouser" ]; then
	r=${refused:-$nouser}
	skip bt-direct "${r#bt: }"
elif [ -f /hyvm/guests/usermode.elf ] && [ -f /hyvm/guests/userloop.elf ] &&
   [ "$(cat /sys/module/hyvm/parameters/bt_direct)" = Y ]; then
	# SYSCALL, int 0x80, cli, hlt, out, a supervisor page from ring 3.
	direct_check usermode "" bt_world_entries bt_world_exit_syscall \
		bt_world_exit_pf bt_world_pf_hidden bt_world_pf_guest \
		bt_world_exit_exception
	# A long ring-3 loop: host timer interrupts land in the guest world.
	direct_check userloop long bt_world_entries bt_world_exit_syscall \
		bt_world_exit_interrupt bt_world_pf_hidden bt_world_pf_guest
	# A guest user mapping in the VMM region stops the VM with a reason;
	# the same guest passes where nothing lives there (the interpreter).
	out=$(vmtool run --engine bt --cmdline vmm-region /hyvm/guests/userloop.elf 2>&1)
	rc=$?
	echo "$out" | sed 's/^/  | /'
	echo "$out" | grep -q "guest mapping in bt's VMM region at 0xffff800000001000" &&
		! echo "$out" | grep -q "userloop: pass" &&
		pass bt-direct-vmm-region || fail bt-direct-vmm-region "rc $rc"
	# CPUID from ring 3 gives the guest's values where the CPU has CPUID
	# faulting; elsewhere it is the host's (bt.rst lists the difference).
	if grep -qw cpuid_fault /proc/cpuinfo; then
		out=$(vmtool run --engine bt --cmdline cpuid /hyvm/guests/usermode.elf 2>&1)
		rc=$?
		[ "$rc" = 1 ] && echo "$out" | grep -q "usermode: pass" &&
			pass bt-direct-cpuid ||
			fail bt-direct-cpuid "rc $rc: $(echo "$out" | grep FAILED | head -1)"
	else
		skip bt-direct-cpuid "the CPU has no CPUID faulting: ring 3 sees the host's CPUID under bt"
	fi
	# With direct execution off, the same guests never enter the world.
	echo N >/sys/module/hyvm/parameters/bt_direct
	out=$(vmtool run --engine bt --cmdline vmm-region /hyvm/guests/userloop.elf 2>&1)
	rc=$?
	[ "$rc" = 1 ] && echo "$out" | grep -q "userloop: pass" &&
		pass bt-interp-vmm-region || fail bt-interp-vmm-region "rc $rc: $(echo "$out" | tail -2 | tr '\n' ' ')"
	vmtool run --engine bt --stats /hyvm/guests/usermode.elf \
		>/tmp/bt-guest.out 2>/tmp/bt-stats.txt
	rc=$?
	echo Y >/sys/module/hyvm/parameters/bt_direct
	[ "$rc" = 1 ] && [ "$(stat bt_direct)" = 0 ] &&
		[ "$(stat bt_world_entries)" = 0 ] && pass bt-direct-off ||
		fail bt-direct-off "rc $rc, bt_direct '$(stat bt_direct)', entries '$(stat bt_world_entries)'"
else
	skip bt-direct "bt_direct off or guests missing"
fi

# Guest kernel code runs translated in the guest world (bt_translate).
# run_stats FILE GUEST ARGS...: vmtool's --stats of one run into FILE.
run_stats() {
	f=$1 g=$2; shift 2
	vmtool run --engine bt --stats "$@" "$g" >/tmp/bt-guest.out 2>"$f"
}
# positive FILE COUNTER...: the names of the counters that are not > 0.
positive() {
	f=$1; shift
	for c in "$@"; do
		v=$(fstat "$c" "$f")
		[ -n "$v" ] && [ "$v" -gt 0 ] || echo -n " $c='$v'"
	done
}
p=/sys/module/hyvm/parameters
if [ -n "$refused" ]; then
	skip bt-translate "${refused#bt: }"
elif [ "$(cat $p/bt_translate)" = Y ] && [ -f /hyvm/guests/isprime.elf ]; then
	# isPrime: translated, chained, indirect lookups for its returns.
	run_stats /tmp/bt-on.txt /hyvm/guests/isprime.elf
	rc=$?
	grep -E '^ *(bt_insns|bt_tc_)' /tmp/bt-on.txt | sed 's/^/  | /'
	echo N >$p/bt_translate
	run_stats /tmp/bt-off.txt /hyvm/guests/isprime.elf
	rc2=$?
	echo Y >$p/bt_translate
	on=$(fstat bt_insns /tmp/bt-on.txt) off=$(fstat bt_insns /tmp/bt-off.txt)
	echo "  | interpreted instructions: $on translated, $off not"
	why=$(positive /tmp/bt-on.txt bt_tc_tus bt_tc_ccf_bytes bt_tc_chains \
		bt_tc_ind_lookups bt_tc_ind_misses bt_tc_callouts bt_tc_entries \
		bt_tc_code_pages)
	[ "$rc" = 1 ] && [ "$rc2" = 1 ] || why="$why exit status $rc/$rc2"
	[ -n "$on" ] && [ -n "$off" ] && [ $((on * 20)) -lt "$off" ] ||
		why="$why interpreted $on of $off"
	[ -z "$(fstat bt_tc_tus /tmp/bt-off.txt)" ] ||
		why="$why translated with bt_translate=N"
	[ "$(fstat bt_world_exit_monitor_fault /tmp/bt-on.txt)" = 0 ] ||
		why="$why monitor faults"
	why="$why$(audit_why /tmp/bt-on.txt)"
	[ -z "$why" ] && pass bt-translate-isprime || fail bt-translate-isprime "$why"

	# smc: guest code changed under its translations (stores through
	# the same and another address, to the next instruction, remapped
	# pages, a CR3 switch): it passes, and did so translated, with the
	# shadow reporting stores to code and translations invalidated.
	if [ -f /hyvm/guests/smc.elf ]; then
		run_stats /tmp/bt-smc.txt /hyvm/guests/smc.elf
		rc=$?
		grep -E '^ *(bt_insns|bt_tc_(tus|invalid|revalid|stale|code)|shadow_code)' \
			/tmp/bt-smc.txt | sed 's/^/  | /'
		why=$(positive /tmp/bt-smc.txt bt_tc_tus bt_tc_invalidations \
			bt_tc_code_writes bt_tc_revalidations bt_tc_stale_pages \
			shadow_code_protects shadow_code_write_faults)
		[ "$rc" = 1 ] && grep -q "smc: pass" /tmp/bt-guest.out ||
			why="$why exit status $rc: $(tail -2 /tmp/bt-guest.out | tr '\n' ' ')"
		[ -z "$why" ] && pass bt-translate-smc || fail bt-translate-smc "$why"
	fi

	# vmtool stat while translated guest kernel code runs: memtouch's
	# endless loop over its memory (CPL0) leaves the cache at host timer
	# interrupts and hidden page faults.
	vmtool run --engine bt --mem 64M --cmdline loop /hyvm/guests/memtouch.elf \
		>/tmp/bt-loop.out 2>&1 &
	lp=$!
	sleep 2
	a=$(vmtool stat | awk '$1 == "bt_tc_entries" {print $2}')
	sleep 1
	b=$(vmtool stat | awk '$1 == "bt_tc_entries" {print $2}')
	tus=$(vmtool stat | awk '$1 == "bt_tc_tus" {print $2}')
	kill $lp; wait $lp 2>/dev/null
	[ -n "$a" ] && [ -n "$b" ] && [ "$b" -gt "$a" ] && [ "${tus:-0}" -gt 0 ] &&
		pass vmtool-stat-bt-tc-move ||
		fail vmtool-stat-bt-tc-move "bt_tc_entries '$a' then '$b', bt_tc_tus '$tus'"

	# ptemod: a PTE rewritten in a loop.  Its store keeps taking trace
	# faults until adaptive translation makes it a callout.
	g=/hyvm/guests/bench/ptemod.elf
	if [ -f $g ]; then
		# Without lingering in the interpreter after a callout, which
		# would take the stores out of translated code altogether.
		t=$(cat $p/bt_adapt_threshold) l=$(cat $p/bt_linger)
		echo 0 >$p/bt_linger
		run_stats /tmp/bt-adapt.txt $g --mem 64M --cmdline "n=2000 warm=2"
		rc=$?
		echo 0 >$p/bt_adapt_threshold
		run_stats /tmp/bt-noadapt.txt $g --mem 64M --cmdline "n=2000 warm=2"
		rc2=$?
		echo "$t" >$p/bt_adapt_threshold
		echo "$l" >$p/bt_linger
		grep -E '^ *bt_tc_(trace|adapt|unadapt|callouts|tus|exit_callout)' \
			/tmp/bt-adapt.txt | sed 's/^/  | adaptive /'
		grep -E '^ *bt_tc_(trace|adapt|callouts)' /tmp/bt-noadapt.txt |
			sed 's/^/  | fixed    /'
		ta=$(fstat bt_tc_trace_faults /tmp/bt-adapt.txt)
		tn=$(fstat bt_tc_trace_faults /tmp/bt-noadapt.txt)
		why=$(positive /tmp/bt-adapt.txt bt_tc_adaptations)
		[ "$rc" = 1 ] && [ "$rc2" = 1 ] || why="$why exit status $rc/$rc2"
		[ -n "$tn" ] && [ "$tn" -ge 2000 ] || why="$why $tn trace faults without adapting"
		[ -n "$ta" ] && [ "$ta" -le 100 ] || why="$why $ta trace faults adapting"
		[ "$(fstat bt_tc_adaptations /tmp/bt-noadapt.txt)" = 0 ] ||
			why="$why adapted with bt_adapt_threshold=0"
		[ -z "$why" ] && pass bt-adapt-ptemod || fail bt-adapt-ptemod "$why"
	fi
else
	skip bt-translate "bt_translate off or guests missing"
fi
if [ -w /sys/module/hyvm/parameters/bt_world_audit ]; then
	echo 0 >/sys/module/hyvm/parameters/bt_world_audit
fi
