/*
 * arp.c - the ARP stage: answer ARP requests for a gateway address (and, in a
 * domain with DP_NET_F_PROXY_ARP, for every address routed to another domain)
 * with the domain's gateway MAC.
 *
 * The bridge sends here the ARP requests whose target is the domain's gateway
 * address or a proxied one, and every ARP frame addressed to the gateway MAC
 * (a host's unicast refresh of its neighbour entry is a request like any
 * other). A request is turned into its reply in place - opcode, both address
 * pairs, Ethernet addresses - and goes back out the port it came in on. Replies
 * to us, gratuitous ARP and requests for other addresses are dropped and
 * counted (arp-ignored): the neighbour table is static (neigh.c), so there is
 * nothing to learn from them yet.
 *
 * Thread safety: runs on a worker; reads the view and the LPM table (proxy
 * ARP) lock-free; writes only the mbufs it is given and its counters.
 */
#include <rte_arp.h>
#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "l3_private.h"
#include "pipeline.h"
#include "pkt.h"

static inline void
arp_drop(struct pkt_meta *meta)
{
	meta->next = PL_NEXT_DROP;
	meta->drop_reason = DP_DROP_ARP_IGNORED;
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

		/* The bridge checked the flags (PKT_F_ARP, DP_NET_F_L3); the rest is ours.
		 * Gateways are untagged, as the L3 stage is: a tagged request to the
		 * gateway MAC is not answered (a reply would lure IP that gets dropped). */
		if (ah->arp_opcode != RTE_BE16(RTE_ARP_OP_REQUEST) || sip == tip || tip == 0 ||
		    (meta->flags & PKT_F_VLAN)) {
			arp_drop(meta);
			continue;
		}
		if (tip != net->gw_ip &&
		    !(net->flags & DP_NET_F_PROXY_ARP &&
		      l3_proxy_arp_target(ctx->l3, meta->domain, tip))) {
			arp_drop(meta);
			continue;
		}
		/* Who asked becomes the target; we answer for the address asked about. */
		ah->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
		ah->arp_data.arp_tha = ah->arp_data.arp_sha;
		ah->arp_data.arp_tip = ah->arp_data.arp_sip;
		ah->arp_data.arp_sha = net->gw_mac;
		ah->arp_data.arp_sip = rte_cpu_to_be_32(tip);
		eth->dst_addr = eth->src_addr;
		eth->src_addr = net->gw_mac;
		meta->out_port = meta->in_port;
		meta->next = PL_NEXT_TX;
		ctx->cnt.arp_replies++;
	}
	return n;
}
