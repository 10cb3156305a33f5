/*
 * test_neigh_dp.c - the data-plane half of dataplane/neigh.h: neighbour misses
 * of a resolving domain punted to control (dp->punt), frames control injects
 * (dp->inject) sent by the worker, ARP handed to control, the uplink address
 * delivered to the host port, the host's domain isolated like the uplink's,
 * and the MTU rule.
 *
 * As test_l3.c: a real data plane on net_ring ports, one worker iteration on
 * the main thread per run(); the test plays control's part on the rings. The
 * topology (NIC mode):
 *
 *   port 0  domain 0  network A 172.17.0.0/16, gateway .1 (GA)       c1
 *   port 1  domain 1  network B 172.18.0.0/16, gateway .1 (GB)       b1
 *   port 2  domain 2  internal I 172.19.0.0/16, gateway .1 (GI)      i1
 *   port 3  domain 3  uplink U: 192.0.2.2/24 (the NIC's MAC), DP_NET_F_RESOLVE,
 *                     default route via the gateway 192.0.2.1 (learned)
 *   port 4  domain 4  the host port H: DP_NET_F_HOST, neighbour (H, 192.0.2.2)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <netinet/ip_icmp.h>
#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "harness.h"
#include "dataplane/dp.h"
#include "dataplane/fdb.h"
#include "dataplane/l3.h"
#include "dataplane/l3_private.h"
#include "dataplane/nat.h"
#include "dataplane/neigh.h"
#include "dataplane/pipeline.h"
#include "dataplane/pkt.h"

#define NPORTS 5
#define RING_SZ 256
#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

enum { DOM_A = 0, DOM_B = 1, DOM_I = 2, DOM_U = 3, DOM_H = 4 };
enum { P_A = 0, P_B = 1, P_I = 2, P_U = 3, P_H = 4 };

static struct dp *dp;
static struct lcore_ctx *ctx;
static struct rte_ring *rxr[NPORTS], *txr[NPORTS];
static uint16_t pids[NPORTS];

static const struct rte_ether_addr mac_ga = {{0x02, 0, 0, 0, 0x0a, 0x01}};
static const struct rte_ether_addr mac_gb = {{0x02, 0, 0, 0, 0x0b, 0x01}};
static const struct rte_ether_addr mac_gi = {{0x02, 0, 0, 0, 0x0c, 0x01}};
static const struct rte_ether_addr mac_nic = {{0x52, 0x54, 0, 0x12, 0x34, 0x56}};
static const struct rte_ether_addr mac_gh = {{0x02, 0, 0, 0, 0x0e, 0x01}};
static const struct rte_ether_addr mac_c1 = {{0x02, 0x42, 0xac, 0x11, 0, 0x02}};
static const struct rte_ether_addr mac_b1 = {{0x02, 0x42, 0xac, 0x12, 0, 0x02}};
static const struct rte_ether_addr mac_i1 = {{0x02, 0x42, 0xac, 0x13, 0, 0x02}};
static const struct rte_ether_addr mac_gw = {{0x02, 0xee, 0, 0, 0, 0x01}};   /* 192.0.2.1 */
static const struct rte_ether_addr mac_x = {{0x02, 0xee, 0, 0, 0, 0x07}};    /* 192.0.2.7 */
static const struct rte_ether_addr mac_other = {{0x02, 0xee, 0, 0, 0, 0x09}}; /* .9 */
static const struct rte_ether_addr mac_host = {{0x02, 0xdd, 0, 0, 0, 0x02}}; /* the TAP's */
static const struct rte_ether_addr mac_bcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
static const struct rte_ether_addr mac_zero = {{0}};

static const uint32_t ip_ga = IP4(172, 17, 0, 1), ip_gb = IP4(172, 18, 0, 1);
static const uint32_t ip_gi = IP4(172, 19, 0, 1);
static const uint32_t ip_c1 = IP4(172, 17, 0, 2), ip_b1 = IP4(172, 18, 0, 2);
static const uint32_t ip_i1 = IP4(172, 19, 0, 2);
static const uint32_t ip_up = IP4(192, 0, 2, 2), ip_gw = IP4(192, 0, 2, 1);
static const uint32_t ip_x = IP4(192, 0, 2, 7), ip_out = IP4(8, 8, 8, 8);

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

/* An Ethernet/IPv4/UDP frame with an IP length of ip_len (>= 28), DF if df. */
static struct rte_mbuf *
mk_udp_len(const struct rte_ether_addr *src, const struct rte_ether_addr *dst, uint32_t sip,
	   uint32_t dip, uint16_t sport, uint16_t ip_len, bool df)
{
	struct rte_mbuf *m = mk_eth(src, dst, RTE_ETHER_TYPE_IPV4,
				    (uint16_t)RTE_MAX(60, 14 + ip_len));
	struct rte_ipv4_hdr *ip = ip_of(m);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

	udp->src_port = rte_cpu_to_be_16(sport);
	udp->dst_port = rte_cpu_to_be_16(53);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(ip_len - 20));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(ip_len);
	ip->packet_id = rte_cpu_to_be_16(0x1234);
	ip->fragment_offset = df ? RTE_BE16(RTE_IPV4_HDR_DF_FLAG) : 0;
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(sip);
	ip->dst_addr = rte_cpu_to_be_32(dip);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	return m;
}

static struct rte_mbuf *
mk_udp(const struct rte_ether_addr *src, const struct rte_ether_addr *dst, uint32_t sip,
       uint32_t dip, uint16_t sport)
{
	return mk_udp_len(src, dst, sip, dip, sport, 46, false);
}

/* A UDP frame from sip:sport to dip:dport. */
static struct rte_mbuf *
mk_udp_pp(const struct rte_ether_addr *src, const struct rte_ether_addr *dst, uint32_t sip,
	  uint32_t dip, uint16_t sport, uint16_t dport)
{
	struct rte_mbuf *m = mk_udp(src, dst, sip, dip, sport);
	struct rte_ipv4_hdr *ip = ip_of(m);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

	udp->dst_port = rte_cpu_to_be_16(dport);
	udp->dgram_cksum = 0;
	udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	return m;
}

static struct rte_mbuf *
mk_ping(const struct rte_ether_addr *src, const struct rte_ether_addr *dst, uint32_t sip,
	uint32_t dip)
{
	struct rte_mbuf *m = mk_eth(src, dst, RTE_ETHER_TYPE_IPV4, 14 + 20 + 8 + 56);
	struct rte_ipv4_hdr *ip = ip_of(m);
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(ip + 1);

	icmp->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
	icmp->icmp_ident = rte_cpu_to_be_16(0x4242);
	icmp->icmp_seq_nb = rte_cpu_to_be_16(7);
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, 8 + 56);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(20 + 8 + 56);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_ICMP;
	ip->src_addr = rte_cpu_to_be_32(sip);
	ip->dst_addr = rte_cpu_to_be_32(dip);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
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

static struct rte_mbuf *got[NPORTS][RING_SZ];
static unsigned int ngot[NPORTS];
/* What the workers punted in the last run(), as control would drain it. */
static struct rte_mbuf *punted[DP_PUNT_RING];
static unsigned int npunted;

static void
release(void)
{
	for (unsigned int p = 0; p < NPORTS; p++) {
		for (unsigned int i = 0; i < ngot[p]; i++)
			rte_pktmbuf_free(got[p][i]);
		ngot[p] = 0;
	}
	for (unsigned int i = 0; i < npunted; i++)
		rte_pktmbuf_free(punted[i]);
	npunted = 0;
}

static void
run(void)
{
	release();
	dp_worker_poll_once(ctx);
	for (unsigned int p = 0; p < NPORTS; p++)
		ngot[p] = rte_ring_dequeue_burst(txr[p], (void **)got[p], RING_SZ, NULL);
	npunted = rte_ring_dequeue_burst(dp->punt, (void **)punted, DP_PUNT_RING, NULL);
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

static void
check_eth(struct rte_mbuf *m, const struct rte_ether_addr *src, const struct rte_ether_addr *dst)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	CU_ASSERT(rte_is_same_ether_addr(&eth->src_addr, src));
	CU_ASSERT(rte_is_same_ether_addr(&eth->dst_addr, dst));
}

static void
setup_view(bool with_host)
{
	struct dp_view *v = dp_view_clone(dp);
	static const uint16_t dom_of[NPORTS] = {DOM_A, DOM_B, DOM_I, DOM_U, DOM_H};

	memset(v->domains, 0, sizeof(v->domains));
	memset(v->nets, 0, sizeof(v->nets));
	v->n_rxq[0] = 0;
	for (unsigned int p = 0; p < NPORTS; p++) {
		uint16_t d = dom_of[p];

		v->ports[pids[p]].domain = d;
		v->ports[pids[p]].present = 1;
		v->ports[pids[p]].role = d == DOM_U ? DP_ROLE_UPLINK :
			d == DOM_H ? DP_ROLE_HOST : DP_ROLE_ACCESS;
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
	v->nets[DOM_U] = (struct dp_net_view){.gw_ip = ip_up, .subnet = IP4(192, 0, 2, 0),
		.prefix_len = 24, .flags = DP_NET_F_L3 | DP_NET_F_UPLINK | DP_NET_F_PROXY_ARP |
		DP_NET_F_RESOLVE, .mtu = 1500, .gw_mac = mac_nic};
	v->nets[DOM_H] = (struct dp_net_view){.gw_ip = 0,
		.flags = DP_NET_F_L3 | DP_NET_F_HOST | DP_NET_F_PROXY_ARP, .mtu = 1500,
		.gw_mac = mac_gh};
	v->uplink_port = pids[P_U];
	v->host_port = with_host ? pids[P_H] : RTE_MAX_ETHPORTS;
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
		{IP4(192, 0, 2, 0), 24, {.type = L3_NH_CONNECTED, .domain = DOM_U}},
		{0, 0, {.type = L3_NH_GATEWAY, .domain = DOM_U, .gw_ip = IP4(192, 0, 2, 1)}},
	};
	static const struct {
		uint16_t dom;
		uint32_t ip;
		const struct rte_ether_addr *mac;
	} neigh[] = {
		{DOM_A, IP4(172, 17, 0, 2), &mac_c1},
		{DOM_B, IP4(172, 18, 0, 2), &mac_b1},
		{DOM_I, IP4(172, 19, 0, 2), &mac_i1},
		{DOM_H, IP4(192, 0, 2, 2), &mac_host},
	};
	static const struct {
		uint16_t dom;
		const struct rte_ether_addr *mac;
		unsigned int port;
	} fdb[] = {
		{DOM_A, &mac_c1, P_A}, {DOM_B, &mac_b1, P_B}, {DOM_I, &mac_i1, P_I},
		{DOM_U, &mac_gw, P_U}, {DOM_H, &mac_host, P_H},
	};
	uint64_t now = rte_rdtsc();

	for (unsigned int i = 0; i < RTE_DIM(routes); i++) {
		int rc = l3_route_add(dp, routes[i].prefix, routes[i].len, &routes[i].nh);

		CU_ASSERT(rc == 0 || rc == -EEXIST);
	}
	for (unsigned int i = 0; i < RTE_DIM(neigh); i++)
		CU_ASSERT_EQUAL(l3_neigh_add(dp, neigh[i].dom, neigh[i].ip, neigh[i].mac), 0);
	/* The gateway is learned, never installed: each test starts without it. */
	l3_neigh_del(dp, DOM_U, ip_gw);
	for (unsigned int i = 0; i < RTE_DIM(fdb); i++)
		CU_ASSERT_EQUAL(fdb_add(dp->fdb, fdb[i].dom, fdb[i].mac, pids[fdb[i].port], true,
					now), 0);
}

static void
reset(bool with_host)
{
	run();
	release();
	fdb_learn_drain(dp->fdb, rte_rdtsc());
	for (uint16_t d = DOM_A; d <= DOM_H; d++)
		fdb_flush_domain(dp->fdb, d);
	memset(ctx->learn_key, 0, sizeof(ctx->learn_key));
	setup_view(with_host);
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
	if (th_ring_ports(dp, "nd", NPORTS, RING_SZ, rxr, txr, pids) != 0)
		return -1;
	return 0;
}

/* ----------------------------------------------------------------- tests */

/* A miss in the uplink's domain: finished, punted with its next hop; control's
 * injected copy leaves the uplink; once learned, frames are routed directly. */
static void
test_miss_punted(void)
{
	struct rte_mbuf *m;
	struct pkt_meta *meta;
	struct rte_ipv4_hdr *ip;

	reset(true);
	inject(P_A, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 1001));
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL_FATAL(npunted, 1);
	CU_ASSERT_EQUAL(ctx->cnt.punted, 1);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_NO_NEIGHBOUR], 0);
	m = punted[0];
	meta = pkt_meta(m);
	CU_ASSERT_EQUAL(meta->punt, PUNT_NEIGH_MISS);
	CU_ASSERT_EQUAL(meta->nh_ip, ip_gw);
	CU_ASSERT_EQUAL(meta->domain, DOM_U);
	ip = ip_of(m);
	CU_ASSERT_EQUAL(ip->time_to_live, 63);
	CU_ASSERT_EQUAL(rte_raw_cksum(ip, 20), 0xFFFF);
	/* Masqueraded on the way (the NAT stage ran before). */
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip->src_addr), ip_up);
	CU_ASSERT(rte_is_same_ether_addr(&rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->src_addr,
					 &mac_nic));
	/* Control resolves it and sends it on through dp->inject. */
	rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr = mac_gw;
	meta->out_port = pids[P_U];
	CU_ASSERT_FATAL(rte_ring_enqueue(dp->inject, m) == 0);
	npunted = 0;
	run();
	m = only_on(P_U);
	check_eth(m, &mac_nic, &mac_gw);
	CU_ASSERT_EQUAL(ctx->cnt.injected, 1);
	CU_ASSERT_EQUAL(npunted, 0);
	/* Learned: the next frames are routed by the worker itself. */
	CU_ASSERT_EQUAL(l3_neigh_add(dp, DOM_U, ip_gw, &mac_gw), 0);
	inject(P_A, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 1001));
	run();
	m = only_on(P_U);
	check_eth(m, &mac_nic, &mac_gw);
	CU_ASSERT_EQUAL(ip_of(m)->time_to_live, 63);
	CU_ASSERT_EQUAL(npunted, 0);
	CU_ASSERT_EQUAL(ctx->cnt.routed, 1);
	/* A host of the uplink subnet: punted for itself (connected route). */
	inject(P_A, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_x, 1002));
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL_FATAL(npunted, 1);
	CU_ASSERT_EQUAL(pkt_meta(punted[0])->nh_ip, ip_x);
	release();
}

/* Elsewhere neighbours are installed: a miss is dropped, nothing punted. */
static void
test_miss_not_resolving(void)
{
	reset(true);
	CU_ASSERT_EQUAL(l3_neigh_add(dp, DOM_U, ip_gw, &mac_gw), 0);
	inject(P_U, mk_udp(&mac_gw, &mac_nic, ip_out, IP4(172, 17, 0, 99), 1003));
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(npunted, 0);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_NO_NEIGHBOUR], 1);
	CU_ASSERT_EQUAL(ctx->cnt.punted, 0);
}

/* A frame in a large buffer (a vtap's 64 KB mbufs) is not held for its next
 * hop: dropped as no-neighbour, the punt ring untouched (punt.c says why). */
static void
test_miss_big_buffer(void)
{
	struct rte_mempool *big = rte_pktmbuf_pool_create("nd_big", 63, 0, 0, UINT16_MAX,
							  SOCKET_ID_ANY);
	struct rte_mbuf *f, *m;

	CU_ASSERT_FATAL(big != NULL);
	reset(true);
	f = mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 1005);
	m = rte_pktmbuf_alloc(big);
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT_FATAL(rte_pktmbuf_append(m, rte_pktmbuf_data_len(f)) != NULL);
	memcpy(rte_pktmbuf_mtod(m, void *), rte_pktmbuf_mtod(f, void *), rte_pktmbuf_data_len(f));
	rte_pktmbuf_free(f);
	inject(P_A, m);
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(npunted, 0);
	CU_ASSERT_EQUAL(ctx->cnt.punted, 0);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_NO_NEIGHBOUR], 1);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(big), 0);
	/* The same frame in a pool mbuf is held as usual. */
	inject(P_A, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 1005));
	run();
	CU_ASSERT_EQUAL(npunted, 1);
	release();
	rte_mempool_free(big);
}

/* A full dp->punt: the frame is dropped as no-neighbour, never blocks. */
static void
test_punt_full(void)
{
	unsigned int n = 0;
	void *m;

	reset(true);
	while (rte_ring_free_count(dp->punt) > 0) {
		struct rte_mbuf *f = rte_pktmbuf_alloc(dp->pool);

		CU_ASSERT_FATAL(f != NULL);
		CU_ASSERT_FATAL(rte_ring_enqueue(dp->punt, f) == 0);
		n++;
	}
	CU_ASSERT_EQUAL(n, DP_PUNT_RING);
	inject(P_A, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 1004));
	dp_worker_poll_once(ctx);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_NO_NEIGHBOUR], 1);
	CU_ASSERT_EQUAL(ctx->cnt.ports[pids[P_A]].drops, 1);
	CU_ASSERT_EQUAL(ctx->cnt.punted, 0);
	while (rte_ring_dequeue(dp->punt, &m) == 0)
		rte_pktmbuf_free(m);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(dp->pool), 0);
}

/* dp->inject: sent on meta->out_port, DP_BURST per loop, port gone: dropped. */
static void
test_inject(void)
{
	struct rte_mbuf *m;

	reset(true);
	for (unsigned int i = 0; i < DP_BURST + 8; i++) {
		m = mk_arp(&mac_nic, &mac_bcast, RTE_ARP_OP_REQUEST, ip_up, ip_gw);
		pkt_meta(m)->out_port = pids[P_U];
		CU_ASSERT_FATAL(rte_ring_enqueue(dp->inject, m) == 0);
	}
	run();
	CU_ASSERT_EQUAL(ngot[P_U], DP_BURST);
	CU_ASSERT_EQUAL(total_out(), DP_BURST);
	run();
	CU_ASSERT_EQUAL(ngot[P_U], 8);
	CU_ASSERT_EQUAL(ctx->cnt.injected, DP_BURST + 8);
	CU_ASSERT_EQUAL(ctx->cnt.ports[pids[P_U]].tx_pkts, DP_BURST + 8);
	/* A port that is not present (any more), or no port at all. */
	m = mk_arp(&mac_nic, &mac_bcast, RTE_ARP_OP_REQUEST, ip_up, ip_gw);
	pkt_meta(m)->out_port = RTE_MAX_ETHPORTS - 1;
	CU_ASSERT_FATAL(rte_ring_enqueue(dp->inject, m) == 0);
	m = mk_arp(&mac_nic, &mac_bcast, RTE_ARP_OP_REQUEST, ip_up, ip_gw);
	pkt_meta(m)->out_port = 0xFFFF;
	CU_ASSERT_FATAL(rte_ring_enqueue(dp->inject, m) == 0);
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_PORT_DOWN], 2);
	release();
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(dp->pool), 0);
}

static uint16_t
arp_op(struct rte_mbuf *m)
{
	return rte_be_to_cpu_16(rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *,
							 14)->arp_opcode);
}

/* ARP in the resolving domain goes to control (neigh.h's rules). */
static void
test_arp_punt(void)
{
	struct rte_mbuf *m;
	struct rte_arp_hdr *ah;

	reset(true);
	/* A request for us: answered, and a copy (still the request) to control. */
	inject(P_U, mk_arp(&mac_gw, &mac_bcast, RTE_ARP_OP_REQUEST, ip_gw, ip_up));
	run();
	m = only_on(P_U);
	check_eth(m, &mac_nic, &mac_gw);
	CU_ASSERT_EQUAL(arp_op(m), RTE_ARP_OP_REPLY);
	CU_ASSERT_EQUAL_FATAL(npunted, 1);
	CU_ASSERT_EQUAL(pkt_meta(punted[0])->punt, PUNT_ARP);
	CU_ASSERT_EQUAL(pkt_meta(punted[0])->domain, DOM_U);
	CU_ASSERT_EQUAL(arp_op(punted[0]), RTE_ARP_OP_REQUEST);
	ah = rte_pktmbuf_mtod_offset(punted[0], struct rte_arp_hdr *, 14);
	CU_ASSERT(rte_is_same_ether_addr(&ah->arp_data.arp_sha, &mac_gw));
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ah->arp_data.arp_sip), ip_gw);
	CU_ASSERT_EQUAL(ctx->cnt.arp_replies, 1);
	/* A proxied request (for a container) is answered and copied as well. */
	inject(P_U, mk_arp(&mac_gw, &mac_bcast, RTE_ARP_OP_REQUEST, ip_gw, ip_c1));
	run();
	CU_ASSERT_EQUAL(arp_op(only_on(P_U)), RTE_ARP_OP_REPLY);
	CU_ASSERT_EQUAL(npunted, 1);
	/* A reply to us: the frame itself, nothing sent, nothing dropped. */
	inject(P_U, mk_arp(&mac_gw, &mac_nic, RTE_ARP_OP_REPLY, ip_gw, ip_up));
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL_FATAL(npunted, 1);
	CU_ASSERT_EQUAL(arp_op(punted[0]), RTE_ARP_OP_REPLY);
	CU_ASSERT_EQUAL(pkt_meta(punted[0])->punt, PUNT_ARP);
	/* Gratuitous ARP, and a request for another host of the subnet. */
	inject(P_U, mk_arp(&mac_gw, &mac_bcast, RTE_ARP_OP_REQUEST, ip_gw, ip_gw));
	inject(P_U, mk_arp(&mac_gw, &mac_bcast, RTE_ARP_OP_REQUEST, ip_gw, ip_x));
	/* A reply between two other hosts that reached us (unknown unicast). */
	inject(P_U, mk_arp(&mac_x, &mac_other, RTE_ARP_OP_REPLY, ip_x, IP4(192, 0, 2, 9)));
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(npunted, 3);
	CU_ASSERT_EQUAL(ctx->cnt.punted, 6);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_ARP_IGNORED], 0);
	/* Senders outside the subnet, or claiming our address: ignored. */
	inject(P_U, mk_arp(&mac_x, &mac_bcast, RTE_ARP_OP_REQUEST, IP4(10, 0, 0, 5), ip_up));
	inject(P_U, mk_arp(&mac_x, &mac_nic, RTE_ARP_OP_REPLY, ip_up, ip_up));
	inject(P_U, mk_arp(&mac_x, &mac_bcast, RTE_ARP_OP_REQUEST, 0, ip_up));
	run();
	CU_ASSERT_EQUAL(npunted, 0);
	/* 10.0.0.5 asking for us, and a probe (RFC 5227), are answered as before
	 * (as Linux does), not learned from. */
	CU_ASSERT_EQUAL(ngot[P_U], 2);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_ARP_IGNORED], 1);
	/* A domain that does not resolve: replies are ignored as before. */
	inject(P_A, mk_arp(&mac_c1, &mac_ga, RTE_ARP_OP_REPLY, ip_c1, ip_ga));
	inject(P_A, mk_arp(&mac_c1, &mac_ga, RTE_ARP_OP_REQUEST, ip_c1, ip_ga));
	run();
	CU_ASSERT_EQUAL(npunted, 0);
	CU_ASSERT_EQUAL(arp_op(only_on(P_A)), RTE_ARP_OP_REPLY);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_ARP_IGNORED], 2);
	release();
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(dp->pool), 0);
}

/* The uplink address is the host's: from the uplink or a bridge network it
 * goes unrouted to the host port; without one, dpnet answers pings only. */
static void
test_host_port(void)
{
	struct rte_mbuf *m;

	reset(true);
	inject(P_U, mk_udp(&mac_gw, &mac_nic, ip_gw, ip_up, 1005));
	run();
	m = only_on(P_H);
	check_eth(m, &mac_gh, &mac_host);
	CU_ASSERT_EQUAL(ip_of(m)->time_to_live, 64);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip_of(m)->dst_addr), ip_up);
	/* Pings too: the host answers them. */
	inject(P_U, mk_ping(&mac_gw, &mac_nic, ip_gw, ip_up));
	run();
	m = only_on(P_H);
	CU_ASSERT_EQUAL(rte_pktmbuf_mtod_offset(m, uint8_t *, 34)[0], RTE_IP_ICMP_ECHO_REQUEST);
	CU_ASSERT_EQUAL(ctx->cnt.icmp_echo_replies, 0);
	/* From a bridge network, to the uplink address: the host as well. */
	inject(P_A, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_up, 1006));
	run();
	m = only_on(P_H);
	check_eth(m, &mac_gh, &mac_host);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip_of(m)->src_addr), ip_c1);
	/* Not from an internal network; its own gateway is still pinged. */
	inject(P_I, mk_udp(&mac_i1, &mac_gi, ip_i1, ip_up, 1007));
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_INTERNAL], 1);
	/* Another gateway address in NIC mode: nobody on the uplink owns it. */
	inject(P_A, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_ga, 1008));
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(npunted, 0);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_GATEWAY_LOCAL], 1);

	/* Without a host port: today's behaviour, and nothing asked of control. */
	reset(false);
	inject(P_U, mk_ping(&mac_gw, &mac_nic, ip_gw, ip_up));
	run();
	m = only_on(P_U);
	check_eth(m, &mac_nic, &mac_gw);
	CU_ASSERT_EQUAL(ctx->cnt.icmp_echo_replies, 1);
	inject(P_U, mk_udp(&mac_gw, &mac_nic, ip_gw, ip_up, 1009));
	inject(P_A, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_up, 1010));
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(npunted, 0);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_GATEWAY_LOCAL], 2);
	release();
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(dp->pool), 0);
}

/* Rewrite a frame's IPv4 protocol / fragment field (header checksum kept right). */
static struct rte_mbuf *
ip_set(struct rte_mbuf *m, uint8_t proto, uint16_t frag)
{
	struct rte_ipv4_hdr *ip = ip_of(m);

	ip->next_proto_id = proto;
	ip->fragment_offset = rte_cpu_to_be_16(frag);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	return m;
}

/* An ICMP message of type/code from the gateway to the uplink address. */
static struct rte_mbuf *
mk_icmp_up(uint8_t type, uint8_t code)
{
	struct rte_mbuf *m = mk_ping(&mac_gw, &mac_nic, ip_gw, ip_up);
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(ip_of(m) + 1);

	icmp->icmp_type = type;
	icmp->icmp_code = code;
	icmp->icmp_cksum = 0;
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, 8 + 56);
	return m;
}

/* Send one frame in on port in: expect it on the host port, untouched. */
static void
to_host(unsigned int in, struct rte_mbuf *m)
{
	inject(in, m);
	run();
	m = only_on(P_H);
	check_eth(m, &mac_gh, &mac_host);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip_of(m)->dst_addr), ip_up);
}

static void
dropped(unsigned int in, struct rte_mbuf *m, enum dp_drop reason)
{
	uint64_t before = ctx->cnt.drops[reason];

	inject(in, m);
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(ctx->cnt.drops[reason], before + 1);
}

/* With a host port, the uplink address is the host's: what no published port
 * claims goes to it - other protocols, ICMP that is neither echo nor error,
 * errors quoting nothing known, fragments no rule claims. Without one, the
 * NAT stage's rules as before (nat.h). */
static void
test_host_port_nat(void)
{
	const struct nat_rule rule = {.host_ip = 0, .host_port = 5353, .ctr_ip = ip_c1,
				      .ctr_port = 53, .id = 1, .proto = IPPROTO_UDP};
	uint8_t quote[28];

	reset(true);
	CU_ASSERT_EQUAL_FATAL(nat_rules_set(dp, NULL, 0), 0);
	to_host(P_U, ip_set(mk_udp(&mac_gw, &mac_nic, ip_gw, ip_up, 2001), 47, 0));   /* GRE */
	to_host(P_U, mk_icmp_up(13, 0));                                            /* timestamp */
	/* An error quoting a connection nobody knows (the host's own, untracked). */
	{
		struct rte_mbuf *q = mk_udp_pp(&mac_host, &mac_gh, ip_up, ip_x, 2002, 33434);
		struct rte_mbuf *e = mk_icmp_up(3, 3);

		memcpy(quote, ip_of(q), 28);
		rte_pktmbuf_free(q);
		memcpy((uint8_t *)(ip_of(e) + 1) + 8, quote, 28);
		((struct rte_icmp_hdr *)(ip_of(e) + 1))->icmp_cksum = 0;
		((struct rte_icmp_hdr *)(ip_of(e) + 1))->icmp_cksum =
			(uint16_t)~rte_raw_cksum(ip_of(e) + 1, 8 + 56);
		to_host(P_U, e);
	}
	/* Fragments: no rule at all - the host's. */
	to_host(P_U, ip_set(mk_udp(&mac_gw, &mac_nic, ip_gw, ip_up, 2003), IPPROTO_UDP, 100));
	to_host(P_U, ip_set(mk_udp(&mac_gw, &mac_nic, ip_gw, ip_up, 2004), IPPROTO_UDP,
			    RTE_IPV4_HDR_MF_FLAG));
	/* A UDP rule on 0.0.0.0: later UDP fragments may be its (no ports to
	 * tell), TCP ones not; a first fragment only when its port is the rule's. */
	CU_ASSERT_EQUAL_FATAL(nat_rules_set(dp, &rule, 1), 0);
	dropped(P_U, ip_set(mk_udp(&mac_gw, &mac_nic, ip_gw, ip_up, 2005), IPPROTO_UDP, 100),
		DP_DROP_NAT_FRAGMENT);
	to_host(P_U, ip_set(mk_udp(&mac_gw, &mac_nic, ip_gw, ip_up, 2006), IPPROTO_TCP, 100));
	to_host(P_U, ip_set(mk_udp(&mac_gw, &mac_nic, ip_gw, ip_up, 2007), IPPROTO_UDP,
			    RTE_IPV4_HDR_MF_FLAG));                                 /* port 53 */
	dropped(P_U, ip_set(mk_udp_pp(&mac_gw, &mac_nic, ip_gw, ip_up, 2008, 5353), IPPROTO_UDP,
			    RTE_IPV4_HDR_MF_FLAG), DP_DROP_NAT_FRAGMENT);
	/* Other host addresses keep the rules: nobody behind them in NIC mode. */
	dropped(P_A, ip_set(mk_udp(&mac_c1, &mac_ga, ip_c1, ip_ga, 2009), 47, 0),
		DP_DROP_NAT_PROTO);

	/* Without a host port: today's rules. */
	reset(false);
	CU_ASSERT_EQUAL_FATAL(nat_rules_set(dp, NULL, 0), 0);
	dropped(P_U, ip_set(mk_udp(&mac_gw, &mac_nic, ip_gw, ip_up, 2010), 47, 0),
		DP_DROP_NAT_PROTO);
	dropped(P_U, mk_icmp_up(13, 0), DP_DROP_NAT_PROTO);
	dropped(P_U, ip_set(mk_udp(&mac_gw, &mac_nic, ip_gw, ip_up, 2011), IPPROTO_UDP, 100),
		DP_DROP_NAT_FRAGMENT);
	{
		struct rte_mbuf *e = mk_icmp_up(3, 3);

		memcpy((uint8_t *)(ip_of(e) + 1) + 8, quote, 28);
		((struct rte_icmp_hdr *)(ip_of(e) + 1))->icmp_cksum = 0;
		((struct rte_icmp_hdr *)(ip_of(e) + 1))->icmp_cksum =
			(uint16_t)~rte_raw_cksum(ip_of(e) + 1, 8 + 56);
		dropped(P_U, e, DP_DROP_CT_INVALID);
	}
	release();
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(dp->pool), 0);
}

/* The host behind the host port and the masqueraded containers share the
 * uplink address: a port held by one is not handed to the other, whichever
 * came first; fallback ports are above the host's ephemeral range. */
static void
test_host_port_clash(void)
{
	struct nat_params np;
	struct rte_mbuf *m;
	uint16_t port;

	nat_params_default(&np);
	CU_ASSERT_EQUAL(np.snat_port_lo, 61000);
	CU_ASSERT_EQUAL(np.snat_port_hi, 65535);
	reset(true);
	CU_ASSERT_EQUAL(l3_neigh_add(dp, DOM_U, ip_gw, &mac_gw), 0);
	/* The container first: its port kept ... */
	inject(P_A, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 3100));
	run();
	m = only_on(P_U);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip_of(m)->src_addr), ip_up);
	CU_ASSERT_EQUAL(rte_be_to_cpu_16(((struct rte_udp_hdr *)(ip_of(m) + 1))->src_port), 3100);
	/* ... so the host's packet from that port to that server is refused: its
	 * answer would reach c1. */
	inject(P_H, mk_udp(&mac_host, &mac_gh, ip_up, ip_out, 3100));
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_CT_INVALID], 1);
	inject(P_U, mk_udp_pp(&mac_gw, &mac_nic, ip_out, ip_up, 53, 3100));
	run();
	m = only_on(P_A);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip_of(m)->dst_addr), ip_c1);
	/* The host first: the container gets a port above the host's range. */
	inject(P_H, mk_udp(&mac_host, &mac_gh, ip_up, ip_out, 3101));
	run();
	m = only_on(P_U);
	CU_ASSERT_EQUAL(rte_be_to_cpu_16(((struct rte_udp_hdr *)(ip_of(m) + 1))->src_port), 3101);
	inject(P_A, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 3101));
	run();
	m = only_on(P_U);
	port = rte_be_to_cpu_16(((struct rte_udp_hdr *)(ip_of(m) + 1))->src_port);
	CU_ASSERT(port >= 61000);
	inject(P_U, mk_udp_pp(&mac_gw, &mac_nic, ip_out, ip_up, 53, 3101));
	run();
	check_eth(only_on(P_H), &mac_gh, &mac_host);
	inject(P_U, mk_udp_pp(&mac_gw, &mac_nic, ip_out, ip_up, 53, port));
	run();
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip_of(only_on(P_A))->dst_addr), ip_c1);
	release();
}

/* The host's domain is not a bridge network: it reaches the uplink (not
 * masqueraded) and the bridge networks; not the internal ones. */
static void
test_host_isolation(void)
{
	static struct nat_counters nc;
	struct rte_mbuf *m;

	reset(true);
	CU_ASSERT_EQUAL(l3_neigh_add(dp, DOM_U, ip_gw, &mac_gw), 0);
	inject(P_H, mk_udp(&mac_host, &mac_gh, ip_up, ip_out, 1011));
	run();
	m = only_on(P_U);
	check_eth(m, &mac_nic, &mac_gw);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip_of(m)->src_addr), ip_up);
	CU_ASSERT_EQUAL(ip_of(m)->time_to_live, 63);
	nat_counters_sum(dp, &nc);
	CU_ASSERT_EQUAL(nc.masq_pkts[DOM_H], 0);
	/* Its reply comes from the uplink and goes to the host; the same tuple
	 * from a bridge network is not the reply (ct-invalid). */
	m = mk_udp_pp(&mac_gw, &mac_nic, ip_out, ip_up, 53, 1011);
	inject(P_U, m);
	run();
	m = only_on(P_H);
	check_eth(m, &mac_gh, &mac_host);
	inject(P_A, mk_udp_pp(&mac_c1, &mac_ga, ip_out, ip_up, 53, 1011));
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_CT_INVALID], 1);
	/* The host reaches containers of a bridge network, as Docker's host does. */
	inject(P_H, mk_udp(&mac_host, &mac_gh, ip_up, ip_b1, 1012));
	run();
	m = only_on(P_B);
	check_eth(m, &mac_gb, &mac_b1);
	inject(P_H, mk_udp(&mac_host, &mac_gh, ip_up, ip_i1, 1013));
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_INTERNAL], 1);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_ISOLATED], 0);
	/* Proxy ARP on the host port: the host's gateway is answered by dpnet. */
	inject(P_H, mk_arp(&mac_host, &mac_bcast, RTE_ARP_OP_REQUEST, ip_up, ip_gw));
	run();
	m = only_on(P_H);
	check_eth(m, &mac_gh, &mac_host);
	CU_ASSERT_EQUAL(npunted, 0);
	release();
}

static const struct rte_icmp_hdr *
icmp_of(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, const struct rte_icmp_hdr *, 34);
}

/* The MTU rule: longer than the output network's MTU - with DF, fragmentation
 * needed (from the ingress gateway, quoting the frame as sent: before
 * MASQUERADE); without, dropped. Both too-big. */
static void
test_too_big(void)
{
	struct rte_mbuf *m;
	const struct rte_ipv4_hdr *q;

	reset(true);
	CU_ASSERT_EQUAL(l3_neigh_add(dp, DOM_U, ip_gw, &mac_gw), 0);
	/* Exactly the MTU passes. */
	inject(P_A, mk_udp_len(&mac_c1, &mac_ga, ip_c1, ip_out, 1020, 1500, true));
	run();
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(only_on(P_U)), 1514);
	inject(P_A, mk_udp_len(&mac_c1, &mac_ga, ip_c1, ip_out, 1021, 1501, true));
	run();
	m = only_on(P_A);
	check_eth(m, &mac_ga, &mac_c1);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip_of(m)->src_addr), ip_ga);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip_of(m)->dst_addr), ip_c1);
	CU_ASSERT_EQUAL(icmp_of(m)->icmp_type, ICMP_DEST_UNREACH);
	CU_ASSERT_EQUAL(icmp_of(m)->icmp_code, ICMP_FRAG_NEEDED);
	CU_ASSERT_EQUAL(rte_be_to_cpu_16(icmp_of(m)->icmp_seq_nb), 1500);
	CU_ASSERT_EQUAL(rte_raw_cksum(icmp_of(m), rte_pktmbuf_pkt_len(m) - 34), 0xFFFF);
	q = (const struct rte_ipv4_hdr *)(icmp_of(m) + 1);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(q->src_addr), ip_c1);
	CU_ASSERT_EQUAL(rte_be_to_cpu_16(((const struct rte_udp_hdr *)(q + 1))->src_port), 1021);
	CU_ASSERT_EQUAL(q->time_to_live, 64);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_TOO_BIG], 1);
	CU_ASSERT_EQUAL(ctx->cnt.icmp_errors, 1);
	/* Without DF: dropped, no message. */
	inject(P_A, mk_udp_len(&mac_c1, &mac_ga, ip_c1, ip_out, 1022, 1501, false));
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_TOO_BIG], 2);
	CU_ASSERT_EQUAL(ctx->cnt.icmp_errors, 1);
	/* Rate-limited like every ICMP error: none allowed, counted all the same. */
	l3_icmp_rate_set(dp, 0, 0);
	inject(P_A, mk_udp_len(&mac_c1, &mac_ga, ip_c1, ip_out, 1023, 1600, true));
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_TOO_BIG], 3);
	CU_ASSERT_EQUAL(ctx->cnt.icmp_ratelimited, 1);
	/* Towards a smaller network: its own MTU; from the uplink, from our address. */
	l3_icmp_rate_set(dp, 100, 10);
	{
		struct dp_view *v = dp_view_clone(dp);

		v->nets[DOM_B].mtu = 1400;
		dp_view_publish(dp, v);
	}
	inject(P_U, mk_udp_len(&mac_gw, &mac_nic, ip_out, ip_b1, 1024, 1401, true));
	run();
	m = only_on(P_U);
	check_eth(m, &mac_nic, &mac_gw);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip_of(m)->src_addr), ip_up);
	CU_ASSERT_EQUAL(rte_be_to_cpu_16(icmp_of(m)->icmp_seq_nb), 1400);
	release();
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(dp->pool), 0);
}

int
main(int argc, char **argv)
{
	CU_pSuite s;

	(void)argc;
	(void)argv;
	if (th_eal_init("test_neigh_dp") != 0)
		return 77;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("neigh_dp", suite_init, NULL);
	CU_add_test(s, "neighbour miss punted, injected, then learned", test_miss_punted);
	CU_add_test(s, "miss in a domain that does not resolve", test_miss_not_resolving);
	CU_add_test(s, "punt ring full: no-neighbour", test_punt_full);
	CU_add_test(s, "a large-buffer frame is not held for its next hop", test_miss_big_buffer);
	CU_add_test(s, "inject: TX, burst, port gone", test_inject);
	CU_add_test(s, "ARP handed to control", test_arp_punt);
	CU_add_test(s, "the uplink address to the host port", test_host_port);
	CU_add_test(s, "the host's domain: isolation, no MASQUERADE", test_host_isolation);
	CU_add_test(s, "the host port's address: what no published port claims",
		    test_host_port_nat);
	CU_add_test(s, "the host and MASQUERADE share the uplink address's ports",
		    test_host_port_clash);
	CU_add_test(s, "MTU: too big with and without DF", test_too_big);
	return th_run() != 0;
}
