/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bt's world switch: from the host to guest user code at CPL3 and back.
 *
 * Two parts.  hyvm_bt_world_switch() runs in the host's module text: it
 * loads the transition page table (which maps the host kernel half as the
 * host does and the VMM region besides) and calls the entry of the vCPU's
 * block in the VMM region.  Everything from there on runs from the block's
 * copy of hyvm_bt_world_code..hyvm_bt_world_code_end, which lives in
 * .rodata here and is never executed in place: the copy reaches its
 * vCPU's data page RIP-relative (DATA() below), so no register and no
 * segment base is needed to find it.
 *
 * Entry (transition tables, interrupts off): the monitor's stack, the
 * monitor's IDT, CR4 without PGE (this flushes every TLB entry, global
 * ones included), the monitor's GDT and TR, the guest's data selectors
 * and FS/GS bases, the guest world's CR3 (shadow root, VMM region in it),
 * the guest's registers, IRETQ to CPL3 with IF set.
 *
 * The host state lives in the vCPU's host page (HOST() below), which only
 * the transition tables map: the entry writes the host's RSP there and
 * reads the guest world's CR3 and CR4 from there before it leaves them,
 * and the exit reads it only once it is back on them.  Nothing the guest
 * world maps holds a host address, so CPL3 code reads none even on a CPU
 * that lets it read supervisor pages speculatively (Meltdown).
 *
 * Exit: every vector of the monitor's IDT and the SYSCALL entry save the
 * guest's registers into the data page and leave through .Lexit, which
 * loads the transition tables, the host's CR4 (PGE back on: another full
 * flush), GDT, TR (its busy bit cleared through the writable GDT alias,
 * as the kernel does), segment selectors, FS and GS bases, and IDT, and
 * returns to hyvm_bt_world_switch(), which loads the host's CR3.  At every
 * instant the IDT in force is mapped by the CR3 in force, and the host's
 * IDT is in force only with the host's CR4, GDT, TR and GS base: an NMI
 * anywhere on the way finds either the host (on tables that map all of
 * the host kernel) or the monitor, which notes an NMI or #MC taken at
 * CPL0 for the host and returns.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/msr-index.h>
#include <asm/nospec-branch.h>
#include <asm/segment.h>
#include "bt_world.h"

#define DATA(off)	.Lcode + BTW_PAGE_DATA * 4096 + (off)(%rip)
#define HOST(off)	.Lcode + BTW_HOST_OFFSET + (off)(%rip)
#define STACK_TOP	.Lcode + BTW_PAGE_NMI * 4096(%rip)
#define ENDBR64		.byte 0xf3, 0x0f, 0x1e, 0xfa

	.text
/*
 * hyvm_bt_world_switch - run guest user code until it leaves
 * @t_cr3:	%rdi, the transition page table
 * @entry_va:	%rsi, hyvm_bt_world_entry in the vCPU's block
 *
 * Interrupts are off.  The data page holds the guest state to load and the
 * host page the guest world's CR3 and CR4; on return the data page holds
 * the guest state and why it left.
 */
SYM_FUNC_START(hyvm_bt_world_switch)
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx
	mov	%rdi, %cr3
	CALL_NOSPEC rsi
	/* Back on the transition tables with the host's CR4 and descriptors. */
	mov	%rax, %cr3
	/*
	 * Guest code ran in between, as user code does between a return to
	 * user mode and the next kernel entry, whose mitigations this exit
	 * does not pass through: train the return predictors ourselves.
	 */
	FILL_RETURN_BUFFER %rcx, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT
	UNTRAIN_RET
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET
SYM_FUNC_END(hyvm_bt_world_switch)

	.section .rodata, "a"
	.balign 4096
SYM_DATA_START(hyvm_bt_world_code)
.Lcode:

/* Called on the transition tables; the host's stack is mapped there. */
SYM_INNER_LABEL(hyvm_bt_world_entry, SYM_L_GLOBAL)
	ENDBR64
	/*
	 * Off the host's stack first: an NMI or #MC taken at CPL0 from here
	 * on leaves its frame on a monitor stack that the guest world maps,
	 * and that frame must not hold a host stack address.  (Until the
	 * LIDT it lands in the host, which runs it on its own IST stack.)
	 */
	mov	%rsp, HOST(BTW_H_RSP)
	lea	STACK_TOP, %rsp
	/*
	 * Everything the entry needs from the host page, before the CR4 write
	 * below flushes the TLB for the last time on the transition tables:
	 * no translation of the host page survives into the guest world.
	 */
	mov	HOST(BTW_W_CR3), %rbx
	mov	HOST(BTW_W_CR4), %rax
	/*
	 * The IDT next: from here on every NMI lands in the monitor, whose
	 * stubs work with either GDT, TR and CR4 (kernel code is 0x10 in
	 * both GDTs, the IST slots are the host's).  The host's handlers
	 * need the host's CR4 (FSGSBASE) as much as its GDT and GS base.
	 */
	lidt	DATA(BTW_W_IDT + 6)
	mov	%rax, %cr4
	lgdt	DATA(BTW_W_GDT + 6)
	mov	$BTW_SEL_TSS, %eax
	ltr	%ax
	mov	DATA(BTW_DS), %ds
	mov	DATA(BTW_ES), %es
	mov	DATA(BTW_FS), %fs
	mov	DATA(BTW_GS), %gs
	mov	$MSR_FS_BASE, %ecx
	mov	DATA(BTW_FS_BASE), %eax
	mov	DATA(BTW_FS_BASE + 4), %edx
	wrmsr
	mov	$MSR_GS_BASE, %ecx
	mov	DATA(BTW_GS_BASE), %eax
	mov	DATA(BTW_GS_BASE + 4), %edx
	wrmsr
	mov	%rbx, %cr3
	pushq	DATA(BTW_SS)
	pushq	DATA(BTW_GPR + 4 * 8)
	pushq	DATA(BTW_RFLAGS)
	pushq	DATA(BTW_CS)
	pushq	DATA(BTW_RIP)
	mov	DATA(BTW_GPR + 0 * 8), %rax
	mov	DATA(BTW_GPR + 1 * 8), %rcx
	mov	DATA(BTW_GPR + 2 * 8), %rdx
	mov	DATA(BTW_GPR + 3 * 8), %rbx
	mov	DATA(BTW_GPR + 5 * 8), %rbp
	mov	DATA(BTW_GPR + 6 * 8), %rsi
	mov	DATA(BTW_GPR + 7 * 8), %rdi
	mov	DATA(BTW_GPR + 8 * 8), %r8
	mov	DATA(BTW_GPR + 9 * 8), %r9
	mov	DATA(BTW_GPR + 10 * 8), %r10
	mov	DATA(BTW_GPR + 11 * 8), %r11
	mov	DATA(BTW_GPR + 12 * 8), %r12
	mov	DATA(BTW_GPR + 13 * 8), %r13
	mov	DATA(BTW_GPR + 14 * 8), %r14
	mov	DATA(BTW_GPR + 15 * 8), %r15
	/*
	 * Where the host clears CPU buffers on its way to user mode (MDS
	 * and its kin), so does this: nothing the host left in them may be
	 * sampled by guest code.  The flags are IRETQ's to set.
	 */
	cmpq	$0, DATA(BTW_VERW_SEL)
	je	1f
	verw	DATA(BTW_VERW_SEL)
1:	iretq

.macro SAVE_GPRS_BUT_RSP
	mov	%rax, DATA(BTW_GPR + 0 * 8)
	mov	%rcx, DATA(BTW_GPR + 1 * 8)
	mov	%rdx, DATA(BTW_GPR + 2 * 8)
	mov	%rbx, DATA(BTW_GPR + 3 * 8)
	mov	%rbp, DATA(BTW_GPR + 5 * 8)
	mov	%rsi, DATA(BTW_GPR + 6 * 8)
	mov	%rdi, DATA(BTW_GPR + 7 * 8)
	mov	%r8, DATA(BTW_GPR + 8 * 8)
	mov	%r9, DATA(BTW_GPR + 9 * 8)
	mov	%r10, DATA(BTW_GPR + 10 * 8)
	mov	%r11, DATA(BTW_GPR + 11 * 8)
	mov	%r12, DATA(BTW_GPR + 12 * 8)
	mov	%r13, DATA(BTW_GPR + 13 * 8)
	mov	%r14, DATA(BTW_GPR + 14 * 8)
	mov	%r15, DATA(BTW_GPR + 15 * 8)
.endm

/* SYSCALL from guest user code: IF, TF, DF and AC are masked. */
SYM_INNER_LABEL(hyvm_bt_world_syscall, SYM_L_GLOBAL)
	ENDBR64
	mov	%rsp, DATA(BTW_GPR + 4 * 8)
	lea	STACK_TOP, %rsp
	SAVE_GPRS_BUT_RSP
	mov	%rcx, DATA(BTW_RIP)
	mov	%r11, DATA(BTW_RFLAGS)
	movq	$BTW_VEC_SYSCALL, DATA(BTW_VECTOR)
	movq	$0, DATA(BTW_ERROR)
	jmp	.Lexit

/* Every vector: the frame is vector, error code, RIP, CS, RFLAGS, RSP, SS. */
.Lcommon:
	testb	$3, 24(%rsp)
	jz	.Lmonitor_fault
	SAVE_GPRS_BUT_RSP
	popq	DATA(BTW_VECTOR)
	popq	DATA(BTW_ERROR)
	popq	DATA(BTW_RIP)
	popq	DATA(BTW_CS)
	popq	DATA(BTW_RFLAGS)
	popq	DATA(BTW_GPR + 4 * 8)
	popq	DATA(BTW_SS)
	mov	%cr2, %rax
	mov	%rax, DATA(BTW_CR2)
	jmp	.Lexit

/* A fault in the monitor's own code: give up the guest, report it. */
.Lmonitor_fault:
	movq	$1, DATA(BTW_FAULT)
	mov	(%rsp), %rax
	mov	%rax, DATA(BTW_FAULT_VEC)
	mov	16(%rsp), %rax
	mov	%rax, DATA(BTW_FAULT_RIP)
	jmp	.Lexit

/*
 * NMI and #MC, on their own stacks.  From CPL3 they leave like any other
 * event (the NMI stays blocked until the host's handler returns); at CPL0
 * (on the way in or out) they are noted for the host, which runs its
 * handler after the switch back, and the monitor goes on.  IRETQ to CPL0
 * with a null SS is always valid, whatever the GDT holds at the index of
 * the SS that was interrupted.
 */
.Lnmi_mc:
	testb	$3, 24(%rsp)
	jnz	.Lcommon
	cmpq	$2, (%rsp)
	jne	1f
	movq	$1, DATA(BTW_NMI_PEND)
	jmp	2f
1:	movq	$1, DATA(BTW_MC_PEND)
2:	movq	$0, 48(%rsp)
	add	$16, %rsp
	iretq

.Lexit:
	mov	%ds, DATA(BTW_DS)
	mov	%es, DATA(BTW_ES)
	mov	%fs, DATA(BTW_FS)
	mov	%gs, DATA(BTW_GS)
	mov	$MSR_FS_BASE, %ecx
	rdmsr
	mov	%eax, DATA(BTW_FS_BASE)
	mov	%edx, DATA(BTW_FS_BASE + 4)
	mov	$MSR_GS_BASE, %ecx
	rdmsr
	mov	%eax, DATA(BTW_GS_BASE)
	mov	%edx, DATA(BTW_GS_BASE + 4)
	/*
	 * The transition tables first: the host page is mapped nowhere
	 * else.  Their address is the one thing of the host the data page
	 * holds (a physical address; see Documentation/bt.rst).
	 */
	mov	DATA(BTW_T_CR3), %rax
	mov	%rax, %cr3
	/*
	 * The host's CR4 (PGE on: every TLB entry flushed again) while the
	 * monitor's IDT is still in force; the VMM region has no global
	 * pages, and the host kernel half of the transition table is the
	 * host's own.
	 */
	mov	HOST(BTW_H_CR4), %rax
	mov	%rax, %cr4
	lgdt	HOST(BTW_H_GDT_RW + 6)
	mov	HOST(BTW_H_TSS_DESC), %rax
	andb	$0xfd, 5(%rax)
	ltr	HOST(BTW_H_TR)
	lgdt	HOST(BTW_H_GDT + 6)
	mov	HOST(BTW_H_SS), %ss
	mov	HOST(BTW_H_DS), %ds
	mov	HOST(BTW_H_ES), %es
	mov	HOST(BTW_H_FS), %fs
	mov	HOST(BTW_H_GS), %gs
	mov	$MSR_FS_BASE, %ecx
	mov	HOST(BTW_H_FS_BASE), %eax
	mov	HOST(BTW_H_FS_BASE + 4), %edx
	wrmsr
	mov	$MSR_GS_BASE, %ecx
	mov	HOST(BTW_H_GS_BASE), %eax
	mov	HOST(BTW_H_GS_BASE + 4), %edx
	wrmsr
	lidt	HOST(BTW_H_IDT + 6)
	mov	HOST(BTW_H_RSP), %rsp
	pushq	$2
	popfq
	mov	HOST(BTW_H_CR3), %rax
	/* Guest values must not reach host code, even speculatively. */
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%ebx, %ebx
	xor	%ebp, %ebp
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
	ret

/* The IDT's targets, 16 bytes apart. */
	.balign 16
SYM_INNER_LABEL(hyvm_bt_world_stubs, SYM_L_GLOBAL)
vector = 0
.rept 256
	.balign 16
	ENDBR64
	.if vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21 || vector == 29 || vector == 30
	.else
	pushq	$0
	.endif
	pushq	$vector
	.if vector == 2 || vector == 18
	jmp	.Lnmi_mc
	.else
	jmp	.Lcommon
	.endif
vector = vector + 1
.endr
	.balign 16
SYM_INNER_LABEL(hyvm_bt_world_code_end, SYM_L_GLOBAL)
SYM_DATA_END(hyvm_bt_world_code)
