/*
 * mac.c - mac.ls: the MAC table of one network or of all, as brctl showmacs;
 * mac.add / mac.rm: static entries (never aged, never moved by traffic), kept in
 * the state file's "macs" section so that they survive a restart.
 *
 * The table is walked on the control thread (the only writer of keys); the
 * port and last-seen time of an entry are written by workers with relaxed
 * atomic stores, so they are read the same way. Entries are sorted by port name
 * then MAC so the output is stable.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ether.h>

#include "dataplane/dp.h"
#include "dataplane/fdb.h"
#include "dataplane/vxlan.h"
#include "drivers/port.h"
#include "ctl.h"
#include "state.h"

/* One row of the listing, gathered during the walk. */
struct mac_row {
	uint64_t key;          /* fdb key: domain and MAC */
	uint16_t port;         /* port id the MAC is behind */
	uint8_t is_static;     /* never ages ("local") */
	uint64_t seen_tsc;     /* last seen */
	uint32_t vtep;         /* behind vxlan0: the remote VTEP (0: a local port) */
};

/* Walk state. */
struct mac_walk {
	struct mac_row *rows;  /* growing array */
	size_t n;              /* rows used */
	size_t cap;            /* rows allocated */
	uint16_t domain;       /* only this domain, or DP_DOMAIN_NONE for all */
	int err;               /* -ENOMEM if the array could not grow */
};

static int
mac_collect(uint64_t key, const struct fdb_entry *e, void *arg)
{
	struct mac_walk *w = arg;

	if (w->domain != DP_DOMAIN_NONE && fdb_key_domain(key) != w->domain)
		return 0;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256;
		struct mac_row *rows = realloc(w->rows, cap * sizeof(*rows));

		if (rows == NULL) {
			w->err = -ENOMEM;
			return 1;
		}
		w->rows = rows;
		w->cap = cap;
	}
	w->rows[w->n].key = key;
	w->rows[w->n].port = __atomic_load_n(&e->port, __ATOMIC_RELAXED);
	w->rows[w->n].seen_tsc = __atomic_load_n(&e->seen_tsc, __ATOMIC_RELAXED);
	w->rows[w->n].is_static = e->is_static;
	w->rows[w->n].vtep = __atomic_load_n(&e->vtep, __ATOMIC_RELAXED);
	w->n++;
	return 0;
}

static const char *
mac_port_name(uint16_t id)
{
	struct port *p;

	if (id == DP_PORT_VXLAN)
		return "vxlan0"; /* the remote VTEPs of an overlay (dataplane/vxlan.h) */
	p = port_by_id(id);

	return p != NULL ? p->spec.name : "?";
}

static int
mac_cmp(const void *a, const void *b)
{
	const struct mac_row *x = a, *y = b;
	int rc = strcmp(mac_port_name(x->port), mac_port_name(y->port));

	if (rc != 0)
		return rc;
	if ((x->key & 0xFFFFFFFFFFFFULL) != (y->key & 0xFFFFFFFFFFFFULL))
		return (x->key & 0xFFFFFFFFFFFFULL) < (y->key & 0xFFFFFFFFFFFFULL) ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

int
ctl_mac_ls(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	static const char *const allowed[] = { "network", NULL };
	struct mac_walk w = { .domain = DP_DOMAIN_NONE };
	char netname[CFG_NET_NAME_MAX + 32];
	uint64_t now = rte_rdtsc(), hz = c->dp->fdb->tsc_hz;
	json_t *arr;
	int rc;

	rc = ctl_args_allowed(args, "mac.ls", allowed, err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "network", false, netname, sizeof(netname), err, errlen);
	if (rc < 0)
		return rc;
	if (netname[0] != '\0') {
		struct net *net = net_find(c->nets, netname);

		if (net == NULL) {
			snprintf(err, errlen, "network \"%s\" not found: pick one from 'dpctl "
				 "network ls'", netname);
			return -ENOENT;
		}
		if (net->domain == NET_DOMAIN_NONE) {
			snprintf(err, errlen, "network \"%s\" has no MAC table: only bridge "
				 "networks learn MACs", net->name);
			return -EINVAL;
		}
		w.domain = net->domain;
	}
	fdb_walk(c->dp->fdb, mac_collect, &w);
	if (w.err < 0) {
		free(w.rows);
		return w.err;
	}
	if (w.n > 1) /* rows is NULL when empty: qsort must not get it */
		qsort(w.rows, w.n, sizeof(w.rows[0]), mac_cmp);
	arr = json_array();
	for (size_t i = 0; arr != NULL && i < w.n; i++) {
		const struct mac_row *r = &w.rows[i];
		struct rte_ether_addr mac;
		struct net *net = net_by_domain(c->nets, fdb_key_domain(r->key));
		double age = 0;
		char ms[32], vtep[16] = "";
		json_t *o;

		fdb_key_mac(r->key, &mac);
		if (r->port == DP_PORT_VXLAN)
			cfg_format_ip(r->vtep, vtep, sizeof(vtep));
		if (!r->is_static && hz != 0 && now > r->seen_tsc)
			age = (double)(now - r->seen_tsc) / (double)hz;
		age = (double)(uint64_t)(age * 100) / 100; /* 2 decimals, as brctl */
		o = json_pack("{s:s, s:s, s:b, s:f, s:s, s:i, s:s}",
			      "port", mac_port_name(r->port),
			      "mac", ctl_format_mac(mac.addr_bytes, ms, sizeof(ms)),
			      "local", r->is_static, "ageing_s", age,
			      "network", net != NULL ? net->name : "?",
			      "port_id", r->port, "vtep", vtep);
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

/* Resolve the "network" and "mac" arguments shared by mac.add and mac.rm. */
static int
mac_target(struct ctl *c, json_t *args, struct net **net, struct rte_ether_addr *mac,
	   char *err, size_t errlen)
{
	char netname[CFG_NET_NAME_MAX + 32], macstr[64];
	int rc;

	rc = ctl_arg_str(args, "network", true, netname, sizeof(netname), err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "mac", true, macstr, sizeof(macstr), err, errlen);
	if (rc < 0)
		return rc;
	*net = net_find(c->nets, netname);
	if (*net == NULL) {
		snprintf(err, errlen, "network \"%s\" not found: pick one from 'dpctl network ls'",
			 netname);
		return -ENOENT;
	}
	if ((*net)->domain == NET_DOMAIN_NONE) {
		snprintf(err, errlen, "network \"%s\" has no MAC table: only bridge networks "
			 "have one", (*net)->name);
		return -EINVAL;
	}
	if (rte_ether_unformat_addr(macstr, mac) != 0 || rte_is_multicast_ether_addr(mac) ||
	    rte_is_zero_ether_addr(mac)) {
		snprintf(err, errlen, "invalid MAC \"%s\": give a unicast address like "
			 "02:42:ac:11:00:02", macstr);
		return -EINVAL;
	}
	return 0;
}

/* The entry of one MAC, found by walking the table (mac.add/rm undo with it). */
struct mac_probe {
	uint64_t key;           /* fdb_key of the MAC */
	bool found;             /* out */
	struct fdb_entry e;     /* out: a copy */
};

static int
mac_probe_one(uint64_t key, const struct fdb_entry *e, void *arg)
{
	struct mac_probe *pr = arg;

	if (key != pr->key)
		return 0;
	pr->found = true;
	pr->e = *e;
	return 1;
}

static struct mac_probe
mac_probe(struct ctl *c, uint16_t domain, const struct rte_ether_addr *mac)
{
	struct mac_probe pr = { .key = fdb_key(domain, mac) };

	fdb_walk(c->dp->fdb, mac_probe_one, &pr);
	return pr;
}

/* mac.add: a static entry (never aged, never moved by traffic), as ovs-appctl fdb/add. */
int
ctl_mac_add(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	static const char *const allowed[] = { "network", "mac", "port", NULL };
	char portname[PORT_NAME_MAX + 16], what[96];
	struct rte_ether_addr mac;
	struct mac_probe before;
	struct net *net;
	struct port *p;
	int rc;

	rc = ctl_args_allowed(args, "mac.add", allowed, err, errlen);
	if (rc == 0)
		rc = mac_target(c, args, &net, &mac, err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "port", true, portname, sizeof(portname), err, errlen);
	if (rc < 0)
		return rc;
	p = port_find(portname);
	if (p == NULL) {
		snprintf(err, errlen, "port \"%s\" not found: see 'dpctl port ls'", portname);
		return -ENOENT;
	}
	if (p->domain != net->domain) {
		snprintf(err, errlen, "port \"%s\" is not in network \"%s\": a MAC can only be "
			 "placed behind a port of its network", portname, net->name);
		return -EINVAL;
	}
	before = mac_probe(c, net->domain, &mac);
	rc = fdb_add(c->dp->fdb, net->domain, &mac, p->port_id, true, rte_rdtsc());
	if (rc < 0) {
		snprintf(err, errlen, "cannot add the MAC: the MAC table is full (%u entries; "
			 "raise fdb.size in the config)", c->dp->fdb->size);
		return rc;
	}
	snprintf(what, sizeof(what), "MAC %s not added",
		 json_string_value(json_object_get(args, "mac")));
	rc = state_commit(what, err, errlen);
	if (rc < 0) {
		/* Back to what it was: absent, learned, or static behind another port. */
		if (before.found)
			fdb_add(c->dp->fdb, net->domain, &mac, before.e.port, before.e.is_static,
				rte_rdtsc());
		else
			fdb_del(c->dp->fdb, net->domain, &mac);
		return rc;
	}
	*result = json_pack("{s:s, s:s, s:s}", "network", net->name, "mac",
			    json_string_value(json_object_get(args, "mac")), "port", portname);
	return *result != NULL ? 0 : -ENOMEM;
}

/* mac.rm: forget one MAC, static or learned. */
int
ctl_mac_rm(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	static const char *const allowed[] = { "network", "mac", NULL };
	struct rte_ether_addr mac;
	struct mac_probe before;
	struct net *net;
	char what[96];
	int rc;

	rc = ctl_args_allowed(args, "mac.rm", allowed, err, errlen);
	if (rc == 0)
		rc = mac_target(c, args, &net, &mac, err, errlen);
	if (rc < 0)
		return rc;
	before = mac_probe(c, net->domain, &mac);
	if (fdb_del(c->dp->fdb, net->domain, &mac) != 0) {
		snprintf(err, errlen, "MAC %s is not in network \"%s\": see 'dpctl mac ls %s'",
			 json_string_value(json_object_get(args, "mac")), net->name, net->name);
		return -ENOENT;
	}
	/* Only static entries are saved: forgetting a learned one changes no state. */
	if (before.found && before.e.is_static) {
		snprintf(what, sizeof(what), "MAC %s not removed",
			 json_string_value(json_object_get(args, "mac")));
		rc = state_commit(what, err, errlen);
		if (rc < 0) {
			if (fdb_add(c->dp->fdb, net->domain, &mac, before.e.port, true,
				    rte_rdtsc()) < 0)
				state_err_append(err, errlen, "the MAC was removed all the same "
						 "(the table is full): it comes back after a "
						 "restart");
			return rc;
		}
	}
	*result = json_pack("{s:s, s:s}", "network", net->name, "mac",
			    json_string_value(json_object_get(args, "mac")));
	return *result != NULL ? 0 : -ENOMEM;
}

/* State: the static entries, as [{network, mac, port}] (learned ones are not kept). */
struct mac_dump {
	struct ctl *c;          /* for the network table */
	json_t *arr;            /* the section being built */
};

/* Ports whose static MACs the next saves leave out (ctl_mac_state_hide). */
#define MAC_HIDE_MAX 16
static char mac_hidden[MAC_HIDE_MAX][PORT_NAME_MAX];
static unsigned int mac_n_hidden;

void
ctl_mac_state_hide(const char *port)
{
	if (port == NULL)
		mac_n_hidden = 0;
	else if (mac_n_hidden < MAC_HIDE_MAX)
		snprintf(mac_hidden[mac_n_hidden++], PORT_NAME_MAX, "%s", port);
}

static bool
mac_port_hidden(const char *port)
{
	for (unsigned int i = 0; i < mac_n_hidden; i++)
		if (strcmp(mac_hidden[i], port) == 0)
			return true;
	return false;
}

static int
mac_dump_one(uint64_t key, const struct fdb_entry *e, void *arg)
{
	struct mac_dump *d = arg;
	struct net *net = net_by_domain(d->c->nets, fdb_key_domain(key));
	struct port *p = port_by_id(__atomic_load_n(&e->port, __ATOMIC_RELAXED));
	struct rte_ether_addr mac;
	char ms[32];

	if (!e->is_static || net == NULL || p == NULL || mac_port_hidden(p->spec.name))
		return 0;
	fdb_key_mac(key, &mac);
	if (json_array_append_new(d->arr, json_pack("{s:s, s:s, s:s}", "network", net->name,
		    "mac", ctl_format_mac(mac.addr_bytes, ms, sizeof(ms)),
		    "port", p->spec.name)) < 0) {
		json_decref(d->arr);
		d->arr = NULL;
		return 1;
	}
	return 0;
}

static json_t *
mac_state_dump(void *arg)
{
	struct mac_dump d = { .c = arg, .arr = json_array() };

	if (d.arr != NULL)
		fdb_walk(d.c->dp->fdb, mac_dump_one, &d);
	return d.arr;
}

static int
mac_state_restore(void *arg, json_t *val, char *err, size_t errlen)
{
	struct ctl *c = arg;
	size_t i;
	json_t *o;

	if (!json_is_array(val)) {
		snprintf(err, errlen, "\"macs\" is not an array");
		return -EINVAL;
	}
	json_array_foreach(val, i, o) {
		const char *netname = json_string_value(json_object_get(o, "network"));
		const char *macstr = json_string_value(json_object_get(o, "mac"));
		const char *portname = json_string_value(json_object_get(o, "port"));
		struct net *net = netname != NULL ? net_find(c->nets, netname) : NULL;
		struct port *p = portname != NULL ? port_find(portname) : NULL;
		struct rte_ether_addr mac;

		if (net == NULL || p == NULL || macstr == NULL ||
		    rte_ether_unformat_addr(macstr, &mac) != 0 || p->domain != net->domain ||
		    fdb_add(c->dp->fdb, net->domain, &mac, p->port_id, true, rte_rdtsc()) != 0)
			state_log(STATE_LOG_WARNING, "static MAC %zu (%s behind %s in %s) not "
				  "restored: its network or port is gone, or it is invalid", i,
				  macstr ? macstr : "?", portname ? portname : "?",
				  netname ? netname : "?");
	}
	return 0;
}

int
ctl_mac_state_register(struct ctl *c)
{
	return state_register("macs", STATE_ORDER_MACS, mac_state_dump, mac_state_restore, c);
}
