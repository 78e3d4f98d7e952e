# SPDX-License-Identifier: GPL-2.0
# The ioctl ABI and its error cases (hyvm-abi-test prints its own results).
. /hyvm/plan/00-lib.sh
hyvm-abi-test; rc=$?
[ $rc = 0 ] && pass abi-test-exit || fail abi-test-exit "status $rc"

# Memory slot deletion, under each engine this host runs (and svm and vmx
# both with and without nested paging).
hyvm-slot-delete-test; rc=$?
[ $rc = 0 ] && pass slot-delete-test-exit || fail slot-delete-test-exit "status $rc"
p=/sys/module/hyvm/parameters/npt
if [ -w $p ] && vmtool caps 2>/dev/null | grep -q '^engine svm available'; then
	echo 0 >$p
	hyvm-slot-delete-test | sed -n 's/^\([A-Z]*: slot-delete-svm\)/\1-npt0/p'
	echo 1 >$p
fi
p=/sys/module/hyvm/parameters/ept
if [ -w $p ] && vmtool caps 2>/dev/null | grep -q '^engine vmx available'; then
	echo 0 >$p
	hyvm-slot-delete-test | sed -n 's/^\([A-Z]*: slot-delete-vmx\)/\1-ept0/p'
	echo 1 >$p
fi
