/*
 * vxlan.c - overlay networks, control side (control/vxlan.h is the contract,
 * dataplane/vxlan.h the data plane's): the overlays this host has, their
 * peers (static ones from dpctl and the state file, cluster ones from
 * cluster.c) and remote hosts (routed overlays), the vxlan.* commands, the
 * "vxlan" state section, the "vxlan" object of stats and the vxlan0 row of
 * port ls.
 *
 * Every overlay network registers here when the network table attaches it
 * (uplink.c calls vxlan_net_add) and leaves with vxlan_net_forget. What the
 * data plane needs is republished whole after every change: vxlan_set() with
 * one spec per overlay (its domain, VNI, peers and ARP-suppression entries),
 * and, when it changes, the view: DP_NET_F_OVERLAY and the per-host gateway
 * MAC on each overlay's domain, DP_NET_F_VTEP on the uplink's domain while
 * any overlay exists. A failed republish leaves the data plane as it was
 * (vxlan_set keeps the old table), so every change here is made in memory,
 * published, and undone in memory when the publish fails.
 *
 * Peers are counted per source: a static peer (dpctl) and the same address
 * as a cluster host are one peer of the data plane with two owners; it goes
 * when its last owner removes it, and then its remote MACs go with it
 * (fdb_flush_vtep). A remote host (vxlan_remote_add) owns a cluster reference
 * to its VTEP, an on-link route, a static neighbour and a static remote MAC.
 *
 * ARP suppression: the spec's arp[] carries what control knows of remote
 * endpoints. In static mode it knows none (containers of other hosts are
 * only learned by the data plane, from their frames); routed overlays reach
 * remote subnets through the neighbour of the subnet's network address, which
 * needs no ARP. So arp[] is empty for now; the field is there for when the
 * cluster registry publishes endpoints.
 *
 * Thread safety: control thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_log.h>
#include <rte_malloc.h>

#include "dataplane/counters.h"
#include "dataplane/dp.h"
#include "dataplane/fdb.h"
#include "dataplane/l3.h"
#include "dataplane/vxlan.h"
#include "ctl.h"
#include "neigh.h"
#include "state.h"
#include "uplink.h"
#include "util.h"
#include "vxlan.h"

_Static_assert(NET_VNI_MAX == VXLAN_VNI_MAX, "VNI limits differ");
_Static_assert(NET_VXLAN_OVERHEAD == VXLAN_HDR_LEN, "VXLAN overheads differ");
_Static_assert(DP_PORT_VXLAN < RTE_MAX_ETHPORTS, "the VXLAN pseudo-port has no counters");
_Static_assert((DP_NET_F_OVERLAY & (DP_NET_F_L3 | DP_NET_F_INTERNAL | DP_NET_F_UPLINK |
				    DP_NET_F_PROXY_ARP)) == 0 &&
	       (DP_NET_F_VTEP & (DP_NET_F_L3 | DP_NET_F_INTERNAL | DP_NET_F_UPLINK |
				 DP_NET_F_PROXY_ARP)) == 0, "view flags overlap");

#define VX_N_SOURCES 2

static const char *const vx_source_names[VX_N_SOURCES] = { "static", "cluster" };

/* One remote VTEP of an overlay. */
struct vx_peer {
	uint32_t ip;                    /* its address, host order */
	uint32_t refs[VX_N_SOURCES];    /* owners per source (static: 0 or 1; cluster: the
	                                 * cluster's own add plus one per remote host) */
};

/* One remote host of a routed overlay: subnet behind vtep, whose VTEP MAC is mac. */
struct vx_remote {
	uint32_t subnet;                /* network address, host order */
	uint8_t len;                    /* its prefix length */
	uint32_t vtep;                  /* the host's VTEP address */
	struct rte_ether_addr mac;      /* its VTEP MAC (its overlay gateway MAC) */
};

/* One overlay network, by domain. */
struct vx_net {
	bool used;                      /* an overlay is registered in this domain */
	uint32_t vni;                   /* its VNI */
	struct vx_peer *peers;          /* its peers (malloc'ed), in the order added */
	unsigned int n_peers;           /* entries used */
	unsigned int cap_peers;         /* entries allocated */
	struct vx_remote *remotes;      /* its remote hosts (malloc'ed) */
	unsigned int n_remotes;         /* entries used */
	unsigned int cap_remotes;       /* entries allocated */
};

static struct {
	struct vx_net nets[NET_MAX];    /* indexed by domain */
	unsigned int n_peers;           /* peers over all overlays (VXLAN_MAX_PEERS) */
	unsigned int n_overlays;        /* registered overlays */
	unsigned int batch;             /* vxlan_batch_begin depth: additions are not
	                                 * published until the outermost _end */
	bool dirty;                     /* the data plane's table is behind vx */
	bool dirty_logged;              /* a failed deferred publish was logged */
} vx;

static const char *
vx_ip(uint32_t a, char *buf, size_t len)
{
	return cfg_format_ip(a, buf, len);
}

/* This host's VTEP address: the uplink's own address (0: none). */
static uint32_t
vx_vtep_ip(void)
{
	uint32_t addr, gw;
	uint8_t len;

	uplink_address(&addr, &len, &gw);
	return addr;
}

void
vxlan_gw_mac(uint32_t vtep_ip, uint32_t vni, uint8_t mac[6])
{
	/* Locally administered, unicast; 02:5x never meets Docker's 02:42. The
	 * VTEP address makes it unique per host for one VNI. */
	mac[0] = 0x02;
	mac[1] = (uint8_t)(0x50 | (vni & 0x0F));
	mac[2] = (uint8_t)(vtep_ip >> 24);
	mac[3] = (uint8_t)(vtep_ip >> 16);
	mac[4] = (uint8_t)(vtep_ip >> 8);
	mac[5] = (uint8_t)vtep_ip;
}

static struct vx_net *
vx_of(const struct net *n)
{
	if (n == NULL || n->vni == 0 || n->domain >= NET_MAX || !vx.nets[n->domain].used)
		return NULL;
	return &vx.nets[n->domain];
}

static struct vx_peer *
vx_peer_find(struct vx_net *vn, uint32_t ip)
{
	for (unsigned int i = 0; i < vn->n_peers; i++)
		if (vn->peers[i].ip == ip)
			return &vn->peers[i];
	return NULL;
}

static struct vx_remote *
vx_remote_find(struct vx_net *vn, uint32_t subnet, uint8_t len)
{
	for (unsigned int i = 0; i < vn->n_remotes; i++)
		if (vn->remotes[i].subnet == subnet && vn->remotes[i].len == len)
			return &vn->remotes[i];
	return NULL;
}

static uint32_t
vx_peer_refs(const struct vx_peer *p)
{
	uint32_t r = 0;

	for (unsigned int s = 0; s < VX_N_SOURCES; s++)
		r += p->refs[s];
	return r;
}

/* ---- publishing ---- */

/* vxlan_set() with every registered overlay. 0, or -errno (old table in force). */
static int
vx_table_publish_now(struct ctl *c)
{
	struct vxlan_net_spec specs[NET_MAX];
	uint32_t *ips;
	uint16_t n = 0;
	size_t off = 0;
	int rc;

	ips = malloc(sizeof(*ips) * (vx.n_peers + 1));
	if (ips == NULL)
		return -ENOMEM;
	for (unsigned int d = 0; d < NET_MAX; d++) {
		struct vx_net *vn = &vx.nets[d];

		if (!vn->used)
			continue;
		memset(&specs[n], 0, sizeof(specs[n]));
		specs[n].domain = (uint16_t)d;
		specs[n].vni = vn->vni;
		specs[n].peers = &ips[off];
		for (unsigned int i = 0; i < vn->n_peers; i++)
			ips[off++] = vn->peers[i].ip;
		specs[n].n_peers = (uint16_t)vn->n_peers;
		/* No remote endpoints are known to control yet (see the top). */
		specs[n].n_arp = 0;
		n++;
	}
	rc = vxlan_set(c->dp, specs, n);
	free(ips);
	if (rc == 0) {
		vx.dirty = false;
		vx.dirty_logged = false;
	} else {
		/* The data plane is behind control: ctl_vxlan_tick tries again. */
		vx.dirty = true;
	}
	return rc;
}

/*
 * Publish an addition: at once, or inside a batch at its end (a removal never
 * waits: vx_table_publish_now, since what it flushes must be unreachable
 * first). Within a batch the view (an overlay's flags) and the routes,
 * neighbours and static MACs of remote hosts take effect at once while the
 * table waits for the batch's end, the rest of that control tick: frames to
 * or from a peer added in the batch may be dropped (vxlan-unknown-vni or
 * -peer) until then.
 */
static int
vx_table_publish(struct ctl *c)
{
	if (vx.batch > 0) {
		vx.dirty = true;
		return 0;
	}
	return vx_table_publish_now(c);
}

void
vxlan_batch_begin(void)
{
	vx.batch++;
}

void
ctl_vxlan_tick(struct ctl *c)
{
	int rc;

	if (vx.batch > 0 || !vx.dirty)
		return;
	rc = vx_table_publish_now(c);
	if (rc < 0 && !vx.dirty_logged) {
		CTL_LOG(ERR, "overlays: cannot publish the overlay table: %s; retrying",
			strerror(-rc));
		vx.dirty_logged = true;
	}
}

int
vxlan_batch_end(struct ctl *c)
{
	int rc;

	if (vx.batch > 0)
		vx.batch--;
	if (vx.batch > 0 || !vx.dirty)
		return 0;
	rc = vx_table_publish_now(c);
	if (rc < 0 && !vx.dirty_logged) {
		/* Still dirty: the next batch's end tries again. */
		CTL_LOG(ERR, "overlays: cannot publish the overlay table: %s; retrying",
			strerror(-rc));
		vx.dirty_logged = true;
	}
	return rc;
}

/*
 * The view as overlays want it: DP_NET_F_OVERLAY, the gateway MAC of this
 * host and the network's MTU on every overlay's domain, DP_NET_F_VTEP on the
 * uplink's domain while an overlay exists. With apply, v is made so; without,
 * v is only compared. Returns whether v differed.
 */
static bool
vx_view_fix(struct ctl *c, struct dp_view *v, bool apply)
{
	struct dp_net_view *u = &v->nets[NET_DOMAIN_UPLINK];
	uint32_t vtep = vx_vtep_ip();
	bool change = false;

	for (unsigned int d = 0; d < NET_MAX; d++) {
		struct dp_net_view *nv = &v->nets[d];
		const struct net *n;
		struct rte_ether_addr mac;
		uint16_t mtu;

		if (!vx.nets[d].used)
			continue;
		n = net_by_domain(c->nets, (uint16_t)d);
		mtu = n != NULL ? n->mtu : nv->mtu;
		vxlan_gw_mac(vtep, vx.nets[d].vni, mac.addr_bytes);
		if ((nv->flags & DP_NET_F_OVERLAY) && rte_is_same_ether_addr(&nv->gw_mac, &mac) &&
		    nv->mtu == mtu)
			continue;
		change = true;
		if (apply) {
			nv->flags |= DP_NET_F_OVERLAY;
			nv->gw_mac = mac;
			nv->mtu = mtu;
		}
	}
	if ((u->flags & DP_NET_F_UPLINK) && !!(u->flags & DP_NET_F_VTEP) != (vx.n_overlays > 0)) {
		change = true;
		if (apply)
			u->flags ^= DP_NET_F_VTEP;
	}
	return change;
}

/*
 * A gratuitous ARP for the gateway of overlay domain d (nv, as published) on
 * each of its local ports: its MAC changed (the VTEP address did), and the
 * containers' ARP caches would send to the old one for ~30 s, every routed
 * frame then unknown unicast, flooded to every container and peer. Not to
 * the peers: each host is its containers' gateway.
 */
static void
vx_gw_announce(struct ctl *c, const struct dp_view *v, uint16_t d)
{
	const struct dp_net_view *nv = &v->nets[d];
	char a[16], m[24];

	if (nv->gw_ip == 0)
		return;
	for (uint16_t i = 0; i < v->domains[d].n_ports; i++) {
		uint16_t port = v->domains[d].ports[i];

		if (port != DP_PORT_VXLAN)
			ctl_neigh_announce(c, d, port, nv->gw_ip, &nv->gw_mac);
	}
	CTL_LOG(INFO, "overlay in domain %u: gateway %s is at %s now (gratuitous ARP on %u "
		"ports)", d, vx_ip(nv->gw_ip, a, sizeof(a)),
		ctl_format_mac(nv->gw_mac.addr_bytes, m, sizeof(m)), v->domains[d].n_ports);
}

static int
vx_view_sync(struct ctl *c)
{
	const struct dp_view *cur = dp_view_get(c->dp);
	struct rte_ether_addr old_mac[NET_MAX];
	bool had[NET_MAX];
	struct dp_view *v;

	/* Compared in place (never written: apply is false). */
	if (!vx_view_fix(c, (struct dp_view *)(uintptr_t)cur, false))
		return 0;
	for (unsigned int d = 0; d < NET_MAX; d++) {
		had[d] = vx.nets[d].used && (cur->nets[d].flags & DP_NET_F_OVERLAY);
		old_mac[d] = cur->nets[d].gw_mac;
	}
	v = dp_view_clone(c->dp);
	if (v == NULL)
		return -ENOMEM;
	vx_view_fix(c, v, true);
	dp_view_publish(c->dp, v);
	cur = dp_view_get(c->dp);
	for (unsigned int d = 0; d < NET_MAX; d++)
		if (had[d] && !rte_is_same_ether_addr(&old_mac[d], &cur->nets[d].gw_mac))
			vx_gw_announce(c, cur, (uint16_t)d);
	return 0;
}

/* ---- overlays ---- */

int
vxlan_net_add(struct ctl *c, struct net *n, char *err, size_t errlen)
{
	struct vx_net *vn;
	int rc;

	if (n->vni == 0 || n->domain >= NET_MAX)
		return ctl_fail(err, errlen, -EINVAL, "network %s is not an overlay", n->name);
	vn = &vx.nets[n->domain];
	if (vn->used)
		return ctl_fail(err, errlen, -EEXIST, "domain %u has an overlay already",
				n->domain);
	memset(vn, 0, sizeof(*vn));
	vn->used = true;
	vn->vni = n->vni;
	vx.n_overlays++;
	rc = vx_table_publish(c);
	if (rc < 0) {
		vn->used = false;
		vx.n_overlays--;
		return ctl_fail(err, errlen, rc, "cannot publish the overlay table with network "
				"%s (VNI %u): %s", n->name, n->vni, strerror(-rc));
	}
	rc = vx_view_sync(c);
	if (rc < 0) {
		vn->used = false;
		vx.n_overlays--;
		vx_table_publish_now(c);
		return ctl_fail(err, errlen, rc, "out of memory while publishing overlay %s",
				n->name);
	}
	CTL_LOG(INFO, "overlay %s: VNI %u in domain %u", n->name, n->vni, n->domain);
	return 0;
}

/*
 * Another remote host of vn than r (by subnet) with r's VTEP MAC: a host
 * holding two keys, or flanneld restarted onto a new subnet while its old
 * lease lives. NULL if none.
 */
static const struct vx_remote *
vx_remote_same_mac(const struct vx_net *vn, const struct vx_remote *r)
{
	for (unsigned int i = 0; vn != NULL && i < vn->n_remotes; i++) {
		const struct vx_remote *o = &vn->remotes[i];

		if ((o->subnet != r->subnet || o->len != r->len) &&
		    rte_is_same_ether_addr(&o->mac, &r->mac))
			return o;
	}
	return NULL;
}

/*
 * Undo one remote host's programming (route, neighbour, MAC; not its peer
 * ref). vn: its overlay, whose other remote hosts may share the MAC (NULL:
 * the whole overlay goes). The static MAC entry is one per (domain, MAC):
 * while another remote host uses the MAC it stays, pointing at that host's
 * VTEP; deleting it would make every routed frame to that host unknown
 * unicast, flooded to every peer and local container.
 */
static void
vx_remote_unprogram(struct ctl *c, uint16_t domain, const struct vx_net *vn,
		    const struct vx_remote *r)
{
	const struct vx_remote *o = vx_remote_same_mac(vn, r);

	if (o == NULL)
		fdb_del(c->dp->fdb, domain, &r->mac);
	else if (fdb_add_remote(c->dp->fdb, domain, &o->mac, o->vtep, true, rte_rdtsc()) < 0)
		CTL_LOG(ERR, "overlay in domain %u: cannot point a remote host's VTEP MAC at "
			"its other host", domain);
	l3_neigh_del(c->dp, domain, r->subnet);
	l3_route_del(c->dp, r->subnet, r->len);
}

void
vxlan_net_forget(struct ctl *c, struct net *n)
{
	struct vx_net *vn = vx_of(n);

	if (vn == NULL)
		return;
	for (unsigned int i = 0; i < vn->n_remotes; i++)
		vx_remote_unprogram(c, n->domain, NULL, &vn->remotes[i]);
	vx.n_peers -= vn->n_peers;
	free(vn->peers);
	free(vn->remotes);
	memset(vn, 0, sizeof(*vn));
	vx.n_overlays--;
	if (vx_table_publish_now(c) < 0)
		CTL_LOG(ERR, "overlay %s: cannot republish the overlay table without it",
			n->name);
	/* Its remote MACs (static and learned); its local ports are gone already.
	 * Learn requests queued before the grace period (a frame decapsulated
	 * with the old table) are applied first, so the flush takes them too. */
	fdb_learn_drain(c->dp->fdb, rte_rdtsc());
	fdb_flush_domain(c->dp->fdb, n->domain);
	if (vx_view_sync(c) < 0)
		CTL_LOG(ERR, "overlay %s: cannot republish the view without it", n->name);
	CTL_LOG(INFO, "overlay %s (VNI %u): its peers and remote hosts are forgotten", n->name,
		n->vni);
}

unsigned int
vxlan_static_peers(const struct net *n, uint32_t *ips, unsigned int max)
{
	const struct vx_net *vn = vx_of(n);
	unsigned int k = 0;

	for (unsigned int i = 0; vn != NULL && i < vn->n_peers; i++) {
		if (vn->peers[i].refs[VX_SRC_STATIC] == 0)
			continue;
		if (k < max)
			ips[k] = vn->peers[i].ip;
		k++;
	}
	return k;
}

int
vxlan_uplink_changed(struct ctl *c, char *err, size_t errlen)
{
	int rc;

	if (vx.n_overlays == 0)
		return 0;
	/* An overlay saved or made under a larger uplink MTU gets what fits now
	 * (its containers attached before keep their eth0's MTU: said once). */
	for (unsigned int d = 0; d < NET_MAX; d++) {
		struct net *n = vx.nets[d].used ? net_by_domain(c->nets, (uint16_t)d) : NULL;
		uint16_t max = net_overlay_mtu_max(c->nets);

		if (n == NULL || c->nets->uplink_mtu == 0 || n->mtu <= max)
			continue;
		CTL_LOG(NOTICE, "overlay %s: MTU %u does not fit the uplink's %u (VXLAN takes "
			"%d): %u from now on%s", n->name, n->mtu, c->nets->uplink_mtu,
			NET_VXLAN_OVERHEAD, max, n->n_eps > 0 ? "; the containers attached "
			"already keep theirs: their largest frames are dropped as too-big" : "");
		n->mtu = max;
	}
	rc = vx_view_sync(c);
	if (rc == 0)
		rc = vx_table_publish(c);
	if (rc < 0)
		return ctl_fail(err, errlen, rc, "cannot republish the overlays for the new "
				"uplink: %s", strerror(-rc));
	return 0;
}

/* ---- peers ---- */

/* A VTEP address: unicast, not ours. */
static int
vx_check_vtep(uint32_t ip, const char *what, char *err, size_t errlen)
{
	char a[16];

	vx_ip(ip, a, sizeof(a));
	if (ip == 0 || (ip >> 24) == 0 || (ip >> 24) == 127 || (ip >> 28) >= 0xE)
		return ctl_fail(err, errlen, -EINVAL, "%s %s is not a unicast IPv4 address: give "
				"the address of another host's VTEP (its uplink address)", what,
				a);
	if (ip == vx_vtep_ip())
		return ctl_fail(err, errlen, -EINVAL, "%s %s is this host's own VTEP address "
				"(the uplink's): give another host's", what, a);
	return 0;
}

/* Take a reference of source src on peer ip of vn (adding the peer if new). */
static int
vx_peer_ref(struct ctl *c, const struct net *n, struct vx_net *vn, uint32_t ip,
	    enum vx_source src, char *err, size_t errlen)
{
	struct vx_peer *p = vx_peer_find(vn, ip);
	char a[16];
	int rc;

	if (p != NULL) {
		p->refs[src]++;
		return 0;
	}
	if (vx.n_peers >= VXLAN_MAX_PEERS)
		return ctl_fail(err, errlen, -ENOSPC, "too many VXLAN peers (at most %d over all "
				"overlays): remove one first", VXLAN_MAX_PEERS);
	if (vn->n_peers == vn->cap_peers) {
		unsigned int cap = vn->cap_peers ? vn->cap_peers * 2 : 8;
		struct vx_peer *np = realloc(vn->peers, cap * sizeof(*np));

		if (np == NULL)
			return ctl_fail(err, errlen, -ENOMEM, "out of memory");
		vn->peers = np;
		vn->cap_peers = cap;
	}
	p = &vn->peers[vn->n_peers++];
	memset(p, 0, sizeof(*p));
	p->ip = ip;
	p->refs[src] = 1;
	vx.n_peers++;
	rc = vx_table_publish(c);
	if (rc < 0) {
		vn->n_peers--;
		vx.n_peers--;
		return ctl_fail(err, errlen, rc, "cannot add peer %s to network %s: %s",
				vx_ip(ip, a, sizeof(a)), n->name, rc == -ENOSPC ?
				"the overlay table is full" : strerror(-rc));
	}
	return 0;
}

/* Drop a reference of source src on peer p of vn (removing the peer at the last). */
static int
vx_peer_unref(struct ctl *c, const struct net *n, struct vx_net *vn, struct vx_peer *p,
	      enum vx_source src)
{
	struct vx_peer gone;
	unsigned int i;
	char a[16];
	int rc;

	if (p->refs[src] == 0)
		return -ENOENT;
	p->refs[src]--;
	if (vx_peer_refs(p) > 0)
		return 0;
	gone = *p;
	i = (unsigned int)(p - vn->peers);
	memmove(&vn->peers[i], &vn->peers[i + 1], (vn->n_peers - i - 1) * sizeof(*p));
	vn->n_peers--;
	vx.n_peers--;
	rc = vx_table_publish_now(c);
	if (rc < 0) {
		/* Back where it was (room is there: it was just freed). */
		memmove(&vn->peers[i + 1], &vn->peers[i], (vn->n_peers - i) * sizeof(*p));
		vn->peers[i] = gone;
		vn->peers[i].refs[src]++;
		vn->n_peers++;
		vx.n_peers++;
		return rc;
	}
	/* What was learned behind it (and static entries of its remote hosts).
	 * The new table is in force (grace period passed): no worker queues a
	 * learn request from gone.ip any more, but some may be queued still;
	 * applied after the flush they would bring its MACs back (port.c does
	 * the same for a removed port). */
	fdb_learn_drain(c->dp->fdb, rte_rdtsc());
	fdb_flush_vtep(c->dp->fdb, n->domain, gone.ip);
	CTL_LOG(INFO, "overlay %s: peer %s removed", n->name, vx_ip(gone.ip, a, sizeof(a)));
	return 0;
}

/* The overlay of n, or -EINVAL with why. */
static int
vx_overlay(struct net *n, struct vx_net **vn, char *err, size_t errlen)
{
	*vn = vx_of(n);
	if (*vn == NULL)
		return ctl_fail(err, errlen, -EINVAL, "network %s is not an overlay network "
				"(driver %s): VXLAN peers belong to networks made with "
				"'dpctl network create --driver overlay --vni N'", n->name,
				net_driver_str(n));
	return 0;
}

int
vxlan_peer_add(struct ctl *c, struct net *n, uint32_t ip, enum vx_source src, char *err,
	       size_t errlen)
{
	struct vx_net *vn;
	struct vx_peer *p;
	char a[16];
	int rc;

	if ((unsigned int)src >= VX_N_SOURCES)
		return ctl_fail(err, errlen, -EINVAL, "unknown peer source %d", (int)src);
	rc = vx_overlay(n, &vn, err, errlen);
	if (rc == 0)
		rc = vx_check_vtep(ip, "peer", err, errlen);
	if (rc < 0)
		return rc;
	p = vx_peer_find(vn, ip);
	if (p != NULL && p->refs[src] > 0)
		return ctl_fail(err, errlen, -EEXIST, "peer %s is already on network %s%s",
				vx_ip(ip, a, sizeof(a)), n->name, src == VX_SRC_STATIC ?
				": see 'dpctl vxlan peer ls'" : "");
	rc = vx_peer_ref(c, n, vn, ip, src, err, errlen);
	if (rc < 0)
		return rc;
	CTL_LOG(INFO, "overlay %s: peer %s (%s)", n->name, vx_ip(ip, a, sizeof(a)),
		vx_source_names[src]);
	return 0;
}

int
vxlan_peer_del(struct ctl *c, struct net *n, uint32_t ip, enum vx_source src, char *err,
	       size_t errlen)
{
	struct vx_net *vn;
	struct vx_peer *p;
	char a[16];
	int rc;

	if ((unsigned int)src >= VX_N_SOURCES)
		return ctl_fail(err, errlen, -EINVAL, "unknown peer source %d", (int)src);
	rc = vx_overlay(n, &vn, err, errlen);
	if (rc < 0)
		return rc;
	vx_ip(ip, a, sizeof(a));
	p = vx_peer_find(vn, ip);
	if (p == NULL)
		return ctl_fail(err, errlen, -ENOENT, "peer %s is not on network %s: see 'dpctl "
				"vxlan peer ls'", a, n->name);
	if (p->refs[src] == 0) {
		if (src == VX_SRC_STATIC)
			return ctl_fail(err, errlen, -EPERM, "peer %s of network %s is managed by "
					"the cluster (etcd): it goes when its host leaves the "
					"cluster", a, n->name);
		return ctl_fail(err, errlen, -ENOENT, "peer %s of network %s is not the "
				"cluster's", a, n->name);
	}
	rc = vx_peer_unref(c, n, vn, p, src);
	if (rc < 0)
		return ctl_fail(err, errlen, rc, "cannot remove peer %s from network %s: %s", a,
				n->name, strerror(-rc));
	return 0;
}

/* ---- remote hosts (routed overlays) ---- */

/* Program one remote host: peer ref, route, neighbour, remote MAC; all or nothing. */
static int
vx_remote_program(struct ctl *c, struct net *n, struct vx_net *vn, const struct vx_remote *r,
		  char *err, size_t errlen)
{
	struct l3_nexthop nh = { .type = L3_NH_GATEWAY, .domain = n->domain, .gw_ip = r->subnet };
	struct vx_peer *p;
	char a[16];
	int rc;

	vx_ip(r->subnet, a, sizeof(a));
	rc = vx_peer_ref(c, n, vn, r->vtep, VX_SRC_CLUSTER, err, errlen);
	if (rc < 0)
		return rc;
	rc = l3_route_add(c->dp, r->subnet, r->len, &nh);
	if (rc < 0) {
		ctl_fail(err, errlen, rc, "cannot add the route %s/%u of a remote host of %s: %s",
			 a, r->len, n->name, rc == -EEXIST ? "a route to it exists already" :
			 strerror(-rc));
		goto fail_peer;
	}
	rc = l3_neigh_add(c->dp, n->domain, r->subnet, &r->mac);
	if (rc < 0) {
		ctl_fail(err, errlen, rc, "cannot add the neighbour %s of a remote host of %s: %s",
			 a, n->name, strerror(-rc));
		goto fail_route;
	}
	rc = fdb_add_remote(c->dp->fdb, n->domain, &r->mac, r->vtep, true, rte_rdtsc());
	if (rc < 0) {
		ctl_fail(err, errlen, rc, "cannot add the VTEP MAC of a remote host of %s: %s",
			 n->name, rc == -ENOSPC ? "the MAC table is full" : strerror(-rc));
		goto fail_neigh;
	}
	return 0;
fail_neigh:
	l3_neigh_del(c->dp, n->domain, r->subnet);
fail_route:
	l3_route_del(c->dp, r->subnet, r->len);
fail_peer:
	p = vx_peer_find(vn, r->vtep);
	if (p != NULL)
		vx_peer_unref(c, n, vn, p, VX_SRC_CLUSTER);
	return rc;
}

static void
vx_remote_unprogram_all(struct ctl *c, struct net *n, struct vx_net *vn,
			const struct vx_remote *r)
{
	struct vx_peer *p;

	vx_remote_unprogram(c, n->domain, vn, r);
	p = vx_peer_find(vn, r->vtep);
	if (p != NULL && vx_peer_unref(c, n, vn, p, VX_SRC_CLUSTER) < 0)
		CTL_LOG(ERR, "overlay %s: cannot drop the peer of a remote host", n->name);
}

int
vxlan_remote_add(struct ctl *c, struct net *n, uint32_t subnet, uint8_t len, uint32_t vtep_ip,
		 const uint8_t mac[6], char *err, size_t errlen)
{
	struct vx_remote r = { .subnet = subnet, .len = len, .vtep = vtep_ip }, *old;
	struct vx_net *vn;
	char a[16], b[16];
	int rc;

	rc = vx_overlay(n, &vn, err, errlen);
	if (rc == 0)
		rc = vx_check_vtep(vtep_ip, "remote VTEP", err, errlen);
	if (rc < 0)
		return rc;
	memcpy(r.mac.addr_bytes, mac, RTE_ETHER_ADDR_LEN);
	vx_ip(subnet, a, sizeof(a));
	if (len == 0 || len > 32 || (subnet & ~cfg_prefix_mask(len)) != 0 || subnet == 0)
		return ctl_fail(err, errlen, -EINVAL, "remote subnet %s/%u is not a network "
				"address with its prefix", a, len);
	if (((subnet ^ n->subnet) & cfg_prefix_mask(len < n->prefix_len ? len :
						      n->prefix_len)) == 0)
		return ctl_fail(err, errlen, -EINVAL, "remote subnet %s/%u overlaps network "
				"%s's own %s/%u", a, len, n->name,
				vx_ip(n->subnet, b, sizeof(b)), n->prefix_len);
	if (rte_is_multicast_ether_addr(&r.mac) || rte_is_zero_ether_addr(&r.mac))
		return ctl_fail(err, errlen, -EINVAL, "the VTEP MAC of remote subnet %s/%u is "
				"not a unicast MAC", a, len);
	old = vx_remote_find(vn, subnet, len);
	if (old != NULL) {
		struct vx_remote prev = *old;

		if (prev.vtep == vtep_ip && rte_is_same_ether_addr(&prev.mac, &r.mac))
			return 0;
		/* Replace: the old one out, the new one in, the old one back on failure. */
		vx_remote_unprogram_all(c, n, vn, &prev);
		rc = vx_remote_program(c, n, vn, &r, err, errlen);
		if (rc < 0) {
			char why[256];

			if (vx_remote_program(c, n, vn, &prev, why, sizeof(why)) < 0) {
				CTL_LOG(ERR, "overlay %s: remote %s/%u lost: %s", n->name, a, len,
					why);
				old = vx_remote_find(vn, subnet, len);
				*old = vn->remotes[--vn->n_remotes];
			}
			return rc;
		}
		*vx_remote_find(vn, subnet, len) = r;
		CTL_LOG(INFO, "overlay %s: remote %s/%u now behind %s", n->name, a, len,
			vx_ip(vtep_ip, b, sizeof(b)));
		return 0;
	}
	if (vn->n_remotes == vn->cap_remotes) {
		unsigned int cap = vn->cap_remotes ? vn->cap_remotes * 2 : 8;
		struct vx_remote *nr = realloc(vn->remotes, cap * sizeof(*nr));

		if (nr == NULL)
			return ctl_fail(err, errlen, -ENOMEM, "out of memory");
		vn->remotes = nr;
		vn->cap_remotes = cap;
	}
	rc = vx_remote_program(c, n, vn, &r, err, errlen);
	if (rc < 0)
		return rc;
	vn->remotes[vn->n_remotes++] = r;
	CTL_LOG(INFO, "overlay %s: remote %s/%u behind %s", n->name, a, len,
		vx_ip(vtep_ip, b, sizeof(b)));
	return 0;
}

int
vxlan_remote_del(struct ctl *c, struct net *n, uint32_t subnet, uint8_t len)
{
	struct vx_net *vn = vx_of(n);
	struct vx_remote *r, gone;
	char a[16];

	if (vn == NULL)
		return -EINVAL;
	r = vx_remote_find(vn, subnet, len);
	if (r == NULL)
		return -ENOENT;
	gone = *r;
	*r = vn->remotes[--vn->n_remotes];
	vx_remote_unprogram_all(c, n, vn, &gone);
	CTL_LOG(INFO, "overlay %s: remote %s/%u removed", n->name, vx_ip(subnet, a, sizeof(a)),
		len);
	return 0;
}

bool
vxlan_route_is_remote(uint32_t prefix, uint8_t len)
{
	for (unsigned int d = 0; d < NET_MAX; d++)
		if (vx.nets[d].used && vx_remote_find(&vx.nets[d], prefix, len) != NULL)
			return true;
	return false;
}

/* ---- the MAC table: remote entries ---- */

/* One remote MAC, copied out of the table by a walk. */
struct vx_mac_row {
	uint64_t key;           /* fdb key: domain and MAC */
	uint32_t vtep;          /* the peer it lives behind */
	uint8_t is_static;      /* never ages */
	uint64_t seen_tsc;      /* last seen */
};

struct vx_mac_walk {
	uint16_t domain;        /* only this domain; DP_DOMAIN_NONE: all */
	uint32_t vtep;          /* only this VTEP; 0: all */
	struct vx_mac_row *rows; /* growing array (NULL: count only) */
	size_t n, cap;          /* used, allocated */
	bool collect;           /* fill rows (else count) */
	int err;                /* -ENOMEM */
};

static int
vx_mac_collect(uint64_t key, const struct fdb_entry *e, void *arg)
{
	struct vx_mac_walk *w = arg;
	uint16_t port = __atomic_load_n(&e->port, __ATOMIC_RELAXED);
	uint32_t vtep = __atomic_load_n(&e->vtep, __ATOMIC_RELAXED);

	if (port != DP_PORT_VXLAN ||
	    (w->domain != DP_DOMAIN_NONE && fdb_key_domain(key) != w->domain) ||
	    (w->vtep != 0 && vtep != w->vtep))
		return 0;
	if (w->collect) {
		if (w->n == w->cap) {
			size_t cap = w->cap ? w->cap * 2 : 64;
			struct vx_mac_row *r = realloc(w->rows, cap * sizeof(*r));

			if (r == NULL) {
				w->err = -ENOMEM;
				return 1;
			}
			w->rows = r;
			w->cap = cap;
		}
		w->rows[w->n].key = key;
		w->rows[w->n].vtep = vtep;
		w->rows[w->n].is_static = e->is_static;
		w->rows[w->n].seen_tsc = __atomic_load_n(&e->seen_tsc, __ATOMIC_RELAXED);
	}
	w->n++;
	return 0;
}

/* How many remote MACs the table has in domain (DP_DOMAIN_NONE: all) behind vtep (0: any). */
static size_t
vx_mac_count(struct ctl *c, uint16_t domain, uint32_t vtep)
{
	struct vx_mac_walk w = { .domain = domain, .vtep = vtep };

	fdb_walk(c->dp->fdb, vx_mac_collect, &w);
	return w.n;
}

static int
vx_mac_cmp(const void *a, const void *b)
{
	const struct vx_mac_row *x = a, *y = b;

	if (x->vtep != y->vtep)
		return x->vtep < y->vtep ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

/* ---- commands ---- */

/* The "network" and "peer" arguments of peer.add / peer.rm. */
static int
vx_args_peer(struct ctl *c, json_t *args, struct net **n, uint32_t *ip, char *err,
	     size_t errlen)
{
	char netname[CFG_NET_NAME_MAX + 32], peer[64];
	int rc;

	rc = ctl_arg_str(args, "network", true, netname, sizeof(netname), err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "peer", true, peer, sizeof(peer), err, errlen);
	if (rc < 0)
		return rc;
	*n = net_find(c->nets, netname);
	if (*n == NULL)
		return ctl_fail(err, errlen, -ENOENT, "network %s not found: see 'dpctl network "
				"ls'", netname);
	if (cfg_parse_ip(peer, ip) < 0)
		return ctl_fail(err, errlen, -EINVAL, "invalid VTEP address \"%s\": write an IPv4 "
				"address, e.g. 192.0.2.12", peer);
	return 0;
}

/*
 * vxlan.peer.add and vxlan.peer.rm: change, then save; a save that fails undoes
 * the change (the other operation) so that nothing changed, or says why not.
 */
static int
vx_peer_cmd(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen, bool add)
{
	static const char *const allowed[] = { "network", "peer", NULL };
	char a[16], what[CFG_NET_NAME_MAX + 64];
	struct net *n = NULL;
	uint32_t ip = 0;
	int rc;

	rc = ctl_args_allowed(args, add ? "vxlan.peer.add" : "vxlan.peer.rm", allowed, err,
			      errlen);
	if (rc == 0)
		rc = vx_args_peer(c, args, &n, &ip, err, errlen);
	if (rc == 0)
		rc = add ? vxlan_peer_add(c, n, ip, VX_SRC_STATIC, err, errlen) :
			vxlan_peer_del(c, n, ip, VX_SRC_STATIC, err, errlen);
	if (rc < 0)
		return rc;
	vx_ip(ip, a, sizeof(a));
	snprintf(what, sizeof(what), add ? "peer %s not added to network %s" :
		 "peer %s not removed from network %s", a, n->name);
	rc = state_commit(what, err, errlen);
	if (rc < 0) {
		char why[256];

		if (add && vxlan_peer_del(c, n, ip, VX_SRC_STATIC, why, sizeof(why)) < 0)
			state_err_append(err, errlen, "and it could not be removed again (%s): "
					 "remove it with 'dpctl vxlan peer rm %s %s'", why,
					 n->name, a);
		if (!add && vxlan_peer_add(c, n, ip, VX_SRC_STATIC, why, sizeof(why)) < 0)
			state_err_append(err, errlen, "the peer was removed all the same and could "
					 "not be added again (%s): it comes back after a restart",
					 why);
		return rc;
	}
	*result = add ? json_pack("{s:s, s:i, s:s, s:s}", "network", n->name, "vni",
				  (int)n->vni, "peer", a, "source", "static") :
		json_pack("{s:s, s:s}", "network", n->name, "peer", a);
	return *result != NULL ? 0 : -ENOMEM;
}

int
ctl_vxlan_peer_add(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	return vx_peer_cmd(c, args, result, err, errlen, true);
}

int
ctl_vxlan_peer_rm(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	return vx_peer_cmd(c, args, result, err, errlen, false);
}

/* "static", "cluster" or "static,cluster". */
static const char *
vx_peer_source(const struct vx_peer *p, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned int s = 0; s < VX_N_SOURCES; s++)
		if (p->refs[s] > 0 && off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "," : "",
						vx_source_names[s]);
	return buf;
}

static int
vx_peer_cmp(const void *a, const void *b)
{
	const struct vx_peer *x = a, *y = b;

	return x->ip < y->ip ? -1 : x->ip > y->ip;
}

int
ctl_vxlan_peer_ls(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	static const char *const allowed[] = { "network", NULL };
	char netname[CFG_NET_NAME_MAX + 32];
	struct net *list[NET_MAX], *only = NULL;
	unsigned int nn;
	json_t *arr;
	int rc;

	rc = ctl_args_allowed(args, "vxlan.peer.ls", allowed, err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "network", false, netname, sizeof(netname), err, errlen);
	if (rc < 0)
		return rc;
	if (netname[0] != '\0') {
		struct vx_net *vn;

		only = net_find(c->nets, netname);
		if (only == NULL)
			return ctl_fail(err, errlen, -ENOENT, "network %s not found: see 'dpctl "
					"network ls'", netname);
		rc = vx_overlay(only, &vn, err, errlen);
		if (rc < 0)
			return rc;
	}
	arr = json_array();
	if (arr == NULL)
		return -ENOMEM;
	nn = net_list(c->nets, list, NET_MAX);
	for (unsigned int k = 0; k < nn; k++) {
		struct vx_net *vn = vx_of(list[k]);
		struct vx_peer *sorted;

		if (vn == NULL || (only != NULL && list[k] != only) || vn->n_peers == 0)
			continue;
		sorted = malloc(vn->n_peers * sizeof(*sorted));
		if (sorted == NULL)
			goto oom;
		memcpy(sorted, vn->peers, vn->n_peers * sizeof(*sorted));
		qsort(sorted, vn->n_peers, sizeof(*sorted), vx_peer_cmp);
		for (unsigned int i = 0; i < vn->n_peers; i++) {
			char a[16], src[32];
			json_t *o = json_pack("{s:s, s:i, s:s, s:s, s:i}", "network",
					      list[k]->name, "vni", (int)vn->vni, "peer",
					      vx_ip(sorted[i].ip, a, sizeof(a)), "source",
					      vx_peer_source(&sorted[i], src, sizeof(src)),
					      "macs", (int)vx_mac_count(c, list[k]->domain,
									sorted[i].ip));

			if (o == NULL || json_array_append_new(arr, o) < 0) {
				free(sorted);
				goto oom;
			}
		}
		free(sorted);
	}
	*result = arr;
	return 0;
oom:
	json_decref(arr);
	return -ENOMEM;
}

int
ctl_vxlan_fdb_ls(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	static const char *const allowed[] = { "network", NULL };
	char netname[CFG_NET_NAME_MAX + 32];
	struct vx_mac_walk w = { .vtep = 0, .collect = true };
	uint64_t now = rte_rdtsc(), hz = c->dp->fdb->tsc_hz;
	struct vx_net *vn;
	struct net *n;
	json_t *arr;
	int rc;

	rc = ctl_args_allowed(args, "vxlan.fdb.ls", allowed, err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "network", true, netname, sizeof(netname), err, errlen);
	if (rc < 0)
		return rc;
	n = net_find(c->nets, netname);
	if (n == NULL)
		return ctl_fail(err, errlen, -ENOENT, "network %s not found: see 'dpctl network "
				"ls'", netname);
	rc = vx_overlay(n, &vn, err, errlen);
	if (rc < 0)
		return rc;
	w.domain = n->domain;
	fdb_walk(c->dp->fdb, vx_mac_collect, &w);
	if (w.err < 0) {
		free(w.rows);
		return w.err;
	}
	if (w.n > 1)
		qsort(w.rows, w.n, sizeof(w.rows[0]), vx_mac_cmp);
	arr = json_array();
	for (size_t i = 0; arr != NULL && i < w.n; i++) {
		const struct vx_mac_row *r = &w.rows[i];
		struct rte_ether_addr mac;
		char ms[24], a[16];
		double age = 0;
		json_t *o;

		fdb_key_mac(r->key, &mac);
		if (!r->is_static && hz != 0 && now > r->seen_tsc)
			age = (double)(now - r->seen_tsc) / (double)hz;
		age = (double)(uint64_t)(age * 100) / 100;
		o = json_pack("{s:s, s:s, s:s, s:f, s:s}",
			      "mac", ctl_format_mac(mac.addr_bytes, ms, sizeof(ms)),
			      "vtep", vx_ip(r->vtep, a, sizeof(a)),
			      "type", r->is_static ? "static" : "learned", "ageing_s", age,
			      "network", n->name);
		if (o == NULL || json_array_append_new(arr, o) < 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	free(w.rows);
	if (arr == NULL)
		return -ENOMEM;
	*result = arr;
	return 0;
}

json_t *
ctl_vxlan_stats_json(struct ctl *c)
{
	struct dp_counters *sum = malloc(sizeof(*sum));
	const struct dp_port_counters *pc;
	struct vxlan_params p;
	json_t *o;

	if (sum == NULL)
		return NULL;
	dp_counters_sum(c->dp, sum);
	pc = &sum->ports[DP_PORT_VXLAN];
	vxlan_params_get(c->dp, &p);
	o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:i, s:i, s:I, s:i, s:i, s:b}",
		      "decapsulated", (json_int_t)pc->rx_pkts,
		      "decapsulated_bytes", (json_int_t)pc->rx_bytes,
		      "encapsulated", (json_int_t)pc->tx_pkts,
		      "drops", (json_int_t)pc->drops,
		      "tx_drops", (json_int_t)pc->tx_drops,
		      "overlays", (int)vx.n_overlays, "peers", (int)vx.n_peers,
		      "remote_macs", (json_int_t)vx_mac_count(c, DP_DOMAIN_NONE, 0),
		      "port", (int)p.udp_port, "ttl", (int)p.ttl, "df", p.df);
	free(sum);
	return o;
}

json_t *
vxlan_port_json(struct ctl *c, const struct dp_counters *sum)
{
	const struct dp_port_counters *pc = &sum->ports[DP_PORT_VXLAN];
	char names[512] = "";
	size_t off = 0;

	if (vx.n_overlays == 0)
		return NULL;
	for (unsigned int d = 0; d < NET_MAX; d++) {
		struct net *n = vx.nets[d].used ? net_by_domain(c->nets, (uint16_t)d) : NULL;

		if (n != NULL && off < sizeof(names))
			off += (size_t)snprintf(names + off, sizeof(names) - off, "%s%s",
						off ? "," : "", n->name);
	}
	/* Up while there is a VTEP address to send from and receive on. */
	return json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:i}",
			 "name", "vxlan0", "port_id", DP_PORT_VXLAN, "type", "vxlan",
			 "network", names, "role", "vxlan", "mac", "",
			 "state", vx_vtep_ip() != 0 ? "up" : "down", "iface", "",
			 "devargs", "", "rx_pkts", (json_int_t)pc->rx_pkts,
			 "tx_pkts", (json_int_t)pc->tx_pkts,
			 "drops", (json_int_t)(pc->drops + pc->tx_drops),
			 "domain", DP_DOMAIN_NONE);
}

int
ctl_vxlan_configure(struct ctl *c, char *err, size_t errlen)
{
	struct vxlan_params p = {
		.udp_port = c->cfg->vxlan.udp_port, .ttl = c->cfg->vxlan.ttl,
		.df = c->cfg->vxlan.df,
	};
	int rc = vxlan_configure(c->dp, &p);

	if (rc < 0)
		return ctl_fail(err, errlen, rc, "vxlan: cannot apply port %u, ttl %u, df %s: %s",
				p.udp_port, p.ttl, p.df ? "true" : "false", strerror(-rc));
	return 0;
}

/* ---- state: static peers, [{network, peer}] ---- */

static json_t *
vx_state_dump(void *arg)
{
	struct ctl *c = arg;
	struct net *list[NET_MAX];
	unsigned int nn = net_list(c->nets, list, NET_MAX);
	json_t *arr = json_array();

	for (unsigned int k = 0; arr != NULL && k < nn; k++) {
		struct vx_net *vn = vx_of(list[k]);

		for (unsigned int i = 0; vn != NULL && arr != NULL && i < vn->n_peers; i++) {
			char a[16];

			if (vn->peers[i].refs[VX_SRC_STATIC] == 0)
				continue;
			if (json_array_append_new(arr, json_pack("{s:s, s:s}", "network",
					list[k]->name, "peer", vx_ip(vn->peers[i].ip, a,
								     sizeof(a)))) < 0) {
				json_decref(arr);
				arr = NULL;
			}
		}
	}
	return arr;
}

static int
vx_state_restore(void *arg, json_t *val, char *err, size_t errlen)
{
	struct ctl *c = arg;
	size_t i;
	json_t *o;

	if (!json_is_array(val))
		return ctl_fail(err, errlen, -EINVAL, "\"vxlan\" is not an array");
	json_array_foreach(val, i, o) {
		const char *netname = json_string_value(json_object_get(o, "network"));
		const char *peer = json_string_value(json_object_get(o, "peer"));
		struct net *n = netname != NULL ? net_find(c->nets, netname) : NULL;
		char why[256] = "";
		uint32_t ip = 0;

		if (netname == NULL || peer == NULL || cfg_parse_ip(peer, &ip) < 0) {
			state_log(STATE_LOG_WARNING, "state: vxlan[%zu] is malformed: skipped", i);
			continue;
		}
		if (n == NULL) {
			state_log(STATE_LOG_WARNING, "state: peer %s not restored: network %s is "
				  "gone", peer, netname);
			continue;
		}
		if (vxlan_peer_add(c, n, ip, VX_SRC_STATIC, why, sizeof(why)) < 0)
			state_log(STATE_LOG_WARNING, "state: peer %s of network %s not restored: "
				  "%s", peer, netname, why);
		else
			state_log(STATE_LOG_INFO, "state: peer %s of network %s restored", peer,
				  netname);
	}
	return 0;
}

int
ctl_vxlan_state_register(struct ctl *c)
{
	return state_register("vxlan", STATE_ORDER_VXLAN, vx_state_dump, vx_state_restore, c);
}
