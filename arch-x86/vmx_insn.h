/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VMX instructions for the vmx engine.  VMREAD and VMWRITE report
 * VMfail to their callers; VMXON, VMCLEAR, VMPTRLD, INVEPT and INVVPID
 * also survive a fault (#UD, #GP), so that a CPU in an unexpected state
 * costs an error, never a host oops.
 */
#ifndef HYVM_ARCH_VMX_INSN_H
#define HYVM_ARCH_VMX_INSN_H

#include <linux/types.h>
#include <asm/asm.h>

/* Returns false on VMfail (an unsupported field, or no current VMCS). */
static __always_inline bool hyvm_vmread(unsigned long field, u64 *val)
{
	bool fail;
	u64 v = 0;

	asm volatile("vmread %[f], %[v]\n\t"
		     "setna %[fail]"
		     : [v] "+r" (v), [fail] "=qm" (fail)
		     : [f] "r" (field) : "cc");
	*val = v;
	return !fail;
}

static __always_inline bool hyvm_vmwrite(unsigned long field, u64 val)
{
	bool fail;

	asm volatile("vmwrite %[v], %[f]\n\t"
		     "setna %[fail]"
		     : [fail] "=qm" (fail)
		     : [v] "rm" (val), [f] "r" (field) : "cc");
	return !fail;
}

/* VMXON, VMCLEAR, VMPTRLD: 0, -EIO on VMfail, -EFAULT on a fault. */
#define HYVM_VMX_PA_INSN(name, insn)					\
static __always_inline int name(u64 pa)					\
{									\
	asm goto("1: " insn " %[pa]\n\t"			\
			  "jna %l[fail]\n\t"				\
			  _ASM_EXTABLE(1b, %l[fault])			\
			  : : [pa] "m" (pa) : "memory", "cc"		\
			  : fail, fault);				\
	return 0;							\
fail:									\
	return -EIO;							\
fault:									\
	return -EFAULT;							\
}

HYVM_VMX_PA_INSN(hyvm_vmxon, "vmxon")
HYVM_VMX_PA_INSN(hyvm_vmclear, "vmclear")
HYVM_VMX_PA_INSN(hyvm_vmptrld, "vmptrld")

static __always_inline void hyvm_vmxoff(void)
{
	asm goto("1: vmxoff\n\t"
			  _ASM_EXTABLE(1b, %l[fault])
			  : : : "memory", "cc" : fault);
fault:
	return;
}

/* INVEPT and INVVPID take a type in a register and a 128-bit descriptor. */
static __always_inline int hyvm_invept(unsigned long type, u64 eptp)
{
	struct { u64 eptp, gpa; } desc = { eptp, 0 };

	asm goto("1: invept %[desc], %[type]\n\t"
			  "jna %l[fail]\n\t"
			  _ASM_EXTABLE(1b, %l[fail])
			  : : [desc] "m" (desc), [type] "r" (type)
			  : "memory", "cc" : fail);
	return 0;
fail:
	return -EIO;
}

static __always_inline int hyvm_invvpid(unsigned long type, u16 vpid)
{
	struct { u64 vpid, gla; } desc = { vpid, 0 };

	asm goto("1: invvpid %[desc], %[type]\n\t"
			  "jna %l[fail]\n\t"
			  _ASM_EXTABLE(1b, %l[fail])
			  : : [desc] "m" (desc), [type] "r" (type)
			  : "memory", "cc" : fail);
	return 0;
fail:
	return -EIO;
}

#endif /* HYVM_ARCH_VMX_INSN_H */
