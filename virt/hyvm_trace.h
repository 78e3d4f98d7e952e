/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hyvm tracepoints: TRACE_SYSTEM hyvm, for ftrace, trace-cmd and perf.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM hyvm

#if !defined(HYVM_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define HYVM_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(hyvm_vm_create,
	TP_PROTO(u32 vm_id, pid_t pid, u32 engine),
	TP_ARGS(vm_id, pid, engine),
	TP_STRUCT__entry(
		__field(u32, vm_id)
		__field(pid_t, pid)
		__field(u32, engine)
	),
	TP_fast_assign(
		__entry->vm_id = vm_id;
		__entry->pid = pid;
		__entry->engine = engine;
	),
	TP_printk("vm %d-%u engine %s", __entry->pid, __entry->vm_id,
		  __print_symbolic(__entry->engine, { 1, "bt" }, { 2, "vmx" },
				   { 3, "svm" }))
);

TRACE_EVENT(hyvm_vm_destroy,
	TP_PROTO(u32 vm_id, pid_t pid),
	TP_ARGS(vm_id, pid),
	TP_STRUCT__entry(
		__field(u32, vm_id)
		__field(pid_t, pid)
	),
	TP_fast_assign(
		__entry->vm_id = vm_id;
		__entry->pid = pid;
	),
	TP_printk("vm %d-%u", __entry->pid, __entry->vm_id)
);

TRACE_EVENT(hyvm_run_enter,
	TP_PROTO(u32 vm_id, u32 vcpu_id),
	TP_ARGS(vm_id, vcpu_id),
	TP_STRUCT__entry(
		__field(u32, vm_id)
		__field(u32, vcpu_id)
	),
	TP_fast_assign(
		__entry->vm_id = vm_id;
		__entry->vcpu_id = vcpu_id;
	),
	TP_printk("vm %u vcpu %u", __entry->vm_id, __entry->vcpu_id)
);

TRACE_EVENT(hyvm_run_exit,
	TP_PROTO(u32 vm_id, u32 vcpu_id, u32 reason, int ret),
	TP_ARGS(vm_id, vcpu_id, reason, ret),
	TP_STRUCT__entry(
		__field(u32, vm_id)
		__field(u32, vcpu_id)
		__field(u32, reason)
		__field(int, ret)
	),
	TP_fast_assign(
		__entry->vm_id = vm_id;
		__entry->vcpu_id = vcpu_id;
		__entry->reason = reason;
		__entry->ret = ret;
	),
	TP_printk("vm %u vcpu %u reason %s ret %d", __entry->vm_id,
		  __entry->vcpu_id,
		  __print_symbolic(__entry->reason, { 0, "none" }, { 1, "io" },
				   { 2, "mmio" }, { 3, "hlt" }, { 4, "shutdown" },
				   { 5, "intr" }, { 6, "fail_entry" },
				   { 7, "internal" }, { 8, "debug" },
				   { 9, "system_event" }),
		  __entry->ret)
);

/* One hardware exit: @code is the engine's own exit code (SVM or VMX). */
TRACE_EVENT(hyvm_exit,
	TP_PROTO(u32 vm_id, u32 vcpu_id, u32 kind, u32 code, u64 rip,
		 u64 info1, u64 info2),
	TP_ARGS(vm_id, vcpu_id, kind, code, rip, info1, info2),
	TP_STRUCT__entry(
		__field(u32, vm_id)
		__field(u32, vcpu_id)
		__field(u32, kind)
		__field(u32, code)
		__field(u64, rip)
		__field(u64, info1)
		__field(u64, info2)
	),
	TP_fast_assign(
		__entry->vm_id = vm_id;
		__entry->vcpu_id = vcpu_id;
		__entry->kind = kind;
		__entry->code = code;
		__entry->rip = rip;
		__entry->info1 = info1;
		__entry->info2 = info2;
	),
	TP_printk("vm %u vcpu %u %s code 0x%x rip 0x%llx info 0x%llx 0x%llx",
		  __entry->vm_id, __entry->vcpu_id,
		  __print_symbolic(__entry->kind, { 0, "intr" }, { 1, "cpuid" },
				   { 2, "hlt" }, { 3, "io" }, { 4, "msr" },
				   { 5, "npf" }, { 6, "shutdown" },
				   { 7, "exception" }, { 8, "ud" },
				   { 9, "cache" }, { 10, "fail" },
				   { 11, "other" }),
		  __entry->code, __entry->rip, __entry->info1, __entry->info2)
);

/* Shadow MMU (shadow_host.c): each #PF on a shadow table, and its outcome. */
TRACE_EVENT(hyvm_shadow_fault,
	TP_PROTO(u32 vm_id, u64 gva, u32 access, int result, u32 error_code),
	TP_ARGS(vm_id, gva, access, result, error_code),
	TP_STRUCT__entry(
		__field(u32, vm_id)
		__field(u64, gva)
		__field(u32, access)
		__field(int, result)
		__field(u32, error_code)
	),
	TP_fast_assign(
		__entry->vm_id = vm_id;
		__entry->gva = gva;
		__entry->access = access;
		__entry->result = result;
		__entry->error_code = error_code;
	),
	TP_printk("vm %u gva 0x%llx access 0x%x %s error_code 0x%x",
		  __entry->vm_id, __entry->gva, __entry->access,
		  __print_symbolic(__entry->result, { 0, "hidden" },
				   { 1, "true_pf" }, { 2, "true_gp" },
				   { 3, "emulate" }, { 4, "mmio" },
				   { 5, "error" }, { 6, "fixed" },
				   { 7, "code_write" }),
		  __entry->error_code)
);

/* Shadow MMU: an emulated store to a traced guest page table. */
TRACE_EVENT(hyvm_shadow_write,
	TP_PROTO(u32 vm_id, u64 gpa, u64 value, u32 size, u64 zapped),
	TP_ARGS(vm_id, gpa, value, size, zapped),
	TP_STRUCT__entry(
		__field(u32, vm_id)
		__field(u64, gpa)
		__field(u64, value)
		__field(u32, size)
		__field(u64, zapped)
	),
	TP_fast_assign(
		__entry->vm_id = vm_id;
		__entry->gpa = gpa;
		__entry->value = value;
		__entry->size = size;
		__entry->zapped = zapped;
	),
	TP_printk("vm %u gpa 0x%llx value 0x%llx size %u zapped %llu",
		  __entry->vm_id, __entry->gpa, __entry->value, __entry->size,
		  __entry->zapped)
);

/* bt: a TU translated into the vCPU's translation cache. */
TRACE_EVENT(hyvm_bt_translate,
	TP_PROTO(u32 vm_id, u32 vcpu_id, u64 rip, u64 tc, u32 ninsns,
		 u32 glen, u32 ccf_len),
	TP_ARGS(vm_id, vcpu_id, rip, tc, ninsns, glen, ccf_len),
	TP_STRUCT__entry(
		__field(u32, vm_id)
		__field(u32, vcpu_id)
		__field(u64, rip)
		__field(u64, tc)
		__field(u32, ninsns)
		__field(u32, glen)
		__field(u32, ccf_len)
	),
	TP_fast_assign(
		__entry->vm_id = vm_id;
		__entry->vcpu_id = vcpu_id;
		__entry->rip = rip;
		__entry->tc = tc;
		__entry->ninsns = ninsns;
		__entry->glen = glen;
		__entry->ccf_len = ccf_len;
	),
	TP_printk("vm %u vcpu %u rip 0x%llx tc 0x%llx insns %u bytes %u ccf %u",
		  __entry->vm_id, __entry->vcpu_id, __entry->rip, __entry->tc,
		  __entry->ninsns, __entry->glen, __entry->ccf_len)
);

/* bt: translations of a guest page dropped (code written, or remapped). */
TRACE_EVENT(hyvm_bt_invalidate,
	TP_PROTO(u32 vm_id, u32 vcpu_id, u64 page, u64 gfn, u32 tus,
		 bool written),
	TP_ARGS(vm_id, vcpu_id, page, gfn, tus, written),
	TP_STRUCT__entry(
		__field(u32, vm_id)
		__field(u32, vcpu_id)
		__field(u64, page)
		__field(u64, gfn)
		__field(u32, tus)
		__field(bool, written)
	),
	TP_fast_assign(
		__entry->vm_id = vm_id;
		__entry->vcpu_id = vcpu_id;
		__entry->page = page;
		__entry->gfn = gfn;
		__entry->tus = tus;
		__entry->written = written;
	),
	TP_printk("vm %u vcpu %u page 0x%llx gfn 0x%llx tus %u %s",
		  __entry->vm_id, __entry->vcpu_id, __entry->page, __entry->gfn,
		  __entry->tus, __entry->written ? "written" : "remapped")
);

/* bt: the guest world was left (direct user code or translated code). */
TRACE_EVENT(hyvm_bt_world_exit,
	TP_PROTO(u32 vm_id, u32 vcpu_id, bool tc, u32 reason, u32 vector,
		 u64 rip),
	TP_ARGS(vm_id, vcpu_id, tc, reason, vector, rip),
	TP_STRUCT__entry(
		__field(u32, vm_id)
		__field(u32, vcpu_id)
		__field(bool, tc)
		__field(u32, reason)
		__field(u32, vector)
		__field(u64, rip)
	),
	TP_fast_assign(
		__entry->vm_id = vm_id;
		__entry->vcpu_id = vcpu_id;
		__entry->tc = tc;
		__entry->reason = reason;
		__entry->vector = vector;
		__entry->rip = rip;
	),
	TP_printk("vm %u vcpu %u %s reason %u vector %u rip 0x%llx",
		  __entry->vm_id, __entry->vcpu_id,
		  __entry->tc ? "translated" : "direct", __entry->reason,
		  __entry->vector, __entry->rip)
);

/* bt: an instruction's translation changed (adaptive translation). */
TRACE_EVENT(hyvm_bt_adapt,
	TP_PROTO(u32 vm_id, u32 vcpu_id, u64 rip, u32 faults, bool to_callout),
	TP_ARGS(vm_id, vcpu_id, rip, faults, to_callout),
	TP_STRUCT__entry(
		__field(u32, vm_id)
		__field(u32, vcpu_id)
		__field(u64, rip)
		__field(u32, faults)
		__field(bool, to_callout)
	),
	TP_fast_assign(
		__entry->vm_id = vm_id;
		__entry->vcpu_id = vcpu_id;
		__entry->rip = rip;
		__entry->faults = faults;
		__entry->to_callout = to_callout;
	),
	TP_printk("vm %u vcpu %u rip 0x%llx faults %u %s",
		  __entry->vm_id, __entry->vcpu_id, __entry->rip,
		  __entry->faults, __entry->to_callout ? "callout" : "ident")
);

#endif /* HYVM_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE hyvm_trace
#include <trace/define_trace.h>
