/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Two-dimensional page tables (AMD NPT, Intel EPT), built lazily from the
 * faults of the hardware engines and shared by them (tdp.c).
 */
#ifndef HYVM_TDP_H
#define HYVM_TDP_H

#include <linux/mutex.h>
#include <linux/types.h>
#include "hyvm.h"

struct mm_struct;

/* The two-dimensional table of one VM. */
struct hyvm_npt {
	struct mutex lock;		/* changes to the tables */
	u64 *root;			/* top-level table, one page */
	int levels;			/* 4 or 5 */
	u64 leaf_bits;			/* format-specific bits of a leaf */
	unsigned long pinned;		/* guest pages pinned so far */
	unsigned long tables;		/* table pages allocated */
};

int hyvm_tdp_init(struct hyvm_npt *npt, int levels, u64 leaf_bits);
int hyvm_npt_init(struct hyvm_npt *npt);
void hyvm_npt_destroy(struct hyvm_npt *npt, struct mm_struct *mm);
int hyvm_npt_map(struct hyvm_vm *vm, struct hyvm_npt *npt, u64 gpa,
		 bool write, bool *mmio);
u64 hyvm_npt_root_pa(struct hyvm_npt *npt);
void hyvm_npt_slot_removed(struct hyvm_vm *vm, struct hyvm_npt *npt,
			   u64 base_gfn, u64 npages);

#endif /* HYVM_TDP_H */
