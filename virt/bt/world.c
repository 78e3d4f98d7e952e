// SPDX-License-Identifier: GPL-2.0
/*
 * bt's guest world: guest user code (virtual CPL3, long mode) runs
 * directly at real CPL3 on the shadow MMU's user view, with the monitor
 * in the VMM region of every guest world.
 *
 * The VMM region is PML4 slot 256 (0xffff800000000000, one PDPT, one PD)
 * and the 15 slots after it, which stay empty; virt/shadow puts these 16
 * entries into every bt root and refuses guest mappings there.  Each vCPU
 * has a 2 MiB slot of the region holding its block (arch-x86/bt_world.h):
 * a copy of the monitor's code, IDT, GDT, TSS, data page and stacks, all
 * supervisor-only.  Nothing of the region is reachable from CPL3.
 *
 * The world switch (arch-x86/bt_switch.S) goes through a per-vCPU
 * transition table: the host kernel half of the current top-level table
 * (copied before every entry; the host's own tables are never written)
 * plus the VMM region, with the vCPU's host page (the host state the
 * switch restores) 1 GiB above its block.  Only the transition table
 * maps the host page: nothing a guest world maps holds a host address,
 * so CPL3 code reads none even speculatively (Meltdown), and
 * hyvm_bt_world_audit() checks that.  With 5-level paging on the host,
 * the transition table is a PML5 whose last entry points at a copy of the
 * host's PML4 with the VMM region in it, and the guest world gets a PML5
 * whose first and last entries both point at the 4-level shadow root.
 *
 * What differs from the host inside the guest world, besides CR3 and the
 * descriptor tables: CR4.PGE is off (no host global entry survives the
 * switch, and each direction flushes every TLB entry of every PCID), TSD
 * is on (RDTSC and RDTSCP trap, so the interpreter applies the guest's TSC
 * offset), UMIP is on where the CPU has it, FSGSBASE follows the guest's
 * CR4; SYSCALL enters the monitor (STAR, LSTAR, CSTAR, SFMASK), SYSENTER
 * faults (SYSENTER_CS is 0), DR7 is 0, and FS and GS bases are the
 * guest's.  KERNEL_GS_BASE is left alone: CPL3 cannot use it and the
 * monitor never executes SWAPGS.
 */
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/sched/task_stack.h>
#include <asm/cpufeature.h>
#include <asm/debugreg.h>
#include <asm/desc.h>
#include <asm/hw_breakpoint.h>
#include <asm/msr.h>
#include <asm/processor-flags.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>
#include <asm/trapnr.h>
#include <asm/io.h>
#include "../../arch-x86/host_interrupt.h"
#include "world.h"
#include "bt_area.h"
#include "../shadow_host.h"

#define PTE_P		0x001ULL
#define PTE_W		0x002ULL
#define PTE_A		0x020ULL
#define PTE_D		0x040ULL
#define PTE_TABLE	(PTE_P | PTE_W | PTE_A)

/* Guest flags the real RFLAGS carries in the guest world. */
#define BT_USER_FLAGS	(X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF | \
			 X86_EFLAGS_ZF | X86_EFLAGS_SF | X86_EFLAGS_DF | \
			 X86_EFLAGS_OF | X86_EFLAGS_AC | X86_EFLAGS_ID)

/*
 * Coming back, TF too: ring 3 may set it with POPF, and the CPU then
 * single-steps it exactly as the guest's would (the #DB is delivered).
 */
#define BT_BACK_FLAGS	(BT_USER_FLAGS | X86_EFLAGS_TF)

/* Guest flags that keep guest user code out of the guest world. */
#define BT_NO_DIRECT	(X86_EFLAGS_TF | X86_EFLAGS_IOPL | X86_EFLAGS_NT | \
			 X86_EFLAGS_AC | X86_EFLAGS_VM)

static unsigned int bt_world_audit;
module_param(bt_world_audit, uint, 0644);
MODULE_PARM_DESC(bt_world_audit,
		 "bt: check the guest world's mappings for host state every N-th entry (0: never)");

/* Monitor GDT entries a guest selector may not use. */
#define GDT_CPUNODE	15

struct bt_tss {
	u32 reserved0;
	u64 sp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
} __packed;

static_assert(sizeof(struct bt_tss) == 104);
static_assert(sizeof(struct bt_world_data) == BTW_DATA_SIZE);
static_assert(offsetof(struct bt_world_data, rip) == BTW_RIP);
static_assert(offsetof(struct bt_world_data, vector) == BTW_VECTOR);
static_assert(offsetof(struct bt_world_data, fault_vec) == BTW_FAULT_VEC);
static_assert(offsetof(struct bt_world_data, t_cr3) == BTW_T_CR3);
static_assert(offsetof(struct bt_world_data, w_gdt) == BTW_W_GDT);
static_assert(offsetof(struct bt_world_data, w_idt) == BTW_W_IDT);
static_assert(offsetof(struct bt_world_data, verw_sel) == BTW_VERW_SEL);
static_assert(sizeof(struct bt_world_host) == BTW_HOST_SIZE);
static_assert(offsetof(struct bt_world_host, w_cr3) == BTW_W_CR3);
static_assert(offsetof(struct bt_world_host, w_cr4) == BTW_W_CR4);
static_assert(offsetof(struct bt_world_host, h_gdt) == BTW_H_GDT);
static_assert(offsetof(struct bt_world_host, h_idt) == BTW_H_IDT);
static_assert(offsetof(struct bt_world_host, h_tss_desc) == BTW_H_TSS_DESC);
static_assert(offsetof(struct bt_world_host, h_gs_base) == BTW_H_GS_BASE);
/* The block is in the region's first GiB, its host page in the second. */
static_assert(BTW_HOST_OFFSET == SZ_1G);
static_assert(offsetof(struct bt_pseudo_desc, limit) == 6);

static u64 nx_bit(void)
{
	return __supported_pte_mask & _PAGE_NX;
}

static bool host_la57(void)
{
	return !!(__read_cr4() & X86_CR4_LA57);
}

static u64 *host_top(void)
{
	return __va(read_cr3_pa());
}

/* The PML4 that holds the VMM region in the host's layout. */
static u64 *host_vmm_pml4(void)
{
	u64 *top = host_top();

	if (!host_la57())
		return top;
	if (!(top[511] & PTE_P))
		return NULL;
	return __va(top[511] & PTE_PFN_MASK);
}

/**
 * hyvm_bt_world_unavailable - why guest user code cannot run directly here
 *
 * Return: NULL when it can, else the reason.
 */
const char *hyvm_bt_world_unavailable(void)
{
	u64 *pml4;
	int i;

	if (!boot_cpu_has(X86_FEATURE_NX))
		return "no NX";
	pml4 = host_vmm_pml4();
	if (!pml4)
		return "no host PML4 behind the last PML5 entry";
	for (i = 0; i < BT_VMM_PML4_SLOTS; i++)
		if (pml4[BT_VMM_PML4_SLOT + i])
			return "the host maps 0xffff800000000000";
	if (hyvm_bt_world_code_end - hyvm_bt_world_code >
	    BTW_CODE_PAGES * PAGE_SIZE)
		return "monitor code too large";
	return NULL;
}

/**
 * hyvm_bt_world_vm_init - a VM's VMM region, in every bt root
 * @vm: the VM, with its shadow MMU
 * @wv: receives the region's tables
 *
 * Return: 0, -ENOMEM or -EINVAL.
 */
int hyvm_bt_world_vm_init(struct hyvm_vm *vm, struct bt_world_vm *wv)
{
	u64 fixed[BT_VMM_PML4_SLOTS] = { 0 };
	int ret;

	wv->pdpt = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	wv->pd = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!wv->pdpt || !wv->pd) {
		hyvm_bt_world_vm_destroy(wv);
		return -ENOMEM;
	}
	((u64 *)page_address(wv->pdpt))[0] = page_to_phys(wv->pd) | PTE_TABLE;
	/* Supervisor-only from the top: CPL3 reaches nothing here yet. */
	fixed[0] = page_to_phys(wv->pdpt) | PTE_TABLE;
	ret = hyvm_shost_set_fixed(vm, BT_VMM_PML4_SLOT, BT_VMM_PML4_SLOTS,
				   fixed);
	if (ret)
		hyvm_bt_world_vm_destroy(wv);
	return ret;
}

void hyvm_bt_world_vm_destroy(struct bt_world_vm *wv)
{
	if (wv->pd)
		__free_page(wv->pd);
	if (wv->pdpt)
		__free_page(wv->pdpt);
	wv->pd = wv->pdpt = NULL;
}

/*
 * The audit of a guest world (bt_world_audit): what CPL3 code could read
 * speculatively, on a CPU that lets it read supervisor pages, must hold
 * nothing of the host.
 */
struct bt_audit {
	struct bt_world *w;
	u64 forbid[7];		/* frames only the transition tables map */
	u64 secret[10];		/* host values no mapped page may hold */
	u64 stack_lo, stack_hi;	/* the host stack the switch came from */
	u64 bad;
};

static void audit_bad(struct bt_audit *a, const char *what, u64 va, u64 v)
{
	a->bad++;
	pr_warn_ratelimited("hyvm: bt guest world of vCPU %u: %s at %#llx (%#llx)\n",
			    a->w->id, what, va, v);
}

static bool audit_forbidden(const struct bt_audit *a, u64 pa)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(a->forbid); i++)
		if (a->forbid[i] && a->forbid[i] == pa)
			return true;
	return false;
}

/* A page the guest world maps: no word of it may be a host value. */
static void audit_page(struct bt_audit *a, u64 pa, u64 va)
{
	const u64 *p = __va(pa);
	unsigned int i, k;

	for (i = 0; i < PAGE_SIZE / 8; i++) {
		u64 v = p[i];

		if (v >= a->stack_lo && v < a->stack_hi)
			audit_bad(a, "a host stack address", va + 8 * i, v);
		for (k = 0; k < ARRAY_SIZE(a->secret); k++)
			if (a->secret[k] && v == a->secret[k])
				audit_bad(a, "a host value", va + 8 * i, v);
	}
}

/* Every table and page under @pa, a table of level @level mapping @va. */
static void audit_table(struct bt_audit *a, u64 pa, int level, u64 va)
{
	const u64 *t = __va(pa);
	unsigned int i;

	for (i = 0; i < 512; i++) {
		u64 e = t[i], epa = e & PTE_PFN_MASK;
		u64 eva = va + ((u64)i << (12 + 9 * (level - 1)));

		if (!(e & PTE_P))
			continue;
		if (!pfn_valid(epa >> PAGE_SHIFT)) {
			audit_bad(a, "a frame outside RAM", eva, e);
			continue;
		}
		if (audit_forbidden(a, epa))
			audit_bad(a, "a host-only page", eva, e);
		if (level == 1)
			audit_page(a, epa, eva);
		else if (e & _PAGE_PSE)
			audit_bad(a, "a large page", eva, e);
		else
			audit_table(a, epa, level - 1, eva);
	}
}

/* The vCPU's own block: its pages, in their places, and nothing else. */
static void audit_block(struct bt_audit *a, const u64 *pdpt)
{
	struct bt_world *w = a->w;
	const u64 *pd, *pt;
	unsigned int i;

	for (i = 1; i < 512; i++)
		if (pdpt[i] & PTE_P)
			audit_bad(a, "a mapping beyond the region's first GiB",
				  BT_VMM_BASE + ((u64)i << 30), pdpt[i]);
	if (!(pdpt[0] & PTE_P)) {
		audit_bad(a, "no region PD", BT_VMM_BASE, pdpt[0]);
		return;
	}
	pd = __va(pdpt[0] & PTE_PFN_MASK);
	if ((pd[w->id + 1] & PTE_PFN_MASK) != page_to_phys(w->pt)) {
		audit_bad(a, "not the block's page table", w->va, pd[w->id + 1]);
		return;
	}
	pt = page_address(w->pt);
	for (i = 0; i < 512; i++) {
		u64 want = i < BTW_PAGES ? page_to_phys(w->pages[i]) : 0;

		if ((pt[i] & PTE_PFN_MASK) != want || !(pt[i] & PTE_P) != !want)
			audit_bad(a, "not a page of the block",
				  w->va + i * PAGE_SIZE, pt[i]);
	}
}

/**
 * hyvm_bt_world_audit - does a guest world map anything of the host?
 * @w: the vCPU's world, just left (its host page holds what it came from)
 * @root: the shadow root it ran on (user or kernel view)
 *
 * Walks what the guest world's top-level table (the PML5 wrapper too, on
 * a 5-level host) maps in the VMM region, PML4 slots 256 (the blocks) to
 * 271 (257: translated code's pages, in kernel views): no table or page
 * there may be the host page or a transition table, the vCPU's block must
 * be its own pages and nothing beyond the region's first GiB may be
 * mapped, and no word of any page mapped there may be a host address or
 * host value the host page holds (stack, descriptor tables, TSS, FS and
 * GS bases, CR3s).  The other top-level entries (guest mappings) may not
 * point at a host-only page either.  Each finding is logged.
 *
 * Return: the number of findings.
 */
int hyvm_bt_world_audit(struct bt_world *w, u64 root)
{
	struct bt_world_host *h = w->host;
	struct bt_audit a = { .w = w };
	const u64 *top;
	unsigned int i;

	a.forbid[0] = page_to_phys(w->host_page);
	a.forbid[1] = page_to_phys(w->t_top);
	a.forbid[2] = page_to_phys(w->t_top) + PAGE_SIZE;
	a.forbid[3] = page_to_phys(w->t_pdpt);
	a.forbid[4] = page_to_phys(w->t_pd);
	a.forbid[5] = page_to_phys(w->t_pt);
	a.forbid[6] = w->t_pml4 ? page_to_phys(w->t_pml4) : 0;
	a.stack_lo = (unsigned long)task_stack_page(current);
	a.stack_hi = a.stack_lo + THREAD_SIZE;
	a.secret[0] = h->h_cr3;
	a.secret[1] = h->w_cr3;
	a.secret[2] = h->h_gdt.base;
	a.secret[3] = h->h_gdt_rw.base;
	a.secret[4] = h->h_idt.base;
	a.secret[5] = h->h_tss_desc;
	a.secret[6] = h->h_fs_base;
	a.secret[7] = h->h_gs_base;
	a.secret[8] = (unsigned long)w->host;
	a.secret[9] = (unsigned long)page_address(w->t_top);

	top = __va(h->w_cr3 & PTE_PFN_MASK);
	if (w->w_pml5) {
		for (i = 1; i < 511; i++)
			if (top[i])
				audit_bad(&a, "a PML5 entry", i, top[i]);
		if ((top[0] & PTE_PFN_MASK) != (root & PTE_PFN_MASK) ||
		    (top[511] & PTE_PFN_MASK) != (root & PTE_PFN_MASK))
			audit_bad(&a, "a PML5 entry not the root", 0, top[0]);
		top = __va(root & PTE_PFN_MASK);
	}
	for (i = 0; i < 512; i++) {
		u64 e = top[i];
		u64 va = BT_VMM_BASE + ((u64)(i - BT_VMM_PML4_SLOT) << 39);

		if (!(e & PTE_P))
			continue;
		if (audit_forbidden(&a, e & PTE_PFN_MASK))
			audit_bad(&a, "a host-only table", i, e);
		if (i < BT_VMM_PML4_SLOT ||
		    i >= BT_VMM_PML4_SLOT + BT_VMM_PML4_SLOTS)
			continue;
		if (i == BT_VMM_PML4_SLOT)
			audit_block(&a, __va(e & PTE_PFN_MASK));
		audit_table(&a, e & PTE_PFN_MASK, 3, va);
	}
	w->audits++;
	w->audit_bad += a.bad;
	return a.bad;
}

static void bt_pack_gate(u64 *g, unsigned long off, unsigned int ist)
{
	g[0] = (off & 0xffff) | ((u64)BTW_SEL_KCODE << 16) | ((u64)ist << 32) |
	       (0x8eULL << 40) | (((off >> 16) & 0xffff) << 48);
	g[1] = off >> 32;
}

static u64 bt_pack_seg(u64 base, u32 limit, u16 attr)
{
	if (attr & X86_SEG_ATTR_G)
		limit >>= 12;
	return (limit & 0xffff) | ((base & 0xffffff) << 16) |
	       ((u64)(attr & 0xff) << 40) | ((u64)((limit >> 16) & 0xf) << 48) |
	       ((u64)((attr >> 12) & 0xf) << 52) | (((base >> 24) & 0xff) << 56);
}

static void bt_set_tss_desc(struct bt_world *w)
{
	u64 base = w->va + BTW_PAGE_TSS * PAGE_SIZE;

	w->gdt[BTW_SEL_TSS >> 3] = bt_pack_seg(base, sizeof(struct bt_tss) - 1,
					    0x89);
	w->gdt[(BTW_SEL_TSS >> 3) + 1] = base >> 32;
}

static u64 block_pte(struct bt_world *w, unsigned int j)
{
	u64 pa = page_to_phys(w->pages[j]) | PTE_P | PTE_A;

	if (j < BTW_PAGE_CODE + BTW_CODE_PAGES)
		return pa;				/* code: read, execute */
	if (j == BTW_PAGE_IDT)
		return pa | nx_bit();
	return pa | PTE_W | PTE_D | nx_bit();
}

/**
 * hyvm_bt_world_vcpu_init - a vCPU's block in the VMM region
 * @wv: the VM's region
 * @w: the vCPU's world state, zeroed
 * @id: the vCPU's id
 *
 * Return: 0, -EINVAL for an id the region has no slot for, -ENOMEM.
 */
int hyvm_bt_world_vcpu_init(struct bt_world_vm *wv, struct bt_world *w,
			    u32 id)
{
	unsigned long code_len = hyvm_bt_world_code_end - hyvm_bt_world_code;
	unsigned long stubs;
	struct bt_tss *tss;
	u64 *pt, *idt;
	unsigned int i;

	if (id + 1 >= 512)
		return -EINVAL;
	w->id = id;
	w->va = BT_VMM_BASE + (id + 1UL) * SZ_2M;
	for (i = 0; i < BTW_PAGES; i++) {
		w->pages[i] = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
		if (!w->pages[i])
			goto nomem;
	}
	w->pt = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	/* Bit 12 clear, as the kernel's PTI entry code expects of CR3. */
	w->t_top = alloc_pages(GFP_KERNEL_ACCOUNT | __GFP_ZERO, 1);
	w->host_page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	w->t_pdpt = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	w->t_pd = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	w->t_pt = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!w->pt || !w->t_top || !w->host_page || !w->t_pdpt || !w->t_pd ||
	    !w->t_pt)
		goto nomem;
	if (host_la57()) {
		w->t_pml4 = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
		w->w_pml5 = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
		if (!w->t_pml4 || !w->w_pml5)
			goto nomem;
	}

	for (i = 0; i < BTW_CODE_PAGES; i++)
		memcpy(page_address(w->pages[BTW_PAGE_CODE + i]),
		       hyvm_bt_world_code + i * PAGE_SIZE,
		       min_t(long, PAGE_SIZE, (long)code_len - i * PAGE_SIZE));
	pt = page_address(w->pt);
	for (i = 0; i < BTW_PAGES; i++)
		pt[i] = block_pte(w, i);
	w->data = page_address(w->pages[BTW_PAGE_DATA]);
	w->host = page_address(w->host_page);
	w->gdt = page_address(w->pages[BTW_PAGE_GDT]);

	stubs = w->va + (hyvm_bt_world_stubs - hyvm_bt_world_code);
	idt = page_address(w->pages[BTW_PAGE_IDT]);
	for (i = 0; i < 256; i++)
		bt_pack_gate(&idt[2 * i], stubs + 16 * i,
			  i == 2 ? BTW_IST_NMI : i == 8 ? BTW_IST_DF :
			  i == 18 ? BTW_IST_MC : 0);

	/* 64-bit kernel code, DPL 0, accessed. */
	w->gdt[BTW_SEL_KCODE >> 3] = 0x00af9b000000ffffULL;
	bt_set_tss_desc(w);
	tss = page_address(w->pages[BTW_PAGE_TSS]);
	tss->sp[0] = w->va + BTW_PAGE_NMI * PAGE_SIZE;
	tss->ist[BTW_IST_NMI - 1] = w->va + (BTW_PAGE_NMI + 1) * PAGE_SIZE;
	tss->ist[BTW_IST_DF - 1] = w->va + (BTW_PAGE_DF + 1) * PAGE_SIZE;
	tss->ist[BTW_IST_MC - 1] = w->va + (BTW_PAGE_MC + 1) * PAGE_SIZE;
	tss->iomap_base = sizeof(*tss);		/* no I/O bitmap */

	w->data->w_gdt.limit = BTW_GDT_ENTRIES * 8 - 1;
	w->data->w_gdt.base = w->va + BTW_PAGE_GDT * PAGE_SIZE;
	w->data->w_idt.limit = 256 * 16 - 1;
	w->data->w_idt.base = w->va + BTW_PAGE_IDT * PAGE_SIZE;
	/* Any selector will do: VERW's memory form is what clears. */
	if (cpu_feature_enabled(X86_FEATURE_CLEAR_CPU_BUF))
		w->data->verw_sel = BTW_SEL_TDATA;
	w->data->t_cr3 = page_to_phys(w->t_top);

	/*
	 * The transition tables' view of the region: the VM's region PD
	 * (every block, as the guest world has it) in the first GiB, this
	 * vCPU's host page in the second, at BTW_HOST_OFFSET from its block.
	 */
	pt = page_address(w->t_pdpt);
	pt[0] = page_to_phys(wv->pd) | PTE_TABLE;
	pt[1] = page_to_phys(w->t_pd) | PTE_TABLE;
	pt = page_address(w->t_pd);
	pt[id + 1] = page_to_phys(w->t_pt) | PTE_TABLE;
	pt = page_address(w->t_pt);
	pt[0] = page_to_phys(w->host_page) | PTE_P | PTE_W | PTE_A | PTE_D |
		nx_bit();
	w->t_vmm_pml4e = page_to_phys(w->t_pdpt) | PTE_TABLE;

	((u64 *)page_address(wv->pd))[id + 1] = page_to_phys(w->pt) | PTE_TABLE;
	return 0;

nomem:
	hyvm_bt_world_vcpu_destroy(wv, w);
	return -ENOMEM;
}

void hyvm_bt_world_vcpu_destroy(struct bt_world_vm *wv, struct bt_world *w)
{
	unsigned int i;

	/* The vCPU never runs again: no CPU is in its world. */
	if (wv->pd && w->va)
		((u64 *)page_address(wv->pd))[w->id + 1] = 0;
	for (i = 0; i < BTW_PAGES; i++)
		if (w->pages[i])
			__free_page(w->pages[i]);
	if (w->pt)
		__free_page(w->pt);
	if (w->t_top)
		__free_pages(w->t_top, 1);
	if (w->t_pml4)
		__free_page(w->t_pml4);
	if (w->w_pml5)
		__free_page(w->w_pml5);
	if (w->host_page)
		__free_page(w->host_page);
	if (w->t_pdpt)
		__free_page(w->t_pdpt);
	if (w->t_pd)
		__free_page(w->t_pd);
	if (w->t_pt)
		__free_page(w->t_pt);
	memset(w, 0, sizeof(*w));
}

static const u8 seg_order[6] = {
	X86_SEG_CS, X86_SEG_SS, X86_SEG_DS, X86_SEG_ES, X86_SEG_FS, X86_SEG_GS,
};

static bool canonical48(u64 a)
{
	return (u64)(((s64)a << 16) >> 16) == a;
}

static bool gdt_index_ok(u16 sel)
{
	u16 i = sel >> 3;

	return !(sel & 4) && i < BTW_GDT_ENTRIES && i != (BTW_SEL_KCODE >> 3) &&
	       i != (BTW_SEL_TSS >> 3) && i != (BTW_SEL_TSS >> 3) + 1 &&
	       i != GDT_CPUNODE;
}

/**
 * hyvm_bt_world_can_run - may this guest state run in the guest world?
 * @e: the guest state
 *
 * Long-mode 64-bit user code with paging, 4-level guest tables, IF set,
 * IOPL 0, no TF, NT or AC, no protection keys, and selectors the monitor's
 * GDT can give the guest (GDT, not LDT; not an index the monitor uses;
 * present DPL-3 descriptors that agree where two registers share one).
 * Anything else stays in the interpreter, which is exact for it.
 */
bool hyvm_bt_world_can_run(const struct x86_emu *e)
{
	unsigned int i, j;

	if (e->cpl != 3 || !(e->cr0 & X86E_CR0_PG) ||
	    !(e->efer & X86E_EFER_LMA) || e->vm86 ||
	    !(e->seg[X86_SEG_CS].attr & X86_SEG_ATTR_L) ||
	    (e->cr4 & (X86_CR4_LA57 | X86_CR4_PKE)) ||
	    !(e->rflags & X86_EFLAGS_IF) || (e->rflags & BT_NO_DIRECT))
		return false;
	for (i = 0; i < 6; i++) {
		const struct x86_segment *s = &e->seg[seg_order[i]];

		if (!(s->sel & ~3)) {
			/* Null: fine for data registers, never for CS or SS. */
			if (i < 2)
				return false;
			continue;
		}
		if (!gdt_index_ok(s->sel) || !(s->attr & X86_SEG_ATTR_P) ||
		    (s->attr & X86_SEG_ATTR_UNUSABLE) ||
		    !(s->attr & X86_SEG_ATTR_S) ||
		    ((s->attr & X86_SEG_ATTR_DPL) >> 5) != 3)
			return false;
		for (j = 0; j < i; j++) {
			const struct x86_segment *o = &e->seg[seg_order[j]];

			if ((o->sel >> 3) == (s->sel >> 3) &&
			    (o->attr != s->attr || o->limit != s->limit))
				return false;
		}
	}
	/* CS: code; SS: writable data; the others readable. */
	if (!(e->seg[X86_SEG_CS].attr & 8) ||
	    (e->seg[X86_SEG_SS].attr & 0xa) != 2)
		return false;
	for (i = 2; i < 6; i++) {
		u16 a = e->seg[seg_order[i]].attr;

		if ((e->seg[seg_order[i]].sel & ~3) && (a & 0xa) == 8)
			return false;
	}
	/*
	 * What the monitor loads must not fault at CPL0: IRETQ checks RIP,
	 * WRMSR the bases.  (The interpreter raises the guest's #GP.)
	 */
	return canonical48(e->rip) && canonical48(e->seg[X86_SEG_FS].base) &&
	       canonical48(e->seg[X86_SEG_GS].base);
}

/**
 * hyvm_bt_world_can_translate - may this guest state run translated?
 * @e: the guest state
 *
 * 64-bit guest kernel code (CPL0) in long mode with 4-level paging, no
 * TF (single steps are the interpreter's), no protection keys, canonical
 * RIP and FS/GS bases.  IF, IOPL, NT and AC are virtual there, and so
 * are the segment selectors (reading one is a callout).
 */
bool hyvm_bt_world_can_translate(const struct x86_emu *e)
{
	if (e->cpl != 0 || !(e->cr0 & X86E_CR0_PG) ||
	    !(e->efer & X86E_EFER_LMA) || e->vm86 ||
	    !(e->seg[X86_SEG_CS].attr & X86_SEG_ATTR_L) ||
	    (e->cr4 & (X86_CR4_LA57 | X86_CR4_PKE)) ||
	    (e->rflags & (X86_EFLAGS_TF | X86_EFLAGS_VM)))
		return false;
	return canonical48(e->rip) && canonical48(e->seg[X86_SEG_FS].base) &&
	       canonical48(e->seg[X86_SEG_GS].base);
}

/*
 * The guest's selectors into the monitor's GDT, as their registers hold
 * them.  Translated guest kernel code (@xlat) runs at CPL3 on the
 * monitor's own code and stack selectors with null data selectors and
 * the guest's FS and GS bases: the guest reads its selectors only
 * through callouts, so none of its descriptors is needed.
 */
static void load_guest_gdt(struct bt_world *w, const struct x86_emu *e,
			   bool xlat)
{
	unsigned int i;

	for (i = 0; i < 6; i++)
		if (w->gdt_idx[i])
			w->gdt[w->gdt_idx[i]] = 0;
	if (xlat) {
		memset(w->sel_in, 0, sizeof(w->sel_in));
		memset(w->gdt_idx, 0, sizeof(w->gdt_idx));
		w->gdt_idx[0] = BTW_SEL_TCODE >> 3;
		w->gdt_idx[1] = BTW_SEL_TDATA >> 3;
		/* 64-bit code and writable data, DPL 3, accessed. */
		w->gdt[BTW_SEL_TCODE >> 3] = 0x00affb000000ffffULL;
		w->gdt[BTW_SEL_TDATA >> 3] = 0x00cff3000000ffffULL;
		bt_set_tss_desc(w);
		return;
	}
	for (i = 0; i < 6; i++) {
		const struct x86_segment *s = &e->seg[seg_order[i]];
		u16 idx = s->sel >> 3;

		w->sel_in[i] = s->sel;
		w->gdt_idx[i] = idx;
		if (idx)
			w->gdt[idx] = bt_pack_seg(s->base, s->limit,
					       s->attr | 1);	/* accessed */
	}
	bt_set_tss_desc(w);
}

/* A data selector the guest loaded at CPL3: its descriptor was ours. */
static void sync_seg(struct bt_world *w, struct x86_emu *e, unsigned int i,
		     u16 sel)
{
	struct x86_segment *s = &e->seg[seg_order[i]];
	unsigned int j;

	if (sel == s->sel)
		return;
	if (!(sel & ~3)) {
		s->sel = sel;
		s->attr = X86_SEG_ATTR_UNUSABLE;
		return;
	}
	for (j = 0; j < 6; j++) {
		if ((w->sel_in[j] >> 3) == (sel >> 3)) {
			*s = e->seg[seg_order[j]];
			s->sel = sel;
			return;
		}
	}
}

static void set_syscall_msrs(struct bt_world *w, u64 *save)
{
	u64 entry = w->va + (hyvm_bt_world_syscall - hyvm_bt_world_code);

	rdmsrl(MSR_STAR, save[0]);
	rdmsrl(MSR_LSTAR, save[1]);
	rdmsrl(MSR_CSTAR, save[2]);
	rdmsrl(MSR_SYSCALL_MASK, save[3]);
	rdmsrl(MSR_IA32_SYSENTER_CS, save[4]);
	wrmsr(MSR_STAR, 0, BTW_SEL_KCODE);	/* SYSCALL CS; SYSRET unused */
	wrmsrl(MSR_LSTAR, entry);
	wrmsrl(MSR_CSTAR, entry);
	wrmsrl(MSR_SYSCALL_MASK, X86_EFLAGS_IF | X86_EFLAGS_TF | X86_EFLAGS_DF |
		       X86_EFLAGS_AC | X86_EFLAGS_NT | X86_EFLAGS_IOPL);
	/* SYSENTER with a null SYSENTER_CS faults instead of entering the host. */
	wrmsrl(MSR_IA32_SYSENTER_CS, 0);
}

static void restore_syscall_msrs(const u64 *save)
{
	wrmsrl(MSR_STAR, save[0]);
	wrmsrl(MSR_LSTAR, save[1]);
	wrmsrl(MSR_CSTAR, save[2]);
	wrmsrl(MSR_SYSCALL_MASK, save[3]);
	wrmsrl(MSR_IA32_SYSENTER_CS, save[4]);
}

/* The host state the switch comes back to; interrupts are off. */
static void save_host(struct bt_world *w, const struct x86_emu *e, u64 root)
{
	struct bt_world_host *d = w->host;
	struct desc_struct *rw = get_cpu_gdt_rw(smp_processor_id());
	u64 *t = page_address(w->t_top), *top = host_top();
	unsigned int sel;
	u16 tr;

	d->h_cr3 = __read_cr3();
	d->h_cr4 = __read_cr4();
	native_store_gdt((struct desc_ptr *)&d->h_gdt.limit);
	store_idt((struct desc_ptr *)&d->h_idt.limit);
	asm volatile("str %0" : "=r"(tr));
	d->h_tr = tr;
	d->h_gdt_rw.limit = GDT_SIZE - 1;
	d->h_gdt_rw.base = (unsigned long)rw;
	d->h_tss_desc = (unsigned long)rw + (tr & ~7);
	savesegment(ds, sel);
	d->h_ds = sel;
	savesegment(es, sel);
	d->h_es = sel;
	savesegment(fs, sel);
	d->h_fs = sel;
	savesegment(gs, sel);
	d->h_gs = sel;
	savesegment(ss, sel);
	d->h_ss = sel;
	rdmsrl(MSR_FS_BASE, d->h_fs_base);
	rdmsrl(MSR_GS_BASE, d->h_gs_base);
	/* The kernel's paranoid entry may read the CPU number from here. */
	w->gdt[GDT_CPUNODE] = ((u64 *)rw)[GDT_CPUNODE];

	/*
	 * No SMAP: only CPL3 code runs there, whose accesses SMAP does not
	 * concern, and an emulated CPU that pops IRETQ's frame as a
	 * supervisor would fault on the guest's user stack for ever.
	 */
	d->w_cr4 = (d->h_cr4 & ~(X86_CR4_PGE | X86_CR4_FSGSBASE | X86_CR4_PKE |
				 X86_CR4_PCE | X86_CR4_SMAP)) |
		   X86_CR4_TSD;
	/* Never a bit the CPU would refuse: a #GP here would be the monitor's. */
	if (boot_cpu_has(X86_FEATURE_FSGSBASE))
		d->w_cr4 |= e->cr4 & X86_CR4_FSGSBASE;
	if (boot_cpu_has(X86_FEATURE_UMIP))
		d->w_cr4 |= X86_CR4_UMIP;

	/* Transition tables: the host kernel half and the VMM region. */
	memcpy(t + 256, top + 256, 256 * sizeof(u64));
	if (w->t_pml4) {
		u64 *t4 = page_address(w->t_pml4), *h4 = host_vmm_pml4();
		u64 *w5 = page_address(w->w_pml5);

		memcpy(t4, h4, PAGE_SIZE);
		t4[BT_VMM_PML4_SLOT] = w->t_vmm_pml4e;
		t[511] = page_to_phys(w->t_pml4) | (top[511] & ~PTE_PFN_MASK);
		w5[0] = root | PTE_TABLE | _PAGE_USER;
		w5[511] = root | PTE_TABLE | _PAGE_USER;
		d->w_cr3 = page_to_phys(w->w_pml5);
	} else {
		t[BT_VMM_PML4_SLOT] = w->t_vmm_pml4e;
		d->w_cr3 = root;
	}
}

/*
 * The switch itself, with the data page filled: to the guest world and
 * back, then the host's own handler for an interrupt, NMI or #MC taken
 * there.  @x receives why the world was left.
 */
static void world_switch(struct hyvm_vcpu *vcpu, struct bt_world *w,
			 const struct x86_emu *e, u64 root,
			 struct bt_world_exit *x)
{
	struct bt_world_data *d = w->data;
	unsigned long entry = w->va + (hyvm_bt_world_entry - hyvm_bt_world_code);
	bool cpuid_fault = boot_cpu_has(X86_FEATURE_CPUID_FAULT);
	const gate_desc *idt;
	unsigned long flags;
	unsigned int n;
	u64 msrs[5], misc = 0;
	u64 vec;

	d->vector = 0;
	d->fault = 0;
	d->nmi_pend = 0;
	d->mc_pend = 0;

	local_irq_save(flags);
	hyvm_tlb_enter(vcpu);		/* every entry flushes anyway */
	save_host(w, e, root);
	set_syscall_msrs(w, msrs);
	if (hw_breakpoint_active())
		set_debugreg(0, 7);
	/*
	 * CPUID at CPL3 faults, so that guest user code sees the guest's
	 * CPUID (the interpreter runs it), not the host's.
	 */
	if (cpuid_fault) {
		rdmsrl(MSR_MISC_FEATURES_ENABLES, misc);
		wrmsrl(MSR_MISC_FEATURES_ENABLES,
		       misc | MSR_MISC_FEATURES_ENABLES_CPUID_FAULT);
	}
	hyvm_bt_world_switch(d->t_cr3, entry);
	if (cpuid_fault)
		wrmsrl(MSR_MISC_FEATURES_ENABLES, misc);
	restore_syscall_msrs(msrs);
	if (hw_breakpoint_active())
		hw_breakpoint_restore();
	hyvm_tlb_exit(vcpu);
	idt = (const gate_desc *)w->host->h_idt.base;
	if (d->nmi_pend)
		hyvm_host_interrupt(gate_offset(&idt[X86_TRAP_NMI]));
	if (d->mc_pend)
		hyvm_host_interrupt(gate_offset(&idt[X86_TRAP_MC]));
	vec = d->vector;
	if (!d->fault && vec < 256 &&
	    (vec >= FIRST_EXTERNAL_VECTOR || vec == X86_TRAP_NMI ||
	     vec == X86_TRAP_MC))
		hyvm_host_interrupt(gate_offset(&idt[vec]));
	local_irq_restore(flags);
	n = READ_ONCE(bt_world_audit);
	if (n && !(w->entries++ % n))
		hyvm_bt_world_audit(w, root);

	memset(x, 0, sizeof(*x));
	if (d->fault) {
		x->reason = BT_WX_MONITOR_FAULT;
		x->vector = d->fault_vec;
		x->cr2 = d->fault_rip;
		return;
	}
	if (vec == BTW_VEC_SYSCALL)
		x->reason = BT_WX_SYSCALL;
	else if (vec >= FIRST_EXTERNAL_VECTOR || vec == X86_TRAP_NMI ||
		 vec == X86_TRAP_MC)
		x->reason = BT_WX_INTERRUPT;
	else
		x->reason = BT_WX_EXCEPTION;
	x->vector = vec;
	x->error = d->error;
	x->cr2 = d->cr2;
}

static void load_data_segs(struct bt_world *w, const struct x86_emu *e)
{
	struct bt_world_data *d = w->data;

	d->ds = e->seg[X86_SEG_DS].sel;
	d->es = e->seg[X86_SEG_ES].sel;
	d->fs = e->seg[X86_SEG_FS].sel;
	d->gs = e->seg[X86_SEG_GS].sel;
	d->fs_base = e->seg[X86_SEG_FS].base;
	d->gs_base = e->seg[X86_SEG_GS].base;
}

/**
 * hyvm_bt_world_enter - run guest user code directly until it leaves
 * @vcpu: the vCPU, its FPU state loaded, preemption off
 * @w: its world
 * @e: the guest state (hyvm_bt_world_can_run() said yes); updated
 * @root: the shadow user-view root for the guest's CR3
 * @x: receives why the guest left
 *
 * A host interrupt, NMI or #MC taken in the guest world, or noted by the
 * monitor on the way, is handed to the host's handler before interrupts
 * are enabled again.
 */
void hyvm_bt_world_enter(struct hyvm_vcpu *vcpu, struct bt_world *w,
			 struct x86_emu *e, u64 root,
			 struct bt_world_exit *x)
{
	struct bt_world_data *d = w->data;

	memcpy(d->gpr, e->gpr, sizeof(d->gpr));
	d->rip = e->rip;
	d->rflags = (e->rflags & BT_USER_FLAGS) | X86_EFLAGS_IF |
		    X86_EFLAGS_FIXED;
	d->cs = e->seg[X86_SEG_CS].sel;
	d->ss = e->seg[X86_SEG_SS].sel;
	load_data_segs(w, e);
	load_guest_gdt(w, e, false);

	world_switch(vcpu, w, e, root, x);
	if (x->reason == BT_WX_MONITOR_FAULT)
		return;

	memcpy(e->gpr, d->gpr, sizeof(e->gpr));
	e->rip = d->rip;
	e->rflags = (e->rflags & ~BT_BACK_FLAGS) | (d->rflags & BT_BACK_FLAGS);
	sync_seg(w, e, 1, (u16)d->ss);
	sync_seg(w, e, 2, (u16)d->ds);
	sync_seg(w, e, 3, (u16)d->es);
	sync_seg(w, e, 4, (u16)d->fs);
	sync_seg(w, e, 5, (u16)d->gs);
	e->seg[X86_SEG_FS].base = d->fs_base;
	e->seg[X86_SEG_GS].base = d->gs_base;
}

/**
 * hyvm_bt_world_enter_tc - run translated guest kernel code until it leaves
 * @vcpu: the vCPU, its FPU state loaded, preemption off
 * @w: its world
 * @e: the guest's segment state (hyvm_bt_world_can_translate() said
 *	yes); its FS and GS bases are updated
 * @root: the shadow kernel-view root for the guest's CR3
 * @r: the real registers to enter with: the guest's general registers
 *	(or what a CCF holds in them), a TC address and the real RFLAGS
 *	(bt_area_set_rflags()); on return, the same at the exit
 * @exit_stub: where CCFs leave the cache: its #UD is a CCF exit
 * @x: receives why the world was left (%BT_WX_CCF for a CCF exit)
 */
void hyvm_bt_world_enter_tc(struct hyvm_vcpu *vcpu, struct bt_world *w,
			    struct x86_emu *e, u64 root,
			    struct bt_world_regs *r, u64 exit_stub,
			    struct bt_world_exit *x)
{
	struct bt_world_data *d = w->data;

	memcpy(d->gpr, r->gpr, sizeof(d->gpr));
	d->rip = r->rip;
	/* IF on, IOPL 0, no TF, NT or AC: only arithmetic flags and DF. */
	d->rflags = (r->rflags & BT_FL_HW) | X86_EFLAGS_IF | X86_EFLAGS_FIXED;
	d->cs = BTW_SEL_TCODE;
	d->ss = BTW_SEL_TDATA;
	d->ds = d->es = d->fs = d->gs = 0;
	d->fs_base = e->seg[X86_SEG_FS].base;
	d->gs_base = e->seg[X86_SEG_GS].base;
	load_guest_gdt(w, e, true);

	world_switch(vcpu, w, e, root, x);
	if (x->reason == BT_WX_MONITOR_FAULT)
		return;

	memcpy(r->gpr, d->gpr, sizeof(r->gpr));
	r->rip = d->rip;
	r->rflags = d->rflags;
	e->seg[X86_SEG_FS].base = d->fs_base;
	e->seg[X86_SEG_GS].base = d->gs_base;
	if (x->reason == BT_WX_EXCEPTION && x->vector == X86_TRAP_UD &&
	    r->rip == exit_stub)
		x->reason = BT_WX_CCF;
}
