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
 * What control programs (the stages in route.c and arp.c read exactly this):
 *  - view->nets[d] for every bridge network d: DP_NET_F_L3, gw_ip (the
 *    network's gateway address), gw_mac (dpnet's MAC in d: frames to it are
 *    routed), subnet/prefix_len, mtu; DP_NET_F_INTERNAL for --internal.
 *  - the uplink's domain u: DP_NET_F_L3 | DP_NET_F_UPLINK, gw_mac, usually
 *    DP_NET_F_PROXY_ARP (ARP from the uplink side for any address routed to
 *    another domain is answered with u's gw_mac); gw_ip may be 0. ICMP errors
 *    are sourced from the ingress domain's gw_ip, so none are sent into a
 *    domain whose gw_ip is 0. view->uplink_port = the uplink's port.
 *  - routes: subnet/len -> L3_NH_CONNECTED(d) for every bridge network (the
 *    gateway address is recognised through it); a default route 0.0.0.0/0 ->
 *    L3_NH_GATEWAY(u, peer) when there is a way out.
 *  - neighbours: (d, ip) -> MAC for every container address; (u, peer) -> the
 *    peer's MAC for the default route's gateway; and, when the uplink peer owns
 *    the gateway addresses (TAP mode: the host has 172.17.0.1/16 on dpnet0, as
 *    it would on docker0), (u, gw_ip of d) -> the peer's MAC for every d, so
 *    that traffic from containers to their gateway (other than ping) reaches
 *    the host.
 * Decisions, in order, for an IPv4 frame to a gw_mac (ingress domain i):
 *  dst == a gateway address (i's, or d's when the route says CONNECTED(d) and
 *  dst == nets[d].gw_ip): an echo request is answered by dpnet; anything else
 *  goes unrouted (no TTL change) to neighbour (u, dst) if there is an uplink,
 *  i is not u, and i is not internal (an internal network may reach its own
 *  gateway address only); else dropped (gateway-local). Otherwise the LPM
 *  (then the default route 0.0.0.0/0): no route or BLACKHOLE -> ICMP net
 *  unreachable (no-route); output domain o without DP_NET_F_L3 -> no-route;
 *  i != o and neither is u -> isolated (unless the frame carries PKT_F_NAT: the
 *  NAT stage translated it for a published port, nat.h); o == u from an internal i, or i == u
 *  into an internal o from a source other than o's gateway address (the
 *  host's own address there, as Docker lets the host reach internal networks)
 *  -> internal; TTL <= 1 -> ICMP time exceeded; neighbour (o, CONNECTED ? dst
 *  : gw_ip) unknown -> no-neighbour; else TTL - 1, Ethernet source o's gw_mac,
 *  destination the neighbour's MAC, out through o's MAC table (flooded in o,
 *  never back out the ingress port, when the MAC is not known there).
 *  Not routed: VLAN-tagged or non-IP frames and multicast/broadcast/0.0.0.0
 *  destinations (not-routable), IPv6 (ipv6-not-routed), a bad IPv4 header
 *  checksum (bad-ip-checksum). ICMP errors go back out the ingress port from
 *  i's gw_ip, quoting the frame as its source sent it (one the NAT stage
 *  translated is rewritten back first, nat_untranslate; if it cannot be, no
 *  error), never about ICMP errors, non-first fragments or non-unicast
 *  sources, at most l3_icmp_rate_set() per worker.
 * When a network is removed, control deletes its routes and neighbours. A
 * gateway MAC must never be put in the MAC table (no static fdb entry): the
 * bridge recognises frames to the gateway among the destinations the table
 * does not know, and drops frames from a gateway MAC (bad-src-mac).
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

/* Routes: prefix in host byte order with its host bits zero. -EEXIST when the
 * prefix/len is present (to change a route, delete and add it), -ENOSPC, -EINVAL,
 * -ENOENT on delete. A deleted route stops matching at once. */
int l3_route_add(struct dp *dp, uint32_t prefix, uint8_t len, const struct l3_nexthop *nh);
int l3_route_del(struct dp *dp, uint32_t prefix, uint8_t len);
/* Walk the routes (control thread); cb returns non-zero to stop. */
void l3_route_walk(struct dp *dp, int (*cb)(uint32_t prefix, uint8_t len,
					   const struct l3_nexthop *nh, void *arg), void *arg);

/* Neighbours: (domain, IPv4) -> MAC. Static entries installed by control; adding
 * an existing one replaces its MAC (workers see the old or the new, never a mix).
 * -EINVAL (bad domain, ip 0, multicast/zero MAC), -ENOSPC, -ENOENT on delete. */
int l3_neigh_add(struct dp *dp, uint16_t domain, uint32_t ip, const struct rte_ether_addr *mac);
int l3_neigh_del(struct dp *dp, uint16_t domain, uint32_t ip);
void l3_neigh_walk(struct dp *dp, int (*cb)(uint16_t domain, uint32_t ip,
					   const struct rte_ether_addr *mac, void *arg), void *arg);
uint32_t l3_neigh_count(const struct dp *dp);

/* ICMP errors (unreachable, time exceeded) each worker may send: per_s per
 * second in bursts of at most burst (default 100/s, 10); per_s 0 sends none. */
int l3_icmp_rate_set(struct dp *dp, uint32_t per_s, uint32_t burst);

#endif /* DPNET_L3_H */
