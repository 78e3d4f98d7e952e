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
