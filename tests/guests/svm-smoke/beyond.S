/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Touches memory beyond its RAM (run with --mem 128K: RAM ends at
 * 0x20000).  The store at 0x18000 is RAM and must read back; 0x30000 is
 * outside every memory slot, so the store and the load there are MMIO,
 * emulated and handed to vmtool, whose open bus drops writes and reads
 * all ones.  Exits 0x60 (status 193) when all hold.
 */
#include "guest.h"
	mov	$0x1800, %ax
	mov	%ax, %es
	movw	$0x1234, %es:0
	cmpw	$0x1234, %es:0
	jne	bad1
	mov	$0x3000, %ax
	mov	%ax, %es
	movw	$0x5678, %es:0
	mov	%es:0, %bx
	cmp	$0xffff, %bx
	jne	bad2
	EXIT 0x60
bad1:	EXIT 0x7d
bad2:	EXIT 0x7e
