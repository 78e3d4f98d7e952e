/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Touches memory beyond its RAM (run with --mem 128K: RAM ends at
 * 0x20000).  The first store, at 0x18000, is RAM and must work; the one
 * at 0x30000 is outside every memory slot.
 */
#include "guest.h"
	mov	$0x1800, %ax
	mov	%ax, %es
	movw	$0x1234, %es:0
	cmpw	$0x1234, %es:0
	jne	bad
	mov	$0x3000, %ax
	mov	%ax, %es
	movw	$0x5678, %es:0
	EXIT 0x7e		/* should not get here */
bad:	EXIT 0x7d
