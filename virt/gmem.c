// SPDX-License-Identifier: GPL-2.0
/*
 * Guest physical memory, reached through the memory slots.
 *
 * These run in the vCPU thread, whose mm is the VM creator's (every ioctl
 * checks that), so a guest frame is just user memory: copy_{from,to}_user
 * fault it in, and the host mm stays in charge of the pages.
 */
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>
#include "hyvm.h"
#include "gmem.h"
#include "shadow/walk.h"

/**
 * hyvm_gpa_slot - the slot that backs a guest physical address
 * @vm: the VM
 * @gpa: the address
 * @out: receives a copy of the slot
 *
 * Lock-free: slots are published with a release store and freed only after
 * an RCU grace period (memslot.c), so a vCPU never waits for the VM lock on
 * a memory access and never sees a freed slot.
 *
 * Return: true if a slot backs @gpa.
 */
bool hyvm_gpa_slot(struct hyvm_vm *vm, u64 gpa, struct hyvm_memslot *out)
{
	u64 gfn = gpa >> PAGE_SHIFT;
	bool found = false;
	unsigned int i;

	rcu_read_lock();
	for (i = 0; i < HYVM_MAX_SLOTS; i++) {
		/* Pairs with the release in hyvm_set_memory_slot(). */
		struct hyvm_memslot *s = smp_load_acquire(&vm->slots[i]);

		if (s && gfn >= s->base_gfn && gfn - s->base_gfn < s->npages) {
			*out = *s;
			found = true;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}
HYVM_EXPORT_FOR_TESTS(hyvm_gpa_slot);

/*
 * The user address of [gpa, gpa + *len), shortened to what one slot backs.
 * Returns 0 or -ENOENT (no slot: MMIO) or -EROFS (write to a read-only slot).
 */
static int hyvm_gpa_hva(struct hyvm_vm *vm, u64 gpa, unsigned int *len,
			bool write, void __user **hva)
{
	struct hyvm_memslot s;
	u64 off, room;

	if (!hyvm_gpa_slot(vm, gpa, &s))
		return -ENOENT;
	if (write && (s.flags & HYVM_MEM_READONLY))
		return -EROFS;
	off = gpa - (s.base_gfn << PAGE_SHIFT);
	room = (s.npages << PAGE_SHIFT) - off;
	if (*len > room)
		*len = room;
	*hva = (void __user *)(s.hva + off);
	return 0;
}

/**
 * hyvm_gmem_read - copy guest physical memory
 * @vm: the VM
 * @gpa: first byte
 * @buf: destination
 * @len: bytes
 *
 * Return: 0; -ENOENT if some byte is not in a slot; -EFAULT if the slot's
 * user memory is gone (userspace unmapped it).
 */
int hyvm_gmem_read(struct hyvm_vm *vm, u64 gpa, void *buf, unsigned int len)
{
	while (len) {
		unsigned int n = len;
		void __user *hva;
		int ret = hyvm_gpa_hva(vm, gpa, &n, false, &hva);

		if (ret)
			return ret;
		if (copy_from_user(buf, hva, n))
			return -EFAULT;
		gpa += n;
		buf += n;
		len -= n;
	}
	return 0;
}

/**
 * hyvm_gmem_write - store to guest physical memory
 * @vm: the VM
 * @gpa: first byte
 * @buf: source
 * @len: bytes
 *
 * Return: 0, -ENOENT, -EROFS or -EFAULT as hyvm_gmem_read().  A write that
 * fails part-way has stored the bytes before the failing slot.
 */
int hyvm_gmem_write(struct hyvm_vm *vm, u64 gpa, const void *buf,
		    unsigned int len)
{
	while (len) {
		unsigned int n = len;
		void __user *hva;
		int ret = hyvm_gpa_hva(vm, gpa, &n, true, &hva);

		if (ret)
			return ret;
		if (copy_to_user(hva, buf, n))
			return -EFAULT;
		gpa += n;
		buf += n;
		len -= n;
	}
	return 0;
}

/**
 * hyvm_gmem_cmpxchg - atomic compare-and-exchange on guest memory
 * @vm: the VM
 * @gpa: naturally aligned address of a 4- or 8-byte value
 * @old: expected value
 * @new: replacement
 * @size: 4 or 8
 *
 * For accessed/dirty updates and locked instructions, which other vCPUs
 * (and userspace) must see as atomic.
 *
 * Return: 0 if replaced, -EAGAIN if the value was not @old, -EINVAL for a
 * bad size or alignment, else as hyvm_gmem_write().
 */
int hyvm_gmem_cmpxchg(struct hyvm_vm *vm, u64 gpa, u64 old, u64 new,
		      unsigned int size)
{
	unsigned int n = size;
	void __user *hva;
	int ret;

	if ((size != 4 && size != 8) || (gpa & (size - 1)))
		return -EINVAL;
	ret = hyvm_gpa_hva(vm, gpa, &n, true, &hva);
	if (ret)
		return ret;
	if (!user_access_begin(hva, size))
		return -EFAULT;
	if (size == 4) {
		u32 o = old;

		unsafe_try_cmpxchg_user((u32 __user *)hva, &o, (u32)new, efault);
		ret = o == (u32)old ? 0 : -EAGAIN;
	} else {
		u64 o = old;

		unsafe_try_cmpxchg_user((u64 __user *)hva, &o, new, efault);
		ret = o == old ? 0 : -EAGAIN;
	}
	user_access_end();
	return ret;
efault:
	user_access_end();
	return -EFAULT;
}

/**
 * hyvm_gmem_pin - pin one page of the VM creator's memory
 * @mm: the creator's mm, which must be current->mm
 * @hva: the page's user address
 * @writable: pin for writing (the guest may write it)
 * @page: receives the page
 *
 * FOLL_LONGTERM: the host can neither migrate nor reclaim the page while
 * a shadow or nested table maps it.  The page is charged to @mm's
 * pinned_vm against RLIMIT_MEMLOCK, unless the caller has CAP_IPC_LOCK.
 *
 * Return: 0, -ENOMEM over the limit, or the error of pinning (-EFAULT
 * when userspace unmapped the memory).
 */
int hyvm_gmem_pin(struct mm_struct *mm, unsigned long hva, bool writable,
		  struct page **page)
{
	unsigned long limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	int ret;

	if (atomic64_add_return(1, &mm->pinned_vm) > limit &&
	    !capable(CAP_IPC_LOCK)) {
		atomic64_dec(&mm->pinned_vm);
		return -ENOMEM;
	}
	ret = pin_user_pages_fast(hva, 1,
				  FOLL_LONGTERM | (writable ? FOLL_WRITE : 0),
				  page);
	if (ret == 1)
		return 0;
	atomic64_dec(&mm->pinned_vm);
	return ret < 0 ? ret : -EFAULT;
}

/**
 * hyvm_gmem_unpin - undo hyvm_gmem_pin()
 * @mm: the mm to uncharge now, or NULL when the caller uncharges a whole
 *	count itself
 * @page: the page
 * @dirty: the guest may have written it: tell the host so
 */
void hyvm_gmem_unpin(struct mm_struct *mm, struct page *page, bool dirty)
{
	unpin_user_pages_dirty_lock(&page, 1, dirty);
	if (mm)
		atomic64_dec(&mm->pinned_vm);
}

static int gm_read(void *opaque, u64 gpa, void *buf, unsigned int len)
{
	return hyvm_gmem_read(opaque, gpa, buf, len);
}

static int gm_write(void *opaque, u64 gpa, const void *buf, unsigned int len)
{
	return hyvm_gmem_write(opaque, gpa, buf, len);
}

static int gm_cmpxchg(void *opaque, u64 gpa, u64 old, u64 new,
		      unsigned int size)
{
	return hyvm_gmem_cmpxchg(opaque, gpa, old, new, size);
}

/**
 * hyvm_gmem_ops_init - a VM's guest memory for the portable page walker
 * @ops: filled in
 * @vm: the VM
 */
void hyvm_gmem_ops_init(struct hyvm_gmem_ops *ops, struct hyvm_vm *vm)
{
	ops->read = gm_read;
	ops->write = gm_write;
	ops->cmpxchg_gpa = gm_cmpxchg;
	ops->opaque = vm;
}
