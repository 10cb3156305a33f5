/*
 * punt.c - the rings between the workers and the control thread for neighbour
 * resolution (dataplane/neigh.h): dp->punt drained on the 10 ms timer into
 * control/neigh.c, and dp->inject, where neigh.c's frames go out.
 *
 * dpnetd.c calls ctl_punt_init right after ctl_neigh_init (before the ports:
 * the uplink's gratuitous ARP goes through it) and ctl_punt_drain on every
 * loop of its timer, before ctl_neigh_tick. The data plane's ends of the rings
 * are dataplane/punt.c.
 *
 * Thread safety: control thread only (the single consumer of dp->punt, the
 * single producer of dp->inject).
 */
#include <errno.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dataplane/dp.h"
#include "dataplane/neigh.h"
#include "dataplane/pkt.h"
#include "ctl.h"
#include "neigh.h"

/* Frames went on dp->inject since the last ctl_punt_wake. */
static bool punt_wake_pending;

/* neigh.c's transmit function: the workers send what is on dp->inject. */
static int
punt_xmit(struct ctl *c, struct rte_mbuf *m)
{
	if (rte_ring_sp_enqueue(c->dp->inject, m) != 0)
		return -ENOBUFS;
	punt_wake_pending = true;
	return 0;
}

/* A worker blocked on its RX interrupts would not look at dp->inject before
 * its timeout: wake them once per pass of the main loop that queued frames
 * (a released hold queue is one wake-up, not one per frame; no system call
 * unless a worker is blocked). */
void
ctl_punt_wake(struct ctl *c)
{
	if (!punt_wake_pending)
		return;
	punt_wake_pending = false;
	dp_wake(c->dp);
}

void
ctl_punt_init(struct ctl *c)
{
	(void)c;
	ctl_neigh_set_xmit(punt_xmit);
}

void
ctl_punt_drain(struct ctl *c, uint64_t now_ms)
{
	struct rte_mbuf *ms[DP_BURST];
	unsigned int n, total = 0;

	/* At most one ring's worth per tick: a flood cannot hold the thread. */
	while (total < DP_PUNT_RING &&
	       (n = rte_ring_sc_dequeue_burst(c->dp->punt, (void **)ms, DP_BURST, NULL)) > 0) {
		total += n;
		for (unsigned int i = 0; i < n; i++) {
			struct pkt_meta *meta = pkt_meta(ms[i]);

			switch (meta->punt) {
			case PUNT_NEIGH_MISS:
				ctl_neigh_miss(c, meta->domain, meta->nh_ip, ms[i], now_ms);
				break;
			case PUNT_ARP:
				ctl_neigh_arp(c, meta->domain, ms[i], now_ms);
				break;
			default:
				rte_pktmbuf_free(ms[i]);
				break;
			}
		}
	}
}
