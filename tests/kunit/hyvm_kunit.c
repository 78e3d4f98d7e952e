// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suites for hyvm's internals, built as hyvm_kunit.ko against kernels
 * with KUnit.  The functions under test are exported by hyvm.ko into the
 * HYVM_KUNIT namespace only in such builds.
 */
#include <kunit/test.h>
#include <linux/module.h>
#include <asm/cpufeature.h>
#include <asm/processor-flags.h>
#include <asm/msr-index.h>
#include "hyvm.h"
#include "gmem.h"

/* ---- memory slots ---- */

struct slot_case {
	const char *what;
	struct hyvm_memory_slot req;
	int want;
};

static const struct slot_case slot_cases[] = {
	{ "valid", { 2, 0, 0x200000, 0x100000, 0x7f0000000000 }, 0 },
	{ "readonly", { 2, HYVM_MEM_READONLY, 0x200000, 0x1000, 0x7f0000000000 }, 0 },
	{ "unknown flag", { 2, 2, 0x200000, 0x1000, 0x7f0000000000 }, -EINVAL },
	{ "slot id too big", { HYVM_MAX_SLOTS, 0, 0x200000, 0x1000, 0x7f0000000000 }, -EINVAL },
	{ "gpa unaligned", { 2, 0, 0x200800, 0x1000, 0x7f0000000000 }, -EINVAL },
	{ "size unaligned", { 2, 0, 0x200000, 0x1001, 0x7f0000000000 }, -EINVAL },
	{ "hva unaligned", { 2, 0, 0x200000, 0x1000, 0x7f0000000010 }, -EINVAL },
	{ "zero size", { 2, 0, 0x200000, 0, 0x7f0000000000 }, -EINVAL },
	{ "beyond 2^52", { 2, 0, HYVM_MAX_GPA - 0x1000, 0x2000, 0x7f0000000000 }, -EINVAL },
	{ "ends at 2^52", { 2, 0, HYVM_MAX_GPA - 0x1000, 0x1000, 0x7f0000000000 }, 0 },
	{ "gpa wraps", { 2, 0, ~0xfffULL, 0x2000, 0x7f0000000000 }, -EINVAL },
	{ "hva wraps", { 2, 0, 0, 0x2000, ~0xfffUL }, -EINVAL },
	{ "slot id taken", { 0, 0, 0x10000000, 0x1000, 0x7f0000000000 }, -EEXIST },
	{ "overlaps start", { 2, 0, 0xff000, 0x2000, 0x7f0000000000 }, -EEXIST },
	{ "overlaps end", { 2, 0, 0x1ff000, 0x2000, 0x7f0000000000 }, -EEXIST },
	{ "inside", { 2, 0, 0x180000, 0x1000, 0x7f0000000000 }, -EEXIST },
	{ "covers", { 2, 0, 0, 0x400000, 0x7f0000000000 }, -EEXIST },
	{ "adjacent below", { 2, 0, 0xff000, 0x1000, 0x7f0000000000 }, 0 },
	{ "adjacent above", { 2, 0, 0x200000, 0x1000, 0x7f0000000000 }, 0 },
};

static void slot_case_desc(const struct slot_case *c, char *desc)
{
	strscpy(desc, c->what, KUNIT_PARAM_DESC_SIZE);
}
KUNIT_ARRAY_PARAM(slot, slot_cases, slot_case_desc);

static void hyvm_memslot_rules(struct kunit *test)
{
	const struct slot_case *c = test->param_value;
	/* One existing slot, id 0, at [1M, 2M). */
	struct hyvm_memslot existing = { .id = 0, .base_gfn = 0x100, .npages = 0x100 };
	struct hyvm_memslot *slots[HYVM_MAX_SLOTS] = { [0] = &existing };

	KUNIT_EXPECT_EQ(test, hyvm_memslot_check(&c->req, slots, HYVM_MAX_SLOTS),
			c->want);
}

static struct kunit_case hyvm_memslot_cases[] = {
	KUNIT_CASE_PARAM(hyvm_memslot_rules, slot_gen_params),
	{}
};

static struct kunit_suite hyvm_memslot_suite = {
	.name = "hyvm_memslot",
	.test_cases = hyvm_memslot_cases,
};

/* ---- system registers ---- */

struct sregs_case {
	const char *what;
	u64 cr0, cr3, cr4, efer;
	u8 cs_l, cs_db;
	int want;
};

#define PE X86_CR0_PE
#define PG X86_CR0_PG
static const struct sregs_case sregs_cases[] = {
	{ "real mode", X86_CR0_ET, 0, 0, 0, 0, 0, 0 },
	{ "protected", PE, 0, 0, 0, 0, 1, 0 },
	{ "paged 32-bit", PE | PG, 0x1000, 0, 0, 0, 1, 0 },
	{ "long mode", PE | PG, 0x1000, X86_CR4_PAE, EFER_LME | EFER_LMA, 1, 0, 0 },
	{ "long mode, compat cs", PE | PG, 0, X86_CR4_PAE, EFER_LME | EFER_LMA, 0, 1, 0 },
	{ "long mode, la57+pcid", PE | PG, 0, X86_CR4_PAE | X86_CR4_LA57 | X86_CR4_PCIDE,
	  EFER_LME | EFER_LMA, 1, 0, 0 },
	{ "PG without PE", PG, 0, 0, 0, 0, 0, -EINVAL },
	{ "NW without CD", PE | X86_CR0_NW, 0, 0, 0, 0, 0, -EINVAL },
	{ "CR0 reserved", PE | BIT_ULL(40), 0, 0, 0, 0, 0, -EINVAL },
	{ "CR4 reserved", PE, 0, BIT_ULL(15), 0, 0, 0, -EINVAL },
	{ "CR3 beyond 2^52", PE, BIT_ULL(55), 0, 0, 0, 0, -EINVAL },
	{ "EFER reserved", PE, 0, 0, BIT_ULL(20), 0, 0, -EINVAL },
	{ "LMA without PG", PE, 0, X86_CR4_PAE, EFER_LME | EFER_LMA, 0, 0, -EINVAL },
	{ "LME+PG without LMA", PE | PG, 0, X86_CR4_PAE, EFER_LME, 0, 0, -EINVAL },
	{ "long mode without PAE", PE | PG, 0, 0, EFER_LME | EFER_LMA, 1, 0, -EINVAL },
	{ "cs.l and cs.db", PE | PG, 0, X86_CR4_PAE, EFER_LME | EFER_LMA, 1, 1, -EINVAL },
	{ "PCIDE outside long mode", PE | PG, 0, X86_CR4_PAE | X86_CR4_PCIDE, 0, 0, 0, -EINVAL },
};

static void sregs_case_desc(const struct sregs_case *c, char *desc)
{
	strscpy(desc, c->what, KUNIT_PARAM_DESC_SIZE);
}
KUNIT_ARRAY_PARAM(sregs, sregs_cases, sregs_case_desc);

static void hyvm_sregs_rules(struct kunit *test)
{
	const struct sregs_case *c = test->param_value;
	struct hyvm_sregs s = {
		.cr0 = c->cr0, .cr3 = c->cr3, .cr4 = c->cr4, .efer = c->efer,
	};

	s.cs.l = c->cs_l;
	s.cs.db = c->cs_db;
	KUNIT_EXPECT_EQ(test, hyvm_check_sregs(&s), c->want);
}

static struct kunit_case hyvm_sregs_cases[] = {
	KUNIT_CASE_PARAM(hyvm_sregs_rules, sregs_gen_params),
	{}
};

static struct kunit_suite hyvm_sregs_suite = {
	.name = "hyvm_sregs",
	.test_cases = hyvm_sregs_cases,
};

/* ---- engines ---- */

/* The probe must agree with the kernel's own view of the CPU. */
static void hyvm_engine_probe_matches_cpu(struct kunit *test)
{
	const struct hyvm_engine_info *vmx, *svm, *bt;

	hyvm_probe_engines();
	bt = &hyvm_engines_info[HYVM_ENGINE_BT];
	vmx = &hyvm_engines_info[HYVM_ENGINE_VMX];
	svm = &hyvm_engines_info[HYVM_ENGINE_SVM];
	KUNIT_EXPECT_TRUE(test, bt->available);
	KUNIT_EXPECT_EQ(test, bt->error, 0);
	if (!boot_cpu_has(X86_FEATURE_SVM))
		KUNIT_EXPECT_EQ(test, svm->error, -ENODEV);
	else
		KUNIT_EXPECT_TRUE(test, svm->available || svm->error == -EBUSY ||
					svm->error == -EPERM);
	if (!cpu_has(&boot_cpu_data, X86_FEATURE_VMX) &&
	    !(cpuid_ecx(1) & BIT(5)))
		KUNIT_EXPECT_EQ(test, vmx->error, -ENODEV);
	if (svm->available && boot_cpu_has(X86_FEATURE_NPT))
		KUNIT_EXPECT_TRUE(test, svm->features & HYVM_ENGINE_F_TDP);
	if (vmx->available && boot_cpu_has(X86_FEATURE_EPT))
		KUNIT_EXPECT_TRUE(test, vmx->features & HYVM_ENGINE_F_TDP);
	KUNIT_EXPECT_EQ(test, vmx->available, (u32)!vmx->error);
	KUNIT_EXPECT_EQ(test, svm->available, (u32)!svm->error);
	KUNIT_EXPECT_NE(test, bt->reason[0], 0);
	KUNIT_EXPECT_NE(test, vmx->reason[0], 0);
	KUNIT_EXPECT_NE(test, svm->reason[0], 0);
}

static void hyvm_engine_auto_resolves(struct kunit *test)
{
	u32 e;

	hyvm_probe_engines();
	e = hyvm_resolve_engine(HYVM_ENGINE_AUTO);
	KUNIT_EXPECT_NE(test, e, (u32)HYVM_ENGINE_AUTO);
	KUNIT_EXPECT_LT(test, e, (u32)HYVM_ENGINE_MAX);
	KUNIT_EXPECT_TRUE(test, hyvm_engines_info[e].available);
	for (e = HYVM_ENGINE_BT; e < HYVM_ENGINE_MAX; e++)
		KUNIT_EXPECT_EQ(test, hyvm_resolve_engine(e), e);
	KUNIT_EXPECT_STREQ(test, hyvm_engine_name(HYVM_ENGINE_SVM), "svm");
	KUNIT_EXPECT_STREQ(test, hyvm_engine_name(99), "?");
}

static struct kunit_case hyvm_engine_cases[] = {
	KUNIT_CASE(hyvm_engine_probe_matches_cpu),
	KUNIT_CASE(hyvm_engine_auto_resolves),
	{}
};

static struct kunit_suite hyvm_engine_suite = {
	.name = "hyvm_engine",
	.test_cases = hyvm_engine_cases,
};

/* ---- guest-physical lookup through the slots ---- */

static void hyvm_gmem_slot_lookup(struct kunit *test)
{
	struct hyvm_memslot a = { .id = 0, .base_gfn = 0, .npages = 0x100,
				  .hva = 0x7f0000000000 };
	struct hyvm_memslot b = { .id = 5, .flags = HYVM_MEM_READONLY,
				  .base_gfn = 0x1000, .npages = 0x10,
				  .hva = 0x7f1000000000 };
	struct hyvm_vm *vm = kunit_kzalloc(test, sizeof(*vm), GFP_KERNEL);
	struct hyvm_memslot out;

	KUNIT_ASSERT_NOT_NULL(test, vm);
	vm->slots[0] = &a;
	vm->slots[5] = &b;
	KUNIT_EXPECT_TRUE(test, hyvm_gpa_slot(vm, 0, &out));
	KUNIT_EXPECT_EQ(test, out.hva, a.hva);
	KUNIT_EXPECT_TRUE(test, hyvm_gpa_slot(vm, 0xfffff, &out));
	KUNIT_EXPECT_EQ(test, out.id, 0u);
	KUNIT_EXPECT_FALSE(test, hyvm_gpa_slot(vm, 0x100000, &out));
	KUNIT_EXPECT_TRUE(test, hyvm_gpa_slot(vm, 0x1000000, &out));
	KUNIT_EXPECT_EQ(test, out.id, 5u);
	KUNIT_EXPECT_EQ(test, out.flags, (u32)HYVM_MEM_READONLY);
	KUNIT_EXPECT_TRUE(test, hyvm_gpa_slot(vm, 0x100ffff, &out));
	KUNIT_EXPECT_FALSE(test, hyvm_gpa_slot(vm, 0x1010000, &out));
	KUNIT_EXPECT_FALSE(test, hyvm_gpa_slot(vm, ~0ULL, &out));
}

static struct kunit_case hyvm_gmem_cases[] = {
	KUNIT_CASE(hyvm_gmem_slot_lookup),
	{}
};

static struct kunit_suite hyvm_gmem_suite = {
	.name = "hyvm_gmem",
	.test_cases = hyvm_gmem_cases,
};

kunit_test_suites(&hyvm_memslot_suite, &hyvm_gmem_suite, &hyvm_sregs_suite,
		  &hyvm_engine_suite);

MODULE_IMPORT_NS(HYVM_KUNIT);
MODULE_DESCRIPTION("KUnit tests for hyvm");
MODULE_LICENSE("GPL");
