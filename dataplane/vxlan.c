/*
 * vxlan.c - overlays (vxlan.h): the overlay table control publishes
 * (vxlan_set, vxlan_configure), and the two stages of the packet path,
 * decapsulation (vxdec) and encapsulation (vxenc), plus head-end replication
 * of flooded frames (vxlan_flood, called by the dispatcher).
 *
 * Table. vxlan_set() validates the whole description, builds a new immutable
 * struct vxlan_table (vxlan_private.h), swaps it in and frees the old one after
 * an RCU grace period; on any error the old table stays. The parameters are a
 * packed word (vxlan_private.h).
 *
 * Thread safety: vxlan_configure, vxlan_set and vxlan_params_get run on the
 * control thread. The stages and vxlan_flood run on workers: they load the
 * table pointer and the parameters once per burst, read the view, the LPM and
 * neighbour tables and the MAC table lock-free, and write only the mbufs they
 * are given (and copies they make) and their own counters.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>
#include <rte_udp.h>
#include <rte_vxlan.h>

#include "cksum.h"
#include "l3_private.h"
#include "neigh.h"
#include "pipeline.h"
#include "pkt.h"
#include "vxlan_private.h"

RTE_LOG_REGISTER(vxlan_logtype, dpnet.vxlan, NOTICE);
#define VX_LOG(level, ...) \
	rte_log(RTE_LOG_##level, vxlan_logtype, "dpnetd: " #level ": vxlan: " __VA_ARGS__)

/* Distinct names for the hashes of successive tables (control thread only). */
static uint32_t vx_table_gen;

/* ------------------------------------------------------------ the table */

void
vxlan_table_free(struct vxlan_table *t)
{
	if (t == NULL)
		return;
	rte_hash_free(t->peer_hash);
	rte_hash_free(t->vni_hash);
	rte_hash_free(t->arp_hash);
	rte_free(t);
}

static struct rte_hash *
vx_hash_create(const char *what, uint32_t gen, uint32_t entries, uint32_t key_len)
{
	struct rte_hash_parameters hp = {0};
	char name[RTE_HASH_NAMESIZE];

	snprintf(name, sizeof(name), "vx%s%u", what, gen);
	hp.name = name;
	hp.entries = RTE_MAX(2 * entries, 64u);
	hp.key_len = key_len;
	hp.hash_func = rte_hash_crc;
	hp.socket_id = (int)rte_socket_id();
	/* Built here, then only read: no concurrency flags needed. */
	hp.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
	return rte_hash_create(&hp);
}

/* Is addr usable as a VTEP's (unicast, not 0.0.0.0)? */
static inline bool
vx_addr_ok(uint32_t addr)
{
	return addr != 0 && addr < 0xE0000000;
}

/* Check the description as a whole: -EINVAL or -ENOSPC, 0 when it is sound. */
static int
vx_spec_check(const struct vxlan_net_spec *nets, uint16_t n)
{
	uint32_t peers = 0, arp = 0;

	if (n > DP_MAX_DOMAINS)
		return -ENOSPC;
	for (uint16_t i = 0; i < n; i++) {
		const struct vxlan_net_spec *s = &nets[i];

		if (s->domain >= DP_MAX_DOMAINS || s->vni == 0 || s->vni > VXLAN_VNI_MAX ||
		    (s->n_peers > 0 && s->peers == NULL) ||
		    (s->n_arp > 0 && (s->arp_ip == NULL || s->arp_mac == NULL)))
			return -EINVAL;
		for (uint16_t j = 0; j < i; j++)
			if (nets[j].vni == s->vni || nets[j].domain == s->domain)
				return -EINVAL;
		for (uint16_t p = 0; p < s->n_peers; p++)
			if (!vx_addr_ok(s->peers[p]))
				return -EINVAL;
		for (uint32_t a = 0; a < s->n_arp; a++)
			if (s->arp_ip[a] == 0 || rte_is_multicast_ether_addr(&s->arp_mac[a]) ||
			    rte_is_zero_ether_addr(&s->arp_mac[a]))
				return -EINVAL;
		peers += s->n_peers;
		arp += s->n_arp;
	}
	if (peers > VXLAN_MAX_PEERS || arp > VXLAN_MAX_ARP)
		return -ENOSPC;
	return 0;
}

static int
vx_table_build(const struct vxlan_net_spec *nets, uint16_t n, struct vxlan_table **out)
{
	uint32_t gen = vx_table_gen++, n_arp = 0, n_peers = 0;
	struct vxlan_table *t;

	t = rte_zmalloc("vxlan_table", sizeof(*t), RTE_CACHE_LINE_SIZE);
	if (t == NULL)
		return -ENOMEM;
	for (uint16_t i = 0; i < n; i++) {
		n_arp += nets[i].n_arp;
		n_peers += nets[i].n_peers;
	}
	/* Sized for what it holds (vx_hash_create doubles it, at least 64): a
	 * rebuild per change stays cheap with few peers. */
	t->peer_hash = vx_hash_create("p", gen, n_peers, sizeof(uint64_t));
	t->vni_hash = vx_hash_create("v", gen, n, sizeof(uint32_t));
	if (t->peer_hash == NULL || t->vni_hash == NULL)
		goto fail;
	if (n_arp > 0) {
		t->arp_hash = vx_hash_create("a", gen, n_arp, sizeof(uint64_t));
		if (t->arp_hash == NULL)
			goto fail;
	}
	for (uint16_t i = 0; i < n; i++) {
		const struct vxlan_net_spec *s = &nets[i];
		void *dom = (void *)(uintptr_t)s->domain;

		t->vni[s->domain] = s->vni;
		t->peer_first[s->domain] = (uint16_t)t->n_peers;
		if (rte_hash_add_key_data(t->vni_hash, &s->vni, dom) != 0)
			goto fail;
		for (uint16_t p = 0; p < s->n_peers; p++) {
			uint64_t key = vxlan_peer_key(s->vni, s->peers[p]);

			/* A peer listed twice (static and from the cluster) gets one copy. */
			if (rte_hash_lookup(t->peer_hash, &key) >= 0)
				continue;
			if (rte_hash_add_key_data(t->peer_hash, &key, dom) != 0)
				goto fail;
			t->peers[t->n_peers++] = s->peers[p];
			t->peer_count[s->domain]++;
		}
		for (uint32_t a = 0; a < s->n_arp; a++) {
			uint64_t key = l3_neigh_key(s->domain, s->arp_ip[a]);

			/* The last entry for an address wins. */
			if (rte_hash_add_key_data(t->arp_hash, &key,
						  (void *)(uintptr_t)l3_mac_pack(&s->arp_mac[a])) != 0)
				goto fail;
		}
	}
	*out = t;
	return 0;
fail:
	vxlan_table_free(t);
	return -ENOMEM;
}

int
vxlan_set(struct dp *dp, const struct vxlan_net_spec *nets, uint16_t n)
{
	struct vxlan_table *t = NULL, *old;
	int rc;

	if (n > 0 && nets == NULL)
		return -EINVAL;
	rc = vx_spec_check(nets, n);
	if (rc != 0)
		return rc;
	if (n > 0) {
		rc = vx_table_build(nets, n, &t);
		if (rc != 0) {
			VX_LOG(WARNING, "cannot build the overlay table of %u networks: %s\n", n,
			       strerror(-rc));
			return rc;
		}
	}
	old = __atomic_exchange_n(&dp->vxlan, t, __ATOMIC_RELEASE);
	if (old != NULL) {
		/* Every worker has finished the burst that might still read old. */
		rte_rcu_qsbr_synchronize(dp->qs, RTE_QSBR_THRID_INVALID);
		vxlan_table_free(old);
	}
	return 0;
}

int
vxlan_configure(struct dp *dp, const struct vxlan_params *p)
{
	if (p == NULL || p->udp_port == 0 || p->ttl == 0)
		return -EINVAL;
	__atomic_store_n(&dp->vxlan_params, vxlan_params_pack(p), __ATOMIC_RELAXED);
	return 0;
}

void
vxlan_params_get(const struct dp *dp, struct vxlan_params *out)
{
	vxlan_params_unpack(__atomic_load_n(&dp->vxlan_params, __ATOMIC_RELAXED), out);
}

bool
vxlan_arp_lookup(const struct dp *dp, uint16_t domain, uint32_t ip, struct rte_ether_addr *mac)
{
	const struct vxlan_table *t = vxlan_table_get(dp);
	uint64_t key = l3_neigh_key(domain, ip);
	void *data;

	if (t == NULL || t->arp_hash == NULL || rte_hash_lookup_data(t->arp_hash, &key, &data) < 0)
		return false;
	l3_mac_unpack((uint64_t)(uintptr_t)data, mac);
	return true;
}

/* ------------------------------------------------------------ the stages */

_Static_assert(VXLAN_HDR_LEN == RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr) +
	       VX_UDP_VX_LEN, "the outer headers are 50 bytes");

/* What one burst of a stage needs from the tables and the view, loaded once. */
struct vx_burst {
	const struct dp_view *v;        /* the worker's view */
	const struct vxlan_table *t;    /* overlays, NULL if none */
	struct vxlan_params p;          /* port, TTL, DF */
	uint16_t up_port;               /* the uplink's port, RTE_MAX_ETHPORTS if none */
	uint16_t u;                     /* its domain, DP_DOMAIN_NONE if none */
	uint32_t vtep_ip;               /* our VTEP address (nets[u].gw_ip), 0 if none */
};

static inline void
vx_burst_load(const struct lcore_ctx *ctx, struct vx_burst *b)
{
	const struct dp_view *v = ctx->view;
	uint16_t up = v->uplink_port;

	b->v = v;
	b->t = vxlan_table_get(ctx->dp);
	vxlan_params_unpack(__atomic_load_n(&ctx->dp->vxlan_params, __ATOMIC_RELAXED), &b->p);
	b->up_port = up;
	b->u = up < RTE_MAX_ETHPORTS ? v->ports[up].domain : DP_DOMAIN_NONE;
	b->vtep_ip = b->u < DP_MAX_DOMAINS ? v->nets[b->u].gw_ip : 0;
}

uint16_t
vxlan_src_port(const struct rte_mbuf *inner)
{
	/* pkt_meta() takes a writable mbuf; only reads happen here. */
	const struct pkt_meta *meta = pkt_meta((struct rte_mbuf *)(uintptr_t)inner);
	const uint8_t *p = rte_pktmbuf_mtod(inner, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(inner);
	uint32_t h = 0;

	uint32_t w[3];

	/* Both Ethernet addresses; for IPv4, both addresses and the protocol; for
	 * TCP and UDP (not fragments, whose later parts carry no ports) the ports.
	 * Words are copied out first: the headers need not be 4-byte aligned. */
	if (len >= 2 * RTE_ETHER_ADDR_LEN) {
		memcpy(w, p, sizeof(w));
		h = rte_hash_crc_4byte(w[0], h);
		h = rte_hash_crc_4byte(w[1], h);
		h = rte_hash_crc_4byte(w[2], h);
	}
	if (meta->flags & PKT_F_IPV4 && meta->l3_off != PKT_OFF_NONE &&
	    (uint32_t)meta->l3_off + sizeof(struct rte_ipv4_hdr) <= len) {
		const uint8_t *ip = p + meta->l3_off;

		memcpy(w, ip + offsetof(struct rte_ipv4_hdr, src_addr), 2 * sizeof(uint32_t));
		h = rte_hash_crc_4byte(w[0], h);
		h = rte_hash_crc_4byte(w[1], h);
		h = rte_hash_crc_1byte(ip[offsetof(struct rte_ipv4_hdr, next_proto_id)], h);
		if (meta->flags & (PKT_F_TCP | PKT_F_UDP) && !(meta->flags & PKT_F_FRAG) &&
		    meta->l4_off != PKT_OFF_NONE && (uint32_t)meta->l4_off + 4 <= len) {
			memcpy(w, p + meta->l4_off, sizeof(uint32_t));
			h = rte_hash_crc_4byte(w[0], h);
		}
	}
	h ^= h >> 16;
	return (uint16_t)(VXLAN_SPORT_MIN + (h & (UINT16_MAX - VXLAN_SPORT_MIN)));
}

/* ---- decapsulation */

void
vxlan_dec_begin(struct vxlan_dec *d, const struct lcore_ctx *ctx)
{
	d->t = vxlan_table_get(ctx->dp);
	d->v = ctx->view;
	d->last_key = UINT64_MAX;       /* no (VNI, peer) key is all ones */
	d->last_dom = -1;
	d->rx_pkts = 0;
	d->rx_bytes = 0;
}

void
vxlan_dec_end(struct vxlan_dec *d, struct lcore_ctx *ctx)
{
	ctx->cnt.ports[DP_PORT_VXLAN].rx_pkts += d->rx_pkts;
	ctx->cnt.ports[DP_PORT_VXLAN].rx_bytes += d->rx_bytes;
}

void
vxlan_dec_lookup(struct vxlan_dec *d, uint64_t key)
{
	void *data;

	d->last_key = key;
	d->last_dom = d->t != NULL && rte_hash_lookup_data(d->t->peer_hash, &key, &data) >= 0 ?
		(int32_t)(uintptr_t)data : -1;
}

/*
 * Decapsulate the frames the parser sent here (the generic parse's; the fast
 * path's are decapsulated in the parser's loop). The (VNI, peer) lookup is
 * made once per run of frames with the same key (consecutive frames from one
 * peer are the common case), not once per frame.
 */
uint16_t
vxlan_decap_stage(struct lcore_ctx *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	struct vx_burst b;
	struct vxlan_dec d;

	vx_burst_load(ctx, &b);
	vxlan_dec_begin(&d, ctx);
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct pkt_meta *meta = pkt_meta(m);
		const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(p + meta->l3_off);
		const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)(p + meta->l4_off);

		/* The inner headers start in the frame's second cache line. */
		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod_offset(pkts[i + 1], uint8_t *,
							      RTE_CACHE_LINE_SIZE));
		/* The parser sent only untagged, unfragmented IPv4 UDP whose headers
		 * it checked to be in the first segment, to our port and address;
		 * what a change of the view or the parameters since made another's
		 * is bridged. */
		if (unlikely(udp->dst_port != rte_cpu_to_be_16(b.p.udp_port) || b.vtep_ip == 0 ||
			     ip->dst_addr != rte_cpu_to_be_32(b.vtep_ip) || meta->domain != b.u)) {
			meta->next = PL_NEXT_BRIDGE;
			continue;
		}
		vxlan_dec_frame(&d, m, meta, meta->l3_off, meta->l4_off, meta->l3_len);
	}
	vxlan_dec_end(&d, ctx);
	return n;
}

/* ---- encapsulation */

/* A frame encap may write 50 bytes in front of: ours alone, with the room.
 * Otherwise a copy replaces it (the original is freed); NULL: no mbuf. */
static inline struct rte_mbuf *
vx_writable(struct lcore_ctx *ctx, struct rte_mbuf *m)
{
	struct rte_mbuf *c;

	if (likely(RTE_MBUF_DIRECT(m) && rte_mbuf_refcnt_read(m) == 1 &&
		   rte_pktmbuf_headroom(m) >= VXLAN_HDR_LEN))
		return m;
	c = rte_pktmbuf_copy(m, ctx->dp->pool, 0, UINT32_MAX);
	if (c == NULL)
		return NULL;
	*pkt_meta(c) = *pkt_meta(m);
	rte_pktmbuf_free(m);
	return c;
}

/*
 * What every frame to one peer shares: the 50 outer bytes with the total and
 * UDP lengths, the IP id, the UDP source port and the IPv4 checksum at 0, and
 * the one's-complement sum of that IPv4 header, so that a frame's checksum is
 * the template's sum plus its total length (and id): RFC 1624, no pass over
 * the header per frame. Built when the peer (or the overlay) changes from one
 * frame to the next, so a burst to one peer resolves its route and neighbour
 * once.
 */
struct vx_tmpl {
	uint8_t hdr[64];        /* the outer headers (VXLAN_HDR_LEN bytes used) */
	uint32_t peer;          /* the peer it is for, 0 = none yet */
	uint32_t vni;           /* and the VNI */
	uint32_t sum;           /* folded sum of the IPv4 header as in hdr */
	uint32_t nh;            /* the next hop resolved (neighbour key's address) */
	uint8_t next;           /* PL_NEXT_TX, PL_NEXT_PUNT (neighbour miss) or DROP */
	uint8_t drop_reason;    /* when next is DROP */
};

/* Resolve a peer (route, next hop, neighbour) and fill the template. */
static void
vx_tmpl_build(const struct lcore_ctx *ctx, const struct vx_burst *b, struct vx_tmpl *tp,
	      uint32_t peer, uint32_t vni)
{
	const struct l3_tables *l3 = ctx->l3;
	const struct l3_nexthop *nh;
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)tp->hdr;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	struct rte_vxlan_hdr *vx = (struct rte_vxlan_hdr *)(udp + 1);
	uint32_t hop, idx;
	uint64_t key;
	void *data;

	tp->peer = peer;
	tp->vni = vni;
	if (rte_lpm_lookup(l3->lpm, peer, &hop) == 0) {
		idx = hop;
	} else {
		idx = __atomic_load_n(&l3->default_nh, __ATOMIC_ACQUIRE);
		if (idx == L3_NH_NONE)
			goto no_route;
	}
	nh = &l3->nh[idx];
	if (unlikely(nh->type == L3_NH_BLACKHOLE || nh->domain != b->u))
		goto no_route;
	tp->nh = nh->type == L3_NH_CONNECTED ? peer : nh->gw_ip;
	key = l3_neigh_key(b->u, tp->nh);
	memset(tp->hdr, 0, sizeof(tp->hdr));
	if (rte_hash_lookup_data(l3->neigh, &key, &data) >= 0) {
		l3_mac_unpack((uint64_t)(uintptr_t)data, &eth->dst_addr);
		tp->next = PL_NEXT_TX;
	} else if (b->v->nets[b->u].flags & DP_NET_F_RESOLVE) {
		/* Finished but for its destination MAC, which control finds (neigh.h). */
		tp->next = PL_NEXT_PUNT;
	} else {
		tp->next = PL_NEXT_DROP;
		tp->drop_reason = DP_DROP_NO_NEIGHBOUR;
		return;
	}
	eth->src_addr = b->v->nets[b->u].gw_mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	if (b->p.df)
		ip->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = b->p.ttl;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(b->vtep_ip);
	ip->dst_addr = rte_cpu_to_be_32(peer);
	tp->sum = rte_raw_cksum(ip, sizeof(*ip));
	udp->dst_port = rte_cpu_to_be_16(b->p.udp_port);
	/* The UDP checksum stays 0: RFC 7348, VTEPs send 0. */
	vx->vx_flags = VX_FLAGS_I;
	vx->vx_vni = rte_cpu_to_be_32(vni << 8);
	return;
no_route:
	tp->next = PL_NEXT_DROP;
	tp->drop_reason = DP_DROP_VXLAN_NO_ROUTE;
}

/* Put the outer headers of template tp in front of a writable frame. */
static inline void
vx_build(struct lcore_ctx *ctx, const struct vx_burst *b, struct rte_mbuf *m,
	 const struct vx_tmpl *tp)
{
	struct pkt_meta *meta = pkt_meta(m);
	uint16_t sport = vxlan_src_port(m);
	uint32_t inner_len = rte_pktmbuf_pkt_len(m);
	uint8_t *h = (uint8_t *)rte_pktmbuf_prepend(m, VXLAN_HDR_LEN);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(h + RTE_ETHER_HDR_LEN);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	rte_be16_t tot = rte_cpu_to_be_16((uint16_t)(VXLAN_HDR_LEN - RTE_ETHER_HDR_LEN +
						      inner_len));
	rte_be16_t id = 0;

	memcpy(h, tp->hdr, VXLAN_HDR_LEN);
	if (!b->p.df) {
		id = rte_cpu_to_be_16(ctx->vx_ip_id++);
		ip->packet_id = id;
	}
	ip->total_length = tot;
	/* The template's sum with the two words it left at 0 (cksum.h, RFC 1624). */
	ip->hdr_checksum = (rte_be16_t)~cksum_fold(tp->sum + tot + id);
	udp->src_port = rte_cpu_to_be_16(sport);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(VX_UDP_VX_LEN + inner_len));
	/* What the frame is now, for anyone who reads it after us (control). */
	meta->flags = PKT_F_IPV4 | PKT_F_UDP | (meta->flags & PKT_F_ROUTED);
	meta->l3_off = RTE_ETHER_HDR_LEN;
	meta->l4_off = RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr);
	meta->l3_len = (uint16_t)(VXLAN_HDR_LEN - RTE_ETHER_HDR_LEN + inner_len);
	meta->ether_type = RTE_ETHER_TYPE_IPV4;
	meta->l4_proto = IPPROTO_UDP;
	meta->vlan_tci = 0;
	ctx->cnt.ports[DP_PORT_VXLAN].tx_pkts++;
}

/*
 * Encapsulate up to DP_BURST frames (meta->domain an overlay, meta->nh_ip the
 * peer): per frame the checks, then the template of its peer (resolved again
 * only when the peer differs from the previous frame's), then the headers.
 * pkts[i] may be replaced by a copy.
 */
static void
vx_encap_chunk(struct lcore_ctx *ctx, const struct vx_burst *b, struct rte_mbuf **pkts,
	       uint16_t n)
{
	struct vx_tmpl tmpl __rte_aligned(RTE_CACHE_LINE_SIZE);
	/* The longest inner frame: the uplink's MTU less the outer IP, UDP and
	 * VXLAN headers, plus the inner Ethernet header. */
	uint32_t max_len = UINT16_MAX - (VXLAN_HDR_LEN - RTE_ETHER_HDR_LEN);

	tmpl.peer = 0;
	tmpl.vni = 0;
	/* With no MTU known, what the outer IPv4 total length can still say. */
	if (b->u < DP_MAX_DOMAINS && b->v->nets[b->u].mtu != 0)
		max_len = RTE_MIN(max_len, b->v->nets[b->u].mtu > VXLAN_HDR_LEN - RTE_ETHER_HDR_LEN ?
			(uint32_t)b->v->nets[b->u].mtu - (VXLAN_HDR_LEN - RTE_ETHER_HDR_LEN) : 0);
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct pkt_meta *meta = pkt_meta(m);
		uint16_t dom = meta->domain;
		uint32_t vni = b->t != NULL && dom < DP_MAX_DOMAINS ? b->t->vni[dom] : 0;

		if (unlikely(vni == 0)) {
			vx_drop(meta, DP_DROP_VXLAN_UNKNOWN_VNI);
			continue;
		}
		if (unlikely(b->vtep_ip == 0)) {
			vx_drop(meta, DP_DROP_VXLAN_NO_VTEP);
			continue;
		}
		/* A large segment becomes several frames, which this array cannot
		 * hold: the dispatcher's vxlan_tx finishes it and encapsulates each,
		 * in the frame's place (offload.h). Before the length test: the
		 * segments, not the frame, must fit. */
		if (unlikely(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG)) {
			meta->out_port = DP_PORT_VXLAN;
			meta->next = PL_NEXT_TX;
			continue;
		}
		if (unlikely(rte_pktmbuf_pkt_len(m) > max_len)) {
			vx_drop(meta, DP_DROP_TOO_BIG);
			continue;
		}
		if (unlikely(!vx_addr_ok(meta->nh_ip))) {
			vx_drop(meta, DP_DROP_VXLAN_NO_ROUTE);
			continue;
		}
		if (unlikely(meta->nh_ip != tmpl.peer || vni != tmpl.vni))
			vx_tmpl_build(ctx, b, &tmpl, meta->nh_ip, vni);
		if (unlikely(tmpl.next == PL_NEXT_DROP)) {
			vx_drop(meta, tmpl.drop_reason);
			continue;
		}
		m = vx_writable(ctx, m);
		if (unlikely(m == NULL)) {
			vx_drop(meta, DP_DROP_NO_MBUF);
			continue;
		}
		pkts[i] = m;
		meta = pkt_meta(m);
		/* A partial checksum is completed in place: the tunnel carries no
		 * offloads (offload.h), and the frame is now writable. */
		if (unlikely(dp_offload_pending(m))) {
			if (unlikely(dp_csum_complete(m) != 0)) {
				vx_drop(meta, DP_DROP_BAD_OFFLOAD);
				continue;
			}
			ctx->cnt.csum_completed++;
		}
		vx_build(ctx, b, m, &tmpl);
		meta->out_port = b->up_port;
		if (unlikely(tmpl.next == PL_NEXT_PUNT)) {
			meta->domain = b->u;
			meta->nh_ip = tmpl.nh;
			meta->punt = PUNT_NEIGH_MISS;
			meta->next = PL_NEXT_PUNT;
			continue;
		}
		meta->next = PL_NEXT_TX;
	}
}

uint16_t
vxlan_encap_stage(struct lcore_ctx *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	struct vx_burst b;

	vx_burst_load(ctx, &b);
	for (uint16_t done = 0; done < n; done += DP_BURST)
		vx_encap_chunk(ctx, &b, pkts + done, (uint16_t)RTE_MIN(n - done, DP_BURST));
	return n;
}

/*
 * vxlan_tx of a frame with unfinished work: finished (offload.h), then each
 * resulting frame encapsulated and dispatched, in order.
 */
static __rte_noinline void
vxlan_tx_finish(struct lcore_ctx *ctx, const struct vx_burst *b, struct rte_mbuf *m)
{
	struct rte_mbuf *segs[DP_GSO_MAX_SEGS];
	uint16_t k = dp_offload_finish(ctx, m, segs, DP_GSO_MAX_SEGS);

	for (uint16_t j = 0; j < k; j++)
		pkt_meta(segs[j])->next = PL_NEXT_VXENC;
	for (uint16_t done = 0; done < k; done += DP_BURST)
		vx_encap_chunk(ctx, b, segs + done, (uint16_t)RTE_MIN(k - done, DP_BURST));
	pl_dispatch(ctx, segs, k, PL_NEXT_TX);
}

void
vxlan_tx(struct lcore_ctx *ctx, struct rte_mbuf *m)
{
	struct vx_burst b;

	vx_burst_load(ctx, &b);
	/* Finished first, so vx_encap_chunk never sends it back here. */
	if (unlikely(dp_offload_pending(m))) {
		vxlan_tx_finish(ctx, &b, m);
		return;
	}
	pkt_meta(m)->next = PL_NEXT_VXENC;
	vx_encap_chunk(ctx, &b, &m, 1);
	pl_dispatch(ctx, &m, 1, PL_NEXT_TX);
}

uint16_t
vxlan_flood(struct lcore_ctx *ctx, struct rte_mbuf *m, uint16_t domain)
{
	const struct pkt_meta *meta = pkt_meta(m);
	struct rte_mbuf *copies[DP_BURST];
	struct vx_burst b;
	uint32_t first;
	uint16_t n_peers;

	vx_burst_load(ctx, &b);
	if (b.t == NULL || domain >= DP_MAX_DOMAINS)
		return 0;
	first = b.t->peer_first[domain];
	n_peers = b.t->peer_count[domain];
	for (uint16_t done = 0; done < n_peers; done += DP_BURST) {
		uint16_t k = 0, todo = (uint16_t)RTE_MIN(n_peers - done, DP_BURST);

		for (uint16_t j = 0; j < todo; j++) {
			struct rte_mbuf *c = rte_pktmbuf_copy(m, ctx->dp->pool, 0, UINT32_MAX);
			struct pkt_meta *cm;

			if (unlikely(c == NULL)) {
				ctx->cnt.drops[DP_DROP_NO_MBUF]++;
				ctx->cnt.ports[meta->in_port].drops++;
				continue;
			}
			cm = pkt_meta(c);
			*cm = *meta;
			cm->domain = domain;
			cm->nh_ip = b.t->peers[first + done + j];
			cm->next = PL_NEXT_VXENC;
			copies[k++] = c;
		}
		vx_encap_chunk(ctx, &b, copies, k);
		pl_dispatch(ctx, copies, k, PL_NEXT_TX);
	}
	return n_peers;
}
