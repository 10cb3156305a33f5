/*
 * vxcycles.c - cycles per packet of the VXLAN data path against plain L2
 * bridging of the same inner frames (issue 6), the data plane alone.
 *
 * One process, no daemon: a data plane (dp_create) with three net_ring ports
 * (two containers in an overlay network, one uplink in the VTEP's domain),
 * static MACs, one peer with a connected route and a neighbour. Each case
 * builds bursts of 32 frames (64-byte inner frames; 114 bytes outer for
 * decap), runs pl_run + pl_flush over them and counts the TSC of those two
 * calls only: RX is not included, TX onto the rings is. Cases:
 *   l2     container 1 -> container 2 (known unicast, same inner frame)
 *   encap  container 1 -> a remote MAC behind the peer (bridge + vxenc)
 *   decap  the peer -> container 1 through the uplink (vxdec + bridge)
 * Each round runs every case once (interleaved, so drift hits all alike);
 * the output gives every round and the median per case, then the ratios
 * overlay / L2. The checks at the end make sure each case did what it says
 * (every frame sent on the expected port, nothing dropped).
 *
 * Usage: vxcycles [ROUNDS [BURSTS_PER_ROUND [CASE]]]   (defaults 7, 100000, all)
 * (one CASE alone, e.g. under perf record: the others run as warm-up only)
 * Run it pinned and alone: see perf/vxcycles.sh (the bench lock, taskset).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dataplane/dp.h"
#include "dataplane/fdb.h"
#include "dataplane/l3.h"
#include "dataplane/pipeline.h"
#include "dataplane/pkt.h"
#include "dataplane/vxlan.h"
#include "tests/unit/harness.h"

#define IP4(a, b, c, d) \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define BURST 32
#define MAX_ROUNDS 64

enum { CASE_L2, CASE_ENCAP, CASE_DECAP, N_CASES };

static const char *const case_names[N_CASES] = {"l2", "encap", "decap"};

static struct dp *dp;
static struct lcore_ctx *ctx;
static struct rte_ring *rxr[3], *txr[3];
static uint16_t pids[3];
static uint64_t sent_on[3];

static const struct rte_ether_addr gw_ovl = {{0x02, 0, 0, 0, 0x0a, 0x01}};
static const struct rte_ether_addr nic = {{0x52, 0x54, 0, 0x12, 0x34, 0x56}};
static const struct rte_ether_addr c1 = {{0x02, 0x42, 10, 1, 0, 2}};
static const struct rte_ether_addr c2 = {{0x02, 0x42, 10, 1, 0, 3}};
static const struct rte_ether_addr r1 = {{0x02, 0x42, 10, 1, 0, 0x51}};
static const struct rte_ether_addr peer_mac = {{0x02, 0xee, 0, 0, 0, 0x10}};
static const uint32_t peer = IP4(192, 0, 2, 10);

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* An Ethernet/IPv4/UDP frame of len bytes. */
static size_t
mk_udp(uint8_t *b, size_t len, const struct rte_ether_addr *s, const struct rte_ether_addr *d,
       uint32_t sip, uint32_t dip, uint16_t sport, uint16_t dport)
{
	memset(b, 0, len);
	memcpy(b, d, 6);
	memcpy(b + 6, s, 6);
	put16(b + 12, RTE_ETHER_TYPE_IPV4);
	b[14] = 0x45;
	put16(b + 16, (uint16_t)(len - 14));
	b[22] = 64;
	b[23] = IPPROTO_UDP;
	put32(b + 26, sip);
	put32(b + 30, dip);
	((struct rte_ipv4_hdr *)(b + 14))->hdr_checksum =
		rte_ipv4_cksum((struct rte_ipv4_hdr *)(b + 14));
	put16(b + 34, sport);
	put16(b + 36, dport);
	put16(b + 38, (uint16_t)(len - 34));
	return len;
}

static void
drain(void)
{
	struct rte_mbuf *out[64];
	unsigned int n;

	for (int p = 0; p < 3; p++)
		while ((n = rte_ring_dequeue_burst(txr[p], (void **)out, 64, NULL)) > 0) {
			sent_on[p] += n;
			rte_pktmbuf_free_bulk(out, n);
		}
}

/* Cycles per packet of one case: bursts of BURST copies of frame f. */
static double
run_case(const uint8_t *f, size_t len, unsigned int port, unsigned long bursts)
{
	struct rte_mbuf *ms[BURST];
	uint64_t cyc = 0;

	for (unsigned long it = 0; it < bursts; it++) {
		uint64_t t;

		if (rte_pktmbuf_alloc_bulk(dp->pool, ms, BURST) != 0) {
			fprintf(stderr, "vxcycles: mbuf pool empty\n");
			exit(1);
		}
		for (int i = 0; i < BURST; i++)
			memcpy(rte_pktmbuf_append(ms[i], (uint16_t)len), f, len);
		ctx->now_tsc = rte_rdtsc();
		ctx->view = dp_view_get(dp);
		t = rte_rdtsc();
		pl_run(ctx, ms, BURST, pids[port]);
		pl_flush(ctx);
		cyc += rte_rdtsc() - t;
		drain();
	}
	return (double)cyc / (double)(bursts * BURST);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
setup(void)
{
	struct dp_poll_params poll = {.busy = true};
	struct vxlan_net_spec s = {.domain = 0, .vni = 42, .n_peers = 1, .peers = &peer};
	struct l3_nexthop con = {.type = L3_NH_CONNECTED, .domain = 1};
	struct dp_view *v;
	uint64_t now;

	dp = dp_create(8192, 1, 1024, 300, &poll);
	if (dp == NULL || th_ring_ports(dp, "vxc", 3, 4096, rxr, txr, pids) != 0) {
		fprintf(stderr, "vxcycles: set-up failed\n");
		exit(1);
	}
	ctx = dp->workers[0];
	/* Every burst timed: this tool calls pl_run itself and sums the stages' cycles. */
	ctx->perf_mask = 0;
	ctx->perf_timed = true;
	v = dp_view_clone(dp);
	memset(v->domains, 0, sizeof(v->domains));
	for (int p = 0; p < 3; p++) {
		uint16_t d = p < 2 ? 0 : 1;

		v->ports[pids[p]].domain = d;
		v->ports[pids[p]].present = 1;
		v->domains[d].ports[v->domains[d].n_ports++] = pids[p];
	}
	v->nets[0] = (struct dp_net_view){.gw_ip = IP4(10, 1, 0, 1), .subnet = IP4(10, 1, 0, 0),
		.prefix_len = 24, .flags = DP_NET_F_L3 | DP_NET_F_OVERLAY, .mtu = 1450,
		.gw_mac = gw_ovl};
	v->nets[1] = (struct dp_net_view){.gw_ip = IP4(192, 0, 2, 2), .subnet = IP4(192, 0, 2, 0),
		.prefix_len = 24, .flags = DP_NET_F_L3 | DP_NET_F_UPLINK | DP_NET_F_VTEP,
		.mtu = 1500, .gw_mac = nic};
	v->uplink_port = pids[2];
	v->host_port = RTE_MAX_ETHPORTS;
	dp_view_publish(dp, v);
	if (vxlan_set(dp, &s, 1) != 0 || l3_route_add(dp, IP4(192, 0, 2, 0), 24, &con) != 0 ||
	    l3_neigh_add(dp, 1, peer, &peer_mac) != 0) {
		fprintf(stderr, "vxcycles: overlay set-up failed\n");
		exit(1);
	}
	now = rte_rdtsc();
	fdb_add(dp->fdb, 0, &c1, pids[0], true, now);
	fdb_add(dp->fdb, 0, &c2, pids[1], true, now);
	fdb_add(dp->fdb, 1, &peer_mac, pids[2], true, now);
	fdb_add_remote(dp->fdb, 0, &r1, peer, true, now);
}

int
main(int argc, char **argv)
{
	unsigned int rounds = argc > 1 ? (unsigned int)atoi(argv[1]) : 7;
	unsigned long bursts = argc > 2 ? strtoul(argv[2], NULL, 10) : 100000;
	const char *only = argc > 3 ? argv[3] : NULL;
	uint8_t frames[N_CASES][256];
	size_t lens[N_CASES];
	const unsigned int ports[N_CASES] = {0, 0, 2};
	const unsigned int expect[N_CASES] = {1, 2, 0};
	double cpp[N_CASES][MAX_ROUNDS], med[N_CASES];
	uint64_t stage_cyc[N_CASES][DP_STAGE_MAX] = {{0}};
	uint8_t inner[64];
	uint64_t drops = 0;
	int bad = 0;

	if (rounds == 0 || rounds > MAX_ROUNDS || bursts == 0) {
		fprintf(stderr, "usage: vxcycles [ROUNDS (1..%d) [BURSTS]]\n", MAX_ROUNDS);
		return 2;
	}
	if (th_eal_init("vxcycles") != 0)
		return 77;
	setup();

	lens[CASE_L2] = mk_udp(frames[CASE_L2], 64, &c1, &c2, IP4(10, 1, 0, 2),
			       IP4(10, 1, 0, 3), 1000, 2000);
	lens[CASE_ENCAP] = mk_udp(frames[CASE_ENCAP], 64, &c1, &r1, IP4(10, 1, 0, 2),
				  IP4(10, 1, 0, 50), 1000, 2000);
	mk_udp(inner, 64, &r1, &c1, IP4(10, 1, 0, 50), IP4(10, 1, 0, 2), 2000, 1000);
	lens[CASE_DECAP] = mk_udp(frames[CASE_DECAP], VXLAN_HDR_LEN + 64, &peer_mac, &nic, peer,
				  IP4(192, 0, 2, 2), 50000, VXLAN_PORT_DEFAULT);
	put32(frames[CASE_DECAP] + 42, 0x08000000);
	put32(frames[CASE_DECAP] + 46, 42u << 8);
	memcpy(frames[CASE_DECAP] + VXLAN_HDR_LEN, inner, 64);

	/* Warm-up: caches, the MAC-lookup cache, branch predictors. */
	for (int c = 0; c < N_CASES; c++)
		run_case(frames[c], lens[c], ports[c], bursts / 10 + 1);
	memset(sent_on, 0, sizeof(sent_on));
	for (unsigned int r = 0; r < rounds; r++)
		for (int c = 0; c < N_CASES; c++) {
			uint64_t before = sent_on[expect[c]];
			uint64_t st[DP_STAGE_MAX];

			if (only != NULL && strcmp(only, case_names[c]) != 0) {
				cpp[c][r] = 0;
				continue;
			}
			for (int s = 0; s < DP_STAGE_MAX; s++)
				st[s] = ctx->cnt.stages[s].cycles;
			cpp[c][r] = run_case(frames[c], lens[c], ports[c], bursts);
			for (int s = 0; s < DP_STAGE_MAX; s++)
				stage_cyc[c][s] += ctx->cnt.stages[s].cycles - st[s];
			if (sent_on[expect[c]] - before != (uint64_t)bursts * BURST) {
				fprintf(stderr, "vxcycles: %s sent %lu of %lu frames on the "
					"expected port\n", case_names[c],
					(unsigned long)(sent_on[expect[c]] - before),
					bursts * BURST);
				bad = 1;
			}
		}
	for (int c = 0; c < N_CASES; c++) {
		double sorted[MAX_ROUNDS];

		printf("%-6s", case_names[c]);
		for (unsigned int r = 0; r < rounds; r++) {
			printf(" %6.1f", cpp[c][r]);
			sorted[r] = cpp[c][r];
		}
		qsort(sorted, rounds, sizeof(sorted[0]), cmp_double);
		med[c] = sorted[rounds / 2];
		printf("   median %6.1f min %6.1f cycles/packet\n", med[c], sorted[0]);
	}
	/* Where they go: the stages' own TSC accounting (dpctl stats --perf). */
	for (int c = 0; c < N_CASES; c++) {
		printf("%-6s stages:", case_names[c]);
		for (int s = 0; s < DP_STAGE_MAX; s++)
			if (stage_cyc[c][s] != 0)
				printf(" %s %.1f", dp_stage_names[s],
				       (double)stage_cyc[c][s] / ((double)rounds * bursts * BURST));
		printf("\n");
	}
	printf("encap/l2 %.2f decap/l2 %.2f (overlay cost: encap +%.0f %%, decap +%.0f %% of L2 "
	       "cycles; rate ratio %.2f / %.2f)\n",
	       med[CASE_ENCAP] / med[CASE_L2], med[CASE_DECAP] / med[CASE_L2],
	       100.0 * (med[CASE_ENCAP] / med[CASE_L2] - 1),
	       100.0 * (med[CASE_DECAP] / med[CASE_L2] - 1),
	       med[CASE_L2] / med[CASE_ENCAP], med[CASE_L2] / med[CASE_DECAP]);
	for (int r = 0; r < DP_DROP_MAX; r++)
		if (ctx->cnt.drops[r] != 0) {
			fprintf(stderr, "vxcycles: drop %s %lu\n", dp_drop_names[r],
				(unsigned long)ctx->cnt.drops[r]);
			drops += ctx->cnt.drops[r];
		}
	return bad || drops ? 1 : 0;
}
