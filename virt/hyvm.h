/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hyvm module core: VMs, vCPUs, memory slots and the engine ops table.
 */
#ifndef HYVM_HYVM_H
#define HYVM_HYVM_H

#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/sched.h>
#include <uapi/linux/hyvm.h>

#define HYVM_MAX_VCPUS		64
#define HYVM_MAX_SLOTS		32
/* Guest-physical addresses above 2^52 do not exist on x86. */
#define HYVM_MAX_GPA		(1ULL << 52)

struct hyvm_vm;
struct hyvm_vcpu;
struct hyvm_shost;
struct hyvm_memslot;
struct seq_file;

/**
 * struct hyvm_engine_ops - what an execution engine provides
 * @id:		its enum hyvm_engine_id
 * @name:	its name, as in vmtool's --engine
 * @probe:	can this host run the engine?  Returns 0 or a negative errno,
 *		and fills @info (features, reason).  Called at module load;
 *		the result is cached in hyvm_engines_info[].
 * @vm_init:	per-VM engine state; may be NULL
 * @vm_destroy:	undoes @vm_init; may be NULL
 * @vcpu_create: per-vCPU engine state; may be NULL
 * @vcpu_free:	undoes @vcpu_create; may be NULL
 * @vcpu_run:	runs the vCPU until an exit that needs userspace, a signal
 *		or an error; NULL while the engine is not implemented (HYVM_RUN
 *		then fails with EOPNOTSUPP).
 * @vcpu_stats_show: prints the engine's own per-vCPU counters, "name value"
 *		per line, into the vCPU's debugfs stats file; may be NULL.
 * @slot_removed: a memory slot was deleted and no vCPU can find it any
 *		more: drop every mapping of its frames, and only then unpin
 *		them; may be NULL.  Called with the VM lock held.
 *
 * Register state lives in struct hyvm_vcpu (regs, sregs) while the vCPU is
 * not running; engines load it on entry and store it back before returning.
 */
struct hyvm_engine_ops {
	u32 id;
	const char *name;
	int (*probe)(struct hyvm_engine_info *info);
	int (*vm_init)(struct hyvm_vm *vm);
	void (*vm_destroy)(struct hyvm_vm *vm);
	int (*vcpu_create)(struct hyvm_vcpu *vcpu);
	void (*vcpu_free)(struct hyvm_vcpu *vcpu);
	int (*vcpu_run)(struct hyvm_vcpu *vcpu);
	void (*vcpu_stats_show)(struct hyvm_vcpu *vcpu, struct seq_file *m);
	void (*slot_removed)(struct hyvm_vm *vm, const struct hyvm_memslot *s);
};

extern const struct hyvm_engine_ops hyvm_bt_ops;
extern const struct hyvm_engine_ops hyvm_vmx_ops;
extern const struct hyvm_engine_ops hyvm_svm_ops;

struct hyvm_memslot {
	u32 id;
	u32 flags;
	u64 base_gfn;
	u64 npages;
	unsigned long hva;
};

/* Per-VM counters shown in debugfs; names in stats.c. */
struct hyvm_vm_stat {
	u64 vcpus_created;
	u64 slot_updates;
	u64 slot_rejects;
};

/*
 * Hardware exits by kind, the same for every hardware engine: counted per
 * vCPU (debugfs "hwexit_<name>") and traced (hyvm_exit); names in exit_io.c.
 */
enum hyvm_hw_exit {
	HYVM_HWX_INTR,		/* host interrupt, NMI or SMI */
	HYVM_HWX_CPUID,
	HYVM_HWX_HLT,
	HYVM_HWX_IO,
	HYVM_HWX_MSR,
	HYVM_HWX_NPF,		/* nested (two-dimensional) page fault */
	HYVM_HWX_SHUTDOWN,
	HYVM_HWX_EXCEPTION,	/* an intercepted guest exception */
	HYVM_HWX_UD,		/* an instruction the guest gets #UD/#GP for */
	HYVM_HWX_CACHE,		/* invd, wbinvd */
	HYVM_HWX_FAIL,		/* the hardware refused the guest state */
	HYVM_HWX_OTHER,
	HYVM_HWX_MAX
};
extern const char *const hyvm_hw_exit_names[HYVM_HWX_MAX];

/* Per-vCPU counters shown in debugfs; names in stats.c. */
struct hyvm_vcpu_stat {
	u64 runs;
	u64 signal_exits;
	u64 exits[HYVM_EXIT_REASON_MAX];
	u64 hw_exits[HYVM_HWX_MAX];
};

struct hyvm_vm {
	struct kref ref;
	u32 id;
	pid_t pid;
	struct mm_struct *mm;		/* the creator's mm, grabbed with mmgrab */
	const struct hyvm_engine_ops *ops;
	void *engine_priv;

	struct mutex lock;		/* slots, vcpus[] */
	struct hyvm_memslot *slots[HYVM_MAX_SLOTS];
	u32 nr_slots;
	struct hyvm_vcpu *vcpus[HYVM_MAX_VCPUS];
	u32 nr_vcpus;

	struct hyvm_vm_stat stat;
	struct dentry *debugfs;
	struct list_head node;		/* hyvm_vm_list */

	atomic64_t tlb_gen;		/* tlb.c */
	struct hyvm_shost *shost;	/* shadow MMU glue, if the engine uses it */
};

struct hyvm_vcpu {
	struct hyvm_vm *vm;
	u32 id;
	struct mutex lock;		/* serializes ioctls on this vCPU */
	struct hyvm_run *run;		/* one zeroed page, mmap()able */
	struct hyvm_regs regs;
	struct hyvm_sregs sregs;
	void *engine_priv;
	struct hyvm_vcpu_stat stat;
	struct dentry *debugfs;

	/* tlb.c: the CPU running this vCPU's guest (-1: none) and the flush
	 * generation its guest TLB is from. */
	int guest_cpu;
	u64 tlb_gen_seen;
};

/* main.c */
extern atomic_t hyvm_live_vms;
extern atomic_t hyvm_live_vcpus;
const struct hyvm_engine_ops *hyvm_engine_ops(u32 engine);
u32 hyvm_resolve_engine(u32 engine);
extern struct hyvm_engine_info hyvm_engines_info[HYVM_ENGINE_MAX];

/* engine.c */
void hyvm_probe_engines(void);
int hyvm_default_engine_get(void);

/* vm.c */
int hyvm_create_vm(u32 engine);
void hyvm_vm_get(struct hyvm_vm *vm);
void hyvm_vm_put(struct hyvm_vm *vm);

/* memslot.c */
int hyvm_memslot_check(const struct hyvm_memory_slot *req,
		       struct hyvm_memslot *const *slots, unsigned int nslots);
int hyvm_set_memory_slot(struct hyvm_vm *vm,
			 const struct hyvm_memory_slot *req);
void hyvm_free_memslots(struct hyvm_vm *vm);

/* vcpu.c */
int hyvm_create_vcpu(struct hyvm_vm *vm, unsigned long id);
void hyvm_vcpu_reset_state(struct hyvm_vcpu *vcpu);
int hyvm_check_sregs(const struct hyvm_sregs *sregs);
void hyvm_vcpu_destroy(struct hyvm_vcpu *vcpu);

/* tlb.c */
bool hyvm_tlb_enter(struct hyvm_vcpu *vcpu);
void hyvm_tlb_exit(struct hyvm_vcpu *vcpu);
void hyvm_tlb_flush_all(struct hyvm_vm *vm);

/* debugfs.c */
void hyvm_debugfs_init(void);
void hyvm_debugfs_exit(void);
void hyvm_debugfs_vm_add(struct hyvm_vm *vm);
void hyvm_debugfs_vcpu_add(struct hyvm_vcpu *vcpu);
void hyvm_debugfs_remove(struct dentry **d);

/* stats.c */
extern const char *const hyvm_exit_reason_names[HYVM_EXIT_REASON_MAX];
const char *hyvm_engine_name(u32 engine);

/*
 * Internal functions that the KUnit test module calls.  They are exported
 * into a namespace of their own only when that module is built.
 */
#if IS_ENABLED(CONFIG_HYVM_KUNIT_TEST)
#define HYVM_EXPORT_FOR_TESTS(sym)	EXPORT_SYMBOL_NS_GPL(sym, HYVM_KUNIT)
#else
#define HYVM_EXPORT_FOR_TESTS(sym)
#endif

#endif /* HYVM_HYVM_H */
