/*
 * neigh.h (control) - the control plane's half of neighbour resolution
 * (dataplane/neigh.h is the contract): the cache of learned neighbours with
 * their states, the frames held for a next hop being resolved, the ARP
 * requests, probes and gratuitous ARP control sends, and `dpctl neigh ls`.
 *
 * Flow. The workers hand over (dp->punt) the frames whose next hop they could
 * not resolve and the ARP frames of resolving domains; control/punt.c drains
 * that ring on the 10 ms timer and calls ctl_neigh_miss() / ctl_neigh_arp()
 * with each frame (this module then owns it). What this module sends - ARP
 * requests, probes, gratuitous ARP, held frames once their neighbour is known -
 * goes through the transmit function punt.c installs (ctl_neigh_set_xmit: an
 * enqueue on dp->inject); without one nothing is sent and frames handed in are
 * freed. A learned neighbour is installed in the data plane's table
 * (l3_neigh_add) so the workers resolve it themselves from then on.
 *
 * States (as ip neigh): INCOMPLETE (asked, no answer yet: frames held),
 * REACHABLE (answered us), STALE (learned from a frame that was not an answer
 * to us: a gratuitous ARP or a request), PROBE (confirmed longer than
 * NEIGH_REACHABLE_S ago: unicast requests), FAILED (NEIGH_PROBES requests
 * unanswered: frames dropped, no request for NEIGH_FAILED_S). Entries installed
 * by control itself (containers, TAP mode's host side) are PERMANENT.
 *
 * Thread safety: control thread only. Memory: a fixed table of NEIGH_MAX
 * entries (a miss when it is full is dropped and counted); at most NEIGH_HOLD
 * frames per entry, so a burst to many unknown next hops holds at most
 * NEIGH_MAX * NEIGH_HOLD mbufs.
 */
#ifndef DPNET_CTL_NEIGH_H
#define DPNET_CTL_NEIGH_H

#include <stdint.h>
#include <jansson.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

struct ctl;

#define NEIGH_MAX 1024          /* learned or pending neighbours at most */

/* Counters of the control side, for `dpctl stats` ("neigh"). */
struct neigh_counters {
	uint64_t requests;       /* broadcast ARP requests sent */
	uint64_t probes;         /* unicast ARP requests sent (ageing) */
	uint64_t garps;          /* gratuitous ARP sent */
	uint64_t learned;        /* replies (and updates) learned */
	uint64_t held;           /* frames held for a next hop being resolved */
	uint64_t held_sent;      /* held frames sent once it was resolved */
	uint64_t held_dropped;   /* held frames dropped: too many, failed, table full */
	uint64_t failed;         /* next hops that went FAILED */
	uint64_t expired;        /* learned entries removed after unanswered probes */
	uint64_t xmit_dropped;   /* frames the transmit function refused */
};

/* Send one frame (meta->out_port set); 0, or negative and the caller frees it. */
typedef int (*neigh_xmit_fn)(struct ctl *c, struct rte_mbuf *m);

/* Forget everything (start-up). */
void ctl_neigh_init(struct ctl *c);
/* Install the transmit function (control/punt.c); NULL: send nothing. */
void ctl_neigh_set_xmit(neigh_xmit_fn xmit);
/* A frame for next hop nh of domain (finished but for its destination MAC). */
void ctl_neigh_miss(struct ctl *c, uint16_t domain, uint32_t nh, struct rte_mbuf *m,
		    uint64_t now_ms);
/* An ARP frame that arrived in domain (a resolving one): learn from it. */
void ctl_neigh_arp(struct ctl *c, uint16_t domain, struct rte_mbuf *m, uint64_t now_ms);
/* Timer (every ~10 ms): requests, probes, FAILED and its end. */
void ctl_neigh_tick(struct ctl *c, uint64_t now_ms);
/* Gratuitous ARP for ip (dpnet's) with mac out of port (domain's address came up). */
void ctl_neigh_announce(struct ctl *c, uint16_t domain, uint16_t port, uint32_t ip,
			const struct rte_ether_addr *mac);
/* The domain goes (the uplink is removed): its learned entries and held frames. */
void ctl_neigh_flush(struct ctl *c, uint16_t domain);
/* The "neigh" object of stats. */
json_t *ctl_neigh_stats_json(void);

/* punt.c: install the transmit function, drain dp->punt into the functions above. */
void ctl_punt_init(struct ctl *c);
void ctl_punt_drain(struct ctl *c, uint64_t now_ms);

#endif /* DPNET_CTL_NEIGH_H */
