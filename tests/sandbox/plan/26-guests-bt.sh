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
stat() { awk -v n="$1" '$1 == n { print $2 }' /tmp/bt-stats.txt; }
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
	[ -z "$why" ] && pass bt-direct-$n || fail bt-direct-$n "$why"
}
# Where the host cannot give direct execution (a CPU the kernel thinks has
# Meltdown, such as Bochs's Intel models), hyvm said why when the first bt
# VM was created, and every bt VM runs in the interpreter.
refused=$(dmesg | grep -o 'bt: guest user code runs in the interpreter: .*' | head -1)
if [ -n "$refused" ]; then
	skip bt-direct "${refused#bt: }"
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
