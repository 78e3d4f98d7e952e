// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs: /sys/kernel/debug/hyvm/
 *   live                    VMs and vCPUs that exist now (leak check)
 *   <pid>-<vmid>/engine     the VM's engine
 *   <pid>-<vmid>/stats      per-VM counters, "name value" per line
 *   <pid>-<vmid>/vcpu<N>/stats
 *
 * debugfs removal waits for readers that are inside a show function, so the
 * VM and vCPU pointers the files use stay valid while they run.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include "hyvm.h"
#include "shadow_host.h"

static struct dentry *hyvm_debugfs_root;

static int live_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "vms %d\nvcpus %d\n", atomic_read(&hyvm_live_vms),
		   atomic_read(&hyvm_live_vcpus));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(live);

static int shadow_live_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "tables %ld\npinned %ld\n",
		   atomic_long_read(&hyvm_shadow_live_tables),
		   atomic_long_read(&hyvm_shadow_live_pins));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(shadow_live);

static int engine_show(struct seq_file *m, void *unused)
{
	struct hyvm_vm *vm = m->private;

	seq_printf(m, "%s\n", vm->ops->name);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(engine);

static int vm_stats_show(struct seq_file *m, void *unused)
{
	struct hyvm_vm *vm = m->private;

	seq_printf(m, "vcpus %u\n", READ_ONCE(vm->nr_vcpus));
	seq_printf(m, "slots %u\n", READ_ONCE(vm->nr_slots));
	seq_printf(m, "vcpus_created %llu\n", READ_ONCE(vm->stat.vcpus_created));
	seq_printf(m, "slot_updates %llu\n", READ_ONCE(vm->stat.slot_updates));
	seq_printf(m, "slot_rejects %llu\n", READ_ONCE(vm->stat.slot_rejects));
	hyvm_shost_stats_show(vm, m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vm_stats);

static int vcpu_stats_show(struct seq_file *m, void *unused)
{
	struct hyvm_vcpu *vcpu = m->private;
	unsigned int i;

	seq_printf(m, "runs %llu\n", READ_ONCE(vcpu->stat.runs));
	seq_printf(m, "signal_exits %llu\n", READ_ONCE(vcpu->stat.signal_exits));
	for (i = 1; i < HYVM_EXIT_REASON_MAX; i++)
		seq_printf(m, "exit_%s %llu\n", hyvm_exit_reason_names[i],
			   READ_ONCE(vcpu->stat.exits[i]));
	for (i = 0; i < HYVM_HWX_MAX; i++)
		seq_printf(m, "hwexit_%s %llu\n", hyvm_hw_exit_names[i],
			   READ_ONCE(vcpu->stat.hw_exits[i]));
	if (vcpu->vm->ops->vcpu_stats_show)
		vcpu->vm->ops->vcpu_stats_show(vcpu, m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vcpu_stats);

void hyvm_debugfs_init(void)
{
	hyvm_debugfs_root = debugfs_create_dir("hyvm", NULL);
	debugfs_create_file("live", 0444, hyvm_debugfs_root, NULL, &live_fops);
	debugfs_create_file("shadow_live", 0444, hyvm_debugfs_root, NULL,
			    &shadow_live_fops);
}

void hyvm_debugfs_exit(void)
{
	debugfs_remove(hyvm_debugfs_root);
	hyvm_debugfs_root = NULL;
}

void hyvm_debugfs_vm_add(struct hyvm_vm *vm)
{
	char name[32];

	snprintf(name, sizeof(name), "%d-%u", vm->pid, vm->id);
	vm->debugfs = debugfs_create_dir(name, hyvm_debugfs_root);
	debugfs_create_file("engine", 0444, vm->debugfs, vm, &engine_fops);
	debugfs_create_file("stats", 0444, vm->debugfs, vm, &vm_stats_fops);
}

void hyvm_debugfs_vcpu_add(struct hyvm_vcpu *vcpu)
{
	char name[16];

	snprintf(name, sizeof(name), "vcpu%u", vcpu->id);
	vcpu->debugfs = debugfs_create_dir(name, vcpu->vm->debugfs);
	debugfs_create_file("stats", 0444, vcpu->debugfs, vcpu,
			    &vcpu_stats_fops);
}

/* Remove a directory and everything below it; safe on error pointers. */
void hyvm_debugfs_remove(struct dentry **d)
{
	debugfs_remove(*d);
	*d = NULL;
}
