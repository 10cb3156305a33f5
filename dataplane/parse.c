/*
 * parse.c - the first stage: one pass over a frame's headers into its metadata.
 *
 * parse_one() reads Ethernet, up to two 802.1Q/802.1ad tags, then ARP, IPv4 or
 * the IPv6 base header, then TCP, UDP or ICMP/ICMPv6, and records in struct
 * pkt_meta what it found: offsets (PKT_OFF_NONE when a header is absent),
 * PKT_F_* flags, the EtherType after the tags, the outer TCI, the L3 protocol
 * field and the length the L3 header claims. Later stages trust these fields
 * and never re-validate, so the parser must never record an offset whose
 * header it has not checked to be complete. parse_one() never writes in_port,
 * out_port or domain; parse_stage() runs it over a burst and, being the first
 * stage, stamps in_port and domain from the context as it goes. In the VTEP's
 * domain (DP_NET_F_VTEP, the uplink's while an overlay exists) parse_stage
 * also recognises VXLAN for our VTEP and sends it to vxdec instead of the
 * bridge (vxlan.h) - or, for a frame of the fast path received in the
 * uplink's domain, does vxdec's work on it right there (vxlan_dec_frame,
 * vxlan_private.h), so that the inner frame leaves parse bound for the
 * bridge; that test runs in a loop of its own, picked once per burst, so
 * other ports' frames pay nothing for it.
 *
 * Policy. dpnet is an L2 switch, but it also terminates ARP and will rewrite
 * IP (NAT, conntrack, VXLAN), so it protects its own stages: a frame whose L2
 * is fine but whose ARP, IPv4, IPv6, TCP, UDP or ICMP header is inconsistent is
 * dropped and counted as DP_DROP_MALFORMED rather than bridged, and so is a
 * frame shorter than an Ethernet header. Consistent means: the header is
 * complete, its own length fields are sane, and every length it claims fits in
 * the frame (IPv4 total length, IPv6 payload length, TCP data offset, UDP
 * length). Trailing bytes beyond the IP length are Ethernet padding and fine.
 * What the parser does not know is not malformed: an unknown EtherType (or an
 * 802.3 length field), an unknown IP protocol, or IPv6 extension headers are
 * bridged with the deeper offsets left at PKT_OFF_NONE. Specific choices:
 *  - l3_off is set only for ARP, IPv4 and IPv6; for any other EtherType it is
 *    PKT_OFF_NONE and ether_type says what follows the tags.
 *  - l4_proto is the protocol field of the L3 header (IPv4 protocol, IPv6 next
 *    header) even when the L4 header is not parsed; stages test PKT_F_TCP etc.
 *    or l4_off, never l4_proto alone.
 *  - A third VLAN tag is malformed: no legitimate peer of ours sends one, and
 *    bridging it unparsed would carry IP past the IP stages.
 *  - Only Ethernet/IPv4 ARP (htype 1, ptype 0x0800, hlen 6, plen 4) is ARP;
 *    any other frame with the ARP EtherType is malformed.
 *  - IPv4 fragments get PKT_F_FRAG. A first fragment's L4 header is parsed and
 *    must be complete inside the fragment (RFC 1858 tiny fragments are
 *    malformed); its UDP length covers the whole datagram, so only the lower
 *    bound is checked. Later fragments carry no L4 header: l4_off stays NONE.
 *  - Checksums are not verified here: a switch forwards what it is given, and
 *    NIC offloads or the stage that terminates a packet check them.
 *  - IPv6 payload lengths that would make l3_len overflow 16 bits (only
 *    possible with giant chained mbufs, never on an Ethernet wire) are
 *    malformed.
 *  - VLAN stripping offload is not used by dpnet's ports; tags are read from
 *    the frame itself.
 *
 * Multi-segment mbufs. Every stage addresses headers as rte_pktmbuf_mtod() +
 * offset, so the headers must be contiguous in the first segment; the parser
 * reads nothing beyond rte_pktmbuf_data_len() of the first segment. Lengths
 * that headers claim are checked against rte_pktmbuf_pkt_len(), so a payload
 * in later segments is fine. A frame whose headers cross into a second segment
 * is dropped as malformed: none of our ports produces one (their mbufs hold a
 * whole MTU-sized frame), and copying headers out with rte_pktmbuf_read()
 * would give offsets no later stage could use.
 *
 * Offload frames (offload.h). A vtap port's frames may carry a partial L4
 * checksum or a large TCP segment, described by ol_flags, l2_len, l3_len,
 * l4_len and tso_segsz. parse_stage ORs every frame's ol_flags as it goes (the
 * mbuf's first line, which it reads anyway) and, only when the burst has such
 * a frame, checks each of those against what the parse found
 * (parse_offload_ok) and tells the dispatcher (ctx->rx_offload); a frame that
 * breaks the convention is dropped as DP_DROP_BAD_OFFLOAD, so later stages
 * and dp_offload_finish may trust the offsets.
 *
 * Thread safety: pure function of the mbuf; each mbuf is owned by one worker.
 * The mbufs stay owned by the caller: nothing is freed or sent here.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

#include <rte_arp.h>
#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "counters.h"
#include "fdb.h"
#include "offload.h"
#include "pipeline.h"
#include "pkt.h"
#include "vxlan_private.h"

/* Tags we step over; the bound keeps the loop short and refuses tag stacking. */
#define PARSE_MAX_VLAN 2

/* Minimum ICMP/ICMPv6 header: type, code, checksum and the 4-byte rest. */
#define PARSE_ICMP_HDR_LEN 8

static __rte_always_inline bool
parse_is_vlan(rte_be16_t et)
{
	return et == RTE_BE16(RTE_ETHER_TYPE_VLAN) || et == RTE_BE16(RTE_ETHER_TYPE_QINQ);
}

/*
 * Validate the L4 header at off and return its flag, 0 when the protocol is
 * not one we parse, or -EINVAL. plen is the L3 payload the L3 header claims
 * (already checked to fit in the frame); seg_len bounds what may be read.
 * first_frag: the UDP length then describes the whole datagram, not this
 * fragment, so it cannot be compared with plen.
 */
static __rte_always_inline int
parse_l4(const uint8_t *p, uint32_t seg_len, uint32_t off, uint32_t plen,
	 uint8_t proto, uint8_t icmp_proto, bool first_frag)
{
	if (likely(proto == IPPROTO_TCP)) {
		const struct rte_tcp_hdr *th;
		uint32_t hlen;

		if (unlikely(plen < sizeof(*th) || off + sizeof(*th) > seg_len))
			return -EINVAL;
		th = (const struct rte_tcp_hdr *)(p + off);
		hlen = (uint32_t)(th->data_off >> 4) * 4;
		if (unlikely(hlen < sizeof(*th) || hlen > plen || off + hlen > seg_len))
			return -EINVAL;
		return PKT_F_TCP;
	}
	if (likely(proto == IPPROTO_UDP)) {
		const struct rte_udp_hdr *uh;
		uint32_t ulen;

		if (unlikely(plen < sizeof(*uh) || off + sizeof(*uh) > seg_len))
			return -EINVAL;
		uh = (const struct rte_udp_hdr *)(p + off);
		ulen = rte_be_to_cpu_16(uh->dgram_len);
		if (unlikely(ulen < sizeof(*uh) || (ulen > plen && !first_frag)))
			return -EINVAL;
		return PKT_F_UDP;
	}
	if (proto == icmp_proto) {
		if (unlikely(plen < PARSE_ICMP_HDR_LEN || off + PARSE_ICMP_HDR_LEN > seg_len))
			return -EINVAL;
		return PKT_F_ICMP;
	}
	return 0;
}

/*
 * The fast path: the common frame, an untagged IPv4 frame to a unicast MAC with
 * a 20-byte header (IHL 5), not a fragment, carrying TCP, UDP or ICMP whose
 * header is complete, with every length consistent. It reads a few fields at
 * fixed offsets and, when the frame is of that kind, stores exactly the
 * metadata that parse_generic() would (the unit test "fast path equals the
 * generic parse" and the parse fuzz target compare the two) and returns its
 * L4 flag (PKT_F_TCP, _UDP or _ICMP); for any other frame it stores nothing
 * and returns 0, and the generic
 * parse decides, with every drop reason as before. Each condition below is
 * one the generic parse checks on this path; together they make it accept
 * the frame with these fields.
 */
static __rte_always_inline uint16_t
parse_fast(const uint8_t *p, uint32_t seg_len, uint32_t frame_len, struct pkt_meta *meta)
{
	const struct rte_ether_hdr *eh = (const struct rte_ether_hdr *)p;
	const struct rte_ipv4_hdr *ih = (const struct rte_ipv4_hdr *)(p + sizeof(*eh));
	const uint32_t l4 = sizeof(*eh) + sizeof(*ih);
	uint32_t tot, plen;
	uint16_t fl;

	/* Ethernet, IPv4 and 8 bytes: the least any of the three L4 headers needs. */
	if (unlikely(seg_len < l4 + PARSE_ICMP_HDR_LEN))
		return 0;
	if (unlikely(eh->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
		     ih->version_ihl != RTE_IPV4_VHL_DEF || (p[0] & 1) != 0 ||
		     (ih->fragment_offset &
		      RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0))
		return 0;
	tot = rte_be_to_cpu_16(ih->total_length);
	/* frame_len >= seg_len >= 42: no wrap. tot >= 28 leaves 8 bytes of L4. */
	if (unlikely(tot > frame_len - sizeof(*eh) || tot < sizeof(*ih) + PARSE_ICMP_HDR_LEN))
		return 0;
	plen = tot - sizeof(*ih);
	if (likely(ih->next_proto_id == IPPROTO_TCP)) {
		uint32_t hlen;

		if (unlikely(seg_len < l4 + sizeof(struct rte_tcp_hdr)))
			return 0;
		hlen = (uint32_t)(((const struct rte_tcp_hdr *)(p + l4))->data_off >> 4) * 4;
		if (unlikely(hlen < sizeof(struct rte_tcp_hdr) || hlen > plen ||
			     l4 + hlen > seg_len))
			return 0;
		fl = PKT_F_TCP;
	} else if (likely(ih->next_proto_id == IPPROTO_UDP)) {
		uint32_t ulen = rte_be_to_cpu_16(((const struct rte_udp_hdr *)(p + l4))->dgram_len);

		if (unlikely(ulen < sizeof(struct rte_udp_hdr) || ulen > plen))
			return 0;
		fl = PKT_F_UDP;
	} else if (ih->next_proto_id == IPPROTO_ICMP) {
		fl = PKT_F_ICMP;
	} else {
		return 0;
	}
	meta->flags = PKT_F_IPV4 | fl;
	meta->l3_off = sizeof(*eh);
	meta->l4_off = (uint16_t)l4;
	meta->l3_len = (uint16_t)tot;
	meta->vlan_tci = 0;
	meta->ether_type = RTE_ETHER_TYPE_IPV4;
	meta->l4_proto = ih->next_proto_id;
	meta->next = PL_NEXT_BRIDGE;
	meta->drop_reason = 0;
	return fl;
}

/*
 * The generic parser. Every field is kept in a local and stored once at the end,
 * on both outcomes, so that a dropped frame still shows (for capture and
 * tracing) how far it got, and no offset is stored before it is validated.
 */
static __rte_noinline int
parse_generic(const uint8_t *p, uint32_t seg_len, uint32_t frame_len, struct pkt_meta *meta)
{
	const struct rte_ether_hdr *eh;
	uint16_t flags = 0;
	uint16_t l3_off = PKT_OFF_NONE;
	uint16_t l4_off = PKT_OFF_NONE;
	uint16_t l3_len = 0;
	uint16_t vlan_tci = 0;
	uint8_t l4_proto = 0;
	rte_be16_t et = 0;
	uint32_t off;
	int ret;
	int rc;

	if (unlikely(seg_len < sizeof(*eh)))
		goto malformed;
	eh = (const struct rte_ether_hdr *)p;
	if (unlikely(rte_is_multicast_ether_addr(&eh->dst_addr))) {
		flags |= PKT_F_L2_MCAST;
		if (rte_is_broadcast_ether_addr(&eh->dst_addr))
			flags |= PKT_F_L2_BCAST;
	}
	et = eh->ether_type;
	off = sizeof(*eh);

	if (unlikely(parse_is_vlan(et))) {
		const struct rte_vlan_hdr *vh;
		unsigned int tags;

		flags |= PKT_F_VLAN;
		for (tags = 0; parse_is_vlan(et); tags++) {
			if (unlikely(tags == PARSE_MAX_VLAN || off + sizeof(*vh) > seg_len))
				goto malformed;
			vh = (const struct rte_vlan_hdr *)(p + off);
			if (tags == 0)
				vlan_tci = rte_be_to_cpu_16(vh->vlan_tci);
			et = vh->eth_proto;
			off += sizeof(*vh);
		}
	}

	if (likely(et == RTE_BE16(RTE_ETHER_TYPE_IPV4))) {
		const struct rte_ipv4_hdr *ih;
		uint32_t hlen, tot;
		rte_be16_t frag;
		bool first_frag = false;

		if (unlikely(off + sizeof(*ih) > seg_len))
			goto malformed;
		ih = (const struct rte_ipv4_hdr *)(p + off);
		hlen = (uint32_t)(ih->version_ihl & RTE_IPV4_HDR_IHL_MASK) * 4;
		tot = rte_be_to_cpu_16(ih->total_length);
		if (unlikely((ih->version_ihl >> 4) != 4 || hlen < sizeof(*ih) ||
			     off + hlen > seg_len || tot < hlen || tot > frame_len - off))
			goto malformed;
		flags |= PKT_F_IPV4;
		if (unlikely(hlen > sizeof(*ih)))
			flags |= PKT_F_IP_OPTS;
		l3_off = (uint16_t)off;
		l3_len = (uint16_t)tot;
		l4_proto = ih->next_proto_id;

		frag = ih->fragment_offset &
			RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK);
		if (unlikely(frag != 0)) {
			flags |= PKT_F_FRAG;
			/* Later fragments start inside the L4 payload: nothing to parse. */
			if (frag & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK))
				goto done;
			first_frag = true;
		}
		ret = parse_l4(p, seg_len, off + hlen, tot - hlen, l4_proto, IPPROTO_ICMP,
			       first_frag);
		if (unlikely(ret < 0))
			goto malformed;
		if (likely(ret != 0)) {
			flags |= (uint16_t)ret;
			l4_off = (uint16_t)(off + hlen);
		}
	} else if (et == RTE_BE16(RTE_ETHER_TYPE_IPV6)) {
		const struct rte_ipv6_hdr *ih;
		uint32_t plen;

		if (unlikely(off + sizeof(*ih) > seg_len))
			goto malformed;
		ih = (const struct rte_ipv6_hdr *)(p + off);
		plen = rte_be_to_cpu_16(ih->payload_len);
		/* The version is the top nibble of the first byte of vtc_flow. */
		if (unlikely((p[off] >> 4) != 6 || plen > frame_len - off - sizeof(*ih) ||
			     plen > UINT16_MAX - sizeof(*ih)))
			goto malformed;
		flags |= PKT_F_IPV6;
		l3_off = (uint16_t)off;
		l3_len = (uint16_t)(sizeof(*ih) + plen);
		l4_proto = ih->proto;
		/* Extension headers and unknown protocols give 0: l4_off stays NONE. */
		ret = parse_l4(p, seg_len, off + sizeof(*ih), plen, l4_proto, IPPROTO_ICMPV6,
			       false);
		if (unlikely(ret < 0))
			goto malformed;
		if (likely(ret != 0)) {
			flags |= (uint16_t)ret;
			l4_off = (uint16_t)(off + sizeof(*ih));
		}
	} else if (et == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
		const struct rte_arp_hdr *ah;

		if (unlikely(off + sizeof(*ah) > seg_len))
			goto malformed;
		ah = (const struct rte_arp_hdr *)(p + off);
		if (unlikely(ah->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
			     ah->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
			     ah->arp_hlen != RTE_ETHER_ADDR_LEN || ah->arp_plen != 4))
			goto malformed;
		flags |= PKT_F_ARP;
		l3_off = (uint16_t)off;
		l3_len = sizeof(*ah);
	}
	/* Any other EtherType: bridged as is, with no L3 offset. */

done:
	meta->next = PL_NEXT_BRIDGE;
	meta->drop_reason = 0;
	rc = 0;
	goto store;

malformed:
	meta->next = PL_NEXT_DROP;
	meta->drop_reason = DP_DROP_MALFORMED;
	rc = -EINVAL;
store:
	meta->flags = flags;
	meta->l3_off = l3_off;
	meta->l4_off = l4_off;
	meta->l3_len = l3_len;
	meta->vlan_tci = vlan_tci;
	meta->ether_type = rte_be_to_cpu_16(et);
	meta->l4_proto = l4_proto;
	return rc;
}

/* The fast path, else the generic parse. */
static __rte_always_inline int
parse_mbuf(struct rte_mbuf *m, struct pkt_meta *meta)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	const uint32_t frame_len = rte_pktmbuf_pkt_len(m);
	/* A first segment longer than the frame would be a broken mbuf; never trust more
	 * bytes than the frame has. */
	const uint32_t seg_len = RTE_MIN((uint32_t)rte_pktmbuf_data_len(m), frame_len);

	if (likely(parse_fast(p, seg_len, frame_len, meta) != 0))
		return 0;
	return parse_generic(p, seg_len, frame_len, meta);
}

int
parse_one(struct rte_mbuf *m)
{
	return parse_mbuf(m, pkt_meta(m));
}

int
parse_one_generic(struct rte_mbuf *m)
{
	const uint32_t frame_len = rte_pktmbuf_pkt_len(m);

	return parse_generic(rte_pktmbuf_mtod(m, const uint8_t *),
			     RTE_MIN((uint32_t)rte_pktmbuf_data_len(m), frame_len), frame_len,
			     pkt_meta(m));
}

/*
 * Does an offload frame agree with its parse (offload.h)? The checksum starts
 * at the L4 header the parser found (l2_len is its L3 offset, l2_len + l3_len
 * its L4 offset), the checksum flag names the protocol found and the IP flag
 * the IP version. No fragment: a partial checksum covers the whole datagram,
 * which a fragment does not hold. A large segment is TCP/IPv4 with tso_segsz
 * >= 1, an l4_len that is the TCP header's length, and becomes at most
 * DP_GSO_MAX_SEGS frames (a longer cut is refused here rather than after NAT
 * and routing did their work).
 */
static bool
parse_offload_ok(const struct rte_mbuf *m, const struct pkt_meta *meta)
{
	const uint64_t f = m->ol_flags;
	const uint64_t l4f = f & RTE_MBUF_F_TX_L4_MASK;
	const uint64_t ipf = f & (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IPV6);
	uint32_t hlen, payload;

	if (meta->l4_off == PKT_OFF_NONE || meta->flags & PKT_F_FRAG ||
	    m->l2_len != meta->l3_off || (uint32_t)m->l2_len + m->l3_len != meta->l4_off)
		return false;
	if (!(l4f == RTE_MBUF_F_TX_TCP_CKSUM && meta->flags & PKT_F_TCP) &&
	    !(l4f == RTE_MBUF_F_TX_UDP_CKSUM && meta->flags & PKT_F_UDP))
		return false;
	if (!(ipf == RTE_MBUF_F_TX_IPV4 && meta->flags & PKT_F_IPV4) &&
	    !(ipf == RTE_MBUF_F_TX_IPV6 && meta->flags & PKT_F_IPV6))
		return false;
	if (!(f & RTE_MBUF_F_TX_TCP_SEG))
		return true;
	if (ipf != RTE_MBUF_F_TX_IPV4 || l4f != RTE_MBUF_F_TX_TCP_CKSUM || m->tso_segsz == 0)
		return false;
	/* The parser checked the TCP header is complete in the first segment. */
	hlen = (uint32_t)(rte_pktmbuf_mtod_offset(m, const struct rte_tcp_hdr *,
						  meta->l4_off)->data_off >> 4) * 4;
	if (hlen != m->l4_len || (uint32_t)m->l3_len + hlen > meta->l3_len)
		return false;  /* (parse_l4 refuses that too; not relied on here) */
	payload = (uint32_t)meta->l3_len - m->l3_len - hlen;
	return (payload + m->tso_segsz - 1) / m->tso_segsz <= DP_GSO_MAX_SEGS;
}

/* The burst has offload frames: check each against its parse. */
static __rte_noinline void
parse_offload_burst(struct rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++) {
		struct pkt_meta *meta = pkt_meta(pkts[i]);

		if (!dp_offload_pending(pkts[i]) || meta->next == PL_NEXT_DROP)
			continue;
		if (!parse_offload_ok(pkts[i], meta)) {
			meta->next = PL_NEXT_DROP;
			meta->drop_reason = DP_DROP_BAD_OFFLOAD;
		}
	}
}

/*
 * Is this parsed frame VXLAN for our VTEP (vxlan.h), to be decapsulated before
 * it is bridged? Untagged, unfragmented IPv4 UDP to the VXLAN port and the VTEP
 * address, sent to the VTEP domain's gateway MAC from a unicast source that is
 * not that MAC (any other source is the bridge's to drop as bad-src-mac).
 * gw48 is the gateway MAC as fdb_key_hdr() reads it (domain 0). The caller
 * checked the flags; l3_off and l4_off are the frame's (constants on the
 * fast path).
 */
static __rte_always_inline bool
parse_is_vxlan(const uint8_t *p, uint32_t l3_off, uint32_t l4_off, uint64_t gw48,
	       rte_be32_t vtep_ip, rte_be16_t udp_port)
{
	uint64_t src48;

	if (fdb_key_hdr(0, p) != gw48 ||
	    ((const struct rte_udp_hdr *)(p + l4_off))->dst_port != udp_port ||
	    ((const struct rte_ipv4_hdr *)(p + l3_off))->dst_addr != vtep_ip)
		return false;
	src48 = fdb_key_hdr(0, p + RTE_ETHER_ADDR_LEN);
	return !(src48 & FDB_KEY_MCAST) && src48 != 0 && src48 != gw48;
}

/*
 * One frame of the VTEP's domain: parsed, and sent to vxdec when it is VXLAN
 * for us. The common outer frame (untagged IPv4, IHL 5, UDP) takes the fast
 * path and is recognised from fixed offsets; any other goes through the
 * generic parse and the same test on the offsets it found.
 */
static __rte_always_inline void
parse_vtep_one(struct rte_mbuf *m, struct pkt_meta *meta, bool vtep_up, uint64_t gw48,
	       rte_be32_t vtep_ip, rte_be16_t udp_port, struct vxlan_dec *dec)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	const uint32_t frame_len = rte_pktmbuf_pkt_len(m);
	const uint32_t seg_len = RTE_MIN((uint32_t)rte_pktmbuf_data_len(m), frame_len);
	uint16_t fl = parse_fast(p, seg_len, frame_len, meta);

	if (likely(fl == PKT_F_UDP)) {
		if (likely(vtep_up) &&
		    parse_is_vxlan(p, RTE_ETHER_HDR_LEN,
				   RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr), gw48, vtep_ip,
				   udp_port)) {
			/* vxdec's work, here while the frame is hot (vxlan.h). */
			if (likely(dec != NULL))
				vxlan_dec_frame(dec, m, meta, RTE_ETHER_HDR_LEN,
						RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr),
						meta->l3_len);
			else
				meta->next = PL_NEXT_VXDEC;
		}
		return;
	}
	if (fl != 0 || parse_generic(p, seg_len, frame_len, meta) != 0 || !vtep_up)
		return;
	if ((meta->flags & (PKT_F_IPV4 | PKT_F_UDP | PKT_F_VLAN | PKT_F_FRAG | PKT_F_L2_MCAST)) ==
	    (PKT_F_IPV4 | PKT_F_UDP) &&
	    parse_is_vxlan(p, meta->l3_off, meta->l4_off, gw48, vtep_ip, udp_port))
		meta->next = PL_NEXT_VXDEC;
}

/*
 * parse_stage's loop for the VTEP's domain (the uplink's): VXLAN for us is
 * decapsulated here or goes to vxdec. A function of its own, so that the
 * other ports' loop in parse_stage keeps its frame and registers.
 */
static __rte_noinline uint64_t
parse_vtep_burst(struct lcore_ctx *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	uint64_t of = 0;
	uint16_t i;
	const struct dp_net_view *net = &ctx->view->nets[ctx->rx_domain];
	struct vxlan_params vp;
	struct vxlan_dec d, *dec = NULL;
	uint16_t up;
	uint64_t gw48 = fdb_key(0, &net->gw_mac);
	rte_be32_t vtep_ip = rte_cpu_to_be_32(net->gw_ip);
	rte_be16_t udp_port;

	vxlan_params_unpack(__atomic_load_n(&ctx->dp->vxlan_params, __ATOMIC_RELAXED),
			    &vp);
	udp_port = rte_cpu_to_be_16(vp.udp_port);
	/* Frames that are ours from the fast path are decapsulated in this
	 * loop when this is the uplink's domain - what vxdec would check
	 * (vxlan.h) with the same parameters; the others go to vxdec. */
	up = ctx->view->uplink_port;
	if (net->gw_ip != 0 && up < RTE_MAX_ETHPORTS &&
	    ctx->view->ports[up].domain == ctx->rx_domain) {
		dec = &d;
		vxlan_dec_begin(dec, ctx);
	}
	for (i = 0; i < n; i++) {
		struct pkt_meta *meta = pkt_meta(pkts[i]);

		/* The next frame's first line, and its second (inner headers). */
		if (likely(i + 1 < n)) {
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
			rte_prefetch0(rte_pktmbuf_mtod_offset(pkts[i + 1], uint8_t *,
							      RTE_CACHE_LINE_SIZE));
		}
		meta->in_port = ctx->rx_port;
		meta->domain = ctx->rx_domain;
		ctx->cnt.ports[ctx->rx_port].rx_bytes += rte_pktmbuf_pkt_len(pkts[i]);
		of |= pkts[i]->ol_flags;
		parse_vtep_one(pkts[i], meta, net->gw_ip != 0, gw48, vtep_ip, udp_port, dec);
	}
	if (dec != NULL)
		vxlan_dec_end(dec, ctx);
	return of;
}

uint16_t
parse_stage(struct lcore_ctx *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	/* Every frame's ol_flags, ORed: one test per burst for offload frames. */
	uint64_t of = 0;
	uint16_t i;

	/*
	 * This is the first pass over the burst's metadata, so it also stamps the
	 * ingress port and domain (pl_run put them in ctx) and counts the bytes:
	 * one pass instead of two. Tests may call it without a context.
	 */
	if (ctx == NULL) {
		for (i = 0; i < n; i++) {
			of |= pkts[i]->ol_flags;
			parse_mbuf(pkts[i], pkt_meta(pkts[i]));
		}
		if (of & DP_OFFLOAD_MASK)
			parse_offload_burst(pkts, n);
		return n;
	}
	if (unlikely(ctx->rx_vtep)) {
		of = parse_vtep_burst(ctx, pkts, n);
		goto offload;
	}
	for (i = 0; i < n; i++) {
		struct pkt_meta *meta = pkt_meta(pkts[i]);

		/* The frame of i + 1 is usually cold (written by the NIC): start the load now. */
		if (likely(i + 1 < n))
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		meta->in_port = ctx->rx_port;
		meta->domain = ctx->rx_domain;
		ctx->cnt.ports[ctx->rx_port].rx_bytes += rte_pktmbuf_pkt_len(pkts[i]);
		of |= pkts[i]->ol_flags;
		parse_mbuf(pkts[i], meta);
	}
offload:
	ctx->rx_offload = (of & DP_OFFLOAD_MASK) != 0;
	if (unlikely(ctx->rx_offload))
		parse_offload_burst(pkts, n);
	return n;
}
