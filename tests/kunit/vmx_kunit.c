// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for the vmx engine's VMCS setup, checked against the CPU's
 * capability MSRs (read here, independently of virt/vmx/vmx.c): the
 * control words hyvm derives respect the allowed-0 and allowed-1 settings
 * (the TRUE_* MSRs when IA32_VMX_BASIC bit 55 says they exist), the CR0
 * and CR4 the hardware runs a guest with honour the fixed bits in both
 * paging modes (EPT and shadow tables) while the guest still reads its own
 * values, and every VMCS field hyvm writes exists on this CPU and goes
 * with a control it enabled (no EPT pointer without EPT, no VPID without
 * VPIDs).
 *
 * Needs a CPU with VT-x (Bochs in the sandbox); skipped elsewhere.
 */
#include <kunit/test.h>
#include <linux/slab.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/trapnr.h>
#include <asm/vmx.h>
#include "hyvm.h"
#include "vmx/vmx.h"

/* IA32_VMX_BASIC bit 55: the TRUE_* control MSRs exist. */
#define VK_BASIC_TRUE_CTLS	BIT_ULL(55)

static void vk_config(struct kunit *test, struct hyvm_vmx_config *c)
{
	int ret;

	if (!boot_cpu_has(X86_FEATURE_VMX))
		kunit_skip(test, "no VT-x on this CPU (CPUID.1:ECX.VMX=0 or disabled by firmware)");
	ret = hyvm_vmx_setup_config(c);
	if (ret == -EOPNOTSUPP)
		kunit_skip(test, "this CPU lacks VMX controls hyvm needs in both paging modes");
	KUNIT_ASSERT_EQ(test, ret, 0);
}

static u64 vk_rdmsr(struct kunit *test, u32 msr)
{
	u64 v = 0;

	KUNIT_ASSERT_EQ_MSG(test, rdmsrl_safe(msr, &v), 0, "MSR %#x", msr);
	return v;
}

/* @val against the allowed-0 (low half) and allowed-1 (high half) of @msr. */
static void vk_check_ctl(struct kunit *test, const char *name, u32 msr,
			 u32 val)
{
	u64 cap = vk_rdmsr(test, msr);
	u32 must = cap, may = cap >> 32;

	KUNIT_EXPECT_EQ_MSG(test, val & must, must,
			    "%s %#x lacks must-be-1 bits %#x (MSR %#x)", name,
			    val, must & ~val, msr);
	KUNIT_EXPECT_EQ_MSG(test, val & ~may, 0U,
			    "%s %#x sets bits %#x the CPU does not allow (MSR %#x)",
			    name, val, val & ~may, msr);
}

static void vmx_controls_allowed(struct kunit *test)
{
	struct hyvm_vmx_config c;
	bool truectl;
	u32 procmsr;

	vk_config(test, &c);
	truectl = vk_rdmsr(test, MSR_IA32_VMX_BASIC) & VK_BASIC_TRUE_CTLS;
	procmsr = truectl ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS :
		  MSR_IA32_VMX_PROCBASED_CTLS;
	kunit_info(test, "true controls %d, EPT %d, shadow %d, VPID %d",
		   truectl, c.ept, c.shadow, c.vpid);
	KUNIT_EXPECT_TRUE(test, c.ept || c.shadow);

	vk_check_ctl(test, "pin-based", truectl ?
		     MSR_IA32_VMX_TRUE_PINBASED_CTLS :
		     MSR_IA32_VMX_PINBASED_CTLS, c.pin);
	vk_check_ctl(test, "VM-exit", truectl ? MSR_IA32_VMX_TRUE_EXIT_CTLS :
		     MSR_IA32_VMX_EXIT_CTLS, c.exit);
	/* IA-32e mode guest is set per guest: both values must be allowed. */
	vk_check_ctl(test, "VM-entry", truectl ? MSR_IA32_VMX_TRUE_ENTRY_CTLS :
		     MSR_IA32_VMX_ENTRY_CTLS, c.entry);
	vk_check_ctl(test, "VM-entry (IA-32e guest)",
		     truectl ? MSR_IA32_VMX_TRUE_ENTRY_CTLS :
		     MSR_IA32_VMX_ENTRY_CTLS, c.entry | VM_ENTRY_IA32E_MODE);

	if (c.ept) {
		vk_check_ctl(test, "processor-based (EPT)", procmsr, c.proc);
		KUNIT_EXPECT_TRUE(test, c.proc & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS);
		vk_check_ctl(test, "secondary (EPT)",
			     MSR_IA32_VMX_PROCBASED_CTLS2, c.proc2);
		KUNIT_EXPECT_EQ(test, c.proc2 & (SECONDARY_EXEC_ENABLE_EPT |
						 SECONDARY_EXEC_UNRESTRICTED_GUEST),
				(u32)(SECONDARY_EXEC_ENABLE_EPT |
				      SECONDARY_EXEC_UNRESTRICTED_GUEST));
		/* With EPT neither CR3 accesses nor INVLPG exit. */
		KUNIT_EXPECT_EQ(test, c.proc & (CPU_BASED_CR3_LOAD_EXITING |
						CPU_BASED_CR3_STORE_EXITING |
						CPU_BASED_INVLPG_EXITING), 0U);
	}
	if (c.shadow) {
		vk_check_ctl(test, "processor-based (shadow)", procmsr,
			     c.proc_shadow);
		if (c.proc_shadow & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS)
			vk_check_ctl(test, "secondary (shadow)",
				     MSR_IA32_VMX_PROCBASED_CTLS2,
				     c.proc2_shadow);
		/* The hardware's CR3 is the shadow root: the guest's exits. */
		KUNIT_EXPECT_EQ(test, c.proc_shadow &
				(CPU_BASED_CR3_LOAD_EXITING |
				 CPU_BASED_CR3_STORE_EXITING),
				(u32)(CPU_BASED_CR3_LOAD_EXITING |
				      CPU_BASED_CR3_STORE_EXITING));
		/* Write tracing keeps the shadow coherent: INVLPG runs. */
		KUNIT_EXPECT_EQ(test, c.proc_shadow & CPU_BASED_INVLPG_EXITING, 0U);
		/* No EPT, and no unrestricted guest (it requires EPT). */
		KUNIT_EXPECT_EQ(test, c.proc2_shadow &
				(SECONDARY_EXEC_ENABLE_EPT |
				 SECONDARY_EXEC_UNRESTRICTED_GUEST), 0U);
	}
	if (!c.vpid) {
		KUNIT_EXPECT_EQ(test, c.proc2 & SECONDARY_EXEC_ENABLE_VPID, 0U);
		KUNIT_EXPECT_EQ(test, c.proc2_shadow & SECONDARY_EXEC_ENABLE_VPID,
				0U);
	}
}

/* A hardware CR0 against IA32_VMX_CR0_FIXED0/1; @ug lets PE and PG go. */
static void vk_check_cr0(struct kunit *test, const struct hyvm_vmx_config *c,
			 const char *mode, bool ug, u64 guest, u64 hw, u64 mask)
{
	u64 fixed0 = c->cr0_fixed0 & ~(ug ? X86_CR0_PE | X86_CR0_PG : 0);

	KUNIT_EXPECT_EQ_MSG(test, hw & fixed0, fixed0,
			    "%s: guest CR0 %#llx runs as %#llx, lacking fixed-1 bits %#llx",
			    mode, guest, hw, fixed0 & ~hw);
	KUNIT_EXPECT_EQ_MSG(test, hw & ~c->cr0_fixed1 & 0xffffffffULL, 0ULL,
			    "%s: guest CR0 %#llx runs as %#llx, with fixed-0 bits %#llx",
			    mode, guest, hw, hw & ~c->cr0_fixed1);
	/* The guest reads (read shadow & mask) | (hardware & ~mask). */
	KUNIT_EXPECT_EQ_MSG(test, (hw ^ guest) & ~mask, 0ULL,
			    "%s: guest CR0 %#llx runs as %#llx, the mask %#llx leaves %#llx visible",
			    mode, guest, hw, mask, (hw ^ guest) & ~mask);
}

static void vk_check_cr4(struct kunit *test, const struct hyvm_vmx_config *c,
			 const char *mode, u64 guest, u64 mask)
{
	u64 hw = hyvm_vmx_hw_cr4(c, guest);

	KUNIT_EXPECT_EQ_MSG(test, hw & c->cr4_fixed0, c->cr4_fixed0,
			    "%s: guest CR4 %#llx runs as %#llx, lacking fixed-1 bits %#llx",
			    mode, guest, hw, c->cr4_fixed0 & ~hw);
	KUNIT_EXPECT_EQ_MSG(test, hw & ~c->cr4_fixed1, 0ULL,
			    "%s: guest CR4 %#llx runs as %#llx, with bits %#llx the CPU fixes to 0",
			    mode, guest, hw, hw & ~c->cr4_fixed1);
	KUNIT_EXPECT_EQ_MSG(test, (hw ^ guest) & ~mask, 0ULL,
			    "%s: guest CR4 %#llx runs as %#llx, the mask %#llx leaves %#llx visible",
			    mode, guest, hw, mask, (hw ^ guest) & ~mask);
}

/* CR4 values a guest may hold; some bits may be ones this CPU lacks. */
static const u64 vk_cr4s[] = {
	0, X86_CR4_PAE, X86_CR4_PAE | X86_CR4_PGE | X86_CR4_OSFXSR |
	X86_CR4_OSXMMEXCPT, X86_CR4_PAE | X86_CR4_PGE | X86_CR4_SMEP |
	X86_CR4_SMAP | X86_CR4_FSGSBASE, X86_CR4_PAE | X86_CR4_PKE | X86_CR4_LA57,
};

static void vmx_cr_fixed_bits(struct kunit *test)
{
	/* CR0 of a guest on EPT: real mode, protected mode, paging. */
	static const u64 ept_cr0s[] = {
		X86_CR0_ET, X86_CR0_ET | X86_CR0_CD | X86_CR0_NW,
		X86_CR0_ET | X86_CR0_PE, X86_CR0_ET | X86_CR0_PE | X86_CR0_TS,
		X86_CR0_ET | X86_CR0_PE | X86_CR0_PG,
		X86_CR0_ET | X86_CR0_PE | X86_CR0_PG | X86_CR0_WP | X86_CR0_AM,
	};
	/* On shadow tables the hardware runs paged guests only. */
	static const u64 shadow_cr0s[] = {
		X86_CR0_ET | X86_CR0_PE | X86_CR0_PG,
		X86_CR0_ET | X86_CR0_PE | X86_CR0_PG | X86_CR0_WP,
		X86_CR0_ET | X86_CR0_PE | X86_CR0_PG | X86_CR0_TS | X86_CR0_MP,
		X86_CR0_ET | X86_CR0_PE | X86_CR0_PG | X86_CR0_CD | X86_CR0_AM,
	};
	struct hyvm_vmx_config c;
	u64 m0, m4;
	unsigned int i;

	vk_config(test, &c);
	if (c.ept) {
		hyvm_vmx_cr_masks(&c, false, &m0, &m4);
		for (i = 0; i < ARRAY_SIZE(ept_cr0s); i++)
			vk_check_cr0(test, &c, "EPT", true, ept_cr0s[i],
				     hyvm_vmx_hw_cr0(&c, false, ept_cr0s[i]), m0);
		for (i = 0; i < ARRAY_SIZE(vk_cr4s); i++)
			vk_check_cr4(test, &c, "EPT", vk_cr4s[i], m4);
	}
	if (c.shadow) {
		hyvm_vmx_cr_masks(&c, true, &m0, &m4);
		/* Bits that change the shadow's role are the host's. */
		KUNIT_EXPECT_EQ(test, m0 & (X86_CR0_PE | X86_CR0_PG | X86_CR0_WP),
				(u64)(X86_CR0_PE | X86_CR0_PG | X86_CR0_WP));
		KUNIT_EXPECT_EQ(test, m4 & (X86_CR4_PAE | X86_CR4_PGE |
					    X86_CR4_SMEP | X86_CR4_SMAP |
					    X86_CR4_PKE | X86_CR4_LA57),
				(u64)(X86_CR4_PAE | X86_CR4_PGE | X86_CR4_SMEP |
				      X86_CR4_SMAP | X86_CR4_PKE | X86_CR4_LA57));
		for (i = 0; i < ARRAY_SIZE(shadow_cr0s); i++) {
			u64 hw = hyvm_vmx_hw_cr0(&c, true, shadow_cr0s[i]);

			/* No unrestricted guest: all of FIXED0 applies. */
			vk_check_cr0(test, &c, "shadow", false, shadow_cr0s[i],
				     hw, m0);
			KUNIT_EXPECT_TRUE_MSG(test, hw & X86_CR0_WP,
					      "shadow: guest CR0 %#llx runs without WP",
					      shadow_cr0s[i]);
		}
		for (i = 0; i < ARRAY_SIZE(vk_cr4s); i++)
			vk_check_cr4(test, &c, "shadow", vk_cr4s[i], m4);
	}
}

/* VMCS fields that exist only with a control. */
enum { VK_PIN, VK_PROC, VK_PROC2, VK_EXIT, VK_ENTRY, VK_NR };

static const struct {
	u32 field;
	u8 word;
	u32 bit;
	const char *name;
} vk_needs[] = {
	{ SECONDARY_VM_EXEC_CONTROL, VK_PROC,
	  CPU_BASED_ACTIVATE_SECONDARY_CONTROLS, "secondary controls" },
	{ EPT_POINTER, VK_PROC2, SECONDARY_EXEC_ENABLE_EPT, "EPT pointer" },
	{ VIRTUAL_PROCESSOR_ID, VK_PROC2, SECONDARY_EXEC_ENABLE_VPID, "VPID" },
	{ MSR_BITMAP, VK_PROC, CPU_BASED_USE_MSR_BITMAPS, "MSR bitmap" },
	{ VMX_PREEMPTION_TIMER_VALUE, VK_PIN, PIN_BASED_VMX_PREEMPTION_TIMER,
	  "preemption timer" },
	{ HOST_IA32_PAT, VK_EXIT, VM_EXIT_LOAD_IA32_PAT, "host PAT" },
	{ HOST_IA32_EFER, VK_EXIT, VM_EXIT_LOAD_IA32_EFER, "host EFER" },
	{ GUEST_IA32_PAT, VK_ENTRY, VM_ENTRY_LOAD_IA32_PAT, "guest PAT" },
	{ GUEST_IA32_EFER, VK_ENTRY, VM_ENTRY_LOAD_IA32_EFER, "guest EFER" },
};

static bool vk_has(const struct hyvm_vmx_field *f, unsigned int n, u32 field,
		   u64 *val)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (f[i].field == field) {
			if (val)
				*val = f[i].val;
			return true;
		}
	}
	return false;
}

static void vk_check_fields(struct kunit *test, const struct hyvm_vmx_config *c,
			    bool shadow)
{
	const char *mode = shadow ? "shadow" : "EPT";
	struct hyvm_vmx_field *f;
	struct hyvm_vmx_vcpu *vx;
	u32 maxidx = (vk_rdmsr(test, MSR_IA32_VMX_VMCS_ENUM) >> 1) & 0x1ff;
	u64 ctl[VK_NR] = { 0 }, v;
	unsigned int i, j, n;

	vx = kunit_kzalloc(test, sizeof(*vx), GFP_KERNEL);
	f = kunit_kcalloc(test, HYVM_VMX_MAX_FIELDS, sizeof(*f), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, vx);
	KUNIT_ASSERT_NOT_NULL(test, f);
	vx->guest_msrs = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, vx->guest_msrs);
	vx->host_msrs = vx->guest_msrs + VMX_NR_AUTO_MSRS;
	vx->shadow = shadow;
	vx->vpid = c->vpid ? 1 : 0;
	hyvm_vmx_cr_masks(c, shadow, &vx->cr0_mask, &vx->cr4_mask);
	n = hyvm_vmx_vmcs_fields(c, vx, 0x1000 | VMX_EPTP_MT_WB | VMX_EPTP_PWL_4,
				 f);
	KUNIT_ASSERT_LE(test, n, (unsigned int)HYVM_VMX_MAX_FIELDS);

	KUNIT_EXPECT_TRUE(test, vk_has(f, n, PIN_BASED_VM_EXEC_CONTROL, &ctl[VK_PIN]));
	KUNIT_EXPECT_TRUE(test, vk_has(f, n, CPU_BASED_VM_EXEC_CONTROL, &ctl[VK_PROC]));
	vk_has(f, n, SECONDARY_VM_EXEC_CONTROL, &ctl[VK_PROC2]);
	KUNIT_EXPECT_TRUE(test, vk_has(f, n, VM_EXIT_CONTROLS, &ctl[VK_EXIT]));
	KUNIT_EXPECT_TRUE(test, vk_has(f, n, VM_ENTRY_CONTROLS, &ctl[VK_ENTRY]));
	/* The mode's own controls, not the other mode's. */
	KUNIT_EXPECT_EQ_MSG(test, ctl[VK_PROC],
			    (u64)(shadow ? c->proc_shadow : c->proc),
			    "%s: processor-based controls", mode);
	if (ctl[VK_PROC] & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS)
		KUNIT_EXPECT_EQ_MSG(test, ctl[VK_PROC2],
				    (u64)(shadow ? c->proc2_shadow : c->proc2),
				    "%s: secondary controls", mode);

	for (i = 0; i < n; i++) {
		/* Exists on this CPU: index within IA32_VMX_VMCS_ENUM. */
		KUNIT_EXPECT_LE_MSG(test, (f[i].field >> 1) & 0x1ff, maxidx,
				    "%s: field %#x beyond the VMCS enumeration",
				    mode, f[i].field);
		for (j = i + 1; j < n; j++)
			KUNIT_EXPECT_NE_MSG(test, f[i].field, f[j].field,
					    "%s: field %#x written twice", mode,
					    f[i].field);
		for (j = 0; j < ARRAY_SIZE(vk_needs); j++) {
			if (vk_needs[j].field != f[i].field)
				continue;
			KUNIT_EXPECT_TRUE_MSG(test,
					      ctl[vk_needs[j].word] & vk_needs[j].bit,
					      "%s: %s field written without its control",
					      mode, vk_needs[j].name);
		}
	}
	/* Secondary controls count only when the primary ones enable them. */
	if (!(ctl[VK_PROC] & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS))
		ctl[VK_PROC2] = 0;
	if (shadow) {
		KUNIT_EXPECT_FALSE_MSG(test, vk_has(f, n, EPT_POINTER, NULL),
				       "shadow: EPT pointer written");
		KUNIT_EXPECT_TRUE(test, vk_has(f, n, EXCEPTION_BITMAP, &v));
		KUNIT_EXPECT_TRUE_MSG(test, v & BIT(X86_TRAP_PF),
				      "shadow: #PF does not exit");
		KUNIT_EXPECT_TRUE(test, vk_has(f, n, PAGE_FAULT_ERROR_CODE_MASK, &v));
		KUNIT_EXPECT_EQ(test, v, 0ULL);
		KUNIT_EXPECT_TRUE(test, vk_has(f, n, PAGE_FAULT_ERROR_CODE_MATCH, &v));
		KUNIT_EXPECT_EQ(test, v, 0ULL);
		KUNIT_EXPECT_EQ(test, ctl[VK_PROC2] & SECONDARY_EXEC_ENABLE_EPT, 0ULL);
	} else {
		KUNIT_EXPECT_TRUE(test, vk_has(f, n, EPT_POINTER, &v));
		KUNIT_EXPECT_TRUE(test, ctl[VK_PROC2] & SECONDARY_EXEC_ENABLE_EPT);
		KUNIT_EXPECT_TRUE(test, vk_has(f, n, EXCEPTION_BITMAP, &v));
		KUNIT_EXPECT_FALSE_MSG(test, v & BIT(X86_TRAP_PF),
				       "EPT: #PF exits");
	}
	KUNIT_EXPECT_EQ_MSG(test, vk_has(f, n, VIRTUAL_PROCESSOR_ID, NULL),
			    c->vpid, "%s: VPID field", mode);
	/* The masks written are the ones the mode needs. */
	KUNIT_EXPECT_TRUE(test, vk_has(f, n, CR0_GUEST_HOST_MASK, &v));
	KUNIT_EXPECT_EQ(test, !!(v & X86_CR0_WP), shadow);
}

static void vmx_vmcs_fields_exist(struct kunit *test)
{
	struct hyvm_vmx_config c;

	vk_config(test, &c);
	if (c.ept)
		vk_check_fields(test, &c, false);
	if (c.shadow)
		vk_check_fields(test, &c, true);
}

static struct kunit_case vmx_cases[] = {
	KUNIT_CASE(vmx_controls_allowed),
	KUNIT_CASE(vmx_cr_fixed_bits),
	KUNIT_CASE(vmx_vmcs_fields_exist),
	{}
};

static struct kunit_suite vmx_suite = {
	.name = "hyvm_vmx_caps",
	.test_cases = vmx_cases,
};

kunit_test_suites(&vmx_suite);
