/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An exit storm: 100000 CPUIDs, each one exit handled in the kernel, then
 * 2000 OUTs to an unused port, each one a trip to userspace.  Exits 0x50
 * (status 161).
 */
#include "guest.h"
	mov	$100000, %edi
1:	xor	%eax, %eax
	cpuid
	dec	%edi
	jnz	1b
	mov	$2000, %cx
2:	out	%al, $0x80
	loop	2b
	EXIT 0x50
