/*
 * neigh.c - the neighbour table: (domain, IPv4) -> MAC, the control-thread
 * API of l3.h. Entries are static: the control plane installs one for every
 * container address it hands out (IPAM knows the MAC) and for the uplink's peer;
 * the L3 stage only reads them. Dynamic resolution (ARP requests sent by the
 * data plane, replies learned) is a later step.
 *
 * The data of each key is the MAC itself packed in a uint64 (l3_mac_pack), so
 * rte_hash_add_key_data() on an existing key changes the MAC with one atomic
 * store that a lock-free reader sees whole. Deleted key slots are recycled by
 * rte_hash after an RCU grace period (rte_hash_rcu_qsbr_add in l3.c).
 * A changed MAC or a deleted entry bumps neigh_gen, which empties the workers'
 * neighbour caches (route.c); a new entry need not: they cache no misses.
 */
#include <errno.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ether.h>
#include <rte_hash.h>

#include "l3_private.h"

int
l3_neigh_add(struct dp *dp, uint16_t domain, uint32_t ip, const struct rte_ether_addr *mac)
{
	struct l3_tables *l3 = dp->l3;
	uint64_t key = l3_neigh_key(domain, ip);
	void *old = NULL;
	bool existed;
	int rc;

	if (domain >= DP_MAX_DOMAINS || ip == 0 || mac == NULL ||
	    rte_is_multicast_ether_addr(mac) || rte_is_zero_ether_addr(mac))
		return -EINVAL;
	existed = rte_hash_lookup_data(l3->neigh, &key, &old) >= 0;
	rc = rte_hash_add_key_data(l3->neigh, &key, (void *)(uintptr_t)l3_mac_pack(mac));
	if (rc < 0)
		return rc == -ENOSPC ? -ENOSPC : -EINVAL;
	if (!existed)
		l3->n_neigh++;
	else if ((uintptr_t)old != l3_mac_pack(mac))
		/* After the new MAC is in the table: a worker that sees this
		 * generation looks it up again (route.c). */
		__atomic_fetch_add(&l3->neigh_gen, 1, __ATOMIC_RELEASE);
	return 0;
}

int
l3_neigh_del(struct dp *dp, uint16_t domain, uint32_t ip)
{
	struct l3_tables *l3 = dp->l3;
	uint64_t key = l3_neigh_key(domain, ip);

	if (domain >= DP_MAX_DOMAINS)
		return -EINVAL;
	if (rte_hash_del_key(l3->neigh, &key) < 0)
		return -ENOENT;
	l3->n_neigh--;
	__atomic_fetch_add(&l3->neigh_gen, 1, __ATOMIC_RELEASE);
	return 0;
}

void
l3_neigh_walk(struct dp *dp, int (*cb)(uint16_t domain, uint32_t ip,
				       const struct rte_ether_addr *mac, void *arg), void *arg)
{
	struct l3_tables *l3 = dp->l3;
	const void *key;
	void *data;
	uint32_t iter = 0;

	while (rte_hash_iterate(l3->neigh, &key, &data, &iter) >= 0) {
		uint64_t k = *(const uint64_t *)key;
		struct rte_ether_addr mac;

		l3_mac_unpack((uint64_t)(uintptr_t)data, &mac);
		if (cb((uint16_t)(k >> 32), (uint32_t)k, &mac, arg) != 0)
			break;
	}
}

uint32_t
l3_neigh_count(const struct dp *dp)
{
	return dp->l3->n_neigh;
}
