/*
 * network.c - the network table: defaults, config networks, lookup and listing.
 *
 * Ids of non-default networks are a 48-bit FNV-1a hash of "dpnet-network:" and the
 * name, printed as 12 hex digits: stable across restarts without any state file.
 * A collision with an existing id (astronomically unlikely) is resolved by
 * hashing again with a counter.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "network.h"

/* The ids `dpctl network ls` shows for the defaults (INTERFACE.md). */
static const struct {
	const char *name;          /* network name */
	const char *id;            /* its fixed id */
	enum net_driver driver;    /* its driver */
} net_defaults[] = {
	{ "bridge", "9e3c441ad16e", NET_DRIVER_BRIDGE },
	{ "host", "fdfd4abed1a0", NET_DRIVER_HOST },
	{ "none", "8a93bc235b8d", NET_DRIVER_NULL },
};

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
net_scope(const struct net *n)
{
	(void)n;
	return "local";
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

static bool
net_id_taken(struct net_table *t, const char *id)
{
	for (unsigned int i = 0; i < NET_MAX; i++)
		if (t->nets[i].name[0] != '\0' && strcmp(t->nets[i].id, id) == 0)
			return true;
	return false;
}

static void
net_make_id(struct net_table *t, const char *name, char *id)
{
	uint64_t h = net_fnv1a(name, net_fnv1a("dpnet-network:", 0xcbf29ce484222325ULL));

	for (unsigned int k = 0;; k++) {
		uint64_t v = h;

		if (k > 0) {
			char salt[16];

			snprintf(salt, sizeof(salt), "#%u", k);
			v = net_fnv1a(salt, h);
		}
		/* Fold the 64 bits into 48 so every bit of the hash counts. */
		v = (v ^ (v >> 48)) & 0xFFFFFFFFFFFFULL;
		snprintf(id, NET_ID_LEN + 1, "%012llx", (unsigned long long)v);
		if (!net_id_taken(t, id))
			return;
	}
}

static struct net *
net_slot(struct net_table *t)
{
	for (unsigned int i = 0; i < NET_MAX; i++)
		if (t->nets[i].name[0] == '\0')
			return &t->nets[i];
	return NULL;
}

struct net *
net_add(struct net_table *t, const char *name, uint32_t subnet, uint8_t prefix_len,
	uint32_t gateway, char *err, size_t errlen)
{
	struct net *n;
	int domain = -1;

	if (net_find(t, name) != NULL) {
		snprintf(err, errlen, "network with name %s already exists", name);
		errno = EEXIST;
		return NULL;
	}
	for (int d = 0; d < NET_MAX; d++) {
		if (!t->domain_used[d]) {
			domain = d;
			break;
		}
	}
	n = net_slot(t);
	if (n == NULL || domain < 0) {
		snprintf(err, errlen, "too many networks (at most %d): remove one first",
			 NET_MAX - 2);
		errno = ENOSPC;
		return NULL;
	}
	memset(n, 0, sizeof(*n));
	net_make_id(t, name, n->id); /* before the slot is in use: not its own clash */
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->driver = NET_DRIVER_BRIDGE;
	n->subnet = subnet;
	n->prefix_len = prefix_len;
	n->gateway = gateway;
	n->domain = (uint16_t)domain;
	n->created_s = (uint64_t)time(NULL);
	t->domain_used[domain] = true;
	return n;
}

int
net_del(struct net_table *t, struct net *n, char *err, size_t errlen)
{
	if (n->builtin) {
		snprintf(err, errlen, "%s is a pre-defined network and cannot be removed",
			 n->name);
		return -EPERM;
	}
	if (n->n_ports > 0) {
		snprintf(err, errlen, "network %s has %u active endpoint%s: disconnect or "
			 "remove them first", n->name, n->n_ports, n->n_ports == 1 ? "" : "s");
		return -EBUSY;
	}
	if (n->domain != NET_DOMAIN_NONE)
		t->domain_used[n->domain] = false;
	memset(n, 0, sizeof(*n));
	return 0;
}

int
net_table_init(struct net_table *t, const struct cfg *c, char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	for (unsigned int i = 0; i < sizeof(net_defaults) / sizeof(net_defaults[0]); i++) {
		struct net *n = &t->nets[i];

		snprintf(n->name, sizeof(n->name), "%s", net_defaults[i].name);
		snprintf(n->id, sizeof(n->id), "%s", net_defaults[i].id);
		n->driver = net_defaults[i].driver;
		n->builtin = true;
		n->domain = NET_DOMAIN_NONE;
		n->created_s = (uint64_t)time(NULL);
		if (n->driver == NET_DRIVER_BRIDGE) {
			n->subnet = 0xAC110000u;    /* 172.17.0.0/16, as docker0 */
			n->prefix_len = 16;
			n->gateway = 0xAC110001u;   /* 172.17.0.1 */
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
	if (len > NET_ID_LEN)
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
		char sub[32] = "", gw[16] = "";
		json_t *o;

		if (net->driver == NET_DRIVER_BRIDGE) {
			char ip[16];

			snprintf(sub, sizeof(sub), "%s/%u",
				 cfg_format_ip(net->subnet, ip, sizeof(ip)), net->prefix_len);
			cfg_format_ip(net->gateway, gw, sizeof(gw));
		}
		o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:i, s:I}",
			      "id", net->id, "name", net->name,
			      "driver", net_driver_name(net->driver), "scope", net_scope(net),
			      "subnet", sub, "gateway", gw, "internal", 0,
			      "ports", (int)net->n_ports, "created", (json_int_t)net->created_s);
		if (o == NULL || json_array_append_new(arr, o) < 0) {
			json_decref(arr);
			return -ENOMEM;
		}
		if (net->domain != NET_DOMAIN_NONE)
			json_object_set_new(o, "domain", json_integer(net->domain));
	}
	*result = arr;
	return 0;
}
