#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make shell [HOST=qemu|bochs] [KERNEL=stock|test]: an interactive shell in
# an emulated host, with hyvm.ko, vmtool and the test plan in /hyvm.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
host=${1:-qemu} kernel=${2:-stock}
"$top/tests/install-deps.sh"
stage=$("$top/tests/stage.sh" "$kernel")
exec "$top/tests/sandbox/run.sh" --host "$host" --kernel "$kernel" --stage "$stage" --shell
