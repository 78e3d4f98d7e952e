/* SPDX-License-Identifier: GPL-2.0 */
/*
 * "rep outsb" of several bytes: refused with an internal error until the
 * emulator keeps the iterations of a rep instruction that stops for
 * userspace.  Exits 0x71 (status 227) if it ever completes.
 */
#include "guest.h"
	mov	%cs, %ax
	mov	%ax, %ds
	cld
	mov	$msg, %si
	mov	$(msg_end - msg), %cx
	mov	$PORT_COM1, %dx
	rep outsb
	EXIT 0x71
msg:	.ascii "rep\n"
msg_end:
