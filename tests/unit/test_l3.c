/*
 * test_l3.c - the routed side of the data plane: gateway ARP and ping, routing
 * with TTL and checksum, Docker's isolation and --internal, ICMP errors and
 * their rate limit, neighbours, runtime route changes, the L2 output of routed
 * frames.
 *
 * Like test_bridge.c, it runs EAL with --no-huge --no-shconf and builds a real
 * data plane whose ports are net_ring ethdevs; a test puts frames on a port's
 * RX ring, runs one worker iteration on the main thread (dp_worker_poll_once)
 * and reads what every port's TX ring got. The topology (see setup_view):
 *
 *   port 0, 1  domain 0  network A 172.17.0.0/16, gateway .1 (GA)   c1, c2, c4
 *   port 2     domain 1  network B 172.18.0.0/16, gateway .1 (GB)   b1
 *   port 3     domain 2  internal I 172.19.0.0/16, gateway .1 (GI) i1
 *   port 4     domain 3  uplink (TAP mode): the host H owns the gateway
 *                        addresses; proxy ARP; default route via 172.17.0.1
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_hash_crc.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_random.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "harness.h"
#include "dataplane/dp.h"
#include "dataplane/fdb.h"
#include "dataplane/l3.h"
#include "dataplane/l3_private.h"
#include "dataplane/pipeline.h"
#include "dataplane/pkt.h"

#define NPORTS 5
#define RING_SZ 256
#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

enum { DOM_A = 0, DOM_B = 1, DOM_I = 2, DOM_U = 3 };

static struct dp *dp;
static struct lcore_ctx *ctx;
static struct rte_ring *rxr[NPORTS], *txr[NPORTS];
static uint16_t pids[NPORTS];

static const struct rte_ether_addr mac_ga = {{0x02, 0, 0, 0, 0x0a, 0x01}};
static const struct rte_ether_addr mac_gb = {{0x02, 0, 0, 0, 0x0b, 0x01}};
static const struct rte_ether_addr mac_gi = {{0x02, 0, 0, 0, 0x0c, 0x01}};
static const struct rte_ether_addr mac_gu = {{0x02, 0, 0, 0, 0x0f, 0x01}};
static const struct rte_ether_addr mac_c1 = {{0x02, 0x42, 0xac, 0x11, 0, 0x02}};
static const struct rte_ether_addr mac_c2 = {{0x02, 0x42, 0xac, 0x11, 0, 0x03}};
static const struct rte_ether_addr mac_c4 = {{0x02, 0x42, 0xac, 0x11, 0, 0x04}};
static const struct rte_ether_addr mac_b1 = {{0x02, 0x42, 0xac, 0x12, 0, 0x02}};
static const struct rte_ether_addr mac_i1 = {{0x02, 0x42, 0xac, 0x13, 0, 0x02}};
static const struct rte_ether_addr mac_h = {{0x02, 0, 0, 0, 0x99, 0x99}};
static const struct rte_ether_addr mac_h2 = {{0x02, 0, 0, 0, 0x99, 0x98}};
static const struct rte_ether_addr mac_bcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
static const struct rte_ether_addr mac_zero = {{0}};

static const uint32_t ip_ga = IP4(172, 17, 0, 1), ip_gb = IP4(172, 18, 0, 1);
static const uint32_t ip_gi = IP4(172, 19, 0, 1);
static const uint32_t ip_c1 = IP4(172, 17, 0, 2), ip_c2 = IP4(172, 17, 0, 3);
static const uint32_t ip_c4 = IP4(172, 17, 0, 4);
static const uint32_t ip_b1 = IP4(172, 18, 0, 2), ip_i1 = IP4(172, 19, 0, 2);
static const uint32_t ip_out = IP4(8, 8, 8, 8);

/* ------------------------------------------------------------------ frames */

static struct rte_mbuf *
mk_eth(const struct rte_ether_addr *src, const struct rte_ether_addr *dst, uint16_t type,
       uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp->pool);
	struct rte_ether_hdr *eth;

	CU_ASSERT_FATAL(m != NULL);
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, len);
	CU_ASSERT_FATAL(eth != NULL);
	memset(eth, 0, len);
	eth->src_addr = *src;
	eth->dst_addr = *dst;
	eth->ether_type = rte_cpu_to_be_16(type);
	return m;
}

static struct rte_ipv4_hdr *
ip_of(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
}

static void
ip_fill(struct rte_ipv4_hdr *ip, uint32_t src, uint32_t dst, uint8_t proto, uint8_t ttl,
	uint16_t tot)
{
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(tot);
	ip->packet_id = rte_cpu_to_be_16(0x1234);
	ip->time_to_live = ttl;
	ip->next_proto_id = proto;
	ip->src_addr = rte_cpu_to_be_32(src);
	ip->dst_addr = rte_cpu_to_be_32(dst);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

/* A 60-byte Ethernet/IPv4/UDP frame with 18 payload bytes 0xa0, 0xa1, ... */
static struct rte_mbuf *
mk_udp(const struct rte_ether_addr *src, const struct rte_ether_addr *dst, uint32_t sip,
       uint32_t dip, uint8_t ttl)
{
	struct rte_mbuf *m = mk_eth(src, dst, RTE_ETHER_TYPE_IPV4, 60);
	struct rte_ipv4_hdr *ip = ip_of(m);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint8_t *pl = (uint8_t *)(udp + 1);

	udp->src_port = rte_cpu_to_be_16(1000);
	udp->dst_port = rte_cpu_to_be_16(2000);
	udp->dgram_len = rte_cpu_to_be_16(8 + 18);
	for (int i = 0; i < 18; i++)
		pl[i] = (uint8_t)(0xa0 + i);
	ip_fill(ip, sip, dip, IPPROTO_UDP, ttl, 28 + 18);
	udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	return m;
}

/* An ICMP message (type, code) with 56 bytes of payload 0, 1, 2, ... */
static struct rte_mbuf *
mk_icmp(const struct rte_ether_addr *src, const struct rte_ether_addr *dst, uint32_t sip,
	uint32_t dip, uint8_t type, uint8_t code)
{
	struct rte_mbuf *m = mk_eth(src, dst, RTE_ETHER_TYPE_IPV4, 14 + 20 + 8 + 56);
	struct rte_ipv4_hdr *ip = ip_of(m);
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(ip + 1);
	uint8_t *pl = (uint8_t *)(icmp + 1);

	icmp->icmp_type = type;
	icmp->icmp_code = code;
	icmp->icmp_ident = rte_cpu_to_be_16(0x4242);
	icmp->icmp_seq_nb = rte_cpu_to_be_16(7);
	for (int i = 0; i < 56; i++)
		pl[i] = (uint8_t)i;
	icmp->icmp_cksum = 0;
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, 8 + 56);
	ip_fill(ip, sip, dip, IPPROTO_ICMP, 64, 20 + 8 + 56);
	return m;
}

static struct rte_mbuf *
mk_arp(const struct rte_ether_addr *src, const struct rte_ether_addr *dst, uint16_t op,
       uint32_t sip, uint32_t tip)
{
	struct rte_mbuf *m = mk_eth(src, dst, RTE_ETHER_TYPE_ARP, 60);
	struct rte_arp_hdr *ah = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, 14);

	ah->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = 6;
	ah->arp_plen = 4;
	ah->arp_opcode = rte_cpu_to_be_16(op);
	ah->arp_data.arp_sha = *src;
	ah->arp_data.arp_sip = rte_cpu_to_be_32(sip);
	ah->arp_data.arp_tha = op == RTE_ARP_OP_REQUEST ? mac_zero : *dst;
	ah->arp_data.arp_tip = rte_cpu_to_be_32(tip);
	return m;
}

/* ------------------------------------------------------------- plumbing */

static void
inject(unsigned int port, struct rte_mbuf *m)
{
	CU_ASSERT_FATAL(rte_ring_enqueue(rxr[port], m) == 0);
}

/* What the ports transmitted: got[p][0..n[p]-1], to be released with release(). */
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

/* One worker iteration; collects every port's output. */
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

/* Exactly one frame came out, on port p: return it. */
static struct rte_mbuf *
only_on(unsigned int p)
{
	CU_ASSERT_EQUAL(total_out(), 1);
	CU_ASSERT_EQUAL_FATAL(ngot[p], 1);
	return got[p][0];
}

static void
setup_view(bool with_uplink)
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
	v->nets[DOM_U] = (struct dp_net_view){.gw_ip = 0,
		.flags = DP_NET_F_L3 | DP_NET_F_UPLINK | DP_NET_F_PROXY_ARP, .mtu = 1500,
		.gw_mac = mac_gu};
	v->uplink_port = with_uplink ? pids[4] : RTE_MAX_ETHPORTS;
	dp_view_publish(dp, v);
}

static const struct {
	uint32_t prefix;
	uint8_t len;
	struct l3_nexthop nh;
} std_routes[] = {
	{IP4(172, 17, 0, 0), 16, {.type = L3_NH_CONNECTED, .domain = DOM_A}},
	{IP4(172, 18, 0, 0), 16, {.type = L3_NH_CONNECTED, .domain = DOM_B}},
	{IP4(172, 19, 0, 0), 16, {.type = L3_NH_CONNECTED, .domain = DOM_I}},
	{0, 0, {.type = L3_NH_GATEWAY, .domain = DOM_U, .gw_ip = IP4(172, 17, 0, 1)}},
};

/* Routes, neighbours and static MACs of the standard topology (idempotent). */
static void
setup_tables(void)
{
	static const struct {
		uint16_t dom;
		uint32_t ip;
		const struct rte_ether_addr *mac;
	} neigh[] = {
		{DOM_A, IP4(172, 17, 0, 2), &mac_c1},
		{DOM_A, IP4(172, 17, 0, 3), &mac_c2},
		{DOM_A, IP4(172, 17, 0, 4), &mac_c4},
		{DOM_B, IP4(172, 18, 0, 2), &mac_b1},
		{DOM_I, IP4(172, 19, 0, 2), &mac_i1},
		/* TAP mode: the host owns every gateway address. */
		{DOM_U, IP4(172, 17, 0, 1), &mac_h},
		{DOM_U, IP4(172, 18, 0, 1), &mac_h},
		{DOM_U, IP4(172, 19, 0, 1), &mac_h},
	};
	static const struct {
		uint16_t dom;
		const struct rte_ether_addr *mac;
		unsigned int port;
	} fdb[] = {
		{DOM_A, &mac_c1, 0}, {DOM_A, &mac_c2, 1}, {DOM_A, &mac_c4, 0},
		{DOM_B, &mac_b1, 2}, {DOM_I, &mac_i1, 3}, {DOM_U, &mac_h, 4},
	};
	uint64_t now = rte_rdtsc();

	for (unsigned int i = 0; i < RTE_DIM(std_routes); i++) {
		int rc = l3_route_add(dp, std_routes[i].prefix, std_routes[i].len,
				      &std_routes[i].nh);

		CU_ASSERT(rc == 0 || rc == -EEXIST);
	}
	for (unsigned int i = 0; i < RTE_DIM(neigh); i++)
		CU_ASSERT_EQUAL(l3_neigh_add(dp, neigh[i].dom, neigh[i].ip, neigh[i].mac), 0);
	for (unsigned int i = 0; i < RTE_DIM(fdb); i++)
		CU_ASSERT_EQUAL(fdb_add(dp->fdb, fdb[i].dom, fdb[i].mac, pids[fdb[i].port], true,
					now), 0);
}

/* Back to the standard state with zero counters and empty rings. */
static void
reset(void)
{
	run();
	release();
	/* Forget what earlier tests taught the MAC table; the static MACs return. */
	fdb_learn_drain(dp->fdb, rte_rdtsc());
	for (uint16_t d = DOM_A; d <= DOM_U; d++)
		fdb_flush_domain(dp->fdb, d);
	memset(ctx->learn_key, 0, sizeof(ctx->learn_key));
	setup_view(true);
	setup_tables();
	l3_icmp_rate_set(dp, 100, 10);
	memset(&ctx->cnt, 0, sizeof(ctx->cnt));
	ctx->icmp_credit_tsc = 0;
	ctx->icmp_last_tsc = 0;
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
	if (th_ring_ports(dp, "l3", NPORTS, RING_SZ, rxr, txr, pids) != 0)
		return -1;
	/* Views and tables are set by reset() inside each test (it asserts). */
	return 0;
}

/* ---------------------------------------------------------------- checks */

static bool
ipv4_cksum_valid(const struct rte_ipv4_hdr *ip)
{
	return rte_raw_cksum(ip, rte_ipv4_hdr_len(ip)) == 0xFFFF;
}

/* A full recomputation agrees with what the frame carries. */
static void
check_ip_cksum(struct rte_ipv4_hdr *ip)
{
	rte_be16_t carried = ip->hdr_checksum;

	CU_ASSERT(ipv4_cksum_valid(ip));
	ip->hdr_checksum = 0;
	CU_ASSERT_EQUAL(rte_ipv4_cksum(ip), carried);
	ip->hdr_checksum = carried;
}

static void
check_eth(struct rte_mbuf *m, const struct rte_ether_addr *src, const struct rte_ether_addr *dst)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	CU_ASSERT(rte_is_same_ether_addr(&eth->src_addr, src));
	CU_ASSERT(rte_is_same_ether_addr(&eth->dst_addr, dst));
}

/* The UDP frame of mk_udp arrived routed: TTL, checksums, payload. */
static void
check_routed_udp(struct rte_mbuf *m, uint32_t sip, uint32_t dip, uint8_t ttl)
{
	struct rte_ipv4_hdr *ip = ip_of(m);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	const uint8_t *pl = (const uint8_t *)(udp + 1);

	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(m), 60);
	CU_ASSERT_EQUAL(ip->time_to_live, ttl);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip->src_addr), sip);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip->dst_addr), dip);
	check_ip_cksum(ip);
	/* TTL is outside the pseudo-header: the UDP checksum still holds. */
	CU_ASSERT_EQUAL(rte_ipv4_udptcp_cksum_verify(ip, udp), 0);
	for (int i = 0; i < 18; i++)
		CU_ASSERT_EQUAL(pl[i], 0xa0 + i);
}

/* ----------------------------------------------------------------- tests */

static void
check_arp_reply(struct rte_mbuf *m, const struct rte_ether_addr *gw_mac, uint32_t ip,
		const struct rte_ether_addr *asker, uint32_t asker_ip)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *ah = (struct rte_arp_hdr *)(eth + 1);

	check_eth(m, gw_mac, asker);
	CU_ASSERT_EQUAL(eth->ether_type, RTE_BE16(RTE_ETHER_TYPE_ARP));
	CU_ASSERT_EQUAL(ah->arp_hardware, RTE_BE16(RTE_ARP_HRD_ETHER));
	CU_ASSERT_EQUAL(ah->arp_protocol, RTE_BE16(RTE_ETHER_TYPE_IPV4));
	CU_ASSERT_EQUAL(ah->arp_hlen, 6);
	CU_ASSERT_EQUAL(ah->arp_plen, 4);
	CU_ASSERT_EQUAL(ah->arp_opcode, RTE_BE16(RTE_ARP_OP_REPLY));
	CU_ASSERT(rte_is_same_ether_addr(&ah->arp_data.arp_sha, gw_mac));
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ah->arp_data.arp_sip), ip);
	CU_ASSERT(rte_is_same_ether_addr(&ah->arp_data.arp_tha, asker));
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ah->arp_data.arp_tip), asker_ip);
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(m), 60);
}

static void
test_arp_gateway(void)
{
	reset();
	inject(0, mk_arp(&mac_c1, &mac_bcast, RTE_ARP_OP_REQUEST, ip_c1, ip_ga));
	run();
	check_arp_reply(only_on(0), &mac_ga, ip_ga, &mac_c1, ip_c1);
	CU_ASSERT_EQUAL(ctx->cnt.arp_replies, 1);
	/* A unicast refresh to the gateway MAC (Linux's NUD probe) is answered too. */
	inject(1, mk_arp(&mac_c2, &mac_ga, RTE_ARP_OP_REQUEST, ip_c2, ip_ga));
	run();
	check_arp_reply(only_on(1), &mac_ga, ip_ga, &mac_c2, ip_c2);
	/* So is an address probe (RFC 5227: sender 0.0.0.0). */
	inject(2, mk_arp(&mac_b1, &mac_bcast, RTE_ARP_OP_REQUEST, 0, ip_gb));
	run();
	check_arp_reply(only_on(2), &mac_gb, ip_gb, &mac_b1, 0);
	CU_ASSERT_EQUAL(ctx->cnt.arp_replies, 3);
	CU_ASSERT_EQUAL(ctx->cnt.stages[DP_STAGE_ARP].pkts, 3);
}

static void
test_arp_other_flooded(void)
{
	struct rte_arp_hdr *ah;

	reset();
	inject(0, mk_arp(&mac_c1, &mac_bcast, RTE_ARP_OP_REQUEST, ip_c1, ip_c2));
	run();
	ah = rte_pktmbuf_mtod_offset(only_on(1), struct rte_arp_hdr *, 14);
	CU_ASSERT_EQUAL(ah->arp_opcode, RTE_BE16(RTE_ARP_OP_REQUEST));
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ah->arp_data.arp_tip), ip_c2);
	CU_ASSERT_EQUAL(ctx->cnt.floods, 1);
	CU_ASSERT_EQUAL(ctx->cnt.arp_replies, 0);
	/* Another network's gateway is not proxied in a bridge network. */
	inject(0, mk_arp(&mac_c1, &mac_bcast, RTE_ARP_OP_REQUEST, ip_c1, ip_gb));
	run();
	CU_ASSERT_EQUAL(ngot[1], 1);
	CU_ASSERT_EQUAL(ctx->cnt.arp_replies, 0);
	/* Gratuitous ARP of a container is flooded like any broadcast. */
	inject(0, mk_arp(&mac_c1, &mac_bcast, RTE_ARP_OP_REQUEST, ip_c1, ip_c1));
	run();
	CU_ASSERT_EQUAL(ngot[1], 1);
	/* Gateways are untagged: a VLAN-tagged request for one floods, unanswered. */
	{
		struct rte_mbuf *m = mk_eth(&mac_c1, &mac_bcast, RTE_ETHER_TYPE_VLAN, 64);
		uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);

		p[14] = 0;
		p[15] = 5;                               /* VLAN 5 */
		p[16] = 0x08;                            /* ARP */
		p[17] = 0x06;
		ah = (struct rte_arp_hdr *)(p + 18);
		ah->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
		ah->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		ah->arp_hlen = 6;
		ah->arp_plen = 4;
		ah->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
		ah->arp_data.arp_sha = mac_c1;
		ah->arp_data.arp_sip = rte_cpu_to_be_32(ip_c1);
		ah->arp_data.arp_tip = rte_cpu_to_be_32(ip_ga);
		inject(0, m);
		run();
		CU_ASSERT_EQUAL(ngot[0], 0);
		CU_ASSERT_EQUAL(ngot[1], 1);
		CU_ASSERT_EQUAL(ctx->cnt.arp_replies, 0);
	}
}

static void
test_arp_ignored(void)
{
	reset();
	/* Someone claiming the gateway address, a reply to us, a request via our
	 * MAC for somebody else: nothing goes out, each is counted. */
	inject(0, mk_arp(&mac_c1, &mac_bcast, RTE_ARP_OP_REQUEST, ip_ga, ip_ga));
	inject(0, mk_arp(&mac_c1, &mac_ga, RTE_ARP_OP_REPLY, ip_c1, ip_ga));
	inject(0, mk_arp(&mac_c1, &mac_ga, RTE_ARP_OP_REQUEST, ip_c1, ip_c2));
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_ARP_IGNORED], 3);
	CU_ASSERT_EQUAL(ctx->cnt.arp_replies, 0);
}

static void
test_proxy_arp(void)
{
	reset();
	/* The host asks for a container: dpnet answers with the uplink's MAC. */
	inject(4, mk_arp(&mac_h, &mac_bcast, RTE_ARP_OP_REQUEST, ip_ga, ip_c1));
	run();
	check_arp_reply(only_on(4), &mac_gu, ip_c1, &mac_h, ip_ga);
	/* Addresses of any routed network, internal ones included. */
	inject(4, mk_arp(&mac_h, &mac_bcast, RTE_ARP_OP_REQUEST, ip_gi, ip_i1));
	run();
	check_arp_reply(only_on(4), &mac_gu, ip_i1, &mac_h, ip_gi);
	/* An outside address routes back to the uplink: not proxied, flooded (to
	 * nobody: the uplink is alone in its domain). */
	inject(4, mk_arp(&mac_h, &mac_bcast, RTE_ARP_OP_REQUEST, ip_ga, ip_out));
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_NO_PORT], 1);
	CU_ASSERT_EQUAL(ctx->cnt.arp_replies, 2);
}

static void
check_echo_reply(struct rte_mbuf *m, const struct rte_ether_addr *gw_mac, uint32_t gw_ip,
		 const struct rte_ether_addr *to_mac, uint32_t to_ip)
{
	struct rte_ipv4_hdr *ip = ip_of(m);
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(ip + 1);
	const uint8_t *pl = (const uint8_t *)(icmp + 1);

	check_eth(m, gw_mac, to_mac);
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(m), 14 + 20 + 8 + 56);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip->src_addr), gw_ip);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip->dst_addr), to_ip);
	CU_ASSERT_EQUAL(ip->next_proto_id, IPPROTO_ICMP);
	CU_ASSERT_EQUAL(ip->time_to_live, 64);
	CU_ASSERT_EQUAL(rte_be_to_cpu_16(ip->total_length), 20 + 8 + 56);
	check_ip_cksum(ip);
	CU_ASSERT_EQUAL(icmp->icmp_type, RTE_IP_ICMP_ECHO_REPLY);
	CU_ASSERT_EQUAL(icmp->icmp_code, 0);
	CU_ASSERT_EQUAL(rte_raw_cksum(icmp, 8 + 56), 0xFFFF);
	CU_ASSERT_EQUAL(icmp->icmp_ident, rte_cpu_to_be_16(0x4242));
	CU_ASSERT_EQUAL(icmp->icmp_seq_nb, rte_cpu_to_be_16(7));
	for (int i = 0; i < 56; i++)
		CU_ASSERT_EQUAL(pl[i], i);
}

static void
test_ping_gateway(void)
{
	reset();
	inject(0, mk_icmp(&mac_c1, &mac_ga, ip_c1, ip_ga, RTE_IP_ICMP_ECHO_REQUEST, 0));
	run();
	check_echo_reply(only_on(0), &mac_ga, ip_ga, &mac_c1, ip_c1);
	CU_ASSERT_EQUAL(ctx->cnt.icmp_echo_replies, 1);
	/* Another network's gateway is a local address too (the host's, in Docker). */
	inject(0, mk_icmp(&mac_c1, &mac_ga, ip_c1, ip_gb, RTE_IP_ICMP_ECHO_REQUEST, 0));
	run();
	check_echo_reply(only_on(0), &mac_ga, ip_gb, &mac_c1, ip_c1);
	/* From the internal network, its own gateway. */
	inject(3, mk_icmp(&mac_i1, &mac_gi, ip_i1, ip_gi, RTE_IP_ICMP_ECHO_REQUEST, 0));
	run();
	check_echo_reply(only_on(3), &mac_gi, ip_gi, &mac_i1, ip_i1);
	CU_ASSERT_EQUAL(ctx->cnt.icmp_echo_replies, 3);
	CU_ASSERT_EQUAL(ctx->cnt.routed, 0);
}

static void
test_route_to_uplink(void)
{
	struct rte_mbuf *m;

	reset();
	inject(0, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 64));
	run();
	m = only_on(4);
	check_eth(m, &mac_gu, &mac_h);
	check_routed_udp(m, ip_c1, ip_out, 63);
	CU_ASSERT_EQUAL(ctx->cnt.routed, 1);
	CU_ASSERT_EQUAL(ctx->cnt.stages[DP_STAGE_L3].pkts, 1);
	/* L3 found the port with the neighbour (route.c l3_nc_port): no l2out. */
	CU_ASSERT_EQUAL(ctx->cnt.stages[DP_STAGE_L2OUT].pkts, 0);
	/* TTL 2 still goes through, with 1 left. */
	inject(1, mk_udp(&mac_c2, &mac_ga, ip_c2, ip_out, 2));
	run();
	check_routed_udp(only_on(4), ip_c2, ip_out, 1);
}

static void
test_route_from_uplink(void)
{
	struct rte_mbuf *m;

	reset();
	inject(4, mk_udp(&mac_h, &mac_gu, ip_ga, ip_c1, 64));
	run();
	m = only_on(0);
	check_eth(m, &mac_ga, &mac_c1);
	check_routed_udp(m, ip_ga, ip_c1, 63);
	/* Into network B as well: the uplink reaches every bridge network. */
	inject(4, mk_udp(&mac_h, &mac_gu, ip_gb, ip_b1, 64));
	run();
	m = only_on(2);
	check_eth(m, &mac_gb, &mac_b1);
	check_routed_udp(m, ip_gb, ip_b1, 63);
	CU_ASSERT_EQUAL(ctx->cnt.routed, 2);
}

static void
test_isolation(void)
{
	reset();
	inject(0, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_b1, 64));
	inject(2, mk_udp(&mac_b1, &mac_gb, ip_b1, ip_c1, 64));
	inject(2, mk_icmp(&mac_b1, &mac_gb, ip_b1, ip_c2, RTE_IP_ICMP_ECHO_REQUEST, 0));
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_ISOLATED], 3);
	CU_ASSERT_EQUAL(ctx->cnt.ports[pids[0]].drops, 1);
	CU_ASSERT_EQUAL(ctx->cnt.ports[pids[2]].drops, 2);
	CU_ASSERT_EQUAL(ctx->cnt.icmp_errors, 0);
	/* Inside one network, through the gateway (a hairpin), routing is allowed. */
	inject(0, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_c2, 64));
	run();
	check_eth(only_on(1), &mac_ga, &mac_c2);
}

static void
test_internal(void)
{
	struct rte_mbuf *m;

	reset();
	/* No way out of an internal network ... */
	inject(3, mk_udp(&mac_i1, &mac_gi, ip_i1, ip_out, 64));
	/* ... nor to another network's gateway address ... */
	inject(3, mk_udp(&mac_i1, &mac_gi, ip_i1, ip_ga, 64));
	/* ... nor in from the outside, unless from the host's own address there. */
	inject(4, mk_udp(&mac_h, &mac_gu, ip_out, ip_i1, 64));
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_INTERNAL], 3);
	inject(4, mk_udp(&mac_h, &mac_gu, ip_gi, ip_i1, 64));
	run();
	m = only_on(3);
	check_eth(m, &mac_gi, &mac_i1);
	check_routed_udp(m, ip_gi, ip_i1, 63);
	/* Its own gateway address reaches the host that owns it. */
	inject(3, mk_udp(&mac_i1, &mac_gi, ip_i1, ip_gi, 64));
	run();
	m = only_on(4);
	check_eth(m, &mac_gu, &mac_h);
	check_routed_udp(m, ip_i1, ip_gi, 64);
}

static void
test_gateway_local(void)
{
	struct rte_mbuf *m;

	reset();
	/* To the gateway, not a ping: handed to the host unchanged but for the MACs. */
	inject(0, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_ga, 64));
	inject(2, mk_udp(&mac_b1, &mac_gb, ip_b1, ip_ga, 1));
	run();
	CU_ASSERT_EQUAL(ngot[4], 2);
	CU_ASSERT_EQUAL(total_out(), 2);
	m = got[4][0];
	check_eth(m, &mac_gu, &mac_h);
	check_routed_udp(m, ip_c1, ip_ga, 64);
	/* A TTL of 1 is no obstacle for a local address. */
	check_routed_udp(got[4][1], ip_b1, ip_ga, 1);
	/* Without an uplink there is nobody to hand it to. */
	setup_view(false);
	inject(0, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_ga, 64));
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_GATEWAY_LOCAL], 1);
	/* Pings are still answered. */
	inject(0, mk_icmp(&mac_c1, &mac_ga, ip_c1, ip_ga, RTE_IP_ICMP_ECHO_REQUEST, 0));
	run();
	check_echo_reply(only_on(0), &mac_ga, ip_ga, &mac_c1, ip_c1);
	setup_view(true);
	/* From the uplink itself a gateway address is not handed back. */
	inject(4, mk_udp(&mac_h, &mac_gu, ip_out, ip_ga, 64));
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_GATEWAY_LOCAL], 2);
}

/* An ICMP error of type/code from gw to the sender, quoting orig (IP header + 8). */
static void
check_icmp_error(struct rte_mbuf *m, uint8_t type, uint8_t code,
		 const struct rte_ether_addr *gw_mac, uint32_t gw_ip,
		 const struct rte_ether_addr *to_mac, uint32_t to_ip, const uint8_t *orig_ip)
{
	struct rte_ipv4_hdr *ip = ip_of(m);
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(ip + 1);
	const uint8_t *quoted = (const uint8_t *)(icmp + 1);

	check_eth(m, gw_mac, to_mac);
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(m), 14 + 20 + 8 + 28);
	CU_ASSERT_EQUAL(m->nb_segs, 1);
	CU_ASSERT_EQUAL(rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->ether_type,
			RTE_BE16(RTE_ETHER_TYPE_IPV4));
	CU_ASSERT_EQUAL(ip->version_ihl, RTE_IPV4_VHL_DEF);
	CU_ASSERT_EQUAL(rte_be_to_cpu_16(ip->total_length), 20 + 8 + 28);
	CU_ASSERT_EQUAL(ip->next_proto_id, IPPROTO_ICMP);
	CU_ASSERT_EQUAL(ip->time_to_live, 64);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip->src_addr), gw_ip);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip->dst_addr), to_ip);
	CU_ASSERT_EQUAL(ip->fragment_offset, 0);
	check_ip_cksum(ip);
	CU_ASSERT_EQUAL(icmp->icmp_type, type);
	CU_ASSERT_EQUAL(icmp->icmp_code, code);
	CU_ASSERT_EQUAL(icmp->icmp_ident, 0);
	CU_ASSERT_EQUAL(icmp->icmp_seq_nb, 0);
	CU_ASSERT_EQUAL(rte_raw_cksum(icmp, 8 + 28), 0xFFFF);
	/* The offending header exactly as it arrived, then its first 8 bytes. */
	CU_ASSERT_EQUAL(memcmp(quoted, orig_ip, 28), 0);
}

static void
test_no_route_unreachable(void)
{
	uint8_t orig[28];
	struct rte_mbuf *m;

	reset();
	CU_ASSERT_EQUAL(l3_route_del(dp, 0, 0), 0);
	m = mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 64);
	memcpy(orig, ip_of(m), sizeof(orig));
	inject(0, m);
	run();
	check_icmp_error(only_on(0), 3, 0, &mac_ga, ip_ga, &mac_c1, ip_c1, orig);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_NO_ROUTE], 1);
	CU_ASSERT_EQUAL(ctx->cnt.ports[pids[0]].drops, 1);
	CU_ASSERT_EQUAL(ctx->cnt.icmp_errors, 1);
	/* An ICMP error about an error is never sent; an echo request gets one. */
	inject(0, mk_icmp(&mac_c1, &mac_ga, ip_c1, ip_out, 3, 1));
	inject(0, mk_icmp(&mac_c1, &mac_ga, ip_c1, ip_out, 11, 0));
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	m = mk_icmp(&mac_c1, &mac_ga, ip_c1, ip_out, RTE_IP_ICMP_ECHO_REQUEST, 0);
	memcpy(orig, ip_of(m), sizeof(orig));
	inject(0, m);
	run();
	check_icmp_error(only_on(0), 3, 0, &mac_ga, ip_ga, &mac_c1, ip_c1, orig);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_NO_ROUTE], 4);
	CU_ASSERT_EQUAL(ctx->cnt.icmp_errors, 2);
	/* A blackhole route counts as no route and answers the same way. */
	struct l3_nexthop bh = {.type = L3_NH_BLACKHOLE};
	CU_ASSERT_EQUAL(l3_route_add(dp, IP4(8, 8, 8, 0), 24, &bh), 0);
	CU_ASSERT_EQUAL(l3_route_add(dp, 0, 0, &std_routes[3].nh), 0);
	inject(0, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 64));
	run();
	CU_ASSERT_EQUAL(ngot[0], 1);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_NO_ROUTE], 5);
	CU_ASSERT_EQUAL(l3_route_del(dp, IP4(8, 8, 8, 0), 24), 0);
	/* The uplink domain has no gateway address: nothing to answer from. */
	CU_ASSERT_EQUAL(l3_route_del(dp, 0, 0), 0);
	inject(4, mk_udp(&mac_h, &mac_gu, ip_ga, IP4(10, 1, 2, 3), 64));
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_NO_ROUTE], 6);
	CU_ASSERT_EQUAL(ctx->cnt.icmp_errors, 3);
}

static void
test_ttl_exceeded(void)
{
	uint8_t orig[28];
	struct rte_mbuf *m;

	reset();
	for (uint8_t ttl = 0; ttl <= 1; ttl++) {
		m = mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, ttl);
		memcpy(orig, ip_of(m), sizeof(orig));
		inject(0, m);
		run();
		check_icmp_error(only_on(0), 11, 0, &mac_ga, ip_ga, &mac_c1, ip_c1, orig);
	}
	/* The error comes from the ingress network's gateway address ... */
	inject(2, mk_udp(&mac_b1, &mac_gb, ip_b1, ip_out, 1));
	run();
	m = only_on(2);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip_of(m)->src_addr), ip_gb);
	/* ... so none goes to the uplink, which has no gateway address. */
	inject(4, mk_udp(&mac_h, &mac_gu, ip_ga, ip_c1, 1));
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_TTL_EXCEEDED], 4);
	CU_ASSERT_EQUAL(ctx->cnt.icmp_errors, 3);
}

/* Frames from c1 to a non-routed address through parse, bridge and l3 directly,
 * at an injected time; returns how many became ICMP errors. */
static unsigned int
errors_at(uint64_t now, uint16_t n)
{
	struct rte_mbuf *pkts[64];
	unsigned int tx = 0;

	ctx->view = dp_view_get(dp);
	ctx->now_tsc = now;
	ctx->rx_port = pids[0];
	ctx->rx_domain = DOM_A;
	for (uint16_t i = 0; i < n; i++)
		pkts[i] = mk_udp(&mac_c1, &mac_ga, ip_c1, IP4(10, 9, 9, 9), 64);
	parse_stage(ctx, pkts, n);
	br_stage(ctx, pkts, n);
	l3_stage(ctx, pkts, n);
	for (uint16_t i = 0; i < n; i++) {
		struct pkt_meta *meta = pkt_meta(pkts[i]);

		if (meta->next == PL_NEXT_TX)
			tx++;
		else
			CU_ASSERT(meta->next == PL_NEXT_DROP &&
				  meta->drop_reason == DP_DROP_NO_ROUTE);
	}
	if (n)
		rte_pktmbuf_free_bulk(pkts, n);
	return tx;
}

static void
test_rate_limit(void)
{
	uint64_t hz = rte_get_tsc_hz();
	uint64_t t = 1000 * hz;

	reset();
	CU_ASSERT_EQUAL(l3_route_del(dp, 0, 0), 0);
	CU_ASSERT_EQUAL(l3_icmp_rate_set(dp, 100, 10), 0);
	/* A full bucket: 10 at once, then nothing at the same instant. */
	CU_ASSERT_EQUAL(errors_at(t, 33), 10);
	CU_ASSERT_EQUAL(errors_at(t, 5), 0);
	CU_ASSERT_EQUAL(ctx->cnt.icmp_ratelimited, 28);
	/* 100/s: 50 ms later, 5 more. */
	CU_ASSERT_EQUAL(errors_at(t + hz / 20, 32), 5);
	/* A long pause refills to the burst, not beyond. */
	CU_ASSERT_EQUAL(errors_at(t + 100 * hz, 64), 10);
	/* Over one simulated second, 100 plus the initial burst at most. */
	unsigned int sent = 0;
	for (unsigned int ms = 1; ms <= 1000; ms++)
		sent += errors_at(t + 200 * hz + ms * hz / 1000, 1);
	CU_ASSERT(sent >= 99 && sent <= 110);
	/* Rate 0 sends none; and through the real loop a burst stays bounded. */
	CU_ASSERT_EQUAL(l3_icmp_rate_set(dp, 0, 0), 0);
	CU_ASSERT_EQUAL(errors_at(t + 500 * hz, 4), 0);
	CU_ASSERT_EQUAL(l3_icmp_rate_set(dp, 100, 10), 0);
	CU_ASSERT_EQUAL(l3_icmp_rate_set(dp, 100, 0), -EINVAL);
	ctx->icmp_credit_tsc = 0;
	ctx->icmp_last_tsc = 0;
	for (int i = 0; i < 32; i++)
		inject(0, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 64));
	run();
	CU_ASSERT(ngot[0] >= 10 && ngot[0] <= 11);
	CU_ASSERT_EQUAL(total_out(), ngot[0]);
	CU_ASSERT_EQUAL(l3_route_add(dp, 0, 0, &std_routes[3].nh), 0);
}

static void
test_unknown_neighbour(void)
{
	reset();
	/* On a connected network, an address nobody was given. */
	inject(0, mk_udp(&mac_c1, &mac_ga, ip_c1, IP4(172, 17, 0, 99), 64));
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_NO_NEIGHBOUR], 1);
	/* The default route's gateway forgotten. */
	CU_ASSERT_EQUAL(l3_neigh_del(dp, DOM_U, ip_ga), 0);
	CU_ASSERT_EQUAL(l3_neigh_del(dp, DOM_U, ip_ga), -ENOENT);
	inject(0, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 64));
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_NO_NEIGHBOUR], 2);
	CU_ASSERT_EQUAL(ctx->cnt.routed, 0);
}

/* Is the neighbour (dom, ip) in the worker's neighbour cache (route.c)? */
static bool
nh_cached(uint16_t dom, uint32_t ip)
{
	for (unsigned int i = 0; i < DP_NH_CACHE; i++)
		if (ctx->nhc[i].key == l3_neigh_key(dom, ip))
			return true;
	return false;
}

/* The workers' neighbour cache: a MAC that control changes or removes is
 * what the very next packet sees; an unchanged MAC re-added keeps the cache. */
static void
test_neigh_change(void)
{
	uint32_t gen;

	reset();
	for (int i = 0; i < 2; i++) {
		inject(0, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 64));
		run();
		check_eth(only_on(4), &mac_gu, &mac_h);
		CU_ASSERT(nh_cached(DOM_U, ip_ga));
	}
	gen = dp->l3->neigh_gen;
	CU_ASSERT_EQUAL(l3_neigh_add(dp, DOM_U, ip_ga, &mac_h), 0);
	CU_ASSERT_EQUAL(dp->l3->neigh_gen, gen);
	CU_ASSERT_EQUAL(l3_neigh_add(dp, DOM_U, ip_ga, &mac_h2), 0);
	CU_ASSERT_NOT_EQUAL(dp->l3->neigh_gen, gen);
	inject(0, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 64));
	run();
	check_eth(only_on(4), &mac_gu, &mac_h2);
	/* Removed: dropped at once (the uplink's domain does not resolve). */
	CU_ASSERT_EQUAL(l3_neigh_del(dp, DOM_U, ip_ga), 0);
	inject(0, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 64));
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_NO_NEIGHBOUR], 1);
	/* Back, with its first MAC. */
	CU_ASSERT_EQUAL(l3_neigh_add(dp, DOM_U, ip_ga, &mac_h), 0);
	inject(0, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 64));
	run();
	check_eth(only_on(4), &mac_gu, &mac_h);
	CU_ASSERT_EQUAL(ctx->cnt.routed, 4);
}

/* The output port L3 caches with a neighbour (route.c l3_nc_port) follows the
 * MAC table: a MAC that moves is followed, one that goes is flooded (l2out). */
static void
test_nc_port_follows_fdb(void)
{
	reset();
	inject(4, mk_udp(&mac_h, &mac_gu, ip_out, ip_c1, 64));
	run();
	check_routed_udp(only_on(0), ip_out, ip_c1, 63);
	inject(4, mk_udp(&mac_h, &mac_gu, ip_out, ip_c1, 64));
	run();
	only_on(0);
	CU_ASSERT_EQUAL(ctx->cnt.stages[DP_STAGE_L2OUT].pkts, 0);
	/* c1 moves to port 1. */
	CU_ASSERT_EQUAL(fdb_add(dp->fdb, DOM_A, &mac_c1, pids[1], true, rte_rdtsc()), 0);
	inject(4, mk_udp(&mac_h, &mac_gu, ip_out, ip_c1, 64));
	run();
	check_routed_udp(only_on(1), ip_out, ip_c1, 63);
	/* c1 forgotten: flooded in network A (ports 0 and 1) by l2out. */
	CU_ASSERT_EQUAL(fdb_del(dp->fdb, DOM_A, &mac_c1), 0);
	inject(4, mk_udp(&mac_h, &mac_gu, ip_out, ip_c1, 64));
	run();
	CU_ASSERT_EQUAL(ngot[0], 1);
	CU_ASSERT_EQUAL(ngot[1], 1);
	CU_ASSERT_EQUAL(total_out(), 2);
	CU_ASSERT_EQUAL(ctx->cnt.stages[DP_STAGE_L2OUT].pkts, 1);
	/* Back on port 0. */
	CU_ASSERT_EQUAL(fdb_add(dp->fdb, DOM_A, &mac_c1, pids[0], true, rte_rdtsc()), 0);
	inject(4, mk_udp(&mac_h, &mac_gu, ip_out, ip_c1, 64));
	run();
	only_on(0);
	CU_ASSERT_EQUAL(ctx->cnt.routed, 5);
}

/* Two neighbours whose keys share a slot of the worker's neighbour cache, in
 * one burst: each frame gets its own neighbour's MAC and port. */
static void
test_nc_collision(void)
{
	static const struct rte_ether_addr mx = {{0x02, 0x42, 0xac, 0x11, 0x02, 0x01}};
	static const struct rte_ether_addr my = {{0x02, 0x42, 0xac, 0x11, 0x02, 0x02}};
	uint32_t ipx = IP4(172, 17, 2, 1), ipy = 0;
	uint32_t slot = rte_hash_crc_8byte(l3_neigh_key(DOM_A, ipx), 0) & (DP_NH_CACHE - 1);
	uint64_t now = rte_rdtsc();

	reset();
	for (uint32_t i = 2; i < 60000 && ipy == 0; i++) {   /* inside 172.17/16 */
		uint32_t ip = IP4(172, 17, 2, 0) + i;

		if ((rte_hash_crc_8byte(l3_neigh_key(DOM_A, ip), 0) & (DP_NH_CACHE - 1)) == slot)
			ipy = ip;
	}
	CU_ASSERT_FATAL(ipy != 0);
	CU_ASSERT_EQUAL(l3_neigh_add(dp, DOM_A, ipx, &mx), 0);
	CU_ASSERT_EQUAL(l3_neigh_add(dp, DOM_A, ipy, &my), 0);
	CU_ASSERT_EQUAL(fdb_add(dp->fdb, DOM_A, &mx, pids[0], true, now), 0);
	CU_ASSERT_EQUAL(fdb_add(dp->fdb, DOM_A, &my, pids[1], true, now), 0);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 4; i++)
			inject(4, mk_udp(&mac_h, &mac_gu, ip_out, i & 1 ? ipy : ipx, 64));
		run();
		CU_ASSERT_EQUAL(total_out(), 4);
		CU_ASSERT_EQUAL_FATAL(ngot[0], 2);
		CU_ASSERT_EQUAL_FATAL(ngot[1], 2);
		for (int i = 0; i < 2; i++) {
			check_eth(got[0][i], &mac_ga, &mx);
			check_routed_udp(got[0][i], ip_out, ipx, 63);
			check_eth(got[1][i], &mac_ga, &my);
			check_routed_udp(got[1][i], ip_out, ipy, 63);
		}
	}
	CU_ASSERT_EQUAL(l3_neigh_del(dp, DOM_A, ipx), 0);
	CU_ASSERT_EQUAL(l3_neigh_del(dp, DOM_A, ipy), 0);
	CU_ASSERT_EQUAL(fdb_del(dp->fdb, DOM_A, &mx), 0);
	CU_ASSERT_EQUAL(fdb_del(dp->fdb, DOM_A, &my), 0);
}

/* Stands for a vtap in a queue of the view: this suite installs no vtap
 * operations (dp->vtap), so nothing reads through it. */
static uint8_t fake_vtap;

/*
 * worker.c: a vtap queue (read by a system call; here port 2's ring, marked
 * as one) that was found empty is read again only after a back-off while the
 * worker is busy - and every queue is read in a loop that follows an idle
 * one, so a frame waits at most until the traffic stops.
 */
static void
test_slow_queue_backoff(void)
{
	struct dp_view *v;
	uint16_t sq = UINT16_MAX;

	reset();
	v = dp_view_clone(dp);
	for (uint16_t q = 0; q < v->n_rxq[0]; q++)
		if (v->rxq[0][q].port_id == pids[2]) {
			v->rxq[0][q].vtap = (struct vtap *)(void *)&fake_vtap;
			sq = q;
		}
	CU_ASSERT_FATAL(sq != UINT16_MAX);
	dp_view_publish(dp, v);
	/* Busy (c1 -> c2 bridged), port 2 found empty: it backs off. */
	inject(0, mk_udp(&mac_c1, &mac_c2, ip_c1, ip_c2, 64));
	run();
	only_on(1);
	CU_ASSERT(ctx->last_busy);
	CU_ASSERT(ctx->sq_back[sq] >= 1);
	/* Its next read far away: a frame on it waits while port 0 is busy ... */
	ctx->sq_next[sq] = ctx->now_tsc + rte_get_tsc_hz();
	inject(2, mk_udp(&mac_b1, &mac_gb, ip_b1, ip_out, 64));
	inject(0, mk_udp(&mac_c1, &mac_c2, ip_c1, ip_c2, 64));
	run();
	only_on(1);
	CU_ASSERT_EQUAL(ctx->cnt.ports[pids[2]].rx_pkts, 0);
	/* ... the loop after still skips it (the last one was busy) and finds
	 * nothing: idle ... */
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(ctx->cnt.ports[pids[2]].rx_pkts, 0);
	CU_ASSERT(!ctx->last_busy);
	/* ... so the next reads every queue: routed out the uplink. */
	run();
	CU_ASSERT_EQUAL(ctx->cnt.ports[pids[2]].rx_pkts, 1);
	check_routed_udp(only_on(4), ip_b1, ip_out, 63);
	/* A read that finds frames ends the back-off. */
	CU_ASSERT_EQUAL(ctx->sq_back[sq], 0);
	/* A plain queue never backs off. */
	CU_ASSERT_EQUAL(ctx->sq_back[0], 0);
	setup_view(true);
}

static int
count_route(uint32_t prefix, uint8_t len, const struct l3_nexthop *nh, void *arg)
{
	RTE_SET_USED(prefix);
	RTE_SET_USED(len);
	RTE_SET_USED(nh);
	(*(unsigned int *)arg)++;
	return 0;
}

static void
test_route_runtime(void)
{
	struct l3_nexthop via_h = {.type = L3_NH_GATEWAY, .domain = DOM_U, .gw_ip = ip_ga};
	struct l3_nexthop via_h2 = {.type = L3_NH_GATEWAY, .domain = DOM_U,
				    .gw_ip = IP4(10, 99, 0, 1)};
	struct l3_nexthop bh = {.type = L3_NH_BLACKHOLE};
	unsigned int n = 0;

	reset();
	CU_ASSERT_EQUAL(l3_route_del(dp, 0, 0), 0);
	l3_route_walk(dp, count_route, &n);
	CU_ASSERT_EQUAL(n, 3);
	inject(0, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 64));
	run();
	CU_ASSERT_EQUAL(ngot[0], 1);                 /* unreachable */
	CU_ASSERT_EQUAL(l3_route_add(dp, IP4(8, 8, 8, 0), 24, &via_h), 0);
	CU_ASSERT_EQUAL(l3_route_add(dp, IP4(8, 8, 8, 0), 24, &via_h), -EEXIST);
	inject(0, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 64));
	run();
	check_eth(only_on(4), &mac_gu, &mac_h);
	/* A more specific route wins; deleting it restores the /24. */
	CU_ASSERT_EQUAL(l3_route_add(dp, IP4(8, 8, 8, 8), 32, &bh), 0);
	inject(0, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 64));
	run();
	CU_ASSERT_EQUAL(ngot[0], 1);
	CU_ASSERT_EQUAL(ngot[4], 0);
	CU_ASSERT_EQUAL(l3_route_del(dp, IP4(8, 8, 8, 8), 32), 0);
	inject(0, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 64));
	run();
	CU_ASSERT_EQUAL(ngot[4], 1);
	/* Changing a route: delete, add with another next hop (and neighbour). */
	CU_ASSERT_EQUAL(l3_neigh_add(dp, DOM_U, IP4(10, 99, 0, 1), &mac_h2), 0);
	CU_ASSERT_EQUAL(l3_route_del(dp, IP4(8, 8, 8, 0), 24), 0);
	CU_ASSERT_EQUAL(l3_route_add(dp, IP4(8, 8, 8, 0), 24, &via_h2), 0);
	inject(0, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 64));
	run();
	check_eth(only_on(4), &mac_gu, &mac_h2);    /* flooded: h2 is not in the MAC table */
	CU_ASSERT_EQUAL(ctx->cnt.floods, 1);
	CU_ASSERT_EQUAL(l3_route_del(dp, IP4(8, 8, 8, 0), 24), 0);
	CU_ASSERT_EQUAL(l3_route_del(dp, IP4(8, 8, 8, 0), 24), -ENOENT);
	CU_ASSERT_EQUAL(l3_neigh_del(dp, DOM_U, IP4(10, 99, 0, 1)), 0);
	/* Bad arguments. */
	CU_ASSERT_EQUAL(l3_route_add(dp, IP4(8, 8, 8, 1), 24, &via_h), -EINVAL);
	CU_ASSERT_EQUAL(l3_route_add(dp, 0, 33, &via_h), -EINVAL);
	via_h.domain = DP_MAX_DOMAINS;
	CU_ASSERT_EQUAL(l3_route_add(dp, IP4(9, 0, 0, 0), 8, &via_h), -EINVAL);
	via_h.domain = DOM_U;
	via_h.gw_ip = 0;
	CU_ASSERT_EQUAL(l3_route_add(dp, IP4(9, 0, 0, 0), 8, &via_h), -EINVAL);
	/* Many changes: next-hop slots are recycled, never exhausted. */
	via_h.gw_ip = ip_ga;
	for (unsigned int i = 0; i < 3 * L3_MAX_ROUTES; i++) {
		uint32_t p = IP4(10, 200, (i % 256), 0);

		CU_ASSERT_EQUAL(l3_route_add(dp, p, 24, &via_h), 0);
		CU_ASSERT_EQUAL(l3_route_del(dp, p, 24), 0);
	}
	/* The table fills up to L3_MAX_ROUTES and no further. */
	unsigned int added = 0;
	for (unsigned int i = 0; i < L3_MAX_ROUTES + 5; i++)
		if (l3_route_add(dp, IP4(11, i >> 8, i & 0xFF, 0), 24, &via_h) == 0)
			added++;
	CU_ASSERT_EQUAL(added, L3_MAX_ROUTES - 3);
	CU_ASSERT_EQUAL(l3_route_add(dp, IP4(12, 0, 0, 0), 8, &via_h), -ENOSPC);
	for (unsigned int i = 0; i < added; i++)
		CU_ASSERT_EQUAL(l3_route_del(dp, IP4(11, i >> 8, i & 0xFF, 0), 24), 0);
	n = 0;
	l3_route_walk(dp, count_route, &n);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_EQUAL(l3_route_add(dp, 0, 0, &std_routes[3].nh), 0);
}

static int
find_neigh(uint16_t domain, uint32_t ip, const struct rte_ether_addr *mac, void *arg)
{
	if (domain == DOM_B && ip == ip_b1 && rte_is_same_ether_addr(mac, &mac_b1))
		*(int *)arg = 1;
	return 0;
}

static void
test_neigh_api(void)
{
	uint32_t n0;
	int found = 0;

	reset();
	n0 = l3_neigh_count(dp);
	CU_ASSERT_EQUAL(n0, 8);
	l3_neigh_walk(dp, find_neigh, &found);
	CU_ASSERT_EQUAL(found, 1);
	/* Replacing a MAC takes effect for the next frame and adds no entry. */
	CU_ASSERT_EQUAL(l3_neigh_add(dp, DOM_U, ip_ga, &mac_h2), 0);
	CU_ASSERT_EQUAL(l3_neigh_count(dp), n0);
	inject(0, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 64));
	run();
	check_eth(only_on(4), &mac_gu, &mac_h2);
	CU_ASSERT_EQUAL(l3_neigh_add(dp, DOM_U, ip_ga, &mac_h), 0);
	CU_ASSERT_EQUAL(l3_neigh_add(dp, DP_MAX_DOMAINS, ip_ga, &mac_h), -EINVAL);
	CU_ASSERT_EQUAL(l3_neigh_add(dp, DOM_U, 0, &mac_h), -EINVAL);
	CU_ASSERT_EQUAL(l3_neigh_add(dp, DOM_U, ip_ga, &mac_bcast), -EINVAL);
	CU_ASSERT_EQUAL(l3_neigh_add(dp, DOM_U, ip_ga, &mac_zero), -EINVAL);
	/* The same address in two domains is two neighbours. */
	CU_ASSERT_EQUAL(l3_neigh_add(dp, DOM_B, ip_c1, &mac_c2), 0);
	CU_ASSERT_EQUAL(l3_neigh_count(dp), n0 + 1);
	CU_ASSERT_EQUAL(l3_neigh_del(dp, DOM_B, ip_c1), 0);
	CU_ASSERT_EQUAL(l3_neigh_count(dp), n0);
	/* Deleted and added again, many times: slots come back. */
	for (unsigned int i = 0; i < 1000; i++) {
		CU_ASSERT_EQUAL(l3_neigh_add(dp, DOM_B, IP4(172, 18, 1, i & 0xFF), &mac_b1), 0);
		CU_ASSERT_EQUAL(l3_neigh_del(dp, DOM_B, IP4(172, 18, 1, i & 0xFF)), 0);
	}
	CU_ASSERT_EQUAL(l3_neigh_count(dp), n0);
}

/* Full recomputation as a reference: RFC 791's definition. */
static uint16_t
ref_cksum(struct rte_ipv4_hdr *ip)
{
	rte_be16_t saved = ip->hdr_checksum;
	uint16_t c;

	ip->hdr_checksum = 0;
	c = rte_ipv4_cksum(ip);
	ip->hdr_checksum = saved;
	return c;
}

static void
test_cksum_incremental(void)
{
	static const uint16_t edges[] = {0xFEFF, 0xFF00, 0xFEFE, 0xFFFE, 0x0000, 0x00FF,
					 0xFF01, 0xFFFD};
	uint8_t buf[60];
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)buf;
	unsigned int edge_hits = 0;

	rte_srand(12345);
	for (unsigned int i = 0; i < 10000; i++) {
		unsigned int ihl = 5 + (unsigned int)(rte_rand() % 11);

		for (unsigned int b = 0; b < sizeof(buf); b++)
			buf[b] = (uint8_t)rte_rand();
		ip->version_ihl = (uint8_t)(0x40 | ihl);
		ip->time_to_live = (uint8_t)(2 + rte_rand() % 254);
		/* Every 8th header gets a checksum where + 0x0100 wraps (or nearly):
		 * raising the id word by d (one's complement) lowers the checksum by d. */
		if (i % 8 == 0) {
			uint16_t want = edges[(i / 8) % RTE_DIM(edges)];
			uint16_t have = rte_be_to_cpu_16(ref_cksum(ip));
			uint32_t d = (uint32_t)have + (uint16_t)~want;
			uint32_t id;

			d = (d & 0xFFFF) + (d >> 16);
			id = rte_be_to_cpu_16(ip->packet_id) + d;
			id = (id & 0xFFFF) + (id >> 16);
			ip->packet_id = rte_cpu_to_be_16((uint16_t)id);
			if (rte_be_to_cpu_16(ref_cksum(ip)) == want)
				edge_hits++;
		}
		ip->hdr_checksum = ref_cksum(ip);
		CU_ASSERT_FATAL(ipv4_cksum_valid(ip));
		l3_ttl_dec(ip);
		CU_ASSERT_EQUAL(ip->hdr_checksum, ref_cksum(ip));
		CU_ASSERT(ipv4_cksum_valid(ip));

		/* The general one-word update agrees too (the id field here). */
		rte_be16_t old = ip->packet_id, new = (rte_be16_t)rte_rand();

		ip->packet_id = new;
		ip->hdr_checksum = cksum_adjust16(ip->hdr_checksum, old, new);
		CU_ASSERT(ipv4_cksum_valid(ip));
	}
	/* The edge cases were really exercised (most adjustments land exactly). */
	CU_ASSERT(edge_hits > 10000 / 8 / 2);
}

/* Bursts of every loop shape through parse, bridge, nat, l3 and l2out directly. */
static void
test_burst_sizes(void)
{
	static const uint16_t sizes[] = {0, 1, 3, 4, 5, 32, 33};
	struct rte_mbuf *pkts[40];

	reset();
	ctx->view = dp_view_get(dp);
	ctx->now_tsc = rte_rdtsc();
	ctx->rx_port = pids[0];
	ctx->rx_domain = DOM_A;
	for (unsigned int s = 0; s < RTE_DIM(sizes); s++) {
		uint16_t n = sizes[s];

		for (uint16_t i = 0; i < n; i++)
			pkts[i] = mk_udp(&mac_c1, &mac_ga, ip_c1, IP4(8, 8, 4, (uint8_t)i), 64);
		CU_ASSERT_EQUAL(parse_stage(ctx, pkts, n), n);
		CU_ASSERT_EQUAL(br_stage(ctx, pkts, n), n);
		for (uint16_t i = 0; i < n; i++)
			CU_ASSERT_EQUAL(pkt_meta(pkts[i])->next, PL_NEXT_NAT);
		CU_ASSERT_EQUAL(nat_stage(ctx, pkts, n), n);
		for (uint16_t i = 0; i < n; i++)
			CU_ASSERT_EQUAL(pkt_meta(pkts[i])->next, PL_NEXT_L3);
		CU_ASSERT_EQUAL(l3_stage(ctx, pkts, n), n);
		for (uint16_t i = 0; i < n; i++) {
			/* The neighbour's port came with it (route.c l3_nc_port). */
			CU_ASSERT_EQUAL(pkt_meta(pkts[i])->next, PL_NEXT_TX);
			CU_ASSERT_EQUAL(pkt_meta(pkts[i])->out_port, pids[4]);
			CU_ASSERT_EQUAL(pkt_meta(pkts[i])->domain, DOM_U);
			CU_ASSERT(pkt_meta(pkts[i])->flags & PKT_F_ROUTED);
		}
		/* l2out decides the same for them. */
		CU_ASSERT_EQUAL(l2out_stage(ctx, pkts, n), n);
		for (uint16_t i = 0; i < n; i++) {
			struct pkt_meta *meta = pkt_meta(pkts[i]);

			CU_ASSERT_EQUAL(meta->next, PL_NEXT_TX);
			CU_ASSERT_EQUAL(meta->out_port, pids[4]);
			CU_ASSERT_EQUAL(ip_of(pkts[i])->time_to_live, 63);
			CU_ASSERT(ipv4_cksum_valid(ip_of(pkts[i])));
			check_eth(pkts[i], &mac_gu, &mac_h);
		}
		if (n)
			rte_pktmbuf_free_bulk(pkts, n);
	}
	/* A mixed burst through the real loop: each frame where it belongs. */
	inject(0, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 64));                   /* routed */
	inject(0, mk_udp(&mac_c1, &mac_c2, ip_c1, ip_c2, 64));                    /* bridged */
	inject(0, mk_arp(&mac_c1, &mac_bcast, RTE_ARP_OP_REQUEST, ip_c1, ip_ga)); /* ARP */
	inject(0, mk_icmp(&mac_c1, &mac_ga, ip_c1, ip_ga, RTE_IP_ICMP_ECHO_REQUEST, 0));
	inject(0, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_b1, 64));                    /* isolated */
	run();
	CU_ASSERT_EQUAL(ngot[4], 1);
	CU_ASSERT_EQUAL(ngot[1], 1);
	CU_ASSERT_EQUAL(ngot[0], 2);
	CU_ASSERT_EQUAL(total_out(), 4);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_ISOLATED], 1);
}

static void
test_routed_output(void)
{
	struct rte_mbuf *m;

	reset();
	/* Destination behind the ingress port (c4 shares port 0 with c1): a routed
	 * frame may go back out where it came from. */
	inject(0, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_c4, 64));
	run();
	m = only_on(0);
	check_eth(m, &mac_ga, &mac_c4);
	check_routed_udp(m, ip_c1, ip_c4, 63);
	/* Unknown in the output domain's MAC table: flooded there, never back out the
	 * ingress port. */
	fdb_flush_domain(dp->fdb, DOM_A);
	inject(0, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_c2, 64));
	run();
	check_eth(only_on(1), &mac_ga, &mac_c2);
	fdb_flush_domain(dp->fdb, DOM_A);
	inject(4, mk_udp(&mac_h, &mac_gu, ip_ga, ip_c2, 64));
	run();
	CU_ASSERT_EQUAL(ngot[0], 1);
	CU_ASSERT_EQUAL(ngot[1], 1);
	CU_ASSERT_EQUAL(total_out(), 2);
	CU_ASSERT_EQUAL(ctx->cnt.floods, 2);
	/* The dispatcher never leaks the flood's references. */
	run();
	release();
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(dp->pool), 0);
}

static void
test_not_routable(void)
{
	struct rte_mbuf *m;

	reset();
	m = mk_eth(&mac_c1, &mac_ga, RTE_ETHER_TYPE_IPV6, 14 + 40 + 8);
	{
		uint8_t *p = rte_pktmbuf_mtod_offset(m, uint8_t *, 14);

		p[0] = 0x60;
		p[5] = 8;      /* payload length */
		p[6] = 59;     /* no next header */
		p[7] = 64;
	}
	inject(0, m);
	m = mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 64);
	ip_of(m)->hdr_checksum ^= 0x0101;
	inject(0, m);
	inject(0, mk_udp(&mac_c1, &mac_ga, ip_c1, IP4(255, 255, 255, 255), 64));
	inject(0, mk_udp(&mac_c1, &mac_ga, ip_c1, IP4(224, 0, 0, 251), 64));
	inject(0, mk_eth(&mac_c1, &mac_ga, 0x88B5, 60));
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_IPV6_NOT_ROUTED], 1);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_BAD_IP_CKSUM], 1);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_NOT_ROUTABLE], 3);
	/* A NIC's verdict on the checksum is trusted (net_ring keeps ol_flags). */
	m = mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 64);
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_BAD;
	inject(0, m);
	m = mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 64);
	ip_of(m)->hdr_checksum ^= 0x0101;
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	inject(0, m);
	run();
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_BAD_IP_CKSUM], 2);
	CU_ASSERT_EQUAL(ngot[4], 1);
	/* A VLAN-tagged frame to the gateway is not routed. */
	m = mk_eth(&mac_c1, &mac_ga, RTE_ETHER_TYPE_VLAN, 64);
	{
		uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + 18);

		p[14] = 0;
		p[15] = 5;                               /* VLAN 5 */
		p[16] = 0x08;                            /* IPv4 */
		p[17] = 0x00;
		ip_fill(ip, ip_c1, ip_out, 253, 64, 20);
	}
	inject(0, m);
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_NOT_ROUTABLE], 4);
}

static void
test_bridging_unchanged(void)
{
	struct rte_mbuf *m;

	reset();
	/* In a routed network, container-to-container frames are bridged untouched. */
	inject(0, mk_udp(&mac_c1, &mac_c2, ip_c1, ip_c2, 64));
	run();
	m = only_on(1);
	check_eth(m, &mac_c1, &mac_c2);
	CU_ASSERT_EQUAL(ip_of(m)->time_to_live, 64);
	inject(0, mk_udp(&mac_c1, &mac_bcast, ip_c1, IP4(172, 17, 255, 255), 64));
	run();
	CU_ASSERT_EQUAL(ngot[1], 1);
	CU_ASSERT_EQUAL(total_out(), 1);
	CU_ASSERT_EQUAL(ctx->cnt.stages[DP_STAGE_L3].calls, 0);
	CU_ASSERT_EQUAL(ctx->cnt.stages[DP_STAGE_ARP].calls, 0);
	/* Only dpnet sends from a gateway MAC: such a frame is dropped, not learned,
	 * so frames to the gateway keep reaching it. */
	inject(0, mk_udp(&mac_ga, &mac_c2, ip_ga, ip_c2, 64));
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_BAD_SRC_MAC], 1);
	CU_ASSERT_EQUAL(ctx->cnt.learn_events, 0);
	inject(0, mk_icmp(&mac_c1, &mac_ga, ip_c1, ip_ga, RTE_IP_ICMP_ECHO_REQUEST, 0));
	run();
	check_echo_reply(only_on(0), &mac_ga, ip_ga, &mac_c1, ip_c1);
	/* Sources of frames to the gateway are learned like any other. */
	fdb_flush_domain(dp->fdb, DOM_A);
	inject(1, mk_icmp(&mac_c2, &mac_ga, ip_c2, ip_ga, RTE_IP_ICMP_ECHO_REQUEST, 0));
	run();
	CU_ASSERT_EQUAL(fdb_learn_drain(dp->fdb, rte_rdtsc()), 1);
	release();
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(dp->pool), 0);
}

int
main(int argc, char **argv)
{
	CU_pSuite s;
	unsigned int failed;

	(void)argc;
	(void)argv;
	if (th_eal_init("t_l3") < 0)
		return 77;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("l3", suite_init, NULL);
	CU_add_test(s, "ARP for the gateway answered", test_arp_gateway);
	CU_add_test(s, "ARP for a container flooded", test_arp_other_flooded);
	CU_add_test(s, "ARP needing no answer counted", test_arp_ignored);
	CU_add_test(s, "proxy ARP on the uplink", test_proxy_arp);
	CU_add_test(s, "ping of a gateway answered", test_ping_gateway);
	CU_add_test(s, "routed container -> uplink", test_route_to_uplink);
	CU_add_test(s, "routed uplink -> container", test_route_from_uplink);
	CU_add_test(s, "bridge networks isolated", test_isolation);
	CU_add_test(s, "internal network", test_internal);
	CU_add_test(s, "gateway address: host or drop", test_gateway_local);
	CU_add_test(s, "no route: ICMP unreachable", test_no_route_unreachable);
	CU_add_test(s, "TTL 1: ICMP time exceeded", test_ttl_exceeded);
	CU_add_test(s, "ICMP error rate limit", test_rate_limit);
	CU_add_test(s, "unknown neighbour counted", test_unknown_neighbour);
	CU_add_test(s, "neighbour changes seen at once", test_neigh_change);
	CU_add_test(s, "syscall queues back off while busy", test_slow_queue_backoff);
	CU_add_test(s, "neighbour's cached port follows the MAC table", test_nc_port_follows_fdb);
	CU_add_test(s, "two neighbours on one cache slot", test_nc_collision);
	CU_add_test(s, "routes changed at runtime", test_route_runtime);
	CU_add_test(s, "neighbour API", test_neigh_api);
	CU_add_test(s, "incremental checksum = full", test_cksum_incremental);
	CU_add_test(s, "burst sizes", test_burst_sizes);
	CU_add_test(s, "routed frame output", test_routed_output);
	CU_add_test(s, "not routable, bad checksum", test_not_routable);
	CU_add_test(s, "bridging unchanged", test_bridging_unchanged);
	failed = th_run();
	release();
	dp_destroy(dp);
	rte_eal_cleanup();
	return failed ? 1 : 0;
}
