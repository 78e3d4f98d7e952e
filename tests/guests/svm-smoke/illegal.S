/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Instructions a guest must not reach the host with: VMMCALL, VMRUN,
 * VMLOAD, VMSAVE, STGI, CLGI, SKINIT, XSETBV raise #UD (caught, skipped:
 * all are 3 bytes); INVD and WBINVD are harmless no-ops.  Exits 0x40
 * (status 129) when all hold.
 */
#include "guest.h"
	SET_VECTOR 6, ud_handler
	xor	%bx, %bx
	vmmcall
	vmrun
	vmload
	vmsave
	stgi
	clgi
	skinit
	xor	%ecx, %ecx
	xsetbv
	invd
	wbinvd
	cmp	$8, %bx
	jne	fail
	EXIT 0x40
fail:	mov	%bl, %al
	out	%al, $PORT_EXIT
	hlt

ud_handler:
	inc	%bx
	push	%bp
	mov	%sp, %bp
	addw	$3, 2(%bp)
	pop	%bp
	iret
