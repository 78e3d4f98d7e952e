/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Wild MSR and port accesses: RDMSR over the three MSR ranges the CPU
 * knows (most raise #GP, counted by an IVT handler that skips the 2-byte
 * instruction), WRMSR of EFER.SVME and of reserved EFER bits (#GP), of a
 * non-canonical FS base (#GP from the hardware: FS base is not
 * intercepted), and IN/OUT over the first 1024 ports but the console and
 * debug-exit ones.  The guest must survive all of it: exits 0x73
 * (status 231).
 */
#include "guest.h"
	SET_VECTOR 13, gp_handler
	xor	%ebp, %ebp		/* #GP count */

	xor	%ecx, %ecx
1:	rdmsr
	inc	%ecx
	cmp	$0x2000, %ecx
	jb	1b
	mov	$0xc0000000, %ecx
2:	rdmsr
	inc	%ecx
	cmp	$0xc0000400, %ecx
	jb	2b
	mov	$0xc0010000, %ecx
3:	rdmsr
	inc	%ecx
	cmp	$0xc0010400, %ecx
	jb	3b
	cmp	$0x2000, %ebp		/* most of them are not there */
	jb	bad1

	mov	%ebp, %esi
	mov	$0xc0000080, %ecx	/* EFER.SVME: hidden, so reserved */
	mov	$0x1000, %eax
	xor	%edx, %edx
	wrmsr
	mov	$0xffffffff, %eax	/* every bit */
	wrmsr
	mov	$0xc0000100, %ecx	/* FS base, non-canonical */
	xor	%eax, %eax
	mov	$0x80000000, %edx
	wrmsr
	sub	%esi, %ebp
	cmp	$2, %ebp		/* the two EFER writes at least */
	jb	bad2

	xor	%dx, %dx
4:	cmp	$PORT_EXIT, %dx
	je	5f
	cmp	$PORT_DEBUGCON, %dx
	je	5f
	cmp	$PORT_COM1, %dx
	jae	5f
	in	%dx, %al
	out	%al, %dx
	in	%dx, %ax
	out	%ax, %dx
5:	inc	%dx
	cmp	$0x400, %dx
	jb	4b
	EXIT 0x73
bad1:	EXIT 1
bad2:	mov	%bp, %ax
	add	$0x10, %al
	out	%al, $PORT_EXIT
	hlt

gp_handler:
	inc	%ebp
	push	%bp
	mov	%sp, %bp
	addw	$2, 2(%bp)		/* past rdmsr/wrmsr */
	pop	%bp
	iret
