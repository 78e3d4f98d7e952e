// SPDX-License-Identifier: GPL-2.0
/*
 * The paper's example (Adams & Agesen, section 3.1): isPrime, a tight loop
 * of compares, divisions and branches that a binary translator must get
 * exactly right and fast.  The result is checked against known counts.
 */
#include "runtime.h"

const char guest_name[] = "isprime";

static int __attribute__((noinline)) is_prime(int a)
{
	int i;

	for (i = 2; i < a; i++) {
		if (a % i == 0)
			return 0;
	}
	return 1;
}

void guest_main(const struct hyvm_boot_info *bi)
{
	/* volatile: the compiler must not fold the work away. */
	volatile int limit = 2000;
	int n, count = 0;

	for (n = 2; n < limit; n++)
		count += is_prime(n);
	CHECK(count == 303, "primes below 2000: %d (want 303)", count);
	CHECK(is_prime(7919), "7919 is prime");
	CHECK(!is_prime(7917), "7917 is not prime");
	CHECK(is_prime(65521), "65521 is prime");
}
