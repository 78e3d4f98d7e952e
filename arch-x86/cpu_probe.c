// SPDX-License-Identifier: GPL-2.0
/*
 * Can this CPU run each engine?  The answers come from CPUID and the MSRs
 * that firmware uses to lock virtualization off, not from the kernel's
 * feature flags alone, so that the reason given to the user is the real one.
 */
#include <linux/kernel.h>
#include <linux/string.h>
#include <asm/processor.h>
#include <asm/msr.h>
#include <asm/msr-index.h>
#include <asm/special_insns.h>
#include "cpu_probe.h"

#define CPUID_1_ECX_VMX		BIT(5)
#define CPUID_80000001_ECX_SVM	BIT(2)
#define CPUID_8000000A_EDX_NPT	BIT(0)
#define VM_CR_SVMDIS		BIT(4)

/* IA32_VMX_PROCBASED_CTLS2 allowed-1 bits (the MSR's high half) */
#define VMX_CTLS2_EPT		BIT(1)
#define VMX_CTLS2_VPID		BIT(5)
#define VMX_CTLS2_UG		BIT(7)
#define VMX_CTLS_SECONDARY	BIT(31)

static int why(struct hyvm_engine_info *info, int err, const char *reason)
{
	strscpy(info->reason, reason, sizeof(info->reason));
	return err;
}

/**
 * hyvm_probe_vmx - VT-x: CPUID.1:ECX.VMX and IA32_FEATURE_CONTROL
 * @info: receives features and the reason
 *
 * Return: 0, -ENODEV (no VT-x), -EPERM (firmware left it disabled) or
 * -EBUSY (this CPU is already in VMX operation under another hypervisor).
 */
int hyvm_probe_vmx(struct hyvm_engine_info *info)
{
	u64 feat, ctls, ctls2;

	if (!(cpuid_ecx(1) & CPUID_1_ECX_VMX))
		return why(info, -ENODEV, "no VT-x on this CPU (CPUID.1:ECX.VMX=0)");
	if (rdmsrl_safe(MSR_IA32_FEAT_CTL, &feat))
		return why(info, -ENODEV, "IA32_FEATURE_CONTROL is not readable");
	if (!(feat & FEAT_CTL_LOCKED) ||
	    !(feat & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX))
		return why(info, -EPERM,
			   "VT-x disabled by firmware (IA32_FEATURE_CONTROL)");
	if (__read_cr4() & X86_CR4_VMXE)
		return why(info, -EBUSY,
			   "VMX in use by another hypervisor (CR4.VMXE set)");
	if (!rdmsrl_safe(MSR_IA32_VMX_PROCBASED_CTLS, &ctls) &&
	    ((ctls >> 32) & VMX_CTLS_SECONDARY) &&
	    !rdmsrl_safe(MSR_IA32_VMX_PROCBASED_CTLS2, &ctls2)) {
		ctls2 >>= 32;
		if (ctls2 & VMX_CTLS2_EPT)
			info->features |= HYVM_ENGINE_F_TDP;
		if (ctls2 & VMX_CTLS2_VPID)
			info->features |= HYVM_ENGINE_F_VPID;
		if (ctls2 & VMX_CTLS2_UG)
			info->features |= HYVM_ENGINE_F_UG;
	}
	snprintf(info->reason, sizeof(info->reason), "VT-x%s%s%s",
		 info->features & HYVM_ENGINE_F_TDP ? " with EPT" : "",
		 info->features & HYVM_ENGINE_F_VPID ? ", VPID" : "",
		 info->features & HYVM_ENGINE_F_UG ? ", unrestricted guest" : "");
	return 0;
}

/**
 * hyvm_probe_svm - AMD-V: CPUID 0x80000001:ECX.SVM and VM_CR.SVMDIS
 * @info: receives features and the reason
 *
 * Return: 0, -ENODEV (no AMD-V), -EPERM (firmware disabled it) or -EBUSY
 * (EFER.SVME already set by another hypervisor on this CPU).
 */
int hyvm_probe_svm(struct hyvm_engine_info *info)
{
	u64 vm_cr, efer;

	if (cpuid_eax(0x80000000) < 0x80000001 ||
	    !(cpuid_ecx(0x80000001) & CPUID_80000001_ECX_SVM))
		return why(info, -ENODEV,
			   "no AMD-V on this CPU (CPUID 0x80000001:ECX.SVM=0)");
	if (rdmsrl_safe(MSR_VM_CR, &vm_cr))
		return why(info, -ENODEV, "VM_CR is not readable");
	if (vm_cr & VM_CR_SVMDIS)
		return why(info, -EPERM, "AMD-V disabled by firmware (VM_CR.SVMDIS)");
	if (!rdmsrl_safe(MSR_EFER, &efer) && (efer & EFER_SVME))
		return why(info, -EBUSY,
			   "SVM in use by another hypervisor (EFER.SVME set)");
	hyvm_probe_svm_features(info);
	return 0;
}

/**
 * hyvm_probe_svm_features - NPT and ASIDs, and the reason text saying so
 * @info: receives features and the reason
 *
 * Also for the svm engine, when EFER.SVME is set because hyvm itself runs
 * svm VMs (which hyvm_probe_svm() cannot tell from another hypervisor).
 */
void hyvm_probe_svm_features(struct hyvm_engine_info *info)
{
	if (cpuid_eax(0x80000000) >= 0x8000000a) {
		if (cpuid_edx(0x8000000a) & CPUID_8000000A_EDX_NPT)
			info->features |= HYVM_ENGINE_F_TDP;
		if (cpuid_ebx(0x8000000a) > 1)
			info->features |= HYVM_ENGINE_F_VPID;
	}
	snprintf(info->reason, sizeof(info->reason), "AMD-V%s%s",
		 info->features & HYVM_ENGINE_F_TDP ? " with NPT" : "",
		 info->features & HYVM_ENGINE_F_VPID ? ", ASIDs" : "");
}

/**
 * hyvm_probe_bt - the software engine needs nothing but a 64-bit CPU
 * @info: receives the reason
 */
int hyvm_probe_bt(struct hyvm_engine_info *info)
{
	return why(info, 0, "binary translation (needs no VT-x or AMD-V)");
}
