// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of hyvm's x86 decoder (virt/emulate/decode.c).
 *
 *  - hand-written encodings with their expected length and classification;
 *  - differential runs against Zydis on random byte strings in every mode;
 *  - differential runs against Zydis over the code of real binaries: the
 *    host's kernel modules, large userspace programs, and vmlinux when an
 *    extracted image is found.
 *
 * Every disagreement with Zydis is either a failure or one of the explained
 * classes in explain(), each with the reason from the SDM/APM.
 * HYVM_LONG=1 runs many more random strings; HYVM_DECODE_VERBOSE=1 prints
 * every disagreement.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <elf.h>
#include <time.h>
#include <cmocka.h>
#include <Zydis/Zydis.h>

#include "emulate/decode.h"

static const char *const mode_name[] = { "real", "prot16", "prot32", "long64" };

static bool verbose(void)
{
	return getenv("HYVM_DECODE_VERBOSE") != NULL;
}

static bool long_run(void)
{
	const char *s = getenv("HYVM_LONG");

	return s && *s && *s != '0';
}

/* ---------------------------------------------------------------------- */
/* Hand-written cases.                                                    */

struct known {
	const char *name;
	enum x86_mode mode;
	u8 bytes[16];
	u8 n;
	enum x86_decode_status st;
	u8 len;
	u8 cf;
	u32 flags;	/* must all be set */
	u8 mem;
	u8 opsize;
};

#define K(nm, md, st, ln, cf, fl, mem, osz, ...) \
	{ nm, md, { __VA_ARGS__ }, sizeof((u8[]){ __VA_ARGS__ }), st, ln, cf, fl, mem, osz }
#define L64 X86_MODE_LONG64
#define P32 X86_MODE_PROT32
#define P16 X86_MODE_PROT16
#define RM X86_MODE_REAL
#define OK X86_DECODE_OK
#define UD X86_DECODE_UD

static const struct known known[] = {
	K("nop", L64, OK, 1, 0, 0, 0, 4, 0x90),
	K("mov rax,imm64", L64, OK, 10, 0, 0, 0, 8, 0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8),
	K("mov eax,[rip+x]", L64, OK, 6, 0, X86_F_MEM | X86_F_RIPREL, X86_MEM_R, 4,
	  0x8b, 0x05, 0x10, 0, 0, 0),
	K("add [rax],al lock", L64, OK, 3, 0, X86_P_LOCK | X86_F_MEM, X86_MEM_R | X86_MEM_W, 1,
	  0xf0, 0x00, 0x00),
	K("lock add reg", L64, UD, 3, 0, 0, 0, 0, 0xf0, 0x00, 0xc0),
	K("lock mov", L64, UD, 3, 0, 0, 0, 0, 0xf0, 0x89, 0x00),
	K("jmp rel8", L64, OK, 2, X86_CF_JMP, X86_F_REL, 0, 8, 0xeb, 0xfe),
	K("66 jmp rel32 (intel)", L64, OK, 6, X86_CF_JMP, X86_F_REL, 0, 8,
	  0x66, 0xe9, 1, 2, 3, 4),
	K("jcc rel32", L64, OK, 6, X86_CF_JCC, X86_F_REL, 0, 8, 0x0f, 0x84, 1, 2, 3, 4),
	K("call rel32", L64, OK, 5, X86_CF_CALL, X86_F_REL | X86_F_STACK, 0, 8,
	  0xe8, 1, 2, 3, 4),
	K("call [rax]", L64, OK, 2, X86_CF_CALL_IND, X86_F_MEM | X86_F_STACK, X86_MEM_R, 8,
	  0xff, 0x10),
	K("jmp rax", L64, OK, 2, X86_CF_JMP_IND, 0, 0, 8, 0xff, 0xe0),
	K("ljmp [rax]", L64, OK, 2, X86_CF_JMP_FAR, X86_F_SENSITIVE, X86_MEM_R, 4, 0xff, 0x28),
	K("ljmp reg", L64, UD, 2, 0, 0, 0, 0, 0xff, 0xe8),
	K("ret", L64, OK, 1, X86_CF_RET, X86_F_STACK, 0, 8, 0xc3),
	K("ret imm", L64, OK, 3, X86_CF_RET, X86_F_STACK, 0, 8, 0xc2, 8, 0),
	K("iretq", L64, OK, 2, X86_CF_IRET, X86_F_SENSITIVE, 0, 8, 0x48, 0xcf),
	K("int 0x80", P32, OK, 2, X86_CF_INT, 0, 0, 4, 0xcd, 0x80),
	K("syscall", L64, OK, 2, X86_CF_SYSCALL, 0, 0, 4, 0x0f, 0x05),
	K("sysret", L64, OK, 2, X86_CF_SYSRET, X86_F_PRIV, 0, 4, 0x0f, 0x07),
	K("loop", L64, OK, 2, X86_CF_LOOP, X86_F_REL, 0, 8, 0xe2, 0xfe),
	K("jrcxz", L64, OK, 2, X86_CF_LOOP, X86_F_REL, 0, 8, 0xe3, 0xfe),
	K("popf", L64, OK, 1, 0, X86_F_SENSITIVE | X86_F_STACK, 0, 8, 0x9d),
	K("pushf 66", L64, OK, 2, 0, X86_F_SENSITIVE, 0, 2, 0x66, 0x9c),
	K("sgdt", L64, OK, 3, 0, X86_F_SENSITIVE | X86_F_MEM, X86_MEM_W, 4, 0x0f, 0x01, 0x00),
	K("lgdt", L64, OK, 3, 0, X86_F_PRIV, X86_MEM_R, 4, 0x0f, 0x01, 0x10),
	K("smsw eax", L64, OK, 3, 0, X86_F_SENSITIVE, 0, 4, 0x0f, 0x01, 0xe0),
	K("swapgs", L64, OK, 3, 0, X86_F_PRIV, 0, 4, 0x0f, 0x01, 0xf8),
	K("swapgs 32", P32, UD, 3, 0, 0, 0, 0, 0x0f, 0x01, 0xf8),
	K("rdtscp", L64, OK, 3, 0, X86_F_SENSITIVE, 0, 4, 0x0f, 0x01, 0xf9),
	K("mov cr3,rax", L64, OK, 3, 0, X86_F_PRIV, 0, 8, 0x0f, 0x22, 0xd8),
	K("mov rax,cr0 mod0", L64, OK, 3, 0, X86_F_PRIV, 0, 8, 0x0f, 0x20, 0x05),
	K("mov ax,cs", L64, OK, 3, 0, X86_F_SENSITIVE, 0, 2, 0x66, 0x8c, 0xc8),
	K("mov cs,ax", L64, UD, 2, 0, 0, 0, 0, 0x8e, 0xc8),
	K("lar", L64, OK, 3, 0, X86_F_SENSITIVE, 0, 4, 0x0f, 0x02, 0xc0),
	K("lar real", RM, UD, 3, 0, 0, 0, 0, 0x0f, 0x02, 0xc0),
	K("cpuid", L64, OK, 2, 0, X86_F_SENSITIVE, 0, 4, 0x0f, 0xa2),
	K("rdtsc", L64, OK, 2, 0, X86_F_SENSITIVE, 0, 4, 0x0f, 0x31),
	K("cli", L64, OK, 1, 0, X86_F_IOPL, 0, 4, 0xfa),
	K("out dx,al", L64, OK, 1, 0, X86_F_IOPL, 0, 1, 0xee),
	K("rex.w in eax,dx", L64, OK, 2, 0, X86_F_IOPL, 0, 4, 0x48, 0xed),
	K("rep movsb", L64, OK, 2, 0, X86_F_STRING | X86_P_REP, 0, 1, 0xf3, 0xa4),
	K("hlt", L64, OK, 1, 0, X86_F_PRIV, 0, 4, 0xf4),
	K("fs mov", L64, OK, 9, 0, X86_P_SEG | X86_F_MEM, X86_MEM_R, 8,
	  0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0),
	K("moffs64", L64, X86_DECODE_TRUNC, 0, 0, 0, 0, 0, 0xa1),
	K("moffs16 real", RM, OK, 3, 0, X86_F_MEM, X86_MEM_R, 2, 0xa1, 0x34, 0x12),
	K("16-bit bp disp8", RM, OK, 3, 0, X86_F_MEM, X86_MEM_R, 2, 0x8b, 0x46, 0x02),
	K("16-bit disp16", P16, OK, 4, 0, X86_F_MEM, X86_MEM_R, 2, 0x8b, 0x06, 0x34, 0x12),
	K("67 in 16-bit: 32-bit addressing", P16, OK, 8, 0, X86_F_MEM, X86_MEM_R, 2,
	  0x67, 0x8b, 0x84, 0x24, 1, 2, 3, 4),
	K("ljmp ptr16:16 real", RM, OK, 5, X86_CF_JMP_FAR, 0, 0, 2, 0xea, 0, 0x7c, 0, 0),
	K("ljmp ptr 64", L64, UD, 1, 0, 0, 0, 0, 0xea),
	K("push cs", P32, OK, 1, 0, X86_F_SENSITIVE | X86_F_STACK, 0, 4, 0x0e),
	K("inc eax 32", P32, OK, 1, 0, 0, 0, 4, 0x40),
	K("rex then inc", L64, OK, 3, 0, X86_P_REX, X86_MEM_R | X86_MEM_W, 4, 0x40, 0xff, 0x00),
	K("les 32", P32, OK, 2, 0, X86_F_SEGLOAD, X86_MEM_R, 4, 0xc4, 0x00),
	K("vex2 vaddps", L64, OK, 4, 0, X86_P_VEX | X86_F_SIMD, 0, 4, 0xc5, 0xf0, 0x58, 0xc0),
	K("vex2 in 32", P32, OK, 4, 0, X86_P_VEX, 0, 4, 0xc5, 0xf0, 0x58, 0xc0),
	K("vzeroupper", L64, OK, 3, 0, X86_P_VEX, 0, 4, 0xc5, 0xf8, 0x77),
	K("66 vex", L64, UD, 5, 0, 0, 0, 0, 0x66, 0xc5, 0xf0, 0x58, 0xc0),
	K("evex vaddps zmm", L64, OK, 6, 0, X86_P_EVEX, 0, 4,
	  0x62, 0xf1, 0x74, 0x48, 0x58, 0xc0),
	K("evex disp8", L64, OK, 7, 0, X86_P_EVEX | X86_F_MEM, X86_MEM_R, 4,
	  0x62, 0xf1, 0x74, 0x48, 0x58, 0x40, 0x01),
	K("evex vpternlogd imm", L64, OK, 7, 0, X86_P_EVEX | X86_F_SIMD, 0, 4,
	  0x62, 0xf3, 0x75, 0x48, 0x25, 0xc2, 0x55),
	K("evex map6 vcvtph2psx", L64, OK, 6, 0, X86_P_EVEX, 0, 4,
	  0x62, 0xf6, 0x7d, 0x48, 0x13, 0xc1),
	K("evex map5 vaddph", L64, OK, 6, 0, X86_P_EVEX, 0, 4,
	  0x62, 0xf5, 0x74, 0x48, 0x58, 0xc2),
	K("evex map3 vcmpph k", L64, OK, 7, 0, X86_P_EVEX, 0, 4,
	  0x62, 0xf3, 0x6c, 0x48, 0xc2, 0xcb, 0x00),
	K("evex vprold (72 /1)", L64, OK, 7, 0, X86_P_EVEX, 0, 4,
	  0x62, 0xf1, 0x75, 0x48, 0x72, 0xc8, 0x01),
	K("evex vgatherpf0dps vsib", L64, OK, 7, 0, X86_P_EVEX | X86_F_MEM, X86_MEM_R, 4,
	  0x62, 0xf2, 0x7d, 0x49, 0xc6, 0x0c, 0x88),
	K("evex vpgatherdd", L64, OK, 7, 0, X86_P_EVEX | X86_F_MEM, X86_MEM_R, 4,
	  0x62, 0xf2, 0x7d, 0x49, 0x90, 0x0c, 0x90),
	K("evex vfmaddcph", L64, OK, 6, 0, X86_P_EVEX, 0, 4,
	  0x62, 0xf6, 0x6e, 0x48, 0x56, 0xc1),
	K("evex map5 op 00 undefined", L64, UD, 0, 0, 0, 0, 0,
	  0x62, 0xf5, 0x7c, 0x48, 0x00, 0xc0),
	K("evex map1 77 undefined", L64, UD, 0, 0, 0, 0, 0, 0x62, 0xf1, 0x7c, 0x48, 0x77),
	K("evex vpshufb without 66", L64, UD, 0, 0, 0, 0, 0,
	  0x62, 0xf2, 0x7c, 0x48, 0x00, 0xc0),
	K("evex map6 58 undefined", L64, UD, 0, 0, 0, 0, 0,
	  0x62, 0xf6, 0x7c, 0x48, 0x58, 0xc0),
	K("evex 72 /3 undefined", L64, UD, 0, 0, 0, 0, 0,
	  0x62, 0xf1, 0x75, 0x48, 0x72, 0xd8, 0x01),
	K("evex gatherpf register form", L64, UD, 0, 0, 0, 0, 0,
	  0x62, 0xf2, 0x7d, 0x49, 0xc6, 0xc8),
	K("evex gatherpf /0", L64, UD, 0, 0, 0, 0, 0,
	  0x62, 0xf2, 0x7d, 0x49, 0xc6, 0x04, 0x88),
	K("evex gather dest is index", L64, UD, 0, 0, 0, 0, 0,
	  0x62, 0xf2, 0x7d, 0x49, 0x90, 0x0c, 0x88),
	K("evex vmovntdqa register", L64, UD, 0, 0, 0, 0, 0,
	  0x62, 0xf2, 0x7d, 0x48, 0x2a, 0xc1),
	K("evex vpmovm2b memory", L64, UD, 0, 0, 0, 0, 0,
	  0x62, 0xf2, 0x7e, 0x48, 0x28, 0x00),
	K("evex vfmaddcph dest is source", L64, UD, 0, 0, 0, 0, 0,
	  0x62, 0xf6, 0x7e, 0x48, 0x56, 0xc1),
	K("evex vaddpd (66 W1)", L64, OK, 6, 0, X86_P_EVEX, 0, 8,
	  0x62, 0xf1, 0xf5, 0x48, 0x58, 0xc0),
	K("evex vaddps W1 undefined", L64, UD, 0, 0, 0, 0, 0,
	  0x62, 0xf1, 0xf4, 0x48, 0x58, 0xc0),
	K("evex vpsrld imm W1 undefined", L64, UD, 0, 0, 0, 0, 0,
	  0x62, 0xf1, 0xf5, 0x48, 0x72, 0xd0, 0x01),
	K("evex vcvtsi2sh W1", L64, OK, 6, 0, X86_P_EVEX, 0, 8,
	  0x62, 0xf5, 0xf6, 0x08, 0x2a, 0xc0),
	K("evex vcvtsi2sh W1 in 32", P32, UD, 0, 0, 0, 0, 0,
	  0x62, 0xf5, 0xf6, 0x08, 0x2a, 0xc0),
	K("evex vaddps in 32", P32, OK, 6, 0, X86_P_EVEX, 0, 4,
	  0x62, 0xf1, 0x74, 0x48, 0x58, 0xc0),
	K("evex map5 op 00 in 32", P32, UD, 0, 0, 0, 0, 0,
	  0x62, 0xf5, 0x7c, 0x48, 0x00, 0xc0),
	K("vpshufd imm", L64, OK, 5, 0, X86_P_VEX, 0, 4, 0xc5, 0xf9, 0x70, 0xc0, 0x1b),
	K("xop vprotb imm", L64, OK, 6, 0, X86_P_XOP, 0, 4, 0x8f, 0xe8, 0x78, 0xc0, 0xc0, 0x01),
	K("xop bextr imm32", L64, OK, 9, 0, X86_P_XOP, 0, 4,
	  0x8f, 0xea, 0x78, 0x10, 0xc0, 1, 2, 3, 4),
	K("pop [rax]", L64, OK, 2, 0, X86_F_STACK, X86_MEM_W, 8, 0x8f, 0x00),
	K("enter", L64, OK, 4, 0, X86_F_STACK, 0, 8, 0xc8, 0x10, 0x00, 0x01),
	K("xbegin", L64, OK, 6, X86_CF_JCC, X86_F_REL, 0, 4, 0xc7, 0xf8, 1, 2, 3, 4),
	K("endbr64", L64, OK, 4, 0, X86_F_NOP, 0, 4, 0xf3, 0x0f, 0x1e, 0xfa),
	K("ud2", L64, OK, 2, X86_CF_OTHER, X86_F_UD, 0, 4, 0x0f, 0x0b),
	K("3dnow pfadd", P32, OK, 4, 0, X86_F_SIMD, 0, 4, 0x0f, 0x0f, 0xc1, 0x9e),
	K("3dnow bad", P32, UD, 4, 0, 0, 0, 0, 0x0f, 0x0f, 0xc1, 0x00),
	K("cmpxchg16b", L64, OK, 4, 0, X86_F_MEM, X86_MEM_R | X86_MEM_W, 16,
	  0x48, 0x0f, 0xc7, 0x08),
	K("popcnt needs f3", L64, UD, 3, 0, 0, 0, 0, 0x0f, 0xb8, 0xc0),
	K("addps f3 -> addss", L64, OK, 4, 0, X86_F_SIMD, 0, 4, 0xf3, 0x0f, 0x58, 0xc0),
	K("andps f3", L64, UD, 4, 0, 0, 0, 0, 0xf3, 0x0f, 0x54, 0xc0),
	K("15 bytes", L64, OK, 15, 0, X86_F_NOP, 0, 2,
	  0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x80, 0, 0, 0, 0),
	K("16 bytes", L64, X86_DECODE_TOOLONG, 15, 0, 0, 0, 0,
	  0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x80, 0, 0, 0, 0),
};

static void test_known(void **state)
{
	unsigned int i, bad = 0;

	for (i = 0; i < ARRAY_SIZE(known); i++) {
		const struct known *k = &known[i];
		struct x86_insn insn;
		enum x86_decode_status st = x86_decode(&insn, k->bytes, k->n, k->mode);
		bool ok = st == k->st;

		if (ok && st == OK) {
			ok = insn.len == k->len && insn.cf == k->cf &&
			     (insn.flags & k->flags) == k->flags &&
			     insn.mem == k->mem && insn.opsize == k->opsize;
		}
		if (ok && st == X86_DECODE_TOOLONG)
			ok = insn.len == k->len;
		if (!ok) {
			bad++;
			print_message("known %s: st %d/%d len %u/%u cf %u/%u flags %#x/%#x mem %u/%u opsize %u/%u\n",
				      k->name, st, k->st, insn.len, k->len, insn.cf, k->cf,
				      insn.flags, k->flags, insn.mem, k->mem,
				      insn.opsize, k->opsize);
		}
	}
	assert_int_equal(bad, 0);
}

/* ---------------------------------------------------------------------- */
/* Differential comparison with Zydis.                                    */

static ZydisDecoder zdec[4], zdec_full[4];

static int setup_zydis(void **state)
{
	static const ZydisMachineMode zm[4] = {
		ZYDIS_MACHINE_MODE_REAL_16, ZYDIS_MACHINE_MODE_LEGACY_16,
		ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_MACHINE_MODE_LONG_64,
	};
	static const ZydisStackWidth zs[4] = {
		ZYDIS_STACK_WIDTH_16, ZYDIS_STACK_WIDTH_16,
		ZYDIS_STACK_WIDTH_32, ZYDIS_STACK_WIDTH_64,
	};
	int m;

	for (m = 0; m < 4; m++) {
		if (!ZYAN_SUCCESS(ZydisDecoderInit(&zdec[m], zm[m], zs[m])))
			return -1;
		/* hyvm decodes only what the instruction is, not its operands */
		ZydisDecoderEnableMode(&zdec[m], ZYDIS_DECODER_MODE_MINIMAL, ZYAN_FALSE);
		zdec_full[m] = zdec[m];
	}
	return 0;
}

enum verdict {
	V_AGREE,
	V_EXPLAINED,
	V_DISAGREE,
};

struct stats {
	unsigned long total, agree_ok, agree_bad, explained, disagree;
	unsigned long by_reason[32];
};

static const char *reasons[32];

static unsigned int reason_id(const char *r)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(reasons); i++) {
		if (reasons[i] == r || !reasons[i]) {
			reasons[i] = r;
			return i;
		}
	}
	return ARRAY_SIZE(reasons) - 1;
}

/*
 * How Zydis says the explicit memory operand is accessed (X86_MEM_R/W):
 * the explicit or implicit-but-ModRM-encoded memory operands, not the
 * stack or string ones, and not lea's address generation.
 */
static u8 zydis_mem_access(const u8 *b, unsigned int n, enum x86_mode mode)
{
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	ZydisDecodedInstruction z;
	u8 acc = 0;
	unsigned int i;

	if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&zdec_full[mode], b, n, &z, ops)))
		return 0xff;
	for (i = 0; i < z.operand_count; i++) {
		if (ops[i].type != ZYDIS_OPERAND_TYPE_MEMORY ||
		    ops[i].visibility != ZYDIS_OPERAND_VISIBILITY_EXPLICIT ||
		    ops[i].mem.type != ZYDIS_MEMOP_TYPE_MEM)
			continue;
		if (ops[i].actions & ZYDIS_OPERAND_ACTION_MASK_READ)
			acc |= X86_MEM_R;
		if (ops[i].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE)
			acc |= X86_MEM_W;
	}
	return acc;
}

/*
 * Whether Zydis accepts the same VEX/XOP opcode and pp with some other
 * VEX.W, VEX.L, vvvv, R/X/B or ModRM.mod: then hyvm's acceptance differs only in
 * those fields, which it does not check.
 */
static bool vex_variant_valid(const struct x86_insn *h, const u8 *b, unsigned int n,
			      enum x86_mode mode)
{
	unsigned int p = h->opcode_offset - ((b[h->nr_prefixes] == 0xc5) ? 2 : 3);
	unsigned int v, m;
	ZydisDecodedInstruction z;
	u8 t[16];

	if (p != h->nr_prefixes || n > 16)
		return false;
	for (v = 0; v < 16; v++) {
		for (m = 0; m < 3; m++) {
			memcpy(t, b, n);
			if (v & 8)	/* no REX.R/X/B */
				t[p + 1] |= b[p] == 0xc5 ? 0x80 : 0xe0;
			/* vvvv: 1111 or as it was; L and W: 0 or 1 */
			if (b[p] == 0xc5) {
				t[p + 1] = (t[p + 1] & (v & 1 ? 0x83 : 0xfb)) | (v & 1 ? 0x78 : 0) |
					   (v & 2 ? 4 : 0);
			} else {
				t[p + 2] = (t[p + 2] & (v & 1 ? 0x03 : 0x7b)) | (v & 1 ? 0x78 : 0) |
					   (v & 2 ? 4 : 0) | (v & 4 ? 0x80 : 0);
			}
			if (m == 1)
				t[h->opcode_offset + 1] |= 0xc0;
			else if (m == 2)
				t[h->opcode_offset + 1] &= 0x38;
			if (ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&zdec[mode], NULL, t, n, &z)))
				return true;
		}
	}
	return false;
}

/*
 * EVEX fields, for evex_set(): P1.W, which hyvm checks, and the ones it
 * does not check against the opcode, one explained class each: P2.L'L,
 * P2.b, P2.z, P2.aaa, P1.vvvv with P2.V', P0.R/R'/X/B.  evex_set() sets the
 * field of the EVEX prefix at @t to @val (vvvv: none, 1111; R/R'/X/B: not
 * extended).
 */
enum { EF_W, EF_LL, EF_B, EF_Z, EF_AAA, EF_VVVV, EF_RX, EF_NR };

#define EVEX_WHY	" (Zydis accepts the same opcode, pp, W and ModRM form with " \
			"another value): hyvm checks map, opcode, pp, W and ModRM form, " \
			"not this field; SIMD is never emulated and a copied instruction " \
			"faults #UD itself"
static const char *const evex_field_reason[EF_NR + 1] = {
	[EF_LL] = "EVEX.L'L value the opcode does not allow (vector length, or "
		  "L'L=3 without b)" EVEX_WHY,
	[EF_B] = "EVEX.b the opcode does not allow (broadcast, rounding or SAE)" EVEX_WHY,
	[EF_Z] = "EVEX.z the opcode does not allow (zeroing on a store or a "
		 "mask destination)" EVEX_WHY,
	[EF_AAA] = "EVEX.aaa the opcode does not allow (k0 for gathers and "
		   "scatters, a mask where none is allowed)" EVEX_WHY,
	[EF_VVVV] = "EVEX.vvvv/V' not 1111b/1 where the opcode has no vvvv operand" EVEX_WHY,
	[EF_RX] = "EVEX.R/R'/X/B extending a ModRM field that names a mask register "
		  "(k0-k7 only) or a general register (r0-r15 only)" EVEX_WHY,
	[EF_NR] = "EVEX: several of L'L, b, z, aaa, vvvv, R/R'/X/B the opcode does not allow"
		  EVEX_WHY,
};

static void evex_set(u8 *t, unsigned int f, unsigned int val)
{
	switch (f) {
	case EF_W:
		t[2] = (t[2] & 0x7f) | (val << 7);
		break;
	case EF_LL:
		t[3] = (t[3] & 0x9f) | (val << 5);
		break;
	case EF_B:
		t[3] = (t[3] & 0xef) | (val << 4);
		break;
	case EF_Z:
		t[3] = (t[3] & 0x7f) | (val << 7);
		break;
	case EF_AAA:
		t[3] = (t[3] & 0xf8) | val;
		break;
	case EF_VVVV:
		t[2] |= 0x78;
		t[3] |= 0x08;
		break;
	case EF_RX:
		t[1] |= 0xf0;
		break;
	}
}

static bool zydis_ok(const u8 *t, unsigned int n, enum x86_mode mode, unsigned int *len)
{
	ZydisDecodedInstruction z;

	if (!ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&zdec[mode], NULL, t, n, &z)))
		return false;
	if (len)
		*len = z.length;
	return true;
}

/*
 * Which EVEX field class makes an encoding hyvm accepts and Zydis rejects
 * valid for Zydis: the same map, opcode, pp, W, ModRM and SIB with one
 * unchecked field changed, else with several changed.  NULL if no such
 * change helps: the opcode, its pp, W or ModRM form is then undefined and
 * hyvm's tables are wrong.  @e points to the 62 byte.
 */
static const char *evex_field_class(const u8 *b, unsigned int n, unsigned int e,
				    enum x86_mode mode)
{
	static const u8 nval[EF_NR] = { 2, 3, 2, 2, 2, 1, 1 };
	unsigned int f, v, ll, bb, zz, aaa;
	u8 t[16];

	if (n > 16 || e + 4 > n || b[e] != 0x62)
		return NULL;
	for (f = EF_LL; f < EF_NR; f++) {
		for (v = 0; v < nval[f]; v++) {
			memcpy(t, b, n);
			evex_set(t + e, f, v);
			if (memcmp(t, b, n) && zydis_ok(t, n, mode, NULL))
				return evex_field_reason[f];
		}
	}
	for (v = 0; v < 96; v++) {
		ll = v % 3;
		bb = (v / 3) & 1;
		zz = (v / 6) & 1;
		aaa = (v / 12) & 1;
		memcpy(t, b, n);
		evex_set(t + e, EF_LL, ll);
		evex_set(t + e, EF_B, bb);
		evex_set(t + e, EF_Z, zz);
		evex_set(t + e, EF_AAA, aaa);
		if ((v / 24) & 1)
			evex_set(t + e, EF_VVVV, 0);
		if (v / 48)
			evex_set(t + e, EF_RX, 0);
		if (zydis_ok(t, n, mode, NULL))
			return evex_field_reason[EF_NR];
	}
	return NULL;
}

/*
 * A known, explained difference between hyvm and Zydis, or NULL.  Each
 * reason states why hyvm's answer is the one the translator needs.
 */
static const char *explain(const struct x86_insn *h, enum x86_decode_status hst,
			   const ZydisDecodedInstruction *z, bool zok,
			   const u8 *b, unsigned int n, enum x86_mode mode)
{
	bool hok = hst == X86_DECODE_OK;

	if (hok && !zok && (h->flags & (X86_P_VEX | X86_P_XOP)) &&
	    !vex_variant_valid(h, b, n, mode))
		return NULL;	/* the opcode itself: hyvm's table is wrong */
	if (hok && !zok && (h->flags & X86_P_EVEX))
		return evex_field_class(b, n, h->opcode_offset - 4, mode);
	if (hok && !zok && (h->flags & (X86_P_VEX | X86_P_XOP)))
		return "VEX/XOP encoding with a VEX.L/W/R/vvvv or ModRM.mod value the opcode "
		       "does not allow (Zydis accepts the same opcode and pp with other "
		       "values): hyvm checks opcode and pp only; SIMD is never emulated "
		       "and a copied instruction faults #UD itself";
	if (!hok && zok && z->encoding == ZYDIS_INSTRUCTION_ENCODING_MVEX)
		return "MVEX (62 with P1 bit 2 clear) exists only on Knights Corner "
		       "coprocessors; every CPU hyvm runs on raises #UD (SDM 2.7.1)";
	if (!hok && zok && (z->meta.isa_ext == ZYDIS_ISA_EXT_KNC ||
			    z->meta.isa_ext == ZYDIS_ISA_EXT_KNCE ||
			    z->meta.isa_ext == ZYDIS_ISA_EXT_KNCV))
		return "VEX encodings of Knights Corner (jkzd, kmerge2l1l, vprefetche1, "
		       "clevict0, ...) exist only on that coprocessor; #UD elsewhere";
	if (hok && zok && !h->mem && zydis_mem_access(b, n, mode) == X86_MEM_R &&
	    (h->flags & (X86_F_NOP | X86_F_UD | X86_F_PRIV)) &&
	    (z->meta.category == ZYDIS_CATEGORY_NOP || z->meta.category == ZYDIS_CATEGORY_PREFETCH ||
	     z->meta.category == ZYDIS_CATEGORY_WIDENOP || z->mnemonic == ZYDIS_MNEMONIC_INVLPG ||
	     z->mnemonic == ZYDIS_MNEMONIC_UD0 || z->mnemonic == ZYDIS_MNEMONIC_UD1 ||
	     z->mnemonic == ZYDIS_MNEMONIC_CLDEMOTE || z->mnemonic == ZYDIS_MNEMONIC_PREFETCHWT1))
		return "no data access: hint NOPs, prefetches, cldemote, invlpg, ud0/ud1 "
		       "never load their memory operand nor page-fault on it (SDM NOP, "
		       "PREFETCHh, INVLPG); Zydis marks the operand read, hyvm marks no access";
	if (hok && zok && (h->flags & X86_F_PRIV) && !(z->attributes & ZYDIS_ATTRIB_IS_PRIVILEGED) &&
	    (z->mnemonic == ZYDIS_MNEMONIC_LGDT ||
	     z->mnemonic == ZYDIS_MNEMONIC_VMRUN || z->mnemonic == ZYDIS_MNEMONIC_VMLOAD ||
	     z->mnemonic == ZYDIS_MNEMONIC_VMSAVE || z->mnemonic == ZYDIS_MNEMONIC_STGI ||
	     z->mnemonic == ZYDIS_MNEMONIC_CLGI || z->mnemonic == ZYDIS_MNEMONIC_SKINIT ||
	     z->mnemonic == ZYDIS_MNEMONIC_INVLPGA || z->mnemonic == ZYDIS_MNEMONIC_ENCLV))
		return "privileged instructions Zydis does not mark privileged: lgdt (SDM: "
		       "#GP(0) if CPL != 0), enclv, and AMD SVM's vmrun, vmload, "
		       "vmsave, stgi, clgi, skinit, invlpga (APM: #GP(0) if CPL != 0)";
	if (hok && zok && !h->mem && h->map == X86_MAP_0F &&
	    (h->opcode == 0x1a || h->opcode == 0x1b))
		return "0F 1A/1B MPX bndmov/bndldx/bndstx: hint NOPs without memory access "
		       "on CPUs without MPX, all current ones; Zydis decodes them as MPX";
	if (hok && zok && h->map == X86_MAP_0F && (h->opcode == 0x1a || h->opcode == 0x1b) &&
	    z->address_width != 8 * h->adsize)
		return "bndldx/bndstx: Zydis reports the MPX bound-table address width, "
		       "hyvm the effective address size of the hint-NOP encoding";
	if (hok && !zok && h->map == X86_MAP_0F && (h->opcode == 0x1a || h->opcode == 0x1b))
		return "0F 1A/1B forms Zydis rejects as MPX (bnd4-7, 16-bit or RIP-relative "
		       "address) are hint NOPs of the same length on CPUs without MPX "
		       "(SDM vol. 2 NOP, 0F 18-1F reserved-NOP space)";
	if (hok && !zok && mode == X86_MODE_REAL && h->map == X86_MAP_0F &&
	    (h->opcode == 0x34 || h->opcode == 0x35))
		return "sysenter/sysexit in real mode raise #GP(0), not #UD (SDM SYSENTER "
		       "real-address mode exceptions): hyvm decodes them, the emulator faults";
	if (!hok && zok && mode == X86_MODE_REAL && h->map == X86_MAP_0F &&
	    (h->opcode == 0x78 || h->opcode == 0x79))
		return "VMX instructions are #UD in real mode (SDM VMREAD/VMWRITE "
		       "real-address mode exceptions); Zydis accepts the register form";
	return NULL;
}

/* Control-flow classes both decoders can be mapped to. */
enum { C_NONE, C_JCC, C_JMP, C_CALL, C_RET, C_INT, C_SYS };

static int cf_class(u8 cf)
{
	switch (cf) {
	case X86_CF_JCC: case X86_CF_LOOP:
		return C_JCC;
	case X86_CF_JMP: case X86_CF_JMP_IND: case X86_CF_JMP_FAR:
		return C_JMP;
	case X86_CF_CALL: case X86_CF_CALL_IND: case X86_CF_CALL_FAR:
		return C_CALL;
	case X86_CF_RET: case X86_CF_RET_FAR:
		return C_RET;
	case X86_CF_INT: case X86_CF_IRET:
		return C_INT;
	case X86_CF_SYSCALL: case X86_CF_SYSRET:
		return C_SYS;
	}
	return C_NONE;
}

static int z_class(const ZydisDecodedInstruction *z)
{
	/*
	 * bound (#BR), rsm and xend end no basic block of the translator's:
	 * hyvm files rsm under X86_CF_OTHER, the others under none.
	 */
	switch (z->mnemonic) {
	case ZYDIS_MNEMONIC_BOUND:
	case ZYDIS_MNEMONIC_RSM:
	case ZYDIS_MNEMONIC_XEND:
	case ZYDIS_MNEMONIC_XABORT:	/* hyvm: X86_CF_OTHER */
		return C_NONE;
	case ZYDIS_MNEMONIC_UIRET:	/* hyvm: X86_CF_IRET */
		return C_INT;
	default:
		break;
	}
	switch (z->meta.category) {
	case ZYDIS_CATEGORY_COND_BR:
		return C_JCC;
	case ZYDIS_CATEGORY_UNCOND_BR:
		return C_JMP;
	case ZYDIS_CATEGORY_CALL:
		return C_CALL;
	case ZYDIS_CATEGORY_RET:
		return z->mnemonic == ZYDIS_MNEMONIC_IRET || z->mnemonic == ZYDIS_MNEMONIC_IRETD ||
		       z->mnemonic == ZYDIS_MNEMONIC_IRETQ ? C_INT : C_RET;
	case ZYDIS_CATEGORY_INTERRUPT:
		return C_INT;
	case ZYDIS_CATEGORY_SYSCALL:
	case ZYDIS_CATEGORY_SYSRET:
		return C_SYS;
	default:
		break;
	}
	if (z->mnemonic == ZYDIS_MNEMONIC_IRET || z->mnemonic == ZYDIS_MNEMONIC_IRETD ||
	    z->mnemonic == ZYDIS_MNEMONIC_IRETQ)
		return C_INT;
	return C_NONE;
}

static void hexdump(char *out, const u8 *b, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		sprintf(out + 3 * i, "%02x ", b[i]);
	if (!n)
		out[0] = 0;
}

static enum verdict compare_one(const u8 *b, unsigned int n, enum x86_mode mode,
				struct stats *s, unsigned int *zlen)
{
	ZydisDecodedInstruction z;
	struct x86_insn h;
	enum x86_decode_status hst;
	bool zok, agree = true;
	const char *why = NULL;
	char hex[64];

	zok = ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&zdec[mode], NULL, b, n, &z));
	hst = x86_decode(&h, b, n, mode);
	*zlen = zok ? z.length : 0;
	s->total++;

	if (zok != (hst == X86_DECODE_OK)) {
		agree = false;
		why = "validity";
	} else if (zok) {
		if (h.len != z.length) {
			agree = false;
			why = "length";
		} else if ((z.raw.disp.size / 8) != h.disp_size ||
			   (h.disp_size && z.raw.disp.offset != h.disp_offset)) {
			agree = false;
			why = "displacement";
		} else if (z.encoding != ZYDIS_INSTRUCTION_ENCODING_3DNOW &&
			   (z.raw.imm[0].size + z.raw.imm[1].size) / 8 != h.imm_size) {
			agree = false;
			why = "immediate";
		} else if (!!(z.attributes & ZYDIS_ATTRIB_HAS_MODRM) !=
			   !!(h.flags & X86_F_MODRM)) {
			agree = false;
			why = "modrm";
		} else if (!!(z.attributes & ZYDIS_ATTRIB_HAS_LOCK) !=
			   !!(h.flags & X86_P_LOCK)) {
			agree = false;
			why = "lock";
		} else if (h.disp_size && ((u64)z.raw.disp.value & (~0ULL >> (64 - 8 * h.disp_size))) !=
			   ((u64)h.disp & (~0ULL >> (64 - 8 * h.disp_size)))) {
			agree = false;
			why = "displacement value";
		} else if (z.encoding != ZYDIS_INSTRUCTION_ENCODING_3DNOW && h.imm1_size &&
			   z.raw.imm[0].value.u != (u64)h.imm &&
			   (z.raw.imm[0].value.u & (~0ULL >> (64 - 8 * h.imm1_size))) !=
			   ((u64)h.imm & (~0ULL >> (64 - 8 * h.imm1_size)))) {
			agree = false;
			why = "immediate value";
		} else if (!!z.raw.imm[0].is_relative != !!(h.flags & X86_F_REL)) {
			agree = false;
			why = "relative";
		} else if (!(h.flags & X86_F_SIMD) && cf_class(h.cf) != z_class(&z)) {
			agree = false;
			why = "control flow";
		} else if ((h.flags & X86_F_MEM) && z.address_width != 8 * h.adsize) {
			agree = false;
			why = "address size";
		} else if (!!(z.attributes & ZYDIS_ATTRIB_IS_PRIVILEGED) !=
			   !!(h.flags & X86_F_PRIV)) {
			agree = false;
			why = "privileged";
		} else if (!(h.flags & X86_F_SIMD) && zydis_mem_access(b, n, mode) != h.mem) {
			agree = false;
			why = "memory access";
		}
	}
	if (agree) {
		if (zok)
			s->agree_ok++;
		else
			s->agree_bad++;
		return V_AGREE;
	}
	{
		const char *r = explain(&h, hst, &z, zok, b, n, mode);

		if (r) {
			s->explained++;
			s->by_reason[reason_id(r)]++;
			return V_EXPLAINED;
		}
	}
	s->disagree++;
	if (verbose() || s->disagree <= 10) {
		hexdump(hex, b, min(n, 16u));
		print_message("%s %s: %s zydis %s len %u, hyvm st %d len %u key %s%s%s m%u:%02x/%u%s p%u %s\n",
			      mode_name[mode], why, hex, zok ? "ok" : "bad",
			      zok ? z.length : 0, hst, h.len,
			      (h.flags & X86_P_VEX) ? "vex" : "", (h.flags & X86_P_EVEX) ? "evex" : "",
			      (h.flags & X86_P_XOP) ? "xop" : "", h.map, h.opcode,
			      (h.modrm >> 3) & 7, h.mod == 3 ? "r" : "m", h.last_prefix * 16 + h.mem * 4 + (zok ? zydis_mem_access(b, n, mode) & 3 : 0),
			      zok ? ZydisMnemonicGetString(z.mnemonic) : "-");
	}
	return V_DISAGREE;
}

static void report(const char *what, const struct stats *s)
{
	unsigned int i;

	print_message("%s: %lu compared, %lu agree (%lu valid, %lu invalid), %lu explained, %lu disagree\n",
		      what, s->total, s->agree_ok + s->agree_bad, s->agree_ok, s->agree_bad,
		      s->explained, s->disagree);
	for (i = 0; i < ARRAY_SIZE(reasons) && reasons[i]; i++)
		if (s->by_reason[i])
			print_message("  explained %lu: %s\n", s->by_reason[i], reasons[i]);
}

/* xorshift: reproducible random bytes. */
static u64 rng_state = 0x9e3779b97f4a7c15ULL;

static u64 rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/*
 * A random string biased toward the interesting parts of the encoding
 * space: prefixes, escapes and VEX/EVEX lead bytes, then random bytes.
 */
static void random_insn(u8 *b)
{
	static const u8 pfx[] = { 0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x2e, 0x36, 0x3e,
				  0x26, 0x64, 0x65, 0x40, 0x48, 0x41, 0x4c };
	static const u8 *esc[] = { (const u8 *)"\x0f", (const u8 *)"\x0f\x38",
				   (const u8 *)"\x0f\x3a", (const u8 *)"\xc4",
				   (const u8 *)"\xc5", (const u8 *)"\x62",
				   (const u8 *)"\x8f", (const u8 *)"\x0f\x01",
				   (const u8 *)"\x0f\x0f" };
	static const u8 esc_len[] = { 1, 2, 2, 1, 1, 1, 1, 2, 2 };
	unsigned int i, p = 0;
	u64 r = rnd();

	for (i = 0; i < 16; i += 8) {
		u64 x = rnd();

		memcpy(b + i, &x, 8);
	}
	if ((r & 3) == 0)
		return;		/* plain random */
	r >>= 2;
	while ((r & 3) == 0 && p < 4) {
		b[p++] = pfx[(r >> 2) % sizeof(pfx)];
		r >>= 6;
	}
	r >>= 2;
	if (r & 1) {
		unsigned int e = (r >> 1) % ARRAY_SIZE(esc);

		memcpy(b + p, esc[e], esc_len[e]);
		/* make VEX/EVEX lead bytes count outside 64-bit mode too */
		if (e >= 3 && e <= 5 && (r & 0x100))
			b[p + 1] |= 0xc0;
	}
}

static void run_random(enum x86_mode mode)
{
	unsigned long n = long_run() ? 30000000UL : 1500000UL, i;
	struct stats s = { 0 };
	unsigned int zlen;
	u8 b[16];
	char what[64];

	rng_state = 0x9e3779b97f4a7c15ULL + mode;
	for (i = 0; i < n; i++) {
		random_insn(b);
		compare_one(b, 15, mode, &s, &zlen);
	}
	snprintf(what, sizeof(what), "random %s", mode_name[mode]);
	report(what, &s);
	assert_true(s.agree_ok > n / 10);	/* the generator reaches real code */
	assert_int_equal(s.disagree, 0);
}

static void test_random_long64(void **state) { run_random(X86_MODE_LONG64); }

/*
 * AMD branch semantics (X86_DECODE_AMD) against Zydis's AMD-branch mode,
 * on 64-bit-mode strings that start with 66 and a near branch.
 */
static void test_amd_branches(void **state)
{
	static const u8 ops[][2] = {
		{ 0xe8, 0 }, { 0xe9, 0 }, { 0xeb, 0 }, { 0x0f, 0x84 }, { 0x0f, 0x8f },
		{ 0x74, 0 }, { 0xc3, 0 }, { 0xc2, 0 }, { 0xff, 0 }, { 0xe2, 0 },
	};
	ZydisDecoder amd;
	unsigned int i, n = 20000, bad = 0, ok = 0;

	assert_true(ZYAN_SUCCESS(ZydisDecoderInit(&amd, ZYDIS_MACHINE_MODE_LONG_64,
						  ZYDIS_STACK_WIDTH_64)));
	ZydisDecoderEnableMode(&amd, ZYDIS_DECODER_MODE_AMD_BRANCHES, ZYAN_TRUE);
	for (i = 0; i < n; i++) {
		const u8 *op = ops[i % ARRAY_SIZE(ops)];
		ZydisDecodedInstruction z;
		struct x86_insn h;
		u8 b[16];
		unsigned int p = 0, j;
		bool zok, hok;

		for (j = 0; j < 16; j++)
			b[j] = rnd();
		if (i & 1)
			b[p++] = 0x66;
		if (i & 2)
			b[p++] = 0x48;
		b[p++] = op[0];
		if (op[1])
			b[p++] = op[1];
		if (op[0] == 0xff)
			b[p] = (b[p] & 0xc7) | (i & 4 ? 0x10 : 0x20);	/* call/jmp r/m */
		zok = ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&amd, NULL, b, 15, &z));
		hok = x86_decode_ex(&h, b, 15, X86_MODE_LONG64, X86_DECODE_AMD) == X86_DECODE_OK;
		if (zok != hok || (zok && (z.length != h.len ||
					   z.raw.imm[0].size / 8 != h.imm1_size))) {
			if (bad++ < 10)
				print_message("amd: %02x %02x %02x %02x: zydis %d/%u hyvm %d/%u\n",
					      b[0], b[1], b[2], b[3], zok, zok ? z.length : 0,
					      hok, h.len);
		} else if (zok) {
			ok++;
		}
	}
	/* and the Intel rule by default: 66 e8 rel32 */
	{
		static const u8 b[] = { 0x66, 0xe8, 1, 2, 3, 4 };
		struct x86_insn h;

		assert_int_equal(x86_decode_ex(&h, b, 6, X86_MODE_LONG64, X86_DECODE_AMD),
				 X86_DECODE_OK);
		assert_int_equal(h.len, 4);
		assert_int_equal(h.opsize, 2);
		assert_int_equal(x86_decode(&h, b, 6, X86_MODE_LONG64), X86_DECODE_OK);
		assert_int_equal(h.len, 6);
	}
	print_message("amd branches: %u agree, %u disagree\n", ok, bad);
	assert_true(ok > n / 2);
	assert_int_equal(bad, 0);
}
/*
 * Every EVEX map, pp, opcode, EVEX.W, ModRM.reg and ModRM form (register;
 * memory through a SIB byte, which is also a VSIB), in 64-bit and 32-bit
 * mode: hyvm must accept exactly the ones Zydis accepts with some L'L, b,
 * z and aaa (fields hyvm does not check), with the same length.  A wrong
 * or missing entry in hyvm's EVEX tables fails here whatever the random
 * strings reach.
 */
static void test_evex_opcodes(void **state)
{
	static const u8 maps[] = { 1, 2, 3, 5, 6 };
	static const enum x86_mode modes[] = { L64, P32 };
	unsigned int md, mi, pp, op, w, reg, mem, v, zlen = 0, defined = 0, bad = 0;

	for (md = 0; md < ARRAY_SIZE(modes); md++)
	for (mi = 0; mi < ARRAY_SIZE(maps); mi++)
	for (pp = 0; pp < 4; pp++)
	for (op = 0; op < 256; op++)
	for (w = 0; w < 2; w++)
	for (reg = 0; reg < 8; reg++)
	for (mem = 0; mem < 2; mem++) {
		/* vvvv none, L'L 512, V' 1, k1; R, X, B, R' not extended */
		u8 t[15] = { 0x62, 0xf0 | maps[mi], 0x7c | w << 7 | pp, 0x49, op };
		struct x86_insn h;
		bool hok, zok = false;

		t[5] = mem ? reg << 3 | 4 : 0xc2 | reg << 3;
		t[6] = mem ? (reg ^ 1) << 3 : 0;	/* [eax + zmm(reg^1)] */
		hok = x86_decode(&h, t, sizeof(t), modes[md]) == OK;
		for (v = 0; v < 24 && !zok; v++) {
			u8 z[15];

			memcpy(z, t, sizeof(z));
			evex_set(z, EF_LL, v % 3);
			evex_set(z, EF_B, (v / 3) & 1);
			evex_set(z, EF_Z, (v / 6) & 1);
			evex_set(z, EF_AAA, (v / 12) & 1);
			zok = zydis_ok(z, sizeof(z), modes[md], &zlen);
		}
		defined += zok;
		if (hok == zok && (!hok || h.len == zlen))
			continue;
		if (bad++ < 20)
			print_message("evex %s map %u pp %u op %02x W%u /%u %s: hyvm %s len %u, zydis %s len %u\n",
				      mode_name[modes[md]], maps[mi], pp, op, w, reg,
				      mem ? "mem" : "reg", hok ? "ok" : "ud", hok ? h.len : 0,
				      zok ? "ok" : "bad", zok ? zlen : 0);
	}
	print_message("evex opcodes: %u forms defined, %u disagree\n", defined, bad);
	assert_true(defined > 10000);
	assert_int_equal(bad, 0);
}

static void test_random_prot32(void **state) { run_random(X86_MODE_PROT32); }
static void test_random_prot16(void **state) { run_random(X86_MODE_PROT16); }
static void test_random_real(void **state) { run_random(X86_MODE_REAL); }

/* ---------------------------------------------------------------------- */
/* Real code: executable sections of ELF files.                           */

/*
 * Sweep one code section linearly.  Where Zydis finds an instruction the
 * sweep advances by its length, else by one byte (data in text, padding).
 */
static void sweep(const u8 *p, size_t n, enum x86_mode mode, struct stats *s)
{
	size_t off = 0;
	unsigned int zlen;

	while (off < n) {
		unsigned int avail = n - off > 15 ? 15 : n - off;

		compare_one(p + off, avail, mode, s, &zlen);
		off += zlen ? zlen : 1;
	}
}

/* Compare every executable section of an ELF64 file; false if not ELF64. */
static bool sweep_elf(const char *path, struct stats *s)
{
	const Elf64_Ehdr *eh;
	const Elf64_Shdr *sh;
	struct stat st;
	void *map;
	bool ok = false;
	int fd, i;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) || st.st_size < (off_t)sizeof(*eh)) {
		close(fd);
		return false;
	}
	map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return false;
	eh = map;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_machine != EM_X86_64 || !eh->e_shoff ||
	    eh->e_shoff + (u64)eh->e_shnum * sizeof(*sh) > (u64)st.st_size)
		goto out;
	sh = (const void *)((const u8 *)map + eh->e_shoff);
	for (i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_PROGBITS || !(sh[i].sh_flags & SHF_EXECINSTR))
			continue;
		if (sh[i].sh_offset + sh[i].sh_size > (u64)st.st_size)
			continue;
		sweep((const u8 *)map + sh[i].sh_offset, sh[i].sh_size, X86_MODE_LONG64, s);
	}
	ok = true;
out:
	munmap(map, st.st_size);
	return ok;
}

/*
 * A corpus that is absent is skipped with a printed reason.  Decode
 * throughput against Zydis is a benchmark: bench/decode/run.
 */
#define CORPUS_SKIP(...) do {						\
		print_message("SKIP: " __VA_ARGS__);			\
		return;							\
	} while (0)

static void test_corpus_vmlinux(void **state)
{
	static const char *const paths[] = {
		"/usr/lib/debug/boot/vmlinux-6.1.0-56-amd64",
		"/boot/vmlinux-6.1.0-56-amd64",
	};
	struct stats s = { 0 };
	const char *path = getenv("HYVM_VMLINUX");
	char built[4096];
	ssize_t l;
	unsigned int i;

	if (!path) {
		/* decode.mk extracts one beside this binary */
		l = readlink("/proc/self/exe", built, sizeof(built) - 32);
		if (l > 0) {
			built[l] = 0;
			strcpy(strrchr(built, '/') + 1, "decode-vmlinux");
			if (access(built, R_OK) == 0)
				path = built;
		}
	}
	for (i = 0; !path && i < ARRAY_SIZE(paths); i++)
		if (access(paths[i], R_OK) == 0)
			path = paths[i];
	if (!path)
		CORPUS_SKIP("vmlinux: no extracted image (set HYVM_VMLINUX)\n");
	assert_true(sweep_elf(path, &s));
	report(path, &s);
	assert_true(s.agree_ok > 1000000);
	assert_int_equal(s.disagree, 0);
}

static void test_corpus_modules(void **state)
{
	static const char *const dirs[] = {
		"/lib/modules/6.1.0-56-amd64/kernel/arch/x86/kvm",
		"/lib/modules/6.1.0-56-amd64/kernel/arch/x86/crypto",
		"/lib/modules/6.1.0-56-amd64/kernel/crypto",
		"/lib/modules/6.1.0-56-amd64/kernel/fs/btrfs",
		"/lib/modules/6.1.0-56-amd64/kernel/fs/xfs",
		"/lib/modules/6.1.0-56-amd64/kernel/net/sctp",
		"/lib/modules/6.1.0-56-amd64/kernel/lib/raid6",
	};
	struct stats s = { 0 };
	unsigned int i, files = 0;

	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		DIR *d = opendir(dirs[i]);
		struct dirent *de;
		char path[4096];

		if (!d)
			continue;
		while ((de = readdir(d))) {
			size_t l = strlen(de->d_name);

			if (l < 4 || strcmp(de->d_name + l - 3, ".ko"))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dirs[i], de->d_name);
			if (sweep_elf(path, &s))
				files++;
		}
		closedir(d);
	}
	if (!files)
		CORPUS_SKIP("modules: no uncompressed kernel modules found\n");
	print_message("%u modules\n", files);
	report("modules", &s);
	assert_true(s.agree_ok > 10000);
	assert_int_equal(s.disagree, 0);
}

static void test_corpus_userspace(void **state)
{
	static const char *const bins[] = {
		"/usr/bin/gdb", "/usr/lib/x86_64-linux-gnu/libc.so.6",
		"/usr/bin/python3.11", "/usr/lib/x86_64-linux-gnu/libZydis.so.4.0",
		"/usr/bin/sparse", "/usr/lib/x86_64-linux-gnu/libcrypto.so.3",
		"/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
	};
	struct stats s = { 0 };
	unsigned int i, files = 0;

	for (i = 0; i < ARRAY_SIZE(bins); i++) {
		if (sweep_elf(bins[i], &s))
			files++;
		else
			print_message("not found or not ELF64: %s\n", bins[i]);
	}
	if (!files)
		CORPUS_SKIP("userspace: none of the binaries found\n");
	report("userspace", &s);
	assert_true(s.agree_ok > 10000);
	assert_int_equal(s.disagree, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known),
		cmocka_unit_test(test_random_long64),
		cmocka_unit_test(test_amd_branches),
		cmocka_unit_test(test_evex_opcodes),
		cmocka_unit_test(test_random_prot32),
		cmocka_unit_test(test_random_prot16),
		cmocka_unit_test(test_random_real),
		cmocka_unit_test(test_corpus_modules),
		cmocka_unit_test(test_corpus_userspace),
		cmocka_unit_test(test_corpus_vmlinux),
	};

	return cmocka_run_group_tests(tests, setup_zydis, NULL);
}
