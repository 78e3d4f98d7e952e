// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of hyvm's binary translator (virt/bt/translate.c, tc.c).
 *
 * The test process plays the guest world: a "VMM region" (per-vCPU area,
 * exit stub, indirect lookup table, translation cache) and guest areas are
 * mapped at fixed low addresses, CCFs run natively at CPL3 (which is
 * where they run in the guest world too), and a loop here is the monitor:
 * it translates on continuations, chains, inserts indirect targets,
 * interprets callouts with virt/emulate, and maps faults in CCFs back to
 * the guest instruction.
 *
 *  - shape: guest bytes in, CCF properties out (IDENT copies, re-targeted
 *    RIP-relative operands, continuations, callouts, #UD, TU limits);
 *  - execution: guest programs run translated and in the interpreter
 *    (virt/emulate) on copies of the same memory; registers, flags and
 *    memory must agree;
 *  - precise state: faults inside CCFs map to the guest instruction with
 *    the interpreter's registers at that instruction;
 *  - random: random sequences of ALU, mov, stack, flag and branch
 *    instructions, translated vs interpreted.
 *
 * HYVM_LONG=1 runs more random sequences.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "bt/translate.h"
#include "bt/emit.h"
#include "emulate/emulate.h"

/* The test's guest world. */
#define VMM_BASE	0x10000000ULL
#define AREA_ADDR	VMM_BASE
#define STUB_ADDR	(VMM_BASE + 0x1000)
#define HT_ADDR		(VMM_BASE + 0x10000)
#define HT2_ADDR	(VMM_BASE + 0x200000)
#define TC_ADDR		(VMM_BASE + 0x400000)
#define TC_SIZE		0x100000
#define TC2_ADDR	(VMM_BASE + 0x600000)
#define TC2_SIZE	0x2000
#define VMM_SIZE	0x800000

#define NEAR_BASE	0x40000000ULL		/* within 2 GiB of the cache */
#define FAR_BASE	0x300000000ULL		/* 11 GiB away from it */
#define GSIZE		0x40000
#define DATA_OFF	0x20000
#define STACK_TOP	0x3f000
#define UNMAPPED	0x20000000ULL

static struct bt_vcpu_area *area = (struct bt_vcpu_area *)AREA_ADDR;
static struct bt_tc tc, tc2;

static bool long_run(void)
{
	const char *s = getenv("HYVM_LONG");

	return s && *s && *s != '0';
}

static u64 rng = 0x9e3779b97f4a7c15ULL;

static u64 rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* ---------------------------------------------------------------------- */
/* Native entry and exit (translate_harness.S).                            */

extern u64 hx_regs[18];		/* gpr[16], rflags, rip */
void hx_enter(void);
void hx_exit(void);
void hx_fault_return(void);

static volatile int hx_in_guest;
static volatile int hx_faulted;
static struct {
	int sig;
	u64 addr, rip, rflags;
	u64 gpr[16];
} hx_fault;

static const int greg_of[16] = {
	REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
	REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

static void on_fault(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *g = uc->uc_mcontext.gregs;
	int i;

	if (!hx_in_guest) {
		signal(sig, SIG_DFL);
		return;
	}
	hx_fault.sig = sig;
	hx_fault.addr = (u64)si->si_addr;
	hx_fault.rip = g[REG_RIP];
	hx_fault.rflags = g[REG_EFL];
	for (i = 0; i < 16; i++)
		hx_fault.gpr[i] = g[greg_of[i]];
	hx_faulted = 1;
	g[REG_RIP] = (greg_t)hx_fault_return;
}

/* cmocka installs its own handlers for each test: ours go in per run. */
static void install_handlers(void)
{
	struct sigaction sa = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO | SA_ONSTACK };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGFPE, &sa, NULL);
}

/* ---------------------------------------------------------------------- */
/* Guest memory: live (the mapped areas) or a copy for the interpreter.    */

struct gmem {
	u8 *near, *far;
};

static struct gmem live = { (u8 *)NEAR_BASE, (u8 *)FAR_BASE };
static struct gmem copy;

static u8 *gmem_ptr(struct gmem *m, u64 la, unsigned int n)
{
	if (la >= NEAR_BASE && la + n <= NEAR_BASE + GSIZE)
		return m->near + (la - NEAR_BASE);
	if (la >= FAR_BASE && la + n <= FAR_BASE + GSIZE)
		return m->far + (la - FAR_BASE);
	return NULL;
}

static unsigned int fetch_live(void *opaque, u64 rip, u8 *buf, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		u8 *p = gmem_ptr(&live, rip + i, 1);

		if (!p)
			break;
		buf[i] = *p;
	}
	return i;
}

/* ---------------------------------------------------------------------- */
/* The emulator: the interpreter, and the monitor's callouts.              */

static int cb_read(struct x86_emu *e, u64 la, void *buf, unsigned int n, bool fetch)
{
	u8 *p = gmem_ptr(e->opaque, la, n);

	if (!p)
		return x86_emu_page_fault(e, la, fetch ? 0x10 : 0);
	memcpy(buf, p, n);
	return X86_EMU_CB_OK;
}

static int cb_write(struct x86_emu *e, u64 la, const void *buf, unsigned int n)
{
	u8 *p = gmem_ptr(e->opaque, la, n);

	if (!p)
		return x86_emu_page_fault(e, la, 2);
	memcpy(p, buf, n);
	return X86_EMU_CB_OK;
}

static int cb_set_cr(struct x86_emu *e, unsigned int cr, u64 val)
{
	if (cr == 3)
		e->cr3 = val;
	else if (cr == 0)
		e->cr0 = val;
	else if (cr == 4)
		e->cr4 = val;
	return X86_EMU_CB_OK;
}

static void cb_cpuid(struct x86_emu *e, u32 leaf, u32 sub, u32 out[4])
{
	out[0] = leaf * 3 + 1;
	out[1] = sub + 0x100;
	out[2] = 0x6c65746e;
	out[3] = 0x49656e69;
}

static u64 cb_rdtsc(struct x86_emu *e)
{
	return 0x1122334455667788ULL;
}

static const struct x86_emu_ops emu_ops = {
	.read = cb_read,
	.write = cb_write,
	.set_cr = cb_set_cr,
	.cpuid = cb_cpuid,
	.rdtsc = cb_rdtsc,
};

/* What a run sees: the guest's registers, RIP and full virtual RFLAGS. */
struct vstate {
	u64 gpr[16];
	u64 rip;
	u64 rflags;
	u64 cr3;
};

static void flat(struct x86_segment *s, u16 sel, u16 attr)
{
	s->sel = sel;
	s->base = 0;
	s->limit = 0xffffffff;
	s->attr = attr | X86_SEG_ATTR_P | X86_SEG_ATTR_S | X86_SEG_ATTR_G;
}

static void emu_from(struct x86_emu *e, const struct vstate *s, struct gmem *m)
{
	unsigned int i;

	memset(e, 0, sizeof(*e));
	e->ops = &emu_ops;
	e->opaque = m;
	for (i = 0; i < 6; i++)
		flat(&e->seg[i], 0x10, 0x3 | X86_SEG_ATTR_DB);
	flat(&e->seg[X86_SEG_CS], 0x08, 0xb | X86_SEG_ATTR_L);
	e->cr0 = X86E_CR0_PE | X86E_CR0_PG | X86E_CR0_ET;
	e->cr4 = X86E_CR4_PAE;
	e->efer = X86E_EFER_LME | X86E_EFER_LMA | X86E_EFER_SCE;
	memcpy(e->gpr, s->gpr, sizeof(e->gpr));
	e->rip = s->rip;
	e->rflags = s->rflags;
	e->cr3 = s->cr3;
	x86_emu_update_mode(e);
}

static void emu_to(const struct x86_emu *e, struct vstate *s)
{
	memcpy(s->gpr, e->gpr, sizeof(s->gpr));
	s->rip = e->rip;
	s->rflags = e->rflags;
	s->cr3 = e->cr3;
}

enum end { END_HLT, END_FAULT, END_UD, END_LIMIT, END_BAD };

struct result {
	enum end end;
	struct vstate s;
	u8 vector;		/* END_FAULT */
	unsigned int irq_windows;
	u64 irq_rips[8];
	unsigned int smc_writes;
};

/* The reference: the whole program in the interpreter, on @m. */
static void run_interp(const struct vstate *in, struct gmem *m, struct result *r)
{
	struct x86_emu e;
	unsigned long n;

	memset(r, 0, sizeof(*r));
	emu_from(&e, in, m);
	for (n = 0; n < 10000000; n++) {
		enum x86_emu_result res = x86_emulate(&e);

		if (res == X86_EMU_OK)
			continue;
		emu_to(&e, &r->s);
		if (res == X86_EMU_HALT) {
			r->end = END_HLT;
		} else if (res == X86_EMU_EXCEPTION) {
			r->end = e.exc.vector == X86_EXC_UD ? END_UD : END_FAULT;
			r->vector = e.exc.vector;
		} else {
			r->end = END_BAD;
		}
		return;
	}
	emu_to(&e, &r->s);
	r->end = END_LIMIT;
}

/* ---------------------------------------------------------------------- */
/* The monitor.                                                            */

struct monitor {
	struct bt_tc *tc;
	bool trace_code;	/* write-protect translated guest code pages */
	bool chain;		/* patch continuations (off: exit every time) */
	unsigned int irq_budget;	/* times to raise irq_pending again */
	unsigned long max_exits;
};

static u64 traced_pages[16];
static unsigned int nr_traced;

static void trace_page(u64 page)
{
	unsigned int i;

	for (i = 0; i < nr_traced; i++)
		if (traced_pages[i] == page)
			return;
	if (nr_traced < ARRAY_SIZE(traced_pages)) {
		traced_pages[nr_traced++] = page;
		mprotect((void *)page, 4096, PROT_READ);
	}
}

static void untrace_all(void)
{
	while (nr_traced)
		mprotect((void *)traced_pages[--nr_traced], 4096, PROT_READ | PROT_WRITE);
}

static struct bt_tu *get_tu(struct monitor *mon, u64 rip)
{
	struct bt_tu *tu = bt_tc_get(mon->tc, rip);

	if (tu && mon->trace_code) {
		u64 p;

		for (p = tu->rip & ~0xfffULL; p < tu->rip + tu->glen; p += 4096)
			trace_page(p);
	}
	return tu;
}

/* Enter the CCF for @s->rip's TU with @s loaded; back at the next exit. */
static void enter(struct monitor *mon, struct bt_tu *tu, struct vstate *s)
{
	unsigned int i;

	area->exit_reason = BT_EXIT_NONE;
	for (i = 0; i < 16; i++)
		hx_regs[i] = s->gpr[i];
	hx_regs[16] = bt_area_set_rflags(area, s->rflags);
	hx_regs[17] = bt_tu_exec(mon->tc, tu);
	hx_faulted = 0;
	hx_in_guest = 1;
	hx_enter();
	hx_in_guest = 0;
	if (hx_faulted) {
		memcpy(s->gpr, hx_fault.gpr, sizeof(s->gpr));
		hx_regs[16] = hx_fault.rflags;
	} else {
		memcpy(s->gpr, hx_regs, sizeof(s->gpr));
	}
	s->rflags = bt_area_rflags(area, hx_regs[16]);
}

/* A fault in a CCF: the guest state at the faulting instruction. */
static bool precise(struct monitor *mon, struct vstate *s)
{
	struct bt_precise p;
	unsigned int i;

	if (!bt_tc_map_addr(mon->tc, hx_fault.rip, &p))
		return false;
	for (i = 0; i < 16; i++)
		if (p.saved & BIT(i))
			s->gpr[i] = area->save[i];
	s->rip = p.rip;
	return true;
}

static bool is_traced(u64 addr)
{
	unsigned int i;

	for (i = 0; i < nr_traced; i++)
		if (traced_pages[i] == (addr & ~0xfffULL))
			return true;
	return false;
}

/*
 * Interpret one instruction on live memory: a callout, or a write to a
 * traced page.  Returns the emulator's result.
 */
static enum x86_emu_result emulate_one(struct vstate *s)
{
	struct x86_emu e;
	enum x86_emu_result res;

	emu_from(&e, s, &live);
	res = x86_emulate(&e);
	if (res == X86_EMU_OK || res == X86_EMU_HALT)
		emu_to(&e, s);
	return res;
}

static void run_bt(struct monitor *mon, const struct vstate *in, struct result *r)
{
	struct bt_tu *tu;
	unsigned long n;

	memset(r, 0, sizeof(*r));
	r->s = *in;
	install_handlers();
	area->irq_pending = mon->irq_budget ? 1 : 0;
	tu = get_tu(mon, r->s.rip);
	for (n = 0; n < mon->max_exits; n++) {
		struct bt_exit x;
		u64 flushes;

		if (!tu) {
			r->end = END_BAD;
			return;
		}
		enter(mon, tu, &r->s);
		if (hx_faulted) {
			if (!precise(mon, &r->s)) {
				r->end = END_BAD;
				return;
			}
			if (hx_fault.sig == SIGSEGV && is_traced(hx_fault.addr)) {
				/* A write to translated code: emulate, invalidate. */
				untrace_all();
				if (emulate_one(&r->s) != X86_EMU_OK) {
					r->end = END_BAD;
					return;
				}
				bt_tc_invalidate_page(mon->tc, hx_fault.addr);
				r->smc_writes++;
				tu = get_tu(mon, r->s.rip);
				continue;
			}
			r->end = END_FAULT;
			r->vector = hx_fault.sig == SIGFPE ? X86_EXC_DE : X86_EXC_PF;
			return;
		}
		if (bt_tc_exit_decode(mon->tc, area, &x)) {
			r->end = END_BAD;
			return;
		}
		r->s.rip = x.rip;
		switch (x.reason) {
		case BT_EXIT_TRANSLATE:
			flushes = mon->tc->stats.flushes;
			tu = get_tu(mon, x.rip);
			if (tu && mon->chain && flushes == mon->tc->stats.flushes)
				bt_tc_chain(mon->tc, x.id, tu);
			break;
		case BT_EXIT_IND_MISS:
			if ((u64)((s64)(x.rip << 16) >> 16) != x.rip) {
				/* non-canonical: #GP on the branch, before it */
				r->s.rip = x.src_rip;
				r->s.gpr[X86_RSP] += x.rsp_undo;
				r->end = END_FAULT;
				r->vector = X86_EXC_GP;
				return;
			}
			tu = get_tu(mon, x.rip);
			if (tu)
				bt_tc_ht_insert(mon->tc, tu);
			break;
		case BT_EXIT_CALLOUT:
			switch (emulate_one(&r->s)) {
			case X86_EMU_OK:
				break;
			case X86_EMU_HALT:
				r->end = END_HLT;
				return;
			default:
				r->end = END_BAD;
				return;
			}
			tu = get_tu(mon, r->s.rip);
			break;
		case BT_EXIT_UD:
			r->end = END_UD;
			return;
		case BT_EXIT_IRQ_WINDOW:
			if (r->irq_windows < ARRAY_SIZE(r->irq_rips))
				r->irq_rips[r->irq_windows] = x.rip;
			r->irq_windows++;
			area->irq_pending = r->irq_windows < mon->irq_budget;
			tu = get_tu(mon, x.rip);
			break;
		default:
			r->end = END_BAD;
			return;
		}
	}
	r->end = END_LIMIT;
}

/* ---------------------------------------------------------------------- */
/* Setup.                                                                  */

static void *map_fixed(u64 addr, size_t size, int prot)
{
	void *p = mmap((void *)addr, size, prot,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	return p == (void *)addr ? p : NULL;
}

static int tc_setup(struct bt_tc *t, u64 tc_addr, u32 size, u64 ht_addr, u32 max_tus)
{
	struct bt_tc_config cfg = {
		.tc_buf = (u8 *)tc_addr, .tc_exec = tc_addr, .tc_size = size,
		.area_exec = AREA_ADDR,
		.ht = (struct bt_ht_entry *)ht_addr, .ht_exec = ht_addr,
		.exit_stub = STUB_ADDR, .max_tus = max_tus,
		.fetch = fetch_live,
	};

	return bt_tc_init(t, &cfg);
}

static int setup(void **state)
{
	static const u8 jmp_abs[] = { 0xff, 0x25, 0, 0, 0, 0 };	/* jmp *0(%rip) */
	stack_t ss = { .ss_size = 1 << 16 };
	u64 target = (u64)hx_exit;
	u8 *stub;

	if (!map_fixed(VMM_BASE, VMM_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC) ||
	    !map_fixed(NEAR_BASE, GSIZE, PROT_READ | PROT_WRITE) ||
	    !map_fixed(FAR_BASE, GSIZE, PROT_READ | PROT_WRITE)) {
		perror("mmap");
		return -1;
	}
	stub = (u8 *)STUB_ADDR;
	memcpy(stub, jmp_abs, sizeof(jmp_abs));
	memcpy(stub + sizeof(jmp_abs), &target, 8);
	copy.near = malloc(GSIZE);
	copy.far = malloc(GSIZE);
	ss.ss_sp = malloc(ss.ss_size);
	if (!copy.near || !copy.far || !ss.ss_sp || sigaltstack(&ss, NULL))
		return -1;
	if (tc_setup(&tc, TC_ADDR, TC_SIZE, HT_ADDR, 4096) ||
	    tc_setup(&tc2, TC2_ADDR, TC2_SIZE, HT2_ADDR, 8))
		return -1;
	return 0;
}

/* A fresh guest: both areas zeroed, @code at @base, the stack in @base's area. */
static void guest_init(struct vstate *s, u64 base, const void *code, size_t n)
{
	untrace_all();
	memset((void *)NEAR_BASE, 0, GSIZE);
	memset((void *)FAR_BASE, 0, GSIZE);
	memcpy((void *)base, code, n);
	memset(s, 0, sizeof(*s));
	s->rip = base;
	s->gpr[X86_RSP] = base + STACK_TOP;
	s->rflags = 2 | BT_FL_IF;
	bt_tc_flush(&tc);
	bt_tc_flush(&tc2);
	area->ind_lookups = 0;
	memset(&tc.stats, 0, sizeof(tc.stats));
}

static void snapshot(void)
{
	memcpy(copy.near, (void *)NEAR_BASE, GSIZE);
	memcpy(copy.far, (void *)FAR_BASE, GSIZE);
}

static struct monitor default_monitor(void)
{
	struct monitor m = { .tc = &tc, .chain = true, .max_exits = 1000000 };

	return m;
}

#define ARITH_DF_IF	(X86E_FL_ARITH | X86E_FL_DF | X86E_FL_IF)

/* Translated and interpreted ends must agree: registers, flags, memory. */
static void assert_same(const struct result *bt, const struct result *ref, u64 flag_mask)
{
	unsigned int i;

	assert_int_equal(bt->end, ref->end);
	for (i = 0; i < 16; i++)
		if (bt->s.gpr[i] != ref->s.gpr[i]) {
			fprintf(stderr, "gpr %u: bt %#llx interp %#llx\n", i,
				(unsigned long long)bt->s.gpr[i],
				(unsigned long long)ref->s.gpr[i]);
			fail();
		}
	assert_int_equal(bt->s.rip, ref->s.rip);
	assert_int_equal(bt->s.rflags & flag_mask, ref->s.rflags & flag_mask);
	assert_memory_equal((void *)NEAR_BASE, copy.near, GSIZE);
	assert_memory_equal((void *)FAR_BASE, copy.far, GSIZE);
}

/* Run @code at @base translated and interpreted; both results out. */
static void run_both(struct monitor *mon, u64 base, const u8 *b, const u8 *e,
		     void (*prep)(struct vstate *), struct result *bt, struct result *ref)
{
	struct vstate s;

	guest_init(&s, base, b, e - b);
	if (prep)
		prep(&s);
	snapshot();
	run_interp(&s, &copy, ref);
	run_bt(mon, &s, bt);
	untrace_all();
}

#define BLOB(name) extern const u8 name##_begin[], name##_end[]
BLOB(g_isprime);
BLOB(g_fib);
BLOB(g_flags);
BLOB(g_riprel);
BLOB(g_smc);
BLOB(g_callouts);

/* ---------------------------------------------------------------------- */
/* Shape: guest bytes in, CCF properties out.                              */

static struct bt_tu *xlate_at(u64 base, const u8 *code, size_t n)
{
	struct vstate s;

	guest_init(&s, base, code, n);
	return bt_translate(&tc, base);
}

static const u8 *ccf(const struct bt_tu *tu)
{
	return tc.cfg.tc_buf + tu->tc_off;
}

/* The exit record of @tu with @reason and @rip, or NULL. */
static const struct bt_exit_rec *find_exit(const struct bt_tu *tu, u8 reason, u64 rip)
{
	u32 i;

	for (i = 0; i < tu->nr_exits; i++) {
		const struct bt_exit_rec *x = &tc.exits[tu->exit_first + i];

		if (x->reason == reason && x->rip == rip)
			return x;
	}
	return NULL;
}

static unsigned int count_exits(const struct bt_tu *tu, u8 reason)
{
	unsigned int i, n = 0;

	for (i = 0; i < tu->nr_exits; i++)
		n += tc.exits[tu->exit_first + i].reason == reason;
	return n;
}

/* Decode the CCF; call @fn on every instruction with its exec address. */
static void walk_ccf(const struct bt_tu *tu,
		     void (*fn)(const struct x86_insn *, const u8 *, u64, void *), void *arg)
{
	u32 off = 0;

	while (off < tu->tc_len) {
		struct x86_insn in;

		assert_int_equal(x86_decode(&in, ccf(tu) + off, tu->tc_len - off,
					    X86_MODE_LONG64), X86_DECODE_OK);
		fn(&in, ccf(tu) + off, bt_tu_exec(&tc, tu) + off, arg);
		off += in.len;
	}
}

static void test_shape_ident(void **state)
{
	static const u8 code[] = {
		0x48, 0x01, 0xd8,			/* add %rbx,%rax */
		0x48, 0x0f, 0xaf, 0xd1,			/* imul %rcx,%rdx */
		0x4c, 0x8b, 0x4c, 0x24, 0x08,		/* mov 8(%rsp),%r9 */
		0xf0, 0x48, 0x0f, 0xc1, 0x07,		/* lock xadd %rax,(%rdi) */
		0xf3, 0x0f, 0x6f, 0x06,			/* movdqu (%rsi),%xmm0 */
		0x65, 0x48, 0x8b, 0x04, 0x25, 0x10, 0, 0, 0,	/* mov %gs:0x10,%rax */
		0xf4,					/* hlt */
	};
	struct bt_tu *tu = xlate_at(NEAR_BASE, code, sizeof(code));

	assert_non_null(tu);
	assert_int_equal(tu->ninsns, 7);
	assert_int_equal(tu->glen, sizeof(code));
	/* everything before hlt is copied as it is, hlt is a callout */
	assert_memory_equal(ccf(tu), code, sizeof(code) - 1);
	assert_non_null(find_exit(tu, BT_EXIT_CALLOUT, NEAR_BASE + sizeof(code) - 1));
	assert_int_equal(tu->nr_exits, 1);
	assert_ptr_equal(bt_tc_lookup(&tc, NEAR_BASE), tu);
	assert_int_equal(tc.stats.tus, 1);
	assert_int_equal(tc.stats.ccf_bytes, tu->tc_len);
}

struct riprel_seen {
	unsigned int n_riprel_vmm, n_riprel_other, n_movabs;
	u64 riprel_target, movabs[4];
};

static void see_riprel(const struct x86_insn *in, const u8 *b, u64 exec, void *arg)
{
	struct riprel_seen *r = arg;

	if (in->flags & X86_F_RIPREL) {
		u64 t = exec + in->len + in->disp;

		if (t >= VMM_BASE && t < VMM_BASE + VMM_SIZE) {
			r->n_riprel_vmm++;
		} else {
			r->n_riprel_other++;
			r->riprel_target = t;
		}
	}
	if (in->map == X86_MAP_ONE && (in->opcode & 0xf8) == 0xb8 && in->opsize == 8 &&
	    r->n_movabs < 4)
		memcpy(&r->movabs[r->n_movabs++], b + in->imm_offset, 8);
}

static u64 forced_rip;

static bool callout_forced(void *opaque, u64 rip)
{
	return rip == forced_rip;
}

/*
 * Adaptive translation: an instruction the monitor names becomes a
 * callout although it could be copied, and the TU ends there; a
 * retranslation after bt_tc_invalidate_tu() picks the change up.
 */
static void test_shape_forced_callout(void **state)
{
	static const u8 code[] = {
		0x48, 0x01, 0xd8,			/* add %rbx,%rax */
		0x48, 0x89, 0x07,			/* mov %rax,(%rdi) */
		0x48, 0xff, 0xc0,			/* inc %rax */
		0xf4,					/* hlt */
	};
	struct bt_tu *tu = xlate_at(NEAR_BASE, code, sizeof(code));

	assert_non_null(tu);
	assert_int_equal(tu->ninsns, 4);
	assert_null(find_exit(tu, BT_EXIT_CALLOUT, NEAR_BASE + 3));
	forced_rip = NEAR_BASE + 3;
	tc.cfg.callout_at = callout_forced;
	/* still the old one until it is invalidated */
	assert_ptr_equal(bt_tc_get(&tc, NEAR_BASE), tu);
	bt_tc_invalidate_tu(&tc, tu);
	assert_null(bt_tc_lookup(&tc, NEAR_BASE));
	tu = bt_tc_get(&tc, NEAR_BASE);
	tc.cfg.callout_at = NULL;
	assert_non_null(tu);
	assert_int_equal(tu->ninsns, 2);
	assert_int_equal(tu->glen, 6);
	assert_memory_equal(ccf(tu), code, 3);
	assert_non_null(find_exit(tu, BT_EXIT_CALLOUT, NEAR_BASE + 3));
	assert_int_equal(tu->nr_exits, 1);
}

static void test_shape_riprel_near(void **state)
{
	static const u8 code[] = {
		0x48, 0x8b, 0x05, 0x00, 0x01, 0x00, 0x00,	/* mov 0x100(%rip),%rax */
		0xf4,
	};
	struct riprel_seen r = { 0 };
	struct bt_tu *tu = xlate_at(NEAR_BASE, code, sizeof(code));
	struct x86_insn in;
	u64 target = NEAR_BASE + 7 + 0x100;

	assert_non_null(tu);
	walk_ccf(tu, see_riprel, &r);
	assert_int_equal(r.n_riprel_other, 1);
	assert_int_equal(r.riprel_target, target);
	assert_int_equal(r.n_movabs, 0);
	/* the same instruction, only the displacement differs */
	assert_int_equal(x86_decode(&in, ccf(tu), 16, X86_MODE_LONG64), X86_DECODE_OK);
	assert_int_equal(in.len, 7);
	assert_memory_equal(ccf(tu), code, 3);
	assert_int_not_equal(in.disp, 0x100);
}

static void test_shape_riprel_far(void **state)
{
	static const u8 code[] = {
		0x48, 0x8b, 0x35, 0x00, 0x01, 0x00, 0x00,	/* mov 0x100(%rip),%rsi */
		0x83, 0x05, 0x10, 0x00, 0x00, 0x00, 0x05,	/* addl $5,0x10(%rip) */
		0x8a, 0x25, 0x20, 0x00, 0x00, 0x00,		/* mov 0x20(%rip),%ah */
		0xf4,
	};
	struct riprel_seen r = { 0 };
	struct bt_tu *tu = xlate_at(FAR_BASE, code, sizeof(code));

	assert_non_null(tu);
	walk_ccf(tu, see_riprel, &r);
	/* no displacement reaches the guest: absolute addresses instead */
	assert_int_equal(r.n_riprel_other, 0);
	assert_int_equal(r.n_movabs, 3);
	assert_int_equal(r.movabs[0], FAR_BASE + 7 + 0x100);
	assert_int_equal(r.movabs[1], FAR_BASE + 14 + 0x10);
	assert_int_equal(r.movabs[2], FAR_BASE + 20 + 0x20);
	/* mov into rsi borrows rdi, and the byte form stays REX-less (ah) */
	assert_non_null(memmem(ccf(tu), tu->tc_len, (const u8[]){ 0x48, 0x8b, 0x37 }, 3));
	assert_non_null(memmem(ccf(tu), tu->tc_len, (const u8[]){ 0x8a, 0x26 }, 2));
}

struct vex_seen {
	unsigned int n;
	struct x86_insn in[3];
};

static void see_guest_insns(const struct x86_insn *in, const u8 *b, u64 exec, void *arg)
{
	struct vex_seen *v = arg;

	if (((in->map == X86_MAP_0F38 && (in->opcode == 0xf2 || in->opcode == 0x18)) ||
	     (in->map == X86_MAP_ONE && in->opcode == 0x8b && in->base != X86_REG_RIP)) &&
	    v->n < 3)
		v->in[v->n++] = *in;
}

/* Far RIP-relative VEX forms and a void REX.B: the borrowed base is right. */
static void test_shape_riprel_far_vex(void **state)
{
	static const u8 code[] = {
		0xc4, 0xc2, 0xc8, 0xf2, 0x3d, 0, 1, 0, 0,	/* andn 0x100(%rip),%rsi,%rdi, void VEX.B */
		0xc4, 0x62, 0x79, 0x18, 0x0d, 0, 1, 0, 0,	/* vbroadcastss 0x100(%rip),%xmm9 */
		0x49, 0x8b, 0x05, 0, 1, 0, 0,			/* mov 0x100(%rip),%rax (REX.B) */
		0xf4,
	};
	struct riprel_seen r = { 0 };
	struct vex_seen v = { 0 };
	struct bt_tu *tu = xlate_at(FAR_BASE, code, sizeof(code));

	assert_non_null(tu);
	walk_ccf(tu, see_riprel, &r);
	walk_ccf(tu, see_guest_insns, &v);
	assert_int_equal(r.n_riprel_other, 0);
	assert_int_equal(r.n_movabs, 3);
	assert_int_equal(r.movabs[0], FAR_BASE + 9 + 0x100);
	assert_int_equal(r.movabs[1], FAR_BASE + 18 + 0x100);
	assert_int_equal(r.movabs[2], FAR_BASE + 25 + 0x100);
	assert_int_equal(v.n, 3);
	/* andn names rsi (vvvv) and rdi (reg): rbx carries the address */
	assert_int_equal(v.in[0].base, X86_RBX);
	assert_int_equal(v.in[0].vex_vvvv, X86_RSI);
	assert_int_equal(v.in[0].reg, X86_RDI);
	assert_int_equal(v.in[1].base, X86_RSI);
	assert_int_equal(v.in[1].reg, 9);
	assert_int_equal(v.in[2].base, X86_RSI);
	assert_int_equal(v.in[2].reg, X86_RAX);
}

/* addr32 RIP-relative: the address wraps at 4 GiB, near the cache or not. */
static void test_shape_riprel_addr32(void **state)
{
	static const u8 code[] = {
		0x67, 0x48, 0x8b, 0x05, 0x00, 0x00, 0x00, 0xb0,	/* mov -1.25G(%eip),%rax */
		0xf4,
	};
	struct riprel_seen r = { 0 };
	struct bt_tu *tu = xlate_at(NEAR_BASE, code, sizeof(code));

	assert_non_null(tu);
	walk_ccf(tu, see_riprel, &r);
	assert_int_equal(r.n_riprel_other, 0);
	assert_int_equal(r.n_movabs, 1);
	assert_int_equal(r.movabs[0], (NEAR_BASE + 8 - 0x50000000ULL) & 0xffffffff);
	assert_int_equal(r.movabs[0], 0xf0000008);
}

static void test_shape_branches(void **state)
{
	static const u8 code[] = {
		0x48, 0x39, 0xc3,		/* cmp %rax,%rbx */
		0x75, 0x10,			/* jne +0x10 */
	};
	static const u8 call[] = { 0xe8, 0x00, 0x10, 0x00, 0x00 };	/* call +0x1000 */
	static const u8 loop[] = { 0x90, 0xe2, 0xfd };		/* nop; loop -3 */
	struct bt_tu *tu = xlate_at(NEAR_BASE, code, sizeof(code));

	assert_non_null(tu);
	assert_int_equal(tu->ninsns, 2);
	assert_memory_equal(ccf(tu), code, 3);
	assert_non_null(find_exit(tu, BT_EXIT_TRANSLATE, NEAR_BASE + 5 + 0x10));
	assert_non_null(find_exit(tu, BT_EXIT_TRANSLATE, NEAR_BASE + 5));
	assert_int_equal(tu->nr_exits, 2);
	assert_non_null(memmem(ccf(tu), tu->tc_len, (const u8[]){ 0x0f, 0x85 }, 2));

	/* call: the guest's return address is pushed, the target continues */
	tu = xlate_at(NEAR_BASE, call, sizeof(call));
	assert_non_null(tu);
	assert_non_null(find_exit(tu, BT_EXIT_TRANSLATE, NEAR_BASE + 5 + 0x1000));
	assert_int_equal(tu->nr_exits, 1);
	assert_int_equal(ccf(tu)[0], 0x68);
	assert_memory_equal(ccf(tu) + 1, &(u32){ NEAR_BASE + 5 }, 4);

	tu = xlate_at(NEAR_BASE, loop, sizeof(loop));
	assert_non_null(tu);
	assert_non_null(find_exit(tu, BT_EXIT_TRANSLATE, NEAR_BASE));
	assert_non_null(find_exit(tu, BT_EXIT_TRANSLATE, NEAR_BASE + 3));
}

/* Privileged and sensitive instructions become callouts. */
static void test_shape_callouts(void **state)
{
	static const struct { u8 len; u8 b[4]; } insns[] = {
		{ 2, { 0x0f, 0xa2 } },			/* cpuid */
		{ 3, { 0x0f, 0x20, 0xd8 } },		/* mov %cr3,%rax */
		{ 3, { 0x0f, 0x22, 0xd8 } },		/* mov %rax,%cr3 */
		{ 3, { 0x0f, 0x21, 0xf8 } },		/* mov %dr7,%rax */
		{ 3, { 0x0f, 0x23, 0xf8 } },		/* mov %rax,%dr7 */
		{ 3, { 0x0f, 0x01, 0x10 } },		/* lgdt (%rax) */
		{ 3, { 0x0f, 0x01, 0x18 } },		/* lidt (%rax) */
		{ 3, { 0x0f, 0x01, 0x00 } },		/* sgdt (%rax) */
		{ 3, { 0x0f, 0x01, 0x08 } },		/* sidt (%rax) */
		{ 3, { 0x0f, 0x00, 0xc0 } },		/* sldt %eax */
		{ 3, { 0x0f, 0x00, 0xc8 } },		/* str %eax */
		{ 3, { 0x0f, 0x00, 0xd8 } },		/* ltr %ax */
		{ 3, { 0x0f, 0x00, 0xd0 } },		/* lldt %ax */
		{ 3, { 0x0f, 0x01, 0xe0 } },		/* smsw %eax */
		{ 3, { 0x0f, 0x01, 0xf0 } },		/* lmsw %ax */
		{ 2, { 0xe4, 0x60 } },			/* in $0x60,%al */
		{ 2, { 0xe6, 0x80 } },			/* out %al,$0x80 */
		{ 1, { 0xec } },			/* in (%dx),%al */
		{ 1, { 0xee } },			/* out %al,(%dx) */
		{ 1, { 0x6c } },			/* insb */
		{ 1, { 0x6e } },			/* outsb */
		{ 1, { 0xf4 } },			/* hlt */
		{ 2, { 0x0f, 0x31 } },			/* rdtsc */
		{ 3, { 0x0f, 0x01, 0xf9 } },		/* rdtscp */
		{ 2, { 0x0f, 0x32 } },			/* rdmsr */
		{ 2, { 0x0f, 0x30 } },			/* wrmsr */
		{ 2, { 0x0f, 0x33 } },			/* rdpmc */
		{ 2, { 0x48, 0xcf } },			/* iretq */
		{ 2, { 0x0f, 0x05 } },			/* syscall */
		{ 3, { 0x48, 0x0f, 0x07 } },		/* sysretq */
		{ 3, { 0x0f, 0x01, 0xf8 } },		/* swapgs */
		{ 2, { 0xcd, 0x80 } },			/* int $0x80 */
		{ 1, { 0xcc } },			/* int3 */
		{ 3, { 0x0f, 0x01, 0x38 } },		/* invlpg (%rax) */
		{ 2, { 0x0f, 0x09 } },			/* wbinvd */
		{ 2, { 0x0f, 0x06 } },			/* clts */
		{ 3, { 0x0f, 0x01, 0xd1 } },		/* xsetbv */
		{ 2, { 0x8e, 0xd8 } },			/* mov %eax,%ds */
		{ 2, { 0x0f, 0xa1 } },			/* pop %fs */
		{ 3, { 0x0f, 0x02, 0xc0 } },		/* lar %ax,%eax */
		{ 3, { 0x0f, 0x03, 0xc0 } },		/* lsl %ax,%eax */
		{ 2, { 0x48, 0xcb } },			/* lretq */
		{ 2, { 0xff, 0x28 } },			/* ljmp *(%rax) */
		{ 2, { 0xff, 0x18 } },			/* lcall *(%rax) */
		{ 2, { 0x66, 0x9c } },			/* pushfw */
		{ 2, { 0x66, 0x9d } },			/* popfw */
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(insns); i++) {
		u8 code[8] = { 0x90 };
		struct bt_tu *tu;

		memcpy(code + 1, insns[i].b, insns[i].len);
		code[1 + insns[i].len] = 0x90;
		tu = xlate_at(NEAR_BASE, code, sizeof(code));
		assert_non_null(tu);
		if (!find_exit(tu, BT_EXIT_CALLOUT, NEAR_BASE + 1)) {
			fprintf(stderr, "insn %u (%02x %02x) is no callout\n", i,
				insns[i].b[0], insns[i].b[1]);
			fail();
		}
		/* the TU ends with the callout: the monitor goes on after it */
		assert_int_equal(tu->ninsns, 2);
		assert_int_equal(tu->nr_exits, 1);
		assert_int_equal(ccf(tu)[0], 0x90);
	}
}

static void test_shape_ud_and_limits(void **state)
{
	static const u8 ud2[] = { 0x90, 0x0f, 0x0b };
	static const u8 bad[] = { 0x90, 0x90, 0x06 };	/* push %es: #UD in 64-bit */
	u8 nops[20];
	struct bt_tu *tu;

	tu = xlate_at(NEAR_BASE, ud2, sizeof(ud2));
	assert_non_null(find_exit(tu, BT_EXIT_UD, NEAR_BASE + 1));
	tu = xlate_at(NEAR_BASE, bad, sizeof(bad));
	assert_non_null(find_exit(tu, BT_EXIT_UD, NEAR_BASE + 2));
	assert_int_equal(tu->nr_exits, 1);

	memset(nops, 0x90, sizeof(nops));
	tu = xlate_at(NEAR_BASE, nops, sizeof(nops));
	assert_int_equal(tu->ninsns, BT_TU_MAX_INSNS);
	assert_int_equal(tu->glen, BT_TU_MAX_INSNS);
	assert_memory_equal(ccf(tu), nops, BT_TU_MAX_INSNS);
	assert_non_null(find_exit(tu, BT_EXIT_TRANSLATE, NEAR_BASE + BT_TU_MAX_INSNS));

	/* code running into unmapped memory: the TU stops before it */
	memset(nops, 0x90, sizeof(nops));
	tu = xlate_at(NEAR_BASE + GSIZE - 3, nops, 3);
	assert_int_equal(tu->glen, 3);
	assert_non_null(find_exit(tu, BT_EXIT_TRANSLATE, NEAR_BASE + GSIZE));
	tu = bt_translate(&tc, NEAR_BASE + GSIZE);
	assert_non_null(find_exit(tu, BT_EXIT_CALLOUT, NEAR_BASE + GSIZE));
}

static void test_shape_virtual_flags(void **state)
{
	static const u8 code[] = {
		0xfa, 0xfb, 0x9c, 0x9d, 0x48, 0x9c, 0x90, 0xf4,	/* cli sti pushf popf pushfq nop hlt */
	};
	struct bt_tu *tu = xlate_at(NEAR_BASE, code, sizeof(code));

	assert_non_null(tu);
	assert_int_equal(tu->ninsns, 7);
	assert_int_equal(count_exits(tu, BT_EXIT_CALLOUT), 1);
	assert_non_null(find_exit(tu, BT_EXIT_CALLOUT, NEAR_BASE + 7));
	/* sti and popf may open the interrupt window */
	assert_non_null(find_exit(tu, BT_EXIT_IRQ_WINDOW, NEAR_BASE + 2));
	assert_non_null(find_exit(tu, BT_EXIT_IRQ_WINDOW, NEAR_BASE + 4));
	assert_int_equal(count_exits(tu, BT_EXIT_IRQ_WINDOW), 2);
	/* none of them is copied: cli would trap and popf drop IF at CPL3 */
	assert_null(memchr(ccf(tu), 0xfa, 2));
}

/* The longest sequences still fit: the TU ends early and continues. */
static void test_shape_popf_run(void **state)
{
	u8 code[BT_TU_MAX_INSNS + 1];
	struct bt_tu *tu;

	memset(code, 0x9d, BT_TU_MAX_INSNS);
	code[BT_TU_MAX_INSNS] = 0xf4;
	tu = xlate_at(NEAR_BASE, code, sizeof(code));
	assert_non_null(tu);
	assert_true(tu->ninsns >= 8);
	assert_int_equal(count_exits(tu, BT_EXIT_IRQ_WINDOW), tu->ninsns);
	assert_non_null(find_exit(tu, BT_EXIT_TRANSLATE, NEAR_BASE + tu->ninsns));
	assert_int_equal(tc.stats.flushes, 0);
}

static void check_ccf_insn(const struct x86_insn *in, const u8 *b, u64 exec, void *arg)
{
	/* nothing privileged or flag-sensitive reaches the CCF */
	assert_false(in->flags & (X86_F_PRIV | X86_F_IOPL | X86_F_SEGLOAD));
	assert_false(in->cf >= X86_CF_JMP_FAR);
	if (in->map == X86_MAP_ONE && in->opcode == 0x9d)
		assert_int_equal(in->opsize, 8);
}

/*
 * Random bytes, mostly from the one-byte and 0F maps: every TU translates,
 * its CCF decodes, holds nothing privileged, and its map and exits stay
 * inside it.
 */
static void test_shape_random_bytes(void **state)
{
	unsigned int runs = long_run() ? 200000 : 20000, r, i;
	u8 code[64];

	for (r = 0; r < runs; r++) {
		struct bt_tu *tu;

		for (i = 0; i < sizeof(code); i++)
			code[i] = (u8)rnd();
		if (r & 1)
			code[0] = 0x0f;
		tu = xlate_at((r & 2) ? FAR_BASE : NEAR_BASE, code, sizeof(code));
		assert_non_null(tu);
		assert_true(tu->ninsns <= BT_TU_MAX_INSNS);
		assert_true(tu->glen <= BT_TU_MAX_INSNS * X86_MAX_INSN_LEN);
		assert_true(tu->nr_exits >= 1);
		walk_ccf(tu, check_ccf_insn, NULL);
		for (i = 0; i < tu->nr_map; i++) {
			const struct bt_map_ent *m = &tc.map[tu->map_first + i];

			assert_true(m->tc_off < tu->tc_len);
			if (i)
				assert_true(m->tc_off > m[-1].tc_off);
		}
		for (i = 0; i < tu->nr_exits; i++) {
			const struct bt_exit_rec *x = &tc.exits[tu->exit_first + i];

			if (x->exit_off != 0xffffffffu)
				assert_true(x->exit_off - tu->tc_off < tu->tc_len);
			if (x->field != 0xffffffffu)
				assert_true(x->field - tu->tc_off < tu->tc_len);
		}
	}
}

/* Chaining patches the continuation; invalidation undoes it. */
static void test_chain_patch(void **state)
{
	static const u8 code[] = {
		0x90, 0xeb, 0x10,		/* nop; jmp +0x10 */
	};
	static const u8 target[] = { 0x90, 0xf4 };
	const struct bt_exit_rec *x;
	struct bt_tu *a, *b;
	u32 id, rel;

	a = xlate_at(NEAR_BASE, code, sizeof(code));
	memcpy((void *)(NEAR_BASE + 3 + 0x10), target, 2);
	x = find_exit(a, BT_EXIT_TRANSLATE, NEAR_BASE + 3 + 0x10);
	assert_non_null(x);
	id = x - tc.exits;
	memcpy(&rel, tc.cfg.tc_buf + x->field, 4);
	assert_int_equal(tc.cfg.tc_exec + x->field + 4 + (s32)rel, tc.cfg.tc_exec + x->exit_off);
	assert_int_equal((tc.cfg.tc_exec + x->field) & 3, 0);

	b = bt_translate(&tc, NEAR_BASE + 3 + 0x10);
	assert_non_null(b);
	/* only a continuation to b's own RIP can be chained to b */
	assert_int_equal(bt_tc_chain(&tc, id, a), -EINVAL);
	assert_int_equal(bt_tc_chain(&tc, 0, b), -EINVAL);
	assert_int_equal(bt_tc_chain(&tc, id, b), 0);
	assert_int_equal(tc.stats.chains, 1);
	memcpy(&rel, tc.cfg.tc_buf + x->field, 4);
	assert_int_equal(tc.cfg.tc_exec + x->field + 4 + (s32)rel, bt_tu_exec(&tc, b));
	assert_int_equal(bt_tc_chain(&tc, id, b), -EINVAL);	/* once */

	/* a write to b's page: b is gone and a's jump goes back to its exit */
	assert_int_equal(bt_tc_invalidate_page(&tc, NEAR_BASE + 3 + 0x10), 2);
	assert_null(bt_tc_lookup(&tc, NEAR_BASE + 3 + 0x10));
	assert_null(bt_tc_lookup(&tc, NEAR_BASE));
	memcpy(&rel, tc.cfg.tc_buf + x->field, 4);
	assert_int_equal(tc.cfg.tc_exec + x->field + 4 + (s32)rel, tc.cfg.tc_exec + x->exit_off);
	assert_int_equal(tc.cfg.ht[(NEAR_BASE + 0x13) & (BT_HT_SIZE - 1)].tc,
			 tc.cfg.tc_exec + tc.empty_off);
	assert_int_equal(tc.stats.invalidations, 2);
}

/* What CCFs leave in the area is checked, not believed. */
static void test_exit_decode(void **state)
{
	static const u8 code[] = { 0x90, 0x0f, 0xa2 };	/* nop; cpuid */
	struct bt_tu *tu = xlate_at(NEAR_BASE, code, sizeof(code));
	const struct bt_exit_rec *x = find_exit(tu, BT_EXIT_CALLOUT, NEAR_BASE + 1);
	struct bt_exit e;
	u32 id = x - tc.exits;

	area->exit_reason = BT_EXIT_CALLOUT;
	area->exit_rip = NEAR_BASE + 1;
	area->exit_id = id;
	assert_int_equal(bt_tc_exit_decode(&tc, area, &e), 0);
	assert_int_equal(e.reason, BT_EXIT_CALLOUT);
	assert_int_equal(e.rip, NEAR_BASE + 1);
	assert_int_equal(tc.stats.callouts, 1);

	area->exit_rip = NEAR_BASE + 2;
	assert_int_equal(bt_tc_exit_decode(&tc, area, &e), -EINVAL);
	area->exit_rip = NEAR_BASE + 1;
	area->exit_reason = BT_EXIT_TRANSLATE;
	assert_int_equal(bt_tc_exit_decode(&tc, area, &e), -EINVAL);
	area->exit_reason = BT_EXIT_CALLOUT | (1ULL << 32);
	assert_int_equal(bt_tc_exit_decode(&tc, area, &e), -EINVAL);
	area->exit_reason = BT_EXIT_CALLOUT;
	area->exit_id = 100000;
	assert_int_equal(bt_tc_exit_decode(&tc, area, &e), -EINVAL);
	area->exit_id = id | (1ULL << 40);
	assert_int_equal(bt_tc_exit_decode(&tc, area, &e), -EINVAL);
	assert_int_equal(tc.stats.bad_exits, 5);
}

/* ---------------------------------------------------------------------- */
/* Execution: translated vs interpreted.                                   */

static unsigned int primes_below(unsigned int n)
{
	unsigned int i, j, c = 0;

	for (i = 2; i < n; i++) {
		for (j = 2; j < i && i % j; j++)
			;
		c += j == i;
	}
	return c;
}

static void test_exec_isprime(void **state)
{
	struct monitor mon = default_monitor();
	struct result bt, ref;

	run_both(&mon, NEAR_BASE, g_isprime_begin, g_isprime_end, NULL, &bt, &ref);
	assert_int_equal(bt.end, END_HLT);
	assert_int_equal(bt.s.gpr[X86_RBX], primes_below(200));
	assert_same(&bt, &ref, ARITH_DF_IF);
	/* chained: far fewer exits than branches taken */
	assert_true(tc.stats.chains > 0);
	assert_true(tc.stats.translate_exits <= tc.stats.chains + tc.stats.tus);
	assert_true(area->ind_lookups >= 198);		/* one ret per call */
	assert_true(tc.stats.ind_misses < 10);
	assert_int_equal(tc.stats.callouts, 1);		/* the hlt */
	assert_int_equal(tc.stats.bad_exits, 0);

	/* without chaining: every continuation exits, same result */
	mon.chain = false;
	run_both(&mon, NEAR_BASE, g_isprime_begin, g_isprime_end, NULL, &bt, &ref);
	assert_same(&bt, &ref, ARITH_DF_IF);
	assert_int_equal(tc.stats.chains, 0);
	assert_true(tc.stats.translate_exits > 1000);
}

/* A cache too small for the program flushes itself and goes on. */
static void test_exec_flush(void **state)
{
	struct monitor mon = default_monitor();
	struct result bt, ref;
	u64 flushes = tc2.stats.flushes;

	mon.tc = &tc2;
	run_both(&mon, NEAR_BASE, g_isprime_begin, g_isprime_end, NULL, &bt, &ref);
	bt_tc_flush(&tc2);
	assert_int_equal(bt.end, END_HLT);
	assert_int_equal(bt.s.gpr[X86_RBX], primes_below(200));
	assert_same(&bt, &ref, ARITH_DF_IF);
	assert_true(tc2.stats.flushes > flushes + 1);
}

static unsigned long fib(unsigned int n)
{
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static void test_exec_fib(void **state)
{
	static const u64 bases[] = { NEAR_BASE, FAR_BASE };
	struct monitor mon = default_monitor();
	struct result bt, ref;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bases); i++) {
		run_both(&mon, bases[i], g_fib_begin, g_fib_end, NULL, &bt, &ref);
		assert_int_equal(bt.end, END_HLT);
		assert_int_equal(bt.s.gpr[X86_RAX], fib(15) + fib(10));
		assert_int_equal(bt.s.gpr[X86_R14], 2);
		assert_same(&bt, &ref, ARITH_DF_IF);
		assert_true(area->ind_lookups > fib(15));
	}
}

static void test_exec_flags(void **state)
{
	struct monitor mon = default_monitor();
	struct result bt, ref;
	unsigned int i;

	mon.irq_budget = 6;
	run_both(&mon, NEAR_BASE, g_flags_begin, g_flags_end, NULL, &bt, &ref);
	assert_int_equal(bt.end, END_HLT);
	assert_same(&bt, &ref, ARITH_DF_IF);
	assert_int_equal(bt.s.gpr[X86_R8], 0);			/* IF clear after cli */
	assert_int_equal(bt.s.gpr[X86_R9], 100 * 0x200);	/* back after popf */
	assert_int_equal(bt.s.gpr[X86_R10], 100);		/* CF through popf */
	assert_int_equal(bt.s.gpr[X86_R12], 0);			/* DF through popf */
	assert_true(bt.s.rflags & X86E_FL_IF);
	assert_false(bt.s.rflags & X86E_FL_DF);
	/* each pending interrupt left right after a popf or sti that set IF */
	assert_int_equal(bt.irq_windows, mon.irq_budget);
	for (i = 0; i < mon.irq_budget; i++) {
		u8 prev = *(u8 *)(bt.irq_rips[i] - 1);

		assert_true(prev == 0x9d || prev == 0xfb);
	}
	assert_int_equal(area->irq_pending, 0);

	/* no interrupt pending: no exit */
	mon.irq_budget = 0;
	run_both(&mon, NEAR_BASE, g_flags_begin, g_flags_end, NULL, &bt, &ref);
	assert_same(&bt, &ref, ARITH_DF_IF);
	assert_int_equal(bt.irq_windows, 0);
}

static void test_exec_riprel(void **state)
{
	static const u64 bases[] = { NEAR_BASE, FAR_BASE };
	struct monitor mon = default_monitor();
	struct result bt, ref;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bases); i++) {
		run_both(&mon, bases[i], g_riprel_begin, g_riprel_end, NULL, &bt, &ref);
		assert_int_equal(bt.end, END_HLT);
		assert_same(&bt, &ref, ARITH_DF_IF);
		assert_int_equal(bt.s.gpr[X86_RSI], 0x1122334455667788ULL);
		assert_int_equal(bt.s.gpr[X86_RAX] >> 8 & 0xff, 0x77);	/* %ah */
	}
}

static void test_exec_smc(void **state)
{
	struct monitor mon = default_monitor();
	struct result bt, ref;

	mon.trace_code = true;
	run_both(&mon, NEAR_BASE, g_smc_begin, g_smc_end, NULL, &bt, &ref);
	assert_int_equal(bt.end, END_HLT);
	assert_int_equal(bt.s.gpr[X86_RBX], 10 + 11 + 12);
	assert_same(&bt, &ref, ARITH_DF_IF);
	assert_int_equal(bt.smc_writes, 3);
	assert_true(tc.stats.invalidations >= 3);
}

static void test_exec_callouts(void **state)
{
	struct monitor mon = default_monitor();
	struct result bt, ref;

	run_both(&mon, NEAR_BASE, g_callouts_begin, g_callouts_end, NULL, &bt, &ref);
	assert_int_equal(bt.end, END_HLT);
	assert_same(&bt, &ref, ARITH_DF_IF);
	assert_int_equal(bt.s.gpr[X86_R8], 1 * 3 + 1);
	assert_int_equal(bt.s.gpr[X86_R12], bt.s.gpr[X86_R11]);
	assert_int_equal(bt.s.gpr[X86_RAX], 0x55667788);
	assert_int_equal(tc.stats.callouts, 7);
}

/* ---------------------------------------------------------------------- */
/* Precise state: faults inside CCFs.                                      */

struct fault_case {
	const char *name;
	u64 base;
	u8 len;
	u8 code[16];
	u8 vector;
	bool pushed;	/* the return address is written below RSP anyway */
};

static const struct fault_case fault_cases[] = {
	{ "ident load", NEAR_BASE, 7,
	  { 0x48, 0x01, 0xc8, 0x48, 0x8b, 0x13, 0xf4 }, X86_EXC_PF },	/* add; mov (%rbx),%rdx */
	{ "ret", NEAR_BASE, 5, { 0x48, 0x89, 0xdc, 0xc3, 0xf4 }, X86_EXC_PF },
	{ "ret imm", NEAR_BASE, 7, { 0x48, 0x89, 0xdc, 0xc2, 0x08, 0x00, 0xf4 }, X86_EXC_PF },
	{ "pushf", NEAR_BASE, 5, { 0x48, 0x89, 0xdc, 0x9c, 0xf4 }, X86_EXC_PF },
	{ "popf", NEAR_BASE, 5, { 0x48, 0x89, 0xdc, 0x9d, 0xf4 }, X86_EXC_PF },
	{ "call", NEAR_BASE, 9, { 0x48, 0x89, 0xdc, 0xe8, 0, 0, 0, 0, 0xf4 }, X86_EXC_PF },
	{ "call reg", NEAR_BASE, 6, { 0x48, 0x89, 0xdc, 0xff, 0xd1, 0xf4 }, X86_EXC_PF },
	{ "call mem", NEAR_BASE, 6, { 0x48, 0x89, 0xdc, 0xff, 0x10, 0xf4 }, X86_EXC_PF },
	{ "jmp mem", NEAR_BASE, 3, { 0xff, 0x23, 0xf4 }, X86_EXC_PF },
	{ "riprel far", FAR_BASE, 8,
	  { 0x48, 0x8b, 0x05, 0, 0, 0, 1, 0xf4 }, X86_EXC_PF },	/* mov 16M(%rip),%rax */
	{ "riprel far store", FAR_BASE, 11,
	  { 0x48, 0xc7, 0x05, 0, 0, 0, 1, 0x11, 0, 0, 0 }, X86_EXC_PF },
	{ "ret non-canonical", NEAR_BASE, 13,
	  { 0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x50, 0xc3, 0xf4 }, X86_EXC_GP },
	{ "ret imm non-canonical", NEAR_BASE, 15,
	  { 0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x50, 0xc2, 0x10, 0x00, 0xf4 }, X86_EXC_GP },
	{ "call non-canonical", NEAR_BASE, 13,
	  { 0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0xd0, 0xf4 }, X86_EXC_GP, true },
	{ "jmp non-canonical", NEAR_BASE, 13,
	  { 0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0xe0, 0xf4 }, X86_EXC_GP },
	{ "rep stosb", NEAR_BASE, 3, { 0xf3, 0xaa, 0xf4 }, X86_EXC_PF },	/* 4 bytes, then #PF */
	{ "div", NEAR_BASE, 5, { 0x31, 0xc9, 0xf7, 0xf1, 0xf4 }, X86_EXC_DE },
};

static void fault_regs(struct vstate *s)
{
	unsigned int i;

	for (i = 0; i < 16; i++)
		if (i != X86_RSP)
			s->gpr[i] = 0x1111111111111111ULL * (i + 1);
	s->gpr[X86_RAX] = NEAR_BASE + 0x100;
	s->gpr[X86_RCX] = NEAR_BASE + 0x200;	/* canonical: no #GP first */
	s->gpr[X86_RBX] = UNMAPPED;
	s->gpr[X86_RDI] = NEAR_BASE + GSIZE - 4;
	s->rflags |= X86E_FL_CF | X86E_FL_ZF;
}

static void test_precise(void **state)
{
	struct monitor mon = default_monitor();
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(fault_cases); i++) {
		const struct fault_case *f = &fault_cases[i];
		struct result bt, ref;

		run_both(&mon, f->base, f->code, f->code + f->len, fault_regs, &bt, &ref);
		if (bt.end != END_FAULT || ref.end != END_FAULT) {
			fprintf(stderr, "%s: ends %d %d\n", f->name, bt.end, ref.end);
			fail();
		}
		assert_int_equal(bt.vector, f->vector);
		assert_int_equal(ref.vector, f->vector);
		if (f->pushed) {
			/*
			 * Translated, the call pushes before its target is
			 * looked up; the CPU checks the target first.  At
			 * CPL0 the bytes below RSP are not the guest's to
			 * rely on (an interrupt writes them too).
			 */
			u64 *below = (u64 *)(bt.s.gpr[X86_RSP] - 8);

			assert_int_equal(*below, f->base + f->len - 1);
			*(u64 *)gmem_ptr(&copy, (u64)below, 8) = *below;
		}
		assert_same(&bt, &ref, ARITH_DF_IF);
	}
}

/* ---------------------------------------------------------------------- */
/* Random sequences, translated vs interpreted.                            */

struct item {
	u8 b[24];
	u8 len;
	u8 kind;		/* plain, jcc/jmp forward by @skip items, call @skip */
	u8 cc;
	u8 skip;
};

enum { I_PLAIN, I_JCC, I_JCC8, I_JMP, I_JMPIND, I_CALL };

static const u8 gpool[] = { 0, 1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 };
#define RDATA		X86_RBX		/* points at the data block */
#define RLOOP		X86_R15		/* the outer loop's counter */

static u8 rreg(void)
{
	return gpool[rnd() % sizeof(gpool)];
}

static u8 rex(int w, u8 r, u8 b)
{
	return 0x40 | (w ? 8 : 0) | (r >> 3) << 2 | (b >> 3);
}

static void put(struct item *it, u8 v)
{
	it->b[it->len++] = v;
}

static void put32(struct item *it, u32 v)
{
	memcpy(it->b + it->len, &v, 4);
	it->len += 4;
}

/* cmp r1,r2: defines every arithmetic flag (AF included). */
static void put_cmp(struct item *it)
{
	u8 a = rreg(), b = rreg();

	put(it, rex(1, a, b));
	put(it, 0x39);
	put(it, 0xc0 | (a & 7) << 3 | (b & 7));
}

static const u8 alu_ops[] = { 0x01, 0x09, 0x11, 0x19, 0x21, 0x29, 0x31, 0x39, 0x85, 0x89 };
static const u8 rip_ops[] = { 0x8b, 0x03, 0x01, 0x89, 0x2b, 0x31, 0x3b };
static const u8 shifts[] = { 4, 5, 7 };			/* shl, shr, sar */
static const u8 movx[] = { 0xb6, 0xb7, 0xbe, 0xbf };	/* movzx, movsx */

/* One random item; RIP-relative operands are filled in at layout. */
static void gen_item(struct item *it, bool in_sub, bool *riprel)
{
	u8 r = rreg(), s = rreg();
	int w = rnd() & 1;
	unsigned int k = rnd() % (in_sub ? 19 : 24);

	memset(it, 0, sizeof(*it));
	*riprel = false;
	switch (k) {
	case 0: case 1:				/* alu r,r */
		put(it, rex(w, s, r));
		put(it, alu_ops[rnd() % sizeof(alu_ops)]);
		put(it, 0xc0 | (s & 7) << 3 | (r & 7));
		break;
	case 2:					/* alu r,imm32 */
		put(it, rex(w, 0, r));
		put(it, 0x81);
		put(it, 0xc0 | (rnd() % 8) << 3 | (r & 7));
		put32(it, (u32)rnd());
		break;
	case 3:					/* alu r,[rbx+d8] or [rbx+d8],r */
		put(it, rex(w, r, RDATA));
		/* +2: the load form (0x85 + 2 is xchg, locked by the CPU) */
		put(it, alu_ops[rnd() % sizeof(alu_ops)] + ((rnd() & 1) ? 2 : 0));
		put(it, 0x40 | (r & 7) << 3 | (RDATA & 7));
		put(it, 8 * (rnd() % 16));
		break;
	case 4:					/* RIP-relative, into the data block */
		put(it, rex(1, r, 0));
		put(it, rip_ops[rnd() % sizeof(rip_ops)]);
		put(it, (r & 7) << 3 | 5);
		put32(it, 8 * (rnd() % 16));	/* offset in the block, for now */
		*riprel = true;
		break;
	case 5:					/* not, neg, inc, dec */
		put(it, rex(w, 0, r));
		if (rnd() & 1) {
			put(it, 0xf7);
			put(it, 0xc0 | (2 + rnd() % 2) << 3 | (r & 7));
		} else {
			put(it, 0xff);
			put(it, 0xc0 | (rnd() % 2) << 3 | (r & 7));
		}
		break;
	case 6:					/* shl, shr, sar by 1 */
		put(it, rex(w, 0, r));
		put(it, 0xd1);
		put(it, 0xc0 | shifts[rnd() % sizeof(shifts)] << 3 | (r & 7));
		break;
	case 7:					/* lea d8(s),r */
		put(it, rex(1, r, s));
		put(it, 0x8d);
		put(it, 0x40 | (r & 7) << 3 | (s & 7));
		if ((s & 7) == 4)
			put(it, 0x24);
		put(it, (u8)rnd());
		break;
	case 8:					/* cmovcc, setcc */
		if (rnd() & 1) {
			put(it, rex(w, r, s));
			put(it, 0x0f);
			put(it, 0x40 | (rnd() & 15));
			put(it, 0xc0 | (r & 7) << 3 | (s & 7));
		} else {
			put(it, rex(0, 0, r));
			put(it, 0x0f);
			put(it, 0x90 | (rnd() & 15));
			put(it, 0xc0 | (r & 7));
		}
		break;
	case 9:					/* push r; pop s */
		if (r >= 8)
			put(it, 0x41);
		put(it, 0x50 | (r & 7));
		if (s >= 8)
			put(it, 0x41);
		put(it, 0x58 | (s & 7));
		break;
	case 10:				/* cmp; pushf; pop r */
		put_cmp(it);
		put(it, 0x9c);
		if (r >= 8)
			put(it, 0x41);
		put(it, 0x58 | (r & 7));
		break;
	case 11:				/* push flags; popf; cli or sti */
		put(it, 0x68);
		put32(it, ((u32)rnd() & (X86E_FL_ARITH | X86E_FL_DF)) | 2 |
		      ((rnd() & 1) ? X86E_FL_IF : 0));
		put(it, 0x9d);
		if (rnd() % 3 == 0)
			put(it, (rnd() & 1) ? 0xfa : 0xfb);
		break;
	case 12:				/* 16-bit alu r,r */
		put(it, 0x66);
		put(it, rex(0, s, r));
		put(it, alu_ops[rnd() % sizeof(alu_ops)]);
		put(it, 0xc0 | (s & 7) << 3 | (r & 7));
		break;
	case 13: {				/* 8-bit, REX-less: al cl dl ah ch dh */
		static const u8 b8[] = { 0, 1, 2, 4, 5, 6 };

		put(it, alu_ops[rnd() % sizeof(alu_ops)] & 0xfe);
		put(it, 0xc0 | b8[rnd() % 6] << 3 | b8[rnd() % 6]);
		break;
	}
	case 14:				/* rep movsb or stosb in the block */
		put(it, 0x48);			/* lea d8(%rbx),%rsi */
		put(it, 0x8d);
		put(it, 0x73);
		put(it, 16 + 8 * (rnd() % 13));
		put(it, 0x48);			/* lea d8(%rbx),%rdi */
		put(it, 0x8d);
		put(it, 0x7b);
		put(it, 16 + 8 * (rnd() % 13));
		put(it, 0xb9);			/* mov $n,%ecx */
		put32(it, rnd() % 17);
		put(it, 0xf3);
		put(it, (rnd() & 1) ? 0xa4 : 0xaa);
		break;
	case 15:				/* [lock] cmpxchg or xadd [rbx+d8],r */
		if (rnd() & 1)
			put(it, 0xf0);
		put(it, rex(w, r, RDATA));
		put(it, 0x0f);
		put(it, (rnd() & 1) ? 0xb1 : 0xc1);
		put(it, 0x40 | (r & 7) << 3 | (RDATA & 7));
		put(it, 8 * (rnd() % 16));
		break;
	case 16:				/* movzx, movsx */
		put(it, rex(w, r, s));
		put(it, 0x0f);
		put(it, movx[rnd() % sizeof(movx)]);
		put(it, 0xc0 | (r & 7) << 3 | (s & 7));
		break;
	case 17:				/* xchg r,r or bswap r */
		put(it, rex(w, s, r));
		if (rnd() & 1) {
			put(it, 0x87);
			put(it, 0xc0 | (s & 7) << 3 | (r & 7));
		} else {
			put(it, 0x0f);
			put(it, 0xc8 | (r & 7));
		}
		break;
	case 18:				/* callouts: rdtsc, mov from cr0/cr3 */
		if (rnd() & 1) {
			put(it, 0x0f);
			put(it, 0x31);
		} else {
			put(it, rex(1, 0, r));
			put(it, 0x0f);
			put(it, 0x20);
			put(it, 0xc0 | ((rnd() & 1) ? 3 : 0) << 3 | (r & 7));
		}
		break;
	case 19:				/* jcc forward */
	case 20:
		it->kind = k == 20 ? I_JCC8 : I_JCC;
		it->cc = rnd() & 15;
		it->skip = rnd() % 4;
		break;
	case 21:
		it->kind = I_JMP;
		it->skip = rnd() % 3;
		break;
	case 22:				/* lea target(%rip),%rax; jmp *%rax */
		it->kind = I_JMPIND;
		it->skip = rnd() % 3;
		break;
	default:
		it->kind = I_CALL;
		break;
	}
}

#define MAX_ITEMS	48
#define NSUBS		2

struct program {
	struct item it[MAX_ITEMS];
	bool riprel[MAX_ITEMS];
	unsigned int n;
	unsigned int sub_first[NSUBS], sub_n[NSUBS];
};

static u32 item_size(const struct item *it)
{
	static const u8 size[] = { [I_JCC] = 6, [I_JCC8] = 2, [I_JMP] = 5,
				   [I_JMPIND] = 9, [I_CALL] = 5 };

	return it->kind == I_PLAIN ? it->len : size[it->kind];
}

/*
 * Lay the program out at @base: mov $loops,%r15d; body; dec %r15; jnz body;
 * cmp; hlt; then the subroutines, each ending in ret.  Branches and calls
 * are rel32; RIP-relative operands point into the data block.
 */
static size_t layout(struct program *p, unsigned int nbody, u64 base, u8 *out,
		     unsigned int loops)
{
	static const u8 tail[] = { 0x49, 0xff, 0xcf, 0x0f, 0x85 };	/* dec %r15; jnz */
	u32 off[MAX_ITEMS], sub_off[NSUBS], tail_off, pos = 6, i, j;
	size_t n = 0;
	s32 rel;

	for (i = 0; i < nbody; i++) {
		off[i] = pos;
		pos += item_size(&p->it[i]);
	}
	tail_off = pos;
	pos += 3 + 6 + 3 + 1;
	for (j = 0; j < NSUBS; j++) {
		sub_off[j] = pos;
		for (i = p->sub_first[j]; i < p->sub_first[j] + p->sub_n[j]; i++) {
			off[i] = pos;
			pos += item_size(&p->it[i]);
		}
		pos++;
	}

	out[n++] = 0x41;			/* mov $loops,%r15d */
	out[n++] = 0xbf;
	memcpy(out + n, &loops, 4);
	n += 4;
	for (i = 0; i < p->n; i++) {
		struct item *it = &p->it[i];
		u32 tgt;

		if (i == nbody) {
			memcpy(out + n, tail, sizeof(tail));
			n += sizeof(tail);
			rel = 6 - (s32)(n + 4);
			memcpy(out + n, &rel, 4);
			n += 4;
			out[n++] = 0x48;		/* cmp %rcx,%rax */
			out[n++] = 0x39;
			out[n++] = 0xc8;
			out[n++] = 0xf4;		/* hlt */
		}
		assert_int_equal(n, off[i]);
		switch (it->kind) {
		case I_PLAIN:
			memcpy(out + n, it->b, it->len);
			if (p->riprel[i]) {
				u32 slot, disp;

				memcpy(&slot, out + n + 3, 4);
				disp = (u32)(DATA_OFF + slot - (n + it->len));
				memcpy(out + n + 3, &disp, 4);
			}
			break;
		case I_JCC:
		case I_JMP:
		case I_JCC8:
		case I_JMPIND:
			tgt = i + 1 + it->skip < nbody ? off[i + 1 + it->skip] : tail_off;
			if (it->kind == I_JCC8) {
				rel = (s32)(tgt - (n + 2));
				assert_true(rel >= 0 && rel < 128);
				out[n] = 0x70 | it->cc;
				out[n + 1] = (u8)rel;
				break;
			}
			if (it->kind == I_JMPIND) {
				static const u8 ind[] = { 0x48, 0x8d, 0x05, 0, 0, 0, 0, 0xff, 0xe0 };

				memcpy(out + n, ind, sizeof(ind));
				rel = (s32)(tgt - (n + 7));
				memcpy(out + n + 3, &rel, 4);
				break;
			}
			if (it->kind == I_JCC) {
				out[n] = 0x0f;
				out[n + 1] = 0x80 | it->cc;
			} else {
				out[n] = 0xe9;
			}
			rel = (s32)(tgt - (n + item_size(it)));
			memcpy(out + n + item_size(it) - 4, &rel, 4);
			break;
		case I_CALL:
			out[n] = 0xe8;
			rel = (s32)(sub_off[it->skip] - (n + 5));
			memcpy(out + n + 1, &rel, 4);
			break;
		}
		n += item_size(it);
		for (j = 0; j < NSUBS; j++)
			if (i + 1 == p->sub_first[j] + p->sub_n[j])
				out[n++] = 0xc3;	/* ret */
	}
	assert_int_equal(n, pos);
	return n;
}

static void gen_program(struct program *p, unsigned int *nbody)
{
	unsigned int i, j;

	*nbody = 4 + rnd() % 24;
	p->n = 0;
	for (i = 0; i < *nbody; i++) {
		gen_item(&p->it[p->n], false, &p->riprel[p->n]);
		if (p->it[p->n].kind == I_CALL)
			p->it[p->n].skip = rnd() % NSUBS;
		p->n++;
	}
	for (j = 0; j < NSUBS; j++) {
		p->sub_first[j] = p->n;
		p->sub_n[j] = 1 + rnd() % 5;
		for (i = 0; i < p->sub_n[j]; i++, p->n++)
			gen_item(&p->it[p->n], true, &p->riprel[p->n]);
	}
}

static u64 rand_regs_seed;


static void rand_regs(struct vstate *s)
{
	u64 saved = rng;
	unsigned int i;

	rng = rand_regs_seed;
	for (i = 0; i < 16; i++)
		if (i != X86_RSP)
			s->gpr[i] = (rnd() & 1) ? rnd() : rnd() & 0xff;
	s->gpr[RDATA] = s->rip - (s->rip & (GSIZE - 1)) + DATA_OFF;
	s->rflags = 2 | (rnd() & (X86E_FL_ARITH | X86E_FL_DF)) | ((rnd() & 1) ? X86E_FL_IF : 0);
	for (i = 0; i < 256; i += 8)
		*(u64 *)(s->gpr[RDATA] + i) = rnd();
	rng = saved;
}

static void test_random(void **state)
{
	unsigned int runs = long_run() ? 200000 : 10000, r, nbody, mismatches = 0;
	unsigned long exits = 0, lookups = 0, flushes = 0;
	static u8 code[4096];
	struct monitor mon = default_monitor();

	mon.irq_budget = 0;
	for (r = 0; r < runs; r++) {
		u64 base = (r & 1) ? FAR_BASE : NEAR_BASE;
		struct program p;
		struct result bt, ref;
		size_t n;

		gen_program(&p, &nbody);
		n = layout(&p, nbody, base, code, 1 + rnd() % 3);
		rand_regs_seed = rnd();
		mon.irq_budget = (r % 3 == 0) ? 3 : 0;
		mon.tc = (r % 4 == 3) ? &tc2 : &tc;	/* a cache that flushes */
		flushes -= tc2.stats.flushes;
		exits -= tc2.stats.translate_exits + tc2.stats.callouts;
		run_both(&mon, base, code, code + n, rand_regs, &bt, &ref);
		flushes += tc2.stats.flushes - 1;	/* less run_both's own */
		exits += tc2.stats.translate_exits + tc2.stats.callouts;
		exits += tc.stats.translate_exits + tc.stats.callouts;
		lookups += area->ind_lookups;
		if (bt.end != END_HLT || ref.end != END_HLT) {
			fprintf(stderr, "run %u: ends %d %d\n", r, bt.end, ref.end);
			mismatches++;
			continue;
		}
		if (memcmp(bt.s.gpr, ref.s.gpr, sizeof(bt.s.gpr)) ||
		    (bt.s.rflags ^ ref.s.rflags) & ARITH_DF_IF ||
		    memcmp((void *)NEAR_BASE, copy.near, GSIZE) ||
		    memcmp((void *)FAR_BASE, copy.far, GSIZE)) {
			fprintf(stderr, "run %u: state differs\n", r);
			mismatches++;
		}
	}
	print_message("random: %u programs, %u mismatches, %lu exits, %lu lookups, %lu flushes\n",
		      runs, mismatches, exits, lookups, flushes);
	assert_int_equal(mismatches, 0);
	assert_true(lookups > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shape_ident),
		cmocka_unit_test(test_shape_forced_callout),
		cmocka_unit_test(test_shape_riprel_near),
		cmocka_unit_test(test_shape_riprel_far),
		cmocka_unit_test(test_shape_riprel_far_vex),
		cmocka_unit_test(test_shape_riprel_addr32),
		cmocka_unit_test(test_shape_branches),
		cmocka_unit_test(test_shape_callouts),
		cmocka_unit_test(test_shape_ud_and_limits),
		cmocka_unit_test(test_shape_virtual_flags),
		cmocka_unit_test(test_shape_popf_run),
		cmocka_unit_test(test_shape_random_bytes),
		cmocka_unit_test(test_chain_patch),
		cmocka_unit_test(test_exit_decode),
		cmocka_unit_test(test_exec_isprime),
		cmocka_unit_test(test_exec_flush),
		cmocka_unit_test(test_exec_fib),
		cmocka_unit_test(test_exec_flags),
		cmocka_unit_test(test_exec_riprel),
		cmocka_unit_test(test_exec_smc),
		cmocka_unit_test(test_exec_callouts),
		cmocka_unit_test(test_precise),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
