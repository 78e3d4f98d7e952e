/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A multiboot v1 kernel (ELF32): checks that it was started as the
 * multiboot specification says (EAX magic, EBX info with memory fields,
 * protected mode with paging off, flat segments), then switches to long
 * mode by itself, as kernels do, and reports from there.  Exit through
 * port 0xf4: 0 pass, 1 fail.
 */
#define MB_MAGIC	0x1BADB002
#define MB_FLAGS	0x00000003	/* align modules, want memory info */

	.section .text
	.align 4
mb_header:
	.long	MB_MAGIC
	.long	MB_FLAGS
	.long	-(MB_MAGIC + MB_FLAGS)

	.code32
	.globl mb_start
mb_start:
	mov	%eax, %edi		/* keep the magic */
	mov	$stack_top, %esp
	xor	%ebp, %ebp		/* failure count */
	mov	$msg_start, %esi
	call	puts

	cmp	$0x2BADB002, %edi
	mov	$msg_magic, %esi
	call	check

	testl	$1, (%ebx)		/* flags: mem_lower/mem_upper valid */
	mov	$msg_meminfo, %esi
	call	check_nz

	cmpl	$1024, 8(%ebx)		/* mem_upper in KiB: at least 1M above 1M */
	setae	%al
	test	%al, %al
	mov	$msg_memupper, %esi
	call	check_nz

	mov	%cr0, %eax
	and	$0x80000001, %eax
	cmp	$1, %eax		/* PE on, PG off */
	mov	$msg_cr0, %esi
	call	check

	mov	%ds, %ax		/* a data selector loads and reads flat 4G */
	mov	%ax, %es
	movl	$0x1234abcd, scratch
	cmpl	$0x1234abcd, scratch
	mov	$msg_flat, %esi
	call	check

	/* To long mode: identity map 1G with 2M pages, PAE, LME, PG. */
	mov	$pdpt, %eax
	or	$3, %eax
	mov	%eax, pml4
	mov	$pd, %eax
	or	$3, %eax
	mov	%eax, pdpt
	xor	%ecx, %ecx
1:	mov	%ecx, %eax
	shl	$21, %eax
	or	$0x83, %eax		/* P, W, PS */
	mov	%eax, pd(,%ecx,8)
	inc	%ecx
	cmp	$512, %ecx
	jb	1b
	mov	$pml4, %eax
	mov	%eax, %cr3
	mov	%cr4, %eax
	or	$0x20, %eax		/* PAE */
	mov	%eax, %cr4
	mov	$0xc0000080, %ecx
	rdmsr
	or	$0x100, %eax		/* LME */
	wrmsr
	mov	%cr0, %eax
	or	$0x80000000, %eax
	mov	%eax, %cr0
	lgdt	gdt_ptr
	ljmp	$0x08, $long_mode

	.code64
long_mode:
	mov	$0x10, %eax
	mov	%eax, %ds
	mov	%eax, %ss
	mov	$0xc0000080, %ecx
	rdmsr
	test	$0x400, %eax		/* LMA */
	mov	$msg_lma, %esi
	call	check_nz64
	test	%ebp, %ebp
	jnz	2f
	mov	$msg_pass, %esi
	call	puts64
	mov	$0, %al
	out	%al, $0xf4
	hlt
2:	mov	$msg_fail, %esi
	call	puts64
	mov	$1, %al
	out	%al, $0xf4
	hlt

check_nz64:
	pushf
	call	puts64
	popf
	jz	3f
	mov	$msg_ok, %esi
	jmp	puts64
3:	inc	%ebp
	mov	$msg_failed, %esi
	jmp	puts64

puts64:
	lodsb
	test	%al, %al
	jz	5f
	mov	%al, %ah
	mov	$0x3fd, %dx
4:	in	%dx, %al
	test	$0x20, %al
	jz	4b
	mov	$0x3f8, %dx
	mov	%ah, %al
	out	%al, %dx
	jmp	puts64
5:	ret

	.code32
/* check: ZF set means ok; check_nz: ZF clear means ok.  Prints ESI first. */
check:
	pushf
	call	puts
	popf
	jnz	6f
	mov	$msg_ok, %esi
	jmp	puts
6:	inc	%ebp
	mov	$msg_failed, %esi
	jmp	puts

check_nz:
	pushf
	call	puts
	popf
	jz	6b
	mov	$msg_ok, %esi
	jmp	puts

puts:
	lodsb
	test	%al, %al
	jz	8f
	mov	%al, %ah
	mov	$0x3fd, %dx
7:	in	%dx, %al
	test	$0x20, %al
	jz	7b
	mov	$0x3f8, %dx
	mov	%ah, %al
	out	%al, %dx
	jmp	puts
8:	ret

	.section .rodata
msg_start:	.asciz	"multiboot: start (32-bit protected mode)\r\n"
msg_magic:	.asciz	"multiboot: EAX holds 0x2BADB002: "
msg_meminfo:	.asciz	"multiboot: info flags say mem_lower/mem_upper: "
msg_memupper:	.asciz	"multiboot: mem_upper is at least 1M: "
msg_cr0:	.asciz	"multiboot: CR0 has PE and not PG: "
msg_flat:	.asciz	"multiboot: flat data segment: "
msg_lma:	.asciz	"multiboot: long mode active after switching: "
msg_ok:		.asciz	"ok\r\n"
msg_failed:	.asciz	"FAILED\r\n"
msg_pass:	.asciz	"multiboot: pass\r\n"
msg_fail:	.asciz	"multiboot: fail\r\n"
	.align 8
gdt:
	.quad	0
	.quad	0x00af9b000000ffff	/* 0x08: 64-bit code */
	.quad	0x00cf93000000ffff	/* 0x10: data */
gdt_ptr:
	.word	gdt_ptr - gdt - 1
	.long	gdt

	.section .bss
	.align 4096
pml4:	.space	4096
pdpt:	.space	4096
pd:	.space	4096
scratch: .space	16
	.space	4096
stack_top:
