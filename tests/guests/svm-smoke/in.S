/* SPDX-License-Identifier: GPL-2.0 */
/*
 * IN from the debug console port 0xe9 reads back 0xe9 (vmtool's
 * convention).  An 8-bit IN keeps the rest of EAX, a 16-bit IN the upper
 * half, a 32-bit IN replaces all of it.  Exits 0x10 (status 33) when all
 * hold, else the number of the first check that failed.
 */
#include "guest.h"
	mov	$0x12345678, %eax
	in	$PORT_DEBUGCON, %al
	cmp	$0x123456e9, %eax
	jne	fail1
	mov	$0x12345678, %eax
	mov	$PORT_DEBUGCON, %dx
	in	%dx, %ax
	cmp	$0x1234e9e9, %eax
	jne	fail2
	in	%dx, %eax
	cmp	$0xe9e9e9e9, %eax
	jne	fail3
	EXIT 0x10
fail1:	EXIT 1
fail2:	EXIT 2
fail3:	EXIT 3
