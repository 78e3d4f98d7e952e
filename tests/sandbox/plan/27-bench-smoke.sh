# SPDX-License-Identifier: GPL-2.0
# The nanobenchmark guests (bench/guests, in /hyvm/guests/bench) once each,
# with a handful of iterations, under every engine this host can run, and
# the native program: a correctness test, not a measurement (no number is
# compared).  A guest passes when it prints "bench NAME CYCLES N" with the
# N it was given, its last line is "NAME: pass" and it wrote 0 to the
# debug-exit port (vmtool exit status 1).  An engine that stops the guest
# at something it does not implement yet (an instruction it does not
# emulate, HYVM_RUN refused) gives SKIP with vmtool's words, not FAIL; so
# does KVM at a CR8 write, which vmtool's KVM backend cannot serve yet.
. /hyvm/plan/00-lib.sh
g=/hyvm/guests/bench
n=20
if ! ls $g/*.elf >/dev/null 2>&1; then
	fail bench-smoke "no guests in $g (tests/stage.sh builds them with bench/Makefile)"
	exit 0
fi
case $HYVM_HOST in
qemu) km=kvm_amd ;;
bochs) km=kvm_intel ;;
*) km= ;;
esac
tmo=
command -v timeout >/dev/null && tmo="timeout 300"

for e in bt svm vmx kvm; do
	if [ $e = kvm ]; then
		if [ -z "$km" ] || ! modprobe $km 2>/dev/null; then
			skip bench-smoke-kvm "modprobe ${km:-kvm} failed"
			continue
		fi
		c=$(vmtool caps 2>&1 | grep '^reference kvm')
		case $c in "reference kvm available"*) c= ;; esac
	else
		c=$(vmtool caps 2>&1 | grep "^engine $e ")
		case $c in "engine $e available:"*) c= ;; esac
	fi
	if [ -n "$c" ]; then
		skip bench-smoke-$e "$c"
		[ $e = kvm ] && modprobe -r $km
		continue
	fi
	for f in $g/*.elf; do
		name=${f##*/}
		name=${name%.elf}
		out=$( (ulimit -f 2048; exec $tmo vmtool run --engine $e --mem 64M \
			--cmdline "n=$n warm=2" "$f") 2>&1)
		rc=$?
		# The guests' lines end in CR LF (the UART is a terminal).
		out=$(echo "$out" | tr -d '\r')
		echo "$out" | head -c 4000 | sed 's/^/  | /'
		if [ $rc = 1 ] &&
		   echo "$out" | grep -Eq "^bench $name [0-9]+\.[0-9] $n\$" &&
		   echo "$out" | grep -v '^vmtool:' | tail -1 | grep -q "^$name: pass"; then
			pass "bench-smoke-$e/$name"
		elif why=$(echo "$out" | grep -E 'internal error 1 in the VMM|cannot run guests yet'); then
			skip "bench-smoke-$e/$name" "not implemented in $e yet: $(echo "$why" | head -1)"
		else
			why=$(echo "$out" | grep -E 'FAILED|crash|fail|vmtool:' | head -2 | tr '\n' ' ')
			[ $rc = 124 ] && why="timed out"
			fail "bench-smoke-$e/$name" "exit status $rc${why:+: $why}"
		fi
	done
	[ $e = kvm ] && modprobe -r $km
done

# The native loops: every line is a sane result or a reasoned skip.
if out=$(hyvm-bench-native 100 2>&1); then
	echo "$out" | sed 's/^/  | /'
	bad=$(echo "$out" | grep -Ev '^bench [a-z0-9]+ [0-9]+\.[0-9] [0-9]+$|^skip [a-z0-9]+ ' | head -1)
	nb=$(echo "$out" | grep -c '^bench ')
	if [ -z "$bad" ] && [ "$nb" -ge 5 ]; then
		pass bench-smoke-native
	else
		fail bench-smoke-native "$nb results${bad:+, unexpected line: $bad}"
	fi
else
	fail bench-smoke-native "$(echo "$out" | tail -2 | tr '\n' ' ')"
fi
