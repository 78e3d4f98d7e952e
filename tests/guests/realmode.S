/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A flat binary started in real mode, as after reset: checks segment
 * arithmetic, a software interrupt through the real-mode IVT, 32-bit
 * operands in 16-bit code, and string moves, then reports on the UART and
 * exits through port 0xf4 (0 pass, 1 fail), like the runtime's guests.
 * vmtool loads it at 0x10000 with CS:IP = 0x1000:0.
 */
	.code16
	.text
	.globl _start
_start:
	cli
	mov	%cs, %ax
	mov	%ax, %ds
	mov	%ax, %es
	xor	%ax, %ax
	mov	%ax, %ss
	mov	$0x8000, %sp
	xor	%bp, %bp		/* failure count */

	mov	$msg_start, %si
	call	puts

	/* Segment arithmetic: 0x2000:0x10 and 0x2001:0 are the same byte. */
	mov	$0x2000, %ax
	mov	%ax, %fs
	movb	$0x5a, %fs:0x10
	mov	$0x2001, %ax
	mov	%ax, %gs
	cmpb	$0x5a, %gs:0
	mov	$msg_seg, %si
	call	check

	/* int 0x42 through the IVT at 0:0x108. */
	xor	%ax, %ax
	mov	%ax, %fs
	movw	$int42, %fs:0x42*4
	mov	%cs, %fs:0x42*4+2
	xor	%bx, %bx
	int	$0x42
	cmp	$0x4242, %bx
	mov	$msg_int, %si
	call	check

	/* 32-bit arithmetic with operand-size prefixes. */
	mov	$0x12345678, %eax
	add	$0x11111111, %eax
	cmp	$0x23456789, %eax
	mov	$msg_32, %si
	call	check

	/* rep movsb copies a string within the segment. */
	mov	$src, %si
	mov	$dst, %di
	mov	$4, %cx
	cld
	rep movsb
	mov	dst, %eax
	cmp	src, %eax
	mov	$msg_movs, %si
	call	check

	/* The result, and the end. */
	test	%bp, %bp
	jnz	1f
	mov	$msg_pass, %si
	call	puts
	mov	$0, %al
	out	%al, $0xf4
	hlt
1:	mov	$msg_fail, %si
	call	puts
	mov	$1, %al
	out	%al, $0xf4
	hlt

int42:
	mov	$0x4242, %bx
	iret

/* check: ZF from the caller's cmp says ok; prints the line for DS:SI. */
check:
	pushf
	call	puts
	popf
	jnz	1f
	mov	$msg_ok, %si
	jmp	puts
1:	inc	%bp
	mov	$msg_failed, %si
	jmp	puts

/* puts: DS:SI to the UART, waiting for the transmitter each byte. */
puts:
	push	%ax
	push	%dx
2:	lodsb
	test	%al, %al
	jz	4f
	mov	%al, %ah
	mov	$0x3fd, %dx
3:	in	%dx, %al
	test	$0x20, %al
	jz	3b
	mov	$0x3f8, %dx
	mov	%ah, %al
	out	%al, %dx
	jmp	2b
4:	pop	%dx
	pop	%ax
	ret

msg_start:	.asciz	"realmode: start (real mode, flat binary)\r\n"
msg_seg:	.asciz	"realmode: segment arithmetic aliases 2000:10 and 2001:0: "
msg_int:	.asciz	"realmode: int 0x42 through the IVT: "
msg_32:		.asciz	"realmode: 32-bit add in 16-bit code: "
msg_movs:	.asciz	"realmode: rep movsb: "
msg_ok:		.asciz	"ok\r\n"
msg_failed:	.asciz	"FAILED\r\n"
msg_pass:	.asciz	"realmode: pass\r\n"
msg_fail:	.asciz	"realmode: fail\r\n"
src:		.ascii	"hyvm"
dst:		.long	0
