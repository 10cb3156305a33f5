/*
 * test_offload.c - frames with unfinished work (dataplane/offload.h): large
 * TCP segments and partial checksums as a vtap port hands them over.
 *
 * dp_offload_finish on a 64 KB segment (every output frame a valid IPv4/TCP
 * packet, recomputed in full over a flat copy; lengths, ids, sequence
 * numbers, FIN/PSH on the last only, the payload intact, nothing leaked);
 * dp_csum_complete against full recomputation for TCP and UDP over IPv4 and
 * IPv6 with random (odd) lengths, flat and chained; dp_csum_partial_replace4
 * against a recomputed pseudo-header sum; and through the pipeline: bridged
 * to ports with and without offloads (order kept), flooded, DNAT and
 * MASQUERADE of offload frames, L3's MTU rule by segment, and the parser's
 * bad-offload cases.
 *
 * The topology is test_nat.c's (dedicated-NIC style):
 *
 *   port 0, 1  domain 0  network A 172.17.0.0/16, gateway .1 (GA)   c1 (p0), c2 (p1)
 *   port 2     domain 1  network B 172.18.0.0/16, gateway .1 (GB)   b1
 *   port 3     domain 2  internal I 172.19.0.0/16, gateway .1 (GI)  i1
 *   port 4     domain 3  uplink U 192.168.1.0/24, address .10 (UP); router R .1
 *                        (default route), client C .50 on the link
 *
 * Large frames come from a pool of 64 KB mbufs (as the vtap's big pool).
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_random.h>
#include <rte_ring.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "harness.h"
#include "dataplane/ct.h"
#include "dataplane/dp.h"
#include "dataplane/fdb.h"
#include "dataplane/l3.h"
#include "dataplane/l3_private.h"
#include "dataplane/nat.h"
#include "dataplane/offload.h"
#include "dataplane/pipeline.h"
#include "dataplane/pkt.h"

#define NPORTS 5
#define RING_SZ 256
#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

enum { DOM_A = 0, DOM_B = 1, DOM_I = 2, DOM_U = 3 };
enum { P_C1 = 0, P_C2 = 1, P_B1 = 2, P_I1 = 3, P_UP = 4 };

static struct dp *dp;
static struct lcore_ctx *ctx;
static struct rte_ring *rxr[NPORTS], *txr[NPORTS];
static uint16_t pids[NPORTS];
static struct rte_mempool *bigpool;
/* What each port takes as it is (dp_port_view.offloads), applied by setup_view. */
static uint8_t port_off[NPORTS];

static const struct rte_ether_addr mac_ga = {{0x02, 0, 0, 0, 0x0a, 0x01}};
static const struct rte_ether_addr mac_gb = {{0x02, 0, 0, 0, 0x0b, 0x01}};
static const struct rte_ether_addr mac_gi = {{0x02, 0, 0, 0, 0x0c, 0x01}};
static const struct rte_ether_addr mac_gu = {{0x02, 0, 0, 0, 0x0f, 0x01}};
static const struct rte_ether_addr mac_c1 = {{0x02, 0x42, 0xac, 0x11, 0, 0x02}};
static const struct rte_ether_addr mac_c2 = {{0x02, 0x42, 0xac, 0x11, 0, 0x03}};
static const struct rte_ether_addr mac_b1 = {{0x02, 0x42, 0xac, 0x12, 0, 0x02}};
static const struct rte_ether_addr mac_i1 = {{0x02, 0x42, 0xac, 0x13, 0, 0x02}};
static const struct rte_ether_addr mac_r = {{0x02, 0, 0, 0, 0x99, 0x01}};
static const struct rte_ether_addr mac_cl = {{0x02, 0, 0, 0, 0x99, 0x50}};

static const uint32_t ip_ga = IP4(172, 17, 0, 1), ip_gb = IP4(172, 18, 0, 1);
static const uint32_t ip_gi = IP4(172, 19, 0, 1);
static const uint32_t ip_c1 = IP4(172, 17, 0, 2), ip_c2 = IP4(172, 17, 0, 3);
static const uint32_t ip_up = IP4(192, 168, 1, 10);
static const uint32_t ip_cl = IP4(192, 168, 1, 50);
static const uint32_t ip_out = IP4(8, 8, 8, 8);

#define TCP_SYN 0x02
#define TCP_ACK 0x10
#define TCP_RST 0x04

/* ------------------------------------------------------------------ frames */

static struct rte_ipv4_hdr *
ip_of(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
}

static void *
l4_of(struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = ip_of(m);

	return (uint8_t *)ip + rte_ipv4_hdr_len(ip);
}

static struct rte_mbuf *
mk_frame(const struct rte_ether_addr *src, const struct rte_ether_addr *dst, uint16_t len)
{
	/* Frames larger than a pool mbuf from the 64 KB pool (as a vtap's). */
	struct rte_mbuf *m = rte_pktmbuf_alloc(len + RTE_PKTMBUF_HEADROOM <=
					       rte_pktmbuf_data_room_size(dp->pool) ?
					       dp->pool : bigpool);
	struct rte_ether_hdr *eth;

	CU_ASSERT_FATAL(m != NULL);
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, len);
	CU_ASSERT_FATAL(eth != NULL);
	memset(eth, 0, len);
	eth->src_addr = *src;
	eth->dst_addr = *dst;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	return m;
}

static void
ip_fill(struct rte_ipv4_hdr *ip, uint32_t src, uint32_t dst, uint8_t proto, uint16_t tot)
{
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(tot);
	ip->packet_id = rte_cpu_to_be_16((uint16_t)rte_rand());
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->src_addr = rte_cpu_to_be_32(src);
	ip->dst_addr = rte_cpu_to_be_32(dst);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

/*
 * A TCP or UDP frame with plen payload bytes (random unless seed 0: 0xa0, ...).
 * tcp_flags for TCP; udp_nocksum sends UDP with checksum 0.
 */
static struct rte_mbuf *
mk_l4(const struct rte_ether_addr *smac, const struct rte_ether_addr *dmac, uint32_t sip,
      uint32_t dip, uint8_t proto, uint16_t sport, uint16_t dport, uint8_t tcp_flags,
      uint16_t plen, bool random_payload, bool udp_nocksum)
{
	uint16_t hl = proto == IPPROTO_TCP ? sizeof(struct rte_tcp_hdr) : sizeof(struct rte_udp_hdr);
	struct rte_mbuf *m = mk_frame(smac, dmac, (uint16_t)(14 + 20 + hl + plen));
	struct rte_ipv4_hdr *ip = ip_of(m);
	uint8_t *l4 = (uint8_t *)(ip + 1), *pl = l4 + hl;

	for (uint16_t i = 0; i < plen; i++)
		pl[i] = random_payload ? (uint8_t)rte_rand() : (uint8_t)(0xa0 + i);
	ip_fill(ip, sip, dip, proto, (uint16_t)(20 + hl + plen));
	if (proto == IPPROTO_TCP) {
		struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)l4;

		tcp->src_port = rte_cpu_to_be_16(sport);
		tcp->dst_port = rte_cpu_to_be_16(dport);
		tcp->sent_seq = rte_cpu_to_be_32((uint32_t)rte_rand());
		tcp->data_off = 5 << 4;
		tcp->tcp_flags = tcp_flags;
		tcp->rx_win = RTE_BE16(65535);
		tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
	} else {
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)l4;

		udp->src_port = rte_cpu_to_be_16(sport);
		udp->dst_port = rte_cpu_to_be_16(dport);
		udp->dgram_len = rte_cpu_to_be_16((uint16_t)(8 + plen));
		udp->dgram_cksum = udp_nocksum ? 0 : rte_ipv4_udptcp_cksum(ip, udp);
	}
	return m;
}

static struct rte_mbuf *
mk_udp(const struct rte_ether_addr *smac, const struct rte_ether_addr *dmac, uint32_t sip,
       uint32_t dip, uint16_t sport, uint16_t dport)
{
	return mk_l4(smac, dmac, sip, dip, IPPROTO_UDP, sport, dport, 0, 18, false, false);
}

static struct rte_mbuf *
mk_tcp(const struct rte_ether_addr *smac, const struct rte_ether_addr *dmac, uint32_t sip,
       uint32_t dip, uint16_t sport, uint16_t dport, uint8_t flags)
{
	return mk_l4(smac, dmac, sip, dip, IPPROTO_TCP, sport, dport, flags, 10, false, false);
}

/* Make m an IPv4 fragment: offset in 8-byte units, more fragments or not. */
static void
make_fragment(struct rte_mbuf *m, uint16_t off8, bool mf)
{
	struct rte_ipv4_hdr *ip = ip_of(m);

	ip->fragment_offset = rte_cpu_to_be_16((uint16_t)(off8 | (mf ? RTE_IPV4_HDR_MF_FLAG : 0)));
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

/* ------------------------------------------------------------- plumbing */

static void
inject(unsigned int port, struct rte_mbuf *m)
{
	CU_ASSERT_FATAL(rte_ring_enqueue(rxr[port], m) == 0);
}

static struct rte_mbuf *got[NPORTS][RING_SZ];
static unsigned int ngot[NPORTS];

static void
release(void)
{
	for (unsigned int p = 0; p < NPORTS; p++) {
		for (unsigned int i = 0; i < ngot[p]; i++)
			rte_pktmbuf_free(got[p][i]);
		ngot[p] = 0;
	}
}

static void
run(void)
{
	release();
	dp_worker_poll_once(ctx);
	for (unsigned int p = 0; p < NPORTS; p++)
		ngot[p] = rte_ring_dequeue_burst(txr[p], (void **)got[p], RING_SZ, NULL);
}

static unsigned int
total_out(void)
{
	unsigned int t = 0;

	for (unsigned int p = 0; p < NPORTS; p++)
		t += ngot[p];
	return t;
}

static struct rte_mbuf *
only_on(unsigned int p)
{
	CU_ASSERT_EQUAL(total_out(), 1);
	CU_ASSERT_EQUAL_FATAL(ngot[p], 1);
	return got[p][0];
}

/* Inject one frame, run, expect exactly one frame out on port p. */
static struct rte_mbuf *
send_expect(unsigned int in, struct rte_mbuf *m, unsigned int p)
{
	inject(in, m);
	run();
	return only_on(p);
}

/* Inject one frame, run, expect nothing out and one more drop of reason. */
static void
send_dropped(unsigned int in, struct rte_mbuf *m, enum dp_drop reason)
{
	uint64_t before = ctx->cnt.drops[reason];

	inject(in, m);
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(ctx->cnt.drops[reason], before + 1);
}

static void
setup_view(void)
{
	struct dp_view *v = dp_view_clone(dp);
	static const uint16_t dom_of[NPORTS] = {DOM_A, DOM_A, DOM_B, DOM_I, DOM_U};

	memset(v->domains, 0, sizeof(v->domains));
	memset(v->nets, 0, sizeof(v->nets));
	v->n_rxq[0] = 0;
	for (unsigned int p = 0; p < NPORTS; p++) {
		uint16_t d = dom_of[p];

		v->ports[pids[p]].domain = d;
		v->ports[pids[p]].present = 1;
		v->ports[pids[p]].role = d == DOM_U ? DP_ROLE_UPLINK : DP_ROLE_ACCESS;
		v->ports[pids[p]].offloads = port_off[p];
		v->domains[d].ports[v->domains[d].n_ports++] = pids[p];
		v->rxq[0][v->n_rxq[0]++] = (struct dp_rxq){pids[p], 0};
	}
	v->nets[DOM_A] = (struct dp_net_view){.gw_ip = ip_ga, .subnet = IP4(172, 17, 0, 0),
		.prefix_len = 16, .flags = DP_NET_F_L3, .mtu = 1500, .gw_mac = mac_ga};
	v->nets[DOM_B] = (struct dp_net_view){.gw_ip = ip_gb, .subnet = IP4(172, 18, 0, 0),
		.prefix_len = 16, .flags = DP_NET_F_L3, .mtu = 1500, .gw_mac = mac_gb};
	v->nets[DOM_I] = (struct dp_net_view){.gw_ip = ip_gi, .subnet = IP4(172, 19, 0, 0),
		.prefix_len = 16, .flags = DP_NET_F_L3 | DP_NET_F_INTERNAL, .mtu = 1500,
		.gw_mac = mac_gi};
	v->nets[DOM_U] = (struct dp_net_view){.gw_ip = ip_up, .subnet = IP4(192, 168, 1, 0),
		.prefix_len = 24, .flags = DP_NET_F_L3 | DP_NET_F_UPLINK | DP_NET_F_PROXY_ARP,
		.mtu = 1500, .gw_mac = mac_gu};
	v->uplink_port = pids[P_UP];
	dp_view_publish(dp, v);
}

static void
setup_tables(void)
{
	static const struct {
		uint32_t prefix;
		uint8_t len;
		struct l3_nexthop nh;
	} routes[] = {
		{IP4(172, 17, 0, 0), 16, {.type = L3_NH_CONNECTED, .domain = DOM_A}},
		{IP4(172, 18, 0, 0), 16, {.type = L3_NH_CONNECTED, .domain = DOM_B}},
		{IP4(172, 19, 0, 0), 16, {.type = L3_NH_CONNECTED, .domain = DOM_I}},
		{IP4(192, 168, 1, 0), 24, {.type = L3_NH_CONNECTED, .domain = DOM_U}},
		{0, 0, {.type = L3_NH_GATEWAY, .domain = DOM_U, .gw_ip = IP4(192, 168, 1, 1)}},
	};
	static const struct {
		uint16_t dom;
		uint32_t ip;
		const struct rte_ether_addr *mac;
	} neigh[] = {
		{DOM_A, IP4(172, 17, 0, 2), &mac_c1},
		{DOM_A, IP4(172, 17, 0, 3), &mac_c2},
		{DOM_B, IP4(172, 18, 0, 2), &mac_b1},
		{DOM_I, IP4(172, 19, 0, 2), &mac_i1},
		{DOM_U, IP4(192, 168, 1, 1), &mac_r},
		{DOM_U, IP4(192, 168, 1, 50), &mac_cl},
	};
	static const struct {
		uint16_t dom;
		const struct rte_ether_addr *mac;
		unsigned int port;
	} fdb[] = {
		{DOM_A, &mac_c1, P_C1}, {DOM_A, &mac_c2, P_C2}, {DOM_B, &mac_b1, P_B1},
		{DOM_I, &mac_i1, P_I1}, {DOM_U, &mac_r, P_UP}, {DOM_U, &mac_cl, P_UP},
	};
	uint64_t now = rte_rdtsc();

	for (unsigned int i = 0; i < RTE_DIM(routes); i++) {
		int rc = l3_route_add(dp, routes[i].prefix, routes[i].len, &routes[i].nh);

		CU_ASSERT(rc == 0 || rc == -EEXIST);
	}
	for (unsigned int i = 0; i < RTE_DIM(neigh); i++)
		CU_ASSERT_EQUAL(l3_neigh_add(dp, neigh[i].dom, neigh[i].ip, neigh[i].mac), 0);
	for (unsigned int i = 0; i < RTE_DIM(fdb); i++)
		CU_ASSERT_EQUAL(fdb_add(dp->fdb, fdb[i].dom, fdb[i].mac, pids[fdb[i].port], true,
					now), 0);
}

/* The test's NAT parameters: defaults with a smaller table. */
static void
test_params(struct nat_params *np)
{
	nat_params_default(np);
	np->ct.max_conns = 8192;
}

/* A fresh conntrack table, no rules, zero counters, empty rings. */
static void
reset(void)
{
	struct nat_params np;

	run();
	release();
	memset(port_off, 0, sizeof(port_off));
	setup_view();
	setup_tables();
	test_params(&np);
	CU_ASSERT_EQUAL(nat_configure(dp, &np), 0);
	CU_ASSERT_EQUAL(nat_rules_set(dp, NULL, 0), 0);
	memset(&ctx->cnt, 0, sizeof(ctx->cnt));
	memset(ctx->nat_cnt, 0, sizeof(*ctx->nat_cnt));
}

static int
suite_init(void)
{
	struct dp_poll_params poll = {.busy = false, .spin_polls = 8, .sleep_min_us = 1,
				      .sleep_max_us = 100};

	dp = dp_create(8192, 1, 1024, 300, &poll);
	if (dp == NULL)
		return -1;
	ctx = dp->workers[0];
	if (ctx->nat_cnt == NULL || dp->nat == NULL)
		return -1;
	if (th_ring_ports(dp, "off", NPORTS, RING_SZ, rxr, txr, pids) != 0)
		return -1;
	/* 64 KB mbufs, as the vtap's big pool: the data room is a uint16_t. */
	bigpool = rte_pktmbuf_pool_create("off_big", 15, 0, 0, UINT16_MAX, (int)rte_socket_id());
	if (bigpool == NULL)
		return -1;
	return 0;
}

/* The standard published ports (test_nat.c's). */
enum { R_WEB = 7, R_DNS = 9, R_GB = 11, R_LO = 12 };

static void
publish_std(void)
{
	const struct nat_rule rules[] = {
		{.host_ip = 0, .host_port = 8080, .ctr_ip = ip_c1, .ctr_port = 80, .id = R_WEB,
		 .proto = IPPROTO_TCP},
		{.host_ip = 0, .host_port = 5353, .ctr_ip = ip_c1, .ctr_port = 53, .id = R_DNS,
		 .proto = IPPROTO_UDP},
		{.host_ip = ip_gb, .host_port = 9090, .ctr_ip = ip_c1, .ctr_port = 90, .id = R_GB,
		 .proto = IPPROTO_TCP},
		{.host_ip = IP4(127, 0, 0, 1), .host_port = 8081, .ctr_ip = ip_c1, .ctr_port = 81,
		 .id = R_LO, .proto = IPPROTO_TCP},
	};

	CU_ASSERT_EQUAL_FATAL(nat_rules_set(dp, rules, RTE_DIM(rules)), 0);
}

/* ---------------------------------------------------------------- checks */

/* The full TCP/UDP checksum as a sender computes it (UDP: 0 sent as 0xFFFF). */
static uint16_t
full_l4_cksum(const struct rte_ipv4_hdr *ip, const void *l4)
{
	uint32_t l4len = rte_be_to_cpu_16(ip->total_length) - rte_ipv4_hdr_len(ip);
	uint32_t sum = rte_ipv4_phdr_cksum(ip, 0) + (uint32_t)rte_raw_cksum(l4, l4len);
	uint16_t c;

	sum = (sum & 0xFFFF) + (sum >> 16);
	sum = (sum & 0xFFFF) + (sum >> 16);
	c = (uint16_t)~sum;
	if (ip->next_proto_id == IPPROTO_UDP && c == 0)
		c = 0xFFFF;
	return c;
}

static uint32_t check_finished(struct rte_mbuf *s, uint8_t *pl, const struct rte_tcp_hdr **tcp_out);

/* Every checksum the frame carries equals a full recomputation. */
static void
check_cksums(struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = ip_of(m);
	rte_be16_t carried = ip->hdr_checksum;

	/* Segments are chains: checked over a flat copy. */
	if (!rte_pktmbuf_is_contiguous(m)) {
		check_finished(m, NULL, NULL);
		return;
	}
	ip->hdr_checksum = 0;
	CU_ASSERT_EQUAL(rte_ipv4_cksum(ip), carried);
	ip->hdr_checksum = carried;
	if (ip->next_proto_id == IPPROTO_TCP) {
		struct rte_tcp_hdr *tcp = l4_of(m);

		carried = tcp->cksum;
		tcp->cksum = 0;
		CU_ASSERT_EQUAL(full_l4_cksum(ip, tcp), carried);
		tcp->cksum = carried;
	} else if (ip->next_proto_id == IPPROTO_UDP) {
		struct rte_udp_hdr *udp = l4_of(m);

		carried = udp->dgram_cksum;
		if (carried == 0)
			return;         /* none; the caller checks it was none before */
		udp->dgram_cksum = 0;
		CU_ASSERT_EQUAL(full_l4_cksum(ip, udp), carried);
		udp->dgram_cksum = carried;
	} else if (ip->next_proto_id == IPPROTO_ICMP) {
		CU_ASSERT_EQUAL(rte_raw_cksum(l4_of(m), rte_be_to_cpu_16(ip->total_length) -
					      rte_ipv4_hdr_len(ip)), 0xFFFF);
	}
}

/* The tuple a frame carries (host order). */
static void
check_tuple(struct rte_mbuf *m, uint32_t sip, uint16_t sport, uint32_t dip, uint16_t dport)
{
	struct rte_ipv4_hdr *ip = ip_of(m);
	const rte_be16_t *ports = l4_of(m);

	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip->src_addr), sip);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip->dst_addr), dip);
	CU_ASSERT_EQUAL(rte_be_to_cpu_16(ports[0]), sport);
	CU_ASSERT_EQUAL(rte_be_to_cpu_16(ports[1]), dport);
	check_cksums(m);
}

static void
check_eth_dst(struct rte_mbuf *m, const struct rte_ether_addr *dst)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	CU_ASSERT(rte_is_same_ether_addr(&eth->dst_addr, dst));
}

/* ------------------------------------------------------- offload frames */

#define TCP_FIN 0x01
#define TCP_PSH 0x08

/* Room for any finished frame, flattened. */
static uint8_t flat[4096];
/* Payloads of a whole large frame: as sent, and as reassembled from segments. */
static uint8_t sent_pl[UINT16_MAX], got_pl[UINT16_MAX];

/* An mbuf for a frame of len bytes: the data plane's pool when it fits one,
 * else the 64 KB pool. */
static struct rte_mbuf *
alloc_for(uint32_t len)
{
	struct rte_mempool *mp = len + RTE_PKTMBUF_HEADROOM <=
		rte_pktmbuf_data_room_size(dp->pool) ? dp->pool : bigpool;
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);

	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT_FATAL(rte_pktmbuf_append(m, (uint16_t)len) != NULL);
	return m;
}

/*
 * A TCP/IPv4 frame with payload random bytes (kept in sent_pl), DF set, and
 * its checksum partial (the pseudo-header sum, offload.h); with mss > 0 also
 * a large segment (RTE_MBUF_F_TX_TCP_SEG, tso_segsz = mss).
 */
static struct rte_mbuf *
mk_big(const struct rte_ether_addr *smac, const struct rte_ether_addr *dmac, uint32_t sip,
       uint32_t dip, uint16_t sport, uint16_t dport, uint8_t flags, uint32_t payload, uint16_t mss)
{
	struct rte_mbuf *m = alloc_for(14 + 20 + 20 + payload);
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)(ip + 1);

	memset(eth, 0, 14 + 20 + 20);
	eth->src_addr = *smac;
	eth->dst_addr = *dmac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	for (uint32_t i = 0; i < payload; i++)
		sent_pl[i] = (uint8_t)rte_rand();
	memcpy(tcp + 1, sent_pl, payload);
	ip_fill(ip, sip, dip, IPPROTO_TCP, (uint16_t)(20 + 20 + payload));
	ip->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	tcp->src_port = rte_cpu_to_be_16(sport);
	tcp->dst_port = rte_cpu_to_be_16(dport);
	tcp->sent_seq = rte_cpu_to_be_32((uint32_t)rte_rand());
	tcp->recv_ack = rte_cpu_to_be_32((uint32_t)rte_rand());
	tcp->data_off = 5 << 4;
	tcp->tcp_flags = flags;
	tcp->rx_win = RTE_BE16(512);
	tcp->cksum = rte_ipv4_phdr_cksum(ip, 0);
	m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM |
		(mss != 0 ? RTE_MBUF_F_TX_TCP_SEG : 0);
	m->l2_len = 14;
	m->l3_len = 20;
	m->l4_len = 20;
	m->tso_segsz = mss;
	return m;
}

/* A UDP/IPv4 frame with a partial checksum and plen random payload bytes. */
static struct rte_mbuf *
mk_udp_partial(const struct rte_ether_addr *smac, const struct rte_ether_addr *dmac,
	       uint32_t sip, uint32_t dip, uint16_t sport, uint16_t dport, uint16_t plen)
{
	struct rte_mbuf *m = mk_l4(smac, dmac, sip, dip, IPPROTO_UDP, sport, dport, 0, plen,
				   true, false);
	struct rte_udp_hdr *udp = l4_of(m);

	udp->dgram_cksum = rte_ipv4_phdr_cksum(ip_of(m), 0);
	m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM;
	m->l2_len = 14;
	m->l3_len = 20;
	return m;
}

/*
 * A finished frame: no offload bits, the IPv4 header checksum and the full
 * TCP/UDP checksum right (recomputed over a flat copy, not with DPDK's mbuf
 * walk), lengths consistent, metadata l3_len its own. Copies its L4 payload
 * to pl (when not NULL) and returns its length; *tcp_out gets the TCP header
 * (in flat) when asked.
 */
static uint32_t
check_finished(struct rte_mbuf *s, uint8_t *pl, const struct rte_tcp_hdr **tcp_out)
{
	uint32_t len = rte_pktmbuf_pkt_len(s), tot, hl;
	const void *f = rte_pktmbuf_read(s, 0, len, flat);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(flat + 14);
	uint8_t *l4 = flat + 14 + 20;
	uint16_t carried;

	CU_ASSERT_FATAL(len <= sizeof(flat) && len >= 14 + 20 + 8 && f != NULL);
	if (f != flat)
		memcpy(flat, f, len);
	CU_ASSERT_EQUAL(s->ol_flags & DP_OFFLOAD_MASK, 0);
	tot = rte_be_to_cpu_16(ip->total_length);
	CU_ASSERT_EQUAL(tot + 14, len);
	CU_ASSERT_EQUAL(pkt_meta(s)->l3_len, tot);
	CU_ASSERT_EQUAL(rte_raw_cksum(ip, 20), 0xFFFF);
	if (ip->next_proto_id == IPPROTO_TCP) {
		struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)l4;

		carried = tcp->cksum;
		tcp->cksum = 0;
		CU_ASSERT_EQUAL(full_l4_cksum(ip, tcp), carried);
		tcp->cksum = carried;
		hl = (uint32_t)(tcp->data_off >> 4) * 4;
		if (tcp_out != NULL)
			*tcp_out = tcp;
	} else {
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)l4;

		CU_ASSERT_EQUAL_FATAL(ip->next_proto_id, IPPROTO_UDP);
		carried = udp->dgram_cksum;
		udp->dgram_cksum = 0;
		CU_ASSERT_EQUAL(full_l4_cksum(ip, udp), carried);
		udp->dgram_cksum = carried;
		hl = sizeof(*udp);
	}
	if (pl != NULL)
		memcpy(pl, l4 + hl, tot - 20 - hl);
	return tot - 20 - hl;
}

/*
 * n frames that are the segments of a large frame sent with sent_pl[0..payload)
 * and mss, whose first header had id0, seq0 and flags: each finished, ids and
 * sequence numbers advancing, FIN/PSH only on the last, the payload whole.
 */
static void
check_segments(struct rte_mbuf **segs, unsigned int n, uint32_t payload, uint16_t mss,
	       uint16_t id0, uint32_t seq0, uint8_t flags)
{
	uint32_t off = 0;

	CU_ASSERT_EQUAL_FATAL(n, (payload + mss - 1) / mss);
	for (unsigned int i = 0; i < n; i++) {
		const struct rte_tcp_hdr *tcp = NULL;
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(flat + 14);
		uint32_t len = check_finished(segs[i], got_pl + off, &tcp);
		uint8_t want = i + 1 < n ? (uint8_t)(flags & ~(TCP_FIN | TCP_PSH)) : flags;

		CU_ASSERT_FATAL(tcp != NULL);
		CU_ASSERT_EQUAL(len, i + 1 < n ? mss : payload - (n - 1) * mss);
		CU_ASSERT_EQUAL(rte_be_to_cpu_16(ip->packet_id), (uint16_t)(id0 + i));
		CU_ASSERT_EQUAL(ip->fragment_offset, RTE_BE16(RTE_IPV4_HDR_DF_FLAG));
		CU_ASSERT_EQUAL(rte_be_to_cpu_32(tcp->sent_seq), seq0 + off);
		CU_ASSERT_EQUAL(tcp->tcp_flags, want);
		/* VXLAN prepends its outer headers to the first mbuf. */
		CU_ASSERT(rte_pktmbuf_headroom(segs[i]) >= 50);
		off += len;
	}
	CU_ASSERT_EQUAL(off, payload);
	CU_ASSERT(memcmp(got_pl, sent_pl, payload) == 0);
}

static uint16_t
id_of(struct rte_mbuf *m)
{
	return rte_be_to_cpu_16(ip_of(m)->packet_id);
}

static uint32_t
seq_of(struct rte_mbuf *m)
{
	return rte_be_to_cpu_32(((struct rte_tcp_hdr *)l4_of(m))->sent_seq);
}

/* dp_offload_finish on a 64 KB segment, and on one that needs no cut. */
static void
test_finish_tso(void)
{
	const uint32_t payload = 64000;
	const uint16_t mss = 1448;
	const uint8_t flags = TCP_ACK | TCP_PSH | TCP_FIN;
	struct rte_mbuf *out[DP_GSO_MAX_SEGS], *m;
	unsigned int in_use, big_in_use;
	uint16_t n, id0;
	uint32_t seq0;

	reset();
	in_use = rte_mempool_in_use_count(dp->pool);
	big_in_use = rte_mempool_in_use_count(bigpool);
	m = mk_big(&mac_c1, &mac_c2, ip_c1, ip_c2, 40000, 80, flags, payload, mss);
	CU_ASSERT_EQUAL_FATAL(parse_one(m), 0);
	pkt_meta(m)->in_port = pids[P_C1];
	id0 = id_of(m);
	seq0 = seq_of(m);
	n = dp_offload_finish(ctx, m, out, DP_GSO_MAX_SEGS);
	CU_ASSERT_EQUAL_FATAL(n, 45);
	check_segments(out, n, payload, mss, id0, seq0, flags);
	for (uint16_t i = 0; i < n; i++)
		CU_ASSERT_EQUAL(pkt_meta(out[i])->in_port, pids[P_C1]);
	CU_ASSERT_EQUAL(ctx->cnt.gso_frames, 1);
	CU_ASSERT_EQUAL(ctx->cnt.gso_segs, n);
	rte_pktmbuf_free_bulk(out, n);
	/* The original went back to its pool with its last segment. */
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(dp->pool), in_use);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(bigpool), big_in_use);

	/* Shorter than one MSS: one frame, its checksum completed in place. */
	m = mk_big(&mac_c1, &mac_c2, ip_c1, ip_c2, 40000, 80, flags, 1000, mss);
	CU_ASSERT_EQUAL_FATAL(parse_one(m), 0);
	n = dp_offload_finish(ctx, m, out, DP_GSO_MAX_SEGS);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT(out[0] == m);
	CU_ASSERT_EQUAL(check_finished(m, got_pl, NULL), 1000);
	CU_ASSERT(memcmp(got_pl, sent_pl, 1000) == 0);
	CU_ASSERT_EQUAL(ctx->cnt.csum_completed, 1);
	CU_ASSERT_EQUAL(ctx->cnt.gso_frames, 1);
	rte_pktmbuf_free(m);

	/* An indirect frame (a clone): segmented from a copy, nothing leaked or
	 * freed twice (rte_gso gives its header mbufs the input's flags). */
	m = mk_big(&mac_c1, &mac_c2, ip_c1, ip_c2, 40000, 80, flags, 20000, mss);
	CU_ASSERT_EQUAL_FATAL(parse_one(m), 0);
	{
		struct rte_mbuf *c = rte_pktmbuf_clone(m, dp->pool);

		CU_ASSERT_FATAL(c != NULL);
		c->ol_flags |= m->ol_flags & DP_OFFLOAD_MASK;
		c->tx_offload = m->tx_offload;
		*pkt_meta(c) = *pkt_meta(m);
		id0 = id_of(m);
		seq0 = seq_of(m);
		rte_pktmbuf_free(m);
		n = dp_offload_finish(ctx, c, out, DP_GSO_MAX_SEGS);
		check_segments(out, n, 20000, mss, id0, seq0, flags);
		for (uint16_t i = 0; i < n; i++)
			CU_ASSERT(RTE_MBUF_DIRECT(out[i]));
		rte_pktmbuf_free_bulk(out, n);
		CU_ASSERT_EQUAL(rte_mempool_in_use_count(dp->pool), in_use);
		CU_ASSERT_EQUAL(rte_mempool_in_use_count(bigpool), big_in_use);
	}

	/* More segments than the caller has room for: dropped, counted. */
	m = mk_big(&mac_c1, &mac_c2, ip_c1, ip_c2, 40000, 80, flags, 10000, 1000);
	CU_ASSERT_EQUAL_FATAL(parse_one(m), 0);
	pkt_meta(m)->in_port = pids[P_C1];
	CU_ASSERT_EQUAL(dp_offload_finish(ctx, m, out, 9), 0);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_BAD_OFFLOAD], 1);
	CU_ASSERT_EQUAL(ctx->cnt.gso_frames, 2);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(dp->pool), in_use);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(bigpool), big_in_use);
}

/* The reference: the full checksum of an L4 segment (field at 0) in flat memory. */
static uint16_t
ref_cksum(const void *l3, bool v6, bool udp, const void *l4, uint32_t l4len)
{
	uint32_t sum = v6 ? rte_ipv6_phdr_cksum(l3, 0) : rte_ipv4_phdr_cksum(l3, 0);
	uint16_t c;

	sum += rte_raw_cksum(l4, l4len);
	sum = (sum & 0xFFFF) + (sum >> 16);
	sum = (sum & 0xFFFF) + (sum >> 16);
	c = (uint16_t)~sum;
	return udp && c == 0 ? 0xFFFF : c;
}

/* dp_csum_complete = full recomputation: TCP/UDP, IPv4/IPv6, random (odd)
 * lengths, Ethernet padding, flat and chained at random points. */
static void
test_csum_complete_random(void)
{
	static uint8_t frame[2048];

	for (int it = 0; it < 2000; it++) {
		const bool v6 = rte_rand() & 1, udp = rte_rand() & 1;
		const uint32_t l3 = v6 ? 40 : 20, l4h = udp ? 8 : 20, hdrs = 14 + l3 + l4h;
		const uint32_t plen = (uint32_t)(rte_rand() % 1400), pad = (uint32_t)(rte_rand() % 4);
		const uint32_t len = hdrs + plen + pad;
		const uint32_t foff = 14 + l3 + (udp ? 6 : 16);
		uint8_t *ipp = frame + 14, *l4 = frame + 14 + l3;
		struct rte_mbuf *m, *m2;
		uint32_t cut;
		uint16_t want, field, psum;

		for (uint32_t i = 0; i < len; i++)
			frame[i] = (uint8_t)rte_rand();
		frame[12] = v6 ? 0x86 : 0x08;
		frame[13] = v6 ? 0xdd : 0x00;
		if (v6) {
			struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)ipp;

			ip6->vtc_flow = RTE_BE32(6u << 28);
			ip6->payload_len = rte_cpu_to_be_16((uint16_t)(l4h + plen));
			ip6->proto = udp ? IPPROTO_UDP : IPPROTO_TCP;
		} else {
			ip_fill((struct rte_ipv4_hdr *)ipp, (uint32_t)rte_rand(), (uint32_t)rte_rand(),
				udp ? IPPROTO_UDP : IPPROTO_TCP, (uint16_t)(l3 + l4h + plen));
		}
		if (udp)
			((struct rte_udp_hdr *)l4)->dgram_len = rte_cpu_to_be_16((uint16_t)(8 + plen));
		else
			((struct rte_tcp_hdr *)l4)->data_off = 5 << 4;
		memset(frame + foff, 0, 2);
		want = ref_cksum(ipp, v6, udp, l4, l4h + plen);
		psum = v6 ? rte_ipv6_phdr_cksum((struct rte_ipv6_hdr *)ipp, 0) :
			rte_ipv4_phdr_cksum((struct rte_ipv4_hdr *)ipp, 0);
		memcpy(frame + foff, &psum, 2);

		/* The first mbuf holds the headers and a random part of the rest. */
		cut = hdrs + (uint32_t)(rte_rand() % (plen + pad + 1));
		m = rte_pktmbuf_alloc(dp->pool);
		CU_ASSERT_FATAL(m != NULL);
		memcpy(rte_pktmbuf_append(m, (uint16_t)cut), frame, cut);
		if (cut < len) {
			m2 = rte_pktmbuf_alloc(dp->pool);
			CU_ASSERT_FATAL(m2 != NULL);
			memcpy(rte_pktmbuf_append(m2, (uint16_t)(len - cut)), frame + cut, len - cut);
			CU_ASSERT_FATAL(rte_pktmbuf_chain(m, m2) == 0);
		}
		m->ol_flags = (v6 ? RTE_MBUF_F_TX_IPV6 : RTE_MBUF_F_TX_IPV4) |
			(udp ? RTE_MBUF_F_TX_UDP_CKSUM : RTE_MBUF_F_TX_TCP_CKSUM);
		m->l2_len = 14;
		m->l3_len = l3;
		CU_ASSERT_EQUAL(dp_csum_complete(m), 0);
		memcpy(&field, rte_pktmbuf_mtod_offset(m, uint8_t *, foff), 2);
		CU_ASSERT_EQUAL(field, want);
		CU_ASSERT_EQUAL(m->ol_flags & DP_OFFLOAD_MASK, 0);
		if (field != want) {
			printf("\n v6 %d udp %d plen %u pad %u cut %u: %04x != %04x\n", v6, udp,
			       plen, pad, cut, field, want);
			rte_pktmbuf_free(m);
			return;
		}
		/* An IP length beyond the frame, or no IP flag: refused. */
		memset(rte_pktmbuf_mtod_offset(m, uint8_t *, v6 ? 14 + 4 : 14 + 2), 0xFF, 2);
		m->ol_flags = (v6 ? RTE_MBUF_F_TX_IPV6 : RTE_MBUF_F_TX_IPV4) |
			(udp ? RTE_MBUF_F_TX_UDP_CKSUM : RTE_MBUF_F_TX_TCP_CKSUM);
		CU_ASSERT_EQUAL(dp_csum_complete(m), -EINVAL);
		CU_ASSERT((m->ol_flags & DP_OFFLOAD_MASK) != 0);
		m->ol_flags = RTE_MBUF_F_TX_TCP_CKSUM;
		CU_ASSERT_EQUAL(dp_csum_complete(m), -EINVAL);
		rte_pktmbuf_free(m);
	}
}

/* dp_csum_partial_replace4 = the pseudo-header sum recomputed with the new
 * address; and the checksum completed after it is right. */
static void
test_partial_replace4(void)
{
	static uint8_t buf[14 + 20 + 8 + 64];
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(buf + 14);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

	for (int it = 0; it < 20000; it++) {
		uint16_t field, want, plen = (uint16_t)(rte_rand() % 65);
		uint32_t to = (uint32_t)rte_rand();
		const bool src = rte_rand() & 1;
		uint8_t *addr = (uint8_t *)ip + (src ? offsetof(struct rte_ipv4_hdr, src_addr) :
						  offsetof(struct rte_ipv4_hdr, dst_addr));
		rte_be32_t from, to_be;

		for (unsigned int i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)rte_rand();
		/* Now and then an address of zeros or ones: the edges of the sums. */
		if (it % 7 == 0)
			to = it % 14 == 0 ? 0 : UINT32_MAX;
		to_be = rte_cpu_to_be_32(to);
		ip_fill(ip, (uint32_t)rte_rand(), (uint32_t)rte_rand(), IPPROTO_UDP,
			(uint16_t)(20 + 8 + plen));
		udp->dgram_len = rte_cpu_to_be_16((uint16_t)(8 + plen));
		field = rte_ipv4_phdr_cksum(ip, 0);
		memcpy(&from, addr, 4);
		dp_csum_partial_replace4(&field, from, to_be);
		memcpy(addr, &to_be, 4);
		want = rte_ipv4_phdr_cksum(ip, 0);
		/* One's complement: 0x0000 and 0xFFFF are the same sum. */
		CU_ASSERT_EQUAL(field == 0xFFFF ? 0 : field, want == 0xFFFF ? 0 : want);
		udp->dgram_cksum = 0;
		want = ref_cksum(ip, false, true, udp, 8u + plen);
		{
			uint16_t s = (uint16_t)~rte_raw_cksum(udp, 8u + plen);
			uint32_t t = (uint32_t)(uint16_t)~s + field;

			/* Completing: ~fold(raw sum over the segment with the field). */
			t = (t & 0xFFFF) + (t >> 16);
			t = (t & 0xFFFF) + (t >> 16);
			t = (uint16_t)~t;
			CU_ASSERT_EQUAL(t == 0 ? 0xFFFF : t, want);
		}
	}
}

/* Bridged: segments in order to a port without offloads, whole to one with
 * them; a partial checksum completed; order with the frames around it. */
static void
test_dispatch(void)
{
	struct rte_mbuf *a, *b, *big;
	uint16_t id0;
	uint32_t seq0;

	reset();
	a = mk_udp(&mac_c1, &mac_c2, ip_c1, ip_c2, 1, 2);
	big = mk_big(&mac_c1, &mac_c2, ip_c1, ip_c2, 40000, 80, TCP_ACK | TCP_PSH, 30000, 1448);
	b = mk_udp(&mac_c1, &mac_c2, ip_c1, ip_c2, 3, 4);
	id0 = id_of(big);
	seq0 = seq_of(big);
	inject(P_C1, a);
	inject(P_C1, big);
	inject(P_C1, b);
	run();
	CU_ASSERT_EQUAL_FATAL(ngot[P_C2], 2 + 21);
	CU_ASSERT_EQUAL(total_out(), 2 + 21);
	CU_ASSERT(got[P_C2][0] == a);
	CU_ASSERT(got[P_C2][22] == b);
	check_segments(&got[P_C2][1], 21, 30000, 1448, id0, seq0, TCP_ACK | TCP_PSH);
	CU_ASSERT_EQUAL(ctx->cnt.gso_frames, 1);
	CU_ASSERT_EQUAL(ctx->cnt.gso_segs, 21);

	/* A partial checksum alone. */
	inject(P_C1, mk_udp_partial(&mac_c1, &mac_c2, ip_c1, ip_c2, 5, 6, 777));
	run();
	CU_ASSERT_EQUAL_FATAL(ngot[P_C2], 1);
	CU_ASSERT_EQUAL(check_finished(got[P_C2][0], NULL, NULL), 777);
	CU_ASSERT_EQUAL(ctx->cnt.csum_completed, 1);

	/* A port that takes partial checksums but not segments. */
	port_off[P_C2] = DP_PORT_OFF_CSUM;
	setup_view();
	inject(P_C1, mk_udp_partial(&mac_c1, &mac_c2, ip_c1, ip_c2, 5, 6, 777));
	inject(P_C1, mk_big(&mac_c1, &mac_c2, ip_c1, ip_c2, 40000, 80, TCP_ACK, 3000, 1448));
	run();
	CU_ASSERT_EQUAL_FATAL(ngot[P_C2], 1 + 3);
	CU_ASSERT_EQUAL(got[P_C2][0]->ol_flags & DP_OFFLOAD_MASK, RTE_MBUF_F_TX_UDP_CKSUM);
	for (int i = 1; i < 4; i++)
		check_finished(got[P_C2][i], NULL, NULL);

	/* One that takes both: the large frame leaves whole, as it came. */
	port_off[P_C2] = DP_PORT_OFF_CSUM | DP_PORT_OFF_TSO4;
	setup_view();
	big = mk_big(&mac_c1, &mac_c2, ip_c1, ip_c2, 40000, 80, TCP_ACK, 30000, 1448);
	inject(P_C1, big);
	run();
	CU_ASSERT_EQUAL_FATAL(ngot[P_C2], 1);
	CU_ASSERT(got[P_C2][0] == big);
	CU_ASSERT((big->ol_flags & RTE_MBUF_F_TX_TCP_SEG) != 0);
	CU_ASSERT_EQUAL(big->tso_segsz, 1448);
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(big), 14 + 40 + 30000);
	CU_ASSERT_EQUAL(ctx->cnt.gso_frames, 2);
	run();
}

/* Flooded: finished unless every port it floods to takes it. */
static void
test_flood(void)
{
	static const struct rte_ether_addr unknown = {{0x02, 0x42, 0xac, 0x11, 0, 0x77}};
	struct rte_mbuf *big;
	uint16_t id0;
	uint32_t seq0;

	reset();
	big = mk_big(&mac_c1, &unknown, ip_c1, ip_c2, 40000, 80, TCP_ACK | TCP_FIN, 10000, 1000);
	id0 = id_of(big);
	seq0 = seq_of(big);
	inject(P_C1, big);
	run();
	CU_ASSERT_EQUAL(total_out(), 10);
	CU_ASSERT_EQUAL_FATAL(ngot[P_C2], 10);
	check_segments(got[P_C2], 10, 10000, 1000, id0, seq0, TCP_ACK | TCP_FIN);
	CU_ASSERT_EQUAL(ctx->cnt.floods, 10);

	port_off[P_C2] = DP_PORT_OFF_CSUM | DP_PORT_OFF_TSO4;
	setup_view();
	big = mk_big(&mac_c1, &unknown, ip_c1, ip_c2, 40000, 80, TCP_ACK | TCP_FIN, 10000, 1000);
	inject(P_C1, big);
	run();
	CU_ASSERT_EQUAL_FATAL(ngot[P_C2], 1);
	CU_ASSERT(got[P_C2][0] == big);
	CU_ASSERT((big->ol_flags & RTE_MBUF_F_TX_TCP_SEG) != 0);
	run();
}

/* Take the one frame on port p out of the test's hands (it is the caller's). */
static struct rte_mbuf *
take_only(unsigned int p)
{
	struct rte_mbuf *m = only_on(p);

	ngot[p] = 0;
	return m;
}

/* Finish a frame that left whole and check what it becomes. */
static void
finish_and_check(struct rte_mbuf *m, uint32_t payload, uint16_t mss)
{
	struct rte_mbuf *out[DP_GSO_MAX_SEGS];
	uint16_t id0 = id_of(m);
	uint32_t seq0 = seq_of(m);
	uint8_t flags = ((struct rte_tcp_hdr *)l4_of(m))->tcp_flags;
	uint16_t n = dp_offload_finish(ctx, m, out, DP_GSO_MAX_SEGS);

	check_segments(out, n, payload, mss, id0, seq0, flags);
	rte_pktmbuf_free_bulk(out, n);
}

/* DNAT of a published port: addresses and port rewritten on a partial sum. */
static void
test_nat_dnat(void)
{
	struct rte_mbuf *m;
	uint16_t id0;
	uint32_t seq0;

	reset();
	publish_std();
	send_expect(P_UP, mk_tcp(&mac_cl, &mac_gu, ip_cl, ip_up, 40000, 8080, TCP_SYN), P_C1);
	send_expect(P_C1, mk_tcp(&mac_c1, &mac_ga, ip_c1, ip_cl, 80, 40000, TCP_SYN | TCP_ACK),
		    P_UP);
	m = mk_big(&mac_cl, &mac_gu, ip_cl, ip_up, 40000, 8080, TCP_ACK | TCP_PSH, 20000, 1448);
	id0 = id_of(m);
	seq0 = seq_of(m);
	inject(P_UP, m);
	run();
	CU_ASSERT_EQUAL_FATAL(ngot[P_C1], 14);
	check_segments(got[P_C1], 14, 20000, 1448, id0, seq0, TCP_ACK | TCP_PSH);
	for (int i = 0; i < 14; i++)
		check_tuple(got[P_C1][i], ip_cl, 40000, ip_c1, 80);

	/* To a port that takes it whole: finished later, still right. */
	port_off[P_C1] = DP_PORT_OFF_CSUM | DP_PORT_OFF_TSO4;
	setup_view();
	inject(P_UP, mk_big(&mac_cl, &mac_gu, ip_cl, ip_up, 40000, 8080, TCP_ACK, 20000, 1448));
	run();
	m = take_only(P_C1);
	CU_ASSERT((m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) != 0);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip_of(m)->dst_addr), ip_c1);
	finish_and_check(m, 20000, 1448);

	/* UDP, 5353 -> c1:53, a partial checksum alone, both ways. */
	inject(P_UP, mk_udp_partial(&mac_cl, &mac_gu, ip_cl, ip_up, 40001, 5353, 301));
	run();
	m = take_only(P_C1);
	CU_ASSERT((m->ol_flags & RTE_MBUF_F_TX_UDP_CKSUM) != 0);
	CU_ASSERT_EQUAL(dp_csum_complete(m), 0);
	CU_ASSERT_EQUAL(check_finished(m, NULL, NULL), 301);
	check_tuple(m, ip_cl, 40001, ip_c1, 53);
	rte_pktmbuf_free(m);
	m = send_expect(P_C1, mk_udp_partial(&mac_c1, &mac_ga, ip_c1, ip_cl, 53, 40001, 302),
			P_UP);
	CU_ASSERT_EQUAL(check_finished(m, NULL, NULL), 302);
	check_tuple(m, ip_up, 5353, ip_cl, 40001);
}

/* MASQUERADE of a container's large segments to the outside. */
static void
test_nat_masq(void)
{
	struct rte_mbuf *m;
	uint16_t id0;
	uint32_t seq0;

	reset();
	send_expect(P_C1, mk_tcp(&mac_c1, &mac_ga, ip_c1, ip_out, 33000, 443, TCP_SYN), P_UP);
	send_expect(P_UP, mk_tcp(&mac_r, &mac_gu, ip_out, ip_up, 443, 33000, TCP_SYN | TCP_ACK),
		    P_C1);
	m = mk_big(&mac_c1, &mac_ga, ip_c1, ip_out, 33000, 443, TCP_ACK | TCP_PSH, 30000, 1448);
	id0 = id_of(m);
	seq0 = seq_of(m);
	inject(P_C1, m);
	run();
	CU_ASSERT_EQUAL_FATAL(ngot[P_UP], 21);
	check_segments(got[P_UP], 21, 30000, 1448, id0, seq0, TCP_ACK | TCP_PSH);
	for (int i = 0; i < 21; i++) {
		check_tuple(got[P_UP][i], ip_up, 33000, ip_out, 443);
		check_eth_dst(got[P_UP][i], &mac_r);
		CU_ASSERT_EQUAL(ip_of(got[P_UP][i])->time_to_live, 63);
	}
	port_off[P_UP] = DP_PORT_OFF_CSUM | DP_PORT_OFF_TSO4;
	setup_view();
	inject(P_C1, mk_big(&mac_c1, &mac_ga, ip_c1, ip_out, 33000, 443, TCP_ACK, 30000, 1448));
	run();
	m = take_only(P_UP);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip_of(m)->src_addr), ip_up);
	finish_and_check(m, 30000, 1448);
	/* A partial checksum alone, left partial: its sum followed the source. */
	inject(P_C1, mk_big(&mac_c1, &mac_ga, ip_c1, ip_out, 33000, 443, TCP_ACK, 999, 0));
	run();
	m = take_only(P_UP);
	CU_ASSERT_EQUAL(m->ol_flags & DP_OFFLOAD_MASK, RTE_MBUF_F_TX_TCP_CKSUM);
	CU_ASSERT_EQUAL(dp_csum_complete(m), 0);
	CU_ASSERT_EQUAL(check_finished(m, got_pl, NULL), 999);
	CU_ASSERT(memcmp(got_pl, sent_pl, 999) == 0);
	check_tuple(m, ip_up, 33000, ip_out, 443);
	rte_pktmbuf_free(m);
}

/* L3's MTU rule for a large segment: by the segments it becomes. */
static void
test_l3_mtu(void)
{
	struct rte_mbuf *m;
	struct rte_icmp_hdr *icmp;
	uint64_t too_big;

	reset();
	send_expect(P_C1, mk_tcp(&mac_c1, &mac_ga, ip_c1, ip_out, 33001, 443, TCP_SYN), P_UP);
	send_expect(P_UP, mk_tcp(&mac_r, &mac_gu, ip_out, ip_up, 443, 33001, TCP_SYN | TCP_ACK),
		    P_C1);
	/* 40 + 1460 = the uplink's 1500: routed, cut. */
	inject(P_C1, mk_big(&mac_c1, &mac_ga, ip_c1, ip_out, 33001, 443, TCP_ACK, 14600, 1460));
	run();
	CU_ASSERT_EQUAL(ngot[P_UP], 10);
	CU_ASSERT_EQUAL(total_out(), 10);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_TOO_BIG], 0);
	/* One byte more per segment, DF set: fragmentation needed, quoting the
	 * frame as its source sent it. */
	too_big = ctx->cnt.drops[DP_DROP_TOO_BIG];
	m = send_expect(P_C1, mk_big(&mac_c1, &mac_ga, ip_c1, ip_out, 33001, 443, TCP_ACK, 14610,
				     1461), P_C1);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_TOO_BIG], too_big + 1);
	CU_ASSERT_EQUAL(m->ol_flags & DP_OFFLOAD_MASK, 0);
	CU_ASSERT_EQUAL(ip_of(m)->next_proto_id, IPPROTO_ICMP);
	icmp = l4_of(m);
	CU_ASSERT_EQUAL(icmp->icmp_type, 3);
	CU_ASSERT_EQUAL(icmp->icmp_code, 4);
	CU_ASSERT_EQUAL(rte_be_to_cpu_16(icmp->icmp_seq_nb), 1500);
	/* The quoted header is the untranslated one. */
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(((struct rte_ipv4_hdr *)(icmp + 1))->src_addr), ip_c1);
	check_cksums(m);
	/* Shorter than one segment but a large segment all the same: its length. */
	inject(P_C1, mk_big(&mac_c1, &mac_ga, ip_c1, ip_out, 33001, 443, TCP_ACK, 1460, 9000));
	run();
	CU_ASSERT_EQUAL(ngot[P_UP], 1);
}

/* What the parser refuses (bad-offload). */
static void
test_bad_offload(void)
{
	struct rte_mbuf *m;

	reset();
	/* Checksum start not at the L4 header. */
	m = mk_big(&mac_c1, &mac_c2, ip_c1, ip_c2, 1, 2, TCP_ACK, 3000, 1448);
	m->l3_len = 24;
	send_dropped(P_C1, m, DP_DROP_BAD_OFFLOAD);
	m = mk_big(&mac_c1, &mac_c2, ip_c1, ip_c2, 1, 2, TCP_ACK, 3000, 1448);
	m->l2_len = 18;
	m->l3_len = 16;
	send_dropped(P_C1, m, DP_DROP_BAD_OFFLOAD);
	/* The flag names another protocol, or another IP version. */
	m = mk_udp_partial(&mac_c1, &mac_c2, ip_c1, ip_c2, 5, 6, 100);
	m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
	send_dropped(P_C1, m, DP_DROP_BAD_OFFLOAD);
	m = mk_udp_partial(&mac_c1, &mac_c2, ip_c1, ip_c2, 5, 6, 100);
	m->ol_flags = RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_UDP_CKSUM;
	send_dropped(P_C1, m, DP_DROP_BAD_OFFLOAD);
	/* TSO on UDP. */
	m = mk_udp_partial(&mac_c1, &mac_c2, ip_c1, ip_c2, 5, 6, 3000);
	m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG;
	m->l4_len = 8;
	m->tso_segsz = 1000;
	send_dropped(P_C1, m, DP_DROP_BAD_OFFLOAD);
	/* TSO without a partial checksum, or with an MSS of 0. */
	m = mk_big(&mac_c1, &mac_c2, ip_c1, ip_c2, 1, 2, TCP_ACK, 3000, 1448);
	m->ol_flags &= ~RTE_MBUF_F_TX_L4_MASK;
	send_dropped(P_C1, m, DP_DROP_BAD_OFFLOAD);
	m = mk_big(&mac_c1, &mac_c2, ip_c1, ip_c2, 1, 2, TCP_ACK, 3000, 1448);
	m->tso_segsz = 0;
	send_dropped(P_C1, m, DP_DROP_BAD_OFFLOAD);
	/* l4_len that is not the TCP header's. */
	m = mk_big(&mac_c1, &mac_c2, ip_c1, ip_c2, 1, 2, TCP_ACK, 3000, 1448);
	m->l4_len = 32;
	send_dropped(P_C1, m, DP_DROP_BAD_OFFLOAD);
	/* TSO on a fragment (and a partial checksum on one). */
	m = mk_big(&mac_c1, &mac_c2, ip_c1, ip_c2, 1, 2, TCP_ACK, 3000, 1448);
	make_fragment(m, 0, true);
	send_dropped(P_C1, m, DP_DROP_BAD_OFFLOAD);
	m = mk_udp_partial(&mac_c1, &mac_c2, ip_c1, ip_c2, 5, 6, 100);
	make_fragment(m, 0, true);
	send_dropped(P_C1, m, DP_DROP_BAD_OFFLOAD);
	/* Too many segments: 64000 bytes of 100. */
	m = mk_big(&mac_c1, &mac_c2, ip_c1, ip_c2, 1, 2, TCP_ACK, 64000, 100);
	send_dropped(P_C1, m, DP_DROP_BAD_OFFLOAD);
	/* And at the limit, fine. */
	m = mk_big(&mac_c1, &mac_c2, ip_c1, ip_c2, 1, 2, TCP_ACK, 64000, 500);
	inject(P_C1, m);
	run();
	CU_ASSERT_EQUAL(ngot[P_C2], DP_GSO_MAX_SEGS);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_BAD_OFFLOAD], 11);
	CU_ASSERT_STRING_EQUAL(dp_drop_names[DP_DROP_BAD_OFFLOAD], "bad-offload");
	run();
}

/*
 * Random offload descriptions on random frames through the whole pipeline
 * (a unit-sized fuzz): nothing crashes (ASan in the sanitizer build), no mbuf
 * leaks, and no frame leaves with work a port does not take.
 */
static void
test_random_descriptions(void)
{
	static const uint64_t l4f[] = {0, RTE_MBUF_F_TX_TCP_CKSUM, RTE_MBUF_F_TX_UDP_CKSUM,
				       RTE_MBUF_F_TX_SCTP_CKSUM};
	static const uint64_t ipf[] = {0, RTE_MBUF_F_TX_IPV4, RTE_MBUF_F_TX_IPV6,
				       RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IPV6};
	const struct rte_ether_addr *dmacs[] = {&mac_c1, &mac_c2, &mac_ga, &mac_gu, &mac_cl};
	static const unsigned int ins[] = {P_C1, P_C2, P_UP};
	const uint32_t dips[] = {ip_c1, ip_c2, ip_up, ip_out, ip_cl, ip_ga};
	unsigned int in_use, big_in_use;

	reset();
	publish_std();
	run();
	release();
	in_use = rte_mempool_in_use_count(dp->pool);
	big_in_use = rte_mempool_in_use_count(bigpool);
	for (int it = 0; it < 300; it++) {
		for (unsigned int p = 0; p < NPORTS; p++)
			port_off[p] = (uint8_t)(rte_rand() % 4);
		setup_view();
		for (int k = 0; k < 8; k++) {
			unsigned int in = ins[rte_rand() % RTE_DIM(ins)];
			const struct rte_ether_addr *smac = in == P_UP ? &mac_cl :
				in == P_C1 ? &mac_c1 : &mac_c2;
			uint32_t sip = in == P_UP ? ip_cl : in == P_C1 ? ip_c1 : ip_c2;
			const struct rte_ether_addr *dmac = dmacs[rte_rand() % RTE_DIM(dmacs)];
			uint32_t dip = dips[rte_rand() % RTE_DIM(dips)];
			uint16_t port = (uint16_t)(rte_rand() % 3 == 0 ? 8080 : 1000 + rte_rand() % 8);
			struct rte_mbuf *m;

			switch (rte_rand() % 3) {
			case 0:
				m = mk_big(smac, dmac, sip, dip, 40000, port, TCP_ACK,
					   (uint32_t)(rte_rand() % 9000),
					   (uint16_t)(rte_rand() % 2000));
				break;
			case 1:
				m = mk_udp_partial(smac, dmac, sip, dip, 40000, port,
						   (uint16_t)(rte_rand() % 1400));
				break;
			default:
				m = mk_l4(smac, dmac, sip, dip, IPPROTO_TCP, 40000, port, TCP_SYN,
					  (uint16_t)(rte_rand() % 1400), true, false);
				break;
			}
			if (rte_rand() % 2)
				m->ol_flags = l4f[rte_rand() % 4] | ipf[rte_rand() % 4] |
					(rte_rand() % 2 ? RTE_MBUF_F_TX_TCP_SEG : 0);
			if (rte_rand() % 3 == 0)
				m->l2_len = rte_rand() % 128;
			if (rte_rand() % 3 == 0)
				m->l3_len = rte_rand() % 512;
			if (rte_rand() % 3 == 0)
				m->l4_len = rte_rand() % 256;
			if (rte_rand() % 3 == 0)
				m->tso_segsz = (uint16_t)(rte_rand() % 3000);
			inject(in, m);
		}
		run();
		for (unsigned int p = 0; p < NPORTS; p++)
			for (unsigned int i = 0; i < ngot[p]; i++) {
				uint8_t need = dp_offload_needs(got[p][i]);

				CU_ASSERT_EQUAL(need & ~port_off[p], 0);
				CU_ASSERT_EQUAL(rte_mbuf_check(got[p][i], 1, NULL), 0);
			}
	}
	release();
	run();
	release();
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(dp->pool), in_use);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(bigpool), big_in_use);
	/* Every path was taken: cut, completed, refused. */
	CU_ASSERT(ctx->cnt.gso_frames > 0);
	CU_ASSERT(ctx->cnt.csum_completed > 0);
	CU_ASSERT(ctx->cnt.drops[DP_DROP_BAD_OFFLOAD] > 0);
	printf("(%" PRIu64 " cut, %" PRIu64 " completed, %" PRIu64 " bad-offload) ",
	       ctx->cnt.gso_frames, ctx->cnt.csum_completed, ctx->cnt.drops[DP_DROP_BAD_OFFLOAD]);
}

int
main(int argc, char **argv)
{
	CU_pSuite s;
	unsigned int failed;

	(void)argc;
	(void)argv;
	if (th_eal_init("t_offload") < 0)
		return 77;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("offload", suite_init, NULL);
	CU_add_test(s, "finish a 64 KB segment", test_finish_tso);
	CU_add_test(s, "complete partial checksums = full (random)", test_csum_complete_random);
	CU_add_test(s, "partial sum after an address change", test_partial_replace4);
	CU_add_test(s, "dispatch: by the port's offloads, in order", test_dispatch);
	CU_add_test(s, "flood", test_flood);
	CU_add_test(s, "DNAT of offload frames", test_nat_dnat);
	CU_add_test(s, "MASQUERADE of offload frames", test_nat_masq);
	CU_add_test(s, "L3 MTU by segment", test_l3_mtu);
	CU_add_test(s, "bad-offload", test_bad_offload);
	CU_add_test(s, "random descriptions: no crash, leak or leftover", test_random_descriptions);
	failed = th_run();
	release();
	dp_destroy(dp);
	rte_eal_cleanup();
	return failed ? 1 : 0;
}
