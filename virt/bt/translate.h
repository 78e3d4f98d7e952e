/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The binary translator: one TU of 64-bit guest kernel code (up to
 * BT_TU_MAX_INSNS instructions or up to a control transfer) into one CCF in
 * the translation cache.  Documentation/bt.rst, "The translator", gives
 * the conventions CCFs follow.
 */
#ifndef HYVM_BT_TRANSLATE_H
#define HYVM_BT_TRANSLATE_H

#include "tc.h"

struct bt_tu *bt_translate(struct bt_tc *tc, u64 rip);
struct bt_tu *bt_tc_get(struct bt_tc *tc, u64 rip);

#endif /* HYVM_BT_TRANSLATE_H */
