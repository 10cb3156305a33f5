/*
 * arp.c - the ARP stage: answer ARP requests for a gateway address (and, in a
 * domain with DP_NET_F_PROXY_ARP, for every address routed to another domain)
 * with the domain's gateway MAC, and, in a domain whose neighbours are
 * resolved (DP_NET_F_RESOLVE, neigh.h), hand the ARP frames of its hosts to
 * control to learn from.
 *
 * The bridge sends here the ARP requests whose target is the domain's gateway
 * address or a proxied one, and every ARP frame addressed to the gateway MAC
 * (a host's unicast refresh of its neighbour entry is a request like any
 * other). A request is turned into its reply in place - opcode, both address
 * pairs, Ethernet addresses - and goes back out the port it came in on. Replies
 * to us, gratuitous ARP and requests for other addresses are dropped and
 * counted (arp-ignored), except in a resolving domain: there every ARP frame
 * from a sender inside the domain's subnet (not our own address) goes to
 * control on dp->punt (PUNT_ARP) - the frame itself when we did not answer
 * it, a copy (rte_pktmbuf_copy from dp->pool) when we did, taken before the
 * frame becomes its reply. The bridge sends every untagged ARP frame of a
 * resolving domain here (bridge.c). Workers never write the neighbour table.
 *
 * ARP suppression (vxlan.h): in an overlay domain, a request from a local
 * port for an address in the domain's ARP-suppression table is answered with
 * that entry's MAC (as Linux's vxlan arp_reduce: Ethernet source and sender
 * the endpoint's MAC), so it is not flooded to every peer. A reply to a
 * request that came through the tunnel goes back to its VTEP: the dispatcher
 * sends a frame whose out_port is DP_PORT_VXLAN to vxenc (meta->nh_ip).
 *
 * Thread safety: runs on a worker; reads the view and the LPM table (proxy
 * ARP) lock-free; writes only the mbufs it is given (and their copies, which
 * it enqueues on dp->punt, a multi-producer ring) and its counters.
 */
#include <rte_arp.h>
#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "l3_private.h"
#include "neigh.h"
#include "pipeline.h"
#include "pkt.h"
#include "vxlan_private.h"

static inline void
arp_drop(struct pkt_meta *meta)
{
	meta->next = PL_NEXT_DROP;
	meta->drop_reason = DP_DROP_ARP_IGNORED;
}

/* Does control learn from this ARP frame (neigh.h)? In a resolving domain,
 * untagged, from a sender inside the domain's subnet other than us. */
static inline bool
arp_to_control(const struct dp_net_view *net, const struct pkt_meta *meta, uint32_t sip)
{
	uint32_t mask = net->prefix_len ? ~UINT32_C(0) << (32 - net->prefix_len) : 0;

	return net->flags & DP_NET_F_RESOLVE && !(meta->flags & PKT_F_VLAN) && net->gw_ip != 0 &&
		sip != 0 && sip != net->gw_ip && ((sip ^ net->subnet) & mask) == 0;
}

/* A copy of a request we answer, for control (the frame itself becomes the reply). */
static __rte_noinline void
arp_punt_copy(struct lcore_ctx *ctx, struct rte_mbuf *m, const struct pkt_meta *meta)
{
	struct rte_mbuf *c = rte_pktmbuf_copy(m, ctx->dp->pool, 0, UINT32_MAX);
	struct pkt_meta *cm;

	if (c == NULL)
		return;    /* nothing lost but a chance to learn: the next ARP brings it */
	cm = pkt_meta(c);
	*cm = *meta;
	cm->next = PL_NEXT_PUNT;
	cm->punt = PUNT_ARP;
	pl_punt(ctx, c);
}

/* With what MAC do we answer a request for tip? false: we do not. */
static inline bool
arp_answer_mac(struct lcore_ctx *ctx, const struct dp_net_view *net, const struct pkt_meta *meta,
	       uint32_t tip, struct rte_ether_addr *mac)
{
	if (tip == net->gw_ip ||
	    (net->flags & DP_NET_F_PROXY_ARP && l3_proxy_arp_target(ctx->l3, meta->domain, tip))) {
		*mac = net->gw_mac;
		return true;
	}
	return net->flags & DP_NET_F_OVERLAY && meta->in_port != DP_PORT_VXLAN &&
		vxlan_arp_lookup(ctx->dp, meta->domain, tip, mac);
}

uint16_t
arp_stage(struct lcore_ctx *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	const struct dp_view *v = ctx->view;

	for (uint16_t i = 0; i < n; i++) {
		struct pkt_meta *meta = pkt_meta(pkts[i]);
		uint8_t *p = rte_pktmbuf_mtod(pkts[i], uint8_t *);
		struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
		struct rte_arp_hdr *ah = (struct rte_arp_hdr *)(p + meta->l3_off);
		const struct dp_net_view *net = &v->nets[meta->domain];
		uint32_t tip = rte_be_to_cpu_32(ah->arp_data.arp_tip);
		uint32_t sip = rte_be_to_cpu_32(ah->arp_data.arp_sip);
		bool learn = arp_to_control(net, meta, sip);
		struct rte_ether_addr mac;

		/* The bridge checked the flags (PKT_F_ARP, DP_NET_F_L3); the rest is ours.
		 * Gateways are untagged, as the L3 stage is: a tagged request to the
		 * gateway MAC is not answered (a reply would lure IP that gets dropped). */
		if (ah->arp_opcode != RTE_BE16(RTE_ARP_OP_REQUEST) || sip == tip || tip == 0 ||
		    (meta->flags & PKT_F_VLAN) || !arp_answer_mac(ctx, net, meta, tip, &mac)) {
			/* Not answered: control's to learn from, or ignored. */
			if (learn) {
				meta->next = PL_NEXT_PUNT;
				meta->punt = PUNT_ARP;
			} else {
				arp_drop(meta);
			}
			continue;
		}
		if (learn)
			arp_punt_copy(ctx, pkts[i], meta);
		/* Who asked becomes the target; we answer for the address asked about. */
		ah->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
		ah->arp_data.arp_tha = ah->arp_data.arp_sha;
		ah->arp_data.arp_tip = ah->arp_data.arp_sip;
		ah->arp_data.arp_sha = mac;
		ah->arp_data.arp_sip = rte_cpu_to_be_32(tip);
		eth->dst_addr = eth->src_addr;
		eth->src_addr = mac;
		meta->out_port = meta->in_port;
		meta->next = PL_NEXT_TX;
		ctx->cnt.arp_replies++;
	}
	return n;
}
