// SPDX-License-Identifier: GPL-2.0
/*
 * Exception delivery: #DE, #UD, #GP (with a selector error code), #BP, and
 * an exception raised by int3 versus one raised by a fault, each with the
 * right vector, error code and saved RIP.
 */
#include "runtime.h"

const char guest_name[] = "exceptions";

extern char de_insn[], ud_insn[], gp_insn[], bp_after[], gp2_insn[];

static bool soft_int(struct trap_frame *f)
{
	return true;	/* recorded by the runtime; nothing else to do */
}

void guest_main(const struct hyvm_boot_info *bi)
{
	uint64_t rflags;

	/* #DE: the saved RIP is the div itself (a fault). */
	rt_trap_reset();
	asm volatile("xor %%ecx, %%ecx\n\t"
		     "mov $1, %%eax\n\t"
		     "xor %%edx, %%edx\n\t"
		     RT_TRY "de_insn: div %%ecx" RT_CATCH
		     : : : "rax", "rcx", "rdx", "r11", "memory");
	CHECK(rt_last_trap.vector == 0, "div by zero raises #DE (vector %d)",
	      rt_last_trap.vector);
	CHECK(rt_last_trap.rip == (uint64_t)de_insn, "#DE saved RIP is the div");

	/* #UD. */
	rt_trap_reset();
	asm volatile(RT_TRY "ud_insn: ud2" RT_CATCH : : : "r11", "memory");
	CHECK(rt_last_trap.vector == 6, "ud2 raises #UD (vector %d)",
	      rt_last_trap.vector);
	CHECK(rt_last_trap.rip == (uint64_t)ud_insn, "#UD saved RIP is the ud2");

	/* #GP with a selector error code: a selector past the GDT limit. */
	rt_trap_reset();
	asm volatile("mov $0x1230, %%eax\n\t"
		     RT_TRY "gp_insn: mov %%eax, %%fs" RT_CATCH
		     : : : "rax", "r11", "memory");
	CHECK(rt_last_trap.vector == 13, "loading a bad selector raises #GP (vector %d)",
	      rt_last_trap.vector);
	CHECK(rt_last_trap.error == 0x1230, "#GP error code is the selector (0x%lx)",
	      (uint64_t)rt_last_trap.error);
	CHECK(rt_last_trap.rip == (uint64_t)gp_insn, "#GP saved RIP is the mov");

	/* #GP(0) from a non-canonical address. */
	rt_trap_reset();
	asm volatile("mov $0x8000000000000000, %%rax\n\t"
		     RT_TRY "gp2_insn: mov (%%rax), %%rax" RT_CATCH
		     : : : "rax", "r11", "memory");
	CHECK(rt_last_trap.vector == 13 && rt_last_trap.error == 0,
	      "a non-canonical load raises #GP(0) (vector %d)", rt_last_trap.vector);
	CHECK(rt_last_trap.rip == (uint64_t)gp2_insn, "#GP saved RIP is the load");

	/* #BP is a trap: the saved RIP is after the int3, and we go on there. */
	rt_trap_reset();
	asm volatile("int3\nbp_after:" : : : "memory");
	CHECK(rt_last_trap.vector == 3, "int3 raises #BP (vector %d)",
	      rt_last_trap.vector);
	CHECK(rt_last_trap.rip == (uint64_t)bp_after, "#BP saved RIP follows the int3");

	/* A software interrupt to an arbitrary vector. */
	rt_set_handler(0x41, soft_int);
	rt_trap_reset();
	asm volatile("int $0x41" : : : "memory");
	CHECK(rt_last_trap.vector == 0x41, "int $0x41 reaches vector 0x41 (%d)",
	      rt_last_trap.vector);

	/* Delivery through an interrupt gate cleared IF; iretq restored it. */
	asm volatile("pushf; pop %0" : "=r"(rflags));
	CHECK(!(rflags & 0x200), "IF is still off after the handlers returned");
	CHECK(rt_last_trap.count >= 6, "%u traps were taken", rt_last_trap.count);
}
