// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suites for hyvm's decoder and emulator, run inside the kernel:
 * the same portable code as the host unit tests (tests/unit/test_decode.c,
 * test_emulate.c), now built as kernel C and run on the kernel's own text
 * and on the CPU it runs on.  Built into hyvm_kunit.ko with
 * "hyvm_kunit-y += virt/emulate/emulate_kunit.o"; x86_decode() and
 * x86_emulate_insn() are exported to the HYVM_KUNIT namespace when
 * CONFIG_HYVM_KUNIT_TEST is set.
 */
#include <kunit/test.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/printk.h>
#include <asm/irqflags.h>
#include "decode.h"
#include "emulate.h"

MODULE_IMPORT_NS(HYVM_KUNIT);

struct known {
	const char *name;
	u8 bytes[15];
	u8 n;
	u8 mode;
	u8 len;
	u8 cf;
};

static const struct known known[] = {
	{ "mov rax, imm64", { 0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8 }, 10, X86_MODE_LONG64, 10, 0 },
	{ "call rel32", { 0xe8, 1, 2, 3, 4 }, 5, X86_MODE_LONG64, 5, X86_CF_CALL },
	{ "jmp [rip+x]", { 0xff, 0x25, 0, 0, 0, 0 }, 6, X86_MODE_LONG64, 6, X86_CF_JMP_IND },
	{ "iretq", { 0x48, 0xcf }, 2, X86_MODE_LONG64, 2, X86_CF_IRET },
	{ "syscall", { 0x0f, 0x05 }, 2, X86_MODE_LONG64, 2, X86_CF_SYSCALL },
	{ "vaddps ymm", { 0xc5, 0xf4, 0x58, 0xc0 }, 4, X86_MODE_LONG64, 4, 0 },
	{ "evex vaddps zmm", { 0x62, 0xf1, 0x74, 0x48, 0x58, 0xc0 }, 6, X86_MODE_LONG64, 6, 0 },
	{ "16-bit disp16", { 0x8b, 0x06, 0x34, 0x12 }, 4, X86_MODE_REAL, 4, 0 },
	{ "ljmp ptr16:16", { 0xea, 0, 0x7c, 0, 0 }, 5, X86_MODE_REAL, 5, X86_CF_JMP_FAR },
	{ "les (32-bit)", { 0xc4, 0x00 }, 2, X86_MODE_PROT32, 2, 0 },
};

static void emulate_decode_known(struct kunit *test)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(known); i++) {
		struct x86_insn insn;

		KUNIT_EXPECT_EQ_MSG(test, x86_decode(&insn, known[i].bytes, known[i].n,
						     known[i].mode), X86_DECODE_OK,
				    "%s", known[i].name);
		KUNIT_EXPECT_EQ_MSG(test, insn.len, known[i].len, "%s", known[i].name);
		KUNIT_EXPECT_EQ_MSG(test, insn.cf, known[i].cf, "%s", known[i].name);
	}
}

/*
 * Sweep the text of a few kernel functions: every byte string decodes to
 * an instruction within 15 bytes or is reported invalid, and most of the
 * sweep is real instructions.
 */
static void emulate_decode_kernel_text(struct kunit *test)
{
	const u8 *const starts[] = {
		(const u8 *)_printk, (const u8 *)kunit_init_test, (const u8 *)kmalloc_trace,
	};
	unsigned int i, ok = 0, bad = 0, total = 0;

	for (i = 0; i < ARRAY_SIZE(starts); i++) {
		const u8 *p = starts[i];
		unsigned int off = 0;

		while (off < 2048) {
			struct x86_insn insn;
			enum x86_decode_status st = x86_decode(&insn, p + off, 2048 + 15 - off,
							       X86_MODE_LONG64);

			total++;
			if (st == X86_DECODE_OK) {
				ok++;
				KUNIT_EXPECT_LE(test, insn.len, X86_MAX_INSN_LEN);
				off += insn.len;
			} else {
				if (st != X86_DECODE_UD)
					bad++;
				off++;
			}
		}
	}
	KUNIT_EXPECT_EQ(test, bad, 0);
	KUNIT_EXPECT_GT(test, ok, total * 9 / 10);
}

/* Flat memory for the emulator. */
static u8 kmem[256];

static int k_read(struct x86_emu *e, u64 la, void *buf, unsigned int n, bool fetch)
{
	if (la + n > sizeof(kmem))
		return x86_emu_page_fault(e, la, fetch ? 0x10 : 0);
	memcpy(buf, kmem + la, n);
	return X86_EMU_CB_OK;
}

static int k_write(struct x86_emu *e, u64 la, const void *buf, unsigned int n)
{
	if (la + n > sizeof(kmem))
		return x86_emu_page_fault(e, la, 2);
	memcpy(kmem + la, buf, n);
	return X86_EMU_CB_OK;
}

static const struct x86_emu_ops k_ops = { .read = k_read, .write = k_write };

/* add/adc/sub/sbb rax, rbx emulated and executed by this CPU. */
static void emulate_alu_vs_cpu(struct kunit *test)
{
	static const u8 code[4][3] = {
		{ 0x48, 0x01, 0xd8 }, { 0x48, 0x11, 0xd8 }, { 0x48, 0x29, 0xd8 }, { 0x48, 0x19, 0xd8 },
	};
	unsigned int i, op, bad = 0;

	for (i = 0; i < 4000; i++) {
		u64 a = get_random_u64(), b = get_random_u64();
		unsigned long fl = (native_save_fl() & ~X86E_FL_ARITH) |
				   (get_random_u32() & X86E_FL_ARITH);
		unsigned long nfl = fl;
		u64 na = a;
		struct x86_insn insn;
		struct x86_emu e;

		op = i & 3;
		switch (op) {
		case 0:
			asm volatile("push %[f]; popf; add %[b], %[a]; pushf; pop %[f]"
				     : [a] "+r" (na), [f] "+r" (nfl) : [b] "r" (b) : "cc");
			break;
		case 1:
			asm volatile("push %[f]; popf; adc %[b], %[a]; pushf; pop %[f]"
				     : [a] "+r" (na), [f] "+r" (nfl) : [b] "r" (b) : "cc");
			break;
		case 2:
			asm volatile("push %[f]; popf; sub %[b], %[a]; pushf; pop %[f]"
				     : [a] "+r" (na), [f] "+r" (nfl) : [b] "r" (b) : "cc");
			break;
		default:
			asm volatile("push %[f]; popf; sbb %[b], %[a]; pushf; pop %[f]"
				     : [a] "+r" (na), [f] "+r" (nfl) : [b] "r" (b) : "cc");
		}
		memset(&e, 0, sizeof(e));
		e.ops = &k_ops;
		e.mode = X86_MODE_LONG64;
		e.gpr[X86_RAX] = a;
		e.gpr[X86_RBX] = b;
		e.rflags = fl;
		if (x86_decode(&insn, code[op], 3, X86_MODE_LONG64) != X86_DECODE_OK ||
		    x86_emulate_insn(&e, &insn) != X86_EMU_OK ||
		    e.gpr[X86_RAX] != na || ((e.rflags ^ nfl) & X86E_FL_ARITH))
			bad++;
	}
	KUNIT_EXPECT_EQ(test, bad, 0);
}

/* A page fault in a rep movsb keeps the iterations done. */
static void emulate_rep_fault(struct kunit *test)
{
	struct x86_insn insn;
	struct x86_emu e;
	static const u8 code[] = { 0xf3, 0xa4 };

	memset(&e, 0, sizeof(e));
	e.ops = &k_ops;
	e.mode = X86_MODE_LONG64;
	e.rflags = X86E_FL_FIXED;
	e.gpr[X86_RSI] = 0;
	e.gpr[X86_RDI] = sizeof(kmem) - 4;
	e.gpr[X86_RCX] = 10;
	KUNIT_ASSERT_EQ(test, x86_decode(&insn, code, 2, X86_MODE_LONG64), X86_DECODE_OK);
	KUNIT_EXPECT_EQ(test, x86_emulate_insn(&e, &insn), X86_EMU_EXCEPTION);
	KUNIT_EXPECT_EQ(test, e.exc.vector, X86_EXC_PF);
	KUNIT_EXPECT_EQ(test, e.gpr[X86_RCX], 6);
	KUNIT_EXPECT_EQ(test, e.rip, 0);
}

static struct kunit_case emulate_cases[] = {
	KUNIT_CASE(emulate_decode_known),
	KUNIT_CASE(emulate_decode_kernel_text),
	KUNIT_CASE(emulate_alu_vs_cpu),
	KUNIT_CASE(emulate_rep_fault),
	{}
};

static struct kunit_suite emulate_suite = {
	.name = "hyvm_emulate",
	.test_cases = emulate_cases,
};
kunit_test_suites(&emulate_suite);
