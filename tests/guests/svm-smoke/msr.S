/* SPDX-License-Identifier: GPL-2.0 */
/*
 * MSRs: PAT reads its reset value, EFER reads 0 in real mode, an unknown
 * MSR raises #GP (caught by an IVT handler that skips the 2-byte RDMSR).
 * Exits 0x30 (status 97) when all hold, else the failed check.
 */
#include "guest.h"
	SET_VECTOR 13, gp_handler
	xor	%bx, %bx		/* #GP count */
	mov	$0x277, %ecx		/* PAT */
	rdmsr
	cmp	$0x00070406, %eax
	jne	fail1
	cmp	$0x00070406, %edx
	jne	fail1
	mov	$0xc0000080, %ecx	/* EFER */
	rdmsr
	test	%eax, %eax
	jnz	fail2
	mov	$0x12345678, %ecx	/* nothing */
	rdmsr
	cmp	$1, %bx
	jne	fail3
	mov	$0x277, %ecx		/* a PAT with a reserved type: #GP */
	mov	$0x02020202, %eax
	mov	%eax, %edx
	wrmsr
	cmp	$2, %bx
	jne	fail4
	EXIT 0x30
fail1:	EXIT 1
fail2:	EXIT 2
fail3:	EXIT 3
fail4:	EXIT 4

gp_handler:
	inc	%bx
	push	%bp
	mov	%sp, %bp
	addw	$2, 2(%bp)		/* return past rdmsr/wrmsr */
	pop	%bp
	iret
