# SPDX-License-Identifier: GPL-2.0
# hyvm.ko loads, creates /dev/hyvm, its sysfs and module parameters.
. /hyvm/plan/00-lib.sh
check module-load insmod /hyvm/modules/hyvm.ko
check dev-node test -c /dev/hyvm
check debugfs-root test -r /sys/kernel/debug/hyvm/live
e=$(cat /sys/class/misc/hyvm/engines 2>/dev/null)
echo "$e"
case "$e" in *"bt available"*) pass sysfs-engines ;; *) fail sysfs-engines "$e" ;; esac
check sysfs-api-version grep -qx 1 /sys/class/misc/hyvm/api_version
p=/sys/module/hyvm/parameters/default_engine
check param-default-engine grep -qx auto $p
if echo bogus >$p 2>/dev/null; then fail param-rejects-bogus; else pass param-rejects-bogus; fi
echo bt >$p && grep -qx bt $p && echo auto >$p && grep -qx auto $p &&
	pass param-set || fail param-set "$(cat $p)"
dmesg | grep 'hyvm: API'
