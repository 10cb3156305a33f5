/*
 * neigh.c - neighbour resolution, control side (see neigh.h here and
 * dataplane/neigh.h): the cache of learned neighbours, the frames held while
 * one is resolved, ARP requests/probes/gratuitous ARP built here and handed to
 * the transmit function, ageing, and `dpctl neigh ls`.
 *
 * The data plane's neighbour table (l3_neigh_*) holds what the workers use;
 * this module adds to it the entries it learns (and removes them when they
 * expire) and keeps, beside it, what the workers never need: the state of each
 * learned entry, the pending and failed ones, the held frames. An entry of the
 * data plane's table that is not in this cache was installed by control
 * itself: PERMANENT.
 *
 * The cache is a plain array searched linearly: at most NEIGH_MAX entries, and
 * only frames the workers could not resolve (or ARP) come here. What a flood
 * of misses to new next hops may cost is bounded (neigh.h): eviction of
 * FAILED, then the oldest INCOMPLETE entries when the table is full, a token
 * bucket for new entries, and NEIGH_HELD_MAX held frames in all (each held
 * frame carries a sequence number, so the oldest of all can be found).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "dataplane/dp.h"
#include "dataplane/l3.h"
#include "dataplane/neigh.h"
#include "dataplane/pkt.h"
#include "ctl.h"
#include "neigh.h"
#include "network.h"
#include "state.h"
#include "util.h"

enum neigh_state {
	NEIGH_S_INCOMPLETE,     /* asked, no answer yet: frames held */
	NEIGH_S_REACHABLE,      /* answered one of our requests */
	NEIGH_S_STALE,          /* learned from a frame that was not an answer to us */
	NEIGH_S_PROBE,          /* being confirmed with unicast requests */
	NEIGH_S_FAILED,         /* unanswered: frames dropped until next_ms */
	NEIGH_S_PERMANENT,      /* static, from `dpctl neigh add`: never aged, never
	                         * changed by ARP (as ip neigh's nud permanent) */
};

static const char *const neigh_state_names[] = {
	"INCOMPLETE", "REACHABLE", "STALE", "PROBE", "FAILED", "PERMANENT",
};

#define NEIGH_RETRY_MS 1000     /* one request per second at most */

struct neigh_ent {
	bool used;                      /* the slot holds an entry */
	uint16_t domain;                /* where the neighbour is */
	uint32_t ip;                    /* its address, host order */
	struct rte_ether_addr mac;      /* its MAC (not INCOMPLETE/FAILED) */
	uint8_t state;                  /* enum neigh_state */
	uint8_t tries;                  /* requests sent in this round */
	uint8_t n_held;                 /* frames in held */
	uint64_t created_ms;            /* when the entry was made (eviction order) */
	uint64_t confirmed_ms;          /* last answer (or update) */
	uint64_t next_ms;               /* next request, or the end of FAILED */
	struct rte_mbuf *held[NEIGH_HOLD]; /* frames waiting, oldest first */
	uint64_t held_seq[NEIGH_HOLD];  /* their sequence numbers (nc.seq) */
};

static struct {
	struct neigh_ent ents[NEIGH_MAX];   /* the cache */
	unsigned int n;                     /* slots used */
	unsigned int n_held;                /* frames held by all entries */
	uint64_t seq;                       /* sequence number of the next held frame */
	bool bucket_started;                /* tokens/refill_ms are set */
	uint64_t tokens;                    /* new entries allowed, in 1/1000 */
	uint64_t refill_ms;                 /* when tokens were last refilled */
	neigh_xmit_fn xmit;                 /* how frames leave; NULL: they do not */
	struct neigh_counters cnt;          /* counters */
} nc;

void
ctl_neigh_init(struct ctl *c)
{
	(void)c;
	for (unsigned int i = 0; i < NEIGH_MAX; i++)
		for (unsigned int k = 0; k < nc.ents[i].n_held; k++)
			rte_pktmbuf_free(nc.ents[i].held[k]);
	memset(&nc, 0, sizeof(nc));
}

void
ctl_neigh_set_xmit(neigh_xmit_fn xmit)
{
	nc.xmit = xmit;
}

static struct neigh_ent *
neigh_find(uint16_t domain, uint32_t ip)
{
	for (unsigned int i = 0; i < NEIGH_MAX; i++)
		if (nc.ents[i].used && nc.ents[i].domain == domain && nc.ents[i].ip == ip)
			return &nc.ents[i];
	return NULL;
}

static void
neigh_drop_held(struct neigh_ent *e)
{
	for (unsigned int k = 0; k < e->n_held; k++)
		rte_pktmbuf_free(e->held[k]);
	nc.cnt.held_dropped += e->n_held;
	nc.n_held -= e->n_held;
	e->n_held = 0;
}

/* Drop the oldest frame e holds. */
static void
neigh_drop_oldest(struct neigh_ent *e)
{
	rte_pktmbuf_free(e->held[0]);
	memmove(&e->held[0], &e->held[1], (NEIGH_HOLD - 1) * sizeof(e->held[0]));
	memmove(&e->held_seq[0], &e->held_seq[1], (NEIGH_HOLD - 1) * sizeof(e->held_seq[0]));
	e->n_held--;
	nc.n_held--;
	nc.cnt.held_dropped++;
}

/*
 * A slot for a new next hop: a free one; when the table is full, that of a
 * FAILED entry, else of the oldest INCOMPLETE one (a scan of the uplink
 * network must not lock legitimate next hops out). Learned entries stay.
 */
static struct neigh_ent *
neigh_slot(void)
{
	struct neigh_ent *failed = NULL, *oldest = NULL;

	for (unsigned int i = 0; i < NEIGH_MAX; i++) {
		struct neigh_ent *e = &nc.ents[i];

		if (!e->used)
			return e;
		if (e->state == NEIGH_S_FAILED && failed == NULL)
			failed = e;
		else if (e->state == NEIGH_S_INCOMPLETE &&
			 (oldest == NULL || e->created_ms < oldest->created_ms))
			oldest = e;
	}
	if (failed == NULL)
		failed = oldest;
	if (failed != NULL) {
		neigh_drop_held(failed);
		failed->used = false;
		nc.n--;
		nc.cnt.evicted++;
	}
	return failed;
}

static struct neigh_ent *
neigh_new(uint16_t domain, uint32_t ip, uint64_t now_ms)
{
	struct neigh_ent *e = neigh_slot();

	if (e == NULL)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->used = true;
	e->domain = domain;
	e->ip = ip;
	e->created_ms = now_ms;
	nc.n++;
	return e;
}

/* The token bucket of new entries: may one more be made now? (Not taken.) */
static bool
neigh_new_allowed(uint64_t now_ms)
{
	const uint64_t full = NEIGH_NEW_BURST * 1000ull;

	if (!nc.bucket_started) {
		nc.bucket_started = true;
		nc.tokens = full;
		nc.refill_ms = now_ms;
	}
	if (now_ms > nc.refill_ms) {
		uint64_t add = (now_ms - nc.refill_ms) * NEIGH_NEW_PER_S;

		nc.tokens = add >= full || nc.tokens + add >= full ? full : nc.tokens + add;
	}
	nc.refill_ms = now_ms; /* also when time went back */
	return nc.tokens >= 1000;
}

/* The frame held for too long of all (the smallest sequence number). */
static void
neigh_drop_oldest_held(void)
{
	struct neigh_ent *oldest = NULL;

	for (unsigned int i = 0; i < NEIGH_MAX; i++) {
		struct neigh_ent *e = &nc.ents[i];

		if (e->used && e->n_held > 0 &&
		    (oldest == NULL || e->held_seq[0] < oldest->held_seq[0]))
			oldest = e;
	}
	if (oldest != NULL)
		neigh_drop_oldest(oldest);
}

static void
neigh_free(struct neigh_ent *e)
{
	neigh_drop_held(e);
	e->used = false;
	nc.n--;
}

static int
neigh_send(struct ctl *c, struct rte_mbuf *m)
{
	if (nc.xmit == NULL || nc.xmit(c, m) < 0) {
		rte_pktmbuf_free(m);
		nc.cnt.xmit_dropped++;
		return -ENOBUFS;
	}
	return 0;
}

/* The port of a resolving domain: its only member (the uplink is alone in u). */
static uint16_t
neigh_domain_port(struct ctl *c, uint16_t domain)
{
	const struct dp_view *v = dp_view_get(c->dp);

	if (domain >= DP_MAX_DOMAINS || v->domains[domain].n_ports == 0)
		return RTE_MAX_ETHPORTS;
	return v->domains[domain].ports[0];
}

/*
 * An ARP frame from dpnet in domain: op (request/reply), from (sha, sip) to
 * (tha, tip); tha NULL: a broadcast request (target MAC zero).
 */
static struct rte_mbuf *
neigh_arp_frame(struct ctl *c, uint16_t domain, uint16_t port, uint16_t op,
		const struct rte_ether_addr *sha, uint32_t sip, const struct rte_ether_addr *tha,
		uint32_t tip)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(c->dp->pool);
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;
	struct pkt_meta *meta;

	if (m == NULL)
		return NULL;
	/* The Ethernet minimum (60 bytes without FCS): not every port pads. */
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, RTE_ETHER_MIN_LEN -
							 RTE_ETHER_CRC_LEN);
	if (eth == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memset(eth, 0, RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN);
	if (tha != NULL)
		rte_ether_addr_copy(tha, &eth->dst_addr);
	else
		memset(eth->dst_addr.addr_bytes, 0xff, RTE_ETHER_ADDR_LEN);
	rte_ether_addr_copy(sha, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	arp = (struct rte_arp_hdr *)(eth + 1);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(op);
	rte_ether_addr_copy(sha, &arp->arp_data.arp_sha);
	arp->arp_data.arp_sip = rte_cpu_to_be_32(sip);
	if (tha != NULL && op == RTE_ARP_OP_REPLY)
		rte_ether_addr_copy(tha, &arp->arp_data.arp_tha);
	arp->arp_data.arp_tip = rte_cpu_to_be_32(tip);
	meta = pkt_meta(m);
	memset(meta, 0, sizeof(*meta));
	meta->in_port = port;
	meta->out_port = port;
	meta->domain = domain;
	meta->l3_off = sizeof(*eth);
	meta->l4_off = PKT_OFF_NONE;
	meta->ether_type = RTE_ETHER_TYPE_ARP;
	meta->flags = PKT_F_ARP | (tha == NULL ? PKT_F_L2_BCAST | PKT_F_L2_MCAST : 0);
	return m;
}

/* A request for e->ip from the domain's address: broadcast, or unicast (probe). */
static void
neigh_request(struct ctl *c, struct neigh_ent *e, bool unicast)
{
	const struct dp_view *v = dp_view_get(c->dp);
	const struct dp_net_view *nv = &v->nets[e->domain];
	uint16_t port = neigh_domain_port(c, e->domain);
	struct rte_mbuf *m;

	if (port == RTE_MAX_ETHPORTS || nv->gw_ip == 0)
		return;
	m = neigh_arp_frame(c, e->domain, port, RTE_ARP_OP_REQUEST, &nv->gw_mac, nv->gw_ip,
			    unicast ? &e->mac : NULL, e->ip);
	if (m == NULL) {
		nc.cnt.xmit_dropped++;
		return;
	}
	if (neigh_send(c, m) == 0) {
		if (unicast)
			nc.cnt.probes++;
		else
			nc.cnt.requests++;
	}
}

/* A frame for e, whose MAC is known, leaves with it as its destination. */
static void
neigh_out(struct ctl *c, struct neigh_ent *e, uint16_t port, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	if (port == RTE_MAX_ETHPORTS) {
		rte_pktmbuf_free(m);
		nc.cnt.held_dropped++;
		return;
	}
	rte_ether_addr_copy(&e->mac, &eth->dst_addr);
	pkt_meta(m)->out_port = port;
	if (neigh_send(c, m) == 0)
		nc.cnt.held_sent++;
}

/* e's MAC is known: its held frames leave, in order. */
static void
neigh_release(struct ctl *c, struct neigh_ent *e)
{
	uint16_t port = neigh_domain_port(c, e->domain);

	for (unsigned int k = 0; k < e->n_held; k++)
		neigh_out(c, e, port, e->held[k]);
	nc.n_held -= e->n_held;
	e->n_held = 0;
}

/*
 * Does domain resolve its neighbours (DP_NET_F_RESOLVE, an address of its own)?
 * The workers punt only for such domains; a frame claiming another (out of
 * range, a bridge network, none) is refused before it indexes anything.
 */
static bool
neigh_domain_resolves(struct ctl *c, uint16_t domain)
{
	const struct dp_view *v = dp_view_get(c->dp);

	return domain < DP_MAX_DOMAINS && v->nets[domain].flags & DP_NET_F_RESOLVE &&
		v->nets[domain].gw_ip != 0;
}

void
ctl_neigh_miss(struct ctl *c, uint16_t domain, uint32_t nh, struct rte_mbuf *m,
	       uint64_t now_ms)
{
	struct neigh_ent *e;

	/* The frame gets its destination MAC written in place when it leaves:
	 * its first segment must hold an Ethernet header. */
	if (!neigh_domain_resolves(c, domain) ||
	    rte_pktmbuf_data_len(m) < sizeof(struct rte_ether_hdr)) {
		rte_pktmbuf_free(m);
		nc.cnt.held_dropped++;
		return;
	}
	e = neigh_find(domain, nh);
	if (e == NULL) {
		if (!neigh_new_allowed(now_ms)) {
			/* Too many new next hops (a scan?): no entry, no request. */
			rte_pktmbuf_free(m);
			nc.cnt.rate_limited++;
			nc.cnt.held_dropped++;
			return;
		}
		e = neigh_new(domain, nh, now_ms);
		if (e == NULL) {
			rte_pktmbuf_free(m);
			nc.cnt.held_dropped++;
			return;
		}
		nc.tokens -= 1000;
		e->state = NEIGH_S_INCOMPLETE;
		e->next_ms = now_ms; /* ask at once, below */
	}
	if (e->state == NEIGH_S_FAILED) {
		rte_pktmbuf_free(m);
		nc.cnt.held_dropped++;
		return;
	}
	if (e->state != NEIGH_S_INCOMPLETE) {
		/* Learned while this frame was on its way: send it now. */
		neigh_out(c, e, neigh_domain_port(c, e->domain), m);
		return;
	}
	if (e->n_held == NEIGH_HOLD)
		neigh_drop_oldest(e); /* the oldest goes, as Linux's unres_qlen */
	else if (nc.n_held >= NEIGH_HELD_MAX)
		neigh_drop_oldest_held(); /* the oldest of all goes */
	e->held_seq[e->n_held] = nc.seq++;
	e->held[e->n_held++] = m;
	nc.n_held++;
	nc.cnt.held++;
	if (e->tries == 0 && now_ms >= e->next_ms) {
		neigh_request(c, e, false);
		e->tries = 1;
		e->next_ms = now_ms + NEIGH_RETRY_MS;
	}
}

/* Learn (domain, ip) -> mac: install it for the workers, send what waited. */
static void
neigh_learn(struct ctl *c, struct neigh_ent *e, const struct rte_ether_addr *mac,
	    bool answer, uint64_t now_ms)
{
	char a[16], ms[24];
	bool changed = e->state == NEIGH_S_INCOMPLETE || e->state == NEIGH_S_FAILED ||
		!rte_is_same_ether_addr(&e->mac, mac);

	if (changed && l3_neigh_add(c->dp, e->domain, e->ip, mac) < 0) {
		CTL_LOG(WARNING, "neighbour %s: the neighbour table is full (%u entries)",
			cfg_format_ip(e->ip, a, sizeof(a)), l3_neigh_count(c->dp));
		return;
	}
	if (changed)
		CTL_LOG(INFO, "neighbour %s is at %s (domain %u)",
			cfg_format_ip(e->ip, a, sizeof(a)),
			ctl_format_mac(mac->addr_bytes, ms, sizeof(ms)), e->domain);
	rte_ether_addr_copy(mac, &e->mac);
	if (!answer && !changed && e->state == NEIGH_S_REACHABLE) {
		neigh_release(c, e); /* a gratuitous ARP repeating what we know */
		return;
	}
	e->state = answer ? NEIGH_S_REACHABLE : NEIGH_S_STALE;
	e->tries = 0;
	e->confirmed_ms = now_ms;
	e->next_ms = now_ms + NEIGH_REACHABLE_S * 1000ull;
	nc.cnt.learned++;
	neigh_release(c, e);
}

void
ctl_neigh_arp(struct ctl *c, uint16_t domain, struct rte_mbuf *m, uint64_t now_ms)
{
	const struct dp_view *v = dp_view_get(c->dp);
	const struct dp_net_view *nv;
	struct rte_arp_hdr ah, *arp = &ah;
	struct rte_ether_addr sha;
	struct pkt_meta *meta = pkt_meta(m);
	struct neigh_ent *e;
	uint32_t sip, tip;
	uint16_t op;

	if (!neigh_domain_resolves(c, domain) || meta->l3_off == PKT_OFF_NONE ||
	    rte_pktmbuf_data_len(m) < meta->l3_off + sizeof(*arp))
		goto out;
	nv = &v->nets[domain];
	/* A copy: nothing promises the header is aligned where l3_off puts it. */
	memcpy(&ah, rte_pktmbuf_mtod_offset(m, const uint8_t *, meta->l3_off), sizeof(ah));
	/* Only Ethernet/IPv4 ARP has its addresses where they are read below
	 * (parse.c refuses the rest; this does not rely on it). */
	if (arp->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
	    arp->arp_hlen != RTE_ETHER_ADDR_LEN || arp->arp_plen != 4)
		goto out;
	op = rte_be_to_cpu_16(arp->arp_opcode);
	sip = rte_be_to_cpu_32(arp->arp_data.arp_sip);
	tip = rte_be_to_cpu_32(arp->arp_data.arp_tip);
	rte_ether_addr_copy(&arp->arp_data.arp_sha, &sha);
	/* The workers checked it (inside the subnet, not ours); check again. */
	if (nv->gw_ip == 0 || sip == nv->gw_ip || sip == 0 ||
	    ((sip ^ nv->subnet) & cfg_prefix_mask(nv->prefix_len)) != 0 ||
	    !rte_is_valid_assigned_ether_addr(&sha))
		goto out;
	e = neigh_find(domain, sip);
	if (e == NULL || e->state == NEIGH_S_PERMANENT)
		goto out; /* nothing pending or known: no entry (Linux's arp_accept=0);
		           * a static entry is the operator's word, not ARP's */
	if (op == RTE_ARP_OP_REPLY && tip == nv->gw_ip)
		neigh_learn(c, e, &sha, true, now_ms);
	else if ((op == RTE_ARP_OP_REQUEST && (tip == nv->gw_ip || tip == sip)) ||
		 (op == RTE_ARP_OP_REPLY && tip == sip))
		/* A request for us, or gratuitous (a request or a reply for the
		 * sender's own address, both are sent): not an answer to us. */
		neigh_learn(c, e, &sha, false, now_ms);
out:
	rte_pktmbuf_free(m);
}

void
ctl_neigh_tick(struct ctl *c, uint64_t now_ms)
{
	char a[16];

	for (unsigned int i = 0; nc.n > 0 && i < NEIGH_MAX; i++) {
		struct neigh_ent *e = &nc.ents[i];

		if (!e->used || now_ms < e->next_ms)
			continue;
		switch (e->state) {
		case NEIGH_S_INCOMPLETE:
			if (e->tries < NEIGH_PROBES) {
				neigh_request(c, e, false);
				e->tries++;
				e->next_ms = now_ms + NEIGH_RETRY_MS;
				break;
			}
			CTL_LOG(INFO, "neighbour %s (domain %u) does not answer: FAILED for %d s",
				cfg_format_ip(e->ip, a, sizeof(a)), e->domain, NEIGH_FAILED_S);
			neigh_drop_held(e);
			e->state = NEIGH_S_FAILED;
			e->next_ms = now_ms + NEIGH_FAILED_S * 1000ull;
			nc.cnt.failed++;
			break;
		case NEIGH_S_FAILED:
			neigh_free(e); /* the next miss asks again */
			break;
		case NEIGH_S_REACHABLE:
		case NEIGH_S_STALE:
			e->state = NEIGH_S_PROBE;
			e->tries = 0;
			/* fall through */
		case NEIGH_S_PROBE:
			if (e->tries < NEIGH_PROBES) {
				neigh_request(c, e, true);
				e->tries++;
				e->next_ms = now_ms + NEIGH_RETRY_MS;
				break;
			}
			CTL_LOG(INFO, "neighbour %s (domain %u) stopped answering: removed",
				cfg_format_ip(e->ip, a, sizeof(a)), e->domain);
			l3_neigh_del(c->dp, e->domain, e->ip);
			nc.cnt.expired++;
			neigh_free(e);
			break;
		default:
			break;
		}
	}
}

void
ctl_neigh_announce(struct ctl *c, uint16_t domain, uint16_t port, uint32_t ip,
		   const struct rte_ether_addr *mac)
{
	struct rte_mbuf *m;

	/* Gratuitous ARP: a request for our own address, broadcast. */
	m = neigh_arp_frame(c, domain, port, RTE_ARP_OP_REQUEST, mac, ip, NULL, ip);
	if (m == NULL) {
		nc.cnt.xmit_dropped++;
		return;
	}
	if (neigh_send(c, m) == 0)
		nc.cnt.garps++;
}

void
ctl_neigh_flush(struct ctl *c, uint16_t domain)
{
	for (unsigned int i = 0; nc.n > 0 && i < NEIGH_MAX; i++) {
		struct neigh_ent *e = &nc.ents[i];

		if (!e->used || e->domain != domain)
			continue;
		if (e->state != NEIGH_S_INCOMPLETE && e->state != NEIGH_S_FAILED)
			l3_neigh_del(c->dp, e->domain, e->ip);
		neigh_free(e);
	}
}

json_t *
ctl_neigh_stats_json(void)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:i, "
			 "s:i}",
			 "requests", (json_int_t)nc.cnt.requests,
			 "probes", (json_int_t)nc.cnt.probes,
			 "garps", (json_int_t)nc.cnt.garps,
			 "learned", (json_int_t)nc.cnt.learned,
			 "held", (json_int_t)nc.cnt.held,
			 "held_sent", (json_int_t)nc.cnt.held_sent,
			 "held_dropped", (json_int_t)nc.cnt.held_dropped,
			 "failed", (json_int_t)nc.cnt.failed,
			 "expired", (json_int_t)nc.cnt.expired,
			 "xmit_dropped", (json_int_t)nc.cnt.xmit_dropped,
			 "evicted", (json_int_t)nc.cnt.evicted,
			 "rate_limited", (json_int_t)nc.cnt.rate_limited,
			 "pending", (int)nc.n, "held_now", (int)nc.n_held);
}

/* ---- neigh.ls ---- */

struct neigh_row {
	uint16_t domain;            /* where */
	uint32_t ip;                /* address */
	struct rte_ether_addr mac;  /* MAC (zero: none) */
	const char *state;          /* PERMANENT, or a learned state */
};

struct neigh_rows {
	struct neigh_row *rows;     /* growing array */
	size_t n, cap;              /* used, allocated */
	int err;                    /* -ENOMEM when it could not grow */
};

static int
neigh_row_add(struct neigh_rows *w, uint16_t domain, uint32_t ip,
	      const struct rte_ether_addr *mac, const char *state)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct neigh_row *r = realloc(w->rows, cap * sizeof(*r));

		if (r == NULL) {
			w->err = -ENOMEM;
			return 1;
		}
		w->rows = r;
		w->cap = cap;
	}
	w->rows[w->n].domain = domain;
	w->rows[w->n].ip = ip;
	if (mac != NULL)
		rte_ether_addr_copy(mac, &w->rows[w->n].mac);
	else
		memset(&w->rows[w->n].mac, 0, sizeof(w->rows[w->n].mac));
	w->rows[w->n].state = state;
	w->n++;
	return 0;
}

static int
neigh_collect(uint16_t domain, uint32_t ip, const struct rte_ether_addr *mac, void *arg)
{
	struct neigh_ent *e = neigh_find(domain, ip);

	return neigh_row_add(arg, domain, ip, mac, e != NULL ? neigh_state_names[e->state] :
			     "PERMANENT");
}

static int
neigh_cmp(const void *x, const void *y)
{
	const struct neigh_row *a = x, *b = y;

	if (a->domain != b->domain)
		return a->domain > b->domain ? -1 : 1; /* the uplink (255) first */
	return a->ip < b->ip ? -1 : a->ip > b->ip;
}

static const char *
neigh_network(struct ctl *c, uint16_t domain)
{
	struct net *n;

	if (domain == NET_DOMAIN_UPLINK)
		return "(uplink)";
	if (domain == NET_DOMAIN_HOST)
		return "(host)";
	n = net_by_domain(c->nets, domain);
	return n != NULL ? n->name : "?";
}

/* neigh.ls -> [{address, mac, state, network, domain}], as ip neigh. */
int
ctl_neigh_ls(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	static const char *const allowed[] = { NULL };
	struct neigh_rows w = { .n = 0 };
	json_t *arr;
	int rc;

	rc = ctl_args_allowed(args, "neigh.ls", allowed, err, errlen);
	if (rc < 0)
		return rc;
	l3_neigh_walk(c->dp, neigh_collect, &w);
	/* Learned ones without a MAC are not in the data plane's table. */
	for (unsigned int i = 0; w.err == 0 && i < NEIGH_MAX; i++) {
		const struct neigh_ent *e = &nc.ents[i];

		if (e->used && (e->state == NEIGH_S_INCOMPLETE || e->state == NEIGH_S_FAILED))
			neigh_row_add(&w, e->domain, e->ip, NULL, neigh_state_names[e->state]);
	}
	if (w.err < 0) {
		free(w.rows);
		return w.err;
	}
	if (w.n > 1) /* rows is NULL when empty: qsort must not get it */
		qsort(w.rows, w.n, sizeof(w.rows[0]), neigh_cmp);
	arr = json_array();
	for (size_t i = 0; arr != NULL && i < w.n; i++) {
		const struct neigh_row *r = &w.rows[i];
		char a[16], ms[24];
		json_t *o;

		o = json_pack("{s:s, s:s, s:s, s:s, s:i}",
			      "address", cfg_format_ip(r->ip, a, sizeof(a)),
			      "mac", rte_is_zero_ether_addr(&r->mac) ? "" :
			      ctl_format_mac(r->mac.addr_bytes, ms, sizeof(ms)),
			      "state", r->state, "network", neigh_network(c, r->domain),
			      "domain", (int)r->domain);
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

/* ---- static neighbours: neigh.add, neigh.rm, the "neighbours" state ---- */

/*
 * Where a static neighbour may live, as an operator means it: the uplink's
 * network (a NIC uplink: routers and hosts there that do not answer ARP, or
 * whose answer should not be trusted) or a bridge network (a VM or device on a
 * plain port with a fixed address, which routing could not reach otherwise:
 * bridge networks do not resolve, their neighbours are containers). Not an
 * overlay (its remote hosts come from peers and the cluster), not TAP mode's
 * uplink (its only neighbour is the host, installed by dpnet).
 */
static int
neigh_static_where(struct ctl *c, uint32_t ip, const char *netname, bool add, uint16_t *domain,
		   char *err, size_t errlen)
{
	/* The uplink's address and subnet, as the view has them (the uplink's
	 * domain: dpnet's address is its "gateway"; NIC mode resolves). */
	const struct dp_net_view *u = &dp_view_get(c->dp)->nets[NET_DOMAIN_UPLINK];
	uint32_t up_addr = u->gw_ip;
	uint8_t up_len = u->prefix_len;
	struct net *n = NULL;
	char a[16];

	cfg_format_ip(ip, a, sizeof(a));
	if (netname[0] != '\0') {
		n = net_find(c->nets, netname);
		if (n == NULL)
			return ctl_fail(err, errlen, -ENOENT, "no network \"%s\": see 'dpctl network "
					"ls' (omit --network for the uplink's network)", netname);
		if (n->driver != NET_DRIVER_BRIDGE || n->domain == NET_DOMAIN_NONE)
			return ctl_fail(err, errlen, -EINVAL, "network %s has no subnet of its own "
					"(driver %s): neighbours live in bridge networks and "
					"the uplink's network", n->name,
					n->driver == NET_DRIVER_HOST ? "host" : "null");
		if (((ip ^ n->subnet) & cfg_prefix_mask(n->prefix_len)) != 0)
			return ctl_fail(err, errlen, -EINVAL, "%s is not in network %s's subnet "
					"%s/%u", a, n->name, cfg_format_ip(n->subnet, (char[16]){0},
					16), n->prefix_len);
	} else if (up_addr != 0 && ((ip ^ up_addr) & cfg_prefix_mask(up_len)) == 0) {
		if (!(u->flags & DP_NET_F_RESOLVE))
			return ctl_fail(err, errlen, -EINVAL, "%s is on TAP mode's link to the host "
					"(dpnet0): its only neighbour is the host, which dpnet "
					"installs itself", a);
		*domain = NET_DOMAIN_UPLINK;
		return 0;
	} else {
		for (uint16_t d = 0; d < NET_MAX; d++) {
			struct net *m = net_by_domain(c->nets, d);

			if (m != NULL && m->driver == NET_DRIVER_BRIDGE && m->subnet != 0 &&
			    ((ip ^ m->subnet) & cfg_prefix_mask(m->prefix_len)) == 0) {
				n = m;
				break;
			}
		}
		if (n == NULL)
			return ctl_fail(err, errlen, -EINVAL, "%s is on no connected subnet (the "
					"uplink's%s or a bridge network's): a neighbour must be "
					"on a link of ours", a, up_addr != 0 ? "" : ", and there "
					"is no uplink address yet");
	}
	if (n->vni != 0)
		return ctl_fail(err, errlen, -EINVAL, "network %s is an overlay: its remote hosts "
				"come from its VXLAN peers (dpctl vxlan peer) and the cluster",
				n->name);
	if (ip == n->subnet || (n->prefix_len < 31 &&
				ip == (n->subnet | ~cfg_prefix_mask(n->prefix_len))))
		return ctl_fail(err, errlen, -EINVAL, "%s is the network or broadcast address of "
				"network %s", a, n->name);
	/* Outside the addresses handed to containers: IPAM never gives it out
	 * then, and a container asking for it with --ip is refused (uplink.c). */
	if (add && (n->ip_range_len == 0 ||
		    ((ip ^ n->ip_range) & cfg_prefix_mask(n->ip_range_len)) == 0))
		return ctl_fail(err, errlen, -EINVAL, "%s is in network %s's container range %s/%u: "
				"a static neighbour in a bridge network must be outside it "
				"(create the network with --ip-range to leave room)", a, n->name,
				cfg_format_ip(n->ip_range_len != 0 ? n->ip_range : n->subnet,
					      (char[16]){0}, 16),
				n->ip_range_len != 0 ? n->ip_range_len : n->prefix_len);
	*domain = n->domain;
	return 0;
}

struct neigh_probe {
	uint16_t domain;     /* wanted */
	uint32_t ip;
	bool found;
};

static int
neigh_probe_cb(uint16_t domain, uint32_t ip, const struct rte_ether_addr *mac, void *arg)
{
	struct neigh_probe *p = arg;

	(void)mac;
	if (domain == p->domain && ip == p->ip) {
		p->found = true;
		return 1; /* stop */
	}
	return 0;
}

/* Is (domain, ip) in the data plane's neighbour table? */
static bool
neigh_in_dp(struct ctl *c, uint16_t domain, uint32_t ip)
{
	struct neigh_probe p = { .domain = domain, .ip = ip, .found = false };

	l3_neigh_walk(c->dp, neigh_probe_cb, &p);
	return p.found;
}

/* Is ip dpnet's own in domain, or a container's there? Why, in err. */
static int
neigh_static_taken(struct ctl *c, uint16_t domain, uint32_t ip, char *err, size_t errlen)
{
	const struct dp_view *v = dp_view_get(c->dp);
	char a[16];

	cfg_format_ip(ip, a, sizeof(a));
	if (domain < DP_MAX_DOMAINS && ip == v->nets[domain].gw_ip)
		return ctl_fail(err, errlen, -EINVAL, "%s is dpnet's own address there", a);
	if (domain != NET_DOMAIN_UPLINK) {
		struct net *n = net_by_domain(c->nets, domain);

		for (unsigned int i = 0; n != NULL && i < n->n_eps; i++)
			if (n->eps[i].ip == ip)
				return ctl_fail(err, errlen, -EEXIST, "%s is container %s's address "
						"in network %s: dpnet knows its MAC", a,
						n->eps[i].name, n->name);
	}
	return 0;
}

/* The entry for a static neighbour: converted from a learned or pending one
 * (its held frames leave now), or a new slot. NULL: table full. */
static struct neigh_ent *
neigh_static_set(struct ctl *c, uint16_t domain, uint32_t ip, const struct rte_ether_addr *mac,
		 char *err, size_t errlen)
{
	struct neigh_ent *e = neigh_find(domain, ip);
	char a[16];
	int rc;

	cfg_format_ip(ip, a, sizeof(a));
	rc = l3_neigh_add(c->dp, domain, ip, mac);
	if (rc < 0) {
		ctl_fail(err, errlen, rc, "cannot add the neighbour %s: the data plane's "
			 "neighbour table is full (%u entries)", a, l3_neigh_count(c->dp));
		return NULL;
	}
	if (e == NULL)
		e = neigh_new(domain, ip, ctl_mono_ms());
	if (e == NULL) {
		l3_neigh_del(c->dp, domain, ip);
		ctl_fail(err, errlen, -ENOSPC, "cannot add the neighbour %s: %u neighbours are "
			 "known or static already (the most there can be)", a, NEIGH_MAX);
		return NULL;
	}
	rte_ether_addr_copy(mac, &e->mac);
	e->state = NEIGH_S_PERMANENT;
	e->tries = 0;
	e->next_ms = UINT64_MAX; /* never aged (ctl_neigh_tick) */
	neigh_release(c, e);
	return e;
}

static json_t *
neigh_static_json(struct ctl *c, const struct neigh_ent *e)
{
	char a[16], ms[24];

	return json_pack("{s:s, s:s, s:s, s:s, s:i}", "address",
			 cfg_format_ip(e->ip, a, sizeof(a)), "mac",
			 ctl_format_mac(e->mac.addr_bytes, ms, sizeof(ms)), "state",
			 neigh_state_names[e->state], "network", neigh_network(c, e->domain),
			 "domain", (int)e->domain);
}

/* The address and network arguments of neigh.add and neigh.rm. */
static int
neigh_static_args(struct ctl *c, json_t *args, bool add, uint32_t *ip, uint16_t *domain,
		  char *err, size_t errlen)
{
	char addr[64], netname[CFG_NET_NAME_MAX];
	int rc;

	rc = ctl_arg_str(args, "address", true, addr, sizeof(addr), err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "network", false, netname, sizeof(netname), err, errlen);
	if (rc < 0)
		return rc;
	if (cfg_parse_ip(addr, ip) < 0 || *ip == 0 || (*ip >> 28) >= 14)
		return ctl_fail(err, errlen, -EINVAL, "invalid neighbour address \"%s\": write a "
				"unicast IPv4 address, e.g. 192.0.2.10", addr);
	return neigh_static_where(c, *ip, netname, add, domain, err, errlen);
}

/* neigh.add {address, mac, network?} */
int
ctl_neigh_add(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	static const char *const allowed[] = { "address", "mac", "network", NULL };
	struct rte_ether_addr mac;
	struct neigh_ent *e;
	char macstr[64], a[16], ms[24], what[64];
	uint32_t ip;
	uint16_t domain;
	int rc;

	rc = ctl_args_allowed(args, "neigh.add", allowed, err, errlen);
	if (rc == 0)
		rc = ctl_arg_str(args, "mac", true, macstr, sizeof(macstr), err, errlen);
	if (rc == 0)
		rc = neigh_static_args(c, args, true, &ip, &domain, err, errlen);
	if (rc < 0)
		return rc;
	if (rte_ether_unformat_addr(macstr, &mac) != 0 || !rte_is_valid_assigned_ether_addr(&mac))
		return ctl_fail(err, errlen, -EINVAL, "invalid MAC \"%s\": write a unicast, "
				"non-zero address, e.g. 02:00:c0:00:02:0a", macstr);
	rc = neigh_static_taken(c, domain, ip, err, errlen);
	if (rc < 0)
		return rc;
	cfg_format_ip(ip, a, sizeof(a));
	e = neigh_find(domain, ip);
	if (e != NULL && e->state == NEIGH_S_PERMANENT)
		return ctl_fail(err, errlen, -EEXIST, "%s is a static neighbour already (at %s): "
				"remove it first with 'dpctl neigh rm %s'", a,
				ctl_format_mac(e->mac.addr_bytes, ms, sizeof(ms)), a);
	if (e == NULL && neigh_in_dp(c, domain, ip))
		return ctl_fail(err, errlen, -EEXIST, "%s is a neighbour dpnet installs itself "
				"(the host side, or a remote host of the cluster): it cannot be "
				"made static", a);
	e = neigh_static_set(c, domain, ip, &mac, err, errlen);
	if (e == NULL)
		return -ENOSPC;
	snprintf(what, sizeof(what), "neighbour %s not added", a);
	rc = state_commit(what, err, errlen);
	if (rc < 0) {
		/* Not kept: a neighbour that was learned before is simply resolved
		 * again at its next frame. */
		l3_neigh_del(c->dp, domain, ip);
		neigh_free(e);
		return rc;
	}
	CTL_LOG(INFO, "static neighbour %s is at %s (domain %u)", a,
		ctl_format_mac(mac.addr_bytes, ms, sizeof(ms)), domain);
	*result = neigh_static_json(c, e);
	return *result != NULL ? 0 : -ENOMEM;
}

/* neigh.rm {address, network?}: a static neighbour, or forget a learned one
 * (it is resolved again at the next frame, as ip neigh del). */
int
ctl_neigh_rm(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	static const char *const allowed[] = { "address", "network", NULL };
	struct neigh_ent *e, gone;
	char a[16], what[64], why[256];
	uint32_t ip;
	uint16_t domain;
	int rc;

	rc = ctl_args_allowed(args, "neigh.rm", allowed, err, errlen);
	if (rc == 0)
		rc = neigh_static_args(c, args, false, &ip, &domain, err, errlen);
	if (rc < 0)
		return rc;
	cfg_format_ip(ip, a, sizeof(a));
	e = neigh_find(domain, ip);
	if (e == NULL) {
		if (neigh_in_dp(c, domain, ip)) {
			rc = neigh_static_taken(c, domain, ip, err, errlen);
			if (rc < 0)
				return ctl_fail(err, errlen, -EPERM, "%s: it goes with its container "
						"(dpctl disconnect or rm), not with neigh rm",
						(snprintf(why, sizeof(why), "%s", err), why));
			return ctl_fail(err, errlen, -EPERM, "%s is a neighbour dpnet installs "
					"itself (the host side, or a remote host of the cluster): "
					"it goes with them, not with neigh rm", a);
		}
		return ctl_fail(err, errlen, -ENOENT, "no neighbour %s in %s: see 'dpctl neigh ls'",
				a, neigh_network(c, domain));
	}
	gone = *e;
	if (e->state != NEIGH_S_INCOMPLETE && e->state != NEIGH_S_FAILED)
		l3_neigh_del(c->dp, domain, ip);
	neigh_free(e);
	if (gone.state == NEIGH_S_PERMANENT) {
		snprintf(what, sizeof(what), "neighbour %s not removed", a);
		rc = state_commit(what, err, errlen);
		if (rc < 0) {
			if (neigh_static_set(c, domain, ip, &gone.mac, why, sizeof(why)) == NULL)
				state_err_append(err, errlen, "it was removed all the same and could "
						 "not be added again (%s): it comes back after a "
						 "restart", why);
			return rc;
		}
	}
	CTL_LOG(INFO, "neighbour %s (domain %u, %s) removed", a, domain,
		neigh_state_names[gone.state]);
	*result = json_pack("{s:s, s:s, s:s}", "address", a, "network",
			    neigh_network(c, domain), "state", neigh_state_names[gone.state]);
	return *result != NULL ? 0 : -ENOMEM;
}

bool
ctl_neigh_is_static(uint16_t domain, uint32_t ip)
{
	const struct neigh_ent *e = neigh_find(domain, ip);

	return e != NULL && e->state == NEIGH_S_PERMANENT;
}

int
ctl_neigh_busy(struct ctl *c, uint16_t domain, const char *what, char *err, size_t errlen)
{
	char a[16];

	for (unsigned int i = 0; nc.n > 0 && i < NEIGH_MAX; i++) {
		const struct neigh_ent *e = &nc.ents[i];

		if (!e->used || e->domain != domain || e->state != NEIGH_S_PERMANENT)
			continue;
		cfg_format_ip(e->ip, a, sizeof(a));
		return ctl_fail(err, errlen, -EBUSY, "the static neighbour %s is in %s: remove "
				"it first with 'dpctl neigh rm %s%s%s'", a, what, a,
				domain == NET_DOMAIN_UPLINK ? "" : " --network ",
				domain == NET_DOMAIN_UPLINK ? "" : neigh_network(c, domain));
	}
	return 0;
}

/* State: [{address, mac, network?}] - the static neighbours. */
static json_t *
neigh_state_dump(void *arg)
{
	struct ctl *c = arg;
	json_t *arr = json_array();

	for (unsigned int i = 0; arr != NULL && i < NEIGH_MAX; i++) {
		const struct neigh_ent *e = &nc.ents[i];
		char a[16], ms[24];
		json_t *o;

		if (!e->used || e->state != NEIGH_S_PERMANENT)
			continue;
		o = json_pack("{s:s, s:s}", "address", cfg_format_ip(e->ip, a, sizeof(a)), "mac",
			      ctl_format_mac(e->mac.addr_bytes, ms, sizeof(ms)));
		if (o != NULL && e->domain != NET_DOMAIN_UPLINK)
			json_object_set_new(o, "network", json_string(neigh_network(c, e->domain)));
		if (o == NULL || json_array_append_new(arr, o) < 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	return arr;
}

static int
neigh_state_restore(void *arg, json_t *val, char *err, size_t errlen)
{
	struct ctl *c = arg;
	size_t i;
	json_t *o;

	if (!json_is_array(val)) {
		snprintf(err, errlen, "\"neighbours\" is not an array");
		return -EINVAL;
	}
	json_array_foreach(val, i, o) {
		const char *addr = json_string_value(json_object_get(o, "address"));
		const char *macstr = json_string_value(json_object_get(o, "mac"));
		const char *netname = json_string_value(json_object_get(o, "network"));
		struct rte_ether_addr mac;
		char why[512] = "";
		uint32_t ip = 0;
		uint16_t domain;

		if (addr == NULL || macstr == NULL || cfg_parse_ip(addr, &ip) < 0 ||
		    rte_ether_unformat_addr(macstr, &mac) != 0 ||
		    !rte_is_valid_assigned_ether_addr(&mac)) {
			state_log(STATE_LOG_WARNING, "state: neighbours[%zu] is malformed: skipped",
				  i);
			continue;
		}
		if (neigh_static_where(c, ip, netname != NULL ? netname : "", true, &domain, why,
				       sizeof(why)) < 0 ||
		    neigh_static_taken(c, domain, ip, why, sizeof(why)) < 0 ||
		    neigh_static_set(c, domain, ip, &mac, why, sizeof(why)) == NULL)
			state_log(STATE_LOG_WARNING, "state: neighbour %s not restored: %s", addr,
				  why);
	}
	return 0;
}

int
ctl_neigh_state_register(struct ctl *c)
{
	return state_register("neighbours", STATE_ORDER_NEIGH, neigh_state_dump,
			      neigh_state_restore, c);
}
