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

# Guest user code runs directly in bt's guest world (bt_direct): the
# usermode guest enters it, leaves it through SYSCALL, page faults the
# shadow fills and exceptions the interpreter finishes, and passes.
# stat NAME: the vCPU counter NAME from vmtool run --stats.
stat() { awk -v n="$1" '$1 == n { print $2 }' /tmp/bt-stats.txt; }
g=/hyvm/guests/usermode.elf
if [ -f "$g" ] && [ "$(cat /sys/module/hyvm/parameters/bt_direct)" = Y ]; then
	vmtool run --engine bt --stats "$g" >/tmp/bt-usermode.out 2>/tmp/bt-stats.txt
	rc=$?
	sed 's/^/  | /' /tmp/bt-stats.txt
	why=
	[ "$rc" = 1 ] || why="exit status $rc"
	[ "$(stat bt_direct)" = 1 ] || why="$why bt_direct '$(stat bt_direct)'"
	for c in bt_world_entries bt_world_exit_syscall bt_world_exit_pf \
		 bt_world_pf_hidden bt_world_exit_exception; do
		v=$(stat $c)
		[ -n "$v" ] && [ "$v" -gt 0 ] || why="$why $c '$v'"
	done
	[ "$(stat bt_world_exit_monitor_fault)" = 0 ] ||
		why="$why monitor faults '$(stat bt_world_exit_monitor_fault)'"
	[ -z "$why" ] && pass bt-direct-usermode || fail bt-direct-usermode "$why"
	# With direct execution off, the same guest never enters the world.
	echo N >/sys/module/hyvm/parameters/bt_direct
	vmtool run --engine bt --stats "$g" >/tmp/bt-usermode.out 2>/tmp/bt-stats.txt
	rc=$?
	echo Y >/sys/module/hyvm/parameters/bt_direct
	[ "$rc" = 1 ] && [ "$(stat bt_direct)" = 0 ] &&
		[ "$(stat bt_world_entries)" = 0 ] && pass bt-direct-off ||
		fail bt-direct-off "rc $rc, bt_direct '$(stat bt_direct)', entries '$(stat bt_world_entries)'"
else
	skip bt-direct-usermode "bt_direct off or no usermode guest"
fi
