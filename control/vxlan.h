/*
 * vxlan.h (control) - overlay networks, their peers and remote hosts: the
 * commands, the state, and the API cluster.c programs them through. The data
 * plane side is dataplane/vxlan.h (read it first: model, pseudo-port, routed
 * overlays).
 *
 * Overlay networks. `network create --driver overlay --vni N [--subnet CIDR]
 * [--gateway IP] [--ip-range CIDR] [--mtu N] [--internal] NAME`: a bridge
 * network (domain, gateway, IPAM, isolation, NAT all as for bridge) with a
 * VNI (required, 1..16777215, unique: "vni N is already used by network X").
 * SCOPE `global` in `network ls`; `network inspect` shows Driver "overlay",
 * Scope "global" and Options {"com.docker.network.driver.overlay.vxlanid_list":
 * "N"} (Docker's key). MTU: the uplink's MTU - 50 (1450) unless --mtu asks
 * for less (more is refused: "--mtu 1500 is too large for an overlay: the
 * uplink's MTU is 1500 and VXLAN takes 50"); the containers' eth0 get it.
 * The gateway MAC of an overlay is unique per host: 02:5x derived from the
 * VTEP address and the VNI (vxlan_gw_mac), so hosts sharing a subnet keep
 * distinct gateway MACs; in cluster mode it is the VtepMAC published in etcd.
 * When the uplink address changes, so does that MAC: a gratuitous ARP for the
 * gateway goes out on every local port of the overlay (not to the peers), so
 * the containers' ARP caches follow at once.
 * Overlays work with no uplink address too (they bridge locally), and start
 * carrying traffic when the uplink gets one.
 *
 * Commands (ctl.h conventions; JSON in / out):
 *   vxlan.peer.add {network, peer}   -> {network, vni, peer, source: "static"}
 *   vxlan.peer.rm {network, peer}    -> {network, peer}
 *   vxlan.peer.ls {network?}         -> [{network, vni, peer, source, macs}]
 *   vxlan.fdb.ls {network}           -> [{mac, vtep, type: static|learned,
 *                                         ageing_s, network}]
 *   `dpctl vxlan peer add|rm NETWORK VTEP-IP`, `dpctl vxlan peer ls`
 *   (NETWORK VNI PEER SOURCE MACS), `dpctl vxlan fdb ls NETWORK` (MAC VTEP
 *   TYPE AGEING). Errors, one line each, nothing changed: network unknown or
 *   not an overlay; address not a unicast IPv4 address; the peer is our own
 *   VTEP address; a peer already there ("peer 10.0.0.2 is already on network
 *   ov1"), rm of a peer that is not there, rm of a peer that cluster mode
 *   manages ("managed by the cluster (etcd): ..."). More than VXLAN_MAX_PEERS:
 *   refused.
 * `network rm` of an overlay removes its peers and remote entries with it.
 *
 * State: each overlay network's VNI is saved with the network (networks
 * section); static peers in a "vxlan" section [{network, peer}] restored after
 * the networks. Cluster-managed peers and remote hosts are not saved: they
 * come back from etcd.
 *
 * Config: `vxlan: {port: 4789, ttl: 64, df: true}` (vxlan_params).
 *
 * Stats: `dpctl stats` shows a "vxlan" section: decapsulated and
 * encapsulated frames (the DP_PORT_VXLAN counters), peers, remote MACs; the
 * drop reasons vxlan-* appear with the others. `dpctl port ls` lists the
 * pseudo-port as `vxlan0` (TYPE vxlan) while an overlay exists.
 */
#ifndef DPNET_CTL_VXLAN_H
#define DPNET_CTL_VXLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct ctl;
struct net;

/* Who added a peer / remote host. */
enum vx_source {
	VX_SRC_STATIC = 0,   /* dpctl vxlan peer add, the state file */
	VX_SRC_CLUSTER = 1,  /* cluster.c, from etcd */
};

/* Command handlers (server.c dispatch, ctl.h signature). */
int ctl_vxlan_peer_add(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen);
int ctl_vxlan_peer_rm(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen);
int ctl_vxlan_peer_ls(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen);
int ctl_vxlan_fdb_ls(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen);
/* The "vxlan" object of stats. */
json_t *ctl_vxlan_stats_json(struct ctl *c);
/* Before the workers start: vxlan_configure from c->cfg. */
int ctl_vxlan_configure(struct ctl *c, char *err, size_t errlen);
/* Register the "vxlan" state section (static peers). */
int ctl_vxlan_state_register(struct ctl *c);
/* Main loop: publish the overlay table again if a publish failed (the data
 * plane is behind control until it succeeds; logged once). */
void ctl_vxlan_tick(struct ctl *c);

/*
 * Programming API (control thread; cluster.c uses it). Each call republishes
 * the data plane's overlay table (vxlan_set) and leaves everything as it was
 * on failure (-errno, err says why). Between vxlan_batch_begin and
 * vxlan_batch_end, additions (peers, remote hosts, overlays) are published
 * once, at the end (one table build and one grace period for a whole etcd
 * snapshot); removals still publish at once (what they flush must be
 * unreachable first). A failed publish at the end is logged and retried at
 * the next end. Commands never run inside a batch: they publish before they
 * answer.
 */
void vxlan_batch_begin(void);
int vxlan_batch_end(struct ctl *c);
int vxlan_peer_add(struct ctl *c, struct net *n, uint32_t ip, enum vx_source src,
		   char *err, size_t errlen);
int vxlan_peer_del(struct ctl *c, struct net *n, uint32_t ip, enum vx_source src,
		   char *err, size_t errlen);
/*
 * A remote host of a routed overlay (dataplane/vxlan.h "Routed overlays"):
 * subnet/len behind VTEP vtep_ip whose VTEP MAC is mac. Adds the peer, the
 * on-link route, the static neighbour and the static remote MAC entry; _del
 * removes them all. Re-adding an existing subnet with other values replaces it.
 */
int vxlan_remote_add(struct ctl *c, struct net *n, uint32_t subnet, uint8_t len,
		     uint32_t vtep_ip, const uint8_t mac[6], char *err, size_t errlen);
int vxlan_remote_del(struct ctl *c, struct net *n, uint32_t subnet, uint8_t len);
/*
 * Register overlay network n (its domain, VNI) with the data plane: the
 * network table's attach hook calls it (uplink.c) once the domain's view and
 * route are there. Leaves nothing on failure.
 */
int vxlan_net_add(struct ctl *c, struct net *n, char *err, size_t errlen);
/* Forget everything of network n (network rm, before the domain goes). */
void vxlan_net_forget(struct ctl *c, struct net *n);
/* The static peers of overlay n (up to max into ips): how many there are
 * (network rm keeps them to add them back when it is rolled back). */
unsigned int vxlan_static_peers(const struct net *n, uint32_t *ips, unsigned int max);
/* The overlay gateway MAC this host uses for (vtep address, vni). */
void vxlan_gw_mac(uint32_t vtep_ip, uint32_t vni, uint8_t mac[6]);
/*
 * The uplink changed (address, MTU, gone): gateway MACs of overlays are
 * re-derived (and announced, above), the table republished, and an overlay
 * whose MTU the uplink cannot carry any more is clamped to what fits (the
 * state file may hold an MTU saved under a larger uplink that is only known
 * after the networks are restored).
 */
int vxlan_uplink_changed(struct ctl *c, char *err, size_t errlen);
/* Is prefix/len the route of a remote host (route ls shows it as such)? */
bool vxlan_route_is_remote(uint32_t prefix, uint8_t len);
struct dp_counters;
/* The vxlan0 row of port ls (port.c's layout), NULL while no overlay exists. */
json_t *vxlan_port_json(struct ctl *c, const struct dp_counters *sum);

#endif /* DPNET_CTL_VXLAN_H */
