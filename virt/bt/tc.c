// SPDX-License-Identifier: GPL-2.0
/*
 * The translation cache: allocation, lookup by guest RIP, chaining,
 * invalidation, flush, the code every CCF shares (the indirect lookup), the
 * checks on what CCFs leave in the per-vCPU area, and the map from a TC
 * address back to the guest instruction.
 */
#include "tc.h"
#include "emit.h"

#define AREA(tc, field)	bt_tc_area_field(tc, offsetof(struct bt_vcpu_area, field))
#define SAVE(tc, reg)	bt_tc_area_field(tc, offsetof(struct bt_vcpu_area, save) + 8 * (reg))

enum { RAX, RCX, RDX };

static void ht_clear(struct bt_tc *tc)
{
	u64 empty = tc->cfg.tc_exec + tc->empty_off;
	u32 i;

	/* neg_rip 1 matches only RIP ~0, which is never entered (see below). */
	for (i = 0; i < BT_HT_SIZE; i++) {
		tc->cfg.ht[i].neg_rip = 1;
		tc->cfg.ht[i].tc = empty;
	}
}

/* exit_id was stored by the indirect branch that started the lookup. */
static void emit_exit_tail(struct bt_tc *tc, struct bt_emit *e)
{
	bt_emit_movq_simm(e, AREA(tc, exit_reason), BT_EXIT_IND_MISS);
	bt_emit_jmp(e, tc->cfg.exit_stub);
}

/*
 * The shared indirect lookup, entered by a jmp with the guest's rax, rcx
 * and rdx in save[], the guest target in %rax and the branch's exit record
 * in exit_id.  It compares with lea and
 * jrcxz, so the guest's flags survive both a hit and a miss.
 */
void bt_tc_emit_stubs(struct bt_tc *tc)
{
	static const u8 count[] = { 0x48, 0x8d, 0x49, 0x01 };	/* lea 1(%rcx),%rcx */
	static const u8 lookup1[] = {
		0x0f, 0xb7, 0xc8,		/* movzwl %ax,%ecx */
	};
	static const u8 lea_ht[] = { 0x48, 0x8d };
	static const u8 lookup2[] = {
		0x48, 0x8d, 0x14, 0xca,		/* lea (%rdx,%rcx,8),%rdx */
		0x48, 0x8d, 0x14, 0xca,		/* lea (%rdx,%rcx,8),%rdx */
		0x48, 0x8b, 0x0a,		/* mov (%rdx),%rcx */
		0x48, 0x8d, 0x0c, 0x01,		/* lea (%rcx,%rax),%rcx */
		0xe3, 0x00,			/* jrcxz hit */
	};
	static const u8 hit1[] = { 0x48, 0x8b, 0x52, 0x08 };	/* mov 8(%rdx),%rdx */
	static const u8 jmp_ind[] = { 0xff };
	struct bt_emit e = {
		.buf = tc->cfg.tc_buf, .exec = tc->cfg.tc_exec, .cap = tc->cfg.tc_size,
	};
	u32 jrcxz;

	tc->lookup_off = e.pos;
	bt_emit_store_gpr(&e, RAX, AREA(tc, ind_target));
	bt_emit_load_gpr(&e, RCX, AREA(tc, ind_lookups));
	bt_emit_bytes(&e, count, sizeof(count));
	bt_emit_store_gpr(&e, RCX, AREA(tc, ind_lookups));
	bt_emit_bytes(&e, lookup1, sizeof(lookup1));
	bt_emit_riprel(&e, lea_ht, 2, RDX, tc->cfg.ht_exec, 0);
	bt_emit_bytes(&e, lookup2, sizeof(lookup2));
	jrcxz = e.pos;
	/* miss */
	bt_emit_store_gpr(&e, RAX, AREA(tc, exit_rip));
	bt_emit_load_gpr(&e, RAX, SAVE(tc, RAX));
	bt_emit_load_gpr(&e, RCX, SAVE(tc, RCX));
	bt_emit_load_gpr(&e, RDX, SAVE(tc, RDX));
	emit_exit_tail(tc, &e);
	/* hit */
	e.buf[jrcxz - 1] = (u8)(e.pos - jrcxz);
	bt_emit_bytes(&e, hit1, sizeof(hit1));
	bt_emit_store_gpr(&e, RDX, AREA(tc, jmp_target));
	bt_emit_load_gpr(&e, RAX, SAVE(tc, RAX));
	bt_emit_load_gpr(&e, RCX, SAVE(tc, RCX));
	bt_emit_load_gpr(&e, RDX, SAVE(tc, RDX));
	bt_emit_riprel(&e, jmp_ind, 1, 4, AREA(tc, jmp_target), 0);

	/* Empty table entries: a hit on RIP ~0 lands here, as a miss. */
	tc->empty_off = e.pos;
	bt_emit_store_gpr(&e, RAX, SAVE(tc, RAX));
	bt_emit_load_gpr(&e, RAX, AREA(tc, ind_target));
	bt_emit_store_gpr(&e, RAX, AREA(tc, exit_rip));
	bt_emit_load_gpr(&e, RAX, SAVE(tc, RAX));
	emit_exit_tail(tc, &e);

	tc->used = (e.pos + 63) & ~63u;
	WARN_ON_ONCE(e.overflow);
}

/**
 * bt_tc_init() - set up an empty translation cache
 * @tc: the cache
 * @cfg: where its parts are; see struct bt_tc_config
 *
 * Return: 0, -EINVAL when the parts are out of each other's reach or too
 * small, -ENOMEM.
 */
int bt_tc_init(struct bt_tc *tc, const struct bt_tc_config *cfg)
{
	u64 lo = cfg->tc_exec, hi = cfg->tc_exec + cfg->tc_size;
	u32 buckets = 64;

	memset(tc, 0, sizeof(*tc));
	if (cfg->tc_size < 4096 || cfg->max_tus < 4 || !cfg->fetch)
		return -EINVAL;
	if (!bt_rel32_ok(lo, cfg->area_exec) || !bt_rel32_ok(hi, cfg->area_exec) ||
	    !bt_rel32_ok(lo, cfg->ht_exec) || !bt_rel32_ok(hi, cfg->ht_exec) ||
	    !bt_rel32_ok(lo, cfg->exit_stub) || !bt_rel32_ok(hi, cfg->exit_stub))
		return -EINVAL;
	tc->cfg = *cfg;
	while (buckets < cfg->max_tus)
		buckets <<= 1;
	tc->hash_mask = buckets - 1;
	tc->max_exits = cfg->max_tus * BT_TU_MAX_EXITS + 1;
	tc->max_map = cfg->max_tus * BT_TU_MAX_MAP;
	tc->tus = hyvm_env_alloc(sizeof(*tc->tus) * cfg->max_tus);
	tc->exits = hyvm_env_alloc(sizeof(*tc->exits) * tc->max_exits);
	tc->map = hyvm_env_alloc(sizeof(*tc->map) * tc->max_map);
	tc->hash = hyvm_env_alloc(sizeof(*tc->hash) * buckets);
	if (!tc->tus || !tc->exits || !tc->map || !tc->hash) {
		bt_tc_destroy(tc);
		return -ENOMEM;
	}
	bt_tc_flush(tc);
	tc->stats.flushes = 0;
	return 0;
}

void bt_tc_destroy(struct bt_tc *tc)
{
	hyvm_env_free(tc->tus);
	hyvm_env_free(tc->exits);
	hyvm_env_free(tc->map);
	hyvm_env_free(tc->hash);
	tc->tus = NULL;
	tc->exits = NULL;
	tc->map = NULL;
	tc->hash = NULL;
}

/**
 * bt_tc_flush() - drop every translation
 * @tc: the cache
 *
 * No CCF may be running: the monitor flushes while the vCPUs of the VM
 * are out of the cache (the translator does it when the cache is full).
 */
void bt_tc_flush(struct bt_tc *tc)
{
	tc->nr_tus = 0;
	tc->nr_exits = 1;		/* 0: no exit, as in a fresh area */
	tc->nr_map = 0;
	memset(tc->exits, 0, sizeof(*tc->exits));
	memset(tc->hash, 0, sizeof(*tc->hash) * (tc->hash_mask + 1));
	bt_tc_emit_stubs(tc);
	ht_clear(tc);
	tc->stats.flushes++;
}

static u32 hash_rip(const struct bt_tc *tc, u64 rip)
{
	u64 h = rip * 0x9e3779b97f4a7c15ULL;

	return (u32)(h >> 40) & tc->hash_mask;
}

void bt_tc_hash_add(struct bt_tc *tc, u32 idx)
{
	u32 b = hash_rip(tc, tc->tus[idx].rip);

	tc->tus[idx].hash_next = tc->hash[b];
	tc->hash[b] = idx + 1;
}

static void hash_del(struct bt_tc *tc, u32 idx)
{
	u32 *p = &tc->hash[hash_rip(tc, tc->tus[idx].rip)];

	while (*p) {
		if (*p == idx + 1) {
			*p = tc->tus[idx].hash_next;
			return;
		}
		p = &tc->tus[*p - 1].hash_next;
	}
}

/* The valid TU that starts at guest @rip, or NULL. */
struct bt_tu *bt_tc_lookup(struct bt_tc *tc, u64 rip)
{
	u32 i = tc->hash[hash_rip(tc, rip)];

	while (i) {
		struct bt_tu *tu = &tc->tus[i - 1];

		if (tu->rip == rip && tu->valid)
			return tu;
		i = tu->hash_next;
	}
	return NULL;
}

/* Make @tu the indirect lookup table's entry for its RIP. */
void bt_tc_ht_insert(struct bt_tc *tc, struct bt_tu *tu)
{
	struct bt_ht_entry *h = &tc->cfg.ht[tu->rip & (BT_HT_SIZE - 1)];

	if (tu->rip == ~0ULL || !tu->valid)
		return;		/* ~0 is what empty entries match */
	/*
	 * Other vCPUs may be looking the entry up: make it match nothing,
	 * then set its CCF, then its RIP (x86 keeps the stores in order).
	 */
	WRITE_ONCE(h->neg_rip, 1);
	WRITE_ONCE(h->tc, bt_tu_exec(tc, tu));
	WRITE_ONCE(h->neg_rip, -tu->rip);
}

static void patch_exit(struct bt_tc *tc, struct bt_exit_rec *x, u64 target)
{
	bt_emit_patch_rel32(tc->cfg.tc_buf + x->field, tc->cfg.tc_exec + x->field, target);
}

/**
 * bt_tc_chain() - turn a taken continuation into a direct jump
 * @tc: the cache
 * @exit_id: the continuation (from bt_tc_exit_decode())
 * @to: the TU for the continuation's guest target
 *
 * Return: 0, or -EINVAL when @exit_id is no continuation to @to's RIP.
 */
int bt_tc_chain(struct bt_tc *tc, u32 exit_id, struct bt_tu *to)
{
	struct bt_exit_rec *x;
	u32 to_idx = to - tc->tus;

	if (!exit_id || exit_id >= tc->nr_exits || !to->valid)
		return -EINVAL;
	x = &tc->exits[exit_id];
	if (x->reason != BT_EXIT_TRANSLATE || x->rip != to->rip || x->chained ||
	    !tc->tus[x->tu].valid)
		return -EINVAL;
	patch_exit(tc, x, bt_tu_exec(tc, to));
	x->chained = to_idx + 1;
	x->in_next = to->in_head;
	to->in_head = exit_id + 1;
	tc->stats.chains++;
	return 0;
}

/* Unlink exit @id from the incoming list of the TU it is chained to. */
static void unlink_in(struct bt_tc *tc, u32 id)
{
	struct bt_exit_rec *x = &tc->exits[id];
	u32 *p = &tc->tus[x->chained - 1].in_head;

	while (*p) {
		if (*p == id + 1) {
			*p = x->in_next;
			break;
		}
		p = &tc->exits[*p - 1].in_next;
	}
	x->chained = 0;
	x->in_next = 0;
}

static void tu_invalidate(struct bt_tc *tc, struct bt_tu *tu)
{
	u32 idx = tu - tc->tus;
	struct bt_ht_entry *h = &tc->cfg.ht[tu->rip & (BT_HT_SIZE - 1)];
	u32 i;

	tu->valid = false;
	hash_del(tc, idx);
	if (h->tc == bt_tu_exec(tc, tu)) {
		h->neg_rip = 1;
		h->tc = tc->cfg.tc_exec + tc->empty_off;
	}
	/* Whoever jumps here goes back to its exit and so to the monitor. */
	while (tu->in_head) {
		u32 id = tu->in_head - 1;
		struct bt_exit_rec *x = &tc->exits[id];

		patch_exit(tc, x, tc->cfg.tc_exec + x->exit_off);
		unlink_in(tc, id);
	}
	/* and a vCPU still inside this CCF leaves at its next exit */
	for (i = 0; i < tu->nr_exits; i++) {
		u32 id = tu->exit_first + i;
		struct bt_exit_rec *x = &tc->exits[id];

		if (!x->chained)
			continue;
		patch_exit(tc, x, tc->cfg.tc_exec + x->exit_off);
		unlink_in(tc, id);
	}
	tc->stats.invalidations++;
}

/**
 * bt_tc_invalidate_page() - forget the TUs translated from a guest page
 * @tc: the cache
 * @page: guest linear address of the 4 KiB page written to
 *
 * Every TU with a guest byte on the page is taken out of the lookups and
 * every chain into it is undone, so that the next execution translates
 * the new code.  The CCF's bytes stay until the next flush.
 *
 * Return: the number of TUs invalidated.
 */
unsigned int bt_tc_invalidate_page(struct bt_tc *tc, u64 page)
{
	unsigned int n = 0;
	u32 i;

	page &= ~0xfffULL;
	for (i = 0; i < tc->nr_tus; i++) {
		struct bt_tu *tu = &tc->tus[i];

		if (!tu->valid || tu->rip + tu->glen <= page || tu->rip >= page + 4096)
			continue;
		tu_invalidate(tc, tu);
		n++;
	}
	return n;
}

/**
 * bt_tc_invalidate_tu() - forget one TU
 * @tc: the cache
 * @tu: a TU of the cache; nothing happens if it is invalid already
 *
 * As bt_tc_invalidate_page() does for each TU of a page: the next
 * execution of its guest code comes back to the monitor.
 */
void bt_tc_invalidate_tu(struct bt_tc *tc, struct bt_tu *tu)
{
	if (tu->valid)
		tu_invalidate(tc, tu);
}

/**
 * bt_tc_exit_decode() - read and check the exit a CCF left in the area
 * @tc: the cache
 * @area: the vCPU's area, as the monitor maps it
 * @out: the exit
 *
 * The area is writable at CPL3, so nothing in it is believed: the exit id
 * must name an exit site that records the same reason and guest RIP.  The
 * target of an indirect miss is the guest's own doing (it could have
 * jumped there anyway); its branch comes from the exit record.
 *
 * Return: 0, or -EINVAL (counted in bad_exits) when the fields disagree.
 */
int bt_tc_exit_decode(struct bt_tc *tc, const struct bt_vcpu_area *area,
		      struct bt_exit *out)
{
	u64 reason = READ_ONCE(area->exit_reason);
	u64 rip = READ_ONCE(area->exit_rip);
	u64 id = READ_ONCE(area->exit_id);
	const struct bt_exit_rec *x;

	if (!id || id >= tc->nr_exits)
		goto bad;
	x = &tc->exits[id];
	if (x->reason != reason)
		goto bad;
	out->reason = x->reason;
	out->rip = x->rip;
	out->id = (u32)id;
	out->src_rip = 0;
	out->rsp_undo = 0;
	if (x->reason == BT_EXIT_IND_MISS) {
		out->rip = rip;
		out->src_rip = x->rip;
		out->rsp_undo = x->rsp_undo;
		tc->stats.ind_misses++;
		return 0;
	}
	if (x->rip != rip)
		goto bad;
	switch (x->reason) {
	case BT_EXIT_TRANSLATE:
		tc->stats.translate_exits++;
		break;
	case BT_EXIT_CALLOUT:
		tc->stats.callouts++;
		break;
	case BT_EXIT_UD:
		tc->stats.ud_exits++;
		break;
	case BT_EXIT_IRQ_WINDOW:
		tc->stats.irq_exits++;
		break;
	}
	return 0;
bad:
	tc->stats.bad_exits++;
	return -EINVAL;
}

/**
 * bt_tc_map_addr() - the guest instruction a TC address belongs to
 * @tc: the cache
 * @tc_addr: an address in the cache (a faulting RIP, say)
 * @p: the guest state there; see struct bt_precise
 *
 * Return: false when @tc_addr is in no CCF (the shared lookup, or free
 * space): nothing there faults, and the monitor must not guess.
 */
bool bt_tc_map_addr(struct bt_tc *tc, u64 tc_addr, struct bt_precise *p)
{
	u64 off = tc_addr - tc->cfg.tc_exec;
	u32 lo = 0, hi = tc->nr_tus, i;
	struct bt_tu *tu = NULL;
	const struct bt_map_ent *m = NULL;

	if (tc_addr < tc->cfg.tc_exec || off >= tc->used)
		return false;
	while (lo < hi) {		/* TUs are allocated in TC order */
		u32 mid = (lo + hi) / 2;

		if (tc->tus[mid].tc_off <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return false;
	tu = &tc->tus[lo - 1];
	if (off >= tu->tc_off + tu->tc_len)
		return false;
	off -= tu->tc_off;
	for (i = 0; i < tu->nr_map; i++) {
		const struct bt_map_ent *e = &tc->map[tu->map_first + i];

		if (e->tc_off > off)
			break;
		m = e;
	}
	if (!m)
		return false;
	p->tu = tu;
	p->rip = m->rip;
	p->saved = m->saved;
	p->at_start = m->start && m->tc_off == off;
	return true;
}
