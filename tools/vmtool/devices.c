// SPDX-License-Identifier: GPL-2.0
/*
 * The devices that live in vmtool, served the same way whichever backend
 * runs the guest, so that a guest sees the same machine under hyvm's
 * engines and under the KVM reference:
 *
 *   0x3f8-0x3ff  16550 UART (COM1): transmit to stdout, never any input,
 *                always ready to send; the other registers keep what the
 *                guest writes so that drivers probing them are content
 *   0xe9         debug console: bytes to stdout; reads 0xe9 (its signature)
 *   0xf4         debug exit: writing V ends the run with status (V << 1) | 1
 *
 * Any other port reads as all ones and ignores writes, as on a bus with
 * nothing there; so does guest-physical space beyond RAM.
 */
#include <stdio.h>
#include <string.h>
#include "vmtool.h"

#define PORT_DEBUG_EXIT	0xf4	/* the isa-debug-exit convention */
#define PORT_DEBUGCON	0xe9
#define PORT_COM1	0x3f8

/* 16550 register offsets and bits used here. */
#define UART_RBR_THR	0
#define UART_IER	1
#define UART_IIR_FCR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7
#define UART_LCR_DLAB	0x80
#define UART_IIR_NONE	0x01	/* no interrupt pending */
#define UART_LSR_THRE_TEMT 0x60	/* transmitter empty */
#define UART_MCR_LOOP	0x10
#define UART_MSR_IDLE	0xb0	/* DCD, DSR, CTS: a cable with someone there */

static struct {
	uint8_t ier, lcr, mcr, scr, dll, dlm;
} uart = { .dll = 1 };

static void uart_out(uint16_t reg, uint8_t v)
{
	switch (reg) {
	case UART_RBR_THR:
		if (uart.lcr & UART_LCR_DLAB) {
			uart.dll = v;
		} else if (!(uart.mcr & UART_MCR_LOOP)) {
			putchar(v);
			fflush(stdout);
		}
		break;
	case UART_IER:
		if (uart.lcr & UART_LCR_DLAB)
			uart.dlm = v;
		else
			uart.ier = v & 0x0f;
		break;
	case UART_LCR:
		uart.lcr = v;
		break;
	case UART_MCR:
		uart.mcr = v & 0x1f;
		break;
	case UART_SCR:
		uart.scr = v;
		break;
	}
	/* FCR, LSR and MSR writes change nothing a guest could see here. */
}

static uint8_t uart_in(uint16_t reg)
{
	switch (reg) {
	case UART_RBR_THR:
		return uart.lcr & UART_LCR_DLAB ? uart.dll : 0;
	case UART_IER:
		return uart.lcr & UART_LCR_DLAB ? uart.dlm : uart.ier;
	case UART_IIR_FCR:
		return UART_IIR_NONE;
	case UART_LCR:
		return uart.lcr;
	case UART_MCR:
		return uart.mcr;
	case UART_LSR:
		return UART_LSR_THRE_TEMT;
	case UART_MSR:
		return UART_MSR_IDLE;
	default:
		return uart.scr;
	}
}

/*
 * Returns -1 to go on running, or the exit status of the run.  The devices
 * are byte-wide: a write uses the low byte of each unit, and a wider read
 * repeats the device's byte in every byte of the unit.
 */
int devices_io(struct vm *vm, struct vm_exit *e)
{
	uint32_t i, n = e->io.count * e->io.size;
	uint8_t *d = e->io.data, v;
	uint16_t port = e->io.port;

	if (e->io.out) {
		for (i = 0; i < n; i += e->io.size) {
			if (port == PORT_DEBUG_EXIT)
				return (d[i] << 1) | 1;
			if (port == PORT_DEBUGCON) {
				putchar(d[i]);
				fflush(stdout);
			} else if (port >= PORT_COM1 && port < PORT_COM1 + 8) {
				uart_out(port - PORT_COM1, d[i]);
			}
		}
		return -1;
	}
	for (i = 0; i < n; i += e->io.size) {
		if (port == PORT_DEBUGCON)
			v = PORT_DEBUGCON;
		else if (port >= PORT_COM1 && port < PORT_COM1 + 8)
			v = uart_in(port - PORT_COM1);
		else
			v = 0xff;
		memset(d + i, v, e->io.size);
	}
	return -1;
}

int devices_mmio(struct vm *vm, struct vm_exit *e)
{
	if (!e->mmio.write)
		memset(e->mmio.data, 0xff, e->mmio.len);
	return -1;
}
