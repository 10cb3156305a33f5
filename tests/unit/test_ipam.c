/*
 * test_ipam.c - unit tests of control/ipam.c: allocation order, exhaustion,
 * the small subnets (/30, /31, /32), --ip (take) and free, the gateway and the
 * broadcast address never given, --ip-range honoured, Docker's MACs.
 * Pure: no EAL, no devices.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#include "control/ipam.h"

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

static char err[512];

static void
test_order(void)
{
	struct ipam p;
	uint32_t ip;

	CU_ASSERT_EQUAL_FATAL(ipam_init(&p, IP(172, 17, 0, 0), 16, IP(172, 17, 0, 1), 0, 0, err,
					sizeof(err)), 0);
	/* .0 is the network, .1 the gateway: the first container gets .2, then .3. */
	CU_ASSERT_EQUAL(ipam_alloc(&p, &ip, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ip, IP(172, 17, 0, 2));
	CU_ASSERT_EQUAL(ipam_alloc(&p, &ip, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ip, IP(172, 17, 0, 3));
	CU_ASSERT_EQUAL(ipam_alloc(&p, &ip, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ip, IP(172, 17, 0, 4));
	CU_ASSERT_EQUAL(p.used, 3);
	/* A freed address is the next one given (lowest free first, as Docker). */
	CU_ASSERT_EQUAL(ipam_free(&p, IP(172, 17, 0, 3)), 0);
	CU_ASSERT_EQUAL(ipam_alloc(&p, &ip, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ip, IP(172, 17, 0, 3));
	CU_ASSERT_EQUAL(ipam_alloc(&p, &ip, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ip, IP(172, 17, 0, 5));
	/* Crossing a 64-bit word boundary of the bitmap. */
	for (int i = 6; i < 70; i++) {
		CU_ASSERT_EQUAL(ipam_alloc(&p, &ip, err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(ip, IP(172, 17, 0, i));
	}
	ipam_fini(&p);
}

static void
test_exhaustion(void)
{
	struct ipam p;
	uint32_t ip, seen = 0;
	int rc;

	/* /24: 256 - network - broadcast - gateway = 253 addresses. */
	CU_ASSERT_EQUAL_FATAL(ipam_init(&p, IP(10, 1, 2, 0), 24, IP(10, 1, 2, 1), 0, 0, err,
					sizeof(err)), 0);
	CU_ASSERT_EQUAL(ipam_available(&p), 253);
	while ((rc = ipam_alloc(&p, &ip, err, sizeof(err))) == 0) {
		CU_ASSERT(ip != IP(10, 1, 2, 0) && ip != IP(10, 1, 2, 1) &&
			  ip != IP(10, 1, 2, 255));
		if (++seen > 300)
			break; /* never hang */
	}
	CU_ASSERT_EQUAL(seen, 253);
	CU_ASSERT_EQUAL(rc, -ENOSPC);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "no available IPv4 addresses"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "10.1.2.0/24"));
	CU_ASSERT_EQUAL(ipam_available(&p), 0);
	/* Still full on a second try; a free makes exactly that address available. */
	CU_ASSERT_EQUAL(ipam_alloc(&p, &ip, err, sizeof(err)), -ENOSPC);
	CU_ASSERT_EQUAL(ipam_free(&p, IP(10, 1, 2, 200)), 0);
	CU_ASSERT_EQUAL(ipam_alloc(&p, &ip, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ip, IP(10, 1, 2, 200));
	ipam_fini(&p);
}

static void
test_small(void)
{
	struct ipam p;
	uint32_t ip;

	/* /30: .0 network, .1 gateway, .2 usable, .3 broadcast. */
	CU_ASSERT_EQUAL_FATAL(ipam_init(&p, IP(10, 0, 0, 0), 30, IP(10, 0, 0, 1), 0, 0, err,
					sizeof(err)), 0);
	CU_ASSERT_EQUAL(ipam_alloc(&p, &ip, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ip, IP(10, 0, 0, 2));
	CU_ASSERT_EQUAL(ipam_alloc(&p, &ip, err, sizeof(err)), -ENOSPC);
	CU_ASSERT_EQUAL(ipam_take(&p, IP(10, 0, 0, 3), err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "broadcast"));
	CU_ASSERT_EQUAL(ipam_take(&p, IP(10, 0, 0, 0), err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "network address"));
	ipam_fini(&p);

	/* /30 with the gateway at the top: .1 and .2 usable. */
	CU_ASSERT_EQUAL_FATAL(ipam_init(&p, IP(10, 0, 0, 4), 30, IP(10, 0, 0, 6), 0, 0, err,
					sizeof(err)), 0);
	CU_ASSERT_EQUAL(ipam_alloc(&p, &ip, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ip, IP(10, 0, 0, 5));
	CU_ASSERT_EQUAL(ipam_alloc(&p, &ip, err, sizeof(err)), -ENOSPC);
	ipam_fini(&p);

	/* /31 (RFC 3021): no network or broadcast address; one is the gateway. */
	CU_ASSERT_EQUAL_FATAL(ipam_init(&p, IP(10, 0, 0, 8), 31, IP(10, 0, 0, 8), 0, 0, err,
					sizeof(err)), 0);
	CU_ASSERT_EQUAL(ipam_available(&p), 1);
	CU_ASSERT_EQUAL(ipam_alloc(&p, &ip, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ip, IP(10, 0, 0, 9));
	CU_ASSERT_EQUAL(ipam_alloc(&p, &ip, err, sizeof(err)), -ENOSPC);
	CU_ASSERT_EQUAL(ipam_free(&p, IP(10, 0, 0, 9)), 0);
	CU_ASSERT_EQUAL(ipam_take(&p, IP(10, 0, 0, 9), err, sizeof(err)), 0);
	ipam_fini(&p);

	/* /32 whose only address is the gateway: nothing to give, and no hang. */
	CU_ASSERT_EQUAL_FATAL(ipam_init(&p, IP(10, 0, 0, 10), 32, IP(10, 0, 0, 10), 0, 0, err,
					sizeof(err)), 0);
	CU_ASSERT_EQUAL(ipam_alloc(&p, &ip, err, sizeof(err)), -ENOSPC);
	ipam_fini(&p);

	/* Bad pools. */
	CU_ASSERT_EQUAL(ipam_init(&p, IP(10, 0, 0, 1), 24, 0, 0, 0, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "use 10.0.0.0/24"));
	CU_ASSERT_EQUAL(ipam_init(&p, 0, 4, 0, 0, 0, err, sizeof(err)), -EINVAL);
}

static void
test_take_free(void)
{
	struct ipam p;
	uint32_t ip;

	CU_ASSERT_EQUAL_FATAL(ipam_init(&p, IP(192, 168, 5, 0), 24, IP(192, 168, 5, 1), 0, 0, err,
					sizeof(err)), 0);
	CU_ASSERT_EQUAL(ipam_take(&p, IP(192, 168, 5, 2), err, sizeof(err)), 0);
	CU_ASSERT(ipam_in_use(&p, IP(192, 168, 5, 2)));
	/* Taken twice: Docker's words. */
	CU_ASSERT_EQUAL(ipam_take(&p, IP(192, 168, 5, 2), err, sizeof(err)), -EADDRINUSE);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "Address already in use"));
	/* The gateway. */
	CU_ASSERT_EQUAL(ipam_take(&p, IP(192, 168, 5, 1), err, sizeof(err)), -EADDRINUSE);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "gateway"));
	CU_ASSERT_EQUAL(ipam_free(&p, IP(192, 168, 5, 1)), -ENOENT);
	CU_ASSERT(ipam_in_use(&p, IP(192, 168, 5, 1)));
	/* Outside the subnet. */
	CU_ASSERT_EQUAL(ipam_take(&p, IP(192, 168, 6, 2), err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "does not belong"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "192.168.5.0/24"));
	/* Allocation skips what was taken. */
	CU_ASSERT_EQUAL(ipam_alloc(&p, &ip, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ip, IP(192, 168, 5, 3));
	CU_ASSERT_EQUAL(p.used, 2);
	CU_ASSERT_EQUAL(ipam_free(&p, IP(192, 168, 5, 2)), 0);
	CU_ASSERT_EQUAL(ipam_free(&p, IP(192, 168, 5, 2)), -ENOENT); /* twice */
	CU_ASSERT_EQUAL(ipam_free(&p, IP(192, 168, 5, 255)), -ENOENT);
	CU_ASSERT_EQUAL(ipam_free(&p, IP(10, 0, 0, 1)), -ENOENT);
	CU_ASSERT_EQUAL(p.used, 1);
	CU_ASSERT(!ipam_in_use(&p, IP(192, 168, 5, 2)));
	ipam_fini(&p);
}

static void
test_range(void)
{
	struct ipam p;
	uint32_t ip;
	int n = 0;

	/* subnet 10.5.0.0/16, ip-range 10.5.1.0/30: alloc gives .0 to .3 of it. */
	CU_ASSERT_EQUAL_FATAL(ipam_init(&p, IP(10, 5, 0, 0), 16, IP(10, 5, 0, 1), IP(10, 5, 1, 0),
					30, err, sizeof(err)), 0);
	while (ipam_alloc(&p, &ip, err, sizeof(err)) == 0 && n < 10) {
		CU_ASSERT_EQUAL(ip, IP(10, 5, 1, n));
		n++;
	}
	CU_ASSERT_EQUAL(n, 4);
	/* --ip outside the range but inside the subnet is allowed, as in Docker. */
	CU_ASSERT_EQUAL(ipam_take(&p, IP(10, 5, 2, 9), err, sizeof(err)), 0);
	ipam_fini(&p);

	/* A range whose first address is the gateway: skipped. */
	CU_ASSERT_EQUAL_FATAL(ipam_init(&p, IP(10, 6, 0, 0), 24, IP(10, 6, 0, 128),
					IP(10, 6, 0, 128), 25, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ipam_alloc(&p, &ip, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ip, IP(10, 6, 0, 129));
	/* 128 addresses - gateway - broadcast (.255, which lies in the range) */
	CU_ASSERT_EQUAL(ipam_available(&p), 125);
	ipam_fini(&p);

	/* A range that is not inside the subnet. */
	CU_ASSERT_EQUAL(ipam_init(&p, IP(10, 6, 0, 0), 24, 0, IP(10, 7, 0, 0), 25, err,
				  sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not inside the subnet"));
	CU_ASSERT_EQUAL(ipam_init(&p, IP(10, 6, 0, 0), 24, 0, IP(10, 6, 0, 0), 16, err,
				  sizeof(err)), -EINVAL);
}

static void
test_large(void)
{
	struct ipam p;
	uint32_t ip;

	/* A /8 pool: 2 MB of bitmap; the first and last addresses behave. */
	CU_ASSERT_EQUAL_FATAL(ipam_init(&p, IP(10, 0, 0, 0), 8, IP(10, 0, 0, 1), 0, 0, err,
					sizeof(err)), 0);
	CU_ASSERT_EQUAL(ipam_alloc(&p, &ip, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ip, IP(10, 0, 0, 2));
	CU_ASSERT_EQUAL(ipam_take(&p, IP(10, 255, 255, 254), err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ipam_take(&p, IP(10, 255, 255, 255), err, sizeof(err)), -EINVAL);
	ipam_fini(&p);
}

static void
test_mac(void)
{
	uint8_t m[6];

	ipam_mac(IP(172, 17, 0, 2), m);
	CU_ASSERT(m[0] == 0x02 && m[1] == 0x42 && m[2] == 172 && m[3] == 17 && m[4] == 0 &&
		  m[5] == 2);
	CU_ASSERT_EQUAL(ipam_parse_mac("02:42:ac:11:00:09", m), 0);
	CU_ASSERT(m[2] == 0xac && m[5] == 9);
	CU_ASSERT_EQUAL(ipam_parse_mac("AA-BB-CC-DD-EE-F0", m), 0);
	CU_ASSERT_EQUAL(m[0], 0xAA);
	CU_ASSERT_EQUAL(ipam_parse_mac("01:00:5e:00:00:01", m), -EINVAL); /* multicast */
	CU_ASSERT_EQUAL(ipam_parse_mac("00:00:00:00:00:00", m), -EINVAL);
	CU_ASSERT_EQUAL(ipam_parse_mac("02:42:ac:11:00", m), -EINVAL);
	CU_ASSERT_EQUAL(ipam_parse_mac("02:42:ac:11:00:0g", m), -EINVAL);
	CU_ASSERT_EQUAL(ipam_parse_mac("02:42-ac:11:00:01", m), -EINVAL);
	CU_ASSERT_EQUAL(ipam_parse_mac("02:42:ac:11:00:011", m), -EINVAL);
	CU_ASSERT_EQUAL(ipam_parse_mac(" 2:42:ac:11:00:01", m), -EINVAL);
}

int
main(void)
{
	CU_pSuite s;
	unsigned int failures;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("ipam", NULL, NULL);
	if (s == NULL ||
	    CU_add_test(s, "allocation order, lowest free first", test_order) == NULL ||
	    CU_add_test(s, "exhaustion is an error, not a hang", test_exhaustion) == NULL ||
	    CU_add_test(s, "/30, /31, /32 and bad pools", test_small) == NULL ||
	    CU_add_test(s, "take (--ip) and free", test_take_free) == NULL ||
	    CU_add_test(s, "ip-range honoured", test_range) == NULL ||
	    CU_add_test(s, "a /8 pool", test_large) == NULL ||
	    CU_add_test(s, "MACs", test_mac) == NULL) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failures != 0 ? 1 : 0;
}
