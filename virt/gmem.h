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

#endif
