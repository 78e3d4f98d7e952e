// SPDX-License-Identifier: GPL-2.0
/*
 * hyvm shadow MMU: reference lists and the reverse map.
 *
 * A reference names one shadow entry as (shadow page, index).  Each shadow
 * page lists the entries that point at it (its parents), so that zapping
 * it can clear them; the reverse map lists, per guest frame, the shadow
 * leaves that map it, so that a frame can be write-protected when it
 * becomes a shadowed page table, or unmapped when the host takes it away.
 */
#include "shadow.h"

void *hyvm_shadow_meta_alloc(struct hyvm_shadow_vm *vm, size_t size)
{
	void *p = hyvm_env_alloc(size);

	if (p)
		vm->stats.meta_objects++;
	return p;
}

void hyvm_shadow_meta_free(struct hyvm_shadow_vm *vm, void *p)
{
	if (!p)
		return;
	vm->stats.meta_objects--;
	hyvm_env_free(p);
}

u32 hyvm_shadow_hash(u64 gfn)
{
	/* Fibonacci hashing: frames of one table region spread out. */
	return (u32)((gfn * 0x9e3779b97f4a7c15ULL) >> (64 - HYVM_SHADOW_HASH_BITS));
}

int hyvm_ref_add(struct hyvm_shadow_vm *vm, struct hyvm_ref_list *l,
		 struct hyvm_sp *sp, u32 idx)
{
	if (l->n == l->cap) {
		u32 cap = l->cap ? l->cap * 2 : 4;
		struct hyvm_sptep *v;

		v = hyvm_shadow_meta_alloc(vm, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		if (l->n)
			memcpy(v, l->v, l->n * sizeof(*v));
		hyvm_shadow_meta_free(vm, l->v);
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].sp = sp;
	l->v[l->n].idx = idx;
	l->n++;
	return 0;
}

void hyvm_ref_del(struct hyvm_shadow_vm *vm, struct hyvm_ref_list *l,
		  struct hyvm_sp *sp, u32 idx)
{
	u32 i;

	for (i = 0; i < l->n; i++) {
		if (l->v[i].sp == sp && l->v[i].idx == idx) {
			l->v[i] = l->v[--l->n];
			if (!l->n)
				hyvm_ref_free(vm, l);
			return;
		}
	}
	WARN_ON_ONCE(1);
}

void hyvm_ref_free(struct hyvm_shadow_vm *vm, struct hyvm_ref_list *l)
{
	hyvm_shadow_meta_free(vm, l->v);
	l->v = NULL;
	l->n = 0;
	l->cap = 0;
}

struct hyvm_rmap_head *hyvm_rmap_find(struct hyvm_shadow_vm *vm, u64 gfn)
{
	struct hyvm_rmap_head *h;

	for (h = vm->rmap[hyvm_shadow_hash(gfn)]; h; h = h->next)
		if (h->gfn == gfn)
			return h;
	return NULL;
}

int hyvm_rmap_add(struct hyvm_shadow_vm *vm, u64 gfn, struct hyvm_sp *sp,
		  u32 idx)
{
	struct hyvm_rmap_head *h = hyvm_rmap_find(vm, gfn);
	int r;

	if (!h) {
		u32 b = hyvm_shadow_hash(gfn);

		h = hyvm_shadow_meta_alloc(vm, sizeof(*h));
		if (!h)
			return -ENOMEM;
		h->gfn = gfn;
		h->next = vm->rmap[b];
		vm->rmap[b] = h;
	}
	r = hyvm_ref_add(vm, &h->refs, sp, idx);
	if (r && !h->refs.n)
		hyvm_rmap_del(vm, gfn, NULL, 0);
	return r;
}

/* Remove one reference (@sp NULL: none, just drop an empty head). */
void hyvm_rmap_del(struct hyvm_shadow_vm *vm, u64 gfn, struct hyvm_sp *sp,
		   u32 idx)
{
	struct hyvm_rmap_head **pp, *h;

	for (pp = &vm->rmap[hyvm_shadow_hash(gfn)]; (h = *pp); pp = &h->next) {
		if (h->gfn != gfn)
			continue;
		if (sp)
			hyvm_ref_del(vm, &h->refs, sp, idx);
		if (!h->refs.n) {
			*pp = h->next;
			hyvm_ref_free(vm, &h->refs);
			hyvm_shadow_meta_free(vm, h);
		}
		return;
	}
	WARN_ON_ONCE(sp);
}
