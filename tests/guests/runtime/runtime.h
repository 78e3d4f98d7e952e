/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest runtime: what every test guest links with.  Guests are ELF64
 * images that vmtool starts in long mode (Documentation/vmtool.rst); the
 * runtime takes over from there with its own GDT, TSS and IDT, prints to
 * the 16550 UART at 0x3f8, and ends the run through the debug-exit port
 * 0xf4.  Documentation/guests.rst describes how to write a guest.
 */
#ifndef GUEST_RUNTIME_H
#define GUEST_RUNTIME_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "boot_info.h"

/* Each guest defines these two. */
extern const char guest_name[];
void guest_main(const struct hyvm_boot_info *bi);

/* Selectors of the runtime's GDT; the user ones suit SYSCALL/SYSRET. */
#define KERNEL_CS	0x08
#define KERNEL_DS	0x10
#define USER_DS		(0x18 | 3)
#define USER_CS		(0x20 | 3)
#define TSS_SEL		0x28

/* Exit values written to port 0xf4: vmtool exits with (v << 1) | 1. */
#define EXIT_PASS	0
#define EXIT_FAIL	1
#define EXIT_CRASH	2

/* Output and results. */
int rt_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int rt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
void rt_puts(const char *s);
void __attribute__((noreturn)) rt_exit(int code);
void __attribute__((noreturn, format(printf, 1, 2))) rt_panic(const char *fmt, ...);
extern unsigned int rt_checks, rt_failures;
/* Records one check and prints it as "name: what: ok|FAILED". */
bool rt_check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define CHECK(cond, ...) rt_check(!!(cond), __VA_ARGS__)

/* Traps.  Every vector lands in rt_trap() with this frame. */
struct trap_frame {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;	/* pushed by the CPU */
};

/* What the last trap was; vector is -1 after rt_trap_reset(). */
struct trap_record {
	int vector;
	uint64_t error, rip, cs, cr2;
	unsigned int count;
};
extern volatile struct trap_record rt_last_trap;
void rt_trap_reset(void);

/* A handler returns true when it dealt with the trap. */
typedef bool (*trap_handler_t)(struct trap_frame *f);
void rt_set_handler(int vector, trap_handler_t fn);
/* Delivers @vector on the runtime's IST stack (for faults with a bad RSP). */
void rt_set_ist(int vector);

/*
 * Resuming after an expected fault: put the faulting instruction between
 * RT_TRY and RT_CATCH inside an extended asm statement (with "r11" and
 * "memory" among its clobbers); a trap there resumes at RT_CATCH.
 */
extern volatile uint64_t rt_fixup;
#define RT_TRY		"lea 8889f(%%rip), %%r11\n\tmov %%r11, rt_fixup(%%rip)\n\t"
#define RT_CATCH	"\n8889:\n\tmovq $0, rt_fixup(%%rip)\n\t"

/* Paging. */
#define PTE_P		(1ULL << 0)
#define PTE_W		(1ULL << 1)
#define PTE_U		(1ULL << 2)
#define PTE_PWT		(1ULL << 3)
#define PTE_PCD		(1ULL << 4)
#define PTE_A		(1ULL << 5)
#define PTE_D		(1ULL << 6)
#define PTE_PS		(1ULL << 7)
#define PTE_G		(1ULL << 8)
#define PTE_NX		(1ULL << 63)
#define PTE_ADDR	0x000ffffffffff000ULL
#define PAGE_SIZE	4096ULL

#define PF_P		(1U << 0)	/* #PF error code bits */
#define PF_W		(1U << 1)
#define PF_U		(1U << 2)
#define PF_RSVD		(1U << 3)
#define PF_I		(1U << 4)

/* A zeroed, identity-mapped page of RAM that nobody else uses. */
void *rt_alloc_page(void);
/* The PTE for @va, building missing tables (and splitting 2M pages). */
uint64_t *rt_pte(uint64_t va);
void rt_map(uint64_t va, uint64_t pa, uint64_t flags);
void rt_set_user(uint64_t va, uint64_t len);

/* User mode: runs fn(arg) at CPL3 on the given stack until it returns. */
long rt_run_user(long (*fn)(long), long arg, void *stack_top);
#define SYS_EXIT	0
#define SYS_WRITE	1	/* (buf, len): prints the string */
#define SYS_ADD		2	/* (a, b): returns a + b */
long rt_user_syscall(long nr, long a0, long a1);

/* Bits and instructions. */
#define CR0_WP		(1ULL << 16)
#define CR4_PGE		(1ULL << 7)
#define CR4_SMEP	(1ULL << 20)
#define CR4_SMAP	(1ULL << 21)
#define MSR_EFER	0xc0000080
#define MSR_STAR	0xc0000081
#define MSR_LSTAR	0xc0000082
#define MSR_FMASK	0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102
#define EFER_SCE	(1ULL << 0)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)
#define EFER_NXE	(1ULL << 11)

static inline void outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outw(uint16_t port, uint16_t v)
{
	asm volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outl(uint16_t port, uint32_t v)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	asm volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
		     : "a"(leaf), "c"(sub));
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
		     : "memory");
}

#define DEFINE_CR(n)							\
static inline uint64_t read_cr##n(void)					\
{									\
	uint64_t v;							\
	asm volatile("mov %%cr" #n ", %0" : "=r"(v));			\
	return v;							\
}									\
static inline void write_cr##n(uint64_t v)				\
{									\
	asm volatile("mov %0, %%cr" #n : : "r"(v) : "memory");		\
}
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)

static inline void invlpg(uint64_t va)
{
	asm volatile("invlpg (%0)" : : "r"(va) : "memory");
}

/* libc bits the compiler may call. */
void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#endif
