/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HYVM_GMEM_H
#define HYVM_GMEM_H

#include "hyvm.h"

bool hyvm_gpa_slot(struct hyvm_vm *vm, u64 gpa, struct hyvm_memslot *out);
int hyvm_gmem_read(struct hyvm_vm *vm, u64 gpa, void *buf, unsigned int len);
int hyvm_gmem_write(struct hyvm_vm *vm, u64 gpa, const void *buf,
		    unsigned int len);
int hyvm_gmem_cmpxchg(struct hyvm_vm *vm, u64 gpa, u64 old, u64 new,
		      unsigned int size);

struct hyvm_gmem_ops;
void hyvm_gmem_ops_init(struct hyvm_gmem_ops *ops, struct hyvm_vm *vm);

struct mm_struct;
struct page;
int hyvm_gmem_pin(struct mm_struct *mm, unsigned long hva, bool writable,
		  struct page **page);
void hyvm_gmem_unpin(struct mm_struct *mm, struct page *page, bool dirty);

#endif
