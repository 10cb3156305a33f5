/*
 * ctr_if.c - containers' address pools, namespaces and interfaces.
 *
 * An interface is made in two steps so that a failure leaves nothing behind:
 * ctr_if_plan picks its address (from the network's pool), MAC, names and
 * whether it carries the default route; ctr_if_realize makes the links (a veth
 * pair, or a net_tap port whose interface moves into the namespace), the dpnet
 * port, the configuration inside the namespace (a helper thread in it: MAC,
 * MTU, up, address, default route, lo up, offloads off on a veth) and the
 * endpoint in the network (whose hook installs the gateway's neighbour entry),
 * undoing its own steps when one fails. ctr_if_unrealize is the inverse; the
 * caller frees the address.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_log.h>

#include "ctl.h"
#include "ctr_priv.h"
#include "netns.h"

/* ---------------------------------------------------------------- pools */

struct ipam *
ctr_pool(struct net *n, char *err, size_t errlen)
{
	struct ctr_pool *slot = NULL;
	int rc;

	for (unsigned int i = 0; i < NET_MAX; i++) {
		struct ctr_pool *p = &ctrs.pools[i];

		if (p->net_id[0] == '\0' || strcmp(p->net_id, n->id) != 0)
			continue;
		if ((p->ipam.subnet == n->subnet && p->ipam.prefix_len == n->prefix_len &&
		     p->ipam.gateway == n->gateway && p->range == n->ip_range &&
		     p->range_len == n->ip_range_len) || p->ipam.used > 0)
			return &p->ipam;
		ipam_fini(&p->ipam); /* the network changed while empty: start again */
		p->net_id[0] = '\0';
		slot = p;
		break;
	}
	for (unsigned int i = 0; i < NET_MAX && slot == NULL; i++) {
		struct ctr_pool *p = &ctrs.pools[i];

		/* A free slot, or the empty pool of a network that is gone. */
		if (p->net_id[0] != '\0' && p->ipam.used == 0 &&
		    net_find(ctrs.c->nets, p->net_id) == NULL) {
			ipam_fini(&p->ipam);
			p->net_id[0] = '\0';
		}
		if (p->net_id[0] == '\0')
			slot = p;
	}
	if (slot == NULL) {
		snprintf(err, errlen, "too many address pools: remove unused networks");
		return NULL;
	}
	rc = ipam_init(&slot->ipam, n->subnet, n->prefix_len, n->gateway, n->ip_range,
		       n->ip_range_len, err, errlen);
	if (rc < 0)
		return NULL;
	snprintf(slot->net_id, sizeof(slot->net_id), "%s", n->id);
	slot->range = n->ip_range;
	slot->range_len = n->ip_range_len;
	return &slot->ipam;
}

void
ctr_pool_free(const char *net_id, uint32_t ip)
{
	for (unsigned int i = 0; i < NET_MAX; i++)
		if (strcmp(ctrs.pools[i].net_id, net_id) == 0) {
			ipam_free(&ctrs.pools[i].ipam, ip);
			return;
		}
}

/* ---------------------------------------------------------------- namespaces */

/* Open the container's namespace and check it is still the same one. */
int
ctr_nsfd(const struct ctr *ct)
{
	uint64_t dev, ino;
	int fd;

	if (ct->netns[0] == '\0')
		return -ENOENT;
	fd = netns_open(ct->netns);
	if (fd < 0)
		return fd;
	if (ct->ns_ino != 0 && (netns_ident(fd, &dev, &ino) < 0 || dev != ct->ns_dev ||
				ino != ct->ns_ino)) {
		close(fd);
		return -ESTALE; /* the path now names another namespace */
	}
	return fd;
}

void
ctr_ns_tag(const char *id, char *buf, size_t len)
{
	snprintf(buf, len, CTR_TAG_PREFIX "%s", id);
}

struct ctr_tag_job {
	char *buf;                /* get: the alias read; set: the one to write */
	size_t len;               /* get: its size; set: 0 */
};

static int
ctr_tag_fn(void *arg)
{
	struct ctr_tag_job *j = arg;

	if (j->len == 0)
		return nl_link_set_alias("lo", j->buf);
	return nl_link_get_alias("lo", j->buf, j->len);
}

int
ctr_ns_tag_get(int nsfd, char *buf, size_t len)
{
	struct ctr_tag_job j = { .buf = buf, .len = len };

	if (len == 0)
		return -EINVAL;
	buf[0] = '\0';
	return netns_run(nsfd, ctr_tag_fn, &j);
}

void
ctr_ns_tag_ensure(const struct ctr *ct)
{
	char tag[CTR_TAG_LEN], now[CTR_TAG_LEN + 8];
	struct ctr_tag_job j = { .buf = tag, .len = 0 };
	int fd;

	if (ct->nsname[0] == '\0')
		return; /* not a namespace of ours */
	fd = ctr_nsfd(ct);
	if (fd < 0)
		return;
	ctr_ns_tag(ct->id, tag, sizeof(tag));
	if (ctr_ns_tag_get(fd, now, sizeof(now)) == 0 && strcmp(now, tag) != 0 &&
	    netns_run(fd, ctr_tag_fn, &j) < 0)
		CTL_LOG(WARNING, "container %s: cannot tag its namespace %s (lo's alias): a "
			"crash during its removal would leave the namespace", ct->name,
			ct->nsname);
	close(fd);
}

int
ctr_ns_configure(void *arg)
{
	struct ctr_nsjob *j = arg;
	int rc;

	j->step = "set lo up";
	rc = nl_link_set("lo", NULL, 0, true);
	if (rc < 0 || j->ifname == NULL)
		return rc;
	netns_ipv6_off(j->ifname); /* no IPv6 chatter: IPv4 networks only, as Docker */
	if (j->offloads_off) {
		j->step = "turn offloads off";
		rc = eth_offloads_off(j->ifname);
		if (rc < 0)
			return rc;
	}
	j->step = "set the interface up";
	rc = nl_link_set(j->ifname, j->mac, j->mtu, true);
	if (rc < 0)
		return rc;
	if (j->ip != 0) {
		j->step = "add the address";
		rc = nl_addr_add(j->ifname, j->ip, j->prefix_len);
		if (rc < 0 && rc != -EEXIST)
			return rc;
	}
	if (j->gw != 0) {
		j->step = "add the default route";
		rc = nl_route_add_default(j->ifname, j->gw);
		if (rc == 0)
			j->gw_added = true;
		else if (rc != -EEXIST)
			return rc;
		/* -EEXIST: the namespace has a default route already (ours or its own). */
	}
	return 0;
}

/* Lowest ethN that does not exist in the namespace. */
static int
ctr_ns_free_eth(void *arg)
{
	const struct ctr *ct = arg;

	for (int k = 0; k < 1000; k++) {
		char name[IFNAMSIZ];
		bool ours = false;

		snprintf(name, sizeof(name), "eth%d", k);
		for (unsigned int i = 0; i < ct->n_ifs && !ours; i++)
			ours = strcmp(ct->ifs[i].ifname, name) == 0;
		if (!ours && if_nametoindex(name) == 0)
			return k;
	}
	return -ENOSPC;
}

struct ctr_defroute {
	const char *ifname;        /* interface */
	uint32_t gw;               /* gateway */
};

static int
ctr_ns_defroute(void *arg)
{
	struct ctr_defroute *d = arg;

	return nl_route_add_default(d->ifname, d->gw);
}

/* Processes whose network namespace is (dev, ino); returns how many (at most max). */
/* ---------------------------------------------------------------- interfaces */

/* A host interface name "<prefix><8 hex>" that does not exist. */
static void
ctr_host_ifname(const char *prefix, char *buf)
{
	char hex[9];

	do {
		ctl_random_hex(hex, 8);
		snprintf(buf, IFNAMSIZ, "%s%s", prefix, hex);
	} while (if_nametoindex(buf) != 0);
}

/* "c-<name>-<k>", the lowest k free; long names are shortened with a hash. */
static void
ctr_port_name(const struct ctr *ct, char *buf)
{
	uint32_t h = 2166136261u;

	for (const char *s = ct->name; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	for (unsigned int k = 0;; k++) {
		bool used = false;
		int n = snprintf(buf, PORT_NAME_MAX, "c-%s-%u", ct->name, k);

		if (n < 0 || n >= PORT_NAME_MAX)
			snprintf(buf, PORT_NAME_MAX, "c-%.16s.%06x-%u", ct->name, h & 0xFFFFFF, k);
		for (unsigned int i = 0; i < ct->n_ifs && !used; i++)
			used = strcmp(ct->ifs[i].port, buf) == 0;
		if (!used && port_find(buf) == NULL)
			return;
	}
}

/*
 * Pick what a new interface of ct in n will be: address (want_ip, or the pool's
 * next), MAC (want_mac, or Docker's), names. Takes the address from the pool.
 */
int
ctr_if_plan(struct ctr *ct, int nsfd, struct net *n, uint32_t want_ip, const uint8_t *want_mac,
	    enum ctr_attach kind, struct ctr_if *f, char *err, size_t errlen)
{
	struct ipam *pool;
	int k, rc;

	memset(f, 0, sizeof(*f));
	if (ct->n_ifs == CTR_MAX_IFS)
		return ctl_fail(err, errlen, -ENOSPC, "container %s has %d interfaces, the "
				"most dpnet gives one: disconnect one first", ct->name,
				CTR_MAX_IFS);
	k = netns_run(nsfd, ctr_ns_free_eth, ct);
	if (k < 0)
		return ctl_fail(err, errlen, k, "cannot pick an interface name in %s: %s",
				ct->netns, strerror(-k));
	pool = ctr_pool(n, err, errlen);
	if (pool == NULL)
		return -ENOSPC;
	if (want_ip != 0) {
		rc = ipam_take(pool, want_ip, err, errlen);
	} else {
		rc = ipam_alloc(pool, &f->ip, err, errlen);
		if (rc < 0)
			snprintf(err, errlen, "no available IPv4 addresses on this network's "
				 "address pools: %s (%.12s): remove a container from it, or use "
				 "another network", n->name, n->id);
	}
	if (rc < 0)
		return rc;
	if (want_ip != 0)
		f->ip = want_ip;
	snprintf(f->net_id, sizeof(f->net_id), "%s", n->id);
	snprintf(f->net_name, sizeof(f->net_name), "%s", n->name);
	f->prefix_len = n->prefix_len;
	f->gateway = n->gateway;
	f->mtu = n->mtu != 0 ? n->mtu : NET_MTU_DEFAULT;
	if (want_mac != NULL)
		memcpy(f->mac, want_mac, 6);
	else
		ipam_mac(f->ip, f->mac);
	snprintf(f->ifname, sizeof(f->ifname), "eth%d", k);
	ctr_port_name(ct, f->port);
	ctr_host_ifname(kind == CTR_ATTACH_VETH ? "dpv" : kind == CTR_ATTACH_VTAP ? "dpx" : "dpt",
			f->host_if);
	f->attach = kind;
	/* The first interface carries the default route, unless the network is internal. */
	f->gw_route = ct->n_ifs == 0 && !n->internal && n->gateway != 0;
	return 0;
}

/* Undo ctr_if_realize (the address stays taken: the caller frees it). */
void
ctr_if_unrealize(struct ctr *ct, struct ctr_if *f)
{
	struct ctl *c = ctrs.c;
	struct net *n = net_find(c->nets, f->net_id);
	char err[256];
	int rc;

	if (n != NULL)
		net_endpoint_del(c->nets, n, ct->id);
	if (port_find(f->port) != NULL)
		ctl_port_remove(c, f->port, err, sizeof(err));
	if (f->attach == CTR_ATTACH_VETH) {
		rc = nl_link_del(f->host_if);
		if (rc < 0 && rc != -ENODEV)
			CTL_LOG(WARNING, "container %s: cannot delete interface %s: %s", ct->name,
				f->host_if, strerror(-rc));
	}
}

/*
 * Make the interface planned in f: the links, the dpnet port, the configuration
 * inside the namespace and the endpoint in the network. restore: a veth host end
 * that still exists is reused (the namespace side is configured already).
 */
int
ctr_if_realize(struct ctr *ct, int nsfd, struct ctr_if *f, bool restore, char *err,
	       size_t errlen)
{
	struct ctl *c = ctrs.c;
	struct ctr_nsjob job = {
		.ifname = f->ifname, .mac = f->mac, .mtu = f->mtu, .ip = f->ip,
		.prefix_len = f->prefix_len, .gw = f->gw_route ? f->gateway : 0,
		.offloads_off = f->attach == CTR_ATTACH_VETH,
	};
	struct cfg_port cp;
	struct net *n;
	bool link_made = false;
	int rc;

	n = net_find(c->nets, f->net_id);
	if (n == NULL)
		return ctl_fail(err, errlen, -ENOENT, "network %s not found", f->net_name);
	memset(&cp, 0, sizeof(cp));
	snprintf(cp.name, sizeof(cp.name), "%s", f->port);
	snprintf(cp.iface, sizeof(cp.iface), "%s", f->host_if);
	snprintf(cp.network, sizeof(cp.network), "%s", n->name);
	snprintf(cp.role, sizeof(cp.role), "access");
	if (port_find(f->port) != NULL)
		return ctl_fail(err, errlen, -EEXIST, "port \"%s\" already exists: remove it "
				"with 'dpctl del-port %s'", f->port, f->port);
	if (f->attach == CTR_ATTACH_VETH) {
		if (!(restore && if_nametoindex(f->host_if) != 0)) {
			rc = nl_veth_add(f->host_if, f->ifname, nsfd, f->mac, f->mtu);
			if (rc < 0)
				return ctl_fail(err, errlen, rc, "cannot create the veth pair "
						"%s/%s: %s", f->host_if, f->ifname,
						strerror(-rc));
			link_made = true;
		}
		/* The host end: no IPv6 chatter into the switch, offloads off, up. */
		netns_ipv6_off(f->host_if);
		/* The host's kernel must not answer ARP for the gateway (dpnet does). */
		netns_arp_off(f->host_if);
		rc = eth_offloads_off(f->host_if);
		if (rc == 0)
			rc = nl_link_set(f->host_if, NULL, 0, true);
		if (rc < 0) {
			ctl_fail(err, errlen, rc, "cannot set up %s: %s", f->host_if,
				 strerror(-rc));
			goto fail_link;
		}
		snprintf(cp.type, sizeof(cp.type), "afpacket");
		/* TX straight to the veth, not through a qdisc that only queues. */
		snprintf(cp.devargs, sizeof(cp.devargs), "qdisc_bypass=1");
		rc = ctl_port_create(c, &cp, true, err, errlen);
		if (rc < 0)
			goto fail_link;
	} else {
		snprintf(cp.type, sizeof(cp.type), f->attach == CTR_ATTACH_VTAP ? "vtap" : "tap");
		rc = ctl_port_create(c, &cp, true, err, errlen);
		if (rc < 0)
			return rc;
		rc = nl_link_move(f->host_if, nsfd, f->ifname);
		if (rc < 0) {
			ctl_fail(err, errlen, rc, "cannot move %s into %s as %s: %s", f->host_if,
				 ct->netns, f->ifname, strerror(-rc));
			goto fail_port;
		}
	}
	rc = netns_run(nsfd, ctr_ns_configure, &job);
	if (rc < 0) {
		ctl_fail(err, errlen, rc, "cannot %s of %s in %s: %s", job.step, f->ifname,
			 ct->netns, strerror(-rc));
		goto fail_port;
	}
	if (f->gw_route && !job.gw_added && !restore) {
		/* The namespace (made elsewhere) routes by default another way: keep it. */
		f->gw_route = false;
		CTL_LOG(INFO, "container %s: %s has a default route already; none added via %s",
			ct->name, ct->netns, f->ifname);
	}
	rc = net_endpoint_add(c->nets, n, ct->id, ct->name, f->ip, f->mac, err, errlen);
	if (rc < 0)
		goto fail_port;
	return 0;

fail_port:
	{
		char e2[256];

		ctl_port_remove(c, f->port, e2, sizeof(e2));
	}
fail_link:
	if (f->attach == CTR_ATTACH_VETH && link_made)
		nl_link_del(f->host_if);
	return rc;
}

/* After the interface with the default route went: route via the next one. */
void
ctr_reroute(struct ctr *ct)
{
	struct ctr_defroute d;
	int fd, rc;

	for (unsigned int i = 0; i < ct->n_ifs; i++)
		if (ct->ifs[i].gw_route)
			return;
	for (unsigned int i = 0; i < ct->n_ifs; i++) {
		struct ctr_if *f = &ct->ifs[i];
		struct net *n = net_find(ctrs.c->nets, f->net_id);

		if (n == NULL || n->internal || f->gateway == 0)
			continue;
		fd = ctr_nsfd(ct);
		if (fd < 0)
			return;
		d.ifname = f->ifname;
		d.gw = f->gateway;
		rc = netns_run(fd, ctr_ns_defroute, &d);
		close(fd);
		if (rc == 0)
			f->gw_route = true;
		return;
	}
}

