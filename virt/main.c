// SPDX-License-Identifier: GPL-2.0
/*
 * hyvm: module init and exit, /dev/hyvm and its system ioctls, module
 * parameters.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <linux/uaccess.h>
#include <linux/device.h>
#include "hyvm.h"

#define CREATE_TRACE_POINTS
#include "hyvm_trace.h"

atomic_t hyvm_live_vms = ATOMIC_INIT(0);
atomic_t hyvm_live_vcpus = ATOMIC_INIT(0);

static const struct hyvm_engine_ops *const hyvm_engines[HYVM_ENGINE_MAX] = {
	[HYVM_ENGINE_BT]  = IS_ENABLED(CONFIG_HYVM_BT) ? &hyvm_bt_ops : NULL,
	[HYVM_ENGINE_VMX] = IS_ENABLED(CONFIG_HYVM_VMX) ? &hyvm_vmx_ops : NULL,
	[HYVM_ENGINE_SVM] = IS_ENABLED(CONFIG_HYVM_SVM) ? &hyvm_svm_ops : NULL,
};

/**
 * hyvm_engine_ops - the ops table of an engine id, or NULL if not built
 * @engine: an enum hyvm_engine_id other than HYVM_ENGINE_AUTO
 */
const struct hyvm_engine_ops *hyvm_engine_ops(u32 engine)
{
	if (engine >= HYVM_ENGINE_MAX)
		return NULL;
	return hyvm_engines[engine];
}

static int hyvm_get_caps(struct hyvm_caps __user *argp)
{
	struct hyvm_caps caps = {
		.api_version = HYVM_API_VERSION,
		.max_vcpus = HYVM_MAX_VCPUS,
		.max_slots = HYVM_MAX_SLOTS,
		.vcpu_mmap_size = PAGE_SIZE,
		.default_engine = hyvm_resolve_engine(HYVM_ENGINE_AUTO),
	};
	u32 e;

	if (IS_ENABLED(CONFIG_DEBUG_FS))
		caps.flags |= HYVM_CAP_DEBUGFS;
	if (IS_ENABLED(CONFIG_TRACEPOINTS))
		caps.flags |= HYVM_CAP_TRACEPOINTS;
	hyvm_probe_engines();
	for (e = HYVM_ENGINE_BT; e < HYVM_ENGINE_MAX; e++) {
		if (hyvm_engines_info[e].available)
			caps.engines_available |= BIT(e);
		if (hyvm_engines_info[e].runnable)
			caps.engines_runnable |= BIT(e);
	}
	return copy_to_user(argp, &caps, sizeof(caps)) ? -EFAULT : 0;
}

static int hyvm_get_engine_info(struct hyvm_engine_info __user *argp)
{
	struct hyvm_engine_info info;
	u32 engine;

	if (get_user(engine, &argp->engine))
		return -EFAULT;
	if (engine >= HYVM_ENGINE_MAX)
		return -EINVAL;
	engine = hyvm_resolve_engine(engine);
	hyvm_probe_engines();
	info = hyvm_engines_info[engine];
	return copy_to_user(argp, &info, sizeof(info)) ? -EFAULT : 0;
}

static long hyvm_dev_ioctl(struct file *filp, unsigned int cmd,
			   unsigned long arg)
{
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case HYVM_GET_API_VERSION:
		return arg ? -EINVAL : HYVM_API_VERSION;
	case HYVM_GET_CAPS:
		return hyvm_get_caps(argp);
	case HYVM_GET_ENGINE_INFO:
		return hyvm_get_engine_info(argp);
	case HYVM_CREATE_VM:
		if (arg >= HYVM_ENGINE_MAX)
			return -EINVAL;
		return hyvm_create_vm(arg);
	case HYVM_GET_VCPU_MMAP_SIZE:
		return arg ? -EINVAL : PAGE_SIZE;
	default:
		return -ENOTTY;
	}
}

static const struct file_operations hyvm_dev_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= hyvm_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static ssize_t api_version_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", HYVM_API_VERSION);
}
static DEVICE_ATTR_RO(api_version);

/* One line per engine: "<name> <available|unavailable> <runnable|...>: why" */
static ssize_t engines_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	int len = 0;
	u32 e;

	hyvm_probe_engines();
	for (e = HYVM_ENGINE_BT; e < HYVM_ENGINE_MAX; e++) {
		const struct hyvm_engine_info *i = &hyvm_engines_info[e];

		len += sysfs_emit_at(buf, len, "%s %s %s: %s\n", i->name,
				     i->available ? "available" : "unavailable",
				     i->runnable ? "runnable" : "not-runnable",
				     i->reason);
	}
	return len;
}
static DEVICE_ATTR_RO(engines);

static struct attribute *hyvm_dev_attrs[] = {
	&dev_attr_api_version.attr,
	&dev_attr_engines.attr,
	NULL,
};
ATTRIBUTE_GROUPS(hyvm_dev);

static struct miscdevice hyvm_dev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "hyvm",
	.fops	= &hyvm_dev_fops,
	.groups	= hyvm_dev_groups,
	.mode	= 0660,
};

static int __init hyvm_init(void)
{
	int ret;

	hyvm_probe_engines();
	hyvm_debugfs_init();
	ret = misc_register(&hyvm_dev);
	if (ret) {
		pr_err("cannot register /dev/hyvm: %d\n", ret);
		hyvm_debugfs_exit();
		return ret;
	}
	pr_info("API %d, engines: bt %s, vmx %s, svm %s\n", HYVM_API_VERSION,
		hyvm_engines_info[HYVM_ENGINE_BT].available ? "yes" : "no",
		hyvm_engines_info[HYVM_ENGINE_VMX].available ? "yes" : "no",
		hyvm_engines_info[HYVM_ENGINE_SVM].available ? "yes" : "no");
	return 0;
}

static void __exit hyvm_exit(void)
{
	misc_deregister(&hyvm_dev);
	hyvm_debugfs_exit();
	/*
	 * Every VM and vCPU file holds a module reference, so nothing can be
	 * live here; if something is, it leaked.
	 */
	WARN(atomic_read(&hyvm_live_vms) || atomic_read(&hyvm_live_vcpus),
	     "hyvm: %d VMs and %d vCPUs leaked\n",
	     atomic_read(&hyvm_live_vms), atomic_read(&hyvm_live_vcpus));
}

module_init(hyvm_init);
module_exit(hyvm_exit);
MODULE_DESCRIPTION("hyvm: binary-translation and hardware-assisted hypervisor");
MODULE_LICENSE("GPL");
