/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HYVM_ARCH_X86_CPU_PROBE_H
#define HYVM_ARCH_X86_CPU_PROBE_H

#include <uapi/linux/hyvm.h>

int hyvm_probe_vmx(struct hyvm_engine_info *info);
int hyvm_probe_svm(struct hyvm_engine_info *info);
void hyvm_probe_svm_features(struct hyvm_engine_info *info);
int hyvm_probe_bt(struct hyvm_engine_info *info);

#endif
