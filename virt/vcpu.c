// SPDX-License-Identifier: GPL-2.0
/*
 * vCPUs: creation, the vCPU fd (registers, HYVM_RUN) and its mmap()ed run
 * page.
 *
 * A vCPU lives as long as its VM: the vCPU fd holds a VM reference and the
 * VM frees its vCPUs when it goes.  A mapping of the run page holds the
 * vCPU file, hence the VM, so the page cannot be freed under it.
 */
#include <linux/anon_inodes.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/processor-flags.h>
#include <asm/msr-index.h>
#include "hyvm.h"
#include "hyvm_trace.h"

/* Bits of CR0, CR4 and EFER that a guest may set; the rest are reserved. */
#define HYVM_CR0_VALID	(X86_CR0_PE | X86_CR0_MP | X86_CR0_EM | X86_CR0_TS | \
			 X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | X86_CR0_AM | \
			 X86_CR0_NW | X86_CR0_CD | X86_CR0_PG)
#define HYVM_CR4_VALID	(X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | X86_CR4_DE | \
			 X86_CR4_PSE | X86_CR4_PAE | X86_CR4_MCE | X86_CR4_PGE | \
			 X86_CR4_PCE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT | \
			 X86_CR4_UMIP | X86_CR4_LA57 | X86_CR4_FSGSBASE | \
			 X86_CR4_PCIDE | X86_CR4_OSXSAVE | X86_CR4_SMEP | \
			 X86_CR4_SMAP | X86_CR4_PKE)
#define HYVM_EFER_VALID	(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX | EFER_FFXSR)

/**
 * hyvm_check_sregs - reject system-register states no x86 CPU can be in
 * @s: the state from HYVM_SET_SREGS
 *
 * The engines may assume what is checked here.  Pure, for KUnit.
 *
 * Return: 0 or -EINVAL.
 */
int hyvm_check_sregs(const struct hyvm_sregs *s)
{
	bool lma = s->efer & EFER_LMA;

	if (s->cr0 & ~(u64)HYVM_CR0_VALID || s->cr4 & ~(u64)HYVM_CR4_VALID ||
	    s->efer & ~(u64)HYVM_EFER_VALID)
		return -EINVAL;
	if ((s->cr0 & X86_CR0_PG) && !(s->cr0 & X86_CR0_PE))
		return -EINVAL;
	if ((s->cr0 & X86_CR0_NW) && !(s->cr0 & X86_CR0_CD))
		return -EINVAL;
	if (s->cr3 >> 52 || s->cr8 > 15)
		return -EINVAL;
	/* Long mode is active exactly when enabled with paging on. */
	if (lma != ((s->efer & EFER_LME) && (s->cr0 & X86_CR0_PG)))
		return -EINVAL;
	if (lma && !(s->cr4 & X86_CR4_PAE))
		return -EINVAL;
	if (!lma && (s->cr4 & (X86_CR4_PCIDE | X86_CR4_LA57)))
		return -EINVAL;
	if (lma && s->cs.l && s->cs.db)
		return -EINVAL;
	return 0;
}
HYVM_EXPORT_FOR_TESTS(hyvm_check_sregs);

static void hyvm_reset_seg(struct hyvm_segment *seg, u8 type)
{
	*seg = (struct hyvm_segment){
		.limit = 0xffff, .type = type, .present = 1, .s = 1,
	};
}

/**
 * hyvm_vcpu_reset_state - the architectural state after RESET
 * @vcpu: the vCPU
 *
 * Real mode, executing from 0xfffffff0 (CS base 0xffff0000, IP 0xfff0),
 * as every x86 CPU starts.  Loaders in userspace set their own state.
 */
void hyvm_vcpu_reset_state(struct hyvm_vcpu *vcpu)
{
	struct hyvm_sregs *s = &vcpu->sregs;

	memset(&vcpu->regs, 0, sizeof(vcpu->regs));
	memset(s, 0, sizeof(*s));
	vcpu->regs.rip = 0xfff0;
	vcpu->regs.rflags = X86_EFLAGS_FIXED;
	vcpu->regs.rdx = 0x600;		/* family 6: what RESET leaves in EDX */
	hyvm_reset_seg(&s->cs, 0xb);
	s->cs.selector = 0xf000;
	s->cs.base = 0xffff0000;
	hyvm_reset_seg(&s->ds, 0x3);
	hyvm_reset_seg(&s->es, 0x3);
	hyvm_reset_seg(&s->fs, 0x3);
	hyvm_reset_seg(&s->gs, 0x3);
	hyvm_reset_seg(&s->ss, 0x3);
	s->tr = (struct hyvm_segment){ .limit = 0xffff, .type = 0xb, .present = 1 };
	s->ldt = (struct hyvm_segment){ .limit = 0xffff, .type = 0x2, .present = 1 };
	s->gdt.limit = 0xffff;
	s->idt.limit = 0xffff;
	s->cr0 = X86_CR0_ET | X86_CR0_CD | X86_CR0_NW;
	s->apic_base = 0xfee00000 | MSR_IA32_APICBASE_ENABLE |
		       (vcpu->id ? 0 : MSR_IA32_APICBASE_BSP);
}

static int hyvm_vcpu_run(struct hyvm_vcpu *vcpu)
{
	const struct hyvm_engine_ops *ops = vcpu->vm->ops;
	struct hyvm_run *run = vcpu->run;
	int ret;

	vcpu->stat.runs++;
	trace_hyvm_run_enter(vcpu->vm->id, vcpu->id);
	run->exit_reason = HYVM_EXIT_NONE;
	if (READ_ONCE(run->immediate_exit) || signal_pending(current)) {
		run->exit_reason = HYVM_EXIT_INTR;
		vcpu->stat.signal_exits++;
		ret = -EINTR;
	} else if (!ops->vcpu_run) {
		ret = -EOPNOTSUPP;
	} else {
		ret = ops->vcpu_run(vcpu);
	}
	if (run->exit_reason < HYVM_EXIT_REASON_MAX)
		vcpu->stat.exits[run->exit_reason]++;
	if (run->exit_reason != HYVM_EXIT_NONE)
		run->exits++;
	trace_hyvm_run_exit(vcpu->vm->id, vcpu->id, run->exit_reason, ret);
	return ret;
}

static long hyvm_vcpu_ioctl(struct file *filp, unsigned int cmd,
			    unsigned long arg)
{
	struct hyvm_vcpu *vcpu = filp->private_data;
	void __user *argp = (void __user *)arg;
	struct hyvm_sregs sregs;
	struct hyvm_regs regs;
	long ret;

	if (vcpu->vm->mm != current->mm)
		return -EIO;
	/* Copy in before taking the lock: a fault must not stall the vCPU. */
	if (cmd == HYVM_SET_REGS && copy_from_user(&regs, argp, sizeof(regs)))
		return -EFAULT;
	if (cmd == HYVM_SET_SREGS) {
		if (copy_from_user(&sregs, argp, sizeof(sregs)))
			return -EFAULT;
		if (memchr_inv(sregs.reserved, 0, sizeof(sregs.reserved)))
			return -EINVAL;
		ret = hyvm_check_sregs(&sregs);
		if (ret)
			return ret;
	}

	if (mutex_lock_killable(&vcpu->lock))
		return -EINTR;
	switch (cmd) {
	case HYVM_RUN:
		ret = arg ? -EINVAL : hyvm_vcpu_run(vcpu);
		break;
	case HYVM_GET_REGS:
		ret = copy_to_user(argp, &vcpu->regs, sizeof(regs)) ? -EFAULT : 0;
		break;
	case HYVM_SET_REGS:
		regs.rflags |= X86_EFLAGS_FIXED;
		vcpu->regs = regs;
		ret = 0;
		break;
	case HYVM_GET_SREGS:
		ret = copy_to_user(argp, &vcpu->sregs, sizeof(sregs)) ? -EFAULT : 0;
		break;
	case HYVM_SET_SREGS:
		vcpu->sregs = sregs;
		ret = 0;
		break;
	default:
		ret = -ENOTTY;
	}
	mutex_unlock(&vcpu->lock);
	return ret;
}

static vm_fault_t hyvm_run_fault(struct vm_fault *vmf)
{
	struct hyvm_vcpu *vcpu = vmf->vma->vm_file->private_data;

	if (vmf->pgoff != 0)
		return VM_FAULT_SIGBUS;
	vmf->page = virt_to_page(vcpu->run);
	get_page(vmf->page);
	return 0;
}

static const struct vm_operations_struct hyvm_run_vm_ops = {
	.fault = hyvm_run_fault,
};

static int hyvm_vcpu_mmap(struct file *filp, struct vm_area_struct *vma)
{
	if (vma->vm_pgoff != 0 || vma_pages(vma) != 1)
		return -EINVAL;
	vma->vm_ops = &hyvm_run_vm_ops;
	return 0;
}

static int hyvm_vcpu_release(struct inode *inode, struct file *filp)
{
	struct hyvm_vcpu *vcpu = filp->private_data;

	hyvm_vm_put(vcpu->vm);
	return 0;
}

static const struct file_operations hyvm_vcpu_fops = {
	.owner		= THIS_MODULE,
	.release	= hyvm_vcpu_release,
	.unlocked_ioctl	= hyvm_vcpu_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= hyvm_vcpu_mmap,
	.llseek		= noop_llseek,
};

/**
 * hyvm_vcpu_destroy - free a vCPU; called only when its VM goes away
 * @vcpu: the vCPU
 */
void hyvm_vcpu_destroy(struct hyvm_vcpu *vcpu)
{
	hyvm_debugfs_remove(&vcpu->debugfs);
	if (vcpu->vm->ops->vcpu_free)
		vcpu->vm->ops->vcpu_free(vcpu);
	free_page((unsigned long)vcpu->run);
	kfree(vcpu);
	atomic_dec(&hyvm_live_vcpus);
}

/**
 * hyvm_create_vcpu - HYVM_CREATE_VCPU: a new vCPU and its fd
 * @vm: the VM
 * @id: the vCPU id, below HYVM_MAX_VCPUS
 *
 * Return: the fd, -EINVAL for a bad id, -EEXIST for an id in use, -ENOMEM.
 */
int hyvm_create_vcpu(struct hyvm_vm *vm, unsigned long id)
{
	struct hyvm_vcpu *vcpu;
	int ret;

	if (id >= HYVM_MAX_VCPUS)
		return -EINVAL;
	vcpu = kzalloc(sizeof(*vcpu), GFP_KERNEL_ACCOUNT);
	if (!vcpu)
		return -ENOMEM;
	vcpu->run = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!vcpu->run) {
		kfree(vcpu);
		return -ENOMEM;
	}
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->guest_cpu = -1;
	mutex_init(&vcpu->lock);
	hyvm_vcpu_reset_state(vcpu);
	atomic_inc(&hyvm_live_vcpus);

	mutex_lock(&vm->lock);
	if (vm->vcpus[id]) {
		ret = -EEXIST;
		goto err_unlock;
	}
	if (vm->ops->vcpu_create) {
		ret = vm->ops->vcpu_create(vcpu);
		if (ret)
			goto err_unlock;
	}
	/*
	 * The fd's reference on the VM is taken before the fd exists: once
	 * installed, userspace can close it at any moment.
	 */
	hyvm_vm_get(vm);
	ret = anon_inode_getfd("hyvm-vcpu", &hyvm_vcpu_fops, vcpu,
			       O_RDWR | O_CLOEXEC);
	if (ret < 0) {
		hyvm_vm_put(vm);	/* not the last reference: ours stays */
		if (vm->ops->vcpu_free)
			vm->ops->vcpu_free(vcpu);
		goto err_unlock;
	}
	/* Published whole: hyvm_tlb_flush_all() reads it without the lock. */
	smp_store_release(&vm->vcpus[id], vcpu);
	vm->nr_vcpus++;
	vm->stat.vcpus_created++;
	hyvm_debugfs_vcpu_add(vcpu);
	mutex_unlock(&vm->lock);
	return ret;

err_unlock:
	mutex_unlock(&vm->lock);
	free_page((unsigned long)vcpu->run);
	kfree(vcpu);
	atomic_dec(&hyvm_live_vcpus);
	return ret;
}
