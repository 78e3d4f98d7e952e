// SPDX-License-Identifier: GPL-2.0
/*
 * The binary translator.
 *
 * A CCF runs at CPL3 with the guest's general registers and arithmetic
 * flags in the real ones, so most guest instructions are copied as they are
 * (IDENT).  What is not copied:
 *
 *  - RIP-relative operands: the displacement is re-targeted, or, when the
 *    guest's target is out of the cache's reach, the operand goes through
 *    a borrowed register loaded with the absolute address;
 *  - direct jmp, jcc, loop and call: continuations, exits that the
 *    monitor later patches into direct jumps to the target's CCF; call
 *    pushes the guest's return address;
 *  - indirect jmp, call and ret: the shared inline lookup in the table of
 *    guest RIP -> CCF;
 *  - cli, sti, pushf, popf: done in the cache against the virtual flags
 *    in the per-vCPU area;
 *  - every other privileged or sensitive instruction: a callout, an exit
 *    for the monitor to interpret it; undecodable bytes: a #UD exit.
 *
 * Nothing emitted between copied instructions changes the guest's flags
 * (mov, lea, jrcxz, jmp; lahf/sahf around the flag work of pushf), and a
 * register borrowed as scratch is saved in the area first and the CCF's
 * map says so, so that a fault anywhere maps to the guest instruction with
 * the guest's registers.
 */
#include "translate.h"
#include "emit.h"
#include "emulate/decode.h"

#define AREA(tc, field)	bt_tc_area_field(tc, offsetof(struct bt_vcpu_area, field))
#define SAVE(tc, reg)	bt_tc_area_field(tc, offsetof(struct bt_vcpu_area, save) + 8 * (reg))

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI };
#define SAVED_ACD	(BIT(RAX) | BIT(RCX) | BIT(RDX))

#define NO_FIELD	0xffffffffu

/* Most map entries and exits one instruction takes. */
#define BT_INSN_MAX_MAP		6
#define BT_INSN_MAX_EXITS	2

/* A TU being translated; its exits and map are committed at the end. */
struct xlate {
	struct bt_tc *tc;
	struct bt_emit e;		/* the CCF: pos 0 is its start */
	u32 tc_off;
	u32 nr_exits;
	struct bt_exit_rec ex[BT_TU_MAX_EXITS];
	u32 nr_map;
	struct bt_map_ent map[BT_TU_MAX_MAP];
	bool full;
};

static void map_add(struct xlate *x, u64 rip, u16 saved, bool start)
{
	struct bt_map_ent *m;

	if (x->nr_map && x->map[x->nr_map - 1].tc_off == x->e.pos) {
		m = &x->map[x->nr_map - 1];	/* nothing emitted since */
	} else {
		if (x->nr_map == BT_TU_MAX_MAP) {
			x->full = true;
			return;
		}
		m = &x->map[x->nr_map++];
	}
	m->tc_off = (u16)x->e.pos;
	m->rip = rip;
	m->saved = saved;
	m->start = start;
}

static int new_exit(struct xlate *x, u8 reason, u64 rip)
{
	struct bt_exit_rec *r;

	if (x->nr_exits == BT_TU_MAX_EXITS) {
		x->full = true;
		return 0;
	}
	r = &x->ex[x->nr_exits];
	memset(r, 0, sizeof(*r));
	r->reason = reason;
	r->rip = rip;
	r->field = NO_FIELD;
	r->exit_off = NO_FIELD;
	return x->nr_exits++;
}

static u32 exit_id(const struct xlate *x, int i)
{
	return x->tc->nr_exits + i;
}

/* The exit code of exit @i: record it in the area, leave through the stub. */
static void emit_exit_block(struct xlate *x, int i)
{
	struct bt_tc *tc = x->tc;
	struct bt_exit_rec *r = &x->ex[i];

	r->exit_off = x->e.pos;
	map_add(x, r->rip, 0, true);
	bt_emit_movq_simm(&x->e, AREA(tc, exit_reason), r->reason);
	bt_emit_movl_imm(&x->e, AREA(tc, exit_rip), (u32)r->rip);
	bt_emit_movl_imm(&x->e, AREA(tc, exit_rip) + 4, (u32)(r->rip >> 32));
	bt_emit_movq_simm(&x->e, AREA(tc, exit_id), (s32)exit_id(x, i));
	bt_emit_jmp(&x->e, tc->cfg.exit_stub);
}

/* An exit here, ending the TU (callout, #UD). */
static void emit_exit_inline(struct xlate *x, u8 reason, u64 rip)
{
	emit_exit_block(x, new_exit(x, reason, rip));
}

/* jmp to an exit emitted after the body: a continuation or an irq window. */
static void emit_exit_jmp(struct xlate *x, u8 reason, u64 rip)
{
	int i = new_exit(x, reason, rip);

	x->ex[i].field = bt_emit_jmp(&x->e, 0);
}

static void emit_cont_jcc(struct xlate *x, u8 cc, u64 rip)
{
	int i = new_exit(x, BT_EXIT_TRANSLATE, rip);

	x->ex[i].field = bt_emit_jcc(&x->e, cc, 0);
}

/* Push the guest return address @ret without touching flags. */
static void emit_push_ret(struct xlate *x, u64 ret)
{
	static const u8 movl_hi[] = { 0xc7, 0x44, 0x24, 0x04 };	/* movl $i,4(%rsp) */

	bt_emit_u8(&x->e, 0x68);				/* push $i32 */
	bt_emit_u32(&x->e, (u32)ret);
	if ((u64)(s64)(s32)ret != ret) {
		bt_emit_bytes(&x->e, movl_hi, sizeof(movl_hi));
		bt_emit_u32(&x->e, (u32)(ret >> 32));
	}
}

/*
 * If virtual IF is set and an interrupt is pending, leave with the guest
 * at @next.  rcx is borrowed; jrcxz tests it without flags.
 */
static void emit_irq_check(struct xlate *x, u64 rip, u64 next)
{
	struct bt_tc *tc = x->tc;
	u32 j1, j2;

	bt_emit_store_gpr(&x->e, RCX, SAVE(tc, RCX));
	map_add(x, rip, BIT(RCX), false);
	bt_emit_load_gpr(&x->e, RCX, AREA(tc, vif));
	bt_emit_u8(&x->e, 0xe3);
	bt_emit_u8(&x->e, 0);
	j1 = x->e.pos;
	bt_emit_load_gpr(&x->e, RCX, AREA(tc, irq_pending));
	bt_emit_u8(&x->e, 0xe3);
	bt_emit_u8(&x->e, 0);
	j2 = x->e.pos;
	bt_emit_load_gpr(&x->e, RCX, SAVE(tc, RCX));
	emit_exit_jmp(x, BT_EXIT_IRQ_WINDOW, next);
	if (!x->e.overflow) {
		x->e.buf[j1 - 1] = (u8)(x->e.pos - j1);
		x->e.buf[j2 - 1] = (u8)(x->e.pos - j2);
	}
	bt_emit_load_gpr(&x->e, RCX, SAVE(tc, RCX));
	map_add(x, rip, 0, false);
}

static void emit_cli_sti(struct xlate *x, bool sti, u64 rip, u64 next)
{
	bt_emit_movq_simm(&x->e, AREA(x->tc, vif), sti ? BT_FL_IF : 0);
	if (sti)
		emit_irq_check(x, rip, next);
}

/*
 * pushf: the real flags image gets the virtual bits.  The flag work in
 * between is undone with lahf/seto and add/sahf, never with a second
 * push: below the guest's RSP there may be nothing mapped.
 */
static void emit_pushf(struct xlate *x, u64 rip)
{
	static const u8 lahf_seto[] = { 0x9f, 0x0f, 0x90, 0xc0 };
	static const u8 ld_rsp[] = { 0x48, 0x8b, 0x04, 0x24 };	/* mov (%rsp),%rax */
	static const u8 st_rsp[] = { 0x48, 0x89, 0x04, 0x24 };	/* mov %rax,(%rsp) */
	static const u8 or_rax[] = { 0x48, 0x0b };
	static const u8 add_sahf[] = { 0x04, 0x7f, 0x9e };	/* add $0x7f,%al; sahf */
	struct bt_tc *tc = x->tc;

	bt_emit_u8(&x->e, 0x9c);			/* pushfq: may fault */
	map_add(x, rip, 0, false);
	bt_emit_store_gpr(&x->e, RAX, SAVE(tc, RAX));
	bt_emit_bytes(&x->e, lahf_seto, sizeof(lahf_seto));
	bt_emit_store_gpr(&x->e, RAX, AREA(tc, tmp));
	bt_emit_bytes(&x->e, ld_rsp, sizeof(ld_rsp));
	bt_emit_u8(&x->e, 0x48);			/* and $HW,%rax */
	bt_emit_u8(&x->e, 0x25);
	bt_emit_u32(&x->e, BT_FL_HW);
	bt_emit_riprel(&x->e, or_rax, 2, RAX, AREA(tc, vflags), 0);
	bt_emit_riprel(&x->e, or_rax, 2, RAX, AREA(tc, vif), 0);
	bt_emit_bytes(&x->e, st_rsp, sizeof(st_rsp));
	bt_emit_load_gpr(&x->e, RAX, AREA(tc, tmp));
	bt_emit_bytes(&x->e, add_sahf, sizeof(add_sahf));
	bt_emit_load_gpr(&x->e, RAX, SAVE(tc, RAX));
}

static void emit_and_rax(struct xlate *x, u32 mask)
{
	bt_emit_u8(&x->e, 0x48);
	bt_emit_u8(&x->e, 0x25);
	bt_emit_u32(&x->e, mask);
}

/*
 * popf: IF and the other virtual bits go to the area, the rest through a
 * real popfq; the image on the guest's stack is put back as it was.
 */
static void emit_popf(struct xlate *x, u64 rip, u64 next)
{
	static const u8 ld_rsp[] = { 0x48, 0x8b, 0x04, 0x24 };	/* mov (%rsp),%rax */
	static const u8 st_rsp[] = { 0x48, 0x89, 0x04, 0x24 };	/* mov %rax,(%rsp) */
	static const u8 st_below[] = { 0x48, 0x89, 0x44, 0x24, 0xf8 };	/* mov %rax,-8(%rsp) */
	struct bt_tc *tc = x->tc;

	bt_emit_store_gpr(&x->e, RAX, SAVE(tc, RAX));
	map_add(x, rip, BIT(RAX), false);
	bt_emit_bytes(&x->e, ld_rsp, sizeof(ld_rsp));	/* may fault */
	map_add(x, rip, BIT(RAX), false);
	bt_emit_store_gpr(&x->e, RAX, AREA(tc, tmp));
	emit_and_rax(x, BT_FL_IF);
	bt_emit_store_gpr(&x->e, RAX, AREA(tc, vif));
	bt_emit_load_gpr(&x->e, RAX, AREA(tc, tmp));
	emit_and_rax(x, BT_FL_VIRT);
	bt_emit_store_gpr(&x->e, RAX, AREA(tc, vflags));
	bt_emit_load_gpr(&x->e, RAX, AREA(tc, tmp));
	emit_and_rax(x, BT_FL_HW);
	bt_emit_bytes(&x->e, st_rsp, sizeof(st_rsp));
	bt_emit_u8(&x->e, 0x9d);			/* popfq */
	bt_emit_load_gpr(&x->e, RAX, AREA(tc, tmp));
	bt_emit_bytes(&x->e, st_below, sizeof(st_below));
	bt_emit_load_gpr(&x->e, RAX, SAVE(tc, RAX));
	emit_irq_check(x, rip, next);
}

/*
 * Load an indirect branch's target (the r/m operand of ff /2 or ff /4)
 * into %rax, which is saved already.  The guest's other registers are
 * untouched, so the operand's base and index still hold guest values.
 */
static void emit_load_target(struct xlate *x, const struct x86_insn *in,
			     const u8 *b, u64 next)
{
	if (in->mod == 3) {
		bt_emit_u8(&x->e, 0x48 | (in->rm >> 3));
		bt_emit_u8(&x->e, 0x8b);
		bt_emit_u8(&x->e, 0xc0 | (in->rm & 7));
		return;
	}
	if (in->seg_override == X86_SEG_FS || in->seg_override == X86_SEG_GS)
		bt_emit_u8(&x->e, in->seg_override == X86_SEG_FS ? 0x64 : 0x65);
	if (in->flags & X86_F_RIPREL) {
		u64 target = next + in->disp;

		if (in->flags & X86_P_ADSIZE)
			target &= 0xffffffff;
		bt_emit_u8(&x->e, 0x48);		/* mov moffs64,%rax */
		bt_emit_u8(&x->e, 0xa1);
		bt_emit_u64(&x->e, target);
		return;
	}
	if (in->flags & X86_P_ADSIZE)
		bt_emit_u8(&x->e, 0x67);
	bt_emit_u8(&x->e, 0x48 | (in->rex & 3));	/* REX.W, X and B */
	bt_emit_u8(&x->e, 0x8b);
	bt_emit_u8(&x->e, in->modrm & 0xc7);		/* reg = rax */
	/* SIB and displacement as the guest had them */
	bt_emit_bytes(&x->e, b + in->opcode_offset + 2, in->len - in->opcode_offset - 2);
}

static void emit_indirect(struct xlate *x, const struct x86_insn *in,
			  const u8 *b, u64 rip)
{
	static const u8 lea_rsp[] = { 0x48, 0x8d, 0xa4, 0x24 };	/* lea i32(%rsp),%rsp */
	struct bt_tc *tc = x->tc;
	u64 next = rip + in->len;
	int i = new_exit(x, BT_EXIT_IND_MISS, rip);
	u32 from;

	if (in->cf == X86_CF_RET)
		x->ex[i].rsp_undo = -(8 + (in->opcode == 0xc2 ? (u16)in->imm : 0));
	else if (in->cf == X86_CF_CALL_IND)
		x->ex[i].rsp_undo = 8;
	bt_emit_movq_simm(&x->e, AREA(tc, exit_id), (s32)exit_id(x, i));
	bt_emit_store_gpr(&x->e, RAX, SAVE(tc, RAX));
	bt_emit_store_gpr(&x->e, RCX, SAVE(tc, RCX));
	bt_emit_store_gpr(&x->e, RDX, SAVE(tc, RDX));
	map_add(x, rip, SAVED_ACD, false);
	if (in->cf == X86_CF_RET) {
		bt_emit_u8(&x->e, 0x58);		/* pop %rax: may fault */
		if (in->opcode == 0xc2) {
			bt_emit_bytes(&x->e, lea_rsp, sizeof(lea_rsp));
			bt_emit_u32(&x->e, (u16)in->imm);
		}
	} else {
		emit_load_target(x, in, b, next);	/* may fault */
		if (in->cf == X86_CF_CALL_IND)
			emit_push_ret(x, next);		/* may fault */
	}
	bt_emit_u8(&x->e, 0xe9);			/* to the shared lookup */
	from = x->e.pos + 4;
	bt_emit_u32(&x->e, (u32)(tc->lookup_off - (x->tc_off + from)));
}

/*
 * A RIP-relative operand out of reach of the cache: the instruction is
 * re-encoded with [rsi] or [rdi] (whichever it does not name; [rbx] for VEX
 * forms naming both) holding the guest's target.  None needs a REX.B, so
 * REX-less byte registers (ah..bh) keep their meaning, and no ModRM form
 * uses rsi or rdi implicitly.
 */
static void emit_riprel_far(struct xlate *x, const struct x86_insn *in,
			    const u8 *b, u64 rip, u64 target)
{
	struct bt_tc *tc = x->tc;
	unsigned int modrm_off = in->disp_offset - 1, i;
	static const u8 cand[] = { RSI, RDI, RBX };
	bool vex = in->flags & (X86_P_VEX | X86_P_EVEX | X86_P_XOP);
	u8 out[X86_MAX_INSN_LEN];
	u8 r = RSI;

	/*
	 * rbx only when rsi and rdi are both named, which only VEX forms with
	 * a vvvv register do; none of those reads rbx implicitly.
	 */
	for (i = 0; i < ARRAY_SIZE(cand); i++) {
		r = cand[i];
		if ((in->reg & 7) != r && !(vex && in->vex_vvvv == r))
			break;
	}
	memcpy(out, b, modrm_off);
	if (in->flags & (X86_P_EVEX | X86_P_XOP) ||
	    ((in->flags & X86_P_VEX) && b[in->nr_prefixes] == 0xc4)) {
		out[in->nr_prefixes + 1] |= 0x20;	/* inverted B: B = 0 */
	} else if ((in->flags & X86_P_REX) && (b[in->nr_prefixes - 1] & 0xf0) == 0x40) {
		out[in->nr_prefixes - 1] &= ~1;		/* REX.B = 0 */
	}
	out[modrm_off] = (in->modrm & 0x38) | r;	/* mod 00: [r] */
	i = modrm_off + 1;
	memcpy(out + i, b + in->disp_offset + 4, in->len - in->disp_offset - 4);
	i += in->len - in->disp_offset - 4;

	bt_emit_store_gpr(&x->e, r, SAVE(tc, r));
	map_add(x, rip, BIT(r), false);
	bt_emit_movabs(&x->e, r, target);
	bt_emit_bytes(&x->e, out, i);			/* may fault */
	bt_emit_load_gpr(&x->e, r, SAVE(tc, r));
	map_add(x, rip, 0, false);
}

static void emit_riprel(struct xlate *x, const struct x86_insn *in,
			const u8 *b, u64 rip)
{
	u64 target = rip + in->len + in->disp;
	u64 here = bt_emit_here(&x->e);
	u8 out[X86_MAX_INSN_LEN];
	u32 d;

	/* addr32: the address wraps at 4 GiB, which only [esi] keeps */
	if (in->flags & X86_P_ADSIZE)
		target &= 0xffffffff;
	if ((in->flags & X86_P_ADSIZE) || !bt_rel32_ok(here + in->len, target)) {
		emit_riprel_far(x, in, b, rip, target);
		return;
	}
	memcpy(out, b, in->len);
	d = (u32)(target - (here + in->len));
	memcpy(out + in->disp_offset, &d, 4);
	bt_emit_bytes(&x->e, out, in->len);
}

/* Near jmp/jcc/call/loop: the guest's, with 64-bit operand size only. */
static bool plain_branch(const struct x86_insn *in)
{
	return in->opsize == 8 && !(in->flags & X86_P_ADSIZE && in->cf != X86_CF_LOOP);
}

static bool is_jcc(const struct x86_insn *in)
{
	return (in->map == X86_MAP_ONE && (in->opcode & 0xf0) == 0x70) ||
	       (in->map == X86_MAP_0F && (in->opcode & 0xf0) == 0x80);
}

/* loop/jrcxz: the guest's instruction jumps to a local continuation. */
static void emit_loop(struct xlate *x, const struct x86_insn *in, const u8 *b,
		      u64 target, u64 next)
{
	u32 rel8;

	bt_emit_bytes(&x->e, b, in->len - 1);
	bt_emit_u8(&x->e, 0);
	rel8 = x->e.pos;
	emit_exit_jmp(x, BT_EXIT_TRANSLATE, next);
	if (!x->e.overflow)
		x->e.buf[rel8 - 1] = (u8)(x->e.pos - rel8);
	emit_exit_jmp(x, BT_EXIT_TRANSLATE, target);
}

/*
 * A read of DS, ES, FS or GS (mov from a segment register, push fs/gs).
 * Unprivileged on the CPU, but translated code runs with null data
 * selectors and the guest's bases: the guest's own selectors live in the
 * monitor's state, so reading them is a callout like reading CS or SS.
 */
static bool reads_data_sel(const struct x86_insn *in)
{
	if (in->map == X86_MAP_ONE)
		return in->opcode == 0x8c;
	return in->map == X86_MAP_0F && (in->opcode == 0xa0 || in->opcode == 0xa8);
}

/**
 * xlate_insn() - translate one decoded instruction
 * @x: the TU being built
 * @in: the instruction
 * @b: its bytes
 * @rip: its guest address
 *
 * Return: true when the instruction ends the TU.
 */
static bool xlate_insn(struct xlate *x, const struct x86_insn *in, const u8 *b, u64 rip)
{
	u64 next = rip + in->len;
	bool plain = !(in->flags & (X86_P_OPSIZE | X86_P_REP | X86_P_REPNE | X86_P_LOCK));

	switch (in->cf) {
	case X86_CF_NONE:
		break;
	case X86_CF_JMP:
		if (!plain_branch(in))
			goto callout;
		emit_exit_jmp(x, BT_EXIT_TRANSLATE, x86_insn_branch_target(in, rip));
		return true;
	case X86_CF_JCC:
		if (!is_jcc(in) || !plain_branch(in))
			goto callout;		/* xbegin, 16-bit branches */
		emit_cont_jcc(x, x86_insn_cc(in), x86_insn_branch_target(in, rip));
		emit_exit_jmp(x, BT_EXIT_TRANSLATE, next);
		return true;
	case X86_CF_LOOP:
		if (!plain_branch(in))
			goto callout;
		emit_loop(x, in, b, x86_insn_branch_target(in, rip), next);
		return true;
	case X86_CF_CALL:
		if (!plain_branch(in))
			goto callout;
		emit_push_ret(x, next);		/* may fault */
		emit_exit_jmp(x, BT_EXIT_TRANSLATE, x86_insn_branch_target(in, rip));
		return true;
	case X86_CF_RET:
	case X86_CF_JMP_IND:
	case X86_CF_CALL_IND:
		if (in->opsize != 8 || (in->flags & X86_P_LOCK))
			goto callout;
		emit_indirect(x, in, b, rip);
		return true;
	default:
		goto callout;		/* far transfers, iret, int, syscall, ... */
	}

	if (in->map == X86_MAP_ONE && plain && !(in->flags & X86_P_VEX)) {
		switch (in->opcode) {
		case 0xfa:
		case 0xfb:
			emit_cli_sti(x, in->opcode == 0xfb, rip, next);
			return false;
		case 0x9c:
			emit_pushf(x, rip);
			return false;
		case 0x9d:
			emit_popf(x, rip, next);
			return false;
		}
	}
	if (in->flags & (X86_F_PRIV | X86_F_IOPL | X86_F_SENSITIVE | X86_F_SEGLOAD))
		goto callout;
	if (reads_data_sel(in))
		goto callout;
	if (x->tc->cfg.callout_at && x->tc->cfg.callout_at(x->tc->cfg.opaque, rip))
		goto callout;
	if (in->flags & X86_F_RIPREL)
		emit_riprel(x, in, b, rip);
	else
		bt_emit_bytes(&x->e, b, in->len);	/* IDENT */
	return false;

callout:
	emit_exit_inline(x, BT_EXIT_CALLOUT, rip);
	return true;
}

/* Emit the body of the TU at @rip; returns the guest bytes it covers. */
static u32 xlate_body(struct xlate *x, u64 rip, u8 *ninsns)
{
	struct bt_tc *tc = x->tc;
	u64 start = rip;
	bool ended = false;
	unsigned int n;

	for (n = 0; n < BT_TU_MAX_INSNS && !ended; n++) {
		u8 b[X86_MAX_INSN_LEN];
		struct x86_insn in;
		unsigned int got;
		enum x86_decode_status st;

		/*
		 * Room for the worst instruction (popf) and for the map
		 * entries of the exits, or the TU ends here.
		 */
		if (x->nr_map + BT_INSN_MAX_MAP > BT_TU_MAX_MAP - BT_TU_MAX_EXITS ||
		    x->nr_exits + BT_INSN_MAX_EXITS >= BT_TU_MAX_EXITS)
			break;
		got = tc->cfg.fetch(tc->cfg.opaque, rip, b, sizeof(b));
		st = got ? x86_decode_ex(&in, b, got, X86_MODE_LONG64,
					 tc->cfg.amd ? X86_DECODE_AMD : 0) : X86_DECODE_TRUNC;
		map_add(x, rip, 0, true);
		ended = true;
		if (st == X86_DECODE_TRUNC) {
			/* The next page cannot be read: let the monitor fault. */
			if (!n)
				emit_exit_inline(x, BT_EXIT_CALLOUT, rip);
			else
				emit_exit_jmp(x, BT_EXIT_TRANSLATE, rip);
		} else if (st == X86_DECODE_UD ||
			   (st == X86_DECODE_OK && (in.flags & X86_F_UD))) {
			emit_exit_inline(x, BT_EXIT_UD, rip);
			rip += in.len ? in.len : 1;
		} else if (st != X86_DECODE_OK) {	/* too long: #GP */
			emit_exit_inline(x, BT_EXIT_CALLOUT, rip);
			rip += in.len;
		} else {
			*ninsns = n + 1;
			ended = xlate_insn(x, &in, b, rip);
			rip += in.len;
		}
	}
	if (!ended)
		emit_exit_jmp(x, BT_EXIT_TRANSLATE, rip);
	return (u32)(rip - start);
}

/* Put the exit code of jumped-to exits after the body and aim the jumps. */
static void xlate_exits(struct xlate *x)
{
	u32 i, nr = x->nr_exits;

	for (i = 0; i < nr; i++) {
		struct bt_exit_rec *r = &x->ex[i];
		u64 field_exec;

		if (r->field == NO_FIELD)
			continue;
		emit_exit_block(x, i);
		if (x->e.overflow)
			return;
		field_exec = x->e.exec + r->field;
		bt_emit_patch_rel32(x->e.buf + r->field, field_exec, x->e.exec + r->exit_off);
	}
}

static bool xlate_fits(const struct bt_tc *tc)
{
	return tc->nr_tus < tc->cfg.max_tus &&
	       tc->nr_exits + BT_TU_MAX_EXITS <= tc->max_exits &&
	       tc->nr_map + BT_TU_MAX_MAP <= tc->max_map &&
	       tc->used < tc->cfg.tc_size;
}

static struct bt_tu *xlate_try(struct bt_tc *tc, struct xlate *x, u64 rip)
{
	struct bt_tu *tu;
	u32 glen, i, idx;
	u8 ninsns = 0;

	if (!xlate_fits(tc))
		return NULL;
	memset(x, 0, sizeof(*x));
	x->tc = tc;
	x->tc_off = tc->used;
	x->e.buf = tc->cfg.tc_buf + tc->used;
	x->e.exec = tc->cfg.tc_exec + tc->used;
	x->e.cap = tc->cfg.tc_size - tc->used;
	glen = xlate_body(x, rip, &ninsns);
	xlate_exits(x);
	if (x->e.overflow || x->full)
		return NULL;

	idx = tc->nr_tus++;
	tu = &tc->tus[idx];
	memset(tu, 0, sizeof(*tu));
	tu->rip = rip;
	tu->glen = glen;
	tu->tc_off = x->tc_off;
	tu->tc_len = x->e.pos;
	tu->ninsns = ninsns;
	tu->map_first = tc->nr_map;
	tu->nr_map = x->nr_map;
	memcpy(&tc->map[tc->nr_map], x->map, sizeof(x->map[0]) * x->nr_map);
	tc->nr_map += x->nr_map;
	tu->exit_first = tc->nr_exits;
	tu->nr_exits = x->nr_exits;
	for (i = 0; i < x->nr_exits; i++) {
		x->ex[i].tu = idx;
		if (x->ex[i].exit_off != NO_FIELD)
			x->ex[i].exit_off += x->tc_off;
		if (x->ex[i].field != NO_FIELD)
			x->ex[i].field += x->tc_off;
	}
	memcpy(&tc->exits[tc->nr_exits], x->ex, sizeof(x->ex[0]) * x->nr_exits);
	tc->nr_exits += x->nr_exits;
	tu->valid = true;
	tc->used = (tc->used + x->e.pos + 15) & ~15u;
	tc->stats.tus++;
	tc->stats.ccf_bytes += x->e.pos;
	bt_tc_hash_add(tc, idx);
	bt_tc_ht_insert(tc, tu);
	return tu;
}

/**
 * bt_translate() - translate the TU at a guest RIP
 * @tc: the cache
 * @rip: guest linear address of the TU's first instruction
 *
 * The CCF is entered in the lookup and in the indirect table.  A full
 * cache is flushed first, so chains and TUs the caller held are gone when
 * stats.flushes changed.
 *
 * Return: the TU, or NULL when even an empty cache cannot hold it.
 */
struct bt_tu *bt_translate(struct bt_tc *tc, u64 rip)
{
	struct xlate *x = hyvm_env_alloc(sizeof(*x));
	struct bt_tu *tu;

	if (!x)
		return NULL;
	tu = xlate_try(tc, x, rip);
	if (!tu) {
		bt_tc_flush(tc);
		tu = xlate_try(tc, x, rip);
	}
	hyvm_env_free(x);
	return tu;
}

/* The TU at @rip, translated now if there is none. */
struct bt_tu *bt_tc_get(struct bt_tc *tc, u64 rip)
{
	struct bt_tu *tu = bt_tc_lookup(tc, rip);

	return tu ? tu : bt_translate(tc, rip);
}
