/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What translated code and the monitor share: the per-vCPU area in the VMM
 * region, the exit reasons a CCF reports, and the layout of the indirect
 * lookup table.
 *
 * Translated code runs at CPL3 and writes the area, so everything in it is
 * the guest's own virtual state as far as the host is concerned: the
 * monitor masks and range-checks each field before it acts on it
 * (bt_tc_exit_decode() in tc.c for the exit fields).
 */
#ifndef HYVM_BT_BT_AREA_H
#define HYVM_BT_BT_AREA_H

#include "portable.h"

/*
 * Why a CCF left the translation cache (bt_vcpu_area.exit_reason).
 * BT_EXIT_IRQ_WINDOW: sti or popf set IF while irq_pending was set;
 * exit_rip is the next instruction, and after sti one more instruction runs
 * before the interrupt is delivered (the interrupt shadow).
 */
enum bt_exit_reason {
	BT_EXIT_NONE,
	BT_EXIT_TRANSLATE,	/* continuation: translate exit_rip, chain */
	BT_EXIT_IND_MISS,	/* indirect target exit_rip not in the table */
	BT_EXIT_CALLOUT,	/* interpret the instruction at exit_rip */
	BT_EXIT_UD,		/* undecodable bytes at exit_rip: deliver #UD */
	BT_EXIT_IRQ_WINDOW,	/* an interrupt can be delivered at exit_rip */
	BT_EXIT_NR,
};

/*
 * RFLAGS bits the hardware holds for the guest while a CCF runs: the
 * arithmetic flags, DF and the always-one bit.  The others are virtual.
 */
#define BT_FL_HW	0x00000cd7ULL	/* CF PF AF ZF SF DF OF, bit 1 */
#define BT_FL_IF	0x00000200ULL
/* Virtual bits kept in bt_vcpu_area.vflags (IF has its own word). */
#define BT_FL_VIRT	0x00247100ULL	/* TF IOPL NT AC ID */

/**
 * struct bt_vcpu_area - per-vCPU state in the VMM region, writable at CPL3
 * @exit_reason: enum bt_exit_reason of the last exit
 * @exit_rip: the guest RIP the exit is about (see enum bt_exit_reason)
 * @exit_id: the exit record (in the monitor's own memory) of the exit site
 * @vif: the guest's virtual RFLAGS.IF: 0 or BT_FL_IF, nothing else
 * @vflags: the guest's other virtual RFLAGS bits (BT_FL_VIRT)
 * @vcpl: the guest's virtual CPL (translated code is CPL0 code)
 * @irq_pending: non-zero while an interrupt waits for IF
 * @ind_target: guest target of the last indirect jump, call or ret
 * @jmp_target: TC address the lookup jumps to on a hit
 * @tmp: flags image for pushf/popf
 * @ind_lookups: indirect lookups done in the TC
 * @save: guest GPRs (by encoding number) that a CCF took as scratch; the
 *	precise-state map says when one of them holds the guest's value
 *
 * Every field is a u64 so that a CCF reaches each one with one
 * RIP-relative move and no field shares a word with another.
 */
struct bt_vcpu_area {
	u64 exit_reason;
	u64 exit_rip;
	u64 exit_id;
	u64 vif;
	u64 vflags;
	u64 vcpl;
	u64 irq_pending;
	u64 ind_target;
	u64 jmp_target;
	u64 tmp;
	u64 ind_lookups;
	u64 save[16];
};

/*
 * The guest's RFLAGS from the real flags at an exit and the area, each
 * part masked: whatever CPL3 code left in the area, only virtual bits come
 * from it.
 */
static inline u64 bt_area_rflags(const struct bt_vcpu_area *a, u64 hw)
{
	return (hw & BT_FL_HW) | (READ_ONCE(a->vif) & BT_FL_IF) |
	       (READ_ONCE(a->vflags) & BT_FL_VIRT) | 2;
}

/* Split the guest's RFLAGS for entry: returns what the real RFLAGS gets. */
static inline u64 bt_area_set_rflags(struct bt_vcpu_area *a, u64 rflags)
{
	a->vif = rflags & BT_FL_IF;
	a->vflags = rflags & BT_FL_VIRT;
	return (rflags & BT_FL_HW) | BT_FL_IF | 2;
}

/*
 * The indirect lookup table: 2^16 entries indexed by the low 16 bits of
 * the guest target.  An entry holds the negated guest RIP so that a CCF
 * can compare without touching the guest's flags (lea + jrcxz), and the
 * TC address of the CCF.  Read-only at CPL3.
 */
#define BT_HT_BITS	16
#define BT_HT_SIZE	(1u << BT_HT_BITS)

struct bt_ht_entry {
	u64 neg_rip;
	u64 tc;
};

#endif /* HYVM_BT_BT_AREA_H */
