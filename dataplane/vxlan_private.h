/*
 * vxlan_private.h - inside the overlays of the data plane (vxlan.h): the
 * immutable overlay table that vxlan_set() publishes, the packed parameters,
 * and the lookups the bridge and ARP stages share with vxlan.c. Only
 * dataplane/ and its tests include this file; the control plane uses vxlan.h.
 *
 * The table. Built whole by vxlan_set() on the control thread, published with
 * an atomic pointer swap in struct dp (release), freed after an RCU grace
 * period of dp->qs; never written once published, so its rte_hash tables need
 * no concurrency flags. It holds: (VNI, peer) -> domain, the hash a decap
 * burst looks up in bulk (a hit says both "known VNI" and "known peer"); VNI
 * -> domain, asked only on a miss of the first to tell an unknown VNI from an
 * unknown peer; per domain its VNI and its peers (one slice of peers[]), for
 * encapsulation and head-end replication; and (domain, IPv4) -> MAC, the
 * ARP-suppression entries.
 *
 * The parameters (port, TTL, DF) are one 32-bit word in struct dp that
 * vxlan_configure() stores and workers load once per burst, both relaxed: a
 * burst sees the old or the new parameters, never a mix.
 *
 * Thread safety: vxlan_table_* and the table's construction are control-thread
 * only; workers load the pointer (acquire) once per burst or frame and only
 * read through it.
 */
#ifndef DPNET_VXLAN_PRIVATE_H
#define DPNET_VXLAN_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_ether.h>
#include <rte_hash.h>

#include "dp.h"
#include "vxlan.h"

struct vxlan_table {
	struct rte_hash *peer_hash;             /* vxlan_peer_key(vni, peer) -> domain */
	struct rte_hash *vni_hash;              /* uint32_t VNI -> domain */
	struct rte_hash *arp_hash;              /* l3_neigh_key(domain, ip) -> l3_mac_pack;
	                                         * NULL when there are no entries */
	uint32_t vni[DP_MAX_DOMAINS];           /* per domain: its VNI, 0 if no overlay */
	uint16_t peer_first[DP_MAX_DOMAINS];    /* per domain: index of its first peer */
	uint16_t peer_count[DP_MAX_DOMAINS];    /* per domain: how many peers */
	uint32_t n_peers;                       /* used entries of peers[] */
	uint32_t peers[VXLAN_MAX_PEERS];        /* every overlay's peers, host order,
	                                         * grouped by domain */
};

static inline uint64_t
vxlan_peer_key(uint32_t vni, uint32_t peer)
{
	return (uint64_t)vni << 32 | peer;
}

static inline const struct vxlan_table *
vxlan_table_get(const struct dp *dp)
{
	return __atomic_load_n(&dp->vxlan, __ATOMIC_ACQUIRE);
}

static inline uint32_t
vxlan_params_pack(const struct vxlan_params *p)
{
	return (uint32_t)p->udp_port | (uint32_t)p->ttl << 16 | (uint32_t)(p->df ? 1 : 0) << 24;
}

static inline void
vxlan_params_unpack(uint32_t w, struct vxlan_params *p)
{
	p->udp_port = (uint16_t)w;
	p->ttl = (uint8_t)(w >> 16);
	p->df = (w >> 24) & 1;
}

/*
 * Worker: the MAC of ARP-suppression entry (domain, ip) in *mac; false when
 * there is none (or no table). Used by the bridge (is this request to be
 * answered here?) and the ARP stage (with what?).
 */
bool vxlan_arp_lookup(const struct dp *dp, uint16_t domain, uint32_t ip,
		      struct rte_ether_addr *mac);

/*
 * Worker, dispatcher: send a frame whose out_port is DP_PORT_VXLAN - an answer
 * that goes back out its ingress pseudo-port (ARP reply, ping reply, ICMP
 * error to a remote endpoint), decided after vxenc's turn - through the
 * tunnel to meta->nh_ip: encapsulated and dispatched (TX, punt or drop).
 */
void vxlan_tx(struct lcore_ctx *ctx, struct rte_mbuf *m);

/* dp_destroy: free a table that is no longer published (NULL is fine). */
void vxlan_table_free(struct vxlan_table *t);

#endif /* DPNET_VXLAN_PRIVATE_H */
