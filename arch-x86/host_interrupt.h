/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HYVM_ARCH_HOST_INTERRUPT_H
#define HYVM_ARCH_HOST_INTERRUPT_H

/* arch-x86/host_interrupt.S */
void hyvm_host_interrupt(unsigned long handler);

#endif
