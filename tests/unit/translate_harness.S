/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The translator tests' way into and out of the translation cache: what the
 * world switch will be in the kernel, for a test process.
 *
 * hx_enter loads the guest registers and flags from hx_regs and jumps to
 * hx_regs.rip (a CCF).  The exit stub in the test's "VMM region" jumps to
 * hx_exit, which stores them back and returns from hx_enter.  A fault in a
 * CCF returns through hx_fault_return (the signal handler aims it there).
 */
#define R(n) hx_regs+8*n(%rip)

	.text
	.globl hx_enter, hx_exit, hx_fault_return
hx_enter:
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, hx_host_rsp(%rip)
	pushq R(16)
	popfq
	mov R(17), %rax
	mov %rax, hx_target(%rip)
	mov R(1), %rcx
	mov R(2), %rdx
	mov R(3), %rbx
	mov R(4), %rsp
	mov R(5), %rbp
	mov R(6), %rsi
	mov R(7), %rdi
	mov R(8), %r8
	mov R(9), %r9
	mov R(10), %r10
	mov R(11), %r11
	mov R(12), %r12
	mov R(13), %r13
	mov R(14), %r14
	mov R(15), %r15
	mov R(0), %rax
	jmp *hx_target(%rip)

hx_exit:
	mov %rax, R(0)
	mov %rcx, R(1)
	mov %rdx, R(2)
	mov %rbx, R(3)
	mov %rsp, R(4)
	mov %rbp, R(5)
	mov %rsi, R(6)
	mov %rdi, R(7)
	mov %r8, R(8)
	mov %r9, R(9)
	mov %r10, R(10)
	mov %r11, R(11)
	mov %r12, R(12)
	mov %r13, R(13)
	mov %r14, R(14)
	mov %r15, R(15)
	mov hx_host_rsp(%rip), %rsp
	pushfq
	popq R(16)
	cld
	jmp 1f
hx_fault_return:
	mov hx_host_rsp(%rip), %rsp
	cld
1:	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	ret

	.bss
	.align 8
	.globl hx_regs
hx_regs:	.skip 8 * 18
hx_host_rsp:	.skip 8
hx_target:	.skip 8

	.section .note.GNU-stack,"",@progbits
