#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A short, bounded libFuzzer run of the decoder and emulator targets, with
# AddressSanitizer and UBSan, for make check: one PASS:/FAIL: line each.
# HYVM_FUZZ_SECONDS sets the time per target (default 20).  A crash leaves
# its input in build/fuzz/<target>/ for a regression test.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/build/fuzz
secs=${HYVM_FUZZ_SECONDS:-20}
mkdir -p "$out"
status=0

fuzz() {	# name sources...
	local name=$1
	shift
	mkdir -p "$out/$name/corpus"
	if ! clang -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -I "$top/virt" "$@" \
		-o "$out/$name/$name" >"$out/$name/build.log" 2>&1; then
		echo "FAIL: fuzz/$name (build failed)"
		tail -20 "$out/$name/build.log"
		status=1
		return
	fi
	# -fork would need more cores than CI has; one process, bounded time.
	if (cd "$out/$name" && "./$name" -max_total_time="$secs" \
		-timeout=10 -rss_limit_mb=1024 -print_final_stats=1 corpus \
		>run.log 2>&1); then
		echo "PASS: fuzz/$name ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' \
			"$out/$name/run.log" | grep -o '[0-9]*$') inputs in ${secs} s)"
	else
		echo "FAIL: fuzz/$name (crash: see $out/$name/run.log)"
		grep -m5 -E 'ERROR|runtime error|Assertion' "$out/$name/run.log"
		status=1
	fi
}

fuzz emulate_decode_fuzz "$top/tests/fuzz/emulate_decode_fuzz.c" \
	"$top/virt/emulate/decode.c"
fuzz emulate_emu_fuzz "$top/tests/fuzz/emulate_emu_fuzz.c" \
	"$top/virt/emulate/emulate.c" "$top/virt/emulate/decode.c"
exit $status
