// SPDX-License-Identifier: GPL-2.0
/*
 * VM lifecycle and the VM fd.
 *
 * A VM is reference counted: its fd holds one reference and every vCPU fd
 * holds one, so the fds can be closed in any order (or all at once by the
 * kernel when vmtool is killed) and the VM goes away with the last of them.
 * Each fd also pins the module, which is why rmmod fails with EBUSY while a
 * VM exists.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "hyvm.h"
#include "hyvm_trace.h"

static DEFINE_IDA(hyvm_vm_ida);

void hyvm_vm_get(struct hyvm_vm *vm)
{
	kref_get(&vm->ref);
}

static void hyvm_vm_release(struct kref *ref)
{
	struct hyvm_vm *vm = container_of(ref, struct hyvm_vm, ref);
	unsigned int i;

	trace_hyvm_vm_destroy(vm->id, vm->pid);
	/* vCPUs first: their debugfs directories live inside the VM's. */
	for (i = 0; i < HYVM_MAX_VCPUS; i++)
		if (vm->vcpus[i])
			hyvm_vcpu_destroy(vm->vcpus[i]);
	hyvm_debugfs_remove(&vm->debugfs);
	if (vm->ops->vm_destroy)
		vm->ops->vm_destroy(vm);
	hyvm_free_memslots(vm);
	mmdrop(vm->mm);
	ida_free(&hyvm_vm_ida, vm->id);
	kfree(vm);
	atomic_dec(&hyvm_live_vms);
}

void hyvm_vm_put(struct hyvm_vm *vm)
{
	kref_put(&vm->ref, hyvm_vm_release);
}

static int hyvm_get_vm_info(struct hyvm_vm *vm, struct hyvm_vm_info __user *u)
{
	struct hyvm_vm_info info = {
		.vm_id = vm->id,
		.engine = vm->ops->id,
	};

	mutex_lock(&vm->lock);
	info.nr_vcpus = vm->nr_vcpus;
	info.nr_slots = vm->nr_slots;
	mutex_unlock(&vm->lock);
	return copy_to_user(u, &info, sizeof(info)) ? -EFAULT : 0;
}

static long hyvm_vm_ioctl(struct file *filp, unsigned int cmd,
			  unsigned long arg)
{
	struct hyvm_vm *vm = filp->private_data;
	void __user *argp = (void __user *)arg;
	struct hyvm_memory_slot slot;

	/* Slots hold addresses of the creator's mm: nobody else may use it. */
	if (vm->mm != current->mm)
		return -EIO;

	switch (cmd) {
	case HYVM_SET_MEMORY_SLOT:
		if (copy_from_user(&slot, argp, sizeof(slot)))
			return -EFAULT;
		return hyvm_set_memory_slot(vm, &slot);
	case HYVM_CREATE_VCPU:
		return hyvm_create_vcpu(vm, arg);
	case HYVM_GET_VM_INFO:
		return hyvm_get_vm_info(vm, argp);
	default:
		return -ENOTTY;
	}
}

static int hyvm_vm_file_release(struct inode *inode, struct file *filp)
{
	hyvm_vm_put(filp->private_data);
	return 0;
}

static const struct file_operations hyvm_vm_fops = {
	.owner		= THIS_MODULE,
	.release	= hyvm_vm_file_release,
	.unlocked_ioctl	= hyvm_vm_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

/**
 * hyvm_create_vm - HYVM_CREATE_VM: a new VM and its fd
 * @engine: enum hyvm_engine_id requested by the caller
 *
 * Return: the new fd, or the engine's probe error when this host cannot use
 * the engine (ENODEV, EPERM, EBUSY, EOPNOTSUPP), or ENOMEM.
 */
int hyvm_create_vm(u32 engine)
{
	const struct hyvm_engine_ops *ops;
	struct hyvm_vm *vm;
	int ret, fd;

	hyvm_probe_engines();
	engine = hyvm_resolve_engine(engine);
	ops = hyvm_engine_ops(engine);
	if (!ops)
		return -EOPNOTSUPP;
	if (!hyvm_engines_info[engine].available)
		return hyvm_engines_info[engine].error;

	vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);
	if (!vm)
		return -ENOMEM;
	ret = ida_alloc(&hyvm_vm_ida, GFP_KERNEL);
	if (ret < 0)
		goto err_free;
	vm->id = ret;
	kref_init(&vm->ref);
	mutex_init(&vm->lock);
	vm->ops = ops;
	vm->pid = task_tgid_nr(current);
	vm->mm = current->mm;
	mmgrab(vm->mm);
	if (ops->vm_init) {
		ret = ops->vm_init(vm);
		if (ret)
			goto err_mm;
	}
	atomic_inc(&hyvm_live_vms);
	hyvm_debugfs_vm_add(vm);

	fd = anon_inode_getfd("hyvm-vm", &hyvm_vm_fops, vm, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		hyvm_vm_put(vm);
		return fd;
	}
	trace_hyvm_vm_create(vm->id, vm->pid, engine);
	return fd;

err_mm:
	mmdrop(vm->mm);
	ida_free(&hyvm_vm_ida, vm->id);
err_free:
	kfree(vm);
	return ret;
}
