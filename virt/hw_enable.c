// SPDX-License-Identifier: GPL-2.0
/*
 * Per-CPU on/off of SVM or VMX, reference counted by VMs.
 *
 * Like KVM, hyvm holds the hardware only while it has VMs of that engine,
 * so that another hypervisor can take turns with it.  If another one holds
 * it on any CPU when the first VM is created, hyvm backs out everywhere and
 * refuses the VM with -EBUSY.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/smp.h>
#include "hw_enable.h"

static void hw_enable_ipi(void *info)
{
	struct hyvm_hw_enable *hw = info;

	if (hw->cpu_enable())
		atomic_inc(&hw->busy_cpus);
}

static void hw_disable_ipi(void *info)
{
	struct hyvm_hw_enable *hw = info;

	hw->cpu_disable();
}

/**
 * hyvm_hw_get - a VM of this engine is being created
 * @hw: the engine's on/off
 *
 * Return: 0; -EBUSY when another hypervisor holds the hardware on some CPU;
 * the error of @hw->setup.
 */
int hyvm_hw_get(struct hyvm_hw_enable *hw)
{
	int ret = 0;

	mutex_lock(&hw->lock);
	if (hw->users++)
		goto out;
	ret = hw->setup();
	if (ret)
		goto err;
	atomic_set(&hw->busy_cpus, 0);
	cpus_read_lock();
	on_each_cpu(hw_enable_ipi, hw, 1);
	if (atomic_read(&hw->busy_cpus)) {
		on_each_cpu(hw_disable_ipi, hw, 1);
		cpus_read_unlock();
		pr_warn("another hypervisor has %s on %d CPUs: %s VMs are refused until it lets go\n",
			hw->busy_reason, atomic_read(&hw->busy_cpus), hw->name);
		ret = -EBUSY;
		goto err;
	}
	cpus_read_unlock();
	goto out;
err:
	hw->teardown();
	hw->users--;
out:
	mutex_unlock(&hw->lock);
	return ret;
}

/**
 * hyvm_hw_put - a VM of this engine is gone (its hardware state cleared)
 * @hw: the engine's on/off
 */
void hyvm_hw_put(struct hyvm_hw_enable *hw)
{
	mutex_lock(&hw->lock);
	if (!--hw->users) {
		cpus_read_lock();
		on_each_cpu(hw_disable_ipi, hw, 1);
		cpus_read_unlock();
		hw->teardown();
	}
	mutex_unlock(&hw->lock);
}
