/* SPDX-License-Identifier: GPL-2.0 */
/*
 * String I/O, emulated: "outsb" prints a line on COM1 one byte at a time,
 * "insb" reads from the debug port 0xe9 (0xe9 comes back), and "rep outsb"
 * with a count of 1.  Exits 0x70 (status 225) when all hold.
 */
#include "guest.h"
	mov	%cs, %ax
	mov	%ax, %ds
	mov	%ax, %es
	cld
	mov	$msg, %si
	mov	$(msg_end - msg), %cx
	mov	$PORT_COM1, %dx
1:	outsb
	loop	1b
	cmp	$msg_end, %si
	jne	bad1
	mov	$buf, %di
	mov	$PORT_DEBUGCON, %dx
	insb
	insb
	cmpw	$0xe9e9, buf
	jne	bad2
	cmp	$(buf + 2), %di
	jne	bad3
	mov	$nl, %si
	mov	$1, %cx
	mov	$PORT_COM1, %dx
	rep outsb
	test	%cx, %cx
	jnz	bad4
	EXIT 0x70
bad1:	EXIT 1
bad2:	EXIT 2
bad3:	EXIT 3
bad4:	EXIT 4
msg:	.ascii "string io"
msg_end:
nl:	.ascii "\n"
buf:	.word 0
