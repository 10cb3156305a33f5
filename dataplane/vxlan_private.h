/*
 * vxlan_private.h - inside the overlays of the data plane (vxlan.h): the
 * immutable overlay table that vxlan_set() publishes, the packed parameters,
 * and the lookups the bridge and ARP stages share with vxlan.c. Only
 * dataplane/ and its tests include this file; the control plane uses vxlan.h.
 *
 * The table. Built whole by vxlan_set() on the control thread, published with
 * an atomic pointer swap in struct dp (release), freed after an RCU grace
 * period of dp->qs; never written once published, so its rte_hash tables need
 * no concurrency flags. It holds: (VNI, peer) -> domain, the hash a decap
 * burst looks up in bulk (a hit says both "known VNI" and "known peer"); VNI
 * -> domain, asked only on a miss of the first to tell an unknown VNI from an
 * unknown peer; per domain its VNI and its peers (one slice of peers[]), for
 * encapsulation and head-end replication; and (domain, IPv4) -> MAC, the
 * ARP-suppression entries.
 *
 * The parameters (port, TTL, DF) are one 32-bit word in struct dp that
 * vxlan_configure() stores and workers load once per burst, both relaxed: a
 * burst sees the old or the new parameters, never a mix.
 *
 * Thread safety: vxlan_table_* and the table's construction are control-thread
 * only; workers load the pointer (acquire) once per burst or frame and only
 * read through it.
 */
#ifndef DPNET_VXLAN_PRIVATE_H
#define DPNET_VXLAN_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <rte_branch_prediction.h>
#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>
#include <rte_vxlan.h>

#include "cksum.h"
#include "counters.h"
#include "dp.h"
#include "offload.h"
#include "pipeline.h"
#include "pkt.h"
#include "vxlan.h"

struct vxlan_table {
	struct rte_hash *peer_hash;             /* vxlan_peer_key(vni, peer) -> domain */
	struct rte_hash *vni_hash;              /* uint32_t VNI -> domain */
	struct rte_hash *arp_hash;              /* l3_neigh_key(domain, ip) -> l3_mac_pack;
	                                         * NULL when there are no entries */
	uint32_t vni[DP_MAX_DOMAINS];           /* per domain: its VNI, 0 if no overlay */
	uint16_t peer_first[DP_MAX_DOMAINS];    /* per domain: index of its first peer */
	uint16_t peer_count[DP_MAX_DOMAINS];    /* per domain: how many peers */
	uint32_t n_peers;                       /* used entries of peers[] */
	uint32_t peers[VXLAN_MAX_PEERS];        /* every overlay's peers, host order,
	                                         * grouped by domain */
};

static inline uint64_t
vxlan_peer_key(uint32_t vni, uint32_t peer)
{
	return (uint64_t)vni << 32 | peer;
}

static inline const struct vxlan_table *
vxlan_table_get(const struct dp *dp)
{
	return __atomic_load_n(&dp->vxlan, __ATOMIC_ACQUIRE);
}

static inline uint32_t
vxlan_params_pack(const struct vxlan_params *p)
{
	return (uint32_t)p->udp_port | (uint32_t)p->ttl << 16 | (uint32_t)(p->df ? 1 : 0) << 24;
}

static inline void
vxlan_params_unpack(uint32_t w, struct vxlan_params *p)
{
	p->udp_port = (uint16_t)w;
	p->ttl = (uint8_t)(w >> 16);
	p->df = (w >> 24) & 1;
}

/*
 * Worker: the MAC of ARP-suppression entry (domain, ip) in *mac; false when
 * there is none (or no table). Used by the bridge (is this request to be
 * answered here?) and the ARP stage (with what?).
 */
bool vxlan_arp_lookup(const struct dp *dp, uint16_t domain, uint32_t ip,
		      struct rte_ether_addr *mac);

/*
 * Worker, dispatcher: send a frame whose out_port is DP_PORT_VXLAN - an answer
 * that goes back out its ingress pseudo-port (ARP reply, ping reply, ICMP
 * error to a remote endpoint), decided after vxenc's turn - through the
 * tunnel to meta->nh_ip: encapsulated and dispatched (TX, punt or drop).
 */
void vxlan_tx(struct lcore_ctx *ctx, struct rte_mbuf *m);

/* dp_destroy: free a table that is no longer published (NULL is fine). */
void vxlan_table_free(struct vxlan_table *t);

/* ---- decapsulation (vxdec), shared with the parser's VTEP loop (vxlan.h) */

/* RFC 7348's flags word: the I bit alone; the VNI word's low byte is reserved. */
#define VX_FLAGS_I RTE_BE32(0x08000000)
#define VX_VNI_RSVD RTE_BE32(0x000000FF)
/* The smallest VXLAN datagram: UDP + VXLAN headers and an Ethernet header. */
#define VX_MIN_UDP_LEN (sizeof(struct rte_udp_hdr) + sizeof(struct rte_vxlan_hdr) + \
			RTE_ETHER_HDR_LEN)
/* UDP + VXLAN headers: what decapsulation strips after the IPv4 header. */
#define VX_UDP_VX_LEN (sizeof(struct rte_udp_hdr) + sizeof(struct rte_vxlan_hdr))

/*
 * One burst's decapsulation state (one worker): the table and the view, the
 * last (VNI, peer) lookup (made once per run of frames with one key) and
 * what was decapsulated, added to DP_PORT_VXLAN's counters at the end. vxlan_dec_begin(), then vxlan_dec_frame() per frame that is ours (UDP
 * to our port and VTEP address in the uplink's domain), then vxlan_dec_end().
 */
struct vxlan_dec {
	const struct vxlan_table *t;    /* overlays, NULL if none */
	const struct dp_view *v;        /* the worker's view */
	uint64_t last_key;              /* last (VNI, peer) looked up, UINT64_MAX: none */
	int32_t last_dom;               /* its domain, or < 0: no such (VNI, peer) */
	uint32_t rx_pkts;               /* decapsulated in this burst */
	uint64_t rx_bytes;
};

void vxlan_dec_begin(struct vxlan_dec *d, const struct lcore_ctx *ctx);
void vxlan_dec_end(struct vxlan_dec *d, struct lcore_ctx *ctx);
/* The (VNI, peer) lookup when key differs from the last one: sets last_*. */
void vxlan_dec_lookup(struct vxlan_dec *d, uint64_t key);

static inline void
vx_drop(struct pkt_meta *meta, enum dp_drop reason)
{
	meta->next = PL_NEXT_DROP;
	meta->drop_reason = reason;
}

/*
 * Decapsulate one frame that is ours (the caller checked: untagged,
 * unfragmented IPv4 UDP to our VXLAN port and VTEP address, received in the
 * uplink's domain, headers at l3_off and l4_off of the first segment, l3_len
 * the IPv4 total length): validate in vxlan.h's order, dropping with the
 * reason, else strip the outer headers and parse the inner frame, which then
 * goes on to the bridge of its overlay domain (parse_one set its next code)
 * or is dropped as malformed.
 */
static __rte_always_inline void
vxlan_dec_frame(struct vxlan_dec *d, struct rte_mbuf *m, struct pkt_meta *meta,
		uint32_t l3_off, uint32_t l4_off, uint32_t l3_len)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(p + l3_off);
	const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)(p + l4_off);
	const struct rte_vxlan_hdr *vx;
	uint32_t ulen, end;
	uint16_t strip;
	uint64_t key;
	int32_t dom;

	if (unlikely(!cksum_ipv4_hdr_ok(m, ip))) {
		vx_drop(meta, DP_DROP_BAD_IP_CKSUM);
		return;
	}
	ulen = rte_be_to_cpu_16(udp->dgram_len);
	if (unlikely(ulen < VX_MIN_UDP_LEN || ulen > l3_len - (l4_off - l3_off) ||
		     l4_off + VX_UDP_VX_LEN > rte_pktmbuf_data_len(m))) {
		vx_drop(meta, DP_DROP_VXLAN_MALFORMED);
		return;
	}
	vx = (const struct rte_vxlan_hdr *)(udp + 1);
	if (unlikely(vx->vx_flags != VX_FLAGS_I || (vx->vx_vni & VX_VNI_RSVD) != 0)) {
		vx_drop(meta, DP_DROP_VXLAN_BAD_FLAGS);
		return;
	}
	key = vxlan_peer_key(rte_be_to_cpu_32(vx->vx_vni) >> 8, rte_be_to_cpu_32(ip->src_addr));
	if (unlikely(key != d->last_key))
		vxlan_dec_lookup(d, key);
	dom = d->last_dom;
	if (unlikely(dom < 0)) {
		uint32_t vni = (uint32_t)(key >> 32);

		/* Which was it? Only a miss pays a second lookup. */
		vx_drop(meta, d->t != NULL && rte_hash_lookup(d->t->vni_hash, &vni) >= 0 ?
			DP_DROP_VXLAN_UNKNOWN_PEER : DP_DROP_VXLAN_UNKNOWN_VNI);
		return;
	}
	/* The view and the table are published separately: trust the pair. */
	if (unlikely(!(d->v->nets[dom].flags & DP_NET_F_OVERLAY))) {
		vx_drop(meta, DP_DROP_VXLAN_UNKNOWN_VNI);
		return;
	}
	/* Ethernet padding after the datagram is not the inner frame's. */
	end = l4_off + ulen;
	if (unlikely(rte_pktmbuf_pkt_len(m) > end &&
		     (rte_pktmbuf_pkt_len(m) - end > UINT16_MAX ||
		      rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - end)) != 0))) {
		vx_drop(meta, DP_DROP_VXLAN_MALFORMED);
		return;
	}
	/* rte_pktmbuf_adj's work, its checks done above (strip <= data_len). */
	strip = (uint16_t)(l4_off + VX_UDP_VX_LEN);
	m->data_off = (uint16_t)(m->data_off + strip);
	m->data_len = (uint16_t)(m->data_len - strip);
	m->pkt_len -= strip;
	/* The NIC's checksum verdicts were about the outer headers, and so was
	 * any unfinished work a vtap port left (offload.h): an outer partial UDP
	 * checksum goes with the outer header, and the inner frame arrived whole. */
	m->ol_flags &= ~(RTE_MBUF_F_RX_IP_CKSUM_MASK | RTE_MBUF_F_RX_L4_CKSUM_MASK |
			 DP_OFFLOAD_MASK);
	meta->in_port = DP_PORT_VXLAN;
	meta->domain = (uint16_t)dom;
	meta->nh_ip = (uint32_t)key;
	meta->flags = 0;
	d->rx_pkts++;
	d->rx_bytes += rte_pktmbuf_pkt_len(m);
	parse_one(m);
}

#endif /* DPNET_VXLAN_PRIVATE_H */
