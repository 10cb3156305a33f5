/*
 * harness.c - the shared set-up of the EAL-based unit suites. See harness.h.
 */
#include <stdio.h>

#include <CUnit/Basic.h>
#include <rte_common.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>

#include "harness.h"

int
th_eal_init(const char *file_prefix)
{
	char *eal[] = {"test", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
		       "--no-telemetry", "--file-prefix", (char *)file_prefix,
		       "--log-level", "*:error"};

	if (rte_eal_init((int)RTE_DIM(eal), eal) < 0) {
		fprintf(stderr, "%s: EAL unavailable: skipping\n", file_prefix);
		return -1;
	}
	return 0;
}

int
th_ring_ports(struct dp *dp, const char *tag, unsigned int n, unsigned int ring_size,
	      struct rte_ring **rx, struct rte_ring **tx, uint16_t *port_ids)
{
	for (unsigned int p = 0; p < n; p++) {
		struct rte_eth_conf conf = {0};
		char name[RTE_RING_NAMESIZE];
		int id;

		snprintf(name, sizeof(name), "%s_rx%u", tag, p);
		rx[p] = rte_ring_create(name, ring_size, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "%s_tx%u", tag, p);
		tx[p] = rte_ring_create(name, ring_size, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (rx[p] == NULL || tx[p] == NULL)
			return -1;
		snprintf(name, sizeof(name), "net_ring_%s%u", tag, p);
		id = rte_eth_from_rings(name, &rx[p], 1, &tx[p], 1, 0);
		if (id < 0)
			return -1;
		port_ids[p] = (uint16_t)id;
		if (rte_eth_dev_configure(port_ids[p], 1, 1, &conf) != 0 ||
		    rte_eth_rx_queue_setup(port_ids[p], 0, 128, 0, NULL, dp->pool) != 0 ||
		    rte_eth_tx_queue_setup(port_ids[p], 0, 128, 0, NULL) != 0 ||
		    rte_eth_dev_start(port_ids[p]) != 0)
			return -1;
	}
	return 0;
}

unsigned int
th_run(void)
{
	unsigned int failed;

	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return failed;
}
