/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hyvm x86 instruction decoder.
 *
 * One call decodes one instruction from a byte buffer into struct x86_insn:
 * its exact length, prefixes, opcode, ModRM/SIB/displacement/immediate, the
 * effective operand and address sizes, the memory operand and how it is
 * accessed, and a classification for the binary translator (control flow,
 * privileged or sensitive, RIP-relative, stack or string access).
 *
 * The decoder is table driven (decode.c) and knows every legacy, VEX, EVEX
 * and XOP encoding well enough to get the length and operand form right.  An
 * encoding the CPU would refuse is reported as X86_DECODE_UD, never guessed.
 */
#ifndef HYVM_EMULATE_DECODE_H
#define HYVM_EMULATE_DECODE_H

#include "portable.h"

#define X86_MAX_INSN_LEN	15

/* The mode that decides default operand and address sizes. */
enum x86_mode {
	X86_MODE_REAL,		/* real mode and virtual-8086: 16-bit, no VEX */
	X86_MODE_PROT16,	/* 16-bit protected (CS.D=0), also compat16 */
	X86_MODE_PROT32,	/* 32-bit protected (CS.D=1), also compat32 */
	X86_MODE_LONG64,	/* 64-bit mode (CS.L=1) */
};

enum x86_decode_status {
	X86_DECODE_OK = 0,
	X86_DECODE_UD,		/* invalid encoding: the CPU raises #UD */
	X86_DECODE_TRUNC,	/* the buffer ends inside the instruction */
	X86_DECODE_TOOLONG,	/* longer than 15 bytes: the CPU raises #GP(0) */
};

/* Opcode maps. */
enum x86_map {
	X86_MAP_ONE,		/* one-byte opcodes */
	X86_MAP_0F,
	X86_MAP_0F38,
	X86_MAP_0F3A,
	X86_MAP_EVEX5 = 5,	/* EVEX map 5 and 6 (FP16) */
	X86_MAP_EVEX6 = 6,
	X86_MAP_XOP8 = 8,	/* AMD XOP maps 8, 9, 0xA */
	X86_MAP_XOP9 = 9,
	X86_MAP_XOPA = 10,
};

/* Segment registers, numbered as in the ModRM reg field of mov Sreg. */
enum x86_seg {
	X86_SEG_ES, X86_SEG_CS, X86_SEG_SS, X86_SEG_DS, X86_SEG_FS, X86_SEG_GS,
	X86_SEG_NONE = 0xff,
};

/* General registers, numbered as encoded (with REX/VEX extension). */
#define X86_REG_RIP	16
#define X86_REG_NONE	0xff

/* Control flow, for the translator. */
enum x86_cf {
	X86_CF_NONE,
	X86_CF_JMP,		/* jmp rel */
	X86_CF_JCC,		/* jcc rel, and xbegin (aborts branch to rel) */
	X86_CF_CALL,		/* call rel */
	X86_CF_LOOP,		/* loop, loope, loopne, jcxz/jecxz/jrcxz */
	X86_CF_JMP_IND,		/* jmp r/m */
	X86_CF_CALL_IND,	/* call r/m */
	X86_CF_RET,		/* ret, ret imm16 */
	X86_CF_JMP_FAR,		/* jmp ptr16:xx, jmp m16:xx */
	X86_CF_CALL_FAR,	/* call ptr16:xx, call m16:xx */
	X86_CF_RET_FAR,		/* retf, retf imm16 */
	X86_CF_IRET,		/* iret/iretd/iretq */
	X86_CF_INT,		/* int n, int3, into, int1 */
	X86_CF_SYSCALL,		/* syscall, sysenter */
	X86_CF_SYSRET,		/* sysret, sysexit */
	X86_CF_OTHER,		/* other: ud, vmcall, rsm, ... ends a block */
};

/* insn->flags: prefixes seen. */
#define X86_P_LOCK		BIT(0)
#define X86_P_REP		BIT(1)	/* F3 is the last of F2/F3 */
#define X86_P_REPNE		BIT(2)	/* F2 is the last of F2/F3 */
#define X86_P_OPSIZE		BIT(3)	/* 66 */
#define X86_P_ADSIZE		BIT(4)	/* 67 */
#define X86_P_SEG		BIT(5)	/* a segment override byte is present */
#define X86_P_REX		BIT(6)
#define X86_P_VEX		BIT(7)	/* VEX2 or VEX3 */
#define X86_P_EVEX		BIT(8)
#define X86_P_XOP		BIT(9)
/* insn->flags: classification. */
#define X86_F_MODRM		BIT(10)	/* has a ModRM byte */
#define X86_F_MEM		BIT(11)	/* explicit memory operand (ModRM mod!=3 or moffs) */
#define X86_F_RIPREL		BIT(12)	/* the memory operand is RIP-relative */
#define X86_F_PRIV		BIT(13)	/* faults outside CPL0 */
#define X86_F_IOPL		BIT(14)	/* depends on IOPL (cli, sti, in, out, ...) */
#define X86_F_SENSITIVE		BIT(15)	/* unprivileged but reads or writes state a
					 * VMM virtualizes: pushf, popf, sgdt, smsw,
					 * mov from %cs, lar, cpuid, rdtsc, ... */
#define X86_F_STACK		BIT(16)	/* implicit stack access */
#define X86_F_STRING		BIT(17)	/* string instruction (rep applies) */
#define X86_F_SEGLOAD		BIT(18)	/* loads a segment register */
#define X86_F_SIMD		BIT(19)	/* x87, MMX, SSE, AVX: not emulated */
#define X86_F_BYTEOP		BIT(20)	/* operates on bytes */
#define X86_F_REL		BIT(21)	/* imm is a relative branch displacement */
#define X86_F_NOP		BIT(22)	/* architectural no-op (hint nops) */
#define X86_F_UD		BIT(23)	/* ud0/ud1/ud2: decodes but raises #UD */
#define X86_F_SERIALIZE		BIT(24)	/* serializing or waits (hlt, mwait) */

/* insn->mem: how the explicit memory operand is accessed. */
#define X86_MEM_R		BIT(0)
#define X86_MEM_W		BIT(1)

/**
 * struct x86_insn - one decoded instruction
 *
 * Offsets count from the first byte of the instruction.  @disp_offset is
 * what the translator patches to move a RIP-relative instruction; @imm_offset
 * is where a relative branch's displacement lives.
 */
struct x86_insn {
	u8 len;			/* total length in bytes */
	u8 mode;		/* enum x86_mode */
	u8 opsize;		/* effective operand size: 1, 2, 4 or 8 bytes */
	u8 adsize;		/* effective address size: 2, 4 or 8 bytes */
	u8 map;			/* enum x86_map */
	u8 opcode;		/* the opcode byte within its map */
	u8 opcode_offset;	/* offset of the opcode byte */
	u8 nr_prefixes;		/* legacy prefix and REX bytes */
	u8 modrm, sib;
	u8 mod, reg, rm;	/* ModRM fields; reg and rm include REX.R/B */
	u8 rex;			/* REX byte, 0 if none (or made void) */
	u8 seg;			/* segment of the memory operand (enum x86_seg) */
	u8 seg_override;	/* last segment override byte, or X86_SEG_NONE */
	u8 base, index;		/* X86_REG_*; X86_REG_NONE if absent */
	u8 scale;		/* 1, 2, 4, 8 */
	u8 disp_size, disp_offset;
	u8 imm_size, imm_offset;	/* imm_size counts both immediates */
	u8 cf;			/* enum x86_cf */
	u8 mem;			/* X86_MEM_R | X86_MEM_W of the memory operand */
	u8 vex_w, vex_l, vex_pp, vex_vvvv;	/* VEX/EVEX/XOP fields, decoded */
	u8 last_prefix;		/* F2/F3/66 that selects a SIMD opcode, or 0 */
	u32 flags;		/* X86_P_* and X86_F_* */
	s64 disp;		/* sign-extended displacement */
	s64 imm;		/* first immediate, sign-extended from imm1 size */
	u64 imm2;		/* second immediate: enter's level, far selector */
	u8 imm1_size;		/* size of the first immediate */
};

/**
 * x86_decode() - decode one instruction
 * @insn: filled in; on failure only @insn->len is meaningful (bytes seen)
 * @buf: the instruction bytes
 * @len: bytes available at @buf (need not exceed 15)
 * @mode: the CPU mode
 *
 * Return: X86_DECODE_OK, or why the bytes are not an instruction.
 */
enum x86_decode_status x86_decode(struct x86_insn *insn, const u8 *buf,
				  unsigned int len, enum x86_mode mode);

/* x86_decode_ex() flags */
#define X86_DECODE_AMD	BIT(0)	/* AMD: 66 makes 64-bit-mode near branches
				 * 16-bit (rel16), where Intel ignores it */

/**
 * x86_decode_ex() - x86_decode() with vendor options
 * @insn: as for x86_decode()
 * @buf: as for x86_decode()
 * @len: as for x86_decode()
 * @mode: as for x86_decode()
 * @flags: X86_DECODE_AMD to decode as AMD CPUs do; x86_decode() decodes
 *	   as Intel CPUs do.  The translator passes the host's vendor, since
 *	   the host CPU is what executes the guest's copied code.
 */
enum x86_decode_status x86_decode_ex(struct x86_insn *insn, const u8 *buf,
				     unsigned int len, enum x86_mode mode, unsigned int flags);

/**
 * x86_insn_branch_target() - target of a relative branch (X86_F_REL)
 * @insn: a decoded instruction with X86_F_REL set
 * @rip: the address of the instruction
 *
 * The target wraps at the operand size, as the CPU does for 16-bit jumps.
 */
u64 x86_insn_branch_target(const struct x86_insn *insn, u64 rip);

/* Condition codes of jcc/setcc/cmovcc (low nibble of the opcode). */
static inline u8 x86_insn_cc(const struct x86_insn *insn)
{
	return insn->opcode & 0xf;
}

#endif /* HYVM_EMULATE_DECODE_H */
