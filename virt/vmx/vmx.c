// SPDX-License-Identifier: GPL-2.0
/*
 * The vmx engine's ops table.  Until the engine is built, vcpu_run is NULL
 * and HYVM_RUN fails with EOPNOTSUPP; the probe already tells whether this
 * host could run it.
 */
#include "../hyvm.h"
#include "../../arch-x86/cpu_probe.h"

const struct hyvm_engine_ops hyvm_vmx_ops = {
	.id	= HYVM_ENGINE_VMX,
	.name	= "vmx",
	.probe	= hyvm_probe_vmx,
};
