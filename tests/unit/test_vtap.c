/*
 * test_vtap.c - CUnit tests of the virtio-net header translation of vtap
 * ports (drivers/vtap_vnet.c): what the kernel's header becomes in the offload
 * convention (dataplane/offload.h), what is refused, and the header written
 * back for a frame that carries offload bits.
 *
 * Pure: the mbufs live on the stack over a byte buffer (no EAL, no pool); the
 * translation reads and writes nothing else.
 */
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>

#include <CUnit/Basic.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "drivers/vtap_vnet.h"

#define T_OL_SENTINEL RTE_MBUF_F_TX_VLAN   /* untouched bit: survives every call */

struct t_frame {
	uint8_t buf[2048];            /* the frame */
	struct rte_mbuf m;            /* over buf */
};

/* An mbuf over f->buf holding len bytes. */
static struct rte_mbuf *
t_mbuf(struct t_frame *f, uint16_t len)
{
	memset(&f->m, 0, sizeof(f->m));
	f->m.buf_addr = f->buf;
	f->m.buf_len = sizeof(f->buf);
	f->m.data_off = 0;
	f->m.data_len = len;
	f->m.pkt_len = len;
	f->m.nb_segs = 1;
	f->m.ol_flags = T_OL_SENTINEL;
	return &f->m;
}

/*
 * Build Ethernet [+ n_vlan tags] + IPv4 (ihl words) or IPv6 + TCP (doff words)
 * or UDP + payload bytes into f; returns the frame length.
 */
static uint16_t
t_build(struct t_frame *f, int n_vlan, int ipv6, int ihl, uint8_t proto, int doff,
	uint16_t payload)
{
	uint8_t *p = f->buf;
	uint16_t off = 12, l4len;

	memset(f->buf, 0, sizeof(f->buf));
	for (int i = 0; i < n_vlan; i++) {
		p[off] = 0x81;
		p[off + 1] = 0x00;
		off += 4;
	}
	p[off] = ipv6 ? 0x86 : 0x08;
	p[off + 1] = ipv6 ? 0xdd : 0x00;
	off += 2;
	l4len = (uint16_t)(proto == IPPROTO_TCP ? doff * 4 : 8);
	if (ipv6) {
		p[off] = 0x60;
		p[off + 6] = proto;
		off += 40;
	} else {
		p[off] = (uint8_t)(0x40 | ihl);
		p[off + 9] = proto;
		off += (uint16_t)(ihl * 4);
	}
	if (proto == IPPROTO_TCP)
		p[off + 12] = (uint8_t)(doff << 4);
	return (uint16_t)(off + l4len + payload);
}

static struct virtio_net_hdr
t_hdr(uint8_t flags, uint8_t gso, uint16_t gso_size, uint16_t start, uint16_t offset)
{
	struct virtio_net_hdr h = {
		.flags = flags, .gso_type = gso,
		.gso_size = rte_cpu_to_le_16(gso_size),
		.csum_start = rte_cpu_to_le_16(start),
		.csum_offset = rte_cpu_to_le_16(offset),
	};
	return h;
}

static void
test_tcp4_gso(void)
{
	struct t_frame f;
	uint16_t len = t_build(&f, 0, 0, 5, IPPROTO_TCP, 8, 1000);
	struct rte_mbuf *m = t_mbuf(&f, len);
	struct virtio_net_hdr h = t_hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4,
					1448, 34, 16), back;

	CU_ASSERT_EQUAL(vtap_vnet_rx(&h, m), 0);
	CU_ASSERT_EQUAL(m->ol_flags, T_OL_SENTINEL | RTE_MBUF_F_TX_IPV4 |
			RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_TCP_SEG);
	CU_ASSERT_EQUAL(m->l2_len, 14);
	CU_ASSERT_EQUAL(m->l3_len, 20);
	CU_ASSERT_EQUAL(m->l4_len, 32);
	CU_ASSERT_EQUAL(m->tso_segsz, 1448);
	vtap_vnet_tx(m, &back);
	CU_ASSERT_EQUAL(back.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CU_ASSERT_EQUAL(back.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	CU_ASSERT_EQUAL(rte_le_to_cpu_16(back.gso_size), 1448);
	CU_ASSERT_EQUAL(rte_le_to_cpu_16(back.csum_start), 34);
	CU_ASSERT_EQUAL(rte_le_to_cpu_16(back.csum_offset), 16);
	CU_ASSERT_EQUAL(rte_le_to_cpu_16(back.hdr_len), 66);
}

static void
test_partial_only(void)
{
	struct t_frame f;
	struct virtio_net_hdr h, back;
	struct rte_mbuf *m;
	uint16_t len;

	/* UDP/IPv4 with options (IHL 6). */
	len = t_build(&f, 0, 0, 6, IPPROTO_UDP, 0, 100);
	m = t_mbuf(&f, len);
	h = t_hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 38, 6);
	CU_ASSERT_EQUAL(vtap_vnet_rx(&h, m), 0);
	CU_ASSERT_EQUAL(m->ol_flags, T_OL_SENTINEL | RTE_MBUF_F_TX_IPV4 |
			RTE_MBUF_F_TX_UDP_CKSUM);
	CU_ASSERT_EQUAL(m->l2_len, 14);
	CU_ASSERT_EQUAL(m->l3_len, 24);
	vtap_vnet_tx(m, &back);
	CU_ASSERT_EQUAL(back.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CU_ASSERT_EQUAL(back.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	CU_ASSERT_EQUAL(rte_le_to_cpu_16(back.csum_start), 38);
	CU_ASSERT_EQUAL(rte_le_to_cpu_16(back.csum_offset), 6);

	/* TCP/IPv6. */
	len = t_build(&f, 0, 1, 0, IPPROTO_TCP, 5, 10);
	m = t_mbuf(&f, len);
	h = t_hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 54, 16);
	CU_ASSERT_EQUAL(vtap_vnet_rx(&h, m), 0);
	CU_ASSERT_EQUAL(m->ol_flags, T_OL_SENTINEL | RTE_MBUF_F_TX_IPV6 |
			RTE_MBUF_F_TX_TCP_CKSUM);
	CU_ASSERT_EQUAL(m->l3_len, 40);

	/* Two VLAN tags before TCP/IPv4, with GSO. */
	len = t_build(&f, 2, 0, 5, IPPROTO_TCP, 5, 1900);
	m = t_mbuf(&f, len);
	h = t_hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 500, 42, 16);
	CU_ASSERT_EQUAL(vtap_vnet_rx(&h, m), 0);
	CU_ASSERT_EQUAL(m->l2_len, 22);
	CU_ASSERT_EQUAL(m->l3_len, 20);
	CU_ASSERT_EQUAL(m->l4_len, 20);
	CU_ASSERT((m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) != 0);
}

static void
test_no_offload(void)
{
	struct t_frame f;
	uint16_t len = t_build(&f, 0, 0, 5, IPPROTO_TCP, 5, 10);
	struct rte_mbuf *m = t_mbuf(&f, len);
	struct virtio_net_hdr h = t_hdr(0, 0, 0, 0, 0), back;

	CU_ASSERT_EQUAL(vtap_vnet_rx(&h, m), 0);
	CU_ASSERT_EQUAL(m->ol_flags, T_OL_SENTINEL);
	/* DATA_VALID (checksum verified by the kernel) needs nothing from us. */
	h = t_hdr(VIRTIO_NET_HDR_F_DATA_VALID, 0, 0, 0, 0);
	CU_ASSERT_EQUAL(vtap_vnet_rx(&h, m), 0);
	CU_ASSERT_EQUAL(m->ol_flags, T_OL_SENTINEL);
	memset(&back, 0xff, sizeof(back));
	vtap_vnet_tx(m, &back);
	CU_ASSERT_EQUAL(back.flags, 0);
	CU_ASSERT_EQUAL(back.gso_type, 0);
	CU_ASSERT_EQUAL(back.csum_start, 0);
	CU_ASSERT_EQUAL(back.csum_offset, 0);
	CU_ASSERT_EQUAL(back.gso_size, 0);
	CU_ASSERT_EQUAL(back.hdr_len, 0);
}

/* Refused: -EINVAL and the mbuf untouched. */
static void
t_refused(const struct virtio_net_hdr *h, struct t_frame *f, uint16_t len, const char *what)
{
	struct rte_mbuf *m = t_mbuf(f, len);

	m->l2_len = 1;
	m->tso_segsz = 7;
	if (vtap_vnet_rx(h, m) != -EINVAL)
		fprintf(stderr, "not refused: %s\n", what);
	CU_ASSERT_EQUAL(vtap_vnet_rx(h, m), -EINVAL);
	CU_ASSERT_EQUAL(m->ol_flags, T_OL_SENTINEL);
	CU_ASSERT_EQUAL(m->l2_len, 1);
	CU_ASSERT_EQUAL(m->tso_segsz, 7);
}

static void
test_refusals(void)
{
	const uint8_t nc = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	struct t_frame f;
	uint16_t tcp4 = t_build(&f, 0, 0, 5, IPPROTO_TCP, 5, 2000);
	struct virtio_net_hdr h;

	h = t_hdr(nc, VIRTIO_NET_HDR_GSO_TCPV6, 1000, 34, 16);
	t_refused(&h, &f, tcp4, "gso tcpv6");
	h = t_hdr(nc, VIRTIO_NET_HDR_GSO_UDP, 1000, 34, 16);
	t_refused(&h, &f, tcp4, "gso udp (ufo)");
	h = t_hdr(nc, 5 /* VIRTIO_NET_HDR_GSO_UDP_L4 */, 1000, 34, 16);
	t_refused(&h, &f, tcp4, "gso udp l4 (uso)");
	h = t_hdr(nc, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 1000, 34, 16);
	t_refused(&h, &f, tcp4, "gso with ecn");
	h = t_hdr(0, VIRTIO_NET_HDR_GSO_TCPV4, 1000, 34, 16);
	t_refused(&h, &f, tcp4, "gso without a partial checksum");
	h = t_hdr(nc, VIRTIO_NET_HDR_GSO_TCPV4, 0, 34, 16);
	t_refused(&h, &f, tcp4, "gso_size 0");
	h = t_hdr(nc, 0, 0, 34, 10);
	t_refused(&h, &f, tcp4, "csum_offset not 16 or 6");
	h = t_hdr(nc, 0, 0, 34, 6);
	t_refused(&h, &f, tcp4, "udp offset on tcp");
	h = t_hdr(nc, 0, 0, 30, 16);
	t_refused(&h, &f, tcp4, "csum_start inside the ip header");
	h = t_hdr(nc, 0, 0, 10, 16);
	t_refused(&h, &f, tcp4, "csum_start inside the ethernet header");
	h = t_hdr(nc, 0, 0, (uint16_t)(tcp4 - 10), 16);
	t_refused(&h, &f, tcp4, "tcp header past the end");
	h = t_hdr(nc, 0, 0, 60000, 16);
	t_refused(&h, &f, tcp4, "csum_start far outside");
	h = t_hdr(nc, 0, 0, 0, 0);
	t_refused(&h, &f, 10, "shorter than ethernet");
	h = t_hdr(0, 0, 0, 0, 0);
	t_refused(&h, &f, 13, "shorter than ethernet, no offload");
	/* TSO over IPv6 (not offered), over UDP, and a TCP header too short. */
	{
		uint16_t tcp6 = t_build(&f, 0, 1, 0, IPPROTO_TCP, 5, 2000);

		h = t_hdr(nc, VIRTIO_NET_HDR_GSO_TCPV4, 1000, 54, 16);
		t_refused(&h, &f, tcp6, "gso tcpv4 on an ipv6 frame");
	}
	{
		uint16_t udp4 = t_build(&f, 0, 0, 5, IPPROTO_UDP, 0, 2000);

		h = t_hdr(nc, VIRTIO_NET_HDR_GSO_TCPV4, 1000, 34, 6);
		t_refused(&h, &f, udp4, "gso tcpv4 on udp");
	}
	{
		uint16_t bad = t_build(&f, 0, 0, 5, IPPROTO_TCP, 4, 2000);

		h = t_hdr(nc, VIRTIO_NET_HDR_GSO_TCPV4, 1000, 34, 16);
		t_refused(&h, &f, bad, "tcp data offset 4 words");
	}
	{
		uint16_t arp = t_build(&f, 0, 0, 5, IPPROTO_TCP, 5, 100);

		f.buf[12] = 0x08;
		f.buf[13] = 0x06;
		h = t_hdr(nc, 0, 0, 34, 16);
		t_refused(&h, &f, arp, "partial checksum on arp");
	}
	{
		uint16_t v = t_build(&f, 1, 0, 5, IPPROTO_TCP, 5, 100);

		h = t_hdr(nc, 0, 0, 14 + 20, 16);
		t_refused(&h, &f, v, "csum_start ignoring the vlan tag");
		h = t_hdr(nc, 0, 0, 0, 16);
		t_refused(&h, &f, 16, "vlan tag cut");
	}
}

/* Every start and offset over a short frame: refused or accepted, never past
 * the frame (run under ASan, a read past buf would show). */
static void
test_bounds(void)
{
	struct t_frame f;
	uint16_t full = t_build(&f, 0, 0, 5, IPPROTO_TCP, 5, 0);

	for (uint16_t len = 0; len <= full; len++)
		for (uint16_t start = 0; start <= full + 2; start++)
			for (int off = 0; off < 2; off++) {
				struct virtio_net_hdr h = t_hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM,
							off ? VIRTIO_NET_HDR_GSO_TCPV4 : 0,
							100, start, 16);
				struct rte_mbuf *m = t_mbuf(&f, len);
				int rc = vtap_vnet_rx(&h, m);

				CU_ASSERT(rc == 0 || rc == -EINVAL);
				if (rc == 0) {
					CU_ASSERT_EQUAL(len, full);
					CU_ASSERT_EQUAL(start, 34);
				}
			}
}

int
main(void)
{
	CU_pSuite s;
	unsigned int failures;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("vtap", NULL, NULL);
	if (s == NULL ||
	    CU_add_test(s, "tcp/ipv4 gso in and out", test_tcp4_gso) == NULL ||
	    CU_add_test(s, "partial checksums: udp/ipv4 options, tcp/ipv6, vlan",
			test_partial_only) == NULL ||
	    CU_add_test(s, "no offload: zero header", test_no_offload) == NULL ||
	    CU_add_test(s, "refusals leave the mbuf untouched", test_refusals) == NULL ||
	    CU_add_test(s, "every start over every length", test_bounds) == NULL) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failures != 0 ? 1 : 0;
}
