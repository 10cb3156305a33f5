/*
 * pkt.h - per-packet metadata carried in the mbuf private area.
 *
 * Every mbuf of dpnet's pool has PKT_PRIV_SIZE bytes of private area right after
 * struct rte_mbuf; pkt_meta() returns it. The parser fills the offsets and flags
 * once, later stages read them instead of re-parsing, and each stage writes the
 * next stage code (PL_NEXT_*) and, when it decides one, the output port or the
 * drop reason. Offsets are from the start of the frame (rte_pktmbuf_mtod) and
 * PKT_OFF_NONE marks a header that is absent.
 *
 * Thread safety: an mbuf belongs to exactly one worker at a time, so the
 * metadata is never shared. Mbufs from pools without the private area (for
 * example a PMD's own pool) must never reach a stage.
 */
#ifndef DPNET_PKT_H
#define DPNET_PKT_H

#include <stdint.h>
#include <rte_mbuf.h>

#define PKT_OFF_NONE 0xFFFF

/* What the parser found; stages test these bits instead of re-reading headers. */
enum pkt_flag {
	PKT_F_VLAN = 1u << 0,      /* one or more 802.1Q/802.1ad tags were skipped */
	PKT_F_ARP = 1u << 1,       /* l3 is an ARP packet (Ethernet/IPv4 ARP only) */
	PKT_F_IPV4 = 1u << 2,      /* l3 is IPv4 with a valid header */
	PKT_F_IPV6 = 1u << 3,      /* l3 is IPv6 (base header only) */
	PKT_F_TCP = 1u << 4,       /* l4 is TCP with a complete header */
	PKT_F_UDP = 1u << 5,       /* l4 is UDP with a complete header */
	PKT_F_ICMP = 1u << 6,      /* l4 is ICMP (v4) or ICMPv6 */
	PKT_F_FRAG = 1u << 7,      /* IPv4 fragment (MF set or offset != 0) */
	PKT_F_L2_BCAST = 1u << 8,  /* destination MAC is ff:ff:ff:ff:ff:ff */
	PKT_F_L2_MCAST = 1u << 9,  /* destination MAC has the group bit (incl. broadcast) */
	PKT_F_IP_OPTS = 1u << 10,  /* IPv4 header carries options (IHL > 5) */
	PKT_F_ROUTED = 1u << 11,   /* set by the L3 stage: domain is now the output domain */
	PKT_F_NAT = 1u << 12,      /* set by the NAT stage: translated by conntrack (nat.h) */
};

/* The metadata; kept within one cache line with room for later stages. */
struct pkt_meta {
	uint16_t in_port;     /* ethdev port the frame arrived on */
	uint16_t out_port;    /* ethdev port chosen by a stage (next == PL_NEXT_TX) */
	uint16_t domain;      /* bridge domain (network slot) of in_port; once the L3
	                       * stage routes the frame (PKT_F_ROUTED), the output one */
	uint16_t flags;       /* PKT_F_* */
	uint16_t l3_off;      /* offset of the L3 header, PKT_OFF_NONE if absent */
	uint16_t l4_off;      /* offset of the L4 header, PKT_OFF_NONE if absent */
	uint16_t l3_len;      /* L3 length the header claims (IPv4 total length) */
	uint16_t vlan_tci;    /* TCI of the outermost tag when PKT_F_VLAN */
	uint16_t ether_type;  /* EtherType after any VLAN tags, host order */
	uint8_t l4_proto;     /* IP protocol number, 0 if none */
	uint8_t next;         /* next stage: enum pl_next */
	uint8_t drop_reason;  /* enum dp_drop when next == PL_NEXT_DROP */
	uint8_t pad[7];       /* keeps the struct a multiple of 8 bytes */
};

#define PKT_PRIV_SIZE RTE_ALIGN(sizeof(struct pkt_meta), RTE_MBUF_PRIV_ALIGN)

static inline struct pkt_meta *
pkt_meta(struct rte_mbuf *m)
{
	return (struct pkt_meta *)rte_mbuf_to_priv(m);
}

#endif /* DPNET_PKT_H */
