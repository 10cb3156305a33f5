/*
 * fuzz_dp.c - the data plane the packet fuzz targets run (fuzz_dp.h).
 *
 * The topology is test_nat.c's (dedicated-NIC style, MASQUERADE on):
 *   port 0, 1  domain 0  network A 172.17.0.0/16, gateway .1, c1 (p0), c2 (p1)
 *   port 2     domain 1  network B 172.18.0.0/16, gateway .1, b1
 *   port 3     domain 2  internal I 172.19.0.0/16, gateway .1, i1
 *   port 4     domain 3  uplink U 192.168.1.0/24, address .10; router .1 (default
 *                        route), client .50
 * plus a route to 10.99.0.0/16 via an unresolved neighbour (punts) and a blackhole-
 * like route via a next hop with no neighbour entry. State persists between inputs
 * (MAC table, conntrack): that is part of what is fuzzed. The conntrack table is
 * small (FZ_CT_MAX) and its clock runs 1000x fast, so connections expire while the
 * fuzzer runs and the full-table path is reached too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "dataplane/dp.h"
#include "dataplane/fdb.h"
#include "dataplane/l3.h"
#include "dataplane/nat.h"
#include "fuzz_dp.h"

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define FZ_RING 256
#define FZ_CT_MAX 64
#define FZ_HEADROOM RTE_PKTMBUF_HEADROOM

struct dp *fz_dp;
struct lcore_ctx *fz_ctx;
uint16_t fz_pids[FZ_NPORTS];
const uint16_t fz_dom_of[FZ_NPORTS] = {FZ_DOM_A, FZ_DOM_A, FZ_DOM_B, FZ_DOM_I, FZ_DOM_U};
const struct rte_ether_addr fz_gw_mac[4] = {
	{{0x02, 0, 0, 0, 0x0a, 0x01}}, {{0x02, 0, 0, 0, 0x0b, 0x01}},
	{{0x02, 0, 0, 0, 0x0c, 0x01}}, {{0x02, 0, 0, 0, 0x0f, 0x01}},
};

uint8_t fz_port_offloads[FZ_NPORTS];

static struct rte_ring *rxr[FZ_NPORTS], *txr[FZ_NPORTS];
static unsigned int pool_avail;   /* free mbufs between inputs */
static uint64_t runs;

static const struct rte_ether_addr mac_c1 = {{0x02, 0x42, 0xac, 0x11, 0, 0x02}};
static const struct rte_ether_addr mac_c2 = {{0x02, 0x42, 0xac, 0x11, 0, 0x03}};
static const struct rte_ether_addr mac_b1 = {{0x02, 0x42, 0xac, 0x12, 0, 0x02}};
static const struct rte_ether_addr mac_i1 = {{0x02, 0x42, 0xac, 0x13, 0, 0x02}};
static const struct rte_ether_addr mac_r = {{0x02, 0, 0, 0, 0x99, 0x01}};
static const struct rte_ether_addr mac_cl = {{0x02, 0, 0, 0, 0x99, 0x50}};

static void
fz_die(const char *what)
{
	fprintf(stderr, "fuzz_dp: %s\n", what);
	abort();
}

static void
fz_ports(void)
{
	for (unsigned int p = 0; p < FZ_NPORTS; p++) {
		struct rte_eth_conf conf = {0};
		char name[RTE_RING_NAMESIZE];
		int id;

		snprintf(name, sizeof(name), "fz_rx%u", p);
		rxr[p] = rte_ring_create(name, FZ_RING, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "fz_tx%u", p);
		txr[p] = rte_ring_create(name, FZ_RING, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (rxr[p] == NULL || txr[p] == NULL)
			fz_die("ring");
		snprintf(name, sizeof(name), "net_ring_fz%u", p);
		id = rte_eth_from_rings(name, &rxr[p], 1, &txr[p], 1, 0);
		if (id < 0)
			fz_die("rte_eth_from_rings");
		fz_pids[p] = (uint16_t)id;
		if (rte_eth_dev_configure(fz_pids[p], 1, 1, &conf) != 0 ||
		    rte_eth_rx_queue_setup(fz_pids[p], 0, 128, 0, NULL, fz_dp->pool) != 0 ||
		    rte_eth_tx_queue_setup(fz_pids[p], 0, 128, 0, NULL) != 0 ||
		    rte_eth_dev_start(fz_pids[p]) != 0)
			fz_die("ethdev setup");
	}
}

static void
fz_view(void)
{
	struct dp_view *v = dp_view_clone(fz_dp);

	memset(v->domains, 0, sizeof(v->domains));
	memset(v->nets, 0, sizeof(v->nets));
	v->n_rxq[0] = 0;
	for (unsigned int p = 0; p < FZ_NPORTS; p++) {
		uint16_t d = fz_dom_of[p];

		v->ports[fz_pids[p]].domain = d;
		v->ports[fz_pids[p]].present = 1;
		v->ports[fz_pids[p]].offloads = fz_port_offloads[p];
		v->ports[fz_pids[p]].role = d == FZ_DOM_U ? DP_ROLE_UPLINK : DP_ROLE_ACCESS;
		v->domains[d].ports[v->domains[d].n_ports++] = fz_pids[p];
		v->rxq[0][v->n_rxq[0]++] = (struct dp_rxq){fz_pids[p], 0};
	}
	v->nets[FZ_DOM_A] = (struct dp_net_view){.gw_ip = IP4(172, 17, 0, 1),
		.subnet = IP4(172, 17, 0, 0), .prefix_len = 16, .flags = DP_NET_F_L3,
		.mtu = 1500, .gw_mac = fz_gw_mac[FZ_DOM_A]};
	v->nets[FZ_DOM_B] = (struct dp_net_view){.gw_ip = IP4(172, 18, 0, 1),
		.subnet = IP4(172, 18, 0, 0), .prefix_len = 16, .flags = DP_NET_F_L3,
		.mtu = 1500, .gw_mac = fz_gw_mac[FZ_DOM_B]};
	v->nets[FZ_DOM_I] = (struct dp_net_view){.gw_ip = IP4(172, 19, 0, 1),
		.subnet = IP4(172, 19, 0, 0), .prefix_len = 16,
		.flags = DP_NET_F_L3 | DP_NET_F_INTERNAL, .mtu = 1500,
		.gw_mac = fz_gw_mac[FZ_DOM_I]};
	v->nets[FZ_DOM_U] = (struct dp_net_view){.gw_ip = IP4(192, 168, 1, 10),
		.subnet = IP4(192, 168, 1, 0), .prefix_len = 24,
		.flags = DP_NET_F_L3 | DP_NET_F_UPLINK | DP_NET_F_PROXY_ARP, .mtu = 1500,
		.gw_mac = fz_gw_mac[FZ_DOM_U]};
	v->uplink_port = fz_pids[4];
	dp_view_publish(fz_dp, v);
}

static void
fz_tables(void)
{
	static const struct {
		uint32_t prefix;
		uint8_t len;
		struct l3_nexthop nh;
	} routes[] = {
		{IP4(172, 17, 0, 0), 16, {.type = L3_NH_CONNECTED, .domain = FZ_DOM_A}},
		{IP4(172, 18, 0, 0), 16, {.type = L3_NH_CONNECTED, .domain = FZ_DOM_B}},
		{IP4(172, 19, 0, 0), 16, {.type = L3_NH_CONNECTED, .domain = FZ_DOM_I}},
		{IP4(192, 168, 1, 0), 24, {.type = L3_NH_CONNECTED, .domain = FZ_DOM_U}},
		{IP4(10, 99, 0, 0), 16, {.type = L3_NH_GATEWAY, .domain = FZ_DOM_U,
					 .gw_ip = IP4(192, 168, 1, 77)}},
		{0, 0, {.type = L3_NH_GATEWAY, .domain = FZ_DOM_U, .gw_ip = IP4(192, 168, 1, 1)}},
	};
	static const struct {
		uint16_t dom;
		uint32_t ip;
		const struct rte_ether_addr *mac;
	} neigh[] = {
		{FZ_DOM_A, IP4(172, 17, 0, 2), &mac_c1},
		{FZ_DOM_A, IP4(172, 17, 0, 3), &mac_c2},
		{FZ_DOM_B, IP4(172, 18, 0, 2), &mac_b1},
		{FZ_DOM_I, IP4(172, 19, 0, 2), &mac_i1},
		{FZ_DOM_U, IP4(192, 168, 1, 1), &mac_r},
		{FZ_DOM_U, IP4(192, 168, 1, 50), &mac_cl},
	};
	static const struct {
		uint16_t dom;
		const struct rte_ether_addr *mac;
		unsigned int port;
	} fdb[] = {
		{FZ_DOM_A, &mac_c1, 0}, {FZ_DOM_A, &mac_c2, 1}, {FZ_DOM_B, &mac_b1, 2},
		{FZ_DOM_I, &mac_i1, 3}, {FZ_DOM_U, &mac_r, 4}, {FZ_DOM_U, &mac_cl, 4},
	};
	uint64_t now = rte_rdtsc();

	for (unsigned int i = 0; i < RTE_DIM(routes); i++)
		if (l3_route_add(fz_dp, routes[i].prefix, routes[i].len, &routes[i].nh) != 0)
			fz_die("l3_route_add");
	for (unsigned int i = 0; i < RTE_DIM(neigh); i++)
		if (l3_neigh_add(fz_dp, neigh[i].dom, neigh[i].ip, neigh[i].mac) != 0)
			fz_die("l3_neigh_add");
	for (unsigned int i = 0; i < RTE_DIM(fdb); i++)
		if (fdb_add(fz_dp->fdb, fdb[i].dom, fdb[i].mac, fz_pids[fdb[i].port], true,
			    now) != 0)
			fz_die("fdb_add");
}

static void
fz_nat(int nat_rules)
{
	const uint32_t ip_c1 = IP4(172, 17, 0, 2);
	const struct nat_rule rules[] = {
		{.host_ip = 0, .host_port = 8080, .ctr_ip = ip_c1, .ctr_port = 80, .id = 7,
		 .proto = IPPROTO_TCP},
		{.host_ip = 0, .host_port = 5353, .ctr_ip = ip_c1, .ctr_port = 53, .id = 9,
		 .proto = IPPROTO_UDP},
		{.host_ip = IP4(172, 18, 0, 1), .host_port = 9090, .ctr_ip = ip_c1,
		 .ctr_port = 90, .id = 11, .proto = IPPROTO_TCP},
		{.host_ip = IP4(127, 0, 0, 1), .host_port = 8081, .ctr_ip = ip_c1,
		 .ctr_port = 81, .id = 12, .proto = IPPROTO_TCP},
		{.host_ip = IP4(192, 168, 1, 10), .host_port = 2222, .ctr_ip = IP4(172, 19, 0, 2),
		 .ctr_port = 22, .id = 13, .proto = IPPROTO_TCP},
	};
	struct nat_params np;

	nat_params_default(&np);
	np.ct.max_conns = FZ_CT_MAX;
	np.ct.tsc_hz = rte_get_tsc_hz() / 1000;   /* timeouts pass 1000x fast */
	np.snat_port_lo = 65500;                  /* few ports: nat-no-port is reachable */
	if (nat_configure(fz_dp, &np) != 0)
		fz_die("nat_configure");
	if (nat_rules && nat_rules_set(fz_dp, rules, RTE_DIM(rules)) != 0)
		fz_die("nat_rules_set");
}

void
fz_dp_init(const char *prefix, int nat_rules)
{
	char *eal[] = {"fuzz", "--no-huge", "--no-pci", "--no-shconf", "--no-telemetry",
		       "-m", "256", "--file-prefix", (char *)prefix, "--log-level=*:error"};
	struct dp_poll_params poll = {.busy = false, .spin_polls = 8, .sleep_min_us = 1,
				      .sleep_max_us = 100};

	if (rte_eal_init((int)RTE_DIM(eal), eal) < 0)
		fz_die("EAL init");
	fz_dp = dp_create(4096, 1, 1024, 300, &poll);
	if (fz_dp == NULL)
		fz_die("dp_create");
	fz_ctx = fz_dp->workers[0];
	fz_ports();
	fz_view();
	fz_tables();
	fz_nat(nat_rules);
	fz_run();   /* settles the pool's caches */
	pool_avail = rte_mempool_avail_count(fz_dp->pool);
}

/* An external buffer: the frame's bytes after a headroom, malloc'd to size. */
struct fz_ext {
	struct rte_mbuf_ext_shared_info shinfo;
};

static void
fz_ext_free(void *addr, void *opaque)
{
	free(addr);
	free(opaque);
}

static struct rte_mbuf *
fz_seg(const uint8_t *bytes, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(fz_dp->pool);
	struct fz_ext *e = malloc(sizeof(*e));
	uint8_t *buf = malloc(FZ_HEADROOM + len);

	if (m == NULL || e == NULL || buf == NULL)
		fz_die("out of mbufs or memory");
	memset(buf, 0, FZ_HEADROOM);
	memcpy(buf + FZ_HEADROOM, bytes, len);
	memset(&e->shinfo, 0, sizeof(e->shinfo));
	e->shinfo.free_cb = fz_ext_free;
	e->shinfo.fcb_opaque = e;
	rte_mbuf_ext_refcnt_set(&e->shinfo, 1);
	rte_pktmbuf_attach_extbuf(m, buf, (rte_iova_t)(uintptr_t)buf,
				  (uint16_t)(FZ_HEADROOM + len), &e->shinfo);
	m->data_off = FZ_HEADROOM;
	m->data_len = (uint16_t)len;
	m->pkt_len = (uint32_t)len;
	return m;
}

struct rte_mbuf *
fz_mbuf(const uint8_t *bytes, size_t len, size_t split)
{
	struct rte_mbuf *m, *m2;

	if (len == 0 || len > FZ_MAX_FRAME)
		return NULL;
	if (split == 0 || split >= len)
		return fz_seg(bytes, len);
	m = fz_seg(bytes, split);
	m2 = fz_seg(bytes + split, len - split);
	if (rte_pktmbuf_chain(m, m2) != 0)
		fz_die("rte_pktmbuf_chain");
	return m;
}

void
fz_inject(unsigned int p, struct rte_mbuf *m)
{
	if (rte_ring_enqueue(rxr[p % FZ_NPORTS], m) != 0)
		rte_pktmbuf_free(m);
}

unsigned int
fz_flush_tx(void)
{
	struct rte_mbuf *got[FZ_RING];
	unsigned int n, total = 0;

	for (unsigned int p = 0; p < FZ_NPORTS; p++) {
		n = rte_ring_dequeue_burst(txr[p], (void **)got, FZ_RING, NULL);
		total += n;
		for (unsigned int i = 0; i < n; i++) {
			/* What the switch sends must be a consistent mbuf chain. */
			if (rte_mbuf_check(got[i], 1, NULL) != 0)
				fz_die("sent an inconsistent mbuf");
			rte_pktmbuf_free(got[i]);
		}
	}
	return total;
}

void
fz_run(void)
{
	struct rte_mbuf *got[FZ_RING];
	unsigned int n;

	dp_worker_poll_once(fz_ctx);
	fdb_learn_drain(fz_dp->fdb, rte_rdtsc());
	nat_expire(fz_dp, 16);
	fz_flush_tx();
	while ((n = rte_ring_dequeue_burst(fz_dp->punt, (void **)got, FZ_RING, NULL)) > 0)
		rte_pktmbuf_free_bulk(got, n);
	runs++;
	if (pool_avail != 0 && rte_mempool_avail_count(fz_dp->pool) != pool_avail) {
		fprintf(stderr, "fuzz_dp: %u mbufs free after the input, %u before: leaked or "
			"freed twice\n", rte_mempool_avail_count(fz_dp->pool), pool_avail);
		abort();
	}
}
