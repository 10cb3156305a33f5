/*
 * dp.c - creating the data plane, starting and stopping its workers, and
 * publishing views to them. See dp.h for the control/data contract.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "dp.h"
#include "l3_private.h"
#include "nat.h"
#include "pkt.h"
#include "vxlan_private.h"

RTE_LOG_REGISTER(dp_logtype, dpnet.dp, NOTICE);
#define DP_LOG(level, ...) \
	rte_log(RTE_LOG_##level, dp_logtype, "dpnetd: " #level ": dp: " __VA_ARGS__)

#define DP_MBUF_CACHE 256

/* TX buffer error callback: the queue is full; free and count what it refused. */
static void
dp_txb_unsent(struct rte_mbuf **unsent, uint16_t count, void *userdata)
{
	struct dp_txb_arg *a = userdata;

	a->cnt->drops[DP_DROP_TX_FULL] += count;
	a->cnt->ports[a->port].tx_drops += count;
	rte_pktmbuf_free_bulk(unsent, count);
}

static struct dp_view *
dp_view_empty(void)
{
	struct dp_view *v = rte_zmalloc("dp_view", sizeof(*v), RTE_CACHE_LINE_SIZE);

	if (v == NULL)
		return NULL;
	for (unsigned int i = 0; i < RTE_MAX_ETHPORTS; i++)
		v->ports[i].domain = DP_DOMAIN_NONE;
	v->uplink_port = RTE_MAX_ETHPORTS;
	v->host_port = RTE_MAX_ETHPORTS;
	return v;
}

static struct lcore_ctx *
dp_ctx_create(struct dp *dp, uint16_t worker_id)
{
	struct lcore_ctx *ctx = rte_zmalloc("lcore_ctx", sizeof(*ctx), RTE_CACHE_LINE_SIZE);

	if (ctx == NULL)
		return NULL;
	ctx->dp = dp;
	ctx->fdb = dp->fdb;
	/* Ask the control thread again for one unknown MAC no sooner than 10 ms. */
	ctx->learn_gap_tsc = dp->fdb->tsc_hz / 100;
	ctx->l3 = dp->l3;
	ctx->worker_id = worker_id;
	ctx->perf_mask = DP_PERF_SAMPLE - 1;
	ctx->us_tsc = rte_get_tsc_hz() / 1000000;
	ctx->view = dp->view;
	/* Without it the worker only sleeps on a timer (worker.c); not fatal. */
	ctx->wake_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ctx->wake_efd < 0)
		DP_LOG(WARNING, "worker %u: no eventfd (%s): it will not block on interrupts\n",
		       worker_id, strerror(errno));
	ctx->epfd = -1;
	ctx->ep_gen = UINT64_MAX;
	ctx->vt_epfd = -1;
	ctx->vt_gen = UINT64_MAX;
	/* An empty cache entry must match no key: all ones has domain 0xFFFF, which
	 * no MAC-table entry has (key 0 is a real key: domain 0, MAC 0). */
	for (unsigned int i = 0; i < DP_BR_CACHE; i++)
		ctx->brc[i].key = UINT64_MAX;
	/* Likewise no neighbour key (domain < DP_MAX_DOMAINS). */
	for (unsigned int i = 0; i < DP_NH_CACHE; i++)
		ctx->nhc[i].key = UINT64_MAX;
	for (uint16_t p = 0; p < RTE_MAX_ETHPORTS; p++) {
		ctx->txb[p] = rte_zmalloc("txb", RTE_ETH_TX_BUFFER_SIZE(DP_BURST), 0);
		if (ctx->txb[p] == NULL)
			return ctx;    /* caller sees the NULL and unwinds */
		rte_eth_tx_buffer_init(ctx->txb[p], DP_BURST);
		ctx->txb_arg[p].cnt = &ctx->cnt;
		ctx->txb_arg[p].port = p;
		rte_eth_tx_buffer_set_err_callback(ctx->txb[p], dp_txb_unsent, &ctx->txb_arg[p]);
	}
	return ctx;
}

static void
dp_ctx_free(struct lcore_ctx *ctx)
{
	if (ctx == NULL)
		return;
	if (ctx->wake_efd >= 0)
		close(ctx->wake_efd);
	if (ctx->vt_epfd >= 0)
		close(ctx->vt_epfd);
	for (uint16_t p = 0; p < RTE_MAX_ETHPORTS; p++)
		rte_free(ctx->txb[p]);
	rte_free(ctx);
}

struct dp *
dp_create(uint32_t n_mbufs, uint16_t n_workers, uint32_t fdb_size, uint32_t fdb_age_s,
	  const struct dp_poll_params *poll)
{
	struct nat_params np;
	struct dp *dp;
	size_t qsz;

	if (n_workers == 0 || n_workers > DP_MAX_WORKERS || n_mbufs < 1024 ||
	    (!poll->busy && (poll->sleep_min_us == 0 || poll->sleep_max_us < poll->sleep_min_us))) {
		errno = EINVAL;
		return NULL;
	}
	dp = rte_zmalloc("dp", sizeof(*dp), RTE_CACHE_LINE_SIZE);
	if (dp == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	dp->n_workers = n_workers;
	dp->poll = *poll;
	/* Reserve the metadata's bytes before any PMD registers a dynamic field. */
	{
		const struct rte_mbuf_dynfield mf = {
			.name = PKT_META_NAME,
			.size = sizeof(struct pkt_meta),
			.align = _Alignof(struct pkt_meta),
		};
		int off = rte_mbuf_dynfield_register_offset(&mf, PKT_META_OFF);

		if (off != PKT_META_OFF) {
			DP_LOG(ERR, "cannot reserve the mbuf metadata at offset %d: %s\n",
			       PKT_META_OFF, rte_strerror(rte_errno));
			goto fail;
		}
	}
	dp->pool = rte_pktmbuf_pool_create("dpnet_mbufs", n_mbufs, DP_MBUF_CACHE,
					   PKT_PRIV_SIZE, RTE_MBUF_DEFAULT_BUF_SIZE,
					   (int)rte_socket_id());
	if (dp->pool == NULL) {
		DP_LOG(ERR, "cannot create a pool of %u mbufs: %s (raise eal memory_mb)\n",
		       n_mbufs, rte_strerror(rte_errno));
		goto fail;
	}
	qsz = rte_rcu_qsbr_get_memsize(n_workers);
	dp->qs = rte_zmalloc("dp_qsbr", qsz, RTE_CACHE_LINE_SIZE);
	if (dp->qs == NULL || rte_rcu_qsbr_init(dp->qs, n_workers) != 0)
		goto fail;
	dp->fdb = fdb_create("dp", fdb_size, fdb_age_s, rte_get_tsc_hz(), dp->qs);
	if (dp->fdb == NULL)
		goto fail;
	dp->l3 = l3_tables_create("dp", dp->qs);
	if (dp->l3 == NULL)
		goto fail;
	dp->view = dp_view_empty();
	if (dp->view == NULL)
		goto fail;
	if (punt_rings_create(dp) != 0)
		goto fail;
	dp->vxlan_params = vxlan_params_pack(&(struct vxlan_params){
		.udp_port = VXLAN_PORT_DEFAULT, .ttl = 64, .df = true});
	for (uint16_t w = 0; w < n_workers; w++) {
		dp->workers[w] = dp_ctx_create(dp, w);
		if (dp->workers[w] == NULL || dp->workers[w]->txb[RTE_MAX_ETHPORTS - 1] == NULL)
			goto fail;
	}
	/* After the workers: it hangs their NAT counters on their contexts. */
	nat_params_default(&np);
	dp->nat = nat_create(dp, &np);
	if (dp->nat == NULL)
		goto fail;
	return dp;
fail:
	dp_destroy(dp);
	errno = ENOMEM;
	return NULL;
}

void
dp_destroy(struct dp *dp)
{
	if (dp == NULL)
		return;
	nat_free(dp->nat);
	vxlan_table_free(dp->vxlan);
	punt_rings_free(dp);
	for (uint16_t w = 0; w < DP_MAX_WORKERS; w++)
		dp_ctx_free(dp->workers[w]);
	rte_free((void *)(uintptr_t)dp->view);
	fdb_free(dp->fdb);
	l3_tables_free(dp->l3);
	rte_free(dp->qs);
	rte_mempool_free(dp->pool);
	rte_free(dp);
}

int
dp_start(struct dp *dp, const unsigned int *lcores, uint16_t n)
{
	if (n != dp->n_workers)
		return -EINVAL;
	__atomic_store_n(&dp->quit, false, __ATOMIC_RELAXED);
	for (uint16_t w = 0; w < n; w++) {
		/* Registered and online before the first publish that could race. */
		rte_rcu_qsbr_thread_register(dp->qs, w);
		rte_rcu_qsbr_thread_online(dp->qs, w);
		dp->workers[w]->lcore_id = lcores[w];
	}
	for (uint16_t w = 0; w < n; w++) {
		int rc = rte_eal_remote_launch(dp_worker_main, dp->workers[w], lcores[w]);

		if (rc != 0) {
			DP_LOG(ERR, "cannot launch worker %u on lcore %u: %s\n", w, lcores[w],
			       strerror(-rc));
			for (uint16_t u = w; u < n; u++) {
				rte_rcu_qsbr_thread_offline(dp->qs, u);
				rte_rcu_qsbr_thread_unregister(dp->qs, u);
			}
			dp_stop(dp);
			return rc;
		}
		dp->n_launched = w + 1;
	}
	return 0;
}

/*
 * The control side of worker.c's blocking: whatever control changed before
 * (dp->inject, dp->view, dp->quit) is ordered before the load of each
 * worker's blocked flag by the fence, as the worker's store of that flag is
 * ordered before its last look at those by its own fence (worker.c): either
 * the worker sees the change and does not block, or we see it blocking and
 * write its eventfd. Workers that are polling or sleeping on a timer cost no
 * system call here.
 */
void
dp_wake(struct dp *dp)
{
	const uint64_t one = 1;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (uint16_t w = 0; w < dp->n_workers; w++) {
		struct lcore_ctx *ctx = dp->workers[w];

		if (ctx->wake_efd >= 0 && __atomic_load_n(&ctx->blocked, __ATOMIC_RELAXED) &&
		    write(ctx->wake_efd, &one, sizeof(one)) != sizeof(one) && errno != EAGAIN)
			DP_LOG(WARNING, "cannot wake worker %u: %s\n", w, strerror(errno));
	}
}

void
dp_stop(struct dp *dp)
{
	__atomic_store_n(&dp->quit, true, __ATOMIC_RELAXED);
	dp_wake(dp);
	for (uint16_t w = 0; w < dp->n_launched; w++)
		rte_eal_wait_lcore(dp->workers[w]->lcore_id);
	dp->n_launched = 0;
}

struct dp_view *
dp_view_clone(const struct dp *dp)
{
	struct dp_view *v = rte_malloc("dp_view", sizeof(*v), RTE_CACHE_LINE_SIZE);

	if (v == NULL)
		return NULL;
	memcpy(v, dp_view_get(dp), sizeof(*v));
	return v;
}

/* Fill the derived flood lists (per ingress port, per domain) from the
 * domains' member lists. */
static void
dp_view_derive(struct dp_view *v)
{
	for (uint16_t d = 0; d < DP_MAX_DOMAINS; d++) {
		struct dp_flood_list *f = &v->dom_flood[d];

		f->n_ports = 0;
		for (uint16_t i = 0; i < v->domains[d].n_ports; i++) {
			uint16_t q = v->domains[d].ports[i];

			if (q < RTE_MAX_ETHPORTS && v->ports[q].present && v->ports[q].domain == d)
				f->ports[f->n_ports++] = q;
		}
	}
	for (uint16_t p = 0; p < RTE_MAX_ETHPORTS; p++) {
		struct dp_flood_list *f = &v->flood[p];
		uint16_t dom = v->ports[p].domain;

		f->n_ports = 0;
		if (dom >= DP_MAX_DOMAINS)
			continue;
		for (uint16_t i = 0; i < v->domains[dom].n_ports; i++) {
			uint16_t q = v->domains[dom].ports[i];

			if (q != p && q < RTE_MAX_ETHPORTS && v->ports[q].present)
				f->ports[f->n_ports++] = q;
		}
	}
}

void
dp_view_publish(struct dp *dp, struct dp_view *v)
{
	const struct dp_view *old;

	dp_view_derive(v);
	v->generation = dp_view_get(dp)->generation + 1;
	old = __atomic_exchange_n(&dp->view, (const struct dp_view *)v, __ATOMIC_RELEASE);
	/* A blocked worker must see its new queues (and wake fds) now, not at its
	 * timeout; the grace period below does not wait for it (it is offline). */
	dp_wake(dp);
	/* Every worker has finished the loop that might still use old. */
	rte_rcu_qsbr_synchronize(dp->qs, RTE_QSBR_THRID_INVALID);
	rte_free((void *)(uintptr_t)old);
}

void
dp_counters_sum(const struct dp *dp, struct dp_counters *out)
{
	memset(out, 0, sizeof(*out));
	for (uint16_t w = 0; w < dp->n_workers; w++) {
		const uint64_t *src = (const uint64_t *)&dp->workers[w]->cnt;
		uint64_t *dst = (uint64_t *)out;

		/* The struct is all uint64_t counters (checked below). */
		for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
			dst[i] += __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	}
}

_Static_assert(sizeof(struct dp_counters) % sizeof(uint64_t) == 0,
	       "dp_counters is summed as an array of uint64_t");
