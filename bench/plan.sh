# SPDX-License-Identifier: GPL-2.0
# The benchmark run inside the sandbox (busybox sh), put in the stage's
# plan by bench/run as the only script besides 00-lib.sh.  It prints raw
# lines on the results port; bench/run makes the tables on the host:
#
#   bench-result ENGINE REP NAME CYCLES-PER-OP ITERATIONS
#   bench-counters ENGINE NAME ITERATIONS COUNTER=DELTA...
#   bench-error ENGINE NAME WHY
#   bench-skip ENGINE WHY
#   bench-skip-one ENGINE NAME WHY
#
# Parameters come from the kernel command line (bench/run --append):
# HYVM_BENCH_R repetitions, HYVM_BENCH_N_BT / HYVM_BENCH_N / HYVM_BENCH_N_NATIVE
# iterations under bt, under the hardware engines and KVM, and natively,
# HYVM_BENCH_ENGINES, HYVM_BENCH_COUNTERS (0: no counters).
# On a real host (Documentation/benchmarks.rst) there is no /hyvm: the
# guests' directory comes from HYVM_BENCH_GUESTS and hyvm is loaded already.
[ -f /hyvm/plan/00-lib.sh ] && . /hyvm/plan/00-lib.sh
R=${HYVM_BENCH_R:-3}
N_BT=${HYVM_BENCH_N_BT:-2000}
N_HW=${HYVM_BENCH_N:-20000}
N_NAT=${HYVM_BENCH_N_NATIVE:-5000}
ENGINES=$(echo "${HYVM_BENCH_ENGINES:-bt,svm,svm-npt0,vmx,vmx-ept0,kvm}" | tr , " ")
COUNTERS=${HYVM_BENCH_COUNTERS:-1}
g=${HYVM_BENCH_GUESTS:-/hyvm/guests/bench}
echo "bench-info host=${HYVM_HOST:-real} kernel=$(uname -r) R=$R n_bt=$N_BT n=$N_HW n_native=$N_NAT"
grep -m1 'model name' /proc/cpuinfo | sed 's/^/bench-info /'
if [ ! -e /dev/hyvm ]; then
	insmod /hyvm/modules/hyvm.ko || { echo "FAIL: bench-module-load"; exit 0; }
	loaded=1
fi
case ${HYVM_HOST:-} in
qemu) km=kvm_amd ;;
bochs) km=kvm_intel ;;
*) grep -qw svm /proc/cpuinfo && km=kvm_amd
   grep -qw vmx /proc/cpuinfo && km=kvm_intel ;;
esac

# wait_out FILE PATTERN: until the guest's output matches (or it is gone).
wait_out() {
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		kill -0 $pid 2>/dev/null || return 1
		i=$((i + 1))
		[ $i -gt 12000 ] && return 1	# 10 minutes
		sleep 0.05
	done
}

# stopped: until vmtool is stopped by SIGSTOP (state T), 10 s at most.
stopped() {
	i=0
	while [ "$(cut -d' ' -f3 /proc/$pid/stat 2>/dev/null)" != T ]; do
		i=$((i + 1))
		[ $i -gt 200 ] && return 1
		sleep 0.05
	done
}

# sync_point K: with vmtool stopped, read the vCPU's counters into
# /tmp/sK and release the guest's wait by writing K to its flag through
# /proc/PID/mem (bench/guests/bench.h); the magic before the flag is
# checked first, so that nothing else is ever written.
sync_point() {
	k=$1
	kill -STOP $pid
	stopped || { kill -CONT $pid; return 1; }
	# The vCPU's counters and the VM's (the shadow MMU's are per VM).
	cat $vcpu/stats $vcpu/../stats >/tmp/s$k 2>/dev/null
	base=
	# Guest RAM: vmtool's one mapping of exactly its size.
	while read -r range perm rest; do
		lo=0x${range%-*} hi=0x${range#*-}
		[ $((hi - lo)) = $mem ] && [ "$perm" = rw-p ] && base=$lo
	done </proc/$pid/maps
	ok=1
	if [ -z "$base" ]; then
		ok=0
	else
		m=$(dd if=/proc/$pid/mem bs=1 skip=$((base + gpa - 16)) count=15 2>/dev/null)
		[ "$m" = hyvm-bench-sync ] || ok=0
	fi
	[ $ok = 1 ] && printf "\\00$k" | dd of=/proc/$pid/mem bs=1 seek=$((base + gpa)) \
		count=1 conv=notrunc 2>/dev/null
	kill -CONT $pid
	[ $ok = 1 ]
}

# run_one ENGINE REP NAME FILE N COUNTERS(0|1)
run_one() {
	e=$1 rep=$2 name=$3 f=$4 n=$5 cnt=$6
	out=/tmp/bench.out
	mem=$((64 << 20))
	: >$out
	timeout 900 vmtool run --engine $eng --mem 64M --cmdline "n=$n sync=$cnt" "$f" >$out 2>&1 &
	pid=$!
	synced=0
	if [ "$cnt" = 1 ]; then
		if wait_out $out "^bench-mark $name begin 0x"; then
			gpa=$(sed -n "s/^bench-mark $name begin \(0x[0-9a-f]*\).*/\1/p" $out | tr -d '\r')
			vcpu=$(ls -d /sys/kernel/debug/hyvm/$pid-*/vcpu0 2>/dev/null | head -1)
			# The end mark is a lone '@' on the debug port.
			if [ -n "$vcpu" ] && sync_point 1 && wait_out $out '@' && sync_point 2; then
				synced=1
			fi
		fi
		# A guest left waiting would spin until the timeout.
		[ $synced = 1 ] || kill $pid 2>/dev/null
	fi
	wait $pid
	rc=$?
	# The guests' lines end in CR LF (the UART is a terminal); '@' is
	# the end mark.
	tr -d '\r@' <$out >$out.txt
	mv $out.txt $out
	sed 's/^/  | /' $out | head -40
	line=$(grep -E "^bench $name [0-9]+\.[0-9] $n\$" $out)
	if [ $rc = 1 ] && [ -n "$line" ] && grep -v '^vmtool:' $out | tail -1 | grep -q "^$name: pass"; then
		set -- $line
		[ "$cnt" = 1 ] || echo "bench-result $e $rep $name $3 $4"
	else
		why=$(grep -E 'FAILED|crash|fail|vmtool:' $out | head -2 | tr '\n' ' ')
		[ $rc = 124 ] && why="timed out"
		[ "$cnt" = 1 ] && [ $synced = 0 ] && why="counters: no sync with the guest; $why"
		echo "bench-error $e $name exit status $rc${why:+: $why}"
		return
	fi
	if [ "$cnt" = 1 ]; then
		spins=$(sed -n "s/^bench-spins $name \([0-9]*\)/\1/p" $out)
		echo "bench-counters $e $name $n spins=${spins:-0} $(awk 'NR == FNR { a[$1] = $2; next }
			($1 in a) && $2 - a[$1] > 0 { printf "%s=%d ", $1, $2 - a[$1] }' /tmp/s1 /tmp/s2)"
	fi
}

for e in $ENGINES; do
	# svm-npt0 and vmx-ept0: the hardware engine on shadow paging, by the
	# module parameter, set for the engine's runs and restored after.
	eng=$e param=
	case $e in
	svm-npt0) eng=svm param=npt ;;
	vmx-ept0) eng=vmx param=ept ;;
	esac
	if [ $e = kvm ]; then
		if [ -z "$km" ] || ! modprobe $km 2>/dev/null; then
			echo "bench-skip kvm modprobe ${km:-kvm} failed"
			continue
		fi
		c=$(vmtool caps 2>&1 | grep '^reference kvm')
		case $c in "reference kvm available"*) c= ;; esac
	else
		c=$(vmtool caps 2>&1 | grep "^engine $eng ")
		case $c in "engine $eng available:"*) c= ;; esac
	fi
	if [ -z "$c" ] && [ -n "$param" ]; then
		p=/sys/module/hyvm/parameters/$param
		if [ -w $p ] && echo 0 >$p; then
			# Refused until the shadow MMU is wired to the engine.
			o=$(vmtool run --engine $eng --mem 64M --cmdline n=1 $g/callret.elf 2>&1)
			if [ $? != 1 ] || ! echo "$o" | grep -q '^callret: pass'; then
				c="$param=0: $(dmesg | grep -o "$param=0.*" | tail -1) $(echo "$o" | tail -1)"
				echo 1 >$p
			fi
		else
			c="no writable $p"
		fi
	fi
	if [ -n "$c" ]; then
		echo "bench-skip $e $c"
		[ $e = kvm ] && modprobe -r $km
		continue
	fi
	n=$N_HW
	[ $e = bt ] && n=$N_BT
	for f in $g/*.elf; do
		name=${f##*/}
		name=${name%.elf}
		nn=$n
		# A fork and wait is ~100 times a syscall: fewer of them.
		[ $name = forkwait ] && nn=$((n / 10 + 1))
		rep=1
		while [ $rep -le $R ]; do
			# Counters once per benchmark, on an extra run whose
			# time is not used: hyvm's engines only (KVM's are not
			# in hyvm's debugfs).
			run_one $e $rep $name $f $nn 0
			rep=$((rep + 1))
		done
		[ $e != kvm ] && [ "$COUNTERS" = 1 ] && run_one $e 0 $name $f $nn 1
	done
	[ $e = kvm ] && modprobe -r $km
	[ -n "$param" ] && echo 1 >/sys/module/hyvm/parameters/$param
done

rep=1
while [ $rep -le $R ]; do
	hyvm-bench-native $N_NAT | while read -r w name c it; do
		case $w in
		bench) echo "bench-result native $rep $name $c $it" ;;
		skip) [ $rep = 1 ] && echo "bench-skip-one native $name $c $it" ;;
		esac
	done
	rep=$((rep + 1))
done
[ -n "${loaded:-}" ] && rmmod hyvm
echo "bench-done"
