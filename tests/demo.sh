#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: install what is needed, build hyvm for Debian's kernel, boot it
# in QEMU (software CPU with AMD-V), load hyvm and show what it can run.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
echo "demo: installing what is missing (apt)" >&2
tests/install-deps.sh
echo "demo: building hyvm.ko for Debian's kernel, vmtool" >&2
stage=$(tests/stage.sh stock)
rm -rf "$stage/plan" && mkdir -p "$stage/plan"
cp tests/demo/*.sh "$stage/plan/"
echo "demo: booting QEMU with hyvm (about 15 s)" >&2
tests/sandbox/run.sh --host qemu --kernel stock --stage "$stage" \
	--out build/sandbox/demo >/dev/null || true
sed -e '/^hyvm-plan:/d' -e '/^HYVM-PLAN-DONE/d' build/sandbox/demo/results.log
grep -q '^== demo done' build/sandbox/demo/results.log
