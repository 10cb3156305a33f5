/*
 * pipeline.c - the fixed order of stages and the dispatcher that ends every
 * burst: the one place where packets are transmitted, cloned for flooding, or
 * freed and counted.
 *
 * pl_run() runs the stages in order (the first, parse, also stamps each packet
 * with its ingress port and domain) (a stage sees only the packets whose next code names it) with TSC
 * accounting per stage, then pl_dispatch() sends them. TX goes through
 * per-port rte_eth_dev_tx_buffer batches that pl_flush() empties at the end of
 * every worker loop, before the worker reports quiescence, so no frame for a
 * removed port survives the RCU grace period that precedes its removal. Frames a
 * queue refuses are freed by the buffers' error callback and counted (tx-full).
 *
 * Flooding transmits the same mbuf on every other port of the domain with its
 * reference count raised, which is safe because no stage after the bridge
 * writes to a flooded frame and dpnet never enables MBUF_FAST_FREE.
 */
#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "pipeline.h"
#include "pkt.h"

typedef uint16_t (*pl_stage_fn)(struct lcore_ctx *, struct rte_mbuf **, uint16_t);

/* Indexed by enum dp_stage; the PL_NEXT_* code of stage s is s. */
static const pl_stage_fn pl_stages[DP_STAGE_MAX] = {
	[DP_STAGE_PARSE] = parse_stage,
	[DP_STAGE_BRIDGE] = br_stage,
};

_Static_assert((int)DP_STAGE_PARSE == (int)PL_NEXT_PARSE, "stage and next codes agree");
_Static_assert((int)DP_STAGE_BRIDGE == (int)PL_NEXT_BRIDGE, "stage and next codes agree");
_Static_assert(RTE_MAX_ETHPORTS <= 64, "txb_dirty is a 64-bit mask");

static inline void
pl_tx(struct lcore_ctx *ctx, uint16_t port, struct rte_mbuf *m)
{
	uint16_t sent = rte_eth_tx_buffer(port, ctx->worker_id, ctx->txb[port], m);

	ctx->cnt.ports[port].tx_pkts += sent;
	ctx->txb_dirty |= UINT64_C(1) << port;
}

static void
pl_flood(struct lcore_ctx *ctx, struct rte_mbuf *m, const struct pkt_meta *meta)
{
	const struct dp_flood_list *f = &ctx->view->flood[meta->in_port];
	uint16_t k = f->n_ports;

	if (unlikely(k == 0)) {
		ctx->cnt.drops[DP_DROP_NO_PORT]++;
		ctx->cnt.ports[meta->in_port].drops++;
		rte_pktmbuf_free(m);
		return;
	}
	ctx->cnt.floods++;
	if (k > 1)
		rte_mbuf_refcnt_update(m, (int16_t)(k - 1));
	for (uint16_t i = 0; i < k; i++)
		pl_tx(ctx, f->ports[i], m);
}

void
pl_dispatch(struct lcore_ctx *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	struct rte_mbuf *dropped[n > 0 ? n : 1];
	uint16_t nd = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct pkt_meta *meta = pkt_meta(m);

		switch (meta->next) {
		case PL_NEXT_TX:
			if (likely(ctx->view->ports[meta->out_port].present)) {
				pl_tx(ctx, meta->out_port, m);
				break;
			}
			meta->drop_reason = DP_DROP_PORT_DOWN;
			/* fall through */
		case PL_NEXT_DROP:
			ctx->cnt.drops[meta->drop_reason < DP_DROP_MAX ?
				       meta->drop_reason : DP_DROP_MALFORMED]++;
			ctx->cnt.ports[meta->in_port].drops++;
			dropped[nd++] = m;
			break;
		case PL_NEXT_FLOOD:
			pl_flood(ctx, m, meta);
			break;
		default:
			/* A stage left a packet without a decision: a bug, never a leak. */
			ctx->cnt.drops[DP_DROP_MALFORMED]++;
			ctx->cnt.ports[meta->in_port].drops++;
			dropped[nd++] = m;
			break;
		}
	}
	if (nd)
		rte_pktmbuf_free_bulk(dropped, nd);
}

void
pl_run(struct lcore_ctx *ctx, struct rte_mbuf **pkts, uint16_t n, uint16_t in_port)
{
	struct rte_mbuf *sel[n > 0 ? n : 1];

	/* The parse stage stamps in_port and domain from here in its own pass. */
	ctx->rx_port = in_port;
	ctx->rx_domain = ctx->view->ports[in_port].domain;
	ctx->cnt.ports[in_port].rx_pkts += n;

	for (unsigned int s = 0; s < DP_STAGE_MAX; s++) {
		struct rte_mbuf **in = pkts;
		uint16_t k = n;
		uint64_t t0;

		/* Every packet starts at the first stage; later ones get a selection. */
		if (s != DP_STAGE_PARSE) {
			k = 0;
			for (uint16_t i = 0; i < n; i++)
				if (pkt_meta(pkts[i])->next == s)
					sel[k++] = pkts[i];
			if (k == 0)
				continue;
			if (k != n)
				in = sel;
		}
		t0 = rte_rdtsc();
		pl_stages[s](ctx, in, k);
		ctx->cnt.stages[s].cycles += rte_rdtsc() - t0;
		ctx->cnt.stages[s].calls++;
		ctx->cnt.stages[s].pkts += k;
	}
	pl_dispatch(ctx, pkts, n);
}

void
pl_flush(struct lcore_ctx *ctx)
{
	uint64_t dirty = ctx->txb_dirty;

	while (dirty) {
		uint16_t port = (uint16_t)rte_bsf64(dirty);

		dirty &= dirty - 1;
		ctx->cnt.ports[port].tx_pkts +=
			rte_eth_tx_buffer_flush(port, ctx->worker_id, ctx->txb[port]);
	}
	ctx->txb_dirty = 0;
}
