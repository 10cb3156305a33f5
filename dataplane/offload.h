/*
 * offload.h - frames that carry unfinished work: large TCP segments (GSO/TSO)
 * and partial checksums, as a kernel hands them to a TAP with virtio-net
 * headers (drivers/vtap.h), and how the data plane finishes them for ports
 * that cannot take them.
 *
 * Why: a container's kernel sends TCP in segments of up to 64 KB with the
 * checksum left to the device (CHECKSUM_PARTIAL). Carrying such a segment
 * through the switch as one frame costs one read() and one write() per 64 KB
 * instead of per 1500 bytes: that is how the kernel bridge reaches its TCP
 * rates, and how dpnet's vtap ports do (issue 7, item 5).
 *
 * The convention (one for the whole data plane; DPDK's TX offload flags, with
 * virtio's checksum rule):
 *  - A frame with a partial L4 checksum has RTE_MBUF_F_TX_TCP_CKSUM or
 *    RTE_MBUF_F_TX_UDP_CKSUM in m->ol_flags, RTE_MBUF_F_TX_IPV4 or
 *    RTE_MBUF_F_TX_IPV6, and m->l2_len (Ethernet + VLAN tags) and m->l3_len
 *    (IP header, options / IPv6 extension headers included) set, so the
 *    checksum starts at l2_len + l3_len (virtio's csum_start) and its field is
 *    at +16 (TCP) or +6 (UDP) (csum_offset). The field holds the folded,
 *    NOT complemented one's-complement sum of the pseudo-header (addresses,
 *    protocol, L4 length of this frame) - Linux's CHECKSUM_PARTIAL, virtio's
 *    VIRTIO_NET_HDR_F_NEEDS_CSUM. (DPDK's own TSO convention leaves the length
 *    out of the pseudo-header; dpnet never hands such frames to a PMD's
 *    offload, it finishes them itself, so only the virtio rule exists here.)
 *  - A TCP/IPv4 frame longer than one segment additionally has
 *    RTE_MBUF_F_TX_TCP_SEG, m->tso_segsz = the MSS (virtio's gso_size) and
 *    m->l4_len = the TCP header length (options included). Its checksum is
 *    always partial (TX_TCP_CKSUM set too). IPv6 and UDP segmentation are not
 *    accepted from the kernel (the vtap port does not offer TSO6/UFO/USO), so
 *    no frame carries them.
 *  - Nothing else in ol_flags matters to dpnet: DP_OFFLOAD_MASK below is the
 *    test. An RX burst from any other port type never has those bits (PMDs
 *    report RX offload results in RTE_MBUF_F_RX_*, a different set).
 *
 * Who may pass such a frame on as it is: the ports whose view entry has
 * DP_PORT_OFF_CSUM (partial checksums) / DP_PORT_OFF_TSO4 (segments) in
 * dp_port_view.offloads - the vtap ports. For every other output the
 * dispatcher finishes the frame first (dp_offload_finish): segments it into
 * MSS-sized frames with rte_gso (indirect mbufs sharing the payload), sets
 * each segment's IPv4 total length, id, TCP sequence and flags (rte_gso),
 * recomputes the IPv4 header checksum and the full TCP checksum of each, or,
 * for a partial checksum alone, completes it in place; the result carries no
 * offload bits. Where it happens:
 *  - pl_dispatch, PL_NEXT_TX to a port without the offload: finished there and
 *    the frames sent in order in its place;
 *  - pl_dispatch, PL_NEXT_FLOOD: finished before flooding (each segment is
 *    flooded), unless every port it floods to could take it as it is;
 *  - vxlan encapsulation (vxenc, vxlan_tx, vxlan_flood): finished first, each
 *    resulting frame encapsulated (an overlay's tunnel never carries offloads);
 *  - a punt to control (neigh.h hold queue, host port...) or an ICMP error
 *    about the frame: finished or quoted as it is (the quote needs only the
 *    first bytes, which are valid).
 * Stages that rewrite headers keep the convention true:
 *  - NAT (nat.c): an address in the pseudo-header changes the partial sum with
 *    dp_csum_partial_replace4 (not RFC 1624's complemented rule); a port
 *    change does not touch a partial sum (ports are summed when the checksum
 *    is finished). The IPv4 header checksum is always complete and follows
 *    RFC 1624 as for any frame.
 *  - L3 (route.c, l3_wire_len): the MTU test of a TSO frame is on the
 *    largest segment it will become (l3_len + l4_len + tso_segsz), as
 *    Linux's skb_gso_validate_network_len; a segment that is too big with DF set gets
 *    fragmentation-needed as any frame.
 *  - The parser validates what it can see of an offload frame: the checksum
 *    start must equal the L4 offset it found, the protocol must match the
 *    flag, a TSO frame must be TCP/IPv4 without fragmentation and with
 *    tso_segsz >= 1 (anything else: dropped, DP_DROP_BAD_OFFLOAD). The vtap
 *    driver has already refused what it cannot express (vtap.h).
 */
#ifndef DPNET_OFFLOAD_H
#define DPNET_OFFLOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_mbuf.h>

struct lcore_ctx;

/* The ol_flags bits that mean "unfinished work" (the convention above). */
#define DP_OFFLOAD_MASK (RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG)

/* dp_port_view.offloads: what a port takes as it is. */
#define DP_PORT_OFF_CSUM 0x01   /* partial L4 checksums (TCP/UDP, IPv4/IPv6) */
#define DP_PORT_OFF_TSO4 0x02   /* TCP/IPv4 segments larger than the MTU */

/* The most frames one finished frame becomes: a 64 KB segment with a 536-byte
 * MSS, rounded up. A larger count is dropped (DP_DROP_BAD_OFFLOAD). */
#define DP_GSO_MAX_SEGS 128

static inline bool
dp_offload_pending(const struct rte_mbuf *m)
{
	return (m->ol_flags & DP_OFFLOAD_MASK) != 0;
}

/* The DP_PORT_OFF_* a frame needs from a port to leave as it is. */
static inline uint8_t
dp_offload_needs(const struct rte_mbuf *m)
{
	return (uint8_t)((m->ol_flags & RTE_MBUF_F_TX_TCP_SEG ? DP_PORT_OFF_TSO4 : 0) |
			 (m->ol_flags & RTE_MBUF_F_TX_L4_MASK ? DP_PORT_OFF_CSUM : 0));
}

/*
 * Finish m: out[0..ret) receive the frames to send in its place, in order,
 * each with m's pkt_meta (l3_len updated to its own IPv4 total length) and no
 * offload bits; m itself is consumed (freed or reused as out[0]). max must be
 * at least DP_GSO_MAX_SEGS. Returns the count, or 0 when m could not be
 * finished: it was then freed and counted (DP_DROP_BAD_OFFLOAD for a frame
 * that breaks the convention, DP_DROP_NO_MBUF when the pool ran dry), and the
 * counters of ctx say so. m must not be shared (refcnt 1): finish before
 * flooding. Counts ctx->cnt.gso_frames / gso_segs / csum_completed.
 */
uint16_t dp_offload_finish(struct lcore_ctx *ctx, struct rte_mbuf *m, struct rte_mbuf **out,
			   uint16_t max);

/* Complete a partial checksum in place (no segmentation): 0, or -EINVAL when
 * the offsets are outside the frame. Clears the offload bits on success. */
int dp_csum_complete(struct rte_mbuf *m);

/* A partial (pseudo-header) sum *field after a 32-bit pseudo-header word
 * changes from -> to (network order): uncomplemented one's-complement
 * arithmetic, as Linux's inet_proto_csum_replace4 for CHECKSUM_PARTIAL. */
static inline void
dp_csum_partial_replace4(uint16_t *field, uint32_t from, uint32_t to)
{
	uint32_t s = *field;

	s += (uint16_t)~(from >> 16) + (uint16_t)~(from & 0xffff);
	s += (to >> 16) + (to & 0xffff);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	*field = (uint16_t)s;
}

#endif /* DPNET_OFFLOAD_H */
