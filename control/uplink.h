/*
 * uplink.h - the routed side of the control plane: what every network and the
 * uplink mean to the data plane (view, routes, neighbours) and to the host.
 *
 * Every bridge network d gets, when it is attached (net_hooks.attach):
 *   view->nets[d] = { gw_ip, subnet/prefix_len, DP_NET_F_L3 (| DP_NET_F_INTERNAL),
 *                     mtu, gw_mac = 02:42 + the gateway's four bytes }
 *   route subnet/len -> L3_NH_CONNECTED(d)
 * and, when a TAP uplink exists (TAP mode), its gateway address with the
 * network's prefix on the uplink's host interface (dpnet0 has 172.17.0.1/16, as
 * docker0 would: the host kernel routes the subnet through dpnet0 and sources
 * from the gateway address) and the neighbour (u, gw_ip) -> dpnet0's MAC, so
 * container traffic to its gateway address (other than ping) reaches the host.
 *
 * The uplink port (role uplink) is in its own domain u = NET_DOMAIN_UPLINK, not
 * in any network's L2 domain:
 *   view->nets[u] = { gw_ip = the port's address (0: none), its subnet,
 *                     DP_NET_F_L3 | DP_NET_F_UPLINK | DP_NET_F_PROXY_ARP,
 *                     gw_mac = UPLINK_GW_MAC (distinct from dpnet0's own MAC) }
 *   view->uplink_port = its port id
 *
 * The uplink address (port keys address: A.B.C.D/N and gateway: A.B.C.D, or
 * add-port --address/--gateway) is dpnet's own address on the uplink network:
 * the existing ARP and ICMP stages answer for it because it is u's gw_ip, and
 * it is where published ports answer and the source MASQUERADE gives
 * (dataplane/nat.h). With it: the connected route subnet/N -> CONNECTED(u) and,
 * when gateway: is given, the default route 0.0.0.0/0 -> GATEWAY(u, gateway).
 * A non-TAP uplink (afpacket, ring, pcap, dpdk: NIC mode) has the NIC's own
 * MAC as gw_mac, DP_NET_F_RESOLVE (its neighbours, the gateway's first, are
 * resolved with ARP: dataplane/neigh.h, control/neigh.c; no static neighbour)
 * and mtu: (default 1500) as the MTU of nets[u]; a gratuitous ARP goes out
 * when it comes up. The host port (role host) then gives the host its address
 * back through a TAP of its own domain NET_DOMAIN_HOST (uplink_host_added).
 *
 * TAP mode is an uplink of type tap (net_tap) or vtap (drivers/vtap.h; the
 * test is port_is_tap_mode, drivers/port.h): the same programming for both.
 * With a vtap the host side keeps its offloads (TSO4, checksum; gso_max_size
 * as vtap_create lowers it), so the host's TCP to a published port crosses the
 * switch in 64 KB segments (dataplane/offload.h: DNAT keeps a partial checksum
 * partial, L3 tests the MTU on the segment size) and a vtap container takes
 * them whole.
 *
 * TAP mode: dpnet0 up (IPv6 off: no chatter into the switch), every attached
 * network's gateway address on it (the host reaches containers as through
 * docker0), and the neighbours (u, gw_ip of d) -> dpnet0's MAC. The built-in
 * configuration gives dpnet0 a transfer network: dpnet's uplink address
 * 169.254.17.2/30, and 169.254.17.1/30 (gateway:) on the host's side of
 * dpnet0, which dpnet sets itself, with the neighbour (u, 169.254.17.1) ->
 * dpnet0's MAC and the default route -> GATEWAY(u, 169.254.17.1). The host
 * reaches published ports on 169.254.17.2 (and containers also on their
 * gateway address). Why a link-local /30: 169.254.0.0/16 is never routed, so
 * it cannot clash with a network the host or a container uses, and a /30 holds
 * exactly the two ends; CFG_TAP_* in config.h, changed with address:/gateway:
 * in a config file. A TAP uplink without address: (an older config) keeps the
 * former behaviour: no uplink address, the default route via the bridge
 * network's gateway address on dpnet0 (the host).
 * The host ARPs on dpnet0 for a container address, dpnet answers (proxy ARP)
 * with UPLINK_GW_MAC and routes the frame into the container's domain.
 *
 * Endpoints (net_hooks.ep_add/ep_del): neighbour (d, ip) -> the container's MAC.
 *
 * Thread safety: control thread only.
 */
#ifndef DPNET_UPLINK_H
#define DPNET_UPLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct cfg_port;
struct ctl;
struct port;

/* dpnet's own MAC in the uplink domain in TAP mode (what proxy ARP answers
 * with); in NIC mode it is the NIC's own MAC. */
#define UPLINK_GW_MAC { 0x02, 0x42, 0x64, 0x70, 0x6e, 0x01 }
/* dpnet's MAC in the host port's domain (the host's "router" there). */
#define UPLINK_HOST_GW_MAC { 0x02, 0x42, 0x64, 0x70, 0x6e, 0x02 }

/* Install the network hooks on c->nets (call once the data plane exists). */
void uplink_init(struct ctl *c);
/*
 * The uplink port p (configured as cp: address, gateway) was created and
 * published in domain NET_DOMAIN_UPLINK: program the uplink domain (and, for a
 * TAP, the host side). On failure everything this did is undone; the caller
 * then removes the port.
 */
int uplink_port_added(struct ctl *c, struct port *p, const struct cfg_port *cp, char *err,
		      size_t errlen);
/* dpnet's address on the uplink network (0: none or no uplink), its prefix
 * length and the configured gateway (0: none): where published ports answer. */
void uplink_address(uint32_t *addr, uint8_t *prefix_len, uint32_t *gateway);
/* The uplink port is about to be removed: undo uplink_port_added. */
void uplink_port_removed(struct ctl *c, struct port *p);
/* Extra members for status's "uplink" object (domain, MACs, host addresses). */
void uplink_status(struct ctl *c, json_t *uplink);
/* NIC mode: an uplink other than a TAP, with an address. */
bool uplink_is_nic(void);
/*
 * The host port p (role host, a TAP, created and published in domain
 * NET_DOMAIN_HOST) gives the host its address back: its TAP moved to cp->netns
 * (when given), up with the uplink's MTU, the uplink's address/prefix on it and,
 * unless cp->no_default_route, a default route via the uplink's gateway;
 * nets[h] and the neighbour (h, uplink address) -> the TAP's MAC. Needs a NIC
 * uplink with an address; on failure nothing stays (the caller removes the port).
 */
int uplink_host_added(struct ctl *c, struct port *p, const struct cfg_port *cp, char *err,
		      size_t errlen);
/* The host port is about to be removed: undo uplink_host_added. */
void uplink_host_removed(struct ctl *c, struct port *p);
/* The host port's name, NULL if none. */
const char *uplink_host_port(void);

#endif /* DPNET_UPLINK_H */
