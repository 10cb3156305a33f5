/*
 * offload.c - finishing the frames that carry unfinished work (offload.h):
 * large TCP/IPv4 segments cut into MSS-sized frames with DPDK's GSO library,
 * and partial checksums completed in place.
 *
 * Segmentation is rte_gso_segment(): each output frame is a direct mbuf of the
 * data plane's pool holding a copy of the headers (with the pool's full
 * headroom, so VXLAN can prepend its outer headers) chained to an indirect
 * mbuf that points into the original's payload - no payload is copied. rte_gso
 * sets each segment's IPv4 total length, an incrementing IP id, the TCP
 * sequence number and clears FIN/PSH but on the last; it computes no
 * checksum, so this file recomputes the IPv4 header checksum and the full TCP
 * checksum of each over the two-mbuf chain (dp_raw_cksum_mbuf: DPDK 22.11's
 * rte_raw_cksum_mbuf is wrong for segments at odd offsets).
 *
 * The output frames are therefore chains. Every port type dpnet uses
 * transmits chains as they are (DPDK 22.11: net_tap writes them with one
 * writev, net_af_packet, net_pcap and net_vhost copy segment by segment,
 * net_ring hands the pointer on and vtap writes the segments with writev,
 * net_null frees); the stages after the dispatcher that write (VXLAN
 * encapsulation) touch only the first mbuf's headroom and headers.
 *
 * Thread safety: called by the worker that owns the mbuf; the GSO context is
 * built on the stack per call (a few words), so nothing is shared.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_gso.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "cksum.h"
#include "counters.h"
#include "dp.h"
#include "offload.h"
#include "pkt.h"

/* The TX bits that describe a frame's unfinished work and its layout; none
 * of them may reach a PMD, which might act on them (net_tap recomputes an
 * IPv4 checksum when it sees RTE_MBUF_F_TX_IPV4 with its checksum offload). */
#define DP_OFFLOAD_CLEAR (DP_OFFLOAD_MASK | RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IPV6 | \
			  RTE_MBUF_F_TX_IP_CKSUM)

/*
 * The folded one's-complement sum of len bytes of m from off, across its
 * segments: rte_raw_cksum_mbuf's job, which DPDK 22.11 gets wrong when a
 * segment starts at an odd distance from off (it byte-swaps the 32-bit
 * unreduced sum of the segment truncated to 16 bits, losing its carries).
 * Each segment's part is summed and folded by rte_raw_cksum, then swapped
 * when it starts at an odd position (RFC 1071: byte order independence).
 * -EINVAL when the range is outside the frame.
 */
static int
dp_raw_cksum_mbuf(const struct rte_mbuf *m, uint32_t off, uint32_t len, uint16_t *cksum)
{
	const struct rte_mbuf *seg = m;
	uint32_t sum = 0, done = 0;

	if (off + len > rte_pktmbuf_pkt_len(m) || off + len < off)
		return -EINVAL;
	while (seg != NULL && off >= rte_pktmbuf_data_len(seg)) {
		off -= rte_pktmbuf_data_len(seg);
		seg = seg->next;
	}
	while (done < len) {
		uint32_t n;
		uint16_t s;

		if (seg == NULL)
			return -EINVAL;     /* pkt_len said more than the segments hold */
		n = RTE_MIN((uint32_t)rte_pktmbuf_data_len(seg) - off, len - done);
		s = rte_raw_cksum(rte_pktmbuf_mtod_offset(seg, const uint8_t *, off), n);
		sum += done & 1 ? rte_bswap16(s) : s;
		done += n;
		off = 0;
		seg = seg->next;
	}
	*cksum = cksum_fold(sum);
	return 0;
}

int
dp_csum_complete(struct rte_mbuf *m)
{
	const uint64_t l4f = m->ol_flags & RTE_MBUF_F_TX_L4_MASK;
	const uint32_t seg_len = RTE_MIN(rte_pktmbuf_data_len(m), rte_pktmbuf_pkt_len(m));
	const uint32_t start = (uint32_t)m->l2_len + m->l3_len;
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t field, end;
	uint16_t sum, ck;

	if (l4f == RTE_MBUF_F_TX_TCP_CKSUM)
		field = start + offsetof(struct rte_tcp_hdr, cksum);
	else if (l4f == RTE_MBUF_F_TX_UDP_CKSUM)
		field = start + offsetof(struct rte_udp_hdr, dgram_cksum);
	else
		return -EINVAL;
	/* Where the L4 data ends: what the IP header says, never the frame's
	 * end (Ethernet padding is not summed). */
	if (m->ol_flags & RTE_MBUF_F_TX_IPV4) {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(p + m->l2_len);

		if ((uint32_t)m->l2_len + sizeof(*ip) > seg_len)
			return -EINVAL;
		end = (uint32_t)m->l2_len + rte_be_to_cpu_16(ip->total_length);
	} else if (m->ol_flags & RTE_MBUF_F_TX_IPV6) {
		const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)(p + m->l2_len);

		if ((uint32_t)m->l2_len + sizeof(*ip) > seg_len)
			return -EINVAL;
		end = (uint32_t)m->l2_len + sizeof(*ip) + rte_be_to_cpu_16(ip->payload_len);
	} else {
		return -EINVAL;
	}
	/* The field must be in the first segment (we write it there) and inside
	 * the summed range. */
	if (field + 2 > seg_len || end < field + 2 || end > rte_pktmbuf_pkt_len(m))
		return -EINVAL;
	/* The field holds the pseudo-header sum: summing over it adds it in. */
	if (dp_raw_cksum_mbuf(m, start, end - start, &sum) != 0)
		return -EINVAL;
	ck = (uint16_t)~sum;
	/* RFC 768: a computed 0 is sent as all ones (0 means "no checksum"). */
	if (ck == 0 && l4f == RTE_MBUF_F_TX_UDP_CKSUM)
		ck = 0xFFFF;
	memcpy(rte_pktmbuf_mtod(m, uint8_t *) + field, &ck, sizeof(ck));
	m->ol_flags &= ~DP_OFFLOAD_CLEAR;
	return 0;
}

/* Freed and counted: the frame could not be finished. */
static uint16_t
dp_offload_drop(struct lcore_ctx *ctx, struct rte_mbuf *m, enum dp_drop reason)
{
	uint16_t in = pkt_meta(m)->in_port;

	ctx->cnt.drops[reason]++;
	ctx->cnt.ports[in < RTE_MAX_ETHPORTS ? in : 0].drops++;
	rte_pktmbuf_free(m);
	return 0;
}

/* Give one segment rte_gso made its checksums, metadata and flags. */
static void
dp_gso_fix(struct rte_mbuf *s, const struct pkt_meta *meta, uint32_t l2, uint32_t l4_off)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(s, struct rte_ipv4_hdr *, l2);
	struct rte_tcp_hdr *th = rte_pktmbuf_mtod_offset(s, struct rte_tcp_hdr *, l4_off);
	struct pkt_meta *sm = pkt_meta(s);
	uint32_t l4_len = rte_be_to_cpu_16(ip->total_length) - (l4_off - l2);
	uint32_t sum;
	uint16_t raw = 0;

	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	/* rte_ipv4_udptcp_cksum_mbuf's work, with the mbuf walk above. The
	 * segment's lengths are rte_gso's, so the range is inside it. */
	th->cksum = 0;
	dp_raw_cksum_mbuf(s, l4_off, l4_len, &raw);
	sum = (uint32_t)raw + rte_ipv4_phdr_cksum(ip, 0);
	th->cksum = (rte_be16_t)~cksum_fold(sum);
	s->ol_flags &= ~DP_OFFLOAD_CLEAR;
	*sm = *meta;
	sm->l3_len = rte_be_to_cpu_16(ip->total_length);
}

uint16_t
dp_offload_finish(struct lcore_ctx *ctx, struct rte_mbuf *m, struct rte_mbuf **out, uint16_t max)
{
	const uint64_t f = m->ol_flags;
	const uint32_t l2 = m->l2_len, l4_off = l2 + m->l3_len, hdr = l4_off + m->l4_len;
	const uint32_t mss = m->tso_segsz;
	struct rte_gso_ctx gso;
	struct pkt_meta meta;
	uint32_t tot, payload;
	int ret;

	if (likely(!(f & RTE_MBUF_F_TX_TCP_SEG))) {
		if (unlikely(dp_csum_complete(m) != 0))
			return dp_offload_drop(ctx, m, DP_DROP_BAD_OFFLOAD);
		ctx->cnt.csum_completed++;
		out[0] = m;
		return 1;
	}
	/* A large segment: TCP/IPv4 with a partial checksum, headers in the
	 * first mbuf, and (rte_gso cuts the frame to its end) no bytes after the
	 * IPv4 datagram. */
	if ((f & (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_L4_MASK)) !=
	    (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM) || mss == 0 ||
	    m->l3_len < sizeof(struct rte_ipv4_hdr) || m->l4_len < sizeof(struct rte_tcp_hdr) ||
	    hdr > rte_pktmbuf_data_len(m) || rte_mbuf_refcnt_read(m) != 1)
		return dp_offload_drop(ctx, m, DP_DROP_BAD_OFFLOAD);
	tot = rte_be_to_cpu_16(rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, l2)->total_length);
	if (l2 + tot != rte_pktmbuf_pkt_len(m) || tot < hdr - l2)
		return dp_offload_drop(ctx, m, DP_DROP_BAD_OFFLOAD);
	payload = tot - (hdr - l2);
	/* One segment or none: the checksum alone. */
	if (payload <= mss) {
		m->ol_flags &= ~RTE_MBUF_F_TX_TCP_SEG;
		return dp_offload_finish(ctx, m, out, max);
	}
	if ((payload + mss - 1) / mss > (uint32_t)RTE_MIN(max, DP_GSO_MAX_SEGS) ||
	    hdr + mss > UINT16_MAX)
		return dp_offload_drop(ctx, m, DP_DROP_BAD_OFFLOAD);
	/* rte_gso gives each header mbuf it allocates the input's ol_flags,
	 * RTE_MBUF_F_INDIRECT and _EXTERNAL included, which would make those
	 * direct mbufs release a buffer they do not hold when freed: a frame
	 * that is not itself direct (a clone, or the fuzz harness's; a vtap's
	 * frames are direct) is segmented from a copy. */
	if (unlikely(!RTE_MBUF_DIRECT(m))) {
		struct rte_mbuf *c = rte_pktmbuf_copy(m, ctx->dp->pool, 0, UINT32_MAX);

		if (c == NULL)
			return dp_offload_drop(ctx, m, DP_DROP_NO_MBUF);
		*pkt_meta(c) = *pkt_meta(m);
		rte_pktmbuf_free(m);
		m = c;
	}
	gso.direct_pool = ctx->dp->pool;
	gso.indirect_pool = ctx->dp->pool;
	gso.flag = 0;                               /* incrementing IP ids, as Linux */
	gso.gso_types = RTE_ETH_TX_OFFLOAD_TCP_TSO;
	gso.gso_size = (uint16_t)(hdr + mss);
	meta = *pkt_meta(m);
	ret = rte_gso_segment(m, &gso, out, RTE_MIN(max, DP_GSO_MAX_SEGS));
	if (unlikely(ret <= 0))
		/* 0: rte_gso did not cut it (it refuses what it cannot parse). */
		return dp_offload_drop(ctx, m, ret == -ENOMEM ? DP_DROP_NO_MBUF :
				       DP_DROP_BAD_OFFLOAD);
	/* The segments hold the payload through their indirect mbufs. */
	rte_pktmbuf_free(m);
	for (int i = 0; i < ret; i++)
		dp_gso_fix(out[i], &meta, l2, l4_off);
	ctx->cnt.gso_frames++;
	ctx->cnt.gso_segs += (uint64_t)ret;
	return (uint16_t)ret;
}
