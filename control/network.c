/*
 * network.c - the network table (Docker's model), endpoints, the network
 * commands (ls, create, inspect, rm) and the "networks" state section.
 *
 * Ids: the three defaults have the fixed short ids INTERFACE.md shows; config
 * networks get ids derived from their names (FNV-1a, so they are stable without
 * a state file); networks from `network create` get 64 random hex digits, kept
 * in the state file. Ids are unique: a clash is resolved by drawing again.
 *
 * Validation follows `docker network create`: the CLI's checks first (every
 * gateway or ip-range needs a subnet and must lie inside it), then the daemon's
 * (unique name, no overlap with another network's subnet). Without --subnet the
 * first free pool is picked from Docker's defaults (172.18-31.0.0/16, then
 * 192.168.N.0/20), skipping pools that overlap a network or a route of the host
 * (other than through our own uplink interface), as Docker does.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "ctl.h"
#include "network.h"
#include "util.h"
#include "state.h"

/* The ids `dpctl network ls` shows for the defaults (INTERFACE.md). */
static const struct {
	const char *name;          /* network name */
	const char *id;            /* its fixed short id */
	enum net_driver driver;    /* its driver */
} net_defaults[] = {
	{ "bridge", "9e3c441ad16e", NET_DRIVER_BRIDGE },
	{ "host", "fdfd4abed1a0", NET_DRIVER_HOST },
	{ "none", "8a93bc235b8d", NET_DRIVER_NULL },
};

#define NET_BRIDGE_SUBNET 0xAC110000u   /* 172.17.0.0/16, as docker0 */
#define NET_BRIDGE_GATEWAY 0xAC110001u  /* 172.17.0.1 */

const char *
net_driver_name(enum net_driver d)
{
	switch (d) {
	case NET_DRIVER_BRIDGE:
		return "bridge";
	case NET_DRIVER_HOST:
		return "host";
	default:
		return "null";
	}
}

const char *
net_driver_str(const struct net *n)
{
	return n->vni != 0 ? "overlay" : net_driver_name(n->driver);
}

const char *
net_scope(const struct net *n)
{
	return n->vni != 0 ? "global" : "local";
}

struct net *
net_by_vni(struct net_table *t, uint32_t vni)
{
	for (unsigned int i = 0; vni != 0 && i < NET_MAX; i++)
		if (t->nets[i].name[0] != '\0' && t->nets[i].vni == vni)
			return &t->nets[i];
	return NULL;
}

uint16_t
net_overlay_mtu_max(const struct net_table *t)
{
	uint16_t up = t->uplink_mtu != 0 ? t->uplink_mtu : NET_MTU_DEFAULT;

	return up > NET_MTU_MIN + NET_VXLAN_OVERHEAD ? (uint16_t)(up - NET_VXLAN_OVERHEAD) :
		NET_MTU_MIN;
}

const char *
net_short_id(const struct net *n, char *buf)
{
	memcpy(buf, n->id, NET_ID_LEN);
	buf[NET_ID_LEN] = '\0';
	return buf;
}

static uint64_t
net_fnv1a(const char *s, uint64_t h)
{
	for (; *s != '\0'; s++) {
		h ^= (uint8_t)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Does another network's id start like id (first NET_ID_LEN digits)? */
static bool
net_id_taken(struct net_table *t, const char *id)
{
	for (unsigned int i = 0; i < NET_MAX; i++)
		if (t->nets[i].name[0] != '\0' && strncmp(t->nets[i].id, id, NET_ID_LEN) == 0)
			return true;
	return false;
}

/* 64 hex digits derived from a seed string (stable). */
static void
net_hash_id(const char *seed, unsigned int salt, char *id)
{
	uint64_t h = net_fnv1a(seed, net_fnv1a("dpnet-network:", 0xcbf29ce484222325ULL));
	size_t off = 0;

	for (unsigned int k = 0; k < 4; k++) {
		char s[32];

		snprintf(s, sizeof(s), "#%u.%u", salt, k);
		h = net_fnv1a(s, h);
		off += (size_t)snprintf(id + off, NET_FULL_ID_LEN + 1 - off, "%016llx",
					(unsigned long long)h);
	}
}

/* 64 random hex digits; falls back to the clock when getrandom is unavailable. */
static bool
net_is_hex_id(const char *s)
{
	if (strlen(s) != NET_FULL_ID_LEN)
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

static struct net *
net_slot(struct net_table *t)
{
	for (unsigned int i = 0; i < NET_MAX; i++)
		if (t->nets[i].name[0] == '\0')
			return &t->nets[i];
	return NULL;
}

static bool
net_overlap(uint32_t a, uint8_t alen, uint32_t b, uint8_t blen)
{
	uint8_t len = alen < blen ? alen : blen;

	return ((a ^ b) & cfg_prefix_mask(len)) == 0;
}

/* The bridge network whose subnet overlaps a/len, or NULL. */
static struct net *
net_overlapping(struct net_table *t, uint32_t a, uint8_t len)
{
	for (unsigned int i = 0; i < NET_MAX; i++) {
		struct net *n = &t->nets[i];

		if (n->name[0] != '\0' && n->driver == NET_DRIVER_BRIDGE &&
		    net_overlap(a, len, n->subnet, n->prefix_len))
			return n;
	}
	return NULL;
}

/* Does a/len overlap the uplink network? */
static bool
net_uplink_overlaps(const struct net_table *t, uint32_t a, uint8_t len)
{
	return t->uplink_len != 0 && net_overlap(a, len, t->uplink_subnet, t->uplink_len);
}

/* Does a/len overlap a route of the host (not the default, not via our uplink)? */
static bool
net_host_route_overlaps(struct net_table *t, uint32_t a, uint8_t len)
{
	const char *file = t->route_file != NULL && t->route_file[0] != '\0' ?
		t->route_file : "/proc/net/route";
	char line[512];
	bool hit = false;
	FILE *f;

	f = fopen(file, "re");
	if (f == NULL)
		return false;
	/* Iface Destination Gateway Flags RefCnt Use Metric Mask ...: hex, network order. */
	while (!hit && fgets(line, sizeof(line), f) != NULL) {
		char ifn[IFNAMSIZ + 1];
		unsigned int dst, gw, flags, mask;
		uint32_t d, m;
		uint8_t plen = 0;

		if (sscanf(line, "%16s %x %x %x %*s %*s %*s %x", ifn, &dst, &gw, &flags,
			   &mask) != 5)
			continue; /* the header */
		if (t->own_iface[0] != '\0' && strcmp(ifn, t->own_iface) == 0)
			continue;
		d = __builtin_bswap32(dst);
		m = __builtin_bswap32(mask);
		if (m == 0)
			continue; /* the default route blocks nothing */
		while (plen < 32 && (m & (0x80000000u >> plen)))
			plen++;
		hit = net_overlap(a, len, d & m, plen);
	}
	fclose(f);
	return hit;
}

/* Docker's default pools: 172.18-31.0.0/16 (172.17 is bridge's), 192.168.N.0/20. */
static int
net_pick_subnet(struct net_table *t, uint32_t *subnet, uint8_t *len)
{
	for (uint32_t o2 = 17; o2 <= 31; o2++) {
		uint32_t s = 0xAC000000u | (o2 << 16);

		if (net_overlapping(t, s, 16) == NULL && !net_uplink_overlaps(t, s, 16) &&
		    !net_host_route_overlaps(t, s, 16)) {
			*subnet = s;
			*len = 16;
			return 0;
		}
	}
	for (uint32_t o3 = 0; o3 < 256; o3 += 16) {
		uint32_t s = 0xC0A80000u | (o3 << 8);

		if (net_overlapping(t, s, 20) == NULL && !net_uplink_overlaps(t, s, 20) &&
		    !net_host_route_overlaps(t, s, 20)) {
			*subnet = s;
			*len = 20;
			return 0;
		}
	}
	return -ENOSPC;
}

/* Everything `network create` checks before anything changes. */
static int
net_check(struct net_table *t, const struct net_params *p, uint32_t *subnet, uint8_t *len,
	  uint32_t *gateway, char *err, size_t errlen)
{
	char a[16], b[16];
	struct net *o;
	uint32_t mask;

	if (!cfg_name_valid(p->name, CFG_NET_NAME_MAX))
		return ctl_fail(err, errlen, -EINVAL, "invalid network name \"%s\": use 1-%d "
				"letters, digits, '_', '.' or '-', starting with a letter or "
				"digit", p->name, CFG_NET_NAME_MAX - 1);
	if (p->driver != NULL && strcmp(p->driver, "bridge") != 0 &&
	    strcmp(p->driver, "overlay") != 0) {
		if (strcmp(p->driver, "vlan") == 0)
			return ctl_fail(err, errlen, -EOPNOTSUPP, "driver %s is not supported "
					"yet: only bridge and overlay networks can be created "
					"for now", p->driver);
		if (strcmp(p->driver, "host") == 0 || strcmp(p->driver, "null") == 0)
			return ctl_fail(err, errlen, -EPERM, "only one instance of \"%s\" network "
					"is allowed", p->driver);
		return ctl_fail(err, errlen, -ENOENT, "plugin \"%s\" not found: use --driver "
				"bridge or --driver overlay", p->driver);
	}
	if (p->driver != NULL && strcmp(p->driver, "overlay") == 0) {
		uint16_t max = net_overlay_mtu_max(t);

		if (p->vni == 0 || p->vni > NET_VNI_MAX)
			return ctl_fail(err, errlen, -EINVAL, "an overlay network needs a VXLAN "
					"id: add --vni N (1-%u)", NET_VNI_MAX);
		o = net_by_vni(t, p->vni);
		if (o != NULL)
			return ctl_fail(err, errlen, -EEXIST, "vni %u is already used by network "
					"%s: pick another --vni", p->vni, o->name);
		if (p->mtu > max && !(p->mtu_unchecked && t->uplink_mtu == 0))
			return ctl_fail(err, errlen, -EINVAL, "--mtu %u is too large for an "
					"overlay: the uplink's MTU is %u and VXLAN takes %d: use "
					"--mtu %u or less", p->mtu, max + NET_VXLAN_OVERHEAD,
					NET_VXLAN_OVERHEAD, max);
	} else if (p->vni != 0) {
		return ctl_fail(err, errlen, -EINVAL, "--vni is for overlay networks: add "
				"--driver overlay");
	}
	if (p->subnet == 0 && p->prefix_len == 0 && (p->gateway != 0 || p->ip_range_len != 0))
		return ctl_fail(err, errlen, -EINVAL, "every ip-range or gateway must have a "
				"corresponding subnet");
	if (p->mtu != 0 && (p->mtu < NET_MTU_MIN || p->mtu > NET_MTU_MAX))
		return ctl_fail(err, errlen, -EINVAL, "invalid MTU %u: use %d-%d", p->mtu,
				NET_MTU_MIN, NET_MTU_MAX);
	o = net_find(t, p->name);
	if (o != NULL && strcmp(o->name, p->name) == 0)
		return ctl_fail(err, errlen, -EEXIST, "network with name %s already exists",
				p->name);
	if (p->subnet == 0 && p->prefix_len == 0) {
		if (net_pick_subnet(t, subnet, len) < 0)
			return ctl_fail(err, errlen, -ENOSPC, "could not find an available, "
					"non-overlapping IPv4 address pool among the defaults "
					"to assign to the network");
		*gateway = *subnet + 1;
		return 0;
	}
	*subnet = p->subnet;
	*len = p->prefix_len;
	mask = cfg_prefix_mask(*len);
	if (*len > 30 || *len < 8)
		return ctl_fail(err, errlen, -EINVAL, "invalid subnet %s/%u: use a prefix "
				"length from 8 to 30 (room for a gateway and containers)",
				cfg_format_ip(*subnet, a, sizeof(a)), *len);
	if ((*subnet & ~mask) != 0)
		return ctl_fail(err, errlen, -EINVAL, "invalid subnet %s/%u: it should be %s/%u",
				cfg_format_ip(*subnet, a, sizeof(a)), *len,
				cfg_format_ip(*subnet & mask, b, sizeof(b)), *len);
	if ((*subnet >> 24) == 0 || (*subnet >> 24) == 127 || (*subnet >> 24) >= 224)
		return ctl_fail(err, errlen, -EINVAL, "invalid subnet %s/%u: not a unicast "
				"range (0/8, 127/8 and 224/3 are reserved)",
				cfg_format_ip(*subnet, a, sizeof(a)), *len);
	*gateway = p->gateway;
	if (*gateway != 0 && (*gateway & mask) != *subnet)
		return ctl_fail(err, errlen, -EINVAL, "no matching subnet for gateway %s",
				cfg_format_ip(*gateway, a, sizeof(a)));
	if (*gateway != 0 && (*gateway == *subnet || *gateway == (*subnet | ~mask)))
		return ctl_fail(err, errlen, -EINVAL, "invalid gateway %s: it is the network "
				"or broadcast address of %s/%u",
				cfg_format_ip(*gateway, a, sizeof(a)),
				cfg_format_ip(*subnet, b, sizeof(b)), *len);
	if (*gateway == 0)
		*gateway = *subnet + 1;
	if (p->ip_range_len != 0 || p->ip_range != 0) {
		uint32_t rmask = cfg_prefix_mask(p->ip_range_len);

		if ((p->ip_range & ~rmask) != 0)
			return ctl_fail(err, errlen, -EINVAL, "invalid ip-range %s/%u: it should "
					"be %s/%u", cfg_format_ip(p->ip_range, a, sizeof(a)),
					p->ip_range_len,
					cfg_format_ip(p->ip_range & rmask, b, sizeof(b)),
					p->ip_range_len);
		if (p->ip_range_len < *len || (p->ip_range & mask) != *subnet)
			return ctl_fail(err, errlen, -EINVAL, "no matching subnet for range "
					"%s/%u", cfg_format_ip(p->ip_range, a, sizeof(a)),
					p->ip_range_len);
		if (p->ip_range_len > 31)
			return ctl_fail(err, errlen, -EINVAL, "invalid ip-range %s/%u: it leaves "
					"no address to allocate",
					cfg_format_ip(p->ip_range, a, sizeof(a)), p->ip_range_len);
	}
	o = net_overlapping(t, *subnet, *len);
	if (o != NULL)
		return ctl_fail(err, errlen, -EADDRINUSE, "Pool overlaps with other one on this "
				"address space (network %s has %s/%u)", o->name,
				cfg_format_ip(o->subnet, a, sizeof(a)), o->prefix_len);
	if (net_uplink_overlaps(t, *subnet, *len))
		return ctl_fail(err, errlen, -EADDRINUSE, "Pool overlaps with other one on this "
				"address space (the uplink network %s/%u, where dpnet's uplink "
				"address is): pick another subnet",
				cfg_format_ip(t->uplink_subnet, a, sizeof(a)), t->uplink_len);
	return 0;
}

static int
net_pick_domain(struct net_table *t, uint16_t want)
{
	if (want != NET_DOMAIN_NONE && want > 0 && want < NET_DOMAIN_UPLINK &&
	    !t->domain_used[want])
		return want;
	for (int d = 1; d < NET_DOMAIN_UPLINK; d++)
		if (!t->domain_used[d])
			return d;
	return -1;
}

static void
net_free_slot(struct net_table *t, struct net *n)
{
	if (n->domain != NET_DOMAIN_NONE && n->domain < NET_MAX)
		t->domain_used[n->domain] = false;
	free(n->eps);
	memset(n, 0, sizeof(*n));
}

struct net *
net_create(struct net_table *t, const struct net_params *p, char *err, size_t errlen)
{
	uint32_t subnet = 0, gateway = 0;
	uint8_t len = 0;
	struct net *n;
	int rc, domain;

	rc = net_check(t, p, &subnet, &len, &gateway, err, errlen);
	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	domain = net_pick_domain(t, p->domain);
	n = net_slot(t);
	if (n == NULL || domain < 0) {
		snprintf(err, errlen, "too many networks (at most %d bridge networks): remove "
			 "one first", NET_MAX - 2);
		errno = ENOSPC;
		return NULL;
	}
	memset(n, 0, sizeof(*n));
	/* The id first, while the slot is free (so it does not clash with itself). */
	if (p->id != NULL && net_is_hex_id(p->id) && !net_id_taken(t, p->id)) {
		snprintf(n->id, sizeof(n->id), "%s", p->id);
	} else {
		for (unsigned int k = 0;; k++) {
			if (p->from_config)
				net_hash_id(p->name, k, n->id);
			else
				ctl_random_hex(n->id, NET_FULL_ID_LEN);
			if (!net_id_taken(t, n->id))
				break;
		}
	}
	snprintf(n->name, sizeof(n->name), "%s", p->name);
	n->driver = NET_DRIVER_BRIDGE;
	n->from_config = p->from_config;
	n->subnet = subnet;
	n->prefix_len = len;
	n->gateway = gateway;
	n->ip_range = p->ip_range;
	n->ip_range_len = p->ip_range_len;
	n->vni = p->driver != NULL && strcmp(p->driver, "overlay") == 0 ? p->vni : 0;
	n->mtu = p->mtu != 0 ? p->mtu : n->vni != 0 ? net_overlay_mtu_max(t) : NET_MTU_DEFAULT;
	n->internal = p->internal;
	n->domain = (uint16_t)domain;
	n->created_ns = p->created_ns != 0 ? p->created_ns : ctl_now_ns();
	t->domain_used[domain] = true;
	if (t->hooks.attach != NULL) {
		rc = t->hooks.attach(t->hooks.arg, n, err, errlen);
		if (rc < 0) {
			net_free_slot(t, n);
			errno = -rc;
			return NULL;
		}
		n->attached = true;
	}
	return n;
}

struct net *
net_add(struct net_table *t, const char *name, uint32_t subnet, uint8_t prefix_len,
	uint32_t gateway, char *err, size_t errlen)
{
	struct net_params p = {
		.name = name, .subnet = subnet, .prefix_len = prefix_len, .gateway = gateway,
		.domain = NET_DOMAIN_NONE, .from_config = true,
	};

	return net_create(t, &p, err, errlen);
}

int
net_del(struct net_table *t, struct net *n, char *err, size_t errlen)
{
	if (n->builtin)
		return ctl_fail(err, errlen, -EPERM, "%s is a pre-defined network and cannot be "
				"removed", n->name);
	if (n->n_eps > 0 || n->n_ports > 0)
		return ctl_fail(err, errlen, -EBUSY, "error while removing network: network %s "
				"id %s has active endpoints (%u container%s, %u port%s)", n->name,
				n->id, n->n_eps, n->n_eps == 1 ? "" : "s",
				n->n_ports, n->n_ports == 1 ? "" : "s");
	if (n->attached && t->hooks.busy != NULL) {
		int rc = t->hooks.busy(t->hooks.arg, n, err, errlen);

		if (rc < 0)
			return rc;
	}
	if (n->attached && t->hooks.detach != NULL)
		t->hooks.detach(t->hooks.arg, n);
	net_free_slot(t, n);
	return 0;
}

int
net_table_init(struct net_table *t, const struct cfg *c, char *err, size_t errlen)
{
	uint64_t now = ctl_now_ns();

	memset(t, 0, sizeof(*t));
	t->domain_used[NET_DOMAIN_UPLINK] = true;
	t->domain_used[NET_DOMAIN_HOST] = true;
	for (unsigned int i = 0; i < sizeof(net_defaults) / sizeof(net_defaults[0]); i++) {
		struct net *n = &t->nets[i];

		snprintf(n->name, sizeof(n->name), "%s", net_defaults[i].name);
		/* The fixed short id, then digits derived from it to make 64. */
		net_hash_id(net_defaults[i].id, 0, n->id);
		memcpy(n->id, net_defaults[i].id, NET_ID_LEN);
		n->driver = net_defaults[i].driver;
		n->builtin = true;
		n->domain = NET_DOMAIN_NONE;
		n->mtu = NET_MTU_DEFAULT;
		n->created_ns = now;
		if (n->driver == NET_DRIVER_BRIDGE) {
			n->subnet = NET_BRIDGE_SUBNET;
			n->prefix_len = 16;
			n->gateway = NET_BRIDGE_GATEWAY;
			n->domain = 0;
			t->domain_used[0] = true;
		}
	}
	for (unsigned int i = 0; i < c->n_networks; i++) {
		const struct cfg_network *cn = &c->networks[i];

		if (net_add(t, cn->name, cn->subnet, cn->prefix_len, cn->gateway, err,
			    errlen) == NULL)
			return -errno;
	}
	return 0;
}

void
net_table_fini(struct net_table *t)
{
	for (unsigned int i = 0; i < NET_MAX; i++) {
		free(t->nets[i].eps);
		t->nets[i].eps = NULL;
		t->nets[i].n_eps = t->nets[i].cap_eps = 0;
	}
}

int
net_attach_all(struct net_table *t, char *err, size_t errlen)
{
	if (t->hooks.attach == NULL)
		return 0;
	for (unsigned int i = 0; i < NET_MAX; i++) {
		struct net *n = &t->nets[i];
		int rc;

		if (n->name[0] == '\0' || n->driver != NET_DRIVER_BRIDGE || n->attached)
			continue;
		rc = t->hooks.attach(t->hooks.arg, n, err, errlen);
		if (rc < 0)
			return rc;
		n->attached = true;
	}
	return 0;
}

struct net *
net_find(struct net_table *t, const char *name_or_id)
{
	struct net *match = NULL;
	size_t len = strlen(name_or_id);

	if (len == 0)
		return NULL;
	for (unsigned int i = 0; i < NET_MAX; i++)
		if (t->nets[i].name[0] != '\0' && strcmp(t->nets[i].name, name_or_id) == 0)
			return &t->nets[i];
	if (len > NET_FULL_ID_LEN)
		return NULL;
	for (unsigned int i = 0; i < NET_MAX; i++) {
		struct net *n = &t->nets[i];

		if (n->name[0] != '\0' && strncmp(n->id, name_or_id, len) == 0) {
			if (match != NULL)
				return NULL; /* ambiguous prefix */
			match = n;
		}
	}
	return match;
}

struct net *
net_by_domain(struct net_table *t, uint16_t domain)
{
	if (domain == NET_DOMAIN_NONE)
		return NULL;
	for (unsigned int i = 0; i < NET_MAX; i++)
		if (t->nets[i].name[0] != '\0' && t->nets[i].domain == domain)
			return &t->nets[i];
	return NULL;
}

static int
net_cmp(const void *a, const void *b)
{
	const struct net *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

unsigned int
net_list(struct net_table *t, struct net **out, unsigned int max)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < NET_MAX && n < max; i++)
		if (t->nets[i].name[0] != '\0')
			out[n++] = &t->nets[i];
	qsort(out, n, sizeof(out[0]), net_cmp);
	return n;
}

/* ---- endpoints ---- */

struct net_endpoint *
net_endpoint_find(struct net *n, const char *ctr_id)
{
	for (unsigned int i = 0; i < n->n_eps; i++)
		if (strcmp(n->eps[i].ctr_id, ctr_id) == 0)
			return &n->eps[i];
	return NULL;
}

int
net_endpoint_add(struct net_table *t, struct net *n, const char *ctr_id,
		 const char *ctr_name, uint32_t ip, const uint8_t *mac, char *err,
		 size_t errlen)
{
	struct net_endpoint *ep;
	char a[16];
	int rc;

	if (ctr_id == NULL || ctr_id[0] == '\0' || strlen(ctr_id) >= NET_CTR_ID_MAX ||
	    (ctr_name != NULL && strlen(ctr_name) >= NET_CTR_NAME_MAX))
		return ctl_fail(err, errlen, -EINVAL, "container id or name empty or too long");
	if (net_endpoint_find(n, ctr_id) != NULL)
		return ctl_fail(err, errlen, -EEXIST, "endpoint with name %s already exists in "
				"network %s", ctr_name != NULL ? ctr_name : ctr_id, n->name);
	for (unsigned int i = 0; ip != 0 && i < n->n_eps; i++)
		if (n->eps[i].ip == ip)
			return ctl_fail(err, errlen, -EADDRINUSE, "Address already in use: %s is "
					"taken by %s in network %s",
					cfg_format_ip(ip, a, sizeof(a)), n->eps[i].name, n->name);
	if (n->n_eps == n->cap_eps) {
		unsigned int cap = n->cap_eps ? n->cap_eps * 2 : 8;
		struct net_endpoint *eps = realloc(n->eps, cap * sizeof(*eps));

		if (eps == NULL)
			return ctl_fail(err, errlen, -ENOMEM, "out of memory");
		n->eps = eps;
		n->cap_eps = cap;
	}
	ep = &n->eps[n->n_eps];
	memset(ep, 0, sizeof(*ep));
	snprintf(ep->ctr_id, sizeof(ep->ctr_id), "%s", ctr_id);
	snprintf(ep->name, sizeof(ep->name), "%s", ctr_name != NULL ? ctr_name : ctr_id);
	ctl_random_hex(ep->ep_id, NET_FULL_ID_LEN);
	ep->ip = ip;
	if (mac != NULL)
		memcpy(ep->mac, mac, sizeof(ep->mac));
	if (ip != 0 && mac != NULL && n->attached && t->hooks.ep_add != NULL) {
		rc = t->hooks.ep_add(t->hooks.arg, n, ep, err, errlen);
		if (rc < 0)
			return rc;
	}
	n->n_eps++;
	return 0;
}

int
net_endpoint_del(struct net_table *t, struct net *n, const char *ctr_id)
{
	struct net_endpoint *ep = net_endpoint_find(n, ctr_id);
	unsigned int i;

	if (ep == NULL)
		return -ENOENT;
	if (ep->ip != 0 && n->attached && t->hooks.ep_del != NULL)
		t->hooks.ep_del(t->hooks.arg, n, ep);
	i = (unsigned int)(ep - n->eps);
	memmove(&n->eps[i], &n->eps[i + 1], (n->n_eps - i - 1) * sizeof(*ep));
	n->n_eps--;
	return 0;
}

/* ---- JSON ---- */

static const char *
net_cidr(uint32_t a, uint8_t len, char *buf, size_t buflen)
{
	char ip[16];

	snprintf(buf, buflen, "%s/%u", cfg_format_ip(a, ip, sizeof(ip)), len);
	return buf;
}

/* RFC 3339 with nanoseconds, UTC (Docker's "Created"). */
static const char *
net_time(uint64_t ns, char *buf, size_t len)
{
	time_t s = (time_t)(ns / 1000000000ull);
	struct tm tm;
	char base[32];

	gmtime_r(&s, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%09lluZ", base, (unsigned long long)(ns % 1000000000ull));
	return buf;
}

json_t *
net_inspect_json(struct net_table *t, const struct net *n)
{
	json_t *o, *cfgs, *ctrs, *opts;
	char buf[64], mtu[16], dom[16];

	(void)t;
	cfgs = json_array();
	ctrs = json_object();
	opts = json_object();
	if (cfgs == NULL || ctrs == NULL || opts == NULL)
		goto oom;
	if (n->driver == NET_DRIVER_BRIDGE) {
		char gw[16], sub[32];
		json_t *c = json_pack("{s:s, s:s}",
				      "Subnet", net_cidr(n->subnet, n->prefix_len, sub,
							 sizeof(sub)),
				      "Gateway", cfg_format_ip(n->gateway, gw, sizeof(gw)));

		if (c == NULL || json_array_append_new(cfgs, c) < 0)
			goto oom;
		if (n->ip_range_len != 0)
			json_object_set_new(c, "IPRange",
					    json_string(net_cidr(n->ip_range, n->ip_range_len, buf,
								 sizeof(buf))));
		snprintf(mtu, sizeof(mtu), "%u", n->mtu);
		snprintf(dom, sizeof(dom), "%u", n->domain);
		json_object_set_new(opts, "com.docker.network.driver.mtu", json_string(mtu));
		json_object_set_new(opts, "dpnet.domain", json_string(dom));
		if (n->vni != 0) {
			char vni[16];

			snprintf(vni, sizeof(vni), "%u", n->vni);
			json_object_set_new(opts, "com.docker.network.driver.overlay.vxlanid_list",
					    json_string(vni));
		}
		if (strcmp(n->name, "bridge") == 0 && n->builtin)
			json_object_set_new(opts, "com.docker.network.bridge.default_bridge",
					    json_string("true"));
	}
	for (unsigned int i = 0; i < n->n_eps; i++) {
		const struct net_endpoint *ep = &n->eps[i];
		char mac[24] = "", ip[32] = "";
		json_t *e;

		if (ep->ip != 0) {
			net_cidr(ep->ip, n->prefix_len, ip, sizeof(ip));
			snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", ep->mac[0],
				 ep->mac[1], ep->mac[2], ep->mac[3], ep->mac[4], ep->mac[5]);
		}
		e = json_pack("{s:s, s:s, s:s, s:s, s:s}", "Name", ep->name,
			      "EndpointID", ep->ep_id, "MacAddress", mac, "IPv4Address", ip,
			      "IPv6Address", "");
		if (e == NULL || json_object_set_new(ctrs, ep->ctr_id, e) < 0)
			goto oom;
	}
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:{s:s, s:n, s:o}, s:b, s:b, s:b,"
		      " s:{s:s}, s:b, s:o, s:o, s:{}}",
		      "Name", n->name, "Id", n->id,
		      "Created", net_time(n->created_ns, buf, sizeof(buf)),
		      "Scope", net_scope(n), "Driver", net_driver_str(n),
		      "EnableIPv6", 0,
		      "IPAM", "Driver", "default", "Options", "Config", cfgs,
		      "Internal", n->internal, "Attachable", 0, "Ingress", 0,
		      "ConfigFrom", "Network", "", "ConfigOnly", 0,
		      "Containers", ctrs, "Options", opts, "Labels");
	return o;
oom:
	json_decref(cfgs);
	json_decref(ctrs);
	json_decref(opts);
	return NULL;
}

/* ---- state ---- */

json_t *
net_state_dump(struct net_table *t)
{
	json_t *arr = json_array();

	if (arr == NULL)
		return NULL;
	for (unsigned int i = 0; i < NET_MAX; i++) {
		const struct net *n = &t->nets[i];
		char sub[32], gw[16], rng[32] = "";
		json_t *o;

		if (n->name[0] == '\0' || n->builtin || n->from_config)
			continue;
		if (n->ip_range_len != 0)
			net_cidr(n->ip_range, n->ip_range_len, rng, sizeof(rng));
		o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:b, s:i, s:I}",
			      "name", n->name, "id", n->id, "driver", net_driver_str(n),
			      "subnet", net_cidr(n->subnet, n->prefix_len, sub, sizeof(sub)),
			      "gateway", cfg_format_ip(n->gateway, gw, sizeof(gw)),
			      "ip_range", rng, "mtu", n->mtu, "internal", n->internal,
			      "domain", n->domain, "created_ns", (json_int_t)n->created_ns);
		if (o == NULL || json_array_append_new(arr, o) < 0) {
			json_decref(arr);
			return NULL;
		}
		if (n->vni != 0 && json_object_set_new(o, "vni", json_integer(n->vni)) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

int
net_state_restore(struct net_table *t, json_t *arr, char *err, size_t errlen)
{
	size_t i;
	json_t *o;

	if (!json_is_array(arr))
		return ctl_fail(err, errlen, -EINVAL, "not an array");
	json_array_foreach(arr, i, o) {
		const char *name = json_string_value(json_object_get(o, "name"));
		const char *sub = json_string_value(json_object_get(o, "subnet"));
		const char *gw = json_string_value(json_object_get(o, "gateway"));
		const char *rng = json_string_value(json_object_get(o, "ip_range"));
		json_t *dom = json_object_get(o, "domain");
		struct net_params p = { .domain = NET_DOMAIN_NONE };
		char msg[512] = "";

		p.name = name;
		p.driver = json_string_value(json_object_get(o, "driver"));
		p.id = json_string_value(json_object_get(o, "id"));
		p.mtu = (uint16_t)json_integer_value(json_object_get(o, "mtu"));
		p.internal = json_is_true(json_object_get(o, "internal"));
		if (json_is_integer(json_object_get(o, "vni")) &&
		    json_integer_value(json_object_get(o, "vni")) > 0 &&
		    json_integer_value(json_object_get(o, "vni")) <= NET_VNI_MAX)
			p.vni = (uint32_t)json_integer_value(json_object_get(o, "vni"));
		/* An overlay saved under a larger uplink MTU gets what fits now; with
		 * no uplink yet (one added by dpctl comes back after the networks),
		 * vxlan_uplink_changed clamps it once the uplink is known. */
		p.mtu_unchecked = t->uplink_mtu == 0;
		if (p.vni != 0 && t->uplink_mtu != 0 && p.mtu > net_overlay_mtu_max(t)) {
			state_log(STATE_LOG_NOTICE, "state: network %s: MTU %u does not fit the "
				  "uplink's any more: %u", name != NULL ? name : "?", p.mtu,
				  net_overlay_mtu_max(t));
			p.mtu = net_overlay_mtu_max(t);
		}
		p.created_ns = (uint64_t)json_integer_value(json_object_get(o, "created_ns"));
		if (json_is_integer(dom) && json_integer_value(dom) >= 0 &&
		    json_integer_value(dom) < NET_MAX)
			p.domain = (uint16_t)json_integer_value(dom);
		if (name == NULL || sub == NULL ||
		    cfg_parse_cidr(sub, &p.subnet, &p.prefix_len) < 0 ||
		    (gw != NULL && gw[0] != '\0' && cfg_parse_ip(gw, &p.gateway) < 0) ||
		    (rng != NULL && rng[0] != '\0' &&
		     cfg_parse_cidr(rng, &p.ip_range, &p.ip_range_len) < 0)) {
			state_log(STATE_LOG_WARNING, "state: networks[%zu] (%s) is malformed: "
				  "skipped", i, name != NULL ? name : "no name");
			continue;
		}
		if (net_create(t, &p, msg, sizeof(msg)) == NULL) {
			state_log(STATE_LOG_WARNING, "state: network %s not restored: %s", name,
				  msg);
			continue;
		}
		state_log(STATE_LOG_INFO, "state: network %s restored (%s)", name, sub);
	}
	return 0;
}

static json_t *
net_state_dump_cb(void *arg)
{
	return net_state_dump(arg);
}

static int
net_state_restore_cb(void *arg, json_t *val, char *err, size_t errlen)
{
	return net_state_restore(arg, val, err, errlen);
}

int
net_state_register(struct net_table *t)
{
	return state_register("networks", STATE_ORDER_NETWORKS, net_state_dump_cb,
			      net_state_restore_cb, t);
}

/* ---- command handlers ---- */

int
ctl_network_ls(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	static const char *const allowed[] = { NULL };
	struct net *list[NET_MAX];
	unsigned int n;
	json_t *arr;
	int rc;

	rc = ctl_args_allowed(args, "network.ls", allowed, err, errlen);
	if (rc < 0)
		return rc;
	arr = json_array();
	if (arr == NULL)
		return -ENOMEM;
	n = net_list(c->nets, list, NET_MAX);
	for (unsigned int i = 0; i < n; i++) {
		struct net *net = list[i];
		char sub[32] = "", gw[16] = "", rng[32] = "", sid[NET_ID_LEN + 1];
		json_t *o;

		if (net->driver == NET_DRIVER_BRIDGE) {
			net_cidr(net->subnet, net->prefix_len, sub, sizeof(sub));
			cfg_format_ip(net->gateway, gw, sizeof(gw));
			if (net->ip_range_len != 0)
				net_cidr(net->ip_range, net->ip_range_len, rng, sizeof(rng));
		}
		o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:i, s:i, s:i,"
			      " s:I}",
			      "id", net_short_id(net, sid), "full_id", net->id, "name", net->name,
			      "driver", net_driver_str(net), "scope", net_scope(net),
			      "subnet", sub, "gateway", gw, "ip_range", rng,
			      "internal", net->internal, "mtu", net->mtu,
			      "ports", (int)net->n_ports, "endpoints", (int)net->n_eps,
			      "created", (json_int_t)(net->created_ns / 1000000000ull));
		if (o == NULL || json_array_append_new(arr, o) < 0) {
			json_decref(arr);
			return -ENOMEM;
		}
		if (net->domain != NET_DOMAIN_NONE)
			json_object_set_new(o, "domain", json_integer(net->domain));
		if (net->vni != 0)
			json_object_set_new(o, "vni", json_integer(net->vni));
	}
	*result = arr;
	return 0;
}

/* A CIDR argument: Docker's words for a bad one. */
static int
net_arg_cidr(const char *flag, const char *s, uint32_t *a, uint8_t *len, char *err,
	     size_t errlen)
{
	uint32_t addr;
	unsigned int plen;
	char ip[20], extra;

	/* Host bits are checked by net_check (with the corrected form in the message). */
	if (sscanf(s, "%19[0-9.]/%u%c", ip, &plen, &extra) != 2 || plen > 32 ||
	    cfg_parse_ip(ip, &addr) < 0) {
		if (strcmp(flag, "subnet") == 0)
			return ctl_fail(err, errlen, -EINVAL, "invalid subnet: invalid CIDR "
					"address: %s", s);
		return ctl_fail(err, errlen, -EINVAL, "invalid argument \"%s\" for \"--%s\" "
				"flag: invalid CIDR address: %s", s, flag, s);
	}
	*a = addr;
	*len = (uint8_t)plen;
	return 0;
}

/* A number argument given as a JSON integer or a decimal string; -1 if neither. */
static long long
net_arg_num(json_t *v)
{
	long long n = -1;
	char *end;

	if (json_is_integer(v)) {
		n = json_integer_value(v);
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);

		if (s[0] < '0' || s[0] > '9' || strlen(s) > 12)
			return -1;
		n = strtoll(s, &end, 10);
		if (*end != '\0')
			n = -1;
	}
	return n;
}

int
ctl_network_create(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	static const char *const allowed[] = {
		"name", "driver", "subnet", "gateway", "ip_range", "mtu", "internal", "vni",
		"vlan", NULL,
	};
	char name[CFG_NET_NAME_MAX + 8], driver[32], subnet[64], gateway[64], rng[64];
	struct net_params p = { .domain = NET_DOMAIN_NONE };
	json_t *mtu, *internal;
	struct net *n;
	char sid[NET_ID_LEN + 1], what[CFG_NET_NAME_MAX + 32];
	int rc;

	rc = ctl_args_allowed(args, "network.create", allowed, err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "name", true, name, sizeof(name), err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "driver", false, driver, sizeof(driver), err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "subnet", false, subnet, sizeof(subnet), err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "gateway", false, gateway, sizeof(gateway), err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "ip_range", false, rng, sizeof(rng), err, errlen);
	if (rc < 0)
		return rc;
	p.name = name;
	p.driver = driver[0] != '\0' ? driver : "bridge";
	if (strcmp(p.driver, "bridge") == 0 && json_object_get(args, "vni") != NULL)
		return ctl_fail(err, errlen, -EINVAL, "--vni is for overlay networks: add "
				"--driver overlay");
	if ((strcmp(p.driver, "bridge") == 0 || strcmp(p.driver, "overlay") == 0) &&
	    json_object_get(args, "vlan") != NULL)
		return ctl_fail(err, errlen, -EINVAL, "--vlan is for vlan networks: add "
				"--driver vlan");
	if (strcmp(p.driver, "overlay") == 0) {
		json_t *vni = json_object_get(args, "vni");
		long long v = net_arg_num(vni);

		if (vni == NULL || json_is_null(vni))
			return ctl_fail(err, errlen, -EINVAL, "an overlay network needs a VXLAN "
					"id: add --vni N (1-%u)", NET_VNI_MAX);
		if (v < 1 || v > NET_VNI_MAX)
			return ctl_fail(err, errlen, -EINVAL, "invalid VNI \"%s\": use a number "
					"from 1 to %u", json_is_string(vni) ?
					json_string_value(vni) : "?", NET_VNI_MAX);
		p.vni = (uint32_t)v;
	}
	mtu = json_object_get(args, "mtu");
	if (mtu != NULL && !json_is_null(mtu)) {
		long long v = -1;
		char *end;

		if (json_is_integer(mtu)) {
			v = json_integer_value(mtu);
		} else if (json_is_string(mtu)) {
			v = strtoll(json_string_value(mtu), &end, 10);
			if (*end != '\0' || json_string_value(mtu)[0] == '\0')
				v = -1;
		}
		if (v < NET_MTU_MIN || v > NET_MTU_MAX)
			return ctl_fail(err, errlen, -EINVAL, "invalid MTU \"%s\": use a number "
					"from %d to %d", json_is_string(mtu) ?
					json_string_value(mtu) : "?", NET_MTU_MIN, NET_MTU_MAX);
		p.mtu = (uint16_t)v;
	}
	internal = json_object_get(args, "internal");
	if (internal != NULL && !json_is_null(internal) && !json_is_boolean(internal))
		return ctl_fail(err, errlen, -EINVAL, "argument \"internal\" must be a boolean");
	p.internal = json_is_true(internal);
	if (subnet[0] != '\0') {
		rc = net_arg_cidr("subnet", subnet, &p.subnet, &p.prefix_len, err, errlen);
		if (rc < 0)
			return rc;
	}
	if (gateway[0] != '\0' && cfg_parse_ip(gateway, &p.gateway) < 0)
		return ctl_fail(err, errlen, -EINVAL, "invalid argument \"%s\" for \"--gateway\" "
				"flag: invalid string being converted to IP address: %s",
				gateway, gateway);
	if (rng[0] != '\0') {
		rc = net_arg_cidr("ip-range", rng, &p.ip_range, &p.ip_range_len, err, errlen);
		if (rc < 0)
			return rc;
		if (p.ip_range_len == 0)
			return ctl_fail(err, errlen, -EINVAL, "invalid ip-range %s: use a prefix "
					"inside the subnet", rng);
	}
	n = net_create(c->nets, &p, err, errlen);
	if (n == NULL)
		return -errno;
	snprintf(what, sizeof(what), "network %s not created", n->name);
	rc = state_commit(what, err, errlen);
	if (rc < 0) {
		char why[512];

		if (net_del(c->nets, n, why, sizeof(why)) < 0) {
			state_log(STATE_LOG_ERR, "network %s: cannot undo its creation: %s", name,
				  why);
			state_err_append(err, errlen, "and it could not be removed again (%s): "
					 "remove it with 'dpctl network rm %s'", why, name);
		}
		return rc;
	}
	*result = json_pack("{s:s, s:s, s:s}", "id", n->id, "short_id", net_short_id(n, sid),
			    "name", n->name);
	return 0;
}

int
ctl_network_inspect(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	static const char *const allowed[] = { "name", NULL };
	char name[NET_FULL_ID_LEN + CFG_NET_NAME_MAX];
	json_t *arr, *o;
	struct net *n;
	int rc;

	rc = ctl_args_allowed(args, "network.inspect", allowed, err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "name", true, name, sizeof(name), err, errlen);
	if (rc < 0)
		return rc;
	n = net_find(c->nets, name);
	if (n == NULL)
		return ctl_fail(err, errlen, -ENOENT, "network %s not found", name);
	arr = json_array();
	o = net_inspect_json(c->nets, n);
	/* json_array_append_new takes o even when it fails; without arr, drop o here. */
	if (arr == NULL || o == NULL || json_array_append_new(arr, o) < 0) {
		if (arr == NULL)
			json_decref(o);
		json_decref(arr);
		return -ENOMEM;
	}
	*result = arr;
	return 0;
}

int
ctl_network_rm(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	static const char *const allowed[] = { "name", NULL };
	char name[NET_FULL_ID_LEN + CFG_NET_NAME_MAX], real[CFG_NET_NAME_MAX];
	char id[NET_FULL_ID_LEN + 1], what[CFG_NET_NAME_MAX + 32];
	unsigned int n_peers = 0;
	uint32_t *peers = NULL;
	struct net_params p;
	struct net *n;
	int rc;

	rc = ctl_args_allowed(args, "network.rm", allowed, err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "name", true, name, sizeof(name), err, errlen);
	if (rc < 0)
		return rc;
	n = net_find(c->nets, name);
	if (n == NULL)
		return ctl_fail(err, errlen, -ENOENT, "network %s not found", name);
	snprintf(real, sizeof(real), "%s", n->name);
	if (n->from_config)
		return ctl_fail(err, errlen, -EPERM, "network %s is defined in the configuration "
				"file %s: remove it there and restart dpnetd", n->name,
				c->cfg->path);
	/* What it is made of, to make it again when the removal cannot be saved. */
	snprintf(id, sizeof(id), "%s", n->id);
	p = (struct net_params){
		.name = real, .driver = net_driver_str(n), .vni = n->vni, .subnet = n->subnet,
		.prefix_len = n->prefix_len, .gateway = n->gateway, .ip_range = n->ip_range,
		.ip_range_len = n->ip_range_len, .mtu = n->mtu, .internal = n->internal,
		.id = id, .domain = n->domain, .created_ns = n->created_ns,
	};
	/* Its static VXLAN peers go with it: kept to be added back too. */
	if (n->vni != 0 && c->nets->hooks.static_peers != NULL) {
		n_peers = c->nets->hooks.static_peers(c->nets->hooks.arg, n, NULL, 0);
		if (n_peers > 0) {
			peers = calloc(n_peers, sizeof(*peers));
			if (peers == NULL)
				return ctl_fail(err, errlen, -ENOMEM, "out of memory");
			n_peers = c->nets->hooks.static_peers(c->nets->hooks.arg, n, peers,
							      n_peers);
		}
	}
	rc = net_del(c->nets, n, err, errlen);
	if (rc < 0) {
		free(peers);
		return rc;
	}
	snprintf(what, sizeof(what), "network %s not removed", real);
	rc = state_commit(what, err, errlen);
	if (rc < 0) {
		char why[512];

		n = net_create(c->nets, &p, why, sizeof(why));
		if (n == NULL) {
			state_log(STATE_LOG_ERR, "network %s: removed, but that could not be saved "
				  "and it could not be made again: %s; it comes back after a "
				  "restart", real, why);
			state_err_append(err, errlen, "the network was removed all the same and "
					 "could not be made again (%s): it comes back after a "
					 "restart", why);
		}
		for (unsigned int i = 0; n != NULL && i < n_peers; i++) {
			char a[16];

			if (c->nets->hooks.static_peer_add(c->nets->hooks.arg, n, peers[i], why,
							   sizeof(why)) < 0)
				state_err_append(err, errlen, "its VXLAN peer %s could not be added "
						 "again (%s): it comes back after a restart",
						 cfg_format_ip(peers[i], a, sizeof(a)), why);
		}
		free(peers);
		return rc;
	}
	free(peers);
	*result = json_pack("{s:s}", "name", real);
	return 0;
}
