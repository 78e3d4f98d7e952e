// SPDX-License-Identifier: GPL-2.0
/*
 * The runtime's own descriptor tables, so that guests do not depend on
 * what vmtool left: a GDT with kernel and user segments laid out for
 * SYSCALL/SYSRET, a TSS whose RSP0 serves traps from ring 3, an IDT whose
 * 256 gates all lead to rt_trap(), and the SYSCALL MSRs.
 */
#include "runtime.h"

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct idt_gate {
	uint16_t off0, sel;
	uint8_t ist, type_attr;
	uint16_t off1;
	uint32_t off2, reserved;
};

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

static uint64_t gdt[7] __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));
static struct idt_gate idt[256] __attribute__((aligned(16)));
static trap_handler_t handlers[256];
/* The stack of the vectors rt_set_ist() moves off the interrupted one. */
static uint8_t ist_stack[8192] __attribute__((aligned(16)));

extern char rt_trap_stubs[], rt_trap_stack_top[], rt_syscall_entry[];

volatile struct trap_record rt_last_trap = { .vector = -1 };
volatile uint64_t rt_fixup;

/* Code or data descriptor: access byte and flags nibble (G, D/B, L). */
static uint64_t seg_desc(uint8_t access, uint8_t flags)
{
	return 0xffffULL | (0xfULL << 48) | ((uint64_t)access << 40) |
	       ((uint64_t)flags << 52);
}

static void set_gate(int vec, uint8_t dpl)
{
	uint64_t a = (uint64_t)rt_trap_stubs + 16 * vec;

	idt[vec].off0 = a;
	idt[vec].sel = KERNEL_CS;
	idt[vec].ist = 0;
	idt[vec].type_attr = 0x8e | (dpl << 5);	/* present, interrupt gate */
	idt[vec].off1 = a >> 16;
	idt[vec].off2 = a >> 32;
}

void rt_cpu_init(void);
void rt_cpu_init(void)
{
	uint64_t t = (uint64_t)&tss;
	struct desc_ptr gp = { sizeof(gdt) - 1, (uint64_t)gdt };
	struct desc_ptr ip = { sizeof(idt) - 1, (uint64_t)idt };
	int v;

	gdt[KERNEL_CS >> 3] = seg_desc(0x9b, 0xa);	/* P, DPL0, code; G, L */
	gdt[KERNEL_DS >> 3] = seg_desc(0x93, 0xc);	/* P, DPL0, data; G, D */
	gdt[USER_DS >> 3] = seg_desc(0xf3, 0xc);	/* DPL3 */
	gdt[USER_CS >> 3] = seg_desc(0xfb, 0xa);
	tss.rsp[0] = (uint64_t)rt_trap_stack_top;
	tss.iomap_base = sizeof(tss);		/* no I/O bitmap */
	gdt[TSS_SEL >> 3] = (sizeof(tss) - 1) | ((t & 0xffffff) << 16) |
			    (0x89ULL << 40) | ((t >> 24 & 0xff) << 56);
	gdt[(TSS_SEL >> 3) + 1] = t >> 32;

	/* New GDT, then reload CS (with a far return) and the data selectors. */
	asm volatile("lgdt %0\n\t"
		     "pushq %1\n\t"
		     "lea 1f(%%rip), %%rax\n\t"
		     "pushq %%rax\n\t"
		     "lretq\n"
		     "1:\n\t"
		     "mov %2, %%eax\n\t"
		     "mov %%eax, %%ds\n\t"
		     "mov %%eax, %%es\n\t"
		     "mov %%eax, %%ss\n\t"
		     "xor %%eax, %%eax\n\t"
		     "mov %%eax, %%fs\n\t"
		     "mov %%eax, %%gs\n\t"
		     "ltr %w3"
		     : : "m"(gp), "i"(KERNEL_CS), "i"(KERNEL_DS), "r"(TSS_SEL)
		     : "rax", "memory");

	/* int3 and int 0x80 may come from ring 3; the rest may not. */
	for (v = 0; v < 256; v++)
		set_gate(v, v == 3 || v == 0x80 ? 3 : 0);
	asm volatile("lidt %0" : : "m"(ip));

	/* SYSCALL enters at CS 0x08; SYSRET returns to 0x10 + 16 = 0x20 (| 3). */
	wrmsr(MSR_STAR, ((uint64_t)0x10 << 48) | ((uint64_t)KERNEL_CS << 32));
	wrmsr(MSR_LSTAR, (uint64_t)rt_syscall_entry);
	wrmsr(MSR_FMASK, 0x700);		/* TF, IF, DF */
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
}

void rt_set_handler(int vector, trap_handler_t fn)
{
	handlers[vector] = fn;
}

/*
 * Delivers @vector on a stack of its own (IST 1), so that a fault with an
 * unusable RSP at CPL0 still reaches its handler instead of a #DF.
 */
void rt_set_ist(int vector)
{
	tss.ist[0] = (uint64_t)ist_stack + sizeof(ist_stack);
	idt[vector].ist = 1;
}

void rt_trap_reset(void)
{
	rt_last_trap.vector = -1;
	rt_last_trap.error = 0;
	rt_last_trap.rip = 0;
	rt_last_trap.cr2 = 0;
}

void rt_trap(struct trap_frame *f);
void rt_trap(struct trap_frame *f)
{
	rt_last_trap.vector = f->vector;
	rt_last_trap.error = f->error;
	rt_last_trap.rip = f->rip;
	rt_last_trap.cs = f->cs;
	rt_last_trap.cr2 = f->vector == 14 ? read_cr2() : 0;
	rt_last_trap.count++;

	if (handlers[f->vector] && handlers[f->vector](f))
		return;
	if (rt_fixup) {
		f->rip = rt_fixup;
		rt_fixup = 0;
		return;
	}
	/* A breakpoint is a trap: returning resumes after the int3. */
	if (f->vector == 3)
		return;
	rt_panic("unexpected trap %lu, error 0x%lx, at %lx:%lx, cr2 %lx",
		 f->vector, f->error, f->cs, f->rip,
		 (uint64_t)rt_last_trap.cr2);
}

/* Ring-3 services: the other end of rt_user_syscall(). */
void __attribute__((noreturn)) rt_user_return(long value);
long rt_syscall(long nr, long a0, long a1);
long rt_syscall(long nr, long a0, long a1)
{
	switch (nr) {
	case SYS_EXIT:
		rt_user_return(a0);
	case SYS_WRITE:
		rt_puts((const char *)a0);
		return 0;
	case SYS_ADD:
		return a0 + a1;
	}
	return -1;
}

long rt_user_syscall(long nr, long a0, long a1)
{
	long ret;

	asm volatile("syscall"
		     : "=a"(ret) : "a"(nr), "D"(a0), "S"(a1) : "rcx", "r11", "memory");
	return ret;
}
