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
