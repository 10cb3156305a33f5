/*
 * cluster.h - cluster mode (issue 6): hosts find each other through etcd with
 * Flannel's key layout, so a dpnet host can join a cluster that flanneld hosts
 * already use, and the other way round.
 *
 * Config: `cluster: {etcd: URL[,URL...], prefix: /coreos.com/network,
 * network: NAME (default "flannel"), lease_ttl: 86400, public_ip: A.B.C.D}`;
 * public_ip defaults to the uplink address. Without `cluster:` nothing here
 * runs. etcd is spoken through its v3 HTTP/JSON gateway (etcd 3.4, Debian's
 * etcd-server: POST /v3/kv/range, /v3/kv/put, /v3/kv/txn, /v3/kv/deleterange,
 * /v3/lease/grant, /v3/lease/keepalive, /v3/watch; keys and values base64)
 * with libcurl and jansson.
 *
 * Layout (Flannel's, prefix configurable):
 *   <prefix>/config             {"Network": "10.5.0.0/16", "SubnetLen": 24,
 *                                "SubnetMin"?, "SubnetMax"?, "Backend":
 *                                {"Type": "vxlan", "VNI": 1, "Port": 8472}}
 *     written by the operator (or by flannel's tooling); dpnet only reads it.
 *     Absent, unparsable, or a backend other than vxlan: logged (one line, the
 *     key and what is wrong) and retried every second; nothing is programmed.
 *     VNI defaults to 1 and Port to 8472 as in Flannel (Linux's vxlan default),
 *     so in cluster mode the VXLAN port is the cluster's, not vxlan.port.
 *   <prefix>/subnets/<a.b.c.d>-<len>   {"PublicIP": "192.0.2.10",
 *                                "PublicIPv6": null, "BackendType": "vxlan",
 *                                "BackendData": {"VNI": 1, "VtepMAC":
 *                                "02:5x:..."}}  attached to an etcd lease of
 *     lease_ttl seconds, kept alive at a third of the TTL. Each host owns one.
 * Departures from Flannel, documented: dpnet keeps its lease alive with etcd
 * lease keepalives (flanneld re-puts the key before expiry; both leave the same
 * key/value with a lease); dpnet writes nothing else.
 *
 * Lifecycle (a thread of its own does all etcd I/O, blocking; the control
 * thread applies what it finds on its 10 ms tick through a mutex-protected
 * queue, so handlers and the data plane never wait for etcd):
 *  1. read the config; 2. lease a subnet: reuse the one whose PublicIP is ours
 *     if there is one (a restart keeps its subnet, and its containers their
 *     addresses), else the one in the state file if still free, else a free
 *     one of Network/SubnetLen (within SubnetMin..SubnetMax, skipping .0 as
 *     Flannel does), created with a txn that succeeds only if the key does not
 *     exist (two hosts never get the same subnet);
 *  3. control creates or updates the overlay network `network` with that
 *     subnet, gateway .1, the VNI, the cluster's port, gw_mac = our VtepMAC;
 *  4. range-read <prefix>/subnets/ and watch it from the next revision: every
 *     other host becomes vxlan_remote_add(subnet, PublicIP, VtepMAC); a key
 *     deleted or expired becomes vxlan_remote_del; our own key is skipped;
 *     a host with BackendType other than vxlan or a malformed value is logged
 *     and ignored.
 *  5. etcd down or restarted: retried with backoff (at most 2 s); when the
 *     lease is gone (keepalive answers TTL 0) dpnet re-registers the same
 *     subnet if it is free, re-reads everything and resynchronises (remote
 *     hosts no longer present are removed).
 *  6. the uplink (VTEP) address changes: the same lease and subnet are kept
 *     and our key is rewritten in place (a txn comparing its mod_revision)
 *     with the new PublicIP and VtepMAC; the containers keep their addresses.
 * Leases: one per session of the etcd thread, granted when needed and reused
 * across lease attempts, races lost, etcd outages and VTEP changes while its
 * keepalive answers; a key attached to it is ours (as is a key with our
 * PublicIP, left by a previous run). A lease dpnet must give up (a key of
 * ours no longer valid is attached to it) is revoked (/v3/lease/revoke),
 * never left to live out its TTL.
 * Shutdown keeps the lease (a restart within the TTL reuses it, as flanneld);
 * the other hosts remove this one when its lease expires.
 *
 * Commands: cluster.status -> {etcd, state ("disabled", "connecting",
 *   "waiting-config", "registered"), subnet, public_ip, vtep_mac, vni, port,
 *   lease_id, lease_ttl, hosts: n, last_error}; cluster.ls -> [{subnet,
 *   public_ip, vtep_mac, self(bool)}]. `dpctl cluster status`, `dpctl cluster
 *   ls` (SUBNET PUBLIC-IP VTEP-MAC).
 */
#ifndef DPNET_CLUSTER_H
#define DPNET_CLUSTER_H

#include <stddef.h>
#include <jansson.h>

struct ctl;

/* Start the etcd thread when the config has `cluster:` (0 when it has not). */
int ctl_cluster_start(struct ctl *c, char *err, size_t errlen);
/* Main loop: apply what the etcd thread found. */
void ctl_cluster_tick(struct ctl *c, uint64_t now_ms);
/* Shutdown: stop the thread (the lease is kept). */
void ctl_cluster_stop(struct ctl *c);
int ctl_cluster_status(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen);
int ctl_cluster_ls(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen);

#endif /* DPNET_CLUSTER_H */
