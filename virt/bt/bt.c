// SPDX-License-Identifier: GPL-2.0
/*
 * The bt engine: the software VMM.  It needs no VT-x or AMD-V.  Guests run
 * in its interpreter (interp.c) today; the translator and the world switch
 * that run guest code at native speed come on top of it, and the
 * interpreter stays as their fallback.
 */
#include <linux/seq_file.h>
#include <linux/slab.h>
#include "bt.h"
#include "../../arch-x86/cpu_probe.h"

static int bt_vcpu_create(struct hyvm_vcpu *vcpu)
{
	struct hyvm_bt_vcpu *bt = kzalloc(sizeof(*bt), GFP_KERNEL_ACCOUNT);

	if (!bt)
		return -ENOMEM;
	hyvm_emu_ctx_init(&bt->emu, vcpu);
	vcpu->engine_priv = bt;
	return 0;
}

static void bt_vcpu_free(struct hyvm_vcpu *vcpu)
{
	kfree(vcpu->engine_priv);
	vcpu->engine_priv = NULL;
}

static int bt_vcpu_run(struct hyvm_vcpu *vcpu)
{
	struct hyvm_bt_vcpu *bt = vcpu->engine_priv;

	return hyvm_interp_run(vcpu, &bt->emu, &bt->stat, NULL);
}

static void bt_vcpu_stats_show(struct hyvm_vcpu *vcpu, struct seq_file *m)
{
	const struct hyvm_bt_vcpu *bt = vcpu->engine_priv;

	seq_printf(m, "bt_insns %llu\n", READ_ONCE(bt->stat.insns));
	seq_printf(m, "bt_exceptions %llu\n", READ_ONCE(bt->stat.exceptions));
	seq_printf(m, "bt_io_exits %llu\n", READ_ONCE(bt->stat.io_exits));
	seq_printf(m, "bt_mmio_exits %llu\n", READ_ONCE(bt->stat.mmio_exits));
}

const struct hyvm_engine_ops hyvm_bt_ops = {
	.id		= HYVM_ENGINE_BT,
	.name		= "bt",
	.probe		= hyvm_probe_bt,
	.vcpu_create	= bt_vcpu_create,
	.vcpu_free	= bt_vcpu_free,
	.vcpu_run	= bt_vcpu_run,
	.vcpu_stats_show = bt_vcpu_stats_show,
};
