# SPDX-License-Identifier: GPL-2.0
# svm without nested paging (npt=0): the guest on shadow page tables
# (virt/shadow through virt/shadow_host.c), the paper's first-generation
# hardware VMM.  The whole guest suite, the counters, and nothing left
# pinned or allocated when the VMs are gone.
. /hyvm/plan/00-lib.sh
if ! vmtool caps 2>/dev/null | grep -q '^engine svm available'; then
	skip svm-npt0 "svm is not available on this host"
	exit 0
fi
p=/sys/module/hyvm/parameters/npt
if [ ! -w $p ]; then
	fail svm-npt0 "no writable $p"
	exit 0
fi
dmesg_before=$(dmesg | grep -cE 'BUG|Oops|WARNING|general protection|hyvm.*leak')
echo 0 >$p

# Real-mode smoke guests run in the interpreter until (unless) they reach
# long mode: the results must be those of npt=1.
g=/hyvm/guests/svm-smoke
for t in "tiny 1" "hello 85" "cpuid 65" "triple 1"; do
	set -- $t
	out=$(timeout 60 vmtool run --engine svm --mem 1M $g/$1.bin 2>&1); rc=$?
	[ "$rc" = "$2" ] && pass "svm-npt0-smoke-$1" ||
		fail "svm-npt0-smoke-$1" "rc $rc want $2: $(echo "$out" | tail -2 | tr '\n' ' ')"
done

set -- /hyvm/guests/*
for f in "$@"; do
	[ -f "$f" ] || continue
	guest_result svm "$f" | sed 's|guest-svm/|guest-svm-npt0/|'
done

# A long-mode guest that keeps faulting (the pgfault benchmark with many
# iterations): its shadow counters while it runs.
gp=/hyvm/guests/bench/pgfault.elf
if [ -f "$gp" ]; then
	vmtool run --engine svm --mem 64M --cmdline "n=100000000" "$gp" >/dev/null 2>&1 &
	pid=$!
	sleep 3
	st=$(cat /sys/kernel/debug/hyvm/$pid-*/stats 2>/dev/null)
	vs=$(vmtool stat 2>&1)
	kill $pid; wait $pid
	echo "$st" | grep '^shadow_'
	echo "$vs" | grep -q '^  shadow_true_faults [1-9]' && pass svm-npt0-vmtool-stat-shadow ||
		fail svm-npt0-vmtool-stat-shadow "$(echo "$vs" | head -3 | tr '\n' ' ')"
	hf=$(echo "$st" | sed -n 's/^shadow_hidden_faults //p')
	tf=$(echo "$st" | sed -n 's/^shadow_true_faults //p')
	[ "${hf:-0}" -gt 0 ] && [ "${tf:-0}" -gt 0 ] && pass svm-npt0-debugfs-shadow-counters ||
		fail svm-npt0-debugfs-shadow-counters "hidden '${hf}' true '${tf}'"
else
	fail svm-npt0-debugfs-shadow-counters "no $gp"
fi

# Under the smallest cap (64 shadow tables per VM; smaller values are
# raised to it) a guest whose working set is 256 regions of 2 MiB keeps the
# shadow reclaiming: the guests must not notice, and the counters must
# show it.
c=/sys/module/hyvm/parameters/shadow_max_pages
cap_was=$(cat $c)
echo 1 >$c
for n in pagefault ptedit usermode; do
	guest_result svm /hyvm/guests/$n.elf | sed 's|guest-svm/|guest-svm-npt0-cap64/|'
done
mt=/hyvm/guests/memtouch.elf
out=$(timeout 300 vmtool run --engine svm --mem 512M $mt 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | tail -1 | grep -q '^memtouch: pass' &&
	pass svm-npt0-cap64-memtouch ||
	fail svm-npt0-cap64-memtouch "rc $rc: $(echo "$out" | tail -2 | tr '\n' ' ')"
vmtool run --engine svm --mem 512M --cmdline loop $mt >/dev/null 2>&1 &
pid=$!
sleep 4
st=$(cat /sys/kernel/debug/hyvm/$pid-*/stats 2>/dev/null)
kill $pid; wait $pid
rc=$(echo "$st" | sed -n 's/^shadow_reclaims //p')
pg=$(echo "$st" | sed -n 's/^shadow_pages_max //p')
echo "memtouch under cap 64: reclaims $rc, most pages $pg"
[ "${rc:-0}" -gt 0 ] && [ "${pg:-999}" -le 64 ] && pass svm-npt0-cap64-reclaims ||
	fail svm-npt0-cap64-reclaims "reclaims '${rc}' most pages '${pg}'"
echo "$cap_was" >$c

# The shadow fault tracepoint.
check_shadow_fault_trace svm-npt0-trace-shadow-fault svm /hyvm/guests/isprime.elf
echo 1 >$p

l=$(live)
[ "$l" = "vms 0 vcpus 0 " ] && pass svm-npt0-nothing-live || fail svm-npt0-nothing-live "$l"
s=$(shadow_live)
[ "$s" = "tables 0 pinned 0 " ] && pass svm-npt0-no-shadow-table-or-pin-left ||
	fail svm-npt0-no-shadow-table-or-pin-left "$s"
n=$(dmesg | grep -cE 'BUG|Oops|WARNING|general protection|hyvm.*leak')
[ "$n" = "$dmesg_before" ] && pass svm-npt0-host-log-clean ||
	fail svm-npt0-host-log-clean "$(dmesg | grep -E 'BUG|Oops|WARNING|general protection' | tail -2 | tr '\n' ' ')"
