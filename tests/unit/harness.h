/*
 * harness.h - what the EAL-based CUnit suites share: starting EAL the way a
 * test binary must here, building net_ring ethdevs for a data plane, running
 * the registered suites.
 *
 * EAL runs with --no-huge --no-shconf --no-telemetry and a file prefix per
 * binary (DPDK 22.11 refuses --in-memory with --no-huge's legacy memory), so
 * test binaries can run in parallel. Ring port i has an RX ring the test
 * enqueues frames on and a TX ring it reads what the switch sent from.
 */
#ifndef DPNET_TEST_HARNESS_H
#define DPNET_TEST_HARNESS_H

#include <stdint.h>
#include <rte_ring.h>

#include "dataplane/dp.h"

/* 0, or -1 when EAL cannot start (the test then exits 77: skipped). */
int th_eal_init(const char *file_prefix);

/* n started net_ring ports (names from tag) whose RX queue uses dp's pool. 0 or -1. */
int th_ring_ports(struct dp *dp, const char *tag, unsigned int n, unsigned int ring_size,
		  struct rte_ring **rx, struct rte_ring **tx, uint16_t *port_ids);

/* Run every registered suite verbosely, clean the registry; returns the failures. */
unsigned int th_run(void);

#endif /* DPNET_TEST_HARNESS_H */
