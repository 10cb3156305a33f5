/*
 * vxlan.h - overlay networks (issue 6): VXLAN (RFC 7348) encapsulation and
 * decapsulation in the data plane, the VTEP table, remote MACs in the MAC
 * table. The contract between the data plane (vxlan.c, bridge.c, l2out.c,
 * pipeline.c, fdb.c) and the control plane (control/vxlan.c, control/cluster.c).
 * l3.h and neigh.h stay the contracts for routing and resolution; this adds.
 *
 * Model. An overlay network is a bridge network (a domain d with a gateway,
 * DP_NET_F_L3) that also has DP_NET_F_OVERLAY and a VNI. Its members are the
 * local container ports plus one pseudo-port, DP_PORT_VXLAN, which stands for
 * "every remote VTEP of this network". The VTEP address is the uplink address
 * (nets[u].gw_ip, u = the uplink's domain); with no uplink address there is no
 * overlay traffic (encap drops vxlan-no-vtep). Remote VTEPs ("peers") are
 * programmed by control per network: static ones (`dpctl vxlan peer add`) and,
 * in cluster mode, the hosts seen in etcd. Only peers are trusted: a VXLAN
 * packet from an address that is not a peer of the VNI's network is dropped
 * (vxlan-unknown-peer) - unlike Linux's vxlan device, which accepts anyone.
 *
 * The pseudo-port. DP_PORT_VXLAN = RTE_MAX_ETHPORTS - 1 is reserved: no ethdev
 * may have that id (control refuses a port that gets it). It is never
 * "present" in the view, is in no domain's port list, and is never a TX
 * target: per-port counters at that index count what was decapsulated
 * (rx_pkts, rx_bytes, drops) and encapsulated (tx_pkts). MAC-table entries of
 * remote MACs have port == DP_PORT_VXLAN and vtep == the peer's address.
 *
 * MAC table (fdb.h additions). struct fdb_entry gains `uint32_t vtep` (host
 * order; 0 for local entries) and struct fdb_learn_req gains `uint32_t vtep`.
 * A frame decapsulated from peer P has meta->in_port = DP_PORT_VXLAN and
 * meta->nh_ip = P: the bridge learns / refreshes / moves its source MAC with
 * (port DP_PORT_VXLAN, vtep P) exactly as it does local MACs (a MAC that
 * moves between peers or between a peer and a local port is updated in place;
 * the worker stores vtep before port, both relaxed). fdb_add_remote() adds a
 * static or learned remote entry (control); fdb_flush_vtep() forgets every
 * entry of one peer in one domain (peer removed):
 *   int fdb_add_remote(struct fdb *fdb, uint16_t domain,
 *                      const struct rte_ether_addr *mac, uint32_t vtep,
 *                      bool is_static, uint64_t now_tsc);
 *   unsigned int fdb_flush_vtep(struct fdb *fdb, uint16_t domain, uint32_t vtep);
 * `dpctl mac ls` shows a remote entry's port as vxlan0 (the pseudo-port).
 *
 * Drop reasons added to counters.h: vxlan-malformed, vxlan-bad-flags,
 * vxlan-unknown-vni, vxlan-unknown-peer, vxlan-no-vtep, vxlan-no-route.
 *
 * Pipeline. Codes: parse -> vxdec -> bridge -> arp -> nat -> l3 -> l2out ->
 * vxenc -> TX; round one of pl_run runs parse, vxdec and bridge,
 * PL_FIRST_GW_STAGE is PL_NEXT_ARP. Decapsulation happens before the outer
 * frame is bridged (the outer MAC is neither looked up nor learned), and the
 * inner frames are bridged in the same round.
 *  - parse: in the VTEP's domain (DP_NET_F_VTEP: the uplink's, set by control
 *    while any overlay exists) a frame that the parser found to be untagged,
 *    unfragmented IPv4 UDP, to the VXLAN port and the VTEP address, sent to the
 *    domain's gateway MAC from a unicast, non-zero source that is not the
 *    gateway MAC, goes to PL_NEXT_VXDEC instead of the bridge; anything else
 *    (a host's UDP service on that port or address included) is bridged as
 *    before, and a frame to the gateway MAC then goes on to NAT or L3.
 *    When the frame took the parser's fast path (IHL 5, parse.c) and the
 *    domain is the uplink's, the parser does vxdec's work below on it in its
 *    own loop (vxlan_dec_frame, vxlan_private.h) instead of handing it to
 *    vxdec: same checks, drops and result; the per-stage counters then show
 *    that cost under parse, and vxdec counts only the other frames (IPv4
 *    options, a view in flux).
 *  - bridge: br_out_port() returns DP_PORT_VXLAN for a remote entry when the
 *    domain has DP_NET_F_OVERLAY (else: flood, the entry is stale); the bridge
 *    and l2out then set meta->nh_ip = entry->vtep and next = PL_NEXT_VXENC.
 *    A frame from DP_PORT_VXLAN to a remote MAC is dropped (same-port: split
 *    horizon, a tunnel never forwards to a tunnel).
 *  - vxdec (vxlan_decap_stage): for each frame: if the UDP destination port is
 *    not the VXLAN port or the IPv4 destination is not the VTEP address (the
 *    view or the parameters changed since the parser looked), it is not ours:
 *    next = PL_NEXT_BRIDGE, untouched. Else validate, in this order, dropping
 *    with the reason:
 *    bad outer IPv4 checksum (bad-ip-checksum; the PMD's verdict when it gives
 *    one), UDP length shorter than
 *    8 + 8 + 14 or longer than the IPv4 payload (vxlan-malformed), VXLAN flags
 *    without the I bit or with any other flag bit or reserved field non-zero
 *    - Linux drops those too (vxlan-bad-flags), VNI of no overlay
 *    (vxlan-unknown-vni), outer source not a peer of that overlay
 *    (vxlan-unknown-peer), inner frame that does not parse (malformed). A UDP
 *    checksum is not verified (RFC 7348: receivers MAY, VTEPs send 0). Then
 *    strip the outer headers (rte_pktmbuf_adj), re-parse the inner frame
 *    (parse_one), set meta->in_port = DP_PORT_VXLAN, meta->domain = the
 *    overlay's domain, meta->nh_ip = the outer source, count rx on
 *    DP_PORT_VXLAN: the inner frames leave with next = PL_NEXT_BRIDGE and are
 *    bridged in the same round, among the burst's other frames (the bridge
 *    tests each frame's port in the VTEP's domain only).
 *  - vxenc (vxlan_encap_stage): frames with meta->domain an overlay and
 *    meta->nh_ip the peer. Drops: inner frame longer than nets[u].mtu - 50 +
 *    14 (too-big), no VTEP address (vxlan-no-vtep), no route to the peer in
 *    the LPM or a route that does not lead out the uplink domain
 *    (vxlan-no-route). The next hop is the peer itself for a connected route,
 *    the route's gateway otherwise; its MAC from the neighbour table (u, nh);
 *    unknown and u resolves (DP_NET_F_RESOLVE): finish the frame and punt it
 *    (PUNT_NEIGH_MISS, nh_ip = nh, domain = u) as the L3 stage does; unknown
 *    otherwise: no-neighbour. A frame whose mbuf is shared (refcnt > 1),
 *    indirect or without 50 bytes of headroom is first copied
 *    (rte_pktmbuf_copy; no mbuf: no-mbuf). Outer headers (50 bytes, no VLAN):
 *    Ethernet nets[u].gw_mac -> nh MAC, IPv4 (IHL 5, TOS 0, id 0 with DF else
 *    a per-worker counter, DF per config, TTL per config, checksum), UDP
 *    (source port = 49152 + (hash of the inner Ethernet addresses and, for
 *    IPv4, addresses, protocol and ports) % 16384 - the same flow always
 *    gets the same port, so ECMP/RSS keep its order; destination = the VXLAN
 *    port; checksum 0), VXLAN (flags 0x08, VNI << 8). out_port = uplink, next
 *    = TX, tx counted on DP_PORT_VXLAN.
 *  - flooding (pl_flood): a frame flooded in an overlay domain that did not
 *    come from DP_PORT_VXLAN is also sent to every peer of the domain (head-end
 *    replication): vxlan_flood() copies it per peer (rte_pktmbuf_copy, before
 *    any local transmission) and encapsulates each copy as vxenc does. A frame
 *    from DP_PORT_VXLAN floods to the local ports of its domain only
 *    (view->dom_flood[domain]). A frame with no local port and no peer is
 *    no-port as before.
 *  - ARP suppression: the ARP stage answers a request from a local port of an
 *    overlay domain for an address in the domain's ARP-suppression table
 *    (entries control installs: remote endpoints it knows, vxlan_set's arp[])
 *    with that MAC, instead of flooding it to every peer; arp_replies counts
 *    it. br_arp_for_gateway sends such requests to the ARP stage.
 *
 * Routed overlays (cluster mode, Flannel's model). Each host owns one subnet
 * of the overlay's range: the overlay network's subnet is that /24 (say), its
 * gateway .1, and its gw_mac is the host's VTEP MAC (what other hosts put as
 * the inner destination). For a remote host H with subnet S, VTEP address P
 * and VTEP MAC M, control programs exactly what flanneld programs in Linux:
 * a route S -> L3_NH_GATEWAY(d, S's network address) (an on-link next hop in
 * the overlay domain; l3_route_add accepts a gateway outside d's subnet),
 * the neighbour (d, S's network address) -> M (l3_neigh_add), and the remote
 * MAC entry (d, M) -> (DP_PORT_VXLAN, P) (fdb_add_remote, static), plus P as
 * a peer of d. The L3 stage routes into d as for any network; l2out finds M
 * behind DP_PORT_VXLAN; vxenc encapsulates. A frame from H arrives with inner
 * destination M' (our gw_mac): the bridge hands it to NAT/L3, which routes it
 * to the local container.
 *
 * MTU: control gives an overlay network (and its containers' eth0) the MTU
 * nets[u].mtu - 50 (1450 under a 1500 uplink), unless --mtu says less.
 *
 * Thread safety: vxlan_set/vxlan_configure and fdb_add_remote/fdb_flush_vtep
 * are control-thread only. vxlan_set builds a new immutable table (rte_hash
 * lookups for (VNI) and (VNI, peer)) and publishes it with an atomic pointer
 * swap; the old one is freed after an RCU grace period of dp->qs. Workers load
 * the pointer once per burst.
 */
#ifndef DPNET_VXLAN_H
#define DPNET_VXLAN_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_config.h>
#include <rte_ether.h>

struct dp;
struct lcore_ctx;
struct rte_mbuf;

/* The pseudo-port of every overlay's remote VTEPs (see above). */
#define DP_PORT_VXLAN (RTE_MAX_ETHPORTS - 1)

/* View flags added to dp.h's DP_NET_F_* (same byte; neigh.h has 0x10, 0x20). */
#define DP_NET_F_OVERLAY 0x40   /* an overlay network: DP_PORT_VXLAN is a member */
#define DP_NET_F_VTEP 0x80      /* the uplink's domain while an overlay exists */

#define VXLAN_PORT_DEFAULT 4789      /* IANA; Linux's vxlan and Flannel default to 8472 */
#define VXLAN_HDR_LEN 50             /* outer Ethernet + IPv4 + UDP + VXLAN */
#define VXLAN_VNI_MAX 0xFFFFFF       /* VNIs are 1..VXLAN_VNI_MAX */
#define VXLAN_MAX_PEERS 4096         /* peers over all overlays */
#define VXLAN_MAX_ARP 65536          /* ARP-suppression entries over all overlays */
#define VXLAN_SPORT_MIN 49152        /* outer UDP source ports: RFC 7348's range */

/* Global parameters (config `vxlan: {port, ttl, df}`). */
struct vxlan_params {
	uint16_t udp_port;      /* destination port sent and accepted (default 4789) */
	uint8_t ttl;            /* outer TTL (default 64) */
	bool df;                /* outer DF bit (default true: VTEPs do not fragment) */
};

/* One overlay as control describes it to vxlan_set(). */
struct vxlan_net_spec {
	uint16_t domain;                 /* its bridge domain */
	uint32_t vni;                    /* 1..VXLAN_VNI_MAX, unique among overlays */
	uint16_t n_peers;                /* remote VTEPs */
	const uint32_t *peers;           /* their addresses, host order */
	uint32_t n_arp;                  /* ARP-suppression entries */
	const uint32_t *arp_ip;          /* endpoint addresses, host order */
	const struct rte_ether_addr *arp_mac; /* and their MACs */
};

/* Set the parameters (before or after vxlan_set; takes effect at once). */
int vxlan_configure(struct dp *dp, const struct vxlan_params *p);
/* Replace the whole overlay table: -EINVAL (bad VNI, duplicate VNI or domain,
 * peer 0 or multicast), -ENOSPC (limits above), -ENOMEM. The old table stays
 * in place on failure. n == 0 removes every overlay. */
int vxlan_set(struct dp *dp, const struct vxlan_net_spec *nets, uint16_t n);
/* The current parameters. */
void vxlan_params_get(const struct dp *dp, struct vxlan_params *out);

/* Worker side (vxlan.c). */
uint16_t vxlan_decap_stage(struct lcore_ctx *ctx, struct rte_mbuf **pkts, uint16_t n);
uint16_t vxlan_encap_stage(struct lcore_ctx *ctx, struct rte_mbuf **pkts, uint16_t n);
/* Head-end replication of a frame flooded in overlay domain `domain`: one
 * encapsulated copy per peer, transmitted (or punted, or dropped and counted)
 * before the caller floods m locally. m itself is not consumed. Returns the
 * number of peers of the domain (copies attempted), so that the caller counts
 * a frame that went nowhere (no local port, no peer) as no-port. */
uint16_t vxlan_flood(struct lcore_ctx *ctx, struct rte_mbuf *m, uint16_t domain);

/* Unit tests and fuzzing: the outer UDP source port vxenc chooses for a frame. */
uint16_t vxlan_src_port(const struct rte_mbuf *inner);

#endif /* DPNET_VXLAN_H */
