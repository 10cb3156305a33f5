/*
 * test_parse.c - CUnit tests of the header parser (dataplane/parse.c).
 *
 * Frames are built by hand from the rte_* header structs into a byte buffer,
 * copied into mbufs of a test pool with the dpnet private area, and parsed
 * with parse_one() or parse_stage(). Every parse goes through check_meta(),
 * which asserts the invariants any stage relies on (offsets never past the
 * data, flags consistent with offsets, RX fields untouched) in addition to
 * what each test expects. The randomized tests use a fixed seed so a failure
 * reproduces; set DPNET_TEST_SEED to explore other seeds.
 *
 * Runs EAL with --no-huge --no-pci --in-memory; returns 77 (skip) when EAL
 * cannot start, non-zero when a test fails.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include <CUnit/Basic.h>

#include <rte_arp.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "counters.h"
#include "pipeline.h"
#include "pkt.h"

#define TEST_IN_PORT 7
#define TEST_OUT_PORT 0x1234
#define TEST_DOMAIN 0x4321
#define FRAME_MAX 512

static struct rte_mempool *test_pool;

static const uint8_t mac_ucast[RTE_ETHER_ADDR_LEN] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t mac_src[RTE_ETHER_ADDR_LEN] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t mac_bcast[RTE_ETHER_ADDR_LEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t mac_mcast4[RTE_ETHER_ADDR_LEN] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
static const uint8_t mac_mcast6[RTE_ETHER_ADDR_LEN] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };

/* A frame under construction; the offsets remember where headers were put so
 * tests can corrupt them afterwards. */
struct frame {
	uint8_t b[FRAME_MAX];  /* bytes of the frame */
	uint16_t len;          /* bytes written */
	uint16_t l3;           /* offset of the L3 header written last */
	uint16_t l4;           /* offset of the L4 header written last */
};

/* ------------------------------------------------------------------ builders */

static void *
put(struct frame *f, uint16_t n)
{
	void *p = &f->b[f->len];

	CU_ASSERT_FATAL(f->len + n <= FRAME_MAX);
	memset(p, 0, n);
	f->len += n;
	return p;
}

static void
put_payload(struct frame *f, uint16_t n)
{
	uint8_t *p = put(f, n);
	uint16_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(0x40 + i);
}

static void
put_eth(struct frame *f, const uint8_t *dst, uint16_t ether_type)
{
	struct rte_ether_hdr *eh = put(f, sizeof(*eh));

	memcpy(eh->dst_addr.addr_bytes, dst, RTE_ETHER_ADDR_LEN);
	memcpy(eh->src_addr.addr_bytes, mac_src, RTE_ETHER_ADDR_LEN);
	eh->ether_type = rte_cpu_to_be_16(ether_type);
}

/* A tag: the previous EtherType field must already say 0x8100/0x88a8. */
static void
put_vlan(struct frame *f, uint16_t tci, uint16_t inner_type)
{
	struct rte_vlan_hdr *vh = put(f, sizeof(*vh));

	vh->vlan_tci = rte_cpu_to_be_16(tci);
	vh->eth_proto = rte_cpu_to_be_16(inner_type);
}

/* IPv4 header of ihl 32-bit words carrying l4_len bytes after it. */
static struct rte_ipv4_hdr *
put_ipv4(struct frame *f, uint8_t proto, unsigned int ihl, uint16_t l4_len)
{
	struct rte_ipv4_hdr *ih;
	uint8_t *opts;
	unsigned int i;

	f->l3 = f->len;
	ih = put(f, (uint16_t)(ihl * 4));
	ih->version_ihl = (uint8_t)(0x40 | ihl);
	ih->total_length = rte_cpu_to_be_16((uint16_t)(ihl * 4 + l4_len));
	ih->time_to_live = 64;
	ih->next_proto_id = proto;
	ih->src_addr = rte_cpu_to_be_32(RTE_IPV4(10, 0, 0, 1));
	ih->dst_addr = rte_cpu_to_be_32(RTE_IPV4(10, 0, 0, 2));
	opts = (uint8_t *)(ih + 1);
	for (i = 0; i < ihl * 4 - sizeof(*ih); i++)
		opts[i] = 1; /* NOP */
	ih->hdr_checksum = rte_ipv4_cksum(ih);
	f->l4 = f->len;
	return ih;
}

static struct rte_ipv6_hdr *
put_ipv6(struct frame *f, uint8_t next_header, uint16_t payload_len)
{
	struct rte_ipv6_hdr *ih;

	f->l3 = f->len;
	ih = put(f, sizeof(*ih));
	ih->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ih->payload_len = rte_cpu_to_be_16(payload_len);
	ih->proto = next_header;
	ih->hop_limits = 64;
	ih->src_addr[0] = 0xfd;
	ih->dst_addr[0] = 0xfd;
	ih->src_addr[15] = 1;
	ih->dst_addr[15] = 2;
	f->l4 = f->len;
	return ih;
}

/* TCP header of doff 32-bit words (options are NOPs). */
static struct rte_tcp_hdr *
put_tcp(struct frame *f, unsigned int doff)
{
	struct rte_tcp_hdr *th;
	uint8_t *opts;
	unsigned int i;

	f->l4 = f->len;
	th = put(f, (uint16_t)(doff * 4));
	th->src_port = rte_cpu_to_be_16(40000);
	th->dst_port = rte_cpu_to_be_16(80);
	th->data_off = (uint8_t)(doff << 4);
	th->tcp_flags = RTE_TCP_SYN_FLAG;
	th->rx_win = rte_cpu_to_be_16(65535);
	opts = (uint8_t *)(th + 1);
	for (i = 0; i < doff * 4 - sizeof(*th); i++)
		opts[i] = 1;
	return th;
}

static struct rte_udp_hdr *
put_udp(struct frame *f, uint16_t payload_len)
{
	struct rte_udp_hdr *uh;

	f->l4 = f->len;
	uh = put(f, sizeof(*uh));
	uh->src_port = rte_cpu_to_be_16(5353);
	uh->dst_port = rte_cpu_to_be_16(53);
	uh->dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*uh) + payload_len));
	return uh;
}

static struct rte_icmp_hdr *
put_icmp(struct frame *f, uint8_t type)
{
	struct rte_icmp_hdr *ch;

	f->l4 = f->len;
	ch = put(f, sizeof(*ch));
	ch->icmp_type = type;
	ch->icmp_ident = rte_cpu_to_be_16(1);
	ch->icmp_seq_nb = rte_cpu_to_be_16(1);
	return ch;
}

static struct rte_arp_hdr *
put_arp(struct frame *f)
{
	struct rte_arp_hdr *ah;

	f->l3 = f->len;
	ah = put(f, sizeof(*ah));
	ah->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = RTE_ETHER_ADDR_LEN;
	ah->arp_plen = 4;
	ah->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	memcpy(ah->arp_data.arp_sha.addr_bytes, mac_src, RTE_ETHER_ADDR_LEN);
	ah->arp_data.arp_sip = rte_cpu_to_be_32(RTE_IPV4(10, 0, 0, 1));
	ah->arp_data.arp_tip = rte_cpu_to_be_32(RTE_IPV4(10, 0, 0, 2));
	f->l4 = PKT_OFF_NONE;
	return ah;
}

/* The canonical frames; payload sizes are arbitrary but non-zero. */
static void
frame_ipv4_tcp(struct frame *f, const uint8_t *dst, unsigned int doff, uint16_t payload)
{
	memset(f, 0, sizeof(*f));
	put_eth(f, dst, RTE_ETHER_TYPE_IPV4);
	put_ipv4(f, IPPROTO_TCP, 5, (uint16_t)(doff * 4 + payload));
	put_tcp(f, doff);
	put_payload(f, payload);
}

static void
frame_ipv4_udp(struct frame *f, const uint8_t *dst, uint16_t payload)
{
	memset(f, 0, sizeof(*f));
	put_eth(f, dst, RTE_ETHER_TYPE_IPV4);
	put_ipv4(f, IPPROTO_UDP, 5, (uint16_t)(sizeof(struct rte_udp_hdr) + payload));
	put_udp(f, payload);
	put_payload(f, payload);
}

static void
frame_ipv4_icmp(struct frame *f, uint16_t payload)
{
	memset(f, 0, sizeof(*f));
	put_eth(f, mac_ucast, RTE_ETHER_TYPE_IPV4);
	put_ipv4(f, IPPROTO_ICMP, 5, (uint16_t)(sizeof(struct rte_icmp_hdr) + payload));
	put_icmp(f, RTE_IP_ICMP_ECHO_REQUEST);
	put_payload(f, payload);
}

static void
frame_ipv6_tcp(struct frame *f, uint16_t payload)
{
	memset(f, 0, sizeof(*f));
	put_eth(f, mac_ucast, RTE_ETHER_TYPE_IPV6);
	put_ipv6(f, IPPROTO_TCP, (uint16_t)(sizeof(struct rte_tcp_hdr) + payload));
	put_tcp(f, 5);
	put_payload(f, payload);
}

static void
frame_ipv6_udp(struct frame *f, uint16_t payload)
{
	memset(f, 0, sizeof(*f));
	put_eth(f, mac_ucast, RTE_ETHER_TYPE_IPV6);
	put_ipv6(f, IPPROTO_UDP, (uint16_t)(sizeof(struct rte_udp_hdr) + payload));
	put_udp(f, payload);
	put_payload(f, payload);
}

static void
frame_arp(struct frame *f)
{
	memset(f, 0, sizeof(*f));
	put_eth(f, mac_bcast, RTE_ETHER_TYPE_ARP);
	put_arp(f);
}

/* 802.1ad outer tag, 802.1Q inner tag, IPv4/UDP. */
static void
frame_qinq_udp(struct frame *f, uint16_t outer_tci, uint16_t inner_tci, uint16_t payload)
{
	memset(f, 0, sizeof(*f));
	put_eth(f, mac_ucast, RTE_ETHER_TYPE_QINQ);
	put_vlan(f, outer_tci, RTE_ETHER_TYPE_VLAN);
	put_vlan(f, inner_tci, RTE_ETHER_TYPE_IPV4);
	put_ipv4(f, IPPROTO_UDP, 5, (uint16_t)(sizeof(struct rte_udp_hdr) + payload));
	put_udp(f, payload);
	put_payload(f, payload);
}

/* ------------------------------------------------------------------ mbufs */

/* Copy len bytes into a fresh mbuf and fill its metadata as RX would, with the
 * rest poisoned so that a field the parser forgets to write shows up. */
static struct rte_mbuf *
mk(const uint8_t *data, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(test_pool);
	struct pkt_meta *pm;
	char *d;

	CU_ASSERT_FATAL(m != NULL);
	d = rte_pktmbuf_append(m, len);
	CU_ASSERT_FATAL(d != NULL);
	if (len > 0)
		memcpy(d, data, len);
	pm = pkt_meta(m);
	memset(pm, 0xa5, sizeof(*pm));
	pm->in_port = TEST_IN_PORT;
	pm->out_port = TEST_OUT_PORT;
	pm->domain = TEST_DOMAIN;
	pm->next = PL_NEXT_PARSE;
	return m;
}

/* Header length of the L3/L4 header a flag announces, read back from the data. */
static uint32_t
l3_hdr_len(const struct rte_mbuf *m, const struct pkt_meta *pm)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);

	if (pm->flags & PKT_F_IPV4)
		return (uint32_t)(p[pm->l3_off] & 0x0f) * 4;
	if (pm->flags & PKT_F_IPV6)
		return sizeof(struct rte_ipv6_hdr);
	if (pm->flags & PKT_F_ARP)
		return sizeof(struct rte_arp_hdr);
	return 0;
}

static uint32_t
l4_hdr_len(const struct rte_mbuf *m, const struct pkt_meta *pm)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);

	if (pm->flags & PKT_F_TCP)
		return (uint32_t)(p[pm->l4_off + 12] >> 4) * 4;
	if (pm->flags & (PKT_F_UDP | PKT_F_ICMP))
		return 8;
	return 0;
}

static unsigned int
popcount16(uint16_t v)
{
	return (unsigned int)__builtin_popcount(v);
}

/*
 * The invariants every stage after the parser relies on, whatever the frame.
 * Returns false (after recording a failure) so callers can stop early.
 */
static bool
check_meta(struct rte_mbuf *m, int rc)
{
	const struct pkt_meta *pm = pkt_meta(m);
	uint32_t data_len = rte_pktmbuf_data_len(m);
	const uint16_t l3_flags = PKT_F_IPV4 | PKT_F_IPV6 | PKT_F_ARP;
	const uint16_t l4_flags = PKT_F_TCP | PKT_F_UDP | PKT_F_ICMP;
	bool ok = true;

#define CHECK(cond) do { CU_ASSERT(cond); if (!(cond)) ok = false; } while (0)
	CHECK(pm->in_port == TEST_IN_PORT);
	CHECK(pm->out_port == TEST_OUT_PORT);
	CHECK(pm->domain == TEST_DOMAIN);
	CHECK(rc == 0 || rc == -EINVAL);
	if (rc == 0) {
		CHECK(pm->next == PL_NEXT_BRIDGE);
		CHECK(pm->drop_reason == 0);
	} else {
		CHECK(pm->next == PL_NEXT_DROP);
		CHECK(pm->drop_reason == DP_DROP_MALFORMED);
	}
	/* Offsets are never past the data, whatever the outcome. */
	CHECK(pm->l3_off == PKT_OFF_NONE || pm->l3_off < data_len);
	CHECK(pm->l4_off == PKT_OFF_NONE || pm->l4_off < data_len);
	CHECK(pm->flags < (PKT_F_IP_OPTS << 1));
	CHECK((pm->flags & PKT_F_L2_BCAST) == 0 || (pm->flags & PKT_F_L2_MCAST) != 0);
	CHECK(popcount16(pm->flags & l3_flags) <= 1);
	CHECK(popcount16(pm->flags & l4_flags) <= 1);
	if (!ok)
		return false;
	if (rc != 0)
		return true;

	/* A good frame: each announced header is complete within the first segment. */
	CHECK(data_len >= sizeof(struct rte_ether_hdr));
	CHECK((pm->l3_off != PKT_OFF_NONE) == ((pm->flags & l3_flags) != 0));
	CHECK((pm->l4_off != PKT_OFF_NONE) == ((pm->flags & l4_flags) != 0));
	if (!ok)
		return false;
	if (pm->l3_off != PKT_OFF_NONE) {
		CHECK(pm->l3_off >= sizeof(struct rte_ether_hdr));
		CHECK(pm->l3_off + l3_hdr_len(m, pm) <= data_len);
		CHECK(pm->l3_len >= l3_hdr_len(m, pm));
		CHECK(pm->l3_off + (uint32_t)pm->l3_len <= rte_pktmbuf_pkt_len(m));
	} else {
		CHECK(pm->l3_len == 0);
	}
	if (pm->l4_off != PKT_OFF_NONE) {
		CHECK(pm->flags & (PKT_F_IPV4 | PKT_F_IPV6));
		CHECK(pm->l3_off != PKT_OFF_NONE && pm->l4_off == pm->l3_off + l3_hdr_len(m, pm));
		CHECK(l4_hdr_len(m, pm) >= 8);
		CHECK(pm->l4_off + l4_hdr_len(m, pm) <= data_len);
		CHECK(pm->l4_off + l4_hdr_len(m, pm) <= pm->l3_off + (uint32_t)pm->l3_len);
	}
	if (!(pm->flags & (PKT_F_IPV4 | PKT_F_IPV6)))
		CHECK(pm->l4_proto == 0);
	CHECK((pm->flags & PKT_F_IP_OPTS) == 0 || (pm->flags & PKT_F_IPV4) != 0);
	CHECK((pm->flags & PKT_F_FRAG) == 0 || (pm->flags & PKT_F_IPV4) != 0);
	if (!(pm->flags & PKT_F_VLAN))
		CHECK(pm->vlan_tci == 0);
#undef CHECK
	return ok;
}

/* Parse len bytes of data with parse_one; check the invariants; return rc. */
static int
parse_bytes(const uint8_t *data, uint16_t len, struct pkt_meta *out)
{
	struct rte_mbuf *m = mk(data, len);
	int rc = parse_one(m);

	check_meta(m, rc);
	if (out != NULL)
		*out = *pkt_meta(m);
	rte_pktmbuf_free(m);
	return rc;
}

static int
parse_frame(const struct frame *f, struct pkt_meta *out)
{
	return parse_bytes(f->b, f->len, out);
}

static void
expect_ok(const struct frame *f, uint16_t flags, uint16_t ether_type, uint16_t l3_off,
	  uint16_t l4_off, uint8_t l4_proto, uint16_t l3_len)
{
	struct pkt_meta pm;

	CU_ASSERT_EQUAL_FATAL(parse_frame(f, &pm), 0);
	CU_ASSERT_EQUAL(pm.next, PL_NEXT_BRIDGE);
	CU_ASSERT_EQUAL(pm.flags, flags);
	CU_ASSERT_EQUAL(pm.ether_type, ether_type);
	CU_ASSERT_EQUAL(pm.l3_off, l3_off);
	CU_ASSERT_EQUAL(pm.l4_off, l4_off);
	CU_ASSERT_EQUAL(pm.l4_proto, l4_proto);
	CU_ASSERT_EQUAL(pm.l3_len, l3_len);
}

static void
expect_malformed_len(const struct frame *f, uint16_t len)
{
	struct pkt_meta pm;

	CU_ASSERT_EQUAL(parse_bytes(f->b, len, &pm), -EINVAL);
	CU_ASSERT_EQUAL(pm.next, PL_NEXT_DROP);
	CU_ASSERT_EQUAL(pm.drop_reason, DP_DROP_MALFORMED);
}

static void
expect_malformed(const struct frame *f)
{
	expect_malformed_len(f, f->len);
}

/* ------------------------------------------------------------------ good frames */

static void
test_ipv4_udp(void)
{
	struct frame f;

	frame_ipv4_udp(&f, mac_ucast, 18);
	expect_ok(&f, PKT_F_IPV4 | PKT_F_UDP, RTE_ETHER_TYPE_IPV4, 14, 34, IPPROTO_UDP, 20 + 8 + 18);
	/* A UDP length shorter than the IP payload is accepted (the rest is trailer). */
	((struct rte_udp_hdr *)&f.b[f.l4])->dgram_len = rte_cpu_to_be_16(8);
	expect_ok(&f, PKT_F_IPV4 | PKT_F_UDP, RTE_ETHER_TYPE_IPV4, 14, 34, IPPROTO_UDP, 20 + 8 + 18);
	/* An empty datagram ending the frame exactly. */
	frame_ipv4_udp(&f, mac_ucast, 0);
	expect_ok(&f, PKT_F_IPV4 | PKT_F_UDP, RTE_ETHER_TYPE_IPV4, 14, 34, IPPROTO_UDP, 28);
}

static void
test_ipv4_tcp(void)
{
	struct frame f;
	unsigned int doff;

	frame_ipv4_tcp(&f, mac_ucast, 5, 10);
	expect_ok(&f, PKT_F_IPV4 | PKT_F_TCP, RTE_ETHER_TYPE_IPV4, 14, 34, IPPROTO_TCP, 50);
	/* Every legal data offset, options included, with and without payload. */
	for (doff = 5; doff <= 15; doff++) {
		frame_ipv4_tcp(&f, mac_ucast, doff, 0);
		expect_ok(&f, PKT_F_IPV4 | PKT_F_TCP, RTE_ETHER_TYPE_IPV4, 14, 34, IPPROTO_TCP,
			  (uint16_t)(20 + doff * 4));
		frame_ipv4_tcp(&f, mac_ucast, doff, 3);
		expect_ok(&f, PKT_F_IPV4 | PKT_F_TCP, RTE_ETHER_TYPE_IPV4, 14, 34, IPPROTO_TCP,
			  (uint16_t)(20 + doff * 4 + 3));
	}
}

static void
test_ipv4_icmp(void)
{
	struct frame f;

	frame_ipv4_icmp(&f, 56);
	expect_ok(&f, PKT_F_IPV4 | PKT_F_ICMP, RTE_ETHER_TYPE_IPV4, 14, 34, IPPROTO_ICMP, 84);
	frame_ipv4_icmp(&f, 0);
	expect_ok(&f, PKT_F_IPV4 | PKT_F_ICMP, RTE_ETHER_TYPE_IPV4, 14, 34, IPPROTO_ICMP, 28);
}

/* An IP protocol we do not parse (GRE) is fine, with no L4 offset; so is IPv4 with
 * ICMPv6's protocol number, which is not ICMP. */
static void
test_ipv4_other_proto(void)
{
	struct frame f;

	memset(&f, 0, sizeof(f));
	put_eth(&f, mac_ucast, RTE_ETHER_TYPE_IPV4);
	put_ipv4(&f, IPPROTO_GRE, 5, 4);
	put_payload(&f, 4);
	expect_ok(&f, PKT_F_IPV4, RTE_ETHER_TYPE_IPV4, 14, PKT_OFF_NONE, IPPROTO_GRE, 24);

	memset(&f, 0, sizeof(f));
	put_eth(&f, mac_ucast, RTE_ETHER_TYPE_IPV4);
	put_ipv4(&f, IPPROTO_ICMPV6, 5, 2);
	put_payload(&f, 2);
	expect_ok(&f, PKT_F_IPV4, RTE_ETHER_TYPE_IPV4, 14, PKT_OFF_NONE, IPPROTO_ICMPV6, 22);
}

/* Ethernet padding after the IP datagram is not part of it and is fine. */
static void
test_ipv4_padding(void)
{
	struct frame f;
	struct pkt_meta pm;

	frame_ipv4_tcp(&f, mac_ucast, 5, 0);   /* 54 bytes */
	put(&f, 60 - f.len);                    /* padded to the Ethernet minimum */
	expect_ok(&f, PKT_F_IPV4 | PKT_F_TCP, RTE_ETHER_TYPE_IPV4, 14, 34, IPPROTO_TCP, 40);
	frame_ipv4_udp(&f, mac_ucast, 2);
	put(&f, 20);
	CU_ASSERT_EQUAL(parse_frame(&f, &pm), 0);
	CU_ASSERT_EQUAL(pm.l3_len, 30);
}

static void
test_arp(void)
{
	struct frame f;

	frame_arp(&f);
	expect_ok(&f, PKT_F_ARP | PKT_F_L2_BCAST | PKT_F_L2_MCAST, RTE_ETHER_TYPE_ARP, 14,
		  PKT_OFF_NONE, 0, 28);
	/* Padded to 60 bytes, as on the wire. */
	put(&f, 60 - f.len);
	expect_ok(&f, PKT_F_ARP | PKT_F_L2_BCAST | PKT_F_L2_MCAST, RTE_ETHER_TYPE_ARP, 14,
		  PKT_OFF_NONE, 0, 28);
	/* A unicast reply. */
	memset(&f, 0, sizeof(f));
	put_eth(&f, mac_ucast, RTE_ETHER_TYPE_ARP);
	put_arp(&f)->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	expect_ok(&f, PKT_F_ARP, RTE_ETHER_TYPE_ARP, 14, PKT_OFF_NONE, 0, 28);
}

static void
test_ipv6(void)
{
	struct frame f;

	frame_ipv6_udp(&f, 12);
	expect_ok(&f, PKT_F_IPV6 | PKT_F_UDP, RTE_ETHER_TYPE_IPV6, 14, 54, IPPROTO_UDP, 40 + 20);
	frame_ipv6_tcp(&f, 0);
	expect_ok(&f, PKT_F_IPV6 | PKT_F_TCP, RTE_ETHER_TYPE_IPV6, 14, 54, IPPROTO_TCP, 40 + 20);
	frame_ipv6_tcp(&f, 100);
	expect_ok(&f, PKT_F_IPV6 | PKT_F_TCP, RTE_ETHER_TYPE_IPV6, 14, 54, IPPROTO_TCP, 160);

	/* ICMPv6 neighbour solicitation to a solicited-node multicast MAC. */
	memset(&f, 0, sizeof(f));
	put_eth(&f, mac_mcast6, RTE_ETHER_TYPE_IPV6);
	put_ipv6(&f, IPPROTO_ICMPV6, 24);
	put_icmp(&f, 135);
	put_payload(&f, 16);
	expect_ok(&f, PKT_F_IPV6 | PKT_F_ICMP | PKT_F_L2_MCAST, RTE_ETHER_TYPE_IPV6, 14, 54,
		  IPPROTO_ICMPV6, 64);

	/* IPv6 with ICMPv4's protocol number is not ICMP. */
	memset(&f, 0, sizeof(f));
	put_eth(&f, mac_ucast, RTE_ETHER_TYPE_IPV6);
	put_ipv6(&f, IPPROTO_ICMP, 8);
	put_payload(&f, 8);
	expect_ok(&f, PKT_F_IPV6, RTE_ETHER_TYPE_IPV6, 14, PKT_OFF_NONE, IPPROTO_ICMP, 48);

	/* Extension headers (hop-by-hop, fragment) are not walked: no L4 offset. */
	memset(&f, 0, sizeof(f));
	put_eth(&f, mac_ucast, RTE_ETHER_TYPE_IPV6);
	put_ipv6(&f, IPPROTO_HOPOPTS, 16);
	put_payload(&f, 16);
	expect_ok(&f, PKT_F_IPV6, RTE_ETHER_TYPE_IPV6, 14, PKT_OFF_NONE, IPPROTO_HOPOPTS, 56);
	memset(&f, 0, sizeof(f));
	put_eth(&f, mac_ucast, RTE_ETHER_TYPE_IPV6);
	put_ipv6(&f, IPPROTO_FRAGMENT, 16);
	put_payload(&f, 16);
	expect_ok(&f, PKT_F_IPV6, RTE_ETHER_TYPE_IPV6, 14, PKT_OFF_NONE, IPPROTO_FRAGMENT, 56);

	/* No next header at all, zero payload, then padding. */
	memset(&f, 0, sizeof(f));
	put_eth(&f, mac_ucast, RTE_ETHER_TYPE_IPV6);
	put_ipv6(&f, IPPROTO_NONE, 0);
	put(&f, 6);
	expect_ok(&f, PKT_F_IPV6, RTE_ETHER_TYPE_IPV6, 14, PKT_OFF_NONE, IPPROTO_NONE, 40);
}

static void
test_vlan_single(void)
{
	struct frame f;

	memset(&f, 0, sizeof(f));
	put_eth(&f, mac_ucast, RTE_ETHER_TYPE_VLAN);
	put_vlan(&f, 0x2064, RTE_ETHER_TYPE_IPV4);  /* PCP 1, VID 100 */
	put_ipv4(&f, IPPROTO_TCP, 5, 20);
	put_tcp(&f, 5);
	expect_ok(&f, PKT_F_VLAN | PKT_F_IPV4 | PKT_F_TCP, RTE_ETHER_TYPE_IPV4, 18, 38,
		  IPPROTO_TCP, 40);
	{
		struct pkt_meta pm;

		CU_ASSERT_EQUAL(parse_frame(&f, &pm), 0);
		CU_ASSERT_EQUAL(pm.vlan_tci, 0x2064);
	}

	/* A tagged ARP and a tagged IPv6. */
	memset(&f, 0, sizeof(f));
	put_eth(&f, mac_bcast, RTE_ETHER_TYPE_VLAN);
	put_vlan(&f, 5, RTE_ETHER_TYPE_ARP);
	put_arp(&f);
	expect_ok(&f, PKT_F_VLAN | PKT_F_ARP | PKT_F_L2_BCAST | PKT_F_L2_MCAST,
		  RTE_ETHER_TYPE_ARP, 18, PKT_OFF_NONE, 0, 28);
	memset(&f, 0, sizeof(f));
	put_eth(&f, mac_ucast, RTE_ETHER_TYPE_VLAN);
	put_vlan(&f, 5, RTE_ETHER_TYPE_IPV6);
	put_ipv6(&f, IPPROTO_UDP, 8);
	put_udp(&f, 0);
	expect_ok(&f, PKT_F_VLAN | PKT_F_IPV6 | PKT_F_UDP, RTE_ETHER_TYPE_IPV6, 18, 58,
		  IPPROTO_UDP, 48);

	/* An 802.1ad tag alone is a tag too. */
	memset(&f, 0, sizeof(f));
	put_eth(&f, mac_ucast, RTE_ETHER_TYPE_QINQ);
	put_vlan(&f, 7, RTE_ETHER_TYPE_IPV4);
	put_ipv4(&f, IPPROTO_UDP, 5, 8);
	put_udp(&f, 0);
	expect_ok(&f, PKT_F_VLAN | PKT_F_IPV4 | PKT_F_UDP, RTE_ETHER_TYPE_IPV4, 18, 38,
		  IPPROTO_UDP, 28);
}

static void
test_vlan_double(void)
{
	struct frame f;
	struct pkt_meta pm;

	frame_qinq_udp(&f, 0x0123, 0x0456, 4);
	expect_ok(&f, PKT_F_VLAN | PKT_F_IPV4 | PKT_F_UDP, RTE_ETHER_TYPE_IPV4, 22, 42,
		  IPPROTO_UDP, 32);
	CU_ASSERT_EQUAL(parse_frame(&f, &pm), 0);
	CU_ASSERT_EQUAL(pm.vlan_tci, 0x0123);   /* the outer tag is recorded */

	/* Two 802.1Q tags (the old QinQ) and an unknown EtherType inside two tags. */
	memset(&f, 0, sizeof(f));
	put_eth(&f, mac_ucast, RTE_ETHER_TYPE_VLAN);
	put_vlan(&f, 10, RTE_ETHER_TYPE_VLAN);
	put_vlan(&f, 20, 0x88b5);
	put_payload(&f, 30);
	expect_ok(&f, PKT_F_VLAN, 0x88b5, PKT_OFF_NONE, PKT_OFF_NONE, 0, 0);
	CU_ASSERT_EQUAL(parse_frame(&f, &pm), 0);
	CU_ASSERT_EQUAL(pm.vlan_tci, 10);

	/* A third tag is refused (see parse.c), whichever TPID it uses. */
	memset(&f, 0, sizeof(f));
	put_eth(&f, mac_ucast, RTE_ETHER_TYPE_QINQ);
	put_vlan(&f, 1, RTE_ETHER_TYPE_VLAN);
	put_vlan(&f, 2, RTE_ETHER_TYPE_VLAN);
	put_vlan(&f, 3, RTE_ETHER_TYPE_IPV4);
	put_ipv4(&f, IPPROTO_UDP, 5, 8);
	put_udp(&f, 0);
	expect_malformed(&f);
	f.b[21] = 0xa8;
	f.b[20] = 0x88;
	expect_malformed(&f);

	/* A tag cut short. */
	memset(&f, 0, sizeof(f));
	put_eth(&f, mac_ucast, RTE_ETHER_TYPE_VLAN);
	put(&f, 3);
	expect_malformed(&f);
	memset(&f, 0, sizeof(f));
	put_eth(&f, mac_ucast, RTE_ETHER_TYPE_VLAN);
	put_vlan(&f, 1, RTE_ETHER_TYPE_QINQ);
	expect_malformed(&f);
}

static void
test_unknown_ethertype(void)
{
	struct frame f;

	memset(&f, 0, sizeof(f));
	put_eth(&f, mac_ucast, 0x88cc);   /* LLDP */
	put_payload(&f, 46);
	expect_ok(&f, 0, 0x88cc, PKT_OFF_NONE, PKT_OFF_NONE, 0, 0);
	/* Nothing after the Ethernet header at all. */
	memset(&f, 0, sizeof(f));
	put_eth(&f, mac_ucast, 0x9000);
	expect_ok(&f, 0, 0x9000, PKT_OFF_NONE, PKT_OFF_NONE, 0, 0);
	/* An 802.3 frame: the field is a length, bridged as is. */
	memset(&f, 0, sizeof(f));
	put_eth(&f, mac_mcast4, 46);
	put_payload(&f, 46);
	expect_ok(&f, PKT_F_L2_MCAST, 46, PKT_OFF_NONE, PKT_OFF_NONE, 0, 0);
}

static void
test_l2_flags(void)
{
	static const uint8_t mac_group_bit[RTE_ETHER_ADDR_LEN] = { 0x03, 0, 0, 0, 0, 0 };
	static const uint8_t mac_almost_bcast[RTE_ETHER_ADDR_LEN] =
		{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe };
	static const uint8_t mac_local_ucast[RTE_ETHER_ADDR_LEN] =
		{ 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff };
	const uint16_t l34 = PKT_F_IPV4 | PKT_F_UDP;
	struct frame f;

	frame_ipv4_udp(&f, mac_bcast, 4);
	expect_ok(&f, l34 | PKT_F_L2_BCAST | PKT_F_L2_MCAST, RTE_ETHER_TYPE_IPV4, 14, 34,
		  IPPROTO_UDP, 32);
	frame_ipv4_udp(&f, mac_mcast4, 4);
	expect_ok(&f, l34 | PKT_F_L2_MCAST, RTE_ETHER_TYPE_IPV4, 14, 34, IPPROTO_UDP, 32);
	frame_ipv4_udp(&f, mac_mcast6, 4);
	expect_ok(&f, l34 | PKT_F_L2_MCAST, RTE_ETHER_TYPE_IPV4, 14, 34, IPPROTO_UDP, 32);
	frame_ipv4_udp(&f, mac_group_bit, 4);
	expect_ok(&f, l34 | PKT_F_L2_MCAST, RTE_ETHER_TYPE_IPV4, 14, 34, IPPROTO_UDP, 32);
	frame_ipv4_udp(&f, mac_almost_bcast, 4);
	expect_ok(&f, l34 | PKT_F_L2_MCAST, RTE_ETHER_TYPE_IPV4, 14, 34, IPPROTO_UDP, 32);
	frame_ipv4_udp(&f, mac_local_ucast, 4);
	expect_ok(&f, l34, RTE_ETHER_TYPE_IPV4, 14, 34, IPPROTO_UDP, 32);
	frame_ipv4_udp(&f, mac_ucast, 4);
	expect_ok(&f, l34, RTE_ETHER_TYPE_IPV4, 14, 34, IPPROTO_UDP, 32);
	/* The L2 flags are set even when L3 is then found malformed. */
	{
		struct pkt_meta pm;

		frame_ipv4_udp(&f, mac_bcast, 4);
		f.b[f.l3] = 0x44;
		CU_ASSERT_EQUAL(parse_frame(&f, &pm), -EINVAL);
		CU_ASSERT(pm.flags & PKT_F_L2_BCAST);
	}
}

static void
set_frag(struct frame *f, uint16_t frag_field)
{
	struct rte_ipv4_hdr *ih = (struct rte_ipv4_hdr *)&f->b[f->l3];

	ih->fragment_offset = rte_cpu_to_be_16(frag_field);
}

static void
test_ipv4_fragments(void)
{
	const uint16_t v4udp = PKT_F_IPV4 | PKT_F_UDP;
	struct frame f;

	/* First fragment: MF, offset 0. Its UDP length covers the whole datagram. */
	memset(&f, 0, sizeof(f));
	put_eth(&f, mac_ucast, RTE_ETHER_TYPE_IPV4);
	put_ipv4(&f, IPPROTO_UDP, 5, 8 + 24);
	put_udp(&f, 3000);
	put_payload(&f, 24);
	set_frag(&f, RTE_IPV4_HDR_MF_FLAG);
	expect_ok(&f, v4udp | PKT_F_FRAG, RTE_ETHER_TYPE_IPV4, 14, 34, IPPROTO_UDP, 52);
	/* The same datagram unfragmented would be inconsistent. */
	set_frag(&f, 0);
	expect_malformed(&f);
	/* DF alone is not a fragment. */
	((struct rte_udp_hdr *)&f.b[f.l4])->dgram_len = rte_cpu_to_be_16(32);
	set_frag(&f, RTE_IPV4_HDR_DF_FLAG);
	expect_ok(&f, v4udp, RTE_ETHER_TYPE_IPV4, 14, 34, IPPROTO_UDP, 52);
	/* UDP length below 8 is wrong even in a first fragment. */
	((struct rte_udp_hdr *)&f.b[f.l4])->dgram_len = rte_cpu_to_be_16(7);
	set_frag(&f, RTE_IPV4_HDR_MF_FLAG);
	expect_malformed(&f);

	/* Middle and last fragments: bytes of the L4 payload, no L4 header. */
	memset(&f, 0, sizeof(f));
	put_eth(&f, mac_ucast, RTE_ETHER_TYPE_IPV4);
	put_ipv4(&f, IPPROTO_UDP, 5, 3);
	put_payload(&f, 3);   /* not even a UDP header's worth: fine */
	set_frag(&f, RTE_IPV4_HDR_MF_FLAG | 185);
	expect_ok(&f, PKT_F_IPV4 | PKT_F_FRAG, RTE_ETHER_TYPE_IPV4, 14, PKT_OFF_NONE,
		  IPPROTO_UDP, 23);
	set_frag(&f, 370);
	expect_ok(&f, PKT_F_IPV4 | PKT_F_FRAG, RTE_ETHER_TYPE_IPV4, 14, PKT_OFF_NONE,
		  IPPROTO_UDP, 23);
	set_frag(&f, RTE_IPV4_HDR_OFFSET_MASK);
	expect_ok(&f, PKT_F_IPV4 | PKT_F_FRAG, RTE_ETHER_TYPE_IPV4, 14, PKT_OFF_NONE,
		  IPPROTO_UDP, 23);
	/* A non-first fragment of zero bytes is still consistent. */
	memset(&f, 0, sizeof(f));
	put_eth(&f, mac_ucast, RTE_ETHER_TYPE_IPV4);
	put_ipv4(&f, IPPROTO_TCP, 5, 0);
	set_frag(&f, 1);
	expect_ok(&f, PKT_F_IPV4 | PKT_F_FRAG, RTE_ETHER_TYPE_IPV4, 14, PKT_OFF_NONE,
		  IPPROTO_TCP, 20);

	/* A first fragment too small for its TCP header (RFC 1858) is malformed. */
	memset(&f, 0, sizeof(f));
	put_eth(&f, mac_ucast, RTE_ETHER_TYPE_IPV4);
	put_ipv4(&f, IPPROTO_TCP, 5, 16);
	put_payload(&f, 16);
	f.b[f.l4 + 12] = 0x50;
	set_frag(&f, RTE_IPV4_HDR_MF_FLAG);
	expect_malformed(&f);
	/* ... and a complete one is parsed. */
	memset(&f, 0, sizeof(f));
	put_eth(&f, mac_ucast, RTE_ETHER_TYPE_IPV4);
	put_ipv4(&f, IPPROTO_TCP, 5, 24);
	put_tcp(&f, 5);
	put_payload(&f, 4);
	set_frag(&f, RTE_IPV4_HDR_MF_FLAG);
	expect_ok(&f, PKT_F_IPV4 | PKT_F_TCP | PKT_F_FRAG, RTE_ETHER_TYPE_IPV4, 14, 34,
		  IPPROTO_TCP, 44);
}

static void
test_ipv4_options(void)
{
	struct frame f;
	unsigned int ihl;

	for (ihl = 6; ihl <= 15; ihl++) {
		uint16_t l4 = (uint16_t)(14 + ihl * 4);

		memset(&f, 0, sizeof(f));
		put_eth(&f, mac_ucast, RTE_ETHER_TYPE_IPV4);
		put_ipv4(&f, IPPROTO_UDP, ihl, 8 + 2);
		put_udp(&f, 2);
		put_payload(&f, 2);
		expect_ok(&f, PKT_F_IPV4 | PKT_F_IP_OPTS | PKT_F_UDP, RTE_ETHER_TYPE_IPV4, 14, l4,
			  IPPROTO_UDP, (uint16_t)(ihl * 4 + 10));

		memset(&f, 0, sizeof(f));
		put_eth(&f, mac_ucast, RTE_ETHER_TYPE_IPV4);
		put_ipv4(&f, IPPROTO_TCP, ihl, 20);
		put_tcp(&f, 5);
		expect_ok(&f, PKT_F_IPV4 | PKT_F_IP_OPTS | PKT_F_TCP, RTE_ETHER_TYPE_IPV4, 14, l4,
			  IPPROTO_TCP, (uint16_t)(ihl * 4 + 20));
	}
}

/* ------------------------------------------------------------------ malformed */

/*
 * Cut a frame at every length from 0 to its full size. Each cut is either
 * accepted with consistent offsets (check_meta) or dropped as malformed; for
 * these frames, whose IP length claims every byte, the exact outcome is known:
 * only cuts at or beyond min_ok (the end of the IP datagram, or the end of the
 * Ethernet header for unparsed EtherTypes) are accepted.
 */
static void
sweep_truncations(const struct frame *f, uint16_t min_ok, unsigned int *n_ok,
		  unsigned int *n_bad)
{
	uint16_t len;

	for (len = 0; len <= f->len; len++) {
		struct pkt_meta pm;
		int rc = parse_bytes(f->b, len, &pm);

		if (len < min_ok) {
			CU_ASSERT_EQUAL(rc, -EINVAL);
		} else {
			CU_ASSERT_EQUAL(rc, 0);
		}
		if (rc == 0)
			(*n_ok)++;
		else
			(*n_bad)++;
	}
}

static void
test_truncations(void)
{
	unsigned int n_ok = 0, n_bad = 0;
	struct frame f;

	frame_ipv4_tcp(&f, mac_ucast, 8, 10);   /* 14 + 20 + 32 + 10 = 76 bytes */
	CU_ASSERT_EQUAL(f.len, 76);
	sweep_truncations(&f, f.len, &n_ok, &n_bad);
	CU_ASSERT_EQUAL(n_ok, 1);
	CU_ASSERT_EQUAL(n_bad, 76);

	/* The same frame with padding: every cut that keeps the datagram is good. */
	frame_ipv4_tcp(&f, mac_ucast, 5, 0);
	put(&f, 60 - f.len);
	n_ok = n_bad = 0;
	sweep_truncations(&f, 54, &n_ok, &n_bad);
	CU_ASSERT_EQUAL(n_ok, 7);
	CU_ASSERT_EQUAL(n_bad, 54);

	frame_ipv4_udp(&f, mac_ucast, 9);
	sweep_truncations(&f, f.len, &n_ok, &n_bad);
	frame_ipv4_icmp(&f, 9);
	sweep_truncations(&f, f.len, &n_ok, &n_bad);
	frame_ipv6_tcp(&f, 9);
	sweep_truncations(&f, f.len, &n_ok, &n_bad);
	frame_ipv6_udp(&f, 0);
	sweep_truncations(&f, f.len, &n_ok, &n_bad);
	frame_qinq_udp(&f, 1, 2, 5);
	sweep_truncations(&f, f.len, &n_ok, &n_bad);
	frame_arp(&f);
	sweep_truncations(&f, f.len, &n_ok, &n_bad);
	memset(&f, 0, sizeof(f));
	put_eth(&f, mac_ucast, RTE_ETHER_TYPE_VLAN);
	put_vlan(&f, 3, 0x1234);
	put_payload(&f, 10);
	sweep_truncations(&f, 18, &n_ok, &n_bad);
}

static void
test_bad_ipv4_header(void)
{
	struct frame f;
	struct rte_ipv4_hdr *ih;
	unsigned int ihl;

	/* IHL below 5, under each L4 (ICMP would otherwise be found inside the header). */
	for (ihl = 0; ihl < 5; ihl++) {
		frame_ipv4_udp(&f, mac_ucast, 20);
		f.b[f.l3] = (uint8_t)(0x40 | ihl);
		expect_malformed(&f);
		frame_ipv4_tcp(&f, mac_ucast, 5, 20);
		f.b[f.l3] = (uint8_t)(0x40 | ihl);
		expect_malformed(&f);
		frame_ipv4_icmp(&f, 20);
		f.b[f.l3] = (uint8_t)(0x40 | ihl);
		expect_malformed(&f);
	}
	/* IHL beyond the frame (and beyond the total length). */
	frame_ipv4_udp(&f, mac_ucast, 0);   /* 28 bytes of IP */
	f.b[f.l3] = 0x4f;
	expect_malformed(&f);
	/* IHL within the frame but beyond the total length. */
	frame_ipv4_udp(&f, mac_ucast, 40);  /* 68 bytes of IP, total length 28 below */
	ih = (struct rte_ipv4_hdr *)&f.b[f.l3];
	ih->total_length = rte_cpu_to_be_16(28);
	f.b[f.l3] = 0x48;                   /* 32 bytes of header > 28 */
	expect_malformed(&f);
	/* Wrong versions. */
	frame_ipv4_udp(&f, mac_ucast, 4);
	f.b[f.l3] = 0x65;
	expect_malformed(&f);
	f.b[f.l3] = 0x05;
	expect_malformed(&f);
	/* Total length beyond the frame, by one and by a lot. */
	frame_ipv4_udp(&f, mac_ucast, 4);
	ih = (struct rte_ipv4_hdr *)&f.b[f.l3];
	ih->total_length = rte_cpu_to_be_16(33);
	expect_malformed(&f);
	ih->total_length = rte_cpu_to_be_16(65535);
	expect_malformed(&f);
	/* Total length below the header length (with and without options). */
	ih->total_length = rte_cpu_to_be_16(19);
	expect_malformed(&f);
	ih->total_length = rte_cpu_to_be_16(0);
	expect_malformed(&f);
	memset(&f, 0, sizeof(f));
	put_eth(&f, mac_ucast, RTE_ETHER_TYPE_IPV4);
	ih = put_ipv4(&f, IPPROTO_UDP, 8, 8);
	put_udp(&f, 0);
	ih->total_length = rte_cpu_to_be_16(28);
	expect_malformed(&f);
	/* Total length shorter than the frame but cutting the UDP header. */
	frame_ipv4_udp(&f, mac_ucast, 4);
	ih = (struct rte_ipv4_hdr *)&f.b[f.l3];
	ih->total_length = rte_cpu_to_be_16(24);
	expect_malformed(&f);
	/* IPv4 header cut short of 20 bytes while the frame is 60 long is fine only if
	 * the bytes are there: an Ethernet header plus 19 bytes is not. */
	frame_ipv4_udp(&f, mac_ucast, 4);
	expect_malformed_len(&f, 14 + 19);
}

static void
test_bad_ipv6_header(void)
{
	struct frame f;
	struct rte_ipv6_hdr *ih;

	frame_ipv6_udp(&f, 4);
	f.b[f.l3] = 0x45;              /* version 4 in an IPv6 EtherType */
	expect_malformed(&f);
	frame_ipv6_udp(&f, 4);
	ih = (struct rte_ipv6_hdr *)&f.b[f.l3];
	ih->payload_len = rte_cpu_to_be_16(13);
	expect_malformed(&f);
	ih->payload_len = rte_cpu_to_be_16(65535);
	expect_malformed(&f);
	/* Payload length shorter than the UDP header it announces. */
	ih->payload_len = rte_cpu_to_be_16(7);
	expect_malformed(&f);
	/* UDP length beyond the IPv6 payload. */
	frame_ipv6_udp(&f, 4);
	((struct rte_udp_hdr *)&f.b[f.l4])->dgram_len = rte_cpu_to_be_16(13);
	expect_malformed(&f);
	/* TCP data offset below 5. */
	frame_ipv6_tcp(&f, 4);
	f.b[f.l4 + 12] = 0x40;
	expect_malformed(&f);
	/* ICMPv6 shorter than 8 bytes. */
	memset(&f, 0, sizeof(f));
	put_eth(&f, mac_ucast, RTE_ETHER_TYPE_IPV6);
	put_ipv6(&f, IPPROTO_ICMPV6, 4);
	put_payload(&f, 4);
	expect_malformed(&f);
}

static void
test_bad_tcp(void)
{
	struct frame f;
	unsigned int doff;

	for (doff = 0; doff < 5; doff++) {
		frame_ipv4_tcp(&f, mac_ucast, 5, 40);
		f.b[f.l4 + 12] = (uint8_t)(doff << 4);
		expect_malformed(&f);
	}
	/* A data offset beyond the IP payload, even though the frame has the bytes. */
	frame_ipv4_tcp(&f, mac_ucast, 5, 0);
	f.b[f.l4 + 12] = 0x60;
	put(&f, 4);   /* padding, not part of the datagram */
	expect_malformed(&f);
	frame_ipv4_tcp(&f, mac_ucast, 5, 39);
	f.b[f.l4 + 12] = 0xf0;     /* 60 > 59 */
	expect_malformed(&f);
	f.b[f.l4 + 12] = 0xe0;     /* 56 <= 59 */
	CU_ASSERT_EQUAL(parse_frame(&f, NULL), 0);
	/* An IP payload shorter than a TCP header. */
	memset(&f, 0, sizeof(f));
	put_eth(&f, mac_ucast, RTE_ETHER_TYPE_IPV4);
	put_ipv4(&f, IPPROTO_TCP, 5, 19);
	put_payload(&f, 19);
	f.b[f.l4 + 12] = 0x50;
	expect_malformed(&f);
}

static void
test_bad_udp(void)
{
	struct frame f;
	struct rte_udp_hdr *uh;
	uint16_t ulen;

	for (ulen = 0; ulen < 8; ulen++) {
		frame_ipv4_udp(&f, mac_ucast, 10);
		uh = (struct rte_udp_hdr *)&f.b[f.l4];
		uh->dgram_len = rte_cpu_to_be_16(ulen);
		expect_malformed(&f);
	}
	frame_ipv4_udp(&f, mac_ucast, 10);
	uh = (struct rte_udp_hdr *)&f.b[f.l4];
	uh->dgram_len = rte_cpu_to_be_16(19);   /* payload is 18 */
	expect_malformed(&f);
	uh->dgram_len = rte_cpu_to_be_16(65535);
	expect_malformed(&f);
	uh->dgram_len = rte_cpu_to_be_16(18);
	CU_ASSERT_EQUAL(parse_frame(&f, NULL), 0);
	/* Padding after the datagram does not make room for a longer UDP length. */
	put(&f, 10);
	uh = (struct rte_udp_hdr *)&f.b[f.l4];
	uh->dgram_len = rte_cpu_to_be_16(19);
	expect_malformed(&f);
	/* An IP payload shorter than a UDP header. */
	memset(&f, 0, sizeof(f));
	put_eth(&f, mac_ucast, RTE_ETHER_TYPE_IPV4);
	put_ipv4(&f, IPPROTO_UDP, 5, 7);
	put_payload(&f, 7);
	expect_malformed(&f);
}

static void
test_bad_icmp(void)
{
	struct frame f;
	uint16_t n;

	for (n = 0; n < 8; n++) {
		memset(&f, 0, sizeof(f));
		put_eth(&f, mac_ucast, RTE_ETHER_TYPE_IPV4);
		put_ipv4(&f, IPPROTO_ICMP, 5, n);
		put_payload(&f, n);
		expect_malformed(&f);
	}
}

static void
test_bad_arp(void)
{
	struct frame f;
	struct rte_arp_hdr *ah;

	frame_arp(&f);
	ah = (struct rte_arp_hdr *)&f.b[f.l3];
	ah->arp_hlen = 8;
	expect_malformed(&f);
	ah->arp_hlen = 0;
	expect_malformed(&f);
	frame_arp(&f);
	ah = (struct rte_arp_hdr *)&f.b[f.l3];
	ah->arp_plen = 16;
	expect_malformed(&f);
	frame_arp(&f);
	ah = (struct rte_arp_hdr *)&f.b[f.l3];
	ah->arp_hardware = rte_cpu_to_be_16(6);   /* IEEE 802 */
	expect_malformed(&f);
	frame_arp(&f);
	ah = (struct rte_arp_hdr *)&f.b[f.l3];
	ah->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
	expect_malformed(&f);
	/* A header that claims Ethernet/IPv4 but stops before the target address. */
	frame_arp(&f);
	expect_malformed_len(&f, (uint16_t)(f.len - 1));
	expect_malformed_len(&f, 14 + 8);
}

static void
test_short_frames(void)
{
	struct frame f;
	uint16_t len;

	frame_ipv4_udp(&f, mac_bcast, 4);
	for (len = 0; len < 14; len++)
		expect_malformed_len(&f, len);
	memset(&f, 0, sizeof(f));
	put_eth(&f, mac_ucast, 0x88b5);
	CU_ASSERT_EQUAL(parse_frame(&f, NULL), 0);
}

/* ------------------------------------------------------------------ multi-segment */

/* Build a chain of two segments from a frame split at cut. */
static struct rte_mbuf *
mk_chain(const struct frame *f, uint16_t cut)
{
	struct rte_mbuf *head = mk(f->b, cut);
	struct rte_mbuf *tail = rte_pktmbuf_alloc(test_pool);
	char *d;

	CU_ASSERT_FATAL(tail != NULL);
	d = rte_pktmbuf_append(tail, (uint16_t)(f->len - cut));
	CU_ASSERT_FATAL(d != NULL);
	memcpy(d, &f->b[cut], f->len - cut);
	CU_ASSERT_FATAL(rte_pktmbuf_chain(head, tail) == 0);
	CU_ASSERT_FATAL(rte_pktmbuf_pkt_len(head) == f->len);
	return head;
}

/*
 * Policy (parse.c): headers must lie in the first segment, payload may follow
 * in others. So a split after the last header is parsed as if contiguous, a
 * split inside any header is malformed.
 */
static void
test_multi_segment(void)
{
	struct frame f;
	uint16_t cut, hdr_end;

	frame_ipv4_udp(&f, mac_ucast, 200);
	hdr_end = 14 + 20 + 8;
	for (cut = 1; cut < f.len; cut++) {
		struct rte_mbuf *m = mk_chain(&f, cut);
		const struct pkt_meta *pm = pkt_meta(m);
		int rc = parse_one(m);

		check_meta(m, rc);
		if (cut >= hdr_end) {
			CU_ASSERT_EQUAL(rc, 0);
			CU_ASSERT_EQUAL(pm->flags, PKT_F_IPV4 | PKT_F_UDP);
			CU_ASSERT_EQUAL(pm->l3_off, 14);
			CU_ASSERT_EQUAL(pm->l4_off, 34);
			CU_ASSERT_EQUAL(pm->l3_len, 228);
		} else {
			CU_ASSERT_EQUAL(rc, -EINVAL);
		}
		rte_pktmbuf_free(m);
	}

	/* TCP options count as header; a non-first fragment needs only the IP header. */
	frame_ipv4_tcp(&f, mac_ucast, 10, 30);
	hdr_end = 14 + 20 + 40;
	for (cut = 1; cut < f.len; cut++) {
		struct rte_mbuf *m = mk_chain(&f, cut);
		int rc = parse_one(m);

		check_meta(m, rc);
		CU_ASSERT_EQUAL(rc, cut >= hdr_end ? 0 : -EINVAL);
		rte_pktmbuf_free(m);
	}
	set_frag(&f, 100);
	for (cut = 1; cut < f.len; cut++) {
		struct rte_mbuf *m = mk_chain(&f, cut);
		int rc = parse_one(m);

		check_meta(m, rc);
		CU_ASSERT_EQUAL(rc, cut >= 34 ? 0 : -EINVAL);
		rte_pktmbuf_free(m);
	}

	/* A chain whose total is short of the IP total length is still malformed. */
	frame_ipv4_udp(&f, mac_ucast, 100);
	{
		struct rte_mbuf *m;

		((struct rte_ipv4_hdr *)&f.b[f.l3])->total_length = rte_cpu_to_be_16(129);
		m = mk_chain(&f, 60);
		CU_ASSERT_EQUAL(parse_one(m), -EINVAL);
		check_meta(m, -EINVAL);
		rte_pktmbuf_free(m);
	}
}

/*
 * An IPv6 datagram whose payload length is near 64 KiB, in a chain of full
 * segments (as GRO or a jumbo-capable PMD might build): up to 65495 bytes of
 * payload l3_len (40 + payload) still fits 16 bits and is accepted; beyond,
 * parse.c refuses it rather than store a wrapped length.
 */
static void
giant_ipv6(uint16_t payload_len, int want_rc)
{
	struct frame f;
	struct rte_mbuf *head, *seg;
	uint32_t left;
	int rc;

	memset(&f, 0, sizeof(f));
	put_eth(&f, mac_ucast, RTE_ETHER_TYPE_IPV6);
	put_ipv6(&f, IPPROTO_UDP, payload_len);
	put_udp(&f, (uint16_t)(payload_len - 8));
	head = mk(f.b, f.len);
	left = payload_len - 8u;
	while (left > 0) {
		uint16_t n = (uint16_t)RTE_MIN(left, 2048u);

		seg = rte_pktmbuf_alloc(test_pool);
		CU_ASSERT_FATAL(seg != NULL);
		CU_ASSERT_FATAL(rte_pktmbuf_append(seg, n) != NULL);
		CU_ASSERT_FATAL(rte_pktmbuf_chain(head, seg) == 0);
		left -= n;
	}
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(head), 14u + 40u + payload_len);
	rc = parse_one(head);
	CU_ASSERT_EQUAL(rc, want_rc);
	check_meta(head, rc);
	if (rc == 0)
		CU_ASSERT_EQUAL(pkt_meta(head)->l3_len, 40 + payload_len);
	rte_pktmbuf_free(head);
}

static void
test_giant_ipv6(void)
{
	giant_ipv6(UINT16_MAX - 40, 0);
	giant_ipv6(UINT16_MAX - 39, -EINVAL);
	giant_ipv6(UINT16_MAX, -EINVAL);
}

/* ------------------------------------------------------------------ the stage */

/*
 * A burst of n frames cycling through the good kinds, where every fifth one
 * (starting at index 2 - phase) is broken: cut to 10 bytes, or with its L3
 * version byte flipped. parse_stage must classify each exactly as parse_one.
 */
static void
run_burst(uint16_t n, unsigned int phase)
{
	struct rte_mbuf *pkts[64];
	unsigned int n_drop = 0, n_bridge = 0, want_drop = 0;
	struct frame f;
	uint16_t i;

	CU_ASSERT_FATAL(n <= RTE_DIM(pkts));
	for (i = 0; i < n; i++) {
		switch (i % 6) {
		case 0:
			frame_ipv4_tcp(&f, mac_ucast, 5, i);
			break;
		case 1:
			frame_ipv6_udp(&f, i);
			break;
		case 2:
			frame_arp(&f);
			break;
		case 3:
			frame_qinq_udp(&f, i, i, 1);
			break;
		case 4:
			frame_ipv4_icmp(&f, 8);
			break;
		default:
			memset(&f, 0, sizeof(f));
			put_eth(&f, mac_mcast4, 0x88b5);
			put_payload(&f, i);
			break;
		}
		if ((i + phase) % 5 == 2) {
			if (i % 2 == 1 && f.l3 != 0)
				f.b[f.l3] ^= 0xff;
			else
				f.len = 10;
			want_drop++;
		}
		pkts[i] = mk(f.b, f.len);
	}
	CU_ASSERT_EQUAL(parse_stage(NULL, pkts, n), n);
	for (i = 0; i < n; i++) {
		const struct pkt_meta *pm = pkt_meta(pkts[i]);
		bool bad = (i + phase) % 5 == 2;

		check_meta(pkts[i], bad ? -EINVAL : 0);
		if (pm->next == PL_NEXT_DROP)
			n_drop++;
		else if (pm->next == PL_NEXT_BRIDGE)
			n_bridge++;
		CU_ASSERT_EQUAL(pm->next, bad ? PL_NEXT_DROP : PL_NEXT_BRIDGE);
		rte_pktmbuf_free(pkts[i]);
	}
	CU_ASSERT_EQUAL(n_drop, want_drop);
	CU_ASSERT_EQUAL(n_bridge, n - want_drop);
	if (n >= 3)
		CU_ASSERT(want_drop > 0 && want_drop < n);
}

static void
test_stage_bursts(void)
{
	static const uint16_t sizes[] = { 0, 1, 3, 4, 5, 32, 33, 64 };
	unsigned int i;

	for (i = 0; i < RTE_DIM(sizes); i++) {
		run_burst(sizes[i], 0);   /* first packet good */
		run_burst(sizes[i], 2);   /* first packet bad */
	}
	/* An empty burst with no array at all touches nothing. */
	CU_ASSERT_EQUAL(parse_stage(NULL, NULL, 0), 0);
}

/* ------------------------------------------------------------------ randomized */

static uint64_t rng_state;

static uint64_t
rng(void)
{
	/* xorshift64*: deterministic across platforms, unlike rand(). */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static void
rng_seed(void)
{
	const char *s = getenv("DPNET_TEST_SEED");

	rng_state = s != NULL ? strtoull(s, NULL, 0) : 0x9e3779b97f4a7c15ULL;
	if (rng_state == 0)
		rng_state = 1;
}

/* Pure noise, lengths 0..200: almost always unknown EtherTypes or short frames. */
static void
test_random_bytes(void)
{
	uint8_t buf[200];
	unsigned int iter, n_ok = 0, n_bad = 0;

	rng_seed();
	for (iter = 0; iter < 10000; iter++) {
		uint16_t len = (uint16_t)(rng() % (sizeof(buf) + 1));
		struct rte_mbuf *m;
		uint16_t i;
		int rc;

		for (i = 0; i < len; i++)
			buf[i] = (uint8_t)rng();
		m = mk(buf, len);
		rc = parse_one(m);
		if (!check_meta(m, rc)) {
			fprintf(stderr, "random bytes: iteration %u len %u fails\n", iter, len);
			rte_pktmbuf_free(m);
			break;
		}
		if (rc == 0)
			n_ok++;
		else
			n_bad++;
		rte_pktmbuf_free(m);
	}
	CU_ASSERT(n_ok > 0 && n_bad > 0);
}

/*
 * Noise that gets past the first checks: take a valid frame of a random kind,
 * flip a few random bytes (biased to the headers), maybe cut or pad it, maybe
 * split it across two segments. Both outcomes must occur, and every accepted
 * frame must satisfy check_meta's stricter "good frame" invariants.
 */
static void
test_random_mutations(void)
{
	unsigned int iter, n_ok = 0, n_bad = 0;

	rng_seed();
	for (iter = 0; iter < 20000; iter++) {
		struct frame f;
		struct rte_mbuf *m;
		unsigned int flips, k;
		uint16_t len;
		int rc;

		switch (rng() % 8) {
		case 0:
			frame_ipv4_tcp(&f, mac_ucast, 5 + (unsigned int)(rng() % 11), rng() % 40);
			break;
		case 1:
			frame_ipv4_udp(&f, mac_bcast, rng() % 40);
			break;
		case 2:
			frame_ipv4_icmp(&f, rng() % 40);
			break;
		case 3:
			frame_ipv6_tcp(&f, rng() % 40);
			break;
		case 4:
			frame_ipv6_udp(&f, rng() % 40);
			break;
		case 5:
			frame_arp(&f);
			break;
		case 6:
			frame_qinq_udp(&f, 1, 2, rng() % 40);
			break;
		default:
			memset(&f, 0, sizeof(f));
			put_eth(&f, mac_ucast, RTE_ETHER_TYPE_IPV4);
			put_ipv4(&f, IPPROTO_UDP, 5 + (unsigned int)(rng() % 11), 8);
			put_udp(&f, 0);
			break;
		}
		flips = (unsigned int)(rng() % 4);
		for (k = 0; k < flips; k++) {
			uint16_t at = (uint16_t)(rng() % RTE_MIN(f.len, 80));

			f.b[at] = (uint8_t)rng();
		}
		len = f.len;
		switch (rng() % 4) {
		case 0:
			len = (uint16_t)(rng() % (f.len + 1));
			break;
		case 1:
			len = (uint16_t)(f.len + rng() % 20);   /* zero padding (b is zeroed) */
			break;
		default:
			break;
		}
		if (len > 1 && rng() % 4 == 0) {
			f.len = len;
			m = mk_chain(&f, (uint16_t)(1 + rng() % (len - 1)));
		} else {
			m = mk(f.b, len);
		}
		rc = parse_one(m);
		if (!check_meta(m, rc)) {
			fprintf(stderr, "random mutation: iteration %u fails\n", iter);
			rte_pktmbuf_free(m);
			break;
		}
		if (rc == 0)
			n_ok++;
		else
			n_bad++;
		rte_pktmbuf_free(m);
	}
	CU_ASSERT(n_ok > 1000 && n_bad > 1000);
}

/* ------------------------------------------------------------------ fast path */

/*
 * parse_one() takes a fast path for the common frame (untagged IPv4, IHL 5,
 * not a fragment, TCP/UDP/ICMP); it must give exactly the metadata and result
 * of the generic parse (parse_one_generic) on every frame, accepted or not.
 * cut: 0 for one segment, else where a second segment starts.
 */
static unsigned int fast_like;  /* frames both accepted as the fast path's kind */

static bool
same_as_generic(const uint8_t *data, uint16_t len, uint16_t cut)
{
	struct frame f;
	struct rte_mbuf *a, *b;
	int ra, rb;
	bool same;

	CU_ASSERT_FATAL(len <= FRAME_MAX);
	memset(&f, 0, sizeof(f));
	memcpy(f.b, data, len);
	f.len = len;
	a = cut > 0 && cut < len ? mk_chain(&f, cut) : mk(data, len);
	b = cut > 0 && cut < len ? mk_chain(&f, cut) : mk(data, len);
	ra = parse_one(a);
	rb = parse_one_generic(b);
	same = ra == rb && memcmp(pkt_meta(a), pkt_meta(b), sizeof(struct pkt_meta)) == 0;
	check_meta(a, ra);
	if (ra == 0 && pkt_meta(a)->l3_off == RTE_ETHER_HDR_LEN &&
	    pkt_meta(a)->l4_off == RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr) &&
	    (pkt_meta(a)->flags & ~(PKT_F_TCP | PKT_F_UDP | PKT_F_ICMP)) == PKT_F_IPV4)
		fast_like++;
	if (!same)
		fprintf(stderr, "fast path differs: len %u cut %u rc %d/%d flags %#x/%#x "
			"l3 %u/%u l4 %u/%u l3_len %u/%u next %u/%u\n", len, cut, ra, rb,
			pkt_meta(a)->flags, pkt_meta(b)->flags, pkt_meta(a)->l3_off,
			pkt_meta(b)->l3_off, pkt_meta(a)->l4_off, pkt_meta(b)->l4_off,
			pkt_meta(a)->l3_len, pkt_meta(b)->l3_len, pkt_meta(a)->next,
			pkt_meta(b)->next);
	rte_pktmbuf_free(a);
	rte_pktmbuf_free(b);
	return same;
}

/* Every boundary of every field the fast path reads, on each kind it takes. */
static void
test_fast_path_boundaries(void)
{
	unsigned int kind, bad = 0;

	fast_like = 0;
	for (kind = 0; kind < 9; kind++) {
		struct frame f, g;
		struct rte_ipv4_hdr *ih;
		uint16_t l3, l4, v, len;

		switch (kind) {
		case 0: frame_ipv4_tcp(&f, mac_ucast, 5, 0); break;
		case 1: frame_ipv4_tcp(&f, mac_ucast, 6, 3); break;
		case 2: frame_ipv4_tcp(&f, mac_ucast, 15, 1); break;
		case 3: frame_ipv4_udp(&f, mac_ucast, 0); break;
		case 4: frame_ipv4_udp(&f, mac_ucast, 18); break;
		case 5: frame_ipv4_icmp(&f, 0); break;
		case 6: frame_ipv4_icmp(&f, 5); break;
		case 7: frame_ipv4_udp(&f, mac_bcast, 4); break;
		default: frame_ipv4_tcp(&f, mac_mcast4, 5, 6); break;
		}
		l3 = f.l3;
		l4 = (uint16_t)(l3 + sizeof(*ih));
		/* Every length, with zero padding past the frame's own. */
		for (len = 0; len <= f.len + 6; len++)
			bad += !same_as_generic(f.b, len, 0);
		/* Every split of the frame into two segments. */
		for (len = 1; len < f.len; len++)
			bad += !same_as_generic(f.b, f.len, len);
		/* Every IPv4 total length up to past the frame (and its padded copy). */
		for (v = 0; v <= f.len + 8; v++) {
			g = f;
			ih = (struct rte_ipv4_hdr *)&g.b[l3];
			ih->total_length = rte_cpu_to_be_16(v);
			bad += !same_as_generic(g.b, g.len, 0);
			bad += !same_as_generic(g.b, (uint16_t)(g.len + 4), 0);
		}
		/* Every value of the bytes the fast path tests one by one. */
		for (v = 0; v < 256; v++) {
			static const uint16_t at[] = {0, 12, 13, 14, 20, 21, 23};

			for (unsigned int k = 0; k < RTE_DIM(at); k++) {
				g = f;
				g.b[at[k]] = (uint8_t)v;
				bad += !same_as_generic(g.b, g.len, 0);
			}
			/* The L4 length fields: TCP data offset, UDP length (both bytes). */
			g = f;
			g.b[l4 + 12] = (uint8_t)v;
			bad += !same_as_generic(g.b, g.len, 0);
			g = f;
			g.b[l4 + 5] = (uint8_t)v;
			bad += !same_as_generic(g.b, g.len, 0);
			g = f;
			g.b[l4 + 4] = (uint8_t)v;
			bad += !same_as_generic(g.b, g.len, 0);
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	/* The fast path's kind was met many times (not only its refusals). */
	CU_ASSERT(fast_like > 1000);
}

/* Random mutations of frames of every kind, biased to the fast path's. */
static void
test_fast_path_random(void)
{
	unsigned int iter, bad = 0;

	rng_seed();
	fast_like = 0;
	for (iter = 0; iter < 50000; iter++) {
		struct frame f;
		unsigned int flips, k;
		uint16_t len, cut = 0;

		switch (rng() % 8) {
		case 0:
		case 1:
			frame_ipv4_tcp(&f, mac_ucast, 5 + (unsigned int)(rng() % 11), rng() % 40);
			break;
		case 2:
		case 3:
			frame_ipv4_udp(&f, rng() % 8 ? mac_ucast : mac_mcast6, rng() % 40);
			break;
		case 4:
			frame_ipv4_icmp(&f, rng() % 40);
			break;
		case 5:
			frame_ipv6_tcp(&f, rng() % 40);
			break;
		case 6:
			frame_qinq_udp(&f, 1, 2, rng() % 40);
			break;
		default:
			memset(&f, 0, sizeof(f));
			put_eth(&f, mac_ucast, RTE_ETHER_TYPE_IPV4);
			put_ipv4(&f, (uint8_t)rng(), 5 + (unsigned int)(rng() % 3), 8);
			put_udp(&f, (uint16_t)(rng() % 8));
			break;
		}
		flips = (unsigned int)(rng() % 4);
		for (k = 0; k < flips; k++)
			f.b[rng() % RTE_MIN(f.len, 64)] = (uint8_t)rng();
		len = f.len;
		if (rng() % 4 == 0)
			len = (uint16_t)(rng() % (f.len + 1));
		else if (rng() % 4 == 0)
			len = (uint16_t)(f.len + rng() % 20);
		if (len > 1 && rng() % 8 == 0)
			cut = (uint16_t)(1 + rng() % (len - 1));
		if (!same_as_generic(f.b, len, cut) && ++bad > 10)
			break;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(fast_like > 5000);
}

/* ------------------------------------------------------------------ main */

static const struct {
	const char *name;
	CU_TestFunc fn;
} tests[] = {
	{ "ipv4 udp", test_ipv4_udp },
	{ "ipv4 tcp", test_ipv4_tcp },
	{ "ipv4 icmp", test_ipv4_icmp },
	{ "ipv4 other protocols", test_ipv4_other_proto },
	{ "ipv4 ethernet padding", test_ipv4_padding },
	{ "arp", test_arp },
	{ "ipv6", test_ipv6 },
	{ "single vlan tag", test_vlan_single },
	{ "double vlan tag (qinq)", test_vlan_double },
	{ "unknown ethertype", test_unknown_ethertype },
	{ "broadcast and multicast flags", test_l2_flags },
	{ "ipv4 fragments", test_ipv4_fragments },
	{ "ipv4 options", test_ipv4_options },
	{ "truncation at every length", test_truncations },
	{ "bad ipv4 header", test_bad_ipv4_header },
	{ "bad ipv6 header", test_bad_ipv6_header },
	{ "bad tcp", test_bad_tcp },
	{ "bad udp", test_bad_udp },
	{ "bad icmp", test_bad_icmp },
	{ "bad arp", test_bad_arp },
	{ "frames shorter than ethernet", test_short_frames },
	{ "multi-segment mbufs", test_multi_segment },
	{ "giant ipv6 in a chain", test_giant_ipv6 },
	{ "parse_stage bursts", test_stage_bursts },
	{ "random bytes", test_random_bytes },
	{ "random mutations", test_random_mutations },
	{ "fast path equals the generic parse: boundaries", test_fast_path_boundaries },
	{ "fast path equals the generic parse: random frames", test_fast_path_random },
};

int
main(int argc, char **argv)
{
	/*
	 * DPDK 22.11 refuses --in-memory together with --no-huge (which implies
	 * legacy memory), so ask for what --in-memory would give: no shared config
	 * files and no multi-process socket (--no-shconf), no telemetry socket, and
	 * a prefix of our own, so that test binaries can run in parallel.
	 */
	char *eal_args[] = { "test", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
			     "--no-telemetry", "--file-prefix", "test_parse",
			     "--log-level", "*:error" };
	CU_pSuite suite;
	unsigned int i, failed;

	RTE_SET_USED(argc);
	RTE_SET_USED(argv);
	if (rte_eal_init((int)RTE_DIM(eal_args), eal_args) < 0) {
		fprintf(stderr, "test_parse: EAL unavailable, skipping\n");
		return 77;
	}
	test_pool = rte_pktmbuf_pool_create("test_parse", 1023, 0, PKT_PRIV_SIZE,
					    RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (test_pool == NULL) {
		fprintf(stderr, "test_parse: no mbuf pool: %s\n", rte_strerror(rte_errno));
		rte_eal_cleanup();
		return 1;
	}

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("parse", NULL, NULL);
	if (suite == NULL)
		goto fail;
	for (i = 0; i < RTE_DIM(tests); i++)
		if (CU_add_test(suite, tests[i].name, tests[i].fn) == NULL)
			goto fail;
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	/* Every test frees its mbufs: a leak would show as a pool that is not full. */
	if (rte_mempool_avail_count(test_pool) != 1023) {
		fprintf(stderr, "test_parse: %u mbufs leaked\n",
			1023 - rte_mempool_avail_count(test_pool));
		failed++;
	}
	rte_mempool_free(test_pool);
	rte_eal_cleanup();
	return failed == 0 ? 0 : 1;

fail:
	CU_cleanup_registry();
	return 1;
}
