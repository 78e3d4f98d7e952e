// SPDX-License-Identifier: GPL-2.0
/*
 * The translator's x86-64 encoder.  Every form here leaves the arithmetic
 * flags alone (mov, lea, jmp, jcc): CCFs run with the guest's flags in the
 * real RFLAGS, so the glue between copied instructions must not touch them.
 */
#include "emit.h"

void bt_emit_bytes(struct bt_emit *e, const void *p, unsigned int n)
{
	if (e->overflow || n > e->cap - e->pos) {
		e->overflow = true;
		return;
	}
	memcpy(e->buf + e->pos, p, n);
	e->pos += n;
}

void bt_emit_u8(struct bt_emit *e, u8 v)
{
	bt_emit_bytes(e, &v, 1);
}

void bt_emit_u32(struct bt_emit *e, u32 v)
{
	u8 b[4] = { v, v >> 8, v >> 16, v >> 24 };

	bt_emit_bytes(e, b, 4);
}

void bt_emit_u64(struct bt_emit *e, u64 v)
{
	bt_emit_u32(e, (u32)v);
	bt_emit_u32(e, (u32)(v >> 32));
}

void bt_emit_nops(struct bt_emit *e, unsigned int n)
{
	while (n--)
		bt_emit_u8(e, 0x90);
}

/*
 * Pad so that the 4-byte field that follows @before more bytes is aligned:
 * a naturally aligned rel32 can be re-targeted with one 32-bit store while
 * another vCPU may be executing the jump.
 */
void bt_emit_align_field(struct bt_emit *e, unsigned int before)
{
	bt_emit_nops(e, (4 - ((e->exec + e->pos + before) & 3)) & 3);
}

/**
 * bt_emit_riprel() - emit an instruction with a RIP-relative memory operand
 * @e: output
 * @op: prefixes, REX and opcode bytes, up to the ModRM byte
 * @n: length of @op
 * @reg: the ModRM reg field (low three bits; REX.R belongs in @op)
 * @target: the address the operand designates
 * @imm_after: bytes of immediate the caller emits after the displacement
 *
 * The displacement counts from the end of the instruction, immediate
 * included.  @target must be within reach: the area, the lookup table and
 * the exit stub are placed within +-2 GiB of the cache.
 */
void bt_emit_riprel(struct bt_emit *e, const u8 *op, unsigned int n, u8 reg,
		    u64 target, unsigned int imm_after)
{
	u64 next;

	bt_emit_bytes(e, op, n);
	bt_emit_u8(e, (u8)(((reg & 7) << 3) | 5));
	next = bt_emit_here(e) + 4 + imm_after;
	WARN_ON_ONCE(!bt_rel32_ok(next, target));
	bt_emit_u32(e, (u32)(target - next));
}

static void rex_w_op(u8 *op, u8 reg, u8 opcode)
{
	op[0] = 0x48 | ((reg & 8) ? 4 : 0);
	op[1] = opcode;
}

/* mov %reg, addr(%rip) */
void bt_emit_store_gpr(struct bt_emit *e, u8 reg, u64 addr)
{
	u8 op[2];

	rex_w_op(op, reg, 0x89);
	bt_emit_riprel(e, op, 2, reg, addr, 0);
}

/* mov addr(%rip), %reg */
void bt_emit_load_gpr(struct bt_emit *e, u8 reg, u64 addr)
{
	u8 op[2];

	rex_w_op(op, reg, 0x8b);
	bt_emit_riprel(e, op, 2, reg, addr, 0);
}

/* movl $imm, addr(%rip) */
void bt_emit_movl_imm(struct bt_emit *e, u64 addr, u32 imm)
{
	static const u8 op[] = { 0xc7 };

	bt_emit_riprel(e, op, 1, 0, addr, 4);
	bt_emit_u32(e, imm);
}

/* movq $imm (sign-extended), addr(%rip) */
void bt_emit_movq_simm(struct bt_emit *e, u64 addr, s32 imm)
{
	static const u8 op[] = { 0x48, 0xc7 };

	bt_emit_riprel(e, op, 2, 0, addr, 4);
	bt_emit_u32(e, (u32)imm);
}

/* movabs $imm, %reg */
void bt_emit_movabs(struct bt_emit *e, u8 reg, u64 imm)
{
	bt_emit_u8(e, 0x48 | ((reg & 8) ? 1 : 0));
	bt_emit_u8(e, 0xb8 + (reg & 7));
	bt_emit_u64(e, imm);
}

/* jmp rel32 with an aligned field; returns the field's offset in @e. */
u32 bt_emit_jmp(struct bt_emit *e, u64 target)
{
	u32 field;

	bt_emit_align_field(e, 1);
	bt_emit_u8(e, 0xe9);
	field = e->pos;
	bt_emit_u32(e, (u32)(target - (bt_emit_here(e) + 4)));
	return field;
}

/* jcc rel32 with an aligned field; returns the field's offset in @e. */
u32 bt_emit_jcc(struct bt_emit *e, u8 cc, u64 target)
{
	u32 field;

	bt_emit_align_field(e, 2);
	bt_emit_u8(e, 0x0f);
	bt_emit_u8(e, 0x80 | (cc & 0xf));
	field = e->pos;
	bt_emit_u32(e, (u32)(target - (bt_emit_here(e) + 4)));
	return field;
}

/* Re-target the rel32 at @field (which executes at @field_exec). */
void bt_emit_patch_rel32(u8 *field, u64 field_exec, u64 target)
{
	u32 v = (u32)(target - (field_exec + 4));

	/* Aligned by bt_emit_jmp()/bt_emit_jcc(): one store. */
	if (!(field_exec & 3)) {
		WRITE_ONCE(*(u32 *)field, v);
		return;
	}
	memcpy(field, &v, 4);
}
