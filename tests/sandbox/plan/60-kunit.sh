# SPDX-License-Identifier: GPL-2.0
# KUnit suites of hyvm_kunit.ko, read as KTAP from the kernel log: one
# result per leaf (each parameter of a parameterised case is a leaf).  A
# kernel with KUnit whose run printed no KTAP fails.
. /hyvm/plan/00-lib.sh
if [ ! -f /hyvm/modules/hyvm_kunit.ko ]; then
	skip kunit "this kernel has no KUnit (CONFIG_KUNIT unset): see the test kernel run"
	exit 0
fi
modprobe kunit || { fail kunit-load "modprobe kunit"; exit 0; }
dmesg -c >/dev/null
insmod /hyvm/modules/hyvm_kunit.ko || { fail kunit-hyvm-load; exit 0; }
dmesg | sed 's/^\[[^]]*\] //' >/tmp/ktap
# The KUnit lines: from the first "KTAP version" on.
sed -n '/KTAP version/,$p' /tmp/ktap
# A result line at indent d closes the subtest whose header is at d + 4 if
# one is open; otherwise it is a leaf.
awk '
function indent(s) { match(s, /^ */); return RLENGTH }
/^ *# Subtest:/ { h = indent($0); open[h] = 1; name = $0
	sub(/^ *# Subtest: */, "", name); title[h] = name; seen++; next }
/^ *(not )?ok [0-9]+ / {
	d = indent($0)
	if (open[d + 4]) { open[d + 4] = 0; next }
	line = $0; sub(/^ */, "", line)
	st = (line ~ /^not ok/) ? "FAIL" : "PASS"
	sub(/^(not )?ok [0-9]+ (- )?/, "", line)
	if (line ~ /# SKIP/) st = "SKIP"
	sub(/ *#.*/, "", line)
	path = ""
	for (i = 4; i < d + 4; i += 4) if (title[i] != "") path = path title[i] "/"
	print st ": kunit/" path line (st == "SKIP" ? " (skipped by the test)" : "")
	leaves++
}
END { if (!seen || !leaves) print "FAIL: kunit-no-ktap (no KTAP results in the kernel log)" }
' /tmp/ktap
rmmod hyvm_kunit
