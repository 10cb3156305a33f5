/*
 * test_bridge.c - the MAC table, the bridge stage and the dispatcher.
 *
 * Runs EAL with --no-huge --no-shconf and builds a real data plane (dp_create)
 * whose ports are net_ring ethdevs: a test enqueues frames on a port's RX ring,
 * runs one worker iteration on the main thread (dp_worker_poll_once) and reads
 * what came out of every port's TX ring. Time is injected where the stage reads
 * it (ctx->now_tsc) and into fdb_age().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "harness.h"
#include "dataplane/dp.h"
#include "dataplane/fdb.h"
#include "dataplane/pipeline.h"
#include "dataplane/pkt.h"

#define NPORTS 4
#define RING_SZ 256

static struct dp *dp;
static struct lcore_ctx *ctx;
static struct rte_ring *rxr[NPORTS], *txr[NPORTS];
static uint16_t pids[NPORTS];

static const struct rte_ether_addr mac_a = {{0x02, 0, 0, 0, 0, 0xa}};
static const struct rte_ether_addr mac_b = {{0x02, 0, 0, 0, 0, 0xb}};
static const struct rte_ether_addr mac_c = {{0x02, 0, 0, 0, 0, 0xc}};
static const struct rte_ether_addr mac_bcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
static const struct rte_ether_addr mac_mcast = {{0x01, 0x00, 0x5e, 0, 0, 1}};

/* A valid 60-byte Ethernet/IPv4/UDP frame. */
static struct rte_mbuf *
mk_frame(const struct rte_ether_addr *src, const struct rte_ether_addr *dst)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp->pool);
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;

	CU_ASSERT_FATAL(m != NULL);
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, 60);
	memset(eth, 0, 60);
	eth->src_addr = *src;
	eth->dst_addr = *dst;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(28 + 18);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(0x0a000001);
	ip->dst_addr = rte_cpu_to_be_32(0x0a000002);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp = (struct rte_udp_hdr *)(ip + 1);
	udp->src_port = rte_cpu_to_be_16(1000);
	udp->dst_port = rte_cpu_to_be_16(2000);
	udp->dgram_len = rte_cpu_to_be_16(8 + 18);
	return m;
}

static void
inject(unsigned int port, struct rte_mbuf *m)
{
	CU_ASSERT_FATAL(rte_ring_enqueue(rxr[port], m) == 0);
}

/* Drain every TX ring; returns the count per port in out (and frees the frames). */
static void
drain(unsigned int out[NPORTS])
{
	for (unsigned int p = 0; p < NPORTS; p++) {
		void *objs[RING_SZ];
		unsigned int n = rte_ring_dequeue_burst(txr[p], objs, RING_SZ, NULL);

		out[p] = n;
		for (unsigned int i = 0; i < n; i++)
			rte_pktmbuf_free(objs[i]);
	}
}

static unsigned int
poll_learn(void)
{
	unsigned int n = dp_worker_poll_once(ctx);

	fdb_learn_drain(dp->fdb, rte_rdtsc());
	return n;
}

/* Ports 0..2 in domain 0, port 3 in domain 1; worker 0 polls all four. */
static void
setup_view(void)
{
	struct dp_view *v = dp_view_clone(dp);

	memset(v->domains, 0, sizeof(v->domains));
	v->n_rxq[0] = 0;
	for (unsigned int p = 0; p < NPORTS; p++) {
		uint16_t dom = p < 3 ? 0 : 1;

		v->ports[pids[p]].domain = dom;
		v->ports[pids[p]].present = 1;
		v->domains[dom].ports[v->domains[dom].n_ports++] = pids[p];
		v->rxq[0][v->n_rxq[0]++] = (struct dp_rxq){pids[p], 0};
	}
	dp_view_publish(dp, v);
}

static int
suite_init(void)
{
	struct dp_poll_params poll = {.busy = false, .spin_polls = 8, .sleep_min_us = 1,
				      .sleep_max_us = 100};

	dp = dp_create(4096, 1, 1024, 300, &poll);
	if (dp == NULL)
		return -1;
	ctx = dp->workers[0];
	if (th_ring_ports(dp, "br", NPORTS, RING_SZ, rxr, txr, pids) != 0)
		return -1;
	setup_view();
	return 0;
}

/* Forget everything learned and zero the counters between tests. */
static void
reset(void)
{
	unsigned int out[NPORTS];

	drain(out);
	fdb_flush_domain(dp->fdb, 0);
	fdb_flush_domain(dp->fdb, 1);
	memset(&ctx->cnt, 0, sizeof(ctx->cnt));
	memset(ctx->learn_key, 0, sizeof(ctx->learn_key));
}

static void
test_learn_and_flood_unknown(void)
{
	unsigned int out[NPORTS];

	reset();
	inject(0, mk_frame(&mac_a, &mac_b));
	CU_ASSERT_EQUAL(poll_learn(), 1);
	drain(out);
	/* Unknown destination: flooded to the two other ports of domain 0 only. */
	CU_ASSERT_EQUAL(out[0], 0);
	CU_ASSERT_EQUAL(out[1], 1);
	CU_ASSERT_EQUAL(out[2], 1);
	CU_ASSERT_EQUAL(out[3], 0);
	CU_ASSERT_EQUAL(fdb_count(dp->fdb), 1);
	CU_ASSERT_EQUAL(ctx->cnt.floods, 1);
	CU_ASSERT_EQUAL(ctx->cnt.ports[pids[0]].rx_pkts, 1);
	CU_ASSERT_EQUAL(ctx->cnt.ports[pids[1]].tx_pkts, 1);
}

static void
test_unicast_after_learning(void)
{
	unsigned int out[NPORTS];

	reset();
	inject(0, mk_frame(&mac_a, &mac_bcast));
	poll_learn();
	inject(1, mk_frame(&mac_b, &mac_a));
	poll_learn();
	drain(out);
	CU_ASSERT_EQUAL(out[0], 1);   /* the reply, unicast */
	CU_ASSERT_EQUAL(out[1], 1);   /* the broadcast */
	CU_ASSERT_EQUAL(out[2], 1);   /* the broadcast only */
	CU_ASSERT_EQUAL(fdb_count(dp->fdb), 2);
	inject(0, mk_frame(&mac_a, &mac_b));
	poll_learn();
	drain(out);
	CU_ASSERT_EQUAL(out[1], 1);
	CU_ASSERT_EQUAL(out[2], 0);
	CU_ASSERT_EQUAL(ctx->cnt.floods, 1);
}

static void
test_learn_throttled(void)
{
	reset();
	for (int i = 0; i < 32; i++)
		inject(0, mk_frame(&mac_a, &mac_b));
	dp_worker_poll_once(ctx);
	/* 32 frames from one new MAC ask the control thread once. */
	CU_ASSERT_EQUAL(ctx->cnt.learn_events, 1);
	CU_ASSERT_EQUAL(fdb_learn_drain(dp->fdb, rte_rdtsc()), 1);
}

static void
test_same_port_dropped(void)
{
	unsigned int out[NPORTS];

	reset();
	inject(0, mk_frame(&mac_a, &mac_bcast));
	inject(0, mk_frame(&mac_c, &mac_bcast));
	poll_learn();
	drain(out);
	inject(0, mk_frame(&mac_c, &mac_a));
	poll_learn();
	drain(out);
	CU_ASSERT_EQUAL(out[0] + out[1] + out[2] + out[3], 0);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_SAME_PORT], 1);
	CU_ASSERT_EQUAL(ctx->cnt.ports[pids[0]].drops, 1);
}

static void
test_move_relearns(void)
{
	unsigned int out[NPORTS];

	reset();
	inject(0, mk_frame(&mac_a, &mac_bcast));
	poll_learn();
	inject(2, mk_frame(&mac_a, &mac_bcast));     /* A moved behind port 2 */
	poll_learn();
	inject(1, mk_frame(&mac_b, &mac_a));
	poll_learn();
	drain(out);
	CU_ASSERT_EQUAL(ctx->cnt.fdb_moves, 1);
	CU_ASSERT_EQUAL(out[2], 2);   /* the flood from port 0 and the unicast to A */
	CU_ASSERT_EQUAL(out[0], 1);   /* the flood from port 2 only */
}

/* The worker's exact-match cache must not outlive a deleted or re-added MAC. */
static void
test_cache_follows_table(void)
{
	unsigned int out[NPORTS];

	reset();
	inject(0, mk_frame(&mac_a, &mac_bcast));
	inject(1, mk_frame(&mac_b, &mac_bcast));
	poll_learn();
	inject(1, mk_frame(&mac_b, &mac_a));        /* caches A's position */
	poll_learn();
	drain(out);
	CU_ASSERT_EQUAL(out[0], 2);
	CU_ASSERT_EQUAL(fdb_flush_port(dp->fdb, pids[0]), 1);
	inject(1, mk_frame(&mac_b, &mac_a));        /* A is gone: flood, not unicast */
	poll_learn();
	drain(out);
	CU_ASSERT_EQUAL(out[0], 1);
	CU_ASSERT_EQUAL(out[2], 1);
	/* Re-added behind port 2 by control: the cached miss is invalidated. */
	CU_ASSERT_EQUAL(fdb_add(dp->fdb, 0, &mac_a, pids[2], false, rte_rdtsc()), 0);
	inject(1, mk_frame(&mac_b, &mac_a));
	poll_learn();
	drain(out);
	CU_ASSERT_EQUAL(out[0], 0);
	CU_ASSERT_EQUAL(out[2], 1);
}

static void
test_bcast_mcast_flood(void)
{
	unsigned int out[NPORTS];

	reset();
	inject(1, mk_frame(&mac_b, &mac_bcast));
	inject(1, mk_frame(&mac_b, &mac_mcast));
	poll_learn();
	drain(out);
	CU_ASSERT_EQUAL(out[0], 2);
	CU_ASSERT_EQUAL(out[2], 2);
	CU_ASSERT_EQUAL(out[1], 0);
	CU_ASSERT_EQUAL(out[3], 0);
	/* Every clone came back: the pool holds all its mbufs again. */
	CU_ASSERT_EQUAL(rte_mempool_avail_count(dp->pool) + rte_mempool_in_use_count(dp->pool),
			dp->pool->size);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(dp->pool), 0);
}

/* A flooded chain is shared by every output port: all its segments must be. */
static void
test_flood_multiseg(void)
{
	unsigned int out[NPORTS];
	struct rte_mbuf *m = mk_frame(&mac_b, &mac_bcast), *tail = rte_pktmbuf_alloc(dp->pool);

	reset();
	CU_ASSERT_FATAL(tail != NULL);
	/* 60-byte frame as 42 bytes of headers + an 18-byte second segment. */
	CU_ASSERT_FATAL(rte_pktmbuf_trim(m, 18) == 0);
	CU_ASSERT_FATAL(rte_pktmbuf_append(tail, 18) != NULL);
	CU_ASSERT_FATAL(rte_pktmbuf_chain(m, tail) == 0);
	inject(1, m);
	poll_learn();
	/* Sent on two ports: both segments carry two references. (The pool's
	 * counts cannot show a double free: DPDK caps them at the pool size.) */
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(m), 2);
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(tail), 2);
	drain(out);            /* frees the two copies that went out */
	CU_ASSERT_EQUAL(out[0], 1);
	CU_ASSERT_EQUAL(out[2], 1);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(dp->pool), 0);
}

static void
test_domains_isolated(void)
{
	unsigned int out[NPORTS];

	reset();
	/* Port 3 is alone in domain 1: its flood goes nowhere and is counted. */
	inject(3, mk_frame(&mac_c, &mac_bcast));
	poll_learn();
	drain(out);
	CU_ASSERT_EQUAL(out[0] + out[1] + out[2], 0);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_NO_PORT], 1);
	/* C is known in domain 1, not in domain 0. */
	inject(0, mk_frame(&mac_a, &mac_c));
	poll_learn();
	drain(out);
	CU_ASSERT_EQUAL(out[3], 0);
	CU_ASSERT_EQUAL(out[1], 1);
	CU_ASSERT_EQUAL(fdb_count(dp->fdb), 2);
}

static void
test_bad_src_and_malformed(void)
{
	unsigned int out[NPORTS];
	struct rte_mbuf *m;

	reset();
	inject(0, mk_frame(&mac_mcast, &mac_b));
	m = rte_pktmbuf_alloc(dp->pool);
	rte_pktmbuf_append(m, 10);     /* shorter than an Ethernet header */
	inject(0, m);
	poll_learn();
	drain(out);
	CU_ASSERT_EQUAL(out[0] + out[1] + out[2] + out[3], 0);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_BAD_SRC_MAC], 1);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_MALFORMED], 1);
	CU_ASSERT_EQUAL(fdb_count(dp->fdb), 0);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(dp->pool), 0);
}

static void
test_no_network(void)
{
	struct dp_view *v = dp_view_clone(dp);
	unsigned int out[NPORTS];

	reset();
	v->ports[pids[2]].domain = DP_DOMAIN_NONE;
	dp_view_publish(dp, v);
	inject(2, mk_frame(&mac_a, &mac_bcast));
	poll_learn();
	drain(out);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_NO_NETWORK], 1);
	CU_ASSERT_EQUAL(out[0] + out[1], 0);
	setup_view();
}

static void
test_aging(void)
{
	struct fdb *f = dp->fdb;
	uint64_t t0 = 1000 * f->tsc_hz;

	reset();
	CU_ASSERT_EQUAL(fdb_add(f, 0, &mac_a, pids[0], false, t0), 0);
	CU_ASSERT_EQUAL(fdb_add(f, 0, &mac_b, pids[1], true, t0), 0);
	CU_ASSERT_EQUAL(fdb_age(f, t0 + f->age_tsc - 1), 0);
	CU_ASSERT_EQUAL(fdb_count(f), 2);
	CU_ASSERT_EQUAL(fdb_age(f, t0 + f->age_tsc + 1), 1);   /* A goes, static B stays */
	CU_ASSERT_EQUAL(fdb_count(f), 1);
	/* A learned frame never overrides a static entry. */
	CU_ASSERT_EQUAL(fdb_add(f, 0, &mac_b, pids[2], false, t0), 0);
	CU_ASSERT_EQUAL(fdb_count(f), 1);
	CU_ASSERT_EQUAL(fdb_flush_port(f, pids[1]), 1);
	CU_ASSERT_EQUAL(fdb_count(f), 0);
	CU_ASSERT_EQUAL(fdb_add(f, 0, &mac_mcast, pids[0], false, t0), -EINVAL);
}

static void
test_refresh_keeps_alive(void)
{
	struct fdb *f = dp->fdb;
	unsigned int out[NPORTS];
	uint64_t now = rte_rdtsc();

	reset();
	/* Learned long ago (by the injected clock), then seen again now. */
	CU_ASSERT_EQUAL(fdb_add(f, 0, &mac_a, pids[0], false, now - 2 * f->age_tsc), 0);
	inject(0, mk_frame(&mac_a, &mac_bcast));
	dp_worker_poll_once(ctx);
	drain(out);
	CU_ASSERT_EQUAL(fdb_age(f, now + 1), 0);
	CU_ASSERT_EQUAL(fdb_count(f), 1);
}

static void
test_table_full(void)
{
	struct fdb *f = fdb_create("full", 16, 300, rte_get_tsc_hz(), NULL);
	unsigned int added = 0;
	int rc = 0;

	CU_ASSERT_FATAL(f != NULL);
	for (unsigned int i = 0; i < 64; i++) {
		struct rte_ether_addr m = {{0x02, 0, 0, 0, (uint8_t)(i >> 8), (uint8_t)i}};

		rc = fdb_add(f, 0, &m, 0, false, 1);
		if (rc == 0)
			added++;
	}
	CU_ASSERT(added >= 16);
	CU_ASSERT_EQUAL(rc, -ENOSPC);
	CU_ASSERT(f->full > 0);
	fdb_free(f);
}

/* Every loop body: bursts of 0, 1, 3, 4, 5, 32 and 33 packets straight to br_stage. */
static void
test_burst_sizes(void)
{
	static const uint16_t sizes[] = {0, 1, 3, 4, 5, 32, 33, 64, 65};
	struct rte_mbuf *pkts[80];

	reset();
	ctx->view = dp_view_get(dp);
	ctx->now_tsc = rte_rdtsc();
	ctx->rx_port = pids[0];     /* what pl_run would set for a burst from port 0 */
	ctx->rx_domain = 0;
	CU_ASSERT_EQUAL(fdb_add(dp->fdb, 0, &mac_b, pids[1], false, ctx->now_tsc), 0);
	for (unsigned int s = 0; s < RTE_DIM(sizes); s++) {
		uint16_t n = sizes[s];

		for (uint16_t i = 0; i < n; i++) {
			pkts[i] = mk_frame(&mac_a, &mac_b);
		}
		CU_ASSERT_EQUAL(parse_stage(ctx, pkts, n), n);
		CU_ASSERT_EQUAL(br_stage(ctx, pkts, n), n);
		for (uint16_t i = 0; i < n; i++) {
			CU_ASSERT_EQUAL(pkt_meta(pkts[i])->in_port, pids[0]);
			CU_ASSERT_EQUAL(pkt_meta(pkts[i])->next, PL_NEXT_TX);
			CU_ASSERT_EQUAL(pkt_meta(pkts[i])->out_port, pids[1]);
		}
		if (n)
			rte_pktmbuf_free_bulk(pkts, n);
	}
}

static void
test_tx_full_counted(void)
{
	unsigned int out[NPORTS];

	reset();
	/* Fill port 1's TX ring so it refuses; the dispatcher must free and count. */
	for (unsigned int i = 0; i < RING_SZ - 1; i++)
		CU_ASSERT_FATAL(rte_ring_enqueue(txr[1], mk_frame(&mac_c, &mac_c)) == 0);
	inject(0, mk_frame(&mac_a, &mac_bcast));
	poll_learn();
	drain(out);
	CU_ASSERT_EQUAL(out[2], 1);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_TX_FULL], 1);
	CU_ASSERT_EQUAL(ctx->cnt.ports[pids[1]].tx_drops, 1);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(dp->pool), 0);
}

int
main(int argc, char **argv)
{
	CU_pSuite s;
	unsigned int failed;

	(void)argc;
	(void)argv;
	if (th_eal_init("t_bridge") < 0)
		return 77;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("bridge", suite_init, NULL);
	CU_add_test(s, "learn, flood unknown", test_learn_and_flood_unknown);
	CU_add_test(s, "unicast after learning", test_unicast_after_learning);
	CU_add_test(s, "learn requests throttled", test_learn_throttled);
	CU_add_test(s, "same port dropped", test_same_port_dropped);
	CU_add_test(s, "MAC move relearned", test_move_relearns);
	CU_add_test(s, "cache follows the table", test_cache_follows_table);
	CU_add_test(s, "broadcast/multicast flood", test_bcast_mcast_flood);
	CU_add_test(s, "flood of a multi-segment frame", test_flood_multiseg);
	CU_add_test(s, "domains isolated", test_domains_isolated);
	CU_add_test(s, "bad source MAC, malformed", test_bad_src_and_malformed);
	CU_add_test(s, "port in no network", test_no_network);
	CU_add_test(s, "aging, static, flush", test_aging);
	CU_add_test(s, "refresh keeps alive", test_refresh_keeps_alive);
	CU_add_test(s, "table full", test_table_full);
	CU_add_test(s, "burst sizes", test_burst_sizes);
	CU_add_test(s, "TX full counted", test_tx_full_counted);
	failed = th_run();
	dp_destroy(dp);
	rte_eal_cleanup();
	return failed ? 1 : 0;
}
