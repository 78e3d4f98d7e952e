// SPDX-License-Identifier: GPL-2.0
/*
 * hyvm x86 instruction decoder: prefixes, opcode maps, ModRM/SIB,
 * displacement and immediates for 16-, 32- and 64-bit code.
 *
 * Each opcode map is a table of attributes (struct op).  Opcodes whose
 * meaning depends on ModRM.reg (the "groups") point to an 8-entry group
 * table; the few with more irregular rules (0F 01, x87, mandatory SIMD
 * prefixes) are resolved in small functions below.  The tables carry what
 * the length needs (ModRM, immediate kind, operand-size rules) and what the
 * translator needs (control flow, privilege, memory access).
 */
#include "portable.h"
#include "decode.h"

/* hyvm_kunit.ko tests these functions from outside hyvm.ko */
#if defined(__KERNEL__) && \
	(defined(CONFIG_HYVM_KUNIT_TEST) || defined(CONFIG_HYVM_KUNIT_TEST_MODULE))
#define DEC_EXPORT_FOR_TESTS(sym)	EXPORT_SYMBOL_NS_GPL(sym, HYVM_KUNIT)
#else
#define DEC_EXPORT_FOR_TESTS(sym)
#endif

/* Attribute bits of a table entry. */
#define A_M		BIT(0)	/* ModRM follows */
#define A_INV		BIT(1)	/* invalid (#UD) */
#define A_I64		BIT(2)	/* invalid in 64-bit mode */
#define A_O64		BIT(3)	/* only in 64-bit mode */
#define A_D64		BIT(4)	/* 64-bit default operand size in 64-bit mode */
#define A_F64		BIT(5)	/* operand size forced to 64 in 64-bit mode */
#define A_R		BIT(6)	/* memory operand read */
#define A_W		BIT(7)	/* memory operand written */
#define A_B		BIT(8)	/* byte operation */
#define A_LK		BIT(9)	/* lock prefix allowed with a memory operand */
#define A_MEMONLY	BIT(10)	/* ModRM.mod == 3 is invalid */
#define A_REGONLY	BIT(11)	/* ModRM.mod != 3 is invalid */
#define A_GRP		BIT(12)	/* meaning depends on ModRM.reg: see grp */
#define A_PRIV		BIT(13)
#define A_IOPL		BIT(14)
#define A_SENS		BIT(15)
#define A_STK		BIT(16)
#define A_STR		BIT(17)
#define A_SEGL		BIT(18)
#define A_SIMD		BIT(19)
#define A_NOP		BIT(20)
#define A_UD		BIT(21)	/* defined to raise #UD (ud0, ud1, ud2) */
#define A_SER		BIT(22)
#define A_MODREG	BIT(23)	/* ModRM.mod is ignored: always registers */
#define A_NOREAL	BIT(24)	/* #UD in real and virtual-8086 mode */
#define A_W64		BIT(25)	/* operand size 64 in 64-bit mode, 32 elsewhere
				 * (mov cr/dr): REX.W and 66 are ignored */

#define RW		(A_R | A_W)

/* Immediate kinds. */
enum {
	I_NONE,
	I_B,		/* 8 bits */
	I_W,		/* 16 bits */
	I_D,		/* 32 bits */
	I_Z,		/* 16 or 32 bits by operand size */
	I_V,		/* 16, 32 or 64 bits by operand size (mov r, imm) */
	I_WB,		/* 16 then 8 bits (enter) */
	I_BB,		/* 8 then 8 bits (extrq, insertq) */
	I_AP,		/* far pointer: offset by operand size, then selector */
	I_MOFFS,	/* offset by address size (mov al, moffs) */
	I_JB,		/* 8-bit branch displacement */
	I_JZ,		/* 16/32-bit branch displacement */
};

struct op {
	u32 a;
	u8 imm;
	u8 cf;
	u8 grp;
};

/* Group tables, indexed by the grp field. */
enum {
	G_NONE, G1, G1A, G2, G3B, G3V, G4, G5, G11B, G11V, G6, G7, G8, G9,
	G12, G13, G14, G15, G16, GSEG_ST, GSEG_LD, GX87, GPFX, G_NR
};

#define O(attr, immk, cflow)	{ .a = (attr), .imm = (immk), .cf = (cflow) }
#define G(g, attr, immk)	{ .a = (attr) | A_GRP | A_M, .imm = (immk), .grp = (g) }
#define INV			{ .a = A_INV }

#define ALU(lock)						\
	O(A_M | RW | A_B | (lock), 0, 0),			\
	O(A_M | RW | (lock), 0, 0),				\
	O(A_M | A_R | A_B, 0, 0),				\
	O(A_M | A_R, 0, 0),					\
	O(A_B, I_B, 0),						\
	O(0, I_Z, 0)

#define CMP_ALU							\
	O(A_M | A_R | A_B, 0, 0),				\
	O(A_M | A_R, 0, 0),					\
	O(A_M | A_R | A_B, 0, 0),				\
	O(A_M | A_R, 0, 0),					\
	O(A_B, I_B, 0),						\
	O(0, I_Z, 0)

#define X8(e)	e, e, e, e, e, e, e, e

static const struct op map_one[256] = {
	/* 00 */ ALU(A_LK), O(A_I64 | A_STK, 0, 0), O(A_I64 | A_STK | A_SEGL, 0, 0),
	/* 08 */ ALU(A_LK), O(A_I64 | A_STK | A_SENS, 0, 0), INV /* 0F escape */,
	/* 10 */ ALU(A_LK), O(A_I64 | A_STK | A_SENS, 0, 0), O(A_I64 | A_STK | A_SEGL, 0, 0),
	/* 18 */ ALU(A_LK), O(A_I64 | A_STK, 0, 0), O(A_I64 | A_STK | A_SEGL, 0, 0),
	/* 20 */ ALU(A_LK), INV /* ES: */, O(A_I64, 0, 0),
	/* 28 */ ALU(A_LK), INV /* CS: */, O(A_I64, 0, 0),
	/* 30 */ ALU(A_LK), INV /* SS: */, O(A_I64, 0, 0),
	/* 38 */ CMP_ALU, INV /* DS: */, O(A_I64, 0, 0),
	/* 40 */ X8(O(0, 0, 0)), X8(O(0, 0, 0)),	/* inc, dec (REX in 64-bit) */
	/* 50 */ X8(O(A_D64 | A_STK, 0, 0)), X8(O(A_D64 | A_STK, 0, 0)),
	/* 60 */ O(A_I64 | A_STK, 0, 0), O(A_I64 | A_STK, 0, 0),
		 O(A_M | A_R | A_I64 | A_MEMONLY, 0, 0),	/* bound (EVEX) */
		 O(A_M, 0, 0),				/* arpl / movsxd: see decode */
		 INV, INV, INV, INV,			/* FS: GS: 66 67 */
	/* 68 */ O(A_D64 | A_STK, I_Z, 0), O(A_M | A_R, I_Z, 0),
		 O(A_D64 | A_STK, I_B, 0), O(A_M | A_R, I_B, 0),
		 O(A_B | A_STR | A_IOPL, 0, 0), O(A_STR | A_IOPL, 0, 0),
		 O(A_B | A_STR | A_IOPL, 0, 0), O(A_STR | A_IOPL, 0, 0),
	/* 70 */ X8(O(A_F64, I_JB, X86_CF_JCC)), X8(O(A_F64, I_JB, X86_CF_JCC)),
	/* 80 */ G(G1, A_B, I_B), G(G1, 0, I_Z), G(G1, A_B | A_I64, I_B), G(G1, 0, I_B),
		 O(A_M | A_R | A_B, 0, 0), O(A_M | A_R, 0, 0),
		 O(A_M | RW | A_B | A_LK, 0, 0), O(A_M | RW | A_LK, 0, 0),
	/* 88 */ O(A_M | A_W | A_B, 0, 0), O(A_M | A_W, 0, 0),
		 O(A_M | A_R | A_B, 0, 0), O(A_M | A_R, 0, 0),
		 G(GSEG_ST, A_W, 0), O(A_M | A_MEMONLY, 0, 0),
		 G(GSEG_LD, A_R | A_SEGL, 0), G(G1A, A_W | A_D64 | A_STK, 0),
	/* 90 */ X8(O(0, 0, 0)),
	/* 98 */ O(0, 0, 0), O(0, 0, 0), O(A_I64 | A_STK, I_AP, X86_CF_CALL_FAR), O(A_SIMD, 0, 0),
		 O(A_D64 | A_STK | A_SENS, 0, 0), O(A_D64 | A_STK | A_SENS, 0, 0),
		 O(0, 0, 0), O(0, 0, 0),
	/* A0 */ O(A_R | A_B, I_MOFFS, 0), O(A_R, I_MOFFS, 0),
		 O(A_W | A_B, I_MOFFS, 0), O(A_W, I_MOFFS, 0),
		 O(A_B | A_STR, 0, 0), O(A_STR, 0, 0), O(A_B | A_STR, 0, 0), O(A_STR, 0, 0),
	/* A8 */ O(A_B, I_B, 0), O(0, I_Z, 0),
		 O(A_B | A_STR, 0, 0), O(A_STR, 0, 0), O(A_B | A_STR, 0, 0), O(A_STR, 0, 0),
		 O(A_B | A_STR, 0, 0), O(A_STR, 0, 0),
	/* B0 */ X8(O(A_B, I_B, 0)), X8(O(0, I_V, 0)),
	/* C0 */ G(G2, A_B, I_B), G(G2, 0, I_B),
		 O(A_F64 | A_STK, I_W, X86_CF_RET), O(A_F64 | A_STK, 0, X86_CF_RET),
		 O(A_M | A_R | A_I64 | A_MEMONLY | A_SEGL, 0, 0),	/* les (VEX3) */
		 O(A_M | A_R | A_I64 | A_MEMONLY | A_SEGL, 0, 0),	/* lds (VEX2) */
		 G(G11B, A_B, I_B), G(G11V, 0, I_Z),
	/* C8 */ O(A_D64 | A_STK, I_WB, 0), O(A_D64 | A_STK, 0, 0),
		 O(A_STK, I_W, X86_CF_RET_FAR), O(A_STK, 0, X86_CF_RET_FAR),
		 O(0, 0, X86_CF_INT), O(0, I_B, X86_CF_INT), O(A_I64, 0, X86_CF_INT),
		 O(A_STK, 0, X86_CF_IRET),
	/* D0 */ G(G2, A_B, 0), G(G2, 0, 0), G(G2, A_B, 0), G(G2, 0, 0),
		 O(A_I64, I_B, 0), O(A_I64, I_B, 0), O(A_I64, 0, 0), O(A_B, 0, 0),
	/* D8 */ X8(G(GX87, A_SIMD, 0)),
	/* E0 */ O(A_F64, I_JB, X86_CF_LOOP), O(A_F64, I_JB, X86_CF_LOOP),
		 O(A_F64, I_JB, X86_CF_LOOP), O(A_F64, I_JB, X86_CF_LOOP),
		 O(A_B | A_IOPL, I_B, 0), O(A_IOPL, I_B, 0),
		 O(A_B | A_IOPL, I_B, 0), O(A_IOPL, I_B, 0),
	/* E8 */ O(A_F64 | A_STK, I_JZ, X86_CF_CALL), O(A_F64, I_JZ, X86_CF_JMP),
		 O(A_I64, I_AP, X86_CF_JMP_FAR), O(A_F64, I_JB, X86_CF_JMP),
		 O(A_B | A_IOPL, 0, 0), O(A_IOPL, 0, 0), O(A_B | A_IOPL, 0, 0), O(A_IOPL, 0, 0),
	/* F0 */ INV, O(0, 0, X86_CF_INT), INV, INV,
		 O(A_PRIV | A_SER, 0, 0), O(0, 0, 0), G(G3B, A_B, 0), G(G3V, 0, 0),
	/* F8 */ O(0, 0, 0), O(0, 0, 0), O(A_IOPL, 0, 0), O(A_IOPL, 0, 0),
		 O(0, 0, 0), O(0, 0, 0), G(G4, A_B, 0), G(G5, 0, 0),
};

#define SSE		O(A_M | A_R | A_SIMD, 0, 0)
#define SSE_ST		O(A_M | A_W | A_SIMD, 0, 0)
#define SSE_IB		O(A_M | A_R | A_SIMD, I_B, 0)
#define SSE_STM		O(A_M | A_W | A_SIMD | A_MEMONLY, 0, 0)
#define SSE_REG		O(A_M | A_SIMD | A_REGONLY, 0, 0)
#define X4(e)		e, e, e, e

static const struct op map_0f[256] = {
	/* 00 */ G(G6, A_NOREAL, 0), G(G7, 0, 0),
		 O(A_M | A_R | A_SENS | A_NOREAL, 0, 0), O(A_M | A_R | A_SENS | A_NOREAL, 0, 0),
		 INV, O(0, 0, X86_CF_SYSCALL), O(A_PRIV, 0, 0),
		 O(A_PRIV | A_NOREAL, 0, X86_CF_SYSRET),
	/* 08 */ O(A_PRIV | A_SER, 0, 0), O(A_PRIV | A_SER, 0, 0), INV, O(A_UD, 0, X86_CF_OTHER),
		 INV, O(A_M | A_NOP, 0, 0), O(A_SIMD, 0, 0), O(A_M | A_R | A_SIMD, I_B, 0),
	/* 10 */ SSE, SSE_ST, SSE, SSE_STM, SSE, SSE, SSE, SSE_STM,
	/* 18 */ G(G16, A_NOP, 0), X4(O(A_M | A_NOP, 0, 0)), O(A_M | A_NOP, 0, 0),
		 O(A_M | A_NOP, 0, 0), O(A_M | A_NOP, 0, 0),
	/* 20 */ X4(O(A_M | A_MODREG | A_PRIV | A_W64 | A_SER, 0, 0)), X4(INV),
	/* 28 */ SSE, SSE_ST, SSE, SSE_STM, SSE, SSE, SSE, SSE,
	/* 30 */ O(A_PRIV | A_SER, 0, 0), O(A_SENS, 0, 0), O(A_PRIV, 0, 0), O(A_SENS, 0, 0),
		 O(0, 0, X86_CF_SYSCALL), O(A_PRIV, 0, X86_CF_SYSRET), INV,
		 O(A_NOREAL | A_SENS, 0, X86_CF_OTHER),	/* getsec: leaf decides */
	/* 38 */ INV, INV, INV, INV, X4(INV),
	/* 40 */ X8(O(A_M | A_R, 0, 0)), X8(O(A_M | A_R, 0, 0)),
	/* 50 */ SSE_REG, SSE, SSE, SSE, X4(SSE), X8(SSE),
	/* 60 */ X8(SSE), X8(SSE),
	/* 70 */ SSE_IB, G(G12, A_SIMD | A_REGONLY, I_B), G(G13, A_SIMD | A_REGONLY, I_B),
		 G(G14, A_SIMD | A_REGONLY, I_B), SSE, SSE, SSE, O(A_SIMD, 0, 0),
	/* 78 */ G(GPFX, 0, 0), G(GPFX, 0, 0), INV, INV, SSE, SSE, SSE_ST, SSE_ST,
	/* 80 */ X8(O(A_F64, I_JZ, X86_CF_JCC)), X8(O(A_F64, I_JZ, X86_CF_JCC)),
	/* 90 */ X8(O(A_M | A_W | A_B, 0, 0)), X8(O(A_M | A_W | A_B, 0, 0)),
	/* A0 */ O(A_D64 | A_STK, 0, 0), O(A_D64 | A_STK | A_SEGL, 0, 0), O(A_SENS | A_SER, 0, 0),
		 O(A_M | A_R, 0, 0), O(A_M | RW, I_B, 0), O(A_M | RW, 0, 0),
		 O(A_M | A_MODREG, 0, 0), O(A_M | A_MODREG, 0, 0),	/* PadLock */
	/* A8 */ O(A_D64 | A_STK, 0, 0), O(A_D64 | A_STK | A_SEGL, 0, 0),
		 O(0, 0, X86_CF_OTHER), O(A_M | RW | A_LK, 0, 0),
		 O(A_M | RW, I_B, 0), O(A_M | RW, 0, 0), G(G15, 0, 0), O(A_M | A_R, 0, 0),
	/* B0 */ O(A_M | RW | A_B | A_LK, 0, 0), O(A_M | RW | A_LK, 0, 0),
		 O(A_M | A_R | A_MEMONLY | A_SEGL, 0, 0), O(A_M | RW | A_LK, 0, 0),
		 O(A_M | A_R | A_MEMONLY | A_SEGL, 0, 0), O(A_M | A_R | A_MEMONLY | A_SEGL, 0, 0),
		 O(A_M | A_R, 0, 0), O(A_M | A_R, 0, 0),
	/* B8 */ G(GPFX, 0, 0), O(A_M | A_UD, 0, X86_CF_OTHER), G(G8, 0, I_B),
		 O(A_M | RW | A_LK, 0, 0),
		 O(A_M | A_R, 0, 0), O(A_M | A_R, 0, 0), O(A_M | A_R, 0, 0), O(A_M | A_R, 0, 0),
	/* C0 */ O(A_M | RW | A_B | A_LK, 0, 0), O(A_M | RW | A_LK, 0, 0), SSE_IB,
		 O(A_M | A_W | A_MEMONLY, 0, 0), SSE_IB,
		 O(A_M | A_SIMD | A_REGONLY, I_B, 0), SSE_IB, G(G9, 0, 0),
	/* C8 */ X8(O(0, 0, 0)),
	/* D0 */ X4(SSE), SSE, SSE, SSE, SSE_REG, X8(SSE),
	/* E0 */ X4(SSE), X4(SSE) /* E7 see fixups */, X8(SSE),
	/* F0 */ X4(SSE), SSE, SSE, SSE, SSE_REG, X4(SSE), SSE, SSE, SSE,
		 O(A_M | A_UD, 0, X86_CF_OTHER),
};

/*
 * Mandatory-prefix rules of the SIMD opcodes: which of none, 66, F3, F2
 * select a defined instruction.  An opcode absent here ignores F2/F3.
 */
#define MP_N	BIT(0)
#define MP_66	BIT(1)
#define MP_F3	BIT(2)
#define MP_F2	BIT(3)
#define MP_ALL	(MP_N | MP_66 | MP_F3 | MP_F2)
#define MP_NX	(MP_N | MP_66)

static const u8 pfx_0f[256] = {
	[0x10 ... 0x12] = MP_ALL, [0x13] = MP_NX, [0x14 ... 0x15] = MP_NX,
	[0x16] = MP_NX | MP_F3, [0x17] = MP_NX,
	[0x28 ... 0x29] = MP_NX, [0x2a] = MP_ALL, [0x2b] = MP_ALL, [0x2c ... 0x2d] = MP_ALL,
	[0x2e ... 0x2f] = MP_NX,
	[0x50] = MP_NX, [0x51] = MP_ALL, [0x52 ... 0x53] = MP_N | MP_F3,
	[0x54 ... 0x57] = MP_NX, [0x58 ... 0x5a] = MP_ALL, [0x5b] = MP_NX | MP_F3,
	[0x5c ... 0x5f] = MP_ALL,
	[0x60 ... 0x6b] = MP_NX, [0x6c ... 0x6d] = MP_66, [0x6e] = MP_NX,
	[0x6f] = MP_NX | MP_F3, [0x70] = MP_ALL, [0x71 ... 0x76] = MP_NX, [0x77] = MP_N,
	[0x7c ... 0x7d] = MP_66 | MP_F2, [0x7e ... 0x7f] = MP_NX | MP_F3,
	[0xb8] = MP_F3,
	[0xc2] = MP_ALL, [0xc3] = MP_N, [0xc4 ... 0xc6] = MP_NX,
	[0xd0] = MP_66 | MP_F2, [0xd1 ... 0xd5] = MP_NX, [0xd6] = MP_66 | MP_F3 | MP_F2,
	[0xd7 ... 0xe5] = MP_NX, [0xe6] = MP_66 | MP_F3 | MP_F2, [0xe7 ... 0xef] = MP_NX,
	[0xf0] = MP_F2, [0xf1 ... 0xfe] = MP_NX,
};

static const u8 pfx_0f38[256] = {
	[0x00 ... 0x0b] = MP_NX, [0x10] = MP_66, [0x14 ... 0x15] = MP_66, [0x17] = MP_66,
	[0x1c ... 0x1e] = MP_NX, [0x20 ... 0x25] = MP_66, [0x28 ... 0x2b] = MP_66,
	[0x30 ... 0x35] = MP_66, [0x37 ... 0x41] = MP_66, [0x80 ... 0x82] = MP_66,
	[0xc8 ... 0xcd] = MP_N, [0xcf] = MP_66, [0xd8] = MP_F3, [0xdb] = MP_66,
	[0xdc ... 0xdf] = MP_66 | MP_F3, [0xfa ... 0xfb] = MP_F3,
	[0xf0 ... 0xf1] = MP_NX | MP_F2, [0xf5] = MP_66, [0xf6] = MP_ALL & ~MP_F2,
	[0xf8] = MP_66 | MP_F3 | MP_F2, [0xf9] = MP_N,
};

static const u8 pfx_0f3a[256] = {
	[0x08 ... 0x0e] = MP_66, [0x0f] = MP_NX, [0x14 ... 0x17] = MP_66,
	[0x20 ... 0x22] = MP_66, [0x40 ... 0x42] = MP_66, [0x44] = MP_66,
	[0x60 ... 0x63] = MP_66, [0xcc] = MP_N, [0xce ... 0xcf] = MP_66, [0xdf] = MP_66,
	[0xf0] = MP_F3,
};

/*
 * VEX-encoded opcodes of maps 0F, 0F38 and 0F3A, with the VEX.pp values
 * (as MP_* bits) that select a defined instruction.  Lengths do not depend
 * on this; it only decides #UD.  VEX.L and VEX.W restrictions are not
 * modelled.
 */
#define MP_X66	MP_66
static const u8 vex_ok[3][256] = {
	[0] = {
		[0x10 ... 0x12] = MP_ALL, [0x13] = MP_NX, [0x14 ... 0x15] = MP_NX,
		[0x16] = MP_NX | MP_F3, [0x17] = MP_NX, [0x28 ... 0x29] = MP_NX,
		[0x2a] = MP_F3 | MP_F2, [0x2b] = MP_NX, [0x2c ... 0x2d] = MP_F3 | MP_F2,
		[0x2e ... 0x2f] = MP_NX,
		[0x41 ... 0x42] = MP_NX, [0x44 ... 0x47] = MP_NX, [0x4a] = MP_NX,
		[0x4b] = MP_NX,
		[0x50] = MP_NX, [0x51] = MP_ALL, [0x52 ... 0x53] = MP_N | MP_F3,
		[0x54 ... 0x57] = MP_NX, [0x58 ... 0x5a] = MP_ALL, [0x5b] = MP_NX | MP_F3,
		[0x5c ... 0x5f] = MP_ALL, [0x60 ... 0x6e] = MP_66, [0x6f] = MP_66 | MP_F3,
		[0x70] = MP_66 | MP_F3 | MP_F2, [0x71 ... 0x76] = MP_66, [0x77] = MP_N,
		[0x7c ... 0x7d] = MP_66 | MP_F2, [0x7e ... 0x7f] = MP_66 | MP_F3,
		[0x90 ... 0x91] = MP_NX, [0x92 ... 0x93] = MP_NX | MP_F2,
		[0x98 ... 0x99] = MP_NX, [0xae] = MP_N,
		[0xc2] = MP_ALL, [0xc4 ... 0xc5] = MP_66, [0xc6] = MP_NX,
		[0xd0] = MP_66 | MP_F2, [0xd1 ... 0xe5] = MP_66, [0xe6] = MP_66 | MP_F3 | MP_F2,
		[0xe7 ... 0xef] = MP_66, [0xf0] = MP_F2, [0xf1 ... 0xfe] = MP_66,
	},
	[1] = {
		[0x00 ... 0x0f] = MP_66, [0x13] = MP_66, [0x16 ... 0x1a] = MP_66,
		[0x1c ... 0x1e] = MP_66, [0x20 ... 0x25] = MP_66, [0x28 ... 0x2f] = MP_66,
		[0x30 ... 0x41] = MP_66, [0x45 ... 0x47] = MP_66,
		[0x49] = MP_N | MP_66 | MP_F2, [0x4b] = MP_66 | MP_F3 | MP_F2,
		[0x50 ... 0x53] = MP_66, [0x58 ... 0x5a] = MP_66,
		[0x5c] = MP_F3, [0x5e] = MP_ALL,
		[0x78 ... 0x79] = MP_66, [0x8c] = MP_66, [0x8e] = MP_66,
		[0x90 ... 0x93] = MP_66, [0x96 ... 0x9f] = MP_66, [0xa6 ... 0xaf] = MP_66,
		[0xb6 ... 0xbf] = MP_66, [0xcf] = MP_66, [0xdb ... 0xdf] = MP_66,
		[0xf2 ... 0xf3] = MP_N, [0xf5] = MP_N | MP_F3 | MP_F2, [0xf6] = MP_F2,
		[0xf7] = MP_ALL,
	},
	[2] = {
		[0x00 ... 0x02] = MP_66, [0x04 ... 0x06] = MP_66, [0x08 ... 0x0f] = MP_66,
		[0x14 ... 0x19] = MP_66, [0x1d] = MP_66, [0x20 ... 0x22] = MP_66,
		[0x30 ... 0x33] = MP_66, [0x38 ... 0x39] = MP_66, [0x40 ... 0x42] = MP_66,
		[0x44] = MP_66, [0x46] = MP_66, [0x48 ... 0x4c] = MP_66,
		[0x5c ... 0x5f] = MP_66, [0x60 ... 0x63] = MP_66, [0x68 ... 0x6f] = MP_66,
		[0x78 ... 0x7f] = MP_66, [0xce ... 0xcf] = MP_66, [0xdf] = MP_66,
		[0xf0] = MP_F2,
	},
};

/* XOP opcodes (pp must be 0) of maps 8, 9 and 0Ah, as bitmaps. */
static bool xop_ok(u8 map, u8 op)
{
	switch (map) {
	case X86_MAP_XOP8:
		return (op >= 0x85 && op <= 0x87) || op == 0x8e || op == 0x8f ||
		       (op >= 0x95 && op <= 0x97) || op == 0x9e || op == 0x9f ||
		       op == 0xa2 || op == 0xa3 || op == 0xa6 || op == 0xb6 ||
		       (op >= 0xc0 && op <= 0xc3) || (op >= 0xcc && op <= 0xcf) ||
		       (op >= 0xec && op <= 0xef);
	case X86_MAP_XOP9:
		return op == 0x01 || op == 0x02 || op == 0x12 ||
		       (op >= 0x80 && op <= 0x83) || (op >= 0x90 && op <= 0x9b) ||
		       (op >= 0xc1 && op <= 0xc3) || op == 0xc6 || op == 0xc7 ||
		       op == 0xcb || (op >= 0xd1 && op <= 0xd3) || op == 0xd6 ||
		       op == 0xd7 || op == 0xdb || (op >= 0xe1 && op <= 0xe3);
	case X86_MAP_XOPA:
		return op == 0x10 || op == 0x12;
	}
	return false;
}

/*
 * EVEX-encoded opcodes (AVX-512, AVX512-FP16 and the Xeon Phi extensions
 * ER, PF, 4FMAPS, 4VNNIW) of maps 0F, 0F38, 0F3A, 5 and 6, with the
 * EVEX.pp values (as MP_* bits) that select a defined instruction, after
 * the opcode maps of SDM vol. 2 appendix A and the instruction pages.
 * EVEX.W is in evex_w; the ModRM.reg groups and memory-only/register-only
 * forms are in evex_group().  What single opcodes require of EVEX.L'L, b,
 * z, aaa and vvvv, and of R/R'/X/B where ModRM names a mask or general
 * register, is not modelled: the CPU raises #UD itself for the SIMD code
 * hyvm copies.
 */
#define MP_SX	(MP_66 | MP_F3 | MP_F2)
static const u8 evex_ok[5][256] = {
	[0] = {		/* 0F */
		[0x10 ... 0x12] = MP_ALL, [0x13 ... 0x15] = MP_NX,
		[0x16] = MP_NX | MP_F3, [0x17] = MP_NX, [0x28 ... 0x29] = MP_NX,
		[0x2a] = MP_F3 | MP_F2, [0x2b] = MP_NX, [0x2c ... 0x2d] = MP_F3 | MP_F2,
		[0x2e ... 0x2f] = MP_NX,
		[0x51] = MP_ALL, [0x54 ... 0x57] = MP_NX, [0x58 ... 0x5a] = MP_ALL,
		[0x5b] = MP_NX | MP_F3, [0x5c ... 0x5f] = MP_ALL,
		[0x60 ... 0x6e] = MP_66, [0x6f ... 0x70] = MP_SX,
		[0x71 ... 0x76] = MP_66, [0x78 ... 0x79] = MP_ALL,
		[0x7a ... 0x7b] = MP_SX, [0x7e] = MP_66 | MP_F3, [0x7f] = MP_SX,
		[0xc2] = MP_ALL, [0xc4 ... 0xc5] = MP_66, [0xc6] = MP_NX,
		[0xd1 ... 0xd6] = MP_66, [0xd8 ... 0xe5] = MP_66, [0xe6] = MP_SX,
		[0xe7 ... 0xef] = MP_66, [0xf1 ... 0xf6] = MP_66, [0xf8 ... 0xfe] = MP_66,
	},
	[1] = {		/* 0F38 */
		[0x00] = MP_66, [0x04] = MP_66, [0x0b ... 0x0d] = MP_66,
		[0x10 ... 0x15] = MP_66 | MP_F3, [0x16] = MP_66, [0x18 ... 0x1f] = MP_66,
		[0x20 ... 0x2a] = MP_66 | MP_F3, [0x2b ... 0x2d] = MP_66,
		[0x30 ... 0x35] = MP_66 | MP_F3, [0x36 ... 0x37] = MP_66,
		[0x38 ... 0x3a] = MP_66 | MP_F3, [0x3b ... 0x40] = MP_66,
		[0x42 ... 0x47] = MP_66, [0x4c ... 0x51] = MP_66, [0x52] = MP_SX,
		[0x53] = MP_66 | MP_F2, [0x54 ... 0x55] = MP_66, [0x58 ... 0x5b] = MP_66,
		[0x62 ... 0x66] = MP_66, [0x68] = MP_F2, [0x70 ... 0x71] = MP_66,
		[0x72] = MP_SX, [0x73] = MP_66, [0x75 ... 0x7f] = MP_66, [0x83] = MP_66,
		[0x88 ... 0x8b] = MP_66, [0x8d] = MP_66, [0x8f] = MP_66,
		[0x90 ... 0x93] = MP_66, [0x96 ... 0x99] = MP_66,
		[0x9a ... 0x9b] = MP_66 | MP_F2, [0x9c ... 0x9f] = MP_66,
		[0xa0 ... 0xa3] = MP_66, [0xa6 ... 0xa9] = MP_66,
		[0xaa ... 0xab] = MP_66 | MP_F2, [0xac ... 0xaf] = MP_66,
		[0xb4 ... 0xb5] = MP_66, [0xb6 ... 0xbf] = MP_66, [0xc4] = MP_66,
		[0xc6 ... 0xc8] = MP_66, [0xca ... 0xcd] = MP_66, [0xcf] = MP_66,
		[0xdc ... 0xdf] = MP_66,
	},
	[2] = {		/* 0F3A */
		[0x00 ... 0x01] = MP_66, [0x03 ... 0x05] = MP_66, [0x08] = MP_NX,
		[0x09] = MP_66, [0x0a] = MP_NX, [0x0b] = MP_66, [0x0f] = MP_66,
		[0x14 ... 0x1b] = MP_66, [0x1d ... 0x23] = MP_66, [0x25] = MP_66,
		[0x26 ... 0x27] = MP_NX, [0x38 ... 0x3b] = MP_66, [0x3e ... 0x3f] = MP_66,
		[0x42 ... 0x44] = MP_66, [0x50 ... 0x51] = MP_66, [0x54 ... 0x55] = MP_66,
		[0x56 ... 0x57] = MP_NX,
		[0x66 ... 0x67] = MP_NX, [0x70 ... 0x73] = MP_66,
		[0xc2] = MP_N | MP_F3, [0xce ... 0xcf] = MP_66,
	},
	[3] = {		/* map 5: FP16 arithmetic and conversions */
		[0x10 ... 0x11] = MP_F3, [0x1d] = MP_NX, [0x2a] = MP_F3,
		[0x2c ... 0x2d] = MP_F3, [0x2e ... 0x2f] = MP_N,
		[0x51] = MP_N | MP_F3, [0x58 ... 0x59] = MP_N | MP_F3, [0x5a] = MP_ALL,
		[0x5b] = MP_NX | MP_F3, [0x5c ... 0x5f] = MP_N | MP_F3,
		[0x6e] = MP_66, [0x78 ... 0x79] = MP_NX | MP_F3, [0x7a] = MP_66 | MP_F2,
		[0x7b] = MP_66 | MP_F3, [0x7c] = MP_NX, [0x7d] = MP_ALL, [0x7e] = MP_66,
	},
	[4] = {		/* map 6: FP16 FMA, complex and scale */
		[0x13] = MP_NX, [0x2c ... 0x2d] = MP_66, [0x42 ... 0x43] = MP_66,
		[0x4c ... 0x4f] = MP_66, [0x56 ... 0x57] = MP_F3 | MP_F2,
		[0x96 ... 0x9f] = MP_66, [0xa6 ... 0xaf] = MP_66, [0xb6 ... 0xbf] = MP_66,
		[0xd6 ... 0xd7] = MP_F3 | MP_F2,
	},
};

/*
 * EVEX.W of the opcodes in evex_ok that exist with one W only, as the
 * EVEX.pp values (MP_* bits) that need W0 (EW0) or W1 (EW1): the single-
 * and double-precision pairs, the dword and qword forms that are separate
 * instructions, FP16.  Opcodes where W selects the element or operand
 * size, or is ignored (WIG), have no bit.
 */
#define EW0(pp)	(pp)
#define EW1(pp)	((pp) << 4)
#define EW_PS	(EW0(MP_N | MP_F3) | EW1(MP_66 | MP_F2))	/* ps ss pd sd */
#define EW_PX	(EW0(MP_N) | EW1(MP_66))			/* ps pd */
static const u8 evex_w[5][256] = {
	[0] = {		/* 0F */
		[0x10 ... 0x12] = EW_PS, [0x13 ... 0x15] = EW_PX, [0x16] = EW_PS,
		[0x17] = EW_PX, [0x28 ... 0x29] = EW_PX, [0x2b] = EW_PX,
		[0x2e ... 0x2f] = EW_PX, [0x51] = EW_PS, [0x54 ... 0x57] = EW_PX,
		[0x58 ... 0x5a] = EW_PS, [0x5b] = EW0(MP_66 | MP_F3), [0x5c ... 0x5f] = EW_PS,
		[0x62] = EW0(MP_66), [0x66] = EW0(MP_66), [0x6a ... 0x6b] = EW0(MP_66),
		[0x6c ... 0x6d] = EW1(MP_66), [0x70] = EW0(MP_66), [0x76] = EW0(MP_66),
		[0x7e] = EW1(MP_F3), [0xc2] = EW_PS, [0xc6] = EW_PX,
		[0xd2] = EW0(MP_66), [0xd3 ... 0xd4] = EW1(MP_66), [0xd6] = EW1(MP_66),
		[0xe6] = EW1(MP_66 | MP_F2), [0xe7] = EW0(MP_66),
		[0xf2] = EW0(MP_66), [0xf3 ... 0xf4] = EW1(MP_66),
		[0xfa] = EW0(MP_66), [0xfb] = EW1(MP_66), [0xfe] = EW0(MP_66),
	},
	[1] = {		/* 0F38 */
		[0x0c] = EW0(MP_66), [0x0d] = EW1(MP_66),
		[0x10 ... 0x12] = EW1(MP_66) | EW0(MP_F3), [0x13] = EW0(MP_66 | MP_F3),
		[0x14 ... 0x15] = EW0(MP_F3), [0x18] = EW0(MP_66),
		[0x1e] = EW0(MP_66), [0x1f] = EW1(MP_66),
		[0x20 ... 0x24] = EW0(MP_F3), [0x25] = EW0(MP_66 | MP_F3),
		[0x28 ... 0x29] = EW1(MP_66), [0x2a] = EW0(MP_66) | EW1(MP_F3),
		[0x2b] = EW0(MP_66), [0x30 ... 0x34] = EW0(MP_F3),
		[0x35] = EW0(MP_66 | MP_F3), [0x37] = EW1(MP_66), [0x3a] = EW0(MP_F3),
		[0x50 ... 0x53] = EW0(MP_ALL), [0x58] = EW0(MP_66),
		[0x70] = EW1(MP_66), [0x72] = EW1(MP_66) | EW0(MP_F3 | MP_F2),
		[0x78 ... 0x7b] = EW0(MP_66), [0x83] = EW1(MP_66), [0x8f] = EW0(MP_66),
		[0x9a ... 0x9b] = EW0(MP_F2), [0xaa ... 0xab] = EW0(MP_F2),
		[0xb4 ... 0xb5] = EW1(MP_66), [0xcf] = EW0(MP_66),
	},
	[2] = {		/* 0F3A */
		[0x00 ... 0x01] = EW1(MP_66), [0x04] = EW0(MP_66), [0x05] = EW1(MP_66),
		[0x08] = EW0(MP_N | MP_66), [0x09] = EW1(MP_66), [0x0a] = EW0(MP_N | MP_66),
		[0x0b] = EW1(MP_66), [0x1d] = EW0(MP_66), [0x21] = EW0(MP_66),
		[0x26 ... 0x27] = EW0(MP_N), [0x42] = EW0(MP_66),
		[0x56 ... 0x57] = EW0(MP_N), [0x66 ... 0x67] = EW0(MP_N),
		[0x70] = EW1(MP_66), [0x72] = EW1(MP_66), [0xc2] = EW0(MP_N | MP_F3),
		[0xce ... 0xcf] = EW1(MP_66),
	},
	[3] = {		/* map 5 */
		[0x10 ... 0x11] = EW0(MP_ALL), [0x1d] = EW0(MP_ALL),
		[0x2e ... 0x2f] = EW0(MP_ALL), [0x51] = EW0(MP_ALL),
		[0x58 ... 0x59] = EW0(MP_ALL), [0x5a] = EW_PS,
		[0x5b] = EW0(MP_66 | MP_F3), [0x5c ... 0x5f] = EW0(MP_ALL),
		[0x78 ... 0x79] = EW0(MP_NX), [0x7a ... 0x7b] = EW0(MP_66),
		[0x7c ... 0x7d] = EW0(MP_ALL),
	},
	[4] = {		/* map 6: every FP16 opcode is W0 */
		[0x00 ... 0xff] = EW0(MP_ALL),
	},
};

/*
 * Whether EVEX map @map defines opcode @op with mandatory prefix @pfx and
 * EVEX.W @w.
 */
static bool evex_defined(u8 map, u8 op, u8 pfx, u8 w)
{
	u8 m = map < 4 ? map - 1 : map - 2;

	if (map == 0 || map == 4 || map > 6)
		return false;
	return (evex_ok[m][op] & pfx) && !(evex_w[m][op] & (w ? EW0(pfx) : EW1(pfx)));
}

/* Group tables: [group][ModRM.reg], for memory forms. */
#define GE(attr, cflow)	{ .a = (attr), .cf = (cflow) }
#define GINV		{ .a = A_INV }

static const struct op groups[G_NR][8] = {
	[G1] = { X4(GE(RW | A_LK, 0)), GE(RW | A_LK, 0), GE(RW | A_LK, 0),
		 GE(RW | A_LK, 0), GE(A_R, 0) },
	[G1A] = { GE(0, 0), GINV, GINV, GINV, GINV, GINV, GINV, GINV },
	[G2] = { X8(GE(RW, 0)) },
	[G3B] = { GE(A_R, 0), GE(A_R, 0), GE(RW | A_LK, 0), GE(RW | A_LK, 0),
		  X4(GE(A_R, 0)) },
	[G3V] = { GE(A_R, 0), GE(A_R, 0), GE(RW | A_LK, 0), GE(RW | A_LK, 0),
		  X4(GE(A_R, 0)) },
	[G4] = { GE(RW | A_LK, 0), GE(RW | A_LK, 0), GINV, GINV, X4(GINV) },
	[G5] = { GE(RW | A_LK, 0), GE(RW | A_LK, 0),
		 GE(A_R | A_F64 | A_STK, X86_CF_CALL_IND),
		 GE(A_R | A_MEMONLY | A_STK, X86_CF_CALL_FAR),
		 GE(A_R | A_F64, X86_CF_JMP_IND),
		 GE(A_R | A_MEMONLY, X86_CF_JMP_FAR),
		 GE(A_R | A_D64 | A_STK, 0), GINV },
	[G11B] = { GE(A_W, 0), GINV, GINV, GINV, X4(GINV) },
	[G11V] = { GE(A_W, 0), GINV, GINV, GINV, X4(GINV) },
	[G6] = { GE(A_W | A_SENS, 0), GE(A_W | A_SENS, 0),
		 GE(A_R | A_PRIV | A_SEGL, 0), GE(A_R | A_PRIV | A_SEGL, 0),
		 GE(A_R | A_SENS, 0), GE(A_R | A_SENS, 0), GINV, GINV },
	[G7] = { GE(A_W | A_SENS | A_MEMONLY, 0), GE(A_W | A_SENS | A_MEMONLY, 0),
		 GE(A_R | A_PRIV | A_MEMONLY, 0), GE(A_R | A_PRIV | A_MEMONLY, 0),
		 GE(A_W | A_SENS, 0), GINV, GE(A_R | A_PRIV | A_SER, 0),
		 GE(A_PRIV | A_MEMONLY, 0) },
	[G8] = { GINV, GINV, GINV, GINV, GE(A_R, 0), GE(RW | A_LK, 0),
		 GE(RW | A_LK, 0), GE(RW | A_LK, 0) },
	[G9] = { GINV, GE(RW | A_LK | A_MEMONLY, 0), GINV, GE(A_R | A_PRIV, 0),
		 GE(A_W, 0), GE(A_W | A_PRIV, 0), GE(A_R, 0), GE(A_W, 0) },
	[G12] = { GINV, GINV, GE(0, 0), GINV, GE(0, 0), GINV, GE(0, 0), GINV },
	[G13] = { GINV, GINV, GE(0, 0), GINV, GE(0, 0), GINV, GE(0, 0), GINV },
	[G14] = { GINV, GINV, GE(0, 0), GE(0, 0), GINV, GINV, GE(0, 0), GE(0, 0) },
	/*
	 * fxsave fxrstor ldmxcsr stmxcsr xsave xrstor xsaveopt clflush; xsave*
	 * read the header's XSTATE_BV; clflush faults like a read
	 */
	[G15] = { GE(A_W, 0), GE(A_R, 0), GE(A_R, 0), GE(A_W, 0),
		  GE(RW, 0), GE(A_R, 0), GE(RW, 0), GE(A_R, 0) },
	[G16] = { X8(GE(0, 0)) },
	[GSEG_ST] = { GE(0, 0), GE(A_SENS, 0), GE(A_SENS, 0), GE(0, 0),
		      GE(0, 0), GE(0, 0), GINV, GINV },
	[GSEG_LD] = { GE(0, 0), GINV, GE(0, 0), GE(0, 0),
		      GE(0, 0), GE(0, 0), GINV, GINV },
	[GX87] = { X8(GE(A_R, 0)) },
	[GPFX] = { X8(GE(0, 0)) },
};

/* 3DNow! opcodes (the byte after 0F 0F ModRM). */
static const u8 amd3dnow_ok[32] = {
	[0x0c >> 3] = BIT(0x0c & 7) | BIT(0x0d & 7),
	[0x1c >> 3] = BIT(0x1c & 7) | BIT(0x1d & 7),
	[0x8a >> 3] = BIT(0x8a & 7) | BIT(0x8e & 7),
	[0x90 >> 3] = BIT(0x90 & 7) | BIT(0x94 & 7) | BIT(0x96 & 7) | BIT(0x97 & 7),
	[0x9a >> 3] = BIT(0x9a & 7) | BIT(0x9e & 7),
	[0xa0 >> 3] = BIT(0xa0 & 7) | BIT(0xa4 & 7) | BIT(0xa6 & 7) | BIT(0xa7 & 7),
	[0xaa >> 3] = BIT(0xaa & 7) | BIT(0xae & 7),
	[0xb0 >> 3] = BIT(0xb0 & 7) | BIT(0xb4 & 7) | BIT(0xb6 & 7) | BIT(0xb7 & 7),
	[0xbb >> 3] = BIT(0xbb & 7) | BIT(0xbf & 7),
};

struct dstate {
	const u8 *buf;
	unsigned int len;
	unsigned int pos;
	enum x86_decode_status err;
};

static bool fetch(struct dstate *s, u8 *b)
{
	if (s->pos >= X86_MAX_INSN_LEN) {
		s->err = X86_DECODE_TOOLONG;
		return false;
	}
	if (s->pos >= s->len) {
		s->err = X86_DECODE_TRUNC;
		return false;
	}
	*b = s->buf[s->pos++];
	return true;
}

static bool fetch_n(struct dstate *s, unsigned int n, u64 *val)
{
	unsigned int i;
	u8 b;

	*val = 0;
	for (i = 0; i < n; i++) {
		if (!fetch(s, &b))
			return false;
		*val |= (u64)b << (8 * i);
	}
	return true;
}

static s64 sext(u64 v, unsigned int bytes)
{
	unsigned int sh = 64 - 8 * bytes;

	if (bytes >= 8)
		return (s64)v;
	return (s64)(v << sh) >> sh;
}

/*
 * 0F 01 with ModRM.mod == 3 encodes a separate instruction for each ModRM
 * byte.  Return its attributes; A_INV if it is not defined.
 */
static u32 grp7_reg(u8 modrm, u8 pfx, enum x86_mode mode, u8 *cf)
{
	u8 reg = (modrm >> 3) & 7;
	bool real = mode == X86_MODE_REAL;

	if (reg == 4)
		return A_W | A_SENS;		/* smsw r */
	if (reg == 6)
		return A_PRIV | A_SER;		/* lmsw r */
	/*
	 * AMD's instructions here ignore 66/F2/F3 unless one selects
	 * another instruction; Intel's are #UD with any of them.
	 */
	if ((modrm >= 0xd8 && modrm <= 0xdf) || modrm == 0xf8 || modrm == 0xf9 ||
	    modrm == 0xfc || modrm == 0xfd)
		pfx = MP_N;
	/* A few encodings are selected by a mandatory prefix. */
	if (pfx != MP_N) {
		switch (modrm | pfx << 8) {
		case 0xcc | MP_66 << 8:		/* tdcall */
			*cf = X86_CF_OTHER;
			return A_PRIV;
		case 0xcd | MP_66 << 8:		/* seamret */
		case 0xce | MP_66 << 8:		/* seamops */
		case 0xcf | MP_66 << 8:		/* seamcall */
			*cf = X86_CF_OTHER;
			return A_PRIV | A_O64;
		case 0xe8 | MP_F3 << 8:		/* setssbsy: no shadow stacks in real mode */
			return real ? A_INV : A_PRIV;
		case 0xff | MP_F2 << 8:		/* pvalidate */
			return A_PRIV;
		case 0xfe | MP_F3 << 8:		/* rmpadjust */
		case 0xfe | MP_F2 << 8:		/* rmpupdate */
		case 0xff | MP_F3 << 8:		/* psmash */
			return A_PRIV | A_O64;
		case 0xfa | MP_F3 << 8:		/* mcommit */
			return 0;
		case 0xea | MP_F3 << 8:		/* saveprevssp */
			return real ? A_INV : 0;
		case 0xe8 | MP_F2 << 8:		/* xsusldtrk */
		case 0xe9 | MP_F2 << 8:		/* xresldtrk */
			return 0;
		case 0xed | MP_F3 << 8:		/* testui */
		case 0xee | MP_F3 << 8:		/* clui */
		case 0xef | MP_F3 << 8:		/* stui */
			return A_O64;
		case 0xec | MP_F3 << 8:		/* uiret */
			*cf = X86_CF_IRET;
			return A_O64;
		}
		return A_INV;
	}
	switch (modrm) {
	case 0xc1:				/* vmcall */
	case 0xd9:				/* vmmcall */
		*cf = X86_CF_OTHER;
		return 0;
	case 0xc2: case 0xc3:			/* vmlaunch, vmresume */
		*cf = X86_CF_OTHER;
		return real ? A_INV : A_PRIV;
	case 0xd7:				/* enclu: user-level SGX */
		return real ? A_INV : A_SENS | A_SER;
	case 0xc0:				/* enclv */
	case 0xc4:				/* vmxoff */
	case 0xcf:				/* encls */
	case 0xd8: case 0xda: case 0xdb:	/* vmrun, vmload, vmsave */
	case 0xdc: case 0xdd: case 0xde:	/* stgi, clgi, skinit */
	case 0xdf:				/* invlpga */
		/* VMX, SVM and SGX do not exist in real mode */
		return real ? A_INV : A_PRIV | A_SER;
	case 0xc5:				/* pconfig */
	case 0xc8: case 0xc9:			/* monitor, mwait */
	case 0xca: case 0xcb:			/* clac, stac */
	case 0xd1:				/* xsetbv */
	case 0xfe: case 0xff:			/* invlpgb, tlbsync */
		return A_PRIV | A_SER;
	case 0xd0:				/* xgetbv */
	case 0xd4:				/* vmfunc */
	case 0xd5: case 0xd6:			/* xend, xtest */
	case 0xee: case 0xef:			/* rdpkru, wrpkru */
	case 0xfa: case 0xfb:			/* monitorx, mwaitx */
	case 0xfc:				/* clzero */
	case 0xfd:				/* rdpru */
		return A_SENS;
	case 0xe8:				/* serialize */
		return A_SER;
	case 0xf8:				/* swapgs */
		return mode == X86_MODE_LONG64 ? A_PRIV : A_INV;
	case 0xf9:				/* rdtscp */
		return A_SENS;
	}
	return A_INV;
}

/* x87 escapes D8-DF: which register forms (mod == 3) and memory forms exist. */
static bool x87_valid(u8 op, u8 modrm)
{
	u8 reg = (modrm >> 3) & 7;

	if ((modrm >> 6) != 3) {
		switch (op) {
		case 0xd9: return reg != 1;
		case 0xdb: return reg != 4 && reg != 6;
		case 0xdd: return reg != 5;
		}
		return true;
	}
	/*
	 * The register forms include the aliases the opcode maps list as
	 * reserved but every x87 since the 387 executes: fstp1 (D9 D8+i),
	 * fxch4/7 (DD C8+i, DF C8+i), fcomp5 (DE D0+i, except D8+i), ffreep (DF C0+i),
	 * fstp8/9 (DF D0+i, D8+i).
	 */
	switch (op) {
	case 0xd9:
		if (modrm >= 0xd1 && modrm <= 0xd7)
			return false;
		return modrm != 0xe2 && modrm != 0xe3 && modrm != 0xe6 &&
		       modrm != 0xe7 && modrm != 0xef;
	case 0xda:
		return modrm < 0xe0 || modrm == 0xe9;
	case 0xdb:
		return modrm <= 0xe4 || (modrm >= 0xe8 && modrm < 0xf8);
	case 0xdd:
		return modrm < 0xf0;
	case 0xde:
		return modrm < 0xd8 || modrm == 0xd9 || modrm >= 0xe0;
	case 0xdf:
		return modrm <= 0xe0 || (modrm >= 0xe8 && modrm < 0xf8);
	}
	return true;
}

/* VEX/EVEX/XOP opcodes with an 8-bit immediate, in map 0F. */
static bool vex_map1_imm(u8 op)
{
	return (op >= 0x70 && op <= 0x73) || op == 0xc2 || (op >= 0xc4 && op <= 0xc6);
}

static u8 pfx_bit(u8 pp)
{
	static const u8 bits[4] = { MP_N, MP_66, MP_F3, MP_F2 };

	return bits[pp & 3];
}

/* Decode ModRM, SIB and displacement. */
static bool decode_modrm(struct dstate *s, struct x86_insn *insn, u32 a)
{
	u8 rexb = (insn->rex & 1) << 3, rexx = (insn->rex & 2) << 2;
	u8 mod = insn->mod, rm = insn->modrm & 7;
	unsigned int dsz = 0;
	u64 d;

	if (mod == 3 || (a & A_MODREG))
		return true;

	insn->flags |= X86_F_MEM;
	insn->scale = 1;
	if (insn->adsize == 2) {
		static const u8 base16[8] = { 3, 3, 5, 5, 6, 7, 5, 3 };
		static const u8 index16[8] = { 6, 7, 6, 7, X86_REG_NONE,
					       X86_REG_NONE, X86_REG_NONE, X86_REG_NONE };

		insn->base = base16[rm];
		insn->index = index16[rm];
		if (mod == 0 && rm == 6) {
			insn->base = X86_REG_NONE;
			dsz = 2;
		} else {
			dsz = mod == 1 ? 1 : mod == 2 ? 2 : 0;
		}
		if (insn->base == 5 && rm != 7)
			insn->seg = X86_SEG_SS;		/* bp-based */
	} else {
		if (rm == 4) {
			u8 sib, base, index;

			if (!fetch(s, &sib))
				return false;
			insn->sib = sib;
			base = sib & 7;
			index = ((sib >> 3) & 7) | rexx;
			insn->scale = 1 << (sib >> 6);
			insn->index = index == 4 ? X86_REG_NONE : index;
			if (base == 5 && mod == 0) {
				insn->base = X86_REG_NONE;
				dsz = 4;
			} else {
				insn->base = base | rexb;
			}
		} else if (rm == 5 && mod == 0) {
			dsz = 4;
			if (insn->mode == X86_MODE_LONG64) {
				insn->base = X86_REG_RIP;
				insn->flags |= X86_F_RIPREL;
			}
		} else {
			insn->base = rm | rexb;
		}
		if (mod == 1)
			dsz = 1;
		else if (mod == 2)
			dsz = 4;
		if ((insn->base & 7) == 4 || (insn->base & 7) == 5)
			if (insn->base != X86_REG_NONE && insn->base != X86_REG_RIP)
				insn->seg = X86_SEG_SS;
	}
	if (dsz) {
		insn->disp_offset = s->pos;
		insn->disp_size = dsz;
		if (!fetch_n(s, dsz, &d))
			return false;
		insn->disp = sext(d, dsz);
	}
	return true;
}

/* Decode the VEX, EVEX or XOP prefix at s->pos - 1 (the byte @lead). */
static bool decode_vex(struct dstate *s, struct x86_insn *insn, u8 lead, u32 *attr)
{
	u8 p0, p1, p2 = 0, op, map;
	bool rex_r, rex_x, rex_b;

	if (insn->rex || (insn->flags & (X86_P_LOCK | X86_P_OPSIZE | X86_P_REP | X86_P_REPNE)))
		*attr |= A_INV;	/* VEX after 66, F2, F3, F0 or REX is #UD */

	if (!fetch(s, &p0))
		return false;
	if (lead == 0xc5) {
		insn->flags |= X86_P_VEX;
		rex_r = !(p0 & 0x80);
		rex_x = rex_b = false;
		insn->vex_vvvv = (~p0 >> 3) & 0xf;
		insn->vex_l = (p0 >> 2) & 1;
		insn->vex_pp = p0 & 3;
		map = 1;
	} else {
		if (!fetch(s, &p1))
			return false;
		rex_r = !(p0 & 0x80);
		rex_x = !(p0 & 0x40);
		rex_b = !(p0 & 0x20);
		insn->vex_w = p1 >> 7;
		insn->vex_vvvv = (~p1 >> 3) & 0xf;
		insn->vex_pp = p1 & 3;
		if (lead == 0x62) {
			insn->flags |= X86_P_EVEX;
			map = p0 & 7;
			if (!fetch(s, &p2))
				return false;
			insn->vex_l = (p2 >> 5) & 3;
			/* P0 bit 3 is reserved zero, P1 bit 2 reserved one */
			if ((p0 & 0x08) || !(p1 & 0x04))
				*attr |= A_INV;
			if (map == 0 || map == 4 || map == 7)
				*attr |= A_INV;
		} else {
			insn->vex_l = (p1 >> 2) & 1;
			map = p0 & 0x1f;
			if (lead == 0xc4) {
				insn->flags |= X86_P_VEX;
				if (map < 1 || map > 3)
					*attr |= A_INV;
			} else {
				insn->flags |= X86_P_XOP;
				if (map < 8 || map > 10)
					*attr |= A_INV;
			}
		}
	}
	if (insn->mode != X86_MODE_LONG64) {
		rex_x = rex_b = false;
		insn->vex_vvvv &= 7;
		insn->vex_w &= (insn->flags & X86_P_VEX) ? 1 : 1;
	}
	insn->rex = 0x40 | (insn->vex_w << 3) | (rex_r << 2) | (rex_x << 1) | rex_b;
	if (insn->mode != X86_MODE_LONG64)
		insn->rex = 0;
	insn->opcode_offset = s->pos;
	if (!fetch(s, &op))
		return false;
	insn->map = map;
	insn->opcode = op;
	insn->last_prefix = pfx_bit(insn->vex_pp);
	*attr |= A_SIMD;
	/* opcodes the maps define (jkzd/jknzd of Knights Corner are not) */
	if ((insn->flags & X86_P_VEX) && map >= 1 && map <= 3 &&
	    !(vex_ok[map - 1][op] & insn->last_prefix))
		*attr |= A_INV;
	if ((insn->flags & X86_P_XOP) && (insn->vex_pp || !xop_ok(map, op)))
		*attr |= A_INV;
	if ((insn->flags & X86_P_EVEX) && !evex_defined(map, op, insn->last_prefix, insn->vex_w))
		*attr |= A_INV;

	insn->imm_size = 0;
	switch (map) {
	case 1:
		if (vex_map1_imm(op))
			insn->imm1_size = 1;
		if (op == 0x77 && (insn->flags & X86_P_VEX))
			return true;		/* vzeroupper/vzeroall: no ModRM */
		break;
	case 3:
	case X86_MAP_XOP8:
		insn->imm1_size = 1;
		break;
	case X86_MAP_XOPA:
		insn->imm1_size = 4;
		break;
	}
	*attr |= A_M | A_R;
	return true;
}

/*
 * ModRM rules of the EVEX opcodes, once ModRM is known: the ModRM.reg
 * groups, the memory-only and register-only forms, and VSIB addressing
 * (a SIB byte, so no 16-bit addressing) for gathers, scatters and their
 * prefetches.
 */
static u32 evex_group(const struct x86_insn *insn)
{
	u8 r = (insn->modrm >> 3) & 7, op = insn->opcode, pfx = insn->last_prefix;
	bool vsib = insn->mod != 3 && (insn->modrm & 7) == 4 && insn->adsize != 2;

	if (insn->map == X86_MAP_0F) {
		switch (op) {
		case 0x12: case 0x16:	/* 66: vmovlpd, vmovhpd */
			return pfx == MP_66 ? A_MEMONLY : 0;
		case 0x13: case 0x17:	/* vmovlp[sd], vmovhp[sd] stores */
		case 0x2b: case 0xe7:	/* vmovntp[sd], vmovntdq */
			return A_MEMONLY;
		case 0xc5:		/* vpextrw r32, xmm, imm8 */
			return A_REGONLY;
		case 0x71:		/* vpsrlw, vpsraw, vpsllw imm8 */
			return r == 2 || r == 4 || r == 6 ? 0 : A_INV;
		case 0x72:	/* vpror[dq], vprol[dq], vpsrld (W0), vpsra[dq], vpslld (W0) */
			if (r == 2 || r == 6)
				return insn->vex_w ? A_INV : 0;
			return r == 3 || r == 5 || r == 7 ? A_INV : 0;
		case 0x73:	/* vpsrlq (W1), vpsrldq, vpsllq (W1), vpslldq */
			if (r == 2 || r == 6)
				return insn->vex_w ? 0 : A_INV;
			return r == 3 || r == 7 ? 0 : A_INV;
		}
	} else if (insn->map == X86_MAP_0F38) {
		switch (op) {
		case 0x1a: case 0x1b:	/* vbroadcastf32x4 ... f64x4 */
		case 0x5a: case 0x5b:	/* vbroadcasti32x4 ... i64x4 */
			return A_MEMONLY;
		case 0x2a:		/* 66: vmovntdqa; F3: vpbroadcastmb2q */
			return pfx == MP_66 ? A_MEMONLY : A_REGONLY;
		case 0x28: case 0x29: case 0x38: case 0x39: case 0x3a:
			/* F3: vpmovm2*, vpmov*2m, vpbroadcastmw2d: mask registers */
			return pfx == MP_F3 ? A_REGONLY : 0;
		case 0x7a: case 0x7b: case 0x7c:	/* vpbroadcast* from a GPR */
			return A_REGONLY;
		case 0x52: case 0x53: case 0x9a: case 0x9b: case 0xaa: case 0xab:
			/* F2: 4VNNIW, 4FMAPS: a block of four registers and m128 */
			return pfx == MP_F2 ? A_MEMONLY : 0;
		case 0x90 ... 0x93:	/* gathers */
		case 0xa0 ... 0xa3:	/* scatters */
			return vsib ? 0 : A_INV;
		case 0xc6: case 0xc7:	/* vgatherpf[01], vscatterpf[01] */
			return vsib && (r == 1 || r == 2 || r == 5 || r == 6) ? 0 : A_INV;
		}
	} else if (insn->map == X86_MAP_EVEX5 && pfx == MP_F3 && insn->vex_w &&
		   insn->mode != X86_MODE_LONG64) {
		/*
		 * vcvtsi2sh, vcvt[t]sh2si, vcvt[t]sh2usi, vcvtusi2sh: the W1
		 * (64-bit register) forms are not encodable outside 64-bit mode
		 */
		switch (op) {
		case 0x2a: case 0x2c: case 0x2d: case 0x78: case 0x79: case 0x7b:
			return A_INV;
		}
	}
	return 0;
}

/* ModRM.reg rules of the VEX, EVEX and XOP groups, once ModRM is known. */
static u32 vex_group(const struct x86_insn *insn)
{
	u8 r = (insn->modrm >> 3) & 7, op = insn->opcode;
	bool reg = insn->mod == 3;

	if (insn->flags & X86_P_EVEX)
		return evex_group(insn);

	if ((insn->flags & X86_P_VEX) && insn->map == 2) {
		bool is64 = insn->mode == X86_MODE_LONG64;

		switch (op) {
		case 0x49:	/* ldtilecfg, sttilecfg (memory); tilerelease, tilezero */
			if (!is64)
				return A_INV;
			if (insn->last_prefix == MP_N && reg)
				return insn->modrm == 0xc0 ? 0 : A_INV;
			if (insn->last_prefix == MP_F2)
				return reg && !(insn->modrm & 7) ? 0 : A_INV;
			return !reg && !r ? 0 : A_INV;
		case 0x4b:	/* tileload/tilestore: SIB addressing only */
			return is64 && !reg && (insn->modrm & 7) == 4 ? 0 : A_INV;
		case 0x5c: case 0x5e: {	/* tdpb*, tdpbf16ps: three distinct tiles */
			u8 t1 = insn->reg, t2 = insn->rm, t3 = insn->vex_vvvv;

			return is64 && reg && !insn->vex_l && t1 < 8 && t2 < 8 && t3 < 8 &&
			       t1 != t2 && t1 != t3 && t2 != t3 ? 0 : A_INV;
		}
		case 0x90 ... 0x93:	/* gathers: VSIB memory, distinct registers */
			return !reg && (insn->modrm & 7) == 4 && insn->adsize != 2 ? 0 : A_INV;
		case 0xf3:		/* blsr, blsmsk, blsi */
			return r >= 1 && r <= 3 ? 0 : A_INV;
		}
		return 0;
	}
	if (insn->flags & X86_P_VEX) {
		if (insn->map != 1)
			return 0;
		switch (op) {
		case 0x71: case 0x72:		/* vpsrl/vpsra/vpsll imm */
			return reg && (r == 2 || r == 4 || r == 6) ? 0 : A_INV;
		case 0x73:			/* also vpsrldq, vpslldq */
			return reg && (r == 2 || r == 3 || r == 6 || r == 7) ? 0 : A_INV;
		case 0xae:			/* vldmxcsr, vstmxcsr */
			return !reg && (r == 2 || r == 3) ? 0 : A_INV;
		}
		return 0;
	}
	if (insn->flags & X86_P_XOP) {
		if (insn->map == X86_MAP_XOP9 && op == 0x01)
			return r ? 0 : A_INV;		/* blcfill ... t1mskc */
		if (insn->map == X86_MAP_XOP9 && op == 0x02)
			return r == 1 || r == 6 ? 0 : A_INV;	/* blcmsk, blci */
		if (op == 0x12)				/* llwpcb/slwpcb, lwpins/lwpval */
			return r < 2 && (insn->map == X86_MAP_XOPA || reg) ? 0 : A_INV;
	}
	return 0;
}

/*
 * EVEX register-overlap rules (#UD): a gather's destination may not be its
 * index register (SDM VPGATHERDD and siblings), and the complex FP16
 * multiplies vf[c]maddc[ps]h and vf[c]mulc[ps]h may not write one of their
 * sources.  In 64-bit mode EVEX.R' (P0 bit 4), EVEX.V' (P2 bit 3) and, for
 * a register operand, EVEX.X (P0 bit 6), all inverted, are bit 4 of the
 * register numbers.
 */
static bool evex_overlap(const struct x86_insn *insn, const u8 *buf)
{
	u8 p0 = buf[insn->opcode_offset - 3], p2 = buf[insn->opcode_offset - 1];
	bool is64 = insn->mode == X86_MODE_LONG64;
	u8 dst = insn->reg | (is64 ? ~p0 & 0x10 : 0);
	u8 v4 = is64 ? (~p2 & 0x08) << 1 : 0;

	if (insn->map == X86_MAP_0F38)		/* gathers: VSIB index */
		return dst == (((insn->sib >> 3) & 7) | ((insn->rex & 2) << 2) | v4);
	if (dst == (insn->vex_vvvv | v4))
		return true;
	return insn->mod == 3 && dst == (insn->rm | (is64 ? (~p0 & 0x40) >> 2 : 0));
}

/* 0F AE: which forms each mandatory prefix selects. */
static u32 grp15_pfx(const struct x86_insn *insn, u8 pfx)
{
	u8 r = (insn->modrm >> 3) & 7;

	if (insn->mod != 3) {
		switch (pfx) {
		case MP_N:
			return 0;
		case MP_66:			/* clwb, clflushopt */
			return r >= 6 ? 0 : A_INV;
		case MP_F3:			/* ptwrite; clrssbsy (CET: not real mode) */
			return r == 4 ? 0 : r == 6 ? A_NOREAL : A_INV;
		}
		return A_INV;
	}
	switch (pfx) {
	case MP_N:				/* lfence, mfence, sfence */
		return r >= 5 ? 0 : A_INV;
	case MP_F3:	/* rd/wr fs/gs base (64-bit), ptwrite, incssp, umonitor */
		return r < 4 ? A_O64 : r == 4 || r == 6 ? 0 : r == 5 ? A_NOREAL : A_INV;
	case MP_66:			/* tpause */
	case MP_F2:			/* umwait */
		return r == 6 ? 0 : A_INV;
	}
	return A_INV;
}

/* 0F C7: which forms each mandatory prefix selects. */
static u32 grp9_pfx(const struct x86_insn *insn, u8 pfx)
{
	u8 r = (insn->modrm >> 3) & 7;

	if (insn->mod != 3) {
		switch (r) {
		case 1:				/* cmpxchg8b/16b */
			return 0;
		case 6:				/* vmptrld, vmclear, vmxon */
			return (pfx == MP_F2 ? A_INV : 0) | A_NOREAL;
		case 7:				/* vmptrst */
			return (pfx != MP_N ? A_INV : 0) | A_NOREAL;
		}
		return pfx != MP_N ? A_INV : 0;	/* xrstors, xsavec, xsaves */
	}
	if (r == 6)				/* rdrand; F3: senduipi */
		return pfx == MP_F3 ? A_O64 : pfx == MP_F2 ? A_INV : 0;
	if (r == 7)				/* rdseed; F3: rdpid */
		return pfx == MP_F2 ? A_INV : 0;
	return 0;
}

/*
 * Rules of the 0F and 0F38 maps that depend on the mandatory prefix, the
 * ModRM fields or the mode together; returns extra attribute bits.
 */
static u32 fixup(struct x86_insn *insn, u32 a)
{
	u8 op = insn->opcode, pfx = insn->last_prefix, mod = insn->mod;
	bool is64 = insn->mode == X86_MODE_LONG64;

	if (insn->flags & (X86_P_VEX | X86_P_EVEX | X86_P_XOP))
		return 0;
	if (insn->map == X86_MAP_0F) {
		switch (op) {
		case 0x12: case 0x16:		/* movlpd/movhpd: memory only */
			return pfx == MP_66 && mod == 3 ? A_INV : 0;
		case 0x20: case 0x22:		/* cr0, cr2-4, cr8 (64-bit) */
			if (insn->reg == 8)
				return is64 ? 0 : A_INV;
			return (insn->reg == 1 || insn->reg > 4) ? A_INV : 0;
		case 0x21: case 0x23:
			return insn->reg > 7 ? A_INV : 0;
		case 0x2b:
			return pfx & (MP_F3 | MP_F2) ? 0 : 0;
		case 0x78: case 0x79:		/* vmread, vmwrite: no VMX in real mode */
			return pfx == MP_N ? A_NOREAL : 0;
		case 0x37:	/* getsec: Zydis and hyvm treat prefixes as reserved */
			return pfx != MP_N ? A_INV : 0;
		case 0x73:			/* psrldq, pslldq: 66 only */
			return (insn->reg & 3) == 3 && pfx != MP_66 ? A_INV : 0;
		case 0xa6:			/* VIA PadLock: rep montmul, xsha */
			return (insn->modrm & 7) || insn->modrm > 0xd0 ||
			       insn->modrm < 0xc0 || pfx != MP_F3 ? A_INV : 0;
		case 0xa7:			/* VIA PadLock: xstore, rep xcrypt */
			return (insn->modrm & 7) || insn->modrm > 0xe8 ||
			       insn->modrm < 0xc0 ||
			       (pfx != MP_F3 && (insn->modrm != 0xc0 || pfx != MP_N)) ?
			       A_INV : 0;
		case 0xae:
			return grp15_pfx(insn, pfx);
		case 0xc7:
			return grp9_pfx(insn, pfx);
		case 0xd6:			/* movq2dq, movdq2q; 66: movq store */
			return pfx == MP_66 ? A_W : A_REGONLY;
		case 0xe7:
			return A_MEMONLY | A_W;
		case 0xf0:
			return A_MEMONLY;
		}
	} else if (insn->map == X86_MAP_0F38) {
		switch (op) {
		case 0x2a:			/* movntdqa */
			return A_MEMONLY;
		case 0x80: case 0x81:		/* invept, invvpid */
			return A_MEMONLY | A_PRIV | A_NOREAL;
		case 0x82:			/* invpcid */
			return A_MEMONLY | A_PRIV;
		case 0xd8:	/* Key Locker: aes{enc,dec}wide{128,256}kl */
			return pfx == MP_F3 ? A_MEMONLY | ((insn->reg & 7) > 3 ? A_INV : 0) : 0;
		case 0xdc:	/* Key Locker: loadiwkey (reg, CPL0), aesenc128kl (mem) */
			return pfx == MP_F3 && mod == 3 ? A_PRIV : 0;
		case 0xdd: case 0xde: case 0xdf:
			return pfx == MP_F3 ? A_MEMONLY : 0;	/* Key Locker */
		case 0xfa: case 0xfb:
			return A_REGONLY;
		case 0xf0: case 0xf1:		/* movbe; F2: crc32 */
			return pfx == MP_F2 ? 0 : A_MEMONLY | (op == 0xf1 ? A_W : 0);
		case 0xf5:			/* wruss */
			return A_MEMONLY | A_NOREAL | A_W | A_PRIV;
		case 0xf6:			/* wrss; 66: adcx, F3: adox */
			return pfx == MP_N ? A_MEMONLY | A_NOREAL | A_W : 0;
		case 0xf8: case 0xf9:		/* movdir64b, enqcmd, movdiri */
			return A_MEMONLY | A_W;
		}
	} else if (insn->map == X86_MAP_0F3A && op == 0xf0) {
		return insn->modrm == 0xc0 ? A_PRIV : A_INV;	/* hreset imm8 */
	}
	return 0;
}

static u8 reg_of(struct x86_insn *insn)
{
	return ((insn->modrm >> 3) & 7) | ((insn->rex & 4) << 1);
}

enum x86_decode_status x86_decode(struct x86_insn *insn, const u8 *buf,
				  unsigned int len, enum x86_mode mode)
{
	return x86_decode_ex(insn, buf, len, mode, 0);
}
DEC_EXPORT_FOR_TESTS(x86_decode);

enum x86_decode_status x86_decode_ex(struct x86_insn *insn, const u8 *buf,
				     unsigned int len, enum x86_mode mode, unsigned int flags)
{
	struct dstate s = { .buf = buf, .len = len };
	bool is64 = mode == X86_MODE_LONG64;
	bool amd = flags & X86_DECODE_AMD;
	bool def16 = mode == X86_MODE_REAL || mode == X86_MODE_PROT16;
	u8 b, rep = 0, imm_kind;
	struct op e;
	u32 a;
	u64 v;

	memset(insn, 0, sizeof(*insn));
	insn->mode = mode;
	insn->seg = X86_SEG_DS;
	insn->seg_override = X86_SEG_NONE;
	insn->base = insn->index = X86_REG_NONE;

	/* Legacy prefixes and REX.  A REX not directly before the opcode is void. */
	for (;;) {
		if (!fetch(&s, &b))
			goto out;
		switch (b) {
		case 0xf0:
			insn->flags |= X86_P_LOCK;
			break;
		case 0xf2:
		case 0xf3:
			rep = b;
			break;
		case 0x66:
			insn->flags |= X86_P_OPSIZE;
			break;
		case 0x67:
			insn->flags |= X86_P_ADSIZE;
			break;
		case 0x26: case 0x2e: case 0x36: case 0x3e:
			insn->flags |= X86_P_SEG;
			insn->seg_override = (b >> 3) & 3;
			break;
		case 0x64: case 0x65:
			insn->flags |= X86_P_SEG;
			insn->seg_override = b - 0x64 + X86_SEG_FS;
			break;
		default:
			if (is64 && (b & 0xf0) == 0x40) {
				insn->rex = b;
				insn->nr_prefixes++;
				continue;
			}
			goto opcode;
		}
		insn->rex = 0;
		insn->nr_prefixes++;
	}
opcode:
	if (insn->rex)
		insn->flags |= X86_P_REX;
	if (rep == 0xf3)
		insn->flags |= X86_P_REP;
	else if (rep == 0xf2)
		insn->flags |= X86_P_REPNE;
	insn->last_prefix = rep == 0xf3 ? MP_F3 : rep == 0xf2 ? MP_F2 :
			    (insn->flags & X86_P_OPSIZE) ? MP_66 : MP_N;
	insn->opcode_offset = s.pos - 1;
	insn->opcode = b;
	insn->map = X86_MAP_ONE;
	a = 0;

	if (b == 0x0f) {
		if (!fetch(&s, &b))
			goto out;
		if (b == 0x38 || b == 0x3a) {
			insn->map = b == 0x38 ? X86_MAP_0F38 : X86_MAP_0F3A;
			if (!fetch(&s, &b))
				goto out;
			insn->opcode = b;
			e = (struct op){ .a = A_M | A_R | A_SIMD,
					 .imm = insn->map == X86_MAP_0F3A ? I_B : I_NONE };
		} else {
			insn->map = X86_MAP_0F;
			insn->opcode = b;
			e = map_0f[b];
		}
	} else if ((b == 0xc4 || b == 0xc5 || b == 0x62 || b == 0x8f) &&
		   (s.pos < s.len || b == 0x8f)) {
		/*
		 * C4/C5 (les/lds) and 62 (bound) are VEX/EVEX in 64-bit mode,
		 * and elsewhere when the next byte would be a register ModRM,
		 * which les/lds/bound do not allow.  8F is XOP when the next
		 * byte's reg field, which pop r/m requires zero, is not.
		 */
		u8 nb = s.pos < s.len ? buf[s.pos] : 0;
		bool ext;

		if (b == 0x8f)	/* no XOP in real mode: pop with reg != 0, #UD */
			ext = mode != X86_MODE_REAL && s.pos < s.len && (nb & 0x38);
		else
			ext = mode != X86_MODE_REAL && (is64 || nb >= 0xc0);
		if (ext) {
			if (!decode_vex(&s, insn, b, &a))
				goto out;
			e = (struct op){ .a = a };
			goto have_op;
		}
		e = map_one[b];
	} else {
		e = map_one[b];
	}
	e.a |= a;
have_op:
	a = e.a;
	imm_kind = e.imm;

	/* Invalid whatever follows: stop before reading operands. */
	if ((!(a & A_GRP) && (a & A_INV)) || (is64 && (a & A_I64))) {
		insn->len = s.pos;
		return X86_DECODE_UD;
	}

	/* movsxd in 64-bit mode takes the place of arpl. */
	if (insn->map == X86_MAP_ONE && insn->opcode == 0x63) {
		if (is64)
			a |= A_R;
		else
			a |= A_R | A_W | A_NOREAL;
	}

	/* Operand size.  AMD CPUs let 66 shrink near branches to 16 bits. */
	if (amd && (a & A_F64))
		a = (a & ~A_F64) | A_D64;
	if (is64 && (a & (A_F64 | A_W64)))
		insn->opsize = 8;
	else if (is64 && (insn->rex & 8))
		insn->opsize = 8;
	else if (is64 && (a & A_D64))
		insn->opsize = (insn->flags & X86_P_OPSIZE) ? 2 : 8;
	else if (a & A_W64)
		insn->opsize = 4;
	else
		insn->opsize = (def16 ^ !!(insn->flags & X86_P_OPSIZE)) ? 2 : 4;
	if (is64)
		insn->adsize = (insn->flags & X86_P_ADSIZE) ? 4 : 8;
	else
		insn->adsize = (def16 ^ !!(insn->flags & X86_P_ADSIZE)) ? 2 : 4;

	/* ModRM and the groups that depend on it. */
	if (a & A_M) {
		if (!fetch(&s, &insn->modrm))
			goto out;
		insn->flags |= X86_F_MODRM;
		insn->mod = insn->modrm >> 6;
		insn->reg = reg_of(insn);
		insn->rm = (insn->modrm & 7) | ((insn->rex & 1) << 3);
	}
	if (a & A_GRP) {
		u8 reg = (insn->modrm >> 3) & 7;
		const struct op *g = &groups[e.grp][reg];
		u32 ga = g->a;

		switch (e.grp) {
		case G3B:
		case G3V:
			if (reg < 2)
				imm_kind = e.grp == G3B ? I_B : I_Z;
			break;
		case G11B:
		case G11V:
			if (insn->modrm == 0xf8) {
				/* xabort imm8 / xbegin rel */
				ga = 0;
				e.cf = e.grp == G11B ? X86_CF_OTHER : X86_CF_JCC;
				if (e.grp == G11V) {
					imm_kind = I_JZ;
					if (is64)
						insn->opsize = (insn->flags & X86_P_OPSIZE) ?
							       2 : 4;
				}
			}
			break;
		case G7:
			if (insn->mod == 3) {
				e.cf = 0;
				ga = grp7_reg(insn->modrm, insn->last_prefix, mode, &e.cf);
				a |= A_MODREG;
			} else if (reg == 5 && insn->last_prefix != MP_F3) {
				ga = A_INV;
			} else if (reg == 5) {
				ga = RW | A_NOREAL;	/* rstorssp: any CPL */
			}
			break;
		case G9:
			if (insn->mod == 3) {
				/* rdrand, rdseed, rdpid (F3 /7) */
				if (reg == 6 || reg == 7)
					ga = 0;
				else
					ga = A_INV;
			} else if (reg == 6 || reg == 7) {
				ga |= A_PRIV;
			} else if (reg == 1 && (insn->rex & 8)) {
				insn->opsize = 16;	/* cmpxchg16b */
			}
			break;
		case G15:	/* validity: see grp15_pfx() */
			if (insn->mod == 3)
				ga = 0;
			else if (insn->last_prefix == MP_66)
				ga = A_R;			/* clwb, clflushopt */
			else if (insn->last_prefix == MP_F3)
				ga = reg == 4 ? A_R : RW | A_PRIV;	/* ptwrite, clrssbsy */
			break;
		case GX87:
			if (!x87_valid(insn->opcode, insn->modrm))
				ga = A_INV;
			else if (insn->mod != 3)
				ga = (reg >= 2 && insn->opcode != 0xd8 && insn->opcode != 0xda &&
				      insn->opcode != 0xdc && insn->opcode != 0xde &&
				      reg != 4 && reg != 6) ? A_W : A_R;
			break;
		case GPFX:
			if (insn->opcode == 0xb8) {		/* popcnt */
				ga = insn->last_prefix == MP_F3 ? A_R : A_INV;
			} else if (insn->last_prefix == MP_66 || insn->last_prefix == MP_F2) {
				/* extrq / insertq */
				ga = A_SIMD;
				if (insn->opcode == 0x78) {
					imm_kind = I_BB;
					if (insn->last_prefix == MP_66 && reg != 0)
						ga = A_INV;
				}
				if (insn->mod != 3)
					ga = A_INV;
			} else if (insn->last_prefix == MP_F3) {
				ga = A_INV;
			} else {
				/* vmread (stores), vmwrite (loads) */
				ga = (insn->opcode == 0x78 ? A_W : A_R) | A_PRIV | A_F64;
				if (is64)
					insn->opsize = 8;
				else
					insn->opsize = 4;
			}
			break;
		}
		a |= ga;
		if (g->cf || e.grp == G7 || e.grp == G11V || e.grp == G11B)
			e.cf = e.cf ? e.cf : g->cf;
		if (amd && (ga & A_F64))
			ga = (ga & ~A_F64) | A_D64;
		if ((ga & A_F64) && is64)
			insn->opsize = 8;
		else if ((ga & A_D64) && is64 && !(insn->rex & 8))
			insn->opsize = (insn->flags & X86_P_OPSIZE) ? 2 : 8;
	}
	insn->cf = e.cf;

	/* Mandatory SIMD prefixes select the instruction, or make it #UD. */
	if (!(insn->flags & (X86_P_VEX | X86_P_EVEX | X86_P_XOP))) {
		u8 ok = 0;

		if (insn->map == X86_MAP_0F)
			ok = pfx_0f[insn->opcode];
		else if (insn->map == X86_MAP_0F38)
			ok = pfx_0f38[insn->opcode] ? pfx_0f38[insn->opcode] : 0xff;
		else if (insn->map == X86_MAP_0F3A)
			ok = pfx_0f3a[insn->opcode] ? pfx_0f3a[insn->opcode] : 0xff;
		if (ok == 0xff)
			a |= A_INV;
		else if (ok && !(ok & insn->last_prefix))
			a |= A_INV;
	}

	if (insn->flags & (X86_P_VEX | X86_P_EVEX | X86_P_XOP))
		a |= vex_group(insn);
	else
		a |= fixup(insn, a);
	if (!decode_modrm(&s, insn, a))
		goto out;
	/* VEX gathers: destination, index and mask must be distinct */
	if ((insn->flags & X86_P_VEX) && insn->map == 2 && (insn->opcode & 0xfc) == 0x90 &&
	    insn->mod != 3 && (insn->modrm & 7) == 4 && insn->adsize != 2) {
		u8 idx = ((insn->sib >> 3) & 7) | ((insn->rex & 2) << 2);

		if (insn->reg == idx || insn->reg == insn->vex_vvvv || idx == insn->vex_vvvv)
			a |= A_INV;
	}
	if ((insn->flags & X86_P_EVEX) && !(a & A_INV) &&
	    ((insn->map == X86_MAP_0F38 && (insn->opcode & 0xfc) == 0x90) ||
	     (insn->map == X86_MAP_EVEX6 && (insn->opcode & 0x7e) == 0x56)) &&
	    evex_overlap(insn, buf))
		a |= A_INV;

	/* Immediates. */
	switch (imm_kind) {
	case I_B: case I_JB:
		insn->imm1_size = 1;
		break;
	case I_W:
		insn->imm1_size = 2;
		break;
	case I_D:
		insn->imm1_size = 4;
		break;
	case I_Z: case I_JZ:
		insn->imm1_size = insn->opsize == 2 ? 2 : 4;
		break;
	case I_V:
		insn->imm1_size = insn->opsize;
		break;
	case I_WB:
		insn->imm1_size = 2;
		insn->imm_size = 1;
		break;
	case I_BB:
		insn->imm1_size = 1;
		insn->imm_size = 1;
		break;
	case I_AP:
		insn->imm1_size = insn->opsize == 2 ? 2 : 4;
		insn->imm_size = 2;
		break;
	case I_MOFFS:
		/* the moffs is the operand's address: keep it as a displacement */
		insn->flags |= X86_F_MEM;
		insn->base = X86_REG_NONE;	/* the address is the offset alone */
		insn->index = X86_REG_NONE;
		insn->disp_offset = s.pos;
		insn->disp_size = insn->adsize;
		if (!fetch_n(&s, insn->adsize, &v))
			goto out;
		insn->disp = (s64)v;
		break;
	}
	if (insn->imm1_size) {
		insn->imm_offset = s.pos;
		if (!fetch_n(&s, insn->imm1_size, &v))
			goto out;
		insn->imm = sext(v, insn->imm1_size);
		if (imm_kind == I_V || imm_kind == I_AP)
			insn->imm = (s64)v;	/* an address, not a signed value */
		if (insn->imm_size) {
			if (!fetch_n(&s, insn->imm_size, &insn->imm2))
				goto out;
		}
		insn->imm_size += insn->imm1_size;
	}
	if (imm_kind == I_JB || imm_kind == I_JZ)
		insn->flags |= X86_F_REL;

	/* 3DNow!: the opcode is the byte after the operands. */
	if (insn->map == X86_MAP_0F && insn->opcode == 0x0f &&
	    !(insn->flags & (X86_P_VEX | X86_P_EVEX | X86_P_XOP))) {
		u8 op3 = (u8)insn->imm;

		if (!(amd3dnow_ok[op3 >> 3] & BIT(op3 & 7)))
			a |= A_INV;
	}

	insn->len = s.pos;

	/* Validity. */
	if (a & A_INV)
		goto ud;
	if (is64 && (a & A_I64))
		goto ud;
	if (!is64 && (a & A_O64))
		goto ud;
	if (mode == X86_MODE_REAL && (a & A_NOREAL))
		goto ud;
	if ((a & A_MEMONLY) && insn->mod == 3 && (a & A_M))
		goto ud;
	if ((a & A_REGONLY) && insn->mod != 3)
		goto ud;
	if ((insn->flags & X86_P_LOCK) &&
	    (!(a & A_LK) || !(insn->flags & X86_F_MEM)))
		goto ud;

	/* Effective segment: FS/GS overrides only, in 64-bit mode. */
	if (insn->seg_override != X86_SEG_NONE &&
	    (!is64 || insn->seg_override >= X86_SEG_FS))
		insn->seg = insn->seg_override;
	if (a & A_B)
		insn->opsize = 1;
	else if ((a & A_IOPL) && insn->opsize == 8)
		insn->opsize = 4;	/* in, out, ins, outs: at most 32 bits */
	if (insn->flags & X86_F_MEM)
		insn->mem = ((a & A_R) ? X86_MEM_R : 0) | ((a & A_W) ? X86_MEM_W : 0);

	if (a & A_PRIV)
		insn->flags |= X86_F_PRIV;
	if (a & A_IOPL)
		insn->flags |= X86_F_IOPL;
	if (a & A_SENS)
		insn->flags |= X86_F_SENSITIVE;
	if (a & A_STK)
		insn->flags |= X86_F_STACK;
	if (a & A_STR)
		insn->flags |= X86_F_STRING;
	if (a & A_SEGL)
		insn->flags |= X86_F_SEGLOAD;
	if (a & A_SIMD)
		insn->flags |= X86_F_SIMD;
	if (a & A_B)
		insn->flags |= X86_F_BYTEOP;
	if (a & A_NOP)
		insn->flags |= X86_F_NOP;
	if (a & A_UD)
		insn->flags |= X86_F_UD;
	if (a & A_SER)
		insn->flags |= X86_F_SERIALIZE;
	/* A far transfer or an int/iret loads CS: sensitive everywhere. */
	if (insn->cf >= X86_CF_JMP_FAR && insn->cf <= X86_CF_SYSRET)
		insn->flags |= X86_F_SENSITIVE;
	return X86_DECODE_OK;

ud:
	return X86_DECODE_UD;
out:
	insn->len = s.pos;
	return s.err;
}
DEC_EXPORT_FOR_TESTS(x86_decode_ex);

u64 x86_insn_branch_target(const struct x86_insn *insn, u64 rip)
{
	u64 t = rip + insn->len + (u64)insn->imm;

	switch (insn->opsize) {
	case 2:
		return t & 0xffff;
	case 4:
		return t & 0xffffffff;
	}
	return t;
}

