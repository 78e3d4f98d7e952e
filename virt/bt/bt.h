/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HYVM_BT_BT_H
#define HYVM_BT_BT_H

#include "../hyvm.h"
#include "../interp.h"

/**
 * struct hyvm_bt_vcpu - the bt engine's per-vCPU state
 * @emu: the interpreter's emulation context (registers are loaded from
 *	and stored to struct hyvm_vcpu on every HYVM_RUN)
 * @stat: counters, shown in debugfs as bt_<name>
 */
struct hyvm_bt_vcpu {
	struct hyvm_emu_ctx emu;
	struct hyvm_interp_stat stat;
};

#endif
