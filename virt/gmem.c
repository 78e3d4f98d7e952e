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
#include <linux/uaccess.h>
#include "hyvm.h"
#include "gmem.h"

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
