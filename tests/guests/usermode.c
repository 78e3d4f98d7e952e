// SPDX-License-Identifier: GPL-2.0
/*
 * User/kernel transitions: ring-3 code calls the kernel with SYSCALL and
 * with int 0x80 and gets its results; privileged instructions and
 * supervisor pages fault to the kernel with CPL 3 in the saved CS; the
 * kernel comes back to ring 0 with its state intact.
 */
#include "runtime.h"

const char guest_name[] = "usermode";

#define KERNEL_VA	0x8000000000ULL	/* a supervisor-only page */

static volatile uint64_t int80_cs;
static uint8_t user_stack[8192] __attribute__((aligned(4096)));

/* int 0x80 from ring 3: returns rdi * 2 in rax. */
static bool int80(struct trap_frame *f)
{
	int80_cs = f->cs;
	f->rax = f->rdi * 2;
	return true;
}

struct user_results {
	uint32_t cpuid0[4], cpuid1[4];
	long add, int80, cpl;
	int cli_vec, hlt_vec, sup_vec, io_vec;
	uint64_t cli_cs, sup_err;
};
static struct user_results ur;

/* Everything below runs at CPL3. */
static long user_main(long arg)
{
	uint16_t cs;
	long r;

	asm volatile("mov %%cs, %0" : "=r"(cs));
	ur.cpl = cs & 3;
	cpuid(0, 0, ur.cpuid0);
	cpuid(1, 0, ur.cpuid1);
	ur.add = rt_user_syscall(SYS_ADD, arg, 5);
	asm volatile("int $0x80" : "=a"(r) : "D"(21L) : "memory");
	ur.int80 = r;

	rt_trap_reset();
	asm volatile(RT_TRY "cli" RT_CATCH : : : "r11", "memory");
	ur.cli_vec = rt_last_trap.vector;
	ur.cli_cs = rt_last_trap.cs;
	rt_trap_reset();
	asm volatile(RT_TRY "hlt" RT_CATCH : : : "r11", "memory");
	ur.hlt_vec = rt_last_trap.vector;
	rt_trap_reset();
	asm volatile(RT_TRY "outb %%al, $0x80" RT_CATCH : : "a"(0) : "r11", "memory");
	ur.io_vec = rt_last_trap.vector;
	rt_trap_reset();
	asm volatile(RT_TRY "mov (%0), %%rax" RT_CATCH
		     : : "r"(KERNEL_VA) : "rax", "r11", "memory");
	ur.sup_vec = rt_last_trap.vector;
	ur.sup_err = rt_last_trap.error;
	rt_user_syscall(SYS_WRITE, (long)"usermode: hello from ring 3\n", 0);
	return arg + 1000;
}

void guest_main(const struct hyvm_boot_info *bi)
{
	extern char __image_end[];
	uint32_t r0[4], r1[4];
	uint16_t cs;
	long ret;

	/*
	 * The runtime's image (code, data, this guest's state and stack) is
	 * made user-accessible; one page elsewhere stays supervisor-only.
	 */
	rt_set_user(0x100000, (uint64_t)__image_end - 0x100000);
	rt_map(KERNEL_VA, (uint64_t)rt_alloc_page(), PTE_P | PTE_W);
	rt_set_handler(0x80, int80);

	ret = rt_run_user(user_main, 7, user_stack + sizeof(user_stack));
	asm volatile("mov %%cs, %0" : "=r"(cs));

	CHECK(ret == 1007, "user function's return value came back (%ld)", ret);
	CHECK(cs == KERNEL_CS, "back in ring 0 (cs 0x%x)", cs);
	CHECK(ur.cpl == 3, "the user code ran at CPL %ld", ur.cpl);
	CHECK(ur.add == 12, "syscall SYS_ADD(7, 5) = %ld", ur.add);
	CHECK(ur.int80 == 42, "int 0x80 from ring 3 returned %ld", ur.int80);
	CHECK(int80_cs == USER_CS, "int 0x80 frame has the user CS (0x%lx)",
	      (uint64_t)int80_cs);
	CHECK(ur.cli_vec == 13 && (ur.cli_cs & 3) == 3,
	      "cli at CPL3 raises #GP from ring 3 (vector %d)", ur.cli_vec);
	CHECK(ur.hlt_vec == 13, "hlt at CPL3 raises #GP (vector %d)", ur.hlt_vec);
	CHECK(ur.io_vec == 13, "out at CPL3 with IOPL 0 raises #GP (vector %d)",
	      ur.io_vec);
	CHECK(ur.sup_vec == 14 && ur.sup_err == (PF_P | PF_U),
	      "user read of a supervisor page: #PF error %lx", ur.sup_err);
	/*
	 * With --cmdline cpuid: bt runs ring 3 directly and can make it see
	 * the guest's CPUID only where the CPU has CPUID faulting.
	 */
	if (bi->cmdline && !memcmp((const void *)bi->cmdline, "cpuid", 6)) {
		cpuid(0, 0, r0);
		cpuid(1, 0, r1);
		CHECK(!memcmp(r0, ur.cpuid0, sizeof(r0)) &&
		      r1[0] == ur.cpuid1[0] && r1[2] == ur.cpuid1[2] &&
		      r1[3] == ur.cpuid1[3],
		      "CPUID at CPL3 says what it says at CPL0 (max leaf 0x%x / 0x%x)",
		      ur.cpuid0[0], r0[0]);
	}
}
