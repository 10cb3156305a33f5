/*
 * route.c - the L3 stage: IPv4 frames sent to a gateway MAC are answered
 * (pings of a gateway address), handed to the uplink's host (other traffic for
 * a gateway address), or routed: LPM lookup, policy (Docker's isolation between
 * bridge networks - except for frames the NAT stage translated, PKT_F_NAT -
 * and --internal networks), TTL, neighbour lookup, MAC rewrite.
 * The decisions and their order are the contract in l3.h.
 *
 * Per chunk of at most DP_BURST frames, a first pass decides everything that
 * needs no neighbour and collects the neighbour keys of the rest (the route
 * and the header check come from the NAT stage when it made them, pkt.h
 * PKT_F_RT); the worker's neighbour cache, then one bulk rte_hash lookup of
 * what it misses, resolves them; a last pass rewrites the frames that go on.
 * A neighbour cached with its MAC-table position gives the output port here
 * (l3_nc_port: the frame goes to TX); any other frame goes to the l2out stage,
 * which finds the port in the output domain, floods or encapsulates. A routed
 * frame leaves with meta->domain = its output domain and PKT_F_ROUTED.
 *
 * neigh.h adds: a neighbour miss in a resolving domain (DP_NET_F_RESOLVE) is
 * finished all the same (TTL, source MAC, domain) and punted to control
 * (PL_NEXT_PUNT, PUNT_NEIGH_MISS, meta->nh_ip) instead of dropped; the uplink
 * address goes unrouted to neighbour (h, dst) of the host port's domain when
 * there is one (from u or a bridge network); DP_NET_F_HOST is, for isolation
 * and --internal, what DP_NET_F_UPLINK is; and a routed frame longer than the
 * output network's MTU is dropped (too-big), answered with fragmentation
 * needed when it has DF. With a resolving uplink domain (NIC mode) other
 * traffic for a gateway address has no host in u to go to: gateway-local.
 *
 * ICMP errors (net unreachable, time exceeded, fragmentation needed) replace
 * the offending frame in place (icmp.c) and go back out its ingress port,
 * quoting it as its source sent it (a frame the NAT stage translated is
 * rewritten back first, nat_untranslate); each worker sends at most
 * what its token bucket allows (l3_icmp_rate_set), the rest are only dropped.
 * Either way the frame counts under its drop reason: the reason says what
 * happened to the traffic, icmp_errors and icmp_ratelimited what we answered.
 *
 * Thread safety: runs on a worker; reads the view, the LPM table and the
 * neighbour hash lock-free; writes the mbufs it is given and its own context.
 */
#include <netinet/in.h>
#include <netinet/ip_icmp.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "l3_private.h"
#include "nat.h"
#include "neigh.h"
#include "pipeline.h"
#include "pkt.h"


/* A frame waiting for its neighbour lookup. */
struct l3_pending {
	uint16_t idx;         /* index in the chunk */
	uint16_t out_dom;     /* output domain */
	bool routed;          /* TTL - 1 (false: handed to the host that owns the address) */
};

static inline void
l3_drop(struct pkt_meta *meta, enum dp_drop reason)
{
	meta->next = PL_NEXT_DROP;
	meta->drop_reason = reason;
}

/*
 * Answer with an ICMP error if allowed, else drop. The frame's drop reason is
 * counted here when it is answered (the dispatcher counts it otherwise), so
 * that e.g. no-route counts every frame that had no route.
 */
static void
l3_icmp_error(struct lcore_ctx *ctx, struct rte_mbuf *m, struct pkt_meta *meta,
	      const struct dp_net_view *in_net, uint8_t type, uint8_t code, enum dp_drop reason,
	      uint16_t mtu)
{
	if (in_net->gw_ip == 0 || !icmp_error_wanted(m, meta)) {
		l3_drop(meta, reason);
		return;
	}
	if (!l3_icmp_allow(ctx)) {
		ctx->cnt.icmp_ratelimited++;
		l3_drop(meta, reason);
		return;
	}
	if (icmp_error_build(m, meta, type, code, in_net->gw_ip, &in_net->gw_mac,
			     ctx->icmp_ip_id++) != 0) {
		l3_drop(meta, reason);
		return;
	}
	if (mtu != 0)
		icmp_error_set_mtu(m, mtu);
	ctx->cnt.drops[reason]++;
	ctx->cnt.ports[meta->in_port].drops++;
	ctx->cnt.icmp_errors++;
	meta->out_port = meta->in_port;
	meta->next = PL_NEXT_TX;
}

/*
 * The longest IPv4 datagram this frame puts on the wire: its own length, or
 * for a large TCP segment (offload.h) the largest segment it will be cut
 * into - IP and TCP headers plus one MSS, as Linux's
 * skb_gso_validate_network_len.
 */
static inline uint32_t
l3_wire_len(const struct rte_mbuf *m, const struct pkt_meta *meta)
{
	if (likely(!(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG)))
		return meta->l3_len;
	return RTE_MIN((uint32_t)meta->l3_len,
		       (uint32_t)m->l3_len + m->l4_len + m->tso_segsz);
}

/* An error about a frame the NAT stage translated quotes it as its source
 * sent it: rewrite it back first (nat_untranslate). false: it cannot be (its
 * connection is gone) - then no error is sent, only the drop counted. */
static inline bool
l3_error_quotable(struct lcore_ctx *ctx, struct rte_mbuf *m, struct pkt_meta *meta)
{
	return !(meta->flags & PKT_F_NAT) || nat_untranslate(ctx, m, meta);
}

/* The host port's domain when it is there to take the uplink address's
 * traffic (neigh.h), else DP_DOMAIN_NONE. */
static inline uint16_t
l3_host_dom(const struct dp_view *v)
{
	uint16_t hp = v->host_port;
	uint16_t d;

	if (likely(hp >= RTE_MAX_ETHPORTS) || !v->ports[hp].present)
		return DP_DOMAIN_NONE;
	d = v->ports[hp].domain;
	if (d >= DP_MAX_DOMAINS ||
	    (v->nets[d].flags & (DP_NET_F_L3 | DP_NET_F_HOST)) != (DP_NET_F_L3 | DP_NET_F_HOST))
		return DP_DOMAIN_NONE;
	return d;
}

/*
 * Traffic for a gateway address: the uplink address goes to the host port
 * when there is one (neigh.h); otherwise answer a ping, hand anything else to
 * the uplink's host (which owns the gateway addresses in TAP mode), or drop.
 * Returns true when the frame waits for a neighbour (in the uplink's domain,
 * or (h, dst) in the host port's).
 */
static inline bool
l3_local(struct lcore_ctx *ctx, struct rte_mbuf *m, struct pkt_meta *meta,
	 const struct dp_net_view *in_net, uint32_t dst, uint16_t *out_dom)
{
	const struct dp_view *v = ctx->view;
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint16_t up = v->uplink_port;
	uint16_t up_dom = up < RTE_MAX_ETHPORTS && v->ports[up].present ?
		v->ports[up].domain : DP_DOMAIN_NONE;
	uint16_t host_dom = DP_DOMAIN_NONE;

	/* The uplink address, from u or a bridge network (not from the host's own
	 * domain, nor from an internal network): the host answers it all. */
	if (up_dom < DP_MAX_DOMAINS && dst == v->nets[up_dom].gw_ip &&
	    !(in_net->flags & (DP_NET_F_HOST | DP_NET_F_INTERNAL)))
		host_dom = l3_host_dom(v);
	if (host_dom == DP_DOMAIN_NONE && meta->flags & PKT_F_ICMP &&
	    !(meta->flags & PKT_F_FRAG) &&
	    p[meta->l4_off] == RTE_IP_ICMP_ECHO_REQUEST && p[meta->l4_off + 1] == 0) {
		icmp_echo_reply(m, meta);
		meta->out_port = meta->in_port;
		meta->next = PL_NEXT_TX;
		ctx->cnt.icmp_echo_replies++;
		return false;
	}
	if (in_net->flags & DP_NET_F_INTERNAL && dst != in_net->gw_ip) {
		l3_drop(meta, DP_DROP_INTERNAL);
		return false;
	}
	if (host_dom != DP_DOMAIN_NONE) {
		*out_dom = host_dom;
		return true;
	}
	/* The uplink address itself is dpnet's alone (TAP mode's 169.254.17.2):
	 * with no host port behind it, only pings and published ports answer. */
	if (up_dom < DP_MAX_DOMAINS && dst == v->nets[up_dom].gw_ip) {
		l3_drop(meta, DP_DROP_GATEWAY_LOCAL);
		return false;
	}
	/* Nobody in a resolving uplink domain owns our addresses (NIC mode: the
	 * host's are behind the host port), so nothing to ask ARP for there. */
	if (up_dom >= DP_MAX_DOMAINS || in_net->flags & (DP_NET_F_UPLINK | DP_NET_F_HOST) ||
	    (v->nets[up_dom].flags & (DP_NET_F_L3 | DP_NET_F_RESOLVE)) != DP_NET_F_L3) {
		l3_drop(meta, DP_DROP_GATEWAY_LOCAL);
		return false;
	}
	*out_dom = up_dom;
	return true;
}

/*
 * First pass over one frame: decide it, or fill the neighbour key and the
 * pending record and return true.
 */
static inline bool
l3_classify(struct lcore_ctx *ctx, struct rte_mbuf *m, uint64_t *key, struct l3_pending *pd)
{
	const struct dp_view *v = ctx->view;
	struct pkt_meta *meta = pkt_meta(m);
	const struct dp_net_view *in_net = &v->nets[meta->domain];
	const struct dp_net_view *out_net;
	const struct l3_nexthop *nh;
	const struct rte_ipv4_hdr *ip;
	uint32_t dst;
	uint16_t out_dom;
	bool rt;

	if (unlikely(!(meta->flags & PKT_F_IPV4) || meta->flags & PKT_F_VLAN)) {
		l3_drop(meta, meta->flags & PKT_F_IPV6 ? DP_DROP_IPV6_NOT_ROUTED :
			DP_DROP_NOT_ROUTABLE);
		return false;
	}
	ip = (const struct rte_ipv4_hdr *)(rte_pktmbuf_mtod(m, const uint8_t *) + meta->l3_off);
	/* The NAT stage may have checked the header and looked the route up
	 * (pkt.h PKT_F_RT): good for this pass only. */
	rt = meta->flags & PKT_F_RT;
	meta->flags &= ~PKT_F_RT;
	if (unlikely(!rt && !cksum_ipv4_hdr_ok(m, ip))) {
		l3_drop(meta, DP_DROP_BAD_IP_CKSUM);
		return false;
	}
	dst = rte_be_to_cpu_32(ip->dst_addr);
	/* Multicast, class E, broadcast and 0.0.0.0 are never routed nor answered. */
	if (unlikely(dst >= 0xE0000000 || dst == 0)) {
		l3_drop(meta, DP_DROP_NOT_ROUTABLE);
		return false;
	}
	if (unlikely(dst == in_net->gw_ip)) {
		if (!l3_local(ctx, m, meta, in_net, dst, &out_dom))
			return false;
		*key = l3_neigh_key(out_dom, dst);
		pd->out_dom = out_dom;
		pd->routed = false;
		return true;
	}
	if (rt)
		nh = meta->rt_nh != PKT_RT_NONE ? &ctx->l3->nh[meta->rt_nh] : NULL;
	else
		nh = l3_route_lookup(ctx->l3, dst);
	if (unlikely(nh == NULL || nh->type == L3_NH_BLACKHOLE)) {
		if (l3_error_quotable(ctx, m, meta))
			l3_icmp_error(ctx, m, meta, in_net, ICMP_DEST_UNREACH, ICMP_NET_UNREACH,
				      DP_DROP_NO_ROUTE, 0);
		else
			l3_drop(meta, DP_DROP_NO_ROUTE);
		return false;
	}
	out_dom = nh->domain;
	out_net = &v->nets[out_dom];
	if (nh->type == L3_NH_CONNECTED && unlikely(dst == out_net->gw_ip && dst != 0)) {
		/* Another network's gateway address: ours too. */
		if (!l3_local(ctx, m, meta, in_net, dst, &out_dom))
			return false;
		*key = l3_neigh_key(out_dom, dst);
		pd->out_dom = out_dom;
		pd->routed = false;
		return true;
	}
	if (unlikely(!(out_net->flags & DP_NET_F_L3))) {
		/* A route into a domain with no gateway MAC to send from. */
		l3_drop(meta, DP_DROP_NO_ROUTE);
		return false;
	}
	if (out_dom != meta->domain) {
		uint8_t in_f = in_net->flags, out_f = out_net->flags;

		/* A translated frame (a published port reached from another bridge
		 * network, or its reply) crosses networks: the NAT stage allowed it. */
		if (unlikely(!((in_f | out_f) & (DP_NET_F_UPLINK | DP_NET_F_HOST)) &&
			     !(meta->flags & PKT_F_NAT))) {
			l3_drop(meta, DP_DROP_ISOLATED);
			return false;
		}
		if (unlikely((out_f & DP_NET_F_UPLINK && in_f & DP_NET_F_INTERNAL) ||
			     (in_f & (DP_NET_F_UPLINK | DP_NET_F_HOST) && out_f & DP_NET_F_INTERNAL &&
			      rte_be_to_cpu_32(ip->src_addr) != out_net->gw_ip))) {
			l3_drop(meta, DP_DROP_INTERNAL);
			return false;
		}
	}
	if (unlikely(ip->time_to_live <= 1)) {
		if (l3_error_quotable(ctx, m, meta))
			l3_icmp_error(ctx, m, meta, in_net, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL,
				      DP_DROP_TTL_EXCEEDED, 0);
		else
			l3_drop(meta, DP_DROP_TTL_EXCEEDED);
		return false;
	}
	/* The MTU rule (neigh.h): dpnet does not fragment. A large TCP segment
	 * (offload.h) is tested by the largest frame it will become. */
	if (unlikely(meta->l3_len > out_net->mtu && out_net->mtu != 0) &&
	    l3_wire_len(m, meta) > out_net->mtu) {
		/* The error quotes the packet as its source sent it: untranslated. */
		if (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_DF_FLAG) &&
		    l3_error_quotable(ctx, m, meta))
			l3_icmp_error(ctx, m, meta, in_net, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED,
				      DP_DROP_TOO_BIG, out_net->mtu);
		else
			l3_drop(meta, DP_DROP_TOO_BIG);
		return false;
	}
	*key = l3_neigh_key(out_dom, nh->type == L3_NH_CONNECTED ? dst : nh->gw_ip);
	pd->out_dom = out_dom;
	pd->routed = true;
	return true;
}

/*
 * The MACs of n <= DP_BURST neighbour keys: bit j of *hits set and data[j]
 * the packed MAC when keys[j] is known. A per-worker direct-mapped cache
 * answers most (a routed burst goes to a few next hops); the rest are looked
 * up in bulk and cached. An entry is good while l3->neigh_gen has not moved
 * since its lookup (neigh.c bumps it when a MAC changes or goes); misses are
 * not cached: a new neighbour needs no bump, and a miss goes to control anyway.
 */
static inline void
l3_neigh_lookup(struct lcore_ctx *ctx, const uint64_t *keys, uint16_t n, uint64_t *hits,
		void **data, struct l3_nc_ent **ent)
{
	/* Loaded before any lookup: an entry cached with it is invalidated by a
	 * later change. */
	uint32_t gen = __atomic_load_n(&ctx->l3->neigh_gen, __ATOMIC_ACQUIRE);
	const void *mkeys[DP_BURST];
	void *mdata[DP_BURST];
	uint16_t midx[DP_BURST];
	uint64_t mhits = 0;
	uint16_t nm = 0;

	*hits = 0;
	for (uint16_t j = 0; j < n; j++) {
		struct l3_nc_ent *c =
			&ctx->nhc[rte_hash_crc_8byte(keys[j], 0) & (DP_NH_CACHE - 1)];

		if (likely(c->key == keys[j] && c->gen == gen)) {
			data[j] = (void *)(uintptr_t)c->mac;
			ent[j] = c;
			*hits |= UINT64_C(1) << j;
			continue;
		}
		ent[j] = NULL;
		mkeys[nm] = &keys[j];
		midx[nm++] = j;
	}
	if (nm == 0)
		return;
	rte_hash_lookup_bulk_data(ctx->l3->neigh, mkeys, nm, &mhits, mdata);
	for (uint16_t i = 0; i < nm; i++) {
		uint16_t j = midx[i];
		struct l3_nc_ent *c;

		if (!(mhits & (UINT64_C(1) << i)))
			continue;
		data[j] = mdata[i];
		*hits |= UINT64_C(1) << j;
		c = &ctx->nhc[rte_hash_crc_8byte(keys[j], 0) & (DP_NH_CACHE - 1)];
		c->key = keys[j];
		c->mac = (uint64_t)(uintptr_t)mdata[i];
		c->gen = gen;
		c->fdb_pos = -1;
		ent[j] = c;
	}
}

/*
 * The output port of a routed frame to the neighbour cached at c (mac, in
 * domain dom): what l2out would find, from the MAC-table position cached with
 * the neighbour (looked up on first use, checked by br_out_port like the
 * bridge's own cache), or RTE_MAX_ETHPORTS to leave the frame to l2out (MAC
 * unknown or moved away, remote, or c taken by another key of this burst).
 */
static inline uint16_t
l3_nc_port(struct lcore_ctx *ctx, struct l3_nc_ent *c, uint64_t key, uint64_t mac, uint16_t dom)
{
	uint64_t fkey = ((uint64_t)dom << 48) | mac;   /* fdb_key */
	uint16_t out;

	if (unlikely(c == NULL || c->key != key))
		return RTE_MAX_ETHPORTS;
	if (unlikely(c->fdb_pos < 0))
		br_mac_lookup(ctx, &fkey, 1, &c->fdb_pos);
	out = br_out_port(ctx->view, ctx->fdb, c->fdb_pos, fkey, dom);
	if (likely(out < DP_PORT_VXLAN))
		return out;
	/* Unknown or gone: looked up again next time. Remote: the position is
	 * right, l2out reads its VTEP. */
	if (out != DP_PORT_VXLAN)
		c->fdb_pos = -1;
	return RTE_MAX_ETHPORTS;
}

static void
l3_chunk(struct lcore_ctx *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	const struct dp_view *v = ctx->view;
	uint64_t keys[DP_BURST];
	void *data[DP_BURST];
	struct l3_nc_ent *ent[DP_BURST];
	struct l3_pending pd[DP_BURST];
	uint64_t hits = 0;
	uint16_t np = 0;

	for (uint16_t i = 0; i < n; i++) {
		if (!l3_classify(ctx, pkts[i], &keys[np], &pd[np]))
			continue;
		pd[np++].idx = i;
	}
	if (np == 0)
		return;
	l3_neigh_lookup(ctx, keys, np, &hits, data, ent);
	for (uint16_t j = 0; j < np; j++) {
		struct rte_mbuf *m = pkts[pd[j].idx];
		struct pkt_meta *meta = pkt_meta(m);
		uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
		struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;

		const struct dp_net_view *out_net = &v->nets[pd[j].out_dom];
		bool hit = hits & (UINT64_C(1) << j);

		/* A miss waits for control in a resolving domain (neigh.h), never
		 * for our own address there; elsewhere neighbours are installed. */
		if (!hit && (!(out_net->flags & DP_NET_F_RESOLVE) ||
			     (uint32_t)keys[j] == out_net->gw_ip)) {
			l3_drop(meta, DP_DROP_NO_NEIGHBOUR);
			continue;
		}
		if (pd[j].routed) {
			struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + meta->l3_off);

			/* A NIC that left the checksum out vouched for the header: fill it. */
			if (unlikely((m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) ==
				     RTE_MBUF_F_RX_IP_CKSUM_NONE)) {
				ip->time_to_live--;
				ip->hdr_checksum = 0;
				ip->hdr_checksum = rte_ipv4_cksum(ip);
			} else {
				l3_ttl_dec(ip);
			}
		}
		eth->src_addr = out_net->gw_mac;
		meta->domain = pd[j].out_dom;
		meta->flags |= PKT_F_ROUTED;
		if (unlikely(!hit)) {
			/* Finished but for its destination MAC, which control finds. */
			meta->next = PL_NEXT_PUNT;
			meta->punt = PUNT_NEIGH_MISS;
			meta->nh_ip = (uint32_t)keys[j];
			continue;
		}
		l3_mac_unpack((uint64_t)(uintptr_t)data[j], &eth->dst_addr);
		ctx->cnt.routed++;
		/* l2out's work done here when the neighbour's port is cached. */
		meta->out_port = l3_nc_port(ctx, ent[j], keys[j], (uint64_t)(uintptr_t)data[j],
					    pd[j].out_dom);
		meta->next = meta->out_port < DP_PORT_VXLAN ? PL_NEXT_TX : PL_NEXT_L2OUT;
	}
}

uint16_t
l3_stage(struct lcore_ctx *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t done = 0; done < n; done += DP_BURST)
		l3_chunk(ctx, pkts + done, (uint16_t)RTE_MIN(n - done, DP_BURST));
	return n;
}
