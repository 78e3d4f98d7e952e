/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Touches every page of 128 MiB of RAM (run with --mem 128M): switches to
 * 32-bit protected mode with flat segments (no paging), stores each page's
 * address into it, reads a sample back.  Each first touch is a nested page
 * fault that pins a host page.  Exits 0x72 (status 229) when all hold.
 */
#include "guest.h"

#define LOAD	0x10000		/* vmtool's default load address */
#define RAM_END	0x8000000

	cli
	lgdtl	%cs:gdtr
	mov	%cr0, %eax
	or	$1, %eax
	mov	%eax, %cr0
	ljmpl	$0x08, $(LOAD + pm)

	.code32
pm:	mov	$0x10, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	$0x100000, %edi
1:	mov	%edi, (%edi)
	add	$4096, %edi
	cmp	$RAM_END, %edi
	jb	1b
	mov	$0x100000, %edi
2:	cmp	%edi, (%edi)
	jne	bad
	add	$0x1001000, %edi	/* a sample, a page further each time */
	cmp	$RAM_END, %edi
	jb	2b
	mov	$0x72, %al
	out	%al, $PORT_EXIT
	hlt
bad:	mov	$0x7c, %al
	out	%al, $PORT_EXIT
	hlt

	.p2align 3
gdt:	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: flat 32-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: flat data */
gdtr:	.word gdtr - gdt - 1
	.long LOAD + gdt
