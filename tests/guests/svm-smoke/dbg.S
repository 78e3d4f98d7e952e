/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Debug registers are virtual under svm: what the guest writes reads back
 * (DR0, and DR7 with its fixed bit 10), but no breakpoint is armed in the
 * hardware, so the execute breakpoint on "target" does not fire (a #DB
 * handler would count it).  Exits 0x74 (status 233) when all hold.
 */
#include "guest.h"

#define LOAD	0x10000

	SET_VECTOR 1, db_handler
	xor	%bx, %bx
	mov	$(LOAD + target), %eax
	mov	%eax, %db0
	mov	%db0, %ecx
	cmp	%eax, %ecx
	jne	bad1
	mov	$1, %eax		/* L0, execute, length 1 */
	mov	%eax, %db7
	mov	%db7, %edx
	cmp	$0x401, %edx
	jne	bad2
target:	nop
	test	%bx, %bx
	jnz	bad3
	xor	%eax, %eax
	mov	%eax, %db7
	EXIT 0x74
bad1:	EXIT 1
bad2:	EXIT 2
bad3:	EXIT 3

db_handler:
	inc	%bx
	xor	%eax, %eax
	mov	%eax, %db7
	iret
