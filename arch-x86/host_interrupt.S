/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hyvm_host_interrupt - run the host's handler of an interrupt or NMI
 * @handler:	%rdi, the entry of the host's IDT gate for the vector
 *
 * For an event that arrived while a guest ran and was taken by hyvm
 * instead of the host (a VM exit that acknowledged it, or bt's guest
 * world, which passes it on): the host's handler runs as if the CPU had
 * delivered it here, on an interrupt frame built on this stack (aligned
 * as the CPU aligns it), and its IRET comes back after the call with IF
 * still clear.  Shared by the vmx and bt engines.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>
#include <asm/segment.h>

	.text
SYM_FUNC_START(hyvm_host_interrupt)
	push	%rbp
	mov	%rsp, %rbp
	and	$-16, %rsp
	push	$__KERNEL_DS
	push	%rbp
	pushf
	push	$__KERNEL_CS
	CALL_NOSPEC rdi
	leave
	RET
SYM_FUNC_END(hyvm_host_interrupt)
