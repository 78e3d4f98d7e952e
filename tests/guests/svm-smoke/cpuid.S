/* SPDX-License-Identifier: GPL-2.0 */
/*
 * CPUID as a guest of hyvm sees it: the hypervisor bit and leaf
 * 0x40000000 "hyvmhyvmhyvm"; no VMX, no SVM, no XSAVE.  Exits 0x20
 * (status 65) when all hold, else the number of the failed check.
 */
#include "guest.h"
	mov	$0x40000000, %eax
	cpuid
	cmp	$0x6d767968, %ebx	/* "hyvm" */
	jne	fail1
	mov	$1, %eax
	cpuid
	test	$0x80000000, %ecx	/* hypervisor */
	jz	fail2
	test	$0x04000020, %ecx	/* XSAVE, VMX */
	jnz	fail3
	mov	$0x80000001, %eax
	cpuid
	test	$4, %ecx		/* SVM */
	jnz	fail4
	xor	%eax, %eax
	cpuid
	cmp	$7, %eax		/* highest basic leaf */
	ja	fail5
	PUTS msg
	EXIT 0x20
fail1:	EXIT 1
fail2:	EXIT 2
fail3:	EXIT 3
fail4:	EXIT 4
fail5:	EXIT 5
	PUTS_FUNC
msg:	.asciz "cpuid ok\n"
