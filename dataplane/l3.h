/*
 * l3.h - the routed side of the data plane: each network's gateway, the
 * routing table (rte_lpm), the neighbour table, and the control-thread API that
 * programs them. The stages that use them (ARP, L3 routing, ICMP, the L2 output
 * of routed frames) live in arp.c, route.c, icmp.c; this header is the contract
 * between those stages and the control plane.
 *
 * The model (Docker's, served by dpnet): every bridge network is a bridge domain
 * whose gateway address dpnet owns. A frame sent to the domain's gateway MAC is
 * routed: the destination is looked up in the LPM table, whose next hops say
 * "deliver in domain D" (a connected network) or "send to neighbour G in the
 * uplink's domain" (the way out). The destination MAC comes from the neighbour
 * table, which the control plane fills: it knows every container's IP and MAC
 * (IPAM), and the uplink peer's (in TAP mode: the host's dpnet0 interface).
 * Traffic between two bridge networks is dropped (isolation), as Docker does,
 * unless it enters from the uplink. Internal networks have no route out.
 *
 * Thread safety: the l3_* functions below are control-thread only. Workers read
 * the LPM table and the neighbour hash lock-free (rte_lpm with its RCU
 * integration, rte_hash with RW_CONCURRENCY_LF) and the per-domain gateway data
 * from the published view (dp.h, struct dp_net_view).
 */
#ifndef DPNET_L3_H
#define DPNET_L3_H

#include <stdint.h>
#include <rte_ether.h>

struct dp;

#define L3_MAX_ROUTES 1024
#define L3_MAX_NEIGH 65536

/* What a route leads to. */
enum l3_nh_type {
	L3_NH_CONNECTED = 0,   /* destination is on domain's subnet: neighbour = dst IP */
	L3_NH_GATEWAY = 1,     /* send to neighbour gw_ip in domain (e.g. the uplink peer) */
	L3_NH_BLACKHOLE = 2,   /* drop (counted as no-route) and answer ICMP unreachable */
};

struct l3_nexthop {
	uint8_t type;          /* enum l3_nh_type */
	uint16_t domain;       /* output domain */
	uint32_t gw_ip;        /* L3_NH_GATEWAY: next hop address, host byte order */
};

/* Routes: prefix in host byte order. -EEXIST, -ENOSPC, -EINVAL as usual. */
int l3_route_add(struct dp *dp, uint32_t prefix, uint8_t len, const struct l3_nexthop *nh);
int l3_route_del(struct dp *dp, uint32_t prefix, uint8_t len);
/* Walk the routes (control thread); cb returns non-zero to stop. */
void l3_route_walk(struct dp *dp, int (*cb)(uint32_t prefix, uint8_t len,
					   const struct l3_nexthop *nh, void *arg), void *arg);

/* Neighbours: (domain, IPv4) -> MAC. Static entries installed by control. */
int l3_neigh_add(struct dp *dp, uint16_t domain, uint32_t ip, const struct rte_ether_addr *mac);
int l3_neigh_del(struct dp *dp, uint16_t domain, uint32_t ip);
void l3_neigh_walk(struct dp *dp, int (*cb)(uint16_t domain, uint32_t ip,
					   const struct rte_ether_addr *mac, void *arg), void *arg);

#endif /* DPNET_L3_H */
