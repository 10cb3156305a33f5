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
 *
 * Interrupt wake (poll.interrupts: auto). A wake-up from a timer costs ~25 us
 * of CPU here, so no sleep ceiling gives both an idle core (< 1 %) and a
 * prompt first packet (< 50 us). When every queue of a worker has a wake fd
 * (struct dp_rxq: its RX interrupt, filled in by control), the worker instead
 * blocks in epoll_wait on those fds and its own eventfd, which control writes
 * after queueing on dp->inject, publishing a view, or asking it to quit
 * (dp_wake); poll.interrupt_timeout_ms bounds the block. Workers with a queue
 * that cannot interrupt (afpacket, vhost, pcap, ...) keep the timer sleeps.
 *
 * Plain epoll rather than rte_epoll_wait/rte_eth_dev_rx_intr_ctl_q: those keep
 * each queue's registration (an rte_epoll_event) inside the driver's interrupt
 * handle, which a port removal frees while a worker may be blocked offline on
 * it, and which refuses to join a second epoll set until removed from the
 * first; plain epoll takes our own data (an index into the view) and the
 * kernel drops a closed fd from the set by itself. What rte_epoll would do on
 * a wake - read an eventfd's counter (vfio) - is done here for the fds control
 * marked as eventfds; a TAP's fd is never read (that would take a frame).
 *
 * The set is rebuilt (a new epoll fd) when the view's generation changes, while
 * the worker is online, so every fd added belongs to a port that cannot be
 * destroyed until the worker's next quiescent state. The race with frames
 * (l3fwd-power's pattern): arm the queues, say we block (ctx->blocked), poll
 * everything once more, then block; a frame that came before arming is found
 * by that poll, one after raises the interrupt. Disarm after waking.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <unistd.h>

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

/*
 * vtap queues (drivers/vtap.h) are read by their worker before it polls their
 * ring: one readv() each, also when nothing waits (EAGAIN). With a few that is
 * cheaper than anything else; with many (a host of containers) it would be a
 * syscall per container per loop, so past WK_VTAP_EPOLL_MIN the worker asks
 * one epoll_wait(0) which TAPs have frames and reads only those. The set is
 * rebuilt, online, when the view changes (its fds then belong to ports that
 * live until our next quiescent state; a closed fd leaves it by itself).
 */
#define WK_VTAP_EPOLL_MIN 4

static void
wk_vtap_build(struct lcore_ctx *ctx, const struct dp_view *v)
{
	uint16_t nq = v->n_rxq[ctx->worker_id], nv = 0;
	struct epoll_event ev = { .events = EPOLLIN };

	ctx->vt_gen = v->generation;
	if (ctx->vt_epfd >= 0)
		close(ctx->vt_epfd);
	ctx->vt_epfd = -1;
	for (uint16_t q = 0; q < nq; q++)
		nv += v->rxq[ctx->worker_id][q].vtap != NULL;
	if (nv < WK_VTAP_EPOLL_MIN || nq > 64)
		return;
	ctx->vt_epfd = epoll_create1(EPOLL_CLOEXEC);
	for (uint16_t q = 0; ctx->vt_epfd >= 0 && q < nq; q++) {
		const struct dp_rxq *rq = &v->rxq[ctx->worker_id][q];

		ev.data.u64 = q;
		if (rq->vtap != NULL && (rq->wake_fd < 0 ||
		    epoll_ctl(ctx->vt_epfd, EPOLL_CTL_ADD, rq->wake_fd, &ev) != 0)) {
			close(ctx->vt_epfd);  /* read them all, as with a few */
			ctx->vt_epfd = -1;
		}
	}
}

/* The vtap queues (bits of q) to read this loop: all, or those epoll says. */
static inline uint64_t
wk_vtap_ready(struct lcore_ctx *ctx, const struct dp_view *v)
{
	struct epoll_event evs[64];
	uint64_t ready = 0;
	int n;

	if (unlikely(ctx->vt_gen != v->generation))
		wk_vtap_build(ctx, v);
	if (ctx->vt_epfd < 0)
		return UINT64_MAX;
	n = epoll_wait(ctx->vt_epfd, evs, 64, 0);
	if (n < 0)
		return UINT64_MAX;
	for (int i = 0; i < n; i++)
		ready |= UINT64_C(1) << (evs[i].data.u64 & 63);
	return ready;
}

/* The longest spacing of an empty syscall-read queue's reads, in microseconds. */
#define WK_SQ_BACK_MAX_US 8

/*
 * Is queue q of the view one to skip in this loop? A vtap queue is read with a
 * system call (readv of its TAP, ~0.3-1 us in a VM even when nothing waits),
 * on every loop: with a busy NIC beside an idle TAP (NIC mode's host port) ~4 %
 * of the worker. So while the worker is busy (the last loop found frames), a
 * vtap queue found empty is read again 1, 2, 4, 8 us later
 * (WK_SQ_BACK_MAX_US), and at once again when a read finds frames: a frame on
 * a quiet TAP waits at most that much longer. A loop after an idle one reads
 * every queue, so the idle worker's wake-up, and the poll before it blocks
 * (wk_block), see everything as before. Not when the worker asks epoll which
 * TAPs are readable (wk_vtap_ready, many vtaps): a TAP it does not name costs
 * no read, and one it names has frames. (net_tap reads only after its RX
 * trigger moved, drivers/port.c: an empty queue costs no system call.)
 */
static inline bool
wk_sq_skip(const struct lcore_ctx *ctx, const struct dp_rxq *rq, uint16_t q)
{
	return unlikely(rq->vtap != NULL) && ctx->vt_epfd < 0 && ctx->last_busy &&
		ctx->sq_back[q] != 0 && (int64_t)(ctx->now_tsc - ctx->sq_next[q]) < 0;
}

static inline void
wk_sq_read(struct lcore_ctx *ctx, const struct dp_rxq *rq, uint16_t q, uint16_t n)
{
	if (likely(rq->vtap == NULL) || ctx->vt_epfd >= 0)
		return;
	if (n != 0) {
		ctx->sq_back[q] = 0;
		return;
	}
	ctx->sq_back[q] = ctx->sq_back[q] == 0 ? 1 :
		(uint8_t)RTE_MIN(ctx->sq_back[q] * 2, WK_SQ_BACK_MAX_US);
	ctx->sq_next[q] = ctx->now_tsc + ctx->sq_back[q] * ctx->us_tsc;
}

unsigned int
dp_worker_poll_once(struct lcore_ctx *ctx)
{
	const struct dp_view *v = dp_view_get(ctx->dp);
	struct rte_mbuf *pkts[DP_BURST];
	unsigned int total = 0;
	uint64_t vt_ready;
	uint16_t nq;

	ctx->view = v;
	ctx->now_tsc = rte_rdtsc();
	/* Are this loop's bursts the ones whose stages are timed (pipeline.c)?
	 * Per loop, so that every queue of a worker is sampled alike. */
	ctx->perf_timed = !(ctx->perf_tick++ & ctx->perf_mask);
	nq = v->n_rxq[ctx->worker_id];
	if (unlikely(ctx->sq_gen != v->generation)) {
		/* Another view may order the queues otherwise. */
		memset(ctx->sq_back, 0, sizeof(ctx->sq_back));
		ctx->sq_gen = v->generation;
	}
	vt_ready = ctx->dp->vtap.rx_fill != NULL ? wk_vtap_ready(ctx, v) : 0;
	for (uint16_t q = 0; q < nq; q++) {
		const struct dp_rxq *rq = &v->rxq[ctx->worker_id][q];
		uint16_t n;

		if (wk_sq_skip(ctx, rq, q))
			continue;
		/* A vtap's ring is filled from its TAP by the worker that polls it. */
		if (rq->vtap != NULL && (vt_ready >> (q & 63) & 1))
			ctx->dp->vtap.rx_fill(rq->vtap, rq->queue_id);
		n = rte_eth_rx_burst(rq->port_id, rq->queue_id, pkts, DP_BURST);
		wk_sq_read(ctx, rq, q, n);
		if (n == 0)
			continue;
		total += n;
		pl_run(ctx, pkts, n, rq->port_id);
	}
	ctx->last_busy = total != 0;
	/* What control wants sent (neigh.h): one cheap test of the ring per loop. */
	if (unlikely(!rte_ring_empty(ctx->dp->inject)))
		pl_inject(ctx);
	if (ctx->txb_dirty)
		pl_flush(ctx);
	return total;
}

#define WK_EP_EVENTS 16
#define WK_EP_SELF UINT64_MAX   /* epoll data of the worker's own eventfd */

/* A new epoll set for view v: the eventfd and every queue's wake fd. */
static void
wk_epoll_build(struct lcore_ctx *ctx, const struct dp_view *v)
{
	uint16_t nq = v->n_rxq[ctx->worker_id];
	struct epoll_event ev = { .events = EPOLLIN };

	ctx->ep_gen = v->generation;
	ctx->ep_ok = false;
	if (ctx->epfd >= 0)
		close(ctx->epfd);
	ctx->epfd = -1;
	if (ctx->wake_efd < 0)
		goto out;
	for (uint16_t q = 0; q < nq; q++)
		if (v->rxq[ctx->worker_id][q].wake_fd < 0)
			goto out;   /* not worth a set: this view sleeps on the timer */
	ctx->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ctx->epfd < 0) {
		WK_LOG(WARNING, "worker %u: epoll_create1: %s: sleeping on a timer\n",
		       ctx->worker_id, strerror(errno));
		goto out;
	}
	ev.data.u64 = WK_EP_SELF;
	if (epoll_ctl(ctx->epfd, EPOLL_CTL_ADD, ctx->wake_efd, &ev) != 0)
		goto fail;
	for (uint16_t q = 0; q < nq; q++) {
		ev.data.u64 = q;
		if (epoll_ctl(ctx->epfd, EPOLL_CTL_ADD, v->rxq[ctx->worker_id][q].wake_fd,
			      &ev) != 0)
			goto fail;
	}
	ctx->ep_ok = true;
	goto out;
fail:
	WK_LOG(WARNING, "worker %u: epoll_ctl: %s: sleeping on a timer\n", ctx->worker_id,
	       strerror(errno));
	close(ctx->epfd);
	ctx->epfd = -1;
out:
	__atomic_store_n(&ctx->intr_active, ctx->ep_ok, __ATOMIC_RELAXED);
}

/* Arm (or disarm) the RX interrupts of the queues of v. net_tap has nothing to
 * arm (-ENOTSUP): its fd is readable whenever a frame waits. */
static void
wk_arm(const struct lcore_ctx *ctx, const struct dp_view *v, bool on)
{
	for (uint16_t q = 0; q < v->n_rxq[ctx->worker_id]; q++) {
		const struct dp_rxq *rq = &v->rxq[ctx->worker_id][q];

		if (on)
			rte_eth_dev_rx_intr_enable(rq->port_id, rq->queue_id);
		else
			rte_eth_dev_rx_intr_disable(rq->port_id, rq->queue_id);
	}
}

/*
 * The idle worker blocks on its wake fds instead of sleeping. Returns -1 if it
 * cannot (a queue without a wake fd, no epoll set: the caller sleeps on the
 * timer), else the packets the last poll before blocking found (0: it blocked
 * and was woken or timed out).
 */
static int
wk_block(struct lcore_ctx *ctx)
{
	struct dp *dp = ctx->dp;
	struct epoll_event evs[WK_EP_EVENTS];
	const struct dp_view *v = dp_view_get(dp); /* ours until the next quiescent */
	unsigned int n;
	int nev;

	if (v->generation != ctx->ep_gen)
		wk_epoll_build(ctx, v);
	if (!ctx->ep_ok)
		return -1;
	wk_arm(ctx, v, true);
	__atomic_store_n(&ctx->blocked, 1, __ATOMIC_RELAXED);
	/* Pairs with dp_wake's fence: after this, control either sees blocked or
	 * we see its inject, view or quit in the poll and tests below. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	n = dp_worker_poll_once(ctx);
	if (n != 0 || ctx->view != v || !rte_ring_empty(dp->inject) ||
	    __atomic_load_n(&dp->quit, __ATOMIC_RELAXED)) {
		__atomic_store_n(&ctx->blocked, 0, __ATOMIC_RELAXED);
		wk_arm(ctx, v, false);
		return (int)n;
	}
	rte_rcu_qsbr_thread_offline(dp->qs, ctx->worker_id);
	nev = epoll_wait(ctx->epfd, evs, WK_EP_EVENTS, (int)dp->poll.intr_timeout_ms);
	rte_rcu_qsbr_thread_online(dp->qs, ctx->worker_id);
	__atomic_store_n(&ctx->blocked, 0, __ATOMIC_RELAXED);
	ctx->cnt.sleeps++;
	ctx->cnt.intr_sleeps++;
	/* v may be gone; a view of the same generation has the same queues and their
	 * ports are alive until our next quiescent state. Another generation: its
	 * set is rebuilt before the next block, and an eventfd left unread fires
	 * again there (level-triggered). */
	v = dp_view_get(dp);
	for (int i = 0; i < nev; i++) {
		uint64_t q = evs[i].data.u64, cnt;

		if (q == WK_EP_SELF) {
			if (read(ctx->wake_efd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
				WK_LOG(DEBUG, "worker %u: eventfd: %s\n", ctx->worker_id,
				       strerror(errno));
		} else if (v->generation == ctx->ep_gen && q < v->n_rxq[ctx->worker_id]) {
			const struct dp_rxq *rq = &v->rxq[ctx->worker_id][q];

			/* A TAP whose interface went away with its namespace (a
			 * container's netns destroyed outside dpnet) polls as an
			 * error forever: out of this set, or every block would
			 * return at once and the worker spin. Its port stays
			 * until control removes it; reads of it fail cheaply. */
			if (unlikely(evs[i].events & (EPOLLERR | EPOLLHUP))) {
				if (epoll_ctl(ctx->epfd, EPOLL_CTL_DEL, rq->wake_fd, NULL) == 0)
					WK_LOG(WARNING, "worker %u: port %u queue %u: its fd "
					       "reports an error (device gone?): no longer "
					       "waited on\n", ctx->worker_id, rq->port_id,
					       rq->queue_id);
				continue;
			}

			if (rq->wake_eventfd && read(rq->wake_fd, &cnt, sizeof(cnt)) < 0 &&
			    errno != EAGAIN)
				WK_LOG(DEBUG, "worker %u: queue eventfd: %s\n", ctx->worker_id,
				       strerror(errno));
			/* net_tap reads only after its signal: do not wait for it. */
			if (rq->wake_kick != NULL)
				rq->wake_kick(rq->wake_sig);
		}
	}
	if (v->generation == ctx->ep_gen)
		wk_arm(ctx, v, false);
	return 0;
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
	WK_LOG(INFO, "worker %u on lcore %u: %s polling%s\n", ctx->worker_id, ctx->lcore_id,
	       p->busy ? "busy" : "adaptive", !p->busy && p->intr ? ", interrupt wake" : "");
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
		if (p->intr) {
			int got = wk_block(ctx);

			if (got >= 0) {
				/* Woken, timed out or found frames: spin again before
				 * the next block. */
				rte_rcu_qsbr_quiescent(dp->qs, ctx->worker_id);
				idle = 0;
				sleep_us = p->sleep_min_us;
				continue;
			}
		}
		rte_rcu_qsbr_thread_offline(dp->qs, ctx->worker_id);
		rte_delay_us_sleep(sleep_us);
		rte_rcu_qsbr_thread_online(dp->qs, ctx->worker_id);
		ctx->cnt.sleeps++;
		sleep_us = RTE_MIN(sleep_us * 2, p->sleep_max_us);
	}
	if (ctx->epfd >= 0)
		close(ctx->epfd);
	ctx->epfd = -1;
	ctx->ep_gen = UINT64_MAX;
	if (ctx->vt_epfd >= 0)
		close(ctx->vt_epfd);
	ctx->vt_epfd = -1;
	ctx->vt_gen = UINT64_MAX;
	__atomic_store_n(&ctx->intr_active, 0, __ATOMIC_RELAXED);
	rte_rcu_qsbr_thread_offline(dp->qs, ctx->worker_id);
	rte_rcu_qsbr_thread_unregister(dp->qs, ctx->worker_id);
	WK_LOG(INFO, "worker %u stopped\n", ctx->worker_id);
	return 0;
}
