# SPDX-License-Identifier: GPL-2.0
# Every guest of the suite (tests/guests, in /hyvm/guests) under KVM through
# vmtool run --engine kvm: the reference that each of hyvm's engines is
# compared with.  A guest passes when its last line is "<name>: pass" and
# it wrote 0 to the debug-exit port (vmtool exit status 1).
. /hyvm/plan/00-lib.sh
case $HYVM_HOST in
qemu) m=kvm_amd ;;
bochs) m=kvm_intel ;;
*) skip guest-kvm "unknown host $HYVM_HOST"; exit 0 ;;
esac
set -- /hyvm/guests/*
if [ ! -e "$1" ]; then
	fail guest-kvm "no guests in /hyvm/guests (tests/stage.sh builds them)"
	exit 0
fi
if ! err=$(modprobe $m 2>&1); then
	skip guest-kvm "modprobe $m failed: $err"
	exit 0
fi
caps=$(vmtool caps 2>&1 | grep '^reference kvm')
case $caps in
"reference kvm available"*) ;;
*)
	skip guest-kvm "/dev/kvm is unusable: ${caps:-vmtool caps says nothing about kvm}"
	modprobe -r $m
	exit 0 ;;
esac
pass guest-kvm-caps
# The loaders refuse what they cannot start, with a reason (status 1).
# expect_err NAME PATTERN VMTOOL-RUN-ARGS...
expect_err() {
	name=$1 pat=$2
	shift 2
	out=$(vmtool run --engine kvm "$@" 2>&1)
	rc=$?
	[ $rc = 1 ] && echo "$out" | grep -q "$pat" && pass "$name" ||
		fail "$name" "rc $rc: $out"
}
g=/hyvm/guests
[ -f $g/isprime.elf ] && expect_err vmtool-elf-needs-4m 'at least 4M' --mem 1M $g/isprime.elf
[ -f $g/realmode.bin ] && expect_err vmtool-format-elf-not-elf 'not an ELF file' --format elf $g/realmode.bin
[ -f $g/isprime.elf ] && expect_err vmtool-format-multiboot-no-header 'no multiboot header' --format multiboot $g/isprime.elf
if [ -f $g/cpuid.elf ]; then
	out=$(vmtool run --engine kvm --cmdline 'a b=c' $g/cpuid.elf 2>&1)
	echo "$out" | grep -q "^cpuid: cmdline 'a b=c'" && pass vmtool-elf-cmdline ||
		fail vmtool-elf-cmdline "$(echo "$out" | head -2 | tr '\n' ' ')"
fi
# A guest that hangs must not hang the plan.
tmo=
command -v timeout >/dev/null && tmo="timeout 300"
for g in "$@"; do
	# Subdirectories hold other suites (svm-smoke: the svm engine's own).
	[ -f "$g" ] || continue
	name=${g##*/}
	name=${name%.*}
	out=$($tmo vmtool run --engine kvm --mem 64M "$g" 2>&1)
	rc=$?
	# Indented, so that guest lines never look like results.
	echo "$out" | sed 's/^/  | /'
	if [ $rc = 1 ] && echo "$out" | tail -1 | grep -q "^$name: pass"; then
		pass "guest-kvm/$name"
	else
		why=$(echo "$out" | grep -E 'FAILED|crash|fail|vmtool:' | head -2 | tr '\n' ' ')
		[ $rc = 124 ] && why="timed out"
		fail "guest-kvm/$name" "exit status $rc${why:+: $why}"
	fi
done
modprobe -r $m
