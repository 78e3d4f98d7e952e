// SPDX-License-Identifier: GPL-2.0
/*
 * Engine selection: which engines this host can use, the default_engine
 * module parameter, and what HYVM_ENGINE_AUTO resolves to.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/string.h>
#include "hyvm.h"

struct hyvm_engine_info hyvm_engines_info[HYVM_ENGINE_MAX];
HYVM_EXPORT_FOR_TESTS(hyvm_engines_info);

static DEFINE_MUTEX(hyvm_probe_lock);
static int hyvm_default_engine = HYVM_ENGINE_AUTO;

static const char *const hyvm_engine_names[HYVM_ENGINE_MAX] = {
	[HYVM_ENGINE_AUTO] = "auto",
	[HYVM_ENGINE_BT]   = "bt",
	[HYVM_ENGINE_VMX]  = "vmx",
	[HYVM_ENGINE_SVM]  = "svm",
};

/**
 * hyvm_engine_name - the name of an engine id, as vmtool spells it
 * @engine: an enum hyvm_engine_id
 */
const char *hyvm_engine_name(u32 engine)
{
	return engine < HYVM_ENGINE_MAX ? hyvm_engine_names[engine] : "?";
}
HYVM_EXPORT_FOR_TESTS(hyvm_engine_name);

/**
 * hyvm_probe_engines - refresh hyvm_engines_info[] from the hardware
 *
 * Cheap enough to call on every query, and the answer can change at run
 * time: another hypervisor may take VMX or SVM after hyvm loaded.
 */
void hyvm_probe_engines(void)
{
	u32 e;

	mutex_lock(&hyvm_probe_lock);
	for (e = HYVM_ENGINE_BT; e < HYVM_ENGINE_MAX; e++) {
		const struct hyvm_engine_ops *ops = hyvm_engine_ops(e);
		struct hyvm_engine_info *info = &hyvm_engines_info[e];
		int err;

		memset(info, 0, sizeof(*info));
		info->engine = e;
		strscpy(info->name, hyvm_engine_names[e], sizeof(info->name));
		if (ops) {
			err = ops->probe(info);
		} else {
			err = -EOPNOTSUPP;
			strscpy(info->reason, "not built into this hyvm.ko",
				sizeof(info->reason));
		}
		info->error = err;
		info->available = !err;
		info->runnable = !err && ops->vcpu_run;
		if (!info->reason[0])
			strscpy(info->reason, err ? "unavailable" : "available",
				sizeof(info->reason));
	}
	mutex_unlock(&hyvm_probe_lock);
}
HYVM_EXPORT_FOR_TESTS(hyvm_probe_engines);

/**
 * hyvm_resolve_engine - the engine a VM created with @engine gets
 * @engine: an enum hyvm_engine_id, possibly HYVM_ENGINE_AUTO
 *
 * auto means the default_engine parameter when it names an engine, else the
 * first hardware engine that can run guests, else bt: the paper's hybrid
 * picks hardware where it exists and software where it does not.
 */
u32 hyvm_resolve_engine(u32 engine)
{
	static const u32 preference[] = {
		HYVM_ENGINE_VMX, HYVM_ENGINE_SVM, HYVM_ENGINE_BT,
	};
	unsigned int i;

	if (engine != HYVM_ENGINE_AUTO)
		return engine;
	engine = READ_ONCE(hyvm_default_engine);
	if (engine != HYVM_ENGINE_AUTO)
		return engine;
	for (i = 0; i < ARRAY_SIZE(preference); i++) {
		const struct hyvm_engine_info *info =
			&hyvm_engines_info[preference[i]];

		if (info->available && info->runnable)
			return preference[i];
	}
	return HYVM_ENGINE_BT;
}
HYVM_EXPORT_FOR_TESTS(hyvm_resolve_engine);

static int default_engine_set(const char *val, const struct kernel_param *kp)
{
	int e = sysfs_match_string(hyvm_engine_names, val);

	if (e < 0) {
		pr_err("hyvm: default_engine must be auto, bt, vmx or svm\n");
		return -EINVAL;
	}
	WRITE_ONCE(hyvm_default_engine, e);
	return 0;
}

static int default_engine_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n",
			  hyvm_engine_names[READ_ONCE(hyvm_default_engine)]);
}

static const struct kernel_param_ops default_engine_ops = {
	.set = default_engine_set,
	.get = default_engine_get,
};
module_param_cb(default_engine, &default_engine_ops, NULL, 0644);
MODULE_PARM_DESC(default_engine,
		 "engine for VMs created with engine auto: auto, bt, vmx or svm");
