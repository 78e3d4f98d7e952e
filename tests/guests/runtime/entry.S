/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest entry, trap stubs, and the ring-3 <-> ring-0 paths.  vmtool enters
 * _start in long mode with RDI = &struct hyvm_boot_info.
 */
#include "asm.h"

#define USER_CS		(0x20 | 3)
#define USER_DS		(0x18 | 3)
#define SYS_EXIT	0

	.section .text.entry, "ax"
	.globl _start
_start:
	/* The boot stack is vmtool's; use our own, inside the image. */
	lea	rt_kernel_stack_top(%rip), %rsp
	xor	%ebp, %ebp
	call	rt_main
1:	hlt
	jmp	1b

	.text
/*
 * One 16-byte stub per vector, so that stub N is at rt_trap_stubs + 16 * N.
 * Each pushes a zero where the CPU pushes no error code, so that every
 * frame looks the same, then the vector number.
 */
	.align 16
	.globl rt_trap_stubs
rt_trap_stubs:
	.set vec, 0
	.rept 256
	.align 16
	.if !(vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30)
	pushq	$0
	.endif
	pushq	$vec
	jmp	trap_common
	.set vec, vec + 1
	.endr

trap_common:
	PUSH_GPRS
	mov	%rsp, %rdi
	cld
	call	rt_trap
	POP_GPRS
	add	$16, %rsp		/* vector and error code */
	iretq

/*
 * long rt_run_user(long (*fn)(long), long arg, void *stack_top)
 * Runs fn(arg) at CPL3.  The user stack's return address leads to a
 * SYS_EXIT syscall whose handler comes back here through rt_user_return.
 */
	.globl rt_run_user
rt_run_user:
	push	%rbx
	push	%rbp
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	mov	%rsp, rt_kernel_saved_rsp(%rip)
	lea	user_exit_trampoline(%rip), %rax
	mov	%rax, -8(%rdx)
	sub	$8, %rdx		/* as if fn had been called */
	pushq	$USER_DS
	push	%rdx			/* rsp */
	pushq	$0x202			/* rflags: IF, as user code runs */
	pushq	$USER_CS
	push	%rdi			/* rip */
	mov	%rsi, %rdi
	mov	$USER_DS, %eax
	mov	%eax, %ds
	mov	%eax, %es
	xor	%eax, %eax
	xor	%ebx, %ebx
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%esi, %esi
	xor	%ebp, %ebp
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d
	iretq

/* Called on the syscall stack with RDI = the value fn returned. */
	.globl rt_user_return
rt_user_return:
	mov	$0x10, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%rdi, %rax
	mov	rt_kernel_saved_rsp(%rip), %rsp
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbp
	pop	%rbx
	ret

/* User code, reached by fn's return: SYS_EXIT with its value. */
	.globl user_exit_trampoline
user_exit_trampoline:
	mov	%rax, %rdi
	mov	$SYS_EXIT, %eax
	syscall
	ud2

/*
 * SYSCALL lands here (LSTAR) at CPL0 with the user's RSP, RCX = user RIP,
 * R11 = user RFLAGS, RAX = number, RDI, RSI = arguments.  Everything but
 * RAX, RCX and R11 is preserved for the user.
 */
	.globl rt_syscall_entry
rt_syscall_entry:
	mov	%rsp, rt_user_rsp(%rip)
	lea	rt_syscall_stack_top(%rip), %rsp
	push	%rcx
	push	%r11
	push	%rdi
	push	%rsi
	push	%rdx
	push	%r8
	push	%r9
	push	%r10
	mov	%rsi, %rdx
	mov	%rdi, %rsi
	mov	%rax, %rdi
	call	rt_syscall
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rdx
	pop	%rsi
	pop	%rdi
	pop	%r11
	pop	%rcx
	mov	rt_user_rsp(%rip), %rsp
	sysretq

	.bss
	.align 4096
	.space 16384
	.globl rt_kernel_stack_top
rt_kernel_stack_top:
	.space 8192
	.globl rt_syscall_stack_top
rt_syscall_stack_top:
	.space 8192
	.globl rt_trap_stack_top
rt_trap_stack_top:
	.align 8
rt_kernel_saved_rsp:
	.quad 0
rt_user_rsp:
	.quad 0
