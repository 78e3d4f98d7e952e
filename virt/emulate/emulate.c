// SPDX-License-Identifier: GPL-2.0
/*
 * hyvm x86 instruction emulator: executes one decoded instruction on a
 * working copy of the general registers, RIP, RFLAGS and segment state, and
 * commits the copy only when the instruction completes, so that a fault at
 * any point leaves the guest as it was (precise exceptions).  Memory writes
 * are issued last, after every read and check that can fault; an
 * instruction with two writes (push of a far return, say) checks both
 * addresses before the first write.
 */
#include "portable.h"
#include "emulate.h"

/* hyvm_kunit.ko tests these functions from outside hyvm.ko */
#if defined(__KERNEL__) && \
	(defined(CONFIG_HYVM_KUNIT_TEST) || defined(CONFIG_HYVM_KUNIT_TEST_MODULE))
#define EMU_EXPORT_FOR_TESTS(sym)	EXPORT_SYMBOL_NS_GPL(sym, HYVM_KUNIT)
#else
#define EMU_EXPORT_FOR_TESTS(sym)
#endif

/* Bound on rep iterations per call: the instruction then resumes. */
#define REP_BATCH	4096

struct ectx {
	struct x86_emu *emu;
	const struct x86_insn *in;
	u64 gpr[16];
	u64 rip;		/* of the next instruction */
	u64 rflags;
	struct x86_segment seg[6];
	u8 cpl;
	u8 shadow;
	enum x86_emu_result rc;	/* set by a failing helper */
};

/* ---------------------------------------------------------------------- */
/* Small helpers.                                                          */

static inline u64 szmask(unsigned int sz)
{
	return sz >= 8 ? ~0ULL : (1ULL << (8 * sz)) - 1;
}

static inline u64 msb(unsigned int sz)
{
	return 1ULL << (8 * sz - 1);
}

static inline s64 sx(u64 v, unsigned int sz)
{
	unsigned int sh = 64 - 8 * sz;

	return sz >= 8 ? (s64)v : (s64)(v << sh) >> sh;
}

static bool fail(struct ectx *c, u8 vector, bool has_error, u32 error)
{
	x86_emu_fault(c->emu, vector, has_error, error);
	c->rc = X86_EMU_EXCEPTION;
	return false;
}

static bool gp0(struct ectx *c)
{
	return fail(c, X86_EXC_GP, true, 0);
}

static bool ud(struct ectx *c)
{
	return fail(c, X86_EXC_UD, false, 0);
}

static bool unimpl(struct ectx *c)
{
	c->rc = X86_EMU_UNIMPLEMENTED;
	return false;
}

/* Map a callback result onto the context; true if it succeeded. */
static bool cb(struct ectx *c, int r)
{
	if (r == X86_EMU_CB_OK)
		return true;
	c->rc = r == X86_EMU_CB_EXIT ? X86_EMU_EXIT : X86_EMU_EXCEPTION;
	return false;
}

static bool is64(struct ectx *c)
{
	return c->emu->mode == X86_MODE_LONG64;
}

static bool realmode(struct ectx *c)
{
	return c->emu->mode == X86_MODE_REAL;
}

/* Register read/write by operand size; byte registers 4-7 are AH-BH without REX. */
static u64 reg_get(struct ectx *c, unsigned int r, unsigned int sz)
{
	if (sz == 1 && !c->in->rex && r >= 4 && r < 8)
		return (c->gpr[r - 4] >> 8) & 0xff;
	return c->gpr[r] & szmask(sz);
}

static void reg_set(struct ectx *c, unsigned int r, unsigned int sz, u64 v)
{
	switch (sz) {
	case 1:
		if (!c->in->rex && r >= 4 && r < 8)
			c->gpr[r - 4] = (c->gpr[r - 4] & ~0xff00ULL) | ((v & 0xff) << 8);
		else
			c->gpr[r] = (c->gpr[r] & ~0xffULL) | (v & 0xff);
		break;
	case 2:
		c->gpr[r] = (c->gpr[r] & ~0xffffULL) | (v & 0xffff);
		break;
	case 4:
		c->gpr[r] = v & 0xffffffffULL;	/* 32-bit writes zero-extend */
		break;
	default:
		c->gpr[r] = v;
	}
}

/* Address-size register (rSI, rDI, rCX for strings). */
static u64 areg(struct ectx *c, unsigned int r)
{
	return c->gpr[r] & szmask(c->in->adsize);
}

static void areg_set(struct ectx *c, unsigned int r, u64 v)
{
	reg_set(c, r, c->in->adsize, v);
}

/* ---------------------------------------------------------------------- */
/* Segmentation and memory.                                                */

static bool canonical(u64 la)
{
	return (u64)((s64)(la << 16) >> 16) == la;
}

/**
 * linear() - check an access and form its linear address
 * @c: context
 * @seg: segment register
 * @ea: effective address (already truncated to the address size)
 * @n: bytes accessed
 * @write: true for a write
 * @la: the linear address
 *
 * Applies the checks the CPU makes before paging: canonical form in 64-bit
 * mode, segment usability, type and limit elsewhere.  Faults are #SS(0) for
 * SS and #GP(0) otherwise.
 */
static bool linear(struct ectx *c, unsigned int seg, u64 ea, unsigned int n,
		   bool write, u64 *la)
{
	const struct x86_segment *s = &c->seg[seg];
	u8 vec = seg == X86_SEG_SS ? X86_EXC_SS : X86_EXC_GP;
	u64 last;

	if (is64(c)) {
		*la = ea + (seg >= X86_SEG_FS ? s->base : 0);
		if (!canonical(*la) || !canonical(*la + n - 1))
			return fail(c, vec, true, 0);
		return true;
	}
	if (!realmode(c) && !c->emu->vm86) {
		u16 type = s->attr & X86_SEG_ATTR_TYPE;

		if (s->attr & X86_SEG_ATTR_UNUSABLE)
			return fail(c, vec, true, 0);
		if (write && ((type & 8) || !(type & 2)))
			return fail(c, vec, true, 0);	/* code or read-only */
		if (!write && (type & 0xa) == 0x8)
			return fail(c, vec, true, 0);	/* execute-only code */
		if ((type & 0xc) == 0x4) {		/* expand-down data */
			u64 top = (s->attr & X86_SEG_ATTR_DB) ? 0xffffffffULL : 0xffff;

			if (ea <= s->limit || ea + n - 1 > top)
				return fail(c, vec, true, 0);
			*la = (s->base + ea) & 0xffffffffULL;
			return true;
		}
	}
	last = ea + n - 1;
	if (last > s->limit)
		return fail(c, vec, true, 0);
	*la = (s->base + ea) & 0xffffffffULL;
	return true;
}

static bool read_la(struct ectx *c, u64 la, void *buf, unsigned int n)
{
	return cb(c, c->emu->ops->read(c->emu, la, buf, n, false));
}

static bool write_la(struct ectx *c, u64 la, const void *buf, unsigned int n)
{
	return cb(c, c->emu->ops->write(c->emu, la, buf, n));
}

static bool mem_read(struct ectx *c, unsigned int seg, u64 ea, u64 *v, unsigned int n)
{
	u64 la;

	*v = 0;
	return linear(c, seg, ea, n, false, &la) && read_la(c, la, v, n);
}

static bool mem_write(struct ectx *c, unsigned int seg, u64 ea, u64 v, unsigned int n)
{
	u64 la;

	return linear(c, seg, ea, n, true, &la) && write_la(c, la, &v, n);
}

/* Check that a write would pass the segment checks, without writing. */
static bool mem_check_write(struct ectx *c, unsigned int seg, u64 ea, unsigned int n)
{
	u64 la;

	return linear(c, seg, ea, n, true, &la);
}

/* Effective address of the ModRM memory operand (or moffs). */
static u64 insn_ea(struct ectx *c)
{
	const struct x86_insn *in = c->in;
	u64 ea = (u64)in->disp;

	if (in->base == X86_REG_RIP)
		ea += c->rip;
	else if (in->base != X86_REG_NONE)
		ea += c->gpr[in->base];
	if (in->index != X86_REG_NONE)
		ea += c->gpr[in->index] * in->scale;
	return ea & szmask(in->adsize);
}

/* ---------------------------------------------------------------------- */
/* Operands.                                                               */

struct opnd {
	bool mem;
	u8 reg;
	u8 size;
	u64 ea;
	u64 val;
};

/* The ModRM r/m operand (or moffs), of @sz bytes; its value is read if @rd. */
static bool rm_get(struct ectx *c, struct opnd *o, unsigned int sz, bool rd)
{
	o->size = sz;
	o->mem = !!(c->in->flags & X86_F_MEM);
	if (!o->mem) {
		o->reg = c->in->rm;
		o->val = reg_get(c, o->reg, sz);
		return true;
	}
	o->ea = insn_ea(c);
	o->val = 0;
	return !rd || mem_read(c, c->in->seg, o->ea, &o->val, sz);
}

static bool opnd_put(struct ectx *c, struct opnd *o, u64 v)
{
	if (!o->mem) {
		reg_set(c, o->reg, o->size, v);
		return true;
	}
	return mem_write(c, c->in->seg, o->ea, v, o->size);
}

/*
 * Write back a read-modify-write memory result.  A locked instruction goes
 * through write_cmpxchg when the environment has it; if another vCPU
 * changed the location meanwhile, the instruction is retried from scratch.
 */
static bool opnd_put_rmw(struct ectx *c, struct opnd *o, u64 old, u64 v)
{
	const struct x86_emu_ops *ops = c->emu->ops;
	bool done = false;
	u64 la;

	if (!o->mem || !(c->in->flags & X86_P_LOCK) || !ops->write_cmpxchg)
		return opnd_put(c, o, v);
	if (!linear(c, c->in->seg, o->ea, o->size, true, &la))
		return false;
	if (!cb(c, ops->write_cmpxchg(c->emu, la, &old, &v, o->size, &done)))
		return false;
	if (!done) {
		c->rc = X86_EMU_EXIT;
		return false;
	}
	return true;
}

/* ---------------------------------------------------------------------- */
/* Flags.                                                                  */

static u64 flags_szp(u64 res, unsigned int sz)
{
	u64 f = 0;

	res &= szmask(sz);
	if (!res)
		f |= X86E_FL_ZF;
	if (res & msb(sz))
		f |= X86E_FL_SF;
	if (!(__builtin_popcount((u8)res) & 1))
		f |= X86E_FL_PF;
	return f;
}

static void set_arith(struct ectx *c, u64 f)
{
	c->rflags = (c->rflags & ~X86E_FL_ARITH) | f;
}

bool x86_cond(unsigned int cc, u64 fl)
{
	bool r;

	switch ((cc >> 1) & 7) {
	case 0:
		r = fl & X86E_FL_OF;
		break;
	case 1:
		r = fl & X86E_FL_CF;
		break;
	case 2:
		r = fl & X86E_FL_ZF;
		break;
	case 3:
		r = fl & (X86E_FL_CF | X86E_FL_ZF);
		break;
	case 4:
		r = fl & X86E_FL_SF;
		break;
	case 5:
		r = fl & X86E_FL_PF;
		break;
	case 6:
		r = !(fl & X86E_FL_SF) != !(fl & X86E_FL_OF);
		break;
	default:
		r = (fl & X86E_FL_ZF) || (!(fl & X86E_FL_SF) != !(fl & X86E_FL_OF));
	}
	return (cc & 1) ? !r : r;
}

enum { ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP };

/* The eight classic ALU operations, with every arithmetic flag exact. */
static u64 alu(struct ectx *c, unsigned int op, u64 a, u64 b, unsigned int sz)
{
	u64 m = szmask(sz), sb = msb(sz), r, f = 0;
	u64 cin = c->rflags & X86E_FL_CF ? 1 : 0;

	a &= m;
	b &= m;
	switch (op) {
	case ALU_ADD:
	case ALU_ADC:
		r = (a + b + (op == ALU_ADC ? cin : 0)) & m;
		if (((a & b) | ((a | b) & ~r)) & sb)
			f |= X86E_FL_CF;
		if ((a ^ r) & (b ^ r) & sb)
			f |= X86E_FL_OF;
		f |= (a ^ b ^ r) & X86E_FL_AF;
		break;
	case ALU_SUB:
	case ALU_SBB:
	case ALU_CMP:
		r = (a - b - (op == ALU_SBB ? cin : 0)) & m;
		if (((~a & b) | ((~a | b) & r)) & sb)
			f |= X86E_FL_CF;
		if ((a ^ b) & (a ^ r) & sb)
			f |= X86E_FL_OF;
		f |= (a ^ b ^ r) & X86E_FL_AF;
		break;
	case ALU_OR:
		r = a | b;
		break;
	case ALU_AND:
		r = a & b;
		break;
	default:
		r = a ^ b;
	}
	set_arith(c, f | flags_szp(r, sz));
	return r;
}

/* inc/dec keep CF. */
static u64 incdec(struct ectx *c, u64 a, unsigned int sz, bool dec)
{
	u64 cf = c->rflags & X86E_FL_CF;
	u64 r = alu(c, dec ? ALU_SUB : ALU_ADD, a, 1, sz);

	c->rflags = (c->rflags & ~X86E_FL_CF) | cf;
	return r;
}

/*
 * Shifts and rotates (group 2).  The count is masked to 5 bits (6 with a
 * 64-bit operand); a zero count changes no flag.  OF is defined for a count
 * of 1 only; hyvm computes it the same way for larger counts, as Intel
 * CPUs do.  AF is left as it was after rotates and cleared after shifts.
 */
static u64 shift(struct ectx *c, unsigned int op, u64 a, unsigned int cnt, unsigned int sz)
{
	unsigned int bits = 8 * sz;
	u64 m = szmask(sz), sb = msb(sz), r = a & m, f = c->rflags;
	u64 cf;
	unsigned int n;

	cnt &= sz == 8 ? 63 : 31;
	if (!cnt)
		return r;
	a &= m;
	switch (op) {
	case 0:	/* rol */
		n = cnt % bits;
		r = n ? ((a << n) | (a >> (bits - n))) & m : a;
		cf = r & 1;
		f = (f & ~(X86E_FL_CF | X86E_FL_OF)) | cf;
		if (!!(r & sb) != !!cf)
			f |= X86E_FL_OF;
		break;
	case 1:	/* ror */
		n = cnt % bits;
		r = n ? ((a >> n) | (a << (bits - n))) & m : a;
		cf = !!(r & sb);
		f = (f & ~(X86E_FL_CF | X86E_FL_OF)) | cf;
		if (!!(r & sb) != !!(r & (sb >> 1)))
			f |= X86E_FL_OF;
		break;
	case 2:	/* rcl */
	case 3:	/* rcr */
		n = sz <= 2 ? cnt % (bits + 1) : cnt;
		cf = !!(f & X86E_FL_CF);
		if (op == 3 && (!!(a & sb) != !!cf))
			f |= X86E_FL_OF;
		else if (op == 3)
			f &= ~X86E_FL_OF;
		r = a;
		while (n--) {
			u64 out;

			if (op == 2) {
				out = !!(r & sb);
				r = ((r << 1) | cf) & m;
			} else {
				out = r & 1;
				r = (r >> 1) | (cf ? sb : 0);
			}
			cf = out;
		}
		f = (f & ~X86E_FL_CF) | cf;
		if (op == 2) {
			f &= ~X86E_FL_OF;
			if (!!(r & sb) != !!cf)
				f |= X86E_FL_OF;
		}
		break;
	case 4:	/* shl */
	case 6:	/* sal */
		r = cnt < 64 ? (a << cnt) & m : 0;
		cf = cnt <= bits ? (a >> (bits - cnt)) & 1 : 0;
		f = (f & ~X86E_FL_ARITH) | cf | flags_szp(r, sz);
		if (!!(r & sb) != !!cf)
			f |= X86E_FL_OF;
		break;
	case 5:	/* shr */
		r = cnt < 64 ? a >> cnt : 0;
		cf = cnt <= 64 ? (a >> (cnt - 1)) & 1 : 0;
		f = (f & ~X86E_FL_ARITH) | cf | flags_szp(r, sz);
		if (a & sb)
			f |= X86E_FL_OF;
		break;
	default: { /* sar */
		s64 s = sx(a, sz);

		r = (u64)(s >> (cnt < 64 ? cnt : 63)) & m;
		cf = (u64)(s >> (cnt - 1 < 63 ? cnt - 1 : 63)) & 1;
		f = (f & ~X86E_FL_ARITH) | cf | flags_szp(r, sz);
		break;
	}
	}
	c->rflags = f;
	return r;
}

/* shld/shrd: count masked to 5 bits (6 for 64-bit); CF is the last bit out. */
static u64 shxd(struct ectx *c, bool right, u64 a, u64 b, unsigned int cnt, unsigned int sz)
{
	unsigned int bits = 8 * sz;
	u64 m = szmask(sz), sb = msb(sz), r, cf, f;

	cnt &= sz == 8 ? 63 : 31;
	a &= m;
	b &= m;
	if (!cnt)
		return a;
	if (sz == 2 && cnt > 16) {
		/*
		 * Undefined by the SDM; the CPU shifts the 48-bit value
		 * a:b:a (shld) or b:a:b... hyvm does not guess.
		 */
		unsigned int i;

		r = a;
		cf = 0;
		for (i = 0; i < cnt; i++) {
			u64 in = right ? (b >> (i % 16)) & 1 : (b >> (15 - (i % 16))) & 1;

			if (right) {
				cf = r & 1;
				r = (r >> 1) | (in << 15);
			} else {
				cf = (r >> 15) & 1;
				r = ((r << 1) | in) & 0xffff;
			}
		}
	} else if (right) {
		r = ((a >> cnt) | (cnt < 64 ? b << (bits - cnt) : 0)) & m;
		if (cnt == bits)
			r = b;
		cf = (a >> (cnt - 1)) & 1;
	} else {
		r = ((a << cnt) | (b >> (bits - cnt))) & m;
		if (cnt == bits)
			r = b;
		cf = cnt <= bits ? (a >> (bits - cnt)) & 1 : 0;
	}
	f = (c->rflags & ~X86E_FL_ARITH) | cf | flags_szp(r, sz);
	if ((r ^ a) & sb)
		f |= X86E_FL_OF;
	c->rflags = f;
	return r;
}

/* 128 by 64 unsigned division; false if the quotient does not fit. */
static bool udiv128(u64 hi, u64 lo, u64 d, u64 *q, u64 *r)
{
	u64 rem = hi, quo = lo;
	int i;

	if (hi >= d)
		return false;
	for (i = 0; i < 64; i++) {
		u64 top = rem >> 63;

		rem = (rem << 1) | (quo >> 63);
		quo <<= 1;
		if (top || rem >= d) {
			rem -= d;
			quo |= 1;
		}
	}
	*q = quo;
	*r = rem;
	return true;
}

/* mul, imul, div, idiv of group 3 (F6/F7 /4-/7). */
static bool muldiv(struct ectx *c, unsigned int op, u64 src, unsigned int sz)
{
	u64 m = szmask(sz), f = c->rflags & ~X86E_FL_ARITH;
	u64 a = sz == 1 ? c->gpr[X86_RAX] & 0xff : c->gpr[X86_RAX] & m;
	u64 d = sz == 1 ? (c->gpr[X86_RAX] >> 8) & 0xff : c->gpr[X86_RDX] & m;
	u64 lo, hi;

	src &= m;
	switch (op) {
	case 4:	/* mul */
	case 5: { /* imul */
		unsigned __int128 p;

		if (op == 4)
			p = (unsigned __int128)a * src;
		else
			p = (unsigned __int128)((__int128)sx(a, sz) * sx(src, sz));
		lo = (u64)p & m;
		hi = sz == 8 ? (u64)(p >> 64) : (u64)(p >> (8 * sz)) & m;
		/* CF = OF = the upper half is not just the extension of the lower */
		if (op == 4 ? hi != 0 : (__int128)sx(lo, sz) != (__int128)p)
			f |= X86E_FL_CF | X86E_FL_OF;
		/* SF, ZF, PF are undefined; Intel CPUs set them from the low half */
		f |= flags_szp(lo, sz) & ~X86E_FL_ZF;
		break;
	}
	case 6: { /* div */
		u64 q, r;

		if (!src)
			return fail(c, X86_EXC_DE, false, 0);
		if (sz == 8) {
			if (!udiv128(d, a, src, &q, &r))
				return fail(c, X86_EXC_DE, false, 0);
		} else {
			u64 n = (d << (8 * sz)) | a;

			q = n / src;
			r = n % src;
			if (q > m)
				return fail(c, X86_EXC_DE, false, 0);
		}
		lo = q;
		hi = r;
		break;
	}
	default: { /* idiv */
		bool nn, nd = sx(src, sz) < 0;
		u64 ad, q, r, ahi = d, alo = a;

		if (!src)
			return fail(c, X86_EXC_DE, false, 0);
		/* sign-extend the double-width dividend to 128 bits */
		if (sz < 8) {
			s64 n = sx((d << (8 * sz)) | a, 2 * sz);

			ahi = n < 0 ? ~0ULL : 0;
			alo = (u64)n;
		}
		nn = (s64)ahi < 0;
		if (nn) {	/* negate the 128-bit dividend */
			alo = ~alo + 1;
			ahi = ~ahi + (alo == 0);
		}
		ad = nd ? -(u64)sx(src, sz) : src;
		if (!udiv128(ahi, alo, ad, &q, &r))
			return fail(c, X86_EXC_DE, false, 0);
		if (nn != nd) {
			if (q > msb(sz))
				return fail(c, X86_EXC_DE, false, 0);
			q = -q;
		} else if (q >= msb(sz)) {
			return fail(c, X86_EXC_DE, false, 0);
		}
		if (nn)
			r = -r;
		lo = q & m;
		hi = r & m;
		break;
	}
	}
	if (sz == 1) {
		reg_set(c, X86_RAX, 2, (hi << 8) | (lo & 0xff));
	} else {
		reg_set(c, X86_RAX, sz, lo);
		reg_set(c, X86_RDX, sz, hi);
	}
	if (op <= 5)
		c->rflags = f;
	return true;
}

/* Two- and three-operand imul: the truncated product, CF=OF on overflow. */
static u64 imul2(struct ectx *c, u64 a, u64 b, unsigned int sz)
{
	__int128 p = (__int128)sx(a, sz) * sx(b, sz);
	u64 r = (u64)p & szmask(sz);
	u64 f = c->rflags & ~X86E_FL_ARITH;

	if ((__int128)sx(r, sz) != p)
		f |= X86E_FL_CF | X86E_FL_OF;
	f |= flags_szp(r, sz) & ~X86E_FL_ZF;
	c->rflags = f;
	return r;
}

/* ---------------------------------------------------------------------- */
/* Stack.                                                                  */

static unsigned int stack_size(struct ectx *c)
{
	if (is64(c))
		return 8;
	return (c->seg[X86_SEG_SS].attr & X86_SEG_ATTR_DB) ? 4 : 2;
}

static u64 sp_get(struct ectx *c)
{
	return c->gpr[X86_RSP] & szmask(stack_size(c));
}

static void sp_set(struct ectx *c, u64 v)
{
	reg_set(c, X86_RSP, stack_size(c), v);
}

/* Push without committing RSP when @commit is false (to check first). */
static bool push(struct ectx *c, u64 v, unsigned int sz)
{
	u64 sp = (sp_get(c) - sz) & szmask(stack_size(c));

	if (!mem_write(c, X86_SEG_SS, sp, v, sz))
		return false;
	sp_set(c, sp);
	return true;
}

static bool pop(struct ectx *c, u64 *v, unsigned int sz)
{
	u64 sp = sp_get(c);

	if (!mem_read(c, X86_SEG_SS, sp, v, sz))
		return false;
	sp_set(c, sp + sz);
	return true;
}

/* Read stack slot @i (in @sz units) above the stack pointer, without popping. */
static bool peek(struct ectx *c, unsigned int off, u64 *v, unsigned int sz)
{
	return mem_read(c, X86_SEG_SS, (sp_get(c) + off) & szmask(stack_size(c)), v, sz);
}

/* ---------------------------------------------------------------------- */
/* Control transfers.                                                      */

/* Set RIP for a near transfer, checking the CS limit or canonical form. */
static bool jump(struct ectx *c, u64 target, unsigned int opsize)
{
	if (is64(c) && opsize == 8) {
		if (!canonical(target))
			return gp0(c);
	} else {
		target &= szmask(opsize);
		if (!is64(c) && target > c->seg[X86_SEG_CS].limit)
			return gp0(c);
	}
	c->rip = target;
	return true;
}

/* Load a segment register in real or virtual-8086 mode. */
static void seg_load_real(struct ectx *c, unsigned int s, u16 sel)
{
	c->seg[s].sel = sel;
	c->seg[s].base = (u64)sel << 4;
	if (c->emu->vm86) {
		c->seg[s].limit = 0xffff;
		c->seg[s].attr = X86_SEG_ATTR_P | X86_SEG_ATTR_S | 3 << 5 |
				 (s == X86_SEG_CS ? 0xb : 0x3);
	}
}

/* Read the 8-byte descriptor of @sel from the GDT or LDT. */
static bool read_desc(struct ectx *c, u16 sel, u64 *desc, u8 vec)
{
	const struct x86_emu *e = c->emu;
	u64 base, limit;

	if (sel & 4) {
		if (e->ldtr.attr & X86_SEG_ATTR_UNUSABLE)
			return fail(c, vec, true, sel & 0xfffc);
		base = e->ldtr.base;
		limit = e->ldtr.limit;
	} else {
		base = e->gdtr.base;
		limit = e->gdtr.limit;
	}
	if ((sel | 7) > limit)
		return fail(c, vec, true, sel & 0xfffc);
	if (!is64(c))
		base &= 0xffffffff;
	return cb(c, e->ops->read(c->emu, base + (sel & ~7), desc, 8, false));
}

static void desc_to_seg(u64 d, u16 sel, struct x86_segment *s)
{
	s->sel = sel;
	s->base = ((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000);
	s->limit = (d & 0xffff) | ((d >> 32) & 0xf0000);
	s->attr = ((d >> 40) & 0xff) | (((d >> 52) & 0xf) << 12);
	if (s->attr & X86_SEG_ATTR_G)
		s->limit = (s->limit << 12) | 0xfff;
}

/**
 * seg_load() - load a data or stack segment register (mov, pop, lds...)
 * @c: context
 * @s: the segment register
 * @sel: the selector
 *
 * Protected mode checks are those of MOV Sreg in the SDM: null selectors
 * (#GP for SS outside 64-bit CPL3-less cases), descriptor type, privilege
 * and presence (#NP, or #SS for SS).  The accessed bit is not set in the
 * guest's descriptor table.
 */
static bool seg_load(struct ectx *c, unsigned int s, u16 sel)
{
	struct x86_segment ns;
	u8 rpl = sel & 3, dpl, type;
	u64 d;

	if (s == X86_SEG_CS)
		return ud(c);
	if (realmode(c) || c->emu->vm86) {
		seg_load_real(c, s, sel);
		return true;
	}
	if (!(sel & ~3)) {
		if (s == X86_SEG_SS && (!is64(c) || c->cpl == 3 || rpl != c->cpl))
			return gp0(c);
		memset(&c->seg[s], 0, sizeof(c->seg[s]));
		c->seg[s].sel = sel;
		c->seg[s].attr = X86_SEG_ATTR_UNUSABLE;
		return true;
	}
	if (!read_desc(c, sel, &d, X86_EXC_GP))
		return false;
	desc_to_seg(d, sel, &ns);
	dpl = (ns.attr >> 5) & 3;
	type = ns.attr & X86_SEG_ATTR_TYPE;
	if (!(ns.attr & X86_SEG_ATTR_S))
		return fail(c, X86_EXC_GP, true, sel & 0xfffc);
	if (s == X86_SEG_SS) {
		if (rpl != c->cpl || dpl != c->cpl || (type & 0xa) != 0x2)
			return fail(c, X86_EXC_GP, true, sel & 0xfffc);
		if (!(ns.attr & X86_SEG_ATTR_P))
			return fail(c, X86_EXC_SS, true, sel & 0xfffc);
	} else {
		if ((type & 0xa) == 0x8)		/* execute-only code */
			return fail(c, X86_EXC_GP, true, sel & 0xfffc);
		/* data and non-conforming code: DPL >= max(CPL, RPL) */
		if ((!(type & 8) || !(type & 4)) && (rpl > dpl || c->cpl > dpl))
			return fail(c, X86_EXC_GP, true, sel & 0xfffc);
		if (!(ns.attr & X86_SEG_ATTR_P))
			return fail(c, X86_EXC_NP, true, sel & 0xfffc);
	}
	c->seg[s] = ns;
	if (s == X86_SEG_SS)
		c->shadow |= X86_SHADOW_MOV_SS;
	return true;
}

/* Far jmp/call/ret in real and virtual-8086 mode. */
static bool far_real(struct ectx *c, u16 sel, u64 off)
{
	if (!realmode(c) && !c->emu->vm86)
		return unimpl(c);	/* protected-mode far transfers */
	if (off > c->seg[X86_SEG_CS].limit)
		return gp0(c);
	seg_load_real(c, X86_SEG_CS, sel);
	c->rip = off;
	return true;
}

/* int n, int3, into in real mode: push flags, cs, ip; vector through the IVT. */
static bool interrupt_real(struct ectx *c, u8 vec)
{
	u64 ent;

	if (!realmode(c))
		return unimpl(c);	/* protected-mode delivery: the engines' job */
	if (vec * 4 + 3 > c->emu->idtr.limit)
		return fail(c, X86_EXC_GP, true, vec * 8 + 2);
	if (!cb(c, c->emu->ops->read(c->emu, c->emu->idtr.base + vec * 4, &ent, 4, false)))
		return false;
	if (!mem_check_write(c, X86_SEG_SS, (sp_get(c) - 6) & szmask(stack_size(c)), 6))
		return false;
	if (!push(c, c->rflags & 0xffff, 2) || !push(c, c->seg[X86_SEG_CS].sel, 2) ||
	    !push(c, c->rip & 0xffff, 2))
		return false;
	c->rflags &= ~(X86E_FL_IF | X86E_FL_TF | X86E_FL_AC | X86E_FL_RF);
	seg_load_real(c, X86_SEG_CS, ent >> 16);
	c->rip = ent & 0xffff;
	return true;
}

/*
 * Write RFLAGS as popf/iret do: what may change depends on the mode,
 * CPL and IOPL, and a 16-bit operand only touches the low half.
 */
static void load_flags(struct ectx *c, u64 v, unsigned int sz)
{
	u64 mask = X86E_FL_ARITH | X86E_FL_TF | X86E_FL_DF | X86E_FL_NT |
		   X86E_FL_AC | X86E_FL_ID | X86E_FL_IF | X86E_FL_IOPL;
	unsigned int iopl = (c->rflags >> 12) & 3;

	if (!realmode(c)) {
		if (c->cpl > 0)
			mask &= ~X86E_FL_IOPL;
		if (c->cpl > iopl)
			mask &= ~X86E_FL_IF;
	}
	if (sz == 2)
		mask &= 0xffff;
	c->rflags = (c->rflags & ~mask) | (v & mask) | X86E_FL_FIXED;
}

/* ---------------------------------------------------------------------- */
/* Protected-mode and long-mode far transfers and interrupts.              */

/* Read and decode the descriptor of a code segment for a far transfer. */
static bool code_desc(struct ectx *c, u16 sel, struct x86_segment *ns)
{
	u64 d;

	if (!(sel & ~3))
		return gp0(c);
	if (!read_desc(c, sel, &d, X86_EXC_GP))
		return false;
	desc_to_seg(d, sel, ns);
	if (!(ns->attr & X86_SEG_ATTR_S))
		return unimpl(c);	/* call gates, task gates, TSS: not emulated */
	if (!(ns->attr & 8))
		return fail(c, X86_EXC_GP, true, sel & 0xfffc);
	/* in long mode, L and D together are reserved */
	if ((c->emu->efer & X86E_EFER_LMA) && (ns->attr & X86_SEG_ATTR_L) &&
	    (ns->attr & X86_SEG_ATTR_DB))
		return fail(c, X86_EXC_GP, true, sel & 0xfffc);
	return true;
}

static unsigned int seg_dpl(const struct x86_segment *s)
{
	return (s->attr >> 5) & 3;
}

/* Check and set the target RIP in the new code segment @ns. */
static bool far_target(struct ectx *c, const struct x86_segment *ns, u64 off, unsigned int sz)
{
	if ((c->emu->efer & X86E_EFER_LMA) && (ns->attr & X86_SEG_ATTR_L)) {
		if (!canonical(off))
			return gp0(c);
	} else {
		off &= szmask(sz > 4 ? 4 : sz);
		if (off > ns->limit)
			return gp0(c);
	}
	c->rip = off;
	return true;
}

/* Far jmp/call to a code segment (no gates) at the same privilege. */
static bool far_prot(struct ectx *c, u16 sel, u64 off, bool call)
{
	unsigned int sz = c->in->opsize, dpl;
	struct x86_segment ns;
	u16 old_cs = c->seg[X86_SEG_CS].sel;
	u64 ret = c->rip;

	if (c->emu->vm86 || realmode(c))
		return far_real(c, sel, off);
	if (!code_desc(c, sel, &ns))
		return false;
	dpl = seg_dpl(&ns);
	if ((ns.attr & 4) ? dpl > c->cpl : ((sel & 3) > c->cpl || dpl != c->cpl))
		return fail(c, X86_EXC_GP, true, sel & 0xfffc);
	if (!(ns.attr & X86_SEG_ATTR_P))
		return fail(c, X86_EXC_NP, true, sel & 0xfffc);
	ns.sel = (sel & ~3) | c->cpl;
	if (call && !mem_check_write(c, X86_SEG_SS, (sp_get(c) - 2 * sz) &
				     szmask(stack_size(c)), 2 * sz))
		return false;
	if (!far_target(c, &ns, off, sz))
		return false;
	if (call && (!push(c, old_cs, sz) || !push(c, ret, sz)))
		return false;
	c->seg[X86_SEG_CS] = ns;
	return true;
}

/*
 * Load SS for a return to privilege @cpl: null only in 64-bit mode to a
 * 64-bit CPL0-2 segment; otherwise a writable data segment with RPL and
 * DPL equal to @cpl.
 */
static bool ss_for_cpl(struct ectx *c, u16 sel, unsigned int cpl, bool to64,
		       struct x86_segment *ss)
{
	u64 d;

	if (!(sel & ~3)) {
		if (!to64 || cpl == 3)
			return gp0(c);
		memset(ss, 0, sizeof(*ss));
		ss->sel = sel;
		ss->attr = X86_SEG_ATTR_UNUSABLE | cpl << 5;
		return true;
	}
	if (!read_desc(c, sel, &d, X86_EXC_GP))
		return false;
	desc_to_seg(d, sel, ss);
	if ((sel & 3) != cpl || seg_dpl(ss) != cpl || !(ss->attr & X86_SEG_ATTR_S) ||
	    (ss->attr & 0xa) != 0x2)
		return fail(c, X86_EXC_GP, true, sel & 0xfffc);
	if (!(ss->attr & X86_SEG_ATTR_P))
		return fail(c, X86_EXC_SS, true, sel & 0xfffc);
	return true;
}

/* Data segment registers a return to an outer level may not keep. */
static void null_inner_segs(struct ectx *c, unsigned int cpl)
{
	static const u8 segs[] = { X86_SEG_ES, X86_SEG_DS, X86_SEG_FS, X86_SEG_GS };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(segs); i++) {
		struct x86_segment *s = &c->seg[segs[i]];
		bool conf_code = (s->attr & 0xc) == 0xc;

		if (!(s->attr & X86_SEG_ATTR_UNUSABLE) && !conf_code && seg_dpl(s) < cpl) {
			s->sel = 0;
			s->attr = X86_SEG_ATTR_UNUSABLE;
		}
	}
}

/**
 * far_return() - retf or iret in protected or long mode
 * @c: context
 * @iret: iret (pops RFLAGS too)
 * @imm: bytes retf releases
 *
 * Returns to the same or an outer privilege level through a code segment
 * descriptor.  Task returns (NT set) and returns to virtual-8086 mode are
 * not emulated.
 */
static bool far_return(struct ectx *c, bool iret, u16 imm)
{
	unsigned int sz = c->in->opsize, off = 2 * sz, ncpl, dpl;
	bool lma = c->emu->efer & X86E_EFER_LMA, pop_ss, to64;
	struct x86_segment ns, ss;
	u64 rip, cs, fl = 0, rsp = 0, ssel = 0;

	if (!peek(c, 0, &rip, sz) || !peek(c, sz, &cs, 2))
		return false;
	if (iret) {
		if (c->rflags & X86E_FL_NT)
			return is64(c) ? gp0(c) : unimpl(c);	/* task return */
		if (!peek(c, off, &fl, sz))
			return false;
		off += sz;
		if (!is64(c) && (fl & X86E_FL_VM) && c->cpl == 0)
			return unimpl(c);	/* return to virtual-8086 mode */
	}
	ncpl = cs & 3;
	if (ncpl < c->cpl)
		return fail(c, X86_EXC_GP, true, cs & 0xfffc);
	if (!code_desc(c, cs, &ns))
		return false;
	dpl = seg_dpl(&ns);
	if ((ns.attr & 4) ? dpl > ncpl : dpl != ncpl)
		return fail(c, X86_EXC_GP, true, cs & 0xfffc);
	if (!(ns.attr & X86_SEG_ATTR_P))
		return fail(c, X86_EXC_NP, true, cs & 0xfffc);
	to64 = lma && (ns.attr & X86_SEG_ATTR_L);
	pop_ss = ncpl > c->cpl || (iret && is64(c));
	if (pop_ss) {
		if (!iret)
			off += imm;
		if (!peek(c, off, &rsp, sz) || !peek(c, off + sz, &ssel, 2))
			return false;
		if (!ss_for_cpl(c, ssel, ncpl, to64, &ss))
			return false;
	}
	if (!far_target(c, &ns, rip, sz))
		return false;
	if (iret) {
		unsigned int old_cpl = c->cpl;

		load_flags(c, fl, sz);
		if (old_cpl == 0 && sz > 2)	/* VIF, VIP: only from CPL0 */
			c->rflags = (c->rflags & ~(X86E_FL_VIF | X86E_FL_VIP)) |
				    (fl & (X86E_FL_VIF | X86E_FL_VIP));
		c->rflags &= ~X86E_FL_RF;
	}
	ns.sel = cs;
	c->seg[X86_SEG_CS] = ns;
	if (pop_ss) {
		c->seg[X86_SEG_SS] = ss;
		if (to64 || is64(c))
			c->gpr[X86_RSP] = rsp + (iret ? 0 : imm);
		else
			reg_set(c, X86_RSP, (ss.attr & X86_SEG_ATTR_DB) ? 4 : 2,
				rsp + (iret ? 0 : imm));
	} else {
		sp_set(c, sp_get(c) + off + (iret ? 0 : imm));
	}
	if (ncpl > c->cpl)
		null_inner_segs(c, ncpl);
	c->cpl = ncpl;
	return true;
}

/**
 * interrupt_prot() - an event through the IDT
 * @c: context
 * @vec: the vector
 * @soft: int n, int3, into: the gate's DPL must allow the CPL, and faults
 *	of the delivery carry EXT = 0
 * @has_err: push @err (exceptions that have an error code)
 * @err: the error code
 *
 * Interrupt and trap gates only (32-bit gates, or 64-bit gates in long
 * mode), with the stack switch from the TSS (and IST) when the privilege
 * level changes.  Task gates, 16-bit gates and virtual-8086 mode are not
 * emulated.
 */
static bool interrupt_prot(struct ectx *c, u8 vec, bool soft, bool has_err,
			   u32 err)
{
	struct x86_emu *e = c->emu;
	bool lma = e->efer & X86E_EFER_LMA;
	unsigned int gsz = lma ? 16 : 8, type, ist, ncpl, n, i;
	u32 ext = !soft, gerr = vec * 8 + 2 + ext;
	struct x86_segment ns, ss = c->seg[X86_SEG_SS];
	u64 g[2] = { 0, 0 }, off, rsp, frame[6], tss_sp = 0;
	u16 sel;

	if (e->vm86)
		return unimpl(c);
	if (vec * gsz + gsz - 1 > e->idtr.limit)
		return fail(c, X86_EXC_GP, true, gerr);
	if (!cb(c, e->ops->read(e, e->idtr.base + vec * gsz, g, gsz, false)))
		return false;
	type = (g[0] >> 40) & 0x1f;	/* with the S bit, which must be 0 */
	if (type == 0x5 || type == 0x6 || type == 0x7)
		return unimpl(c);	/* task gates, 16-bit gates */
	if (type != 0xe && type != 0xf)
		return fail(c, X86_EXC_GP, true, gerr);
	if (soft && ((g[0] >> 45) & 3) < c->cpl)	/* gate DPL >= CPL */
		return fail(c, X86_EXC_GP, true, gerr);
	if (!((g[0] >> 47) & 1))
		return fail(c, X86_EXC_NP, true, gerr);
	sel = g[0] >> 16;
	off = (g[0] & 0xffff) | ((g[0] >> 32) & 0xffff0000ULL);
	if (lma)
		off |= (g[1] & 0xffffffffULL) << 32;
	ist = lma ? (g[0] >> 32) & 7 : 0;
	if (!code_desc(c, sel, &ns))
		return false;
	if (seg_dpl(&ns) > c->cpl || (lma && !(ns.attr & X86_SEG_ATTR_L)))
		return fail(c, X86_EXC_GP, true, (sel & 0xfffc) + ext);
	if (!(ns.attr & X86_SEG_ATTR_P))
		return fail(c, X86_EXC_NP, true, (sel & 0xfffc) + ext);
	ncpl = (ns.attr & 4) ? c->cpl : seg_dpl(&ns);

	/* the new stack */
	rsp = c->gpr[X86_RSP];
	if (ncpl < c->cpl || ist) {
		u32 at = ist ? 0x24 + 8 * (ist - 1) : 4 + 8 * ncpl;

		if (at + (lma ? 7 : 5) > e->tr.limit)
			return fail(c, X86_EXC_TS, true, e->tr.sel & 0xfffc);
		if (!cb(c, e->ops->read(e, e->tr.base + at, &tss_sp, lma ? 8 : 6, false)))
			return false;
		if (lma) {
			rsp = tss_sp;
			if (ncpl < c->cpl) {
				memset(&ss, 0, sizeof(ss));
				ss.sel = ncpl;
				ss.attr = X86_SEG_ATTR_UNUSABLE | ncpl << 5;
			}
		} else {
			u16 ssel = tss_sp >> 32;

			rsp = tss_sp & 0xffffffff;
			if (!ss_for_cpl(c, ssel, ncpl, false, &ss)) {
				if (c->rc == X86_EMU_EXCEPTION)	/* bad TSS stack: #TS */
					x86_emu_fault(e, X86_EXC_TS, true, ssel & 0xfffc);
				return false;
			}
		}
	}
	n = 0;
	if (lma || ncpl < c->cpl) {
		frame[n++] = c->seg[X86_SEG_SS].sel;
		frame[n++] = c->gpr[X86_RSP];
	}
	frame[n++] = c->rflags & ~X86E_FL_RF;
	frame[n++] = c->seg[X86_SEG_CS].sel;
	frame[n++] = c->rip;
	if (has_err)
		frame[n++] = err;
	c->seg[X86_SEG_SS] = ss;
	if (lma) {
		rsp = (rsp & ~15ULL) - 8 * n;
		if (!canonical(rsp) || !canonical(rsp + 8 * n - 1))
			return fail(c, X86_EXC_SS, true, 0);
		for (i = 0; i < n; i++)
			if (!write_la(c, rsp + 8 * (n - 1 - i), &frame[i], 8))
				return false;
		c->gpr[X86_RSP] = rsp;
	} else {
		unsigned int ssz = (ss.attr & X86_SEG_ATTR_DB) ? 4 : 2;

		rsp = (rsp - 4 * n) & szmask(ssz);
		if (!mem_check_write(c, X86_SEG_SS, rsp, 4 * n))
			return false;
		for (i = 0; i < n; i++)
			if (!mem_write(c, X86_SEG_SS, (rsp + 4 * (n - 1 - i)) & szmask(ssz),
				       frame[i], 4))
				return false;
		reg_set(c, X86_RSP, ssz, rsp);
	}
	c->rflags &= ~(X86E_FL_TF | X86E_FL_NT | X86E_FL_RF | X86E_FL_VM);
	if (type == 0xe)
		c->rflags &= ~X86E_FL_IF;	/* interrupt gate */
	ns.sel = (sel & ~3) | ncpl;
	c->seg[X86_SEG_CS] = ns;
	c->rip = off;
	c->cpl = ncpl;
	return true;
}

/* int n, int3, into: through the IVT in real mode, the IDT otherwise. */
static bool soft_interrupt(struct ectx *c, u8 vec)
{
	if (realmode(c))
		return interrupt_real(c, vec);
	return interrupt_prot(c, vec, true, false, 0);
}

/*
 * lar, lsl, verr, verw: inspect a descriptor without faulting on it.  ZF
 * tells whether the selector passed the checks.
 */
static bool desc_query(struct ectx *c, unsigned int op)
{
	const struct x86_insn *in = c->in;
	struct x86_segment s;
	struct opnd o;
	unsigned int dpl, type;
	bool ok = false, lma = c->emu->efer & X86E_EFER_LMA;
	u64 d = 0, lim;

	if (realmode(c) || c->emu->vm86)
		return ud(c);
	if (!rm_get(c, &o, 2, true))
		return false;
	if (o.val & ~3) {
		u64 base = (o.val & 4) ? c->emu->ldtr.base : c->emu->gdtr.base;
		u32 limit = (o.val & 4) ? c->emu->ldtr.limit : c->emu->gdtr.limit;

		if ((o.val | 7) <= limit && !((o.val & 4) &&
					      (c->emu->ldtr.attr & X86_SEG_ATTR_UNUSABLE))) {
			if (!cb(c, c->emu->ops->read(c->emu, base + (o.val & ~7), &d, 8, false)))
				return false;
			ok = true;
		}
	}
	if (ok) {
		desc_to_seg(d, o.val, &s);
		dpl = seg_dpl(&s);
		type = s.attr & 0x1f;		/* with S */
		/* privilege: conforming code is exempt */
		if ((type & 0x1c) != 0x1c && (dpl < c->cpl || dpl < (o.val & 3)))
			ok = false;
		switch (op) {
		case 0x02:	/* lar: segments, LDT, TSS, call and task gates */
			if (!(type & 0x10))
				ok = ok && (lma ? (type == 2 || type == 9 || type == 0xb ||
						   type == 0xc) :
					    (type && type != 8 && type != 0xa && type != 0xd &&
					     type != 0xe && type != 0xf));
			break;
		case 0x03:	/* lsl: segments, LDT, TSS */
			if (!(type & 0x10))
				ok = ok && (type == 2 || type == 9 || type == 0xb ||
					    (!lma && (type == 1 || type == 3)));
			break;
		case 4:		/* verr: data, or readable code */
			ok = ok && (type & 0x10) && (!(type & 8) || (type & 2));
			break;
		default:	/* verw: writable data */
			ok = ok && (type & 0x18) == 0x10 && (type & 2);
			break;
		}
	}
	c->rflags &= ~X86E_FL_ZF;
	if (!ok)
		return true;
	c->rflags |= X86E_FL_ZF;
	if (op == 0x02) {
		/* bits 19:16 are "undefined": CPUs copy the limit bits there */
		reg_set(c, in->reg, in->opsize, (d >> 32) & (in->opsize == 2 ? 0xff00 : 0xffff00));
	} else if (op == 0x03) {
		lim = s.limit;
		reg_set(c, in->reg, in->opsize, lim);
	}
	return true;
}

/* ---------------------------------------------------------------------- */
/* Privilege and I/O permission.                                           */

static bool need_cpl0(struct ectx *c)
{
	if (c->cpl)
		return gp0(c);
	return true;
}

/* Protected-mode I/O permission: IOPL, else the TSS I/O bitmap. */
static bool io_allowed(struct ectx *c, u16 port, unsigned int sz)
{
	const struct x86_segment *tr = &c->emu->tr;
	u16 base, bits;

	if (realmode(c))
		return true;
	if (!c->emu->vm86 && c->cpl <= ((c->rflags >> 12) & 3))
		return true;
	/* 32/64-bit TSS with the bitmap offset at 0x66 */
	if ((tr->attr & 0x9) != 0x9 || tr->limit < 0x67)
		return gp0(c);
	if (!cb(c, c->emu->ops->read(c->emu, tr->base + 0x66, &base, 2, false)))
		return false;
	if ((u32)base + port / 8 + 1 > tr->limit)
		return gp0(c);
	if (!cb(c, c->emu->ops->read(c->emu, tr->base + base + port / 8, &bits, 2, false)))
		return false;
	if ((bits >> (port & 7)) & ((1U << sz) - 1))
		return gp0(c);
	return true;
}

/* ---------------------------------------------------------------------- */
/* String instructions.                                                    */

static int str_step(const struct ectx *c, unsigned int sz)
{
	return (c->rflags & X86E_FL_DF) ? -(int)sz : (int)sz;
}

/*
 * One string instruction, repeated under rep.  Each iteration commits its
 * register updates to the working copy, so that a fault in iteration n
 * reports the state after n-1 iterations, with RIP still at the
 * instruction.  After REP_BATCH iterations the instruction yields with RIP
 * unchanged, like an interrupt window, and resumes on the next call.
 */
static bool string_op(struct ectx *c)
{
	const struct x86_insn *in = c->in;
	unsigned int sz = in->opsize, op = in->opcode, n = 0;
	bool rep = in->flags & (X86_P_REP | X86_P_REPNE);
	unsigned int src_seg = in->seg_override != X86_SEG_NONE &&
			       (!is64(c) || in->seg_override >= X86_SEG_FS) ?
			       in->seg_override : X86_SEG_DS;
	u64 next_rip = c->rip;
	u64 a, b;
	u32 v32;

	if (op < 0x70 && sz > 4)
		sz = 4;		/* ins/outs with REX.W still move 32 bits */
	if (op < 0x70 && (op < 0x6e ? !c->emu->ops->pio_in : !c->emu->ops->pio_out))
		return unimpl(c);
	c->rip = c->emu->rip;	/* stays here until the last iteration */
	for (;;) {
		if (rep && !areg(c, X86_RCX))
			break;
		if (n == REP_BATCH)
			return true;
		switch (op) {
		case 0xa4: case 0xa5:	/* movs */
			if (!mem_read(c, src_seg, areg(c, X86_RSI), &a, sz) ||
			    !mem_write(c, X86_SEG_ES, areg(c, X86_RDI), a, sz))
				return false;
			areg_set(c, X86_RSI, areg(c, X86_RSI) + str_step(c, sz));
			areg_set(c, X86_RDI, areg(c, X86_RDI) + str_step(c, sz));
			break;
		case 0xa6: case 0xa7:	/* cmps */
			if (!mem_read(c, src_seg, areg(c, X86_RSI), &a, sz) ||
			    !mem_read(c, X86_SEG_ES, areg(c, X86_RDI), &b, sz))
				return false;
			alu(c, ALU_CMP, a, b, sz);
			areg_set(c, X86_RSI, areg(c, X86_RSI) + str_step(c, sz));
			areg_set(c, X86_RDI, areg(c, X86_RDI) + str_step(c, sz));
			break;
		case 0xaa: case 0xab:	/* stos */
			if (!mem_write(c, X86_SEG_ES, areg(c, X86_RDI), c->gpr[X86_RAX], sz))
				return false;
			areg_set(c, X86_RDI, areg(c, X86_RDI) + str_step(c, sz));
			break;
		case 0xac: case 0xad:	/* lods */
			if (!mem_read(c, src_seg, areg(c, X86_RSI), &a, sz))
				return false;
			reg_set(c, X86_RAX, sz, a);
			areg_set(c, X86_RSI, areg(c, X86_RSI) + str_step(c, sz));
			break;
		case 0xae: case 0xaf:	/* scas */
			if (!mem_read(c, X86_SEG_ES, areg(c, X86_RDI), &b, sz))
				return false;
			alu(c, ALU_CMP, c->gpr[X86_RAX], b, sz);
			areg_set(c, X86_RDI, areg(c, X86_RDI) + str_step(c, sz));
			break;
		case 0x6c: case 0x6d:	/* ins */
			if (!io_allowed(c, c->gpr[X86_RDX], sz) ||
			    !mem_check_write(c, X86_SEG_ES, areg(c, X86_RDI), sz) ||
			    !cb(c, c->emu->ops->pio_in(c->emu, c->gpr[X86_RDX], sz, &v32)) ||
			    !mem_write(c, X86_SEG_ES, areg(c, X86_RDI), v32, sz))
				return false;
			areg_set(c, X86_RDI, areg(c, X86_RDI) + str_step(c, sz));
			break;
		default:		/* outs */
			if (!io_allowed(c, c->gpr[X86_RDX], sz) ||
			    !mem_read(c, src_seg, areg(c, X86_RSI), &a, sz) ||
			    !cb(c, c->emu->ops->pio_out(c->emu, c->gpr[X86_RDX], sz, a)))
				return false;
			areg_set(c, X86_RSI, areg(c, X86_RSI) + str_step(c, sz));
			break;
		}
		n++;
		if (!rep)
			break;
		areg_set(c, X86_RCX, areg(c, X86_RCX) - 1);
		/* repe/repne end cmps and scas on the condition */
		if ((op & 0xf6) == 0xa6 || (op & 0xfe) == 0xae) {
			bool zf = c->rflags & X86E_FL_ZF;

			if ((in->flags & X86_P_REP) ? !zf : zf)
				break;
		}
	}
	c->rip = next_rip;
	return true;
}

/* ---------------------------------------------------------------------- */
/* System instructions (0F 00, 0F 01, mov CR/DR, MSRs...).                 */

static bool umip_check(struct ectx *c)
{
	if ((c->emu->cr4 & X86E_CR4_UMIP) && c->cpl > 0)
		return gp0(c);
	return true;
}

static bool store_sel(struct ectx *c, u16 sel)
{
	struct opnd o;

	/* a register destination takes the operand size, memory 16 bits */
	if (!rm_get(c, &o, (c->in->flags & X86_F_MEM) ? 2 : c->in->opsize, false))
		return false;
	return opnd_put(c, &o, sel);
}

/* lldt/ltr: load LDTR or TR from a GDT descriptor (16 bytes in long mode). */
static bool load_sysseg(struct ectx *c, bool tr, u16 sel)
{
	struct x86_emu *e = c->emu;
	struct x86_segment ns;
	u64 d, hi = 0;
	u8 type;

	if (!(sel & ~3) && !tr) {
		memset(&e->ldtr, 0, sizeof(e->ldtr));
		e->ldtr.attr = X86_SEG_ATTR_UNUSABLE;
		return true;
	}
	if ((sel & 4) || !(sel & ~3))
		return fail(c, X86_EXC_GP, true, sel & 0xfffc);
	if (!read_desc(c, sel, &d, X86_EXC_GP))
		return false;
	if (e->efer & X86E_EFER_LMA) {
		if ((sel | 7) + 8 > e->gdtr.limit)
			return fail(c, X86_EXC_GP, true, sel & 0xfffc);
		if (!cb(c, e->ops->read(e, e->gdtr.base + (sel & ~7) + 8, &hi, 8, false)))
			return false;
	}
	desc_to_seg(d, sel, &ns);
	ns.base |= (hi & 0xffffffff) << 32;
	type = ns.attr & (X86_SEG_ATTR_TYPE | X86_SEG_ATTR_S);
	if (tr ? type != 0x9 && !(type == 0x1 && !(e->efer & X86E_EFER_LMA)) : type != 0x2)
		return fail(c, X86_EXC_GP, true, sel & 0xfffc);
	if (!(ns.attr & X86_SEG_ATTR_P))
		return fail(c, X86_EXC_NP, true, sel & 0xfffc);
	if (tr) {
		/* mark the TSS busy in the GDT */
		d |= 2ULL << 40;
		if (!cb(c, e->ops->write(e, e->gdtr.base + (sel & ~7), &d, 8)))
			return false;
		ns.attr |= 2;
		e->tr = ns;
	} else {
		e->ldtr = ns;
	}
	return true;
}

static bool grp6(struct ectx *c)
{
	struct opnd o;

	if (realmode(c) || c->emu->vm86)
		return ud(c);
	switch (c->in->reg & 7) {
	case 0:	/* sldt */
		return umip_check(c) && store_sel(c, c->emu->ldtr.sel);
	case 1:	/* str */
		return umip_check(c) && store_sel(c, c->emu->tr.sel);
	case 2:	/* lldt */
	case 3:	/* ltr */
		if (!need_cpl0(c) || !rm_get(c, &o, 2, true))
			return false;
		return load_sysseg(c, (c->in->reg & 7) == 3, o.val);
	}
	return desc_query(c, c->in->reg & 7);	/* verr, verw */
}

static bool set_cr(struct ectx *c, unsigned int cr, u64 v)
{
	if (!c->emu->ops->set_cr)
		return unimpl(c);
	return cb(c, c->emu->ops->set_cr(c->emu, cr, v));
}

static bool grp7(struct ectx *c)
{
	struct x86_emu *e = c->emu;
	const struct x86_insn *in = c->in;
	struct x86_dtable *dt;
	struct opnd o;
	u64 lim, base;
	u32 regs[4];

	if (in->mod == 3) {
		switch (in->modrm) {
		case 0xf8:	/* swapgs */
			if (!need_cpl0(c) || !e->ops->get_msr || !e->ops->set_msr)
				return c->rc == X86_EMU_OK ? unimpl(c) : false;
			if (e->ops->get_msr(e, X86E_MSR_KERNEL_GS_BASE, &base))
				return gp0(c);
			if (!cb(c, e->ops->set_msr(e, X86E_MSR_KERNEL_GS_BASE,
						  c->seg[X86_SEG_GS].base)))
				return false;
			c->seg[X86_SEG_GS].base = base;
			return true;
		case 0xf9:	/* rdtscp */
			if ((e->cr4 & X86E_CR4_TSD) && c->cpl)
				return gp0(c);
			if (!e->ops->rdtsc || !e->ops->get_msr)
				return unimpl(c);
			if (e->ops->get_msr(e, X86E_MSR_TSC_AUX, &base))
				return gp0(c);
			lim = e->ops->rdtsc(e);
			reg_set(c, X86_RAX, 4, lim);
			reg_set(c, X86_RDX, 4, lim >> 32);
			reg_set(c, X86_RCX, 4, base);
			return true;
		case 0xd0:	/* xgetbv */
			return unimpl(c);
		case 0xca:	/* clac */
		case 0xcb:	/* stac */
			if (c->cpl)
				return ud(c);
			if (in->modrm == 0xcb)
				c->rflags |= X86E_FL_AC;
			else
				c->rflags &= ~X86E_FL_AC;
			return true;
		}
		switch (in->reg & 7) {
		case 4:	/* smsw r */
			if (!umip_check(c))
				return false;
			reg_set(c, in->rm, in->opsize, e->cr0);
			return true;
		case 6:	/* lmsw r */
			if (!need_cpl0(c))
				return false;
			/* lmsw sets PE but never clears it */
			return set_cr(c, 0, (e->cr0 & ~0xeULL) | (c->gpr[in->rm] & 0xf) |
				      (e->cr0 & X86E_CR0_PE));
		}
		(void)regs;
		return unimpl(c);
	}
	switch (in->reg & 7) {
	case 0:	/* sgdt */
	case 1:	/* sidt */
		if (!umip_check(c))
			return false;
		dt = (in->reg & 7) ? &e->idtr : &e->gdtr;
		o.ea = insn_ea(c);
		base = is64(c) ? dt->base : dt->base & 0xffffffff;
		if (!mem_check_write(c, in->seg, o.ea, is64(c) ? 10 : 6))
			return false;
		return mem_write(c, in->seg, o.ea, dt->limit, 2) &&
		       mem_write(c, in->seg, (o.ea + 2) & szmask(in->adsize), base,
				 is64(c) ? 8 : 4);
	case 2:	/* lgdt */
	case 3:	/* lidt */
		if (!need_cpl0(c))
			return false;
		o.ea = insn_ea(c);
		if (!mem_read(c, in->seg, o.ea, &lim, 2) ||
		    !mem_read(c, in->seg, (o.ea + 2) & szmask(in->adsize), &base,
			      is64(c) ? 8 : 4))
			return false;
		if (!is64(c) && in->opsize == 2)
			base &= 0xffffff;	/* 16-bit operand: 24-bit base */
		if (is64(c) && !canonical(base))
			return gp0(c);
		dt = (in->reg & 7) == 3 ? &e->idtr : &e->gdtr;
		/* descriptor tables are not part of the working copy: last step */
		dt->limit = lim;
		dt->base = base;
		return true;
	case 4:	/* smsw m16 */
		if (!umip_check(c) || !rm_get(c, &o, 2, false))
			return false;
		return opnd_put(c, &o, e->cr0 & 0xffff);
	case 6:	/* lmsw m16 */
		if (!need_cpl0(c) || !rm_get(c, &o, 2, true))
			return false;
		return set_cr(c, 0, (e->cr0 & ~0xeULL) | (o.val & 0xf) | (e->cr0 & X86E_CR0_PE));
	case 7:	/* invlpg */
		if (!need_cpl0(c))
			return false;
		if (!e->ops->invlpg)
			return unimpl(c);
		o.ea = insn_ea(c);
		base = is64(c) ? o.ea + (in->seg >= X86_SEG_FS ? c->seg[in->seg].base : 0) :
			(c->seg[in->seg].base + o.ea) & 0xffffffff;
		return cb(c, e->ops->invlpg(e, base));
	}
	return unimpl(c);
}

static bool mov_cr(struct ectx *c, bool to)
{
	struct x86_emu *e = c->emu;
	unsigned int cr = c->in->reg, sz = is64(c) ? 8 : 4;
	u64 v;

	if (!need_cpl0(c))
		return false;
	if (!to) {
		switch (cr) {
		case 0:
			v = e->cr0;
			break;
		case 2:
			v = e->cr2;
			break;
		case 3:
			v = e->cr3;
			break;
		case 4:
			v = e->cr4;
			break;
		case 8:
			v = e->cr8;
			break;
		default:
			return ud(c);
		}
		reg_set(c, c->in->rm, sz, v);
		return true;
	}
	v = c->gpr[c->in->rm] & szmask(sz);
	switch (cr) {
	case 0:
		if ((v >> 32) || ((v & X86E_CR0_PG) && !(v & X86E_CR0_PE)) ||
		    ((v & X86E_CR0_NW) && !(v & X86E_CR0_CD)))
			return gp0(c);
		if ((e->efer & X86E_EFER_LMA) && !(v & X86E_CR0_PG) && is64(c))
			return gp0(c);
		v |= X86E_CR0_ET;
		break;
	case 2:
	case 3:
		break;
	case 4:
		if (v >> 32)
			return gp0(c);
		break;
	case 8:
		if (v & ~0xfULL)
			return gp0(c);
		break;
	default:
		return ud(c);
	}
	return set_cr(c, cr, v);
}

static bool mov_dr(struct ectx *c, bool to)
{
	struct x86_emu *e = c->emu;
	unsigned int dr = c->in->reg, sz = is64(c) ? 8 : 4;
	u64 v;

	if (!need_cpl0(c))
		return false;
	if (dr == 4 || dr == 5) {
		if (e->cr4 & X86E_CR4_DE)
			return ud(c);
		dr += 2;
	}
	if (!e->ops->get_dr || !e->ops->set_dr)
		return unimpl(c);
	if (!to) {
		reg_set(c, c->in->rm, sz, e->ops->get_dr(e, dr));
		return true;
	}
	v = c->gpr[c->in->rm] & szmask(sz);
	if ((dr == 6 || dr == 7) && (v >> 32))
		return gp0(c);
	return cb(c, e->ops->set_dr(e, dr, v));
}

static void flat_seg(struct x86_segment *s, u16 sel, u16 attr)
{
	s->sel = sel;
	s->base = 0;
	s->limit = 0xffffffff;
	s->attr = attr | X86_SEG_ATTR_P | X86_SEG_ATTR_S | X86_SEG_ATTR_G;
}

static bool do_syscall(struct ectx *c)
{
	struct x86_emu *e = c->emu;
	u64 star, target, fmask = 0;

	if (!(e->efer & X86E_EFER_SCE) || realmode(c))
		return ud(c);
	if (!e->ops->get_msr)
		return unimpl(c);
	if (e->ops->get_msr(e, X86E_MSR_STAR, &star))
		return gp0(c);
	if (e->efer & X86E_EFER_LMA) {
		if (e->ops->get_msr(e, is64(c) ? X86E_MSR_LSTAR : X86E_MSR_CSTAR, &target) ||
		    e->ops->get_msr(e, X86E_MSR_FMASK, &fmask))
			return gp0(c);
		c->gpr[X86_RCX] = c->rip;
		c->gpr[X86_R11] = c->rflags & ~X86E_FL_RF;
		c->rflags &= ~(fmask | X86E_FL_RF);
		c->rflags |= X86E_FL_FIXED;
		flat_seg(&c->seg[X86_SEG_CS], (star >> 32) & 0xfffc, 0xb | X86_SEG_ATTR_L);
		c->rip = target;
	} else {
		c->gpr[X86_RCX] = c->rip & 0xffffffff;
		c->rflags &= ~(X86E_FL_VM | X86E_FL_IF | X86E_FL_RF);
		flat_seg(&c->seg[X86_SEG_CS], (star >> 32) & 0xfffc, 0xb | X86_SEG_ATTR_DB);
		c->rip = star & 0xffffffff;
	}
	flat_seg(&c->seg[X86_SEG_SS], ((star >> 32) + 8) & 0xfffc, 0x3 | X86_SEG_ATTR_DB);
	c->cpl = 0;
	return true;
}

static bool do_sysret(struct ectx *c)
{
	struct x86_emu *e = c->emu;
	u64 star, sel;

	if (!(e->efer & X86E_EFER_SCE) || !is64(c))
		return ud(c);
	if (!need_cpl0(c))
		return false;
	if (!e->ops->get_msr)
		return unimpl(c);
	if (e->ops->get_msr(e, X86E_MSR_STAR, &star))
		return gp0(c);
	sel = star >> 48;
	if (c->in->opsize == 8) {
		if (!canonical(c->gpr[X86_RCX]))
			return gp0(c);
		flat_seg(&c->seg[X86_SEG_CS], (sel + 16) | 3, 0xb | 3 << 5 | X86_SEG_ATTR_L);
		c->rip = c->gpr[X86_RCX];
	} else {
		flat_seg(&c->seg[X86_SEG_CS], sel | 3, 0xb | 3 << 5 | X86_SEG_ATTR_DB);
		c->rip = c->gpr[X86_RCX] & 0xffffffff;
	}
	c->rflags = (c->gpr[X86_R11] & ~(X86E_FL_RF | X86E_FL_VM)) | X86E_FL_FIXED;
	/* SS keeps its cached attributes apart from the selector and DPL 3 */
	c->seg[X86_SEG_SS].sel = (sel + 8) | 3;
	c->seg[X86_SEG_SS].attr |= 3 << 5;
	c->cpl = 3;
	return true;
}

/* sysenter and sysexit: flat segments from IA32_SYSENTER_CS. */
static bool do_sysenter(struct ectx *c, bool enter)
{
	struct x86_emu *e = c->emu;
	bool lma = e->efer & X86E_EFER_LMA, to64;
	u64 cs, sp = 0, ip = 0;

	if (realmode(c))
		return gp0(c);
	if (!e->ops->get_msr)
		return unimpl(c);
	if (e->ops->get_msr(e, X86E_MSR_SYSENTER_CS, &cs) || !(cs & 0xfffc))
		return gp0(c);
	if (enter) {
		if (e->ops->get_msr(e, X86E_MSR_SYSENTER_ESP, &sp) ||
		    e->ops->get_msr(e, X86E_MSR_SYSENTER_EIP, &ip))
			return gp0(c);
		flat_seg(&c->seg[X86_SEG_CS], cs & 0xfffc,
			 0xb | (lma ? X86_SEG_ATTR_L : X86_SEG_ATTR_DB));
		flat_seg(&c->seg[X86_SEG_SS], (cs + 8) & 0xfffc, 0x3 | X86_SEG_ATTR_DB);
		c->rflags &= ~(X86E_FL_VM | X86E_FL_IF | X86E_FL_RF);
		c->gpr[X86_RSP] = lma ? sp : sp & 0xffffffff;
		c->rip = lma ? ip : ip & 0xffffffff;
		c->cpl = 0;
		return true;
	}
	if (c->cpl)
		return gp0(c);
	to64 = c->in->opsize == 8;
	if (to64 && (!canonical(c->gpr[X86_RCX]) || !canonical(c->gpr[X86_RDX])))
		return gp0(c);
	flat_seg(&c->seg[X86_SEG_CS], ((cs + (to64 ? 32 : 16)) & 0xfffc) | 3,
		 0xb | 3 << 5 | (to64 ? X86_SEG_ATTR_L : X86_SEG_ATTR_DB));
	flat_seg(&c->seg[X86_SEG_SS], ((cs + (to64 ? 40 : 24)) & 0xfffc) | 3,
		 0x3 | 3 << 5 | X86_SEG_ATTR_DB);
	c->gpr[X86_RSP] = to64 ? c->gpr[X86_RCX] : c->gpr[X86_RCX] & 0xffffffff;
	c->rip = to64 ? c->gpr[X86_RDX] : c->gpr[X86_RDX] & 0xffffffff;
	c->cpl = 3;
	return true;
}

/* ---------------------------------------------------------------------- */
/* The dispatcher.                                                         */

static bool exec_one(struct ectx *c);
static bool exec_0f(struct ectx *c);

static u16 sel_of(const struct ectx *c, unsigned int s)
{
	return c->seg[s].sel;
}

static bool exec_one(struct ectx *c)
{
	const struct x86_insn *in = c->in;
	struct x86_emu *e = c->emu;
	unsigned int op = in->opcode, sz = in->opsize;
	struct opnd o;
	u64 a, b, r, v;

	if (in->flags & (X86_F_SIMD | X86_P_VEX | X86_P_EVEX | X86_P_XOP))
		return unimpl(c);
	if (in->map == X86_MAP_0F)
		return exec_0f(c);
	if (in->map != X86_MAP_ONE)
		return unimpl(c);

	/* ALU forms 00-3F */
	if (op < 0x40 && (op & 7) < 6) {
		unsigned int aop = op >> 3;

		switch (op & 7) {
		case 0: case 1:		/* r/m op= reg */
			if (!rm_get(c, &o, sz, true))
				return false;
			r = alu(c, aop, o.val, reg_get(c, in->reg, sz), sz);
			return aop == ALU_CMP || opnd_put_rmw(c, &o, o.val, r);
		case 2: case 3:		/* reg op= r/m */
			if (!rm_get(c, &o, sz, true))
				return false;
			r = alu(c, aop, reg_get(c, in->reg, sz), o.val, sz);
			if (aop != ALU_CMP)
				reg_set(c, in->reg, sz, r);
			return true;
		default:		/* al/eax op= imm */
			r = alu(c, aop, reg_get(c, X86_RAX, sz), in->imm, sz);
			if (aop != ALU_CMP)
				reg_set(c, X86_RAX, sz, r);
			return true;
		}
	}

	switch (op) {
	case 0x06: case 0x0e: case 0x16: case 0x1e:	/* push es/cs/ss/ds */
		return push(c, sel_of(c, op >> 3), sz);
	case 0x07: case 0x17: case 0x1f:		/* pop es/ss/ds */
		if (!peek(c, 0, &v, sz) || !seg_load(c, op >> 3, v))
			return false;
		sp_set(c, sp_get(c) + sz);
		return true;
	case 0x40 ... 0x4f:				/* inc/dec r (not 64-bit) */
		reg_set(c, op & 7, sz, incdec(c, reg_get(c, op & 7, sz), sz, op & 8));
		return true;
	case 0x50 ... 0x57:
		return push(c, reg_get(c, (op & 7) | ((in->rex & 1) << 3), sz), sz);
	case 0x58 ... 0x5f:
		if (!pop(c, &v, sz))
			return false;
		reg_set(c, (op & 7) | ((in->rex & 1) << 3), sz, v);
		return true;
	case 0x63:
		if (!is64(c))
			return unimpl(c);			/* arpl */
		if (!rm_get(c, &o, 4, true))
			return false;
		reg_set(c, in->reg, sz, (u64)(s64)(s32)o.val);	/* movsxd */
		return true;
	case 0x68: case 0x6a:
		return push(c, in->imm, sz);
	case 0x69: case 0x6b:
		if (!rm_get(c, &o, sz, true))
			return false;
		reg_set(c, in->reg, sz, imul2(c, o.val, in->imm, sz));
		return true;
	case 0x6c ... 0x6f:
	case 0xa4 ... 0xa7:
	case 0xaa ... 0xaf:
		return string_op(c);
	case 0x70 ... 0x7f:
		if (x86_cond(op, c->rflags))
			return jump(c, c->rip + in->imm, sz);
		return true;
	case 0x80 ... 0x83:
		if (!rm_get(c, &o, sz, true))
			return false;
		r = alu(c, in->reg & 7, o.val, in->imm, sz);
		return (in->reg & 7) == ALU_CMP || opnd_put_rmw(c, &o, o.val, r);
	case 0x84: case 0x85:
		if (!rm_get(c, &o, sz, true))
			return false;
		alu(c, ALU_AND, o.val, reg_get(c, in->reg, sz), sz);
		return true;
	case 0x86: case 0x87:	/* xchg: locked with memory */
		if (!rm_get(c, &o, sz, true))
			return false;
		a = reg_get(c, in->reg, sz);
		if (o.mem && e->ops->write_cmpxchg) {
			bool done = false;
			u64 la;

			if (!linear(c, in->seg, o.ea, sz, true, &la) ||
			    !cb(c, e->ops->write_cmpxchg(e, la, &o.val, &a, sz, &done)))
				return false;
			if (!done) {
				c->rc = X86_EMU_EXIT;
				return false;
			}
		} else if (!opnd_put(c, &o, a)) {
			return false;
		}
		reg_set(c, in->reg, sz, o.val);
		return true;
	case 0x88 ... 0x8b:
		if (!rm_get(c, &o, sz, op & 2))
			return false;
		if (op & 2) {
			reg_set(c, in->reg, sz, o.val);
			return true;
		}
		return opnd_put(c, &o, reg_get(c, in->reg, sz));
	case 0x8c:	/* mov r/m, sreg */
		return store_sel(c, sel_of(c, in->reg & 7));
	case 0x8d:	/* lea */
		reg_set(c, in->reg, sz, insn_ea(c));
		return true;
	case 0x8e:	/* mov sreg, r/m */
		if (!rm_get(c, &o, 2, true))
			return false;
		return seg_load(c, in->reg & 7, o.val);
	case 0x8f:	/* pop r/m: the address uses the incremented rSP */
		if (!pop(c, &v, sz) || !rm_get(c, &o, sz, false))
			return false;
		return opnd_put(c, &o, v);
	case 0x90 ... 0x97:
		if (op == 0x90 && !(in->rex & 1))
			return true;	/* nop, pause */
		a = (op & 7) | ((in->rex & 1) << 3);
		v = reg_get(c, a, sz);
		reg_set(c, a, sz, reg_get(c, X86_RAX, sz));
		reg_set(c, X86_RAX, sz, v);
		return true;
	case 0x98:	/* cbw, cwde, cdqe */
		reg_set(c, X86_RAX, sz, sx(c->gpr[X86_RAX], sz / 2));
		return true;
	case 0x99:	/* cwd, cdq, cqo */
		reg_set(c, X86_RDX, sz, sx(c->gpr[X86_RAX], sz) < 0 ? ~0ULL : 0);
		return true;
	case 0x9a:	/* call far ptr */
		if (!realmode(c) && !e->vm86)
			return far_prot(c, in->imm2, in->imm, true);
		if (!mem_check_write(c, X86_SEG_SS, (sp_get(c) - 2 * sz) &
				     szmask(stack_size(c)), 2 * sz))
			return false;
		if (!push(c, sel_of(c, X86_SEG_CS), sz) || !push(c, c->rip, sz))
			return false;
		return far_real(c, in->imm2, in->imm & szmask(sz));
	case 0x9b:	/* fwait */
		if ((e->cr0 & (X86E_CR0_MP | X86E_CR0_TS)) == (X86E_CR0_MP | X86E_CR0_TS))
			return fail(c, X86_EXC_NM, false, 0);
		return true;
	case 0x9c:	/* pushf */
		if (e->vm86 && ((c->rflags >> 12) & 3) < 3)
			return gp0(c);
		return push(c, c->rflags & ~(X86E_FL_VM | X86E_FL_RF) & szmask(sz), sz);
	case 0x9d:	/* popf */
		if (e->vm86 && ((c->rflags >> 12) & 3) < 3)
			return gp0(c);
		if (!pop(c, &v, sz))
			return false;
		load_flags(c, v, sz);
		return true;
	case 0x9e:	/* sahf */
		c->rflags = (c->rflags & ~0xd5ULL) | ((c->gpr[X86_RAX] >> 8) & 0xd5) |
			    X86E_FL_FIXED;
		return true;
	case 0x9f:	/* lahf */
		c->gpr[X86_RAX] = (c->gpr[X86_RAX] & ~0xff00ULL) |
				  (((c->rflags & 0xd5) | X86E_FL_FIXED) << 8);
		return true;
	case 0xa0 ... 0xa3:	/* mov al/ax, moffs */
		if (!rm_get(c, &o, sz, !(op & 2)))
			return false;
		if (op & 2)
			return opnd_put(c, &o, reg_get(c, X86_RAX, sz));
		reg_set(c, X86_RAX, sz, o.val);
		return true;
	case 0xa8: case 0xa9:
		alu(c, ALU_AND, reg_get(c, X86_RAX, sz), in->imm, sz);
		return true;
	case 0xb0 ... 0xb7:
		reg_set(c, (op & 7) | ((in->rex & 1) << 3), 1, in->imm);
		return true;
	case 0xb8 ... 0xbf:
		reg_set(c, (op & 7) | ((in->rex & 1) << 3), sz, in->imm);
		return true;
	case 0xc0: case 0xc1: case 0xd0 ... 0xd3:
		if (!rm_get(c, &o, sz, true))
			return false;
		a = op < 0xd0 ? (u64)in->imm : op < 0xd2 ? 1 : c->gpr[X86_RCX] & 0xff;
		r = shift(c, in->reg & 7, o.val, a, sz);
		return opnd_put(c, &o, r);
	case 0xc2: case 0xc3:	/* ret */
		if (!peek(c, 0, &v, sz) || !jump(c, v, sz))
			return false;
		sp_set(c, sp_get(c) + sz + (op == 0xc2 ? (u16)in->imm : 0));
		return true;
	case 0xc4: case 0xc5:	/* les, lds */
		if (!rm_get(c, &o, sz, true) ||
		    !mem_read(c, in->seg, (o.ea + sz) & szmask(in->adsize), &v, 2) ||
		    !seg_load(c, op == 0xc4 ? X86_SEG_ES : X86_SEG_DS, v))
			return false;
		reg_set(c, in->reg, sz, o.val);
		return true;
	case 0xc6: case 0xc7:
		if (in->modrm == 0xf8)
			return unimpl(c);	/* xabort, xbegin */
		if (!rm_get(c, &o, sz, false))
			return false;
		return opnd_put(c, &o, in->imm);
	case 0xc8: {	/* enter */
		unsigned int level = in->imm2 & 31, i;
		u64 fp, bp = c->gpr[X86_RBP];

		if (!push(c, bp, sz))
			return false;
		fp = sp_get(c);
		for (i = 1; i < level; i++) {
			bp = (bp - sz) & szmask(stack_size(c));
			if (!mem_read(c, X86_SEG_SS, bp, &v, sz) || !push(c, v, sz))
				return false;
		}
		if (level && !push(c, fp, sz))
			return false;
		v = (sp_get(c) - (u16)in->imm) & szmask(stack_size(c));
		if (!mem_check_write(c, X86_SEG_SS, v, 1))
			return false;
		reg_set(c, X86_RBP, sz, fp);
		sp_set(c, v);
		return true;
	}
	case 0xc9:	/* leave */
		sp_set(c, c->gpr[X86_RBP]);
		if (!pop(c, &v, sz))
			return false;
		reg_set(c, X86_RBP, sz, v);
		return true;
	case 0xca: case 0xcb:	/* retf */
		if (!realmode(c) && !e->vm86)
			return far_return(c, false, op == 0xca ? (u16)in->imm : 0);
		if (!peek(c, 0, &a, sz) || !peek(c, sz, &b, 2))
			return false;
		if (!far_real(c, b, a))
			return false;
		sp_set(c, sp_get(c) + 2 * sz + (op == 0xca ? (u16)in->imm : 0));
		return true;
	case 0xcc:
		return soft_interrupt(c, X86_EXC_BP);
	case 0xcd:
		if (e->vm86 && ((c->rflags >> 12) & 3) < 3)
			return gp0(c);
		return soft_interrupt(c, in->imm);
	case 0xce:
		if (!(c->rflags & X86E_FL_OF))
			return true;
		return soft_interrupt(c, X86_EXC_OF);
	case 0xcf:	/* iret */
		if (e->vm86)
			return unimpl(c);	/* IOPL-sensitive; VME not emulated */
		if (!realmode(c))
			return far_return(c, true, 0);
		if (!peek(c, 0, &a, sz) || !peek(c, sz, &b, 2) || !peek(c, 2 * sz, &v, sz))
			return false;
		if (!far_real(c, b, a))
			return false;
		load_flags(c, v, sz);
		sp_set(c, sp_get(c) + 3 * sz);
		return true;
	case 0xd7:	/* xlat */
		if (!mem_read(c, in->seg, (c->gpr[X86_RBX] + (c->gpr[X86_RAX] & 0xff)) &
			      szmask(in->adsize), &v, 1))
			return false;
		reg_set(c, X86_RAX, 1, v);
		return true;
	case 0xe0 ... 0xe3: {	/* loopne, loope, loop, jcxz */
		bool take;

		if (op == 0xe3) {
			take = !areg(c, X86_RCX);
		} else {
			areg_set(c, X86_RCX, areg(c, X86_RCX) - 1);
			take = areg(c, X86_RCX) != 0;
			if (op == 0xe0)
				take = take && !(c->rflags & X86E_FL_ZF);
			else if (op == 0xe1)
				take = take && (c->rflags & X86E_FL_ZF);
		}
		return !take || jump(c, c->rip + in->imm, sz);
	}
	case 0xe4: case 0xe5: case 0xec: case 0xed: {	/* in */
		u16 port = op & 8 ? c->gpr[X86_RDX] : (u8)in->imm;
		unsigned int n = sz > 4 ? 4 : sz;
		u32 v32;

		if (!io_allowed(c, port, n))
			return false;
		if (!e->ops->pio_in)
			return unimpl(c);
		if (!cb(c, e->ops->pio_in(e, port, n, &v32)))
			return false;
		reg_set(c, X86_RAX, n, v32);
		return true;
	}
	case 0xe6: case 0xe7: case 0xee: case 0xef: {	/* out */
		u16 port = op & 8 ? c->gpr[X86_RDX] : (u8)in->imm;
		unsigned int n = sz > 4 ? 4 : sz;

		if (!io_allowed(c, port, n))
			return false;
		if (!e->ops->pio_out)
			return unimpl(c);
		return cb(c, e->ops->pio_out(e, port, n, c->gpr[X86_RAX] & szmask(n)));
	}
	case 0xe8:	/* call rel */
		if (!mem_check_write(c, X86_SEG_SS, (sp_get(c) - sz) & szmask(stack_size(c)), sz))
			return false;
		v = c->rip;
		if (!jump(c, c->rip + in->imm, sz))
			return false;
		return push(c, v, sz);
	case 0xe9: case 0xeb:
		return jump(c, c->rip + in->imm, sz);
	case 0xea:
		return far_prot(c, in->imm2, in->imm & szmask(sz), false);
	case 0xf4:	/* hlt */
		if (!need_cpl0(c))
			return false;
		c->rc = X86_EMU_HALT;
		return true;
	case 0xf5:
		c->rflags ^= X86E_FL_CF;
		return true;
	case 0xf6: case 0xf7:
		if (!rm_get(c, &o, sz, true))
			return false;
		switch (in->reg & 7) {
		case 0: case 1:		/* test */
			alu(c, ALU_AND, o.val, in->imm, sz);
			return true;
		case 2:			/* not */
			return opnd_put_rmw(c, &o, o.val, ~o.val);
		case 3:			/* neg */
			r = alu(c, ALU_SUB, 0, o.val, sz);
			return opnd_put_rmw(c, &o, o.val, r);
		default:
			return muldiv(c, in->reg & 7, o.val, sz);
		}
	case 0xf8: case 0xf9:
		c->rflags = (c->rflags & ~X86E_FL_CF) | (op & 1);
		return true;
	case 0xfa: case 0xfb:	/* cli, sti */
		if ((!realmode(c) && c->cpl > ((c->rflags >> 12) & 3)) ||
		    (e->vm86 && ((c->rflags >> 12) & 3) < 3))
			return gp0(c);
		if (op == 0xfb && !(c->rflags & X86E_FL_IF))
			c->shadow |= X86_SHADOW_STI;
		c->rflags = op == 0xfb ? c->rflags | X86E_FL_IF : c->rflags & ~X86E_FL_IF;
		return true;
	case 0xfc: case 0xfd:
		c->rflags = op == 0xfd ? c->rflags | X86E_FL_DF : c->rflags & ~X86E_FL_DF;
		return true;
	case 0xfe: case 0xff:
		switch (in->reg & 7) {
		case 0: case 1:
			if (!rm_get(c, &o, sz, true))
				return false;
			r = incdec(c, o.val, sz, in->reg & 1);
			return opnd_put_rmw(c, &o, o.val, r);
		case 2:		/* call r/m */
			if (!rm_get(c, &o, sz, true))
				return false;
			if (!mem_check_write(c, X86_SEG_SS, (sp_get(c) - sz) &
					     szmask(stack_size(c)), sz))
				return false;
			v = c->rip;
			return jump(c, o.val, sz) && push(c, v, sz);
		case 4:		/* jmp r/m */
			return rm_get(c, &o, sz, true) && jump(c, o.val, sz);
		case 3:		/* call far m */
		case 5:		/* jmp far m */
			if (!rm_get(c, &o, sz, true) ||
			    !mem_read(c, in->seg, (o.ea + sz) & szmask(in->adsize), &v, 2))
				return false;
			if (!realmode(c) && !e->vm86)
				return far_prot(c, v, o.val, (in->reg & 7) == 3);
			if ((in->reg & 7) == 3) {
				if (!mem_check_write(c, X86_SEG_SS, (sp_get(c) - 2 * sz) &
						     szmask(stack_size(c)), 2 * sz))
					return false;
				if (!push(c, sel_of(c, X86_SEG_CS), sz) || !push(c, c->rip, sz))
					return false;
			}
			return far_real(c, v, o.val);
		case 6:		/* push r/m */
			return rm_get(c, &o, sz, true) && push(c, o.val, sz);
		}
		break;
	}
	return unimpl(c);
}

/* bt, bts, btr, btc: @op 0-3; with a register offset the memory operand moves. */
static bool bt_op(struct ectx *c, unsigned int op, u64 off, bool imm)
{
	const struct x86_insn *in = c->in;
	unsigned int sz = in->opsize, bits = 8 * sz;
	struct opnd o;
	u64 bit, r;

	if (!rm_get(c, &o, sz, false))
		return false;
	if (o.mem && !imm) {
		s64 soff = sx(off, sz);

		o.ea = (o.ea + (u64)((soff >> (__builtin_ctz(bits))) * (s64)sz)) &
		       szmask(in->adsize);
		bit = (u64)soff & (bits - 1);
	} else {
		bit = off & (bits - 1);
	}
	if (o.mem && !mem_read(c, in->seg, o.ea, &o.val, sz))
		return false;
	c->rflags = (c->rflags & ~X86E_FL_CF) | ((o.val >> bit) & 1);
	switch (op) {
	case 1:
		r = o.val | (1ULL << bit);
		break;
	case 2:
		r = o.val & ~(1ULL << bit);
		break;
	case 3:
		r = o.val ^ (1ULL << bit);
		break;
	default:
		return true;
	}
	return opnd_put_rmw(c, &o, o.val, r);
}

static bool exec_0f(struct ectx *c)
{
	const struct x86_insn *in = c->in;
	struct x86_emu *e = c->emu;
	unsigned int op = in->opcode, sz = in->opsize;
	struct opnd o;
	u64 a, v, r;
	u32 regs[4];

	switch (op) {
	case 0x00:
		return grp6(c);
	case 0x01:
		return grp7(c);
	case 0x02: case 0x03:	/* lar, lsl */
		return desc_query(c, op);
	case 0x05:
		return do_syscall(c);
	case 0x06:	/* clts */
		return need_cpl0(c) && set_cr(c, 0, e->cr0 & ~X86E_CR0_TS);
	case 0x07:
		return do_sysret(c);
	case 0x08: case 0x09:	/* invd, wbinvd */
		if (!need_cpl0(c))
			return false;
		return e->ops->wbinvd ? cb(c, e->ops->wbinvd(e)) : true;
	case 0x0b: case 0xb9: case 0xff:
		return ud(c);
	case 0x0d: case 0x18 ... 0x1f:	/* prefetch, hint nops */
		return true;
	case 0x20: case 0x22:
		return mov_cr(c, op == 0x22);
	case 0x21: case 0x23:
		return mov_dr(c, op == 0x23);
	case 0x30: case 0x32:	/* wrmsr, rdmsr */
		if (!need_cpl0(c))
			return false;
		if (!e->ops->get_msr || !e->ops->set_msr)
			return unimpl(c);
		if (op == 0x30) {
			u32 msr = c->gpr[X86_RCX];

			v = (c->gpr[X86_RDX] << 32) | (c->gpr[X86_RAX] & 0xffffffff);
			if ((msr == X86E_MSR_FS_BASE || msr == X86E_MSR_GS_BASE ||
			     msr == X86E_MSR_KERNEL_GS_BASE) && !canonical(v))
				return gp0(c);
			if (e->ops->set_msr(e, msr, v))
				return c->rc == X86_EMU_OK ? gp0(c) : false;
			/*
			 * The segment bases are the instruction's copy until it
			 * completes: what the callback stored would be lost.
			 */
			if (msr == X86E_MSR_FS_BASE)
				c->seg[X86_SEG_FS].base = v;
			else if (msr == X86E_MSR_GS_BASE)
				c->seg[X86_SEG_GS].base = v;
			return true;
		}
		if (e->ops->get_msr(e, c->gpr[X86_RCX], &v))
			return gp0(c);
		reg_set(c, X86_RAX, 4, v);
		reg_set(c, X86_RDX, 4, v >> 32);
		return true;
	case 0x33:	/* rdpmc */
		if (!(e->cr4 & X86E_CR4_PCE) && c->cpl)
			return gp0(c);
		/*
		 * The guest is given no performance counters (CPUID hides
		 * them), so every counter number is invalid: #GP(0) too.
		 */
		return gp0(c);
	case 0x34: case 0x35:	/* sysenter, sysexit */
		return do_sysenter(c, op == 0x34);
	case 0x31:	/* rdtsc */
		if ((e->cr4 & X86E_CR4_TSD) && c->cpl)
			return gp0(c);
		if (!e->ops->rdtsc)
			return unimpl(c);
		v = e->ops->rdtsc(e);
		reg_set(c, X86_RAX, 4, v);
		reg_set(c, X86_RDX, 4, v >> 32);
		return true;
	case 0x40 ... 0x4f:	/* cmovcc: a 32-bit destination is written anyway */
		if (!rm_get(c, &o, sz, true))
			return false;
		reg_set(c, in->reg, sz, x86_cond(op, c->rflags) ? o.val :
			reg_get(c, in->reg, sz));
		return true;
	case 0x80 ... 0x8f:
		if (x86_cond(op, c->rflags))
			return jump(c, c->rip + in->imm, sz);
		return true;
	case 0x90 ... 0x9f:
		if (!rm_get(c, &o, 1, false))
			return false;
		return opnd_put(c, &o, x86_cond(op, c->rflags));
	case 0xa0: case 0xa8:	/* push fs, gs */
		return push(c, sel_of(c, op == 0xa0 ? X86_SEG_FS : X86_SEG_GS), sz);
	case 0xa1: case 0xa9:	/* pop fs, gs */
		if (!peek(c, 0, &v, sz) || !seg_load(c, op == 0xa1 ? X86_SEG_FS : X86_SEG_GS, v))
			return false;
		sp_set(c, sp_get(c) + sz);
		return true;
	case 0xa2:	/* cpuid */
		if (!e->ops->cpuid)
			return unimpl(c);
		e->ops->cpuid(e, c->gpr[X86_RAX], c->gpr[X86_RCX], regs);
		reg_set(c, X86_RAX, 4, regs[0]);
		reg_set(c, X86_RBX, 4, regs[1]);
		reg_set(c, X86_RCX, 4, regs[2]);
		reg_set(c, X86_RDX, 4, regs[3]);
		return true;
	case 0xa3: case 0xab: case 0xb3: case 0xbb:
		return bt_op(c, (op >> 3) & 3, reg_get(c, in->reg, sz), false);
	case 0xba:
		if ((in->reg & 7) < 4)
			return ud(c);
		return bt_op(c, in->reg & 3, in->imm, true);
	case 0xa4: case 0xa5: case 0xac: case 0xad:
		if (!rm_get(c, &o, sz, true))
			return false;
		a = op & 1 ? c->gpr[X86_RCX] & 0xff : (u64)in->imm;
		r = shxd(c, op >= 0xac, o.val, reg_get(c, in->reg, sz), a, sz);
		return opnd_put(c, &o, r);
	case 0xaf:
		if (!rm_get(c, &o, sz, true))
			return false;
		reg_set(c, in->reg, sz, imul2(c, reg_get(c, in->reg, sz), o.val, sz));
		return true;
	case 0xb0: case 0xb1:	/* cmpxchg */
		if (!rm_get(c, &o, sz, true))
			return false;
		a = reg_get(c, X86_RAX, sz);
		alu(c, ALU_CMP, a, o.val, sz);
		if (c->rflags & X86E_FL_ZF)
			return opnd_put_rmw(c, &o, o.val, reg_get(c, in->reg, sz));
		/* the destination is written back even when unequal */
		if (o.mem && !(in->flags & X86_P_LOCK) && !opnd_put(c, &o, o.val))
			return false;
		reg_set(c, X86_RAX, sz, o.val);
		return true;
	case 0xb2: case 0xb4: case 0xb5:	/* lss, lfs, lgs */
		if (!rm_get(c, &o, sz, true) ||
		    !mem_read(c, in->seg, (o.ea + sz) & szmask(in->adsize), &v, 2) ||
		    !seg_load(c, op == 0xb2 ? X86_SEG_SS : op == 0xb4 ? X86_SEG_FS : X86_SEG_GS, v))
			return false;
		reg_set(c, in->reg, sz, o.val);
		return true;
	case 0xb6: case 0xb7: case 0xbe: case 0xbf:	/* movzx, movsx */
		if (!rm_get(c, &o, op & 1 ? 2 : 1, true))
			return false;
		reg_set(c, in->reg, sz, op & 8 ? (u64)sx(o.val, op & 1 ? 2 : 1) : o.val);
		return true;
	case 0xbc: case 0xbd:	/* bsf, bsr (tzcnt/lzcnt with F3: not emulated) */
		if (in->flags & X86_P_REP)
			return unimpl(c);
		if (!rm_get(c, &o, sz, true))
			return false;
		if (!o.val) {
			/* destination unchanged (AMD documents it, Intel does it) */
			c->rflags |= X86E_FL_ZF;
			return true;
		}
		c->rflags &= ~X86E_FL_ZF;
		reg_set(c, in->reg, sz, op == 0xbc ? (u64)__builtin_ctzll(o.val) :
			(u64)(63 - __builtin_clzll(o.val)));
		return true;
	case 0xc0: case 0xc1:	/* xadd */
		if (!rm_get(c, &o, sz, true))
			return false;
		a = reg_get(c, in->reg, sz);
		r = alu(c, ALU_ADD, o.val, a, sz);
		/* source first: with one register for both, the sum wins */
		reg_set(c, in->reg, sz, o.val);
		return opnd_put_rmw(c, &o, o.val, r);
	case 0xc7:	/* cmpxchg8b/16b */
		if ((in->reg & 7) != 1)
			return unimpl(c);
		{
			unsigned int half = sz == 16 ? 8 : 4;
			u64 lo, hi, la;
			u64 old[2], new[2];
			bool done = true;

			o.ea = insn_ea(c);
			if (half == 8 && (o.ea & 15))
				return gp0(c);
			if (!linear(c, in->seg, o.ea, 2 * half, true, &la) ||
			    !mem_read(c, in->seg, o.ea, &lo, half) ||
			    !mem_read(c, in->seg, (o.ea + half) & szmask(in->adsize), &hi, half))
				return false;
			if (lo == (c->gpr[X86_RAX] & szmask(half)) &&
			    hi == (c->gpr[X86_RDX] & szmask(half))) {
				c->rflags |= X86E_FL_ZF;
				old[0] = lo;
				old[1] = hi;
				new[0] = c->gpr[X86_RBX] & szmask(half);
				new[1] = c->gpr[X86_RCX] & szmask(half);
				if (half == 4) {
					old[0] |= hi << 32;
					new[0] |= new[1] << 32;
				}
				if ((in->flags & X86_P_LOCK) && e->ops->write_cmpxchg) {
					if (!cb(c, e->ops->write_cmpxchg(e, la, old, new,
									 2 * half, &done)))
						return false;
					if (!done) {
						c->rc = X86_EMU_EXIT;
						return false;
					}
				} else if (!write_la(c, la, new, 2 * half)) {
					return false;
				}
			} else {
				c->rflags &= ~X86E_FL_ZF;
				reg_set(c, X86_RAX, half, lo);
				reg_set(c, X86_RDX, half, hi);
			}
		}
		return true;
	case 0xc8 ... 0xcf: {	/* bswap */
		unsigned int rr = (op & 7) | ((in->rex & 1) << 3);

		v = c->gpr[rr];
		if (sz == 8)
			reg_set(c, rr, 8, __builtin_bswap64(v));
		else if (sz == 4)
			reg_set(c, rr, 4, __builtin_bswap32(v));
		else
			reg_set(c, rr, 2, 0);	/* undefined; CPUs zero it */
		return true;
	}
	}
	return unimpl(c);
}

/* ---------------------------------------------------------------------- */

void x86_emu_update_mode(struct x86_emu *emu)
{
	emu->vm86 = false;
	if (!(emu->cr0 & X86E_CR0_PE)) {
		emu->mode = X86_MODE_REAL;
		emu->cpl = 0;
		return;
	}
	if (emu->rflags & X86E_FL_VM) {
		emu->mode = X86_MODE_REAL;	/* decodes as 16-bit, no VEX */
		emu->vm86 = true;
		emu->cpl = 3;
		return;
	}
	emu->cpl = (emu->seg[X86_SEG_SS].attr >> 5) & 3;
	if ((emu->efer & X86E_EFER_LMA) && (emu->seg[X86_SEG_CS].attr & X86_SEG_ATTR_L))
		emu->mode = X86_MODE_LONG64;
	else if (emu->seg[X86_SEG_CS].attr & X86_SEG_ATTR_DB)
		emu->mode = X86_MODE_PROT32;
	else
		emu->mode = X86_MODE_PROT16;
}

enum x86_emu_result x86_emulate_insn(struct x86_emu *emu, const struct x86_insn *insn)
{
	struct ectx c;
	bool mode_change;

	c.emu = emu;
	c.in = insn;
	memcpy(c.gpr, emu->gpr, sizeof(c.gpr));
	memcpy(c.seg, emu->seg, sizeof(c.seg));
	c.rflags = emu->rflags;
	c.rip = emu->rip + insn->len;
	if (!is64(&c))	/* IP wraps at the code segment's size */
		c.rip &= szmask(emu->mode == X86_MODE_PROT32 ? 4 : 2);
	c.cpl = emu->cpl;
	c.shadow = 0;
	c.rc = X86_EMU_OK;

	if (!exec_one(&c)) {
		/*
		 * rep string instructions keep the iterations they completed,
		 * also when a callback left to ask userspace: the retry goes on
		 * with the next iteration.
		 */
		if ((c.rc == X86_EMU_EXCEPTION || c.rc == X86_EMU_EXIT) &&
		    (insn->flags & X86_F_STRING) &&
		    (insn->flags & (X86_P_REP | X86_P_REPNE)))
			goto commit_partial;
		return c.rc;
	}
	mode_change = emu->cpl != c.cpl || insn->cf == X86_CF_SYSCALL ||
		      insn->cf == X86_CF_SYSRET ||
		      emu->seg[X86_SEG_CS].attr != c.seg[X86_SEG_CS].attr;
	memcpy(emu->gpr, c.gpr, sizeof(c.gpr));
	memcpy(emu->seg, c.seg, sizeof(c.seg));
	emu->rflags = c.rflags;
	emu->rip = c.rip;
	emu->cpl = c.cpl;
	emu->shadow = c.shadow;
	if (mode_change)
		x86_emu_update_mode(emu);
	return c.rc;

commit_partial:
	memcpy(emu->gpr, c.gpr, sizeof(c.gpr));
	emu->rflags = c.rflags;
	return c.rc;
}
EMU_EXPORT_FOR_TESTS(x86_emulate_insn);

/**
 * x86_emu_deliver() - deliver an exception or interrupt to the guest
 * @emu: the vCPU state; RIP is the address to return to (the faulting
 *	instruction for faults, the next one for traps and interrupts)
 * @vector: the vector
 * @has_error: push @error (the exceptions that have an error code)
 * @error: the error code
 *
 * What the CPU does on an event: through the IVT in real mode, through an
 * interrupt or trap gate of the IDT otherwise, with the stack switch from
 * the TSS (or IST) when the privilege level changes.  For engines that
 * deliver events themselves (bt) and for emulated delivery.
 *
 * Return: X86_EMU_OK when the handler is entered (state updated);
 * X86_EMU_EXCEPTION when the delivery faulted (emu->exc holds the fault and
 * the state is unchanged; the caller applies the double-fault rules);
 * X86_EMU_UNIMPLEMENTED for task gates, 16-bit gates and virtual-8086 mode.
 */
enum x86_emu_result x86_emu_deliver(struct x86_emu *emu, u8 vector,
				    bool has_error, u32 error)
{
	static const struct x86_insn none;	/* nothing is decoded */
	struct ectx c;
	bool ok;

	c.emu = emu;
	c.in = &none;
	memcpy(c.gpr, emu->gpr, sizeof(c.gpr));
	memcpy(c.seg, emu->seg, sizeof(c.seg));
	c.rflags = emu->rflags;
	c.rip = emu->rip;
	c.cpl = emu->cpl;
	c.shadow = 0;
	c.rc = X86_EMU_OK;
	if (realmode(&c) && !emu->vm86)
		ok = interrupt_real(&c, vector);
	else
		ok = interrupt_prot(&c, vector, false, has_error, error);
	if (!ok)
		return c.rc;
	memcpy(emu->gpr, c.gpr, sizeof(c.gpr));
	memcpy(emu->seg, c.seg, sizeof(c.seg));
	emu->rflags = c.rflags;
	emu->rip = c.rip;
	emu->cpl = c.cpl;
	emu->shadow = 0;
	x86_emu_update_mode(emu);
	return X86_EMU_OK;
}
EMU_EXPORT_FOR_TESTS(x86_emu_deliver);

enum x86_emu_result x86_emulate(struct x86_emu *emu)
{
	u8 buf[X86_MAX_INSN_LEN];
	unsigned int n = X86_MAX_INSN_LEN, first;
	u64 la, ea = emu->rip;
	enum x86_decode_status st;
	bool tail_fault = false;
	int r;

	/* fetch up to the end of the page first, then the rest if it exists */
	if (emu->mode == X86_MODE_LONG64) {
		la = ea;
	} else {
		if (ea > emu->seg[X86_SEG_CS].limit)
			return x86_emu_fault(emu, X86_EXC_GP, true, 0), X86_EMU_EXCEPTION;
		n = min((u64)n, (u64)emu->seg[X86_SEG_CS].limit - ea + 1);
		la = (emu->seg[X86_SEG_CS].base + ea) & 0xffffffff;
	}
	first = min(n, 4096 - (unsigned int)(la & 4095));
	r = emu->ops->read(emu, la, buf, first, true);
	if (r != X86_EMU_CB_OK)
		return r == X86_EMU_CB_EXIT ? X86_EMU_EXIT : X86_EMU_EXCEPTION;
	if (first < n) {
		r = emu->ops->read(emu, la + first, buf + first, n - first, true);
		if (r == X86_EMU_CB_EXIT)
			return X86_EMU_EXIT;
		if (r != X86_EMU_CB_OK) {
			tail_fault = true;
			n = first;
		}
	}
	st = x86_decode_ex(&emu->insn, buf, n, emu->mode, emu->amd ? X86_DECODE_AMD : 0);
	if (st == X86_DECODE_TRUNC && tail_fault)
		return X86_EMU_EXCEPTION;	/* the fault of the second page */
	if (st == X86_DECODE_TRUNC && n < X86_MAX_INSN_LEN)
		return x86_emu_fault(emu, X86_EXC_GP, true, 0), X86_EMU_EXCEPTION;
	if (st == X86_DECODE_TOOLONG)
		return x86_emu_fault(emu, X86_EXC_GP, true, 0), X86_EMU_EXCEPTION;
	if (st != X86_DECODE_OK)
		return x86_emu_fault(emu, X86_EXC_UD, false, 0), X86_EMU_EXCEPTION;
	return x86_emulate_insn(emu, &emu->insn);
}
EMU_EXPORT_FOR_TESTS(x86_emulate);

