/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hyvm x86 instruction emulator.
 *
 * x86_emulate() executes one instruction against a struct x86_emu: the
 * guest's registers, segment and control state, and a table of callbacks
 * for everything outside the vCPU (guest memory by linear address, port
 * I/O, MSRs, control-register side effects, CPUID, TSC).  It is shared by
 * every engine: shadow paging emulates traced page-table writes with it,
 * MMIO and real mode run through it, and the binary translator falls back
 * to it for rare instructions.
 *
 * An instruction either completes (registers, flags and RIP updated), or
 * raises an exception, reported as (vector, error code) for the caller to
 * inject with the guest state left as it was before the instruction (for
 * rep string instructions: as it was before the faulting iteration), or is
 * not implemented, which is reported as such and changes nothing.
 */
#ifndef HYVM_EMULATE_EMULATE_H
#define HYVM_EMULATE_EMULATE_H

#include "portable.h"
#include "decode.h"

/* General registers in encoding order. */
enum x86_gpr {
	X86_RAX, X86_RCX, X86_RDX, X86_RBX, X86_RSP, X86_RBP, X86_RSI, X86_RDI,
	X86_R8, X86_R9, X86_R10, X86_R11, X86_R12, X86_R13, X86_R14, X86_R15,
};

/* RFLAGS bits. */
#define X86E_FL_CF	BIT(0)
#define X86E_FL_FIXED BIT(1)
#define X86E_FL_PF	BIT(2)
#define X86E_FL_AF	BIT(4)
#define X86E_FL_ZF	BIT(6)
#define X86E_FL_SF	BIT(7)
#define X86E_FL_TF	BIT(8)
#define X86E_FL_IF	BIT(9)
#define X86E_FL_DF	BIT(10)
#define X86E_FL_OF	BIT(11)
#define X86E_FL_IOPL	(3UL << 12)
#define X86E_FL_NT	BIT(14)
#define X86E_FL_RF	BIT(16)
#define X86E_FL_VM	BIT(17)
#define X86E_FL_AC	BIT(18)
#define X86E_FL_VIF	BIT(19)
#define X86E_FL_VIP	BIT(20)
#define X86E_FL_ID	BIT(21)
#define X86E_FL_ARITH (X86E_FL_CF | X86E_FL_PF | X86E_FL_AF | \
			  X86E_FL_ZF | X86E_FL_SF | X86E_FL_OF)

/* Exception vectors. */
enum {
	X86_EXC_DE = 0, X86_EXC_DB = 1, X86_EXC_BP = 3, X86_EXC_OF = 4,
	X86_EXC_BR = 5, X86_EXC_UD = 6, X86_EXC_NM = 7, X86_EXC_DF = 8,
	X86_EXC_TS = 10, X86_EXC_NP = 11, X86_EXC_SS = 12, X86_EXC_GP = 13,
	X86_EXC_PF = 14, X86_EXC_MF = 16, X86_EXC_AC = 17,
};

/* A segment register as the CPU caches it. */
struct x86_segment {
	u64 base;
	u32 limit;		/* byte granular (G already applied) */
	u16 sel;
	u16 attr;		/* descriptor bits 40-47 and 52-55 as 0..7, 12..15 */
};

#define X86_SEG_ATTR_TYPE	0x000f
#define X86_SEG_ATTR_S		0x0010
#define X86_SEG_ATTR_DPL	0x0060
#define X86_SEG_ATTR_P		0x0080
#define X86_SEG_ATTR_L		0x2000
#define X86_SEG_ATTR_DB		0x4000
#define X86_SEG_ATTR_G		0x8000
#define X86_SEG_ATTR_UNUSABLE	0x0100	/* null selector loaded */

struct x86_dtable {
	u64 base;
	u16 limit;
};

/* What an emulated instruction did. */
enum x86_emu_result {
	X86_EMU_OK,		/* done; RIP points to the next instruction */
	X86_EMU_EXCEPTION,	/* emu->exc holds the fault; state unchanged */
	X86_EMU_UNIMPLEMENTED,	/* not emulated; state unchanged */
	X86_EMU_HALT,		/* hlt done (RIP advanced); caller idles */
	X86_EMU_EXIT,		/* a callback asked to leave (e.g. I/O to
				 * userspace); state unchanged but for the
				 * iterations a rep string instruction
				 * completed; retry later */
};

/* Callback return values. */
#define X86_EMU_CB_OK		0
#define X86_EMU_CB_FAULT	1	/* callback filled emu->exc */
#define X86_EMU_CB_EXIT		2	/* leave; retry the instruction */

struct x86_emu;

/**
 * struct x86_emu_ops - the world outside the vCPU
 *
 * Memory is addressed by linear address; the callback translates through
 * the guest's paging and reports a page fault with x86_emu_fault().
 * @write_cmpxchg is optional: when present, locked read-modify-write
 * instructions use it so that the update is atomic against other vCPUs.
 * @get_msr/@set_msr return X86_EMU_CB_FAULT without filling emu->exc for
 * "#GP(0)".  @set_cr is called after the emulator checked reserved bits;
 * it may refuse with a fault.  @read is told whether it is an instruction
 * fetch (for the #PF error code).  An instruction whose callback is left
 * NULL is reported as X86_EMU_UNIMPLEMENTED.
 */
struct x86_emu_ops {
	int (*read)(struct x86_emu *emu, u64 la, void *buf, unsigned int n, bool fetch);
	int (*write)(struct x86_emu *emu, u64 la, const void *buf, unsigned int n);
	int (*write_cmpxchg)(struct x86_emu *emu, u64 la, const void *old,
			     const void *new, unsigned int n, bool *done);
	int (*pio_in)(struct x86_emu *emu, u16 port, unsigned int size, u32 *val);
	int (*pio_out)(struct x86_emu *emu, u16 port, unsigned int size, u32 val);
	int (*get_msr)(struct x86_emu *emu, u32 msr, u64 *val);
	int (*set_msr)(struct x86_emu *emu, u32 msr, u64 val);
	int (*set_cr)(struct x86_emu *emu, unsigned int cr, u64 val);
	int (*set_dr)(struct x86_emu *emu, unsigned int dr, u64 val);
	u64 (*get_dr)(struct x86_emu *emu, unsigned int dr);
	void (*cpuid)(struct x86_emu *emu, u32 leaf, u32 subleaf, u32 out[4]);
	u64 (*rdtsc)(struct x86_emu *emu);
	int (*invlpg)(struct x86_emu *emu, u64 la);
	int (*wbinvd)(struct x86_emu *emu);
};

#define X86_SHADOW_STI		BIT(0)
#define X86_SHADOW_MOV_SS	BIT(1)

/* MSRs the emulator itself reads for syscall, sysenter, swapgs, rdtscp... */
#define X86E_MSR_SYSENTER_CS	0x174
#define X86E_MSR_SYSENTER_ESP	0x175
#define X86E_MSR_SYSENTER_EIP	0x176
#define X86E_MSR_EFER		0xc0000080
#define X86E_MSR_STAR		0xc0000081
#define X86E_MSR_LSTAR		0xc0000082
#define X86E_MSR_CSTAR		0xc0000083
#define X86E_MSR_FMASK		0xc0000084
#define X86E_MSR_FS_BASE	0xc0000100
#define X86E_MSR_GS_BASE	0xc0000101
#define X86E_MSR_KERNEL_GS_BASE	0xc0000102
#define X86E_MSR_TSC_AUX		0xc0000103

#define X86E_CR0_PE	BIT(0)
#define X86E_CR0_MP	BIT(1)
#define X86E_CR0_EM	BIT(2)
#define X86E_CR0_TS	BIT(3)
#define X86E_CR0_ET	BIT(4)
#define X86E_CR0_NE	BIT(5)
#define X86E_CR0_WP	BIT(16)
#define X86E_CR0_AM	BIT(18)
#define X86E_CR0_NW	BIT(29)
#define X86E_CR0_CD	BIT(30)
#define X86E_CR0_PG	BIT(31)
#define X86E_CR4_TSD	BIT(2)
#define X86E_CR4_DE	BIT(3)
#define X86E_CR4_PAE	BIT(5)
#define X86E_CR4_PCE	BIT(8)
#define X86E_CR4_UMIP	BIT(11)
#define X86E_EFER_SCE	BIT(0)
#define X86E_EFER_LME	BIT(8)
#define X86E_EFER_LMA	BIT(10)

/**
 * struct x86_emu - the vCPU state the emulator works on
 *
 * The caller fills the registers before x86_emulate() and reads them back
 * after.  @mode and @cpl are derived by the caller from CR0.PE, EFLAGS.VM,
 * EFER.LMA and CS; x86_emu_update_mode() does that from the fields here.
 */
struct x86_emu {
	u64 gpr[16];
	u64 rip;
	u64 rflags;
	struct x86_segment seg[6];	/* enum x86_seg order */
	struct x86_segment ldtr, tr;
	struct x86_dtable gdtr, idtr;
	u64 cr0, cr2, cr3, cr4, cr8, efer;
	u8 mode;			/* enum x86_mode */
	u8 cpl;
	bool vm86;
	bool amd;			/* decode as AMD CPUs do (X86_DECODE_AMD) */

	/* out: interrupts are blocked after the instruction (sti, mov ss) */
	u8 shadow;

	/* out: the exception of an X86_EMU_EXCEPTION result */
	struct {
		u8 vector;
		bool has_error;
		u32 error;
		u64 cr2;		/* for #PF */
	} exc;

	const struct x86_emu_ops *ops;
	void *opaque;			/* for the callbacks */
	struct x86_insn insn;		/* the last instruction decoded */
};

/**
 * x86_emulate() - fetch, decode and execute one instruction at CS:RIP
 * @emu: the vCPU state; updated on X86_EMU_OK and X86_EMU_HALT
 */
enum x86_emu_result x86_emulate(struct x86_emu *emu);

/**
 * x86_emulate_insn() - execute an instruction the caller already decoded
 * @emu: the vCPU state
 * @insn: the decoded instruction (e.g. from a trap's instruction bytes)
 */
enum x86_emu_result x86_emulate_insn(struct x86_emu *emu, const struct x86_insn *insn);

/* For callbacks: record a fault to be reported. */
static inline int x86_emu_fault(struct x86_emu *emu, u8 vector, bool has_error, u32 error)
{
	emu->exc.vector = vector;
	emu->exc.has_error = has_error;
	emu->exc.error = error;
	return X86_EMU_CB_FAULT;
}

static inline int x86_emu_page_fault(struct x86_emu *emu, u64 la, u32 error)
{
	emu->exc.cr2 = la;
	return x86_emu_fault(emu, X86_EXC_PF, true, error);
}

/* Deliver an exception or interrupt as the CPU would (see emulate.c). */
enum x86_emu_result x86_emu_deliver(struct x86_emu *emu, u8 vector,
				    bool has_error, u32 error);

/* Derive emu->mode and emu->cpl from CR0, EFER, EFLAGS and CS. */
void x86_emu_update_mode(struct x86_emu *emu);

/* Evaluate condition code @cc (0-15, as in jcc) on @rflags. */
bool x86_cond(unsigned int cc, u64 rflags);

#endif /* HYVM_EMULATE_EMULATE_H */
