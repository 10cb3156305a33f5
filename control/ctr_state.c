/*
 * ctr_state.c - the "containers" section of the state file: every container
 * with its namespace (path and identity), process (pid and start time),
 * interfaces (network id, address, MAC, names, attachment) and port maps.
 *
 * Restoring re-attaches what is still there: a namespace that still exists and
 * is still the same (device and inode) gets its interfaces back with the same
 * addresses and MACs (a veth whose host end survived gets its afpacket port
 * again; a TAP, which died with the old daemon's descriptor, is made anew and
 * moved in); a container whose namespace is gone is dropped with a log line and
 * its leftovers removed. Owners of namespaces come back before the containers
 * that share them; the registry keeps creation order.
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

/* ---------------------------------------------------------------- state */

static json_t *
ctr_dump_one(const struct ctr *ct)
{
	json_t *ifs = json_array(), *maps = json_array(), *exps = json_array(), *o;
	char ip[16], gw[16], mac[32];

	for (unsigned int i = 0; i < ct->n_ifs; i++) {
		const struct ctr_if *f = &ct->ifs[i];

		json_array_append_new(ifs, json_pack(
			"{s:s, s:s, s:s, s:i, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:b}",
			"network_id", f->net_id, "network", f->net_name,
			"ip", cfg_format_ip(f->ip, ip, sizeof(ip)), "prefix_len", f->prefix_len,
			"gateway", cfg_format_ip(f->gateway, gw, sizeof(gw)), "mtu", f->mtu,
			"mac", ctl_format_mac(f->mac, mac, sizeof(mac)), "interface", f->ifname,
			"port", f->port, "host_interface", f->host_if,
			"attach", ctr_attach_names[f->attach], "default_route", f->gw_route));
	}
	for (unsigned int i = 0; i < ct->n_maps; i++) {
		const struct pm_map *m = &ct->maps[i];

		json_array_append_new(maps, json_pack("{s:s, s:i, s:i, s:s}",
			"host_ip", cfg_format_ip(m->host_ip, ip, sizeof(ip)),
			"host_port", m->host_port, "container_port", m->ctr_port,
			"proto", pm_proto_name(m->proto)));
	}
	for (unsigned int i = 0; i < ct->n_exps; i++)
		json_array_append_new(exps, json_pack("{s:i, s:s}", "port", ct->exps[i].port,
						      "proto", pm_proto_name(ct->exps[i].proto)));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:i, s:I, s:b, s:b, s:O,"
		      " s:I, s:o, s:o, s:o}",
		      "id", ct->id, "name", ct->name, "mode", ctr_mode_names[ct->mode],
		      "mode_ref", ct->mode_ref, "netns", ct->netns, "nsname", ct->nsname,
		      "ns_dev", (json_int_t)ct->ns_dev, "ns_ino", (json_int_t)ct->ns_ino,
		      "pid", (int)ct->pid, "pid_start", (json_int_t)ct->pid_start,
		      "pid_group", ct->pid_group, "detach", ct->detach,
		      "cmd", ct->cmd != NULL ? ct->cmd : json_null(),
		      "created", (json_int_t)ct->created_ns, "interfaces", ifs,
		      "published", maps, "exposed", exps);
	return o;
}

json_t *
ctr_state_dump(void)
{
	json_t *arr = json_array();

	for (unsigned int i = 0; arr != NULL && i < ctrs.n; i++) {
		json_t *o = ctr_dump_one(ctrs.list[i]);

		if (o == NULL || json_array_append_new(arr, o) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static const char *
ctr_jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

static int
ctr_mode_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, ctr_mode_names[i]) == 0)
			return i;
	return -1;
}

/* A saved interface back into f; false if it is unusable. */
static bool
ctr_load_if(json_t *o, struct ctr_if *f)
{
	const char *att = ctr_jstr(o, "attach");

	memset(f, 0, sizeof(*f));
	if (strlen(ctr_jstr(o, "network_id")) > NET_FULL_ID_LEN ||
	    strlen(ctr_jstr(o, "interface")) >= IFNAMSIZ ||
	    strlen(ctr_jstr(o, "host_interface")) >= IFNAMSIZ ||
	    strlen(ctr_jstr(o, "port")) >= PORT_NAME_MAX ||
	    cfg_parse_ip(ctr_jstr(o, "ip"), &f->ip) < 0 ||
	    ipam_parse_mac(ctr_jstr(o, "mac"), f->mac) < 0)
		return false;
	snprintf(f->net_id, sizeof(f->net_id), "%s", ctr_jstr(o, "network_id"));
	snprintf(f->net_name, sizeof(f->net_name), "%s", ctr_jstr(o, "network"));
	snprintf(f->ifname, sizeof(f->ifname), "%s", ctr_jstr(o, "interface"));
	snprintf(f->host_if, sizeof(f->host_if), "%s", ctr_jstr(o, "host_interface"));
	snprintf(f->port, sizeof(f->port), "%s", ctr_jstr(o, "port"));
	f->attach = strcmp(att, "tap") == 0 ? CTR_ATTACH_TAP :
		strcmp(att, "vtap") == 0 ? CTR_ATTACH_VTAP : CTR_ATTACH_VETH;
	f->gw_route = json_is_true(json_object_get(o, "default_route"));
	return f->ifname[0] != '\0' && f->port[0] != '\0' && f->host_if[0] != '\0';
}

/* Re-attach one interface of a restored container; false (logged) if it cannot be. */
static bool
ctr_restore_if(struct ctr *ct, int nsfd, struct ctr_if *f)
{
	struct net *n = net_find(ctrs.c->nets, f->net_id);
	char err[512];
	struct ipam *pool;
	int rc;

	if (n == NULL || n->driver != NET_DRIVER_BRIDGE) {
		CTL_LOG(NOTICE, "container %s: network %s is gone; %s dropped", ct->name,
			f->net_name, f->ifname);
		return false;
	}
	/* The network's present parameters win (they are what its gateway uses). */
	snprintf(f->net_name, sizeof(f->net_name), "%s", n->name);
	f->prefix_len = n->prefix_len;
	f->gateway = n->gateway;
	f->mtu = n->mtu != 0 ? n->mtu : NET_MTU_DEFAULT;
	pool = ctr_pool(n, err, sizeof(err));
	if (pool == NULL || ipam_take(pool, f->ip, err, sizeof(err)) < 0) {
		CTL_LOG(WARNING, "container %s: %s cannot keep its address: %s; dropped",
			ct->name, f->ifname, err);
		return false;
	}
	rc = ctr_if_realize(ct, nsfd, f, true, err, sizeof(err));
	if (rc < 0) {
		ipam_free(pool, f->ip);
		CTL_LOG(WARNING, "container %s: cannot re-attach %s to %s: %s", ct->name,
			f->ifname, n->name, err);
		return false;
	}
	return true;
}

/* One saved container; NULL (logged, cleaned up) when it cannot come back. */
static struct ctr *
ctr_restore_one(json_t *o)
{
	struct ctr *ct = calloc(1, sizeof(*ct));
	json_t *ifs = json_object_get(o, "interfaces"), *v;
	int mode = ctr_mode_parse(ctr_jstr(o, "mode"));
	char err[512];
	size_t i;
	int nsfd = -1;

	if (ct == NULL)
		return NULL;
	ct->exit_code = -1;
	if (mode < 0 || !cfg_name_valid(ctr_jstr(o, "name"), CTR_NAME_MAX) ||
	    strlen(ctr_jstr(o, "id")) != CTR_ID_LEN || ctr_name_taken(ctr_jstr(o, "name"))) {
		CTL_LOG(WARNING, "state: a saved container is malformed or a duplicate: skipped");
		ctr_free(ct);
		return NULL;
	}
	snprintf(ct->id, sizeof(ct->id), "%s", ctr_jstr(o, "id"));
	snprintf(ct->name, sizeof(ct->name), "%s", ctr_jstr(o, "name"));
	ct->mode = (enum ctr_mode)mode;
	snprintf(ct->mode_ref, sizeof(ct->mode_ref), "%s", ctr_jstr(o, "mode_ref"));
	snprintf(ct->netns, sizeof(ct->netns), "%s", ctr_jstr(o, "netns"));
	snprintf(ct->nsname, sizeof(ct->nsname), "%s", ctr_jstr(o, "nsname"));
	ct->ns_dev = (uint64_t)json_integer_value(json_object_get(o, "ns_dev"));
	ct->ns_ino = (uint64_t)json_integer_value(json_object_get(o, "ns_ino"));
	ct->pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
	ct->pid_start = (uint64_t)json_integer_value(json_object_get(o, "pid_start"));
	ct->pid_group = json_is_true(json_object_get(o, "pid_group"));
	ct->detach = json_is_true(json_object_get(o, "detach"));
	ct->created_ns = (uint64_t)json_integer_value(json_object_get(o, "created"));
	v = json_object_get(o, "cmd");
	if (json_is_array(v) && json_array_size(v) > 0)
		ct->cmd = json_deep_copy(v);
	ct->maps = calloc(PM_MAX, sizeof(*ct->maps));
	ct->exps = calloc(PM_MAX, sizeof(*ct->exps));
	if (ct->maps == NULL || ct->exps == NULL) {
		ctr_free(ct);
		return NULL;
	}
	json_array_foreach(json_object_get(o, "published"), i, v) {
		struct pm_map *m = &ct->maps[ct->n_maps];

		if (ct->n_maps == PM_MAX || cfg_parse_ip(ctr_jstr(v, "host_ip"), &m->host_ip) < 0)
			continue;
		m->host_port = (uint16_t)json_integer_value(json_object_get(v, "host_port"));
		m->host_lo = m->host_hi = m->host_port;
		m->ctr_port = (uint16_t)json_integer_value(json_object_get(v, "container_port"));
		m->proto = strcmp(ctr_jstr(v, "proto"), "udp") == 0 ? PM_UDP : PM_TCP;
		ct->n_maps++;
	}
	json_array_foreach(json_object_get(o, "exposed"), i, v) {
		if (ct->n_exps == PM_MAX)
			break;
		ct->exps[ct->n_exps].port =
			(uint16_t)json_integer_value(json_object_get(v, "port"));
		ct->exps[ct->n_exps].proto = strcmp(ctr_jstr(v, "proto"), "udp") == 0 ? PM_UDP :
					     PM_TCP;
		ct->n_exps++;
	}
	if (ct->pid > 0 && ctr_proc_start(ct->pid, NULL) != ct->pid_start)
		ct->pid_start = 0; /* it ended while we were down */

	/* The namespace: still there, and still the same one? */
	if (ct->mode == CTR_MODE_CONTAINER) {
		struct ctr *target = ctr_find(ct->mode_ref);

		if (target == NULL || target->ns_ino != ct->ns_ino) {
			CTL_LOG(NOTICE, "container %s: the container %s whose namespace it "
				"shares is gone; cleaned up", ct->name, ct->mode_ref);
			ctr_free(ct);
			return NULL;
		}
	} else if (ct->mode != CTR_MODE_HOST) {
		nsfd = ctr_nsfd(ct);
		if (nsfd < 0) {
			CTL_LOG(NOTICE, "container %s: its namespace %s is gone; cleaned up",
				ct->name, ct->netns);
			json_array_foreach(ifs, i, v) {
				struct ctr_if f;

				if (ctr_load_if(v, &f) && f.attach == CTR_ATTACH_VETH)
					nl_link_del(f.host_if); /* normally gone already */
			}
			if (ct->nsname[0] != '\0' && nsfd != -ESTALE)
				netns_del(ct->nsname); /* a leftover file, if any */
			ctr_free(ct);
			return NULL;
		}
		if (ct->mode == CTR_MODE_NONE) {
			struct ctr_nsjob job = { .ifname = NULL };

			netns_run(nsfd, ctr_ns_configure, &job);
		}
	}
	json_array_foreach(ifs, i, v) {
		struct ctr_if *f = &ct->ifs[ct->n_ifs];

		if (ct->n_ifs == CTR_MAX_IFS || ct->mode != CTR_MODE_BRIDGE)
			break;
		if (!ctr_load_if(v, f)) {
			CTL_LOG(WARNING, "container %s: a saved interface is malformed: skipped",
				ct->name);
			continue;
		}
		if (ctr_restore_if(ct, nsfd, f)) {
			ct->n_ifs++;
		} else if (f->attach == CTR_ATTACH_VETH) {
			nl_link_del(f->host_if);
		}
	}
	if (nsfd >= 0)
		close(nsfd);
	if (ct->mode == CTR_MODE_HOST || ct->mode == CTR_MODE_NONE) {
		struct net *n = net_find(ctrs.c->nets, ct->mode == CTR_MODE_HOST ? "host" : "none");

		if (n != NULL)
			net_endpoint_add(ctrs.c->nets, n, ct->id, ct->name, 0, NULL, err,
					 sizeof(err));
	}
	CTL_LOG(INFO, "container %s restored (%s, %u interface%s%s)", ct->name,
		ctr_mode_names[ct->mode], ct->n_ifs, ct->n_ifs == 1 ? "" : "s",
		ctr_alive(ct) ? ", process running" : "");
	return ct;
}

static int
ctr_cmp_created(const void *a, const void *b)
{
	const struct ctr *x = *(const struct ctr *const *)a, *y = *(const struct ctr *const *)b;

	return x->created_ns < y->created_ns ? -1 : x->created_ns > y->created_ns;
}

int
ctr_state_restore(json_t *val, char *err, size_t errlen)
{
	size_t i;
	json_t *o;

	if (!json_is_array(val))
		return ctl_fail(err, errlen, -EINVAL, "the containers section is not a list");
	/* Owners of namespaces first, then those that share them (container:NAME). */
	for (int pass = 0; pass < 2; pass++) {
		json_array_foreach(val, i, o) {
			bool shares = strcmp(ctr_jstr(o, "mode"), "container") == 0;
			struct ctr *ct;

			if (shares != (pass == 1))
				continue;
			if (ctrs.n == CTR_MAX)
				break;
			ct = ctr_restore_one(o);
			if (ct != NULL)
				ctrs.list[ctrs.n++] = ct;
		}
	}
	/* Creation order, as before the restart (ps lists newest first). */
	qsort(ctrs.list, ctrs.n, sizeof(ctrs.list[0]), ctr_cmp_created);
	return 0;
}


/* ---------------------------------------------------------------- pending */

/*
 * The "pending" section: the container a `run` was making (saved before its
 * namespace is made, with the namespace's name, and again with its identity
 * once it exists) or an `rm` was removing (saved, without the container, before
 * the teardown). After a crash, a restart removes what was made of it: the
 * processes in its namespace and the namespace itself - only when dpnet-NAME
 * is still the one this daemon made for that container: its lo's alias is
 * "dpnet:<the container's id>" (set before the name exists: netns_add), and its
 * device and inode are the saved ones when those were saved. The inode alone
 * proves nothing (the kernel reuses those of freed namespaces), and several
 * daemons with other state directories may use dpnet-* names: a namespace that
 * cannot be proved ours is left alone, with a warning. A detached process the
 * run had spawned is stopped wherever it runs - the host's namespace too - by
 * the container's id in its environment (CTR_ENV_TAG): the save that would
 * have recorded its pid is the one the crash prevented.
 */
json_t *
ctr_pending_dump(void)
{
	json_t *arr = json_array(), *o;

	if (arr == NULL || ctrs.pending == NULL)
		return arr;
	o = ctr_dump_one(ctrs.pending);
	if (o == NULL ||
	    json_object_set_new(o, "pending", json_string(ctrs.pending_rm ? "rm" : "run")) < 0 ||
	    json_array_append_new(arr, o) < 0) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

/* Remove what a crashed run or rm left of one container. */
static void
ctr_pending_clean(json_t *o)
{
	const char *name = ctr_jstr(o, "name"), *nsname = ctr_jstr(o, "nsname");
	const char *id = ctr_jstr(o, "id");
	bool rm = strcmp(ctr_jstr(o, "pending"), "rm") == 0;
	uint64_t dev = 0, ino = 0, want_dev, want_ino;
	char ours[NAME_MAX], log[CFG_PATH_MAX + 128];
	const char *done = "nothing of it was left";
	char stopped[128];
	unsigned int tagged;
	struct ctr *ct;
	int fd, rc;

	if (!cfg_name_valid(name, CTR_NAME_MAX) || ctr_name_taken(name))
		return; /* malformed, or a container of that name was restored: not a leftover */
	ct = calloc(1, sizeof(*ct));
	if (ct == NULL)
		return;
	ct->exit_code = -1;
	snprintf(ct->name, sizeof(ct->name), "%s", name);
	if (rm) {
		/* Its own process too (rm stops it); a run's pid is its client's. */
		ct->pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
		ct->pid_start = (uint64_t)json_integer_value(json_object_get(o, "pid_start"));
		ct->pid_group = json_is_true(json_object_get(o, "pid_group"));
	}
	want_dev = (uint64_t)json_integer_value(json_object_get(o, "ns_dev"));
	want_ino = (uint64_t)json_integer_value(json_object_get(o, "ns_ino"));
	snprintf(ours, sizeof(ours), CTR_NETNS_PREFIX "%s", name);
	fd = nsname[0] != '\0' && strcmp(nsname, ours) == 0 ? netns_open(ours) : -ENOENT;
	if (fd >= 0) {
		char tag[CTR_TAG_LEN + 8], want[CTR_TAG_LEN];
		const char *why = NULL;

		netns_ident(fd, &dev, &ino);
		if (strlen(id) != CTR_ID_LEN) {
			why = "no container id was saved";
		} else {
			ctr_ns_tag(id, want, sizeof(want));
			if (ctr_ns_tag_get(fd, tag, sizeof(tag)) < 0)
				why = "the alias of its lo cannot be read";
			else if (strcmp(tag, want) != 0)
				why = tag[0] == '\0' ? "its lo has no alias " CTR_TAG_PREFIX "<id>: "
				      "another one has that name now, or the run stopped before "
				      "it was tagged" : "its lo's alias names another container: "
				      "another one has that name now";
			else if (want_ino != 0 && (dev != want_dev || ino != want_ino))
				why = "it is not the inode saved";
		}
		close(fd);
		if (why == NULL) {
			snprintf(ct->nsname, sizeof(ct->nsname), "%s", ours);
			ct->ns_dev = dev;
			ct->ns_ino = ino;
		} else {
			CTL_LOG(WARNING, "container %s: a `%s` of it was cut short, but the "
				"namespace %s is not provably the one this dpnetd made (%s): left "
				"alone; if it is a leftover, delete it with 'ip netns del %s'",
				name, rm ? "rm" : "run", ours, why, ours);
			done = "the namespace of that name was left alone";
		}
	} else if (fd == -EINVAL) {
		/* The file, but no namespace on it: netns_add between its open and mount. */
		CTL_LOG(WARNING, "container %s: a `%s` of it was cut short, and %s/%s is a "
			"file that holds no namespace (a run stopped between making it and "
			"mounting its namespace on it, or someone else's): left alone; if it is "
			"a leftover, delete it with 'ip netns del %s'", name, rm ? "rm" : "run",
			NETNS_RUN_DIR, ours, ours);
		done = "the file of its namespace's name was left alone";
	}
	ctr_stop(ct); /* what runs in our namespace, and an rm's own process */
	/* A detached process spawned before the crash, wherever it runs: the host's
	 * namespace (--network host), another container's, or ours (gone above). */
	tagged = ctr_stop_tagged(id);
	if (tagged > 0 && ct->nsname[0] == '\0') {
		snprintf(stopped, sizeof(stopped), "its process%s (%u, found by %s<id> in "
			 "the environment) %s stopped", tagged > 1 ? "es" : "", tagged,
			 CTR_ENV_TAG, tagged > 1 ? "were" : "was");
		done = stopped;
	}
	if (ct->nsname[0] != '\0') {
		rc = netns_del(ct->nsname);
		if (rc < 0 && rc != -ENOENT)
			CTL_LOG(WARNING, "container %s: cannot delete namespace %s: %s", name,
				ct->nsname, strerror(-rc));
		else
			done = "its namespace and the processes in it were removed";
	}
	ctr_log_path(ct, log, sizeof(log));
	unlink(log);
	CTL_LOG(NOTICE, "container %s: dpnetd stopped during its `%s` (never acknowledged): "
		"%s", name, rm ? "rm" : "run", done);
	ctr_free(ct);
}

int
ctr_pending_restore(json_t *val, char *err, size_t errlen)
{
	size_t i;
	json_t *o;

	if (!json_is_array(val))
		return ctl_fail(err, errlen, -EINVAL, "the pending section is not a list");
	json_array_foreach(val, i, o)
		if (json_is_object(o))
			ctr_pending_clean(o);
	return 0;
}
