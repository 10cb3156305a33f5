/*
 * test_vxlan.c - overlays in the data plane (dataplane/vxlan.h): decapsulation
 * and its drop reasons, learning remote MACs with their VTEP, encapsulation
 * (checked byte by byte against a hand-built frame), the outer source port,
 * too-big, routes and neighbours of the peers, head-end replication and split
 * horizon, ARP suppression, answers back through the tunnel, the routed
 * overlay of the contract, and the overlay table's validation.
 *
 * As test_neigh_dp.c: a real data plane on net_ring ports, one worker
 * iteration on the main thread per run(); the test plays control. Topology:
 *
 *   port 0, 1  domain 0  overlay O 10.1.0.0/24, gateway .1 (GO), VNI 42,
 *                        c1 (port 0), c2 (port 1); peers P1, P2, P3
 *   port 2     domain 1  uplink U 192.0.2.2/24 (the NIC's MAC), the VTEP;
 *                        P1 192.0.2.10 and P2 .11 on-link, P3 198.51.100.7
 *                        via the router 192.0.2.1; P4 .12 has no neighbour
 * Remote MACs r1 (behind P1) and r2 (behind P2); a routed remote host H with
 * subnet 10.2.0.0/24 behind P1, VTEP MAC mh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_random.h>
#include <rte_ring.h>
#include <rte_tcp.h>
#include <rte_udp.h>
#include <rte_vxlan.h>

#include "harness.h"
#include "dataplane/dp.h"
#include "dataplane/fdb.h"
#include "dataplane/l3.h"
#include "dataplane/l3_private.h"
#include "dataplane/neigh.h"
#include "dataplane/offload.h"
#include "dataplane/pipeline.h"
#include "dataplane/pkt.h"
#include "dataplane/vxlan.h"
#include "dataplane/vxlan_private.h"

#define NPORTS 3
#define RING_SZ 256
#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define VNI 42

enum { DOM_O = 0, DOM_U = 1 };
enum { P_C1 = 0, P_C2 = 1, P_U = 2 };

static struct dp *dp;
static struct lcore_ctx *ctx;
static struct rte_ring *rxr[NPORTS], *txr[NPORTS];
static uint16_t pids[NPORTS];

static const struct rte_ether_addr mac_go = {{0x02, 0, 0, 0, 0x0a, 0x01}};
static const struct rte_ether_addr mac_nic = {{0x52, 0x54, 0, 0x12, 0x34, 0x56}};
static const struct rte_ether_addr mac_c1 = {{0x02, 0x42, 0x0a, 0x01, 0, 0x02}};
static const struct rte_ether_addr mac_c2 = {{0x02, 0x42, 0x0a, 0x01, 0, 0x03}};
static const struct rte_ether_addr mac_r1 = {{0x02, 0x42, 0x0a, 0x01, 0, 0x51}};
static const struct rte_ether_addr mac_r2 = {{0x02, 0x42, 0x0a, 0x01, 0, 0x52}};
static const struct rte_ether_addr mac_r3 = {{0x02, 0x42, 0x0a, 0x01, 0, 0x53}};
static const struct rte_ether_addr mac_new = {{0x02, 0x42, 0x0a, 0x01, 0, 0x77}};
static const struct rte_ether_addr mac_mh = {{0x0e, 0, 0, 0, 0, 0x0b}};  /* H's VTEP MAC */
static const struct rte_ether_addr mac_p1 = {{0x02, 0xee, 0, 0, 0, 0x10}};
static const struct rte_ether_addr mac_p2 = {{0x02, 0xee, 0, 0, 0, 0x11}};
static const struct rte_ether_addr mac_rt = {{0x02, 0xee, 0, 0, 0, 0x01}};   /* 192.0.2.1 */
static const struct rte_ether_addr mac_bcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
static const struct rte_ether_addr mac_zero = {{0}};

static const uint32_t ip_go = IP4(10, 1, 0, 1), ip_c1 = IP4(10, 1, 0, 2);
static const uint32_t ip_c2 = IP4(10, 1, 0, 3), ip_r1 = IP4(10, 1, 0, 50);
static const uint32_t ip_vtep = IP4(192, 0, 2, 2);
static const uint32_t ip_p1 = IP4(192, 0, 2, 10), ip_p2 = IP4(192, 0, 2, 11);
static const uint32_t ip_p3 = IP4(198, 51, 100, 7), ip_p4 = IP4(192, 0, 2, 12);
static const uint32_t ip_rt = IP4(192, 0, 2, 1);
static const uint32_t ip_h_net = IP4(10, 2, 0, 0), ip_h5 = IP4(10, 2, 0, 5);

/* ------------------------------------------------------------------ frames */

/* Independent of DPDK's: the one's-complement sum as RFC 1071 writes it. */
static uint16_t
ref_cksum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xFFFF) + (s >> 16);
	return (uint16_t)~s;
}

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

/* An Ethernet/IPv4/UDP frame into buf (len bytes, >= 42), valid checksums. */
static size_t
udp_bytes(uint8_t *buf, size_t len, const struct rte_ether_addr *src,
	  const struct rte_ether_addr *dst, uint32_t sip, uint32_t dip, uint16_t sport,
	  uint16_t dport)
{
	memset(buf, 0, len);
	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	put16(buf + 12, RTE_ETHER_TYPE_IPV4);
	buf[14] = 0x45;
	put16(buf + 16, (uint16_t)(len - 14));
	buf[22] = 64;
	buf[23] = IPPROTO_UDP;
	put32(buf + 26, sip);
	put32(buf + 30, dip);
	put16(buf + 24, ref_cksum(buf + 14, 20));
	put16(buf + 34, sport);
	put16(buf + 36, dport);
	put16(buf + 38, (uint16_t)(len - 34));
	for (size_t i = 42; i < len; i++)
		buf[i] = (uint8_t)i;
	return len;
}

static size_t
arp_bytes(uint8_t *buf, const struct rte_ether_addr *src, const struct rte_ether_addr *dst,
	  uint16_t op, uint32_t sip, uint32_t tip)
{
	memset(buf, 0, 60);
	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	put16(buf + 12, RTE_ETHER_TYPE_ARP);
	put16(buf + 14, 1);
	put16(buf + 16, RTE_ETHER_TYPE_IPV4);
	buf[18] = 6;
	buf[19] = 4;
	put16(buf + 20, op);
	memcpy(buf + 22, src, 6);
	put32(buf + 28, sip);
	put32(buf + 38, tip);
	return 60;
}

/* What VXLAN's outer headers around inner should be (the test's own build).
 * Returns the frame length; fl/vni are the raw 32-bit words of the header. */
static size_t
vx_bytes(uint8_t *buf, const struct rte_ether_addr *src, const struct rte_ether_addr *dst,
	 uint32_t sip, uint32_t dip, uint16_t sport, uint16_t dport, uint32_t fl, uint32_t vni_w,
	 uint16_t ip_id, uint16_t frag, uint8_t ttl, const uint8_t *inner, size_t inner_len)
{
	size_t len = 50 + inner_len;

	memset(buf, 0, 50);
	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	put16(buf + 12, RTE_ETHER_TYPE_IPV4);
	buf[14] = 0x45;
	put16(buf + 16, (uint16_t)(len - 14));
	put16(buf + 18, ip_id);
	put16(buf + 20, frag);
	buf[22] = ttl;
	buf[23] = IPPROTO_UDP;
	put32(buf + 26, sip);
	put32(buf + 30, dip);
	put16(buf + 24, ref_cksum(buf + 14, 20));
	put16(buf + 34, sport);
	put16(buf + 36, dport);
	put16(buf + 38, (uint16_t)(len - 34));
	put32(buf + 42, fl);
	put32(buf + 46, vni_w);
	memcpy(buf + 50, inner, inner_len);
	return len;
}

/* A VXLAN frame from peer sip to our VTEP, as a good peer sends it. */
static size_t
vx_from(uint8_t *buf, uint32_t sip, const uint8_t *inner, size_t inner_len)
{
	return vx_bytes(buf, &mac_p1, &mac_nic, sip, ip_vtep, 50000, VXLAN_PORT_DEFAULT,
			0x08000000, VNI << 8, 0, 0x4000, 64, inner, inner_len);
}

static struct rte_mbuf *
mk(const uint8_t *bytes, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp->pool);
	uint8_t *p;

	CU_ASSERT_FATAL(m != NULL);
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	CU_ASSERT_FATAL(p != NULL);
	memcpy(p, bytes, len);
	return m;
}

/* ------------------------------------------------------------- plumbing */

static struct rte_mbuf *got[NPORTS][RING_SZ];
static unsigned int ngot[NPORTS];
static struct rte_mbuf *punted[DP_PUNT_RING];
static unsigned int npunted;
static uint64_t drops0[DP_DROP_MAX];

static void
inject(unsigned int port, struct rte_mbuf *m)
{
	CU_ASSERT_FATAL(rte_ring_enqueue(rxr[port], m) == 0);
}

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
	memcpy(drops0, ctx->cnt.drops, sizeof(drops0));
	dp_worker_poll_once(ctx);
	for (unsigned int p = 0; p < NPORTS; p++)
		ngot[p] = rte_ring_dequeue_burst(txr[p], (void **)got[p], RING_SZ, NULL);
	npunted = rte_ring_dequeue_burst(dp->punt, (void **)punted, DP_PUNT_RING, NULL);
}

/* Drops of one reason in the last run(). */
static uint64_t
dropped(enum dp_drop r)
{
	return ctx->cnt.drops[r] - drops0[r];
}

static uint64_t
dropped_total(void)
{
	uint64_t t = 0;

	for (unsigned int r = 0; r < DP_DROP_MAX; r++)
		t += ctx->cnt.drops[r] - drops0[r];
	return t;
}

static unsigned int
total_out(void)
{
	return ngot[0] + ngot[1] + ngot[2] + npunted;
}

static bool
same_bytes(struct rte_mbuf *m, const uint8_t *want, size_t len)
{
	if (rte_pktmbuf_pkt_len(m) != len || rte_pktmbuf_data_len(m) != len)
		return false;
	return memcmp(rte_pktmbuf_mtod(m, const uint8_t *), want, len) == 0;
}

/* The inner frame of a sent VXLAN frame, and its outer destination address. */
static const uint8_t *
inner_of(struct rte_mbuf *m, uint32_t *dip)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);

	*dip = (uint32_t)p[30] << 24 | (uint32_t)p[31] << 16 | (uint32_t)p[32] << 8 | p[33];
	return p + 50;
}

/* ----------------------------------------------------------- set-up */

static void
publish_view(uint8_t extra_u_flags, uint16_t u_mtu)
{
	struct dp_view *v = dp_view_clone(dp);
	static const uint16_t dom_of[NPORTS] = {DOM_O, DOM_O, DOM_U};

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
	v->nets[DOM_O] = (struct dp_net_view){.gw_ip = ip_go, .subnet = IP4(10, 1, 0, 0),
		.prefix_len = 24, .flags = DP_NET_F_L3 | DP_NET_F_OVERLAY, .mtu = 1450,
		.gw_mac = mac_go};
	v->nets[DOM_U] = (struct dp_net_view){.gw_ip = ip_vtep, .subnet = IP4(192, 0, 2, 0),
		.prefix_len = 24, .flags = (uint8_t)(DP_NET_F_L3 | DP_NET_F_UPLINK |
						     DP_NET_F_VTEP | extra_u_flags),
		.mtu = u_mtu, .gw_mac = mac_nic};
	v->uplink_port = pids[P_U];
	v->host_port = RTE_MAX_ETHPORTS;
	dp_view_publish(dp, v);
	ctx->view = dp_view_get(dp);
}

static void
set_overlay(void)
{
	static const uint32_t peers[] = {IP4(192, 0, 2, 10), IP4(192, 0, 2, 11),
					 IP4(198, 51, 100, 7)};
	static const uint32_t arp_ip[] = {IP4(10, 1, 0, 50)};
	static const struct rte_ether_addr arp_mac[] = {{{0x02, 0x42, 0x0a, 0x01, 0, 0x51}}};
	const struct vxlan_net_spec spec = {.domain = DOM_O, .vni = VNI, .n_peers = 3,
		.peers = peers, .n_arp = 1, .arp_ip = arp_ip, .arp_mac = arp_mac};
	const struct vxlan_params prm = {.udp_port = VXLAN_PORT_DEFAULT, .ttl = 64, .df = true};

	CU_ASSERT_EQUAL_FATAL(vxlan_set(dp, &spec, 1), 0);
	CU_ASSERT_EQUAL_FATAL(vxlan_configure(dp, &prm), 0);
}

/* A clean state: view, overlay, static MACs of the local containers and the
 * remotes, routes and neighbours. */
static void
reset(void)
{
	uint64_t now = rte_rdtsc();
	const struct l3_nexthop via_h = {.type = L3_NH_GATEWAY, .domain = DOM_O,
					 .gw_ip = ip_h_net};
	const struct l3_nexthop con_o = {.type = L3_NH_CONNECTED, .domain = DOM_O};
	const struct l3_nexthop con_u = {.type = L3_NH_CONNECTED, .domain = DOM_U};
	const struct l3_nexthop via_rt = {.type = L3_NH_GATEWAY, .domain = DOM_U, .gw_ip = ip_rt};

	release();
	publish_view(0, 1500);
	set_overlay();
	fdb_flush_domain(dp->fdb, DOM_O);
	fdb_flush_domain(dp->fdb, DOM_U);
	fdb_learn_drain(dp->fdb, now);
	fdb_flush_domain(dp->fdb, DOM_O);
	/* Learned requests of a previous test would come back: drop them. */
	memset(ctx->learn_key, 0, sizeof(ctx->learn_key));
	CU_ASSERT(fdb_add(dp->fdb, DOM_O, &mac_c1, pids[P_C1], true, now) == 0);
	CU_ASSERT(fdb_add(dp->fdb, DOM_O, &mac_c2, pids[P_C2], true, now) == 0);
	/* The peers' MACs on the uplink are known: only overlay MACs get learned. */
	CU_ASSERT(fdb_add(dp->fdb, DOM_U, &mac_p1, pids[P_U], true, now) == 0);
	CU_ASSERT(fdb_add_remote(dp->fdb, DOM_O, &mac_r1, ip_p1, false, now) == 0);
	CU_ASSERT(fdb_add_remote(dp->fdb, DOM_O, &mac_r2, ip_p2, false, now) == 0);
	CU_ASSERT(fdb_add_remote(dp->fdb, DOM_O, &mac_mh, ip_p1, true, now) == 0);
	l3_route_del(dp, IP4(10, 1, 0, 0), 24);
	l3_route_del(dp, IP4(192, 0, 2, 0), 24);
	l3_route_del(dp, IP4(198, 51, 100, 0), 24);
	l3_route_del(dp, ip_h_net, 24);
	l3_route_del(dp, IP4(10, 77, 0, 0), 16);
	CU_ASSERT(l3_route_add(dp, IP4(10, 1, 0, 0), 24, &con_o) == 0);
	CU_ASSERT(l3_route_add(dp, IP4(192, 0, 2, 0), 24, &con_u) == 0);
	CU_ASSERT(l3_route_add(dp, IP4(198, 51, 100, 0), 24, &via_rt) == 0);
	CU_ASSERT(l3_route_add(dp, ip_h_net, 24, &via_h) == 0);
	CU_ASSERT(l3_route_add(dp, IP4(10, 77, 0, 0), 16, &con_o) == 0);
	CU_ASSERT(l3_neigh_add(dp, DOM_U, ip_p1, &mac_p1) == 0);
	CU_ASSERT(l3_neigh_add(dp, DOM_U, ip_p2, &mac_p2) == 0);
	CU_ASSERT(l3_neigh_add(dp, DOM_U, ip_rt, &mac_rt) == 0);
	CU_ASSERT(l3_neigh_add(dp, DOM_O, ip_h_net, &mac_mh) == 0);
	CU_ASSERT(l3_neigh_add(dp, DOM_O, ip_c1, &mac_c1) == 0);
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
	if (th_ring_ports(dp, "vx", NPORTS, RING_SZ, rxr, txr, pids) != 0)
		return -1;
	return 0;
}

static int
suite_clean(void)
{
	release();
	dp_destroy(dp);
	return 0;
}

/* The position of (domain, mac) in the MAC table, or negative. */
static const struct fdb_entry *
entry_of(uint16_t dom, const struct rte_ether_addr *mac)
{
	uint64_t key = fdb_key(dom, mac);
	int32_t pos = rte_hash_lookup(dp->fdb->hash, &key);

	return pos >= 0 ? &dp->fdb->entries[pos] : NULL;
}

/* ----------------------------------------------------------------- tests */

/* A valid frame from P1: the inner frame reaches c1 unchanged, its source is
 * learned as remote behind P1, and the pseudo-port counts it. */
static void
test_decap_valid(void)
{
	uint8_t in[80], out[200];
	size_t il = udp_bytes(in, 80, &mac_new, &mac_c1, IP4(10, 1, 0, 60), ip_c1, 1, 2);
	size_t ol = vx_from(out, ip_p1, in, il);
	uint64_t rx0 = ctx->cnt.ports[DP_PORT_VXLAN].rx_pkts;
	const struct fdb_entry *e;

	reset();
	inject(P_U, mk(out, ol));
	run();
	CU_ASSERT_EQUAL(total_out(), 1);
	CU_ASSERT_EQUAL_FATAL(ngot[P_C1], 1);
	CU_ASSERT(same_bytes(got[P_C1][0], in, il));
	CU_ASSERT_EQUAL(ctx->cnt.ports[DP_PORT_VXLAN].rx_pkts, rx0 + 1);
	CU_ASSERT_EQUAL(dropped_total(), 0);
	CU_ASSERT(entry_of(DOM_O, &mac_new) == NULL);
	CU_ASSERT_EQUAL(fdb_learn_drain(dp->fdb, rte_rdtsc()), 1);
	e = entry_of(DOM_O, &mac_new);
	CU_ASSERT_FATAL(e != NULL);
	CU_ASSERT_EQUAL(e->port, DP_PORT_VXLAN);
	CU_ASSERT_EQUAL(e->vtep, ip_p1);
	CU_ASSERT_FALSE(e->is_static);
}

/* A learned remote MAC moves in place: to another peer, then to a local port. */
static void
test_decap_moves(void)
{
	uint8_t in[80], out[200];
	size_t il = udp_bytes(in, 80, &mac_r1, &mac_c1, ip_r1, ip_c1, 1, 2), ol;
	const struct fdb_entry *e;
	uint64_t moves0 = ctx->cnt.fdb_moves;

	reset();
	e = entry_of(DOM_O, &mac_r1);
	CU_ASSERT_FATAL(e != NULL);
	CU_ASSERT_EQUAL(e->vtep, ip_p1);
	ol = vx_from(out, ip_p2, in, il);
	inject(P_U, mk(out, ol));
	run();
	CU_ASSERT_EQUAL(ngot[P_C1], 1);
	CU_ASSERT_EQUAL(e->port, DP_PORT_VXLAN);
	CU_ASSERT_EQUAL(e->vtep, ip_p2);
	CU_ASSERT_EQUAL(ctx->cnt.fdb_moves, moves0 + 1);
	/* The same frame again: no move. */
	inject(P_U, mk(out, ol));
	run();
	CU_ASSERT_EQUAL(ctx->cnt.fdb_moves, moves0 + 1);
	/* Now from local port 1: local, no VTEP. */
	udp_bytes(in, 80, &mac_r1, &mac_c1, ip_r1, ip_c1, 1, 2);
	inject(P_C2, mk(in, il));
	run();
	CU_ASSERT_EQUAL(ngot[P_C1], 1);
	CU_ASSERT_EQUAL(e->port, pids[P_C2]);
	/* e->vtep keeps its stale value: it means something only while the port
	 * is DP_PORT_VXLAN (a reader that loaded the old port must not find 0). */
	CU_ASSERT_EQUAL(ctx->cnt.fdb_moves, moves0 + 2);
}

/* Send one outer frame; it must be dropped for reason r and nothing sent. */
static void
expect_drop(const uint8_t *b, size_t len, enum dp_drop r)
{
	inject(P_U, mk(b, len));
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(dropped(r), 1);
	CU_ASSERT_EQUAL(dropped_total(), 1);
	if (dropped(r) != 1)
		fprintf(stderr, "expected drop %s\n", dp_drop_names[r]);
}

static void
test_decap_drops(void)
{
	uint8_t in[80], b[200];
	size_t il = udp_bytes(in, 80, &mac_r1, &mac_c1, ip_r1, ip_c1, 1, 2), ol;

	reset();
	/* Flags: no I bit; another flag; a reserved byte of the flags word; the
	 * reserved byte after the VNI. */
	ol = vx_bytes(b, &mac_p1, &mac_nic, ip_p1, ip_vtep, 50000, 4789, 0, VNI << 8, 0, 0x4000,
		      64, in, il);
	expect_drop(b, ol, DP_DROP_VXLAN_BAD_FLAGS);
	vx_bytes(b, &mac_p1, &mac_nic, ip_p1, ip_vtep, 50000, 4789, 0x0C000000, VNI << 8, 0,
		 0x4000, 64, in, il);
	expect_drop(b, ol, DP_DROP_VXLAN_BAD_FLAGS);
	vx_bytes(b, &mac_p1, &mac_nic, ip_p1, ip_vtep, 50000, 4789, 0x08000100, VNI << 8, 0,
		 0x4000, 64, in, il);
	expect_drop(b, ol, DP_DROP_VXLAN_BAD_FLAGS);
	vx_bytes(b, &mac_p1, &mac_nic, ip_p1, ip_vtep, 50000, 4789, 0x08000000, VNI << 8 | 1, 0,
		 0x4000, 64, in, il);
	expect_drop(b, ol, DP_DROP_VXLAN_BAD_FLAGS);
	/* Unknown VNI; unknown peer (a VTEP that is nobody's peer). */
	vx_bytes(b, &mac_p1, &mac_nic, ip_p1, ip_vtep, 50000, 4789, 0x08000000, 43 << 8, 0,
		 0x4000, 64, in, il);
	expect_drop(b, ol, DP_DROP_VXLAN_UNKNOWN_VNI);
	vx_from(b, ip_p4, in, il);
	expect_drop(b, ol, DP_DROP_VXLAN_UNKNOWN_PEER);
	/* Bad outer checksum. */
	vx_from(b, ip_p1, in, il);
	b[25] ^= 0x5a;
	expect_drop(b, ol, DP_DROP_BAD_IP_CKSUM);
	/* UDP length: shorter than UDP + VXLAN + Ethernet; longer than the IPv4
	 * payload (the parser refuses that one already). */
	vx_from(b, ip_p1, in, il);
	put16(b + 38, 29);
	expect_drop(b, ol, DP_DROP_VXLAN_MALFORMED);
	put16(b + 38, (uint16_t)(ol - 34 + 1));
	expect_drop(b, ol, DP_DROP_MALFORMED);
	/* Truncated at each boundary, the lengths telling the truth: after the UDP
	 * header, after the VXLAN header, inside the inner Ethernet header. */
	for (size_t cut = 42; cut <= 60; cut += 8) {
		size_t n = cut == 58 ? 60 : cut;   /* 50, then 60: 10 bytes of Ethernet */

		vx_from(b, ip_p1, in, il);
		put16(b + 16, (uint16_t)(n - 14));
		put16(b + 24, 0);
		put16(b + 24, ref_cksum(b + 14, 20));
		put16(b + 38, (uint16_t)(n - 34));
		expect_drop(b, n, DP_DROP_VXLAN_MALFORMED);
	}
	/* Truncated inside the outer IPv4 or UDP header: the parser's. */
	vx_from(b, ip_p1, in, il);
	expect_drop(b, 30, DP_DROP_MALFORMED);
	expect_drop(b, 38, DP_DROP_MALFORMED);
	/* An inner frame that does not parse (IPv4 header cut). */
	{
		uint8_t bad[40];

		memcpy(bad, in, sizeof(bad));
		ol = vx_from(b, ip_p1, bad, 20);
		expect_drop(b, ol, DP_DROP_MALFORMED);
	}
	/* The outer headers split across two segments (after the UDP header). */
	{
		struct rte_mbuf *m, *m2;

		ol = vx_from(b, ip_p1, in, il);
		m = mk(b, 46);
		m2 = mk(b + 46, ol - 46);
		CU_ASSERT_FATAL(rte_pktmbuf_chain(m, m2) == 0);
		inject(P_U, m);
		run();
		CU_ASSERT_EQUAL(total_out(), 0);
		CU_ASSERT_EQUAL(dropped(DP_DROP_VXLAN_MALFORMED), 1);
	}
	/* Ethernet padding after the datagram is not part of the inner frame. */
	{
		uint8_t small[60];
		size_t sl = udp_bytes(small, 60, &mac_r1, &mac_c1, ip_r1, ip_c1, 1, 2);

		ol = vx_from(b, ip_p1, small, sl);
		memset(b + ol, 0xee, 8);
		inject(P_U, mk(b, ol + 8));
		run();
		CU_ASSERT_EQUAL_FATAL(ngot[P_C1], 1);
		CU_ASSERT(same_bytes(got[P_C1][0], small, sl));
	}
}

/* UDP to another port, or to another address: not ours, the bridge's (then
 * NAT's), untouched; vxdec's own inner frames go on to the bridge. */
static void
test_decap_not_ours(void)
{
	uint8_t in[80], b[200];
	size_t il = udp_bytes(in, 80, &mac_r1, &mac_c1, ip_r1, ip_c1, 1, 2), ol;
	struct rte_mbuf *ms[3];

	reset();
	ol = vx_bytes(b, &mac_p1, &mac_nic, ip_p1, ip_vtep, 50000, 8472, 0x08000000, VNI << 8, 0,
		      0x4000, 64, in, il);
	ms[0] = mk(b, ol);
	vx_bytes(b, &mac_p1, &mac_nic, ip_p1, IP4(192, 0, 2, 99), 50000, 4789, 0x08000000,
		 VNI << 8, 0, 0x4000, 64, in, il);
	ms[1] = mk(b, ol);
	vx_from(b, ip_p1, in, il);
	ms[2] = mk(b, ol);
	for (int i = 0; i < 3; i++) {
		struct pkt_meta *meta = pkt_meta(ms[i]);

		CU_ASSERT_EQUAL(parse_one(ms[i]), 0);
		meta->in_port = pids[P_U];
		meta->domain = DOM_U;
		meta->next = PL_NEXT_VXDEC;
	}
	CU_ASSERT_EQUAL(vxlan_decap_stage(ctx, ms, 2), 2);
	for (int i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(pkt_meta(ms[i])->next, PL_NEXT_BRIDGE);
		CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(ms[i]), ol);
		CU_ASSERT_EQUAL(pkt_meta(ms[i])->in_port, pids[P_U]);
	}
	CU_ASSERT(memcmp(rte_pktmbuf_mtod(ms[0], uint8_t *) + 36, "\x21\x18", 2) == 0);
	/* The real one, through the same call: decapsulated, for the bridge of its
	 * overlay, which sends it to c1. */
	CU_ASSERT_EQUAL(vxlan_decap_stage(ctx, ms + 2, 1), 1);
	CU_ASSERT_EQUAL(pkt_meta(ms[2])->next, PL_NEXT_BRIDGE);
	CU_ASSERT_EQUAL(pkt_meta(ms[2])->in_port, DP_PORT_VXLAN);
	CU_ASSERT_EQUAL(pkt_meta(ms[2])->domain, DOM_O);
	CU_ASSERT_EQUAL(pkt_meta(ms[2])->nh_ip, ip_p1);
	CU_ASSERT_EQUAL(br_stage(ctx, ms + 2, 1), 1);
	CU_ASSERT_EQUAL(pkt_meta(ms[2])->next, PL_NEXT_TX);
	CU_ASSERT_EQUAL(pkt_meta(ms[2])->out_port, pids[P_C1]);
	rte_pktmbuf_free_bulk(ms, 3);
	/* Through the pipeline: the host's UDP service goes on to NAT and L3, and
	 * never through vxdec (the parser sends only VXLAN for us there). */
	vx_bytes(b, &mac_p1, &mac_nic, ip_p1, ip_vtep, 50000, 8472, 0x08000000, VNI << 8, 0,
		 0x4000, 64, in, il);
	{
		uint64_t nat0 = ctx->cnt.stages[DP_STAGE_NAT].pkts;
		uint64_t dec0 = ctx->cnt.stages[DP_STAGE_VXDEC].pkts;

		inject(P_U, mk(b, ol));
		run();
		CU_ASSERT_EQUAL(ctx->cnt.stages[DP_STAGE_VXDEC].pkts, dec0);
		CU_ASSERT_EQUAL(ctx->cnt.stages[DP_STAGE_NAT].pkts, nat0 + 1);
		for (unsigned int r = DP_DROP_VXLAN_MALFORMED; r <= DP_DROP_VXLAN_NO_ROUTE; r++)
			CU_ASSERT_EQUAL(dropped(r), 0);
	}
}

/*
 * Decapsulation in round one (vxlan.h): in one burst from the uplink, the
 * parser hands vxdec only VXLAN for our VTEP from a good source; the other
 * frames (another UDP port, another address, another destination MAC, a
 * multicast outer source) are bridged as before, in the same bridge call as
 * the decapsulated frames, each learned where it belongs.
 */
static void
test_decap_mixed_burst(void)
{
	static const struct rte_ether_addr mac_mc = {{0x03, 0xee, 0, 0, 0, 0x10}};
	uint8_t in[80], in2[80], b[200];
	size_t il = udp_bytes(in, 80, &mac_r1, &mac_c1, ip_r1, ip_c1, 1, 2), ol;
	uint64_t dec0 = ctx->cnt.stages[DP_STAGE_VXDEC].pkts;
	uint64_t nat0 = ctx->cnt.stages[DP_STAGE_NAT].pkts;
	uint64_t br0 = ctx->cnt.stages[DP_STAGE_BRIDGE].calls;
	uint64_t rx0 = ctx->cnt.ports[DP_PORT_VXLAN].rx_pkts;
	const struct fdb_entry *e;

	reset();
	udp_bytes(in2, 80, &mac_new, &mac_c2, IP4(10, 1, 0, 61), ip_c2, 3, 4);
	/* The host's UDP service on the VTEP address (NAT's). */
	ol = vx_bytes(b, &mac_p1, &mac_nic, ip_p1, ip_vtep, 50000, 8472, 0x08000000, VNI << 8, 0,
		      0x4000, 64, in, il);
	inject(P_U, mk(b, ol));
	/* VXLAN from P1: r1 -> c1. */
	vx_from(b, ip_p1, in, il);
	inject(P_U, mk(b, ol));
	/* The VXLAN port, another address of the uplink's subnet (NAT's). */
	vx_bytes(b, &mac_p1, &mac_nic, ip_p1, IP4(192, 0, 2, 99), 50000, 4789, 0x08000000,
		 VNI << 8, 0, 0x4000, 64, in, il);
	inject(P_U, mk(b, ol));
	/* VXLAN from P2: new -> c2. */
	vx_from(b, ip_p2, in2, il);
	inject(P_U, mk(b, ol));
	/* To another MAC than the gateway's: bridged in the uplink's domain. */
	vx_bytes(b, &mac_p1, &mac_p2, ip_p1, ip_vtep, 50000, 4789, 0x08000000, VNI << 8, 0,
		 0x4000, 64, in, il);
	inject(P_U, mk(b, ol));
	/* A multicast outer source: the bridge's bad-src-mac, as for any frame. */
	vx_bytes(b, &mac_mc, &mac_nic, ip_p1, ip_vtep, 50000, 4789, 0x08000000, VNI << 8, 0,
		 0x4000, 64, in, il);
	inject(P_U, mk(b, ol));
	run();
	/* Both took the parser's fast path: decapsulated in its loop (vxlan.h). */
	CU_ASSERT_EQUAL(ctx->cnt.stages[DP_STAGE_VXDEC].pkts, dec0);
	CU_ASSERT_EQUAL(ctx->cnt.stages[DP_STAGE_NAT].pkts, nat0 + 2);
	CU_ASSERT_EQUAL(ctx->cnt.stages[DP_STAGE_BRIDGE].calls, br0 + 1);
	CU_ASSERT_EQUAL(ctx->cnt.ports[DP_PORT_VXLAN].rx_pkts, rx0 + 2);
	CU_ASSERT_EQUAL(dropped(DP_DROP_BAD_SRC_MAC), 1);
	CU_ASSERT_EQUAL_FATAL(ngot[P_C1], 1);
	CU_ASSERT(same_bytes(got[P_C1][0], in, il));
	CU_ASSERT_EQUAL_FATAL(ngot[P_C2], 1);
	CU_ASSERT(same_bytes(got[P_C2][0], in2, il));
	/* r1 stays behind P1; new is learned behind P2, the outer source P1's MAC
	 * on the uplink port, locally. */
	e = entry_of(DOM_O, &mac_r1);
	CU_ASSERT_FATAL(e != NULL);
	CU_ASSERT_EQUAL(e->port, DP_PORT_VXLAN);
	CU_ASSERT_EQUAL(e->vtep, ip_p1);
	fdb_learn_drain(dp->fdb, rte_rdtsc());
	e = entry_of(DOM_O, &mac_new);
	CU_ASSERT_FATAL(e != NULL);
	CU_ASSERT_EQUAL(e->port, DP_PORT_VXLAN);
	CU_ASSERT_EQUAL(e->vtep, ip_p2);
	e = entry_of(DOM_U, &mac_p1);
	CU_ASSERT_FATAL(e != NULL);
	CU_ASSERT_EQUAL(e->port, pids[P_U]);
	CU_ASSERT_EQUAL(e->vtep, 0);
}

/* Bursts of every shape through the decap stage, called directly. */
static void
test_decap_bursts(void)
{
	static const uint16_t sizes[] = {0, 1, 3, 4, 5, 32, 33, 64};
	uint8_t in[80], b[200];
	size_t il = udp_bytes(in, 80, &mac_r1, &mac_c1, ip_r1, ip_c1, 1, 2), ol;
	struct rte_mbuf *ms[64];

	reset();
	ol = vx_from(b, ip_p1, in, il);
	for (unsigned int s = 0; s < RTE_DIM(sizes); s++) {
		uint16_t n = sizes[s];

		for (uint16_t i = 0; i < n; i++) {
			/* Every third from an unknown peer. */
			vx_from(b, i % 3 == 2 ? ip_p4 : ip_p1, in, il);
			ms[i] = mk(b, ol);
			CU_ASSERT_EQUAL(parse_one(ms[i]), 0);
			pkt_meta(ms[i])->in_port = pids[P_U];
			pkt_meta(ms[i])->domain = DOM_U;
		}
		CU_ASSERT_EQUAL(vxlan_decap_stage(ctx, ms, n), n);
		/* What it decapsulated goes on to the bridge (as pl_run does). */
		{
			struct rte_mbuf *sel[64];
			uint16_t k = 0;

			for (uint16_t i = 0; i < n; i++)
				if (pkt_meta(ms[i])->next == PL_NEXT_BRIDGE)
					sel[k++] = ms[i];
			CU_ASSERT_EQUAL(k, n - n / 3);
			CU_ASSERT_EQUAL(br_stage(ctx, sel, k), k);
		}
		for (uint16_t i = 0; i < n; i++) {
			struct pkt_meta *meta = pkt_meta(ms[i]);

			if (i % 3 == 2) {
				CU_ASSERT_EQUAL(meta->next, PL_NEXT_DROP);
				CU_ASSERT_EQUAL(meta->drop_reason, DP_DROP_VXLAN_UNKNOWN_PEER);
			} else {
				CU_ASSERT_EQUAL(meta->next, PL_NEXT_TX);
				CU_ASSERT_EQUAL(meta->out_port, pids[P_C1]);
				CU_ASSERT(same_bytes(ms[i], in, il));
			}
		}
		if (n > 0)
			rte_pktmbuf_free_bulk(ms, n);
	}
}

/* A new table (a peer removed, the VNI moved, no overlay, the peer back) is
 * seen by the very next burst, even when it lands at the old table's address. */
static void
test_decap_table_swap(void)
{
	static const uint32_t others[] = {IP4(192, 0, 2, 11)};
	const struct vxlan_net_spec no_p1 = {.domain = DOM_O, .vni = VNI, .n_peers = 1,
		.peers = others};
	const struct vxlan_net_spec vni2 = {.domain = DOM_O, .vni = VNI + 1, .n_peers = 1,
		.peers = &ip_p1};
	uint8_t in[80], b[200];
	size_t il = udp_bytes(in, 80, &mac_r1, &mac_c1, ip_r1, ip_c1, 1, 2);
	size_t ol = vx_from(b, ip_p1, in, il);

	reset();
	for (int round = 0; round < 2; round++) {
		inject(P_U, mk(b, ol));
		run();
		CU_ASSERT_EQUAL(ngot[P_C1], 1);
		CU_ASSERT_EQUAL(dropped_total(), 0);
		release();
		CU_ASSERT_EQUAL_FATAL(vxlan_set(dp, &no_p1, 1), 0);
		expect_drop(b, ol, DP_DROP_VXLAN_UNKNOWN_PEER);
		release();
		CU_ASSERT_EQUAL_FATAL(vxlan_set(dp, &vni2, 1), 0);
		expect_drop(b, ol, DP_DROP_VXLAN_UNKNOWN_VNI);
		release();
		CU_ASSERT_EQUAL_FATAL(vxlan_set(dp, NULL, 0), 0);
		expect_drop(b, ol, DP_DROP_VXLAN_UNKNOWN_VNI);
		release();
		set_overlay();
	}
}

/* c1 to r1 (behind P1): the frame the Linux vxlan device expects, exactly. */
static void
test_encap_bytes(void)
{
	uint8_t in[100], want[200];
	size_t il = udp_bytes(in, 100, &mac_c1, &mac_r1, ip_c1, ip_r1, 1234, 80), wl;
	uint64_t tx0 = ctx->cnt.ports[DP_PORT_VXLAN].tx_pkts;
	struct rte_mbuf *probe;
	uint16_t sport;

	reset();
	probe = mk(in, il);
	CU_ASSERT_EQUAL(parse_one(probe), 0);
	sport = vxlan_src_port(probe);
	rte_pktmbuf_free(probe);
	CU_ASSERT(sport >= VXLAN_SPORT_MIN);
	wl = vx_bytes(want, &mac_nic, &mac_p1, ip_vtep, ip_p1, sport, 4789, 0x08000000, VNI << 8,
		      0, 0x4000, 64, in, il);
	/* Spelled out: flags 0x08, VNI 42 << 8, DF, UDP checksum 0. */
	CU_ASSERT(memcmp(want + 42, "\x08\x00\x00\x00\x00\x00\x2a\x00", 8) == 0);
	CU_ASSERT(want[20] == 0x40 && want[21] == 0 && want[40] == 0 && want[41] == 0);
	CU_ASSERT(want[36] == 0x12 && want[37] == 0xb5);
	inject(P_C1, mk(in, il));
	run();
	CU_ASSERT_EQUAL(total_out(), 1);
	CU_ASSERT_EQUAL_FATAL(ngot[P_U], 1);
	CU_ASSERT(same_bytes(got[P_U][0], want, wl));
	CU_ASSERT_EQUAL(ctx->cnt.ports[DP_PORT_VXLAN].tx_pkts, tx0 + 1);
	/* The outer IPv4 checksum verifies. */
	CU_ASSERT_EQUAL(ref_cksum(rte_pktmbuf_mtod(got[P_U][0], uint8_t *) + 14, 20), 0);

	/* Other parameters: port 8472, TTL 9, no DF (then an IP id per packet). */
	{
		const struct vxlan_params prm = {.udp_port = 8472, .ttl = 9, .df = false};
		struct vxlan_params g;
		uint16_t id = ctx->vx_ip_id;

		CU_ASSERT_EQUAL(vxlan_configure(dp, &prm), 0);
		vxlan_params_get(dp, &g);
		CU_ASSERT(g.udp_port == 8472 && g.ttl == 9 && !g.df);
		wl = vx_bytes(want, &mac_nic, &mac_p1, ip_vtep, ip_p1, sport, 8472, 0x08000000,
			      VNI << 8, id, 0, 9, in, il);
		inject(P_C1, mk(in, il));
		run();
		CU_ASSERT_EQUAL_FATAL(ngot[P_U], 1);
		CU_ASSERT(same_bytes(got[P_U][0], want, wl));
		CU_ASSERT_EQUAL(ctx->vx_ip_id, (uint16_t)(id + 1));
		CU_ASSERT_EQUAL(vxlan_configure(dp, &(struct vxlan_params){.udp_port = 0,
								     .ttl = 64}), -EINVAL);
	}
	/* And the decap side follows the port: 8472 is ours now, 4789 is not. */
	{
		uint8_t b[200];
		size_t ol = vx_bytes(b, &mac_p1, &mac_nic, ip_p1, ip_vtep, 50000, 8472,
				     0x08000000, VNI << 8, 0, 0x4000, 64, want + 50, il);

		inject(P_U, mk(b, ol));
		run();
		CU_ASSERT_EQUAL(ngot[P_C1], 0);   /* c1 to r1 from r1's side: same-port */
		CU_ASSERT_EQUAL(dropped(DP_DROP_SAME_PORT), 1);
	}
}

/* The same flow always gets the same source port; different flows spread. */
static void
test_encap_sport(void)
{
	uint8_t in[80];
	size_t il;
	uint16_t ports[256], first = 0;
	unsigned int distinct = 0;

	reset();
	for (unsigned int f = 0; f < 256; f++) {
		struct rte_mbuf *m;

		il = udp_bytes(in, 80, &mac_c1, &mac_r1, ip_c1, ip_r1, (uint16_t)(1000 + f), 80);
		for (int again = 0; again < 2; again++) {
			uint16_t sp;

			m = mk(in, il);
			CU_ASSERT_EQUAL(parse_one(m), 0);
			sp = vxlan_src_port(m);
			rte_pktmbuf_free(m);
			CU_ASSERT(sp >= VXLAN_SPORT_MIN);
			if (again == 0)
				ports[f] = sp;
			else
				CU_ASSERT_EQUAL(sp, ports[f]);
		}
		if (f == 0)
			first = ports[0];
	}
	for (unsigned int i = 0; i < 256; i++) {
		bool seen = false;

		for (unsigned int j = 0; j < i; j++)
			seen |= ports[j] == ports[i];
		distinct += !seen;
	}
	/* 256 flows into 16384 ports: collisions are rare. */
	CU_ASSERT(distinct >= 240);
	CU_ASSERT(first != ports[1]);
	/* Through the pipeline, the source port is that of the flow. */
	il = udp_bytes(in, 80, &mac_c1, &mac_r1, ip_c1, ip_r1, 1000, 80);
	inject(P_C1, mk(in, il));
	inject(P_C1, mk(in, il));
	run();
	CU_ASSERT_EQUAL_FATAL(ngot[P_U], 2);
	for (int i = 0; i < 2; i++) {
		const uint8_t *p = rte_pktmbuf_mtod(got[P_U][i], const uint8_t *);

		CU_ASSERT_EQUAL((uint16_t)(p[34] << 8 | p[35]), ports[0]);
	}
}

/* Too big for the uplink's MTU less 50; no VTEP address; no route; neighbours. */
static void
test_encap_drops(void)
{
	static uint8_t in[1600];
	size_t il;
	uint64_t now = rte_rdtsc();

	reset();
	/* 1500 - 50 + 14 = 1464 bytes of inner frame fit, 1465 do not. */
	il = udp_bytes(in, 1464, &mac_c1, &mac_r1, ip_c1, ip_r1, 1, 2);
	inject(P_C1, mk(in, il));
	run();
	CU_ASSERT_EQUAL(ngot[P_U], 1);
	CU_ASSERT_EQUAL_FATAL(ngot[P_U], 1);
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(got[P_U][0]), 1514);
	il = udp_bytes(in, 1465, &mac_c1, &mac_r1, ip_c1, ip_r1, 1, 2);
	inject(P_C1, mk(in, il));
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(dropped(DP_DROP_TOO_BIG), 1);

	il = udp_bytes(in, 80, &mac_c1, &mac_r3, ip_c1, ip_r1, 1, 2);
	/* No route to the VTEP; a route that leads into the overlay itself. */
	CU_ASSERT(fdb_add_remote(dp->fdb, DOM_O, &mac_r3, IP4(203, 0, 113, 5), true, now) == 0);
	inject(P_C1, mk(in, il));
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(dropped(DP_DROP_VXLAN_NO_ROUTE), 1);
	CU_ASSERT(fdb_add_remote(dp->fdb, DOM_O, &mac_r3, IP4(10, 77, 0, 5), true, now) == 0);
	inject(P_C1, mk(in, il));
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(dropped(DP_DROP_VXLAN_NO_ROUTE), 1);
	/* Via a gateway: the router's MAC, the peer's address. */
	CU_ASSERT(fdb_add_remote(dp->fdb, DOM_O, &mac_r3, ip_p3, true, now) == 0);
	inject(P_C1, mk(in, il));
	run();
	CU_ASSERT_EQUAL_FATAL(ngot[P_U], 1);
	{
		const uint8_t *p = rte_pktmbuf_mtod(got[P_U][0], const uint8_t *);
		uint32_t dip;

		CU_ASSERT(memcmp(p, &mac_rt, 6) == 0);
		inner_of(got[P_U][0], &dip);
		CU_ASSERT_EQUAL(dip, ip_p3);
	}
	/* A peer with no neighbour: dropped where the uplink does not resolve... */
	CU_ASSERT(fdb_add_remote(dp->fdb, DOM_O, &mac_r3, ip_p4, true, now) == 0);
	inject(P_C1, mk(in, il));
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(dropped(DP_DROP_NO_NEIGHBOUR), 1);
	/* ...punted, finished, where it does. */
	publish_view(DP_NET_F_RESOLVE, 1500);
	inject(P_C1, mk(in, il));
	run();
	CU_ASSERT_EQUAL(dropped_total(), 0);
	CU_ASSERT_EQUAL(ngot[P_U], 0);
	CU_ASSERT_EQUAL_FATAL(npunted, 1);
	{
		struct pkt_meta *meta = pkt_meta(punted[0]);
		const uint8_t *p = rte_pktmbuf_mtod(punted[0], const uint8_t *);
		uint32_t dip;

		CU_ASSERT_EQUAL(meta->punt, PUNT_NEIGH_MISS);
		CU_ASSERT_EQUAL(meta->nh_ip, ip_p4);
		CU_ASSERT_EQUAL(meta->domain, DOM_U);
		CU_ASSERT_EQUAL(meta->out_port, pids[P_U]);
		CU_ASSERT(memcmp(p, &mac_zero, 6) == 0);
		CU_ASSERT(memcmp(p + 6, &mac_nic, 6) == 0);
		CU_ASSERT(memcmp(inner_of(punted[0], &dip), in, il) == 0);
		CU_ASSERT_EQUAL(dip, ip_p4);
	}
	/* No VTEP address: the uplink has none. */
	{
		struct dp_view *v = dp_view_clone(dp);

		v->nets[DOM_U].gw_ip = 0;
		dp_view_publish(dp, v);
		il = udp_bytes(in, 80, &mac_c1, &mac_r1, ip_c1, ip_r1, 1, 2);
		inject(P_C1, mk(in, il));
		run();
		CU_ASSERT_EQUAL(total_out(), 0);
		CU_ASSERT_EQUAL(dropped(DP_DROP_VXLAN_NO_VTEP), 1);
	}
}

/* A shared frame (refcnt 2) is copied before the headers go in front. */
static void
test_encap_shared(void)
{
	uint8_t in[80], want[200];
	size_t il = udp_bytes(in, 80, &mac_c1, &mac_r1, ip_c1, ip_r1, 7, 8), wl;
	struct rte_mbuf *ms[3];
	uint16_t sport;

	reset();
	for (int i = 0; i < 3; i++) {
		ms[i] = mk(in, il);
		CU_ASSERT_EQUAL(parse_one(ms[i]), 0);
		pkt_meta(ms[i])->in_port = pids[P_C1];
		pkt_meta(ms[i])->domain = DOM_O;
		pkt_meta(ms[i])->nh_ip = ip_p1;
		pkt_meta(ms[i])->next = PL_NEXT_VXENC;
	}
	sport = vxlan_src_port(ms[1]);
	rte_mbuf_refcnt_update(ms[1], 1);    /* someone else holds it too */
	{
		struct rte_mbuf *orig = ms[1];

		CU_ASSERT_EQUAL(vxlan_encap_stage(ctx, ms, 3), 3);
		CU_ASSERT(ms[1] != orig);
		CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(orig), 1);
		CU_ASSERT(same_bytes(orig, in, il));   /* the other holder's is intact */
		rte_pktmbuf_free(orig);
	}
	wl = vx_bytes(want, &mac_nic, &mac_p1, ip_vtep, ip_p1, sport, 4789, 0x08000000, VNI << 8,
		      0, 0x4000, 64, in, il);
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(pkt_meta(ms[i])->next, PL_NEXT_TX);
		CU_ASSERT_EQUAL(pkt_meta(ms[i])->out_port, pids[P_U]);
		CU_ASSERT(same_bytes(ms[i], want, wl));
	}
	rte_pktmbuf_free_bulk(ms, 3);
}

/* Flood from a local port: one copy per peer plus the local ones. From the
 * tunnel: local only. Tunnel to tunnel: dropped. */
static void
test_flood(void)
{
	uint8_t in[80], b[200];
	size_t il = udp_bytes(in, 80, &mac_c1, &mac_bcast, ip_c1, IP4(10, 1, 0, 255), 1, 2), ol;
	uint32_t seen = 0;

	reset();
	inject(P_C1, mk(in, il));
	run();
	CU_ASSERT_EQUAL(ngot[P_C1], 0);
	CU_ASSERT_EQUAL_FATAL(ngot[P_C2], 1);
	CU_ASSERT(same_bytes(got[P_C2][0], in, il));
	CU_ASSERT_EQUAL_FATAL(ngot[P_U], 3);
	for (unsigned int i = 0; i < 3; i++) {
		uint32_t dip;
		const uint8_t *p = rte_pktmbuf_mtod(got[P_U][i], const uint8_t *);

		CU_ASSERT(memcmp(inner_of(got[P_U][i], &dip), in, il) == 0);
		CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(got[P_U][i]), il + 50);
		if (dip == ip_p1) {
			seen |= 1;
			CU_ASSERT(memcmp(p, &mac_p1, 6) == 0);
		} else if (dip == ip_p2) {
			seen |= 2;
			CU_ASSERT(memcmp(p, &mac_p2, 6) == 0);
		} else if (dip == ip_p3) {
			seen |= 4;
			CU_ASSERT(memcmp(p, &mac_rt, 6) == 0);
		}
	}
	CU_ASSERT_EQUAL(seen, 7);
	CU_ASSERT_EQUAL(dropped_total(), 0);

	/* An unknown unicast destination floods the same way. */
	il = udp_bytes(in, 80, &mac_c1, &mac_new, ip_c1, IP4(10, 1, 0, 99), 1, 2);
	inject(P_C1, mk(in, il));
	run();
	CU_ASSERT_EQUAL(ngot[P_C2], 1);
	CU_ASSERT_EQUAL(ngot[P_U], 3);

	/* From the tunnel: c1 and c2, never back into the tunnel. */
	il = udp_bytes(in, 80, &mac_r1, &mac_bcast, ip_r1, IP4(10, 1, 0, 255), 1, 2);
	ol = vx_from(b, ip_p1, in, il);
	inject(P_U, mk(b, ol));
	run();
	CU_ASSERT_EQUAL(ngot[P_U], 0);
	CU_ASSERT_EQUAL_FATAL(ngot[P_C1], 1);
	CU_ASSERT_EQUAL_FATAL(ngot[P_C2], 1);
	CU_ASSERT(same_bytes(got[P_C1][0], in, il));
	CU_ASSERT(same_bytes(got[P_C2][0], in, il));

	/* Split horizon: from P1 to r2 (behind P2) is not forwarded. */
	il = udp_bytes(in, 80, &mac_r1, &mac_r2, ip_r1, IP4(10, 1, 0, 51), 1, 2);
	ol = vx_from(b, ip_p1, in, il);
	inject(P_U, mk(b, ol));
	run();
	CU_ASSERT_EQUAL(total_out(), 0);
	CU_ASSERT_EQUAL(dropped(DP_DROP_SAME_PORT), 1);

	/* An overlay with no local port but c1 and no peer: nowhere, no-port. */
	{
		const struct vxlan_net_spec spec = {.domain = DOM_O, .vni = VNI};
		struct dp_view *v = dp_view_clone(dp);

		v->domains[DOM_O].n_ports = 1;    /* c1 only */
		dp_view_publish(dp, v);
		CU_ASSERT_EQUAL(vxlan_set(dp, &spec, 1), 0);
		il = udp_bytes(in, 80, &mac_c1, &mac_bcast, ip_c1, IP4(10, 1, 0, 255), 1, 2);
		inject(P_C1, mk(in, il));
		run();
		CU_ASSERT_EQUAL(total_out(), 0);
		CU_ASSERT_EQUAL(dropped(DP_DROP_NO_PORT), 1);
	}
}

/* ------------------------------------------------ offload frames (offload.h) */

static struct rte_mempool *big_pool;
static uint8_t sent_pl[UINT16_MAX], got_pl[UINT16_MAX], flatb[4096];

/*
 * A TCP/IPv4 frame from c1 to (dst, dip) with payload random bytes (kept in
 * sent_pl) and a partial checksum, as a vtap port hands it over; mss > 0
 * makes it a large segment. From a pool of 64 KB mbufs (the vtap's).
 */
static struct rte_mbuf *
mk_offload(const struct rte_ether_addr *dst, uint32_t dip, uint32_t payload, uint16_t mss)
{
	struct rte_mbuf *m;
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *tcp;

	if (big_pool == NULL)
		big_pool = rte_pktmbuf_pool_create("vx_big", 7, 0, 0, UINT16_MAX,
						   (int)rte_socket_id());
	CU_ASSERT_FATAL(big_pool != NULL);
	m = rte_pktmbuf_alloc(big_pool);
	CU_ASSERT_FATAL(m != NULL);
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, (uint16_t)(54 + payload));
	CU_ASSERT_FATAL(eth != NULL);
	memset(eth, 0, 54);
	eth->dst_addr = *dst;
	eth->src_addr = mac_c1;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(40 + payload));
	ip->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = rte_cpu_to_be_32(ip_c1);
	ip->dst_addr = rte_cpu_to_be_32(dip);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	tcp = (struct rte_tcp_hdr *)(ip + 1);
	tcp->src_port = RTE_BE16(1234);
	tcp->dst_port = RTE_BE16(80);
	tcp->sent_seq = RTE_BE32(1000);
	tcp->data_off = 5 << 4;
	tcp->tcp_flags = 0x18;     /* ACK PSH */
	for (uint32_t i = 0; i < payload; i++)
		sent_pl[i] = (uint8_t)rte_rand();
	memcpy(tcp + 1, sent_pl, payload);
	tcp->cksum = rte_ipv4_phdr_cksum(ip, 0);
	m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM |
		(mss != 0 ? RTE_MBUF_F_TX_TCP_SEG : 0);
	m->l2_len = 14;
	m->l3_len = 20;
	m->l4_len = 20;
	m->tso_segsz = mss;
	return m;
}

/* A VXLAN frame sent to dip: outer headers right, the inner TCP/IPv4 frame
 * finished (checksums verified over a flat copy); its payload goes to
 * got_pl + *off. */
static void
check_vx_tcp(struct rte_mbuf *m, uint32_t dip, uint32_t *off)
{
	uint32_t len = rte_pktmbuf_pkt_len(m), odip;
	const void *f = rte_pktmbuf_read(m, 0, len, flatb);
	struct rte_ipv4_hdr *ip;

	CU_ASSERT_FATAL(f != NULL && len > 50 + 54 && len <= sizeof(flatb));
	if (f != flatb)
		memcpy(flatb, f, len);
	CU_ASSERT_EQUAL(m->ol_flags & DP_OFFLOAD_MASK, 0);
	inner_of(m, &odip);
	CU_ASSERT_EQUAL(odip, dip);
	CU_ASSERT_EQUAL(ref_cksum(flatb + 14, 20), 0);
	CU_ASSERT_EQUAL((uint32_t)(flatb[38] << 8 | flatb[39]), len - 34);   /* UDP length */
	ip = (struct rte_ipv4_hdr *)(flatb + 50 + 14);
	CU_ASSERT_EQUAL(rte_be_to_cpu_16(ip->total_length), len - 50 - 14);
	CU_ASSERT_EQUAL(ref_cksum((const uint8_t *)ip, 20), 0);
	CU_ASSERT_EQUAL(rte_ipv4_udptcp_cksum_verify(ip, ip + 1), 0);
	memcpy(got_pl + *off, flatb + 50 + 54, len - 50 - 54);
	*off += len - 50 - 54;
}

/* Through the tunnel, offload frames are finished first (offload.h): a large
 * segment to a remote MAC leaves as encapsulated segments in order, a
 * partial checksum completed; flooded, the same to every peer and to c2. */
static void
test_encap_offload(void)
{
	uint32_t off = 0;

	reset();
	inject(P_C1, mk_offload(&mac_r1, ip_r1, 5000, 1360));
	run();
	CU_ASSERT_EQUAL(total_out(), 4);
	CU_ASSERT_EQUAL_FATAL(ngot[P_U], 4);
	for (unsigned int i = 0; i < 4; i++)
		check_vx_tcp(got[P_U][i], ip_p1, &off);
	CU_ASSERT_EQUAL(off, 5000);
	CU_ASSERT(memcmp(got_pl, sent_pl, 5000) == 0);
	CU_ASSERT_EQUAL(dropped_total(), 0);

	/* A partial checksum alone, completed in place before encapsulation. */
	off = 0;
	inject(P_C1, mk_offload(&mac_r1, ip_r1, 999, 0));
	run();
	CU_ASSERT_EQUAL_FATAL(ngot[P_U], 1);
	check_vx_tcp(got[P_U][0], ip_p1, &off);
	CU_ASSERT(memcmp(got_pl, sent_pl, 999) == 0);

	/* Flooded: c2 and each of the three peers get the segments. */
	inject(P_C1, mk_offload(&mac_new, IP4(10, 1, 0, 99), 3000, 1000));
	run();
	CU_ASSERT_EQUAL(ngot[P_C2], 3);
	CU_ASSERT_EQUAL_FATAL(ngot[P_U], 9);
	for (unsigned int i = 0; i < 9; i++) {
		uint32_t dip, o = 0;

		inner_of(got[P_U][i], &dip);
		check_vx_tcp(got[P_U][i], dip, &o);
		CU_ASSERT_EQUAL(o, 1000);
	}
	CU_ASSERT_EQUAL(dropped_total(), 0);
}

/* ARP suppression answers for a known remote endpoint; the overlay gateway
 * answers a remote's request back through the tunnel. */
static void
test_arp(void)
{
	uint8_t in[60], b[200];
	size_t il = arp_bytes(in, &mac_c1, &mac_bcast, RTE_ARP_OP_REQUEST, ip_c1, ip_r1), ol;
	uint64_t replies0 = ctx->cnt.arp_replies;

	reset();
	inject(P_C1, mk(in, il));
	run();
	CU_ASSERT_EQUAL(ngot[P_U], 0);
	CU_ASSERT_EQUAL(ngot[P_C2], 0);
	CU_ASSERT_EQUAL_FATAL(ngot[P_C1], 1);
	CU_ASSERT_EQUAL(ctx->cnt.arp_replies, replies0 + 1);
	{
		struct rte_mbuf *m = got[P_C1][0];
		const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
		const struct rte_arp_hdr *ah = rte_pktmbuf_mtod_offset(m, const struct rte_arp_hdr *,
								       14);

		CU_ASSERT(rte_is_same_ether_addr(&eth->src_addr, &mac_r1));
		CU_ASSERT(rte_is_same_ether_addr(&eth->dst_addr, &mac_c1));
		CU_ASSERT_EQUAL(ah->arp_opcode, RTE_BE16(RTE_ARP_OP_REPLY));
		CU_ASSERT(rte_is_same_ether_addr(&ah->arp_data.arp_sha, &mac_r1));
		CU_ASSERT_EQUAL(ah->arp_data.arp_sip, rte_cpu_to_be_32(ip_r1));
		CU_ASSERT(rte_is_same_ether_addr(&ah->arp_data.arp_tha, &mac_c1));
		CU_ASSERT_EQUAL(ah->arp_data.arp_tip, rte_cpu_to_be_32(ip_c1));
	}
	/* An address not in the table floods (to c2 and the three peers). */
	arp_bytes(in, &mac_c1, &mac_bcast, RTE_ARP_OP_REQUEST, ip_c1, ip_c2);
	inject(P_C1, mk(in, il));
	run();
	CU_ASSERT_EQUAL(ngot[P_C2], 1);
	CU_ASSERT_EQUAL(ngot[P_U], 3);
	CU_ASSERT_EQUAL(ctx->cnt.arp_replies, replies0 + 1);
	/* A remote asks for our overlay gateway: the reply goes back to P1. */
	arp_bytes(in, &mac_r1, &mac_bcast, RTE_ARP_OP_REQUEST, ip_r1, ip_go);
	ol = vx_from(b, ip_p1, in, il);
	inject(P_U, mk(b, ol));
	run();
	CU_ASSERT_EQUAL(ngot[P_C1] + ngot[P_C2], 0);
	CU_ASSERT_EQUAL_FATAL(ngot[P_U], 1);
	{
		uint32_t dip;
		const uint8_t *inner = inner_of(got[P_U][0], &dip);
		const struct rte_arp_hdr *ah = (const struct rte_arp_hdr *)(inner + 14);

		CU_ASSERT_EQUAL(dip, ip_p1);
		CU_ASSERT(memcmp(inner, &mac_r1, 6) == 0);
		CU_ASSERT(memcmp(inner + 6, &mac_go, 6) == 0);
		CU_ASSERT_EQUAL(ah->arp_opcode, RTE_BE16(RTE_ARP_OP_REPLY));
		CU_ASSERT(rte_is_same_ether_addr(&ah->arp_data.arp_sha, &mac_go));
	}
}

/* Routed overlay: c1 to 10.2.0.5 -> route via (O, 10.2.0.0) -> neighbour mh ->
 * remote MAC behind P1 -> encapsulated, inner dst mh and src the gateway MAC. */
static void
test_routed_overlay(void)
{
	uint8_t in[80], b[200];
	size_t il = udp_bytes(in, 80, &mac_c1, &mac_go, ip_c1, ip_h5, 5, 6), ol;
	uint64_t routed0 = ctx->cnt.routed;

	reset();
	inject(P_C1, mk(in, il));
	run();
	CU_ASSERT_EQUAL(dropped_total(), 0);
	CU_ASSERT_EQUAL(ctx->cnt.routed, routed0 + 1);
	CU_ASSERT_EQUAL_FATAL(ngot[P_U], 1);
	CU_ASSERT_EQUAL(total_out(), 1);
	{
		struct rte_mbuf *m = got[P_U][0];
		uint32_t dip;
		const uint8_t *inner = inner_of(m, &dip);
		const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);

		CU_ASSERT_EQUAL(dip, ip_p1);
		CU_ASSERT(memcmp(p, &mac_p1, 6) == 0);
		CU_ASSERT(memcmp(inner, &mac_mh, 6) == 0);
		CU_ASSERT(memcmp(inner + 6, &mac_go, 6) == 0);
		CU_ASSERT_EQUAL(inner[14 + 8], 63);              /* TTL - 1 */
		CU_ASSERT_EQUAL(ref_cksum(inner + 14, 20), 0);   /* still right */
		CU_ASSERT(memcmp(inner + 14 + 20, in + 34, il - 34) == 0);
		CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(m), 50 + il);
	}
	/* The way back: H's host sends to our gateway MAC; routed to c1. */
	udp_bytes(in, 80, &mac_mh, &mac_go, ip_h5, ip_c1, 6, 5);
	ol = vx_from(b, ip_p1, in, il);
	inject(P_U, mk(b, ol));
	run();
	CU_ASSERT_EQUAL(dropped_total(), 0);
	CU_ASSERT_EQUAL_FATAL(ngot[P_C1], 1);
	{
		const uint8_t *p = rte_pktmbuf_mtod(got[P_C1][0], const uint8_t *);

		CU_ASSERT(memcmp(p, &mac_c1, 6) == 0);
		CU_ASSERT(memcmp(p + 6, &mac_go, 6) == 0);
		CU_ASSERT_EQUAL(p[22], 63);
	}
}

/*
 * One burst from c1: to r1 (bridged to a remote MAC: encapsulated in round
 * one, pipeline.c), to c2 (local), to H (routed into the overlay: vxenc in
 * round two), to r2 again: each leaves as it should, vxenc runs once per
 * round, and the bridged frames keep their order around the routed one.
 */
static void
test_encap_rounds(void)
{
	uint8_t a[80], c[80], h[80], d[80];
	size_t il = udp_bytes(a, 80, &mac_c1, &mac_r1, ip_c1, ip_r1, 1, 2);
	uint64_t calls0 = ctx->cnt.stages[DP_STAGE_VXENC].calls;
	uint64_t pkts0 = ctx->cnt.stages[DP_STAGE_VXENC].pkts;
	uint32_t dip;

	reset();
	udp_bytes(c, 80, &mac_c1, &mac_c2, ip_c1, ip_c2, 1, 2);
	udp_bytes(h, 80, &mac_c1, &mac_go, ip_c1, ip_h5, 5, 6);
	udp_bytes(d, 80, &mac_c1, &mac_r2, ip_c1, IP4(10, 1, 0, 51), 3, 4);
	inject(P_C1, mk(a, il));
	inject(P_C1, mk(c, il));
	inject(P_C1, mk(h, il));
	inject(P_C1, mk(d, il));
	run();
	CU_ASSERT_EQUAL(dropped_total(), 0);
	CU_ASSERT_EQUAL(ctx->cnt.stages[DP_STAGE_VXENC].calls, calls0 + 2);
	CU_ASSERT_EQUAL(ctx->cnt.stages[DP_STAGE_VXENC].pkts, pkts0 + 3);
	CU_ASSERT_EQUAL_FATAL(ngot[P_C2], 1);
	CU_ASSERT(same_bytes(got[P_C2][0], c, il));
	CU_ASSERT_EQUAL_FATAL(ngot[P_U], 3);
	/* Round one's two first (to P1, then P2), then the routed one (to P1). */
	CU_ASSERT(memcmp(inner_of(got[P_U][0], &dip), a, il) == 0);
	CU_ASSERT_EQUAL(dip, ip_p1);
	CU_ASSERT(memcmp(inner_of(got[P_U][1], &dip), d, il) == 0);
	CU_ASSERT_EQUAL(dip, ip_p2);
	CU_ASSERT(memcmp(inner_of(got[P_U][2], &dip), &mac_mh, 6) == 0);
	CU_ASSERT_EQUAL(dip, ip_p1);
}

/* The table's validation, and removing every overlay. */
static void
test_table(void)
{
	uint32_t peers[2] = {ip_p1, ip_p2};
	struct vxlan_net_spec s[2] = {
		{.domain = DOM_O, .vni = VNI, .n_peers = 2, .peers = peers},
		{.domain = 5, .vni = 77},
	};
	struct rte_ether_addr mac;
	uint8_t in[80], b[200];
	size_t il = udp_bytes(in, 80, &mac_r1, &mac_c1, ip_r1, ip_c1, 1, 2), ol;

	reset();
	CU_ASSERT_EQUAL(vxlan_set(dp, s, 2), 0);
	s[1].vni = VNI;
	CU_ASSERT_EQUAL(vxlan_set(dp, s, 2), -EINVAL);     /* duplicate VNI */
	s[1].vni = 77;
	s[1].domain = DOM_O;
	CU_ASSERT_EQUAL(vxlan_set(dp, s, 2), -EINVAL);     /* duplicate domain */
	s[1].domain = 5;
	s[1].vni = 0;
	CU_ASSERT_EQUAL(vxlan_set(dp, s, 2), -EINVAL);
	s[1].vni = VXLAN_VNI_MAX + 1;
	CU_ASSERT_EQUAL(vxlan_set(dp, s, 2), -EINVAL);
	s[1].vni = VXLAN_VNI_MAX;
	peers[1] = 0;
	CU_ASSERT_EQUAL(vxlan_set(dp, s, 2), -EINVAL);
	peers[1] = IP4(239, 1, 1, 1);
	CU_ASSERT_EQUAL(vxlan_set(dp, s, 2), -EINVAL);
	s[0].n_peers = 1;
	s[1].domain = DP_MAX_DOMAINS;
	CU_ASSERT_EQUAL(vxlan_set(dp, s, 2), -EINVAL);
	s[1].domain = 5;
	CU_ASSERT_EQUAL(vxlan_set(dp, s, 2), 0);
	/* The table in force is the last good one: P2 is no peer now. */
	ol = vx_from(b, ip_p2, in, il);
	inject(P_U, mk(b, ol));
	run();
	CU_ASSERT_EQUAL(dropped(DP_DROP_VXLAN_UNKNOWN_PEER), 1);
	CU_ASSERT_FALSE(vxlan_arp_lookup(dp, DOM_O, ip_r1, &mac));
	/* Too many peers. */
	{
		static uint32_t many[VXLAN_MAX_PEERS + 1];
		struct vxlan_net_spec big = {.domain = DOM_O, .vni = VNI,
					     .n_peers = VXLAN_MAX_PEERS + 1, .peers = many};

		for (unsigned int i = 0; i < RTE_DIM(many); i++)
			many[i] = IP4(10, 200, 0, 0) + i + 1;
		CU_ASSERT_EQUAL(vxlan_set(dp, &big, 1), -ENOSPC);
	}
	/* Duplicate peers get one copy each when flooding. */
	{
		uint32_t dup[3] = {ip_p1, ip_p1, ip_p2};
		struct vxlan_net_spec d = {.domain = DOM_O, .vni = VNI, .n_peers = 3, .peers = dup};
		size_t fl;

		CU_ASSERT_EQUAL(vxlan_set(dp, &d, 1), 0);
		fl = udp_bytes(in, 80, &mac_c1, &mac_bcast, ip_c1, IP4(10, 1, 0, 255), 1, 2);
		inject(P_C1, mk(in, fl));
		run();
		CU_ASSERT_EQUAL(ngot[P_U], 2);
	}
	/* No overlays at all: VXLAN to us is an unknown VNI. */
	CU_ASSERT_EQUAL(vxlan_set(dp, NULL, 0), 0);
	il = udp_bytes(in, 80, &mac_r1, &mac_c1, ip_r1, ip_c1, 1, 2);
	ol = vx_from(b, ip_p1, in, il);
	inject(P_U, mk(b, ol));
	run();
	CU_ASSERT_EQUAL(dropped(DP_DROP_VXLAN_UNKNOWN_VNI), 1);
}

/* fdb_add_remote and fdb_flush_vtep. */
static void
test_fdb_remote(void)
{
	uint64_t now = rte_rdtsc();
	const struct fdb_entry *e;

	reset();
	CU_ASSERT_EQUAL(fdb_add_remote(dp->fdb, DOM_O, &mac_r3, 0, false, now), -EINVAL);
	CU_ASSERT_EQUAL(fdb_add_remote(dp->fdb, DOM_O, &mac_r3, IP4(224, 0, 0, 1), false, now),
			-EINVAL);
	CU_ASSERT_EQUAL(fdb_add_remote(dp->fdb, DOM_O, &mac_bcast, ip_p1, false, now), -EINVAL);
	CU_ASSERT_EQUAL(fdb_add_remote(dp->fdb, DOM_O, &mac_r3, ip_p2, false, now), 0);
	e = entry_of(DOM_O, &mac_r3);
	CU_ASSERT_FATAL(e != NULL);
	CU_ASSERT(e->port == DP_PORT_VXLAN && e->vtep == ip_p2);
	/* A learned update does not move a static entry. */
	CU_ASSERT_EQUAL(fdb_add_remote(dp->fdb, DOM_O, &mac_mh, ip_p2, false, now), 0);
	CU_ASSERT_EQUAL(entry_of(DOM_O, &mac_mh)->vtep, ip_p1);
	/* P1's entries in O: r1 and mh; not r2, r3 (P2) nor anything local. */
	CU_ASSERT_EQUAL(fdb_flush_vtep(dp->fdb, DOM_U, ip_p1), 0);
	CU_ASSERT_EQUAL(fdb_flush_vtep(dp->fdb, DOM_O, ip_p1), 2);
	CU_ASSERT(entry_of(DOM_O, &mac_r1) == NULL);
	CU_ASSERT(entry_of(DOM_O, &mac_mh) == NULL);
	CU_ASSERT(entry_of(DOM_O, &mac_r2) != NULL);
	CU_ASSERT(entry_of(DOM_O, &mac_c1) != NULL);
	/* A local entry becomes remote and back, in place. */
	CU_ASSERT_EQUAL(fdb_add_remote(dp->fdb, DOM_O, &mac_c2, ip_p1, true, now), 0);
	e = entry_of(DOM_O, &mac_c2);
	CU_ASSERT(e->port == DP_PORT_VXLAN && e->vtep == ip_p1);
	CU_ASSERT_EQUAL(fdb_add(dp->fdb, DOM_O, &mac_c2, pids[P_C2], true, now), 0);
	CU_ASSERT(e->port == pids[P_C2] && e->vtep == 0);
}

int
main(int argc, char **argv)
{
	CU_pSuite s;

	(void)argc;
	(void)argv;
	if (th_eal_init("test_vxlan") != 0)
		return 77;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("vxlan", suite_init, suite_clean);
	CU_add_test(s, "decap: delivered, source learned as remote", test_decap_valid);
	CU_add_test(s, "decap: remote MACs move in place", test_decap_moves);
	CU_add_test(s, "decap: every drop reason", test_decap_drops);
	CU_add_test(s, "decap: other UDP is NAT's, untouched", test_decap_not_ours);
	CU_add_test(s, "decap: in round one, mixed bursts", test_decap_mixed_burst);
	CU_add_test(s, "decap: bursts of 0..64", test_decap_bursts);
	CU_add_test(s, "decap: the next burst sees a new table", test_decap_table_swap);
	CU_add_test(s, "encap: the bytes, parameters", test_encap_bytes);
	CU_add_test(s, "encap: source port per flow", test_encap_sport);
	CU_add_test(s, "encap: too-big, no route, neighbours, no VTEP", test_encap_drops);
	CU_add_test(s, "encap: a shared frame is copied", test_encap_shared);
	CU_add_test(s, "flood: head-end replication, split horizon", test_flood);
	CU_add_test(s, "encap: offload frames finished first", test_encap_offload);
	CU_add_test(s, "ARP suppression, answers through the tunnel", test_arp);
	CU_add_test(s, "routed overlay", test_routed_overlay);
	CU_add_test(s, "encap: bridged in round one, routed in round two", test_encap_rounds);
	CU_add_test(s, "the overlay table", test_table);
	CU_add_test(s, "fdb_add_remote, fdb_flush_vtep", test_fdb_remote);
	return th_run() != 0;
}
