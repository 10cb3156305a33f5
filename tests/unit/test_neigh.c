/*
 * test_neigh.c - control/neigh.c's state machine with the time passed in: a
 * miss holds frames and asks (broadcast), retries once a second, goes FAILED
 * and comes back; a reply installs the neighbour and releases what was held;
 * unsolicited replies create nothing; ageing probes (unicast) and removes;
 * gratuitous ARP (a request or a reply) updates; flush; a flood of misses to
 * new next hops: rate-limited, evicting FAILED then the oldest INCOMPLETE
 * entries, NEIGH_HELD_MAX frames held in all.
 *
 * A real data plane (its pool, view and neighbour table) with no port and no
 * worker: the transmit function is the test's and keeps what control sends.
 */
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <jansson.h>
#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_mbuf.h>

#include "harness.h"
#include "control/ctl.h"
#include "control/neigh.h"
#include "dataplane/dp.h"
#include "dataplane/l3.h"
#include "dataplane/l3_private.h"
#include "dataplane/neigh.h"
#include "dataplane/pkt.h"

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define DOM_U 255
#define PORT_U 3

int ctl_logtype;   /* dpnetd.c registers it in the daemon */

char *
ctl_format_mac(const uint8_t *b, char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
	return buf;
}

static struct dp *dp;
static struct ctl ctl;
static const struct rte_ether_addr mac_nic = {{0x52, 0x54, 0, 0x12, 0x34, 0x56}};
static const struct rte_ether_addr mac_gw = {{0x02, 0xee, 0, 0, 0, 0x01}};
static const struct rte_ether_addr mac_gw2 = {{0x02, 0xee, 0, 0, 0, 0x11}};
static const uint32_t ip_up = IP4(192, 0, 2, 2), ip_gw = IP4(192, 0, 2, 1);
static const uint32_t ip_x = IP4(192, 0, 2, 7);

/* What control sent. */
static struct rte_mbuf *sent[64];
static unsigned int nsent;

static int
xmit(struct ctl *c, struct rte_mbuf *m)
{
	(void)c;
	if (nsent == RTE_DIM(sent))
		return -1;
	sent[nsent++] = m;
	return 0;
}

static void
clear_sent(void)
{
	for (unsigned int i = 0; i < nsent; i++)
		rte_pktmbuf_free(sent[i]);
	nsent = 0;
}

static uint64_t
stat(const char *key)
{
	json_t *o = ctl_neigh_stats_json();
	uint64_t v = (uint64_t)json_integer_value(json_object_get(o, key));

	json_decref(o);
	return v;
}

/* The MAC the data plane's table has for (DOM_U, ip), or false. */
static bool
dp_neigh(uint32_t ip, struct rte_ether_addr *mac)
{
	uint64_t key = l3_neigh_key(DOM_U, ip);
	void *data;

	if (rte_hash_lookup_data(dp->l3->neigh, &key, &data) < 0)
		return false;
	l3_mac_unpack((uint64_t)(uintptr_t)data, mac);
	return true;
}

/* A routed frame waiting for its next hop (only its Ethernet header matters). */
static struct rte_mbuf *
mk_held(uint8_t tag)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp->pool);
	uint8_t *p;

	CU_ASSERT_FATAL(m != NULL);
	p = (uint8_t *)rte_pktmbuf_append(m, 60);
	CU_ASSERT_FATAL(p != NULL);
	memset(p, tag, 60);
	memcpy(p + 6, mac_nic.addr_bytes, 6);
	memset(pkt_meta(m), 0, sizeof(struct pkt_meta));
	return m;
}

static struct rte_mbuf *
mk_arp(const struct rte_ether_addr *sha, uint16_t op, uint32_t sip, uint32_t tip)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp->pool);
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *ah;
	struct pkt_meta *meta;

	CU_ASSERT_FATAL(m != NULL);
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, 60);
	CU_ASSERT_FATAL(eth != NULL);
	memset(eth, 0, 60);
	eth->src_addr = *sha;
	eth->dst_addr = mac_nic;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
	ah = (struct rte_arp_hdr *)(eth + 1);
	ah->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = 6;
	ah->arp_plen = 4;
	ah->arp_opcode = rte_cpu_to_be_16(op);
	ah->arp_data.arp_sha = *sha;
	ah->arp_data.arp_sip = rte_cpu_to_be_32(sip);
	ah->arp_data.arp_tha = mac_nic;
	ah->arp_data.arp_tip = rte_cpu_to_be_32(tip);
	meta = pkt_meta(m);
	memset(meta, 0, sizeof(*meta));
	meta->l3_off = sizeof(*eth);
	meta->domain = DOM_U;
	meta->punt = PUNT_ARP;
	return m;
}

/* sent[i] is an ARP request for tip from us; broadcast or to dst. */
static void
check_request(unsigned int i, uint32_t tip, const struct rte_ether_addr *dst)
{
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *ah;

	CU_ASSERT_FATAL(i < nsent);
	eth = rte_pktmbuf_mtod(sent[i], struct rte_ether_hdr *);
	ah = (struct rte_arp_hdr *)(eth + 1);
	CU_ASSERT_EQUAL(pkt_meta(sent[i])->out_port, PORT_U);
	CU_ASSERT_EQUAL(eth->ether_type, RTE_BE16(RTE_ETHER_TYPE_ARP));
	CU_ASSERT(rte_is_same_ether_addr(&eth->src_addr, &mac_nic));
	CU_ASSERT(dst != NULL ? rte_is_same_ether_addr(&eth->dst_addr, dst) :
		  rte_is_broadcast_ether_addr(&eth->dst_addr));
	CU_ASSERT_EQUAL(ah->arp_opcode, RTE_BE16(RTE_ARP_OP_REQUEST));
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ah->arp_data.arp_sip), ip_up);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ah->arp_data.arp_tip), tip);
	CU_ASSERT(rte_is_same_ether_addr(&ah->arp_data.arp_sha, &mac_nic));
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(sent[i]), 60);
}

static void
reset(void)
{
	clear_sent();
	ctl_neigh_init(&ctl);
	ctl_neigh_set_xmit(xmit);
	l3_neigh_del(dp, DOM_U, ip_gw);
	l3_neigh_del(dp, DOM_U, ip_x);
}

static int
suite_init(void)
{
	struct dp_poll_params poll = {.busy = false, .spin_polls = 8, .sleep_min_us = 1,
				      .sleep_max_us = 100};
	struct dp_view *v;

	dp = dp_create(4096, 1, 1024, 300, &poll);
	if (dp == NULL)
		return -1;
	ctl.dp = dp;
	v = dp_view_clone(dp);
	v->nets[DOM_U] = (struct dp_net_view){.gw_ip = ip_up, .subnet = IP4(192, 0, 2, 0),
		.prefix_len = 24, .flags = DP_NET_F_L3 | DP_NET_F_UPLINK | DP_NET_F_RESOLVE,
		.mtu = 1500, .gw_mac = mac_nic};
	v->domains[DOM_U].n_ports = 1;
	v->domains[DOM_U].ports[0] = PORT_U;
	dp_view_publish(dp, v);
	return 0;
}

/* Misses hold frames (the oldest go), one request a second, then FAILED. */
static void
test_miss_and_fail(void)
{
	reset();
	ctl_neigh_miss(&ctl, DOM_U, ip_gw, mk_held(1), 0);
	CU_ASSERT_EQUAL(nsent, 1);
	check_request(0, ip_gw, NULL);
	for (uint8_t k = 2; k <= NEIGH_HOLD + 1; k++)
		ctl_neigh_miss(&ctl, DOM_U, ip_gw, mk_held(k), 10 * k);
	CU_ASSERT_EQUAL(nsent, 1);                 /* no second request yet */
	CU_ASSERT_EQUAL(stat("held"), NEIGH_HOLD + 1);
	CU_ASSERT_EQUAL(stat("held_dropped"), 1);   /* the oldest */
	ctl_neigh_tick(&ctl, 999);
	CU_ASSERT_EQUAL(nsent, 1);
	ctl_neigh_tick(&ctl, 1000);
	CU_ASSERT_EQUAL(nsent, 2);
	check_request(1, ip_gw, NULL);
	ctl_neigh_tick(&ctl, 2000);
	CU_ASSERT_EQUAL(nsent, NEIGH_PROBES);
	CU_ASSERT_EQUAL(stat("requests"), NEIGH_PROBES);
	ctl_neigh_tick(&ctl, 3000);                /* unanswered: FAILED */
	CU_ASSERT_EQUAL(nsent, NEIGH_PROBES);
	CU_ASSERT_EQUAL(stat("failed"), 1);
	CU_ASSERT_EQUAL(stat("held_dropped"), NEIGH_HOLD + 1);
	ctl_neigh_miss(&ctl, DOM_U, ip_gw, mk_held(9), 3500);
	CU_ASSERT_EQUAL(nsent, NEIGH_PROBES);      /* no request while FAILED */
	CU_ASSERT_EQUAL(stat("held_dropped"), NEIGH_HOLD + 2);
	/* FAILED ends: the next miss asks again. */
	ctl_neigh_tick(&ctl, 3000 + NEIGH_FAILED_S * 1000);
	CU_ASSERT_EQUAL(stat("pending"), 0);
	ctl_neigh_miss(&ctl, DOM_U, ip_gw, mk_held(10), 3001 + NEIGH_FAILED_S * 1000);
	CU_ASSERT_EQUAL(nsent, NEIGH_PROBES + 1);
	CU_ASSERT_FALSE(dp_neigh(ip_gw, &(struct rte_ether_addr){{0}}));
	reset();
}

/* A reply installs the neighbour and sends the held frames to its MAC. */
static void
test_reply_learned(void)
{
	struct rte_ether_addr mac;

	reset();
	ctl_neigh_miss(&ctl, DOM_U, ip_gw, mk_held(1), 0);
	ctl_neigh_miss(&ctl, DOM_U, ip_gw, mk_held(2), 5);
	clear_sent();
	ctl_neigh_arp(&ctl, DOM_U, mk_arp(&mac_gw, RTE_ARP_OP_REPLY, ip_gw, ip_up), 20);
	CU_ASSERT(dp_neigh(ip_gw, &mac));
	CU_ASSERT(rte_is_same_ether_addr(&mac, &mac_gw));
	CU_ASSERT_EQUAL_FATAL(nsent, 2);
	for (unsigned int i = 0; i < 2; i++) {
		struct rte_ether_hdr *eth = rte_pktmbuf_mtod(sent[i], struct rte_ether_hdr *);

		CU_ASSERT(rte_is_same_ether_addr(&eth->dst_addr, &mac_gw));
		CU_ASSERT_EQUAL(pkt_meta(sent[i])->out_port, PORT_U);
		/* In order, the frames untouched past the MAC. */
		CU_ASSERT_EQUAL(rte_pktmbuf_mtod(sent[i], uint8_t *)[20], i + 1);
	}
	CU_ASSERT_EQUAL(stat("held_sent"), 2);
	CU_ASSERT_EQUAL(stat("learned"), 1);
	/* A miss that was on its way meanwhile goes straight out. */
	clear_sent();
	ctl_neigh_miss(&ctl, DOM_U, ip_gw, mk_held(3), 30);
	CU_ASSERT_EQUAL(nsent, 1);
	CU_ASSERT_EQUAL(stat("held_sent"), 3);
	/* A gratuitous ARP with a new MAC updates the table. */
	ctl_neigh_arp(&ctl, DOM_U, mk_arp(&mac_gw2, RTE_ARP_OP_REQUEST, ip_gw, ip_gw), 40);
	CU_ASSERT(dp_neigh(ip_gw, &mac));
	CU_ASSERT(rte_is_same_ether_addr(&mac, &mac_gw2));
	/* Flush: learned entries leave the data plane's table. */
	ctl_neigh_flush(&ctl, DOM_U);
	CU_ASSERT_FALSE(dp_neigh(ip_gw, &mac));
	CU_ASSERT_EQUAL(stat("pending"), 0);
	reset();
}

/* Nothing is created from ARP nobody asked for (arp_accept=0), nor from
 * frames claiming our address or coming from outside the subnet. */
static void
test_unsolicited(void)
{
	struct rte_ether_addr mac;

	reset();
	ctl_neigh_arp(&ctl, DOM_U, mk_arp(&mac_gw, RTE_ARP_OP_REPLY, ip_gw, ip_up), 0);
	ctl_neigh_arp(&ctl, DOM_U, mk_arp(&mac_gw, RTE_ARP_OP_REQUEST, ip_gw, ip_up), 0);
	CU_ASSERT_FALSE(dp_neigh(ip_gw, &mac));
	CU_ASSERT_EQUAL(stat("pending"), 0);
	ctl_neigh_miss(&ctl, DOM_U, ip_x, mk_held(1), 0);
	ctl_neigh_arp(&ctl, DOM_U, mk_arp(&mac_gw, RTE_ARP_OP_REPLY, ip_up, ip_up), 1);
	ctl_neigh_arp(&ctl, DOM_U, mk_arp(&mac_gw, RTE_ARP_OP_REPLY, IP4(10, 0, 0, 7), ip_up), 1);
	CU_ASSERT_FALSE(dp_neigh(ip_x, &mac));
	CU_ASSERT_EQUAL(stat("learned"), 0);
	/* A request for another address from the pending host: learned (STALE). */
	ctl_neigh_arp(&ctl, DOM_U, mk_arp(&mac_gw, RTE_ARP_OP_REQUEST, ip_x, ip_up), 2);
	CU_ASSERT(dp_neigh(ip_x, &mac));
	reset();
}

/* A gratuitous ARP sent as a reply (tip == sip) updates a known entry (STALE:
 * probed after NEIGH_REACHABLE_S) and creates none. */
static void
test_garp_reply(void)
{
	struct rte_ether_addr mac;

	reset();
	ctl_neigh_arp(&ctl, DOM_U, mk_arp(&mac_gw, RTE_ARP_OP_REPLY, ip_gw, ip_gw), 0);
	CU_ASSERT_FALSE(dp_neigh(ip_gw, &mac));
	CU_ASSERT_EQUAL(stat("pending"), 0);
	ctl_neigh_miss(&ctl, DOM_U, ip_gw, mk_held(1), 0);
	ctl_neigh_arp(&ctl, DOM_U, mk_arp(&mac_gw, RTE_ARP_OP_REPLY, ip_gw, ip_up), 10);
	CU_ASSERT_EQUAL(stat("learned"), 1);
	ctl_neigh_arp(&ctl, DOM_U, mk_arp(&mac_gw2, RTE_ARP_OP_REPLY, ip_gw, ip_gw), 20);
	CU_ASSERT(dp_neigh(ip_gw, &mac));
	CU_ASSERT(rte_is_same_ether_addr(&mac, &mac_gw2));
	CU_ASSERT_EQUAL(stat("learned"), 2);
	/* A reply to somebody else (tip neither ours nor its own) teaches nothing. */
	ctl_neigh_arp(&ctl, DOM_U, mk_arp(&mac_gw, RTE_ARP_OP_REPLY, ip_gw, ip_x), 30);
	CU_ASSERT(dp_neigh(ip_gw, &mac));
	CU_ASSERT(rte_is_same_ether_addr(&mac, &mac_gw2));
	/* STALE from the update (20 ms): probed NEIGH_REACHABLE_S later. */
	clear_sent();
	ctl_neigh_tick(&ctl, 20 + NEIGH_REACHABLE_S * 1000ull);
	CU_ASSERT_EQUAL(nsent, 1);
	check_request(0, ip_gw, &mac_gw2);
	reset();
}

/* A miss for the i-th address of 10.0.0.0/16 (a scan of a big uplink network). */
static void
scan_miss(unsigned int i, uint64_t now)
{
	ctl_neigh_miss(&ctl, DOM_U, IP4(10, 0, i >> 8, i & 0xff), mk_held(1), now);
}

/* New next hops: NEIGH_NEW_BURST at once, then NEIGH_NEW_PER_S a second. */
static void
test_rate_limit(void)
{
	unsigned int i;

	reset();
	for (i = 0; i < NEIGH_NEW_BURST + 10; i++)
		scan_miss(i, 0);
	CU_ASSERT_EQUAL(stat("requests"), NEIGH_NEW_BURST);
	CU_ASSERT_EQUAL(stat("pending"), NEIGH_NEW_BURST);
	CU_ASSERT_EQUAL(stat("rate_limited"), 10);
	/* Known ones are not limited: a miss for a pending next hop is held. */
	scan_miss(0, 0);
	CU_ASSERT_EQUAL(stat("rate_limited"), 10);
	CU_ASSERT_EQUAL(stat("held_now"), NEIGH_NEW_BURST + 1);
	scan_miss(i++, 1000 / NEIGH_NEW_PER_S - 1);
	CU_ASSERT_EQUAL(stat("rate_limited"), 11);
	scan_miss(i++, 1000 / NEIGH_NEW_PER_S);
	CU_ASSERT_EQUAL(stat("pending"), NEIGH_NEW_BURST + 1);
	/* A second later the bucket is full again, no more. */
	for (unsigned int k = 0; k < NEIGH_NEW_BURST + 5; k++)
		scan_miss(i++, 5000);
	CU_ASSERT_EQUAL(stat("pending"), 2 * NEIGH_NEW_BURST + 1);
	CU_ASSERT_EQUAL(stat("rate_limited"), 16);
	reset();
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(dp->pool), 0);
}

/* A full table: a new next hop evicts a FAILED entry first, then the oldest
 * INCOMPLETE one; NEIGH_HELD_MAX frames held in all (the oldest go). */
static void
test_table_full(void)
{
	const uint64_t step = 1000 / NEIGH_NEW_PER_S; /* one token each */
	uint64_t t = 0;
	struct rte_ether_addr mac;

	reset();
	ctl_neigh_miss(&ctl, DOM_U, ip_x, mk_held(1), 0);
	for (unsigned int k = 1; k <= NEIGH_PROBES; k++)
		ctl_neigh_tick(&ctl, k * 1000);        /* ip_x: FAILED */
	CU_ASSERT_EQUAL(stat("failed"), 1);
	t = NEIGH_PROBES * 1000;
	for (unsigned int i = 0; i < NEIGH_MAX - 1; i++, t += step)
		scan_miss(i, t);
	CU_ASSERT_EQUAL(stat("pending"), NEIGH_MAX);
	CU_ASSERT_EQUAL(stat("rate_limited"), 0);
	CU_ASSERT_EQUAL(stat("held_now"), NEIGH_HELD_MAX);
	/* 1 (ip_x's, when FAILED) + the oldest past NEIGH_HELD_MAX */
	CU_ASSERT_EQUAL(stat("held_dropped"), 1 + (NEIGH_MAX - 1) - NEIGH_HELD_MAX);
	CU_ASSERT_EQUAL(stat("evicted"), 0);
	/* The gateway: FAILED ip_x's slot, asked at once. */
	clear_sent();
	ctl_neigh_miss(&ctl, DOM_U, ip_gw, mk_held(2), t);
	CU_ASSERT_EQUAL(stat("evicted"), 1);
	CU_ASSERT_EQUAL_FATAL(nsent, 1);
	check_request(0, ip_gw, NULL);
	CU_ASSERT_EQUAL(stat("held_now"), NEIGH_HELD_MAX);
	/* ip_x again: not FAILED any more (asked), the oldest scan entry went. */
	t += step;
	ctl_neigh_miss(&ctl, DOM_U, ip_x, mk_held(3), t);
	CU_ASSERT_EQUAL(stat("evicted"), 2);
	CU_ASSERT_EQUAL_FATAL(nsent, 2);
	check_request(1, ip_x, NULL);
	/* Entry 0 of the scan was evicted: a miss for it is new (evicts entry 1). */
	t += step;
	scan_miss(0, t);
	CU_ASSERT_EQUAL(stat("evicted"), 3);
	CU_ASSERT_EQUAL(nsent, 3);
	/* The gateway answers: learned, its held frame sent. */
	clear_sent();
	ctl_neigh_arp(&ctl, DOM_U, mk_arp(&mac_gw, RTE_ARP_OP_REPLY, ip_gw, ip_up), t);
	CU_ASSERT(dp_neigh(ip_gw, &mac));
	CU_ASSERT_EQUAL(nsent, 1);
	CU_ASSERT_EQUAL(stat("held_now"), NEIGH_HELD_MAX - 1);
	reset();
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(dp->pool), 0);
}

/* Ageing: probed (unicast) after NEIGH_REACHABLE_S, removed when silent; an
 * answer to a probe keeps the entry. */
static void
test_ageing(void)
{
	const uint64_t t0 = 100, age = NEIGH_REACHABLE_S * 1000ull;
	struct rte_ether_addr mac;

	reset();
	ctl_neigh_miss(&ctl, DOM_U, ip_gw, mk_held(1), t0);
	ctl_neigh_arp(&ctl, DOM_U, mk_arp(&mac_gw, RTE_ARP_OP_REPLY, ip_gw, ip_up), t0);
	clear_sent();
	ctl_neigh_tick(&ctl, t0 + age - 1);
	CU_ASSERT_EQUAL(nsent, 0);
	ctl_neigh_tick(&ctl, t0 + age);
	CU_ASSERT_EQUAL(nsent, 1);
	check_request(0, ip_gw, &mac_gw);
	CU_ASSERT_EQUAL(stat("probes"), 1);
	/* Answered: confirmed again, no more probes for a while. */
	ctl_neigh_arp(&ctl, DOM_U, mk_arp(&mac_gw, RTE_ARP_OP_REPLY, ip_gw, ip_up), t0 + age + 5);
	ctl_neigh_tick(&ctl, t0 + age + 1000);
	CU_ASSERT_EQUAL(nsent, 1);
	/* Silent this time: NEIGH_PROBES probes, then gone from the table. */
	for (unsigned int k = 0; k < NEIGH_PROBES; k++)
		ctl_neigh_tick(&ctl, t0 + 2 * age + 5 + k * 1000);
	CU_ASSERT_EQUAL(nsent, 1 + NEIGH_PROBES);
	CU_ASSERT(dp_neigh(ip_gw, &mac));
	ctl_neigh_tick(&ctl, t0 + 2 * age + 5 + NEIGH_PROBES * 1000);
	CU_ASSERT_FALSE(dp_neigh(ip_gw, &mac));
	CU_ASSERT_EQUAL(stat("expired"), 1);
	CU_ASSERT_EQUAL(stat("pending"), 0);
	reset();
}

/* Gratuitous ARP for our address; without a transmit function nothing leaks. */
static void
test_announce_no_xmit(void)
{
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *ah;

	reset();
	ctl_neigh_announce(&ctl, DOM_U, PORT_U, ip_up, &mac_nic);
	CU_ASSERT_EQUAL_FATAL(nsent, 1);
	eth = rte_pktmbuf_mtod(sent[0], struct rte_ether_hdr *);
	ah = (struct rte_arp_hdr *)(eth + 1);
	CU_ASSERT(rte_is_broadcast_ether_addr(&eth->dst_addr));
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ah->arp_data.arp_sip), ip_up);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(ah->arp_data.arp_tip), ip_up);
	CU_ASSERT_EQUAL(stat("garps"), 1);
	clear_sent();
	ctl_neigh_set_xmit(NULL);
	ctl_neigh_miss(&ctl, DOM_U, ip_gw, mk_held(1), 0);
	ctl_neigh_announce(&ctl, DOM_U, PORT_U, ip_up, &mac_nic);
	CU_ASSERT_EQUAL(stat("xmit_dropped"), 2);
	reset();
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(dp->pool), 0);
}

/* Punted frames are not trusted (neigh.h; found by fuzz_neigh): a domain that
 * does not resolve, a miss shorter than an Ethernet header, ARP that is not
 * Ethernet/IPv4 - freed, nothing held, asked or learned. */
static void
test_untrusted_punts(void)
{
	static const uint16_t doms[] = {0, 7, DP_MAX_DOMAINS, 0xffff};
	struct rte_ether_addr mac;
	struct rte_arp_hdr *ah;
	struct rte_mbuf *m;

	reset();
	for (unsigned int i = 0; i < RTE_DIM(doms); i++)
		ctl_neigh_miss(&ctl, doms[i], ip_gw, mk_held(1), 0);
	m = mk_held(2);
	rte_pktmbuf_trim(m, 60 - 13);
	ctl_neigh_miss(&ctl, DOM_U, ip_gw, m, 0);
	CU_ASSERT_EQUAL(nsent, 0);
	CU_ASSERT_EQUAL(stat("pending"), 0);
	CU_ASSERT_EQUAL(stat("held_now"), 0);
	CU_ASSERT_EQUAL(stat("held_dropped"), RTE_DIM(doms) + 1);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(dp->pool), 0);
	/* ip_gw pending; answers that must not count. */
	ctl_neigh_miss(&ctl, DOM_U, ip_gw, mk_held(3), 0);
	CU_ASSERT_EQUAL(stat("pending"), 1);
	for (unsigned int bad = 0; bad < 4; bad++) {
		m = mk_arp(&mac_gw, RTE_ARP_OP_REPLY, ip_gw, ip_up);
		ah = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, sizeof(struct rte_ether_hdr));
		if (bad == 0)
			ah->arp_hardware = RTE_BE16(6);
		else if (bad == 1)
			ah->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV6);
		else if (bad == 2)
			ah->arp_hlen = 8;
		else
			ah->arp_plen = 16;
		ctl_neigh_arp(&ctl, DOM_U, m, 1);
	}
	/* The right answer in a domain that does not resolve. */
	ctl_neigh_arp(&ctl, 0, mk_arp(&mac_gw, RTE_ARP_OP_REPLY, ip_gw, ip_up), 1);
	CU_ASSERT_FALSE(dp_neigh(ip_gw, &mac));
	CU_ASSERT_EQUAL(stat("learned"), 0);
	/* And in U it is learned (the cases above failed for their one defect). */
	ctl_neigh_arp(&ctl, DOM_U, mk_arp(&mac_gw, RTE_ARP_OP_REPLY, ip_gw, ip_up), 2);
	CU_ASSERT(dp_neigh(ip_gw, &mac));
	CU_ASSERT_EQUAL(stat("held_sent"), 1);
	reset();
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(dp->pool), 0);
}

int
main(int argc, char **argv)
{
	CU_pSuite s;

	(void)argc;
	(void)argv;
	if (th_eal_init("test_neigh") != 0)
		return 77;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("neigh", suite_init, NULL);
	CU_add_test(s, "misses: hold, requests, FAILED and back", test_miss_and_fail);
	CU_add_test(s, "reply learned, held frames released", test_reply_learned);
	CU_add_test(s, "unsolicited ARP creates nothing", test_unsolicited);
	CU_add_test(s, "gratuitous ARP reply updates, creates nothing", test_garp_reply);
	CU_add_test(s, "new next hops rate-limited", test_rate_limit);
	CU_add_test(s, "full table: eviction, held frames capped", test_table_full);
	CU_add_test(s, "ageing: probes, removal", test_ageing);
	CU_add_test(s, "gratuitous ARP, no transmit function", test_announce_no_xmit);
	CU_add_test(s, "untrusted punts: refused, nothing held or learned", test_untrusted_punts);
	return th_run() != 0;
}
