/*
 * route.c - the routing table as users see it: `dpctl route add | ls | rm`,
 * the routes: section of the config file, and the "routes" state section.
 *
 * The table itself is the data plane's (rte_lpm behind l3_route_add/del/walk,
 * dataplane/l3.h): a change reaches the workers at once, without stopping
 * them. It holds three kinds of routes:
 *  - connected: every bridge network's subnet and the uplink's (uplink.c puts
 *    them there with the network or the uplink; they go with it);
 *  - the default route via the uplink's gateway: (uplink.c, from the port);
 *  - static routes: PREFIX/LEN via GW, or blackhole, from the config file or
 *    from `dpctl route add`. This module owns them. A gateway must be on a
 *    connected subnet (the uplink network or a bridge network, not internal,
 *    not one of dpnet's own addresses): the route then says GATEWAY(d, GW) in
 *    that network's domain d, and the neighbour GW is resolved there (ARP on a
 *    NIC uplink, neigh.h; a container's address in a bridge network).
 * Routes added with dpctl are saved in the state file's "routes" section and
 * come back after a restart or kill -9; those of the config file come from
 * the file again (they are not saved and `route rm` refuses them).
 *
 * While a static route leads into a network, that network cannot be removed
 * (net_hooks.busy), nor the uplink while one leads through it (port.c).
 *
 * Thread safety: control thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_log.h>

#include "dataplane/dp.h"
#include "dataplane/l3.h"
#include "ctl.h"
#include "state.h"
#include "uplink.h"
#include "util.h"
#include "vxlan.h"

/* One static route of ours. */
struct route_ent {
	uint32_t prefix;        /* destination, host order, host bits zero */
	uint8_t len;            /* its prefix length */
	uint32_t via;           /* next hop (0: blackhole) */
	uint16_t domain;        /* where the next hop is (GATEWAY's domain) */
	bool from_config;       /* from the file: not saved, not removable */
};

static struct {
	struct route_ent ents[L3_MAX_ROUTES]; /* the static routes, in the order added */
	unsigned int n;                       /* entries used */
} rt;

static const char *
route_ip(uint32_t a, char *buf, size_t len)
{
	return cfg_format_ip(a, buf, len);
}

static struct route_ent *
route_find(uint32_t prefix, uint8_t len)
{
	for (unsigned int i = 0; i < rt.n; i++)
		if (rt.ents[i].prefix == prefix && rt.ents[i].len == len)
			return &rt.ents[i];
	return NULL;
}

/* The name a domain goes by in listings and messages. */
static const char *
route_domain_name(struct ctl *c, uint16_t domain)
{
	struct net *n;

	if (domain == NET_DOMAIN_UPLINK)
		return "(uplink)";
	if (domain == NET_DOMAIN_HOST)
		return "(host)";
	n = net_by_domain(c->nets, domain);
	return n != NULL ? n->name : "?";
}

/* A domain in a sentence: "the uplink network", "network NAME". */
static const char *
route_where(struct ctl *c, uint16_t domain, char *buf, size_t len)
{
	if (domain == NET_DOMAIN_UPLINK)
		return "the uplink network";
	if (domain == NET_DOMAIN_HOST)
		return "the host port";
	snprintf(buf, len, "network %s", route_domain_name(c, domain));
	return buf;
}

/* One route of the data plane's table, copied out by a walk. */
struct route_row {
	uint32_t prefix;            /* destination */
	uint8_t len;                /* prefix length */
	struct l3_nexthop nh;       /* where it leads */
};

struct route_rows {
	struct route_row *rows;     /* growing array */
	size_t n, cap;              /* used, allocated */
	int err;                    /* -ENOMEM when it could not grow */
};

static int
route_collect(uint32_t prefix, uint8_t len, const struct l3_nexthop *nh, void *arg)
{
	struct route_rows *w = arg;

	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct route_row *r = realloc(w->rows, cap * sizeof(*r));

		if (r == NULL) {
			w->err = -ENOMEM;
			return 1;
		}
		w->rows = r;
		w->cap = cap;
	}
	w->rows[w->n].prefix = prefix;
	w->rows[w->n].len = len;
	w->rows[w->n].nh = *nh;
	w->n++;
	return 0;
}

/* Every route of the data plane (free rows when done); 0 or -ENOMEM. */
static int
route_rows(struct ctl *c, struct route_rows *w)
{
	memset(w, 0, sizeof(*w));
	l3_route_walk(c->dp, route_collect, w);
	if (w->err < 0) {
		free(w->rows);
		w->rows = NULL;
	}
	return w->err;
}

/* What kind a route of the table is: connected, default, static, blackhole or
 * overlay (a remote host's, control/vxlan.h). Not inlined: GCC's string-compare
 * warning would judge the callers' strcmp against one of the returns. */
static const char * __attribute__((noinline))
route_type(uint32_t prefix, uint8_t len, const struct l3_nexthop *nh)
{
	struct route_ent *e = route_find(prefix, len);

	if (nh->type == L3_NH_BLACKHOLE)
		return "blackhole";
	if (e != NULL)
		return "static";
	if (vxlan_route_is_remote(prefix, len))
		return "overlay";
	if (nh->type == L3_NH_CONNECTED)
		return "connected";
	return len == 0 ? "default" : "static";
}

/*
 * Where a next hop is: the domain of the most specific connected route that
 * holds it and is a usable next hop there. -EHOSTUNREACH (no connected subnet
 * holds it) or -EINVAL with the message.
 */
static int
route_gateway_domain(struct ctl *c, uint32_t via, uint16_t *domain, char *err, size_t errlen)
{
	const struct dp_view *v = dp_view_get(c->dp);
	struct route_rows w;
	const struct route_row *best = NULL;
	char a[16], b[CFG_NET_NAME_MAX + 16], list[512];
	size_t off = 0;
	uint32_t mask;
	struct net *n;

	if (route_rows(c, &w) < 0)
		return ctl_fail(err, errlen, -ENOMEM, "out of memory");
	list[0] = '\0';
	for (size_t i = 0; i < w.n; i++) {
		const struct route_row *r = &w.rows[i];

		if (r->nh.type != L3_NH_CONNECTED)
			continue;
		if (off < sizeof(list))
			off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s/%u of %s",
						off ? ", " : "",
						route_ip(r->prefix, a, sizeof(a)), r->len,
						route_where(c, r->nh.domain, b, sizeof(b)));
		if (((via ^ r->prefix) & cfg_prefix_mask(r->len)) == 0 &&
		    (best == NULL || r->len > best->len))
			best = r;
	}
	if (best == NULL) {
		free(w.rows);
		return ctl_fail(err, errlen, -EHOSTUNREACH, "gateway %s is unreachable: it is on "
				"no connected subnet (%s): give a next hop on the uplink network "
				"or a bridge network", route_ip(via, a, sizeof(a)),
				list[0] ? list : "there is none: add an uplink with --address");
	}
	*domain = best->nh.domain;
	mask = cfg_prefix_mask(best->len);
	snprintf(b, sizeof(b), "%s", route_ip(best->prefix, a, sizeof(a)));
	route_ip(via, a, sizeof(a));
	if (best->len < 31 && (via == best->prefix || via == (best->prefix | ~mask))) {
		free(w.rows);
		return ctl_fail(err, errlen, -EINVAL, "gateway %s is the network or broadcast "
				"address of %s/%u: give a host address", a, b, best->len);
	}
	free(w.rows);
	if (*domain < DP_MAX_DOMAINS && v->nets[*domain].gw_ip == via)
		return ctl_fail(err, errlen, -EINVAL, "gateway %s is dpnet's own address (in %s): "
				"give the next hop's address", a,
				route_where(c, *domain, b, sizeof(b)));
	n = net_by_domain(c->nets, *domain);
	if (n != NULL && n->internal)
		return ctl_fail(err, errlen, -EINVAL, "gateway %s is in network %s, which is "
				"--internal (no routed traffic leaves it): give a next hop "
				"elsewhere", a, n->name);
	return 0;
}

/*
 * Add a static route (via 0: blackhole). Everything is checked against the
 * table in force; on failure nothing changed and err says why.
 */
static int
route_add(struct ctl *c, uint32_t prefix, uint8_t len, uint32_t via, bool from_config,
	  char *err, size_t errlen)
{
	struct l3_nexthop nh = { .type = L3_NH_BLACKHOLE, .domain = 0 };
	struct route_rows w;
	char a[16], b[CFG_NET_NAME_MAX + 16];
	int rc;

	route_ip(prefix, a, sizeof(a));
	if (rt.n == L3_MAX_ROUTES)
		return ctl_fail(err, errlen, -ENOSPC, "too many static routes (at most %d): "
				"remove one first", L3_MAX_ROUTES);
	if (route_rows(c, &w) < 0)
		return ctl_fail(err, errlen, -ENOMEM, "out of memory");
	for (size_t i = 0; i < w.n; i++) {
		const struct route_row *r = &w.rows[i];
		const char *type = route_type(r->prefix, r->len, &r->nh);

		if (r->prefix == prefix && r->len == len) {
			struct route_row row = *r; /* the messages read it after the free */

			free(w.rows);
			r = &row;
			if (strcmp(type, "connected") == 0)
				return ctl_fail(err, errlen, -EEXIST, "route %s/%u exists: it is the "
						"connected route of %s", a, len,
						route_where(c, r->nh.domain, b, sizeof(b)));
			if (strcmp(type, "overlay") == 0)
				return ctl_fail(err, errlen, -EEXIST, "route %s/%u exists: it leads "
						"to a remote host of overlay network %s (cluster "
						"mode)", a, len, route_domain_name(c, r->nh.domain));
			if (strcmp(type, "default") == 0)
				return ctl_fail(err, errlen, -EEXIST, "a default route exists (via "
						"%s, the uplink's gateway): change the uplink's "
						"gateway instead", route_ip(r->nh.gw_ip, b,
									     sizeof(b)));
			return ctl_fail(err, errlen, -EEXIST, "route %s/%u exists (%s%s%s): remove "
					"it first with 'dpctl route rm %s/%u'", a, len, type,
					r->nh.type == L3_NH_GATEWAY ? " via " : "",
					r->nh.type == L3_NH_GATEWAY ?
					route_ip(r->nh.gw_ip, b, sizeof(b)) : "", a, len);
		}
		/* Inside a connected subnet: those addresses are delivered there. */
		if (r->nh.type == L3_NH_CONNECTED && r->len <= len &&
		    ((prefix ^ r->prefix) & cfg_prefix_mask(r->len)) == 0) {
			uint8_t clen = r->len;
			char where[CFG_NET_NAME_MAX + 16];

			snprintf(where, sizeof(where), "%s", route_where(c, r->nh.domain, b,
									 sizeof(b)));
			route_ip(r->prefix, b, sizeof(b));
			free(w.rows);
			return ctl_fail(err, errlen, -EINVAL, "%s/%u is inside the connected subnet "
					"%s/%u of %s: its addresses are delivered there, not "
					"routed", a, len, b, clen, where);
		}
	}
	free(w.rows);
	if (via != 0) {
		rc = route_gateway_domain(c, via, &nh.domain, err, errlen);
		if (rc < 0)
			return rc;
		nh.type = L3_NH_GATEWAY;
		nh.gw_ip = via;
	}
	rc = l3_route_add(c->dp, prefix, len, &nh);
	if (rc == -ENOSPC)
		return ctl_fail(err, errlen, rc, "the routing table is full (%d routes): remove "
				"a route first", L3_MAX_ROUTES);
	if (rc < 0)
		return ctl_fail(err, errlen, rc, "cannot add the route %s/%u: %s", a, len,
				strerror(-rc));
	rt.ents[rt.n++] = (struct route_ent){
		.prefix = prefix, .len = len, .via = via, .domain = nh.domain,
		.from_config = from_config,
	};
	CTL_LOG(INFO, "route %s/%u %s%s%s%s", a, len, via != 0 ? "via " : "blackhole",
		via != 0 ? route_ip(via, b, sizeof(b)) : "", via != 0 ? " in " : "",
		via != 0 ? route_domain_name(c, nh.domain) : "");
	return 0;
}

static void
route_forget(struct route_ent *e)
{
	size_t i = (size_t)(e - rt.ents);

	memmove(&rt.ents[i], &rt.ents[i + 1], (rt.n - i - 1) * sizeof(rt.ents[0]));
	rt.n--;
}

/* The "to" (and "via") arguments of route.add and route.rm. */
static int
route_arg_dst(json_t *args, uint32_t *prefix, uint8_t *len, char *err, size_t errlen)
{
	char to[64], why[256];
	int rc;

	rc = ctl_arg_str(args, "to", true, to, sizeof(to), err, errlen);
	if (rc < 0)
		return rc;
	if (cfg_parse_route_dst(to, prefix, len, why, sizeof(why)) < 0)
		return ctl_fail(err, errlen, -EINVAL, "%s", why);
	return 0;
}

static json_t *
route_json(struct ctl *c, uint32_t prefix, uint8_t len, const struct l3_nexthop *nh)
{
	struct route_ent *e = route_find(prefix, len);
	char a[16], g[16], dst[24];

	snprintf(dst, sizeof(dst), "%s/%u", route_ip(prefix, a, sizeof(a)), len);
	return json_pack("{s:s, s:s, s:s, s:s, s:i, s:s}",
			 "destination", len == 0 ? "default" : dst,
			 "gateway", nh->type == L3_NH_GATEWAY ? route_ip(nh->gw_ip, g, sizeof(g)) :
			 "",
			 "network", nh->type == L3_NH_BLACKHOLE ? "" :
			 route_domain_name(c, nh->domain),
			 "type", route_type(prefix, len, nh),
			 "domain", nh->type == L3_NH_BLACKHOLE ? -1 : (int)nh->domain,
			 "origin", e != NULL ? (e->from_config ? "config" : "dpctl") :
			 vxlan_route_is_remote(prefix, len) ? "cluster" :
			 nh->type == L3_NH_CONNECTED && nh->domain != NET_DOMAIN_UPLINK ? "network" :
			 "uplink");
}

/* route.add {to, via?, blackhole?(bool)} */
int
ctl_route_add(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	static const char *const allowed[] = { "to", "via", "blackhole", NULL };
	json_t *bh = json_object_get(args, "blackhole");
	struct l3_nexthop nh;
	uint32_t prefix, via = 0;
	uint8_t len;
	char vias[64], a[16], what[64];
	int rc;

	rc = ctl_args_allowed(args, "route.add", allowed, err, errlen);
	if (rc == 0)
		rc = route_arg_dst(args, &prefix, &len, err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "via", false, vias, sizeof(vias), err, errlen);
	if (rc < 0)
		return rc;
	if (bh != NULL && !json_is_boolean(bh))
		return ctl_fail(err, errlen, -EINVAL, "\"blackhole\" must be true or false");
	if (vias[0] != '\0' && (cfg_parse_ip(vias, &via) < 0 || via == 0))
		return ctl_fail(err, errlen, -EINVAL, "invalid gateway \"%s\": write an IPv4 "
				"address, e.g. 192.0.2.1", vias);
	if (via != 0 && json_is_true(bh))
		return ctl_fail(err, errlen, -EINVAL, "a route goes either via a gateway or to a "
				"blackhole, not both");
	if (via == 0 && !json_is_true(bh))
		return ctl_fail(err, errlen, -EINVAL, "a route to nowhere: give via GATEWAY (a "
				"next hop on the uplink network or a bridge network) or "
				"blackhole");
	rc = route_add(c, prefix, len, via, false, err, errlen);
	if (rc < 0)
		return rc;
	snprintf(what, sizeof(what), "route %s/%u not added", route_ip(prefix, a, sizeof(a)),
		 len);
	rc = state_commit(what, err, errlen);
	if (rc < 0) {
		int rc2 = l3_route_del(c->dp, prefix, len);

		if (rc2 < 0 && rc2 != -ENOENT) {
			CTL_LOG(ERR, "route %s/%u: cannot undo it: %s", a, len, strerror(-rc2));
			state_err_append(err, errlen, "and it could not be taken out of the data "
					 "plane again (%s): remove it with 'dpctl route rm %s/%u'",
					 strerror(-rc2), a, len);
			return rc; /* still in the table, so that route rm can remove it */
		}
		route_forget(&rt.ents[rt.n - 1]);
		return rc;
	}
	memset(&nh, 0, sizeof(nh));
	nh.type = via != 0 ? L3_NH_GATEWAY : L3_NH_BLACKHOLE;
	nh.gw_ip = via;
	nh.domain = rt.ents[rt.n - 1].domain;
	*result = route_json(c, prefix, len, &nh);
	return *result != NULL ? 0 : -ENOMEM;
}

/* route.rm {to}: static routes of dpctl only. */
int
ctl_route_rm(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	static const char *const allowed[] = { "to", NULL };
	struct route_ent *e, gone;
	struct route_rows w;
	uint32_t prefix;
	uint8_t len;
	char a[16], b[16], dst[CFG_NET_NAME_MAX + 16];
	int rc;

	rc = ctl_args_allowed(args, "route.rm", allowed, err, errlen);
	if (rc == 0)
		rc = route_arg_dst(args, &prefix, &len, err, errlen);
	if (rc < 0)
		return rc;
	route_ip(prefix, a, sizeof(a));
	e = route_find(prefix, len);
	if (e == NULL) {
		if (route_rows(c, &w) < 0)
			return ctl_fail(err, errlen, -ENOMEM, "out of memory");
		for (size_t i = 0; i < w.n; i++) {
			const struct route_row r = w.rows[i];
			uint16_t d = r.nh.domain;

			if (r.prefix != prefix || r.len != len)
				continue;
			free(w.rows);
			if (r.nh.type == L3_NH_CONNECTED)
				return ctl_fail(err, errlen, -EPERM, "route %s/%u is the connected "
						"route of %s: it goes with %s, not with route rm",
						a, len, route_where(c, d, dst, sizeof(dst)),
						d == NET_DOMAIN_UPLINK ? "the uplink" :
						"the network");
			if (vxlan_route_is_remote(prefix, len))
				return ctl_fail(err, errlen, -EPERM, "route %s/%u leads to a remote "
						"host of overlay network %s: the cluster (etcd) "
						"manages it", a, len, route_domain_name(c, d));
			return ctl_fail(err, errlen, -EPERM, "the default route via %s comes from "
					"the uplink's gateway: change the uplink instead",
					route_ip(r.nh.gw_ip, b, sizeof(b)));
		}
		free(w.rows);
		return ctl_fail(err, errlen, -ENOENT, "no such route %s/%u: see 'dpctl route ls'",
				a, len);
	}
	if (e->from_config)
		return ctl_fail(err, errlen, -EPERM, "route %s/%u comes from the config file "
				"(%s): change the file and restart", a, len,
				c->cfg->path[0] != '\0' ? c->cfg->path : "built in");
	rc = l3_route_del(c->dp, prefix, len);
	if (rc < 0 && rc != -ENOENT)
		return ctl_fail(err, errlen, rc, "cannot remove the route %s/%u: %s", a, len,
				strerror(-rc));
	gone = *e;
	route_forget(e);
	snprintf(dst, sizeof(dst), "route %s/%u not removed", a, len);
	rc = state_commit(dst, err, errlen);
	if (rc < 0) {
		char why[512];

		if (route_add(c, gone.prefix, gone.len, gone.via, false, why, sizeof(why)) < 0) {
			CTL_LOG(ERR, "route %s/%u: removed, but that could not be saved and it "
				"could not be added again: %s; it comes back after a restart", a,
				len, why);
			state_err_append(err, errlen, "the route was removed all the same and "
					 "could not be added again (%s): it comes back after a "
					 "restart", why);
		}
		return rc;
	}
	CTL_LOG(INFO, "route %s/%u removed", a, len);
	snprintf(dst, sizeof(dst), "%s/%u", a, len);
	*result = json_pack("{s:s}", "destination", len == 0 ? "default" : dst);
	return *result != NULL ? 0 : -ENOMEM;
}

/* ip route's order: the default first, then by address, shorter prefix first. */
static int
route_cmp(const void *x, const void *y)
{
	const struct route_row *a = x, *b = y;

	if ((a->len == 0) != (b->len == 0))
		return a->len == 0 ? -1 : 1;
	if (a->prefix != b->prefix)
		return a->prefix < b->prefix ? -1 : 1;
	return (int)a->len - (int)b->len;
}

/* route.ls -> [{destination, gateway, network, type, domain, origin}] */
int
ctl_route_ls(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	static const char *const allowed[] = { NULL };
	struct route_rows w;
	json_t *arr;
	int rc;

	rc = ctl_args_allowed(args, "route.ls", allowed, err, errlen);
	if (rc < 0)
		return rc;
	if (route_rows(c, &w) < 0)
		return -ENOMEM;
	if (w.n > 1) /* rows is NULL when empty: qsort must not get it */
		qsort(w.rows, w.n, sizeof(w.rows[0]), route_cmp);
	arr = json_array();
	for (size_t i = 0; arr != NULL && i < w.n; i++) {
		json_t *o = route_json(c, w.rows[i].prefix, w.rows[i].len, &w.rows[i].nh);

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

int
ctl_route_config(struct ctl *c, unsigned int *bad, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < c->cfg->n_routes; i++) {
		const struct cfg_route *r = &c->cfg->routes[i];
		int rc = route_add(c, r->prefix, r->len, r->blackhole ? 0 : r->via, true, err,
				   errlen);

		if (rc < 0) {
			*bad = i;
			return rc;
		}
	}
	return 0;
}

int
ctl_route_busy(struct ctl *c, uint16_t domain, const char *what, char *err, size_t errlen)
{
	char a[16], b[16];

	(void)c;
	for (unsigned int i = 0; i < rt.n; i++) {
		const struct route_ent *e = &rt.ents[i];

		if (e->via == 0 || e->domain != domain)
			continue;
		return ctl_fail(err, errlen, -EBUSY, "the static route %s/%u via %s leads through "
				"%s: remove it first with 'dpctl route rm %s/%u'",
				route_ip(e->prefix, a, sizeof(a)), e->len,
				route_ip(e->via, b, sizeof(b)), what, a, e->len);
	}
	return 0;
}

/* State: [{to, via} | {to, blackhole: true}] for the routes added with dpctl. */
static json_t *
route_state_dump(void *arg)
{
	json_t *arr = json_array();
	char a[16], g[16], dst[24];

	(void)arg;
	for (unsigned int i = 0; arr != NULL && i < rt.n; i++) {
		const struct route_ent *e = &rt.ents[i];
		json_t *o;

		if (e->from_config)
			continue;
		snprintf(dst, sizeof(dst), "%s/%u", route_ip(e->prefix, a, sizeof(a)), e->len);
		o = e->via != 0 ?
			json_pack("{s:s, s:s}", "to", dst, "via", route_ip(e->via, g, sizeof(g))) :
			json_pack("{s:s, s:b}", "to", dst, "blackhole", 1);
		if (o == NULL || json_array_append_new(arr, o) < 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	return arr;
}

static int
route_state_restore(void *arg, json_t *val, char *err, size_t errlen)
{
	struct ctl *c = arg;
	size_t i;
	json_t *o;

	if (!json_is_array(val)) {
		snprintf(err, errlen, "\"routes\" is not an array");
		return -EINVAL;
	}
	json_array_foreach(val, i, o) {
		const char *to = json_string_value(json_object_get(o, "to"));
		const char *via = json_string_value(json_object_get(o, "via"));
		char why[512] = "";
		uint32_t prefix = 0, gw = 0;
		uint8_t len = 0;

		if (to == NULL || cfg_parse_route_dst(to, &prefix, &len, why, sizeof(why)) < 0 ||
		    (via != NULL && (cfg_parse_ip(via, &gw) < 0 || gw == 0)) ||
		    (via == NULL && !json_is_true(json_object_get(o, "blackhole")))) {
			state_log(STATE_LOG_WARNING, "state: routes[%zu] is malformed: skipped", i);
			continue;
		}
		if (route_add(c, prefix, len, gw, false, why, sizeof(why)) < 0)
			state_log(STATE_LOG_WARNING, "state: route %s not restored: %s", to, why);
	}
	return 0;
}

int
ctl_route_state_register(struct ctl *c)
{
	return state_register("routes", STATE_ORDER_ROUTES, route_state_dump,
			      route_state_restore, c);
}
