// SPDX-License-Identifier: GPL-2.0
/*
 * A hostile guest: what a guest kernel may do to a binary translator and
 * its monitor, each with the result the architecture defines.
 *
 *   priv3       every privileged or sensitive instruction at CPL3: the
 *               fault (vector, error code, RIP) or, for the ones that do
 *               not fault (popf, sgdt & co. without UMIP, rdtsc), the
 *               value CPL0 sees
 *   iret3       iretq from CPL3 to a CPL0 frame: #GP(selector)
 *   priv0       the same family at CPL0: the guest sees its own state
 *               (selectors, IF, IOPL, descriptor tables, CR0.TS, ...)
 *   ccf-faults  faults inside every kind of code a translator makes
 *               (loads, stores, RIP-relative, rep movsb, stack, indirect branches,
 *               the interrupt shadow, #DE, #UD, #BP, #GP), with every
 *               GPR, RSP and the arithmetic flags as they were
 *   vmm-read, vmm-write, vmm-exec, tc-jump
 *               reads, writes, returns, jumps and calls to the addresses
 *               bt's monitor and translation cache occupy, none mapped by
 *               the guest: #PF (not present) with CR2 and error code
 *
 * With no command line it runs priv3, priv0 and ccf-faults.  The VMM-region
 * modes run only when asked: bt may stop the VM there instead
 * (HYVM_INTERNAL_VMM_REGION), which its plan accepts.
 */
#include "runtime.h"

const char guest_name[] = "hostile";

#define RFLAGS_IF	(1ULL << 9)
#define RFLAGS_IOPL	(3ULL << 12)
#define RFLAGS_ARITH	0x8d5ULL	/* CF PF AF ZF SF OF */
#define CR0_TS		(1ULL << 3)
#define MSR_GS_BASE	0xc0000101

static uint8_t user_stack[8192] __attribute__((aligned(4096)));

/*
 * Two pages of the image: the guest unmaps the second, so that RIP-relative
 * code reaches a not-present page (UNMAPPED) and a string copy can run from
 * the first into it.
 */
uint8_t ccf_area[2][4096] __attribute__((aligned(4096)));
#define UNMAPPED	((uint64_t)ccf_area[1])
/* A free page-table slot for the invlpg check. */
#define TEST_VA		0x40000000ULL

/*
 * Ring 3 comes back with a ud2 at a known address rather than SYSCALL or
 * int 0x80: the guest tests the instructions around those, so its own way
 * back relies on as little as possible.  The #UD leads to rt_user_return
 * at CPL0.
 */
extern char rt_syscall_stack_top[], user_exit_ud[];
void __attribute__((noreturn)) rt_user_return(long value);

static bool user_exit(struct trap_frame *f)
{
	if (f->vector != 6 || f->rip != (uint64_t)user_exit_ud || !(f->cs & 3))
		return false;
	f->rip = (uint64_t)rt_user_return;
	f->cs = KERNEL_CS;
	f->ss = KERNEL_DS;
	f->rsp = (uint64_t)rt_syscall_stack_top;
	f->rflags = 2;
	return true;
}

struct user_call {
	long (*fn)(long);
	long arg;
};
static struct user_call ucall;

static bool hostile_trap(struct trap_frame *f);

static long __attribute__((noreturn)) user_trampoline(long unused)
{
	long r = ucall.fn(ucall.arg);

	asm volatile("user_exit_ud: ud2" : : "D"(r) : "memory");
	for (;;)
		;
}

/* rt_run_user() without SYSCALL on the way back. */
static long run_user(long (*fn)(long), long arg)
{
	ucall.fn = fn;
	ucall.arg = arg;
	rt_set_handler(6, hostile_trap);
	return rt_run_user(user_trampoline, 0, user_stack + sizeof(user_stack));
}

static bool streq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

/*
 * Probes: one instruction between RT_TRY and RT_CATCH; the trap (or none)
 * is recorded against what is expected and checked later at CPL0, since
 * ring 3 cannot print.
 */
struct probe {
	const char *what;
	int ring, exp_vec, vec;
	uint64_t exp_err, exp_rip, exp_cr2, err, rip, cr2, cs;
	uint64_t alt_err;	/* another accepted error code, or 0 */
};
static struct probe probes[96];
static unsigned int nprobes;
static int cur_ring;

#define NO_TRAP		(-1)

static void expect(const char *what, int vec, uint64_t err, uint64_t rip,
		   uint64_t cr2)
{
	struct probe *p = &probes[nprobes];

	if (nprobes >= sizeof(probes) / sizeof(probes[0]))
		return;
	nprobes++;
	p->what = what;
	p->ring = cur_ring;
	p->exp_vec = vec;
	p->exp_err = err;
	p->exp_rip = rip;
	p->exp_cr2 = cr2;
	p->alt_err = 0;
	p->vec = rt_last_trap.vector;
	p->err = rt_last_trap.error;
	p->rip = rt_last_trap.rip;
	p->cr2 = rt_last_trap.cr2;
	p->cs = rt_last_trap.cs;
}

#define PROBE_CLOBBERS	"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", \
			"r10", "r11", "memory", "cc"

/*
 * Runs @insn (with @pre before it and @post after the resume point) and
 * evaluates to its address.
 */
#define PROBE_POST(pre, insn, post) ({					\
	uint64_t at_;							\
	rt_trap_reset();						\
	asm volatile(pre "\n\tlea 7771f(%%rip), %0\n\t" RT_TRY		\
		     "7771:\n\t" insn RT_CATCH post			\
		     : "=&r"(at_) : : PROBE_CLOBBERS);			\
	at_;								\
})
#define PROBE(pre, insn)	PROBE_POST(pre, insn, "")
/* @insn raises @vec with @err at its own address. */
#define FAULTS(what, vec, err, pre, insn)				\
	expect(what, vec, err, PROBE(pre, insn), 0)

static void report_probes(void)
{
	unsigned int i;

	for (i = 0; i < nprobes; i++) {
		struct probe *p = &probes[i];
		bool ok = p->vec == p->exp_vec;

		if (p->exp_vec != NO_TRAP) {
			ok = ok && (p->err == p->exp_err ||
				    (p->alt_err && p->err == p->alt_err)) &&
			     p->rip == p->exp_rip &&
			     (p->cs & 3) == (uint64_t)p->ring;
			if (p->exp_vec == 14)
				ok = ok && p->cr2 == p->exp_cr2;
		}
		if (ok)
			CHECK(1, "CPL%d %s: vector %d error 0x%lx", p->ring, p->what,
			      p->vec, p->err);
		else
			CHECK(0, "CPL%d %s: vector %d error 0x%lx rip 0x%lx cr2 0x%lx cs 0x%lx, "
			      "expected vector %d error 0x%lx rip 0x%lx cr2 0x%lx",
			      p->ring, p->what, p->vec, p->err, p->rip, p->cr2, p->cs,
			      p->exp_vec, p->exp_err, p->exp_rip, p->exp_cr2);
	}
	nprobes = 0;
}

/* ---- priv3 ---- */

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

/* What CPL0 read, for the CPL3 reads to match and the CPL3 writes to use. */
struct priv_state {
	struct desc_ptr gdt, idt;
	uint16_t ldt, tr;
	uint64_t cr0, cr2, cr3, cr4, dr0, dr7, cr8;
};
static struct priv_state k;
/* What ring 3 read. */
struct user_reads {
	struct desc_ptr gdt, idt;
	uint16_t ldt, tr, cs, ss, msw;
	uint64_t flags_before, flags_after, tsc0, tsc1;
	int sgdt_vec, sidt_vec, sldt_vec, str_vec, smsw_vec, rdtsc_vec, popf_vec;
	int cpuid_vec;
};
static struct user_reads ur;
uint8_t io_buf[16];
/* Operands of the probes, reached RIP-relative. */
uint64_t probe_addr, probe_cr0, probe_cr3, probe_cr4, probe_dr7;
struct desc_ptr probe_dt;

static void read_priv_state(struct priv_state *s)
{
	asm volatile("sgdt %0; sidt %1; sldt %2; str %3"
		     : "=m"(s->gdt), "=m"(s->idt), "=m"(s->ldt), "=m"(s->tr));
	s->cr0 = read_cr0();
	s->cr2 = read_cr2();
	s->cr3 = read_cr3();
	s->cr4 = read_cr4();
	asm volatile("mov %%cr8, %0" : "=r"(s->cr8));
	asm volatile("mov %%dr0, %0; mov %%dr7, %1" : "=r"(s->dr0), "=r"(s->dr7));
	probe_cr0 = s->cr0;
	probe_cr3 = s->cr3;
	probe_cr4 = s->cr4;
	probe_dr7 = s->dr7;
	probe_dt = s->gdt;
}

#define GP0(what, pre, insn)	FAULTS(what, 13, 0, pre, insn)

static long user_priv(long unused)
{
	GP0("cli", "", "cli");
	GP0("sti", "", "sti");
	GP0("hlt", "", "hlt");
	GP0("in al, imm8", "", "inb $0x80, %%al");
	GP0("in eax, dx", "mov $0x3f8, %%edx", "inl (%%dx), %%eax");
	GP0("out imm8, al", "", "outb %%al, $0x80");
	GP0("out dx, ax", "mov $0x3f8, %%edx", "outw %%ax, (%%dx)");
	GP0("insb", "lea io_buf(%%rip), %%rdi; mov $0x3f8, %%edx", "insb");
	GP0("outsb", "lea io_buf(%%rip), %%rsi; mov $0x3f8, %%edx", "outsb");
	GP0("rep outsb", "lea io_buf(%%rip), %%rsi; mov $0x3f8, %%edx; mov $4, %%ecx",
	    "rep outsb");
	GP0("lgdt", "", "lgdt probe_dt(%%rip)");
	GP0("lidt", "", "lidt probe_dt(%%rip)");
	GP0("lldt", "xor %%eax, %%eax", "lldt %%ax");
	GP0("ltr", "mov $0x28, %%eax", "ltr %%ax");
	GP0("mov cr0 -> reg", "", "mov %%cr0, %%rax");
	GP0("mov reg -> cr0", "mov probe_cr0(%%rip), %%rax", "mov %%rax, %%cr0");
	GP0("mov cr2 -> reg", "", "mov %%cr2, %%rax");
	GP0("mov reg -> cr2", "xor %%eax, %%eax", "mov %%rax, %%cr2");
	GP0("mov cr3 -> reg", "", "mov %%cr3, %%rax");
	GP0("mov reg -> cr3", "mov probe_cr3(%%rip), %%rax", "mov %%rax, %%cr3");
	GP0("mov cr4 -> reg", "", "mov %%cr4, %%rax");
	GP0("mov reg -> cr4", "mov probe_cr4(%%rip), %%rax", "mov %%rax, %%cr4");
	GP0("mov cr8 -> reg", "", "mov %%cr8, %%rax");
	GP0("mov reg -> cr8", "xor %%eax, %%eax", "mov %%rax, %%cr8");
	GP0("mov dr0 -> reg", "", "mov %%dr0, %%rax");
	GP0("mov reg -> dr0", "xor %%eax, %%eax", "mov %%rax, %%dr0");
	GP0("mov dr7 -> reg", "", "mov %%dr7, %%rax");
	GP0("mov reg -> dr7", "mov probe_dr7(%%rip), %%rax", "mov %%rax, %%dr7");
	GP0("rdmsr", "mov $0xc0000080, %%ecx", "rdmsr");
	GP0("wrmsr", "mov $0xc0000102, %%ecx; xor %%eax, %%eax; xor %%edx, %%edx",
	    "wrmsr");
	GP0("invlpg", "lea io_buf(%%rip), %%rax", "invlpg (%%rax)");
	GP0("invd", "", "invd");
	GP0("wbinvd", "", "wbinvd");
	GP0("clts", "", "clts");
	GP0("swapgs", "", "swapgs");
	GP0("rdpmc (CR4.PCE=0)", "xor %%ecx, %%ecx", "rdpmc");
	GP0("lmsw", "mov probe_cr0(%%rip), %%rax", "lmsw %%ax");
	GP0("sysretq", "lea 7771f(%%rip), %%rcx; mov $0x2, %%r11d", "sysretq");
	/* A DPL0 gate: #GP with the IDT bit and the vector in the error. */
	FAULTS("int $0x41 (DPL0 gate)", 13, 0x41 * 8 + 2, "", "int $0x41");
	/* QEMU's software CPU, the sandbox host, puts the vector at bit 4. */
	probes[nprobes - 1].alt_err = 0x41 * 16 + 2;

	/* popf may not change IF or IOPL at CPL3: no fault, both unchanged. */
	rt_trap_reset();
	asm volatile("pushfq; pop %0; mov %0, %%rax; and $~0x200, %%rax; "
		     "or $0x3000, %%rax; push %%rax; popfq; pushfq; pop %1"
		     : "=&r"(ur.flags_before), "=r"(ur.flags_after) : : "rax", "cc");
	ur.popf_vec = rt_last_trap.vector;

	/* Without UMIP the descriptor-table reads work at CPL3. */
	rt_trap_reset();
	asm volatile("sgdt %0" : "=m"(ur.gdt));
	ur.sgdt_vec = rt_last_trap.vector;
	rt_trap_reset();
	asm volatile("sidt %0" : "=m"(ur.idt));
	ur.sidt_vec = rt_last_trap.vector;
	rt_trap_reset();
	asm volatile("sldt %0" : "=m"(ur.ldt));
	ur.sldt_vec = rt_last_trap.vector;
	rt_trap_reset();
	asm volatile("str %0" : "=m"(ur.tr));
	ur.str_vec = rt_last_trap.vector;
	rt_trap_reset();
	asm volatile("smsw %0" : "=m"(ur.msw));
	ur.smsw_vec = rt_last_trap.vector;
	asm volatile("mov %%cs, %0; mov %%ss, %1" : "=r"(ur.cs), "=r"(ur.ss));
	rt_trap_reset();
	asm volatile("rdtsc; shl $32, %%rdx; or %%rdx, %%rax" : "=a"(ur.tsc0) : : "rdx");
	asm volatile("rdtsc; shl $32, %%rdx; or %%rdx, %%rax" : "=a"(ur.tsc1) : : "rdx");
	ur.rdtsc_vec = rt_last_trap.vector;
	rt_trap_reset();
	asm volatile("cpuid" : : "a"(0), "c"(0) : "rbx", "rdx");
	ur.cpuid_vec = rt_last_trap.vector;
	return 0;
}

/*
 * iretq from CPL3 with a frame that returns to CPL0: #GP(selector) of the
 * code segment.  A mode of its own (iret3): under bt on the QEMU host the
 * monitor retries a hidden #PF of it forever (see guests.rst).
 */
static long user_iret(long unused)
{
	uint64_t at;

	at = PROBE_POST("mov %%rsp, %%rbx; pushq $0x10; pushq %%rbx; pushq $2; "
			"pushq $8; lea 7771f(%%rip), %%rax; pushq %%rax",
			"iretq", "mov %%rbx, %%rsp");
	expect("iretq to CPL0", 13, KERNEL_CS, at, 0);
	return 0;
}

static void mode_iret3(void)
{
	cur_ring = 3;
	run_user(user_iret, 0);
	cur_ring = 0;
	report_probes();
}

static void mode_priv3(void)
{
	read_priv_state(&k);
	cur_ring = 3;
	run_user(user_priv, 0);
	cur_ring = 0;
	report_probes();

	CHECK(ur.popf_vec == NO_TRAP &&
	      (ur.flags_after & (RFLAGS_IF | RFLAGS_IOPL)) ==
	      (ur.flags_before & (RFLAGS_IF | RFLAGS_IOPL)) &&
	      (ur.flags_before & RFLAGS_IF) && !(ur.flags_before & RFLAGS_IOPL),
	      "CPL3 popf clearing IF and setting IOPL 3: no fault, flags 0x%lx -> 0x%lx",
	      ur.flags_before, ur.flags_after);
	CHECK(ur.sgdt_vec == NO_TRAP && ur.gdt.limit == k.gdt.limit &&
	      ur.gdt.base == k.gdt.base,
	      "CPL3 sgdt (UMIP off): 0x%lx/0x%x, CPL0 read 0x%lx/0x%x (vector %d)",
	      ur.gdt.base, ur.gdt.limit, k.gdt.base, k.gdt.limit, ur.sgdt_vec);
	CHECK(ur.sidt_vec == NO_TRAP && ur.idt.limit == k.idt.limit &&
	      ur.idt.base == k.idt.base,
	      "CPL3 sidt (UMIP off): 0x%lx/0x%x, CPL0 read 0x%lx/0x%x (vector %d)",
	      ur.idt.base, ur.idt.limit, k.idt.base, k.idt.limit, ur.sidt_vec);
	CHECK(ur.sldt_vec == NO_TRAP && ur.ldt == k.ldt,
	      "CPL3 sldt: 0x%x, CPL0 read 0x%x", ur.ldt, k.ldt);
	CHECK(ur.str_vec == NO_TRAP && ur.tr == k.tr && k.tr == TSS_SEL,
	      "CPL3 str: 0x%x, CPL0 read 0x%x", ur.tr, k.tr);
	CHECK(ur.smsw_vec == NO_TRAP && ur.msw == (uint16_t)k.cr0,
	      "CPL3 smsw: 0x%x, CPL0 cr0 0x%lx", ur.msw, k.cr0);
	CHECK(ur.cs == USER_CS && ur.ss == USER_DS,
	      "CPL3 mov from cs, ss: 0x%x, 0x%x (RPL 3)", ur.cs, ur.ss);
	CHECK(ur.rdtsc_vec == NO_TRAP && ur.tsc1 >= ur.tsc0,
	      "CPL3 rdtsc (TSD off): no fault, 0x%lx then 0x%lx", ur.tsc0, ur.tsc1);
	CHECK(ur.cpuid_vec == NO_TRAP, "CPL3 cpuid: no fault (vector %d)",
	      ur.cpuid_vec);
}

/* ---- priv0 ---- */

static uint64_t my_gdt[16] __attribute__((aligned(16)));
static uint8_t my_idt[4096] __attribute__((aligned(16)));
static volatile int int_0x42_count;

static bool int_0x42(struct trap_frame *f)
{
	int_0x42_count++;
	return true;
}

static uint64_t flags(void)
{
	uint64_t f;

	asm volatile("pushfq; pop %0" : "=r"(f));
	return f;
}

static void set_flags(uint64_t f)
{
	asm volatile("push %0; popfq" : : "r"(f) : "cc", "memory");
}

#define LAR_MASK	0x00f0ff00

/* lar/lsl/verr/verw of @sel: ZF and the result. */
static bool lar(uint16_t sel, uint32_t *ar)
{
	bool zf;
	uint32_t v = 0;

	asm volatile("lar %2, %0" : "+r"(v), "=@ccz"(zf) : "rm"((uint32_t)sel));
	*ar = v;
	return zf;
}

static bool lsl(uint16_t sel, uint32_t *limit)
{
	bool zf;
	uint32_t v = 0;

	asm volatile("lsl %2, %0" : "+r"(v), "=@ccz"(zf) : "rm"((uint32_t)sel));
	*limit = v;
	return zf;
}

static bool verr(uint16_t sel)
{
	bool zf;

	asm volatile("verr %1" : "=@ccz"(zf) : "rm"(sel));
	return zf;
}

static bool verw(uint16_t sel)
{
	bool zf;

	asm volatile("verw %1" : "=@ccz"(zf) : "rm"(sel));
	return zf;
}

static void mode_priv0(void)
{
	struct priv_state s;
	struct desc_ptr dt, mine;
	uint16_t cs, ss, msw;
	uint64_t f, cr0, v, old_gs, old_kgs;
	uint32_t r1[4], r2[4], ar = 0, limit = 0;
	bool z;
	uint64_t *pa, *pb;
	uint64_t va = TEST_VA;

	read_priv_state(&s);
	asm volatile("mov %%cs, %0; mov %%ss, %1" : "=r"(cs), "=r"(ss));
	CHECK(cs == KERNEL_CS && ss == KERNEL_DS, "CPL0 mov from cs, ss: 0x%x, 0x%x (RPL 0)",
	      cs, ss);

	f = flags();
	asm volatile("cli" ::: "memory");
	v = flags();
	CHECK(!(v & RFLAGS_IF), "CPL0 pushfq after cli: IF 0 (0x%lx)", v);
	asm volatile("sti; nop" ::: "memory");
	v = flags();
	asm volatile("cli" ::: "memory");
	CHECK(v & RFLAGS_IF, "CPL0 pushfq after sti: IF 1 (0x%lx)", v);
	set_flags((f & ~RFLAGS_IF) | RFLAGS_IOPL);
	v = flags();
	CHECK((v & RFLAGS_IOPL) == RFLAGS_IOPL, "CPL0 popf IOPL 3: pushfq reads 0x%lx", v);
	set_flags(f & ~(RFLAGS_IF | RFLAGS_IOPL));
	v = flags();
	CHECK(!(v & RFLAGS_IOPL), "CPL0 popf IOPL 0: pushfq reads 0x%lx", v);
	set_flags(f);

	/* Our own copies of the tables: sgdt/sidt must give them back. */
	memcpy(my_gdt, (void *)s.gdt.base, s.gdt.limit + 1);
	memcpy(my_idt, (void *)s.idt.base, s.idt.limit + 1);
	mine.limit = s.gdt.limit;
	mine.base = (uint64_t)my_gdt;
	asm volatile("lgdt %0" : : "m"(mine) : "memory");
	asm volatile("sgdt %0" : "=m"(dt));
	CHECK(dt.base == (uint64_t)my_gdt && dt.limit == s.gdt.limit,
	      "CPL0 sgdt after lgdt of a copy: 0x%lx/0x%x (loaded 0x%lx/0x%x)",
	      dt.base, dt.limit, (uint64_t)my_gdt, s.gdt.limit);
	asm volatile("lgdt %0" : : "m"(s.gdt) : "memory");
	asm volatile("sgdt %0" : "=m"(dt));
	CHECK(dt.base == s.gdt.base && dt.limit == s.gdt.limit,
	      "CPL0 lgdt of the original again: sgdt 0x%lx/0x%x", dt.base, dt.limit);

	rt_set_handler(0x42, int_0x42);
	mine.limit = s.idt.limit;
	mine.base = (uint64_t)my_idt;
	asm volatile("lidt %0" : : "m"(mine) : "memory");
	asm volatile("sidt %0" : "=m"(dt));
	asm volatile("int $0x42" ::: "memory");
	CHECK(dt.base == (uint64_t)my_idt && dt.limit == s.idt.limit && int_0x42_count == 1,
	      "CPL0 sidt after lidt of a copy: 0x%lx/0x%x, int through it %d",
	      dt.base, dt.limit, int_0x42_count);
	/* A gate only the copy has: its vector proves which table is in use. */
	((uint64_t *)my_idt)[0x43 * 2] = ((uint64_t *)my_idt)[0x42 * 2];
	((uint64_t *)my_idt)[0x43 * 2 + 1] = ((uint64_t *)my_idt)[0x42 * 2 + 1];
	asm volatile("int $0x43" ::: "memory");
	CHECK(int_0x42_count == 2, "CPL0 the loaded IDT copy is the one used (%d)",
	      int_0x42_count);
	asm volatile("lidt %0" : : "m"(s.idt) : "memory");
	asm volatile("sidt %0" : "=m"(dt));
	CHECK(dt.base == s.idt.base && dt.limit == s.idt.limit,
	      "CPL0 lidt of the original again: sidt 0x%lx/0x%x", dt.base, dt.limit);

	CHECK(s.tr == TSS_SEL && s.ldt == 0, "CPL0 str 0x%x, sldt 0x%x", s.tr, s.ldt);
	asm volatile("smsw %0" : "=r"(msw));
	CHECK(msw == (uint16_t)s.cr0, "CPL0 smsw 0x%x agrees with cr0 0x%lx", msw, s.cr0);

	/* LAR's bits 19:16 are undefined: CPUs copy the limit, QEMU clears them. */
	z = lar(KERNEL_CS, &ar);
	CHECK(z && (ar & LAR_MASK) == 0x00a09b00, "CPL0 lar kernel CS: 0x%x", ar);
	z = lar(KERNEL_DS, &ar);
	CHECK(z && (ar & LAR_MASK) == 0x00c09300, "CPL0 lar kernel DS: 0x%x", ar);
	z = lar(USER_CS, &ar);
	CHECK(z && (ar & LAR_MASK) == 0x00a0fb00, "CPL0 lar user CS: 0x%x", ar);
	z = lsl(KERNEL_CS, &limit);
	CHECK(z && limit == 0xffffffff, "CPL0 lsl kernel CS: 0x%x", limit);
	z = lsl(TSS_SEL, &limit);
	CHECK(z && limit == 0x67, "CPL0 lsl TSS: 0x%x", limit);
	z = lar(0x38, &ar) || lsl(0, &limit);
	CHECK(!z, "CPL0 lar past the GDT, lsl of null: ZF 0");
	CHECK(verr(KERNEL_CS) && !verw(KERNEL_CS), "CPL0 verr/verw kernel CS: 1/0");
	CHECK(verr(KERNEL_DS) && verw(KERNEL_DS), "CPL0 verr/verw kernel DS: 1/1");

	v = rdmsr(MSR_EFER);
	CHECK((v & (EFER_LME | EFER_LMA | EFER_SCE)) == (EFER_LME | EFER_LMA | EFER_SCE),
	      "CPL0 rdmsr EFER: 0x%lx has LME, LMA, SCE", v);
	cpuid(1, 0, r1);
	cpuid(1, 0, r2);
	CHECK((r1[2] >> 31) == (r2[2] >> 31),
	      "CPL0 cpuid 1 ECX.hypervisor the same twice (%u)", r1[2] >> 31);

	/* swapgs exchanges GS.base and KERNEL_GS_BASE. */
	old_gs = rdmsr(MSR_GS_BASE);
	old_kgs = rdmsr(MSR_KERNEL_GS_BASE);
	wrmsr(MSR_GS_BASE, 0x1111000);
	wrmsr(MSR_KERNEL_GS_BASE, 0x2222000);
	asm volatile("swapgs" ::: "memory");
	v = rdmsr(MSR_GS_BASE);
	CHECK(v == 0x2222000 && rdmsr(MSR_KERNEL_GS_BASE) == 0x1111000,
	      "CPL0 swapgs exchanges GS.base and KERNEL_GS_BASE (0x%lx)", v);
	asm volatile("swapgs" ::: "memory");
	wrmsr(MSR_GS_BASE, old_gs);
	wrmsr(MSR_KERNEL_GS_BASE, old_kgs);

	/* CR3 reload; invlpg after a PTE retarget. */
	write_cr3(s.cr3);
	CHECK(read_cr3() == s.cr3, "CPL0 mov cr3 reload reads back 0x%lx", read_cr3());
	pa = rt_alloc_page();
	pb = rt_alloc_page();
	pa[0] = 0xaaaa;
	pb[0] = 0xbbbb;
	rt_map(va, (uint64_t)pa, PTE_P | PTE_W);
	v = *(volatile uint64_t *)va;
	*rt_pte(va) = (uint64_t)pb | PTE_P | PTE_W;
	invlpg(va);
	CHECK(v == 0xaaaa && *(volatile uint64_t *)va == 0xbbbb,
	      "CPL0 invlpg after a retarget: 0x%lx then 0x%lx", v, *(volatile uint64_t *)va);
	*rt_pte(va) = 0;
	invlpg(va);

	rt_trap_reset();
	asm volatile("wbinvd" ::: "memory");
	CHECK(rt_last_trap.vector == NO_TRAP, "CPL0 wbinvd: no fault");

	cr0 = read_cr0();
	write_cr0(cr0 | CR0_TS);
	v = read_cr0();
	asm volatile("clts" ::: "memory");
	CHECK((v & CR0_TS) && !(read_cr0() & CR0_TS),
	      "CPL0 CR0.TS set reads 0x%lx, after clts 0x%lx", v, read_cr0());
	write_cr0(cr0);

	asm volatile("mov %0, %%cr8" : : "r"(5ULL));
	asm volatile("mov %%cr8, %0" : "=r"(v));
	asm volatile("mov %0, %%cr8" : : "r"(s.cr8));
	CHECK(v == 5, "CPL0 cr8 keeps 5 (%lu)", v);
	asm volatile("mov %0, %%dr0; mov %%dr0, %0" : "=r"(v) : "0"(0x123000ULL));
	CHECK(v == 0x123000, "CPL0 dr0 keeps 0x%lx", v);
	asm volatile("mov %%dr7, %0" : "=r"(v));
	CHECK((v & 0xffffffff) == 0x400, "CPL0 dr7 reads its reset value 0x%lx", v);
	asm volatile("mov %0, %%dr0" : : "r"(s.dr0));
}

/* ---- vmm-read, vmm-write, vmm-exec, tc-jump ---- */

static const uint64_t vmm_addrs[] = {
	0xffff800000000000ULL, 0xffff800000200000ULL,
	0xffff800000400000ULL, 0xffff87fffffff000ULL,
};
#define NVMM	(sizeof(vmm_addrs) / sizeof(vmm_addrs[0]))

enum vmm_kind { VMM_READ, VMM_WRITE, VMM_EXEC, TC_JUMP };
/* Ring 3 cannot read the command line (vmtool's page is supervisor). */
static enum vmm_kind vmm_mode;

static void vmm_probes(void)
{
	uint64_t u = cur_ring == 3 ? PF_U : 0, at;
	unsigned int i;

	for (i = 0; i < NVMM; i++) {
		uint64_t a = vmm_addrs[i];

		probe_addr = a;
		if (vmm_mode == VMM_READ) {
			at = PROBE("mov probe_addr(%%rip), %%rax", "mov (%%rax), %%rcx");
			expect("read of the VMM region", 14, u, at, a);
			probe_addr = a + 0xff8;
			at = PROBE("mov probe_addr(%%rip), %%rax", "cmpq $0, (%%rax)");
			expect("cmp with the VMM region", 14, u, at, a + 0xff8);
		} else if (vmm_mode == VMM_WRITE) {
			at = PROBE("mov probe_addr(%%rip), %%rax", "movq $1, (%%rax)");
			expect("write to the VMM region", 14, u | PF_W, at, a);
			probe_addr = a + 0x10;
			at = PROBE("mov probe_addr(%%rip), %%rdi; mov $16, %%ecx",
				   "rep stosb");
			expect("rep stosb into the VMM region", 14, u | PF_W, at,
			       a + 0x10);
		} else if (vmm_mode == VMM_EXEC) {
			/* A return into the region: the fetch faults at the target. */
			PROBE_POST("mov probe_addr(%%rip), %%rax; mov %%rsp, %%rbx; "
				   "push %%rax", "ret", "mov %%rbx, %%rsp");
			expect("ret into the VMM region", 14, u | PF_I, a, a);
		} else {
			PROBE("mov probe_addr(%%rip), %%rax", "jmp *%%rax");
			expect("jmp into the TC range", 14, u | PF_I, a, a);
			PROBE_POST("mov probe_addr(%%rip), %%rax; mov %%rsp, %%rbx",
				   "call *%%rax", "mov %%rbx, %%rsp");
			expect("call into the TC range", 14, u | PF_I, a, a);
			PROBE_POST("mov %%rsp, %%rbx", "call *probe_addr(%%rip)",
				   "mov %%rbx, %%rsp");
			expect("call through memory into the TC range", 14, u | PF_I, a, a);
		}
	}
}

static long user_vmm(long unused)
{
	vmm_probes();
	return 0;
}

static void mode_vmm(enum vmm_kind kind)
{
	uint32_t r[4];

	vmm_mode = kind;
	/* The I bit of a fetch fault's error code is defined with EFER.NXE. */
	cpuid(0x80000001, 0, r);
	if (r[3] & (1U << 20))
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	else if (kind >= VMM_EXEC)
		rt_panic("no NX: the fetch faults' I bit is not defined");
	cur_ring = 0;
	vmm_probes();
	cur_ring = 3;
	run_user(user_vmm, 0);
	cur_ring = 0;
	report_probes();
}

/* ---- ccf-faults ---- */

/*
 * Each case is a function that saves the callee-saved registers, loads
 * the arithmetic flags from ccf_flags, all 15 GPRs from ccf_regs (in trap
 * frame order) and RSP from ccf_rsp, then runs its instruction(s).  The
 * handler copies the frame and resumes at ccf_resume, which returns.
 */
uint64_t ccf_regs[15], ccf_rsp, ccf_flags, ccf_saved_rsp, ccf_nofault;
static volatile bool ccf_armed;
static struct trap_frame ccf_frame;
static uint64_t ccf_cr2;
extern char ccf_resume[], ccf_never[];

asm(".pushsection .text\n"
    ".globl ccf_resume\n"
    "ccf_resume:\n"
    "	mov ccf_saved_rsp(%rip), %rsp\n"
    "	pop %r15\n	pop %r14\n	pop %r13\n	pop %r12\n	pop %rbp\n	pop %rbx\n"
    "	cld\n"
    "	ret\n"
    ".globl ccf_never\n"
    "ccf_never:\n"
    "	ud2\n"
    ".popsection\n");

#define CCF(n, pre, insn)						\
	extern char ccf_##n##_insn[], ccf_##n##_end[];			\
	void ccf_##n(void);						\
	asm(".pushsection .text\n.globl ccf_" #n "\nccf_" #n ":\n"	\
	    "	push %rbx\n	push %rbp\n	push %r12\n"		\
	    "	push %r13\n	push %r14\n	push %r15\n"		\
	    "	mov %rsp, ccf_saved_rsp(%rip)\n"			\
	    "	pushq ccf_flags(%rip)\n	popfq\n"			\
	    "	mov ccf_regs+0(%rip), %rax\n	mov ccf_regs+8(%rip), %rbx\n"	\
	    "	mov ccf_regs+16(%rip), %rcx\n	mov ccf_regs+24(%rip), %rdx\n"	\
	    "	mov ccf_regs+32(%rip), %rsi\n	mov ccf_regs+40(%rip), %rdi\n"	\
	    "	mov ccf_regs+48(%rip), %rbp\n	mov ccf_regs+56(%rip), %r8\n"	\
	    "	mov ccf_regs+64(%rip), %r9\n	mov ccf_regs+72(%rip), %r10\n"	\
	    "	mov ccf_regs+80(%rip), %r11\n	mov ccf_regs+88(%rip), %r12\n"	\
	    "	mov ccf_regs+96(%rip), %r13\n	mov ccf_regs+104(%rip), %r14\n"	\
	    "	mov ccf_regs+112(%rip), %r15\n"			\
	    "	mov ccf_rsp(%rip), %rsp\n"				\
	    pre "\n.globl ccf_" #n "_insn\nccf_" #n "_insn:\n	" insn	\
	    "\n.globl ccf_" #n "_end\nccf_" #n "_end:\n"		\
	    "	movq $1, ccf_nofault(%rip)\n	jmp ccf_resume\n"	\
	    ".popsection\n")

CCF(load, "", "mov (%rbx), %rax");
CCF(store, "", "mov %rax, (%rbx)");
CCF(riprel, "", "mov ccf_area+0x1018(%rip), %rax");
CCF(push, "", "push %rax");
CCF(pop, "", "pop %rax");
CCF(call, "", "call ccf_never");
CCF(call_reg, "", "call *%rbx");
CCF(ret, "", "ret");
CCF(jmp_mem, "", "jmp *(%rbx)");
CCF(call_mem, "", "call *(%rbx)");
CCF(pushf, "", "pushfq");
CCF(popf, "", "popfq");
CCF(cli_load, "cli", "mov (%rbx), %rax");
CCF(sti_load, "sti", "mov (%rbx), %rax");
CCF(div0, "", "div %rbx");
CCF(ud2, "", "ud2");
CCF(int3, "", "int3");
CCF(noncanon, "", "mov (%rbx), %rax");
CCF(rep_movsb, "", "rep movsb");

enum ccf_rsp_kind { RSP_OK, RSP_BAD };
enum ccf_cr2_kind { CR2_NONE, CR2_RBX, CR2_RSP, CR2_RSP_8, CR2_RIPREL, CR2_UNMAPPED };

struct ccf_case {
	const char *name;
	void (*fn)(void);
	char *insn, *end;
	int vec;
	uint64_t err;		/* without U */
	uint64_t rbx;		/* 0: the pattern, or RBX_* */
	enum ccf_rsp_kind rsp;
	enum ccf_cr2_kind cr2;
	bool trap;		/* RIP after the instruction */
	bool cpl0_only;
	int if_after;		/* -1: not checked */
	bool string;		/* rep movsb: 16 of 32 bytes copied at the fault */
};

#define RBX_NEVER	1	/* the address of ccf_never */
#define RBX_ZERO	2
#define C(n) #n, ccf_##n, ccf_##n##_insn, ccf_##n##_end
#define RBX_BAD		3	/* UNMAPPED + 0x48 */
#define BAD_RSP		(UNMAPPED + 0x800)
static const struct ccf_case ccf_cases[] = {
	{ C(load), 14, 0, RBX_BAD, RSP_OK, CR2_RBX, false, false, -1, false },
	{ C(store), 14, PF_W, RBX_BAD, RSP_OK, CR2_RBX, false, false, -1, false },
	{ C(riprel), 14, 0, 0, RSP_OK, CR2_RIPREL, false, false, -1, false },
	{ C(rep_movsb), 14, PF_W, 0, RSP_OK, CR2_UNMAPPED, false, false, -1, true },
	{ C(push), 14, PF_W, 0, RSP_BAD, CR2_RSP_8, false, false, -1, false },
	{ C(pop), 14, 0, 0, RSP_BAD, CR2_RSP, false, false, -1, false },
	{ C(call), 14, PF_W, 0, RSP_BAD, CR2_RSP_8, false, false, -1, false },
	{ C(call_reg), 14, PF_W, RBX_NEVER, RSP_BAD, CR2_RSP_8, false, false, -1, false },
	{ C(ret), 14, 0, 0, RSP_BAD, CR2_RSP, false, false, -1, false },
	{ C(jmp_mem), 14, 0, RBX_BAD, RSP_OK, CR2_RBX, false, false, -1, false },
	{ C(call_mem), 14, 0, RBX_BAD, RSP_OK, CR2_RBX, false, false, -1, false },
	{ C(pushf), 14, PF_W, 0, RSP_BAD, CR2_RSP_8, false, false, -1, false },
	{ C(popf), 14, 0, 0, RSP_BAD, CR2_RSP, false, false, -1, false },
	{ C(cli_load), 14, 0, RBX_BAD, RSP_OK, CR2_RBX, false, true, 0, false },
	{ C(sti_load), 14, 0, RBX_BAD, RSP_OK, CR2_RBX, false, true, 1, false },
	{ C(div0), 0, 0, RBX_ZERO, RSP_OK, CR2_NONE, false, false, -1, false },
	{ C(ud2), 6, 0, 0, RSP_OK, CR2_NONE, false, false, -1, false },
	{ C(int3), 3, 0, 0, RSP_OK, CR2_NONE, true, false, -1, false },
	{ C(noncanon), 13, 0, 0x8000000000000000ULL, RSP_OK, CR2_NONE, false, false, -1, false },
};
static uint8_t ccf_stack[4096] __attribute__((aligned(16)));

static bool ccf_trap(struct trap_frame *f)
{
	ccf_armed = false;
	ccf_frame = *f;
	ccf_cr2 = rt_last_trap.cr2;
	f->rip = (uint64_t)ccf_resume;
	f->rsp = ccf_saved_rsp;
	/* The runtime runs with IF off at CPL0; ring 3 keeps it on. */
	if (!(f->cs & 3))
		f->rflags &= ~RFLAGS_IF;
	return true;
}

/* The way back from ring 3, then the case in progress, if any. */
static bool hostile_trap(struct trap_frame *f)
{
	if (user_exit(f))
		return true;
	return ccf_armed && ccf_trap(f);
}

static long user_ccf(long i)
{
	ccf_cases[i].fn();
	return 0;
}

static void ccf_one(const struct ccf_case *c, int ring)
{
	static const char *const names[] = { "rax", "rbx", "rcx", "rdx", "rsi", "rdi",
		"rbp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" };
	const uint64_t *got = &ccf_frame.rax;
	uint64_t rbx = c->rbx, cr2 = 0, err = c->err, want[15];
	char bad[80] = "";
	int i;

	for (i = 0; i < 15; i++)
		ccf_regs[i] = 0x0101010101010101ULL * (i + 1) ^ 0x8040201008040201ULL;
	if (rbx == RBX_NEVER)
		ccf_regs[1] = (uint64_t)ccf_never;
	else if (rbx == RBX_ZERO)
		ccf_regs[1] = 0;
	else if (rbx == RBX_BAD)
		ccf_regs[1] = UNMAPPED + 0x48;
	else if (rbx)
		ccf_regs[1] = rbx;
	memcpy(want, ccf_regs, sizeof(want));
	if (c->string) {
		/* RCX, RSI and RDI stop where the copy reached the hole. */
		ccf_regs[2] = 32;
		ccf_regs[4] = (uint64_t)ccf_stack;
		ccf_regs[5] = UNMAPPED - 16;
		want[2] = 16;
		want[4] = ccf_regs[4] + 16;
		want[5] = UNMAPPED;
	}
	ccf_rsp = c->rsp == RSP_BAD ? BAD_RSP : (uint64_t)ccf_stack + 2048 + 8 * ring;
	/* CF, PF, AF, SF, OF set, ZF clear (and bit 1). */
	ccf_flags = 0x897 ^ (ring == 3 ? 0x40 : 0);
	if (c->vec == 14 && ring == 3)
		err |= PF_U;
	switch (c->cr2) {
	case CR2_NONE:   cr2 = 0; break;
	case CR2_RBX:    cr2 = ccf_regs[1]; break;
	case CR2_RSP:    cr2 = ccf_rsp; break;
	case CR2_RSP_8:  cr2 = ccf_rsp - 8; break;
	case CR2_RIPREL: cr2 = UNMAPPED + 0x18; break;
	case CR2_UNMAPPED: cr2 = UNMAPPED; break;
	}
	memset(&ccf_frame, 0, sizeof(ccf_frame));
	ccf_frame.vector = ~0ULL;
	ccf_cr2 = 0;
	ccf_nofault = 0;
	rt_trap_reset();
	ccf_armed = true;
	if (ring == 3)
		run_user(user_ccf, c - ccf_cases);
	else
		c->fn();
	ccf_armed = false;

	CHECK(!ccf_nofault && ccf_frame.vector == (uint64_t)c->vec &&
	      ccf_frame.error == err &&
	      ccf_frame.rip == (uint64_t)(c->trap ? c->end : c->insn) &&
	      (ccf_frame.cs & 3) == (uint64_t)ring &&
	      (c->vec != 14 || ccf_cr2 == cr2),
	      "CPL%d ccf %s: vector %ld error 0x%lx rip %s cr2 0x%lx (expected %d 0x%lx 0x%lx)",
	      ring, c->name, (long)ccf_frame.vector, ccf_frame.error,
	      ccf_frame.rip == (uint64_t)(c->trap ? c->end : c->insn) ? "exact" : "WRONG",
	      ccf_cr2, c->vec, err, cr2);
	for (i = 0; i < 15; i++)
		if (got[i] != want[i] && !bad[0])
			memcpy(bad, names[i], strlen(names[i]) + 1);
	if (ccf_frame.rsp != ccf_rsp && !bad[0])
		memcpy(bad, "rsp", 4);
	if ((ccf_frame.rflags & RFLAGS_ARITH) != (ccf_flags & RFLAGS_ARITH) && !bad[0])
		memcpy(bad, "flags", 6);
	if (c->if_after >= 0 && !!(ccf_frame.rflags & RFLAGS_IF) != c->if_after && !bad[0])
		memcpy(bad, "IF", 3);
	CHECK(!bad[0], "CPL%d ccf %s: GPRs, RSP and flags as they must be%s%s", ring, c->name,
	      bad[0] ? ", not " : "", bad);
}

static void mode_ccf(void)
{
	unsigned int i;
	static const int vecs[] = { 0, 3, 6, 13, 14 };

	for (i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		rt_set_handler(vecs[i], hostile_trap);
		rt_set_ist(vecs[i]);
	}
	for (i = 0; i < sizeof(ccf_cases) / sizeof(ccf_cases[0]); i++)
		ccf_one(&ccf_cases[i], 0);
	for (i = 0; i < sizeof(ccf_cases) / sizeof(ccf_cases[0]); i++)
		if (!ccf_cases[i].cpl0_only)
			ccf_one(&ccf_cases[i], 3);
	for (i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++)
		rt_set_handler(vecs[i], vecs[i] == 6 ? hostile_trap : NULL);
}

void guest_main(const struct hyvm_boot_info *bi)
{
	extern char __image_end[];
	const char *mode = bi->cmdline ? (const char *)bi->cmdline : "";

	/* Ring 3 runs the image; the page at UNMAPPED stays not present. */
	rt_set_user(0x100000, (uint64_t)__image_end - 0x100000);
	rt_set_user(UNMAPPED, PAGE_SIZE);
	*rt_pte(UNMAPPED) = 0;
	invlpg(UNMAPPED);
	/* A #DF would mean a broken delivery: report it, do not triple-fault. */
	rt_set_ist(8);

	if (!*mode) {
		mode_priv3();
		mode_priv0();
		mode_ccf();
	} else if (streq(mode, "priv3")) {
		mode_priv3();
	} else if (streq(mode, "iret3")) {
		mode_iret3();
	} else if (streq(mode, "priv0")) {
		mode_priv0();
	} else if (streq(mode, "ccf-faults")) {
		mode_ccf();
	} else if (streq(mode, "vmm-read")) {
		mode_vmm(VMM_READ);
	} else if (streq(mode, "vmm-write")) {
		mode_vmm(VMM_WRITE);
	} else if (streq(mode, "vmm-exec")) {
		mode_vmm(VMM_EXEC);
	} else if (streq(mode, "tc-jump")) {
		mode_vmm(TC_JUMP);
	} else {
		rt_panic("unknown mode '%s' (priv3, iret3, priv0, ccf-faults, "
			 "vmm-read, vmm-write, vmm-exec, tc-jump)", mode);
	}
}
