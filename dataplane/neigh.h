/*
 * neigh.h - owning a dedicated NIC (issue 5): neighbour resolution with ARP on
 * the uplink, the host's exception path, and the MTU rule. The contract between
 * the data plane (arp.c, route.c, neigh.c, punt.c) and the control plane
 * (control/neigh.c, control/route.c, control/uplink.c). l3.h stays the contract
 * for what is already there; this adds to it.
 *
 * Domains. The uplink port is alone in domain u (NET_DOMAIN_UPLINK) with
 * nets[u] = { gw_ip = the uplink address, subnet/prefix of that address,
 * DP_NET_F_L3 | DP_NET_F_UPLINK | DP_NET_F_RESOLVE, mtu = the uplink's MTU,
 * gw_mac = the uplink port's own MAC (the NIC's) }. Neighbours in u are learned
 * (below), not installed, except for a TAP-mode uplink (the host side's MAC is
 * known: static entries as today, no DP_NET_F_RESOLVE).
 *
 * The host's exception path (NIC mode only). A TAP port with role host
 * (default name dpnet-host) is alone in its own domain h with nets[h] = {
 * gw_ip 0, DP_NET_F_L3 | DP_NET_F_HOST | DP_NET_F_PROXY_ARP, mtu = the uplink's,
 * gw_mac = a MAC of dpnet's for h }, and view->host_port = its port id
 * (RTE_MAX_ETHPORTS if none). The host side of the TAP carries the host's
 * address (= the uplink address, with its prefix) and, unless configured off,
 * a default route via the uplink gateway; the host kernel ARPs on it and dpnet
 * answers for everything routed elsewhere (proxy ARP), so every frame the host
 * sends reaches the L3 stage, which routes it like any other (h -> u: not
 * masqueraded, h is not a bridge network; h -> a bridge network: allowed, as
 * the host reaches containers). Control installs the static neighbour
 * (h, uplink address) -> the TAP's host-side MAC.
 * L3, for a frame whose destination is a local address (l3_local):
 *   the uplink address, arriving from u or from a bridge network, after the
 *   NAT stage found no published port: when view->host_port is present, it
 *   goes unrouted (no TTL change) to neighbour (h, dst) - the host answers
 *   pings, TCP, everything (the NAT stage passes it all on: other protocols,
 *   ICMP errors quoting nothing known, fragments no published port claims;
 *   nat.h "The host port"); without a host port, pings are answered by dpnet
 *   and the rest dropped (gateway-local) as today. Any other gateway address
 *   (not a ping) with a resolving uplink domain: dropped (gateway-local) -
 *   nobody in u owns it, so there is nothing to ask ARP for (in TAP mode the
 *   host owns them: neighbour (u, dst) as l3.h says).
 * Isolation treats DP_NET_F_HOST like DP_NET_F_UPLINK (not a bridge network).
 *
 * Resolution (domains with DP_NET_F_RESOLVE). Two rings between the workers
 * and the control thread, created by dp_create:
 *  - dp->punt (MP/SC rte_ring of mbufs): a worker whose L3 neighbour lookup
 *    misses for next hop nh in a resolving domain d finishes the frame (TTL,
 *    source MAC = nets[d].gw_mac, meta->domain = d) and hands it over with
 *    meta->next = PL_NEXT_PUNT, meta->punt = PUNT_NEIGH_MISS and meta->nh_ip =
 *    nh; the dispatcher enqueues it (ring full: dropped, no-neighbour). The
 *    ARP stage hands over every ARP frame that arrived in a resolving domain
 *    from a sender inside nets[d].subnet (other than our own address) after
 *    answering it when it was a request for us: a copy (rte_pktmbuf_copy) for
 *    a request it answered, the frame itself otherwise, meta->punt =
 *    PUNT_ARP. Workers never write the neighbour table.
 *  - dp->inject (SP/MC rte_ring of mbufs): frames control wants sent - ARP
 *    requests and probes, gratuitous ARP, held frames whose neighbour is now
 *    known - each with meta->out_port set. Every worker dequeues at most
 *    DP_BURST of them per loop and transmits them on its own TX queue
 *    (dropped, port-down, when the port is not present any more).
 * Control (control/neigh.c), on its 10 ms timer, drains dp->punt:
 *  - PUNT_NEIGH_MISS: holds at most NEIGH_HOLD frames per (d, nh) (older ones
 *    freed and counted), sends a broadcast ARP request for nh from the domain's
 *    address (at most one per second, NEIGH_PROBES tries, then FAILED for
 *    NEIGH_FAILED_S seconds: frames for nh are dropped, counted, no request).
 *  - PUNT_ARP: a reply to us, or a request for our address, from sender S with
 *    MAC M: l3_neigh_add(d, S, M) if S is pending or already known (no entry
 *    is created for unsolicited replies, as Linux's arp_accept=0), and the held
 *    frames of (d, S) get M as destination and go to dp->inject on the
 *    domain's port. A gratuitous ARP updates a known entry.
 *  - Ageing: an entry confirmed longer than NEIGH_REACHABLE_S ago is probed
 *    (unicast ARP request); NEIGH_PROBES unanswered probes remove it.
 *  - When the uplink comes up (and when its address changes) control sends a
 *    gratuitous ARP for the uplink address.
 *  - `dpctl neigh ls`: ADDRESS MAC STATE (PERMANENT for installed entries,
 *    REACHABLE / STALE / PROBE / INCOMPLETE / FAILED for learned ones) NETWORK.
 *
 * MTU. A routed IPv4 frame longer than nets[o].mtu (its L3 length) is not
 * sent: with DF it is answered with ICMP fragmentation needed carrying the
 * next-hop MTU (rate-limited like the other errors; a packet the NAT stage
 * translated is first rewritten back, nat_untranslate, so the error reaches
 * its real source quoting what it sent) and counted too-big;
 * without DF it is dropped and counted too-big as well (dpnet does not
 * fragment: containers get their network's MTU and TCP uses PMTU discovery;
 * a fragmenting path is future work - rte_ipv4_fragment_packet).
 *
 * Thread safety: rings as above; the neighbour hash keeps its single writer
 * (control) and lock-free readers.
 */
#ifndef DPNET_NEIGH_H
#define DPNET_NEIGH_H

#include <stdint.h>

/* View flags added to dp.h's DP_NET_F_* (same byte). */
#define DP_NET_F_RESOLVE 0x10   /* neighbours are resolved with ARP (uplink, NIC mode) */
#define DP_NET_F_HOST 0x20      /* the host's exception path domain */

/* meta->punt: why a frame was handed to control. */
enum punt_reason {
	PUNT_NONE = 0,
	PUNT_NEIGH_MISS = 1,    /* waiting for the MAC of meta->nh_ip in meta->domain */
	PUNT_ARP = 2,           /* an ARP frame to learn from */
};

#define NEIGH_HOLD 4            /* frames held per unresolved next hop */
#define NEIGH_PROBES 3          /* ARP requests before giving up */
#define NEIGH_FAILED_S 5        /* seconds a failed next hop is not asked again */
#define NEIGH_REACHABLE_S 30    /* seconds before a learned entry is probed */
#define DP_PUNT_RING 1024       /* entries of dp->punt */
#define DP_INJECT_RING 1024     /* entries of dp->inject */

#endif /* DPNET_NEIGH_H */
