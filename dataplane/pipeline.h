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
#include <rte_mbuf.h>

#include "dp.h"

enum pl_next {
	PL_NEXT_PARSE = 0,    /* set by RX: parse the headers */
	PL_NEXT_BRIDGE,       /* L2 forwarding within the ingress domain */
	PL_NEXT_TX,           /* transmit on meta->out_port */
	PL_NEXT_FLOOD,        /* transmit on every other port of meta->domain */
	PL_NEXT_DROP,         /* free, count meta->drop_reason */
};

/* Stages. */
uint16_t parse_stage(struct lcore_ctx *ctx, struct rte_mbuf **pkts, uint16_t n);
uint16_t br_stage(struct lcore_ctx *ctx, struct rte_mbuf **pkts, uint16_t n);

/* Parse one frame into its metadata (used by parse_stage; exposed for tests).
 * Returns 0, or -EINVAL when the frame is malformed (meta->next is then DROP). */
int parse_one(struct rte_mbuf *m);

/* Run all stages over a burst that arrived on in_port, then dispatch it. */
void pl_run(struct lcore_ctx *ctx, struct rte_mbuf **pkts, uint16_t n, uint16_t in_port);
/* Send or free every packet according to its next code. */
void pl_dispatch(struct lcore_ctx *ctx, struct rte_mbuf **pkts, uint16_t n);
/* Flush every port's TX buffer of this worker (end of each loop). */
void pl_flush(struct lcore_ctx *ctx);

#endif /* DPNET_PIPELINE_H */
