/*
 * vtap_vnet.c - virtio-net header <-> offload convention. See vtap_vnet.h.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "vtap_vnet.h"

#define VNET_TCP_CSUM_OFF 16   /* th_sum in a TCP header */
#define VNET_UDP_CSUM_OFF 6    /* uh_sum in a UDP header */
#define VNET_TCP_HDR_MIN 20
#define VNET_UDP_HDR_LEN 8

static inline uint16_t
vnet_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

int
vtap_vnet_rx(const struct virtio_net_hdr *h, struct rte_mbuf *m)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	uint8_t gso = h->gso_type;
	uint32_t cs = rte_le_to_cpu_16(h->csum_start);
	uint32_t co = rte_le_to_cpu_16(h->csum_offset);
	uint32_t l2 = RTE_ETHER_HDR_LEN, l3, l4 = 0;
	uint64_t ol;
	uint16_t et;
	uint8_t proto;

	if (len < RTE_ETHER_HDR_LEN)
		return -EINVAL;
	if (gso != VIRTIO_NET_HDR_GSO_NONE && gso != VIRTIO_NET_HDR_GSO_TCPV4)
		return -EINVAL;  /* TCPv6, UDP, USO and the ECN bit were not offered */
	if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
		if (gso != VIRTIO_NET_HDR_GSO_NONE)
			return -EINVAL;  /* a segment's checksum is always partial */
		return 0;
	}
	et = vnet_be16(f + 12);
	while (et == RTE_ETHER_TYPE_VLAN || et == RTE_ETHER_TYPE_QINQ) {
		if (l2 + 4 > len)
			return -EINVAL;
		et = vnet_be16(f + l2 + 2);
		l2 += 4;
	}
	if (co != VNET_TCP_CSUM_OFF && co != VNET_UDP_CSUM_OFF)
		return -EINVAL;
	if (cs < l2 || cs + (co == VNET_TCP_CSUM_OFF ? VNET_TCP_HDR_MIN : VNET_UDP_HDR_LEN) > len)
		return -EINVAL;
	l3 = cs - l2;
	if (et == RTE_ETHER_TYPE_IPV4) {
		if (l3 < sizeof(struct rte_ipv4_hdr) || (f[l2] >> 4) != 4 ||
		    (uint32_t)(f[l2] & 0xf) * 4 != l3)
			return -EINVAL;
		proto = f[l2 + 9];
		ol = RTE_MBUF_F_TX_IPV4;
	} else if (et == RTE_ETHER_TYPE_IPV6) {
		if (l3 < sizeof(struct rte_ipv6_hdr) || (f[l2] >> 4) != 6)
			return -EINVAL;
		/* Behind extension headers the protocol is the last one's: trust the
		 * offset there (the parser checks the L4 offset it finds). */
		proto = l3 == sizeof(struct rte_ipv6_hdr) ? f[l2 + 6] :
			co == VNET_TCP_CSUM_OFF ? IPPROTO_TCP : IPPROTO_UDP;
		ol = RTE_MBUF_F_TX_IPV6;
	} else {
		return -EINVAL;
	}
	if (co == VNET_TCP_CSUM_OFF && proto == IPPROTO_TCP)
		ol |= RTE_MBUF_F_TX_TCP_CKSUM;
	else if (co == VNET_UDP_CSUM_OFF && proto == IPPROTO_UDP)
		ol |= RTE_MBUF_F_TX_UDP_CKSUM;
	else
		return -EINVAL;
	if (gso == VIRTIO_NET_HDR_GSO_TCPV4) {
		if (!(ol & RTE_MBUF_F_TX_IPV4) || proto != IPPROTO_TCP || h->gso_size == 0)
			return -EINVAL;
		l4 = (uint32_t)(f[cs + 12] >> 4) * 4;
		if (l4 < VNET_TCP_HDR_MIN || cs + l4 > len)
			return -EINVAL;
		ol |= RTE_MBUF_F_TX_TCP_SEG;
		m->tso_segsz = rte_le_to_cpu_16(h->gso_size);
	}
	m->ol_flags = (m->ol_flags & ~(RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG |
				       RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IPV6)) | ol;
	m->l2_len = l2;
	m->l3_len = l3;
	m->l4_len = l4;
	return 0;
}

void
vtap_vnet_tx(const struct rte_mbuf *m, struct virtio_net_hdr *h)
{
	uint64_t l4 = m->ol_flags & RTE_MBUF_F_TX_L4_MASK;

	memset(h, 0, sizeof(*h));
	if (l4 != RTE_MBUF_F_TX_TCP_CKSUM && l4 != RTE_MBUF_F_TX_UDP_CKSUM)
		return;
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->csum_start = rte_cpu_to_le_16((uint16_t)(m->l2_len + m->l3_len));
	h->csum_offset = rte_cpu_to_le_16(l4 == RTE_MBUF_F_TX_TCP_CKSUM ? VNET_TCP_CSUM_OFF :
					  VNET_UDP_CSUM_OFF);
	if ((m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) && l4 == RTE_MBUF_F_TX_TCP_CKSUM) {
		h->gso_type = m->ol_flags & RTE_MBUF_F_TX_IPV6 ? VIRTIO_NET_HDR_GSO_TCPV6 :
			VIRTIO_NET_HDR_GSO_TCPV4;
		h->gso_size = rte_cpu_to_le_16(m->tso_segsz);
		h->hdr_len = rte_cpu_to_le_16((uint16_t)(m->l2_len + m->l3_len + m->l4_len));
	}
}
