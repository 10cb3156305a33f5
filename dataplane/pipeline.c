/*
 * pipeline.c - the fixed order of stages and the dispatcher that ends every
 * burst: the one place where packets are transmitted, cloned for flooding, or
 * freed and counted.
 *
 * pl_run() runs the stages in order, each on the packets whose next code
 * names it (the first, parse, also stamps each packet with its ingress port
 * and domain), with TSC accounting per stage (in one worker loop of
 * DP_PERF_SAMPLE, dp.h); pl_dispatch() sends the packets
 * that are decided (two rounds: see below). TX goes through
 * per-port rte_eth_dev_tx_buffer batches that pl_flush() empties at the end of
 * every worker loop, before the worker reports quiescence, so no frame for a
 * removed port survives the RCU grace period that precedes its removal. Frames a
 * queue refuses are freed by the buffers' error callback and counted (tx-full).
 *
 * Flooding transmits the same mbuf on every other port of the domain with its
 * reference count raised, which is safe because no stage after the bridge
 * writes to a flooded frame and dpnet never enables MBUF_FAST_FREE. A bridged
 * frame floods to view->flood[in_port] (its domain minus its port); a routed
 * one (PKT_F_ROUTED) to view->dom_flood[its output domain], minus the ingress
 * port should that be in the output domain.
 *
 * pl_run works in two rounds. The first runs the L2 stages (parse, vxdec,
 * bridge) over the whole burst and dispatches it; vxdec only ever gets frames
 * the parser found to be VXLAN to our VTEP and did not decapsulate itself
 * (vxlan.h), and hands the inner frames of those it decapsulates to the
 * bridge of the same round, as the parser does. The
 * dispatcher, which reads every packet's code anyway, sets aside the few
 * frames the bridge handed to the gateway (codes ARP..L2OUT; bridged frames
 * to remote MACs are encapsulated by vxenc before that dispatch, when the
 * bridge says there are any), and only if there are any does a second round run
 * the gateway stages over them and dispatch them in turn. So the plain L2 path
 * pays for the gateway stages with nothing but a switch case. Within a round,
 * a bit mask of the codes present skips the stages no packet needs, and a
 * stage every packet needs gets the burst itself rather than a selection.
 *
 * Offload frames (offload.h): a frame with unfinished work (a large TCP
 * segment, a partial checksum) leaves as it is only to a port whose view
 * entry takes it; for any other, the dispatcher finishes it
 * (dp_offload_finish) and sends the frames it becomes in its place, in order,
 * after the frames before it to that port; a flooded one is finished first
 * unless every port it floods to takes it (and no tunnel does). The parser
 * tells whether the burst has any such frame (ctx->rx_offload): without one,
 * the TX path tests nothing more than before but that flag.
 */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "offload.h"
#include "pipeline.h"
#include "pkt.h"
#include "vxlan_private.h"

typedef uint16_t (*pl_stage_fn)(struct lcore_ctx *, struct rte_mbuf **, uint16_t);

/* Indexed by enum dp_stage; the PL_NEXT_* code of stage s is s. */
static const pl_stage_fn pl_stages[DP_STAGE_MAX] = {
	[DP_STAGE_PARSE] = parse_stage,
	[DP_STAGE_VXDEC] = vxlan_decap_stage,
	[DP_STAGE_BRIDGE] = br_stage,
	[DP_STAGE_ARP] = arp_stage,
	[DP_STAGE_NAT] = nat_stage,
	[DP_STAGE_L3] = l3_stage,
	[DP_STAGE_L2OUT] = l2out_stage,
	[DP_STAGE_VXENC] = vxlan_encap_stage,
};

_Static_assert((int)DP_STAGE_PARSE == (int)PL_NEXT_PARSE, "stage and next codes agree");
_Static_assert((int)DP_STAGE_VXDEC == (int)PL_NEXT_VXDEC, "stage and next codes agree");
_Static_assert((int)DP_STAGE_BRIDGE == (int)PL_NEXT_BRIDGE, "stage and next codes agree");
_Static_assert(PL_NEXT_PARSE < PL_NEXT_VXDEC && PL_NEXT_VXDEC < PL_NEXT_BRIDGE,
	       "vxdec runs between parse and bridge, in round one");
_Static_assert((int)DP_STAGE_ARP == (int)PL_NEXT_ARP, "stage and next codes agree");
_Static_assert((int)DP_STAGE_NAT == (int)PL_NEXT_NAT, "stage and next codes agree");
_Static_assert((int)DP_STAGE_L3 == (int)PL_NEXT_L3, "stage and next codes agree");
_Static_assert((int)DP_STAGE_L2OUT == (int)PL_NEXT_L2OUT, "stage and next codes agree");
_Static_assert((int)DP_STAGE_VXENC == (int)PL_NEXT_VXENC, "stage and next codes agree");
_Static_assert(PL_FIRST_GW_STAGE == PL_NEXT_BRIDGE + 1, "round one ends with the bridge");
_Static_assert(DP_PORT_VXLAN < RTE_MAX_ETHPORTS, "the pseudo-port has counters");
_Static_assert((int)DP_STAGE_MAX == (int)PL_NEXT_TX, "every stage code precedes TX");
_Static_assert(PL_NEXT_DROP < 32 && PL_NEXT_PUNT < 32, "pl_run keeps the codes in a 32-bit mask");
_Static_assert(RTE_MAX_ETHPORTS <= 64, "txb_dirty is a 64-bit mask");

static inline void
pl_tx(struct lcore_ctx *ctx, uint16_t port, struct rte_mbuf *m)
{
	uint16_t sent = rte_eth_tx_buffer(port, ctx->worker_id, ctx->txb[port], m);

	ctx->cnt.ports[port].tx_pkts += sent;
	ctx->txb_dirty |= UINT64_C(1) << port;
}

/*
 * Append k frames for one port to its TX buffer at once: what k calls of
 * rte_eth_tx_buffer would do (send the buffer each time it fills), with one
 * update of its length per copy instead of one per frame.
 */
static void
pl_tx_bulk(struct lcore_ctx *ctx, uint16_t port, struct rte_mbuf **pkts, uint16_t k)
{
	struct rte_eth_dev_tx_buffer *b = ctx->txb[port];

	ctx->txb_dirty |= UINT64_C(1) << port;
	while (k > 0) {
		uint16_t c = RTE_MIN((uint16_t)(b->size - b->length), k);

		memcpy(&b->pkts[b->length], pkts, c * sizeof(*pkts));
		b->length = (uint16_t)(b->length + c);
		pkts += c;
		k = (uint16_t)(k - c);
		if (b->length >= b->size)
			ctx->cnt.ports[port].tx_pkts +=
				rte_eth_tx_buffer_flush(port, ctx->worker_id, b);
	}
}

/*
 * A frame with unfinished work to a port that cannot take it: finished, and
 * the frames it becomes appended to the port's buffer in its place. Out of
 * line: the dispatcher's loop pays only the test that leads here.
 */
static __rte_noinline void
pl_tx_finish(struct lcore_ctx *ctx, uint16_t port, struct rte_mbuf *m)
{
	struct rte_mbuf *segs[DP_GSO_MAX_SEGS];
	uint16_t k = dp_offload_finish(ctx, m, segs, DP_GSO_MAX_SEGS);

	if (k > 0)
		pl_tx_bulk(ctx, port, segs, k);
}

/*
 * Where a frame floods: *k ports of the list returned, all of them but *skip
 * (RTE_MAX_ETHPORTS when none is skipped). A bridged frame floods to
 * flood[in_port]; routed frames, and frames from remote VTEPs (whose
 * pseudo-port is in no domain), to the present ports of their domain.
 */
static inline const struct dp_flood_list *
pl_flood_list(const struct lcore_ctx *ctx, const struct pkt_meta *meta, uint16_t *skip,
	      uint16_t *k)
{
	const struct dp_flood_list *f = &ctx->view->flood[meta->in_port];

	*skip = RTE_MAX_ETHPORTS;
	*k = f->n_ports;
	if (unlikely(meta->flags & PKT_F_ROUTED || meta->in_port == DP_PORT_VXLAN)) {
		f = &ctx->view->dom_flood[meta->domain];
		*k = f->n_ports;
		for (uint16_t i = 0; i < f->n_ports; i++)
			if (f->ports[i] == meta->in_port) {
				*skip = meta->in_port;
				(*k)--;
			}
	}
	return f;
}

static void
pl_flood(struct lcore_ctx *ctx, struct rte_mbuf *m, const struct pkt_meta *meta)
{
	uint16_t skip, k;
	const struct dp_flood_list *f = pl_flood_list(ctx, meta, &skip, &k);
	uint16_t peers = 0;

	/* Head-end replication (vxlan.h): the copies are taken before any local
	 * TX can send (and free) m; a tunnel never floods back into the tunnel. */
	if (unlikely(ctx->view->nets[meta->domain].flags & DP_NET_F_OVERLAY) &&
	    meta->in_port != DP_PORT_VXLAN)
		peers = vxlan_flood(ctx, m, meta->domain);
	if (unlikely(k == 0)) {
		if (peers == 0) {
			ctx->cnt.drops[DP_DROP_NO_PORT]++;
			ctx->cnt.ports[meta->in_port].drops++;
		} else {
			ctx->cnt.floods++;
		}
		rte_pktmbuf_free(m);
		return;
	}
	ctx->cnt.floods++;
	if (k > 1)
		rte_pktmbuf_refcnt_update(m, (int16_t)(k - 1));   /* every segment */
	for (uint16_t i = 0; i < f->n_ports; i++)
		if (f->ports[i] != skip)
			pl_tx(ctx, f->ports[i], m);
}

/*
 * Flood a frame with unfinished work: as it is when every port it floods to
 * takes it, else finished first and each resulting frame flooded in order. A
 * tunnel never carries offloads (vxlan.h), so a frame that head-end
 * replication would copy is finished too.
 */
static __rte_noinline void
pl_flood_offload(struct lcore_ctx *ctx, struct rte_mbuf *m, const struct pkt_meta *meta)
{
	const uint8_t need = dp_offload_needs(m);
	struct rte_mbuf *segs[DP_GSO_MAX_SEGS];
	uint16_t skip, k;
	const struct dp_flood_list *f = pl_flood_list(ctx, meta, &skip, &k);
	bool whole = !(ctx->view->nets[meta->domain].flags & DP_NET_F_OVERLAY &&
		       meta->in_port != DP_PORT_VXLAN);

	for (uint16_t i = 0; i < f->n_ports && whole; i++)
		if (f->ports[i] != skip && (ctx->view->ports[f->ports[i]].offloads & need) != need)
			whole = false;
	if (whole) {
		pl_flood(ctx, m, meta);
		return;
	}
	k = dp_offload_finish(ctx, m, segs, DP_GSO_MAX_SEGS);
	for (uint16_t j = 0; j < k; j++)
		pl_flood(ctx, segs[j], pkt_meta(segs[j]));
}

uint16_t
pl_dispatch(struct lcore_ctx *ctx, struct rte_mbuf **pkts, uint16_t n, unsigned int defer_from)
{
	/* Frames with unfinished work in this burst (the parser says). */
	const bool offl = ctx->rx_offload;
	struct rte_mbuf *dropped[n > 0 ? n : 1];
	/* A run of frames to one port (run_port), appended to its TX buffer in
	 * one go when the port changes, before anything else may transmit
	 * (flood, tunnel), and at the end: the order on each port is kept. */
	struct rte_mbuf *run[n > 0 ? n : 1];
	uint16_t nd = 0, nk = 0, nr = 0, run_port = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct pkt_meta *meta = pkt_meta(m);

		switch (meta->next) {
		case PL_NEXT_TX:
			if (likely(ctx->view->ports[meta->out_port].present)) {
				if (unlikely(meta->out_port != run_port) && nr > 0) {
					pl_tx_bulk(ctx, run_port, run, nr);
					nr = 0;
				}
				run_port = meta->out_port;
				if (unlikely(offl) &&
				    dp_offload_needs(m) & ~ctx->view->ports[run_port].offloads) {
					if (nr > 0) {
						pl_tx_bulk(ctx, run_port, run, nr);
						nr = 0;
					}
					pl_tx_finish(ctx, run_port, m);
					break;
				}
				run[nr++] = m;
				break;
			}
			/* Back out the tunnel it came from (vxlan_private.h). */
			if (meta->out_port == DP_PORT_VXLAN) {
				if (nr > 0) {
					pl_tx_bulk(ctx, run_port, run, nr);
					nr = 0;
				}
				vxlan_tx(ctx, m);
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
			if (nr > 0) {
				pl_tx_bulk(ctx, run_port, run, nr);
				nr = 0;
			}
			if (unlikely(offl) && dp_offload_pending(m))
				pl_flood_offload(ctx, m, meta);
			else
				pl_flood(ctx, m, meta);
			break;
		case PL_NEXT_PUNT:
			pl_punt(ctx, m);
			break;
		default:
			/* Bound for a later stage: kept, in order, for the next round. */
			if (meta->next >= defer_from && meta->next < PL_NEXT_TX) {
				pkts[nk++] = m;
				break;
			}
			/* A stage left a packet without a decision: a bug, never a leak. */
			ctx->cnt.drops[DP_DROP_MALFORMED]++;
			ctx->cnt.ports[meta->in_port].drops++;
			dropped[nd++] = m;
			break;
		}
	}
	if (nr > 0)
		pl_tx_bulk(ctx, run_port, run, nr);
	if (nd)
		rte_pktmbuf_free_bulk(dropped, nd);
	return nk;
}

/*
 * Run stages first..last over a burst whose next codes are the bits of codes,
 * each stage on the packets that name it; stages move packets only forward,
 * so one pass in order suffices.
 */
static inline void
pl_stages_run(struct lcore_ctx *ctx, struct rte_mbuf **pkts, uint16_t n, unsigned int first,
	      unsigned int last, uint32_t codes, const bool timed)
{
	struct rte_mbuf *sel[n > 0 ? n : 1];
	uint16_t idx[n > 0 ? n : 1];
	/* One TSC read per stage boundary: a stage's end is the next one's start (its
	 * selection pass included). rdtsc costs ~20 cycles in a VM: only in the
	 * timed loops (one in DP_PERF_SAMPLE, dp.h). */
	uint64_t t = 0, now;

	for (unsigned int s = first; s <= last; s++) {
		struct rte_mbuf **in = pkts;
		uint16_t k = n;

		if (!(codes & (UINT32_C(1) << s)))
			continue;
		/* Only the packets for this stage, unless that is all of them. */
		if (codes != UINT32_C(1) << s) {
			k = 0;
			for (uint16_t i = 0; i < n; i++)
				if (pkt_meta(pkts[i])->next == s) {
					idx[k] = i;
					sel[k++] = pkts[i];
				}
			in = sel;
		}
		if (timed && t == 0)
			t = rte_rdtsc();
		pl_stages[s](ctx, in, k);
		/* vxenc may have replaced a shared frame by its copy (pipeline.h). */
		if (unlikely(s == DP_STAGE_VXENC && in == sel))
			for (uint16_t j = 0; j < k; j++)
				pkts[idx[j]] = sel[j];
		if (timed) {
			now = rte_rdtsc();
			ctx->cnt.stages[s].cycles += now - t;
			ctx->cnt.stages[s].timed_pkts += k;
			t = now;
		}
		ctx->cnt.stages[s].calls++;
		ctx->cnt.stages[s].pkts += k;
		if (s == last)
			break;
		/* Only this stage's packets changed their codes. */
		codes &= ~(UINT32_C(1) << s);
		for (uint16_t i = 0; i < k; i++)
			codes |= UINT32_C(1) << (pkt_meta(in[i])->next & 31);
	}
}

void
pl_run(struct lcore_ctx *ctx, struct rte_mbuf **pkts, uint16_t n, uint16_t in_port)
{
	uint32_t codes = 0;
	uint16_t nk;
	/* Is this loop one whose stages are timed (worker.c)? */
	const bool timed = ctx->perf_timed;

	/* The parse stage stamps in_port and domain from here in its own pass. */
	ctx->rx_port = in_port;
	ctx->rx_domain = ctx->view->ports[in_port].domain;
	ctx->rx_vtep = ctx->rx_domain < DP_MAX_DOMAINS &&
		ctx->view->nets[ctx->rx_domain].flags & DP_NET_F_VTEP;
	ctx->cnt.ports[in_port].rx_pkts += n;

	/* Round one: every packet starts at parse; the L2 stages (and VXLAN
	 * decapsulation), then dispatch. */
	ctx->vxenc_pending = false;
	pl_stages_run(ctx, pkts, n, DP_STAGE_PARSE, PL_FIRST_GW_STAGE - 1,
		      UINT32_C(1) << PL_NEXT_PARSE, timed);
	/* Bridged frames to remote MACs are encapsulated in this round too: they
	 * need none of the gateway stages, so they skip round two's dispatch. */
	if (unlikely(ctx->vxenc_pending)) {
		for (uint16_t i = 0; i < n; i++)
			codes |= UINT32_C(1) << (pkt_meta(pkts[i])->next & 31);
		pl_stages_run(ctx, pkts, n, DP_STAGE_VXENC, DP_STAGE_VXENC, codes, timed);
		codes = 0;
	}
	nk = pl_dispatch(ctx, pkts, n, PL_FIRST_GW_STAGE);
	if (likely(nk == 0))
		return;
	/* Round two: the frames the bridge handed to the gateway. */
	for (uint16_t i = 0; i < nk; i++)
		codes |= UINT32_C(1) << pkt_meta(pkts[i])->next;
	pl_stages_run(ctx, pkts, nk, PL_FIRST_GW_STAGE, DP_STAGE_MAX - 1, codes, timed);
	pl_dispatch(ctx, pkts, nk, PL_NEXT_TX);
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
		/* A vtap's TX ring worker_id (its TX queue, as the buffer's) goes
		 * to its TAP now, by this worker, its only consumer (vtap.h). */
		if (unlikely(ctx->view->vtap[port] != NULL))
			ctx->dp->vtap.tx_drain(ctx->view->vtap[port], ctx->worker_id);
	}
	ctx->txb_dirty = 0;
}
