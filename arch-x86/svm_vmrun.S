/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hyvm svm world switch: one VMRUN, from host to guest and back.
 *
 * VMRUN saves and restores only part of the host state (the host save area
 * holds CS, SS, DS, ES, GDTR, IDTR, CR0, CR3, CR4, EFER, RFLAGS, RIP, RSP
 * and RAX).  FS, GS, TR and LDTR with their hidden parts, KERNEL_GS_BASE,
 * STAR, LSTAR, CSTAR, SFMASK and the SYSENTER MSRs are switched here with
 * VMSAVE/VMLOAD.  Between the VMLOAD of guest state and the VMLOAD of host
 * state the GS base is the guest's, so nothing in between may touch per-CPU
 * data: that window runs with GIF clear, where no interrupt, NMI or SMI is
 * taken.
 *
 * Host interrupts: the caller has IF clear.  STI right before VMRUN makes
 * the host's saved RFLAGS.IF set, so that a physical interrupt in the guest
 * causes an INTR #VMEXIT (GIF is clear until VMRUN sets it, so STI opens
 * nothing here).  After #VMEXIT GIF is clear again; CLI then STGI leaves the
 * pending interrupt for the caller's local_irq_enable(), in host context.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>

/* Offsets in struct hyvm_svm_gprs (virt/svm/svm.h); checked at build time. */
#define GPR_RBX		0
#define GPR_RCX		8
#define GPR_RDX		16
#define GPR_RSI		24
#define GPR_RDI		32
#define GPR_RBP		40
#define GPR_R8		48
#define GPR_R9		56
#define GPR_R10		64
#define GPR_R11		72
#define GPR_R12		80
#define GPR_R13		88
#define GPR_R14		96
#define GPR_R15		104

	.text

/*
 * hyvm_svm_vmrun - enter the guest once
 * @vmcb_pa:	%rdi, physical address of the guest VMCB
 * @host_pa:	%rsi, physical address of this CPU's host VMSAVE area
 * @gprs:	%rdx, the guest registers that the VMCB does not hold
 *
 * Called with IF clear and preemption off, on the CPU whose EFER.SVME and
 * VM_HSAVE_PA are set up.  Returns with IF clear and GIF set.
 */
SYM_FUNC_START(hyvm_svm_vmrun)
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx
	/* Keep the arguments where the guest cannot change them. */
	push	%rdx		/* 16(%rsp): gprs */
	push	%rsi		/*  8(%rsp): host_pa */
	push	%rdi		/*  0(%rsp): vmcb_pa */

	clgi

	/* Host FS/GS/TR/LDTR and syscall MSRs out, the guest's in. */
	mov	8(%rsp), %rax
	vmsave	%rax
	mov	0(%rsp), %rax
	vmload	%rax

	mov	16(%rsp), %rax
	mov	GPR_RBX(%rax), %rbx
	mov	GPR_RCX(%rax), %rcx
	mov	GPR_RDX(%rax), %rdx
	mov	GPR_RSI(%rax), %rsi
	mov	GPR_RDI(%rax), %rdi
	mov	GPR_RBP(%rax), %rbp
	mov	GPR_R8(%rax), %r8
	mov	GPR_R9(%rax), %r9
	mov	GPR_R10(%rax), %r10
	mov	GPR_R11(%rax), %r11
	mov	GPR_R12(%rax), %r12
	mov	GPR_R13(%rax), %r13
	mov	GPR_R14(%rax), %r14
	mov	GPR_R15(%rax), %r15
	mov	0(%rsp), %rax

	sti
	vmrun	%rax

	/* #VMEXIT: RSP, RAX, RFLAGS (IF=1) are the host's again; GIF=0. */
	mov	16(%rsp), %rax
	mov	%rbx, GPR_RBX(%rax)
	mov	%rcx, GPR_RCX(%rax)
	mov	%rdx, GPR_RDX(%rax)
	mov	%rsi, GPR_RSI(%rax)
	mov	%rdi, GPR_RDI(%rax)
	mov	%rbp, GPR_RBP(%rax)
	mov	%r8,  GPR_R8(%rax)
	mov	%r9,  GPR_R9(%rax)
	mov	%r10, GPR_R10(%rax)
	mov	%r11, GPR_R11(%rax)
	mov	%r12, GPR_R12(%rax)
	mov	%r13, GPR_R13(%rax)
	mov	%r14, GPR_R14(%rax)
	mov	%r15, GPR_R15(%rax)

	/*
	 * Guest values must not reach host code, even speculatively: clear
	 * every register the guest controlled.
	 */
	xor	%ebx, %ebx
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%esi, %esi
	xor	%edi, %edi
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d
	xor	%r12d, %r12d
	xor	%r13d, %r13d
	xor	%r14d, %r14d
	xor	%r15d, %r15d

	mov	0(%rsp), %rax
	vmsave	%rax
	mov	8(%rsp), %rax
	vmload	%rax

	/* The guest may have trained the return stack buffer. */
	FILL_RETURN_BUFFER %rax, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT

	cli
	stgi

	add	$24, %rsp
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	UNTRAIN_RET
	RET
SYM_FUNC_END(hyvm_svm_vmrun)
