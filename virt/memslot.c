// SPDX-License-Identifier: GPL-2.0
/*
 * Memory slots: guest-physical ranges backed by the VM creator's memory.
 *
 * Slots are checked here and only recorded; the shadow MMU resolves guest
 * frames to host pages through them when the guest touches memory.
 */
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include "hyvm.h"

/**
 * hyvm_memslot_check - validate a new slot against the existing ones
 * @req: the request from userspace (size != 0)
 * @slots: the VM's slots, indexed by slot id (NULL where free)
 * @nslots: number of entries in @slots
 *
 * Pure: looks at nothing but its arguments, so that KUnit can test every
 * rule.  The userspace range itself is checked by hyvm_set_memory_slot().
 *
 * Return: 0; -EINVAL for unknown flags, a bad slot id, unaligned or
 * oversize ranges and ranges that wrap; -EEXIST when the slot id is taken or
 * the guest-physical range overlaps another slot.
 */
int hyvm_memslot_check(const struct hyvm_memory_slot *req,
		       struct hyvm_memslot *const *slots, unsigned int nslots)
{
	u64 start, end;
	unsigned int i;

	if (req->flags & ~HYVM_MEM_READONLY)
		return -EINVAL;
	if (req->slot >= nslots)
		return -EINVAL;
	if (!PAGE_ALIGNED(req->guest_phys) || !PAGE_ALIGNED(req->size) ||
	    !PAGE_ALIGNED(req->userspace_addr))
		return -EINVAL;
	if (!req->size || req->size > HYVM_MAX_GPA ||
	    req->guest_phys > HYVM_MAX_GPA - req->size)
		return -EINVAL;
	if (req->userspace_addr + req->size < req->userspace_addr)
		return -EINVAL;
	if (slots[req->slot])
		return -EEXIST;

	start = req->guest_phys >> PAGE_SHIFT;
	end = start + (req->size >> PAGE_SHIFT);
	for (i = 0; i < nslots; i++) {
		const struct hyvm_memslot *s = slots[i];

		if (s && start < s->base_gfn + s->npages && s->base_gfn < end)
			return -EEXIST;
	}
	return 0;
}
HYVM_EXPORT_FOR_TESTS(hyvm_memslot_check);

/*
 * The range must be ordinary memory of the caller, mapped now, without
 * holes: I/O and PFN mappings have no struct page behind them.
 */
static int hyvm_check_user_range(unsigned long start, unsigned long size)
{
	struct mm_struct *mm = current->mm;
	unsigned long addr = start, end = start + size;
	struct vm_area_struct *vma;
	int ret = 0;

	if (!access_ok((void __user *)start, size))
		return -EFAULT;
	mmap_read_lock(mm);
	while (addr < end) {
		vma = vma_lookup(mm, addr);
		if (!vma || (vma->vm_flags & (VM_IO | VM_PFNMAP))) {
			ret = -EFAULT;
			break;
		}
		addr = vma->vm_end;
	}
	mmap_read_unlock(mm);
	return ret;
}

/**
 * hyvm_set_memory_slot - HYVM_SET_MEMORY_SLOT
 * @vm: the VM
 * @req: the request; size 0 deletes the slot
 *
 * Return: 0, an error of hyvm_memslot_check(), -EFAULT when the userspace
 * range is not mapped ordinary memory, -ENOENT when deleting a free slot.
 */
int hyvm_set_memory_slot(struct hyvm_vm *vm, const struct hyvm_memory_slot *req)
{
	struct hyvm_memslot *s;
	int ret;

	mutex_lock(&vm->lock);
	if (!req->size) {
		ret = -EINVAL;
		if (req->slot < HYVM_MAX_SLOTS && !req->flags) {
			s = vm->slots[req->slot];
			ret = -ENOENT;
			if (s) {
				WRITE_ONCE(vm->slots[req->slot], NULL);
				vm->nr_slots--;
				/* vCPUs look slots up without the lock. */
				synchronize_rcu();
				if (vm->ops->slot_removed)
					vm->ops->slot_removed(vm, s);
				kfree(s);
				ret = 0;
			}
		}
		goto out;
	}
	ret = hyvm_memslot_check(req, vm->slots, HYVM_MAX_SLOTS);
	if (ret)
		goto out;
	ret = hyvm_check_user_range(req->userspace_addr, req->size);
	if (ret)
		goto out;
	s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	if (!s) {
		ret = -ENOMEM;
		goto out;
	}
	s->id = req->slot;
	s->flags = req->flags;
	s->base_gfn = req->guest_phys >> PAGE_SHIFT;
	s->npages = req->size >> PAGE_SHIFT;
	s->hva = req->userspace_addr;
	/* Published whole: vCPUs look slots up without the lock. */
	smp_store_release(&vm->slots[req->slot], s);
	vm->nr_slots++;
out:
	if (ret)
		vm->stat.slot_rejects++;
	else
		vm->stat.slot_updates++;
	mutex_unlock(&vm->lock);
	return ret;
}

void hyvm_free_memslots(struct hyvm_vm *vm)
{
	unsigned int i;

	for (i = 0; i < HYVM_MAX_SLOTS; i++) {
		kfree(vm->slots[i]);
		vm->slots[i] = NULL;
	}
	vm->nr_slots = 0;
}
