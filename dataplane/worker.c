/*
 * worker.c - the lcore loop: RX bursts from this worker's queues, the pipeline,
 * TX flush, RCU quiescence, and backoff when idle.
 *
 * Idle backoff (adaptive mode): after spin_polls empty iterations the worker
 * sleeps sleep_min_us, doubling up to sleep_max_us while nothing arrives, and
 * returns to spinning as soon as one burst brings packets. While asleep it is
 * offline for RCU, so the control thread never waits for a sleeping worker.
 * The thread's timer slack is set to 1 us so that short sleeps stay short (the
 * default 50 us slack would dominate the wake-up latency). In busy mode the
 * worker never sleeps (dedicated cores).
 */
#include <errno.h>
#include <string.h>
#include <sys/prctl.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_pause.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "pipeline.h"
#include "pkt.h"

RTE_LOG_REGISTER(worker_logtype, dpnet.worker, NOTICE);
#define WK_LOG(level, ...) \
	rte_log(RTE_LOG_##level, worker_logtype, "dpnetd: " #level ": worker: " __VA_ARGS__)

unsigned int
dp_worker_poll_once(struct lcore_ctx *ctx)
{
	const struct dp_view *v = dp_view_get(ctx->dp);
	struct rte_mbuf *pkts[DP_BURST];
	unsigned int total = 0;
	uint16_t nq;

	ctx->view = v;
	ctx->now_tsc = rte_rdtsc();
	nq = v->n_rxq[ctx->worker_id];
	for (uint16_t q = 0; q < nq; q++) {
		const struct dp_rxq *rq = &v->rxq[ctx->worker_id][q];
		uint16_t n;

		/* A vtap's ring is filled from its TAP by the worker that polls it. */
		if (rq->vtap != NULL)
			ctx->dp->vtap.rx_fill(rq->vtap, rq->queue_id);
		n = rte_eth_rx_burst(rq->port_id, rq->queue_id, pkts, DP_BURST);

		if (n == 0)
			continue;
		total += n;
		pl_run(ctx, pkts, n, rq->port_id);
	}
	/* What control wants sent (neigh.h): one cheap test of the ring per loop. */
	if (unlikely(!rte_ring_empty(ctx->dp->inject)))
		pl_inject(ctx);
	if (ctx->txb_dirty)
		pl_flush(ctx);
	return total;
}

int
dp_worker_main(void *arg)
{
	struct lcore_ctx *ctx = arg;
	struct dp *dp = ctx->dp;
	const struct dp_poll_params *p = &dp->poll;
	uint32_t idle = 0, sleep_us = p->sleep_min_us;

	if (prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0) != 0)
		WK_LOG(WARNING, "cannot set timer slack: %s\n", strerror(errno));
	WK_LOG(INFO, "worker %u on lcore %u: %s polling\n", ctx->worker_id, ctx->lcore_id,
	       p->busy ? "busy" : "adaptive");
	/* dp_start() registered and onlined us so no publish can miss us. */
	while (likely(!__atomic_load_n(&dp->quit, __ATOMIC_RELAXED))) {
		/* poll_once reads the TSC into ctx->now_tsc first: the loop's start. */
		unsigned int n = dp_worker_poll_once(ctx);

		rte_rcu_qsbr_quiescent(dp->qs, ctx->worker_id);
		ctx->cnt.loops++;
		if (n) {
			ctx->cnt.busy_loops++;
			ctx->cnt.busy_cycles += rte_rdtsc() - ctx->now_tsc;
			idle = 0;
			sleep_us = p->sleep_min_us;
			continue;
		}
		if (p->busy || ++idle < p->spin_polls) {
			rte_pause();
			continue;
		}
		rte_rcu_qsbr_thread_offline(dp->qs, ctx->worker_id);
		rte_delay_us_sleep(sleep_us);
		rte_rcu_qsbr_thread_online(dp->qs, ctx->worker_id);
		ctx->cnt.sleeps++;
		sleep_us = RTE_MIN(sleep_us * 2, p->sleep_max_us);
	}
	rte_rcu_qsbr_thread_offline(dp->qs, ctx->worker_id);
	rte_rcu_qsbr_thread_unregister(dp->qs, ctx->worker_id);
	WK_LOG(INFO, "worker %u stopped\n", ctx->worker_id);
	return 0;
}
