/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest programs for the translator tests.  Each is position independent
 * (relative branches, RIP-relative data inside the blob) and is copied to
 * the guest code area before it runs; each ends with hlt.
 */
#define BLOB(name) .globl name##_begin, name##_end; name##_begin:
#define END(name) name##_end:

	.section .rodata
	.align 16

/* The paper's isPrime, called for 2..199: rbx counts the primes. */
BLOB(g_isprime)
	xor %ebx, %ebx
	mov $2, %r12d
1:	mov %r12d, %edi
	call isprime
	add %eax, %ebx
	inc %r12d
	cmp $200, %r12d
	jl 1b
	hlt
isprime:
	mov %edi, %ecx
	mov $2, %esi
	cmp %ecx, %esi
	jge prime
nexti:	mov %ecx, %eax
	cdq
	idiv %esi
	test %edx, %edx
	jz notprime
	inc %esi
	cmp %ecx, %esi
	jl nexti
prime:	mov $1, %eax
	ret
notprime:
	xor %eax, %eax
	ret
END(g_isprime)

/*
 * Recursive fib(n) through call/ret, entered by an indirect call through a
 * register and one through a RIP-relative memory slot; rax = fib(15) +
 * fib(10), r14 counts the indirect jumps taken.
 */
BLOB(g_fib)
	lea fib(%rip), %r13
	mov $15, %edi
	call *%r13
	mov %rax, %rbx
	mov %r13, fslot(%rip)
	mov $10, %edi
	call *fslot(%rip)
	add %rbx, %rax
	lea 1f(%rip), %rdx
	mov %rdx, fslot(%rip)
	jmp *fslot(%rip)
	hlt
1:	inc %r14
	lea 2f(%rip), %rdx
	jmp *%rdx
	hlt
2:	inc %r14
	hlt
fib:	cmp $2, %rdi
	jb 1f
	push %rdi
	dec %rdi
	call fib
	pop %rdi
	push %rax
	sub $2, %rdi
	call fib
	pop %rcx
	add %rcx, %rax
	ret $0
1:	mov %rdi, %rax
	ret
	.align 8
fslot:	.quad 0
END(g_fib)

/* cli, sti, pushf and popf in a loop; r8, r9, r10 gather what they saw. */
BLOB(g_flags)
	mov $100, %ecx
	xor %eax, %eax
1:	pushfq
	cli
	add %ecx, %eax
	pushfq
	pop %rdx
	and $0x200, %edx
	add %rdx, %r8
	popfq
	pushfq
	pop %rdx
	and $0x200, %edx
	add %rdx, %r9
	cmp $50, %ecx
	jne 2f
	cli
	sti
	nop
2:	stc
	pushfq
	popfq
	adc $0, %r10
	std
	pushfq
	cld
	popfq
	setc %r11b
	movzbl %r11b, %r11d
	add %r11, %r12
	cld
	dec %ecx
	jnz 1b
	hlt
END(g_flags)

/* RIP-relative loads, stores, read-modify-writes, lea, byte registers. */
BLOB(g_riprel)
	mov rdata1(%rip), %rax
	add %rax, rdata2(%rip)
	lea rdata1(%rip), %rbx
	sub %rbx, %rbx
	movb $0x5a, rdata3(%rip)
	addq $0x1234, rdata2(%rip)
	mov rdata2(%rip), %ecx
	cmpb $0x5a, rdata3(%rip)
	sete %dl
	mov rdata1+1(%rip), %ah
	mov rdata1+2(%rip), %bh
	.byte 0x4d, 0x8b, 0x2d		/* mov rdata2(%rip),%r13 with a void REX.B */
	.long rdata2 - (. + 4)
	mov rdata1(%rip), %rsi
	mov $0x77, %edi
	mov %rdi, rdata4(%rip)
	mov %sil, rdata4+1(%rip)
	xchg %r9, rdata1(%rip)
	lock incq rdata2(%rip)
	imul $7, rdata2(%rip), %r10
	pushq rdata1(%rip)
	popq rdata5(%rip)
	lea 1f(%rip), %r11
	mov %r11, rslot(%rip)
	jmp *rslot(%rip)
	hlt
1:	hlt
	.align 8
rdata1:	.quad 0x1122334455667788
rdata2:	.quad 0x10
rdata3:	.quad 0
rdata4:	.quad 0
rdata5:	.quad 0
rslot:	.quad 0
END(g_riprel)

/*
 * Self-modifying code: each round increments the immediate of smc_f's
 * mov, so smc_f returns 10, 11, 12: rbx = 33 only if the write to
 * translated code is seen.
 */
BLOB(g_smc)
	mov $3, %r12d
	xor %ebx, %ebx
1:	call smc_f
	add %eax, %ebx
	incl smc_f+1(%rip)
	dec %r12d
	jnz 1b
	hlt
smc_f:	mov $10, %eax
	ret
END(g_smc)

/* Privileged and sensitive instructions the monitor interprets. */
BLOB(g_callouts)
	mov $1, %eax
	xor %ecx, %ecx
	cpuid
	mov %eax, %r8d
	mov %cr0, %rax
	mov %rax, %r9
	mov %cr3, %r10
	lea 1f(%rip), %r11
	mov %r11, %cr3
1:	mov %cr3, %r12
	rdtsc
	hlt
END(g_callouts)

	.section .note.GNU-stack,"",@progbits
