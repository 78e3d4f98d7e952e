// SPDX-License-Identifier: GPL-2.0
/*
 * Self- and cross-modifying guest kernel code.  A VMM that runs cached
 * translations of guest code (bt) must notice every change of the bytes
 * and of their mapping: a store through the same address, a store
 * through another mapping of the frame, a store to the very next
 * instruction, a page-table change that maps other code at the same
 * address, code and data sharing a page, and a CR3 switch to an address
 * space with other code at the same address.
 */
#include "runtime.h"

const char guest_name[] = "smc";

#define CODE_VA		0xa000000000ULL	/* executable, writable */
#define ALIAS_VA	0xa000200000ULL	/* the same frame, written as data */
#define SWAP_VA		0xa000400000ULL	/* remapped between two frames */

typedef uint32_t (*fn_t)(void);

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

/* mov $v, %eax; ret */
static void emit_ret(uint8_t *p, uint32_t v)
{
	p[0] = 0xb8;
	put32(p + 1, v);
	p[5] = 0xc3;
}

static uint32_t __attribute__((noinline)) call(uint64_t va)
{
	return ((fn_t)va)();
}

/*
 * A function that stores into its own next instruction before running
 * it: movl $0x2a, 1f+1(%rip); 1: mov $0, %eax; ret.
 */
static const uint8_t self_patch[] = {
	0xc7, 0x05, 0x01, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x00, 0x00,
	0xb8, 0x00, 0x00, 0x00, 0x00,
	0xc3,
};

void guest_main(const struct hyvm_boot_info *bi)
{
	uint8_t *page = rt_alloc_page(), *fa = rt_alloc_page();
	uint8_t *fb = rt_alloc_page(), *code = (uint8_t *)CODE_VA;
	uint8_t *alias = (uint8_t *)ALIAS_VA;
	volatile uint32_t *counter;
	uint64_t cr3, *top, *top2;
	unsigned int i, bad;
	uint32_t v;

	rt_map(CODE_VA, (uint64_t)page, PTE_P | PTE_W);
	rt_map(ALIAS_VA, (uint64_t)page, PTE_P | PTE_W);

	emit_ret(code, 1);
	CHECK(call(CODE_VA) == 1, "code written and run");
	put32(code + 1, 2);
	CHECK(call(CODE_VA) == 2, "a store through the same address is seen");
	put32(alias + 1, 3);
	CHECK(call(CODE_VA) == 3, "a store through another mapping is seen");

	bad = 0;
	for (i = 0; i < 200; i++) {
		put32(alias + 1, i);
		bad += call(CODE_VA) != i;
	}
	CHECK(!bad, "200 patches through the alias, each one seen (%u wrong)",
	      bad);

	for (i = 0; i < sizeof(self_patch); i++)
		code[0x100 + i] = self_patch[i];
	CHECK(call(CODE_VA + 0x100) == 0x2a,
	      "a store to the next instruction is seen");
	put32(code + 0x10b, 0);
	CHECK(code[0x10b] == 0 && call(CODE_VA + 0x100) == 0x2a,
	      "... again after the immediate was reset");

	/* Code and a busy counter on one page. */
	emit_ret(code + 0x200, 7);
	counter = (volatile uint32_t *)(code + 0x800);
	*counter = 0;
	bad = 0;
	for (i = 0; i < 300; i++) {
		++*counter;
		bad += call(CODE_VA + 0x200) != 7;
	}
	CHECK(!bad && *counter == 300,
	      "code and data on one page: %u calls wrong, counter %u", bad,
	      *counter);

	/* The same address, other frames. */
	emit_ret(fa, 0xa);
	emit_ret(fb, 0xb);
	rt_map(SWAP_VA, (uint64_t)fa, PTE_P);
	CHECK(call(SWAP_VA) == 0xa, "code at its first frame");
	*rt_pte(SWAP_VA) = (uint64_t)fb | PTE_P;
	invlpg(SWAP_VA);
	CHECK(call(SWAP_VA) == 0xb, "the PTE changed: the new frame's code runs");
	bad = 0;
	for (i = 0; i < 100; i++) {
		*rt_pte(SWAP_VA) = (uint64_t)(i & 1 ? fb : fa) | PTE_P;
		invlpg(SWAP_VA);
		v = call(SWAP_VA);
		bad += v != (i & 1 ? 0xbu : 0xau);
	}
	CHECK(!bad, "100 remappings, each one seen (%u wrong)", bad);

	/*
	 * Another address space: a copy of the top-level table whose entry
	 * for SWAP_VA's region leads to the other frame.  The copied entry
	 * shares the lower tables, so the switch is made with the PTE
	 * pointing at fb while the original CR3 last ran fa's code.
	 */
	*rt_pte(SWAP_VA) = (uint64_t)fa | PTE_P;
	invlpg(SWAP_VA);
	CHECK(call(SWAP_VA) == 0xa, "back at the first frame");
	cr3 = read_cr3();
	top = (uint64_t *)(cr3 & PTE_ADDR);
	top2 = rt_alloc_page();
	for (i = 0; i < 512; i++)
		top2[i] = top[i];
	*rt_pte(SWAP_VA) = (uint64_t)fb | PTE_P;
	write_cr3((uint64_t)top2);
	CHECK(call(SWAP_VA) == 0xb, "after a CR3 switch the other frame's code runs");
	*rt_pte(SWAP_VA) = (uint64_t)fa | PTE_P;
	write_cr3(cr3);
	CHECK(call(SWAP_VA) == 0xa, "and back");
}
