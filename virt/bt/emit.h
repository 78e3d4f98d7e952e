/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small x86-64 encoder for the translator: the handful of instruction
 * forms CCFs are made of, addressed RIP-relative at their final (execution)
 * address while written through the monitor's own view of the cache.
 */
#ifndef HYVM_BT_EMIT_H
#define HYVM_BT_EMIT_H

#include "portable.h"

/**
 * struct bt_emit - an output buffer in the translation cache
 * @buf: where the monitor writes
 * @exec: the address @buf[0] has where CCFs run
 * @pos: bytes written
 * @cap: room in @buf
 * @overflow: set when a write did not fit; everything after is dropped
 */
struct bt_emit {
	u8 *buf;
	u64 exec;
	u32 pos, cap;
	bool overflow;
};

static inline u64 bt_emit_here(const struct bt_emit *e)
{
	return e->exec + e->pos;
}

/* Does a rel32 whose field ends at @next reach @target? */
static inline bool bt_rel32_ok(u64 next, u64 target)
{
	s64 d = (s64)(target - next);

	return d == (s64)(s32)d;
}

void bt_emit_bytes(struct bt_emit *e, const void *p, unsigned int n);
void bt_emit_u8(struct bt_emit *e, u8 v);
void bt_emit_u32(struct bt_emit *e, u32 v);
void bt_emit_u64(struct bt_emit *e, u64 v);
void bt_emit_nops(struct bt_emit *e, unsigned int n);
void bt_emit_align_field(struct bt_emit *e, unsigned int before);
void bt_emit_riprel(struct bt_emit *e, const u8 *op, unsigned int n, u8 reg,
		    u64 target, unsigned int imm_after);
void bt_emit_store_gpr(struct bt_emit *e, u8 reg, u64 addr);
void bt_emit_load_gpr(struct bt_emit *e, u8 reg, u64 addr);
void bt_emit_movl_imm(struct bt_emit *e, u64 addr, u32 imm);
void bt_emit_movq_simm(struct bt_emit *e, u64 addr, s32 imm);
void bt_emit_movabs(struct bt_emit *e, u8 reg, u64 imm);
u32 bt_emit_jmp(struct bt_emit *e, u64 target);
u32 bt_emit_jcc(struct bt_emit *e, u8 cc, u64 target);
void bt_emit_patch_rel32(u8 *field, u64 field_exec, u64 target);

#endif /* HYVM_BT_EMIT_H */
