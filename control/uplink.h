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
 *   view->nets[u] = { gw_ip 0, DP_NET_F_L3 | DP_NET_F_UPLINK | DP_NET_F_PROXY_ARP,
 *                     gw_mac = UPLINK_GW_MAC (distinct from dpnet0's own MAC) }
 *   view->uplink_port = its port id
 * and in TAP mode: dpnet0 up (IPv6 off: no chatter into the switch), every
 * attached network's gateway address on it, the neighbour (u, 172.17.0.1) ->
 * dpnet0's MAC and the default route 0.0.0.0/0 -> L3_NH_GATEWAY(u, 172.17.0.1).
 * The host ARPs on dpnet0 for a container address, dpnet answers (proxy ARP)
 * with UPLINK_GW_MAC and routes the frame into the container's domain.
 *
 * Endpoints (net_hooks.ep_add/ep_del): neighbour (d, ip) -> the container's MAC.
 *
 * Thread safety: control thread only.
 */
#ifndef DPNET_UPLINK_H
#define DPNET_UPLINK_H

#include <stddef.h>
#include <jansson.h>

struct ctl;
struct port;

/* dpnet's own MAC in the uplink domain (what proxy ARP answers with). */
#define UPLINK_GW_MAC { 0x02, 0x42, 0x64, 0x70, 0x6e, 0x01 }

/* Install the network hooks on c->nets (call once the data plane exists). */
void uplink_init(struct ctl *c);
/*
 * The uplink port p was created and published in domain NET_DOMAIN_UPLINK:
 * program the uplink domain (and, for a TAP, the host side). On failure
 * everything this did is undone; the caller then removes the port.
 */
int uplink_port_added(struct ctl *c, struct port *p, char *err, size_t errlen);
/* The uplink port is about to be removed: undo uplink_port_added. */
void uplink_port_removed(struct ctl *c, struct port *p);
/* Extra members for status's "uplink" object (domain, MACs, host addresses). */
void uplink_status(struct ctl *c, json_t *uplink);

#endif /* DPNET_UPLINK_H */
