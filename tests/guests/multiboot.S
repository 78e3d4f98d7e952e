/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A multiboot v1 kernel (ELF32): checks that it was started as the
 * multiboot specification says (EAX magic, EBX info with memory fields,
 * protected mode with paging off, flat segments), then switches to long
 * mode by itself, as kernels do, and reports from there.  Exit through
 * port 0xf4: 0 pass, 1 fail.
 *
 * Built twice: as an ELF32 file placed by its program headers
 * (multiboot.elf), and with -DAOUT_KLUDGE as a flat file whose header
 * gives the load addresses, flag 16 (multiboot-aout.bin).
 */
#define MB_MAGIC	0x1BADB002
#ifdef AOUT_KLUDGE
#define NAME		"multiboot-aout"
#define MB_FLAGS	0x00010003	/* + addresses in the header */
#else
#define NAME		"multiboot"
#define MB_FLAGS	0x00000003	/* align modules, want memory info */
#endif

/* A NUL-terminated message that starts with the guest's name. */
.macro MSG label, text
\label:	.ascii	NAME
	.asciz	"\text"
.endm

	.section .text
	.align 4
mb_header:
	.long	MB_MAGIC
	.long	MB_FLAGS
	.long	-(MB_MAGIC + MB_FLAGS)
#ifdef AOUT_KLUDGE
	.long	mb_header		/* header_addr */
	.long	_start_of_image		/* load_addr */
	.long	mb_load_end		/* load_end_addr */
	.long	_end			/* bss_end_addr */
	.long	mb_start		/* entry_addr */
#endif

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
	MSG msg_start, ": start (32-bit protected mode)\r\n"
	MSG msg_magic, ": EAX holds 0x2BADB002: "
	MSG msg_meminfo, ": info flags say mem_lower/mem_upper: "
	MSG msg_memupper, ": mem_upper is at least 1M: "
	MSG msg_cr0, ": CR0 has PE and not PG: "
	MSG msg_flat, ": flat data segment: "
	MSG msg_lma, ": long mode active after switching: "
	MSG msg_pass, ": pass\r\n"
	MSG msg_fail, ": fail\r\n"
msg_ok:		.asciz	"ok\r\n"
msg_failed:	.asciz	"FAILED\r\n"
	.align 8
gdt:
	.quad	0
	.quad	0x00af9b000000ffff	/* 0x08: 64-bit code */
	.quad	0x00cf93000000ffff	/* 0x10: data */
gdt_ptr:
	.word	gdt_ptr - gdt - 1
	.long	gdt
mb_load_end:			/* the end of what the file holds */

	.section .bss
	.align 4096
pml4:	.space	4096
pdpt:	.space	4096
pd:	.space	4096
scratch: .space	16
	.space	4096
stack_top:
