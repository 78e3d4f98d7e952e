/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rep string I/O of many elements: "rep outsb" of a line through a CS
 * override, "rep outsw" with DF set (backwards), and "rep insb" of 100
 * bytes from the debug port (each reads back 0xe9).  Exits 0x71
 * (status 227) when all hold.
 */
#include "guest.h"
	mov	%cs, %ax
	mov	%ax, %es
	xor	%ax, %ax
	mov	%ax, %ds		/* the message is reached through CS */
	cld
	mov	$msg, %si
	mov	$(msg_end - msg), %cx
	mov	$PORT_COM1, %dx
	rep outsb %cs:(%si), (%dx)
	test	%cx, %cx
	jnz	bad1
	cmp	$msg_end, %si
	jne	bad1
	mov	%cs, %ax
	mov	%ax, %ds
	std
	mov	$(words_end - 2), %si
	mov	$2, %cx
	mov	$PORT_COM1, %dx
	rep outsw			/* 'k' then newline: low bytes reach COM1 */
	cld
	cmp	$(words - 2), %si
	jne	bad2
	mov	$buf, %di
	mov	$100, %cx
	mov	$PORT_DEBUGCON, %dx
	rep insb
	test	%cx, %cx
	jnz	bad3
	cmp	$(buf + 100), %di
	jne	bad3
	mov	$buf, %si
	mov	$100, %cx
1:	lodsb
	cmp	$0xe9, %al
	jne	bad4
	loop	1b
	EXIT 0x71
bad1:	EXIT 1
bad2:	EXIT 2
bad3:	EXIT 3
bad4:	EXIT 4
msg:	.ascii "rep string io "
msg_end:
words:	.word '\n', 'k'
words_end:
buf:	.fill 100, 1, 0
