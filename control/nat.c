/*
 * nat.c - the control side of NAT (dataplane/nat.h is the contract): the DNAT
 * rules made from the containers' published ports, the conntrack settings and
 * expiry, and the commands nat.ls, conntrack.ls, conntrack.stats and
 * conntrack.flush.
 *
 * Rules. ctl_nat_sync rebuilds the whole rule set from the containers (a
 * container's published ports go to its address on its first bridge network,
 * container.h) and hands it to nat_rules_set after every change: run, rm,
 * connect, disconnect, and once after the state is restored at start-up, so a
 * restart or kill -9 brings them back from the saved port maps. A rule keeps
 * its id (its counter slot) for as long as it lives, so its counters keep
 * counting across other containers' changes; a new rule takes an id that was
 * free before this sync (never one freed by the same sync, which a worker
 * might still be counting until the grace period ends) from a round-robin
 * cursor, and the counters that id already had are kept as the rule's
 * baseline and subtracted: a rule's counters start at zero.
 *
 * Counters are iptables's: a nat rule counts the first packet of each
 * connection it translates (pkts are connections), not every packet.
 *
 * Expiry: ctl_nat_tick runs nat_expire every NAT_CTL_EXPIRE_MS with a budget
 * that visits the whole table in about NAT_CTL_SWEEP_MS, so an entry lives at
 * most about a second past its timeout, and one slice stays short.
 *
 * Thread safety: control thread only. Workers read the rules and the table
 * (RCU, lock-free lookups, dataplane/ct.h); ct_walk reads entries while workers
 * update them, so their state word and last-seen time are read atomically.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_log.h>

#include "dataplane/counters.h"
#include "dataplane/ct.h"
#include "dataplane/dp.h"
#include "dataplane/nat.h"
#include "drivers/port.h"
#include "container.h"
#include "ctl.h"
#include "network.h"
#include "uplink.h"
#include "util.h"

#define NAT_CTL_EXPIRE_MS 10     /* an expiry slice this often */
#define NAT_CTL_SWEEP_MS 1000    /* the whole table visited in about this long */

_Static_assert(NET_MAX <= 256, "masq/hairpin counters are per domain, 256 of them");

/* One rule in force: which container's map holds a counter slot. */
struct nat_slot {
	bool used;                       /* the id is in the rule set (or being built) */
	char ctr_id[NET_CTR_ID_MAX];     /* the container (full id) */
	uint32_t host_ip;                /* key: proto, host_ip (0: any host address), */
	uint16_t host_port;              /*   host_port */
	uint8_t proto;                   /* IPPROTO_TCP or IPPROTO_UDP */
	uint32_t ctr_ip;                 /* translated to: container address, port */
	uint16_t ctr_port;
	uint64_t base_pkts;              /* the id's counters when the rule took it */
	uint64_t base_bytes;
};

static struct {
	struct nat_slot slots[NAT_MAX_RULES];  /* by rule id: the set in force */
	struct nat_slot next[NAT_MAX_RULES];   /* the set ctl_nat_sync builds */
	struct nat_rule rules[NAT_MAX_RULES];  /* what it hands to nat_rules_set */
	struct nat_counters sum;               /* scratch for nat_counters_sum */
	struct nat_params params;              /* as configured */
	bool configured;                       /* ctl_nat_configure succeeded */
	uint16_t cursor;                       /* next id to try */
	uint64_t last_expire_ms;               /* when the last slice ran */
} nat_ctl;

static uint8_t
nat_ipproto(uint8_t pm_proto)
{
	return pm_proto == PM_UDP ? IPPROTO_UDP : IPPROTO_TCP;
}

static const char *
nat_proto_name(uint8_t ipproto)
{
	switch (ipproto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	default:
		return "unknown";
	}
}

/* ---------------------------------------------------------------- settings */

int
ctl_nat_configure(struct ctl *c, char *err, size_t errlen)
{
	static const uint8_t tcp_state[] = {
		[CFG_CT_TCP_SYN_SENT] = CT_TCP_SYN_SENT,
		[CFG_CT_TCP_SYN_RECV] = CT_TCP_SYN_RECV,
		[CFG_CT_TCP_ESTABLISHED] = CT_TCP_ESTABLISHED,
		[CFG_CT_TCP_FIN_WAIT] = CT_TCP_FIN_WAIT,
		[CFG_CT_TCP_CLOSE_WAIT] = CT_TCP_CLOSE_WAIT,
		[CFG_CT_TCP_LAST_ACK] = CT_TCP_LAST_ACK,
		[CFG_CT_TCP_TIME_WAIT] = CT_TCP_TIME_WAIT,
		[CFG_CT_TCP_CLOSE] = CT_TCP_CLOSE,
	};
	const struct cfg *cfg = c->cfg;
	struct nat_params p;
	int rc;

	nat_params_default(&p);
	p.ct.max_conns = cfg_ct_max(cfg);
	p.ct.tcp_loose = cfg->ct.tcp_loose;
	for (unsigned int i = 0; i < CFG_CT_MAX; i++) {
		uint32_t s = cfg->ct.timeout_s[i];

		if (s == 0)
			continue; /* Linux's default, from ct_params_default */
		if (i <= CFG_CT_TCP_CLOSE)
			p.ct.tcp_timeout_s[tcp_state[i]] = s;
		else if (i == CFG_CT_UDP)
			p.ct.udp_timeout_s = s;
		else if (i == CFG_CT_UDP_STREAM)
			p.ct.udp_stream_timeout_s = s;
		else
			p.ct.icmp_timeout_s = s;
	}
	p.snat_port_lo = cfg->nat.snat_lo;
	p.snat_port_hi = cfg->nat.snat_hi;
	rc = nat_configure(c->dp, &p);
	if (rc < 0)
		return ctl_fail(err, errlen, rc, "cannot create the conntrack table of %u "
				"connections (about %u MB): %s: lower conntrack.max or raise "
				"eal.memory_mb", p.ct.max_conns,
				(unsigned int)(((uint64_t)p.ct.max_conns * CFG_CT_BYTES_PER_CONN) >>
					       20), strerror(-rc));
	nat_ctl.params = p;
	nat_ctl.configured = true;
	nat_ctl.last_expire_ms = ctl_mono_ms();
	CTL_LOG(INFO, "conntrack: %u connections at most, TCP established %u s, UDP %u/%u s, "
		"ICMP %u s%s; -P ports %u-%u, MASQUERADE ports %u-%u", p.ct.max_conns,
		p.ct.tcp_timeout_s[CT_TCP_ESTABLISHED], p.ct.udp_timeout_s,
		p.ct.udp_stream_timeout_s, p.ct.icmp_timeout_s, p.ct.tcp_loose ?
		", tcp_loose" : "", cfg->nat.ephemeral_lo, cfg->nat.ephemeral_hi,
		p.snat_port_lo, p.snat_port_hi);
	return 0;
}

void
ctl_nat_tick(struct ctl *c, uint64_t now_ms)
{
	uint64_t elapsed = now_ms - nat_ctl.last_expire_ms, budget;
	uint32_t max = nat_ctl.params.ct.max_conns;

	if (!nat_ctl.configured || elapsed < NAT_CTL_EXPIRE_MS)
		return;
	budget = (uint64_t)max * elapsed / NAT_CTL_SWEEP_MS + 1;
	nat_expire(c->dp, budget > max ? max : (unsigned int)budget);
	nat_ctl.last_expire_ms = now_ms;
}

void
ctl_nat_forget_ip(struct ctl *c, uint32_t ip)
{
	unsigned int n;
	char a[16];

	if (ip == 0 || !nat_ctl.configured)
		return;
	n = nat_flush_ip(c->dp, ip);
	if (n > 0)
		CTL_LOG(INFO, "conntrack: %u connection%s of %s dropped", n, n == 1 ? "" : "s",
			cfg_format_ip(ip, a, sizeof(a)));
}

/* ---------------------------------------------------------------- rules */

/* What one sync walk carries. */
struct nat_sync {
	int pass;                  /* 0: keep the rules still wanted; 1: add new ones */
	unsigned int skipped;      /* maps left out (a duplicate key) */
	int rc;                    /* first error */
	char *err;                 /* its message */
	size_t errlen;
};

static bool
nat_slot_same(const struct nat_slot *s, const char *id, uint8_t proto, uint32_t host_ip,
	      uint16_t host_port, uint32_t ctr_ip, uint16_t ctr_port)
{
	return s->used && s->host_port == host_port && s->proto == proto &&
	       s->host_ip == host_ip && s->ctr_ip == ctr_ip && s->ctr_port == ctr_port &&
	       strcmp(s->ctr_id, id) == 0;
}

/* Is (proto, host_ip, host_port) a key of a rule being built? */
static bool
nat_key_taken(uint8_t proto, uint32_t host_ip, uint16_t host_port)
{
	for (unsigned int i = 0; i < NAT_MAX_RULES; i++) {
		const struct nat_slot *s = &nat_ctl.next[i];

		if (s->used && s->host_port == host_port && s->proto == proto &&
		    s->host_ip == host_ip)
			return true;
	}
	return false;
}

/* A free id: unused before this sync and not taken by it. -1 if none. */
static int
nat_free_id(void)
{
	for (unsigned int k = 0; k < NAT_MAX_RULES; k++) {
		uint16_t id = (uint16_t)((nat_ctl.cursor + k) % NAT_MAX_RULES);

		if (!nat_ctl.slots[id].used && !nat_ctl.next[id].used) {
			nat_ctl.cursor = (uint16_t)((id + 1) % NAT_MAX_RULES);
			return id;
		}
	}
	return -1;
}

static void
nat_sync_one(const struct ctr_pub *p, void *arg)
{
	struct nat_sync *ns = arg;

	if (p->ip == 0 || ns->rc < 0)
		return; /* no bridge network: nothing to reach */
	for (unsigned int m = 0; m < p->n_maps && ns->rc == 0; m++) {
		const struct pm_map *pm = &p->maps[m];
		uint8_t proto = nat_ipproto(pm->proto);
		struct nat_slot *s;
		bool kept = false;
		char a[16];
		int id;

		if (pm->host_port == 0)
			continue; /* never assigned: not published */
		for (unsigned int i = 0; i < NAT_MAX_RULES && !kept; i++) {
			if (!nat_slot_same(&nat_ctl.slots[i], p->id, proto, pm->host_ip,
					   pm->host_port, p->ip, pm->ctr_port))
				continue;
			if (ns->pass == 0 && !nat_ctl.next[i].used)
				nat_ctl.next[i] = nat_ctl.slots[i];
			kept = true;
		}
		if (kept || ns->pass == 0)
			continue;
		if (nat_key_taken(proto, pm->host_ip, pm->host_port)) {
			/* Only a hand-edited state file gets here (run refuses it). */
			CTL_LOG(WARNING, "container %s: %s:%u/%s is published twice: left out",
				p->name, cfg_format_ip(pm->host_ip, a, sizeof(a)), pm->host_port,
				pm_proto_name(pm->proto));
			ns->skipped++;
			continue;
		}
		id = nat_free_id();
		if (id < 0) {
			ns->rc = ctl_fail(ns->err, ns->errlen, -ENOSPC, "too many published ports: "
					  "dpnet's NAT holds %d rules (one per host port); remove "
					  "some containers' ports", NAT_MAX_RULES);
			return;
		}
		s = &nat_ctl.next[id];
		memset(s, 0, sizeof(*s));
		s->used = true;
		snprintf(s->ctr_id, sizeof(s->ctr_id), "%s", p->id);
		s->proto = proto;
		s->host_ip = pm->host_ip;
		s->host_port = pm->host_port;
		s->ctr_ip = p->ip;
		s->ctr_port = pm->ctr_port;
		/* The id was free before this sync: no worker counts it now. */
		s->base_pkts = nat_ctl.sum.rule_pkts[id];
		s->base_bytes = nat_ctl.sum.rule_bytes[id];
	}
}

int
ctl_nat_sync(struct ctl *c, char *err, size_t errlen)
{
	struct nat_sync ns = { .err = err, .errlen = errlen };
	unsigned int n = 0, added = 0, removed = 0;
	int rc;

	if (!nat_ctl.configured)
		return ctl_fail(err, errlen, -EAGAIN, "NAT is not configured yet");
	memset(nat_ctl.next, 0, sizeof(nat_ctl.next));
	nat_counters_sum(c->dp, &nat_ctl.sum);
	for (ns.pass = 0; ns.pass < 2 && ns.rc == 0; ns.pass++)
		ctr_pub_walk(nat_sync_one, &ns);
	if (ns.rc < 0)
		return ns.rc;
	for (unsigned int i = 0; i < NAT_MAX_RULES; i++) {
		const struct nat_slot *s = &nat_ctl.next[i];

		added += s->used && !nat_ctl.slots[i].used;
		removed += nat_ctl.slots[i].used && !s->used;
		if (!s->used)
			continue;
		nat_ctl.rules[n++] = (struct nat_rule){
			.host_ip = s->host_ip, .ctr_ip = s->ctr_ip, .host_port = s->host_port,
			.ctr_port = s->ctr_port, .id = (uint16_t)i, .proto = s->proto,
		};
	}
	if (added == 0 && removed == 0)
		return 0;
	rc = nat_rules_set(c->dp, nat_ctl.rules, n);
	if (rc < 0)
		return ctl_fail(err, errlen, rc, "cannot program the DNAT rules (%u): %s", n,
				rc == -ENOMEM ? "out of memory" : strerror(-rc));
	memcpy(nat_ctl.slots, nat_ctl.next, sizeof(nat_ctl.slots));
	CTL_LOG(INFO, "nat: %u DNAT rule%s (%u added, %u removed%s)", n, n == 1 ? "" : "s",
		added, removed, ns.skipped ? ", some left out" : "");
	return 0;
}

/* Is (proto, host_ip, host_port) the key of a rule in force? */
static bool
nat_key_used(uint8_t proto, uint32_t host_ip, uint16_t host_port)
{
	for (unsigned int i = 0; i < NAT_MAX_RULES; i++) {
		const struct nat_slot *s = &nat_ctl.slots[i];

		if (s->used && s->host_port == host_port && s->proto == proto &&
		    s->host_ip == host_ip)
			return true;
	}
	return false;
}

/*
 * Only the maps nat_sync_one publishes count: those with a host port (one
 * without was never assigned); of those, one whose key another map holds
 * (a duplicate nat_sync_one left out) makes the state "partial", not a
 * "pending" that would never end.
 */
const char *
ctl_nat_state(const char *ctr_id, const struct pm_map *maps, unsigned int n_maps, uint32_t ip)
{
	unsigned int wanted = 0, made = 0, left_out = 0;

	for (unsigned int m = 0; m < n_maps; m++)
		wanted += maps[m].host_port != 0;
	if (wanted == 0)
		return "none";
	if (ip == 0)
		return "no-network";
	for (unsigned int m = 0; m < n_maps; m++) {
		const struct pm_map *pm = &maps[m];
		uint8_t proto = nat_ipproto(pm->proto);
		bool found = false;

		if (pm->host_port == 0)
			continue;
		for (unsigned int i = 0; i < NAT_MAX_RULES && !found; i++)
			found = nat_slot_same(&nat_ctl.slots[i], ctr_id, proto, pm->host_ip,
					      pm->host_port, ip, pm->ctr_port);
		if (found)
			made++;
		else if (nat_key_used(proto, pm->host_ip, pm->host_port))
			left_out++;
	}
	if (made == wanted)
		return "active";
	return made + left_out == wanted ? "partial" : "pending";
}

/* ---------------------------------------------------------------- nat ls */

/* One row of iptables -vnL. */
static json_t *
nat_row(uint64_t pkts, uint64_t bytes, const char *target, const char *prot,
	const char *in, const char *out, const char *src, const char *dst, const char *extra)
{
	return json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
			 "pkts", (json_int_t)pkts, "bytes", (json_int_t)bytes, "target", target,
			 "prot", prot, "opt", "--", "in", in, "out", out, "source", src,
			 "destination", dst, "extra", extra);
}

static json_t *
nat_chain(const char *name, json_t *rules)
{
	return json_pack("{s:s, s:o}", "name", name, "rules", rules);
}

/* What nat ls gathers while walking the containers. */
struct nat_ls {
	json_t *pre;               /* PREROUTING's rules */
	json_t *chains;            /* the per-container chains */
	uint64_t dnat_pkts;        /* all DNAT rules' counters */
	int rc;                    /* -ENOMEM */
};

static void
nat_ls_ctr(const struct ctr_pub *p, void *arg)
{
	struct nat_ls *ls = arg;
	json_t *rules = json_array(), *chain, *jump;
	uint64_t pkts = 0, bytes = 0;
	char name[NET_CTR_NAME_MAX + 8];

	if (rules == NULL) {
		ls->rc = -ENOMEM;
		return;
	}
	for (unsigned int m = 0; m < p->n_maps && p->ip != 0; m++) {
		const struct pm_map *pm = &p->maps[m];
		uint8_t proto = nat_ipproto(pm->proto);
		char dst[24], extra[96], to[16];
		json_t *r;

		for (unsigned int id = 0; id < NAT_MAX_RULES; id++) {
			const struct nat_slot *s = &nat_ctl.slots[id];
			uint64_t rp, rb;

			if (!nat_slot_same(s, p->id, proto, pm->host_ip, pm->host_port, p->ip,
					   pm->ctr_port))
				continue;
			rp = nat_ctl.sum.rule_pkts[id] - s->base_pkts;
			rb = nat_ctl.sum.rule_bytes[id] - s->base_bytes;
			if (pm->host_ip == 0)
				snprintf(dst, sizeof(dst), "0.0.0.0/0");
			else
				cfg_format_ip(pm->host_ip, dst, sizeof(dst));
			snprintf(extra, sizeof(extra), "%s dpt:%u to:%s:%u",
				 nat_proto_name(proto), pm->host_port,
				 cfg_format_ip(p->ip, to, sizeof(to)), pm->ctr_port);
			r = nat_row(rp, rb, "DNAT", nat_proto_name(proto), "*", "*", "0.0.0.0/0",
				    dst, extra);
			if (r != NULL) {
				json_object_set_new(r, "id", json_integer(id));
				json_object_set_new(r, "container", json_string(p->name));
				json_object_set_new(r, "host_port", json_integer(pm->host_port));
				json_object_set_new(r, "to_ip", json_string(to));
				json_object_set_new(r, "to_port", json_integer(pm->ctr_port));
			}
			if (r == NULL || json_array_append_new(rules, r) < 0)
				ls->rc = -ENOMEM;
			pkts += rp;
			bytes += rb;
			break;
		}
	}
	if (json_array_size(rules) == 0) {
		json_decref(rules); /* nothing programmed (no network): no chain */
		return;
	}
	snprintf(name, sizeof(name), "DPNET-%s", p->name);
	ls->dnat_pkts += pkts;
	jump = nat_row(pkts, bytes, name, "all", "*", "*", "0.0.0.0/0", "0.0.0.0/0",
		       "ADDRTYPE match dst-type LOCAL");
	if (jump != NULL)
		json_object_set_new(jump, "container", json_string(p->name));
	chain = nat_chain(name, rules);
	if (chain != NULL) {
		json_object_set_new(chain, "references", json_integer(1));
		json_object_set_new(chain, "container", json_string(p->name));
	}
	if (jump == NULL || json_array_append_new(ls->pre, jump) < 0 || chain == NULL ||
	    json_array_append_new(ls->chains, chain) < 0)
		ls->rc = -ENOMEM;
}

/* The uplink port's name, "" without one. */
static const char *
nat_uplink_name(void)
{
	struct port *ports[RTE_MAX_ETHPORTS];
	unsigned int n = port_list(ports, RTE_MAX_ETHPORTS);

	for (unsigned int i = 0; i < n; i++)
		if (ports[i]->spec.role == PORT_ROLE_UPLINK)
			return ports[i]->spec.name;
	return "";
}

/* POSTROUTING: MASQUERADE per network out of the uplink, hairpin per network. */
static int
nat_ls_post(struct ctl *c, json_t *post, uint64_t *snat_pkts)
{
	const char *upname = nat_uplink_name();
	uint32_t addr, gw;
	uint8_t len;
	char notup[48];

	uplink_address(&addr, &len, &gw);
	snprintf(notup, sizeof(notup), "%s%s", upname[0] ? "!" : "*", upname);
	for (int kind = 0; kind < 2; kind++) {
		for (unsigned int i = 0; i < NET_MAX; i++) {
			const struct net *n = &c->nets->nets[i];
			char sub[24], a[16];
			uint64_t pk, by;
			json_t *r;

			if (n->name[0] == '\0' || n->driver != NET_DRIVER_BRIDGE || !n->attached ||
			    n->domain >= 256)
				continue;
			/* MASQUERADE needs an uplink address; internal networks have no way out. */
			if (kind == 0 && (addr == 0 || n->internal))
				continue;
			snprintf(sub, sizeof(sub), "%s/%u", cfg_format_ip(n->subnet, a, sizeof(a)),
				 n->prefix_len);
			pk = kind == 0 ? nat_ctl.sum.masq_pkts[n->domain] :
			     nat_ctl.sum.hairpin_pkts[n->domain];
			by = kind == 0 ? nat_ctl.sum.masq_bytes[n->domain] :
			     nat_ctl.sum.hairpin_bytes[n->domain];
			if (kind == 0)
				r = nat_row(pk, by, "MASQUERADE", "all", "*", upname, sub,
					    "0.0.0.0/0", "");
			else
				r = nat_row(pk, by, "MASQUERADE", "all", notup, "*", "0.0.0.0/0",
					    sub, "ctstate DNAT");
			if (r != NULL) {
				json_object_set_new(r, "network", json_string(n->name));
				json_object_set_new(r, "kind", json_string(kind == 0 ?
						    "masquerade" : "hairpin"));
				if (kind == 0)
					json_object_set_new(r, "to_source", json_string(
						cfg_format_ip(addr, a, sizeof(a))));
				else
					json_object_set_new(r, "to_source", json_string(
						cfg_format_ip(n->gateway, a, sizeof(a))));
			}
			if (r == NULL || json_array_append_new(post, r) < 0)
				return -ENOMEM;
			*snat_pkts += pk;
		}
	}
	return 0;
}

int
ctl_nat_ls(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	static const char *const allowed[] = { NULL };
	struct nat_ls ls = { .pre = json_array(), .chains = json_array() };
	json_t *post = json_array(), *res = json_array(), *pre_chain = NULL, *post_chain = NULL;
	struct ct_stats st;
	uint64_t snat_pkts = 0;
	struct ct *ct = nat_ct(c->dp);
	int rc;

	rc = ctl_args_allowed(args, "nat.ls", allowed, err, errlen);
	if (rc < 0)
		goto out;
	rc = -ENOMEM;
	if (ls.pre == NULL || ls.chains == NULL || post == NULL || res == NULL)
		goto out;
	nat_counters_sum(c->dp, &nat_ctl.sum);
	memset(&st, 0, sizeof(st));
	if (ct != NULL)
		ct_stats_get(ct, &st);
	ctr_pub_walk(nat_ls_ctr, &ls);
	if (ls.rc < 0 || nat_ls_post(c, post, &snat_pkts) < 0)
		goto out;
	pre_chain = nat_chain("PREROUTING", ls.pre);
	ls.pre = NULL;
	post_chain = nat_chain("POSTROUTING", post);
	post = NULL;
	if (pre_chain == NULL || post_chain == NULL)
		goto out;
	/* Policy counters: tracked connections no rule of the chain translated
	 * (iptables counts every connection's first packet; bytes are not kept). */
	json_object_set_new(pre_chain, "policy", json_string("ACCEPT"));
	json_object_set_new(pre_chain, "policy_pkts", json_integer((json_int_t)
		(st.created > ls.dnat_pkts ? st.created - ls.dnat_pkts : 0)));
	json_object_set_new(pre_chain, "policy_bytes", json_integer(0));
	json_object_set_new(post_chain, "policy", json_string("ACCEPT"));
	json_object_set_new(post_chain, "policy_pkts", json_integer((json_int_t)
		(st.created > snat_pkts ? st.created - snat_pkts : 0)));
	json_object_set_new(post_chain, "policy_bytes", json_integer(0));
	if (json_array_append_new(res, pre_chain) < 0) {
		pre_chain = NULL;
		goto out;
	}
	pre_chain = NULL;
	if (json_array_append_new(res, post_chain) < 0) {
		post_chain = NULL;
		goto out;
	}
	post_chain = NULL;
	if (json_array_extend(res, ls.chains) < 0)
		goto out;
	*result = json_pack("{s:O}", "chains", res);
	rc = *result != NULL ? 0 : -ENOMEM;
out:
	json_decref(ls.pre);
	json_decref(ls.chains);
	json_decref(post);
	json_decref(pre_chain);
	json_decref(post_chain);
	json_decref(res);
	return rc;
}

/* ---------------------------------------------------------------- conntrack */

/* conntrack ls: filters and the entries found. */
struct nat_ct_ls {
	const struct ct *ct;       /* the table */
	uint64_t now_tsc;          /* one clock for every entry */
	uint64_t hz;               /* TSC cycles per second */
	uint8_t proto;             /* 0: any */
	uint32_t src, dst;         /* original direction, host order; 0: any */
	json_t *entries;           /* the result */
	int rc;                    /* -ENOMEM */
};

/* One direction's tuple, as conntrack -L names its fields. */
static json_t *
nat_tuple(const struct ct_key *k, bool reply)
{
	char s[16], d[16];

	cfg_format_ip(rte_be_to_cpu_32(k->src_ip), s, sizeof(s));
	cfg_format_ip(rte_be_to_cpu_32(k->dst_ip), d, sizeof(d));
	if (k->proto == IPPROTO_ICMP)
		return json_pack("{s:s, s:s, s:i, s:i, s:i}", "src", s, "dst", d,
				 "type", reply ? 0 : 8, "code", 0,
				 "id", rte_be_to_cpu_16(k->src_port));
	return json_pack("{s:s, s:s, s:i, s:i}", "src", s, "dst", d,
			 "sport", rte_be_to_cpu_16(k->src_port),
			 "dport", rte_be_to_cpu_16(k->dst_port));
}

static int
nat_ct_one(const struct ct_conn *cn, void *arg)
{
	struct nat_ct_ls *ls = arg;
	uint32_t st = __atomic_load_n(&cn->st, __ATOMIC_RELAXED);
	uint64_t last = __atomic_load_n(&cn->last_tsc, __ATOMIC_RELAXED);
	uint64_t tmo = ct_conn_timeout_tsc(ls->ct, cn), idle, left;
	const struct ct_key *k = &cn->key[CT_DIR_ORIG];
	json_t *o;

	if (ls->proto != 0 && k->proto != ls->proto)
		return 0;
	if (ls->src != 0 && rte_be_to_cpu_32(k->src_ip) != ls->src)
		return 0;
	if (ls->dst != 0 && rte_be_to_cpu_32(k->dst_ip) != ls->dst)
		return 0;
	idle = ls->now_tsc > last ? ls->now_tsc - last : 0;
	left = tmo > idle ? (tmo - idle) / ls->hz : 0;
	o = json_pack("{s:s, s:i, s:I, s:o, s:o, s:b, s:b, s:b, s:b, s:I}",
		      "proto", nat_proto_name(k->proto), "protonum", k->proto,
		      "timeout", (json_int_t)left,
		      "orig", nat_tuple(k, false), "reply", nat_tuple(&cn->key[CT_DIR_REPLY], true),
		      "unreplied", !(st & CT_F_REPLIED), "assured", (st & CT_F_ASSURED) != 0,
		      "snat", (cn->nat & CT_NAT_SRC) != 0, "dnat", (cn->nat & CT_NAT_DST) != 0,
		      "age", (json_int_t)(ls->now_tsc > cn->created_tsc ?
					  (ls->now_tsc - cn->created_tsc) / ls->hz : 0));
	if (o != NULL && k->proto == IPPROTO_TCP && CT_ST_STATE(st) < CT_TCP_MAX)
		json_object_set_new(o, "state", json_string(ct_tcp_state_names[CT_ST_STATE(st)]));
	if (o == NULL || json_array_append_new(ls->entries, o) < 0) {
		ls->rc = -ENOMEM;
		return 1;
	}
	return 0;
}

int
ctl_conntrack_ls(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	static const char *const allowed[] = { "proto", "src", "dst", NULL };
	struct nat_ct_ls ls = { .ct = nat_ct(c->dp), .hz = rte_get_tsc_hz() };
	char proto[16], src[64], dst[64];
	int rc;

	rc = ctl_args_allowed(args, "conntrack.ls", allowed, err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "proto", false, proto, sizeof(proto), err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "src", false, src, sizeof(src), err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "dst", false, dst, sizeof(dst), err, errlen);
	if (rc < 0)
		return rc;
	if (strcmp(proto, "tcp") == 0 || strcmp(proto, "6") == 0)
		ls.proto = IPPROTO_TCP;
	else if (strcmp(proto, "udp") == 0 || strcmp(proto, "17") == 0)
		ls.proto = IPPROTO_UDP;
	else if (strcmp(proto, "icmp") == 0 || strcmp(proto, "1") == 0)
		ls.proto = IPPROTO_ICMP;
	else if (proto[0] != '\0')
		return ctl_fail(err, errlen, -EINVAL, "unknown protocol \"%s\": use tcp, udp or "
				"icmp (the ones dpnet tracks)", proto);
	if (src[0] != '\0' && (cfg_parse_ip(src, &ls.src) < 0 || ls.src == 0))
		return ctl_fail(err, errlen, -EINVAL, "invalid source address \"%s\" for -s: "
				"write it as a.b.c.d", src);
	if (dst[0] != '\0' && (cfg_parse_ip(dst, &ls.dst) < 0 || ls.dst == 0))
		return ctl_fail(err, errlen, -EINVAL, "invalid destination address \"%s\" for "
				"-d: write it as a.b.c.d", dst);
	if (ls.ct == NULL)
		return ctl_fail(err, errlen, -ENODEV, "the conntrack table is not there");
	ls.entries = json_array();
	if (ls.entries == NULL)
		return -ENOMEM;
	ls.now_tsc = rte_rdtsc();
	ct_walk(nat_ct(c->dp), nat_ct_one, &ls);
	if (ls.rc < 0) {
		json_decref(ls.entries);
		return ls.rc;
	}
	*result = json_pack("{s:I, s:I, s:I, s:o}", "count",
			    (json_int_t)json_array_size(ls.entries), "total",
			    (json_int_t)ct_count(ls.ct), "max",
			    (json_int_t)nat_ctl.params.ct.max_conns, "entries", ls.entries);
	return *result != NULL ? 0 : -ENOMEM;
}

/* Drops that belong to conntrack and NAT: the reasons named ct-* and nat-*. */
static json_t *
nat_drops_json(struct ctl *c, uint64_t *total)
{
	static struct dp_counters sum;  /* large: off the stack */
	json_t *o = json_object();

	*total = 0;
	if (o == NULL)
		return NULL;
	dp_counters_sum(c->dp, &sum);
	for (unsigned int i = 0; i < DP_DROP_MAX; i++) {
		if (strncmp(dp_drop_names[i], "ct-", 3) != 0 &&
		    strncmp(dp_drop_names[i], "nat-", 4) != 0)
			continue;
		json_object_set_new(o, dp_drop_names[i], json_integer((json_int_t)sum.drops[i]));
		*total += sum.drops[i];
	}
	return o;
}

int
ctl_conntrack_stats(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	static const char *const allowed[] = { NULL };
	const struct ct_params *p = &nat_ctl.params.ct;
	struct ct *ct = nat_ct(c->dp);
	json_t *drops, *tmo;
	struct ct_stats st;
	uint64_t dropped;
	int rc;

	rc = ctl_args_allowed(args, "conntrack.stats", allowed, err, errlen);
	if (rc < 0)
		return rc;
	if (ct == NULL)
		return ctl_fail(err, errlen, -ENODEV, "the conntrack table is not there");
	ct_stats_get(ct, &st);
	nat_counters_sum(c->dp, &nat_ctl.sum);
	drops = nat_drops_json(c, &dropped);
	tmo = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			"tcp_syn_sent", (json_int_t)p->tcp_timeout_s[CT_TCP_SYN_SENT],
			"tcp_syn_recv", (json_int_t)p->tcp_timeout_s[CT_TCP_SYN_RECV],
			"tcp_established", (json_int_t)p->tcp_timeout_s[CT_TCP_ESTABLISHED],
			"tcp_fin_wait", (json_int_t)p->tcp_timeout_s[CT_TCP_FIN_WAIT],
			"tcp_close_wait", (json_int_t)p->tcp_timeout_s[CT_TCP_CLOSE_WAIT],
			"tcp_last_ack", (json_int_t)p->tcp_timeout_s[CT_TCP_LAST_ACK],
			"tcp_time_wait", (json_int_t)p->tcp_timeout_s[CT_TCP_TIME_WAIT],
			"tcp_close", (json_int_t)p->tcp_timeout_s[CT_TCP_CLOSE],
			"udp", (json_int_t)p->udp_timeout_s,
			"udp_stream", (json_int_t)p->udp_stream_timeout_s,
			"icmp", (json_int_t)p->icmp_timeout_s);
	*result = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:I, s:I, s:I,"
			    " s:o, s:b}",
			    "entries", (json_int_t)ct_count(ct),
			    "max", (json_int_t)p->max_conns,
			    "created", (json_int_t)st.created,
			    "expired", (json_int_t)st.expired,
			    "deleted", (json_int_t)st.deleted,
			    "refused_full", (json_int_t)st.refused_full,
			    "refused_exist", (json_int_t)st.refused_exist,
			    "expire_visits", (json_int_t)st.expire_visits,
			    "drops", drops != NULL ? drops : json_object(),
			    "drops_total", (json_int_t)dropped,
			    "translated", (json_int_t)nat_ctl.sum.translated,
			    "icmp_translated", (json_int_t)nat_ctl.sum.icmp_translated,
			    "untracked", (json_int_t)nat_ctl.sum.untracked,
			    "timeouts", tmo != NULL ? tmo : json_object(),
			    "tcp_loose", p->tcp_loose);
	return *result != NULL ? 0 : -ENOMEM;
}

/* conntrack flush: the entries to delete, gathered first (ct_walk holds no lock). */
struct nat_flush {
	struct ct_conn **conns;    /* entries seen */
	size_t n, cap;             /* used, room */
};

static int
nat_flush_one(const struct ct_conn *cn, void *arg)
{
	struct nat_flush *f = arg;

	if (f->n == f->cap)
		return 1; /* the table grew while we walked: the rest stays */
	f->conns[f->n++] = (struct ct_conn *)(uintptr_t)cn;
	return 0;
}

int
ctl_conntrack_flush(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	static const char *const allowed[] = { NULL };
	struct ct *ct = nat_ct(c->dp);
	struct nat_flush f = { .n = 0 };
	unsigned int deleted = 0;
	int rc;

	rc = ctl_args_allowed(args, "conntrack.flush", allowed, err, errlen);
	if (rc < 0)
		return rc;
	if (ct == NULL)
		return ctl_fail(err, errlen, -ENODEV, "the conntrack table is not there");
	f.cap = nat_ctl.params.ct.max_conns;
	f.conns = calloc(f.cap ? f.cap : 1, sizeof(*f.conns));
	if (f.conns == NULL)
		return -ENOMEM;
	ct_walk(ct, nat_flush_one, &f);
	/* An entry deleted meanwhile (by a worker) answers -ENOENT: skipped. */
	for (size_t i = 0; i < f.n; i++)
		deleted += ct_conn_delete(ct, f.conns[i]) == 0;
	free(f.conns);
	CTL_LOG(INFO, "conntrack: flushed, %u connection%s deleted", deleted,
		deleted == 1 ? "" : "s");
	*result = json_pack("{s:i}", "deleted", (int)deleted);
	return *result != NULL ? 0 : -ENOMEM;
}

json_t *
ctl_nat_stats_json(struct ctl *c)
{
	struct ct *ct = nat_ct(c->dp);
	uint64_t dnat = 0, masq = 0, hairpin = 0;

	nat_counters_sum(c->dp, &nat_ctl.sum);
	for (unsigned int i = 0; i < NAT_MAX_RULES; i++)
		if (nat_ctl.slots[i].used)
			dnat += nat_ctl.sum.rule_pkts[i] - nat_ctl.slots[i].base_pkts;
	for (unsigned int d = 0; d < 256; d++) {
		masq += nat_ctl.sum.masq_pkts[d];
		hairpin += nat_ctl.sum.hairpin_pkts[d];
	}
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			 "translated", (json_int_t)nat_ctl.sum.translated,
			 "icmp_translated", (json_int_t)nat_ctl.sum.icmp_translated,
			 "untracked", (json_int_t)nat_ctl.sum.untracked,
			 "dnat_connections", (json_int_t)dnat,
			 "masquerade_connections", (json_int_t)masq,
			 "hairpin_connections", (json_int_t)hairpin,
			 "conntrack_entries", (json_int_t)(ct != NULL ? ct_count(ct) : 0),
			 "conntrack_max", (json_int_t)nat_ctl.params.ct.max_conns);
}
