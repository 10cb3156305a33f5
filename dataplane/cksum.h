/*
 * cksum.h - incremental Internet checksum updates (RFC 1624) shared by the
 * stages that rewrite headers: the ICMP echo reply (icmp.c) and, for NAT, an
 * IPv4 address, a TCP/UDP port or an ICMP echo id.
 *
 * Every helper uses RFC 1624 equation 3, HC' = ~(~HC + ~m + m'), on values in
 * network byte order (the one's-complement sum does not care about the byte
 * order as long as all words share it). The folded sum is never +0 for real
 * data, so the result equals a full recomputation, 0x0000 and 0xFFFF included.
 *
 * UDP is the exception RFC 768 makes: a checksum of 0 means "none was
 * computed" and must stay 0 after a rewrite, and a computed 0 is sent as 0xFFFF.
 * The cksum_udp_* helpers do both.
 *
 * Usage: pure functions on header memory the caller owns (an mbuf belongs to
 * one worker at a time); no state, safe on any thread. The caller decides
 * whether an L4 header is present (a non-first fragment has none: pass NULL).
 */
#ifndef DPNET_CKSUM_H
#define DPNET_CKSUM_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>
#include <rte_byteorder.h>
#include <rte_mbuf.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

/* Fold a 32-bit one's-complement accumulator to 16 bits (end-around carry). */
static inline uint16_t
cksum_fold(uint32_t sum)
{
	sum = (sum & 0xFFFF) + (sum >> 16);
	sum = (sum & 0xFFFF) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * Checksum after one 16-bit word changes from old to new (RFC 1624, eq. 3:
 * HC' = ~(~HC + ~m + m')), all three in network byte order.
 */
static inline rte_be16_t
cksum_adjust16(rte_be16_t cksum, rte_be16_t old, rte_be16_t new)
{
	uint32_t sum = (uint16_t)~cksum + (uint32_t)(uint16_t)~old + new;

	return (rte_be16_t)~cksum_fold(sum);
}

/* Checksum after a 32-bit field (an IPv4 address) changes: two words at once. */
static inline rte_be16_t
cksum_adjust32(rte_be16_t cksum, rte_be32_t old, rte_be32_t new)
{
	uint32_t sum = (uint16_t)~cksum;

	sum += (uint16_t)~(old >> 16) + (uint32_t)(uint16_t)~(old & 0xFFFF);
	sum += (new >> 16) + (new & 0xFFFF);
	return (rte_be16_t)~cksum_fold(sum);
}

/* UDP: 0 (no checksum) stays 0; a result of 0 is sent as 0xFFFF (RFC 768). */
static inline rte_be16_t
cksum_udp_adjust16(rte_be16_t cksum, rte_be16_t old, rte_be16_t new)
{
	rte_be16_t r;

	if (cksum == 0)
		return 0;
	r = cksum_adjust16(cksum, old, new);
	return r == 0 ? (rte_be16_t)0xFFFF : r;
}

static inline rte_be16_t
cksum_udp_adjust32(rte_be16_t cksum, rte_be32_t old, rte_be32_t new)
{
	rte_be16_t r;

	if (cksum == 0)
		return 0;
	r = cksum_adjust32(cksum, old, new);
	return r == 0 ? (rte_be16_t)0xFFFF : r;
}

/*
 * Rewrite the source (src true) or destination IPv4 address to new_addr and
 * fix the IPv4 header checksum and, when l4 is not NULL, the TCP or UDP
 * checksum, whose pseudo header holds the address. ICMP's checksum does not
 * cover the addresses, so for ICMP (or a non-first fragment) pass l4 = NULL.
 */
static inline void
cksum_rewrite_addr(struct rte_ipv4_hdr *ip, void *l4, uint8_t proto, bool src,
		   rte_be32_t new_addr)
{
	rte_be32_t old = src ? ip->src_addr : ip->dst_addr;

	ip->hdr_checksum = cksum_adjust32(ip->hdr_checksum, old, new_addr);
	if (l4 != NULL) {
		if (proto == IPPROTO_TCP) {
			struct rte_tcp_hdr *tcp = l4;

			tcp->cksum = cksum_adjust32(tcp->cksum, old, new_addr);
		} else if (proto == IPPROTO_UDP) {
			struct rte_udp_hdr *udp = l4;

			udp->dgram_cksum = cksum_udp_adjust32(udp->dgram_cksum, old, new_addr);
		}
	}
	if (src)
		ip->src_addr = new_addr;
	else
		ip->dst_addr = new_addr;
}

/*
 * Rewrite the source or destination port of a TCP or UDP header, or the id of
 * an ICMP echo request/reply (src ignored: an echo has one id), fixing the L4
 * checksum. Other protocols are left alone.
 */
static inline void
cksum_rewrite_port(void *l4, uint8_t proto, bool src, rte_be16_t new_port)
{
	if (proto == IPPROTO_TCP) {
		struct rte_tcp_hdr *tcp = l4;
		rte_be16_t old = src ? tcp->src_port : tcp->dst_port;

		tcp->cksum = cksum_adjust16(tcp->cksum, old, new_port);
		if (src)
			tcp->src_port = new_port;
		else
			tcp->dst_port = new_port;
	} else if (proto == IPPROTO_UDP) {
		struct rte_udp_hdr *udp = l4;
		rte_be16_t old = src ? udp->src_port : udp->dst_port;

		udp->dgram_cksum = cksum_udp_adjust16(udp->dgram_cksum, old, new_port);
		if (src)
			udp->src_port = new_port;
		else
			udp->dst_port = new_port;
	} else if (proto == IPPROTO_ICMP) {
		struct rte_icmp_hdr *icmp = l4;

		icmp->icmp_cksum = cksum_adjust16(icmp->icmp_cksum, icmp->icmp_ident, new_port);
		icmp->icmp_ident = new_port;
	}
}

/*
 * Is the IPv4 header checksum of a frame to be routed right? Trust the NIC
 * when it checked (RX_IP_CKSUM_NONE: it verified the header but left the field
 * unfilled). The common 20-byte header is summed as five 32-bit words (the
 * one's-complement sum folds the same way: 2^16 = 1 modulo 0xFFFF), not as
 * ten 16-bit ones. Shared by the NAT stage (a new connection), L3 and VXLAN
 * decapsulation (the outer header).
 */
static inline bool
cksum_ipv4_hdr_ok(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip)
{
	uint64_t f = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;

	if (f == RTE_MBUF_F_RX_IP_CKSUM_GOOD || f == RTE_MBUF_F_RX_IP_CKSUM_NONE)
		return true;
	if (f == RTE_MBUF_F_RX_IP_CKSUM_BAD)
		return false;
	if (likely(ip->version_ihl == RTE_IPV4_VHL_DEF)) {
		uint32_t w[5];
		uint64_t sum;

		memcpy(w, ip, sizeof(w));
		sum = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4];
		sum = (sum & 0xFFFFFFFF) + (sum >> 32);
		sum = (sum & 0xFFFFFFFF) + (sum >> 32);
		return cksum_fold((uint32_t)sum) == 0xFFFF;
	}
	return rte_raw_cksum(ip, rte_ipv4_hdr_len(ip)) == 0xFFFF;
}

#endif /* DPNET_CKSUM_H */
