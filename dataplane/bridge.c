/*
 * bridge.c - the L2 stage: learn source MACs, look up destinations, decide
 * unicast, flood or drop within the ingress port's bridge domain.
 *
 * Per burst, the source and destination keys of every packet are looked up in a
 * per-worker exact-match cache (a direct-mapped array indexed by the key's CRC,
 * which is also rte_hash's signature); only the misses go to the MAC table, in
 * one rte_hash_lookup_with_hash_bulk call. Cached positions and cached misses
 * are validated as fdb.h describes, so the cache never outlives a change. A
 * known source refreshes its entry in place (and is relearned on the new port
 * if it moved); an unknown source is
 * queued for the control thread to add, at most once per DP_LEARN_TSC_GAP per
 * MAC thanks to a small direct-mapped cache of recent requests, so a flood of
 * frames from one new MAC costs one ring slot, not one per frame. Broadcast,
 * multicast and unknown destinations are flooded; a destination learned on the
 * ingress port is dropped (a switch never sends a frame back where it came from).
 *
 * In a domain with a gateway (DP_NET_F_L3), a frame to the gateway MAC leaves
 * the bridge for the ARP stage (ARP), the NAT stage (untagged IPv4: conntrack
 * and NAT come before routing, nat.h) or the L3 stage (anything else, which it
 * drops with its reasons), and an
 * ARP request for the gateway address - or, with DP_NET_F_PROXY_ARP, for any
 * address routed to another domain - goes to the ARP stage instead of being
 * flooded. A gateway MAC is never learned (a frame from one is not ours to
 * bridge: dropped as bad-src-mac), so a frame to it always misses the MAC
 * table: only destinations that miss (and multicast, for ARP) are compared
 * with the gateway MAC, and known unicast pays nothing for the gateway.
 *
 * Overlays (vxlan.h). VXLAN for our VTEP never reaches the bridge as such:
 * the parser sends it to vxdec, which hands the inner frames on to the bridge
 * in the same round, with in_port DP_PORT_VXLAN and meta->nh_ip = the remote
 * VTEP, among the other frames of the uplink's burst: their source MACs are
 * learned (and moved, in place) as remote, with that VTEP. One test per
 * burst (the VTEP's domain, or a burst of decapsulated frames) picks the
 * variant of the loop that tests each frame's port, so the local path has no
 * per-frame cost.
 * A destination MAC that is remote (br_out_port gives DP_PORT_VXLAN) goes to
 * vxenc with meta->nh_ip = its VTEP, except from the tunnel itself (split
 * horizon: same-port). ARP requests for an address in an overlay domain's
 * ARP-suppression table go to the ARP stage, which answers them.
 *
 * Thread safety: runs on a worker; reads the view and the MAC table lock-free,
 * writes only its own counters and the seen/port fields of existing entries.
 */
#include <rte_arp.h>
#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_prefetch.h>
#include <rte_ring_elem.h>

#include "l3_private.h"
#include "pipeline.h"
#include "pkt.h"
#include "vxlan_private.h"

static inline void
br_learn_request(struct lcore_ctx *ctx, uint64_t key, uint16_t port, uint32_t vtep)
{
	unsigned int slot = (unsigned int)(rte_hash_crc_8byte(key, 0) % DP_LEARN_CACHE);
	struct fdb_learn_req req = {.key = key, .vtep = vtep, .port = port};

	if (ctx->learn_key[slot] == key &&
	    ctx->now_tsc - ctx->learn_tsc[slot] < ctx->learn_gap_tsc)
		return;
	ctx->learn_key[slot] = key;
	ctx->learn_tsc[slot] = ctx->now_tsc;
	if (likely(rte_ring_mp_enqueue_elem(ctx->fdb->learn_ring, &req, sizeof(req)) == 0))
		ctx->cnt.learn_events++;
	else
		ctx->cnt.learn_full++;
}

/* Last-seen time, written at most every refresh_tsc (on every frame it would
 * bounce the line between workers). */
static inline void
br_seen(struct lcore_ctx *ctx, struct fdb_entry *e)
{
	if (unlikely(ctx->now_tsc - __atomic_load_n(&e->seen_tsc, __ATOMIC_RELAXED) >
		     ctx->fdb->refresh_tsc))
		__atomic_store_n(&e->seen_tsc, ctx->now_tsc, __ATOMIC_RELAXED);
}

static inline void
br_refresh(struct lcore_ctx *ctx, struct fdb_entry *e, uint16_t in_port)
{
	if (unlikely(__atomic_load_n(&e->port, __ATOMIC_RELAXED) != in_port) && !e->is_static) {
		/* Local now. The vtep field is left as it was: it means something
		 * only while port is DP_PORT_VXLAN, and zeroing it would let a
		 * reader that loaded the old port (remote) read a VTEP of 0. */
		__atomic_store_n(&e->port, in_port, __ATOMIC_RELAXED);
		ctx->cnt.fdb_moves++;
	}
	br_seen(ctx, e);
}

/* A source MAC seen in a frame decapsulated from VTEP vtep. */
static inline void
br_refresh_remote(struct lcore_ctx *ctx, struct fdb_entry *e, uint32_t vtep)
{
	if (unlikely(__atomic_load_n(&e->port, __ATOMIC_RELAXED) != DP_PORT_VXLAN ||
		     __atomic_load_n(&e->vtep, __ATOMIC_RELAXED) != vtep) && !e->is_static) {
		/* The VTEP first, then the port with release: a reader that
		 * acquires port == DP_PORT_VXLAN (br_out_port) sees this VTEP. */
		__atomic_store_n(&e->vtep, vtep, __ATOMIC_RELAXED);
		__atomic_store_n(&e->port, DP_PORT_VXLAN, __ATOMIC_RELEASE);
		ctx->cnt.fdb_moves++;
	}
	br_seen(ctx, e);
}

static inline void
br_drop(struct pkt_meta *meta, enum dp_drop reason)
{
	meta->next = PL_NEXT_DROP;
	meta->drop_reason = reason;
}

/*
 * Look up n keys: first in the worker's exact-match cache, then the misses in
 * one rte_hash bulk call with the signatures already computed. pos[j] gets the
 * hash position or a negative value (absent).
 */
static __rte_always_inline void
br_lookup(struct lcore_ctx *ctx, const uint64_t *keys, uint32_t n, int32_t *pos)
{
	const struct fdb *fdb = ctx->fdb;
	/* Loaded before any lookup: a miss cached with it is invalidated by a later add. */
	uint32_t gen = (uint32_t)__atomic_load_n(&fdb->add_gen, __ATOMIC_ACQUIRE);
	const void *mkeys[2 * DP_BURST];
	hash_sig_t msigs[2 * DP_BURST];
	int32_t mpos[2 * DP_BURST];
	uint16_t midx[2 * DP_BURST];
	uint32_t nm = 0;

	for (uint32_t j = 0; j < n; j++) {
		uint32_t sig = fdb_key_sig(keys[j]);
		const struct br_cache_ent *c = &ctx->brc[sig & (DP_BR_CACHE - 1)];

		if (likely(c->key == keys[j])) {
			if (c->pos >= 0) {
				if (likely(__atomic_load_n(&fdb->entries[c->pos].key,
							   __ATOMIC_ACQUIRE) == keys[j])) {
					pos[j] = c->pos;
					continue;
				}
			} else if (c->gen == gen) {
				pos[j] = -ENOENT;
				continue;
			}
		}
		mkeys[nm] = &keys[j];
		msigs[nm] = sig;
		midx[nm++] = (uint16_t)j;
	}
	if (nm == 0)
		return;
	rte_hash_lookup_with_hash_bulk(fdb->hash, mkeys, msigs, nm, mpos);
	for (uint32_t i = 0; i < nm; i++) {
		uint32_t j = midx[i];
		struct br_cache_ent *c = &ctx->brc[msigs[i] & (DP_BR_CACHE - 1)];

		pos[j] = mpos[i];
		c->key = keys[j];
		c->pos = mpos[i] >= 0 ? mpos[i] : -ENOENT;
		c->gen = gen;
	}
}

void
br_mac_lookup(struct lcore_ctx *ctx, const uint64_t *keys, uint32_t n, int32_t *pos)
{
	br_lookup(ctx, keys, n, pos);
}

/* The fdb_key a domain's gateway MAC would have; a key no frame can have (the
 * domain is DP_DOMAIN_NONE, which the bridge drops first) when it has none. */
static inline uint64_t
br_gw_key(const struct dp_view *v, uint16_t dom)
{
	const struct dp_net_view *net = &v->nets[dom];

	return net->flags & DP_NET_F_L3 ? fdb_key(dom, &net->gw_mac) : UINT64_MAX;
}

/*
 * An ARP frame flooded in a routed domain: a request for the gateway address,
 * or in a proxy-ARP domain for an address routed elsewhere, and any ARP frame
 * in a resolving domain (DP_NET_F_RESOLVE, neigh.h), goes to the ARP stage
 * (returns true). Out of line: the flood loop stays small.
 */
static __rte_noinline bool
br_arp_for_gateway(const struct lcore_ctx *ctx, struct pkt_meta *meta,
		   const struct rte_ether_hdr *eth)
{
	const struct dp_net_view *net = &ctx->view->nets[meta->domain];
	const struct rte_arp_hdr *ah =
		(const struct rte_arp_hdr *)((const uint8_t *)eth + meta->l3_off);
	uint32_t tip;

	/* A resolving domain's ARP is control's to learn from (arp.c, neigh.h). */
	if (net->flags & DP_NET_F_RESOLVE)
		return true;
	if (ah->arp_opcode != RTE_BE16(RTE_ARP_OP_REQUEST))
		return false;
	tip = rte_be_to_cpu_32(ah->arp_data.arp_tip);
	/* ARP suppression (vxlan.h): a local host asking for a known endpoint. */
	if (net->flags & DP_NET_F_OVERLAY && meta->in_port != DP_PORT_VXLAN) {
		struct rte_ether_addr mac;

		if (vxlan_arp_lookup(ctx->dp, meta->domain, tip, &mac))
			return true;
	}
	if (!(net->flags & DP_NET_F_L3))
		return false;
	return (tip == net->gw_ip && tip != 0) ||
		(net->flags & DP_NET_F_PROXY_ARP &&
		 l3_proxy_arp_target(ctx->l3, meta->domain, tip));
}

/* Where a frame to a gateway MAC goes: ARP, NAT, or L3. (VXLAN for our VTEP
 * never gets here: the parser sent it to vxdec, vxlan.h.) */
static inline uint8_t
br_gw_next(const struct pkt_meta *meta)
{
	if (meta->flags & PKT_F_ARP)
		return PL_NEXT_ARP;
	if ((meta->flags & (PKT_F_IPV4 | PKT_F_VLAN)) != PKT_F_IPV4)
		return PL_NEXT_L3;
	return PL_NEXT_NAT;
}

/*
 * One chunk of at most DP_BURST packets (2 keys each). mixed: some frames may
 * have been decapsulated by vxdec (in_port DP_PORT_VXLAN, meta->nh_ip their
 * VTEP), which each frame then tests; a constant in each of br_stage's two
 * calls, so each gets its own loop and the local one pays nothing for it.
 */
static __rte_always_inline void
br_chunk(struct lcore_ctx *ctx, struct rte_mbuf **pkts, uint16_t n, const bool mixed)
{
	const struct dp_view *v = ctx->view;
	struct fdb *fdb = ctx->fdb;
	uint64_t keys[2 * DP_BURST];
	int32_t pos[2 * DP_BURST];
	/* The gateway's key for the domain of the last packet that needed it (a
	 * burst from one port has one domain: computed once). */
	uint16_t gw_dom = DP_DOMAIN_NONE;
	uint64_t gw_key = UINT64_MAX;

	/* The parser checked that the 14-byte Ethernet header is there: both 8-byte
	 * loads (destination at 0, source at 6) stay inside it. */
	for (uint16_t i = 0; i < n; i++) {
		const uint8_t *eth = rte_pktmbuf_mtod(pkts[i], const uint8_t *);
		uint16_t dom = pkt_meta(pkts[i])->domain;

		keys[2 * i] = fdb_key_hdr(dom, eth + RTE_ETHER_ADDR_LEN);
		keys[2 * i + 1] = fdb_key_hdr(dom, eth);
	}
	br_lookup(ctx, keys, 2u * n, pos);

	for (uint16_t i = 0; i < n; i++) {
		struct pkt_meta *meta = pkt_meta(pkts[i]);
		const bool tunnel = mixed && meta->in_port == DP_PORT_VXLAN;
		uint16_t out;

		if (unlikely(meta->domain == DP_DOMAIN_NONE)) {
			br_drop(meta, DP_DROP_NO_NETWORK);
			continue;
		}
		/* Source multicast or all-zero, read from its key. */
		if (unlikely((keys[2 * i] & FDB_KEY_MCAST) ||
			     (keys[2 * i] & FDB_KEY_MAC_MASK) == 0)) {
			br_drop(meta, DP_DROP_BAD_SRC_MAC);
			continue;
		}
		if (likely(pos[2 * i] >= 0)) {
			if (tunnel)
				br_refresh_remote(ctx, &fdb->entries[pos[2 * i]], meta->nh_ip);
			else
				br_refresh(ctx, &fdb->entries[pos[2 * i]], meta->in_port);
		} else {
			if (unlikely(meta->domain != gw_dom)) {
				gw_dom = meta->domain;
				gw_key = br_gw_key(v, gw_dom);
			}
			/* Only we send from a gateway MAC: never learn it (see above). */
			if (unlikely(keys[2 * i] == gw_key)) {
				br_drop(meta, DP_DROP_BAD_SRC_MAC);
				continue;
			}
			br_learn_request(ctx, keys[2 * i], meta->in_port, tunnel ? meta->nh_ip : 0);
		}

		if (meta->flags & PKT_F_L2_MCAST || pos[2 * i + 1] < 0) {
			/* A gateway MAC is never in the table: only here can it be ours. */
			if (unlikely(meta->domain != gw_dom)) {
				gw_dom = meta->domain;
				gw_key = br_gw_key(v, gw_dom);
			}
			if (unlikely(keys[2 * i + 1] == gw_key)) {
				meta->next = br_gw_next(meta);
				continue;
			}
			/* Gateways are untagged: a tagged request floods like any frame. */
			if (unlikely((meta->flags & (PKT_F_ARP | PKT_F_VLAN)) == PKT_F_ARP) &&
			    br_arp_for_gateway(ctx, meta,
					       rte_pktmbuf_mtod(pkts[i], struct rte_ether_hdr *))) {
				meta->next = PL_NEXT_ARP;
				continue;
			}
			meta->next = PL_NEXT_FLOOD;
			continue;
		}
		out = br_out_port(v, fdb, pos[2 * i + 1], keys[2 * i + 1], meta->domain);
		/* One test for both rare answers: flood, or a remote MAC. */
		if (unlikely(out >= DP_PORT_VXLAN)) {
			if (out == RTE_MAX_ETHPORTS) {
				meta->next = PL_NEXT_FLOOD;
				continue;
			}
			/* From the tunnel: same-port below (split horizon). */
			if (!tunnel) {
				meta->nh_ip = __atomic_load_n(&fdb->entries[pos[2 * i + 1]].vtep,
							      __ATOMIC_RELAXED);
				/* A slot being refilled by control: flood. */
				if (unlikely(meta->nh_ip == 0)) {
					meta->next = PL_NEXT_FLOOD;
					continue;
				}
				meta->next = PL_NEXT_VXENC;
				/* pl_run encapsulates it in this round. */
				ctx->vxenc_pending = true;
				continue;
			}
		}
		if (unlikely(out == meta->in_port)) {
			br_drop(meta, DP_DROP_SAME_PORT);
			continue;
		}
		meta->out_port = out;
		meta->next = PL_NEXT_TX;
	}
}

uint16_t
br_stage(struct lcore_ctx *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	/* The VTEP's domain: vxdec's inner frames may be among the burst's. */
	if (unlikely(ctx->rx_vtep || (n > 0 && pkt_meta(pkts[0])->in_port == DP_PORT_VXLAN))) {
		for (uint16_t done = 0; done < n; done += DP_BURST)
			br_chunk(ctx, pkts + done, (uint16_t)RTE_MIN(n - done, DP_BURST), true);
		return n;
	}
	for (uint16_t done = 0; done < n; done += DP_BURST)
		br_chunk(ctx, pkts + done, (uint16_t)RTE_MIN(n - done, DP_BURST), false);
	return n;
}
