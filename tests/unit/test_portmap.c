/*
 * test_portmap.c - unit tests of control/portmap.c: -p and --expose in Docker's
 * syntax, ranges, errors, host-port conflicts and picking. Pure.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#include "control/portmap.h"

#define EPH PM_EPHEMERAL_LO, PM_EPHEMERAL_HI  /* the default ephemeral range */

static char err[512];
static struct pm_map maps[PM_MAX];
static unsigned int n;

static int
parse(const char *s)
{
	n = 0;
	err[0] = '\0';
	return pm_parse_publish(s, maps, &n, PM_MAX, EPH, err, sizeof(err));
}

static void
test_publish_forms(void)
{
	char buf[64];

	CU_ASSERT_EQUAL(parse("8080:80"), 0);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT(maps[0].host_ip == 0 && maps[0].host_port == 8080 && maps[0].ctr_port == 80 &&
		  maps[0].proto == PM_TCP);
	pm_format(&maps[0], buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "0.0.0.0:8080->80/tcp");

	CU_ASSERT_EQUAL(parse("127.0.0.1:53:5353/udp"), 0);
	CU_ASSERT(maps[0].host_ip == 0x7f000001 && maps[0].host_port == 53 &&
		  maps[0].ctr_port == 5353 && maps[0].proto == PM_UDP);

	CU_ASSERT_EQUAL(parse("80"), 0); /* host port picked later */
	CU_ASSERT(maps[0].host_port == 0 && maps[0].host_lo == PM_EPHEMERAL_LO &&
		  maps[0].host_hi == PM_EPHEMERAL_HI);
	CU_ASSERT_EQUAL(parse("127.0.0.1::80"), 0);
	CU_ASSERT(maps[0].host_ip == 0x7f000001 && maps[0].host_port == 0);

	CU_ASSERT_EQUAL(parse("8000-8002:80-82/TCP"), 0);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT(maps[2].host_port == 8002 && maps[2].ctr_port == 82);
	CU_ASSERT_EQUAL(parse("8000-8010:80"), 0); /* one port out of the host range */
	CU_ASSERT(n == 1 && maps[0].host_port == 0 && maps[0].host_lo == 8000 &&
		  maps[0].host_hi == 8010);
	CU_ASSERT_EQUAL(parse("80-81"), 0);
	CU_ASSERT_EQUAL(n, 2);
}

static void
test_publish_errors(void)
{
	CU_ASSERT_EQUAL(parse("8080:0"), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "Invalid containerPort"));
	CU_ASSERT_EQUAL(parse("8080:65536"), -EINVAL);
	CU_ASSERT_EQUAL(parse("99999:80"), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "Invalid hostPort"));
	CU_ASSERT_EQUAL(parse("http:80"), -EINVAL);
	CU_ASSERT_EQUAL(parse("8080:80/sctp"), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "Invalid proto"));
	CU_ASSERT_EQUAL(parse("8080:80/"), -EINVAL);
	CU_ASSERT_EQUAL(parse("1.2.3:8080:80"), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "Invalid ip address"));
	CU_ASSERT_EQUAL(parse("[::1]:8080:80"), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "IPv6"));
	CU_ASSERT_EQUAL(parse("1:2:3:4"), -EINVAL);
	CU_ASSERT_EQUAL(parse("8000-8001:80-82"), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "Invalid ranges"));
	CU_ASSERT_EQUAL(parse("8080:80-81"), -EINVAL);
	CU_ASSERT_EQUAL(parse("82-80"), -EINVAL);
	CU_ASSERT_EQUAL(parse(""), -EINVAL);
	CU_ASSERT_EQUAL(parse("80-"), -EINVAL);
	CU_ASSERT_EQUAL(parse("1-65535"), -E2BIG);
}

static void
test_expose(void)
{
	struct pm_expose e[PM_MAX];
	unsigned int k = 0;

	CU_ASSERT_EQUAL(pm_parse_expose("80", e, &k, PM_MAX, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(pm_parse_expose("53/udp", e, &k, PM_MAX, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(pm_parse_expose("80/tcp", e, &k, PM_MAX, err, sizeof(err)), 0); /* dup */
	CU_ASSERT_EQUAL(pm_parse_expose("7000-7002", e, &k, PM_MAX, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(k, 5);
	CU_ASSERT(e[1].port == 53 && e[1].proto == PM_UDP);
	CU_ASSERT_EQUAL(pm_parse_expose("8080:80", e, &k, PM_MAX, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(pm_parse_expose("0", e, &k, PM_MAX, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(pm_parse_expose("80/icmp", e, &k, PM_MAX, err, sizeof(err)), -EINVAL);
}

static void
test_assign(void)
{
	struct pm_map taken[2] = {
		{ .host_ip = 0, .host_port = 8080, .ctr_port = 80, .proto = PM_TCP },
		{ .host_ip = 0, .host_port = PM_EPHEMERAL_LO, .ctr_port = 80, .proto = PM_TCP },
	};

	/* The same host port twice: Docker's message. */
	CU_ASSERT_EQUAL(parse("8080:81"), 0);
	CU_ASSERT_EQUAL(pm_assign(maps, n, taken, 2, err, sizeof(err)), -EADDRINUSE);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "Bind for 0.0.0.0:8080 failed: port is already "
				      "allocated"));
	/* Another protocol, or another host address against a specific one: fine. */
	CU_ASSERT_EQUAL(parse("8080:81/udp"), 0);
	CU_ASSERT_EQUAL(pm_assign(maps, n, taken, 2, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(parse("127.0.0.1:8080:81"), 0);
	CU_ASSERT_EQUAL(pm_assign(maps, n, taken, 2, err, sizeof(err)), -EADDRINUSE);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "127.0.0.1:8080"));
	/* Within one request. */
	n = 0;
	CU_ASSERT_EQUAL(pm_parse_publish("9000:80", maps, &n, PM_MAX, EPH, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(pm_parse_publish("9000:81", maps, &n, PM_MAX, EPH, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(pm_assign(maps, n, NULL, 0, err, sizeof(err)), -EADDRINUSE);
	/* Picking: the lowest free ephemeral port, avoiding taken and fixed ones. */
	n = 0;
	CU_ASSERT_EQUAL(pm_parse_publish("80", maps, &n, PM_MAX, EPH, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(pm_parse_publish("32769:81", maps, &n, PM_MAX, EPH, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(pm_parse_publish("82", maps, &n, PM_MAX, EPH, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(pm_assign(maps, n, taken, 2, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(maps[0].host_port, PM_EPHEMERAL_LO + 2);
	CU_ASSERT_EQUAL(maps[2].host_port, PM_EPHEMERAL_LO + 3);
	/* A host range for one container port, all taken. */
	CU_ASSERT_EQUAL(parse("8080-8080:80"), 0); /* a one-port "range" is a fixed port */
	CU_ASSERT_EQUAL(pm_assign(maps, n, taken, 2, err, sizeof(err)), -EADDRINUSE);
	n = 0;
	CU_ASSERT_EQUAL(pm_parse_publish("7000-7001:80", maps, &n, PM_MAX, EPH, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(pm_parse_publish("7000-7001:81", maps, &n, PM_MAX, EPH, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(pm_parse_publish("7000-7001:82", maps, &n, PM_MAX, EPH, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(pm_assign(maps, n, NULL, 0, err, sizeof(err)), -ENOSPC);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "7000-7001"));
}

/* Every port of a range taken: an error at once, never a hang (issue 4). */
static void
test_exhaustion(void)
{
	static struct pm_map taken[28232];
	unsigned int n_taken = 0;
	struct timespec t0, t1;
	double ms;

	/* A configured ephemeral range (nat.ephemeral_range: "40000-40003"). */
	n = 0;
	for (unsigned int i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(pm_parse_publish("80", maps, &n, PM_MAX, 40000, 40003, err,
						 sizeof(err)), 0);
	CU_ASSERT_EQUAL(pm_assign(maps, n, NULL, 0, err, sizeof(err)), 0);
	for (unsigned int i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(maps[i].host_port, 40000 + i);
	CU_ASSERT_EQUAL(pm_parse_publish("81", maps, &n, PM_MAX, 40000, 40003, err,
					 sizeof(err)), 0);
	CU_ASSERT_EQUAL(pm_assign(maps, n, NULL, 0, err, sizeof(err)), -ENOSPC);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "0.0.0.0:40000-40003"));
	/* The whole default range held by others (on 0.0.0.0): -ENOSPC, quickly. */
	for (uint32_t p = PM_EPHEMERAL_LO; p <= PM_EPHEMERAL_HI; p++)
		taken[n_taken++] = (struct pm_map){ .host_port = (uint16_t)p, .ctr_port = 80,
						    .proto = PM_TCP };
	CU_ASSERT_EQUAL(n_taken, PM_EPHEMERAL_HI - PM_EPHEMERAL_LO + 1);
	CU_ASSERT_EQUAL(parse("127.0.0.1::80"), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CU_ASSERT_EQUAL(pm_assign(maps, n, taken, n_taken, err, sizeof(err)), -ENOSPC);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	CU_ASSERT(ms < 60000.0);
	printf("(full range of %u ports refused in %.0f ms) ", n_taken, ms);
	/* UDP is another space: the same ports are free for it. */
	CU_ASSERT_EQUAL(parse("80/udp"), 0);
	CU_ASSERT_EQUAL(pm_assign(maps, n, taken, n_taken, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(maps[0].host_port, PM_EPHEMERAL_LO);
	/* The top of the port space: the loop ends at 65535 (no 16-bit wrap). */
	n_taken = 0;
	taken[n_taken++] = (struct pm_map){ .host_port = 65535, .proto = PM_TCP };
	CU_ASSERT_EQUAL(parse("65534-65535:80"), 0);
	CU_ASSERT_EQUAL(pm_assign(maps, n, taken, n_taken, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(maps[0].host_port, 65534);
	taken[n_taken++] = (struct pm_map){ .host_port = 65534, .proto = PM_TCP };
	CU_ASSERT_EQUAL(parse("65534-65535:80"), 0);
	CU_ASSERT_EQUAL(pm_assign(maps, n, taken, n_taken, err, sizeof(err)), -ENOSPC);
}

int
main(void)
{
	CU_pSuite s;
	unsigned int failures;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("portmap", NULL, NULL);
	if (s == NULL ||
	    CU_add_test(s, "-p forms", test_publish_forms) == NULL ||
	    CU_add_test(s, "-p errors", test_publish_errors) == NULL ||
	    CU_add_test(s, "--expose", test_expose) == NULL ||
	    CU_add_test(s, "host ports: conflicts and picking", test_assign) == NULL ||
	    CU_add_test(s, "host ports: exhaustion is an error", test_exhaustion) == NULL) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failures != 0 ? 1 : 0;
}
