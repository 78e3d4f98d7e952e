/* SPDX-License-Identifier: GPL-2.0 */
/* Assembler helpers of the guest runtime. */
#ifndef GUEST_ASM_H
#define GUEST_ASM_H

/* Saves the GPRs in the order of struct trap_frame (rax lowest). */
.macro PUSH_GPRS
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%r11
	push	%r10
	push	%r9
	push	%r8
	push	%rbp
	push	%rdi
	push	%rsi
	push	%rdx
	push	%rcx
	push	%rbx
	push	%rax
.endm

.macro POP_GPRS
	pop	%rax
	pop	%rbx
	pop	%rcx
	pop	%rdx
	pop	%rsi
	pop	%rdi
	pop	%rbp
	pop	%r8
	pop	%r9
	pop	%r10
	pop	%r11
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
.endm

#endif
