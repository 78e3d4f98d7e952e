# SPDX-License-Identifier: GPL-2.0
# A VM held by a process: visible in vmtool stat, blocks rmmod, and is freed
# entirely when the process is killed with SIGKILL.
. /hyvm/plan/00-lib.sh
hyvm-abi-test hold >/tmp/hold.out 2>&1 &
pid=$!
i=0
while ! grep -q HOLDING /tmp/hold.out && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
grep -q HOLDING /tmp/hold.out && pass hold-started || fail hold-started "$(cat /tmp/hold.out)"
l=$(live); echo "live: $l"
[ "$l" = "vms 1 vcpus 1 " ] && pass live-while-held || fail live-while-held "$l"
st=$(vmtool stat); echo "$st"
echo "$st" | grep -q "^vm $pid-[0-9]* engine bt" && pass vmtool-stat || fail vmtool-stat
echo "$st" | grep -q "slots 1" && pass vmtool-stat-slots || fail vmtool-stat-slots
if rmmod hyvm 2>/dev/null; then fail rmmod-refused-while-held; insmod /hyvm/modules/hyvm.ko
else pass rmmod-refused-while-held; fi
kill -9 $pid; wait $pid 2>/dev/null
l=$(live); echo "live: $l"
[ "$l" = "vms 0 vcpus 0 " ] && pass freed-after-kill9 || fail freed-after-kill9 "$l"
# Many at once, killed at random points of their setup.
n=0
while [ $n -lt 10 ]; do
	hyvm-abi-test hold >/dev/null 2>&1 &
	p=$!
	sleep 0.0$n
	kill -9 $p; wait $p 2>/dev/null
	n=$((n + 1))
done
l=$(live)
[ "$l" = "vms 0 vcpus 0 " ] && pass freed-after-kill9-storm || fail freed-after-kill9-storm "$l"
