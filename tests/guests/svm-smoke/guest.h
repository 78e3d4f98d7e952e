/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the flat real-mode smoke guests.  vmtool enters them with
 * CS = load >> 4, IP = 0 and every other segment based at 0; the stack is
 * SS:SP = 0:0, so it grows down from 0xffff.
 */
	.code16
	.text

#define PORT_EXIT	0xf4	/* vmtool exits with (value << 1) | 1 */
#define PORT_DEBUGCON	0xe9
#define PORT_COM1	0x3f8

/* Write the byte in AL to COM1. */
.macro PUTC_AL
	mov	$PORT_COM1, %dx
	out	%al, %dx
.endm

/* Print the NUL-terminated string at CS:label on COM1. */
.macro PUTS label
	mov	$\label, %si
	call	puts
.endm

/* Leave vmtool with status (code << 1) | 1. */
.macro EXIT code
	mov	$\code, %al
	out	%al, $PORT_EXIT
	hlt
.endm

/*
 * Point the real-mode IVT entry of @vector at CS:@handler (the IVT is at
 * physical 0, reached through ES = 0).
 */
.macro SET_VECTOR vector, handler
	xor	%ax, %ax
	mov	%ax, %es
	movw	$\handler, %es:(\vector * 4)
	mov	%cs, %ax
	mov	%ax, %es:(\vector * 4 + 2)
.endm

/* puts: the string at CS:SI on COM1.  Clobbers AX, DX, SI. */
.macro PUTS_FUNC
puts:
	mov	$PORT_COM1, %dx
1:	cs lodsb
	test	%al, %al
	jz	2f
	out	%al, %dx
	jmp	1b
2:	ret
.endm
