/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The layout of one vCPU's block in bt's VMM region, shared by the world
 * switch (bt_switch.S) and its C side (virt/bt/world.c).
 *
 * Each vCPU has a block of BTW_PAGES pages in the VMM region: a copy of
 * the monitor's code (the switch, the IDT stubs, the SYSCALL entry), its
 * IDT, GDT and TSS, a data page (guest registers, exit information) and
 * its stacks; and a host page (the host state) that only the transition
 * tables map.  The code reaches both pages RIP-relative, so each copy
 * finds its own vCPU's without any register or segment.
 */
#ifndef HYVM_ARCH_X86_BT_WORLD_H
#define HYVM_ARCH_X86_BT_WORLD_H

/* Pages of a block. */
#define BTW_PAGE_CODE		0	/* BTW_CODE_PAGES pages, RX */
#define BTW_CODE_PAGES		2
#define BTW_PAGE_IDT		2
#define BTW_PAGE_GDT		3
#define BTW_PAGE_TSS		4
#define BTW_PAGE_DATA		5
#define BTW_PAGE_STACK		6	/* two pages: RSP0 is their top */
#define BTW_PAGE_NMI		8	/* IST stacks: top of their page */
#define BTW_PAGE_DF		9
#define BTW_PAGE_MC		10
#define BTW_PAGES		11

/* IST slots of the monitor's TSS, the same as the host's. */
#define BTW_IST_DF		1
#define BTW_IST_NMI		2
#define BTW_IST_MC		4

/* The monitor's GDT: kernel code where the host has it, and its TSS. */
#define BTW_SEL_KCODE		0x10
#define BTW_SEL_TSS		0x40
#define BTW_GDT_ENTRIES		512
/* Translated guest kernel code runs at CPL3 on these (world.c). */
#define BTW_SEL_TDATA		0x2b
#define BTW_SEL_TCODE		0x33

/* BTW_VECTOR of an exit through SYSCALL. */
#define BTW_VEC_SYSCALL		256

/*
 * The host page: one per vCPU, mapped only in its transition tables, at
 * BTW_HOST_OFFSET above the block (the second GiB of the VMM region), so
 * that the switch reaches it RIP-relative as it does the data page.  No
 * guest-world root maps it: everything of the host the switch needs is
 * here, and CPL3 cannot reach it even speculatively.
 */
#define BTW_HOST_OFFSET		0x40000000	/* 1 GiB */

/* Offsets in the data page (struct bt_world_data). */
#define BTW_GPR			0x000	/* guest gpr[16], x86 numbering */
#define BTW_RIP			0x080
#define BTW_RFLAGS		0x088
#define BTW_CS			0x090
#define BTW_SS			0x098
#define BTW_FS_BASE		0x0a0
#define BTW_GS_BASE		0x0a8
#define BTW_DS			0x0b0
#define BTW_ES			0x0b8
#define BTW_FS			0x0c0
#define BTW_GS			0x0c8
#define BTW_VECTOR		0x0d0
#define BTW_ERROR		0x0d8
#define BTW_CR2			0x0e0
#define BTW_FAULT		0x0e8
#define BTW_NMI_PEND		0x0f0
#define BTW_MC_PEND		0x0f8
#define BTW_FAULT_RIP		0x100
#define BTW_FAULT_VEC		0x108
#define BTW_T_CR3		0x110
#define BTW_W_GDT		0x118	/* pseudo-descriptors: pad, limit, base */
#define BTW_W_IDT		0x128
#define BTW_VERW_SEL		0x138	/* non-zero: VERW it before IRETQ */
#define BTW_DATA_SIZE		0x140

/* Offsets in the host page (struct bt_world_host). */
#define BTW_H_RSP		0x000
#define BTW_H_CR3		0x008
#define BTW_H_CR4		0x010
#define BTW_W_CR3		0x018
#define BTW_W_CR4		0x020
#define BTW_H_GDT		0x028
#define BTW_H_GDT_RW		0x038
#define BTW_H_IDT		0x048
#define BTW_H_TSS_DESC		0x058
#define BTW_H_TR		0x060
#define BTW_H_DS		0x068
#define BTW_H_ES		0x070
#define BTW_H_FS		0x078
#define BTW_H_GS		0x080
#define BTW_H_SS		0x088
#define BTW_H_FS_BASE		0x090
#define BTW_H_GS_BASE		0x098
#define BTW_HOST_SIZE		0x0a0

#ifndef __ASSEMBLY__
#include <linux/types.h>

struct bt_pseudo_desc {
	u16 pad[3];
	u16 limit;
	u64 base;
} __packed;

/*
 * The data page, mapped in the guest world.  It holds the guest's state
 * and why it left, written by the monitor's code at CPL0 and read by the
 * C side (CPL3 cannot reach it architecturally), and nothing of the host
 * but @t_cr3, the physical address of the transition tables, which the
 * exit path needs before it can reach the host page.  The pseudo-
 * descriptors are padded so that limit and base sit where LGDT and LIDT
 * read them (the operand is the address of @limit); @w_gdt and @w_idt
 * hold VMM-region addresses only.
 */
struct bt_world_data {
	u64 gpr[16];
	u64 rip, rflags, cs, ss, fs_base, gs_base;
	u64 ds, es, fs, gs;
	u64 vector, error, cr2, fault, nmi_pend, mc_pend;
	u64 fault_rip, fault_vec;
	u64 t_cr3;
	struct bt_pseudo_desc w_gdt, w_idt;
	u64 verw_sel;
};

/*
 * The host page: the host state the exit path restores, and the guest
 * world's CR3 and CR4, which the entry path reads before it leaves the
 * transition tables.
 */
struct bt_world_host {
	u64 h_rsp, h_cr3, h_cr4, w_cr3, w_cr4;
	struct bt_pseudo_desc h_gdt, h_gdt_rw, h_idt;
	u64 h_tss_desc, h_tr, h_ds, h_es, h_fs, h_gs, h_ss, h_fs_base, h_gs_base;
};

extern const u8 hyvm_bt_world_code[], hyvm_bt_world_code_end[];
extern const u8 hyvm_bt_world_stubs[], hyvm_bt_world_entry[];
extern const u8 hyvm_bt_world_syscall[];

void hyvm_bt_world_switch(u64 t_cr3, unsigned long entry_va);
#endif

#endif
