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
