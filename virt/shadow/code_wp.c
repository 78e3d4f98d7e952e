// SPDX-License-Identifier: GPL-2.0
/*
 * hyvm shadow MMU: write protection of frames that hold translated code.
 *
 * bt runs guest kernel code from a translation cache and must see every
 * store to a frame it translated from.  Such frames are "code-protected":
 * no shadow leaf of any view maps them writable, so a guest store faults
 * and the fault handler reports it (HYVM_SHADOW_CODE_WRITE) instead of
 * making the leaf writable.  This is a reason to write-protect a frame
 * independent of page-table tracing (a frame may be both); the set of
 * code-protected frames is a hash of guest frame numbers, like the rmap.
 */
#include "shadow.h"

struct hyvm_code_page {
	struct hyvm_code_page *next;
	u64 gfn;
};

/**
 * hyvm_shadow_code_protected - is @gfn code-protected?
 * @vm: the VM
 * @gfn: guest frame
 *
 * Return: true between hyvm_shadow_protect_code() and
 * hyvm_shadow_unprotect_code() for @gfn.
 */
bool hyvm_shadow_code_protected(const struct hyvm_shadow_vm *vm, u64 gfn)
{
	const struct hyvm_code_page *c;

	for (c = vm->code[hyvm_shadow_hash(gfn)]; c; c = c->next)
		if (c->gfn == gfn)
			return true;
	return false;
}

/**
 * hyvm_shadow_protect_code - let no shadow leaf map @gfn writable
 * @vm: the VM
 * @gfn: guest frame the caller translated code from
 *
 * Every existing writable leaf mapping @gfn, in every view (including
 * the 4 KiB leaves of direct pages under guest large pages), is made
 * read-only, setting @vm->tlb_dirty if there was one: the caller must
 * flush every TLB before it relies on the protection.  From then on an
 * allowed guest store to the frame makes hyvm_shadow_page_fault() return
 * %HYVM_SHADOW_CODE_WRITE.  Protecting a protected frame does nothing.
 *
 * Return: 0, or -ENOMEM (the frame is then not protected).
 */
int hyvm_shadow_protect_code(struct hyvm_shadow_vm *vm, u64 gfn)
{
	struct hyvm_code_page *c;
	u32 b;

	if (hyvm_shadow_code_protected(vm, gfn))
		return 0;
	c = hyvm_shadow_meta_alloc(vm, sizeof(*c));
	if (!c)
		return -ENOMEM;
	b = hyvm_shadow_hash(gfn);
	c->gfn = gfn;
	c->next = vm->code[b];
	vm->code[b] = c;
	vm->stats.code_protects++;
	hyvm_shadow_wrprot_gfn(vm, gfn);
	return 0;
}

/**
 * hyvm_shadow_unprotect_code - @gfn no longer holds translated code
 * @vm: the VM
 * @gfn: guest frame
 *
 * Existing leaves stay read-only; the next store faults and is then
 * mapped writable as any hidden fault, unless the frame is a traced page
 * table.  Unprotecting a frame that is not protected does nothing.
 */
void hyvm_shadow_unprotect_code(struct hyvm_shadow_vm *vm, u64 gfn)
{
	struct hyvm_code_page **pp, *c;

	for (pp = &vm->code[hyvm_shadow_hash(gfn)]; (c = *pp); pp = &c->next) {
		if (c->gfn == gfn) {
			*pp = c->next;
			hyvm_shadow_meta_free(vm, c);
			return;
		}
	}
}

/* Teardown: forget every protected frame. */
void hyvm_code_free_all(struct hyvm_shadow_vm *vm)
{
	u32 i;

	for (i = 0; i < (1u << HYVM_SHADOW_HASH_BITS); i++) {
		while (vm->code[i]) {
			struct hyvm_code_page *c = vm->code[i];

			vm->code[i] = c->next;
			hyvm_shadow_meta_free(vm, c);
		}
	}
}
