/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The translation cache: CCF code in a fixed-size buffer, the TUs that
 * own it, their exit sites and precise-state maps, lookup by guest RIP,
 * chaining, invalidation by guest page and the full flush.
 *
 * All of this lives in the monitor's memory except the CCF code and the
 * indirect lookup table, which CCFs read at CPL3 (and never write).
 */
#ifndef HYVM_BT_TC_H
#define HYVM_BT_TC_H

#include "portable.h"
#include "bt_area.h"

/* Most exit sites and map entries one TU can have. */
#define BT_TU_MAX_INSNS		12
#define BT_TU_MAX_EXITS		16
#define BT_TU_MAX_MAP		80

/**
 * struct bt_tc_config - where the cache, the area and the table are
 * @tc_buf: the cache as the monitor writes it
 * @tc_exec: the cache's address where CCFs run (in the VMM region)
 * @tc_size: bytes in the cache
 * @area_exec: the per-vCPU area's address where CCFs run; every vCPU's
 *	area is mapped there in its own guest world
 * @ht: the indirect lookup table as the monitor writes it
 * @ht_exec: its address where CCFs run
 * @exit_stub: where CCFs jump to leave the cache
 * @max_tus: TU slots; a full table flushes the cache like full code space
 * @fetch: reads guest code at guest linear address @rip; returns how
 *	many of the @n bytes it could read (it stops at the first it cannot)
 * @opaque: for @fetch
 * @amd: the host is AMD (decode as it executes)
 * @callout_at: optional: true for a guest RIP whose instruction must be a
 *	callout even though it could be copied (adaptive translation: an
 *	instruction that keeps writing traced memory)
 *
 * @area_exec, @ht_exec and @exit_stub must be within +-2 GiB of every
 * byte of the cache: CCFs reach them RIP-relative.
 */
struct bt_tc_config {
	u8 *tc_buf;
	u64 tc_exec;
	u32 tc_size;
	u64 area_exec;
	struct bt_ht_entry *ht;
	u64 ht_exec;
	u64 exit_stub;
	u32 max_tus;
	unsigned int (*fetch)(void *opaque, u64 rip, u8 *buf, unsigned int n);
	void *opaque;
	bool amd;
	bool (*callout_at)(void *opaque, u64 rip);
};

/**
 * struct bt_tc_stats - counters, shown by the kernel in debugfs
 * @tus: TUs translated
 * @ccf_bytes: bytes of CCF code emitted
 * @chains: continuations patched into direct jumps
 * @translate_exits: continuations taken before they were chained
 * @ind_misses: indirect lookups that left the cache
 * @callouts: instructions handed to the monitor
 * @ud_exits: undecodable instructions reached
 * @irq_exits: sti/popf exits for a pending interrupt
 * @invalidations: TUs invalidated for a write to their guest code
 * @flushes: full flushes of the cache
 * @bad_exits: exits whose area fields did not match an exit site
 *
 * Indirect lookups done in the cache are counted in the area
 * (bt_vcpu_area.ind_lookups), since CCFs cannot write here.
 */
struct bt_tc_stats {
	u64 tus;
	u64 ccf_bytes;
	u64 chains;
	u64 translate_exits;
	u64 ind_misses;
	u64 callouts;
	u64 ud_exits;
	u64 irq_exits;
	u64 invalidations;
	u64 flushes;
	u64 bad_exits;
};

/* A TC-address range of one guest instruction; see bt_tc_map_addr(). */
struct bt_map_ent {
	u16 tc_off;		/* from the CCF's start */
	u16 saved;		/* guest GPRs held in bt_vcpu_area.save[] */
	u16 start;		/* tc_off is where the instruction begins */
	u64 rip;		/* guest RIP of the instruction */
};

/**
 * struct bt_exit_rec - one exit site of a CCF
 * @rip: continuation: the guest target; callout and #UD: the instruction;
 *	interrupt window: the next instruction; indirect branch: the branch
 * @tu: the TU it belongs to
 * @field: TC offset of the rel32 that a chain re-targets (continuations)
 * @exit_off: TC offset of the exit code: where @field points unchained
 * @chained: the TU it is chained to, plus one; 0 when unchained
 * @in_next: the next exit chained to the same TU, plus one
 * @rsp_undo: indirect branches: what to add to the guest's RSP at a miss
 *	to get its value before the branch (ret popped, call pushed)
 * @reason: enum bt_exit_reason
 */
struct bt_exit_rec {
	u64 rip;
	u32 tu;
	u32 field;
	u32 exit_off;
	u32 chained;
	u32 in_next;
	s32 rsp_undo;
	u8 reason;
};

/**
 * struct bt_tu - a translated unit and its CCF
 * @rip: guest RIP of the first instruction
 * @glen: guest bytes the TU was translated from
 * @tc_off: TC offset of the CCF
 * @tc_len: bytes of CCF code, exits included
 * @map_first: first entry of its precise-state map in bt_tc.map
 * @nr_map: entries in the map
 * @exit_first: first exit record in bt_tc.exits
 * @nr_exits: exit records
 * @in_head: first exit chained into this TU, plus one
 * @hash_next: next TU in the same lookup bucket, plus one
 * @ninsns: guest instructions in the TU
 * @valid: not invalidated
 */
struct bt_tu {
	u64 rip;
	u32 glen;
	u32 tc_off;
	u32 tc_len;
	u32 map_first;
	u32 nr_map;
	u32 exit_first;
	u32 nr_exits;
	u32 in_head;
	u32 hash_next;
	u8 ninsns;
	bool valid;
};

/**
 * struct bt_tc - a translation cache (one per VM)
 * @cfg: where things are
 * @used: bytes of the cache taken; CCFs are allocated upwards
 * @lookup_off: TC offset of the shared indirect-lookup code
 * @empty_off: TC offset of the code empty table entries point to
 * @tus: TU slots, in TC order
 * @nr_tus: TUs allocated since the last flush
 * @exits: exit records; index 0 is never used
 * @nr_exits: exit records allocated
 * @max_exits: exit record slots
 * @map: precise-state map entries
 * @nr_map: entries allocated
 * @max_map: entry slots
 * @hash: lookup buckets by guest RIP (TU index plus one)
 * @hash_mask: buckets minus one
 * @stats: counters
 */
struct bt_tc {
	struct bt_tc_config cfg;
	u32 used;
	u32 lookup_off;
	u32 empty_off;
	struct bt_tu *tus;
	u32 nr_tus;
	struct bt_exit_rec *exits;
	u32 nr_exits, max_exits;
	struct bt_map_ent *map;
	u32 nr_map, max_map;
	u32 *hash;
	u32 hash_mask;
	struct bt_tc_stats stats;
};

/**
 * struct bt_exit - an exit, validated
 * @reason: enum bt_exit_reason
 * @rip: the guest RIP it is about (an indirect miss: the branch target)
 * @id: the exit record
 * @src_rip: an indirect miss: the branch instruction
 * @rsp_undo: an indirect miss: add to RSP for its value before the branch,
 *	as a fault of the branch itself (a non-canonical target) needs
 */
struct bt_exit {
	u32 reason;
	u64 rip;
	u32 id;
	u64 src_rip;
	s32 rsp_undo;
};

/**
 * struct bt_precise - the guest state at a TC address
 * @tu: the TU whose CCF holds the address
 * @rip: guest RIP of the instruction being executed
 * @saved: guest GPRs whose values are in bt_vcpu_area.save[] rather than
 *	in the registers (bit n for GPR n)
 * @at_start: the address is where the instruction begins: nothing of it
 *	has run, so the guest can be stopped here (an asynchronous event
 *	elsewhere must let the CCF run on to an exit)
 *
 * A fault at the address means the instruction at @rip faulted with
 * nothing of it done: the registers (with @saved taken from the area) and
 * memory are the guest's as they were before the instruction.
 */
struct bt_precise {
	struct bt_tu *tu;
	u64 rip;
	u16 saved;
	bool at_start;
};

int bt_tc_init(struct bt_tc *tc, const struct bt_tc_config *cfg);
void bt_tc_destroy(struct bt_tc *tc);
void bt_tc_flush(struct bt_tc *tc);
struct bt_tu *bt_tc_lookup(struct bt_tc *tc, u64 rip);
void bt_tc_ht_insert(struct bt_tc *tc, struct bt_tu *tu);
int bt_tc_chain(struct bt_tc *tc, u32 exit_id, struct bt_tu *to);
unsigned int bt_tc_invalidate_page(struct bt_tc *tc, u64 page);
void bt_tc_invalidate_tu(struct bt_tc *tc, struct bt_tu *tu);
int bt_tc_exit_decode(struct bt_tc *tc, const struct bt_vcpu_area *area,
		      struct bt_exit *out);
bool bt_tc_map_addr(struct bt_tc *tc, u64 tc_addr, struct bt_precise *p);

static inline u64 bt_tu_exec(const struct bt_tc *tc, const struct bt_tu *tu)
{
	return tc->cfg.tc_exec + tu->tc_off;
}

static inline u64 bt_tc_area_field(const struct bt_tc *tc, size_t off)
{
	return tc->cfg.area_exec + off;
}

/* For the translator (translate.c). */
void bt_tc_emit_stubs(struct bt_tc *tc);
void bt_tc_hash_add(struct bt_tc *tc, u32 idx);

#endif /* HYVM_BT_TC_H */
