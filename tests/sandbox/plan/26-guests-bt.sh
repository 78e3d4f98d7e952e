# SPDX-License-Identifier: GPL-2.0
# The guest suite under the bt engine (its interpreter for now), to be
# compared line by line with the KVM reference of 25-guests-kvm.sh.
. /hyvm/plan/00-lib.sh
set -- /hyvm/guests/*
if [ ! -e "$1" ]; then
	fail guest-bt "no guests in /hyvm/guests (tests/stage.sh builds them)"
	exit 0
fi
for g in "$@"; do
	[ -f "$g" ] || continue
	guest_result bt "$g"
done
