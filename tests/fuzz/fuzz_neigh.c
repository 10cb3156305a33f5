/*
 * fuzz_neigh.c - libFuzzer target for the control thread's handling of punted
 * frames: control/punt.c (ctl_punt_drain) into control/neigh.c (ctl_neigh_arp,
 * ctl_neigh_miss, ctl_neigh_tick), with the real transmit function (dp->inject).
 *
 * The data plane is fuzz_dp.c's, plus: the uplink's domain U resolves its
 * neighbours with ARP (DP_NET_F_RESOLVE, dataplane/neigh.h), its subnet is
 * 192.168.0.0/16 (so a scan has room to fill NEIGH_MAX entries) and it has no
 * installed neighbours (everything in U is learned). A struct ctl holds only
 * that data plane, as control/neigh.c needs nothing else.
 *
 * Input: records [ctl][len hi][len lo][bytes] (up to FZ_NB_RECORDS). ctl & 3:
 *   0  an ARP punt (meta->punt = PUNT_ARP) of the bytes as they are, l3_off 14;
 *      ctl & 0x20: l3_off = bytes[0] (0xff: PKT_OFF_NONE)
 *   1  an ARP punt with fix-ups (when 42 bytes or more): EtherType and ARP
 *      header Ethernet/IPv4, sender in 192.168.0.0/16, target our address, or
 *      the sender's own (gratuitous) when ctl & 0x20
 *   2  a neighbour miss (PUNT_NEIGH_MISS) for 192.168.bytes[0].bytes[1];
 *      ctl & 0x20: repeated 1 + 8 * bytes[2] times for consecutive next hops,
 *      20 ms apart (the rate of new next hops control allows), the timer
 *      every 500 ms: a scan
 *   3  the frame (fixed up as 1, to broadcast or our MAC) injected on the
 *      uplink port: the worker's ARP stage decides what it punts
 * ctl & 0x04 punts into another domain than U (bytes[len-1] picks: a bridge
 * network, the internal one, a domain with no network, DP_MAX_DOMAINS, 0xffff);
 * ctl & FZ_C_SPLIT makes two segments; ctl & 0x08 ends a step: the worker runs,
 * control drains dp->punt, time advances by 10 ms, 300 ms, 1 s or 31 s
 * (ctl >> 6) and control's timer runs (requests, FAILED, probes, expiry).
 * Every input ends with a step and starts from an empty cache.
 *
 * Checks after every input, besides ASan/UBSan: at most NEIGH_MAX entries and
 * NEIGH_HELD_MAX held frames; the pool's in-use count is between the number of
 * frames held and twice that (a frame has one or two segments), and exactly
 * its start value once the domain is flushed and the cache emptied (no leak, no
 * double free); every frame control sent is a consistent mbuf for the
 * uplink port; the data plane's neighbour table gained entries only in U, each
 * inside the subnet, not our address, with a unicast MAC - and loses them all
 * with the flush.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "control/ctl.h"
#include "control/neigh.h"
#include "dataplane/dp.h"
#include "dataplane/l3.h"
#include "dataplane/neigh.h"
#include "dataplane/pipeline.h"
#include "dataplane/pkt.h"
#include "fuzz_dp.h"

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define FZ_NB_RECORDS 64
#define FZ_UP_IP IP4(192, 168, 1, 10)
#define FZ_UP_NET IP4(192, 168, 0, 0)
#define FZ_UP_PREFIX 16
#define FZ_START_MS 1000000ull

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int ctl_logtype;   /* dpnetd.c registers it in the daemon */

/* port.c's, which this target does not link. */
char *
ctl_format_mac(const uint8_t *b, char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
	return buf;
}

static struct ctl ctl;
static unsigned int pool_start;     /* free mbufs with nothing held */
static uint32_t neigh_base;         /* installed neighbours (outside U) */
static uint64_t sent_frames;        /* frames control sent, over the whole run */

static void
fz_die(const char *what)
{
	fprintf(stderr, "fuzz_neigh: %s\n", what);
	abort();
}

static int64_t
fz_stat(const char *key)
{
	json_t *o = ctl_neigh_stats_json();
	int64_t v;

	if (o == NULL)
		fz_die("ctl_neigh_stats_json");
	v = json_integer_value(json_object_get(o, key));
	json_decref(o);
	return v;
}

struct fz_walk {
	uint32_t other;     /* entries outside U */
	uint32_t in_u;      /* entries in U */
	bool bad;           /* an entry in U control must not have learned */
};

static int
fz_walk_cb(uint16_t domain, uint32_t ip, const struct rte_ether_addr *mac, void *arg)
{
	struct fz_walk *w = arg;

	if (domain != FZ_DOM_U) {
		w->other++;
		return 0;
	}
	w->in_u++;
	if (ip == 0 || ip == FZ_UP_IP || ((ip ^ FZ_UP_NET) >> (32 - FZ_UP_PREFIX)) != 0 ||
	    !rte_is_valid_assigned_ether_addr(mac)) {
		fprintf(stderr, "fuzz_neigh: learned %08x in U with a bad address or MAC\n", ip);
		w->bad = true;
	}
	return 0;
}

static void
fz_check_table(void)
{
	struct fz_walk w = {0};

	l3_neigh_walk(fz_dp, fz_walk_cb, &w);
	if (w.bad)
		abort();
	if (w.other != neigh_base)
		fz_die("control changed the neighbours of a domain that does not resolve");
	if (w.in_u > NEIGH_MAX)
		fz_die("more learned neighbours than NEIGH_MAX");
}

/* Take what control sent (dp->inject, as a worker would) and check it. */
static void
fz_take_sent(void)
{
	struct rte_mbuf *ms[DP_BURST];
	unsigned int n;

	for (unsigned int round = 0; round < DP_INJECT_RING / DP_BURST + 1; round++) {
		n = rte_ring_dequeue_burst(fz_dp->inject, (void **)ms, DP_BURST, NULL);
		if (n == 0)
			return;
		for (unsigned int i = 0; i < n; i++) {
			if (rte_mbuf_check(ms[i], 1, NULL) != 0)
				fz_die("control sent an inconsistent mbuf");
			if (pkt_meta(ms[i])->out_port != fz_pids[4])
				fz_die("control sent a frame out of a port not in U");
			if (rte_pktmbuf_data_len(ms[i]) < sizeof(struct rte_ether_hdr))
				fz_die("control sent a frame shorter than an Ethernet header");
			rte_pktmbuf_free(ms[i]);
		}
		sent_frames += n;
	}
	fz_die("dp->inject does not empty");
}

/* A step: the worker runs what was injected, control drains dp->punt, time
 * passes, control's timer runs; what was sent is taken. */
static void
fz_step(uint64_t *now_ms, uint64_t dt_ms)
{
	/* The RX ring holds 256 frames: 8 bursts of 32. */
	for (unsigned int i = 0; i < 10; i++) {
		dp_worker_poll_once(fz_ctx);
		fz_flush_tx();
	}
	for (unsigned int i = 0; i < 4 && !rte_ring_empty(fz_dp->punt); i++) {
		ctl_punt_drain(&ctl, *now_ms);
		fz_take_sent();
	}
	if (!rte_ring_empty(fz_dp->punt))
		fz_die("dp->punt does not empty");
	*now_ms += dt_ms;
	ctl_neigh_tick(&ctl, *now_ms);
	fz_take_sent();
}

static void
fz_punt(struct rte_mbuf *m, uint8_t reason, uint16_t domain, uint16_t l3_off, uint32_t nh)
{
	struct pkt_meta *meta = pkt_meta(m);

	memset(meta, 0, sizeof(*meta));
	meta->in_port = fz_pids[4];
	meta->domain = domain;
	meta->l3_off = l3_off;
	meta->l4_off = PKT_OFF_NONE;
	meta->next = PL_NEXT_PUNT;
	meta->punt = reason;
	meta->nh_ip = nh;
	if (rte_ring_enqueue(fz_dp->punt, m) != 0)
		rte_pktmbuf_free(m);   /* the dispatcher drops it when the ring is full */
}

/* Make f (len >= 42) an Ethernet/IPv4 ARP frame from inside the uplink's subnet. */
static void
fz_fix_arp(uint8_t *f, bool gratuitous)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f;
	struct rte_arp_hdr *ah = (struct rte_arp_hdr *)(eth + 1);
	uint32_t sip;

	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
	ah->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = RTE_ETHER_ADDR_LEN;
	ah->arp_plen = 4;
	ah->arp_opcode = ah->arp_opcode & RTE_BE16(1) ? RTE_BE16(RTE_ARP_OP_REQUEST) :
		RTE_BE16(RTE_ARP_OP_REPLY);
	sip = (rte_be_to_cpu_32(ah->arp_data.arp_sip) & 0xffff) | FZ_UP_NET;
	ah->arp_data.arp_sip = rte_cpu_to_be_32(sip);
	ah->arp_data.arp_tip = rte_cpu_to_be_32(gratuitous ? sip : FZ_UP_IP);
}

static void
fz_reset(void)
{
	/* The flush removes what control installed; init frees what is held. */
	ctl_neigh_flush(&ctl, FZ_DOM_U);
	ctl_neigh_init(&ctl);
	ctl_punt_init(&ctl);
	if (rte_mempool_avail_count(fz_dp->pool) != pool_start) {
		fprintf(stderr, "fuzz_neigh: %u mbufs free after the flush, %u at start: leaked "
			"or freed twice\n", rte_mempool_avail_count(fz_dp->pool), pool_start);
		abort();
	}
	if (l3_neigh_count(fz_dp) != neigh_base)
		fz_die("the flush left learned neighbours in the data plane");
}

/* The set-up works: a miss asks, a reply through the worker is learned and
 * releases the held frame (a target that never learns would pass silently). */
static void
fz_self_check(void)
{
	static const uint8_t reply[60] = {
		0x02, 0, 0, 0, 0x0f, 0x01, 0x02, 0, 0, 0, 0x99, 0x01, 0x08, 0x06,
		0, 1, 0x08, 0, 6, 4, 0, 2, 0x02, 0, 0, 0, 0x99, 0x01, 192, 168, 1, 1,
		0x02, 0, 0, 0, 0x0f, 0x01, 192, 168, 1, 10,
	};
	uint8_t held[60] = {0};
	uint64_t now_ms = FZ_START_MS, sent = sent_frames;

	fz_punt(fz_mbuf(held, sizeof(held), 0), PUNT_NEIGH_MISS, FZ_DOM_U, PKT_OFF_NONE,
		IP4(192, 168, 1, 1));
	fz_step(&now_ms, 10);
	if (sent_frames != sent + 1 || fz_stat("requests") != 1 || fz_stat("held_now") != 1)
		fz_die("self-check: a miss did not hold its frame and ask");
	fz_inject(4, fz_mbuf(reply, sizeof(reply), 0));
	fz_step(&now_ms, 10);
	if (fz_stat("learned") != 1 || fz_stat("held_sent") != 1 || fz_stat("held_now") != 0 ||
	    sent_frames != sent + 2 || l3_neigh_count(fz_dp) != neigh_base + 1)
		fz_die("self-check: a reply through the worker was not learned");
	fz_reset();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct dp_view *v;

	(void)argc;
	(void)argv;
	fz_dp_init("fuzz_neigh", 0);
	v = dp_view_clone(fz_dp);
	if (v == NULL)
		fz_die("dp_view_clone");
	v->nets[FZ_DOM_U].flags |= DP_NET_F_RESOLVE;
	v->nets[FZ_DOM_U].subnet = FZ_UP_NET;
	v->nets[FZ_DOM_U].prefix_len = FZ_UP_PREFIX;
	dp_view_publish(fz_dp, v);
	/* Everything in U is learned. */
	l3_neigh_del(fz_dp, FZ_DOM_U, IP4(192, 168, 1, 1));
	l3_neigh_del(fz_dp, FZ_DOM_U, IP4(192, 168, 1, 50));
	neigh_base = l3_neigh_count(fz_dp);
	ctl.dp = fz_dp;
	ctl_neigh_init(&ctl);
	ctl_punt_init(&ctl);
	fz_run();
	pool_start = rte_mempool_avail_count(fz_dp->pool);
	fz_self_check();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t other_doms[] = {FZ_DOM_A, FZ_DOM_B, FZ_DOM_I, 4, DP_MAX_DOMAINS,
					       0xffff};
	static const uint64_t steps_ms[] = {10, 300, 1000, 31000};
	static uint8_t f[FZ_MAX_FRAME];
	uint64_t now_ms = FZ_START_MS;
	unsigned int in_use, held;
	size_t off = 0;

	for (unsigned int r = 0; r < FZ_NB_RECORDS && off < size; r++) {
		uint8_t c = data[off++];
		size_t len = 0, split;
		uint16_t domain = FZ_DOM_U;
		struct rte_mbuf *m;

		if (off + 2 <= size)
			len = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (off > size)
			break;
		if (len > size - off)
			len = size - off;
		if (len > FZ_MAX_FRAME)
			len = FZ_MAX_FRAME;
		memcpy(f, data + off, len);
		off += len;
		split = c & FZ_C_SPLIT ? len / 2 : 0;
		if (c & 0x04 && len > 0)
			domain = other_doms[f[len - 1] % RTE_DIM(other_doms)];
		switch (c & 3) {
		case 0:
			m = fz_mbuf(f, len, split);
			if (m != NULL)
				fz_punt(m, PUNT_ARP, domain, c & 0x20 && len > 0 ?
					(f[0] == 0xff ? PKT_OFF_NONE : f[0]) :
					sizeof(struct rte_ether_hdr), 0);
			break;
		case 1:
			if (len >= 42)
				fz_fix_arp(f, c & 0x20);
			m = fz_mbuf(f, len, split);
			if (m != NULL)
				fz_punt(m, PUNT_ARP, domain, sizeof(struct rte_ether_hdr), 0);
			break;
		case 2: {
			uint32_t nh = FZ_UP_NET | (len >= 2 ? (uint32_t)f[0] << 8 | f[1] : 1);
			unsigned int reps = c & 0x20 && len >= 3 ? 1 + 8u * f[2] : 1;

			for (unsigned int k = 0; k < reps; k++) {
				m = fz_mbuf(f, len, split);
				if (m == NULL)
					break;
				fz_punt(m, PUNT_NEIGH_MISS, domain, PKT_OFF_NONE,
					FZ_UP_NET | ((nh + k) & 0xffff));
				if (reps > 1) {
					/* Drained one by one: a scan spread over time; the
					 * timer (a scan of the whole cache) every 500 ms. */
					for (unsigned int i = 0; i < 2 && !rte_ring_empty(fz_dp->punt);
					     i++)
						ctl_punt_drain(&ctl, now_ms);
					now_ms += 20;
					if (k % 25 == 24)
						ctl_neigh_tick(&ctl, now_ms);
					fz_take_sent();
				}
			}
			break;
		}
		default:
			if (len >= 42) {
				fz_fix_arp(f, c & 0x20);
				if (f[0] & 1)
					memset(f, 0xff, RTE_ETHER_ADDR_LEN);
				else
					memcpy(f, fz_gw_mac[FZ_DOM_U].addr_bytes, RTE_ETHER_ADDR_LEN);
			}
			m = fz_mbuf(f, len, split);
			if (m != NULL)
				fz_inject(4, m);
			break;
		}
		if (c & 0x08)
			fz_step(&now_ms, steps_ms[c >> 6]);
	}
	fz_step(&now_ms, 10);

	if (fz_stat("pending") > NEIGH_MAX)
		fz_die("more than NEIGH_MAX entries");
	if (fz_stat("held_now") > NEIGH_HELD_MAX)
		fz_die("more than NEIGH_HELD_MAX frames held");
	/* Held frames have one or two segments; fz_reset checks the exact count. */
	in_use = pool_start - rte_mempool_avail_count(fz_dp->pool);
	held = (unsigned int)fz_stat("held_now");
	if (in_use < held || in_use > 2 * held) {
		fprintf(stderr, "fuzz_neigh: %u mbufs in use, %u frames held: leaked or freed "
			"twice\n", in_use, held);
		abort();
	}
	fz_check_table();
	fz_reset();
	return 0;
}
