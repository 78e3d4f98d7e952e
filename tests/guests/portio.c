// SPDX-License-Identifier: GPL-2.0
/*
 * Port I/O of every size and the string forms, against vmtool's devices:
 * the UART's scratch register keeps a byte, an empty port reads all ones,
 * the debug console answers 0xe9, and rep outsb/insb move whole buffers.
 */
#include "runtime.h"

const char guest_name[] = "portio";

#define COM1		0x3f8
#define UART_LCR	3
#define UART_SCR	7
#define EMPTY_PORT	0x2e0	/* nothing decodes it in vmtool */
#define DEBUGCON	0xe9

void guest_main(const struct hyvm_boot_info *bi)
{
	static const char msg[] = "portio: rep outsb reached the debug console\n";
	uint8_t buf[8];
	uint64_t rcx;
	int i;

	outb(COM1 + UART_SCR, 0x5a);
	CHECK(inb(COM1 + UART_SCR) == 0x5a, "UART scratch keeps 0x5a");
	outb(COM1 + UART_SCR, 0xa5);
	CHECK(inb(COM1 + UART_SCR) == 0xa5, "UART scratch keeps 0xa5");
	outb(COM1 + UART_LCR, 0x03);
	CHECK(inb(COM1 + UART_LCR) == 0x03, "UART LCR reads back 8N1");

	CHECK(inb(EMPTY_PORT) == 0xff, "inb of an empty port is 0xff");
	CHECK(inw(EMPTY_PORT) == 0xffff, "inw of an empty port is 0xffff");
	CHECK(inl(EMPTY_PORT) == 0xffffffff, "inl of an empty port is 0xffffffff");
	outw(EMPTY_PORT, 0x1234);
	outl(EMPTY_PORT, 0x12345678);
	CHECK(true, "outw and outl to an empty port are ignored");
	CHECK(inb(DEBUGCON) == 0xe9, "the debug console reads 0xe9");

	/* String output: one instruction, many bytes. */
	{
		const char *p = msg;

		rcx = sizeof(msg) - 1;
		asm volatile("rep outsb" : "+S"(p), "+c"(rcx) : "d"(DEBUGCON) : "memory");
	}
	CHECK(rcx == 0, "rep outsb ran to the end (rcx %lu)", rcx);

	/* String input from the scratch register fills the buffer. */
	outb(COM1 + UART_SCR, 0x3c);
	memset(buf, 0, sizeof(buf));
	{
		uint8_t *p = buf;

		rcx = sizeof(buf);
		asm volatile("rep insb" : "+D"(p), "+c"(rcx) : "d"(COM1 + UART_SCR) : "memory");
		CHECK(rcx == 0 && p == buf + sizeof(buf), "rep insb ran to the end");
	}
	for (i = 0; i < (int)sizeof(buf) && buf[i] == 0x3c; i++)
		;
	CHECK(i == sizeof(buf), "rep insb read the scratch byte %d times", i);
}
