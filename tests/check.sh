#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: every test tier of hyvm, on a fresh Debian 12 machine too.
#
#   1. build    hyvm.ko with W=1 and sparse (C=2), vmtool: warning-free
#   2. unit     cmocka tests of the portable core (tests/unit)
#      fuzz     a bounded libFuzzer run of the decoder and emulator
#   3. sandbox  emulated hosts with hyvm loaded, running tests/sandbox/plan:
#               QEMU TCG with Debian's kernel and with the test kernel
#               (KUnit), Bochs (VT-x) with the test kernel
#
# Every result is one PASS:/FAIL:/SKIP: line; the last line is the count.
# HYVM_TIERS="build unit fuzz qemu-stock qemu-test bochs-test" picks tiers.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out=$top/build/check
mkdir -p "$out"
results=$out/results.txt
: >"$results"
tiers=${HYVM_TIERS:-build unit fuzz qemu-stock qemu-test bochs-test}
start=$(date +%s)
say() { echo "check: $* ($(( $(date +%s) - start )) s)" >&2; }
record() { tee -a "$results" | grep -E '^(PASS|FAIL|SKIP):' ; }
want() { case " $tiers " in *" $1 "*) return 0 ;; esac; return 1; }

say "installing what is missing (apt)"
if ! tests/install-deps.sh; then
	echo "FAIL: install-deps" | record
fi

if want build; then
	say "tier build: hyvm.ko with W=1 C=2 (sparse), vmtool"
	rm -rf build/mod-warn && mkdir -p build/mod-warn
	rsync -a --exclude /build --exclude /.git --exclude '*.o' --exclude '*.ko' ./ build/mod-warn/
	kdir=$(ls -d /usr/src/linux-headers-*-amd64 | sort -V | tail -1)
	if make -C build/mod-warn module KDIR="$kdir" W=1 C=2 >"$out/build.log" 2>&1; then
		if grep -E 'warning:|error:' "$out/build.log" >"$out/warnings.txt"; then
			echo "FAIL: build/module-warning-free ($(wc -l <"$out/warnings.txt") warnings, see $out/warnings.txt)" | record
			head -20 "$out/warnings.txt" >&2
		else
			echo "PASS: build/module-warning-free" | record
		fi
	else
		echo "FAIL: build/module" | record
		tail -30 "$out/build.log" >&2
	fi
	if make -s -C tools/vmtool >"$out/vmtool.log" 2>&1 && ! grep -q 'warning:' "$out/vmtool.log"; then
		echo "PASS: build/vmtool" | record
	else
		echo "FAIL: build/vmtool" | record
		cat "$out/vmtool.log" >&2
	fi
fi

if want unit; then
	say "tier unit: cmocka tests of the portable core"
	if ! make -s -C tests/unit >"$out/unit-build.log" 2>&1; then
		echo "FAIL: unit/build" | record
		tail -30 "$out/unit-build.log" >&2
	fi
	make -s -C tests/unit run 2>&1 | record
fi

if want fuzz; then
	say "tier fuzz: decoder and emulator under libFuzzer, ASan, UBSan"
	tests/fuzz/run.sh 2>&1 | record
fi

# The sandboxes: Bochs is single-threaded and slow, so it runs beside the
# QEMU boots rather than after them.
sandbox() {	# host kernel
	local stage
	# Staged once up front (below): a second build could clash with the
	# run beside it.
	if [ -f "build/stage-$2/.staged" ]; then
		stage=$PWD/build/stage-$2
	elif ! stage=$(tests/stage.sh "$2" 2>"$out/stage-$2.log"); then
		echo "FAIL: $1-$2/stage (building the module for the $2 kernel failed)"
		tail -30 "$out/stage-$2.log" >&2
		return
	fi
	tests/sandbox/run.sh --host "$1" --kernel "$2" --stage "$stage" 2>"$out/sandbox-$1-$2.log"
	# A plan script that died before reporting is a failure of its own.
	grep -E '^hyvm-plan: end .* status [1-9]' "build/sandbox/$1-$2/results.log" 2>/dev/null |
		sed "s|^hyvm-plan: end /hyvm/plan/\(.*\) status \(.*\)|FAIL: $1-$2/plan/\1 (exit status \2)|"
}

if want qemu-test || want bochs-test; then
	say "building (or reusing) the test kernel"
	if ! tests/sandbox/build-kernel.sh >"$out/kernel.path" 2>"$out/kernel.log"; then
		echo "FAIL: sandbox/test-kernel-build" | record
		tail -30 "$out/kernel.log" >&2
	fi
fi
# Stage both kernels' files first: the parallel runs below then only read
# (two builds of the test stage at once, bochs and qemu-test, clash).
rm -f build/stage-stock/.staged build/stage-test/.staged
want qemu-stock && tests/stage.sh stock >/dev/null 2>>"$out/stage-stock.log" &&
	touch build/stage-stock/.staged
if want qemu-test || want bochs-test; then
	tests/stage.sh test >/dev/null 2>>"$out/stage-test.log" &&
		touch build/stage-test/.staged
fi
if want bochs-test; then
	say "tier sandbox: bochs (VT-x) with the test kernel, in the background"
	sandbox bochs test >"$out/bochs-test.txt" 2>&1 &
	bochs_pid=$!
fi
for t in qemu-stock qemu-test; do
	want $t || continue
	say "tier sandbox: $t"
	sandbox qemu "${t#qemu-}" | record
done
if want bochs-test; then
	say "waiting for bochs"
	wait "$bochs_pid"
	record <"$out/bochs-test.txt"
fi
want bochs-stock || echo "SKIP: bochs-stock (Debian's kernel takes minutes to boot in Bochs; the test kernel covers vmx)" | record

pass=$(grep -c '^PASS:' "$results")
fail=$(grep -c '^FAIL:' "$results")
skip=$(grep -c '^SKIP:' "$results")
say "done"
if [ "$fail" -gt 0 ]; then
	echo "Failures:"
	grep '^FAIL:' "$results"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
