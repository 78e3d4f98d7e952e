// SPDX-License-Identifier: GPL-2.0
/*
 * Supervisor-mode protection bits: CR0.WP (supervisor writes to read-only
 * pages), SMEP (supervisor fetches from user pages) and SMAP (supervisor
 * data accesses to user pages, unless EFLAGS.AC), each off and on.  A
 * shadow MMU has to reproduce every one of them.  SMEP and SMAP are
 * checked where CPUID reports them.
 */
#include "runtime.h"

const char guest_name[] = "protection";

#define RO_VA		0x8000000000ULL		/* supervisor, read-only */
#define USER_VA		0x8000200000ULL		/* user, writable */

static int try_write(uint64_t va)
{
	rt_trap_reset();
	asm volatile(RT_TRY "movq $7, (%0)" RT_CATCH : : "r"(va) : "r11", "memory");
	return rt_last_trap.vector;
}

static int try_read(uint64_t va, uint64_t *v)
{
	uint64_t x = 0;

	rt_trap_reset();
	asm volatile(RT_TRY "mov (%1), %0" RT_CATCH : "+r"(x) : "r"(va) : "r11", "memory");
	*v = x;
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

static void wp(void)
{
	uint64_t *ro = rt_alloc_page();
	uint64_t cr0 = read_cr0();
	int vec;

	rt_map(RO_VA, (uint64_t)ro, PTE_P);
	write_cr0(cr0 | CR0_WP);
	vec = try_write(RO_VA);
	CHECK(vec == 14 && rt_last_trap.error == (PF_P | PF_W) && !ro[0],
	      "CR0.WP=1: supervisor write to a read-only page faults (error %lx)",
	      (uint64_t)rt_last_trap.error);
	write_cr0(cr0 & ~CR0_WP);
	vec = try_write(RO_VA);
	CHECK(vec == -1 && ro[0] == 7,
	      "CR0.WP=0: supervisor write to a read-only page succeeds");
	write_cr0(cr0);
	ro[0] = 0;
	vec = try_write(RO_VA);
	CHECK(vec == 14, "CR0.WP=1 again: the write faults again");
}

static void smep(uint8_t *code)
{
	uint64_t cr4 = read_cr4();
	int vec;

	vec = try_call(USER_VA);
	CHECK(vec == -1, "SMEP off: supervisor call into a user page returns");
	write_cr4(cr4 | CR4_SMEP);
	vec = try_call(USER_VA);
	CHECK(vec == 14 && rt_last_trap.cr2 == USER_VA &&
	      rt_last_trap.error == (PF_P | PF_I),
	      "SMEP on: supervisor fetch from a user page faults (error %lx)",
	      (uint64_t)rt_last_trap.error);
	write_cr4(cr4);
	vec = try_call(USER_VA);
	CHECK(vec == -1, "SMEP off again: the call returns");
}

static void smap(void)
{
	uint64_t cr4 = read_cr4(), v;
	int vec;

	vec = try_read(USER_VA + 8, &v);
	CHECK(vec == -1 && v == 0x5a5a, "SMAP off: supervisor read of a user page");
	write_cr4(cr4 | CR4_SMAP);
	vec = try_read(USER_VA + 8, &v);
	CHECK(vec == 14 && rt_last_trap.cr2 == USER_VA + 8 &&
	      rt_last_trap.error == PF_P,
	      "SMAP on: supervisor read of a user page faults (error %lx)",
	      (uint64_t)rt_last_trap.error);
	vec = try_write(USER_VA + 16);
	CHECK(vec == 14 && rt_last_trap.error == (PF_P | PF_W),
	      "SMAP on: supervisor write to a user page faults (error %lx)",
	      (uint64_t)rt_last_trap.error);
	asm volatile("stac" : : : "memory");
	vec = try_read(USER_VA + 8, &v);
	asm volatile("clac" : : : "memory");
	CHECK(vec == -1 && v == 0x5a5a, "SMAP on with EFLAGS.AC (stac): the read works");
	vec = try_read(USER_VA + 8, &v);
	CHECK(vec == 14, "after clac the read faults again");
	write_cr4(cr4);
}

void guest_main(const struct hyvm_boot_info *bi)
{
	uint8_t *user = rt_alloc_page();
	uint32_t r[4] = { 0 }, max[4];

	wp();

	/* One user page: a ret at offset 0, data at 8. */
	user[0] = 0xc3;
	((uint64_t *)user)[1] = 0x5a5a;
	rt_map(USER_VA, (uint64_t)user, PTE_P | PTE_W | PTE_U);
	rt_set_user(USER_VA, PAGE_SIZE);

	cpuid(0, 0, max);
	if (max[0] >= 7)
		cpuid(7, 0, r);
	if (r[1] & (1U << 7))
		smep(user);
	else
		rt_printf("protection: no SMEP on this CPU, not checked\n");
	if (r[1] & (1U << 20))
		smap();
	else
		rt_printf("protection: no SMAP on this CPU, not checked\n");
}
