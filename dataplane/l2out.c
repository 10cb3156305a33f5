/*
 * l2out.c - the L2 output of routed frames: find the port behind the
 * destination MAC in the output domain's MAC table, or flood in that domain.
 * (Frames whose neighbour the L3 stage had cached with its port skip this
 * stage: route.c l3_nc_port makes the same br_out_port decision.)
 *
 * The L3 stage has rewritten the Ethernet addresses and set meta->domain to
 * the output domain (PKT_F_ROUTED). The lookup is the bridge's own, with its
 * per-worker cache (br_mac_lookup). Unlike a bridged frame, a routed one may
 * leave through its ingress port when that is where its destination lives (a
 * hairpin through the gateway, or the uplink answering itself); when the MAC
 * is unknown it is flooded in the output domain, never back out the ingress
 * port (the dispatcher uses view->dom_flood for routed frames). Nothing is
 * learned here: the source MAC is the gateway's. A destination behind a remote
 * VTEP (an overlay, vxlan.h) goes to vxenc with meta->nh_ip = that VTEP: the
 * routed-overlay case, where the L3 stage's neighbour is a remote host's VTEP
 * MAC.
 *
 * Thread safety: runs on a worker; reads the view and the MAC table lock-free.
 */
#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "pipeline.h"
#include "pkt.h"

static void
l2out_chunk(struct lcore_ctx *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	const struct dp_view *v = ctx->view;
	const struct fdb *fdb = ctx->fdb;
	uint64_t keys[DP_BURST];
	int32_t pos[DP_BURST];

	if (n == 0)
		return;
	for (uint16_t i = 0; i < n; i++) {
		const struct rte_ether_hdr *eth =
			rte_pktmbuf_mtod(pkts[i], const struct rte_ether_hdr *);

		keys[i] = fdb_key(pkt_meta(pkts[i])->domain, &eth->dst_addr);
	}
	br_mac_lookup(ctx, keys, n, pos);
	for (uint16_t i = 0; i < n; i++) {
		struct pkt_meta *meta = pkt_meta(pkts[i]);
		uint16_t out;

		out = br_out_port(v, fdb, pos[i], keys[i], meta->domain);
		if (unlikely(out >= DP_PORT_VXLAN)) {
			if (out == RTE_MAX_ETHPORTS) {
				meta->next = PL_NEXT_FLOOD;
				continue;
			}
			/* A remote MAC (vxlan.h): to its VTEP through the tunnel. */
			meta->nh_ip = __atomic_load_n(&fdb->entries[pos[i]].vtep, __ATOMIC_RELAXED);
			meta->next = meta->nh_ip != 0 ? PL_NEXT_VXENC : PL_NEXT_FLOOD;
			continue;
		}
		meta->out_port = out;
		meta->next = PL_NEXT_TX;
	}
}

uint16_t
l2out_stage(struct lcore_ctx *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t done = 0; done < n; done += DP_BURST)
		l2out_chunk(ctx, pkts + done, (uint16_t)RTE_MIN(n - done, DP_BURST));
	return n;
}
