/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hyvm vmx world switch: one VMLAUNCH or VMRESUME, from host to guest and
 * back.
 *
 * VM exit loads the host state the VMCS holds (CR0, CR3, CR4, RSP, RIP,
 * segment selectors, FS/GS/TR/GDTR/IDTR bases, SYSENTER MSRs, EFER, PAT);
 * the general-purpose registers are switched here.  HOST_RSP is written
 * right before entry, so the exit lands on this function's own stack frame
 * at hyvm_vmx_vmexit (HOST_RIP).  Everything else the exit does not
 * restore (segment selectors the VMCS cannot hold, descriptor table
 * limits, the MSRs of the MSR areas) is put back by the C caller.
 *
 * Host interrupts: the caller has IF clear, and so does the exit (RFLAGS
 * is 0x2 after it).  External-interrupt exiting
 * with acknowledge-on-exit hands a host interrupt that arrives in the
 * guest to the caller, which runs the host's handler for its vector
 * through hyvm_host_interrupt() (an NMI exits too, and goes the same
 * way through the NMI gate).
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>
#include <asm/segment.h>
#include <asm/unwind_hints.h>

/* Offsets in struct hyvm_vmx_gprs (virt/vmx/vmx.h): x86 register numbers. */
#define GPR_RAX		0
#define GPR_RCX		8
#define GPR_RDX		16
#define GPR_RBX		24
#define GPR_RBP		40
#define GPR_RSI		48
#define GPR_RDI		56
#define GPR_R8		64
#define GPR_R9		72
#define GPR_R10		80
#define GPR_R11		88
#define GPR_R12		96
#define GPR_R13		104
#define GPR_R14		112
#define GPR_R15		120

/* The VMCS field encoding of HOST_RSP. */
#define VMCS_HOST_RSP	0x6c14

	.text

/*
 * hyvm_vmx_vmenter - enter the guest once
 * @gprs:	%rdi, the guest's general-purpose registers (RSP is in the VMCS)
 * @resume:	%esi, nonzero for VMRESUME (the VMCS was launched on this CPU)
 *
 * Called with IF clear and preemption off, with the vCPU's VMCS current.
 * Returns 0 after a VM exit, 1 when VMLAUNCH/VMRESUME (or the HOST_RSP
 * write) failed: the VM-instruction error field then says why.
 */
SYM_FUNC_START(hyvm_vmx_vmenter)
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx
	/* Keep @gprs where the guest cannot change it: at HOST_RSP. */
	push	%rdi

	mov	$VMCS_HOST_RSP, %eax
	vmwrite	%rsp, %rax
	jbe	.Lvmfail

	mov	%rdi, %rax
	/* ZF from here to the VMLAUNCH/VMRESUME: MOV keeps the flags. */
	test	%esi, %esi
	mov	GPR_RCX(%rax), %rcx
	mov	GPR_RDX(%rax), %rdx
	mov	GPR_RBX(%rax), %rbx
	mov	GPR_RBP(%rax), %rbp
	mov	GPR_RSI(%rax), %rsi
	mov	GPR_RDI(%rax), %rdi
	mov	GPR_R8(%rax), %r8
	mov	GPR_R9(%rax), %r9
	mov	GPR_R10(%rax), %r10
	mov	GPR_R11(%rax), %r11
	mov	GPR_R12(%rax), %r12
	mov	GPR_R13(%rax), %r13
	mov	GPR_R14(%rax), %r14
	mov	GPR_R15(%rax), %r15
	mov	GPR_RAX(%rax), %rax
	jz	.Lvmlaunch

	/*
	 * A successful entry comes back at hyvm_vmx_vmexit (HOST_RIP), not
	 * after the instruction: objtool is told to carry the stack state
	 * over.
	 */
	UNWIND_HINT_SAVE
	vmresume
	jmp	.Lvmfail
.Lvmlaunch:
	vmlaunch
	jmp	.Lvmfail

SYM_INNER_LABEL(hyvm_vmx_vmexit, SYM_L_GLOBAL)
	UNWIND_HINT_RESTORE
	ENDBR
	push	%rax
	mov	8(%rsp), %rax
	popq	GPR_RAX(%rax)
	mov	%rcx, GPR_RCX(%rax)
	mov	%rdx, GPR_RDX(%rax)
	mov	%rbx, GPR_RBX(%rax)
	mov	%rbp, GPR_RBP(%rax)
	mov	%rsi, GPR_RSI(%rax)
	mov	%rdi, GPR_RDI(%rax)
	mov	%r8,  GPR_R8(%rax)
	mov	%r9,  GPR_R9(%rax)
	mov	%r10, GPR_R10(%rax)
	mov	%r11, GPR_R11(%rax)
	mov	%r12, GPR_R12(%rax)
	mov	%r13, GPR_R13(%rax)
	mov	%r14, GPR_R14(%rax)
	mov	%r15, GPR_R15(%rax)
	xor	%ebx, %ebx
	jmp	.Lout

.Lvmfail:
	mov	$1, %ebx

.Lout:
	/*
	 * Guest values must not reach host code, even speculatively: clear
	 * every register the guest controlled (RBX holds the result).
	 */
	xor	%eax, %eax
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

	/* The guest may have trained the return stack buffer. */
	FILL_RETURN_BUFFER %rcx, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT

	mov	%rbx, %rax
	add	$8, %rsp
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	UNTRAIN_RET
	RET
SYM_FUNC_END(hyvm_vmx_vmenter)

