/*
 * cluster.c - cluster mode (cluster.h): Flannel's etcd registry.
 *
 * Two halves. The etcd thread (cl_thread) does every etcd call, blocking but
 * bounded (etcd.h): it reads the config, leases our subnet, keeps the lease
 * alive, lists and watches the other hosts, and describes what it found as
 * events (struct cl_event) on a queue. The control thread (ctl_cluster_tick,
 * every 10 ms) takes the queue under the mutex and applies the events: the
 * overlay network, the VXLAN port, vxlan_remote_add/_del. Nothing else is
 * shared, and only under the mutex: the VTEP address (control -> thread, from
 * the uplink) and the thread's status (state, lease, last error).
 *
 * The thread's session (cl_session) runs until something goes wrong; then
 * the thread waits (250 ms doubling to 2 s, reset once registered) and starts
 * again from the config. A session that finds our lease gone (keepalive TTL 0,
 * or our own key deleted) re-registers at once, the same subnet if it is free.
 * Each new registration is followed by a full listing (CL_EV_SNAPSHOT) that
 * replaces control's view, so hosts that left while etcd was away are removed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_log.h>

#include "dataplane/dp.h"
#include "dataplane/vxlan.h"
#include "cluster.h"
#include "ctl.h"
#include "etcd.h"
#include "flannel.h"
#include "network.h"
#include "state.h"
#include "uplink.h"
#include "util.h"
#include "vxlan.h"

#define CL_POLL_MS 200            /* watch wait: the thread sees stop this often */
#define CL_BACKOFF_MIN_MS 250     /* first retry after a failure */
#define CL_BACKOFF_MAX_MS 2000    /* cluster.h: at most 2 s */
#define CL_RETRY_MS 1000          /* config absent or bad, no VTEP address: retry */
#define CL_LEASE_TRIES 16         /* txn races lost in a row before giving up */
#define CL_MAX_HOSTS VXLAN_MAX_PEERS
#define CL_ENSURE_MS 1000         /* control: retry the network this often */
#define CL_LOGGED 64              /* ignored values remembered (logged once each) */

/* One host as etcd describes it. */
struct cl_host {
	uint32_t subnet;           /* its subnet */
	uint8_t len;               /* prefix length */
	uint32_t public_ip;        /* its VTEP address */
	uint8_t mac[6];            /* its VTEP MAC */
};

enum cl_ev_type {
	CL_EV_LEASED,              /* we hold subnet/len of cfg: make the network */
	CL_EV_SNAPSHOT,            /* every other host (replaces the view) */
	CL_EV_PUT,                 /* a host appeared or changed */
	CL_EV_DEL,                 /* a host's lease is gone */
};

struct cl_event {
	struct cl_event *next;     /* queue link */
	enum cl_ev_type type;      /* what happened */
	struct cl_host host;       /* PUT, DEL (subnet/len only), LEASED (ours) */
	struct fl_config cfg;      /* LEASED: the cluster's config */
	struct cl_host *hosts;     /* SNAPSHOT: malloc'ed */
	size_t n_hosts;            /* SNAPSHOT: entries */
};

/* A host control knows about. */
struct cl_remote {
	struct cl_host h;          /* as etcd says */
	bool programmed;           /* vxlan_remote_add succeeded for it */
};

struct cl {
	struct ctl *c;                     /* the daemon */
	const struct cfg_cluster *cfg;     /* cluster: section */
	pthread_t thread;                  /* the etcd thread */
	bool thread_started;               /* pthread_create succeeded */
	atomic_bool stop;                  /* control -> thread: leave */
	struct etcd *etcd;                 /* the thread's client */

	/* Shared, under mu. */
	pthread_mutex_t mu;
	struct cl_event *head, *tail;      /* thread -> control */
	uint32_t vtep_ip;                  /* control -> thread: the uplink address */
	char state[24];                    /* "connecting", "waiting-config", "registered" */
	char last_error[320];              /* the last thing that went wrong, "" if none */
	int64_t lease_id;                  /* our etcd lease, 0 if none */
	int64_t lease_ttl;                 /* its TTL as granted */

	/* The thread's own. */
	uint32_t preferred;                /* subnet to ask for first (restart, state) */
	uint8_t preferred_len;             /* its length, 0: none */
	struct fl_config tcfg;             /* config of the current session */
	uint32_t t_subnet;                 /* the subnet we hold */
	uint8_t t_len;                     /* its length, 0: none */
	uint32_t t_public_ip;              /* what we published */
	uint32_t t_vtep;                   /* the VTEP address our VtepMAC comes from */
	char own_key[FL_KEY_MAX];          /* our key, "" while we hold none */
	int64_t t_lease;                   /* the lease our key is (to be) attached to, 0: none;
	                                    * kept across sessions while etcd keeps it */
	int64_t t_lease_ttl;               /* its TTL as granted */
	char logged_cfg[720];              /* last config complaint logged (log once) */
	struct {
		char key[FL_KEY_MAX];      /* a key whose value we ignored */
		int64_t mod_rev;           /* at this version */
	} logged[CL_LOGGED];               /* logged already (a ring) */
	unsigned int logged_next;          /* next slot of logged */

	/* Control's own. */
	bool leased;                       /* a LEASED event arrived */
	struct fl_config cfgx;             /* its config */
	struct cl_host self;               /* its subnet, our PublicIP and VtepMAC */
	bool net_ok;                       /* the overlay network matches self */
	uint64_t next_ensure_ms;           /* when to try the network again */
	struct cl_remote *remotes;         /* other hosts */
	size_t n_remotes;                  /* entries used */
};

static struct cl *cl_global;

/* ---- shared state ---- */

static void
cl_set_state(struct cl *cl, const char *state)
{
	pthread_mutex_lock(&cl->mu);
	snprintf(cl->state, sizeof(cl->state), "%s", state);
	pthread_mutex_unlock(&cl->mu);
}

static void
cl_set_error(struct cl *cl, const char *msg)
{
	pthread_mutex_lock(&cl->mu);
	snprintf(cl->last_error, sizeof(cl->last_error), "%s", msg);
	pthread_mutex_unlock(&cl->mu);
}

static void
cl_post(struct cl *cl, struct cl_event *ev)
{
	ev->next = NULL;
	pthread_mutex_lock(&cl->mu);
	if (cl->tail != NULL)
		cl->tail->next = ev;
	else
		cl->head = ev;
	cl->tail = ev;
	pthread_mutex_unlock(&cl->mu);
}

static void
cl_event_free(struct cl_event *ev)
{
	free(ev->hosts);
	free(ev);
}

/* Sleep ms, in slices, returning early (true) once stop is set. */
static bool
cl_nap(struct cl *cl, unsigned int ms)
{
	while (ms > 0 && !atomic_load(&cl->stop)) {
		unsigned int step = ms < 100 ? ms : 100;
		struct timespec ts = { 0, (long)step * 1000000L };

		nanosleep(&ts, NULL);
		ms -= step;
	}
	return atomic_load(&cl->stop);
}

static const char *
cl_ip(uint32_t a, char *buf)
{
	return cfg_format_ip(a, buf, 16);
}

/* ---- the etcd thread ---- */

/* Log a value we ignore once per version of its key (it is seen again at
 * every listing). */
static void
cl_log_ignored(struct cl *cl, const struct etcd_kv *kv, const char *why)
{
	for (unsigned int i = 0; i < CL_LOGGED; i++)
		if (cl->logged[i].mod_rev == kv->mod_rev &&
		    strcmp(cl->logged[i].key, kv->key) == 0)
			return;
	snprintf(cl->logged[cl->logged_next].key, sizeof(cl->logged[0].key), "%s", kv->key);
	cl->logged[cl->logged_next].mod_rev = kv->mod_rev;
	cl->logged_next = (cl->logged_next + 1) % CL_LOGGED;
	CTL_LOG(WARNING, "cluster: %.200s: ignored: %s", kv->key, why);
}

/*
 * A kv under <prefix>/subnets/ as a host: 1, 0 when it is to be ignored
 * (logged once per version of the key: malformed, not vxlan).
 */
static int
cl_decode_host(struct cl *cl, const struct etcd_kv *kv, struct cl_host *h)
{
	struct fl_lease l;
	char why[256];

	if (fl_key_parse(cl->cfg->prefix, kv->key, &h->subnet, &h->len) < 0) {
		cl_log_ignored(cl, kv, "not a subnet key (A.B.C.D-LEN)");
		return 0;
	}
	if (fl_lease_parse(kv->value, kv->value_len, &l, why, sizeof(why)) < 0) {
		cl_log_ignored(cl, kv, why);
		return 0;
	}
	h->public_ip = l.public_ip;
	memcpy(h->mac, l.vtep_mac, 6);
	return 1;
}

static bool cl_kv_ours(struct cl *cl, const struct etcd_kv *kv, const struct cl_host *h);

/* Config: 1 when usable (cl->tcfg), 0 when absent or bad (logged once), <0 on etcd errors. */
static int
cl_read_config(struct cl *cl, char *err, size_t errlen)
{
	char key[CFG_ETCD_PREFIX_MAX + 16], why[720];
	struct etcd_kv *kvs;
	int64_t rev;
	size_t n;
	int rc;

	snprintf(key, sizeof(key), "%s/config", cl->cfg->prefix);
	rc = etcd_range(cl->etcd, key, false, &kvs, &n, &rev, err, errlen);
	if (rc < 0)
		return rc;
	if (n == 0)
		snprintf(why, sizeof(why), "%s: absent: put the network config there (Flannel's "
			 "JSON, e.g. {\"Network\": \"10.5.0.0/16\", \"Backend\": {\"Type\": "
			 "\"vxlan\"}})", key);
	else if (fl_config_parse(kvs[0].value, kvs[0].value_len, &cl->tcfg, err, errlen) < 0)
		snprintf(why, sizeof(why), "%s: %.200s", key, err);
	else
		why[0] = '\0';
	etcd_kvs_free(kvs, n);
	if (why[0] == '\0') {
		cl->logged_cfg[0] = '\0';
		return 1;
	}
	if (strcmp(why, cl->logged_cfg) != 0) {
		CTL_LOG(WARNING, "cluster: %s; retrying every second", why);
		snprintf(cl->logged_cfg, sizeof(cl->logged_cfg), "%s", why);
	}
	snprintf(err, errlen, "%s", why);
	return 0;
}

/*
 * The lease of this session's registration (cl->t_lease): kept across
 * attempts, races lost, etcd errors and VTEP changes, so a session never
 * grants more than one (a lease lives lease_ttl, 24 h by default). 0 and a
 * lease whose keepalive still answers: reused; gone (TTL 0): forgotten; else
 * a new one is granted. <0 on etcd errors.
 */
static int
cl_lease_get(struct cl *cl, char *err, size_t errlen)
{
	int64_t ttl = 0;
	int rc;

	if (cl->t_lease != 0) {
		rc = etcd_lease_keepalive(cl->etcd, cl->t_lease, &ttl, err, errlen);
		if (rc < 0)
			return rc;
		if (ttl > 0)
			return 0;
		cl->t_lease = 0; /* expired or revoked: etcd deleted its keys */
		cl->own_key[0] = '\0';
	}
	rc = etcd_lease_grant(cl->etcd, cl->cfg->lease_ttl_s, &cl->t_lease, &cl->t_lease_ttl,
			      err, errlen);
	if (rc < 0)
		cl->t_lease = 0;
	return rc;
}

/*
 * Revoke our lease (its keys go with it): a lease we must drop is never left
 * to live out its TTL. Failures are logged; the lease then expires.
 */
static void
cl_lease_drop(struct cl *cl, const char *why)
{
	char err[256];

	if (cl->t_lease == 0)
		return;
	if (etcd_lease_revoke(cl->etcd, cl->t_lease, err, sizeof(err)) < 0)
		CTL_LOG(WARNING, "cluster: cannot revoke lease %llx (%s): %s; it expires in at "
			"most %lld s", (unsigned long long)cl->t_lease, why, err,
			(long long)cl->t_lease_ttl);
	else
		CTL_LOG(INFO, "cluster: lease %llx revoked (%s)", (unsigned long long)cl->t_lease,
			why);
	cl->t_lease = 0;
	cl->own_key[0] = '\0';
	pthread_mutex_lock(&cl->mu);
	cl->lease_id = 0;
	pthread_mutex_unlock(&cl->mu);
}

/*
 * Is kv (a subnet key of ours in the making) ours? Our key, a key attached to
 * our lease, or one whose PublicIP is ours (left by our previous run).
 */
static bool
cl_kv_ours(struct cl *cl, const struct etcd_kv *kv, const struct cl_host *h)
{
	return (cl->own_key[0] != '\0' && strcmp(kv->key, cl->own_key) == 0) ||
	       (cl->t_lease != 0 && kv->lease == cl->t_lease) ||
	       (h != NULL && h->public_ip == cl->t_public_ip);
}

/*
 * Lease a subnet (cluster.h, step 2). kvs: the current subnets/ listing.
 * 1 when done, 0 when a race was lost (list again), <0 on errors.
 *
 * Our key is rewritten in place (a put that compares its mod_revision) when
 * what we publish changed (a new VTEP address: PublicIP, VtepMAC), so the
 * subnet, the lease and the containers' addresses stay and no stale key of
 * ours is left for other hosts to route to.
 */
static int
cl_lease(struct cl *cl, const struct etcd_kv *kvs, size_t n, char *err, size_t errlen)
{
	const struct fl_config *fc = &cl->tcfg;
	struct fl_lease me = { .public_ip = cl->t_public_ip, .vni = fc->vni };
	uint32_t subnet = 0, *used = NULL, rnd;
	uint8_t len = fc->subnet_len;
	int64_t mod_rev = 0;
	char key[FL_KEY_MAX], *value = NULL, a[16];
	bool done, found = false, same = false, stale = false;
	size_t n_used = 0;
	int rc;

	vxlan_gw_mac(cl->t_vtep, fc->vni, me.vtep_mac);
	rc = cl_lease_get(cl, err, errlen);
	if (rc < 0)
		return rc;
	if (n > 0) {
		used = calloc(n, sizeof(*used));
		if (used == NULL)
			return -ENOMEM;
	}
	/* 1: our key (own_key, our lease, our PublicIP), if there is one. */
	for (size_t i = 0; i < n; i++) {
		struct cl_host h;
		bool decoded;
		uint32_t s;
		uint8_t l;

		if (fl_key_parse(cl->cfg->prefix, kvs[i].key, &s, &l) < 0)
			continue;
		used[n_used++] = s;
		decoded = cl_decode_host(cl, &kvs[i], &h) == 1;
		if (!cl_kv_ours(cl, &kvs[i], decoded ? &h : NULL))
			continue;
		if (!found && l == len && fl_subnet_valid(fc, s, l)) {
			subnet = s;
			mod_rev = kvs[i].mod_rev;
			found = true;
			/* Still attached to our lease, with what we would write. */
			same = kvs[i].lease == cl->t_lease && decoded &&
			       h.public_ip == me.public_ip && memcmp(h.mac, me.vtep_mac, 6) == 0;
		} else if (kvs[i].lease == cl->t_lease) {
			/* A second key on our lease (the config changed under it):
			 * our keepalives would keep it for ever. */
			stale = true;
		}
	}
	if (stale) {
		free(used);
		cl_lease_drop(cl, "a key of ours that is no longer valid is attached to it");
		return 0; /* list again, with a new lease */
	}
	/* 2: the subnet we had (state file, or before etcd went away) if still free. */
	if (!found && cl->preferred_len == len && fl_subnet_valid(fc, cl->preferred, len)) {
		bool taken = false;

		for (size_t i = 0; i < n_used; i++)
			taken |= used[i] == cl->preferred;
		if (!taken) {
			subnet = cl->preferred;
			found = true;
		}
	}
	/* 3: a free one, at random as Flannel does. */
	if (!found) {
		ctl_random_bytes(&rnd, sizeof(rnd));
		rc = fl_subnet_pick(fc, used, n_used, rnd, &subnet);
		if (rc < 0) {
			free(used);
			snprintf(err, errlen, "no free /%u subnet left in %s/%u (%zu leased)", len,
				 cl_ip(fc->network, a), fc->network_len, n_used);
			return rc;
		}
	}
	free(used);
	fl_key_format(cl->cfg->prefix, subnet, len, key, sizeof(key));
	if (!same) {
		me.subnet = subnet;
		me.len = len;
		value = fl_lease_encode(&me);
		if (value == NULL) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		/* mod_rev 0: only if absent; else only if nobody wrote it since the listing. */
		rc = etcd_put_if(cl->etcd, key, value, cl->t_lease, mod_rev, &done, err, errlen);
		free(value);
		if (rc < 0)
			return rc;
		if (!done)
			return 0; /* the lease is kept for the next try */
	}
	pthread_mutex_lock(&cl->mu);
	cl->lease_id = cl->t_lease;
	cl->lease_ttl = cl->t_lease_ttl;
	pthread_mutex_unlock(&cl->mu);
	cl->t_subnet = subnet;
	cl->t_len = len;
	cl->preferred = subnet;
	cl->preferred_len = len;
	if (!same || strcmp(cl->own_key, key) != 0)
		CTL_LOG(NOTICE, "cluster: leased %s/%u (%s, PublicIP %s, lease %llx, TTL %lld s)",
			cl_ip(subnet, a), len, key, cl_ip(me.public_ip, a),
			(unsigned long long)cl->t_lease, (long long)cl->t_lease_ttl);
	snprintf(cl->own_key, sizeof(cl->own_key), "%s", key);
	return 1;
}

/* A SNAPSHOT of every other host from a listing. */
static int
cl_snapshot(struct cl *cl, const struct etcd_kv *kvs, size_t n)
{
	struct cl_event *ev = calloc(1, sizeof(*ev));

	if (ev == NULL || (n > 0 && (ev->hosts = calloc(n, sizeof(*ev->hosts))) == NULL)) {
		free(ev);
		return -ENOMEM;
	}
	ev->type = CL_EV_SNAPSHOT;
	for (size_t i = 0; i < n && ev->n_hosts < CL_MAX_HOSTS; i++) {
		struct cl_host *h = &ev->hosts[ev->n_hosts];

		if (cl_kv_ours(cl, &kvs[i], NULL) || cl_decode_host(cl, &kvs[i], h) != 1 ||
		    cl_kv_ours(cl, &kvs[i], h))
			continue;
		ev->n_hosts++;
	}
	cl_post(cl, ev);
	return 0;
}

/* What a watch callback learns beyond the events it posts. */
struct cl_watch_ctx {
	struct cl *cl;
	bool lost_own;              /* our own key was deleted: re-register */
};

static void
cl_watch_event(void *arg, const struct etcd_event *e)
{
	struct cl_watch_ctx *x = arg;
	struct cl *cl = x->cl;
	struct cl_event *ev;
	struct cl_host h;

	if (strcmp(e->kv.key, cl->own_key) == 0) {
		if (e->deleted)
			x->lost_own = true;
		return;
	}
	if (e->deleted) {
		if (fl_key_parse(cl->cfg->prefix, e->kv.key, &h.subnet, &h.len) < 0)
			return;
	} else if (cl_decode_host(cl, &e->kv, &h) != 1 || cl_kv_ours(cl, &e->kv, &h)) {
		return;
	}
	ev = calloc(1, sizeof(*ev));
	if (ev == NULL)
		return;
	ev->type = e->deleted ? CL_EV_DEL : CL_EV_PUT;
	ev->host = h;
	cl_post(cl, ev);
}

static uint32_t
cl_vtep(struct cl *cl)
{
	uint32_t v;

	pthread_mutex_lock(&cl->mu);
	v = cl->vtep_ip;
	pthread_mutex_unlock(&cl->mu);
	return v;
}

/*
 * One session: config, lease, list, watch and keep alive until something
 * breaks. Returns 1 when it should start again at once (lease lost, VTEP
 * changed), 0 to wait (config absent, no address), <0 after an error (err).
 */
static int
cl_session(struct cl *cl, bool *registered, char *err, size_t errlen)
{
	struct cl_watch_ctx x = { .cl = cl };
	struct etcd_watch *w = NULL;
	struct etcd_kv *kvs = NULL;
	char prefix[FL_KEY_MAX], a[16];
	int64_t rev, ttl;
	uint64_t next_ka;
	struct cl_event *ev;
	size_t n = 0;
	int rc, tries;

	cl_set_state(cl, "connecting");
	rc = cl_read_config(cl, err, errlen);
	if (rc <= 0) {
		if (rc == 0)
			cl_set_state(cl, "waiting-config");
		return rc;
	}
	cl->t_vtep = cl_vtep(cl);
	cl->t_public_ip = cl->cfg->public_ip != 0 ? cl->cfg->public_ip : cl->t_vtep;
	if (cl->t_vtep == 0) {
		snprintf(err, errlen, "the uplink has no address yet (the VTEP address): "
			 "waiting for it");
		return 0;
	}
	snprintf(prefix, sizeof(prefix), "%s/subnets/", cl->cfg->prefix);
	for (tries = 0; tries < CL_LEASE_TRIES; tries++) {
		rc = etcd_range(cl->etcd, prefix, true, &kvs, &n, &rev, err, errlen);
		if (rc < 0)
			return rc;
		rc = cl_lease(cl, kvs, n, err, errlen);
		etcd_kvs_free(kvs, n);
		kvs = NULL;
		if (rc != 0)
			break;
	}
	if (rc == 0) {
		snprintf(err, errlen, "lost %d races for a subnet in a row", CL_LEASE_TRIES);
		return -EBUSY;
	}
	if (rc < 0)
		return rc;
	ev = calloc(1, sizeof(*ev));
	if (ev == NULL)
		return -ENOMEM;
	ev->type = CL_EV_LEASED;
	ev->cfg = cl->tcfg;
	ev->host.subnet = cl->t_subnet;
	ev->host.len = cl->t_len;
	ev->host.public_ip = cl->t_public_ip;
	vxlan_gw_mac(cl->t_vtep, cl->tcfg.vni, ev->host.mac);
	cl_post(cl, ev);
	cl_set_state(cl, "registered");
	cl_set_error(cl, "");
	*registered = true;

resync:
	rc = etcd_range(cl->etcd, prefix, true, &kvs, &n, &rev, err, errlen);
	if (rc < 0)
		return rc;
	rc = cl_snapshot(cl, kvs, n);
	etcd_kvs_free(kvs, n);
	if (rc < 0)
		return rc;
	w = etcd_watch_start(cl->etcd, prefix, rev + 1, err, errlen);
	if (w == NULL)
		return -ENOMEM;
	next_ka = ctl_mono_ms();
	for (;;) {
		uint64_t now = ctl_mono_ms();

		if (now >= next_ka) {
			int64_t period = cl->cfg->lease_ttl_s * 1000 / 3;

			rc = etcd_lease_keepalive(cl->etcd, cl->t_lease, &ttl, err, errlen);
			if (rc < 0)
				break;
			if (ttl <= 0) {
				CTL_LOG(NOTICE, "cluster: lease %llx of %s/%u is gone (etcd lost it "
					"or it expired): registering again",
					(unsigned long long)cl->t_lease, cl_ip(cl->t_subnet, a),
					cl->t_len);
				/* Gone with its keys: nothing to revoke. */
				cl->t_lease = 0;
				cl->own_key[0] = '\0';
				pthread_mutex_lock(&cl->mu);
				cl->lease_id = 0;
				pthread_mutex_unlock(&cl->mu);
				rc = 1;
				break;
			}
			next_ka = now + (uint64_t)(period < 1000 ? 1000 : period);
		}
		if (cl_vtep(cl) != cl->t_vtep) {
			/* The lease and our key stay: cl_lease rewrites the key in place
			 * with the new PublicIP and VtepMAC (same subnet). */
			CTL_LOG(NOTICE, "cluster: the uplink address changed: updating our key %s",
				cl->own_key);
			rc = 1;
			break;
		}
		rc = etcd_watch_poll(w, CL_POLL_MS, cl_watch_event, &x, &rev, err, errlen);
		if (x.lost_own) {
			/* Deleted by hand, or with our lease (revoked: cl_lease_get
			 * finds it gone). A live lease is reused for the new key. */
			CTL_LOG(NOTICE, "cluster: our key %s was deleted: registering again",
				cl->own_key);
			cl->own_key[0] = '\0';
			rc = 1;
			break;
		}
		if (rc == -ESTALE) {
			etcd_watch_stop(w);
			w = NULL;
			goto resync;
		}
		if (rc < 0)
			break;
	}
	etcd_watch_stop(w);
	return rc;
}

static void *
cl_thread(void *arg)
{
	struct cl *cl = arg;
	unsigned int backoff = CL_BACKOFF_MIN_MS;
	char err[512], last[512] = "";

	while (!atomic_load(&cl->stop)) {
		bool registered = false;
		int rc;

		err[0] = '\0';
		rc = cl_session(cl, &registered, err, sizeof(err));
		if (atomic_load(&cl->stop))
			break;
		if (registered)
			backoff = CL_BACKOFF_MIN_MS;
		if (rc == 1)
			continue;
		if (err[0] != '\0')
			cl_set_error(cl, err);
		if (rc == 0) {
			cl_nap(cl, CL_RETRY_MS);
			continue;
		}
		/* etcd unreachable or refusing: log when the reason changes. */
		if (registered)
			last[0] = '\0';
		if (strcmp(err, last) != 0) {
			CTL_LOG(WARNING, "cluster: etcd: %s; retrying", err);
			snprintf(last, sizeof(last), "%s", err);
		}
		cl_nap(cl, backoff);
		backoff = backoff * 2 > CL_BACKOFF_MAX_MS ? CL_BACKOFF_MAX_MS : backoff * 2;
	}
	return NULL;
}

/* ---- control thread ---- */

static struct cl_remote *
cl_remote_find(struct cl *cl, uint32_t subnet, uint8_t len)
{
	for (size_t i = 0; i < cl->n_remotes; i++)
		if (cl->remotes[i].h.subnet == subnet && cl->remotes[i].h.len == len)
			return &cl->remotes[i];
	return NULL;
}

/* The overlay network, when it is the one of our lease. */
static struct net *
cl_net(struct cl *cl)
{
	struct net *n = net_find(cl->c->nets, cl->cfg->network);

	if (n == NULL || n->vni != cl->cfgx.vni || n->subnet != cl->self.subnet ||
	    n->prefix_len != cl->self.len || n->gateway != cl->self.subnet + 1)
		return NULL;
	return n;
}

static void
cl_program(struct cl *cl, struct cl_remote *r)
{
	struct net *n = cl_net(cl);
	char err[256], a[16], s[16];

	if (n == NULL || r->programmed)
		return;
	if (vxlan_remote_add(cl->c, n, r->h.subnet, r->h.len, r->h.public_ip, r->h.mac, err,
			     sizeof(err)) < 0) {
		CTL_LOG(WARNING, "cluster: host %s (%s/%u) not programmed: %s",
			cl_ip(r->h.public_ip, a), cl_ip(r->h.subnet, s), r->h.len, err);
		return;
	}
	r->programmed = true;
	CTL_LOG(INFO, "cluster: host %s: %s/%u", cl_ip(r->h.public_ip, a),
		cl_ip(r->h.subnet, s), r->h.len);
}

static void
cl_unprogram(struct cl *cl, struct cl_remote *r)
{
	struct net *n = cl_net(cl);
	char a[16], s[16];

	if (n != NULL && r->programmed) {
		vxlan_remote_del(cl->c, n, r->h.subnet, r->h.len);
		CTL_LOG(INFO, "cluster: host %s (%s/%u) left", cl_ip(r->h.public_ip, a),
			cl_ip(r->h.subnet, s), r->h.len);
	}
	r->programmed = false;
}

static void
cl_remote_put(struct cl *cl, const struct cl_host *h)
{
	struct cl_remote *r = cl_remote_find(cl, h->subnet, h->len), *nr;

	if (r != NULL && r->h.public_ip == h->public_ip && memcmp(r->h.mac, h->mac, 6) == 0) {
		cl_program(cl, r);
		return;
	}
	if (r == NULL) {
		if (cl->n_remotes == CL_MAX_HOSTS)
			return;
		nr = realloc(cl->remotes, (cl->n_remotes + 1) * sizeof(*nr));
		if (nr == NULL)
			return;
		cl->remotes = nr;
		r = &cl->remotes[cl->n_remotes++];
		r->programmed = false;
	} else {
		/* Changed: the old programming goes first (route, neighbour, MAC,
		 * peer), so a new value refused below leaves nothing of the old one. */
		cl_unprogram(cl, r);
	}
	r->h = *h;
	cl_program(cl, r);
}

static void
cl_remote_del(struct cl *cl, uint32_t subnet, uint8_t len)
{
	struct cl_remote *r = cl_remote_find(cl, subnet, len);

	if (r == NULL)
		return;
	cl_unprogram(cl, r);
	*r = cl->remotes[--cl->n_remotes];
}

/* The overlay network with our lease (create, or replace an empty stale one). */
static void
cl_ensure_network(struct cl *cl, uint64_t now_ms)
{
	struct ctl *c = cl->c;
	struct net_params p = { 0 };
	struct vxlan_params vp;
	struct net *n;
	char err[512], a[16], b[16];

	if (!cl->leased || now_ms < cl->next_ensure_ms)
		return;
	/* In cluster mode the VXLAN port is the cluster's (cluster.h). */
	vxlan_params_get(c->dp, &vp);
	if (vp.udp_port != cl->cfgx.port) {
		vp.udp_port = cl->cfgx.port;
		vxlan_configure(c->dp, &vp);
	}
	if (cl_net(cl) != NULL) {
		if (!cl->net_ok) {
			cl->net_ok = true;
			for (size_t i = 0; i < cl->n_remotes; i++)
				cl_program(cl, &cl->remotes[i]);
		}
		return;
	}
	cl->net_ok = false;
	cl->next_ensure_ms = now_ms + CL_ENSURE_MS;
	for (size_t i = 0; i < cl->n_remotes; i++)
		cl->remotes[i].programmed = false;
	n = net_find(c->nets, cl->cfg->network);
	if (n != NULL) {
		if (n->n_eps > 0 || n->n_ports > 0) {
			CTL_LOG(ERR, "cluster: network %s is %s/%u, but our lease is %s/%u: it still "
				"has containers; remove them (dpctl rm) and it is made again",
				n->name, cl_ip(n->subnet, a), n->prefix_len,
				cl_ip(cl->self.subnet, b), cl->self.len);
			cl->next_ensure_ms = now_ms + 30000;
			return;
		}
		if (net_del(c->nets, n, err, sizeof(err)) < 0) {
			CTL_LOG(ERR, "cluster: network %s cannot be replaced: %s", cl->cfg->network,
				err);
			return;
		}
	}
	p.name = cl->cfg->network;
	p.driver = "overlay";
	p.vni = cl->cfgx.vni;
	p.subnet = cl->self.subnet;
	p.prefix_len = cl->self.len;
	p.gateway = cl->self.subnet + 1;
	p.domain = NET_DOMAIN_NONE;
	n = net_create(c->nets, &p, err, sizeof(err));
	if (n == NULL) {
		CTL_LOG(ERR, "cluster: network %s (%s/%u, vni %u) not created: %s",
			cl->cfg->network, cl_ip(cl->self.subnet, a), cl->self.len, cl->cfgx.vni, err);
		return;
	}
	state_save();
	CTL_LOG(NOTICE, "cluster: network %s is %s/%u, gateway %s, vni %u, port %u",
		n->name, cl_ip(n->subnet, a), n->prefix_len, cl_ip(n->gateway, b), n->vni,
		cl->cfgx.port);
	cl->net_ok = true;
	for (size_t i = 0; i < cl->n_remotes; i++)
		cl_program(cl, &cl->remotes[i]);
}

static void
cl_apply(struct cl *cl, struct cl_event *ev, uint64_t now_ms)
{
	switch (ev->type) {
	case CL_EV_LEASED:
		if (cl->leased && (cl->self.subnet != ev->host.subnet ||
				   cl->self.len != ev->host.len || cl->cfgx.vni != ev->cfg.vni)) {
			/* Another subnet than before: the old network's remotes go with it. */
			for (size_t i = 0; i < cl->n_remotes; i++)
				cl_unprogram(cl, &cl->remotes[i]);
		}
		cl->leased = true;
		cl->cfgx = ev->cfg;
		cl->self = ev->host;
		cl->next_ensure_ms = 0;
		cl->net_ok = false;
		cl_ensure_network(cl, now_ms);
		break;
	case CL_EV_SNAPSHOT:
		for (size_t i = 0; i < cl->n_remotes;) {
			bool keep = false;

			for (size_t j = 0; j < ev->n_hosts && !keep; j++)
				keep = ev->hosts[j].subnet == cl->remotes[i].h.subnet &&
					ev->hosts[j].len == cl->remotes[i].h.len;
			if (keep) {
				i++;
				continue;
			}
			cl_remote_del(cl, cl->remotes[i].h.subnet, cl->remotes[i].h.len);
		}
		for (size_t j = 0; j < ev->n_hosts; j++)
			cl_remote_put(cl, &ev->hosts[j]);
		break;
	case CL_EV_PUT:
		cl_remote_put(cl, &ev->host);
		break;
	case CL_EV_DEL:
		cl_remote_del(cl, ev->host.subnet, ev->host.len);
		break;
	}
}

void
ctl_cluster_tick(struct ctl *c, uint64_t now_ms)
{
	struct cl *cl = cl_global;
	struct cl_event *ev, *next;
	uint32_t addr = 0, gw;
	uint8_t len;

	(void)c;
	if (cl == NULL)
		return;
	uplink_address(&addr, &len, &gw);
	pthread_mutex_lock(&cl->mu);
	cl->vtep_ip = addr;
	ev = cl->head;
	cl->head = cl->tail = NULL;
	pthread_mutex_unlock(&cl->mu);
	/* One overlay table for the whole batch (a snapshot of N hosts would
	 * otherwise build N tables and wait N grace periods). */
	vxlan_batch_begin();
	for (; ev != NULL; ev = next) {
		next = ev->next;
		cl_apply(cl, ev, now_ms);
		cl_event_free(ev);
	}
	if (cl->leased && !cl->net_ok)
		cl_ensure_network(cl, now_ms);
	else if (cl->leased && cl_net(cl) == NULL)
		cl_ensure_network(cl, now_ms); /* removed by hand: made again */
	vxlan_batch_end(cl->c);
}

int
ctl_cluster_start(struct ctl *c, char *err, size_t errlen)
{
	const struct cfg_cluster *cc = &c->cfg->cluster;
	struct cl *cl;
	struct net *n;
	uint32_t gw;
	uint8_t len;
	int rc;

	if (!cc->enabled)
		return 0;
	cl = calloc(1, sizeof(*cl));
	if (cl == NULL)
		return ctl_fail(err, errlen, -ENOMEM, "cluster: out of memory");
	cl->c = c;
	cl->cfg = cc;
	pthread_mutex_init(&cl->mu, NULL);
	snprintf(cl->state, sizeof(cl->state), "connecting");
	/* The subnet we had before a restart (state file): ask for it again. */
	n = net_find(c->nets, cc->network);
	if (n != NULL && n->vni != 0) {
		cl->preferred = n->subnet;
		cl->preferred_len = n->prefix_len;
	}
	uplink_address(&cl->vtep_ip, &len, &gw);
	cl->etcd = etcd_create(cc->etcd, &cl->stop, err, errlen);
	if (cl->etcd == NULL) {
		pthread_mutex_destroy(&cl->mu);
		free(cl);
		return -EINVAL;
	}
	rc = pthread_create(&cl->thread, NULL, cl_thread, cl);
	if (rc != 0) {
		etcd_destroy(cl->etcd);
		pthread_mutex_destroy(&cl->mu);
		free(cl);
		return ctl_fail(err, errlen, -rc, "cluster: cannot start the etcd thread: %s",
				strerror(rc));
	}
	pthread_setname_np(cl->thread, "dpnet-etcd");
	cl->thread_started = true;
	cl_global = cl;
	CTL_LOG(INFO, "cluster: etcd %s, prefix %s, network %s, lease TTL %u s", cc->etcd,
		cc->prefix, cc->network, cc->lease_ttl_s);
	return 0;
}

void
ctl_cluster_stop(struct ctl *c)
{
	struct cl *cl = cl_global;
	struct cl_event *ev, *next;

	(void)c;
	if (cl == NULL)
		return;
	atomic_store(&cl->stop, true);
	if (cl->thread_started)
		pthread_join(cl->thread, NULL);
	for (ev = cl->head; ev != NULL; ev = next) {
		next = ev->next;
		cl_event_free(ev);
	}
	etcd_destroy(cl->etcd);
	/* The thread is joined and its client gone: libcurl's globals can go. */
	etcd_global_cleanup();
	pthread_mutex_destroy(&cl->mu);
	free(cl->remotes);
	free(cl);
	cl_global = NULL;
}

static char *
cl_mac(const uint8_t *m, char *buf)
{
	return ctl_format_mac(m, buf, 18);
}

int
ctl_cluster_status(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	static const char *const allowed[] = { NULL };
	struct cl *cl = cl_global;
	char a[16], s[24], m[18], id[24];
	size_t hosts = 0;
	json_t *o;
	int rc;

	(void)c;
	rc = ctl_args_allowed(args, "cluster.status", allowed, err, errlen);
	if (rc < 0)
		return rc;
	if (cl == NULL) {
		*result = json_pack("{s:s}", "state", "disabled");
		return *result != NULL ? 0 : -ENOMEM;
	}
	hosts = cl->n_remotes;
	o = json_pack("{s:s, s:s, s:s}", "etcd", cl->cfg->etcd, "prefix", cl->cfg->prefix,
		      "network", cl->cfg->network);
	if (o == NULL)
		return -ENOMEM;
	pthread_mutex_lock(&cl->mu);
	json_object_set_new(o, "state", json_string(cl->state));
	json_object_set_new(o, "last_error", json_string(cl->last_error));
	snprintf(id, sizeof(id), "%llx", (unsigned long long)cl->lease_id);
	json_object_set_new(o, "lease_id", cl->lease_id != 0 ? json_string(id) : json_null());
	json_object_set_new(o, "lease_ttl", json_integer(cl->lease_ttl != 0 ? cl->lease_ttl :
							  cl->cfg->lease_ttl_s));
	pthread_mutex_unlock(&cl->mu);
	if (cl->leased) {
		snprintf(s, sizeof(s), "%s/%u", cl_ip(cl->self.subnet, a), cl->self.len);
		json_object_set_new(o, "subnet", json_string(s));
		json_object_set_new(o, "public_ip", json_string(cl_ip(cl->self.public_ip, a)));
		json_object_set_new(o, "vtep_mac", json_string(cl_mac(cl->self.mac, m)));
		json_object_set_new(o, "vni", json_integer(cl->cfgx.vni));
		json_object_set_new(o, "port", json_integer(cl->cfgx.port));
		snprintf(s, sizeof(s), "%s/%u", cl_ip(cl->cfgx.network, a), cl->cfgx.network_len);
		json_object_set_new(o, "cluster_network", json_string(s));
	} else {
		json_object_set_new(o, "subnet", json_null());
		json_object_set_new(o, "public_ip", json_null());
		json_object_set_new(o, "vtep_mac", json_null());
		json_object_set_new(o, "vni", json_null());
		json_object_set_new(o, "port", json_null());
	}
	json_object_set_new(o, "network_ready", json_boolean(cl->net_ok));
	json_object_set_new(o, "hosts", json_integer((json_int_t)hosts));
	*result = o;
	return 0;
}

static json_t *
cl_host_json(const struct cl_host *h, bool self, bool programmed)
{
	char a[16], s[24], m[18];

	snprintf(s, sizeof(s), "%s/%u", cl_ip(h->subnet, a), h->len);
	return json_pack("{s:s, s:s, s:s, s:b, s:b}", "subnet", s, "public_ip",
			 cl_ip(h->public_ip, a), "vtep_mac", cl_mac(h->mac, m), "self", self,
			 "programmed", programmed);
}

static int
cl_cmp_remote(const void *a, const void *b)
{
	const struct cl_remote *x = a, *y = b;

	return x->h.subnet < y->h.subnet ? -1 : x->h.subnet > y->h.subnet;
}

int
ctl_cluster_ls(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	static const char *const allowed[] = { NULL };
	struct cl *cl = cl_global;
	json_t *arr;
	int rc;

	(void)c;
	rc = ctl_args_allowed(args, "cluster.ls", allowed, err, errlen);
	if (rc < 0)
		return rc;
	if (cl == NULL)
		return ctl_fail(err, errlen, -ENOTCONN, "cluster mode is off: add a cluster: "
				"section (etcd: URL) to the config file");
	arr = json_array();
	if (arr == NULL)
		return -ENOMEM;
	if (cl->leased)
		json_array_append_new(arr, cl_host_json(&cl->self, true, cl->net_ok));
	qsort(cl->remotes, cl->n_remotes, sizeof(*cl->remotes), cl_cmp_remote);
	for (size_t i = 0; i < cl->n_remotes; i++)
		json_array_append_new(arr, cl_host_json(&cl->remotes[i].h, false,
							cl->remotes[i].programmed));
	*result = arr;
	return 0;
}
