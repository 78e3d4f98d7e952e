#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Interactive busybox shell in an emulated host, for developers:
#   tests/sandbox/shell.sh [--host qemu|bochs] [--kernel stock|test] [--stage DIR] [run.sh options]
# The host and kernel may also be given bare: shell.sh bochs test.
# Defaults: QEMU, the test kernel, and an empty stage unless --stage is given.
# Everything else is run.sh --shell; see tests/sandbox/README.rst.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

host=qemu kernel=test stage=
args=()
while [ $# -gt 0 ]; do
	case $1 in
	--host) host=${2:?}; shift 2 ;;
	--kernel) kernel=${2:?}; shift 2 ;;
	--stage) stage=${2:?}; shift 2 ;;
	qemu|bochs) host=$1; shift ;;
	stock|test) kernel=$1; shift ;;
	*) args+=("$1"); shift ;;
	esac
done

if [ -z "$stage" ]; then
	# run.sh wants a stage dir; an empty one gives a plain sandbox.
	stage=$(mktemp -d "${TMPDIR:-/tmp}/hyvm-stage.XXXXXX")
	trap 'rm -rf "$stage"' EXIT
fi
"$here/run.sh" --host "$host" --kernel "$kernel" --stage "$stage" --shell ${args[@]+"${args[@]}"}
