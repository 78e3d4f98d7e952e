# SPDX-License-Identifier: GPL-2.0
# (Also run by itself as the first plan script: it only defines functions.)
# Sourced by the plan scripts (busybox sh): result helpers.
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1${2:+ ($2)}"; }
skip() { echo "SKIP: $1 ($2)"; }
# check NAME COMMAND...: PASS if the command succeeds.
check() {
	name=$1; shift
	if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$* -> $(echo "$out" | tail -3 | tr '\n' ' ')"; fi
}
live() { cat /sys/kernel/debug/hyvm/live 2>/dev/null | tr '\n' ' '; }
# A guest of five bytes: mov al,0x21; out 0xf4,al; hlt (flat, real mode):
# vmtool exits with (0x21 << 1) | 1 = 67.
make_tiny_guest() { printf '\260\041\346\364\364' >"$1"; }

# guest_result ENGINE GUEST: run one guest of the suite (tests/guests) under
# ENGINE and print its result line.  A guest passes when its last line is
# "<name>: pass" and it wrote 0 to the debug-exit port (vmtool status 1).
guest_result() {
	eng=$1 g=$2
	name=${g##*/}
	name=${name%.*}
	tmo=
	command -v timeout >/dev/null && tmo="timeout 300"
	# A runaway guest must not fill memory: 1 MiB of output at most.
	(ulimit -f 2048; exec $tmo vmtool run --engine "$eng" --mem 64M "$g") \
		>/tmp/guest.out 2>&1
	rc=$?
	out=$(head -c 20000 /tmp/guest.out)
	echo "$out" | sed 's/^/  | /'
	if [ "$rc" = 1 ] && echo "$out" | grep -v '^vmtool:' | tail -1 | grep -q "^$name: pass"; then
		pass "guest-$eng/$name"
	else
		why=$(echo "$out" | grep -E 'FAILED|crash|fail|vmtool:' | head -2 | tr '\n' ' ')
		[ "$rc" = 124 ] && why="timed out"
		fail "guest-$eng/$name" "exit status $rc${why:+: $why}"
	fi
}

# Shadow tables and pinned pages of every VM (both 0 when no VM has a
# shadow MMU), as "tables N pinned N ".
shadow_live() { cat /sys/kernel/debug/hyvm/shadow_live 2>/dev/null | tr '\n' ' '; }

# check_shadow_fault_trace NAME ENGINE GUEST: the hyvm_shadow_fault
# tracepoint reports a hidden fault while GUEST runs under ENGINE (with
# the hardware engine's shadow paging selected by the caller).
check_shadow_fault_trace() {
	t=/sys/kernel/tracing
	if [ ! -d $t/events/hyvm/hyvm_shadow_fault ]; then
		fail "$1" "no $t/events/hyvm/hyvm_shadow_fault"
		return
	fi
	echo 0 >$t/tracing_on; echo >$t/trace
	echo 1 >$t/events/hyvm/hyvm_shadow_fault/enable && echo 1 >$t/tracing_on
	vmtool run --engine "$2" --mem 64M "$3" >/dev/null 2>&1
	echo 0 >$t/tracing_on; echo 0 >$t/events/hyvm/hyvm_shadow_fault/enable
	grep -q 'hyvm_shadow_fault:.* hidden' $t/trace && pass "$1" ||
		fail "$1" "$(grep hyvm_shadow $t/trace | head -2 | tr '\n' ' ')"
}
