/*
 * pkt.h - per-packet metadata carried in the mbuf's dynamic-field area.
 *
 * The metadata lives at a fixed offset (PKT_META_OFF) in the dynamic-field bytes
 * of struct rte_mbuf's second cache line, which dp_create() reserves with
 * rte_mbuf_dynfield_register_offset(); pkt_meta() returns it. That line is
 * written anyway by every allocation (next, tx_offload) and read by every free,
 * so the metadata costs no cache line of its own, and with no private area
 * (PKT_PRIV_SIZE is 0) a frame starts on a cache line (RTE_PKTMBUF_HEADROOM
 * after the 128-byte mbuf) instead of straddling two: the per-packet lines are
 * those testpmd touches. The parser fills the offsets and flags
 * once, later stages read them instead of re-parsing, and each stage writes the
 * next stage code (PL_NEXT_*) and, when it decides one, the output port or the
 * drop reason. Offsets are from the start of the frame (rte_pktmbuf_mtod) and
 * PKT_OFF_NONE marks a header that is absent.
 *
 * Thread safety: an mbuf belongs to exactly one worker at a time, so the
 * metadata is never shared. Any mbuf carries the area; only dp_create()'s
 * registration keeps other DPDK users (timestamps, flow metadata) out of it.
 */
#ifndef DPNET_PKT_H
#define DPNET_PKT_H

#include <stddef.h>
#include <stdint.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

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
	PKT_F_RT = 1u << 13,       /* set by the NAT stage on a connection's first packet:
	                            * it checked the IPv4 header checksum and looked up
	                            * the route of the (translated) destination, whose
	                            * next-hop slot is rt_nh (PKT_RT_NONE: no route); the
	                            * L3 stage of the same burst uses both (a slot outlives
	                            * the burst: l3_private.h) */
};

/* meta->rt_nh when the NAT stage found no route (PKT_F_RT); next-hop slots
 * (l3_private.h L3_MAX_NH) stay below it. */
#define PKT_RT_NONE 0xFFFF

/* The metadata; it must fit in the 28 bytes at PKT_META_OFF (asserts below). */
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
	uint8_t punt;         /* enum punt_reason when next == PL_NEXT_PUNT (neigh.h) */
	uint16_t rt_nh;       /* PKT_F_RT: the destination's next-hop slot (l3_private.h) */
	uint32_t nh_ip;       /* PUNT_NEIGH_MISS: the next hop to resolve, host order */
};

/* Where it lives: the start of dynfield1 (bytes 92..127 of the mbuf), leaving
 * its last 8-aligned 8 bytes to a PMD's dynamic field (net_pcap registers the
 * Rx timestamp at probe time and refuses to attach without it). */
#define PKT_META_OFF 92
#define PKT_META_NAME "dpnet_pkt_meta"
_Static_assert(PKT_META_OFF >= offsetof(struct rte_mbuf, dynfield1) &&
	       PKT_META_OFF % _Alignof(struct pkt_meta) == 0,
	       "the metadata lies within the mbuf's dynamic-field area");
_Static_assert(PKT_META_OFF + sizeof(struct pkt_meta) <= sizeof(struct rte_mbuf) - 8,
	       "an 8-byte dynamic field (the Rx timestamp) still fits after the metadata");

/* dpnet's pools need no private area (kept for pool creators' signatures). */
#define PKT_PRIV_SIZE 0

static inline struct pkt_meta *
pkt_meta(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, PKT_META_OFF, struct pkt_meta *);
}

#endif /* DPNET_PKT_H */
