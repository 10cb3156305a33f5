/*
 * l3_private.h - inside the routed side of the data plane: the tables behind
 * l3.h and the small inline helpers that the ARP, L3 and bridge stages share.
 * Only dataplane/ and its unit tests include this file; the control plane uses
 * l3.h.
 *
 * Tables. An rte_lpm maps a destination to a 24-bit next-hop index into nh[],
 * an array of struct l3_nexthop; the default route (length 0, which rte_lpm
 * refuses) is the index default_nh, used when the LPM misses. A published
 * slot is never written again: a route that changes is deleted and added, and
 * gets a new slot; a deleted
 * route's slot is retired with an RCU token and reused only once every worker
 * has reported quiescence since (so a worker that read the index just before
 * the delete still reads the old, intact next hop). rte_lpm's own tbl8 groups
 * are reclaimed the same way (rte_lpm_rcu_qsbr_add). Neighbours live in an
 * rte_hash (lock-free readers) keyed by l3_neigh_key(domain, ip) whose data is
 * the MAC packed in a uint64 (l3_mac_pack), so an update of a MAC is one atomic
 * store of the data and a reader never follows a pointer that could dangle.
 *
 * Thread safety: the control-only members (routes[], slot states, counts) are
 * touched by the l3_* functions of l3.h on the control thread; workers read
 * lpm, nh[], neigh and the ICMP rate with the inline helpers below.
 */
#ifndef DPNET_L3_PRIVATE_H
#define DPNET_L3_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_ip.h>
#include <rte_lpm.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "cksum.h"
#include "dp.h"
#include "l3.h"
#include "neigh.h"
#include "pkt.h"

/* Next-hop slots: twice the routes, so a free or retired slot always exists. */
#define L3_MAX_NH (2 * L3_MAX_ROUTES)
_Static_assert(L3_MAX_NH <= PKT_RT_NONE, "a slot fits meta->rt_nh, apart from 'no route'");

/* default_nh when there is no default route. */
#define L3_NH_NONE UINT32_MAX

/* Default ICMP error rate per worker: 100 per second in bursts of at most 10. */
#define L3_ICMP_RATE_DEFAULT 100
#define L3_ICMP_BURST_DEFAULT 10

/* State of a next-hop slot (control thread only). */
enum l3_nh_state {
	L3_NH_FREE = 0,        /* never used, or retired long enough ago */
	L3_NH_USED = 1,        /* referenced by a route in the LPM table */
	L3_NH_RETIRED = 2,     /* its route was deleted; reusable after rcu_token */
};

/* A route as control added it: what l3_route_walk() reports. */
struct l3_route {
	uint32_t prefix;       /* host byte order, host bits zero */
	uint8_t len;           /* prefix length 0..32 */
	uint32_t nh_idx;       /* its slot in nh[] */
};

struct l3_tables {
	struct rte_lpm *lpm;            /* destination -> next-hop index (workers read) */
	uint32_t default_nh;            /* slot of the 0.0.0.0/0 route, which rte_lpm
	                                 * cannot hold (depth 1..32), or L3_NH_NONE */
	struct l3_nexthop *nh;          /* L3_MAX_NH slots, immutable once published */
	struct rte_hash *neigh;         /* l3_neigh_key -> l3_mac_pack (workers read) */
	uint32_t neigh_gen;             /* bumped (release) after a neighbour's MAC
	                                 * changes or it is deleted: the workers'
	                                 * neighbour caches (route.c) drop what they
	                                 * looked up before */
	struct rte_rcu_qsbr *qs;        /* the data plane's QSBR variable */
	uint64_t icmp_cost_tsc;         /* TSC credit one ICMP error costs (0: none sent) */
	uint64_t icmp_burst_tsc;        /* bucket depth in TSC cycles */
	/* Control thread only. */
	struct l3_route routes[L3_MAX_ROUTES]; /* the routes, unordered */
	uint32_t n_routes;              /* used entries of routes[] */
	uint8_t nh_state[L3_MAX_NH];    /* enum l3_nh_state per slot */
	uint64_t nh_token[L3_MAX_NH];   /* RCU token of a retired slot */
	uint32_t n_neigh;               /* neighbours in the table (rte_hash_count also
	                                 * counts slots awaiting RCU reclaim) */
};

/* Create and free the tables (dp_create, dp_destroy). NULL + errno on failure. */
struct l3_tables *l3_tables_create(const char *name, struct rte_rcu_qsbr *qs);
void l3_tables_free(struct l3_tables *l3);

static inline uint64_t
l3_neigh_key(uint16_t domain, uint32_t ip)
{
	return ((uint64_t)domain << 32) | ip;
}

/* A MAC in the low 48 bits, first byte highest, as fdb_key packs it. */
static inline uint64_t
l3_mac_pack(const struct rte_ether_addr *mac)
{
	const uint8_t *b = mac->addr_bytes;

	return ((uint64_t)b[0] << 40) | ((uint64_t)b[1] << 32) | ((uint64_t)b[2] << 24) |
		((uint64_t)b[3] << 16) | ((uint64_t)b[4] << 8) | b[5];
}

static inline void
l3_mac_unpack(uint64_t v, struct rte_ether_addr *mac)
{
	for (int i = 0; i < 6; i++)
		mac->addr_bytes[i] = (uint8_t)(v >> (40 - 8 * i));
}

/* Worker: the next hop for dst (host order), or NULL when nothing routes it. */
static inline const struct l3_nexthop *
l3_route_lookup(const struct l3_tables *l3, uint32_t dst)
{
	uint32_t idx;

	if (unlikely(rte_lpm_lookup(l3->lpm, dst, &idx) != 0)) {
		idx = __atomic_load_n(&l3->default_nh, __ATOMIC_ACQUIRE);
		if (idx == L3_NH_NONE)
			return NULL;
	}
	return &l3->nh[idx];
}

/*
 * Does a domain with DP_NET_F_PROXY_ARP answer ARP for ip? Yes when ip routes
 * to another domain: the asker (the host on the uplink, an outside router)
 * then sends the traffic to our gateway MAC and the L3 stage routes it.
 */
static inline bool
l3_proxy_arp_target(const struct l3_tables *l3, uint16_t domain, uint32_t ip)
{
	const struct l3_nexthop *nh = l3_route_lookup(l3, ip);

	return nh != NULL && nh->type != L3_NH_BLACKHOLE && nh->domain != domain;
}

/*
 * TTL - 1 and the matching checksum update (RFC 1624, equation 3, as Linux's
 * ip_decrease_ttl does it): TTL is the high byte of its 16-bit word, so the
 * sum drops by 0x0100 and the checksum rises by it with end-around carry. The
 * carry test (>= 0xFFFF) also maps the result 0xFFFF to 0x0000, which is what
 * a full recomputation gives: a header's one's-complement sum is never +0.
 */
static inline void
l3_ttl_dec(struct rte_ipv4_hdr *ip)
{
	uint32_t sum = (uint32_t)ip->hdr_checksum + (uint32_t)RTE_BE16(0x0100);

	ip->hdr_checksum = (rte_be16_t)(sum + (sum >= 0xFFFF));
	ip->time_to_live--;
}

/* Worker: may this worker send one more ICMP error now? (token bucket) */
static inline bool
l3_icmp_allow(struct lcore_ctx *ctx)
{
	const struct l3_tables *l3 = ctx->l3;
	uint64_t cost = __atomic_load_n(&l3->icmp_cost_tsc, __ATOMIC_RELAXED);
	uint64_t depth = __atomic_load_n(&l3->icmp_burst_tsc, __ATOMIC_RELAXED);
	uint64_t now = ctx->now_tsc;
	uint64_t credit = ctx->icmp_credit_tsc;

	if (cost == 0)
		return false;
	/* A clock injected by a test may step back: no credit then, never a wrap. */
	if (now > ctx->icmp_last_tsc)
		credit += now - ctx->icmp_last_tsc;
	ctx->icmp_last_tsc = now;
	credit = RTE_MIN(credit, depth);
	if (credit < cost) {
		ctx->icmp_credit_tsc = credit;
		return false;
	}
	ctx->icmp_credit_tsc = credit - cost;
	return true;
}

/* icmp.c: replies built in place in the frame that asked (see icmp.c). */
void icmp_echo_reply(struct rte_mbuf *m, const struct pkt_meta *meta);
bool icmp_error_wanted(struct rte_mbuf *m, const struct pkt_meta *meta);
int icmp_error_build(struct rte_mbuf *m, const struct pkt_meta *meta, uint8_t type,
		     uint8_t code, uint32_t src_ip, const struct rte_ether_addr *src_mac,
		     uint16_t ip_id);
/* After icmp_error_build: the next-hop MTU of a fragmentation needed (RFC 1191). */
void icmp_error_set_mtu(struct rte_mbuf *m, uint16_t mtu);

/* punt.c: dp->punt and dp->inject (neigh.h), created by dp_create (0 or
 * -ENOMEM) and freed, with any frames left in them, by dp_destroy. */
int punt_rings_create(struct dp *dp);
void punt_rings_free(struct dp *dp);

#endif /* DPNET_L3_PRIVATE_H */
