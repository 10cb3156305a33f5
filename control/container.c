/*
 * container.c - the container commands (run, connect, disconnect, ps, port, rm)
 * and the registry of containers. See container.h for the model; the pieces
 * live in ctr_if.c (pools, namespaces, interfaces), ctr_proc.c (processes) and
 * ctr_state.c (the state section).
 *
 * Every command checks all it can before touching anything, then builds the
 * container step by step and, when a step fails, undoes the steps already done
 * in reverse order, so a refused command has changed nothing. The pieces:
 *   pools      one IPAM pool per bridge network, made on first use (ipam.c)
 *   interfaces ctr_if_plan (address, MAC, names) then ctr_if_realize (links,
 *              dpnet port, configuration inside the namespace, endpoint in the
 *              network, whose hook installs the gateway's neighbour entry);
 *              ctr_if_unrealize is the inverse
 *   processes  spawned from a helper thread inside the namespace (posix_spawn,
 *              new session, log file), or the client's own pid (foreground);
 *              known by pid + start time; children reaped by ctr_tick
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <rte_log.h>

#include "drivers/vtap.h"
#include "ctl.h"
#include "server.h"
#include "ctr_priv.h"
#include "netns.h"
#include "state.h"

const char *const ctr_mode_names[] = { "bridge", "host", "none", "container" };
const char *const ctr_attach_names[] = { "veth", "tap", "vtap" };
struct ctr_registry ctrs;

/* ---------------------------------------------------------------- helpers */

struct ctr *
ctr_find(const char *name_or_id)
{
	struct ctr *match = NULL;
	size_t len = strlen(name_or_id);

	if (len == 0)
		return NULL;
	for (unsigned int i = 0; i < ctrs.n; i++)
		if (strcmp(ctrs.list[i]->name, name_or_id) == 0)
			return ctrs.list[i];
	/* An id prefix, as docker accepts (unique only). */
	for (unsigned int i = 0; i < ctrs.n && len <= CTR_ID_LEN; i++) {
		if (strncmp(ctrs.list[i]->id, name_or_id, len) == 0) {
			if (match != NULL)
				return NULL;
			match = ctrs.list[i];
		}
	}
	return match;
}

bool
ctr_name_taken(const char *name)
{
	for (unsigned int i = 0; i < ctrs.n; i++)
		if (strcmp(ctrs.list[i]->name, name) == 0)
			return true;
	return false;
}

/* A generated name, as docker's adjective_scientist. */
static void
ctr_gen_name(char *buf, size_t len)
{
	static const char *const adj[] = {
		"admiring", "brave", "clever", "eager", "focused", "gifted", "happy", "jolly",
		"keen", "lucid", "nifty", "quirky", "serene", "sharp", "vibrant", "zen",
	};
	static const char *const sci[] = {
		"babbage", "curie", "dijkstra", "euler", "feynman", "hopper", "kepler",
		"lovelace", "noether", "pascal", "ritchie", "shannon", "thompson", "turing",
		"wozniak", "yonath",
	};
	uint8_t r[2];

	for (unsigned int k = 0;; k++) {
		ctl_random_bytes(r, sizeof(r));
		if (k < 16)
			snprintf(buf, len, "%s_%s", adj[r[0] % 16], sci[r[1] % 16]);
		else
			snprintf(buf, len, "%s_%s%u", adj[r[0] % 16], sci[r[1] % 16], k);
		if (!ctr_name_taken(buf))
			return;
	}
}

void
ctr_free(struct ctr *ct)
{
	if (ct == NULL)
		return;
	json_decref(ct->cmd);
	free(ct->maps);
	free(ct->exps);
	free(ct);
}

/* Take ct out of the list; returns where it was. */
static unsigned int
ctr_list_del(struct ctr *ct)
{
	for (unsigned int i = 0; i < ctrs.n; i++)
		if (ctrs.list[i] == ct) {
			memmove(&ctrs.list[i], &ctrs.list[i + 1],
				(ctrs.n - i - 1) * sizeof(ctrs.list[0]));
			ctrs.n--;
			return i;
		}
	return ctrs.n;
}

/* Put ct back where ctr_list_del took it from. */
static void
ctr_list_put(struct ctr *ct, unsigned int at)
{
	memmove(&ctrs.list[at + 1], &ctrs.list[at], (ctrs.n - at) * sizeof(ctrs.list[0]));
	ctrs.list[at] = ct;
	ctrs.n++;
}

const char *
ctr_port_owner(const char *port_name)
{
	for (unsigned int i = 0; i < ctrs.n; i++)
		for (unsigned int k = 0; k < ctrs.list[i]->n_ifs; k++)
			if (strcmp(ctrs.list[i]->ifs[k].port, port_name) == 0)
				return ctrs.list[i]->name;
	return NULL;
}

/* ---------------------------------------------------------------- JSON */

static json_t *
ctr_maps_json(const struct ctr *ct)
{
	json_t *arr = json_array();
	char ip[16];

	for (unsigned int i = 0; arr != NULL && i < ct->n_maps; i++) {
		const struct pm_map *m = &ct->maps[i];

		json_array_append_new(arr, json_pack("{s:i, s:s, s:s, s:i}",
			"container_port", m->ctr_port, "proto", pm_proto_name(m->proto),
			"host_ip", cfg_format_ip(m->host_ip, ip, sizeof(ip)),
			"host_port", m->host_port));
	}
	return arr;
}

/* Docker's PORTS column: published maps, then exposed ports not published. */
static void
ctr_ports_text(const struct ctr *ct, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < ct->n_maps && off < len; i++) {
		char one[64];

		pm_format(&ct->maps[i], one, sizeof(one));
		off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? ", " : "", one);
	}
	for (unsigned int i = 0; i < ct->n_exps && off < len; i++) {
		bool published = false;

		for (unsigned int k = 0; k < ct->n_maps && !published; k++)
			published = ct->maps[k].ctr_port == ct->exps[i].port &&
				    ct->maps[k].proto == ct->exps[i].proto;
		if (!published)
			off += (size_t)snprintf(buf + off, len - off, "%s%u/%s", off ? ", " : "",
						ct->exps[i].port,
						pm_proto_name(ct->exps[i].proto));
	}
}

static const char *
ctr_status(struct ctr *ct, char *buf, size_t len)
{
	if (ctr_alive(ct))
		snprintf(buf, len, "running");
	else if (ct->pid <= 0)
		snprintf(buf, len, "created");
	else if (ct->exit_code >= 0)
		snprintf(buf, len, "exited (%d)", ct->exit_code);
	else
		snprintf(buf, len, "exited");
	return buf;
}

/* The network column: the mode, or the networks of a bridge-mode container. */
static void
ctr_network_text(const struct ctr *ct, char *buf, size_t len)
{
	size_t off = 0;

	switch (ct->mode) {
	case CTR_MODE_HOST:
		snprintf(buf, len, "host");
		return;
	case CTR_MODE_NONE:
		snprintf(buf, len, "none");
		return;
	case CTR_MODE_CONTAINER:
		snprintf(buf, len, "container:%s", ct->mode_ref);
		return;
	default:
		break;
	}
	buf[0] = '\0';
	for (unsigned int i = 0; i < ct->n_ifs && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "," : "",
					ct->ifs[i].net_name);
}

/* Is the first network (the one published ports would go to) --internal? */
static bool
ctr_pub_internal(const struct ctr *ct)
{
	const struct net *n;

	if (ct->mode != CTR_MODE_BRIDGE || ct->n_ifs == 0)
		return false;
	n = net_find(ctrs.c->nets, ct->ifs[0].net_id);
	return n != NULL && n->internal;
}

/* The address published ports go to: the first bridge network's (or the
 * namespace owner's for container:NAME, which cannot publish); none when that
 * network is --internal (Docker publishes nothing there, moby#36174). */
static uint32_t
ctr_pub_ip(const struct ctr *ct)
{
	if (ctr_pub_internal(ct))
		return 0;
	return ct->mode == CTR_MODE_BRIDGE && ct->n_ifs > 0 ? ct->ifs[0].ip : 0;
}

static const char *
ctr_nat_state(const struct ctr *ct)
{
	const char *st = ctl_nat_state(ct->id, ct->maps, ct->n_maps, ctr_pub_ip(ct));

	return strcmp(st, "no-network") == 0 && ctr_pub_internal(ct) ? "internal" : st;
}

void
ctr_pub_walk(void (*fn)(const struct ctr_pub *p, void *arg), void *arg)
{
	for (unsigned int i = 0; i < ctrs.n; i++) {
		const struct ctr *ct = ctrs.list[i];
		struct ctr_pub p = {
			.id = ct->id, .name = ct->name, .ip = ctr_pub_ip(ct),
			.network = ct->n_ifs > 0 ? ct->ifs[0].net_name : "",
			.maps = ct->maps, .n_maps = ct->n_maps,
		};

		if (ct->n_maps > 0)
			fn(&p, arg);
	}
}

/* Drop the connections of the addresses a container no longer has. */
static void
ctr_nat_forget(const struct ctr_if *ifs, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		ctl_nat_forget_ip(ctrs.c, ifs[i].ip);
}

static json_t *
ctr_json(struct ctr *ct)
{
	char net[512], ports[4096], status[32], ip[16], gw[16], mac[32], first_ip[16] = "";
	char sid[16];
	json_t *o, *ifs = json_array(), *exps = json_array(), *cmd;
	const struct ctr *shared = NULL;

	if (ct->mode == CTR_MODE_CONTAINER)
		shared = ctr_find(ct->mode_ref);
	for (unsigned int i = 0; ifs != NULL && i < ct->n_ifs; i++) {
		const struct ctr_if *f = &ct->ifs[i];

		json_array_append_new(ifs, json_pack(
			"{s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:b}",
			"network", f->net_name, "network_id", f->net_id,
			"ip", cfg_format_ip(f->ip, ip, sizeof(ip)), "prefix_len", f->prefix_len,
			"gateway", cfg_format_ip(f->gateway, gw, sizeof(gw)),
			"mac", ctl_format_mac(f->mac, mac, sizeof(mac)), "interface", f->ifname,
			"port", f->port, "host_interface", f->attach == CTR_ATTACH_VETH ?
			f->host_if : "", "attach", ctr_attach_names[f->attach], "mtu", f->mtu,
			"default_route", f->gw_route));
	}
	if (ct->n_ifs > 0)
		cfg_format_ip(ct->ifs[0].ip, first_ip, sizeof(first_ip));
	else if (shared != NULL && shared->n_ifs > 0)
		cfg_format_ip(shared->ifs[0].ip, first_ip, sizeof(first_ip));
	for (unsigned int i = 0; exps != NULL && i < ct->n_exps; i++) {
		char e[16];

		snprintf(e, sizeof(e), "%u/%s", ct->exps[i].port, pm_proto_name(ct->exps[i].proto));
		json_array_append_new(exps, json_string(e));
	}
	ctr_network_text(ct, net, sizeof(net));
	ctr_ports_text(ct, ports, sizeof(ports));
	cmd = ct->cmd != NULL ? json_incref(ct->cmd) : json_array();
	snprintf(sid, sizeof(sid), "%.12s", ct->id);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:s, s:s, s:s,"
		      " s:i, s:o, s:b, s:I}",
		      "name", ct->name, "id", sid, "full_id", ct->id,
		      "mode", ctr_mode_names[ct->mode], "network", net, "ip", first_ip,
		      "networks", ifs, "ports", ports, "published", ctr_maps_json(ct),
		      "exposed", exps, "command", cmd, "nat", ctr_nat_state(ct),
		      "netns", ct->netns, "status", ctr_status(ct, status, sizeof(status)),
		      "pid", ctr_alive(ct) ? (int)ct->pid : 0,
		      "running", json_boolean(ctr_alive(ct)),
		      "detached", ct->detach, "created", (json_int_t)ct->created_ns);
	return o;
}

/* After connect/disconnect: the rules follow the first network's address. The
 * change itself is done; a failure here leaves the rules as they were (logged,
 * "nat" then says "pending") rather than undoing the user's command. */
static void
ctr_nat_resync(struct ctl *c, const struct ctr *ct)
{
	char msg[512];

	if (ct->n_maps == 0)
		return;
	if (ctl_nat_sync(c, msg, sizeof(msg)) < 0)
		CTL_LOG(WARNING, "container %s: its DNAT rules could not follow the change: %s",
			ct->name, msg);
}

/* ---------------------------------------------------------------- arguments */

static int
ctr_arg_bool(json_t *args, const char *key, bool *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(args, key);

	*out = false;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return ctl_fail(err, errlen, -EINVAL, "argument \"%s\" must be true or false",
				key);
	*out = json_is_true(v);
	return 0;
}

/* An array of strings (NULL when absent). */
static int
ctr_arg_strings(json_t *args, const char *key, json_t **out, size_t max, char *err,
		size_t errlen)
{
	json_t *v = json_object_get(args, key), *w;
	size_t i;

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_array(v) || json_array_size(v) > max)
		return ctl_fail(err, errlen, -EINVAL, "argument \"%s\" must be a list of at "
				"most %zu strings", key, max);
	json_array_foreach(v, i, w)
		if (!json_is_string(w) || json_string_length(w) == 0 ||
		    strlen(json_string_value(w)) != json_string_length(w))
			return ctl_fail(err, errlen, -EINVAL, "argument \"%s\" must be a list of "
					"non-empty strings", key);
	*out = v;
	return 0;
}

static int
ctr_arg_attach(json_t *args, enum ctr_attach *kind, char *err, size_t errlen)
{
	char s[16];
	int rc = ctl_arg_str(args, "attach", false, s, sizeof(s), err, errlen);

	*kind = ctrs.attach_default;
	if (rc < 0 || s[0] == '\0')
		return rc;
	if (strcmp(s, "veth") == 0)
		*kind = CTR_ATTACH_VETH;
	else if (strcmp(s, "tap") == 0)
		*kind = CTR_ATTACH_TAP;
	else if (strcmp(s, "vtap") == 0)
		*kind = CTR_ATTACH_VTAP;
	else
		return ctl_fail(err, errlen, -EINVAL, "unknown attachment \"%s\": use --attach "
				"veth, --attach tap or --attach vtap", s);
	return 0;
}

static int
ctr_check_name(const char *name, char *err, size_t errlen)
{
	struct ctr *other;

	if (!cfg_name_valid(name, CTR_NAME_MAX))
		return ctl_fail(err, errlen, -EINVAL, "Invalid container name (%s), only "
				"[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed, at most %d characters",
				name, CTR_NAME_MAX - 1);
	other = ctr_find(name);
	if (other != NULL && strcmp(other->name, name) == 0)
		return ctl_fail(err, errlen, -EEXIST, "Conflict. The container name \"/%s\" is "
				"already in use by container \"%s\". You have to remove (or "
				"rename) that container to be able to reuse that name: 'dpctl "
				"rm %s'", name, other->id, name);
	return 0;
}

/* All the host ports other containers hold. */
static struct pm_map *
ctr_taken_maps(unsigned int *n)
{
	unsigned int total = 0, k = 0;
	struct pm_map *all;

	for (unsigned int i = 0; i < ctrs.n; i++)
		total += ctrs.list[i]->n_maps;
	all = calloc(total + 1, sizeof(*all));
	if (all == NULL)
		return NULL;
	for (unsigned int i = 0; i < ctrs.n; i++) {
		memcpy(&all[k], ctrs.list[i]->maps, ctrs.list[i]->n_maps * sizeof(*all));
		k += ctrs.list[i]->n_maps;
	}
	*n = total;
	return all;
}

/* -p/-P/--expose into ct (validated, host ports assigned). */
static int
ctr_parse_ports(struct ctr *ct, json_t *publish, json_t *expose, bool publish_all, char *err,
		size_t errlen)
{
	const struct cfg_nat *eph = &ctrs.c->cfg->nat;
	struct pm_map *taken;
	unsigned int n_taken = 0;
	size_t i;
	json_t *w;
	int rc;

	ct->maps = calloc(PM_MAX, sizeof(*ct->maps));
	ct->exps = calloc(PM_MAX, sizeof(*ct->exps));
	if (ct->maps == NULL || ct->exps == NULL)
		return ctl_fail(err, errlen, -ENOMEM, "out of memory");
	json_array_foreach(expose, i, w) {
		rc = pm_parse_expose(json_string_value(w), ct->exps, &ct->n_exps, PM_MAX, err,
				     errlen);
		if (rc < 0)
			return rc;
	}
	json_array_foreach(publish, i, w) {
		rc = pm_parse_publish(json_string_value(w), ct->maps, &ct->n_maps, PM_MAX,
				      eph->ephemeral_lo, eph->ephemeral_hi, err, errlen);
		if (rc < 0)
			return rc;
	}
	/* A published port is exposed too, as in Docker. */
	for (unsigned int k = 0; k < ct->n_maps; k++) {
		char e[16];

		snprintf(e, sizeof(e), "%u/%s", ct->maps[k].ctr_port,
			 pm_proto_name(ct->maps[k].proto));
		rc = pm_parse_expose(e, ct->exps, &ct->n_exps, PM_MAX, err, errlen);
		if (rc < 0)
			return rc;
	}
	/* -P: every exposed port not published yet gets an ephemeral host port. */
	for (unsigned int k = 0; publish_all && k < ct->n_exps; k++) {
		bool published = false;
		char e[16];

		for (unsigned int m = 0; m < ct->n_maps && !published; m++)
			published = ct->maps[m].ctr_port == ct->exps[k].port &&
				    ct->maps[m].proto == ct->exps[k].proto;
		if (published)
			continue;
		snprintf(e, sizeof(e), "%u/%s", ct->exps[k].port, pm_proto_name(ct->exps[k].proto));
		rc = pm_parse_publish(e, ct->maps, &ct->n_maps, PM_MAX, eph->ephemeral_lo,
				      eph->ephemeral_hi, err, errlen);
		if (rc < 0)
			return rc;
	}
	taken = ctr_taken_maps(&n_taken);
	if (taken == NULL)
		return ctl_fail(err, errlen, -ENOMEM, "out of memory");
	rc = pm_assign(ct->maps, ct->n_maps, taken, n_taken, err, errlen);
	free(taken);
	return rc;
}

/* ---------------------------------------------------------------- teardown */

/* Remove everything of ct but the record itself; stop its processes first. */
static void
ctr_teardown(struct ctr *ct)
{
	struct ctl *c = ctrs.c;
	char log[CFG_PATH_MAX + 128];

	ctr_stop(ct);
	while (ct->n_ifs > 0) {
		struct ctr_if *f = &ct->ifs[--ct->n_ifs];

		ctr_if_unrealize(ct, f);
		ctr_pool_free(f->net_id, f->ip);
	}
	if (ct->mode == CTR_MODE_HOST || ct->mode == CTR_MODE_NONE) {
		struct net *n = net_find(c->nets, ct->mode == CTR_MODE_HOST ? "host" : "none");

		if (n != NULL)
			net_endpoint_del(c->nets, n, ct->id);
	}
	if (ct->nsname[0] != '\0') {
		int rc = netns_del(ct->nsname);

		if (rc < 0 && rc != -ENOENT)
			CTL_LOG(WARNING, "container %s: cannot delete namespace %s: %s", ct->name,
				ct->nsname, strerror(-rc));
	}
	ctr_log_path(ct, log, sizeof(log));
	unlink(log);
}

/* ---------------------------------------------------------------- run */

int
ctl_ctr_run(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	static const char *const allowed[] = {
		"name", "network", "publish", "publish_all", "expose", "ip", "mac", "cmd",
		"detach", "attach", "pid", NULL,
	};
	char network[CFG_NET_NAME_MAX + 16], ipstr[64], macstr[64], what[CTR_NAME_MAX + 32];
	json_t *publish, *expose, *cmd, *warnings = NULL, *pidv;
	bool publish_all, detach;
	enum ctr_attach kind;
	struct ctr *ct, *target = NULL;
	struct net *net = NULL;
	uint8_t mac[6];
	uint32_t want_ip = 0;
	int nsfd = -1, rc;

	ctr_tick();
	rc = ctl_args_allowed(args, "container.run", allowed, err, errlen);
	if (rc < 0)
		return rc;
	if (ctrs.n == CTR_MAX)
		return ctl_fail(err, errlen, -ENOSPC, "too many containers (%d): remove some",
				CTR_MAX);
	ct = calloc(1, sizeof(*ct));
	if (ct == NULL)
		return -ENOMEM;
	ct->exit_code = -1;
	rc = ctl_arg_str(args, "name", false, ct->name, sizeof(ct->name), err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "network", false, network, sizeof(network), err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "ip", false, ipstr, sizeof(ipstr), err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "mac", false, macstr, sizeof(macstr), err, errlen);
	if (rc == 0)
		rc = ctr_arg_strings(args, "publish", &publish, PM_MAX, err, errlen);
	if (rc == 0)
		rc = ctr_arg_strings(args, "expose", &expose, PM_MAX, err, errlen);
	if (rc == 0)
		rc = ctr_arg_strings(args, "cmd", &cmd, CTR_MAX_CMD, err, errlen);
	if (rc == 0)
		rc = ctr_arg_bool(args, "publish_all", &publish_all, err, errlen);
	if (rc == 0)
		rc = ctr_arg_bool(args, "detach", &detach, err, errlen);
	if (rc == 0)
		rc = ctr_arg_attach(args, &kind, err, errlen);
	if (rc < 0)
		goto fail_free;
	pidv = json_object_get(args, "pid");
	if (pidv != NULL && (!json_is_integer(pidv) || json_integer_value(pidv) <= 0 ||
			     json_integer_value(pidv) > INT_MAX)) {
		rc = ctl_fail(err, errlen, -EINVAL, "argument \"pid\" must be a process id");
		goto fail_free;
	}
	/* Only the caller's own process may be adopted (dpctl execs the command in
	 * itself); any other pid would let a client have dpnetd signal it later. */
	if (pidv != NULL && (pid_t)json_integer_value(pidv) != srv_request_peer_pid()) {
		rc = ctl_fail(err, errlen, -EPERM, "argument \"pid\" must be the calling "
			      "process's own pid: a foreground container runs in its client");
		goto fail_free;
	}
	if (cmd != NULL && json_array_size(cmd) == 0)
		cmd = NULL;
	if (cmd != NULL && !detach && pidv == NULL) {
		rc = ctl_fail(err, errlen, -EINVAL, "a command without detach runs in the "
			      "client: give its pid (dpctl run does), or run it with -d");
		goto fail_free;
	}
	if (ct->name[0] != '\0') {
		rc = ctr_check_name(ct->name, err, errlen);
		if (rc < 0)
			goto fail_free;
	} else {
		ctr_gen_name(ct->name, sizeof(ct->name));
	}
	/* The mode. */
	if (network[0] == '\0')
		snprintf(network, sizeof(network), "bridge");
	if (strncmp(network, "container:", 10) == 0) {
		ct->mode = CTR_MODE_CONTAINER;
		target = ctr_find(network + 10);
		if (target == NULL) {
			rc = ctl_fail(err, errlen, -ENOENT, "No such container: %s: see 'dpctl "
				      "ps'", network + 10);
			goto fail_free;
		}
		if (target->mode == CTR_MODE_CONTAINER) {
			rc = ctl_fail(err, errlen, -EINVAL, "container %s shares the namespace of "
				      "%s: use --network container:%s", target->name,
				      target->mode_ref, target->mode_ref);
			goto fail_free;
		}
		snprintf(ct->mode_ref, sizeof(ct->mode_ref), "%s", target->name);
	} else {
		net = net_find(c->nets, network);
		if (net == NULL) {
			rc = ctl_fail(err, errlen, -ENOENT, "network %s not found: create it with "
				      "'dpctl network create %s' or pick one from 'dpctl network "
				      "ls'", network, network);
			goto fail_free;
		}
		ct->mode = net->driver == NET_DRIVER_HOST ? CTR_MODE_HOST :
			   net->driver == NET_DRIVER_NULL ? CTR_MODE_NONE : CTR_MODE_BRIDGE;
		snprintf(ct->mode_ref, sizeof(ct->mode_ref), "%s", net->name);
	}
	/* What each mode refuses or discards, in Docker's words. */
	warnings = json_array();
	if (ct->mode == CTR_MODE_CONTAINER &&
	    (json_array_size(publish) > 0 || publish_all)) {
		rc = ctl_fail(err, errlen, -EINVAL, "conflicting options: port publishing and "
			      "the container type network mode");
		goto fail_warn;
	}
	if (ct->mode == CTR_MODE_CONTAINER && json_array_size(expose) > 0) {
		rc = ctl_fail(err, errlen, -EINVAL, "conflicting options: port exposing and "
			      "the container type network mode");
		goto fail_warn;
	}
	if (macstr[0] != '\0' && ct->mode != CTR_MODE_BRIDGE) {
		rc = ctl_fail(err, errlen, -EINVAL, "conflicting options: mac-address and the "
			      "network mode: --mac needs a bridge network");
		goto fail_warn;
	}
	if (ipstr[0] != '\0' && ct->mode != CTR_MODE_BRIDGE) {
		rc = ctl_fail(err, errlen, -EINVAL, "user specified IP address is supported on "
			      "bridge networks only: leave out --ip with --network %s", network);
		goto fail_warn;
	}
	if (ct->mode == CTR_MODE_HOST && (json_array_size(publish) > 0 || publish_all)) {
		json_array_append_new(warnings, json_string(
			"WARNING: Published ports are discarded when using host network mode"));
		publish = NULL;
		publish_all = false;
	}
	if (ipstr[0] != '\0' && cfg_parse_ip(ipstr, &want_ip) < 0) {
		rc = ctl_fail(err, errlen, -EINVAL, "invalid IPv4 address \"%s\" for --ip: write "
			      "it as a.b.c.d", ipstr);
		goto fail_warn;
	}
	if (macstr[0] != '\0' && ipam_parse_mac(macstr, mac) < 0) {
		rc = ctl_fail(err, errlen, -EINVAL, "invalid MAC address \"%s\" for --mac: write "
			      "it as 02:42:ac:11:00:02 (unicast, not all zero)", macstr);
		goto fail_warn;
	}
	rc = ctr_parse_ports(ct, publish, expose, publish_all, err, errlen);
	if (rc < 0)
		goto fail_warn;
	if (pidv != NULL) {
		ct->pid = (pid_t)json_integer_value(pidv);
		ct->pid_start = ctr_proc_start(ct->pid, NULL);
		if (ct->pid_start == 0) {
			rc = ctl_fail(err, errlen, -ESRCH, "process %d is not running",
				      (int)ct->pid);
			goto fail_warn;
		}
	}
	ct->cmd = cmd != NULL ? json_deep_copy(cmd) : NULL;
	ct->detach = detach;
	ct->created_ns = ctl_now_ns();
	ctl_random_hex(ct->id, CTR_ID_LEN);

	/*
	 * Saved as pending before anything is made (this also refuses the command
	 * while the state cannot be written), with the name of the namespace it is
	 * about to make; that namespace's lo carries the tag "dpnet:<id>" from
	 * before the name exists. A restart after a crash from here on removes that
	 * namespace and what runs in it, if it carries the tag (ctr_pending_clean).
	 * Saved again once the namespace exists, with its identity (device, inode).
	 */
	if (ct->mode == CTR_MODE_BRIDGE || ct->mode == CTR_MODE_NONE) {
		snprintf(ct->nsname, sizeof(ct->nsname), CTR_NETNS_PREFIX "%s", ct->name);
		netns_path(ct->nsname, ct->netns, sizeof(ct->netns));
	}
	snprintf(what, sizeof(what), "container %s not created", ct->name);
	ctrs.pending = ct;
	ctrs.pending_rm = false;
	rc = state_commit(what, err, errlen);
	if (rc < 0) {
		ctrs.pending = NULL;
		goto fail_warn;
	}

	/* From here on things are made: every failure unwinds through ctr_teardown. */
	if (ct->mode == CTR_MODE_BRIDGE || ct->mode == CTR_MODE_NONE) {
		char tag[CTR_TAG_LEN];

		ctr_ns_tag(ct->id, tag, sizeof(tag));
		rc = netns_add(ct->nsname, tag);
		if (rc < 0) {
			if (rc == -EEXIST)
				ctl_fail(err, errlen, rc, "namespace %s already exists (see 'ip "
					 "netns'): delete it with 'ip netns del %s' or pick "
					 "another --name", ct->netns, ct->nsname);
			else
				ctl_fail(err, errlen, rc, "cannot create namespace %s: %s",
					 ct->netns, strerror(-rc));
			ct->nsname[0] = '\0'; /* not ours to delete */
			goto fail_teardown;
		}
	} else if (ct->mode == CTR_MODE_CONTAINER) {
		snprintf(ct->netns, sizeof(ct->netns), "%s", target->netns);
		ct->ns_dev = target->ns_dev;
		ct->ns_ino = target->ns_ino;
	}
	if (ct->netns[0] != '\0') {
		nsfd = ctr_nsfd(ct);
		if (nsfd < 0) {
			rc = ctl_fail(err, errlen, nsfd, "cannot open namespace %s: %s", ct->netns,
				      strerror(-nsfd));
			goto fail_teardown;
		}
		if (ct->ns_ino == 0)
			netns_ident(nsfd, &ct->ns_dev, &ct->ns_ino);
	}
	if (ct->nsname[0] != '\0') {
		rc = state_commit(what, err, errlen);
		if (rc < 0)
			goto fail_teardown;
	}
	if (ct->mode == CTR_MODE_BRIDGE) {
		struct ctr_if *f = &ct->ifs[0];

		rc = ctr_if_plan(ct, nsfd, net, want_ip, macstr[0] ? mac : NULL, kind, f, err,
				 errlen);
		if (rc < 0)
			goto fail_teardown;
		rc = ctr_if_realize(ct, nsfd, f, false, err, errlen);
		if (rc < 0) {
			ctr_pool_free(f->net_id, f->ip);
			goto fail_teardown;
		}
		ct->n_ifs = 1;
	} else if (ct->mode == CTR_MODE_NONE) {
		struct ctr_nsjob job = { .ifname = NULL };

		rc = netns_run(nsfd, ctr_ns_configure, &job);
		if (rc < 0) {
			ctl_fail(err, errlen, rc, "cannot set lo up in %s: %s", ct->netns,
				 strerror(-rc));
			goto fail_teardown;
		}
	}
	if (ct->mode == CTR_MODE_HOST || ct->mode == CTR_MODE_NONE) {
		rc = net_endpoint_add(c->nets, net, ct->id, ct->name, 0, NULL, err, errlen);
		if (rc < 0)
			goto fail_teardown;
	}
	if (nsfd >= 0) {
		close(nsfd);
		nsfd = -1;
	}
	if (detach && ct->cmd != NULL) {
		rc = ctr_spawn(ct, err, errlen);
		if (rc < 0)
			goto fail_teardown;
	}
	ctrs.list[ctrs.n++] = ct;
	ctrs.pending = NULL;
	if (ct->n_maps > 0) {
		rc = ctl_nat_sync(c, err, errlen);
		if (rc < 0) {
			ctrs.n--;
			goto fail_teardown;
		}
		if (ctr_pub_internal(ct)) {
			/* Docker publishes nothing there either, silently: say it. */
			char w[256];

			snprintf(w, sizeof(w), "WARNING: Published ports are not reachable: "
				 "network %s is internal (--internal), no DNAT rules are made",
				 ct->ifs[0].net_name);
			json_array_append_new(warnings, json_string(w));
			CTL_LOG(NOTICE, "container %s: its published ports are not published: "
				"network %s is internal", ct->name, ct->ifs[0].net_name);
		}
	}
	rc = state_commit(what, err, errlen);
	if (rc < 0) {
		char why[512];

		ctrs.n--;
		if (ct->n_maps > 0 && ctl_nat_sync(c, why, sizeof(why)) < 0)
			CTL_LOG(WARNING, "container %s: its DNAT rules could not be taken back: "
				"%s", ct->name, why);
		goto fail_teardown;
	}
	CTL_LOG(INFO, "container %s created (%s%s%s%s%s)", ct->name, ctr_mode_names[ct->mode],
		ct->n_ifs ? ", " : "", ct->n_ifs ? ct->ifs[0].net_name : "",
		ct->n_ifs ? " via " : "", ct->n_ifs ? ctr_attach_names[ct->ifs[0].attach] : "");
	*result = ctr_json(ct);
	if (*result != NULL) {
		json_object_set_new(*result, "warnings", warnings);
		warnings = NULL;
	}
	json_decref(warnings);
	return 0;

fail_teardown:
	ctrs.pending = NULL;
	if (nsfd >= 0)
		close(nsfd);
	if (ct->pid > 0 && !ct->pid_child)
		ct->pid = 0; /* the client's process: not ours to stop */
	ctr_teardown(ct);
fail_warn:
	json_decref(warnings);
fail_free:
	ctr_free(ct);
	return rc;
}

/* ---------------------------------------------------------------- connect */

/* True when fd is the namespace dpnetd itself runs in (the host's). */
static bool
ctr_is_own_netns(int fd)
{
	uint64_t dev, ino, my_dev, my_ino;
	int self = netns_open("/proc/self/ns/net");
	bool same;

	if (self < 0)
		return false;
	same = netns_ident(fd, &dev, &ino) == 0 && netns_ident(self, &my_dev, &my_ino) == 0 &&
	       dev == my_dev && ino == my_ino;
	close(self);
	return same;
}

int
ctl_ctr_connect(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	static const char *const allowed[] = {
		"network", "name", "ip", "netns", "attach", NULL,
	};
	char network[CFG_NET_NAME_MAX + 16], name[CTR_NAME_MAX], ipstr[64], path[PATH_MAX];
	char what[CTR_NAME_MAX + CFG_NET_NAME_MAX + 64];
	enum ctr_attach kind;
	struct ctr *ct, *made = NULL;
	struct ctr_if *f;
	struct net *n;
	uint32_t want_ip = 0;
	int nsfd = -1, rc;

	ctr_tick();
	rc = ctl_args_allowed(args, "container.connect", allowed, err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "network", true, network, sizeof(network), err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "name", true, name, sizeof(name), err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "ip", false, ipstr, sizeof(ipstr), err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "netns", false, path, sizeof(path), err, errlen);
	if (rc == 0)
		rc = ctr_arg_attach(args, &kind, err, errlen);
	if (rc < 0)
		return rc;
	n = net_find(c->nets, network);
	if (n == NULL)
		return ctl_fail(err, errlen, -ENOENT, "network %s not found: see 'dpctl network "
				"ls'", network);
	if (n->driver == NET_DRIVER_HOST)
		return ctl_fail(err, errlen, -EINVAL, "container cannot be disconnected from host "
				"network or connected to host network");
	if (n->driver != NET_DRIVER_BRIDGE)
		return ctl_fail(err, errlen, -EINVAL, "container cannot be connected to multiple "
				"networks with one of the networks in private (none) mode");
	if (ipstr[0] != '\0' && cfg_parse_ip(ipstr, &want_ip) < 0)
		return ctl_fail(err, errlen, -EINVAL, "invalid IPv4 address \"%s\" for --ip: "
				"write it as a.b.c.d", ipstr);
	ct = ctr_find(name);
	if (ct == NULL && path[0] == '\0')
		return ctl_fail(err, errlen, -ENOENT, "No such container: %s: see 'dpctl ps', or "
				"attach a namespace made elsewhere with --netns PATH", name);
	if (ct != NULL && path[0] != '\0') {
		uint64_t dev = 0, ino = 0;
		int fd = netns_open(path);

		if (fd >= 0) {
			netns_ident(fd, &dev, &ino);
			close(fd);
		}
		if (fd < 0 || dev != ct->ns_dev || ino != ct->ns_ino)
			return ctl_fail(err, errlen, -EEXIST, "container %s exists with namespace "
					"%s: leave out --netns, or pick another name", ct->name,
					ct->netns[0] ? ct->netns : "(host)");
	}
	if (ct == NULL) {
		/* A namespace made by another runtime becomes a container record. */
		if (ctrs.n == CTR_MAX)
			return ctl_fail(err, errlen, -ENOSPC, "too many containers (%d)", CTR_MAX);
		rc = ctr_check_name(name, err, errlen);
		if (rc < 0)
			return rc;
		if (path[0] != '/')
			return ctl_fail(err, errlen, -EINVAL, "--netns %s is not an absolute path: "
					"give one such as /proc/PID/ns/net or /run/netns/NAME",
					path);
		nsfd = netns_open(path);
		if (nsfd < 0)
			return ctl_fail(err, errlen, nsfd, "%s is not a network namespace "
					"(%s): give a path such as /proc/PID/ns/net or "
					"/run/netns/NAME", path, strerror(-nsfd));
		if (ctr_is_own_netns(nsfd)) {
			close(nsfd);
			return ctl_fail(err, errlen, -EINVAL, "%s is the host's own namespace "
					"(dpnetd's): a container there would put its interface "
					"on the host; use 'dpctl run --network host' instead", path);
		}
		made = calloc(1, sizeof(*made));
		if (made == NULL) {
			close(nsfd);
			return -ENOMEM;
		}
		ct = made;
		ct->exit_code = -1;
		snprintf(ct->name, sizeof(ct->name), "%s", name);
		snprintf(ct->netns, sizeof(ct->netns), "%s", path);
		netns_ident(nsfd, &ct->ns_dev, &ct->ns_ino);
		ct->mode = CTR_MODE_BRIDGE;
		snprintf(ct->mode_ref, sizeof(ct->mode_ref), "%s", n->name);
		ct->created_ns = ctl_now_ns();
		ctl_random_hex(ct->id, CTR_ID_LEN);
	} else {
		if (ct->mode == CTR_MODE_HOST)
			return ctl_fail(err, errlen, -EINVAL, "container cannot be disconnected "
					"from host network or connected to host network");
		if (ct->mode == CTR_MODE_CONTAINER)
			return ctl_fail(err, errlen, -EINVAL, "container sharing network namespace "
					"with another container or host cannot be connected to "
					"any other network");
		if (ct->mode == CTR_MODE_NONE)
			return ctl_fail(err, errlen, -EINVAL, "container cannot be connected to "
					"multiple networks with one of the networks in private "
					"(none) mode");
		for (unsigned int i = 0; i < ct->n_ifs; i++)
			if (strcmp(ct->ifs[i].net_id, n->id) == 0)
				return ctl_fail(err, errlen, -EEXIST, "endpoint with name %s "
						"already exists in network %s", ct->name,
						n->name);
		nsfd = ctr_nsfd(ct);
		if (nsfd < 0)
			return ctl_fail(err, errlen, nsfd, "cannot open the namespace %s of "
					"container %s: %s", ct->netns, ct->name,
					strerror(-nsfd));
	}
	f = &ct->ifs[ct->n_ifs];
	rc = ctr_if_plan(ct, nsfd, n, want_ip, NULL, kind, f, err, errlen);
	if (rc == 0) {
		rc = ctr_if_realize(ct, nsfd, f, false, err, errlen);
		if (rc < 0)
			ctr_pool_free(f->net_id, f->ip);
	}
	close(nsfd);
	if (rc < 0) {
		ctr_free(made);
		return rc;
	}
	ct->n_ifs++;
	if (made != NULL)
		ctrs.list[ctrs.n++] = made;
	ctr_nat_resync(c, ct);
	snprintf(what, sizeof(what), "container %s not connected to %s", ct->name, n->name);
	rc = state_commit(what, err, errlen);
	if (rc < 0) {
		/* As a disconnect of the interface just made. */
		struct ctr_if gone = *f;

		if (made != NULL)
			ctrs.n--;
		ct->n_ifs--;
		ctr_if_unrealize(ct, &gone);
		ctr_pool_free(gone.net_id, gone.ip);
		if (gone.gw_route)
			ctr_reroute(ct);
		ctr_nat_resync(c, ct);
		ctr_nat_forget(&gone, 1);
		ctr_free(made);
		return rc;
	}
	CTL_LOG(INFO, "container %s connected to %s (%s, %s)", ct->name, n->name, f->ifname,
		ctr_attach_names[f->attach]);
	*result = ctr_json(ct);
	return 0;
}

/* ---------------------------------------------------------------- disconnect */

int
ctl_ctr_disconnect(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	static const char *const allowed[] = { "network", "name", "force", NULL };
	char network[CFG_NET_NAME_MAX + 16], name[CTR_NAME_MAX + 16];
	char what[CTR_NAME_MAX + CFG_NET_NAME_MAX + 64];
	struct ctr_if gone;
	struct ctr *ct;
	struct net *n;
	bool force;
	unsigned int i;
	int rc;

	ctr_tick();
	rc = ctl_args_allowed(args, "container.disconnect", allowed, err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "network", true, network, sizeof(network), err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "name", true, name, sizeof(name), err, errlen);
	if (rc == 0)
		rc = ctr_arg_bool(args, "force", &force, err, errlen);
	if (rc < 0)
		return rc;
	/* Docker's -f forces the disconnect of a stopped or broken container; dpnet
	 * never refuses those, so it is accepted (scripts pass it) and changes nothing. */
	(void)force;
	ct = ctr_find(name);
	if (ct == NULL)
		return ctl_fail(err, errlen, -ENOENT, "No such container: %s: see 'dpctl ps'",
				name);
	n = net_find(c->nets, network);
	if (n == NULL)
		return ctl_fail(err, errlen, -ENOENT, "network %s not found: see 'dpctl network "
				"ls'", network);
	if (ct->mode == CTR_MODE_HOST && n->driver == NET_DRIVER_HOST)
		return ctl_fail(err, errlen, -EINVAL, "container cannot be disconnected from host "
				"network or connected to host network");
	for (i = 0; i < ct->n_ifs; i++)
		if (strcmp(ct->ifs[i].net_id, n->id) == 0)
			break;
	if (i == ct->n_ifs)
		return ctl_fail(err, errlen, -ENOENT, "container %s is not connected to network "
				"%s", ct->name, n->name);
	/* Saved first, without the interface: a disconnect that cannot be saved is
	 * refused before anything goes. */
	gone = ct->ifs[i];
	memmove(&ct->ifs[i], &ct->ifs[i + 1], (ct->n_ifs - i - 1) * sizeof(ct->ifs[0]));
	ct->n_ifs--;
	snprintf(what, sizeof(what), "container %s not disconnected from %s", ct->name,
		 n->name);
	ctl_mac_state_hide(gone.port);
	rc = state_commit(what, err, errlen);
	ctl_mac_state_hide(NULL);
	if (rc < 0) {
		memmove(&ct->ifs[i + 1], &ct->ifs[i], (ct->n_ifs - i) * sizeof(ct->ifs[0]));
		ct->ifs[i] = gone;
		ct->n_ifs++;
		return rc;
	}
	ctr_if_unrealize(ct, &gone);
	ctr_pool_free(gone.net_id, gone.ip);
	if (gone.gw_route)
		ctr_reroute(ct);
	ctr_nat_resync(c, ct);
	ctr_nat_forget(&gone, 1);
	/* Static MACs behind its port went with it, the default route may have moved:
	 * saved again (a failure is logged; a restart would only drop those MACs). */
	state_save();
	CTL_LOG(INFO, "container %s disconnected from %s (%s)", ct->name, n->name, gone.ifname);
	*result = ctr_json(ct);
	return 0;
}

/* ---------------------------------------------------------------- ps, port, rm */

int
ctl_ctr_ps(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	static const char *const allowed[] = { NULL };
	json_t *arr;
	int rc;

	(void)c;
	ctr_tick();
	rc = ctl_args_allowed(args, "container.ps", allowed, err, errlen);
	if (rc < 0)
		return rc;
	arr = json_array();
	if (arr == NULL)
		return -ENOMEM;
	/* Newest first, as docker ps. */
	for (unsigned int i = ctrs.n; i > 0; i--) {
		json_t *o = ctr_json(ctrs.list[i - 1]);

		if (o == NULL || json_array_append_new(arr, o) < 0) {
			json_decref(arr);
			return -ENOMEM;
		}
	}
	*result = arr;
	return 0;
}

int
ctl_ctr_port(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	static const char *const allowed[] = { "name", NULL };
	char name[CTR_NAME_MAX + 16];
	struct ctr *ct;
	int rc;

	(void)c;
	rc = ctl_args_allowed(args, "container.port", allowed, err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "name", true, name, sizeof(name), err, errlen);
	if (rc < 0)
		return rc;
	ct = ctr_find(name);
	if (ct == NULL)
		return ctl_fail(err, errlen, -ENOENT, "No such container: %s: see 'dpctl ps'",
				name);
	*result = json_pack("{s:s, s:s, s:o}", "name", ct->name, "nat", ctr_nat_state(ct),
			    "ports", ctr_maps_json(ct));
	return *result != NULL ? 0 : -ENOMEM;
}

int
ctl_ctr_rm(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	static const char *const allowed[] = { "name", "force", NULL };
	char name[CTR_NAME_MAX + 16], what[CTR_NAME_MAX + 64];
	static struct ctr_if ifs[CTR_MAX_IFS];
	pid_t pids[8];
	struct ctr *ct;
	bool force;
	unsigned int n_other, n_ifs, at;
	int rc;

	ctr_tick();
	rc = ctl_args_allowed(args, "container.rm", allowed, err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "name", true, name, sizeof(name), err, errlen);
	if (rc == 0)
		rc = ctr_arg_bool(args, "force", &force, err, errlen);
	if (rc < 0)
		return rc;
	ct = ctr_find(name);
	if (ct == NULL)
		return ctl_fail(err, errlen, -ENOENT, "No such container: %s: see 'dpctl ps'",
				name);
	for (unsigned int i = 0; i < ctrs.n; i++)
		if (ctrs.list[i]->mode == CTR_MODE_CONTAINER &&
		    strcmp(ctrs.list[i]->mode_ref, ct->name) == 0)
			return ctl_fail(err, errlen, -EBUSY, "container %s shares its network "
					"namespace with %s: remove %s first", ct->name,
					ctrs.list[i]->name, ctrs.list[i]->name);
	n_other = ctr_others(ct, pids, 8);
	if (!force && ctr_alive(ct))
		return ctl_fail(err, errlen, -EBUSY, "You cannot remove a running container %s "
				"(pid %d). Stop the container before attempting removal or force "
				"remove: 'dpctl rm -f %s'", ct->name, (int)ct->pid, ct->name);
	if (!force && n_other > 0)
		return ctl_fail(err, errlen, -EBUSY, "You cannot remove container %s: process%s "
				"%d%s still run%s in its namespace; stop them or force remove: "
				"'dpctl rm -f %s'", ct->name, n_other > 1 ? "es" : "",
				(int)pids[0], n_other > 1 ? " and others" : "",
				n_other > 1 ? "" : "s", ct->name);
	/* Its rules go first, so that no new connection reaches it while it goes. */
	at = ctr_list_del(ct);
	if (ct->n_maps > 0) {
		rc = ctl_nat_sync(c, err, errlen);
		if (rc < 0) {
			ctr_list_put(ct, at);
			return rc;
		}
	}
	/* Saved first, without it and the static MACs behind its ports (pending: a
	 * crash during the teardown leaves nothing of it after a restart); refused
	 * when that cannot be written. Its namespace is tagged first if a dpnetd
	 * before the tags made it, so that a restart can tell it is ours. */
	ctr_ns_tag_ensure(ct);
	snprintf(what, sizeof(what), "container %s not removed", ct->name);
	ctrs.pending = ct;
	ctrs.pending_rm = true;
	for (unsigned int i = 0; i < ct->n_ifs; i++)
		ctl_mac_state_hide(ct->ifs[i].port);
	rc = state_commit(what, err, errlen);
	ctl_mac_state_hide(NULL);
	ctrs.pending = NULL;
	if (rc < 0) {
		char why[512];

		ctr_list_put(ct, at);
		if (ct->n_maps > 0 && ctl_nat_sync(c, why, sizeof(why)) < 0)
			CTL_LOG(WARNING, "container %s: its DNAT rules could not come back: %s",
				ct->name, why);
		return rc;
	}
	n_ifs = ct->n_ifs;
	memcpy(ifs, ct->ifs, n_ifs * sizeof(ifs[0]));
	ctr_teardown(ct);
	ctr_nat_forget(ifs, n_ifs);
	/* Static MACs behind its ports went with them; the pending entry is done. */
	state_save();
	CTL_LOG(INFO, "container %s removed", ct->name);
	*result = json_pack("{s:s, s:s}", "name", ct->name, "id", ct->id);
	ctr_free(ct);
	return 0;
}

/* ---------------------------------------------------------------- lifecycle */

void
ctr_tick(void)
{
	for (unsigned int i = 0; i < ctrs.n; i++)
		ctr_reap(ctrs.list[i]);
}

static json_t *
ctr_state_dump_cb(void *arg)
{
	(void)arg;
	return ctr_state_dump();
}

static int
ctr_state_restore_cb(void *arg, json_t *val, char *err, size_t errlen)
{
	(void)arg;
	return ctr_state_restore(val, err, errlen);
}

static json_t *
ctr_pending_dump_cb(void *arg)
{
	(void)arg;
	return ctr_pending_dump();
}

static int
ctr_pending_restore_cb(void *arg, json_t *val, char *err, size_t errlen)
{
	(void)arg;
	return ctr_pending_restore(val, err, errlen);
}

const char *
ctr_attach_default_name(void)
{
	return ctr_attach_names[ctrs.attach_default];
}

int
ctr_init(struct ctl *c)
{
	int rc;

	ctrs.c = c;
	/* The default attachment, if this kernel can carry it (vtap.h: Linux
	 * 5.19 or later); else veth, said once in the log and in `dpctl status`. */
	ctrs.attach_default = CTR_ATTACH_DEFAULT;
	if (CTR_ATTACH_DEFAULT == CTR_ATTACH_VTAP) {
		char why[256];

		if (vtap_probe(why, sizeof(why)) < 0) {
			ctrs.attach_default = CTR_ATTACH_VETH;
			CTL_LOG(WARNING, "containers attach with veth by default: a vtap is not "
				"possible here (%s); `--attach vtap` will be refused", why);
		}
	}
	rc = state_register("containers", STATE_ORDER_CONTAINERS, ctr_state_dump_cb,
			    ctr_state_restore_cb, NULL);
	if (rc == 0)
		rc = state_register("pending", STATE_ORDER_PENDING, ctr_pending_dump_cb,
				    ctr_pending_restore_cb, NULL);
	return rc;
}

void
ctr_fini(void)
{
	for (unsigned int i = 0; i < ctrs.n; i++)
		ctr_free(ctrs.list[i]);
	ctrs.n = 0;
	for (unsigned int i = 0; i < NET_MAX; i++) {
		ipam_fini(&ctrs.pools[i].ipam);
		ctrs.pools[i].net_id[0] = '\0';
	}
}

