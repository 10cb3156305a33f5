/*
 * icmp.c - the ICMP messages the gateway sends: echo replies to pings of a
 * gateway address, and the errors of a router (destination unreachable, time
 * exceeded). Helpers of the L3 stage (route.c), not a stage of their own.
 *
 * Both are built in place, in the mbuf of the frame that caused them, which
 * then goes back out the port it came in on: the stage that calls them decides
 * nothing else about the frame, never allocates, and a burst keeps its size.
 * An error quotes the offending IP header and the first 8 bytes of its payload
 * (RFC 792), which means moving those bytes 28 bytes further into the buffer
 * to make room for the new IP and ICMP headers; the frame shrinks to that.
 *
 * Thread safety: pure functions of one mbuf, owned by the calling worker.
 */
#include <errno.h>
#include <string.h>
#include <netinet/in.h>

#include <netinet/ip_icmp.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "l3_private.h"

/* Linux's type of service for ICMP errors (IPTOS_PREC_INTERNETCONTROL). */
#define ICMP_ERR_TOS 0xC0
#define ICMP_TTL 64
/* What an error quotes beyond the offending IP header (RFC 792). */
#define ICMP_QUOTE_PAYLOAD 8

void
icmp_echo_reply(struct rte_mbuf *m, const struct pkt_meta *meta)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + meta->l3_off);
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(p + meta->l4_off);
	struct rte_ether_addr mac = eth->src_addr;
	rte_be32_t addr = ip->src_addr;
	rte_be16_t old_word = RTE_BE16(RTE_IP_ICMP_ECHO_REQUEST << 8 | icmp->icmp_code);

	/* Back where it came from, from the gateway MAC it was sent to. */
	eth->src_addr = eth->dst_addr;
	eth->dst_addr = mac;
	ip->src_addr = ip->dst_addr;
	ip->dst_addr = addr;
	ip->time_to_live = ICMP_TTL;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	/* The payload may be large or span segments: adjust, do not recompute. */
	icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	icmp->icmp_cksum = cksum_adjust16(icmp->icmp_cksum, old_word,
					  RTE_BE16(RTE_IP_ICMP_ECHO_REPLY << 8 |
						   icmp->icmp_code));
}

/*
 * May this frame cause an ICMP error? Not when it is itself an ICMP error, a
 * fragment other than the first, or from a source that is not a unicast host
 * (RFC 1812, 4.3.2.7): errors about errors or to broadcast sources make storms.
 */
bool
icmp_error_wanted(struct rte_mbuf *m, const struct pkt_meta *meta)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(p + meta->l3_off);
	uint32_t src = rte_be_to_cpu_32(ip->src_addr);

	if (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK))
		return false;
	if (src == 0 || (src >> 24) == 127 || src >= 0xE0000000)
		return false;
	if (meta->flags & PKT_F_ICMP && meta->l4_off != PKT_OFF_NONE) {
		switch (p[meta->l4_off]) {
		case ICMP_DEST_UNREACH:
		case ICMP_SOURCE_QUENCH:
		case ICMP_REDIRECT:
		case ICMP_TIME_EXCEEDED:
		case ICMP_PARAMETERPROB:
			return false;
		default:
			break;
		}
	}
	return true;
}

int
icmp_error_build(struct rte_mbuf *m, const struct pkt_meta *meta, uint8_t type, uint8_t code,
		 uint32_t src_ip, const struct rte_ether_addr *src_mac, uint16_t ip_id)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	const struct rte_ipv4_hdr *orig = (const struct rte_ipv4_hdr *)(p + meta->l3_off);
	const uint32_t hdrs = sizeof(*eth) + sizeof(struct rte_ipv4_hdr) +
		sizeof(struct rte_icmp_hdr);
	uint32_t quote = rte_ipv4_hdr_len(orig) + ICMP_QUOTE_PAYLOAD;
	struct rte_ether_addr to_mac = eth->src_addr;
	rte_be32_t to_ip = orig->src_addr;
	struct rte_ipv4_hdr *ip;
	struct rte_icmp_hdr *icmp;

	/* Never quote beyond the datagram or the first segment (the parser only
	 * vouches for what is there). */
	quote = RTE_MIN(quote, (uint32_t)meta->l3_len);
	quote = RTE_MIN(quote, (uint32_t)rte_pktmbuf_data_len(m) - meta->l3_off);
	if (hdrs + quote > (uint32_t)rte_pktmbuf_data_len(m) + rte_pktmbuf_tailroom(m))
		return -ENOSPC;
	memmove(p + hdrs, orig, quote);
	if (m->next != NULL) {
		rte_pktmbuf_free(m->next);
		m->next = NULL;
		m->nb_segs = 1;
	}
	m->data_len = (uint16_t)(hdrs + quote);
	m->pkt_len = m->data_len;

	eth->dst_addr = to_mac;
	eth->src_addr = *src_mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = ICMP_ERR_TOS;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(hdrs - sizeof(*eth) + quote));
	ip->packet_id = rte_cpu_to_be_16(ip_id);
	ip->fragment_offset = 0;
	ip->time_to_live = ICMP_TTL;
	ip->next_proto_id = IPPROTO_ICMP;
	ip->src_addr = rte_cpu_to_be_32(src_ip);
	ip->dst_addr = to_ip;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	icmp = (struct rte_icmp_hdr *)(ip + 1);
	icmp->icmp_type = type;
	icmp->icmp_code = code;
	icmp->icmp_cksum = 0;
	icmp->icmp_ident = 0;    /* "unused" in both error types we send */
	icmp->icmp_seq_nb = 0;
	icmp->icmp_cksum = (rte_be16_t)~rte_raw_cksum(icmp, sizeof(*icmp) + quote);
	/* Offload requests that came with the frame do not describe this one. */
	m->ol_flags &= RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL;
	return 0;
}

void
icmp_error_set_mtu(struct rte_mbuf *m, uint16_t mtu)
{
	struct rte_icmp_hdr *icmp = rte_pktmbuf_mtod_offset(m, struct rte_icmp_hdr *,
		sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr));
	rte_be16_t old = icmp->icmp_seq_nb;

	/* The second half of the "unused" word (RFC 1191); icmp_error_build wrote 0. */
	icmp->icmp_seq_nb = rte_cpu_to_be_16(mtu);
	icmp->icmp_cksum = cksum_adjust16(icmp->icmp_cksum, old, icmp->icmp_seq_nb);
}
