#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run cmocka unit-test binaries and print one PASS:/FAIL: line per case.
# cmocka speaks TAP when CMOCKA_MESSAGE_OUTPUT=TAP.  A binary that exits
# non-zero without reporting a failing case (a crash, say), or that reports
# no case at all, counts as one failure of its own.
set -u
status=0
for bin in "$@"; do
	name=$(basename "$bin")
	out=$(CMOCKA_MESSAGE_OUTPUT=TAP "$bin" 2>&1)
	rc=$?
	cases=0 fails=0
	while IFS= read -r line; do
		case "$line" in
		# cmocka reports skip() as "not ok N # SKIP name"
		"not ok "*"# SKIP"*) cases=$((cases + 1))
			    echo "SKIP: unit/$name/${line#*# SKIP } (skipped by the test)" ;;
		"ok "*)     cases=$((cases + 1)); echo "PASS: unit/$name/${line#ok * - }" ;;
		"not ok "*) cases=$((cases + 1)); fails=$((fails + 1))
			    echo "FAIL: unit/$name/${line#not ok * - }" ;;
		"# "*|"\t"*) ;;
		esac
	done <<<"$out"
	if [ "$fails" -gt 0 ] || [ "$rc" -ne 0 ] || [ "$cases" -eq 0 ]; then
		status=1
		echo "$out" | grep -v '^ok ' | sed "s|^|  unit/$name: |" | tail -40
	fi
	if [ "$rc" -ne 0 ] && [ "$fails" -eq 0 ]; then
		echo "FAIL: unit/$name (exit status $rc, ${cases} cases reported)"
	elif [ "$cases" -eq 0 ]; then
		echo "FAIL: unit/$name (no test case ran)"
	fi
done
exit $status
