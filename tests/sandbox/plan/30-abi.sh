# SPDX-License-Identifier: GPL-2.0
# The ioctl ABI and its error cases (hyvm-abi-test prints its own results).
. /hyvm/plan/00-lib.sh
hyvm-abi-test; rc=$?
[ $rc = 0 ] && pass abi-test-exit || fail abi-test-exit "status $rc"
