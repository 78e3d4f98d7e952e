#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot an emulated host (QEMU's software CPU with SVM+NPT, or Bochs with VT-x
# and EPT) with a kernel and an initramfs holding a stage dir of hyvm modules,
# tools and test plan scripts; run the plan inside and report its results.
# See tests/sandbox/README.rst.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
prog=run.sh

usage() {
	cat <<EOF
usage: $prog --host qemu|bochs --kernel stock|test --stage DIR [options]

  --host qemu|bochs     emulated host: QEMU TCG -cpu max (svm, npt) or
                        Bochs corei7_haswell_4770 (vmx, ept)
  --kernel stock|test   Debian's installed kernel or hyvm's test kernel
                        (built and cached by build-kernel.sh)
  --stage DIR           DIR/modules/*.ko, DIR/bin/*, DIR/plan/*.sh, DIR/guests/*
                        (go to /hyvm/modules, /hyvm/bin, /hyvm/plan, /hyvm/guests)
  --shell               interactive busybox shell on the console instead of
                        running the plan ('poweroff -f' ends it)
  --timeout SECONDS     kill the emulator after this (default 600 qemu,
                        1500 bochs; none with --shell unless given)
  --out DIR             logs go here (default build/sandbox/HOST-KERNEL/)
  --qemu-args "ARGS"    extra QEMU arguments, e.g. "-s -S" or "-d int,cpu_reset"
  --append "ARGS"       extra kernel command line arguments
  -h, --help            this text

Prints PASS:/FAIL:/SKIP: lines prefixed with HOST-KERNEL/ on stdout; exit
status 0 iff none is FAIL.
EOF
}

log() { echo "sandbox: $*" >&2; }
die() { echo "$prog: $*" >&2; exit 2; }

host='' kernel='' stage='' shell=0 timeout='' out='' qemu_args='' append=''
while [ $# -gt 0 ]; do
	case $1 in
	--host) host=${2:?}; shift 2 ;;
	--kernel) kernel=${2:?}; shift 2 ;;
	--stage) stage=${2:?}; shift 2 ;;
	--shell) shell=1; shift ;;
	--timeout) timeout=${2:?}; shift 2 ;;
	--out) out=${2:?}; shift 2 ;;
	--qemu-args) qemu_args=${2?}; shift 2 ;;
	--append) append=${2?}; shift 2 ;;
	--host=*|--kernel=*|--stage=*|--timeout=*|--out=*|--qemu-args=*|--append=*)
		set -- "${1%%=*}" "${1#*=}" "${@:2}" ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument '$1'" ;;
	esac
done
case $host in qemu|bochs) ;; *) usage >&2; die "--host must be qemu or bochs" ;; esac
case $kernel in stock|test) ;; *) usage >&2; die "--kernel must be stock or test" ;; esac
[ -n "$stage" ] || { usage >&2; die "--stage DIR is required"; }
[ -d "$stage" ] || die "stage dir '$stage' does not exist"
stage=$(cd "$stage" && pwd)
if [ -z "$timeout" ] && [ $shell = 0 ]; then
	case $host in qemu) timeout=600 ;; bochs) timeout=1500 ;; esac
fi
case ${timeout:-0} in ''|*[!0-9]*) die "--timeout takes whole seconds" ;; esac
name=$host-$kernel
out=${out:-$top/build/sandbox/$name}
mkdir -p "$out"
out=$(cd "$out" && pwd)
start=$(date +%s)
elapsed() { echo "$(( $(date +%s) - start )) s"; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hyvm-sandbox.XXXXXX")
emu_pid=
cleanup() {
	[ -z "$emu_pid" ] || kill "$emu_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'log interrupted; exit 130' INT TERM

# --- the kernel -------------------------------------------------------------

if [ $kernel = stock ]; then
	# The stock kernel is the one hyvm.ko is built against: the newest
	# Debian kernel whose headers are installed.
	kver=$(for d in /usr/src/linux-headers-*-amd64; do
		v=${d#/usr/src/linux-headers-}
		if [ -f "/boot/vmlinuz-$v" ] && [ -d "/lib/modules/$v" ]; then echo "$v"; fi
	done | sort -V | tail -n 1)
	[ -n "$kver" ] || die "no /boot/vmlinuz-*-amd64 with matching linux-headers (apt-get install linux-image-amd64 linux-headers-amd64)"
	bzimage=/boot/vmlinuz-$kver
	moddir=/lib/modules/$kver
else
	kdir=$("$here/build-kernel.sh")
	bzimage=$kdir/linux-source-6.1/arch/x86/boot/bzImage
	kver=$(ls "$kdir/root/lib/modules")
	moddir=$kdir/root/lib/modules/$kver
fi
[ -r "$bzimage" ] || die "cannot read $bzimage"
[ -f "$moddir/modules.dep" ] || die "no $moddir/modules.dep"

# --- the initramfs ------------------------------------------------------------

log "building initramfs for $kver"
root=$tmp/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,root,etc,mnt,run}
mkdir -p "$root"/hyvm/{modules,bin,plan,guests}
busybox=$(command -v busybox) || die "busybox not found (apt-get install busybox-static)"
# Debian's busybox-static is a static binary: nothing else to copy.
cp "$busybox" "$root/bin/busybox"
"$busybox" --list-full | while read -r applet; do
	[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
install -m 755 "$here/init" "$root/init"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
# A console node lets the kernel hand /init its stdio before devtmpfs is
# mounted; /init copes without it too.
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true

# KVM (the baseline hyvm is compared against) and KUnit, with everything
# they need per modules.dep, at their real paths so busybox modprobe works.
want='kvm kvm-amd kvm-intel kunit'
mods=$(awk -v want="$want" '
	BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) ok[w[i]] = 1 }
	{
		path = $1; sub(/:$/, "", path)
		base = path; sub(/.*\//, "", base); sub(/\.ko(\.[a-z]+)?$/, "", base)
		if (base in ok) for (i = 1; i <= NF; i++) { p = $i; sub(/:$/, "", p); print p }
	}' "$moddir/modules.dep" | sort -u)
[ -n "$mods" ] || die "no KVM modules in $moddir"
for m in $mods; do
	mkdir -p "$root/lib/modules/$kver/$(dirname "$m")"
	cp "$moddir/$m" "$root/lib/modules/$kver/$m"
done
for f in modules.order modules.builtin modules.builtin.modinfo; do
	[ -f "$moddir/$f" ] && cp "$moddir/$f" "$root/lib/modules/$kver/"
done

# The stage. Its modules are also linked into extra/, so that
# 'modprobe hyvm_kunit' pulls in kunit (and hyvm) by modules.dep.
shopt -s nullglob
for f in "$stage"/modules/*.ko; do
	cp "$f" "$root/hyvm/modules/"
	mkdir -p "$root/lib/modules/$kver/extra"
	ln -s "../../../../hyvm/modules/${f##*/}" "$root/lib/modules/$kver/extra/${f##*/}"
done
for f in "$stage"/bin/*; do
	[ -f "$f" ] && install -m 755 "$f" "$root/hyvm/bin/"
done
for f in "$stage"/plan/*.sh; do
	cp "$f" "$root/hyvm/plan/"
done
[ -d "$stage/guests" ] && cp -a "$stage/guests/." "$root/hyvm/guests/"
shopt -u nullglob
# depmod checks no vermagic: a stage module built for another kernel only
# fails later, at load time, where the plan reports it.
depmod -b "$root" "$kver" 2>"$tmp/depmod.err" || { cat "$tmp/depmod.err" >&2; die "depmod failed"; }

# Uncompressed: inflating a gzip'd initramfs costs Bochs about 50 M
# instructions (0.7 s), more than loading the larger file does.
initrd=$tmp/initrd.cpio
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$initrd"
log "initramfs $(( $(stat -c %s "$initrd") / 1024 )) KiB"

# --- the kernel command line ----------------------------------------------------

cmdline="console=ttyS0,115200 panic=-1 HYVM_HOST=$host HYVM_KERNEL=$kernel"
[ $shell = 1 ] && cmdline="$cmdline HYVM_SHELL=1"
# Nothing Bochs-specific: tsc=reliable, no_timer_check, lpj=, nr_uarts and
# i8042 options were measured and change the instruction count by < 0.1%.
[ -n "$append" ] && cmdline="$cmdline $append"

console=$out/console.log
results=$out/results.log
rm -f "$console" "$results" "$out/bochs.log"
: >"$console"
: >"$results"

run_emulator() {
	# Runs "$@" under the timeout (if any) and sets $emu_rc; 124 = timeout.
	emu_rc=0
	if [ $shell = 1 ]; then
		# The terminal's ^C must reach the emulator: stay in the
		# foreground process group.
		if [ -n "$timeout" ]; then
			timeout --foreground -k 10 "$timeout" "$@" || emu_rc=$?
		else
			"$@" || emu_rc=$?
		fi
		return
	fi
	# timeout(1) puts itself in its own process group, out of reach of a
	# ^C or a make's SIGTERM to ours: the EXIT trap kills it by pid and
	# it passes the signal on to the emulator.
	timeout -k 10 "$timeout" "$@" &
	emu_pid=$!
	wait $emu_pid || emu_rc=$?
	emu_pid=
}

# --- QEMU -----------------------------------------------------------------

if [ $host = qemu ]; then
	command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (apt-get install qemu-system-x86)"
	# -cpu max exposes svm and npt under TCG; -accel kvm does not work here.
	# One TCG thread for both CPUs (HYVM_QEMU_TCG_THREAD=multi for one per
	# CPU): QEMU 7.2's multi-threaded TCG has data races between CPUs that
	# wedge the emulated machine now and then (a lost update of CPU 0's
	# GIF, Documentation/svm.rst; CPUs looping on the int3 of a text patch
	# that a KVM VM's creation makes), which no code in the guest can avoid.
	qemu=(qemu-system-x86_64 -accel "tcg,thread=${HYVM_QEMU_TCG_THREAD:-single}"
		-cpu max -smp 2 -m 1G
		-nographic -no-reboot -nic none -vga none
		-kernel "$bzimage" -initrd "$initrd" -append "$cmdline")
	if [ $shell = 1 ]; then
		# The console is muxed with the monitor on stdio (Ctrl-A c, Ctrl-A x).
		qemu+=(-serial mon:stdio -serial "file:$results")
	else
		# No monitor: with -nographic it would take stdio and serial 0.
		qemu+=(-monitor none -serial "file:$console" -serial "file:$results")
	fi
	# shellcheck disable=SC2206 # word splitting of the passthrough is wanted
	[ -n "$qemu_args" ] && qemu+=($qemu_args)
	log "booting qemu with the $kernel kernel ($kver)${timeout:+, timeout ${timeout} s}"
	if [ $shell = 1 ]; then
		run_emulator "${qemu[@]}"
		exit "$emu_rc"
	fi
	run_emulator "${qemu[@]}" </dev/null >"$out/qemu.out" 2>&1
fi

# --- Bochs ----------------------------------------------------------------

if [ $host = bochs ]; then
	for t in bochs grub-mkrescue xorriso; do
		command -v $t >/dev/null || die "$t not found (apt-get install bochs bochsbios vgabios bochs-term grub-pc-bin grub-common xorriso mtools)"
	done
	# Bochs has no -kernel: GRUB on an El Torito CD loads kernel and initrd.
	mkdir -p "$tmp/iso/boot/grub"
	cp "$bzimage" "$tmp/iso/boot/bzImage"
	cp "$initrd" "$tmp/iso/boot/initrd.cpio"
	cat >"$tmp/iso/boot/grub/grub.cfg" <<EOF
set timeout=0
set default=0
menuentry hyvm {
	linux /boot/bzImage $cmdline
	initrd /boot/initrd.cpio
}
EOF
	grub-mkrescue -o "$tmp/hyvm.iso" "$tmp/iso" \
		--install-modules="linux normal iso9660 biosdisk configfile" \
		--fonts= --locales= --themes= >"$tmp/grub.log" 2>&1 ||
		{ cat "$tmp/grub.log" >&2; die "grub-mkrescue failed"; }
	if [ $shell = 1 ]; then
		# The console is the terminal itself; 'term' mode needs a tty.
		tty -s || die "--shell with bochs needs a terminal on stdin"
		com1="com1: enabled=1, mode=term, dev=$(tty)"
	else
		com1="com1: enabled=1, mode=file, dev=$console"
	fi
	# With clock sync=none, guest time is instructions / ips. Busy waits
	# (serial output at 115200 baud, driver delays) cost ips-proportional
	# instructions: 25 M makes them cheap (a boot is ~15% faster than at
	# 50 M). Guest time then runs ~3x wall time (Bochs emulates ~75 M/s):
	# the RCU stall detector's 21 s are 7 wall seconds of CPU hogging.
	# HYVM_BOCHS_IPS overrides it.
	cat >"$tmp/bochsrc" <<EOF
# hyvm sandbox: VT-x with EPT, VPID and unrestricted guest.
cpu: model=corei7_haswell_4770, count=1, ips=${HYVM_BOCHS_IPS:-25000000}, reset_on_triple_fault=1
memory: guest=512, host=512
romimage: file=/usr/share/bochs/BIOS-bochs-latest, options=fastboot
vgaromimage: file=/usr/share/vgabios/vgabios.bin
ata0-master: type=cdrom, path=$tmp/hyvm.iso, status=inserted
boot: cdrom
$com1
com2: enabled=1, mode=file, dev=$results
display_library: term
clock: sync=none, time0=local
log: $out/bochs.log
panic: action=fatal
error: action=report
info: action=ignore
debug: action=ignore
EOF
	# Debian's Bochs starts in its debugger: 'c' lets it run.
	echo c >"$tmp/bochs.rc"
	log "booting bochs with the $kernel kernel ($kver)${timeout:+, timeout ${timeout} s}"
	if [ $shell = 1 ]; then
		# The term display draws the (unused) VGA screen with curses on
		# stdout: keep it and Bochs' chatter off the terminal, which
		# serial port 1 opens by name.
		log "console on $(tty); Bochs log in $out/bochs.out"
		run_emulator env TERM=dumb bochs -q -f "$tmp/bochsrc" -rc "$tmp/bochs.rc" \
			</dev/null >"$out/bochs.out" 2>&1
		exit 0
	fi
	run_emulator env TERM=dumb bochs -q -f "$tmp/bochsrc" -rc "$tmp/bochs.rc" \
		</dev/null >"$out/bochs.out" 2>&1
fi

# --- results ----------------------------------------------------------------

log "$host exited with status $emu_rc after $(elapsed)"
tr -d '\r' <"$results" >"$tmp/results"
failed=0
while IFS= read -r line; do
	case $line in
	PASS:\ *|FAIL:\ *|SKIP:\ *)
		echo "${line%%: *}: $name/${line#*: }"
		case $line in FAIL:*) failed=1 ;; esac ;;
	esac
done <"$tmp/results"

if grep -qx 'HYVM-PLAN-DONE' "$tmp/results"; then
	echo "PASS: $name/boot"
else
	if [ "$emu_rc" = 124 ] || [ "$emu_rc" = 137 ]; then
		reason="timeout after ${timeout} s"
	elif [ "$emu_rc" != 0 ]; then
		# Bochs exits with 1 at ACPI poweroff too: only the absent
		# HYVM-PLAN-DONE makes this a failure.
		reason="emulator exit status $emu_rc"
		if [ $host = bochs ]; then
			msg=$(grep -a -A1 'Bochs is exiting with the following message' "$out/bochs.out" | tail -n 1 || true)
			[ -n "$msg" ] && reason="$reason: ${msg#\[*\] }"
		fi
	else
		reason="no plan end"
	fi
	echo "FAIL: $name/boot ($reason)"
	echo "--- last 30 lines of $console"
	tail -n 30 "$console" | tr -d '\r'
	echo "---"
	failed=1
fi

oops='Oops|BUG:|WARNING:|general protection|Call Trace|Kernel panic|kernel BUG'
if grep -aEq "$oops" "$console"; then
	echo "FAIL: $name/kernel-log (see $console)"
	grep -aE -m 10 "$oops" "$console" | tr -d '\r' | sed 's/^/    /'
	failed=1
else
	echo "PASS: $name/kernel-log"
fi
log "done in $(elapsed); logs in $out"
exit $failed
