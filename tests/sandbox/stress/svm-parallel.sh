# SPDX-License-Identifier: GPL-2.0
# Several svm guests at once: N storm guests started together, R rounds;
# counts the guests that do not end with their exit status (161) and shows
# how they ended.  Not part of the plan: under QEMU's software CPU about
# one guest in twenty-five fails for a reason inside the emulator
# (Documentation/svm.rst, "Several guests at once under QEMU").
#
# Run it as the only plan script after 00-lib.sh and 10-module.sh:
#   tests/stage.sh test && cp -a build/stage-test /tmp/svmstage &&
#   (cd /tmp/svmstage/plan && ls | grep -vxE '00-lib.sh|10-module.sh' | xargs rm) &&
#   cp tests/sandbox/stress/svm-parallel.sh /tmp/svmstage/plan/35-svm-parallel.sh &&
#   HYVM_QEMU_TCG_THREAD=multi tests/sandbox/run.sh --host qemu --kernel test --stage /tmp/svmstage
# (the sandbox runs QEMU's TCG in one thread by default, where the race
# cannot happen).
# SVM_PAR_N, SVM_PAR_ROUNDS (6, 12), SVM_PAR_CPU (pin every guest to that
# CPU) and SVM_PAR_LOAD (a pipe between two processes pinned to that CPU:
# many FPU state restores there) come from the kernel command line, e.g.
# run.sh --append 'SVM_PAR_N=1 SVM_PAR_CPU=0 SVM_PAR_LOAD=1'.
. /hyvm/plan/00-lib.sh
g=/hyvm/guests/svm-smoke
n=${SVM_PAR_N:-6}
rounds=${SVM_PAR_ROUNDS:-12}
pin=${SVM_PAR_CPU:+taskset -c $SVM_PAR_CPU}
if ! vmtool caps 2>/dev/null | grep -q '^engine svm available'; then
	skip svm-parallel "svm is not available on this host"
	exit 0
fi
echo "svm-parallel: $n guests at once, $rounds rounds${pin:+, $pin}${SVM_PAR_LOAD:+, load on CPU $SVM_PAR_LOAD}"
load=
if [ -n "$SVM_PAR_LOAD" ]; then
	taskset -c "$SVM_PAR_LOAD" sh -c 'yes | cat >/dev/null' &
	load=$!
fi
t0=$(date +%s)
bad=0 total=0 r=0
while [ $r -lt $rounds ]; do
	i=0 pids=
	while [ $i -lt $n ]; do
		(timeout 120 $pin vmtool run --engine svm --mem 1M $g/storm.bin \
			>/tmp/par$i.out 2>&1; echo $? >/tmp/par$i.rc) &
		pids="$pids $!"
		i=$((i + 1))
	done
	# Not a bare wait: the load runs until the end.
	wait $pids
	i=0
	while [ $i -lt $n ]; do
		rc=$(cat /tmp/par$i.rc)
		total=$((total + 1))
		if [ "$rc" != 161 ]; then
			bad=$((bad + 1))
			echo "round $r guest $i: rc $rc $(tail -1 /tmp/par$i.out)"
		fi
		i=$((i + 1))
	done
	r=$((r + 1))
done
if [ -n "$load" ]; then
	# busybox has no pkill: end the pipe's processes, then their shell.
	for p in /proc/[0-9]*; do
		[ "$(cut -d' ' -f4 $p/stat 2>/dev/null)" = "$load" ] && kill ${p#/proc/}
	done
	kill $load
fi
echo "svm-parallel: $bad of $total guests failed in $(( $(date +%s) - t0 )) s"
[ $bad = 0 ] && pass svm-parallel || fail svm-parallel "$bad of $total guests"
