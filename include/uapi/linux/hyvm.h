/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * hyvm userspace ABI: ioctls on /dev/hyvm and the file descriptors it hands
 * out.
 *
 * Three levels of file descriptor, each with its own ioctls:
 *   - the system fd (open("/dev/hyvm")): API version, capabilities, engine
 *     information, VM creation;
 *   - a VM fd (HYVM_CREATE_VM): memory slots, vCPU creation;
 *   - a vCPU fd (HYVM_CREATE_VCPU): registers, HYVM_RUN, and an mmap()able
 *     struct hyvm_run that reports why the vCPU stopped.
 *
 * Every structure has explicit padding and only fixed-size types so that the
 * layout is the same for every compiler; reserved fields must be zero on
 * input (EINVAL otherwise) so that they can be given meaning later.
 */
#ifndef _UAPI_LINUX_HYVM_H
#define _UAPI_LINUX_HYVM_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define HYVM_API_VERSION	1

#define HYVMIO			0xE8

/* Execution engines; HYVM_ENGINE_AUTO lets the module choose. */
enum hyvm_engine_id {
	HYVM_ENGINE_AUTO	= 0,
	HYVM_ENGINE_BT		= 1,	/* binary translation, no VT-x/AMD-V */
	HYVM_ENGINE_VMX		= 2,	/* Intel VT-x */
	HYVM_ENGINE_SVM		= 3,	/* AMD-V */
	HYVM_ENGINE_MAX		= 4,
};

/* struct hyvm_caps.flags */
#define HYVM_CAP_DEBUGFS	(1U << 0)	/* per-VM counters in debugfs */
#define HYVM_CAP_TRACEPOINTS	(1U << 1)	/* TRACE_SYSTEM hyvm is live */

struct hyvm_caps {
	__u32 api_version;
	__u32 flags;			/* HYVM_CAP_* */
	__u32 engines_available;	/* bit per enum hyvm_engine_id */
	__u32 engines_runnable;		/* subset whose HYVM_RUN is implemented */
	__u32 default_engine;		/* what HYVM_ENGINE_AUTO resolves to */
	__u32 max_vcpus;
	__u32 max_slots;
	__u32 vcpu_mmap_size;
	__u64 reserved[4];
};

/* struct hyvm_engine_info.features */
#define HYVM_ENGINE_F_TDP	(1U << 0)	/* EPT or NPT */
#define HYVM_ENGINE_F_VPID	(1U << 1)	/* VPID or ASID tagging */
#define HYVM_ENGINE_F_UG	(1U << 2)	/* unrestricted guest */

#define HYVM_REASON_LEN		96

/*
 * Whether this host can use an engine, and if not, why.  @engine is input;
 * everything else is output.  @error is the negative errno that creating a
 * VM with this engine would fail with (0 when available).
 */
struct hyvm_engine_info {
	__u32 engine;
	__u32 available;
	__u32 runnable;
	__u32 features;		/* HYVM_ENGINE_F_* */
	__s32 error;
	__u32 pad;
	char name[16];
	char reason[HYVM_REASON_LEN];
};

/*
 * A memory slot maps [guest_phys, guest_phys + size) to the caller's
 * [userspace_addr, userspace_addr + size).  size == 0 deletes slot @slot.
 * Everything must be page aligned; slots may not overlap in guest-physical
 * space (EEXIST) and the userspace range must be mapped, ordinary memory of
 * the calling process (EFAULT).
 */
#define HYVM_MEM_READONLY	(1U << 0)

struct hyvm_memory_slot {
	__u32 slot;
	__u32 flags;		/* HYVM_MEM_* */
	__u64 guest_phys;
	__u64 size;
	__u64 userspace_addr;
};

struct hyvm_vm_info {
	__u32 vm_id;		/* as in debugfs <pid>-<vm_id> */
	__u32 engine;		/* the engine actually used */
	__u32 nr_vcpus;
	__u32 nr_slots;
	__u64 reserved[2];
};

/* General-purpose registers, rip and rflags. */
struct hyvm_regs {
	__u64 rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
	__u64 r8, r9, r10, r11, r12, r13, r14, r15;
	__u64 rip, rflags;
};

struct hyvm_segment {
	__u64 base;
	__u32 limit;
	__u16 selector;
	__u8  type;
	__u8  present, dpl, db, s, l, g, avl;
	__u8  unusable;
	__u8  pad[5];
};

struct hyvm_dtable {
	__u64 base;
	__u16 limit;
	__u16 pad[3];
};

/* System registers. */
struct hyvm_sregs {
	struct hyvm_segment cs, ds, es, fs, gs, ss;
	struct hyvm_segment tr, ldt;
	struct hyvm_dtable gdt, idt;
	__u64 cr0, cr2, cr3, cr4, cr8;
	__u64 efer;
	__u64 apic_base;
	__u64 reserved[4];
};

/* struct hyvm_run.exit_reason */
enum hyvm_exit_reason {
	HYVM_EXIT_NONE		= 0,
	HYVM_EXIT_IO		= 1,	/* port I/O for userspace: run.io */
	HYVM_EXIT_MMIO		= 2,	/* MMIO for userspace: run.mmio */
	HYVM_EXIT_HLT		= 3,	/* hlt with interrupts off */
	HYVM_EXIT_SHUTDOWN	= 4,	/* triple fault: run.shutdown */
	HYVM_EXIT_INTR		= 5,	/* a signal or immediate_exit */
	HYVM_EXIT_FAIL_ENTRY	= 6,	/* the engine refused the guest state */
	HYVM_EXIT_INTERNAL	= 7,	/* the VMM could not continue */
	HYVM_EXIT_DEBUG		= 8,
	HYVM_EXIT_SYSTEM_EVENT	= 9,	/* the guest asked to stop: run.system */
	HYVM_EXIT_REASON_MAX	= 10,
};

/* run.internal.suberror of HYVM_EXIT_INTERNAL; data[] as noted */
#define HYVM_INTERNAL_EMULATION		1	/* not emulated: linear rip, bytes */
#define HYVM_INTERNAL_DELIVERY		2	/* cannot deliver: vector, error */
#define HYVM_INTERNAL_MEMORY		3	/* guest memory vanished: rip */
#define HYVM_INTERNAL_UNKNOWN_EXIT	4	/* engine exit code */
#define HYVM_INTERNAL_NOT_READY		5	/* -errno */
#define HYVM_INTERNAL_VMM_REGION	6	/* bt: the guest mapped the VMM region: address, rip */
#define HYVM_INTERNAL_MONITOR		7	/* bt: the monitor faulted: vector, rip */

#define HYVM_IO_IN		0
#define HYVM_IO_OUT		1

/*
 * The vCPU fd's mmap()ed page.  Only exit_reason and the member of the
 * union that it names are meaningful after HYVM_RUN returns.  For I/O the
 * data lives in the same mapping at io.data_offset; for IN, userspace stores
 * the value there before the next HYVM_RUN.
 */
struct hyvm_run {
	/* in */
	__u8  immediate_exit;
	__u8  pad1[7];
	/* out */
	__u32 exit_reason;
	__u32 pad2;
	__u64 exits;		/* exits delivered to userspace so far */
	union {
		struct {
			__u8  direction;	/* HYVM_IO_IN or HYVM_IO_OUT */
			__u8  size;		/* 1, 2 or 4 */
			__u16 port;
			__u32 count;
			__u64 data_offset;
		} io;
		struct {
			__u64 phys_addr;
			__u8  data[8];
			__u32 len;
			__u8  is_write;
			__u8  pad[3];
		} mmio;
		struct {
			__u64 hardware_reason;
		} fail_entry;
		struct {
			__u32 suberror;
			__u32 ndata;
			__u64 data[16];
		} internal;
		struct {
			__u32 type;
			__u32 pad;
			__u64 status;
		} system;
		struct {
			__u64 rip;
		} shutdown;
		char padding[256];
	};
};

/* Offset of the I/O data area within the run mapping. */
#define HYVM_RUN_IO_DATA_OFFSET	1024

/* system fd */
#define HYVM_GET_API_VERSION	_IO(HYVMIO, 0x00)
#define HYVM_GET_CAPS		_IOR(HYVMIO, 0x01, struct hyvm_caps)
#define HYVM_GET_ENGINE_INFO	_IOWR(HYVMIO, 0x02, struct hyvm_engine_info)
#define HYVM_CREATE_VM		_IO(HYVMIO, 0x03)	/* arg: engine id */
#define HYVM_GET_VCPU_MMAP_SIZE	_IO(HYVMIO, 0x04)

/* VM fd */
#define HYVM_SET_MEMORY_SLOT	_IOW(HYVMIO, 0x10, struct hyvm_memory_slot)
#define HYVM_CREATE_VCPU	_IO(HYVMIO, 0x11)	/* arg: vcpu id */
#define HYVM_GET_VM_INFO	_IOR(HYVMIO, 0x12, struct hyvm_vm_info)

/* vCPU fd */
#define HYVM_RUN		_IO(HYVMIO, 0x20)
#define HYVM_GET_REGS		_IOR(HYVMIO, 0x21, struct hyvm_regs)
#define HYVM_SET_REGS		_IOW(HYVMIO, 0x22, struct hyvm_regs)
#define HYVM_GET_SREGS		_IOR(HYVMIO, 0x23, struct hyvm_sregs)
#define HYVM_SET_SREGS		_IOW(HYVMIO, 0x24, struct hyvm_sregs)

#endif /* _UAPI_LINUX_HYVM_H */
