#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Extract an uncompressed vmlinux from a bzImage, for the decoder's corpus
# test (tests/unit/test_decode.c).  Tries the xz, zstd and gzip payloads at
# each magic number found.  Exits 0 without output file if nothing works:
# the test then skips the corpus with a message.
#
# usage: decode_vmlinux.sh <bzImage> <out>
in=$1 out=$2
[ -r "$in" ] || exit 0
try() {
	# $1: magic as printf escapes, $2: decompressor
	for off in $(LC_ALL=C grep -obUaP "$1" "$in" 2>/dev/null | cut -d: -f1); do
		tail -c +$((off + 1)) "$in" | $2 > "$out.tmp" 2>/dev/null
		if [ "$(head -c 4 "$out.tmp" | od -An -c | tr -d ' ')" = '177ELF' ]; then
			mv "$out.tmp" "$out"
			exit 0
		fi
	done
	rm -f "$out.tmp"
}
try '\xfd\x37\x7a\x58\x5a\x00' 'xz -dcq'
try '\x28\xb5\x2f\xfd' 'zstd -dcq'
try '\x1f\x8b\x08' 'gzip -dcq'
exit 0
