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
 * Thread safety: control thread only.
 *
 * Memory, and a container scanning the uplink network (every miss of a new
 * next hop makes an entry and a broadcast request):
 *  - a fixed table of NEIGH_MAX entries; a new next hop when it is full takes
 *    the slot of a FAILED entry, else of the oldest INCOMPLETE one (its held
 *    frames dropped; counted "evicted"); learned entries are never evicted:
 *    with every slot learned the miss is dropped (held_dropped);
 *  - new next hops (INCOMPLETE entries, each a broadcast request) at most
 *    NEIGH_NEW_BURST at once and NEIGH_NEW_PER_S a second (a token bucket);
 *    a miss beyond that is dropped and counted ("rate_limited"), so a scan
 *    costs the uplink network a bounded ARP rate and fills no table;
 *  - at most NEIGH_HOLD frames per entry and NEIGH_HELD_MAX in all: past that
 *    the oldest held frame (of any entry) is dropped (held_dropped).
 * A reply or gratuitous ARP (a request for or a reply from its own address)
 * updates a known entry only; an unsolicited one creates nothing.
 *
 * Punted frames are not trusted (tests/fuzz/fuzz_neigh.c feeds them arbitrary
 * bytes and metadata): a frame for a domain that does not resolve (out of
 * range, no DP_NET_F_RESOLVE, no address), a miss whose first segment is
 * shorter than an Ethernet header (its destination MAC is written in place)
 * and an ARP frame that is not Ethernet/IPv4 ARP or is truncated are freed
 * (a miss counted held_dropped) and change nothing.
 */
#ifndef DPNET_CTL_NEIGH_H
#define DPNET_CTL_NEIGH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

struct ctl;

#define NEIGH_MAX 1024          /* learned or pending neighbours at most */
#define NEIGH_HELD_MAX 256      /* frames held for all pending next hops together */
#define NEIGH_NEW_PER_S 50      /* new next hops asked for per second (steady) */
#define NEIGH_NEW_BURST 50      /*   and at once */

/* Counters of the control side, for `dpctl stats` ("neigh"). */
struct neigh_counters {
	uint64_t requests;       /* broadcast ARP requests sent */
	uint64_t probes;         /* unicast ARP requests sent (ageing) */
	uint64_t garps;          /* gratuitous ARP sent */
	uint64_t learned;        /* replies (and updates) learned */
	uint64_t held;           /* frames held for a next hop being resolved */
	uint64_t held_sent;      /* held frames sent once it was resolved */
	uint64_t held_dropped;   /* held frames dropped: too many, failed, table full,
	                          * evicted, rate-limited */
	uint64_t evicted;        /* FAILED/INCOMPLETE entries evicted for a new next hop */
	uint64_t rate_limited;   /* misses of new next hops over NEIGH_NEW_PER_S */
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

/*
 * Static neighbours (`dpctl neigh add ADDRESS MAC [--network NAME]`, `neigh
 * rm`): PERMANENT entries of the cache, never aged and never changed by ARP
 * (as ip neigh's nud permanent), in the uplink's network (NIC mode) or a plain
 * bridge network (a device on a port of its own with a fixed address: bridge
 * networks do not resolve). Adding one over a learned or pending entry
 * replaces it and sends the frames held for it. Saved in the state section
 * "neighbours" and restored. Refused: dpnet's own addresses, a container's,
 * entries dpnet installs (the host side, cluster hosts), overlays, TAP mode's
 * host link, the network and broadcast addresses. While one is in a network
 * (or the uplink's), that network (the uplink) cannot be removed
 * (ctl_neigh_busy), and no container can take its address (ctl_neigh_is_static).
 * `neigh rm` of a learned entry forgets it (resolved again at the next frame).
 */
bool ctl_neigh_is_static(uint16_t domain, uint32_t ip);
/* 0, or -EBUSY with why when static neighbours are in domain ("what" names it). */
int ctl_neigh_busy(struct ctl *c, uint16_t domain, const char *what, char *err, size_t errlen);
int ctl_neigh_state_register(struct ctl *c);
/* The "neigh" object of stats. */
json_t *ctl_neigh_stats_json(void);

/* punt.c: install the transmit function, drain dp->punt into the functions above. */
void ctl_punt_init(struct ctl *c);
void ctl_punt_drain(struct ctl *c, uint64_t now_ms);
/* End of each main-loop pass: wake blocked workers if frames were injected. */
void ctl_punt_wake(struct ctl *c);

#endif /* DPNET_CTL_NEIGH_H */
