/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hardware virtualization (SVM, VMX) switched on on every CPU while a
 * hardware engine has VMs, and off again after the last one.
 */
#ifndef HYVM_HW_ENABLE_H
#define HYVM_HW_ENABLE_H

#include <linux/atomic.h>
#include <linux/mutex.h>

/**
 * struct hyvm_hw_enable - one hardware engine's per-CPU on/off
 * @name: the engine, for messages
 * @busy_reason: what shows another hypervisor holds it, for messages
 * @setup: first VM: read the capabilities, allocate what every CPU needs
 * @cpu_enable: on each online CPU, interrupts off; non-zero when another
 *	hypervisor holds this CPU
 * @cpu_disable: on each online CPU, interrupts off; only where enabled
 * @teardown: last VM gone, or @setup or an enable failed: free it all
 * @lock: serializes the fields below
 * @users: VMs of this engine that exist
 * @busy_cpus: CPUs whose @cpu_enable failed, during a get
 */
struct hyvm_hw_enable {
	const char *name;
	const char *busy_reason;
	int (*setup)(void);
	int (*cpu_enable)(void);
	void (*cpu_disable)(void);
	void (*teardown)(void);
	struct mutex lock;
	unsigned int users;
	atomic_t busy_cpus;
};

#define HYVM_HW_ENABLE_LOCK(var)	__MUTEX_INITIALIZER(var.lock)

int hyvm_hw_get(struct hyvm_hw_enable *hw);
void hyvm_hw_put(struct hyvm_hw_enable *hw);

/* Whether hyvm itself holds the hardware (its probe then sees "in use"). */
static inline bool hyvm_hw_in_use(const struct hyvm_hw_enable *hw)
{
	return READ_ONCE(hw->users);
}

#endif
