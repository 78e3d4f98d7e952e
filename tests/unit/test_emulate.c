// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of hyvm's instruction emulator (virt/emulate/emulate.c).
 *
 *  - differential: each integer instruction form runs natively on the host
 *    CPU (copied into an executable page between a register load and
 *    store) and in the emulator, on random operands and input flags; the
 *    registers and every defined arithmetic flag must match, and a native
 *    #DE must be an emulated #DE;
 *  - scenarios over a small fake guest memory: string instructions with
 *    rep, faults in the middle of an instruction, privileged instructions,
 *    I/O permission, real-mode far control flow and interrupts, syscall.
 *
 * HYVM_LONG=1 runs more random operands.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "emulate/emulate.h"

static bool long_run(void)
{
	const char *s = getenv("HYVM_LONG");

	return s && *s && *s != '0';
}

static u64 rng = 0x243f6a8885a308d3ULL;

static u64 rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Operands that find the edge cases: 0, 1, all ones, sign bits, random. */
static u64 rnd_operand(void)
{
	static const u64 special[] = {
		0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff,
		0x80000000, 0xffffffff, 0x7fffffffffffffffULL, 0x8000000000000000ULL,
		~0ULL, 0x100, 0x10000, 0x100000000ULL,
	};
	u64 r = rnd();

	switch (r & 7) {
	case 0:
		return special[(r >> 3) % ARRAY_SIZE(special)];
	case 1:
		return r >> 56;
	case 2:
		return (u64)-(s64)(r >> 58);
	default:
		return rnd();
	}
}

/* ---------------------------------------------------------------------- */
/* Native execution.                                                       */

struct nstate {
	u64 r[16];
	u64 rflags;
};

/*
 * Loads every register but rsp and r15 from a struct nstate, runs the
 * 16-byte slot (the instruction under test, padded with nops), and stores
 * them back.  Copied into an executable page and patched for each test.
 */
asm(".pushsection .rodata\n"
    ".globl stub_begin, stub_slot, stub_end\n"
    "stub_begin:\n"
    "push %rbx\npush %rbp\npush %r12\npush %r13\npush %r14\npush %r15\n"
    "mov %rdi, %r15\n"
    "mov 0(%r15), %rax\nmov 8(%r15), %rcx\nmov 16(%r15), %rdx\nmov 24(%r15), %rbx\n"
    "mov 40(%r15), %rbp\nmov 48(%r15), %rsi\nmov 56(%r15), %rdi\n"
    "mov 64(%r15), %r8\nmov 72(%r15), %r9\nmov 80(%r15), %r10\nmov 88(%r15), %r11\n"
    "mov 96(%r15), %r12\nmov 104(%r15), %r13\nmov 112(%r15), %r14\n"
    "pushq 128(%r15)\npopfq\n"
    "stub_slot:\n"
    ".fill 16, 1, 0x90\n"
    "pushfq\npopq 128(%r15)\n"
    "mov %rax, 0(%r15)\nmov %rcx, 8(%r15)\nmov %rdx, 16(%r15)\nmov %rbx, 24(%r15)\n"
    "mov %rbp, 40(%r15)\nmov %rsi, 48(%r15)\nmov %rdi, 56(%r15)\n"
    "mov %r8, 64(%r15)\nmov %r9, 72(%r15)\nmov %r10, 80(%r15)\nmov %r11, 88(%r15)\n"
    "mov %r12, 96(%r15)\nmov %r13, 104(%r15)\nmov %r14, 112(%r15)\n"
    "cld\n"
    "pop %r15\npop %r14\npop %r13\npop %r12\npop %rbp\npop %rbx\n"
    "ret\n"
    "stub_end:\n"
    ".popsection\n");

extern const u8 stub_begin[], stub_slot[], stub_end[];

static u8 *stub_page;
static sigjmp_buf fpe_jmp;

static void on_fpe(int sig)
{
	siglongjmp(fpe_jmp, 1);
}

static int setup_native(void **state)
{
	stub_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (stub_page == MAP_FAILED)
		return -1;
	memcpy(stub_page, stub_begin, stub_end - stub_begin);
	return 0;
}

/* Run @bytes natively on @s; false if it raised #DE (SIGFPE). */
static bool run_native(const u8 *bytes, unsigned int n, struct nstate *s)
{
	u8 *slot = stub_page + (stub_slot - stub_begin);
	void (*fn)(struct nstate *) = (void (*)(struct nstate *))stub_page;

	memset(slot, 0x90, 16);
	memcpy(slot, bytes, n);
	if (sigsetjmp(fpe_jmp, 1))
		return false;
	fn(s);
	return true;
}

/* ---------------------------------------------------------------------- */
/* A flat fake guest: 1 MiB of memory, with a hole that page-faults.       */

#define MEM_SIZE	(1u << 20)
#define HOLE_START	0x80000
#define HOLE_END	0x81000

static u8 *mem;
static unsigned int nr_writes;

struct env {
	u16 last_port;
	u32 last_out;
	unsigned int outs, out_budget;
	u64 msr[10];
	u64 cr_set[9];
	unsigned int cr_calls;
	u64 invlpg_la;
};

static struct env env;

static int cb_read(struct x86_emu *e, u64 la, void *buf, unsigned int n, bool fetch)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		u64 a = la + i;

		if (a >= MEM_SIZE || (a >= HOLE_START && a < HOLE_END))
			return x86_emu_page_fault(e, a, fetch ? 0x10 : 0);
	}
	memcpy(buf, mem + la, n);
	return X86_EMU_CB_OK;
}

static int cb_write(struct x86_emu *e, u64 la, const void *buf, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		u64 a = la + i;

		if (a >= MEM_SIZE || (a >= HOLE_START && a < HOLE_END))
			return x86_emu_page_fault(e, a, 2);
	}
	memcpy(mem + la, buf, n);
	nr_writes++;
	return X86_EMU_CB_OK;
}

static int cb_in(struct x86_emu *e, u16 port, unsigned int size, u32 *val)
{
	env.last_port = port;
	*val = 0x12345678 & (size == 4 ? ~0u : (1u << (8 * size)) - 1);
	return X86_EMU_CB_OK;
}

static int cb_out(struct x86_emu *e, u16 port, unsigned int size, u32 val)
{
	/* out_budget > 0: leave (X86_EMU_CB_EXIT) once that many went out. */
	if (env.out_budget && env.outs == env.out_budget)
		return X86_EMU_CB_EXIT;
	env.outs++;
	env.last_port = port;
	env.last_out = val;
	return X86_EMU_CB_OK;
}

static int msr_index(u32 msr)
{
	switch (msr) {
	case X86E_MSR_STAR: return 0;
	case X86E_MSR_LSTAR: return 1;
	case X86E_MSR_CSTAR: return 2;
	case X86E_MSR_FMASK: return 3;
	case X86E_MSR_KERNEL_GS_BASE: return 4;
	case X86E_MSR_TSC_AUX: return 5;
	case 0x10: return 6;
	case X86E_MSR_SYSENTER_CS: return 7;
	case X86E_MSR_SYSENTER_ESP: return 8;
	case X86E_MSR_SYSENTER_EIP: return 9;
	}
	return -1;
}

static int cb_rdmsr(struct x86_emu *e, u32 msr, u64 *val)
{
	int i = msr_index(msr);

	/* FS and GS bases live in the segment state, as in the kernel. */
	if (msr == X86E_MSR_FS_BASE || msr == X86E_MSR_GS_BASE) {
		*val = e->seg[msr == X86E_MSR_FS_BASE ? X86_SEG_FS : X86_SEG_GS].base;
		return X86_EMU_CB_OK;
	}

	if (i < 0)
		return X86_EMU_CB_FAULT;
	*val = env.msr[i];
	return X86_EMU_CB_OK;
}

static int cb_wrmsr(struct x86_emu *e, u32 msr, u64 val)
{
	int i = msr_index(msr);

	if (msr == X86E_MSR_FS_BASE || msr == X86E_MSR_GS_BASE) {
		e->seg[msr == X86E_MSR_FS_BASE ? X86_SEG_FS : X86_SEG_GS].base = val;
		return X86_EMU_CB_OK;
	}

	if (i < 0)
		return X86_EMU_CB_FAULT;
	env.msr[i] = val;
	return X86_EMU_CB_OK;
}

static int cb_set_cr(struct x86_emu *e, unsigned int cr, u64 val)
{
	env.cr_set[cr] = val;
	env.cr_calls++;
	switch (cr) {
	case 0: e->cr0 = val; break;
	case 3: e->cr3 = val; break;
	case 4: e->cr4 = val; break;
	case 8: e->cr8 = val; break;
	}
	return X86_EMU_CB_OK;
}

static void cb_cpuid(struct x86_emu *e, u32 leaf, u32 sub, u32 out[4])
{
	out[0] = leaf + 1;
	out[1] = sub + 2;
	out[2] = 0x6c65746e;
	out[3] = 0x49656e69;
}

static u64 cb_rdtsc(struct x86_emu *e)
{
	return 0x1122334455667788ULL;
}

static int cb_invlpg(struct x86_emu *e, u64 la)
{
	env.invlpg_la = la;
	return X86_EMU_CB_OK;
}

static const struct x86_emu_ops ops = {
	.read = cb_read,
	.write = cb_write,
	.pio_in = cb_in,
	.pio_out = cb_out,
	.get_msr = cb_rdmsr,
	.set_msr = cb_wrmsr,
	.set_cr = cb_set_cr,
	.cpuid = cb_cpuid,
	.rdtsc = cb_rdtsc,
	.invlpg = cb_invlpg,
};

static void flat(struct x86_segment *s, u16 sel, u16 attr)
{
	s->sel = sel;
	s->base = 0;
	s->limit = 0xffffffff;
	s->attr = attr | X86_SEG_ATTR_P | X86_SEG_ATTR_S | X86_SEG_ATTR_G;
}

/* A 64-bit vCPU at @cpl, code at 0x1000, stack top at 0x70000. */
static void init_long(struct x86_emu *e, unsigned int cpl)
{
	unsigned int i;

	memset(e, 0, sizeof(*e));
	e->ops = &ops;
	for (i = 0; i < 6; i++)
		flat(&e->seg[i], 0x10 | cpl, 0x3 | cpl << 5 | X86_SEG_ATTR_DB);
	flat(&e->seg[X86_SEG_CS], 0x08 | cpl, 0xb | cpl << 5 | X86_SEG_ATTR_L);
	e->cr0 = X86E_CR0_PE | X86E_CR0_PG | X86E_CR0_ET;
	e->cr4 = X86E_CR4_PAE;
	e->efer = X86E_EFER_LME | X86E_EFER_LMA | X86E_EFER_SCE;
	e->rflags = X86E_FL_FIXED;
	e->rip = 0x1000;
	e->gpr[X86_RSP] = 0x70000;
	x86_emu_update_mode(e);
}

static void init_real(struct x86_emu *e)
{
	unsigned int i;

	memset(e, 0, sizeof(*e));
	e->ops = &ops;
	for (i = 0; i < 6; i++) {
		e->seg[i].limit = 0xffff;
		e->seg[i].attr = X86_SEG_ATTR_P | X86_SEG_ATTR_S | 0x3;
	}
	e->seg[X86_SEG_CS].attr = X86_SEG_ATTR_P | X86_SEG_ATTR_S | 0xb;
	e->idtr.limit = 0x3ff;
	e->rflags = X86E_FL_FIXED;
	x86_emu_update_mode(e);
}

/* A 32-bit protected-mode vCPU at @cpl with flat segments. */
static void init_prot32(struct x86_emu *e, unsigned int cpl)
{
	unsigned int i;

	init_long(e, cpl);
	e->efer = X86E_EFER_SCE;
	e->cr0 = X86E_CR0_PE | X86E_CR0_ET;
	for (i = 0; i < 6; i++)
		flat(&e->seg[i], 0x10 | cpl, 0x3 | cpl << 5 | X86_SEG_ATTR_DB);
	flat(&e->seg[X86_SEG_CS], 0x08 | cpl, 0xb | cpl << 5 | X86_SEG_ATTR_DB);
	x86_emu_update_mode(e);
}

static void load_code(struct x86_emu *e, const void *code, unsigned int n)
{
	u64 la = e->mode == X86_MODE_LONG64 ? e->rip : e->seg[X86_SEG_CS].base + e->rip;

	memcpy(mem + la, code, n);
}

/* ---------------------------------------------------------------------- */
/* Differential ALU tests.                                                 */

enum kind {
	K_PLAIN,	/* all flags defined */
	K_LOGIC,	/* AF undefined */
	K_SHIFT,	/* count-dependent: see undefined_flags() */
	K_ROT,
	K_SHXD,
	K_MUL,		/* SF ZF AF PF undefined */
	K_DIV,		/* all undefined */
	K_BT,		/* only CF defined */
	K_BS,		/* only ZF defined */
};

struct form {
	const char *name;
	u8 map;		/* 0: one byte, 1: 0F */
	u8 op;
	s8 reg;		/* fixed ModRM.reg (group); -1: random register;
			 * -2: register in the opcode's low bits; -3: none */
	bool modrm;
	u8 imm;		/* immediate bytes (0, 1, 2, 4 or 'z' for 2/4 by size) */
	u8 sizes;	/* bit 0: byte op; bits 1-3: 16, 32, 64 */
	u8 kind;
	u8 count_reg;	/* the shift count comes from CL (and masks CL) */
};

#define B	1
#define WDQ	(2 | 4 | 8)
#define ALL	(B | WDQ)

static const struct form forms[] = {
	{ "add", 0, 0x00, -1, 1, 0, B, K_PLAIN }, { "add", 0, 0x01, -1, 1, 0, WDQ, K_PLAIN },
	{ "add", 0, 0x02, -1, 1, 0, B, K_PLAIN }, { "add", 0, 0x03, -1, 1, 0, WDQ, K_PLAIN },
	{ "add al", 0, 0x04, -1, 0, 1, B, K_PLAIN }, { "add eax", 0, 0x05, -1, 0, 'z', WDQ, K_PLAIN },
	{ "or", 0, 0x08, -1, 1, 0, B, K_LOGIC }, { "or", 0, 0x0b, -1, 1, 0, WDQ, K_LOGIC },
	{ "adc", 0, 0x10, -1, 1, 0, B, K_PLAIN }, { "adc", 0, 0x11, -1, 1, 0, WDQ, K_PLAIN },
	{ "adc", 0, 0x15, -1, 0, 'z', WDQ, K_PLAIN },
	{ "sbb", 0, 0x18, -1, 1, 0, B, K_PLAIN }, { "sbb", 0, 0x19, -1, 1, 0, WDQ, K_PLAIN },
	{ "sbb", 0, 0x1c, -1, 0, 1, B, K_PLAIN },
	{ "and", 0, 0x20, -1, 1, 0, B, K_LOGIC }, { "and", 0, 0x23, -1, 1, 0, WDQ, K_LOGIC },
	{ "sub", 0, 0x28, -1, 1, 0, B, K_PLAIN }, { "sub", 0, 0x29, -1, 1, 0, WDQ, K_PLAIN },
	{ "sub", 0, 0x2d, -1, 0, 'z', WDQ, K_PLAIN },
	{ "xor", 0, 0x30, -1, 1, 0, B, K_LOGIC }, { "xor", 0, 0x31, -1, 1, 0, WDQ, K_LOGIC },
	{ "cmp", 0, 0x38, -1, 1, 0, B, K_PLAIN }, { "cmp", 0, 0x39, -1, 1, 0, WDQ, K_PLAIN },
	{ "cmp", 0, 0x3a, -1, 1, 0, B, K_PLAIN }, { "cmp", 0, 0x3d, -1, 0, 'z', WDQ, K_PLAIN },
	{ "grp1 add", 0, 0x80, 0, 1, 1, B, K_PLAIN }, { "grp1 or", 0, 0x81, 1, 1, 'z', WDQ, K_LOGIC },
	{ "grp1 adc", 0, 0x83, 2, 1, 1, WDQ, K_PLAIN }, { "grp1 sbb", 0, 0x81, 3, 1, 'z', WDQ, K_PLAIN },
	{ "grp1 and", 0, 0x83, 4, 1, 1, WDQ, K_LOGIC }, { "grp1 sub", 0, 0x80, 5, 1, 1, B, K_PLAIN },
	{ "grp1 xor", 0, 0x81, 6, 1, 'z', WDQ, K_LOGIC }, { "grp1 cmp", 0, 0x83, 7, 1, 1, WDQ, K_PLAIN },
	{ "test", 0, 0x84, -1, 1, 0, B, K_LOGIC }, { "test", 0, 0x85, -1, 1, 0, WDQ, K_LOGIC },
	{ "test al", 0, 0xa8, -1, 0, 1, B, K_LOGIC }, { "test eax", 0, 0xa9, -1, 0, 'z', WDQ, K_LOGIC },
	{ "xchg", 0, 0x86, -1, 1, 0, B, K_PLAIN }, { "xchg", 0, 0x87, -1, 1, 0, WDQ, K_PLAIN },
	{ "mov", 0, 0x88, -1, 1, 0, B, K_PLAIN }, { "mov", 0, 0x89, -1, 1, 0, WDQ, K_PLAIN },
	{ "mov", 0, 0x8a, -1, 1, 0, B, K_PLAIN }, { "mov", 0, 0x8b, -1, 1, 0, WDQ, K_PLAIN },
	{ "mov imm", 0, 0xc7, 0, 1, 'z', WDQ, K_PLAIN }, { "mov imm", 0, 0xc6, 0, 1, 1, B, K_PLAIN },
	{ "mov r,imm", 0, 0xb9, -2, 0, 'v', WDQ, K_PLAIN }, { "mov r8,imm", 0, 0xb3, -2, 0, 1, B, K_PLAIN },
	{ "xchg eax,r", 0, 0x93, -2, 0, 0, WDQ, K_PLAIN },
	{ "imul3", 0, 0x69, -1, 1, 'z', WDQ, K_MUL }, { "imul3 ib", 0, 0x6b, -1, 1, 1, WDQ, K_MUL },
	{ "cbw", 0, 0x98, -3, 0, 0, WDQ, K_PLAIN }, { "cwd", 0, 0x99, -3, 0, 0, WDQ, K_PLAIN },
	{ "sahf", 0, 0x9e, -3, 0, 0, 4, K_PLAIN }, { "lahf", 0, 0x9f, -3, 0, 0, 4, K_PLAIN },
	{ "cmc", 0, 0xf5, -3, 0, 0, 4, K_PLAIN }, { "clc", 0, 0xf8, -3, 0, 0, 4, K_PLAIN },
	{ "stc", 0, 0xf9, -3, 0, 0, 4, K_PLAIN },
	{ "rol", 0, 0xc0, 0, 1, 1, B, K_ROT }, { "ror", 0, 0xc1, 1, 1, 1, WDQ, K_ROT },
	{ "rcl", 0, 0xd2, 2, 1, 0, B, K_ROT, 1 }, { "rcr", 0, 0xd3, 3, 1, 0, WDQ, K_ROT, 1 },
	{ "rcl", 0, 0xd3, 2, 1, 0, WDQ, K_ROT, 1 }, { "rcr", 0, 0xd2, 3, 1, 0, B, K_ROT, 1 },
	{ "rol", 0, 0xd3, 0, 1, 0, WDQ, K_ROT, 1 }, { "ror", 0, 0xd2, 1, 1, 0, B, K_ROT, 1 },
	{ "rcl1", 0, 0xd1, 2, 1, 0, WDQ, K_ROT }, { "rcr1", 0, 0xd0, 3, 1, 0, B, K_ROT },
	{ "shl", 0, 0xd3, 4, 1, 0, WDQ, K_SHIFT, 1 }, { "shr", 0, 0xd2, 5, 1, 0, B, K_SHIFT, 1 },
	{ "sal", 0, 0xd2, 6, 1, 0, B, K_SHIFT, 1 }, { "sar", 0, 0xd3, 7, 1, 0, WDQ, K_SHIFT, 1 },
	{ "shl", 0, 0xd2, 4, 1, 0, B, K_SHIFT, 1 }, { "shr", 0, 0xd3, 5, 1, 0, WDQ, K_SHIFT, 1 },
	{ "sar", 0, 0xd2, 7, 1, 0, B, K_SHIFT, 1 },
	{ "shl1", 0, 0xd1, 4, 1, 0, WDQ, K_SHIFT }, { "shr1", 0, 0xd0, 5, 1, 0, B, K_SHIFT },
	{ "sar1", 0, 0xd1, 7, 1, 0, WDQ, K_SHIFT },
	{ "shl ib", 0, 0xc1, 4, 1, 1, WDQ, K_SHIFT }, { "sar ib", 0, 0xc0, 7, 1, 1, B, K_SHIFT },
	{ "test ib", 0, 0xf6, 0, 1, 1, B, K_LOGIC }, { "test iz", 0, 0xf7, 0, 1, 'z', WDQ, K_LOGIC },
	{ "not", 0, 0xf6, 2, 1, 0, B, K_PLAIN }, { "not", 0, 0xf7, 2, 1, 0, WDQ, K_PLAIN },
	{ "neg", 0, 0xf6, 3, 1, 0, B, K_PLAIN }, { "neg", 0, 0xf7, 3, 1, 0, WDQ, K_PLAIN },
	{ "mul", 0, 0xf6, 4, 1, 0, B, K_MUL }, { "mul", 0, 0xf7, 4, 1, 0, WDQ, K_MUL },
	{ "imul", 0, 0xf6, 5, 1, 0, B, K_MUL }, { "imul", 0, 0xf7, 5, 1, 0, WDQ, K_MUL },
	{ "div", 0, 0xf6, 6, 1, 0, B, K_DIV }, { "div", 0, 0xf7, 6, 1, 0, WDQ, K_DIV },
	{ "idiv", 0, 0xf6, 7, 1, 0, B, K_DIV }, { "idiv", 0, 0xf7, 7, 1, 0, WDQ, K_DIV },
	{ "inc", 0, 0xfe, 0, 1, 0, B, K_PLAIN }, { "inc", 0, 0xff, 0, 1, 0, WDQ, K_PLAIN },
	{ "dec", 0, 0xfe, 1, 1, 0, B, K_PLAIN }, { "dec", 0, 0xff, 1, 1, 0, WDQ, K_PLAIN },
	{ "movsxd", 0, 0x63, -1, 1, 0, 8, K_PLAIN },
	{ "cmovcc", 1, 0x40, -1, 1, 0, WDQ, K_PLAIN }, { "cmovcc", 1, 0x4c, -1, 1, 0, WDQ, K_PLAIN },
	{ "cmovcc", 1, 0x47, -1, 1, 0, WDQ, K_PLAIN }, { "cmovcc", 1, 0x4f, -1, 1, 0, WDQ, K_PLAIN },
	{ "setcc", 1, 0x90, -1, 1, 0, B, K_PLAIN }, { "setcc", 1, 0x9e, -1, 1, 0, B, K_PLAIN },
	{ "setcc", 1, 0x96, -1, 1, 0, B, K_PLAIN }, { "setcc", 1, 0x9b, -1, 1, 0, B, K_PLAIN },
	{ "bt", 1, 0xa3, -1, 1, 0, WDQ, K_BT }, { "bts", 1, 0xab, -1, 1, 0, WDQ, K_BT },
	{ "btr", 1, 0xb3, -1, 1, 0, WDQ, K_BT }, { "btc", 1, 0xbb, -1, 1, 0, WDQ, K_BT },
	{ "bt ib", 1, 0xba, 4, 1, 1, WDQ, K_BT }, { "btc ib", 1, 0xba, 7, 1, 1, WDQ, K_BT },
	{ "shld", 1, 0xa4, -1, 1, 1, WDQ, K_SHXD }, { "shld cl", 1, 0xa5, -1, 1, 0, WDQ, K_SHXD, 1 },
	{ "shrd", 1, 0xac, -1, 1, 1, WDQ, K_SHXD }, { "shrd cl", 1, 0xad, -1, 1, 0, WDQ, K_SHXD, 1 },
	{ "imul2", 1, 0xaf, -1, 1, 0, WDQ, K_MUL },
	{ "cmpxchg", 1, 0xb0, -1, 1, 0, B, K_PLAIN }, { "cmpxchg", 1, 0xb1, -1, 1, 0, WDQ, K_PLAIN },
	{ "movzx b", 1, 0xb6, -1, 1, 0, WDQ, K_PLAIN }, { "movzx w", 1, 0xb7, -1, 1, 0, WDQ, K_PLAIN },
	{ "movsx b", 1, 0xbe, -1, 1, 0, WDQ, K_PLAIN }, { "movsx w", 1, 0xbf, -1, 1, 0, WDQ, K_PLAIN },
	{ "bsf", 1, 0xbc, -1, 1, 0, WDQ, K_BS }, { "bsr", 1, 0xbd, -1, 1, 0, WDQ, K_BS },
	{ "xadd", 1, 0xc0, -1, 1, 0, B, K_PLAIN }, { "xadd", 1, 0xc1, -1, 1, 0, WDQ, K_PLAIN },
	{ "bswap", 1, 0xca, -2, 0, 0, 4 | 8, K_PLAIN },
};

/* Registers an instruction may use: not rsp (the stack) nor r15 (the stub's). */
static unsigned int rnd_reg(void)
{
	static const u8 regs[] = { 0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 };

	return regs[rnd() % ARRAY_SIZE(regs)];
}

/* Flags the SDM leaves undefined for this execution. */
static u64 undefined_flags(const struct form *f, unsigned int sz, u64 count)
{
	unsigned int c = count & (sz == 8 ? 63 : 31);

	switch (f->kind) {
	case K_LOGIC:
		return X86E_FL_AF;
	case K_SHIFT:
		if (!c)
			return 0;
		return X86E_FL_AF | (c != 1 ? X86E_FL_OF : 0);
	case K_ROT:
		if (!c)
			return 0;
		return c != 1 ? X86E_FL_OF : 0;
	case K_SHXD:
		if (!c)
			return 0;
		return X86E_FL_AF | (c != 1 ? X86E_FL_OF : 0);
	case K_MUL:
		return X86E_FL_SF | X86E_FL_ZF | X86E_FL_AF | X86E_FL_PF;
	case K_DIV:
		return X86E_FL_ARITH;
	case K_BT:
		return X86E_FL_ARITH & ~X86E_FL_CF;
	case K_BS:
		return X86E_FL_ARITH & ~X86E_FL_ZF;
	}
	return 0;
}

/*
 * Encode one random instance of @f with operand size @sz.  Returns its
 * length, and the register holding a shift count (or -1).
 */
static unsigned int encode(const struct form *f, unsigned int sz, u8 *b, int *count_reg,
			   u64 *imm_count, bool mem, unsigned int *base_out, unsigned int *reg_out)
{
	/* memory bases: no rsp/r12 (SIB), rbp/r13 (disp32/RIP), r15 */
	static const u8 bases[] = { 0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 14 };
	unsigned int n = 0, reg = rnd_reg(), rm = rnd_reg(), i, isz;
	u8 rex = 0;

	if (mem) {
		do
			rm = bases[rnd() % ARRAY_SIZE(bases)];
		while (rm == reg || (f->count_reg && rm == 1));
	}

	*count_reg = -1;
	*imm_count = 0;
	if (f->count_reg) {
		/* keep CL as the count: neither operand is rcx */
		while (rm == 1)
			rm = rnd_reg();
		while (reg == 1)
			reg = rnd_reg();
		*count_reg = 1;
	}
	if (sz == 2)
		b[n++] = 0x66;
	if (sz == 8)
		rex |= 0x48;
	if (f->reg == -3) {
		/* no register operand */
	} else if (f->reg == -2) {
		/* register in the opcode: rm picks it */
		if (rm & 8)
			rex |= 0x41;
	} else if (f->modrm) {
		if (f->reg < 0 && (reg & 8))
			rex |= 0x44;
		if (rm & 8)
			rex |= 0x41;
	}
	/* byte registers: sometimes without REX (ah..bh), sometimes with */
	if ((f->sizes & B) && sz == 1 && !rex && (rnd() & 1))
		rex = 0x40;
	if (f->reg == -3)
		rex &= 0x48;	/* no register operand: REX.W only */
	if (rex)
		b[n++] = rex;
	if (f->map == 1)
		b[n++] = 0x0f;
	if (f->reg == -2)
		b[n++] = (f->op & ~7) | (rm & 7);	/* register in the opcode */
	else
		b[n++] = f->op;
	if (f->modrm)
		b[n++] = (mem ? 0 : 0xc0) | ((f->reg >= 0 ? f->reg : reg & 7) << 3) | (rm & 7);
	*base_out = rm;
	*reg_out = reg;
	isz = f->imm == 'z' ? (sz == 2 ? 2 : 4) : f->imm == 'v' ? sz : f->imm;
	for (i = 0; i < isz; i++) {
		u8 x = rnd();

		/* shift counts: favour the small and the boundary values */
		if (isz == 1 && (f->kind == K_SHIFT || f->kind == K_ROT || f->kind == K_SHXD) &&
		    (rnd() & 1))
			x = rnd() % 66;
		b[n++] = x;
		*imm_count |= (u64)x << (8 * i);
	}
	return n;
}

/* Host memory the memory forms address, the same for CPU and emulator. */
static u8 nbuf[4096] __attribute__((aligned(64)));
static u8 nbuf_saved[4096], nbuf_emu[4096];

static int host_read(struct x86_emu *e, u64 la, void *buf, unsigned int n, bool fetch)
{
	if (la >= (u64)nbuf && la + n <= (u64)nbuf + sizeof(nbuf)) {
		memcpy(buf, (void *)la, n);
		return X86_EMU_CB_OK;
	}
	return cb_read(e, la, buf, n, fetch);	/* the code */
}

static int host_write(struct x86_emu *e, u64 la, const void *buf, unsigned int n)
{
	if (la >= (u64)nbuf && la + n <= (u64)nbuf + sizeof(nbuf)) {
		memcpy((void *)la, buf, n);
		return X86_EMU_CB_OK;
	}
	return x86_emu_page_fault(e, la, 2);
}

static const struct x86_emu_ops host_ops = { .read = host_read, .write = host_write };
static unsigned long nr_mem_forms;

static void run_form(const struct form *f, unsigned int sz, unsigned int iters,
		     unsigned long *count, unsigned int *bad)
{
	unsigned int i, j, base, reg;

	for (i = 0; i < iters; i++) {
		struct nstate ns;
		struct x86_emu e;
		enum x86_emu_result r;
		u8 code[16];
		int count_reg;
		u64 immc, undef, diff, cnt;
		unsigned int n;
		bool native_ok;

		bool mem = f->modrm && f->reg != -2 && f->reg != -3 && (i & 1);

		n = encode(f, sz, code, &count_reg, &immc, mem, &base, &reg);
		for (j = 0; j < 16; j++)
			ns.r[j] = rnd_operand();
		if (mem) {
			ns.r[base] = (u64)nbuf + 256 + (rnd() & 63);
			/* a register bit offset moves the operand: keep it near */
			if (f->kind == K_BT && !f->imm)
				ns.r[reg] = (u64)((s64)(rnd() % 2048) - 1024);
			for (j = 0; j < sizeof(nbuf); j += 8) {
				u64 x = rnd_operand();

				memcpy(nbuf + j, &x, 8);
			}
			memcpy(nbuf_saved, nbuf, sizeof(nbuf));
		}
		if (count_reg >= 0 && (rnd() & 1))
			ns.r[count_reg] = (ns.r[count_reg] & ~0xffULL) | (rnd() % 70);
		/* random arithmetic flags in, DF clear */
		ns.rflags = X86E_FL_FIXED | X86E_FL_IF | (rnd() & X86E_FL_ARITH);
		cnt = count_reg >= 0 ? ns.r[count_reg] & 0xff : immc;
		if ((f->kind == K_SHIFT || f->kind == K_ROT) && f->op >= 0xd0 && f->op <= 0xd1)
			cnt = 1;
		/* shld/shrd of 16 bits by more than 16: result undefined */
		if (f->kind == K_SHXD && sz == 2 && (cnt & 31) > 16)
			continue;

		init_long(&e, 3);
		for (j = 0; j < 16; j++)
			e.gpr[j] = ns.r[j];
		e.gpr[X86_RSP] = 0x70000;
		e.rflags = ns.rflags;
		load_code(&e, code, n);
		if (mem)
			e.ops = &host_ops;
		r = x86_emulate(&e);
		if (mem) {
			memcpy(nbuf_emu, nbuf, sizeof(nbuf));
			memcpy(nbuf, nbuf_saved, sizeof(nbuf));
		}
		native_ok = run_native(code, n, &ns);
		(*count)++;
		nr_mem_forms += mem;

		if (!native_ok) {
			if (r != X86_EMU_EXCEPTION || e.exc.vector != X86_EXC_DE) {
				if ((*bad)++ < 10)
					print_message("%s/%u: native #DE, emulator %d\n",
						      f->name, sz, r);
			}
			continue;
		}
		if (r != X86_EMU_OK) {
			if ((*bad)++ < 10)
				print_message("%s/%u: emulator result %d vector %u\n", f->name, sz,
					      r, e.exc.vector);
			continue;
		}
		undef = undefined_flags(f, sz, cnt);
		diff = (e.rflags ^ ns.rflags) & (X86E_FL_ARITH | X86E_FL_DF) & ~undef;
		for (j = 0; j < 16; j++) {
			if (j == X86_RSP || j == X86_R15)
				continue;
			if (e.gpr[j] != ns.r[j])
				break;
		}
		if (diff || j < 16 || e.rip != 0x1000 + n ||
		    (mem && memcmp(nbuf, nbuf_emu, sizeof(nbuf)))) {
			if ((*bad)++ < 10) {
				char hex[64];
				unsigned int k;

				for (k = 0; k < n; k++)
					sprintf(hex + 3 * k, "%02x ", code[k]);
				print_message("%s/%u%s [%s]: flags diff %#llx (emu %#llx native %#llx) "
					      "reg %u emu %#llx native %#llx\n", f->name, sz,
					      mem ? " mem" : "", hex,
					      (unsigned long long)diff,
					      (unsigned long long)e.rflags,
					      (unsigned long long)ns.rflags, j,
					      (unsigned long long)(j < 16 ? e.gpr[j] : 0),
					      (unsigned long long)(j < 16 ? ns.r[j] : 0));
			}
		}
	}
}

static void test_alu_vs_cpu(void **state)
{
	unsigned int iters = long_run() ? 200000 : 6000, i, bad = 0;
	unsigned long count = 0;
	struct sigaction sa = { .sa_handler = on_fpe, .sa_flags = SA_NODEFER }, old;

	/* cmocka catches signals per test: take SIGFPE back for native #DE */
	sigaction(SIGFPE, &sa, &old);

	for (i = 0; i < ARRAY_SIZE(forms); i++) {
		unsigned int sz;

		for (sz = 1; sz <= 8; sz <<= 1)
			if (forms[i].sizes & sz)
				run_form(&forms[i], sz, iters, &count, &bad);
	}
	sigaction(SIGFPE, &old, NULL);
	print_message("%lu instruction executions compared over %zu forms (%lu with a memory "
		      "operand), %u mismatches\n", count, ARRAY_SIZE(forms), nr_mem_forms, bad);
	assert_true(nr_mem_forms > count / 4);
	assert_true(count > 100000);
	assert_int_equal(bad, 0);
}

/* ---------------------------------------------------------------------- */
/* Scenarios.                                                              */

static enum x86_emu_result run(struct x86_emu *e, const void *code, unsigned int n)
{
	load_code(e, code, n);
	return x86_emulate(e);
}

static void test_string_ops(void **state)
{
	struct x86_emu e;
	unsigned int i;

	/* rep movsb forward */
	init_long(&e, 0);
	for (i = 0; i < 100; i++)
		mem[0x20000 + i] = i;
	e.gpr[X86_RSI] = 0x20000;
	e.gpr[X86_RDI] = 0x30000;
	e.gpr[X86_RCX] = 100;
	assert_int_equal(run(&e, "\xf3\xa4", 2), X86_EMU_OK);
	assert_memory_equal(mem + 0x30000, mem + 0x20000, 100);
	assert_int_equal(e.gpr[X86_RCX], 0);
	assert_int_equal(e.gpr[X86_RSI], 0x20064);
	assert_int_equal(e.gpr[X86_RDI], 0x30064);
	assert_int_equal(e.rip, 0x1002);

	/* std; rep stosd backward */
	init_long(&e, 0);
	e.rflags |= X86E_FL_DF;
	e.gpr[X86_RAX] = 0xdeadbeef;
	e.gpr[X86_RDI] = 0x40010;
	e.gpr[X86_RCX] = 4;
	assert_int_equal(run(&e, "\xf3\xab", 2), X86_EMU_OK);
	assert_int_equal(e.gpr[X86_RDI], 0x40000);
	assert_int_equal(*(u32 *)(mem + 0x40004), 0xdeadbeef);
	assert_int_equal(*(u32 *)(mem + 0x40010), 0xdeadbeef);

	/* repe cmpsb stops at the first difference */
	init_long(&e, 0);
	memcpy(mem + 0x21000, "hello world", 11);
	memcpy(mem + 0x22000, "hello there", 11);
	e.gpr[X86_RSI] = 0x21000;
	e.gpr[X86_RDI] = 0x22000;
	e.gpr[X86_RCX] = 11;
	assert_int_equal(run(&e, "\xf3\xa6", 2), X86_EMU_OK);
	assert_int_equal(e.gpr[X86_RCX], 11 - 7);
	assert_false(e.rflags & X86E_FL_ZF);

	/* repne scasb finds a byte; 32-bit address size with 67 */
	init_long(&e, 0);
	memcpy(mem + 0x23000, "abcdefg", 7);
	e.gpr[X86_RDI] = 0xffffffff00023000ULL;	/* upper half ignored with 67 */
	e.gpr[X86_RAX] = 'e';
	e.gpr[X86_RCX] = 0x100;
	assert_int_equal(run(&e, "\x67\xf2\xae", 3), X86_EMU_OK);
	assert_int_equal(e.gpr[X86_RDI], 0x23005);
	assert_int_equal(e.gpr[X86_RCX], 0x100 - 5);
	assert_true(e.rflags & X86E_FL_ZF);

	/* lodsw, then rep outsb to a port */
	init_long(&e, 0);
	*(u16 *)(mem + 0x24000) = 0xbeef;
	e.gpr[X86_RSI] = 0x24000;
	assert_int_equal(run(&e, "\x66\xad", 2), X86_EMU_OK);
	assert_int_equal(e.gpr[X86_RAX] & 0xffff, 0xbeef);
	e.gpr[X86_RDX] = 0x3f8;
	e.gpr[X86_RCX] = 2;
	e.gpr[X86_RSI] = 0x24000;
	e.rip = 0x1000;
	assert_int_equal(run(&e, "\xf3\x6e", 2), X86_EMU_OK);
	assert_int_equal(env.last_port, 0x3f8);
	assert_int_equal(env.last_out, 0xbe);

	/* ins with REX.W still moves 32 bits (found by the fuzzer) */
	init_long(&e, 0);
	e.gpr[X86_RDI] = 0x24100;
	e.gpr[X86_RDX] = 0x60;
	memset(mem + 0x24100, 0xee, 16);
	assert_int_equal(run(&e, "\x48\x6d", 2), X86_EMU_OK);
	assert_int_equal(e.gpr[X86_RDI], 0x24104);
	assert_int_equal(*(u32 *)(mem + 0x24100), 0x12345678);
	assert_int_equal(mem[0x24104], 0xee);

	/* rep movsb with rcx = 0 does nothing but advance */
	init_long(&e, 0);
	nr_writes = 0;
	assert_int_equal(run(&e, "\xf3\xa4", 2), X86_EMU_OK);
	assert_int_equal(nr_writes, 0);
	assert_int_equal(e.rip, 0x1002);
}

static void test_faults_mid_instruction(void **state)
{
	struct x86_emu e, before;

	/* rep movsb running into the hole: iterations done are kept */
	init_long(&e, 0);
	e.gpr[X86_RSI] = 0x20000;
	e.gpr[X86_RDI] = HOLE_START - 10;
	e.gpr[X86_RCX] = 100;
	assert_int_equal(run(&e, "\xf3\xa4", 2), X86_EMU_EXCEPTION);
	assert_int_equal(e.exc.vector, X86_EXC_PF);
	assert_int_equal(e.exc.error, 2);
	assert_int_equal(e.exc.cr2, HOLE_START);
	assert_int_equal(e.gpr[X86_RCX], 90);
	assert_int_equal(e.gpr[X86_RDI], HOLE_START);
	assert_int_equal(e.rip, 0x1000);

	/* a push that faults leaves rsp alone */
	init_long(&e, 0);
	e.gpr[X86_RSP] = HOLE_START + 8;
	e.gpr[X86_RAX] = 5;
	before = e;
	assert_int_equal(run(&e, "\x50", 1), X86_EMU_EXCEPTION);
	assert_int_equal(e.exc.vector, X86_EXC_PF);
	assert_int_equal(e.gpr[X86_RSP], before.gpr[X86_RSP]);

	/* call whose return address cannot be pushed: rip unchanged */
	init_long(&e, 0);
	e.gpr[X86_RSP] = HOLE_START + 4;
	assert_int_equal(run(&e, "\xe8\x00\x01\x00\x00", 5), X86_EMU_EXCEPTION);
	assert_int_equal(e.rip, 0x1000);
	assert_int_equal(e.gpr[X86_RSP], HOLE_START + 4);

	/* add to memory in the hole: flags and registers untouched */
	init_long(&e, 0);
	e.gpr[X86_RBX] = HOLE_START;
	e.rflags |= X86E_FL_CF;
	assert_int_equal(run(&e, "\x01\x03", 2), X86_EMU_EXCEPTION);
	assert_true(e.rflags & X86E_FL_CF);
	assert_int_equal(e.exc.error, 0);	/* the read faulted first */

	/* instruction crossing into the hole: the fetch faults with I/D set */
	init_long(&e, 0);
	e.rip = HOLE_START - 2;
	memcpy(mem + HOLE_START - 2, "\x48\xb8", 2);	/* mov rax, imm64 */
	assert_int_equal(x86_emulate(&e), X86_EMU_EXCEPTION);
	assert_int_equal(e.exc.vector, X86_EXC_PF);
	assert_int_equal(e.exc.error, 0x10);

	/* non-canonical address: #GP(0); through rsp: #SS(0) */
	init_long(&e, 0);
	e.gpr[X86_RBX] = 0x0000800000000000ULL;
	assert_int_equal(run(&e, "\x8b\x03", 2), X86_EMU_EXCEPTION);
	assert_int_equal(e.exc.vector, X86_EXC_GP);
	e.gpr[X86_RSP] = 0x0000800000000008ULL;
	assert_int_equal(run(&e, "\x50", 1), X86_EMU_EXCEPTION);
	assert_int_equal(e.exc.vector, X86_EXC_SS);

	/* divide by zero and quotient overflow */
	init_long(&e, 0);
	e.gpr[X86_RAX] = 1;
	assert_int_equal(run(&e, "\xf7\xf1", 2), X86_EMU_EXCEPTION);	/* div ecx=0 */
	assert_int_equal(e.exc.vector, X86_EXC_DE);
	e.gpr[X86_RDX] = 5;
	e.gpr[X86_RCX] = 2;
	assert_int_equal(run(&e, "\x48\xf7\xf1", 3), X86_EMU_EXCEPTION);
	assert_int_equal(e.exc.vector, X86_EXC_DE);
	assert_int_equal(e.gpr[X86_RAX], 1);

	/* no port I/O callbacks: ins and in are unimplemented, not a crash */
	init_long(&e, 0);
	{
		static const struct x86_emu_ops mem_only = { .read = cb_read, .write = cb_write };

		e.ops = &mem_only;
		e.gpr[X86_RCX] = 3;
		assert_int_equal(run(&e, "\xf3\x6c", 2), X86_EMU_UNIMPLEMENTED);
		assert_int_equal(e.gpr[X86_RCX], 3);
		assert_int_equal(run(&e, "\xec", 1), X86_EMU_UNIMPLEMENTED);
		assert_int_equal(run(&e, "\x0f\xa2", 2), X86_EMU_UNIMPLEMENTED);
	}

	/* invalid encoding: #UD; SSE: unimplemented, and nothing changes */
	init_long(&e, 0);
	assert_int_equal(run(&e, "\x0f\x0b", 2), X86_EMU_EXCEPTION);
	assert_int_equal(e.exc.vector, X86_EXC_UD);
	assert_int_equal(run(&e, "\xf0\x01\xc0", 3), X86_EMU_EXCEPTION);	/* lock add reg */
	assert_int_equal(e.exc.vector, X86_EXC_UD);
	before = e;
	assert_int_equal(run(&e, "\x0f\x58\xc1", 3), X86_EMU_UNIMPLEMENTED);
	assert_int_equal(e.rip, before.rip);
}

static void test_privileged(void **state)
{
	struct x86_emu e;
	u64 *tss;

	/* at CPL3: hlt, mov cr, rdmsr, lgdt, cli are #GP(0) */
	init_long(&e, 3);
	assert_int_equal(run(&e, "\xf4", 1), X86_EMU_EXCEPTION);
	assert_int_equal(e.exc.vector, X86_EXC_GP);
	assert_true(e.exc.has_error && e.exc.error == 0);
	assert_int_equal(run(&e, "\x0f\x22\xd8", 3), X86_EMU_EXCEPTION);
	assert_int_equal(run(&e, "\x0f\x32", 2), X86_EMU_EXCEPTION);
	assert_int_equal(run(&e, "\x0f\x01\x10", 3), X86_EMU_EXCEPTION);
	assert_int_equal(run(&e, "\xfa", 1), X86_EMU_EXCEPTION);
	assert_int_equal(e.exc.vector, X86_EXC_GP);
	/* rdpmc: #GP(0) at CPL3 without CR4.PCE, and with it (no counters) */
	e.gpr[X86_RCX] = 0;
	assert_int_equal(run(&e, "\x0f\x33", 2), X86_EMU_EXCEPTION);
	assert_int_equal(e.exc.vector, X86_EXC_GP);
	assert_true(e.exc.has_error && e.exc.error == 0);
	e.cr4 |= X86E_CR4_PCE;
	assert_int_equal(run(&e, "\x0f\x33", 2), X86_EMU_EXCEPTION);
	assert_int_equal(e.exc.vector, X86_EXC_GP);
	e.cr4 &= ~X86E_CR4_PCE;
	/* ...but sgdt, smsw, cpuid, rdtsc work without UMIP/TSD */
	e.gdtr.base = 0x12345;
	e.gdtr.limit = 0x7f;
	e.gpr[X86_RBX] = 0x25000;
	assert_int_equal(run(&e, "\x0f\x01\x03", 3), X86_EMU_OK);
	assert_int_equal(*(u16 *)(mem + 0x25000), 0x7f);
	assert_int_equal(*(u64 *)(mem + 0x25002), 0x12345);
	e.cr4 |= X86E_CR4_UMIP;
	assert_int_equal(run(&e, "\x0f\x01\x03", 3), X86_EMU_EXCEPTION);
	e.rip = 0x1000;
	e.gpr[X86_RAX] = 7;
	e.gpr[X86_RCX] = 1;
	assert_int_equal(run(&e, "\x0f\xa2", 2), X86_EMU_OK);
	assert_int_equal(e.gpr[X86_RAX], 8);
	assert_int_equal(e.gpr[X86_RBX], 3);
	e.rip = 0x1000;
	assert_int_equal(run(&e, "\x0f\x31", 2), X86_EMU_OK);
	assert_int_equal(e.gpr[X86_RAX], 0x55667788);
	assert_int_equal(e.gpr[X86_RDX], 0x11223344);

	/* at CPL0: hlt halts, mov cr3 goes to the callback, rdmsr/wrmsr */
	init_long(&e, 0);
	assert_int_equal(run(&e, "\xf4", 1), X86_EMU_HALT);
	assert_int_equal(e.rip, 0x1001);
	e.rip = 0x1000;
	e.gpr[X86_RAX] = 0x5000;
	env.cr_calls = 0;
	assert_int_equal(run(&e, "\x0f\x22\xd8", 3), X86_EMU_OK);
	assert_int_equal(env.cr_calls, 1);
	assert_int_equal(e.cr3, 0x5000);
	e.rip = 0x1000;
	assert_int_equal(run(&e, "\x0f\x20\xc1", 3), X86_EMU_OK);	/* mov rcx, cr0 */
	assert_int_equal(e.gpr[X86_RCX], e.cr0);
	e.rip = 0x1000;
	e.gpr[X86_RAX] = 0x60000000;	/* NW without CD: #GP */
	assert_int_equal(run(&e, "\x0f\x22\xc0", 3), X86_EMU_EXCEPTION);
	e.gpr[X86_RAX] = 0;
	assert_int_equal(run(&e, "\x0f\x22\xe8", 3), X86_EMU_EXCEPTION);	/* cr5: #UD */
	assert_int_equal(e.exc.vector, X86_EXC_UD);
	e.gpr[X86_RCX] = X86E_MSR_LSTAR;
	e.gpr[X86_RAX] = 0x11111111;
	e.gpr[X86_RDX] = 0xffffffff;
	assert_int_equal(run(&e, "\x0f\x30", 2), X86_EMU_OK);
	assert_int_equal(env.msr[1], 0xffffffff11111111ULL);
	/* wrmsr GS_BASE is the GS base once it completes; swapgs swaps it */
	e.rip = 0x1000;
	e.gpr[X86_RCX] = X86E_MSR_GS_BASE;
	e.gpr[X86_RAX] = 0x1111000;
	e.gpr[X86_RDX] = 0;
	assert_int_equal(run(&e, "\x0f\x30", 2), X86_EMU_OK);
	assert_int_equal(e.seg[X86_SEG_GS].base, 0x1111000);
	env.msr[4] = 0x2222000;		/* KERNEL_GS_BASE */
	e.rip = 0x1000;
	assert_int_equal(run(&e, "\x0f\x01\xf8", 3), X86_EMU_OK);
	assert_int_equal(e.seg[X86_SEG_GS].base, 0x2222000);
	assert_int_equal(env.msr[4], 0x1111000);
	e.rip = 0x1000;
	e.gpr[X86_RCX] = X86E_MSR_FS_BASE;	/* non-canonical: #GP(0) */
	e.gpr[X86_RDX] = 0x8000;
	assert_int_equal(run(&e, "\x0f\x30", 2), X86_EMU_EXCEPTION);
	assert_int_equal(e.exc.vector, X86_EXC_GP);
	assert_int_equal(e.seg[X86_SEG_FS].base, 0);
	e.rip = 0x1000;
	e.gpr[X86_RCX] = 0x1234;	/* unknown MSR: #GP(0) */
	assert_int_equal(run(&e, "\x0f\x32", 2), X86_EMU_EXCEPTION);
	assert_int_equal(e.exc.vector, X86_EXC_GP);
	e.gpr[X86_RBX] = 0x7000;
	assert_int_equal(run(&e, "\x0f\x01\x3b", 3), X86_EMU_OK);	/* invlpg [rbx] */
	assert_int_equal(env.invlpg_la, 0x7000);

	/* lgdt then sgdt round trip */
	init_long(&e, 0);
	*(u16 *)(mem + 0x26000) = 0x37;
	*(u64 *)(mem + 0x26002) = 0xffff888000001000ULL;
	e.gpr[X86_RAX] = 0x26000;
	assert_int_equal(run(&e, "\x0f\x01\x10", 3), X86_EMU_OK);
	assert_int_equal(e.gdtr.limit, 0x37);
	assert_int_equal(e.gdtr.base, 0xffff888000001000ULL);

	/* swapgs */
	init_long(&e, 0);
	e.seg[X86_SEG_GS].base = 0xaaaa;
	env.msr[4] = 0xbbbb;
	assert_int_equal(run(&e, "\x0f\x01\xf8", 3), X86_EMU_OK);
	assert_int_equal(e.seg[X86_SEG_GS].base, 0xbbbb);
	assert_int_equal(env.msr[4], 0xaaaa);

	/* in/out at CPL3: IOPL 3 allows; IOPL 0 consults the TSS bitmap */
	init_long(&e, 3);
	e.rflags |= X86E_FL_IOPL;
	assert_int_equal(run(&e, "\xe6\x80", 2), X86_EMU_OK);
	assert_int_equal(env.last_port, 0x80);
	init_long(&e, 3);
	e.tr.base = 0x27000;
	e.tr.limit = 0x2000;
	e.tr.attr = 0x8b;
	memset(mem + 0x27000, 0, 0x2000);
	*(u16 *)(mem + 0x27066) = 0x68;
	tss = (u64 *)(mem + 0x27068);
	tss[0] = ~0ULL;
	mem[0x27068 + 0x70 / 8] = (u8)~BIT(0x70 % 8);	/* port 0x70 allowed */
	assert_int_equal(run(&e, "\xe6\x70", 2), X86_EMU_OK);
	e.rip = 0x1000;
	assert_int_equal(run(&e, "\xe6\x71", 2), X86_EMU_EXCEPTION);
	assert_int_equal(e.exc.vector, X86_EXC_GP);
	/* in ax, dx with 16 bits: both ports' bits must be clear */
	e.gpr[X86_RDX] = 0x70;
	assert_int_equal(run(&e, "\x66\xed", 2), X86_EMU_EXCEPTION);
}

static void test_real_mode(void **state)
{
	struct x86_emu e;

	/* ljmp 0x1000:0x0010; mov ax, 0x2000; mov ds, ax; mov [0x10], al */
	init_real(&e);
	e.rip = 0x7c00;
	assert_int_equal(run(&e, "\xea\x10\x00\x00\x10", 5), X86_EMU_OK);
	assert_int_equal(e.seg[X86_SEG_CS].sel, 0x1000);
	assert_int_equal(e.seg[X86_SEG_CS].base, 0x10000);
	assert_int_equal(e.rip, 0x10);
	assert_int_equal(run(&e, "\xb8\x00\x20", 3), X86_EMU_OK);
	assert_int_equal(run(&e, "\x8e\xd8", 2), X86_EMU_OK);
	assert_int_equal(e.seg[X86_SEG_DS].base, 0x20000);
	assert_int_equal(run(&e, "\xa2\x10\x00", 3), X86_EMU_OK);
	assert_int_equal(mem[0x20010], 0x00);

	/* int 0x10 through the IVT, then iret */
	init_real(&e);
	e.rip = 0x100;
	e.seg[X86_SEG_SS].base = 0x9000;
	e.seg[X86_SEG_SS].sel = 0x900;
	e.gpr[X86_RSP] = 0x1000;
	e.rflags |= X86E_FL_IF | X86E_FL_CF;
	*(u32 *)(mem + 0x40) = 0xf000e000;	/* f000:e000 */
	assert_int_equal(run(&e, "\xcd\x10", 2), X86_EMU_OK);
	assert_int_equal(e.seg[X86_SEG_CS].base, 0xf0000);
	assert_int_equal(e.rip, 0xe000);
	assert_false(e.rflags & X86E_FL_IF);
	assert_int_equal(e.gpr[X86_RSP], 0x1000 - 6);
	assert_int_equal(*(u16 *)(mem + 0x9000 + 0xffa), 0x102);	/* return IP */
	assert_int_equal(*(u16 *)(mem + 0x9000 + 0xffc), 0);		/* CS */
	assert_int_equal(run(&e, "\xcf", 1), X86_EMU_OK);
	assert_int_equal(e.rip, 0x102);
	assert_int_equal(e.seg[X86_SEG_CS].base, 0);
	assert_true(e.rflags & X86E_FL_IF);
	assert_true(e.rflags & X86E_FL_CF);
	assert_int_equal(e.gpr[X86_RSP], 0x1000);

	/* call far 0x2000:0x0005 and retf */
	init_real(&e);
	e.rip = 0x200;
	e.gpr[X86_RSP] = 0x8000;
	assert_int_equal(run(&e, "\x9a\x05\x00\x00\x20", 5), X86_EMU_OK);
	assert_int_equal(e.seg[X86_SEG_CS].base, 0x20000);
	assert_int_equal(e.rip, 5);
	assert_int_equal(run(&e, "\xcb", 1), X86_EMU_OK);
	assert_int_equal(e.rip, 0x205);
	assert_int_equal(e.seg[X86_SEG_CS].sel, 0);
	assert_int_equal(e.gpr[X86_RSP], 0x8000);

	/* 16-bit addressing: mov ax, [bp+si+2] uses SS */
	init_real(&e);
	e.seg[X86_SEG_SS].base = 0x30000;
	e.gpr[X86_RBP] = 0x100;
	e.gpr[X86_RSI] = 0x20;
	*(u16 *)(mem + 0x30122) = 0x4242;
	assert_int_equal(run(&e, "\x8b\x42\x02", 3), X86_EMU_OK);
	assert_int_equal(e.gpr[X86_RAX], 0x4242);

	/* beyond the 64 KiB limit: #GP(0); lmsw sets PE */
	init_real(&e);
	e.gpr[X86_RBX] = 0xffff;
	assert_int_equal(run(&e, "\x8b\x07", 2), X86_EMU_EXCEPTION);	/* word at ffff */
	assert_int_equal(e.exc.vector, X86_EXC_GP);
	e.gpr[X86_RAX] = 1;
	assert_int_equal(run(&e, "\x0f\x01\xf0", 3), X86_EMU_OK);
	assert_true(e.cr0 & X86E_CR0_PE);
}

static void test_syscall_sysret(void **state)
{
	struct x86_emu e;

	init_long(&e, 3);
	env.msr[0] = (0x23ULL << 48) | (0x10ULL << 32);	/* STAR */
	env.msr[1] = 0xffffffff81000000ULL;		/* LSTAR */
	env.msr[3] = X86E_FL_IF | X86E_FL_DF;	/* FMASK */
	e.rflags |= X86E_FL_IF | X86E_FL_DF;
	assert_int_equal(run(&e, "\x0f\x05", 2), X86_EMU_OK);
	assert_int_equal(e.rip, 0xffffffff81000000ULL);
	assert_int_equal(e.gpr[X86_RCX], 0x1002);
	assert_true(e.gpr[X86_R11] & X86E_FL_IF);
	assert_false(e.rflags & (X86E_FL_IF | X86E_FL_DF));
	assert_int_equal(e.cpl, 0);
	assert_int_equal(e.seg[X86_SEG_CS].sel, 0x10);
	assert_int_equal(e.seg[X86_SEG_SS].sel, 0x18);
	assert_int_equal(e.mode, X86_MODE_LONG64);

	/* sysretq back to user */
	memcpy(mem + 0x2000, "\x48\x0f\x07", 3);
	e.rip = 0x2000;
	assert_int_equal(x86_emulate(&e), X86_EMU_OK);
	assert_int_equal(e.rip, 0x1002);
	assert_int_equal(e.cpl, 3);
	assert_int_equal(e.seg[X86_SEG_CS].sel, 0x33);
	assert_int_equal(e.seg[X86_SEG_SS].sel, 0x2b);
	assert_true(e.rflags & X86E_FL_IF);

	/* sysret at CPL3: #GP(0) */
	e.rip = 0x2000;
	assert_int_equal(x86_emulate(&e), X86_EMU_EXCEPTION);
	assert_int_equal(e.exc.vector, X86_EXC_GP);

	/* sysenter from 32-bit user code, sysexit back */
	init_prot32(&e, 3);
	env.msr[7] = 0x60;
	env.msr[8] = 0x6f000;
	env.msr[9] = 0xc0001000;
	e.rflags |= X86E_FL_IF;
	assert_int_equal(run(&e, "\x0f\x34", 2), X86_EMU_OK);
	assert_int_equal(e.rip, 0xc0001000);
	assert_int_equal(e.gpr[X86_RSP], 0x6f000);
	assert_int_equal(e.cpl, 0);
	assert_int_equal(e.seg[X86_SEG_CS].sel, 0x60);
	assert_int_equal(e.seg[X86_SEG_SS].sel, 0x68);
	assert_false(e.rflags & X86E_FL_IF);
	memcpy(mem + 0x3000, "\x0f\x35", 2);
	e.rip = 0x3000;
	e.gpr[X86_RCX] = 0x7fff0;
	e.gpr[X86_RDX] = 0x1234;
	assert_int_equal(x86_emulate(&e), X86_EMU_OK);
	assert_int_equal(e.rip, 0x1234);
	assert_int_equal(e.gpr[X86_RSP], 0x7fff0);
	assert_int_equal(e.cpl, 3);
	assert_int_equal(e.seg[X86_SEG_CS].sel, 0x73);
	assert_int_equal(e.seg[X86_SEG_SS].sel, 0x7b);
	assert_int_equal(e.mode, X86_MODE_PROT32);
	/* sysenter with IA32_SYSENTER_CS = 0: #GP(0) */
	env.msr[7] = 0;
	e.rip = 0x1000;
	assert_int_equal(run(&e, "\x0f\x34", 2), X86_EMU_EXCEPTION);
	assert_int_equal(e.exc.vector, X86_EXC_GP);
}

static void test_stack_and_flow(void **state)
{
	struct x86_emu e;

	/* call rel32 / ret */
	init_long(&e, 0);
	assert_int_equal(run(&e, "\xe8\x10\x00\x00\x00", 5), X86_EMU_OK);
	assert_int_equal(e.rip, 0x1015);
	assert_int_equal(e.gpr[X86_RSP], 0x70000 - 8);
	assert_int_equal(*(u64 *)(mem + 0x70000 - 8), 0x1005);
	memcpy(mem + 0x1015, "\xc3", 1);
	assert_int_equal(x86_emulate(&e), X86_EMU_OK);
	assert_int_equal(e.rip, 0x1005);
	assert_int_equal(e.gpr[X86_RSP], 0x70000);

	/* enter 16, 0 / leave */
	init_long(&e, 0);
	e.gpr[X86_RBP] = 0x1234;
	assert_int_equal(run(&e, "\xc8\x10\x00\x00", 4), X86_EMU_OK);
	assert_int_equal(e.gpr[X86_RBP], 0x70000 - 8);
	assert_int_equal(e.gpr[X86_RSP], 0x70000 - 8 - 16);
	memcpy(mem + 0x1004, "\xc9", 1);
	assert_int_equal(x86_emulate(&e), X86_EMU_OK);
	assert_int_equal(e.gpr[X86_RBP], 0x1234);
	assert_int_equal(e.gpr[X86_RSP], 0x70000);

	/* pushf/popf at CPL3 with IOPL 0 cannot change IF or IOPL */
	init_long(&e, 3);
	e.rflags |= X86E_FL_IF;
	*(u64 *)(mem + 0x70000 - 8) = X86E_FL_IOPL | X86E_FL_CF | 2;
	e.gpr[X86_RSP] = 0x70000 - 8;
	assert_int_equal(run(&e, "\x9d", 1), X86_EMU_OK);
	assert_true(e.rflags & X86E_FL_IF);
	assert_false(e.rflags & X86E_FL_IOPL);
	assert_true(e.rflags & X86E_FL_CF);

	/* loop and jcc */
	init_long(&e, 0);
	e.gpr[X86_RCX] = 2;
	assert_int_equal(run(&e, "\xe2\xfe", 2), X86_EMU_OK);	/* loop $ */
	assert_int_equal(e.rip, 0x1000);
	assert_int_equal(run(&e, "\xe2\xfe", 2), X86_EMU_OK);
	assert_int_equal(e.rip, 0x1002);
	e.rip = 0x1000;
	e.rflags |= X86E_FL_ZF;
	assert_int_equal(run(&e, "\x0f\x84\x00\x01\x00\x00", 6), X86_EMU_OK);
	assert_int_equal(e.rip, 0x1106);

	/* jmp [rip+disp] and call [rax] */
	init_long(&e, 0);
	*(u64 *)(mem + 0x1100) = 0x3000;
	assert_int_equal(run(&e, "\xff\x25\xfa\x00\x00\x00", 6), X86_EMU_OK);
	assert_int_equal(e.rip, 0x3000);

	/* cmpxchg16b and lock xadd to memory */
	init_long(&e, 0);
	*(u64 *)(mem + 0x28000) = 1;
	*(u64 *)(mem + 0x28008) = 2;
	e.gpr[X86_RAX] = 1;
	e.gpr[X86_RDX] = 2;
	e.gpr[X86_RBX] = 3;
	e.gpr[X86_RCX] = 4;
	e.gpr[X86_RSI] = 0x28000;
	assert_int_equal(run(&e, "\xf0\x48\x0f\xc7\x0e", 5), X86_EMU_OK);
	assert_true(e.rflags & X86E_FL_ZF);
	assert_int_equal(*(u64 *)(mem + 0x28000), 3);
	assert_int_equal(*(u64 *)(mem + 0x28008), 4);
	e.rip = 0x1000;
	e.gpr[X86_RAX] = 10;
	assert_int_equal(run(&e, "\xf0\x48\x0f\xc1\x06", 5), X86_EMU_OK);
	assert_int_equal(*(u64 *)(mem + 0x28000), 13);
	assert_int_equal(e.gpr[X86_RAX], 3);

	/* bts with a register bit offset reaches past the operand */
	init_long(&e, 0);
	memset(mem + 0x29000, 0, 64);
	e.gpr[X86_RSI] = 0x29000;
	e.gpr[X86_RAX] = 100;
	assert_int_equal(run(&e, "\x0f\xab\x06", 3), X86_EMU_OK);
	assert_int_equal(mem[0x29000 + 12], 0x10);
	e.rip = 0x1000;
	e.gpr[X86_RAX] = (u64)-1;	/* bit -1: the byte before */
	assert_int_equal(run(&e, "\x48\x0f\xab\x06", 4), X86_EMU_OK);
	assert_int_equal(mem[0x29000 - 1], 0x80);
}


/* A GDT at 0x3000, a 64-bit IDT at 0x4000 and a TSS at 0x5000. */
static void setup_tables(struct x86_emu *e)
{
	u64 *gdt = (u64 *)(mem + 0x3000), *idt = (u64 *)(mem + 0x4000);

	memset(mem + 0x3000, 0, 0x3000);
	gdt[1] = 0x00af9b000000ffffULL;	/* 0x08 kernel code, 64-bit */
	gdt[2] = 0x00cf93000000ffffULL;	/* 0x10 kernel data */
	gdt[3] = 0x00cffb000000ffffULL;	/* 0x18 user code, 32-bit */
	gdt[4] = 0x00cff3000000ffffULL;	/* 0x20 user data */
	gdt[5] = 0x00affb000000ffffULL;	/* 0x28 user code, 64-bit */
	gdt[6] = 0x0000890050000067ULL;	/* 0x30 TSS at 0x5000 (two slots) */
	gdt[8] = 0x00cf9b000000ffffULL;	/* 0x40 kernel code, 32-bit */
	e->gdtr.base = 0x3000;
	e->gdtr.limit = 0x47;
	/* vector 0x80: interrupt gate, DPL 3, to 0x08:0x9000; 0x81: DPL 0 */
	idt[2 * 0x80] = 0x0000ee0000089000ULL;
	idt[2 * 0x81] = 0x00008e0000089000ULL;
	e->idtr.base = 0x4000;
	e->idtr.limit = 0xfff;
	*(u64 *)(mem + 0x5004) = 0x68000;	/* rsp0 */
	e->tr.sel = 0x30;
	e->tr.base = 0x5000;
	e->tr.limit = 0x67;
	e->tr.attr = 0x8b;
}

/* mov to and from moffs: the address is the offset alone, no register. */
static void test_moffs(void **state)
{
	struct x86_emu e;
	u32 v;

	init_long(&e, 0);
	e.gpr[X86_RAX] = 0x11223344;
	assert_int_equal(run(&e, "\xa3\x00\x50\x00\x00\x00\x00\x00\x00", 9), X86_EMU_OK);
	memcpy(&v, mem + 0x5000, 4);
	assert_int_equal(v, 0x11223344);
	e.gpr[X86_RAX] = 0x5000;
	assert_int_equal(run(&e, "\xa1\x00\x50\x00\x00\x00\x00\x00\x00", 9), X86_EMU_OK);
	assert_int_equal(e.gpr[X86_RAX], 0x11223344);
}

/* stac and clac set and clear EFLAGS.AC at CPL0, #UD above. */
static void test_stac_clac(void **state)
{
	struct x86_emu e;

	init_long(&e, 0);
	assert_int_equal(run(&e, "\x0f\x01\xcb", 3), X86_EMU_OK);
	assert_true(e.rflags & X86E_FL_AC);
	assert_int_equal(run(&e, "\x0f\x01\xca", 3), X86_EMU_OK);
	assert_false(e.rflags & X86E_FL_AC);
	init_long(&e, 3);
	assert_int_equal(run(&e, "\x0f\x01\xcb", 3), X86_EMU_EXCEPTION);
	assert_int_equal(e.exc.vector, X86_EXC_UD);
}

/* Exceptions delivered by an engine: no gate-DPL check, error code pushed. */
static void test_event_delivery(void **state)
{
	struct x86_emu e;
	u64 *frame;

	/* #GP(0x18) from CPL3 through the DPL0 gate 0x81: rsp0, 6 slots */
	init_long(&e, 3);
	setup_tables(&e);
	e.seg[X86_SEG_CS].sel = 0x2b;
	e.seg[X86_SEG_SS].sel = 0x23;
	e.rip = 0x1234;
	assert_int_equal(x86_emu_deliver(&e, 0x81, true, 0x18), X86_EMU_OK);
	assert_int_equal(e.rip, 0x9000);
	assert_int_equal(e.cpl, 0);
	assert_int_equal(e.gpr[X86_RSP], 0x68000 - 48);
	frame = (u64 *)(mem + 0x68000 - 48);
	assert_int_equal(frame[0], 0x18);
	assert_int_equal(frame[1], 0x1234);
	assert_int_equal(frame[2], 0x2b);
	assert_int_equal(frame[4], 0x70000);
	assert_int_equal(frame[5], 0x23);

	/* beyond the IDT limit: #GP with EXT set, state unchanged */
	init_long(&e, 0);
	setup_tables(&e);
	e.idtr.limit = 0x10 * 16 - 1;
	e.rip = 0x1000;
	assert_int_equal(x86_emu_deliver(&e, 0x81, false, 0), X86_EMU_EXCEPTION);
	assert_int_equal(e.exc.vector, X86_EXC_GP);
	assert_int_equal(e.exc.error, 0x81 * 8 + 2 + 1);
	assert_int_equal(e.rip, 0x1000);
}

/* A rep string instruction whose callback leaves keeps its progress. */
static void test_rep_exit_keeps_progress(void **state)
{
	struct x86_emu e;

	init_long(&e, 0);
	memcpy(mem + 0x5000, "abcd", 4);
	e.gpr[X86_RSI] = 0x5000;
	e.gpr[X86_RCX] = 4;
	e.gpr[X86_RDX] = 0xe9;
	env.outs = 0;
	env.out_budget = 1;
	assert_int_equal(run(&e, "\xf3\x6e", 2), X86_EMU_EXIT);	/* rep outsb */
	assert_int_equal(e.gpr[X86_RCX], 3);
	assert_int_equal(e.gpr[X86_RSI], 0x5001);
	assert_int_equal(e.rip, 0x1000);
	env.outs = 0;
	env.out_budget = 0;
	assert_int_equal(x86_emulate(&e), X86_EMU_OK);
	assert_int_equal(e.gpr[X86_RCX], 0);
	assert_int_equal(env.last_out, 'd');
}

static void test_protected_transfers(void **state)
{
	struct x86_emu e;
	u64 *frame;

	/* int 0x80 from 64-bit user code: stack switch to rsp0, IF cleared */
	init_long(&e, 3);
	setup_tables(&e);
	e.seg[X86_SEG_CS].sel = 0x2b;
	e.seg[X86_SEG_SS].sel = 0x23;
	e.rflags |= X86E_FL_IF;
	assert_int_equal(run(&e, "\xcd\x80", 2), X86_EMU_OK);
	assert_int_equal(e.rip, 0x9000);
	assert_int_equal(e.cpl, 0);
	assert_int_equal(e.mode, X86_MODE_LONG64);
	assert_int_equal(e.seg[X86_SEG_CS].sel, 0x08);
	assert_int_equal(e.gpr[X86_RSP], 0x68000 - 40);
	assert_false(e.rflags & X86E_FL_IF);
	frame = (u64 *)(mem + 0x68000 - 40);
	assert_int_equal(frame[0], 0x1002);
	assert_int_equal(frame[1], 0x2b);
	assert_true(frame[2] & X86E_FL_IF);
	assert_int_equal(frame[3], 0x70000);
	assert_int_equal(frame[4], 0x23);

	/* iretq back to user */
	memcpy(mem + 0x9000, "\x48\xcf", 2);
	assert_int_equal(x86_emulate(&e), X86_EMU_OK);
	assert_int_equal(e.rip, 0x1002);
	assert_int_equal(e.cpl, 3);
	assert_int_equal(e.seg[X86_SEG_CS].sel, 0x2b);
	assert_int_equal(e.seg[X86_SEG_SS].sel, 0x23);
	assert_int_equal(e.gpr[X86_RSP], 0x70000);
	assert_true(e.rflags & X86E_FL_IF);

	/* a DPL0 gate from CPL3: #GP(vector * 8 + 2); state unchanged */
	e.rip = 0x1000;
	assert_int_equal(run(&e, "\xcd\x81", 2), X86_EMU_EXCEPTION);
	assert_int_equal(e.exc.vector, X86_EXC_GP);
	assert_int_equal(e.exc.error, 0x81 * 8 + 2);
	assert_int_equal(e.cpl, 3);

	/* iretq to CPL0 from CPL3 is refused: #GP(selector) */
	e.gpr[X86_RSP] = 0x60000;
	frame = (u64 *)(mem + 0x60000);
	frame[0] = 0x1234;
	frame[1] = 0x08;
	frame[2] = 2;
	frame[3] = 0x60000;
	frame[4] = 0x10;
	assert_int_equal(run(&e, "\x48\xcf", 2), X86_EMU_EXCEPTION);
	assert_int_equal(e.exc.vector, X86_EXC_GP);
	assert_int_equal(e.exc.error, 0x08);

	/* 32-bit protected mode: far jmp to another code segment, lar, verw */
	init_prot32(&e, 0);
	setup_tables(&e);
	e.efer = 0;
	e.seg[X86_SEG_CS].sel = 0x40;
	assert_int_equal(run(&e, "\xea\x00\x20\x00\x00\x40\x00", 7), X86_EMU_OK);
	assert_int_equal(e.rip, 0x2000);
	assert_int_equal(e.seg[X86_SEG_CS].sel, 0x40);
	assert_int_equal(e.mode, X86_MODE_PROT32);
	/* far jmp to the 64-bit descriptor outside long mode is fine too;
	 * to a DPL3 non-conforming segment at CPL0 it is #GP(sel) */
	e.rip = 0x1000;
	assert_int_equal(run(&e, "\xea\x00\x20\x00\x00\x1b\x00", 7), X86_EMU_EXCEPTION);
	assert_int_equal(e.exc.vector, X86_EXC_GP);
	assert_int_equal(e.exc.error, 0x18);
	e.gpr[X86_RCX] = 0x20;
	assert_int_equal(run(&e, "\x0f\x02\xc1", 3), X86_EMU_OK);	/* lar eax, cx */
	assert_true(e.rflags & X86E_FL_ZF);
	assert_int_equal(e.gpr[X86_RAX], 0x00cff300);
	e.rip = 0x1000;
	e.gpr[X86_RCX] = 0x18;
	assert_int_equal(run(&e, "\x0f\x00\xe9", 3), X86_EMU_OK);	/* verw cx: code */
	assert_false(e.rflags & X86E_FL_ZF);
	e.rip = 0x1000;
	e.gpr[X86_RCX] = 0x20;
	assert_int_equal(run(&e, "\x0f\x00\xe9", 3), X86_EMU_OK);	/* verw cx: data */
	assert_true(e.rflags & X86E_FL_ZF);
	e.rip = 0x1000;
	e.gpr[X86_RCX] = 0x30;
	assert_int_equal(run(&e, "\x0f\x03\xc1", 3), X86_EMU_OK);	/* lsl eax, cx */
	assert_true(e.rflags & X86E_FL_ZF);
	assert_int_equal(e.gpr[X86_RAX], 0x67);
	e.rip = 0x1000;
	e.gpr[X86_RCX] = 0x48;	/* beyond the GDT: ZF clear, no fault */
	assert_int_equal(run(&e, "\x0f\x02\xc1", 3), X86_EMU_OK);
	assert_false(e.rflags & X86E_FL_ZF);

	/* mov ds with a code selector: #GP(sel); with the data one: loaded */
	e.rip = 0x1000;
	e.gpr[X86_RAX] = 0x18;
	assert_int_equal(run(&e, "\x8e\xd8", 2), X86_EMU_OK);	/* readable code: fine */
	e.rip = 0x1000;
	e.gpr[X86_RAX] = 0x30;	/* TSS: system descriptor */
	assert_int_equal(run(&e, "\x8e\xd8", 2), X86_EMU_EXCEPTION);
	assert_int_equal(e.exc.error, 0x30);
	e.gpr[X86_RAX] = 0x10;
	assert_int_equal(run(&e, "\x8e\xd0", 2), X86_EMU_OK);	/* mov ss */
	assert_int_equal(e.seg[X86_SEG_SS].sel, 0x10);
	assert_true(e.shadow & X86_SHADOW_MOV_SS);
}

/*
 * Random instruction bytes on random state in every mode: the emulator
 * must not crash, must return one of its results, and when it reports a
 * fault or "unimplemented" the vCPU state must be exactly as before
 * (except the completed iterations of a rep string instruction).
 */
static void test_random_robustness(void **state)
{
	unsigned int n = long_run() ? 2000000 : 200000, i, j, bad = 0;
	unsigned long results[5] = { 0 };

	for (i = 0; i < n; i++) {
		struct x86_emu e, before;
		enum x86_emu_result r;
		u8 code[16];

		switch (i & 3) {
		case 0: init_long(&e, 0); break;
		case 1: init_long(&e, 3); break;
		case 2: init_prot32(&e, 0); break;
		default: init_real(&e); e.rip = 0x1000; break;
		}
		for (j = 0; j < 16; j++) {
			/* mostly small values, so that memory operands hit memory */
			e.gpr[j] = (rnd() & 3) ? rnd() & 0x3ffff : rnd_operand();
			code[j] = rnd();
		}
		e.gpr[X86_RSP] = 0x60000 + (rnd() & 0xff0);
		e.gpr[X86_RCX] &= 0xff;		/* bounded rep counts */
		e.rflags = X86E_FL_FIXED | (rnd() & (X86E_FL_ARITH | X86E_FL_DF));
		env.msr[0] = 0x0023001000000000ULL;
		load_code(&e, code, 16);
		before = e;
		r = x86_emulate(&e);
		if (r > X86_EMU_EXIT) {
			bad++;
			continue;
		}
		results[r]++;
		if (r == X86_EMU_EXCEPTION && e.exc.vector >= 32)
			bad++;
		if ((r == X86_EMU_UNIMPLEMENTED || r == X86_EMU_EXCEPTION) &&
		    !(e.insn.flags & X86_F_STRING)) {
			if (memcmp(e.gpr, before.gpr, sizeof(e.gpr)) || e.rip != before.rip ||
			    e.rflags != before.rflags ||
			    memcmp(e.seg, before.seg, sizeof(e.seg))) {
				if (bad++ < 10)
					print_message("state changed by a failed instruction: "
						      "%02x %02x %02x %02x (result %d)\n",
						      code[0], code[1], code[2], code[3], r);
			}
		}
	}
	print_message("%u random instructions: %lu ok, %lu exceptions, %lu unimplemented, "
		      "%lu halts, %lu exits\n", n, results[0], results[1], results[2],
		      results[3], results[4]);
	assert_true(results[X86_EMU_OK] > n / 10);
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alu_vs_cpu),
		cmocka_unit_test(test_string_ops),
		cmocka_unit_test(test_faults_mid_instruction),
		cmocka_unit_test(test_privileged),
		cmocka_unit_test(test_real_mode),
		cmocka_unit_test(test_syscall_sysret),
		cmocka_unit_test(test_stack_and_flow),
		cmocka_unit_test(test_protected_transfers),
		cmocka_unit_test(test_event_delivery),
		cmocka_unit_test(test_moffs),
		cmocka_unit_test(test_stac_clac),
		cmocka_unit_test(test_rep_exit_keeps_progress),
		cmocka_unit_test(test_random_robustness),
	};

	mem = calloc(1, MEM_SIZE);
	if (!mem)
		return 1;
	return cmocka_run_group_tests(tests, setup_native, NULL);
}
