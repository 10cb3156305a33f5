/*
 * punt.c - the data plane's ends of the two rings between the workers and the
 * control thread (neigh.h): dp->punt, where the dispatcher hands over the
 * frames a stage marked PL_NEXT_PUNT (a neighbour miss in a resolving domain,
 * an ARP frame to learn from), and dp->inject, whose frames (ARP requests,
 * gratuitous ARP, held frames now resolved) every worker sends on its own TX
 * queue. control/punt.c is the other end of both.
 *
 * Neither ring is on the L2 fast path: a punt is a frame the gateway stages
 * could not finish, and the worker loop tests dp->inject with one
 * rte_ring_empty() (two loads of lines control rarely writes) per iteration.
 *
 * Thread safety: dp->punt has many producers (the workers, rte_ring_mp_*) and
 * one consumer (control); dp->inject one producer (control) and many
 * consumers (rte_ring_mc_*). The rings are created by dp_create before any
 * worker runs and freed by dp_destroy after they stopped (punt_rings_*).
 */
#include <errno.h>

#include <rte_branch_prediction.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "l3_private.h"
#include "neigh.h"
#include "offload.h"
#include "pipeline.h"
#include "pkt.h"

int
punt_rings_create(struct dp *dp)
{
	/* Exact sizes: DP_PUNT_RING frames fit, not one less. */
	dp->punt = rte_ring_create("dp_punt", DP_PUNT_RING, (int)rte_socket_id(),
				   RING_F_SC_DEQ | RING_F_EXACT_SZ);
	dp->inject = rte_ring_create("dp_inject", DP_INJECT_RING, (int)rte_socket_id(),
				     RING_F_SP_ENQ | RING_F_EXACT_SZ);
	return dp->punt != NULL && dp->inject != NULL ? 0 : -ENOMEM;
}

static void
punt_ring_free(struct rte_ring *r)
{
	void *m;

	if (r == NULL)
		return;
	/* Frames still in it belong to nobody else: free them. */
	while (rte_ring_dequeue(r, &m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(r);
}

void
punt_rings_free(struct dp *dp)
{
	punt_ring_free(dp->punt);
	punt_ring_free(dp->inject);
	dp->punt = NULL;
	dp->inject = NULL;
}

void
pl_punt(struct lcore_ctx *ctx, struct rte_mbuf *m)
{
	struct pkt_meta *meta = pkt_meta(m);

	/*
	 * A frame in a large buffer (a vtap's 64 KB mbufs, drivers/vtap.h) is not
	 * held while its next hop resolves: that small pool would
	 * be control's to keep for seconds (NEIGH_HELD_MAX frames), and a
	 * container sending large segments to unresolvable next hops could starve
	 * every other container's large receives. Dropped as no-neighbour, as
	 * Linux drops past unres_qlen_bytes; TCP sends it again once the
	 * neighbour is known (its first, small frames are held as usual).
	 */
	if (unlikely(m->buf_len > RTE_MBUF_DEFAULT_BUF_SIZE) && meta->punt == PUNT_NEIGH_MISS)
		goto drop;
	if (likely(rte_ring_mp_enqueue(ctx->dp->punt, m) == 0)) {
		ctx->cnt.punted++;
		return;
	}
	/* Control is behind: the frame is lost as if nobody knew its next hop. */
drop:
	ctx->cnt.drops[DP_DROP_NO_NEIGHBOUR]++;
	ctx->cnt.ports[meta->in_port < RTE_MAX_ETHPORTS ? meta->in_port : 0].drops++;
	rte_pktmbuf_free(m);
}

/* An injected frame that port cannot take as it is: its finished frames. */
static __rte_noinline void
pl_inject_finish(struct lcore_ctx *ctx, uint16_t port, struct rte_mbuf *m)
{
	struct rte_mbuf *segs[DP_GSO_MAX_SEGS];
	uint16_t k = dp_offload_finish(ctx, m, segs, DP_GSO_MAX_SEGS);

	for (uint16_t j = 0; j < k; j++)
		ctx->cnt.ports[port].tx_pkts +=
			rte_eth_tx_buffer(port, ctx->worker_id, ctx->txb[port], segs[j]);
	if (k > 0) {
		ctx->txb_dirty |= UINT64_C(1) << port;
		ctx->cnt.injected++;
	}
}

void
pl_inject(struct lcore_ctx *ctx)
{
	struct rte_mbuf *ms[DP_BURST];
	unsigned int n = rte_ring_mc_dequeue_burst(ctx->dp->inject, (void **)ms, DP_BURST, NULL);

	for (unsigned int i = 0; i < n; i++) {
		uint16_t port = pkt_meta(ms[i])->out_port;

		if (unlikely(port >= RTE_MAX_ETHPORTS || !ctx->view->ports[port].present)) {
			ctx->cnt.drops[DP_DROP_PORT_DOWN]++;
			rte_pktmbuf_free(ms[i]);
			continue;
		}
		/* A held frame with unfinished work (offload.h) came through
		 * control whole; finished here, for the port it now goes to. */
		if (unlikely(dp_offload_needs(ms[i]) & ~ctx->view->ports[port].offloads)) {
			pl_inject_finish(ctx, port, ms[i]);
			continue;
		}
		/* As the dispatcher's TX: batched, flushed at the end of the loop. */
		ctx->cnt.ports[port].tx_pkts +=
			rte_eth_tx_buffer(port, ctx->worker_id, ctx->txb[port], ms[i]);
		ctx->txb_dirty |= UINT64_C(1) << port;
		ctx->cnt.injected++;
	}
}
