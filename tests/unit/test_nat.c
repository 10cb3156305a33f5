/*
 * test_nat.c - the NAT stage (nat.h): DNAT of published ports both ways,
 * MASQUERADE with source-port keep and collision, hairpin, host-address rules,
 * ICMP errors about translated connections, incremental checksums against
 * full recomputation, fragments and other protocols, a full conntrack table,
 * invalid first packets, the rule-set API, expiry, flushing, and isolation
 * with published ports.
 *
 * Like test_l3.c it builds a real data plane whose ports are net_ring ethdevs,
 * puts frames on RX rings, runs one worker iteration on the main thread and
 * reads every port's TX ring. The topology (dedicated-NIC style: the uplink has
 * an address, so MASQUERADE is on):
 *
 *   port 0, 1  domain 0  network A 172.17.0.0/16, gateway .1 (GA)   c1 (p0), c2 (p1)
 *   port 2     domain 1  network B 172.18.0.0/16, gateway .1 (GB)   b1
 *   port 3     domain 2  internal I 172.19.0.0/16, gateway .1 (GI)  i1
 *   port 4     domain 3  uplink U 192.168.1.0/24, address .10 (UP); router R .1
 *                        (default route), client C .50 on the link
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_random.h>
#include <rte_ring.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "harness.h"
#include "dataplane/cksum.h"
#include "dataplane/ct.h"
#include "dataplane/dp.h"
#include "dataplane/fdb.h"
#include "dataplane/l3.h"
#include "dataplane/l3_private.h"
#include "dataplane/nat.h"
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
static const uint32_t ip_b1 = IP4(172, 18, 0, 2), ip_i1 = IP4(172, 19, 0, 2);
static const uint32_t ip_up = IP4(192, 168, 1, 10), ip_r = IP4(192, 168, 1, 1);
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
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp->pool);
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

/* An ICMP echo request/reply with 56 bytes of payload. */
static struct rte_mbuf *
mk_echo(const struct rte_ether_addr *smac, const struct rte_ether_addr *dmac, uint32_t sip,
	uint32_t dip, uint8_t type, uint16_t id)
{
	struct rte_mbuf *m = mk_frame(smac, dmac, 14 + 20 + 8 + 56);
	struct rte_ipv4_hdr *ip = ip_of(m);
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(ip + 1);
	uint8_t *pl = (uint8_t *)(icmp + 1);

	icmp->icmp_type = type;
	icmp->icmp_ident = rte_cpu_to_be_16(id);
	icmp->icmp_seq_nb = RTE_BE16(1);
	for (int i = 0; i < 56; i++)
		pl[i] = (uint8_t)i;
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, 8 + 56);
	ip_fill(ip, sip, dip, IPPROTO_ICMP, 20 + 8 + 56);
	return m;
}

/* An ICMP error (type, code) quoting qlen bytes from quote. */
static struct rte_mbuf *
mk_icmp_err(const struct rte_ether_addr *smac, const struct rte_ether_addr *dmac, uint32_t sip,
	    uint32_t dip, uint8_t type, uint8_t code, const void *quote, uint16_t qlen)
{
	struct rte_mbuf *m = mk_frame(smac, dmac, (uint16_t)(14 + 20 + 8 + qlen));
	struct rte_ipv4_hdr *ip = ip_of(m);
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(ip + 1);

	icmp->icmp_type = type;
	icmp->icmp_code = code;
	memcpy(icmp + 1, quote, qlen);
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, 8u + qlen);
	ip_fill(ip, sip, dip, IPPROTO_ICMP, (uint16_t)(20 + 8 + qlen));
	return m;
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
	if (th_ring_ports(dp, "nat", NPORTS, RING_SZ, rxr, txr, pids) != 0)
		return -1;
	return 0;
}

/* The standard published ports. */
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

/* Every checksum the frame carries equals a full recomputation. */
static void
check_cksums(struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = ip_of(m);
	rte_be16_t carried = ip->hdr_checksum;

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

static uint16_t
src_port_of(struct rte_mbuf *m)
{
	return rte_be_to_cpu_16(((const rte_be16_t *)l4_of(m))[0]);
}

static void
check_eth_dst(struct rte_mbuf *m, const struct rte_ether_addr *dst)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	CU_ASSERT(rte_is_same_ether_addr(&eth->dst_addr, dst));
}

/* ----------------------------------------------------------------- tests */

static void
test_stage_order(void)
{
	CU_ASSERT(PL_NEXT_ARP < PL_NEXT_NAT && PL_NEXT_NAT < PL_NEXT_L3);
	CU_ASSERT_EQUAL((int)DP_STAGE_NAT, (int)PL_NEXT_NAT);
	CU_ASSERT_STRING_EQUAL(dp_stage_names[DP_STAGE_NAT], "nat");
	CU_ASSERT_STRING_EQUAL(dp_drop_names[DP_DROP_CT_FULL], "ct-full");
	CU_ASSERT_STRING_EQUAL(dp_drop_names[DP_DROP_CT_INVALID], "ct-invalid");
	CU_ASSERT_STRING_EQUAL(dp_drop_names[DP_DROP_NAT_FRAGMENT], "nat-fragment");
	CU_ASSERT_STRING_EQUAL(dp_drop_names[DP_DROP_NAT_PROTO], "nat-proto");
	CU_ASSERT_STRING_EQUAL(dp_drop_names[DP_DROP_NAT_NO_PORT], "nat-no-port");
	CU_ASSERT_EQUAL(PKT_F_NAT, 1u << 12);
}

/* -p 8080:80 from a client on the uplink: first packet, reply, later packets. */
static void
test_dnat(void)
{
	struct nat_counters sum;
	struct rte_mbuf *m;

	reset();
	publish_std();
	m = send_expect(P_UP, mk_tcp(&mac_cl, &mac_gu, ip_cl, ip_up, 40000, 8080, TCP_SYN), P_C1);
	check_tuple(m, ip_cl, 40000, ip_c1, 80);
	check_eth_dst(m, &mac_c1);
	CU_ASSERT_EQUAL(ip_of(m)->time_to_live, 63);
	CU_ASSERT_EQUAL(ctx->nat_cnt->rule_pkts[R_WEB], 1);
	CU_ASSERT_EQUAL(ctx->nat_cnt->rule_bytes[R_WEB], 20 + 20 + 10);
	CU_ASSERT_EQUAL(ct_count(nat_ct(dp)), 1);

	m = send_expect(P_C1, mk_tcp(&mac_c1, &mac_ga, ip_c1, ip_cl, 80, 40000,
				     TCP_SYN | TCP_ACK), P_UP);
	check_tuple(m, ip_up, 8080, ip_cl, 40000);
	check_eth_dst(m, &mac_cl);

	for (int i = 0; i < 3; i++) {
		m = send_expect(P_UP, mk_tcp(&mac_cl, &mac_gu, ip_cl, ip_up, 40000, 8080, TCP_ACK),
				P_C1);
		check_tuple(m, ip_cl, 40000, ip_c1, 80);
		m = send_expect(P_C1, mk_tcp(&mac_c1, &mac_ga, ip_c1, ip_cl, 80, 40000, TCP_ACK),
				P_UP);
		check_tuple(m, ip_up, 8080, ip_cl, 40000);
	}
	/* The entry followed the handshake (found by the reply key too). */
	{
		struct ct_key k = {.src_ip = rte_cpu_to_be_32(ip_c1),
				   .dst_ip = rte_cpu_to_be_32(ip_cl),
				   .src_port = RTE_BE16(80), .dst_port = RTE_BE16(40000),
				   .proto = IPPROTO_TCP};
		struct ct_conn *c;
		uint8_t dir = 9;

		c = ct_lookup(nat_ct(dp), &k, &dir);
		CU_ASSERT_FATAL(c != NULL);
		CU_ASSERT_EQUAL(dir, CT_DIR_REPLY);
		CU_ASSERT_EQUAL(CT_ST_STATE(c->st), CT_TCP_ESTABLISHED);
		CU_ASSERT(c->st & CT_F_REPLIED);
		CU_ASSERT_EQUAL(c->nat, CT_NAT_DST);
	}
	/* A rule counts connections, not packets. */
	CU_ASSERT_EQUAL(ctx->nat_cnt->rule_pkts[R_WEB], 1);
	CU_ASSERT_EQUAL(ctx->nat_cnt->translated, 8);
	CU_ASSERT_EQUAL(ct_count(nat_ct(dp)), 1);
	nat_counters_sum(dp, &sum);
	CU_ASSERT_EQUAL(sum.rule_pkts[R_WEB], 1);
	CU_ASSERT_EQUAL(sum.translated, 8);

	/* UDP, to a gateway address (every host address answers a 0.0.0.0 rule). */
	m = send_expect(P_UP, mk_udp(&mac_cl, &mac_gu, ip_cl, ip_gb, 40001, 5353), P_C1);
	check_tuple(m, ip_cl, 40001, ip_c1, 53);
	m = send_expect(P_C1, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_cl, 53, 40001), P_UP);
	check_tuple(m, ip_gb, 5353, ip_cl, 40001);
	CU_ASSERT_EQUAL(ctx->nat_cnt->rule_pkts[R_DNS], 1);
}

/* MASQUERADE: source port kept, then a collision forces another one. */
static void
test_masquerade(void)
{
	struct rte_mbuf *m;
	uint16_t p2;

	reset();
	m = send_expect(P_C1, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 5000, 53), P_UP);
	check_tuple(m, ip_up, 5000, ip_out, 53);
	check_eth_dst(m, &mac_r);
	CU_ASSERT_EQUAL(ctx->nat_cnt->masq_pkts[DOM_A], 1);
	m = send_expect(P_UP, mk_udp(&mac_r, &mac_gu, ip_out, ip_up, 53, 5000), P_C1);
	check_tuple(m, ip_out, 53, ip_c1, 5000);

	/* c2 uses the same source port to the same server: (UP:5000) is taken. */
	m = send_expect(P_C2, mk_udp(&mac_c2, &mac_ga, ip_c2, ip_out, 5000, 53), P_UP);
	p2 = src_port_of(m);
	check_tuple(m, ip_up, p2, ip_out, 53);
	CU_ASSERT(p2 != 5000 && p2 >= 1024);
	CU_ASSERT_EQUAL(ctx->nat_cnt->masq_pkts[DOM_A], 2);
	m = send_expect(P_UP, mk_udp(&mac_r, &mac_gu, ip_out, ip_up, 53, p2), P_C2);
	check_tuple(m, ip_out, 53, ip_c2, 5000);
	/* And c1's flow still maps to c1. */
	m = send_expect(P_UP, mk_udp(&mac_r, &mac_gu, ip_out, ip_up, 53, 5000), P_C1);
	check_tuple(m, ip_out, 53, ip_c1, 5000);
	/* c2's next packet keeps its port. */
	m = send_expect(P_C2, mk_udp(&mac_c2, &mac_ga, ip_c2, ip_out, 5000, 53), P_UP);
	check_tuple(m, ip_up, p2, ip_out, 53);
	CU_ASSERT_EQUAL(ct_count(nat_ct(dp)), 2);

	/* TCP, and a ping (the id plays the port). */
	m = send_expect(P_C1, mk_tcp(&mac_c1, &mac_ga, ip_c1, ip_out, 33000, 443, TCP_SYN), P_UP);
	check_tuple(m, ip_up, 33000, ip_out, 443);
	m = send_expect(P_C1, mk_echo(&mac_c1, &mac_ga, ip_c1, ip_out, RTE_IP_ICMP_ECHO_REQUEST,
				      0x4242), P_UP);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip_of(m)->src_addr), ip_up);
	check_cksums(m);
	m = send_expect(P_UP, mk_echo(&mac_r, &mac_gu, ip_out, ip_up, RTE_IP_ICMP_ECHO_REPLY,
				      0x4242), P_C1);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip_of(m)->dst_addr), ip_c1);
	check_cksums(m);
	/* The remote pinging the uplink address with that id is not the reply:
	 * not rewritten into c1 - answered by the host address (L3, no host
	 * port here). */
	m = send_expect(P_UP, mk_echo(&mac_r, &mac_gu, ip_out, ip_up, RTE_IP_ICMP_ECHO_REQUEST,
				      0x4242), P_UP);
	CU_ASSERT_EQUAL(((struct rte_icmp_hdr *)l4_of(m))->icmp_type, RTE_IP_ICMP_ECHO_REPLY);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip_of(m)->src_addr), ip_up);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip_of(m)->dst_addr), ip_out);
	check_cksums(m);
	/* And the masqueraded ping still gets its replies. */
	m = send_expect(P_UP, mk_echo(&mac_r, &mac_gu, ip_out, ip_up, RTE_IP_ICMP_ECHO_REPLY,
				      0x4242), P_C1);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip_of(m)->dst_addr), ip_c1);
	/* c2 pings with the same id: another id is chosen, and the reply finds c2. */
	m = send_expect(P_C2, mk_echo(&mac_c2, &mac_ga, ip_c2, ip_out, RTE_IP_ICMP_ECHO_REQUEST,
				      0x4242), P_UP);
	p2 = rte_be_to_cpu_16(((struct rte_icmp_hdr *)l4_of(m))->icmp_ident);
	CU_ASSERT(p2 != 0x4242);
	check_cksums(m);
	m = send_expect(P_UP, mk_echo(&mac_r, &mac_gu, ip_out, ip_up, RTE_IP_ICMP_ECHO_REPLY, p2),
			P_C2);
	CU_ASSERT_EQUAL(rte_be_to_cpu_16(((struct rte_icmp_hdr *)l4_of(m))->icmp_ident), 0x4242);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip_of(m)->dst_addr), ip_c2);
	check_cksums(m);
	/* The internal network is never masqueraded (and L3 keeps it inside). */
	send_dropped(P_I1, mk_udp(&mac_i1, &mac_gi, ip_i1, ip_out, 5000, 53), DP_DROP_INTERNAL);
	CU_ASSERT_EQUAL(ctx->nat_cnt->masq_pkts[DOM_I], 0);
}

/* Without an uplink address nothing is masqueraded (TAP mode), but tracked. */
static void
test_no_uplink_address(void)
{
	struct dp_view *v;
	struct rte_mbuf *m;

	reset();
	v = dp_view_clone(dp);
	v->nets[DOM_U].gw_ip = 0;
	dp_view_publish(dp, v);
	m = send_expect(P_C1, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 5000, 53), P_UP);
	check_tuple(m, ip_c1, 5000, ip_out, 53);
	CU_ASSERT_EQUAL(ctx->nat_cnt->masq_pkts[DOM_A], 0);
	CU_ASSERT_EQUAL(ct_count(nat_ct(dp)), 1);
	CU_ASSERT_EQUAL(pkt_meta(m)->flags & PKT_F_NAT, 0);
}

/* Hairpin: a container reaches its own network's published port via the gateway. */
static void
test_hairpin(void)
{
	struct rte_mbuf *m;
	uint16_t sp;

	reset();
	publish_std();
	m = send_expect(P_C2, mk_tcp(&mac_c2, &mac_ga, ip_c2, ip_ga, 41000, 8080, TCP_SYN), P_C1);
	sp = src_port_of(m);
	check_tuple(m, ip_ga, sp, ip_c1, 80);
	CU_ASSERT_EQUAL(sp, 41000);
	check_eth_dst(m, &mac_c1);
	CU_ASSERT_EQUAL(ctx->nat_cnt->hairpin_pkts[DOM_A], 1);
	CU_ASSERT_EQUAL(ctx->nat_cnt->rule_pkts[R_WEB], 1);
	m = send_expect(P_C1, mk_tcp(&mac_c1, &mac_ga, ip_c1, ip_ga, 80, sp, TCP_SYN | TCP_ACK),
			P_C2);
	check_tuple(m, ip_ga, 8080, ip_c2, 41000);
	check_eth_dst(m, &mac_c2);
	/* Through the uplink address too: the source is still A's gateway. */
	m = send_expect(P_C2, mk_tcp(&mac_c2, &mac_ga, ip_c2, ip_up, 41001, 8080, TCP_SYN), P_C1);
	check_tuple(m, ip_ga, src_port_of(m), ip_c1, 80);
	/* A container reaching itself through its own published port. */
	m = send_expect(P_C1, mk_tcp(&mac_c1, &mac_ga, ip_c1, ip_ga, 41002, 8080, TCP_SYN), P_C1);
	check_tuple(m, ip_ga, 41002, ip_c1, 80);
	m = send_expect(P_C1, mk_tcp(&mac_c1, &mac_ga, ip_c1, ip_ga, 80, 41002, TCP_SYN | TCP_ACK),
			P_C1);
	check_tuple(m, ip_ga, 8080, ip_c1, 41002);
	CU_ASSERT_EQUAL(ctx->nat_cnt->hairpin_pkts[DOM_A], 3);
}

/* A rule on a given host address matches that address only; 127.0.0.1 never. */
static void
test_host_ip_rules(void)
{
	struct rte_mbuf *m;

	reset();
	publish_std();
	/* 9090 is published on GB only: to the uplink address it is not DNATed. */
	send_dropped(P_UP, mk_tcp(&mac_cl, &mac_gu, ip_cl, ip_up, 40000, 9090, TCP_SYN),
		     DP_DROP_GATEWAY_LOCAL);
	send_dropped(P_UP, mk_tcp(&mac_cl, &mac_gu, ip_cl, ip_ga, 40000, 9090, TCP_SYN),
		     DP_DROP_GATEWAY_LOCAL);
	CU_ASSERT_EQUAL(ctx->nat_cnt->rule_pkts[R_GB], 0);
	m = send_expect(P_UP, mk_tcp(&mac_cl, &mac_gu, ip_cl, ip_gb, 40000, 9090, TCP_SYN), P_C1);
	check_tuple(m, ip_cl, 40000, ip_c1, 90);
	CU_ASSERT_EQUAL(ctx->nat_cnt->rule_pkts[R_GB], 1);
	/* 127.0.0.1:8081: never from the network, whatever the destination. */
	send_dropped(P_UP, mk_tcp(&mac_cl, &mac_gu, ip_cl, ip_up, 40001, 8081, TCP_SYN),
		     DP_DROP_GATEWAY_LOCAL);
	/* From a container to the uplink address, no published port there: it is
	 * dpnet's own address and nobody else's (no host port): gateway-local. */
	send_dropped(P_C2, mk_tcp(&mac_c2, &mac_ga, ip_c2, ip_up, 40005, 9090, TCP_SYN),
		     DP_DROP_GATEWAY_LOCAL);
	inject(P_UP, mk_tcp(&mac_cl, &mac_gu, ip_cl, IP4(127, 0, 0, 1), 40002, 8081, TCP_SYN));
	inject(P_C2, mk_tcp(&mac_c2, &mac_ga, ip_c2, IP4(127, 0, 0, 1), 40003, 8081, TCP_SYN));
	inject(P_C2, mk_tcp(&mac_c2, &mac_ga, ip_c2, ip_ga, 40004, 8081, TCP_SYN));
	run();
	CU_ASSERT_EQUAL(ngot[P_C1], 0);
	CU_ASSERT_EQUAL(ctx->nat_cnt->rule_pkts[R_LO], 0);
}

/* Find an ICMP error's parts: quoted IP header and its L4 bytes. */
static struct rte_ipv4_hdr *
quoted_ip(struct rte_mbuf *m)
{
	return (struct rte_ipv4_hdr *)((uint8_t *)l4_of(m) + sizeof(struct rte_icmp_hdr));
}

/* What a router quotes of the packet it got: IP header + 8 bytes. */
static void
quote_of(struct rte_mbuf *m, uint8_t *q)
{
	memcpy(q, ip_of(m), 28);
}

/* The expected quote after translation back: orig's header as a router one hop
 * later would have seen it (TTL - 1), its first 8 L4 bytes unchanged. */
static void
expect_quote(struct rte_mbuf *orig, uint8_t *q)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)q;

	memcpy(q, ip_of(orig), 28);
	ip->time_to_live--;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

static void
test_icmp_errors(void)
{
	uint8_t q[28], want[28];
	struct rte_mbuf *orig, *m;

	reset();
	publish_std();
	/* Port unreachable from the outside about a masqueraded UDP flow. */
	orig = mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 5001, 53);
	expect_quote(orig, want);
	m = send_expect(P_C1, orig, P_UP);   /* orig is consumed: want holds its copy */
	quote_of(m, q);
	m = send_expect(P_UP, mk_icmp_err(&mac_r, &mac_gu, ip_r, ip_up, 3, 3, q, 28), P_C1);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip_of(m)->src_addr), ip_r);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip_of(m)->dst_addr), ip_c1);
	CU_ASSERT(memcmp(quoted_ip(m), want, 28) == 0);
	CU_ASSERT_EQUAL(rte_raw_cksum(quoted_ip(m), 20), 0xFFFF);
	check_cksums(m);                    /* outer IP and the whole ICMP message */
	CU_ASSERT_EQUAL(ctx->nat_cnt->icmp_translated, 1);

	/* An error a DNATed container sends about what it got leaves from the host. */
	orig = mk_udp(&mac_cl, &mac_gu, ip_cl, ip_up, 40001, 5353);
	expect_quote(orig, want);
	m = send_expect(P_UP, orig, P_C1);
	quote_of(m, q);
	m = send_expect(P_C1, mk_icmp_err(&mac_c1, &mac_ga, ip_c1, ip_cl, 3, 3, q, 28), P_UP);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip_of(m)->src_addr), ip_up);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip_of(m)->dst_addr), ip_cl);
	CU_ASSERT(memcmp(quoted_ip(m), want, 28) == 0);
	check_cksums(m);
	CU_ASSERT_EQUAL(ctx->nat_cnt->icmp_translated, 2);

	/* Cut short (the quote is 10 bytes), to a host address: dropped. */
	send_dropped(P_UP, mk_icmp_err(&mac_r, &mac_gu, ip_r, ip_up, 3, 3, q, 10),
		     DP_DROP_CT_INVALID);
	/* Header complete but fewer than 8 L4 bytes: dropped too. */
	send_dropped(P_UP, mk_icmp_err(&mac_r, &mac_gu, ip_r, ip_up, 3, 3, q, 24),
		     DP_DROP_CT_INVALID);
	/* Quoting an unknown connection, to a host address: dropped. */
	((struct rte_udp_hdr *)(q + 20))->src_port = RTE_BE16(1);
	send_dropped(P_UP, mk_icmp_err(&mac_r, &mac_gu, ip_r, ip_up, 11, 0, q, 28),
		     DP_DROP_CT_INVALID);
	/* ... to a container: routed untouched. */
	m = send_expect(P_UP, mk_icmp_err(&mac_r, &mac_gu, ip_r, ip_c2, 11, 0, q, 28), P_C2);
	CU_ASSERT(memcmp(quoted_ip(m), q, 28) == 0);
	CU_ASSERT_EQUAL(ctx->nat_cnt->icmp_translated, 2);
	/* A quoted ping (time exceeded about a masqueraded echo). */
	orig = mk_echo(&mac_c1, &mac_ga, ip_c1, ip_out, RTE_IP_ICMP_ECHO_REQUEST, 0x777);
	expect_quote(orig, want);
	m = send_expect(P_C1, orig, P_UP);
	quote_of(m, q);
	m = send_expect(P_UP, mk_icmp_err(&mac_r, &mac_gu, ip_r, ip_up, 11, 0, q, 28), P_C1);
	CU_ASSERT(memcmp(quoted_ip(m), want, 28) == 0);
	check_cksums(m);
	CU_ASSERT_EQUAL(ctx->nat_cnt->icmp_translated, 3);
}

/* Incremental checksums equal full recomputation on many random packets. */
static void
test_cksum_random(void)
{
	unsigned int checked = 0, zero_udp = 0;

	reset();
	publish_std();
	for (unsigned int round = 0; round < 64; round++) {
		struct {
			uint8_t proto;
			bool dnat, nocksum;
			uint32_t peer;
			uint16_t pport, cport;
		} f[16];
		struct rte_mbuf *m;

		/* 16 new flows: masqueraded from c1, or DNATed from a client outside. */
		for (unsigned int i = 0; i < 16; i++) {
			f[i].proto = rte_rand() & 1 ? IPPROTO_TCP : IPPROTO_UDP;
			f[i].dnat = rte_rand() & 1;
			f[i].nocksum = f[i].proto == IPPROTO_UDP && (rte_rand() & 3) == 0;
			f[i].peer = IP4(11 + (rte_rand() % 90), rte_rand() & 0xFF,
					rte_rand() & 0xFF, 1 + rte_rand() % 254);
			f[i].pport = (uint16_t)(1 + rte_rand() % 65535);
			f[i].cport = (uint16_t)(1024 + rte_rand() % 60000);
			if (f[i].dnat)
				m = mk_l4(&mac_r, &mac_gu, f[i].peer, ip_up, f[i].proto, f[i].cport,
					  f[i].proto == IPPROTO_TCP ? 8080 : 5353, TCP_SYN,
					  (uint16_t)(rte_rand() % 1200), true, f[i].nocksum);
			else
				m = mk_l4(&mac_c1, &mac_ga, ip_c1, f[i].peer, f[i].proto,
					  f[i].cport, f[i].pport, TCP_SYN,
					  (uint16_t)(rte_rand() % 1200), true, f[i].nocksum);
			inject(f[i].dnat ? P_UP : P_C1, m);
		}
		run();
		CU_ASSERT_EQUAL_FATAL(total_out(), 16);
		for (unsigned int p = 0; p < NPORTS; p++)
			for (unsigned int i = 0; i < ngot[p]; i++) {
				struct rte_ipv4_hdr *ip = ip_of(got[p][i]);
				const struct rte_udp_hdr *udp = l4_of(got[p][i]);

				check_cksums(got[p][i]);
				checked++;
				if (ip->next_proto_id == IPPROTO_UDP && udp->dgram_cksum == 0)
					zero_udp++;
			}
		/* The replies, through the entries (hits). */
		for (unsigned int i = 0; i < 16; i++) {
			if (f[i].dnat)
				m = mk_l4(&mac_c1, &mac_ga, ip_c1, f[i].peer, f[i].proto,
					  f[i].proto == IPPROTO_TCP ? 80 : 53, f[i].cport,
					  TCP_SYN | TCP_ACK, (uint16_t)(rte_rand() % 1200), true,
					  f[i].nocksum);
			else
				m = mk_l4(&mac_r, &mac_gu, f[i].peer, ip_up, f[i].proto, f[i].pport,
					  f[i].cport, TCP_SYN | TCP_ACK,
					  (uint16_t)(rte_rand() % 1200), true, f[i].nocksum);
			inject(f[i].dnat ? P_C1 : P_UP, m);
		}
		run();
		CU_ASSERT_EQUAL_FATAL(total_out(), 16);
		for (unsigned int p = 0; p < NPORTS; p++)
			for (unsigned int i = 0; i < ngot[p]; i++) {
				struct rte_ipv4_hdr *ip = ip_of(got[p][i]);
				const struct rte_udp_hdr *udp = l4_of(got[p][i]);

				check_cksums(got[p][i]);
				checked++;
				if (ip->next_proto_id == IPPROTO_UDP && udp->dgram_cksum == 0)
					zero_udp++;
			}
		for (unsigned int i = 0; i < 16; i++)
			if (f[i].nocksum)
				zero_udp--;
		for (unsigned int i = 0; i < 16; i++)
			if (f[i].nocksum)
				zero_udp--;
		/* Every UDP without a checksum kept 0, and none gained one. */
		CU_ASSERT_EQUAL(zero_udp, 0);
		zero_udp = 0;
	}
	CU_ASSERT_EQUAL(checked, 64 * 32);
	CU_ASSERT_EQUAL(ctx->nat_cnt->translated, 64 * 32);
}

/* Fragments: dropped when they would need NAT, routed untouched otherwise. */
static void
test_fragments(void)
{
	struct rte_mbuf *m;

	reset();
	publish_std();
	/* First and later fragments of a masqueraded flow. */
	m = mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 5000, 53);
	make_fragment(m, 0, true);
	send_dropped(P_C1, m, DP_DROP_NAT_FRAGMENT);
	m = mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 5000, 53);
	make_fragment(m, 100, false);
	send_dropped(P_C1, m, DP_DROP_NAT_FRAGMENT);
	/* To a host address (a published port's traffic). */
	m = mk_udp(&mac_cl, &mac_gu, ip_cl, ip_up, 40000, 5353);
	make_fragment(m, 0, true);
	send_dropped(P_UP, m, DP_DROP_NAT_FRAGMENT);
	m = mk_udp(&mac_cl, &mac_gu, ip_cl, ip_up, 40000, 5353);
	make_fragment(m, 3, false);
	send_dropped(P_UP, m, DP_DROP_NAT_FRAGMENT);
	/* From the uplink to a container (no translation): routed untouched. */
	m = mk_udp(&mac_cl, &mac_gu, ip_cl, ip_c2, 40000, 53);
	make_fragment(m, 0, true);
	m = send_expect(P_UP, m, P_C2);
	check_tuple(m, ip_cl, 40000, ip_c2, 53);
	m = mk_udp(&mac_cl, &mac_gu, ip_cl, ip_c2, 40000, 53);
	make_fragment(m, 7, false);
	m = send_expect(P_UP, m, P_C2);
	CU_ASSERT_EQUAL(rte_be_to_cpu_16(ip_of(m)->fragment_offset), 7);
	CU_ASSERT_EQUAL(ctx->nat_cnt->masq_pkts[DOM_A], 0);
	CU_ASSERT_EQUAL(ct_count(nat_ct(dp)), 0);
	/* Without MASQUERADE (no uplink address) a container's fragments leave
	 * untouched, unless it is a published port's container (its replies are
	 * translated). */
	{
		struct dp_view *v = dp_view_clone(dp);

		v->nets[DOM_U].gw_ip = 0;
		dp_view_publish(dp, v);
	}
	m = mk_udp(&mac_c2, &mac_ga, ip_c2, ip_out, 5000, 53);
	make_fragment(m, 9, false);
	m = send_expect(P_C2, m, P_UP);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip_of(m)->src_addr), ip_c2);
	m = mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 80, 53);
	make_fragment(m, 9, false);
	send_dropped(P_C1, m, DP_DROP_NAT_FRAGMENT);
	setup_view();
	/* Other protocols (GRE): the same rule, nat-proto. */
	m = mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 5000, 53);
	ip_of(m)->next_proto_id = 47;
	ip_of(m)->hdr_checksum = 0;
	ip_of(m)->hdr_checksum = rte_ipv4_cksum(ip_of(m));
	send_dropped(P_C1, m, DP_DROP_NAT_PROTO);
	m = mk_udp(&mac_cl, &mac_gu, ip_cl, ip_c2, 40000, 53);
	ip_of(m)->next_proto_id = 47;
	ip_of(m)->hdr_checksum = 0;
	ip_of(m)->hdr_checksum = rte_ipv4_cksum(ip_of(m));
	m = send_expect(P_UP, m, P_C2);
	CU_ASSERT_EQUAL(ip_of(m)->next_proto_id, 47);
}

/* A full table refuses new connections; an existing one keeps flowing. */
static void
test_ct_full(void)
{
	struct nat_params np;
	struct ct_stats st;
	struct rte_mbuf *m;

	reset();
	test_params(&np);
	np.ct.max_conns = 4;
	np.snat_port_lo = 6000;
	np.snat_port_hi = 6003;
	CU_ASSERT_EQUAL_FATAL(nat_configure(dp, &np), 0);
	for (uint16_t i = 0; i < 4; i++) {
		m = send_expect(P_C1, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 6000 + i, 53), P_UP);
		check_tuple(m, ip_up, 6000 + i, ip_out, 53);
	}
	CU_ASSERT_EQUAL(ct_count(nat_ct(dp)), 4);
	send_dropped(P_C1, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 6004, 53), DP_DROP_CT_FULL);
	/* Its port taken as well (every port of the range is): still the table
	 * that is full, not nat-no-port. */
	send_dropped(P_C2, mk_udp(&mac_c2, &mac_ga, ip_c2, ip_out, 6000, 53), DP_DROP_CT_FULL);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_NAT_NO_PORT], 0);
	send_dropped(P_UP, mk_udp(&mac_cl, &mac_gu, ip_cl, ip_c2, 6005, 53), DP_DROP_CT_FULL);
	m = send_expect(P_UP, mk_udp(&mac_r, &mac_gu, ip_out, ip_up, 53, 6002), P_C1);
	check_tuple(m, ip_out, 53, ip_c1, 6002);
	m = send_expect(P_C1, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 6003, 53), P_UP);
	check_tuple(m, ip_up, 6003, ip_out, 53);
	/* Traffic that is not tracked is unaffected. */
	send_expect(P_C1, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_c2, 6006, 53), P_C2);
	ct_stats_get(nat_ct(dp), &st);
	CU_ASSERT_EQUAL(st.refused_full, 3);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_CT_FULL], 3);
}

/* A first packet that cannot open a connection is dropped when NAT applies. */
static void
test_ct_invalid(void)
{
	struct nat_params np;
	struct rte_mbuf *m;

	reset();
	publish_std();
	send_dropped(P_UP, mk_tcp(&mac_cl, &mac_gu, ip_cl, ip_up, 40000, 8080, TCP_SYN | TCP_ACK),
		     DP_DROP_CT_INVALID);
	send_dropped(P_UP, mk_tcp(&mac_cl, &mac_gu, ip_cl, ip_up, 40000, 8080, TCP_RST),
		     DP_DROP_CT_INVALID);
	/* Masqueraded: an echo reply cannot start a connection. */
	send_dropped(P_C1, mk_echo(&mac_c1, &mac_ga, ip_c1, ip_out, RTE_IP_ICMP_ECHO_REPLY, 9),
		     DP_DROP_CT_INVALID);
	CU_ASSERT_EQUAL(ctx->nat_cnt->rule_pkts[R_WEB], 0);
	CU_ASSERT_EQUAL(ct_count(nat_ct(dp)), 0);
	/* Without NAT such a packet is routed, untracked. */
	m = send_expect(P_UP, mk_tcp(&mac_cl, &mac_gu, ip_cl, ip_c2, 40000, 80, TCP_SYN | TCP_ACK),
			P_C2);
	check_tuple(m, ip_cl, 40000, ip_c2, 80);
	CU_ASSERT_EQUAL(ctx->nat_cnt->untracked, 1);
	/* A bare ACK: picked up mid-stream with tcp_loose (the default), not without. */
	m = send_expect(P_UP, mk_tcp(&mac_cl, &mac_gu, ip_cl, ip_up, 40001, 8080, TCP_ACK), P_C1);
	check_tuple(m, ip_cl, 40001, ip_c1, 80);
	test_params(&np);
	np.ct.tcp_loose = false;
	CU_ASSERT_EQUAL_FATAL(nat_configure(dp, &np), 0);
	send_dropped(P_UP, mk_tcp(&mac_cl, &mac_gu, ip_cl, ip_up, 40002, 8080, TCP_ACK),
		     DP_DROP_CT_INVALID);
	m = send_expect(P_UP, mk_tcp(&mac_cl, &mac_gu, ip_cl, ip_up, 40002, 8080, TCP_SYN), P_C1);
	check_tuple(m, ip_cl, 40002, ip_c1, 80);
}

/* nat_rules_set refuses bad sets and keeps the old one. */
static void
test_rules_api(void)
{
	struct nat_rule r[3] = {
		{.host_port = 7000, .ctr_ip = ip_c1, .ctr_port = 70, .id = 1, .proto = IPPROTO_TCP},
		{.host_port = 7001, .ctr_ip = ip_c2, .ctr_port = 71, .id = 2, .proto = IPPROTO_TCP},
		{.host_port = 7002, .ctr_ip = ip_c2, .ctr_port = 72, .id = 3, .proto = IPPROTO_UDP},
	};
	struct nat_rule bad[3];
	struct rte_mbuf *m;

	reset();
	CU_ASSERT_EQUAL_FATAL(nat_rules_set(dp, r, 1), 0);
	memcpy(bad, r, sizeof(r));
	bad[2].host_port = 7000;
	bad[2].proto = IPPROTO_TCP;                      /* same key as bad[0] */
	CU_ASSERT_EQUAL(nat_rules_set(dp, bad, 3), -EEXIST);
	memcpy(bad, r, sizeof(r));
	bad[1].id = 1;                                   /* id repeated */
	CU_ASSERT_EQUAL(nat_rules_set(dp, bad, 3), -EINVAL);
	memcpy(bad, r, sizeof(r));
	bad[1].id = NAT_MAX_RULES;                       /* id out of range */
	CU_ASSERT_EQUAL(nat_rules_set(dp, bad, 3), -EINVAL);
	memcpy(bad, r, sizeof(r));
	bad[2].proto = IPPROTO_ICMP;                     /* bad proto */
	CU_ASSERT_EQUAL(nat_rules_set(dp, bad, 3), -EINVAL);
	memcpy(bad, r, sizeof(r));
	bad[2].ctr_ip = 0;
	CU_ASSERT_EQUAL(nat_rules_set(dp, bad, 3), -EINVAL);
	CU_ASSERT_EQUAL(nat_rules_set(dp, r, NAT_MAX_RULES + 1), -EINVAL);
	/* The first set still rules: 7000 works, 7001 (only in the refused sets) not. */
	m = send_expect(P_UP, mk_tcp(&mac_cl, &mac_gu, ip_cl, ip_up, 40000, 7000, TCP_SYN), P_C1);
	check_tuple(m, ip_cl, 40000, ip_c1, 70);
	send_dropped(P_UP, mk_tcp(&mac_cl, &mac_gu, ip_cl, ip_up, 40000, 7001, TCP_SYN),
		     DP_DROP_GATEWAY_LOCAL);
	/* The full set; existing connections keep their translation. */
	CU_ASSERT_EQUAL_FATAL(nat_rules_set(dp, r, 3), 0);
	m = send_expect(P_UP, mk_tcp(&mac_cl, &mac_gu, ip_cl, ip_up, 40000, 7001, TCP_SYN), P_C2);
	check_tuple(m, ip_cl, 40000, ip_c2, 71);
	m = send_expect(P_UP, mk_udp(&mac_cl, &mac_gu, ip_cl, ip_up, 40000, 7002), P_C2);
	check_tuple(m, ip_cl, 40000, ip_c2, 72);
	CU_ASSERT_EQUAL_FATAL(nat_rules_set(dp, NULL, 0), 0);
	m = send_expect(P_UP, mk_tcp(&mac_cl, &mac_gu, ip_cl, ip_up, 40000, 7000, TCP_ACK), P_C1);
	check_tuple(m, ip_cl, 40000, ip_c1, 70);
	send_dropped(P_UP, mk_tcp(&mac_cl, &mac_gu, ip_cl, ip_up, 40009, 7000, TCP_SYN),
		     DP_DROP_GATEWAY_LOCAL);
	/* Many rule sets in a row (unique table names, old ones freed). */
	for (int i = 0; i < 50; i++)
		CU_ASSERT_EQUAL(nat_rules_set(dp, r, 3), 0);
	CU_ASSERT_EQUAL(nat_configure(dp, &(struct nat_params){.snat_port_lo = 2000,
							       .snat_port_hi = 1000}), -EINVAL);
}

/* nat_expire removes connections whose timeout passed, and only those. */
static void
test_expire(void)
{
	struct nat_params np;

	reset();
	send_expect(P_C1, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 5000, 53), P_UP);
	send_expect(P_C1, mk_tcp(&mac_c1, &mac_ga, ip_c1, ip_out, 5000, 80, TCP_SYN), P_UP);
	CU_ASSERT_EQUAL(ct_count(nat_ct(dp)), 2);
	CU_ASSERT_EQUAL(nat_expire(dp, 1u << 20), 0);       /* 30 s, 120 s: not yet */
	CU_ASSERT_EQUAL(ct_count(nat_ct(dp)), 2);
	/* One "second" is one TSC cycle now: every timeout has passed at once. */
	test_params(&np);
	np.ct.tsc_hz = 1;
	CU_ASSERT_EQUAL_FATAL(nat_configure(dp, &np), 0);
	send_expect(P_C1, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 5000, 53), P_UP);
	send_expect(P_C1, mk_tcp(&mac_c1, &mac_ga, ip_c1, ip_out, 5000, 80, TCP_SYN), P_UP);
	CU_ASSERT_EQUAL(ct_count(nat_ct(dp)), 2);
	rte_delay_us_block(1000);                           /* > 120 cycles */
	CU_ASSERT_EQUAL(nat_expire(dp, 1u << 20), 2);
	CU_ASSERT_EQUAL(ct_count(nat_ct(dp)), 0);
	/* The reply no longer finds its connection: not translated back. */
	send_dropped(P_UP, mk_udp(&mac_r, &mac_gu, ip_out, ip_up, 53, 5000), DP_DROP_GATEWAY_LOCAL);
}

static void
test_flush_ip(void)
{
	reset();
	publish_std();
	send_expect(P_C1, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 5000, 53), P_UP);
	send_expect(P_UP, mk_tcp(&mac_cl, &mac_gu, ip_cl, ip_up, 40000, 8080, TCP_SYN), P_C1);
	send_expect(P_C2, mk_udp(&mac_c2, &mac_ga, ip_c2, ip_out, 5000, 53), P_UP);
	CU_ASSERT_EQUAL(ct_count(nat_ct(dp)), 3);
	/* c1 is in the first key of one and the reply key of the other. */
	CU_ASSERT_EQUAL(nat_flush_ip(dp, ip_c1), 2);
	CU_ASSERT_EQUAL(ct_count(nat_ct(dp)), 1);
	CU_ASSERT_EQUAL(nat_flush_ip(dp, ip_c1), 0);
	CU_ASSERT_EQUAL(nat_flush_ip(dp, ip_up), 1);        /* c2's masqueraded flow */
	CU_ASSERT_EQUAL(ct_count(nat_ct(dp)), 0);
}

/* A published port is public: reachable from another bridge network (through
 * the host address), while plain traffic between networks stays isolated. */
static void
test_isolation(void)
{
	struct rte_mbuf *m;

	reset();
	publish_std();
	m = send_expect(P_B1, mk_tcp(&mac_b1, &mac_gb, ip_b1, ip_gb, 42000, 8080, TCP_SYN), P_C1);
	CU_ASSERT(pkt_meta(m)->flags & PKT_F_NAT);
	check_tuple(m, ip_ga, 42000, ip_c1, 80);
	check_eth_dst(m, &mac_c1);
	CU_ASSERT_EQUAL(ctx->nat_cnt->hairpin_pkts[DOM_A], 1);
	m = send_expect(P_C1, mk_tcp(&mac_c1, &mac_ga, ip_c1, ip_ga, 80, 42000, TCP_SYN | TCP_ACK),
			P_B1);
	check_tuple(m, ip_gb, 8080, ip_b1, 42000);
	check_eth_dst(m, &mac_b1);
	m = send_expect(P_B1, mk_tcp(&mac_b1, &mac_gb, ip_b1, ip_up, 42001, 8080, TCP_SYN), P_C1);
	check_tuple(m, ip_ga, 42001, ip_c1, 80);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_ISOLATED], 0);
	/* Direct: isolated, and no connection recorded for it. */
	CU_ASSERT_EQUAL(ct_count(nat_ct(dp)), 2);
	send_dropped(P_B1, mk_tcp(&mac_b1, &mac_gb, ip_b1, ip_c1, 42002, 80, TCP_SYN),
		     DP_DROP_ISOLATED);
	send_dropped(P_C1, mk_tcp(&mac_c1, &mac_ga, ip_c1, ip_b1, 80, 42002, TCP_SYN | TCP_ACK),
		     DP_DROP_ISOLATED);
	CU_ASSERT_EQUAL(ct_count(nat_ct(dp)), 2);
	/* The internal network reaches no published port. */
	send_dropped(P_I1, mk_tcp(&mac_i1, &mac_gi, ip_i1, ip_gi, 42003, 8080, TCP_SYN),
		     DP_DROP_NO_NEIGHBOUR);
	CU_ASSERT_EQUAL(ctx->nat_cnt->rule_pkts[R_WEB], 2);
}

/* A connection's packets are taken only from the domain each direction comes
 * from: a masqueraded flow's replies from the uplink, a published port's from
 * the container's network; the same tuple from elsewhere is ct-invalid (it
 * would otherwise be translated, and PKT_F_NAT lets it past isolation). */
static void
test_conn_domains(void)
{
	uint8_t q[28];
	struct rte_mbuf *m;
	struct ct_conn *c;
	struct ct_key k;
	uint8_t dir;

	reset();
	publish_std();
	m = send_expect(P_C1, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 5000, 53), P_UP);
	quote_of(m, q);
	memset(&k, 0, sizeof(k));
	k.src_ip = rte_cpu_to_be_32(ip_c1);
	k.dst_ip = rte_cpu_to_be_32(ip_out);
	k.src_port = RTE_BE16(5000);
	k.dst_port = RTE_BE16(53);
	k.proto = IPPROTO_UDP;
	c = ct_lookup(nat_ct(dp), &k, &dir);
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL(c->dom[CT_DIR_ORIG], DOM_A);
	CU_ASSERT_EQUAL(c->dom[CT_DIR_REPLY], DOM_U);
	/* The reply's tuple sent from network B: not delivered to c1. */
	send_dropped(P_B1, mk_udp(&mac_b1, &mac_gb, ip_out, ip_up, 53, 5000), DP_DROP_CT_INVALID);
	/* c1's own tuple from B (spoofed source): not masqueraded either. */
	send_dropped(P_B1, mk_udp(&mac_b1, &mac_gb, ip_c1, ip_out, 5000, 53), DP_DROP_CT_INVALID);
	/* An ICMP error about it from B: not translated into A. */
	send_dropped(P_B1, mk_icmp_err(&mac_b1, &mac_gb, ip_b1, ip_up, 3, 3, q, 28),
		     DP_DROP_CT_INVALID);
	CU_ASSERT_EQUAL(ctx->nat_cnt->icmp_translated, 0);
	/* The real reply and error still arrive. */
	m = send_expect(P_UP, mk_udp(&mac_r, &mac_gu, ip_out, ip_up, 53, 5000), P_C1);
	check_tuple(m, ip_out, 53, ip_c1, 5000);
	m = send_expect(P_UP, mk_icmp_err(&mac_r, &mac_gu, ip_r, ip_up, 3, 3, q, 28), P_C1);
	CU_ASSERT_EQUAL(ctx->nat_cnt->icmp_translated, 1);

	/* A published port: the client's side from the uplink, the reply from A. */
	m = send_expect(P_UP, mk_tcp(&mac_cl, &mac_gu, ip_cl, ip_up, 40000, 8080, TCP_SYN), P_C1);
	send_dropped(P_B1, mk_tcp(&mac_b1, &mac_gb, ip_c1, ip_cl, 80, 40000, TCP_SYN | TCP_ACK),
		     DP_DROP_CT_INVALID);
	m = send_expect(P_C1, mk_tcp(&mac_c1, &mac_ga, ip_c1, ip_cl, 80, 40000,
				     TCP_SYN | TCP_ACK), P_UP);
	check_tuple(m, ip_up, 8080, ip_cl, 40000);
	/* The client's tuple from a bridge network: not DNATed into c1. */
	send_dropped(P_B1, mk_tcp(&mac_b1, &mac_gb, ip_cl, ip_up, 40000, 8080, TCP_ACK),
		     DP_DROP_CT_INVALID);
	m = send_expect(P_UP, mk_tcp(&mac_cl, &mac_gu, ip_cl, ip_up, 40000, 8080, TCP_ACK), P_C1);
	check_tuple(m, ip_cl, 40000, ip_c1, 80);
	/* Reached from network B (hairpin): B's side from B, the reply from A. */
	m = send_expect(P_B1, mk_tcp(&mac_b1, &mac_gb, ip_b1, ip_gb, 42000, 8080, TCP_SYN), P_C1);
	check_tuple(m, ip_ga, 42000, ip_c1, 80);
	m = send_expect(P_C1, mk_tcp(&mac_c1, &mac_ga, ip_c1, ip_ga, 80, 42000, TCP_SYN | TCP_ACK),
			P_B1);
	check_tuple(m, ip_gb, 8080, ip_b1, 42000);
	send_dropped(P_UP, mk_tcp(&mac_cl, &mac_gu, ip_c1, ip_ga, 80, 42000, TCP_ACK),
		     DP_DROP_CT_INVALID);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_ISOLATED], 0);
}

/* A rule whose container is in an --internal network translates nothing:
 * neither from the uplink nor from a bridge network (whose hairpin source,
 * the internal network's gateway, L3 would let in). */
static void
test_dnat_internal(void)
{
	const struct nat_rule rules[] = {
		{.host_ip = 0, .host_port = 7100, .ctr_ip = ip_i1, .ctr_port = 80, .id = 3,
		 .proto = IPPROTO_TCP},
	};

	reset();
	CU_ASSERT_EQUAL_FATAL(nat_rules_set(dp, rules, 1), 0);
	inject(P_C2, mk_tcp(&mac_c2, &mac_ga, ip_c2, ip_ga, 43000, 7100, TCP_SYN));
	run();
	CU_ASSERT_EQUAL(ngot[P_I1], 0);
	inject(P_UP, mk_tcp(&mac_cl, &mac_gu, ip_cl, ip_up, 43001, 7100, TCP_SYN));
	inject(P_B1, mk_tcp(&mac_b1, &mac_gb, ip_b1, ip_up, 43002, 7100, TCP_SYN));
	run();
	CU_ASSERT_EQUAL(ngot[P_I1], 0);
	CU_ASSERT_EQUAL(ctx->nat_cnt->rule_pkts[3], 0);
	CU_ASSERT_EQUAL(ctx->nat_cnt->hairpin_pkts[DOM_I], 0);
	CU_ASSERT_EQUAL(ctx->nat_cnt->translated, 0);
	CU_ASSERT_EQUAL(ct_count(nat_ct(dp)), 0);
}

/* Pings of a network's own gateway are answered by L3 and never tracked. */
static void
test_gateway_ping(void)
{
	struct rte_mbuf *m;

	reset();
	publish_std();
	for (int i = 0; i < 3; i++) {
		m = send_expect(P_C1, mk_echo(&mac_c1, &mac_ga, ip_c1, ip_ga,
					      RTE_IP_ICMP_ECHO_REQUEST, 0x99), P_C1);
		CU_ASSERT_EQUAL(((struct rte_icmp_hdr *)l4_of(m))->icmp_type,
				RTE_IP_ICMP_ECHO_REPLY);
		CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip_of(m)->src_addr), ip_ga);
		check_cksums(m);
	}
	m = send_expect(P_B1, mk_echo(&mac_b1, &mac_gb, ip_b1, ip_gb, RTE_IP_ICMP_ECHO_REQUEST, 1),
			P_B1);
	check_cksums(m);
	CU_ASSERT_EQUAL(ct_count(nat_ct(dp)), 0);
	CU_ASSERT_EQUAL(ctx->cnt.icmp_echo_replies, 4);
	/* Two containers of one network through the gateway: routed, not tracked. */
	m = send_expect(P_C1, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_c2, 1, 2), P_C2);
	check_tuple(m, ip_c1, 1, ip_c2, 2);
	CU_ASSERT_EQUAL(ct_count(nat_ct(dp)), 0);
}

/* A burst holding several packets of one new connection makes one entry. */
static void
test_same_burst(void)
{
	reset();
	publish_std();
	for (int i = 0; i < 5; i++)
		inject(P_C1, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 5000, 53));
	for (int i = 0; i < 5; i++)
		inject(P_UP, mk_udp(&mac_cl, &mac_gu, ip_cl, ip_up, 40000 + (i & 1), 5353));
	run();
	CU_ASSERT_EQUAL_FATAL(ngot[P_UP], 5);
	CU_ASSERT_EQUAL_FATAL(ngot[P_C1], 5);
	for (int i = 0; i < 5; i++) {
		check_tuple(got[P_UP][i], ip_up, 5000, ip_out, 53);
		check_tuple(got[P_C1][i], ip_cl, 40000 + (i & 1), ip_c1, 53);
	}
	CU_ASSERT_EQUAL(ct_count(nat_ct(dp)), 3);
	CU_ASSERT_EQUAL(ctx->nat_cnt->masq_pkts[DOM_A], 1);
	CU_ASSERT_EQUAL(ctx->nat_cnt->rule_pkts[R_DNS], 2);
}

/* Every source port of a small range taken: nat-no-port, never a hang. */
static void
test_no_port(void)
{
	struct nat_params np;
	struct rte_mbuf *m;

	reset();
	test_params(&np);
	np.snat_port_lo = 3000;
	np.snat_port_hi = 3001;
	CU_ASSERT_EQUAL_FATAL(nat_configure(dp, &np), 0);
	/* c1 takes UP:3000 and UP:3001 to the server (ports kept) ... */
	send_expect(P_C1, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 3000, 53), P_UP);
	send_expect(P_C1, mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 3001, 53), P_UP);
	/* ... c2's 3000 collides and the range is full. */
	send_dropped(P_C2, mk_udp(&mac_c2, &mac_ga, ip_c2, ip_out, 3000, 53), DP_DROP_NAT_NO_PORT);
	/* To another server the ports are free again. */
	m = send_expect(P_C2, mk_udp(&mac_c2, &mac_ga, ip_c2, IP4(9, 9, 9, 9), 3000, 53), P_UP);
	check_tuple(m, ip_up, 3000, IP4(9, 9, 9, 9), 53);
}

/* TTL 1 on its way out through MASQUERADE: time exceeded goes to the container
 * and quotes the packet as it sent it (no source NAT first, no entry). */
static void
test_ttl_expired(void)
{
	struct rte_mbuf *m;
	struct rte_ipv4_hdr *ip, *q;

	reset();
	m = mk_udp(&mac_c1, &mac_ga, ip_c1, ip_out, 5000, 53);
	ip = ip_of(m);
	ip->time_to_live = 1;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	m = send_expect(P_C1, m, P_C1);
	ip = ip_of(m);
	CU_ASSERT_EQUAL_FATAL(ip->next_proto_id, IPPROTO_ICMP);
	CU_ASSERT_EQUAL(((struct rte_icmp_hdr *)l4_of(m))->icmp_type, 11 /* time exceeded */);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip->dst_addr), ip_c1);
	q = (struct rte_ipv4_hdr *)((uint8_t *)l4_of(m) + sizeof(struct rte_icmp_hdr));
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(q->src_addr), ip_c1);
	CU_ASSERT_EQUAL(rte_be_to_cpu_16(((const rte_be16_t *)(q + 1))[0]), 5000);
	check_cksums(m);
	CU_ASSERT_EQUAL(ct_count(nat_ct(dp)), 0);
	CU_ASSERT_EQUAL(ctx->nat_cnt->masq_pkts[DOM_A], 0);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_TTL_EXCEEDED], 1);
}

/* Errors L3 sends about a packet the NAT stage translated (a published port's,
 * DNATed before routing) quote it as its source sent it: TTL exceeded, and
 * net unreachable when the container's address has no route. */
static void
test_errors_untranslated(void)
{
	const struct nat_rule rules[] = {
		{.host_ip = 0, .host_port = 8080, .ctr_ip = ip_c1, .ctr_port = 80, .id = 1,
		 .proto = IPPROTO_TCP},
		{.host_ip = 0, .host_port = 7200, .ctr_ip = IP4(10, 99, 0, 5), .ctr_port = 80,
		 .id = 2, .proto = IPPROTO_TCP},
	};
	const struct l3_nexthop bh = {.type = L3_NH_BLACKHOLE};
	struct rte_ipv4_hdr *ip, *q;
	struct rte_mbuf *m;
	const rte_be16_t *qp;

	reset();
	CU_ASSERT_EQUAL_FATAL(nat_rules_set(dp, rules, RTE_DIM(rules)), 0);
	CU_ASSERT_EQUAL_FATAL(l3_route_add(dp, IP4(10, 99, 0, 0), 16, &bh), 0);
	for (int i = 0; i < 2; i++) {
		m = mk_tcp(&mac_cl, &mac_gu, ip_cl, ip_up, 44000, i == 0 ? 8080 : 7200, TCP_SYN);
		ip = ip_of(m);
		if (i == 0) {
			ip->time_to_live = 1;
			ip->hdr_checksum = 0;
			ip->hdr_checksum = rte_ipv4_cksum(ip);
		}
		m = send_expect(P_UP, m, P_UP);
		ip = ip_of(m);
		CU_ASSERT_EQUAL_FATAL(ip->next_proto_id, IPPROTO_ICMP);
		CU_ASSERT_EQUAL(((struct rte_icmp_hdr *)l4_of(m))->icmp_type,
				i == 0 ? 11 /* time exceeded */ : 3 /* unreachable */);
		CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip->src_addr), ip_up);
		CU_ASSERT_EQUAL(rte_be_to_cpu_32(ip->dst_addr), ip_cl);
		q = quoted_ip(m);
		qp = (const rte_be16_t *)(q + 1);
		CU_ASSERT_EQUAL(rte_be_to_cpu_32(q->src_addr), ip_cl);
		CU_ASSERT_EQUAL(rte_be_to_cpu_32(q->dst_addr), ip_up);
		CU_ASSERT_EQUAL(rte_be_to_cpu_16(qp[0]), 44000);
		CU_ASSERT_EQUAL(rte_be_to_cpu_16(qp[1]), i == 0 ? 8080 : 7200);
		CU_ASSERT_EQUAL(rte_raw_cksum(q, 20), 0xFFFF);
		check_cksums(m);
	}
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_TTL_EXCEEDED], 1);
	CU_ASSERT_EQUAL(ctx->cnt.drops[DP_DROP_NO_ROUTE], 1);
	CU_ASSERT_EQUAL(ctx->cnt.icmp_errors, 2);
	CU_ASSERT_EQUAL(l3_route_del(dp, IP4(10, 99, 0, 0), 16), 0);
}

/* cksum_ipv4_hdr_ok's 32-bit sum equals the 16-bit one on random headers,
 * right and wrong, with and without options; and the NIC's verdict rules. */
static void
test_ip_hdr_cksum_fast(void)
{
	struct rte_mempool *mp = rte_pktmbuf_pool_create("ckfast", 63, 0, 0,
							 RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	struct rte_mbuf *m;
	unsigned int right = 0, wrong = 0;

	CU_ASSERT_FATAL(mp != NULL);
	m = rte_pktmbuf_alloc(mp);
	CU_ASSERT_FATAL(m != NULL);
	for (unsigned int i = 0; i < 200000; i++) {
		uint8_t b[60];
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)b;
		unsigned int ihl = (i & 7) == 0 ? 5 + (unsigned int)(rte_rand() % 11) : 5;
		bool want;

		for (unsigned int k = 0; k < sizeof(b); k += 8) {
			uint64_t r = rte_rand();

			memcpy(b + k, &r, RTE_MIN(sizeof(r), sizeof(b) - k));
		}
		ip->version_ihl = (uint8_t)(0x40 | ihl);
		if (i & 1) {
			ip->hdr_checksum = 0;
			ip->hdr_checksum = (uint16_t)~rte_raw_cksum(ip, ihl * 4);
		}
		if ((i & 6) == 6)
			memset(b, 0, ihl * 4);   /* all zero: a sum of 0, never right */
		if ((i & 6) == 6)
			ip->version_ihl = (uint8_t)(0x40 | ihl);
		want = rte_raw_cksum(ip, ihl * 4) == 0xFFFF;
		m->ol_flags = 0;
		CU_ASSERT_EQUAL(cksum_ipv4_hdr_ok(m, ip), want);
		right += want;
		wrong += !want;
	}
	CU_ASSERT(right > 50000 && wrong > 50000);
	m->ol_flags = RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	CU_ASSERT(cksum_ipv4_hdr_ok(m, (const struct rte_ipv4_hdr *)"\x45"
				    "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"));
	m->ol_flags = RTE_MBUF_F_RX_IP_CKSUM_BAD;
	CU_ASSERT(!cksum_ipv4_hdr_ok(m, (const struct rte_ipv4_hdr *)"\x45"
				     "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"));
	rte_pktmbuf_free(m);
	rte_mempool_free(mp);
}

int
main(int argc, char **argv)
{
	CU_pSuite s;
	unsigned int failed;

	(void)argc;
	(void)argv;
	if (th_eal_init("t_nat") < 0)
		return 77;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("nat", suite_init, NULL);
	CU_add_test(s, "stage order, names", test_stage_order);
	CU_add_test(s, "IPv4 header check: 32-bit sum = 16-bit sum", test_ip_hdr_cksum_fast);
	CU_add_test(s, "DNAT: first and later packets, both ways", test_dnat);
	CU_add_test(s, "MASQUERADE: port kept, collision", test_masquerade);
	CU_add_test(s, "no uplink address: no MASQUERADE", test_no_uplink_address);
	CU_add_test(s, "hairpin", test_hairpin);
	CU_add_test(s, "rules on a host address, 127.0.0.1", test_host_ip_rules);
	CU_add_test(s, "ICMP errors translated", test_icmp_errors);
	CU_add_test(s, "incremental checksums = full (random)", test_cksum_random);
	CU_add_test(s, "fragments, other protocols", test_fragments);
	CU_add_test(s, "full table: ct-full", test_ct_full);
	CU_add_test(s, "invalid first packets: ct-invalid", test_ct_invalid);
	CU_add_test(s, "rule set API", test_rules_api);
	CU_add_test(s, "expiry", test_expire);
	CU_add_test(s, "flush by address", test_flush_ip);
	CU_add_test(s, "published port across networks, isolation", test_isolation);
	CU_add_test(s, "connections bound to their domains", test_conn_domains);
	CU_add_test(s, "no DNAT into an internal network", test_dnat_internal);
	CU_add_test(s, "gateway pings untracked", test_gateway_ping);
	CU_add_test(s, "one connection per burst", test_same_burst);
	CU_add_test(s, "source ports exhausted: nat-no-port", test_no_port);
	CU_add_test(s, "TTL 1: time exceeded before source NAT", test_ttl_expired);
	CU_add_test(s, "L3's errors quote the untranslated packet", test_errors_untranslated);
	failed = th_run();
	release();
	dp_destroy(dp);
	rte_eal_cleanup();
	return failed ? 1 : 0;
}
