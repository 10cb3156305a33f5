/*
 * port.c - the port commands: port.add, port.del, port.ls, port.stats.
 *
 * Adding a port: check everything that can be checked without touching a device
 * (name, type, network, role, interface), create the ethdev (drivers/port.c),
 * then publish a new data-plane view in which the port is present, a member of
 * its network's bridge domain and polled by worker (port id % workers). Removing
 * one is the reverse: publish a view without it (dp_view_publish returns after
 * the RCU grace period, so no worker still polls or transmits on it), forget its
 * MACs, destroy the device. Counters are per ethdev port id and port ids are
 * reused, so the counters a port id had when a port was added are remembered as
 * its base and subtracted when showing that port.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_log.h>

#include "dataplane/dp.h"
#include "dataplane/fdb.h"
#include "dataplane/offload.h"
#include "dataplane/vxlan.h"
#include "drivers/port.h"
#include "drivers/vtap.h"
#include "container.h"
#include "ctl.h"
#include "neigh.h"
#include "state.h"
#include "uplink.h"
#include "util.h"
#include "vxlan.h"

_Static_assert(CFG_NAME_MAX == PORT_NAME_MAX, "port name sizes differ");
_Static_assert(CFG_NET_NAME_MAX == PORT_NET_MAX, "network name sizes differ");
_Static_assert(CFG_DEVARGS_MAX == PORT_DEVARGS_MAX, "devargs sizes differ");
_Static_assert(CFG_IFACE_MAX == sizeof(((struct port_spec *)0)->iface), "iface sizes differ");
_Static_assert(NET_DOMAIN_NONE == DP_DOMAIN_NONE, "domain none differs");
_Static_assert(PORT_MAX_RXQ >= DP_MAX_WORKERS, "a port has up to one RX queue per worker");
_Static_assert(NET_MAX <= DP_MAX_DOMAINS, "more networks than bridge domains");
_Static_assert((int)DP_ROLE_ACCESS == (int)PORT_ROLE_ACCESS &&
	       (int)DP_ROLE_UPLINK == (int)PORT_ROLE_UPLINK &&
	       (int)DP_ROLE_HOST == (int)PORT_ROLE_HOST, "port roles differ");

char *
ctl_format_mac(const uint8_t *b, char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4],
		 b[5]);
	return buf;
}

static struct port *
ctl_uplink(void)
{
	struct port *ports[RTE_MAX_ETHPORTS];
	unsigned int n = port_list(ports, RTE_MAX_ETHPORTS);

	for (unsigned int i = 0; i < n; i++)
		if (ports[i]->spec.role == PORT_ROLE_UPLINK)
			return ports[i];
	return NULL;
}

/* The view with port id in no domain and polled by nobody. */
static void
ctl_view_remove(struct dp_view *v, uint16_t n_workers, uint16_t id)
{
	uint16_t domain = v->ports[id].domain;

	if (domain != DP_DOMAIN_NONE && domain < DP_MAX_DOMAINS) {
		struct dp_domain_view *d = &v->domains[domain];
		uint16_t k = 0;

		for (uint16_t i = 0; i < d->n_ports; i++)
			if (d->ports[i] != id)
				d->ports[k++] = d->ports[i];
		d->n_ports = k;
	}
	for (uint16_t w = 0; w < n_workers; w++) {
		uint16_t k = 0;

		for (uint16_t i = 0; i < v->n_rxq[w]; i++)
			if (v->rxq[w][i].port_id != id)
				v->rxq[w][k++] = v->rxq[w][i];
		v->n_rxq[w] = k;
	}
	v->ports[id].present = 0;
	v->ports[id].domain = DP_DOMAIN_NONE;
	v->ports[id].role = DP_ROLE_ACCESS;
	v->ports[id].offloads = 0;
	v->vtap[id] = NULL;
}

/*
 * Queue q of port id is polled by worker (id + q) % n_workers: a port with one
 * queue per worker (port.c) is polled by all of them, each on its own queue;
 * single-queue ports are spread over the workers by id.
 */
static void
ctl_view_add(struct dp_view *v, uint16_t n_workers, const struct port *p)
{
	uint16_t id = p->port_id;
	struct dp_domain_view *d = &v->domains[p->domain];

	ctl_view_remove(v, n_workers, id); /* a stale entry must not survive */
	v->ports[id].domain = p->domain;
	v->ports[id].role = (uint8_t)p->spec.role;
	v->ports[id].present = 1;
	/* A vtap takes 64 KB segments and partial checksums as they are
	 * (dataplane/offload.h); its workers read and write its TAP (vtap.h). */
	v->ports[id].offloads = p->vtap != NULL ? DP_PORT_OFF_CSUM | DP_PORT_OFF_TSO4 : 0;
	v->vtap[id] = p->vtap;
	d->ports[d->n_ports++] = id;
	for (uint16_t q = 0; q < (p->n_rxq ? p->n_rxq : 1); q++) {
		uint16_t w = (uint16_t)((id + q) % n_workers);

		/* Whole entry: the slot may hold a removed queue's fields. */
		v->rxq[w][v->n_rxq[w]] = (struct dp_rxq){
			.port_id = id, .queue_id = q,
			.wake_fd = q < PORT_MAX_RXQ ? p->wake_fd[q] : -1,
			.wake_eventfd = q < PORT_MAX_RXQ && p->wake_eventfd[q],
			.wake_sig = q < PORT_MAX_RXQ ? p->wake_sig[q] : 0,
			.wake_kick = q < PORT_MAX_RXQ ? p->wake_kick[q] : NULL,
			.vtap = p->vtap,
		};
		v->n_rxq[w]++;
	}
}

/* Everything that can be refused before a device exists. */
static int
ctl_port_precheck(struct ctl *c, const struct cfg_port *cp, bool cli, struct net **netp,
		  char *err, size_t errlen)
{
	const char *netname = cp->network[0] != '\0' ? cp->network : "bridge";
	enum cfg_port_field field;
	struct port *up;
	struct net *net;
	int rc;

	rc = cfg_port_check(cp, cli, &field, err, errlen);
	if (rc < 0)
		return rc;
	if (port_find(cp->name) != NULL) {
		snprintf(err, errlen, "port \"%s\" already exists: pick another name or remove "
			 "it with 'dpctl del-port %s'", cp->name, cp->name);
		return -EEXIST;
	}
	net = net_find(c->nets, netname);
	if (net == NULL) {
		snprintf(err, errlen, "network \"%s\" not found: create it with 'dpctl network "
			 "create %s' or pick one from 'dpctl network ls'", netname, netname);
		return -ENOENT;
	}
	if (net->driver != NET_DRIVER_BRIDGE) {
		snprintf(err, errlen, "network \"%s\" is not a bridge network: a port can only "
			 "join a bridge network (see 'dpctl network ls')", net->name);
		return -EINVAL;
	}
	if (strcmp(cp->role, "host") == 0 && uplink_host_port() != NULL) {
		snprintf(err, errlen, "port \"%s\" is already the host port: remove it first",
			 uplink_host_port());
		return -EEXIST;
	}
	if (strcmp(cp->role, "host") == 0 && !uplink_is_nic()) {
		snprintf(err, errlen, "the host port carries the uplink's address to the host: it "
			 "needs a NIC uplink with an address first (add-port NAME --type "
			 "afpacket|dpdk|... --role uplink --address CIDR)");
		return -EINVAL;
	}
	if (strcmp(cp->role, "uplink") == 0 && (up = ctl_uplink()) != NULL) {
		snprintf(err, errlen, "port \"%s\" is already the uplink: remove it first or "
			 "add this port with --role access", up->spec.name);
		return -EEXIST;
	}
	if (strcmp(cp->type, "afpacket") == 0 && if_nametoindex(cp->iface) == 0) {
		snprintf(err, errlen, "interface \"%s\" not found: create it first or check the "
			 "name", cp->iface);
		return -ENODEV;
	}
	if (cfg_type_is_tap(cp->type) &&
	    if_nametoindex(cp->iface[0] != '\0' ? cp->iface : cp->name) != 0) {
		snprintf(err, errlen, "interface \"%s\" already exists: a %s port creates its "
			 "interface, so pick another --iface, or attach to it with --type "
			 "afpacket", cp->iface[0] != '\0' ? cp->iface : cp->name, cp->type);
		return -EEXIST;
	}
	*netp = net;
	return 0;
}

int
ctl_port_create(struct ctl *c, const struct cfg_port *cp, bool cli, char *err, size_t errlen)
{
	struct port_spec spec;
	struct dp_counters sum;
	struct dp_view *v;
	struct port *p;
	struct net *net = NULL;
	int rc;

	rc = ctl_port_precheck(c, cp, cli, &net, err, errlen);
	if (rc < 0)
		return rc;
	memset(&spec, 0, sizeof(spec));
	snprintf(spec.name, sizeof(spec.name), "%s", cp->name);
	/* A tap port without --iface gets an interface named as the port (the host
	 * port: dpnet-host). */
	snprintf(spec.iface, sizeof(spec.iface), "%s",
		 cp->iface[0] != '\0' || !cfg_type_is_tap(cp->type) ? cp->iface :
		 strcmp(cp->role, "host") == 0 ? CFG_HOST_IFACE : cp->name);
	snprintf(spec.devargs, sizeof(spec.devargs), "%s", cp->devargs);
	snprintf(spec.network, sizeof(spec.network), "%s", net->name);
	if (port_type_parse(cp->type, &spec.type) < 0 ||
	    port_role_parse(cp->role[0] != '\0' ? cp->role : "access", &spec.role) < 0) {
		snprintf(err, errlen, "port type \"%s\" or role \"%s\" unknown to the drivers",
			 cp->type, cp->role);
		return -EINVAL;
	}
	rc = port_create(&spec, c->dp->pool, c->n_workers, &p, err, errlen);
	if (rc < 0) {
		if (err[0] == '\0')
			snprintf(err, errlen, "cannot create port \"%s\": %s", cp->name,
				 strerror(-rc));
		return rc;
	}
	/* The last port id stands for the remote VTEPs of overlays (dataplane/vxlan.h). */
	if (p->port_id == DP_PORT_VXLAN) {
		port_destroy(p);
		snprintf(err, errlen, "too many ports: port id %u is reserved for VXLAN (vxlan0); "
			 "remove a port first", DP_PORT_VXLAN);
		return -ENOSPC;
	}
	v = dp_view_clone(c->dp);
	if (v == NULL) {
		port_destroy(p);
		snprintf(err, errlen, "out of memory while publishing port \"%s\"", cp->name);
		return -ENOMEM;
	}
	/* The uplink and the host port are in domains of their own, routed to the
	 * networks (uplink.h). */
	p->domain = spec.role == PORT_ROLE_UPLINK ? NET_DOMAIN_UPLINK :
		spec.role == PORT_ROLE_HOST ? NET_DOMAIN_HOST : net->domain;
	/* Not yet in any view, so no worker writes its counters: a stable base. */
	dp_counters_sum(c->dp, &sum);
	c->base[p->port_id] = sum.ports[p->port_id];
	ctl_view_add(v, c->n_workers, p);
	dp_view_publish(c->dp, v);
	if (spec.role == PORT_ROLE_UPLINK || spec.role == PORT_ROLE_HOST) {
		rc = spec.role == PORT_ROLE_UPLINK ? uplink_port_added(c, p, cp, err, errlen) :
			uplink_host_added(c, p, cp, err, errlen);
		if (rc < 0) {
			v = dp_view_clone(c->dp);
			if (v != NULL) {
				ctl_view_remove(v, c->n_workers, p->port_id);
				dp_view_publish(c->dp, v);
			}
			fdb_flush_port(c->dp->fdb, p->port_id);
			port_destroy(p);
			return rc;
		}
	} else {
		net->n_ports++;
	}
	CTL_LOG(INFO, "port %s added (%s, port id %u, network %s)", spec.name,
		port_type_name(spec.type), p->port_id, net->name);
	return 0;
}

/* Counters of one port since it was added. */
static void
ctl_port_counters(struct ctl *c, const struct dp_counters *sum, uint16_t id,
		  struct dp_port_counters *out)
{
	const struct dp_port_counters *now = &sum->ports[id], *base = &c->base[id];

	out->rx_pkts = now->rx_pkts - base->rx_pkts;
	out->rx_bytes = now->rx_bytes - base->rx_bytes;
	out->tx_pkts = now->tx_pkts - base->tx_pkts;
	out->drops = now->drops - base->drops;
	out->tx_drops = now->tx_drops - base->tx_drops;
}

/* The network a port is shown in: the uplink lives in its own routed domain. */
static const char *
ctl_port_network(const struct port *p)
{
	return p->spec.role == PORT_ROLE_UPLINK ? "(uplink)" :
		p->spec.role == PORT_ROLE_HOST ? "(host)" : p->spec.network;
}

static json_t *
ctl_port_json(struct ctl *c, struct port *p, const struct dp_counters *sum)
{
	struct rte_eth_stats st;
	struct rte_eth_link link;
	struct dp_port_counters pc;
	char mac[32];
	bool up = false;
	uint64_t drops;

	memset(&st, 0, sizeof(st));
	rte_eth_stats_get(p->port_id, &st);
	if (port_link(p, &link) == 0)
		up = link.link_status == RTE_ETH_LINK_UP;
	ctl_port_counters(c, sum, p->port_id, &pc);
	drops = pc.drops + pc.tx_drops + st.imissed + st.ierrors + st.rx_nombuf;
	if (p->vtap != NULL) {
		struct vtap_stats vs;

		/* The driver's drops: what the ring PMD cannot count (vtap.h). */
		vtap_stats(p->vtap, &vs);
		drops += vs.rx_bad_vnet + vs.rx_no_mbuf + vs.tx_errors;
	}
	return json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:i}",
			 "name", p->spec.name, "port_id", p->port_id,
			 "type", port_type_name(p->spec.type), "network", ctl_port_network(p),
			 "role", port_role_name(p->spec.role),
			 "mac", ctl_format_mac(p->mac.addr_bytes, mac, sizeof(mac)),
			 "state", up ? "up" : "down", "iface", p->spec.iface,
			 "devargs", p->spec.devargs, "rx_pkts", (json_int_t)st.ipackets,
			 "tx_pkts", (json_int_t)st.opackets, "drops", (json_int_t)drops,
			 "domain", p->domain);
}

static int
ctl_json_oom(json_t *o)
{
	json_decref(o);
	return -ENOMEM;
}

int
ctl_port_add(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	static const char *const allowed[] = {
		"name", "type", "iface", "devargs", "network", "role", "address", "gateway",
		"mtu", "netns", "default_route", NULL,
	};
	json_t *dr = json_object_get(args, "default_route");
	struct dp_counters sum;
	struct cfg_port cp;
	char type[64], address[64], gateway[64], mtu[16], why[256], what[PORT_NAME_MAX + 32];
	struct port *p;
	int rc;

	memset(&cp, 0, sizeof(cp));
	rc = ctl_args_allowed(args, "port.add", allowed, err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "name", true, cp.name, sizeof(cp.name), err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "type", true, type, sizeof(type), err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "iface", false, cp.iface, sizeof(cp.iface), err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "devargs", false, cp.devargs, sizeof(cp.devargs), err,
				 errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "network", false, cp.network, sizeof(cp.network), err,
				 errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "role", false, cp.role, sizeof(cp.role), err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "address", false, address, sizeof(address), err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "gateway", false, gateway, sizeof(gateway), err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "mtu", false, mtu, sizeof(mtu), err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "netns", false, cp.netns, sizeof(cp.netns), err, errlen);
	if (rc < 0)
		return rc;
	if (dr != NULL && !json_is_boolean(dr))
		return ctl_fail(err, errlen, -EINVAL, "\"default_route\" must be true or false");
	cp.no_default_route = json_is_false(dr);
	if (mtu[0] != '\0') {
		char *end;
		unsigned long v = strtoul(mtu, &end, 10);

		if (*end != '\0' || mtu[0] < '0' || mtu[0] > '9' || v < CFG_MTU_MIN ||
		    v > CFG_MTU_MAX)
			return ctl_fail(err, errlen, -EINVAL, "--mtu: invalid MTU \"%s\": give "
					"%d to %d", mtu, CFG_MTU_MIN, CFG_MTU_MAX);
		cp.mtu = (uint16_t)v;
	}
	if (strcmp(cp.role, "host") == 0 && cp.iface[0] == '\0')
		snprintf(cp.iface, sizeof(cp.iface), CFG_HOST_IFACE);
	if (address[0] != '\0' &&
	    cfg_parse_host_cidr(address, &cp.address, &cp.address_len, why, sizeof(why)) < 0)
		return ctl_fail(err, errlen, -EINVAL, "--address: %s", why);
	if (gateway[0] != '\0' && (cfg_parse_ip(gateway, &cp.gateway) < 0 || cp.gateway == 0))
		return ctl_fail(err, errlen, -EINVAL, "--gateway: invalid address \"%s\": write "
				"an IPv4 address, e.g. 192.0.2.1", gateway);
	/* Any type the buffer cannot hold is unknown: let cfg_port_check say so. */
	if (strlen(type) < sizeof(cp.type))
		memcpy(cp.type, type, strlen(type) + 1);
	if (cfg_port_type_index(cp.type) < 0) {
		snprintf(err, errlen, "unknown port type \"%s\": use one of tap, afpacket, vhost, "
			 "pcap, null, ring, dpdk, vtap", type);
		return -EINVAL;
	}
	rc = ctl_port_create(c, &cp, true, err, errlen);
	if (rc < 0)
		return rc;
	rc = state_port_remember(&cp);
	if (rc == 0) {
		snprintf(what, sizeof(what), "port %s not added", cp.name);
		rc = state_commit(what, err, errlen);
	} else {
		ctl_fail(err, errlen, rc, "port %s not added: out of memory", cp.name);
	}
	if (rc < 0) {
		char why[512];

		state_port_forget(cp.name);
		if (ctl_port_remove(c, cp.name, why, sizeof(why)) < 0) {
			CTL_LOG(ERR, "port %s: cannot undo its creation: %s", cp.name, why);
			state_err_append(err, errlen, "and it could not be removed again (%s): "
					 "remove it with 'dpctl del-port %s'", why, cp.name);
		}
		return rc;
	}
	p = port_find(cp.name);
	dp_counters_sum(c->dp, &sum);
	*result = p != NULL ? ctl_port_json(c, p, &sum) : NULL;
	return 0;
}

int
ctl_port_del(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	static const char *const allowed[] = { "name", NULL };
	char name[PORT_NAME_MAX + 32], what[PORT_NAME_MAX + 64];
	const char *owner;
	struct port *p;
	json_t *spec;
	int rc;

	rc = ctl_args_allowed(args, "port.del", allowed, err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "name", true, name, sizeof(name), err, errlen);
	if (rc < 0)
		return rc;
	owner = ctr_port_owner(name);
	if (owner != NULL) {
		snprintf(err, errlen, "port \"%s\" is an interface of container %s: remove it "
			 "with 'dpctl disconnect NETWORK %s' or 'dpctl rm %s'", name, owner, owner,
			 owner);
		return -EBUSY;
	}
	p = port_find(name);
	if (p != NULL && p->spec.role == PORT_ROLE_UPLINK) {
		rc = ctl_route_busy(c, NET_DOMAIN_UPLINK, "the uplink", err, errlen);
		if (rc == 0)
			rc = ctl_neigh_busy(c, NET_DOMAIN_UPLINK, "the uplink's network", err,
					    errlen);
		if (rc < 0)
			return rc;
		if (uplink_host_port() != NULL)
			return ctl_fail(err, errlen, -EBUSY, "the host port \"%s\" carries the "
					"uplink's address to the host: remove it first with "
					"'dpctl del-port %s'", uplink_host_port(),
					uplink_host_port());
	}
	/* Saved first, without it: a removal that cannot be saved is refused before
	 * anything goes (ports from the config file are not in the state). */
	spec = p != NULL ? state_port_take(name) : NULL;
	if (spec != NULL) {
		snprintf(what, sizeof(what), "port %s not removed", name);
		ctl_mac_state_hide(name); /* nor the static MACs behind it */
		rc = state_commit(what, err, errlen);
		ctl_mac_state_hide(NULL);
		if (rc < 0) {
			state_port_put_back(spec);
			return rc;
		}
	}
	rc = ctl_port_remove(c, name, err, errlen);
	if (rc < 0) {
		if (spec != NULL) {
			state_port_put_back(spec);
			state_save(); /* logs (ERR) if this one fails too */
		}
		return rc;
	}
	if (spec != NULL)
		state_save(); /* static MACs behind it went with it (logged if this fails) */
	json_decref(spec);
	*result = json_pack("{s:s}", "name", name);
	return 0;
}

int
ctl_port_remove(struct ctl *c, const char *name, char *err, size_t errlen)
{
	struct dp_view *v;
	struct net *net;
	struct port *p;
	uint16_t id;

	p = port_find(name);
	if (p == NULL) {
		snprintf(err, errlen, "port \"%s\" not found: see 'dpctl port ls'", name);
		return -ENOENT;
	}
	/* Before the clone below: it publishes a view of its own. */
	if (p->spec.role == PORT_ROLE_UPLINK)
		uplink_port_removed(c, p);
	if (p->spec.role == PORT_ROLE_HOST)
		uplink_host_removed(c, p);
	v = dp_view_clone(c->dp);
	if (v == NULL) {
		snprintf(err, errlen, "out of memory while unpublishing port \"%s\"", name);
		return -ENOMEM;
	}
	id = p->port_id;
	ctl_view_remove(v, c->n_workers, id);
	dp_view_publish(c->dp, v); /* returns after the grace period */
	/* Learn requests queued while the port still forwarded would bring its
	 * MACs back after the flush (and a reused port id would inherit them). */
	fdb_learn_drain(c->dp->fdb, rte_rdtsc());
	fdb_flush_port(c->dp->fdb, id);
	net = net_by_domain(c->nets, p->domain);
	if (net != NULL && net->n_ports > 0)
		net->n_ports--;
	port_destroy(p);
	CTL_LOG(INFO, "port %s removed (port id %u)", name, id);
	return 0;
}

int
ctl_port_ls(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	static const char *const allowed[] = { NULL };
	struct port *ports[RTE_MAX_ETHPORTS];
	struct dp_counters sum;
	unsigned int n;
	json_t *arr;
	int rc;

	rc = ctl_args_allowed(args, "port.ls", allowed, err, errlen);
	if (rc < 0)
		return rc;
	arr = json_array();
	if (arr == NULL)
		return -ENOMEM;
	dp_counters_sum(c->dp, &sum);
	n = port_list(ports, RTE_MAX_ETHPORTS);
	for (unsigned int i = 0; i < n; i++) {
		json_t *o = ctl_port_json(c, ports[i], &sum);

		if (o == NULL || json_array_append_new(arr, o) < 0)
			return ctl_json_oom(arr);
	}
	/* The pseudo-port of the overlays' remote VTEPs, while an overlay exists. */
	{
		json_t *o = vxlan_port_json(c, &sum);

		if (o != NULL && json_array_append_new(arr, o) < 0)
			return ctl_json_oom(arr);
	}
	*result = arr;
	return 0;
}

int
ctl_port_stats(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	static const char *const allowed[] = { "name", NULL };
	char name[PORT_NAME_MAX + 32], mac[32];
	struct dp_port_counters pc;
	struct rte_eth_stats st;
	struct rte_eth_link link;
	struct dp_counters sum;
	struct port *p;
	json_t *o;
	int rc;

	rc = ctl_args_allowed(args, "port.stats", allowed, err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "name", true, name, sizeof(name), err, errlen);
	if (rc < 0)
		return rc;
	p = port_find(name);
	if (p == NULL) {
		snprintf(err, errlen, "port \"%s\" not found: see 'dpctl port ls'", name);
		return -ENOENT;
	}
	memset(&st, 0, sizeof(st));
	memset(&link, 0, sizeof(link));
	rte_eth_stats_get(p->port_id, &st);
	port_link(p, &link);
	dp_counters_sum(c->dp, &sum);
	ctl_port_counters(c, &sum, p->port_id, &pc);
	o = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s,"
		      " s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I},"
		      " s:{s:I, s:I, s:I, s:I, s:I},"
		      " s:{s:s, s:I, s:s}}",
		      "name", p->spec.name, "port_id", p->port_id,
		      "type", port_type_name(p->spec.type), "network", ctl_port_network(p),
		      "role", port_role_name(p->spec.role),
		      "mac", ctl_format_mac(p->mac.addr_bytes, mac, sizeof(mac)),
		      "dev_name", p->dev_name,
		      "ethdev",
		      "rx_pkts", (json_int_t)st.ipackets, "rx_bytes", (json_int_t)st.ibytes,
		      "tx_pkts", (json_int_t)st.opackets, "tx_bytes", (json_int_t)st.obytes,
		      "rx_missed", (json_int_t)st.imissed, "rx_errors", (json_int_t)st.ierrors,
		      "tx_errors", (json_int_t)st.oerrors, "rx_nombuf", (json_int_t)st.rx_nombuf,
		      "switch",
		      "rx_pkts", (json_int_t)pc.rx_pkts, "rx_bytes", (json_int_t)pc.rx_bytes,
		      "tx_pkts", (json_int_t)pc.tx_pkts,
		      "drops", (json_int_t)pc.drops, "tx_drops", (json_int_t)pc.tx_drops,
		      "link",
		      "state", link.link_status == RTE_ETH_LINK_UP ? "up" : "down",
		      "speed_mbps", (json_int_t)link.link_speed,
		      "duplex", link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX ? "full" : "half");
	if (o == NULL)
		return -ENOMEM;
	if (p->vtap != NULL) {
		struct vtap_stats vs;

		vtap_stats(p->vtap, &vs);
		if (json_object_set_new(o, "vtap", json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}",
			"rx_gso", (json_int_t)vs.rx_gso, "rx_csum", (json_int_t)vs.rx_csum,
			"rx_bad_vnet", (json_int_t)vs.rx_bad_vnet,
			"rx_no_mbuf", (json_int_t)vs.rx_no_mbuf, "tx_gso", (json_int_t)vs.tx_gso,
			"tx_errors", (json_int_t)vs.tx_errors)) < 0)
			return ctl_json_oom(o);
	}
	*result = o;
	return 0;
}

void
ctl_port_destroy_all(struct ctl *c)
{
	struct port *ports[RTE_MAX_ETHPORTS];
	unsigned int n = port_list(ports, RTE_MAX_ETHPORTS);

	(void)c;
	/* Newest first, the reverse of creation. */
	while (n > 0)
		port_destroy(ports[--n]);
}
