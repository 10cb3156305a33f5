/*
 * pipeline.h - the stages of the packet path and the dispatcher that ends it.
 *
 * A stage has the shape
 *     uint16_t xx_stage(struct lcore_ctx *ctx, struct rte_mbuf **pkts, uint16_t n);
 * It reads ctx (view, tables, cached now_tsc) and the mbufs, and writes into each
 * packet's metadata the code of where it goes next (PL_NEXT_*), plus out_port or
 * drop_reason. It never frees or transmits: pl_dispatch() does both, in one place,
 * and frees whatever TX refuses. The return value is the number of packets the
 * stage handled (for the per-stage counters).
 *
 * Stages run in a fixed order (pl_run); a stage only receives the packets whose
 * next code names it, so packets only move forward. Because the time and tables
 * come in through ctx, unit tests call stages directly on mbufs from a test pool.
 */
#ifndef DPNET_PIPELINE_H
#define DPNET_PIPELINE_H

#include <stdint.h>
#include <rte_branch_prediction.h>
#include <rte_mbuf.h>

#include "dp.h"
#include "vxlan.h"

/*
 * Where a packet goes next. The codes of the stages equal their index in
 * DP_STAGES (counters.h) and increase along the path, so a stage can only
 * send a packet forward: parse -> vxdec -> bridge -> arp | nat -> l3 -> l2out
 * -> vxenc -> dispatch (vxlan.h for the two overlay stages).
 */
enum pl_next {
	PL_NEXT_PARSE = 0,    /* set by RX: parse the headers */
	PL_NEXT_VXDEC,        /* VXLAN to our VTEP (the parser says): decapsulate (vxlan.h) */
	PL_NEXT_BRIDGE,       /* L2 forwarding within the ingress domain */
	PL_NEXT_ARP,          /* an ARP request (or any ARP) for a gateway: answer it */
	PL_NEXT_NAT,          /* IPv4 sent to a gateway MAC: conntrack and NAT (nat.h) */
	PL_NEXT_L3,           /* sent to a gateway MAC: route, or answer a ping */
	PL_NEXT_L2OUT,        /* routed: find the output port in meta->domain */
	PL_NEXT_VXENC,        /* to a remote MAC: encapsulate to VTEP meta->nh_ip (vxlan.h) */
	PL_NEXT_TX,           /* transmit on meta->out_port */
	PL_NEXT_FLOOD,        /* transmit on every other port of meta->domain */
	PL_NEXT_DROP,         /* free, count meta->drop_reason */
	PL_NEXT_PUNT,         /* hand to control on dp->punt (meta->punt says why, neigh.h) */
};

/* Stages. */
uint16_t parse_stage(struct lcore_ctx *ctx, struct rte_mbuf **pkts, uint16_t n);
uint16_t br_stage(struct lcore_ctx *ctx, struct rte_mbuf **pkts, uint16_t n);
uint16_t arp_stage(struct lcore_ctx *ctx, struct rte_mbuf **pkts, uint16_t n);
uint16_t nat_stage(struct lcore_ctx *ctx, struct rte_mbuf **pkts, uint16_t n);
uint16_t l3_stage(struct lcore_ctx *ctx, struct rte_mbuf **pkts, uint16_t n);
uint16_t l2out_stage(struct lcore_ctx *ctx, struct rte_mbuf **pkts, uint16_t n);

/* The bridge's MAC lookup (worker cache, then the table) for other stages:
 * n <= 2 * DP_BURST keys made with fdb_key(); pos[j] gets the MAC table
 * position of keys[j] or a negative value when it is unknown. */
void br_mac_lookup(struct lcore_ctx *ctx, const uint64_t *keys, uint32_t n, int32_t *pos);

/*
 * The port behind the MAC key found at MAC-table position pos (br_mac_lookup)
 * for a frame of the given domain, or RTE_MAX_ETHPORTS when the frame must be
 * flooded instead: the MAC is unknown, its slot is being (re)filled by control,
 * or its entry outlived its port (control
 * flushes it shortly) or moved to another domain's port. Shared by the bridge
 * and l2out stages, which differ only in what they do with the ingress port,
 * and by L3 for a neighbour whose MAC-table position it cached (route.c).
 * A remote MAC (vxlan.h) gives DP_PORT_VXLAN when the domain is an overlay
 * (its VTEP is then entries[pos].vtep); the pseudo-port is never present, so
 * that costs the known-unicast path nothing but the rare branch below.
 */
static inline uint16_t
br_out_port(const struct dp_view *v, const struct fdb *fdb, int32_t pos, uint64_t key,
	    uint16_t domain)
{
	uint16_t out;

	if (pos < 0)
		return RTE_MAX_ETHPORTS;
	/* The slot's port is meaningful only once its key is (fdb_add writes it last). */
	if (unlikely(__atomic_load_n(&fdb->entries[pos].key, __ATOMIC_ACQUIRE) != key))
		return RTE_MAX_ETHPORTS;
	/* Acquire: a remote entry's vtep, stored before its port, is then
	 * visible (a plain load on x86). */
	out = __atomic_load_n(&fdb->entries[pos].port, __ATOMIC_ACQUIRE);
	if (unlikely(out >= RTE_MAX_ETHPORTS || !v->ports[out].present ||
		     v->ports[out].domain != domain)) {
		if (out == DP_PORT_VXLAN && domain < DP_MAX_DOMAINS &&
		    v->nets[domain].flags & DP_NET_F_OVERLAY)
			return DP_PORT_VXLAN;
		return RTE_MAX_ETHPORTS;
	}
	return out;
}

/* Parse one frame into its metadata (used by parse_stage; exposed for tests).
 * Returns 0, or -EINVAL when the frame is malformed (meta->next is then DROP). */
int parse_one(struct rte_mbuf *m);
/* The same without the fast path for the common frame (parse.c): for the unit
 * test and the fuzz target that check that both give the same metadata. */
int parse_one_generic(struct rte_mbuf *m);

/* The first stage of the gateway (the second round of pl_run, see pipeline.c). */
#define PL_FIRST_GW_STAGE PL_NEXT_ARP

/* vxenc may replace an mbuf of its array with a copy (of a shared frame; it
 * frees the original): pl_run writes its selection back into the burst. */

/* Run all stages over a burst that arrived on in_port and dispatch it. */
void pl_run(struct lcore_ctx *ctx, struct rte_mbuf **pkts, uint16_t n, uint16_t in_port);
/* Send or free every packet according to its next code. Packets bound for a
 * stage numbered defer_from or later (but before TX) are moved, in order, to
 * the front of pkts and their count is returned; any other stage code is a
 * stage's bug: dropped and counted as malformed. Frames with unfinished work
 * (offload.h) are finished for the ports that cannot take them, but only
 * looked for when ctx->rx_offload says the burst has some (the parser sets
 * it; a caller that dispatches frames parse_stage did not see sets it). */
uint16_t pl_dispatch(struct lcore_ctx *ctx, struct rte_mbuf **pkts, uint16_t n,
		     unsigned int defer_from);
/* Flush every port's TX buffer of this worker (end of each loop). */
void pl_flush(struct lcore_ctx *ctx);

/* punt.c (neigh.h): the dispatcher's PL_NEXT_PUNT - enqueue m on dp->punt, or
 * drop it (no-neighbour) when the ring is full; and the worker loop's send of
 * what control put on dp->inject (at most DP_BURST frames per call). */
void pl_punt(struct lcore_ctx *ctx, struct rte_mbuf *m);
void pl_inject(struct lcore_ctx *ctx);

#endif /* DPNET_PIPELINE_H */
