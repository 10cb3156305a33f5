/*
 * nat.c - the NAT stage and its control API: connection tracking (ct.h) wired
 * in front of the L3 stage, DNAT for published ports, MASQUERADE to the
 * uplink address, hairpin SNAT, ICMP errors about translated connections,
 * the fragment and other-protocol rules. nat.h is the contract; this file is
 * its implementation and says only how.
 *
 * Fast path. Per chunk of at most DP_BURST frames, one pass builds the ct key
 * of every TCP, UDP and ICMP echo packet, one ct_lookup_bulk resolves them, and
 * a hit costs ct_conn_update (a CAS only when the state changes, a relaxed
 * store of last-seen) plus, when the connection is translated, the rewrite of
 * the fields that differ from ct_conn_xlate() with incremental checksums. No
 * lock and no other atomic: the rule table is loaded once per chunk.
 * Fragments, other protocols and ICMP errors are decided on the side.
 *
 * First packets (ct misses) follow nat.h's algorithm: rule lookup (two rte_hash
 * lookups at most, only for a destination that is a host address), route of the
 * translated destination (l3_route_lookup), SNAT choice, then ct_conn_new with
 * the reply key = the reverse of the translated tuple; when SNAT's reply key is
 * taken the next source port is tried. A miss whose key another packet of the
 * same burst (or another worker) created meanwhile finds it through
 * ct_conn_new's -EEXIST and is translated from that entry.
 *
 * Rules. An immutable struct nat_rules: an rte_hash from (proto, host_ip,
 * host_port) to an index in its rules[] array, and the sorted container
 * addresses (for the fragment rule). nat_rules_set builds a new one, publishes
 * the pointer with a release store and frees the old one after an RCU grace
 * period of dp->qs; each build has its own rte_hash name (a generation).
 *
 * Thread safety. nat_stage runs on workers: it reads the view, the routes, the
 * published rule table and the ct table lock-free, creates connections through
 * ct_conn_new (ct's writer lock) and writes its own nat_counters and the mbufs
 * it is given. nat_create, nat_free, nat_configure, nat_rules_set, nat_expire,
 * nat_flush_ip, nat_counters_sum are for the control thread (one at a time);
 * nat_configure only while no worker runs.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <netinet/ip_icmp.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "cksum.h"
#include "ct.h"
#include "l3_private.h"
#include "nat.h"
#include "offload.h"
#include "pipeline.h"
#include "pkt.h"

RTE_LOG_REGISTER(nat_logtype, dpnet.nat, NOTICE);
#define NAT_LOG(level, ...) \
	rte_log(RTE_LOG_##level, nat_logtype, "dpnetd: " #level ": nat: " __VA_ARGS__)

/* A rule's key in the rule hash: host byte order, explicit zero padding. */
struct nat_rkey {
	uint32_t host_ip;
	uint16_t host_port;
	uint8_t proto;
	uint8_t pad;
};

_Static_assert(sizeof(struct nat_rkey) == 8, "nat_rkey has no implicit padding");

/* One immutable rule set (see the file comment). */
struct nat_rules {
	struct rte_hash *hash;      /* nat_rkey -> index in rules[] */
	uint32_t *ctr_ips;          /* distinct container addresses, sorted, host order */
	uint32_t n_ctr;
	uint64_t *proto_ips;        /* distinct proto << 32 | host_ip, sorted (for
	                             * fragments without ports) */
	uint32_t n_proto_ip;
	uint32_t n;
	struct nat_rule rules[];    /* n rules as given */
};

struct nat {
	struct dp *dp;
	struct ct *ct;                           /* replaced only by nat_configure */
	struct nat_rules *rules;                 /* __atomic load/store; NULL: none */
	struct nat_params p;
	struct nat_counters *cnt[DP_MAX_WORKERS];
};

/* Unique names for rte_hash / ct tables across builds and data planes. */
static uint32_t nat_name_gen;

static uint32_t
nat_next_gen(void)
{
	return __atomic_fetch_add(&nat_name_gen, 1, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------ control API */

void
nat_params_default(struct nat_params *p)
{
	memset(p, 0, sizeof(*p));
	ct_params_default(&p->ct);
	/* Above Linux's ip_local_port_range (32768-60999): a port chosen on a
	 * collision is not one the host behind the host port picks next. */
	p->snat_port_lo = 61000;
	p->snat_port_hi = 65535;
}

static bool
nat_params_ok(const struct nat_params *p)
{
	return p != NULL && p->snat_port_lo >= 1 && p->snat_port_lo <= p->snat_port_hi;
}

static struct ct *
nat_ct_create(struct dp *dp, const struct nat_params *p)
{
	char name[24];

	snprintf(name, sizeof(name), "nat%u", nat_next_gen());
	return ct_create(name, &p->ct, dp->qs);
}

static void
nat_rules_free(struct nat_rules *rs)
{
	if (rs == NULL)
		return;
	rte_hash_free(rs->hash);
	rte_free(rs->ctr_ips);
	rte_free(rs->proto_ips);
	rte_free(rs);
}

struct nat *
nat_create(struct dp *dp, const struct nat_params *p)
{
	struct nat *nat;

	if (dp == NULL || !nat_params_ok(p)) {
		errno = EINVAL;
		return NULL;
	}
	nat = rte_zmalloc("nat", sizeof(*nat), RTE_CACHE_LINE_SIZE);
	if (nat == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	nat->dp = dp;
	nat->p = *p;
	nat->ct = nat_ct_create(dp, p);
	if (nat->ct == NULL) {
		int e = errno;

		nat_free(nat);
		errno = e;
		return NULL;
	}
	for (uint16_t w = 0; w < dp->n_workers; w++) {
		nat->cnt[w] = rte_zmalloc("nat_cnt", sizeof(struct nat_counters),
					  RTE_CACHE_LINE_SIZE);
		if (nat->cnt[w] == NULL) {
			nat_free(nat);
			errno = ENOMEM;
			return NULL;
		}
		if (dp->workers[w] != NULL)
			dp->workers[w]->nat_cnt = nat->cnt[w];
	}
	return nat;
}

void
nat_free(struct nat *nat)
{
	if (nat == NULL)
		return;
	for (uint16_t w = 0; w < DP_MAX_WORKERS; w++) {
		if (nat->cnt[w] == NULL)
			continue;
		if (nat->dp->workers[w] != NULL && nat->dp->workers[w]->nat_cnt == nat->cnt[w])
			nat->dp->workers[w]->nat_cnt = NULL;
		rte_free(nat->cnt[w]);
	}
	nat_rules_free(nat->rules);
	ct_free(nat->ct);
	rte_free(nat);
}

int
nat_configure(struct dp *dp, const struct nat_params *p)
{
	struct nat *nat = dp->nat;
	struct ct *ct;

	if (dp->n_launched)
		return -EBUSY;
	if (!nat_params_ok(p))
		return -EINVAL;
	ct = nat_ct_create(dp, p);
	if (ct == NULL)
		return errno ? -errno : -ENOMEM;
	/* No worker runs: nobody holds an entry of the old table. */
	ct_free(nat->ct);
	nat->ct = ct;
	nat->p = *p;
	return 0;
}

static int
nat_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int
nat_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
nat_rules_build(const struct nat_rule *rules, unsigned int n, struct nat_rules **out)
{
	struct rte_hash_parameters hp = {0};
	char hname[RTE_HASH_NAMESIZE];
	struct nat_rules *rs;
	int rc = -ENOMEM;

	rs = rte_zmalloc("nat_rules", sizeof(*rs) + n * sizeof(rs->rules[0]),
			 RTE_CACHE_LINE_SIZE);
	if (rs == NULL)
		return -ENOMEM;
	rs->n = n;
	memcpy(rs->rules, rules, n * sizeof(rules[0]));
	rs->ctr_ips = rte_malloc("nat_ctr_ips", n * sizeof(uint32_t), 0);
	rs->proto_ips = rte_malloc("nat_proto_ips", n * sizeof(uint64_t), 0);
	if (rs->ctr_ips == NULL || rs->proto_ips == NULL)
		goto fail;
	snprintf(hname, sizeof(hname), "natr%u", nat_next_gen());
	hp.name = hname;
	hp.entries = RTE_MAX(2 * n, 64u);
	hp.key_len = sizeof(struct nat_rkey);
	hp.hash_func = rte_hash_crc;
	hp.socket_id = (int)rte_socket_id();
	/* Built here, then only read: no concurrency flags needed. */
	hp.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
	rs->hash = rte_hash_create(&hp);
	if (rs->hash == NULL)
		goto fail;
	for (unsigned int i = 0; i < n; i++) {
		struct nat_rkey k = {.host_ip = rules[i].host_ip, .host_port = rules[i].host_port,
				     .proto = rules[i].proto};

		if (rte_hash_lookup(rs->hash, &k) >= 0) {
			rc = -EEXIST;
			goto fail;
		}
		if (rte_hash_add_key_data(rs->hash, &k, (void *)(uintptr_t)i) != 0)
			goto fail;
		rs->ctr_ips[i] = rules[i].ctr_ip;
		rs->proto_ips[i] = (uint64_t)rules[i].proto << 32 | rules[i].host_ip;
	}
	qsort(rs->ctr_ips, n, sizeof(uint32_t), nat_cmp_u32);
	for (unsigned int i = 0; i < n; i++)
		if (i == 0 || rs->ctr_ips[i] != rs->ctr_ips[rs->n_ctr - 1])
			rs->ctr_ips[rs->n_ctr++] = rs->ctr_ips[i];
	qsort(rs->proto_ips, n, sizeof(uint64_t), nat_cmp_u64);
	for (unsigned int i = 0; i < n; i++)
		if (i == 0 || rs->proto_ips[i] != rs->proto_ips[rs->n_proto_ip - 1])
			rs->proto_ips[rs->n_proto_ip++] = rs->proto_ips[i];
	*out = rs;
	return 0;
fail:
	nat_rules_free(rs);
	return rc;
}

int
nat_rules_set(struct dp *dp, const struct nat_rule *rules, unsigned int n)
{
	struct nat *nat = dp->nat;
	uint8_t seen[NAT_MAX_RULES / 8] = {0};
	struct nat_rules *rs = NULL, *old;
	int rc;

	if (n > NAT_MAX_RULES || (n > 0 && rules == NULL))
		return -EINVAL;
	for (unsigned int i = 0; i < n; i++) {
		const struct nat_rule *r = &rules[i];

		if ((r->proto != IPPROTO_TCP && r->proto != IPPROTO_UDP) ||
		    r->id >= NAT_MAX_RULES || seen[r->id / 8] & (1u << (r->id % 8)) ||
		    r->ctr_ip == 0)
			return -EINVAL;
		seen[r->id / 8] |= (uint8_t)(1u << (r->id % 8));
	}
	if (n > 0) {
		rc = nat_rules_build(rules, n, &rs);
		if (rc != 0)
			return rc;
	}
	old = __atomic_exchange_n(&nat->rules, rs, __ATOMIC_RELEASE);
	if (old != NULL) {
		/* Every worker has finished the loop that might still read old. */
		rte_rcu_qsbr_synchronize(dp->qs, RTE_QSBR_THRID_INVALID);
		nat_rules_free(old);
	}
	return 0;
}

void
nat_counters_sum(const struct dp *dp, struct nat_counters *out)
{
	const struct nat *nat = dp->nat;

	memset(out, 0, sizeof(*out));
	for (uint16_t w = 0; w < dp->n_workers; w++) {
		const uint64_t *src = (const uint64_t *)nat->cnt[w];
		uint64_t *dst = (uint64_t *)out;

		if (src == NULL)
			continue;
		for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
			dst[i] += __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	}
}

_Static_assert(sizeof(struct nat_counters) % sizeof(uint64_t) == 0,
	       "nat_counters is summed as an array of uint64_t");

struct ct *
nat_ct(const struct dp *dp)
{
	return dp->nat->ct;
}

unsigned int
nat_expire(struct dp *dp, unsigned int budget)
{
	return ct_expire(dp->nat->ct, rte_rdtsc(), budget);
}

struct nat_flush_arg {
	struct ct *ct;
	rte_be32_t ip;
	unsigned int n;
};

static int
nat_flush_cb(const struct ct_conn *c, void *arg)
{
	struct nat_flush_arg *a = arg;

	for (unsigned int d = 0; d < 2; d++) {
		if (c->key[d].src_ip == a->ip || c->key[d].dst_ip == a->ip) {
			/* ct_walk holds no lock: deleting the entry it visits is safe. */
			if (ct_conn_delete(a->ct, (struct ct_conn *)(uintptr_t)c) == 0)
				a->n++;
			break;
		}
	}
	return 0;
}

unsigned int
nat_flush_ip(struct dp *dp, uint32_t ip)
{
	struct nat_flush_arg a = {.ct = dp->nat->ct, .ip = rte_cpu_to_be_32(ip)};

	if (ip == 0)
		return 0;
	ct_walk(a.ct, nat_flush_cb, &a);
	return a.n;
}

/* --------------------------------------------------------------- helpers */

static inline void
nat_drop(struct pkt_meta *meta, enum dp_drop reason)
{
	meta->next = PL_NEXT_DROP;
	meta->drop_reason = reason;
}

/* The uplink's domain, or DP_DOMAIN_NONE (nat.h: the uplink present). */
static inline uint16_t
nat_uplink_dom(const struct dp_view *v)
{
	uint16_t up = v->uplink_port;

	if (up >= RTE_MAX_ETHPORTS || !v->ports[up].present ||
	    v->ports[up].domain >= DP_MAX_DOMAINS)
		return DP_DOMAIN_NONE;
	return v->ports[up].domain;
}

/* Hand the route of the packet's current destination, and the header check
 * already done, to the L3 stage (pkt.h PKT_F_RT). */
static inline void
nat_pass_route(const struct lcore_ctx *ctx, struct pkt_meta *meta, const struct l3_nexthop *nh)
{
	meta->flags |= PKT_F_RT;
	meta->rt_nh = nh != NULL ? (uint16_t)(nh - ctx->l3->nh) : PKT_RT_NONE;
}

/* The output domain of a route (l3_route_lookup's answer), DP_DOMAIN_NONE if none. */
static inline uint16_t
nat_nh_dom(const struct l3_nexthop *nh)
{
	if (nh == NULL || nh->type == L3_NH_BLACKHOLE || nh->domain >= DP_MAX_DOMAINS)
		return DP_DOMAIN_NONE;
	return nh->domain;
}

/* Output domain of dst (host order) by the routes, DP_DOMAIN_NONE if none. */
static inline uint16_t
nat_out_dom(const struct l3_tables *l3, uint32_t dst)
{
	return nat_nh_dom(l3_route_lookup(l3, dst));
}

/* Is dst (host order) a host address: the uplink address or a gateway's? nh is
 * dst's route (l3_route_lookup). */
static inline bool
nat_is_host_nh(const struct dp_view *v, const struct l3_nexthop *nh, uint16_t in_dom,
	       uint32_t dst, uint32_t up_ip)
{
	if (dst == 0)
		return false;
	if (dst == up_ip || (dst == v->nets[in_dom].gw_ip && v->nets[in_dom].flags & DP_NET_F_L3))
		return true;
	/* Any other network's gateway address, recognised through its route. */
	return nh != NULL && nh->type == L3_NH_CONNECTED && nh->domain < DP_MAX_DOMAINS &&
		v->nets[nh->domain].flags & DP_NET_F_L3 && v->nets[nh->domain].gw_ip == dst;
}

static inline bool
nat_is_host(const struct dp_view *v, const struct l3_tables *l3, uint16_t in_dom,
	    uint32_t dst, uint32_t up_ip)
{
	return nat_is_host_nh(v, l3_route_lookup(l3, dst), in_dom, dst, up_ip);
}

/* Is the packet's destination a host address (seen from its ingress domain)? */
static inline bool
nat_dst_is_host(const struct lcore_ctx *ctx, const struct pkt_meta *meta,
		const struct rte_ipv4_hdr *ip)
{
	const struct dp_view *v = ctx->view;
	uint16_t u = nat_uplink_dom(v);

	return nat_is_host(v, ctx->l3, meta->domain, rte_be_to_cpu_32(ip->dst_addr),
			   u != DP_DOMAIN_NONE ? v->nets[u].gw_ip : 0);
}

/* A bridge network: routed, neither the uplink, the host's exception path
 * (neigh.h: the host's traffic leaves with its own address) nor internal. */
static inline bool
nat_is_bridge(const struct dp_net_view *n)
{
	return (n->flags & (DP_NET_F_L3 | DP_NET_F_UPLINK | DP_NET_F_HOST | DP_NET_F_INTERNAL)) ==
		DP_NET_F_L3;
}

static bool
nat_is_ctr_ip(const struct nat_rules *rs, uint32_t ip)
{
	if (rs == NULL)
		return false;
	return bsearch(&ip, rs->ctr_ips, rs->n_ctr, sizeof(uint32_t), nat_cmp_u32) != NULL;
}

static inline const struct nat_rule *
nat_rule_find(const struct nat_rules *rs, uint8_t proto, uint32_t host_ip, uint16_t port)
{
	struct nat_rkey k = {.host_ip = host_ip, .host_port = port, .proto = proto};
	void *data;

	if (rte_hash_lookup_data(rs->hash, &k, &data) >= 0)
		return &rs->rules[(uintptr_t)data];
	k.host_ip = 0;
	if (rte_hash_lookup_data(rs->hash, &k, &data) >= 0)
		return &rs->rules[(uintptr_t)data];
	return NULL;
}

/* Is any rule published for proto on host_ip (host order), itself or 0.0.0.0? */
static bool
nat_rules_any(const struct nat_rules *rs, uint8_t proto, uint32_t host_ip)
{
	uint64_t k;

	if (rs == NULL)
		return false;
	k = (uint64_t)proto << 32 | host_ip;
	if (bsearch(&k, rs->proto_ips, rs->n_proto_ip, sizeof(k), nat_cmp_u64) != NULL)
		return true;
	k = (uint64_t)proto << 32;
	return bsearch(&k, rs->proto_ips, rs->n_proto_ip, sizeof(k), nat_cmp_u64) != NULL;
}

/*
 * Is the packet for the host behind the host port (neigh.h): its destination
 * the uplink address while a host port is there to take it? Then it is the
 * host's unless a published port claims it (nat.h).
 */
static inline bool
nat_for_host_port(const struct dp_view *v, const struct rte_ipv4_hdr *ip)
{
	uint16_t hp = v->host_port, u, d;

	if (likely(hp >= RTE_MAX_ETHPORTS) || !v->ports[hp].present)
		return false;
	d = v->ports[hp].domain;
	if (d >= DP_MAX_DOMAINS ||
	    (v->nets[d].flags & (DP_NET_F_L3 | DP_NET_F_HOST)) != (DP_NET_F_L3 | DP_NET_F_HOST))
		return false;
	u = nat_uplink_dom(v);
	return u != DP_DOMAIN_NONE && v->nets[u].gw_ip != 0 &&
		rte_be_to_cpu_32(ip->dst_addr) == v->nets[u].gw_ip;
}

/* A fragment for the host port's address: does a published port claim it? A
 * first fragment (its ports parsed) when a rule matches its destination port;
 * a later one (no ports) when any rule is published for its protocol there. */
static bool
nat_frag_published(const struct nat_rules *rs, const struct pkt_meta *meta,
		   const struct rte_ipv4_hdr *ip, const uint8_t *p)
{
	uint8_t proto = ip->next_proto_id;
	uint32_t dst = rte_be_to_cpu_32(ip->dst_addr);
	rte_be16_t dport;

	if (rs == NULL || (proto != IPPROTO_TCP && proto != IPPROTO_UDP))
		return false;
	if (meta->l4_off == PKT_OFF_NONE)
		return nat_rules_any(rs, proto, dst);
	memcpy(&dport, p + meta->l4_off + 2, sizeof(dport));
	return nat_rule_find(rs, proto, dst, rte_be_to_cpu_16(dport)) != NULL;
}

/*
 * Would a packet that cannot be translated (a fragment, another protocol)
 * need NAT? nat.h: its destination is a host address, or it is a bridge
 * network's traffic routed to the uplink that MASQUERADE (an uplink address
 * is set) or a published port's reverse translation (its source is a rule's
 * container address) would rewrite.
 */
static bool
nat_would_translate(const struct lcore_ctx *ctx, const struct nat_rules *rs,
		    const struct pkt_meta *meta, const struct rte_ipv4_hdr *ip)
{
	const struct dp_view *v = ctx->view;
	uint16_t u = nat_uplink_dom(v);
	uint32_t up_ip = u != DP_DOMAIN_NONE ? v->nets[u].gw_ip : 0;
	uint32_t dst = rte_be_to_cpu_32(ip->dst_addr);

	if (dst == 0 || dst >= 0xE0000000)
		return false;
	if (nat_is_host(v, ctx->l3, meta->domain, dst, up_ip))
		return true;
	if (u == DP_DOMAIN_NONE || !nat_is_bridge(&v->nets[meta->domain]) ||
	    nat_out_dom(ctx->l3, dst) != u)
		return false;
	return up_ip != 0 || nat_is_ctr_ip(rs, rte_be_to_cpu_32(ip->src_addr));
}

/*
 * The same rewrite for a TCP/UDP frame whose L4 checksum is partial
 * (offload.h): its field holds the uncomplemented pseudo-header sum, which
 * follows an address change with dp_csum_partial_replace4 and does not
 * include the ports (they are summed when the checksum is finished). The
 * IPv4 header checksum is complete and follows RFC 1624 as for any frame.
 */
static __rte_noinline void
nat_rewrite_partial(struct rte_ipv4_hdr *ip, void *l4, const struct ct_key *cur,
		    const struct ct_key *want)
{
	uint8_t *fp = (uint8_t *)l4 + (cur->proto == IPPROTO_TCP ?
				       offsetof(struct rte_tcp_hdr, cksum) :
				       offsetof(struct rte_udp_hdr, dgram_cksum));
	uint16_t field;

	/* Copied out: the headers are packed, the field may be unaligned. */
	memcpy(&field, fp, sizeof(field));
	if (cur->src_ip != want->src_ip) {
		dp_csum_partial_replace4(&field, ip->src_addr, want->src_ip);
		cksum_rewrite_addr(ip, NULL, cur->proto, true, want->src_ip);
	}
	if (cur->dst_ip != want->dst_ip) {
		dp_csum_partial_replace4(&field, ip->dst_addr, want->dst_ip);
		cksum_rewrite_addr(ip, NULL, cur->proto, false, want->dst_ip);
	}
	memcpy(fp, &field, sizeof(field));
	/* Both protocols keep the ports in the first four bytes. */
	memcpy((uint8_t *)l4, &want->src_port, sizeof(want->src_port));
	memcpy((uint8_t *)l4 + 2, &want->dst_port, sizeof(want->dst_port));
}

/* Rewrite a packet whose tuple is cur so that it reads want (network order);
 * only the fields that differ, with incremental checksums (cksum.h). m: the
 * frame, whose L4 checksum may be partial (offload.h; only TCP and UDP can
 * be, the parser sees to that). */
static inline void
nat_rewrite(const struct rte_mbuf *m, struct rte_ipv4_hdr *ip, void *l4,
	    const struct ct_key *cur, const struct ct_key *want)
{
	uint8_t proto = cur->proto;
	/* ICMP's checksum does not cover the addresses. */
	void *l4c = proto == IPPROTO_ICMP ? NULL : l4;

	if (unlikely(m->ol_flags & RTE_MBUF_F_TX_L4_MASK)) {
		nat_rewrite_partial(ip, l4, cur, want);
		return;
	}
	if (cur->src_ip != want->src_ip)
		cksum_rewrite_addr(ip, l4c, proto, true, want->src_ip);
	if (cur->dst_ip != want->dst_ip)
		cksum_rewrite_addr(ip, l4c, proto, false, want->dst_ip);
	/* An echo carries its id in both "ports": one rewrite. */
	if (cur->src_port != want->src_port)
		cksum_rewrite_port(l4, proto, true, want->src_port);
	if (proto != IPPROTO_ICMP && cur->dst_port != want->dst_port)
		cksum_rewrite_port(l4, proto, false, want->dst_port);
}

_Static_assert(CT_DOM_ANY == DP_DOMAIN_NONE, "no output domain is any domain");

/* Did a packet of direction dir of c arrive in the domain that direction
 * comes from (nat.h)? */
static inline bool
nat_dom_ok(const struct ct_conn *c, unsigned int dir, uint16_t dom)
{
	return c->dom[dir] == dom || c->dom[dir] == CT_DOM_ANY;
}

/* A packet of a known connection c in direction dir: state, then translation.
 * From another domain than that direction's: dropped (ct-invalid), neither
 * counted in the connection's state nor translated (PKT_F_NAT would let it
 * past isolation). */
static inline void
nat_apply(struct lcore_ctx *ctx, struct ct *ct, struct ct_conn *c, unsigned int dir,
	  uint8_t l4f, const struct rte_mbuf *m, struct pkt_meta *meta, struct rte_ipv4_hdr *ip,
	  void *l4, const struct ct_key *cur)
{
	if (unlikely(!nat_dom_ok(c, dir, meta->domain))) {
		nat_drop(meta, DP_DROP_CT_INVALID);
		return;
	}
	ct_conn_update(ct, c, dir, l4f, ctx->now_tsc);
	if (c->nat) {
		struct ct_key want;

		ct_conn_xlate(c, dir, &want);
		nat_rewrite(m, ip, l4, cur, &want);
		meta->flags |= PKT_F_NAT;
		ctx->nat_cnt->translated++;
	}
}

/* ------------------------------------------------------- first packets */

enum nat_kind { NAT_K_NONE, NAT_K_MASQ, NAT_K_HAIRPIN };

/*
 * A packet whose key missed (nat.h "First packet of a connection"). Leaves
 * meta->next at L3 (routed, translated or not) or sets DROP.
 */
static void
nat_first(struct lcore_ctx *ctx, struct ct *ct, const struct nat_rules *rs,
	  const struct nat_params *np, struct rte_mbuf *m, struct pkt_meta *meta,
	  struct rte_ipv4_hdr *ip, void *l4, const struct ct_key *key, uint8_t l4f)
{
	const struct dp_view *v = ctx->view;
	struct nat_counters *nc = ctx->nat_cnt;
	uint16_t in = meta->domain, u = nat_uplink_dom(v), out, doms[2];
	uint32_t up_ip = u != DP_DOMAIN_NONE ? v->nets[u].gw_ip : 0;
	uint32_t dst = rte_be_to_cpu_32(ip->dst_addr), snat = 0, h = 0;
	const struct nat_rule *r = NULL;
	const struct l3_nexthop *nh, *dst_nh;
	enum nat_kind kind = NAT_K_NONE;
	struct ct_key x = *key, reply;
	struct ct_conn *c = NULL;
	unsigned int tries, range;
	uint8_t natf = 0;
	bool host;
	int rc = -EINVAL;

	/* Never routed (L3 drops them), or dropped by L3 for a bad header: no entry. */
	if (unlikely(dst == 0 || dst >= 0xE0000000 || !cksum_ipv4_hdr_ok(m, ip)))
		return;
	nh = dst_nh = l3_route_lookup(ctx->l3, dst);
	host = nat_is_host_nh(v, nh, in, dst, up_ip);
	/* 1. DNAT: a published port on a host address (not from an internal network). */
	if (host && rs != NULL && key->proto != IPPROTO_ICMP &&
	    !(v->nets[in].flags & DP_NET_F_INTERNAL)) {
		r = nat_rule_find(rs, key->proto, dst, rte_be_to_cpu_16(key->dst_port));
		if (r != NULL) {
			x.dst_ip = rte_cpu_to_be_32(r->ctr_ip);
			x.dst_port = rte_cpu_to_be_16(r->ctr_port);
			natf |= CT_NAT_DST;
		}
	}
	/* 2. Where the (translated) destination goes. A rule's container in an
	 * --internal network is not reachable through a published port (Docker
	 * publishes nothing there): left untranslated, local to the host. */
	if (r != NULL)
		nh = l3_route_lookup(ctx->l3, rte_be_to_cpu_32(x.dst_ip));
	out = nat_nh_dom(nh);
	if (r != NULL && out != DP_DOMAIN_NONE && v->nets[out].flags & DP_NET_F_INTERNAL) {
		r = NULL;
		x = *key;
		natf = 0;
		nh = dst_nh;
		out = nat_nh_dom(nh);
	}
	/* 3. SNAT. A host address is local, never masqueraded. */
	if (r == NULL && !host && u != DP_DOMAIN_NONE && out == u && up_ip != 0 &&
	    nat_is_bridge(&v->nets[in])) {
		snat = up_ip;
		kind = NAT_K_MASQ;
	} else if (r != NULL && in != u && out != DP_DOMAIN_NONE && v->nets[out].gw_ip != 0) {
		snat = v->nets[out].gw_ip;
		kind = NAT_K_HAIRPIN;
	}
	/* 4. Tracked? Not what is for a host address and not DNATed: it is local,
	 * never translated, and scans of the uplink address fill no table. */
	if (natf == 0 && snat == 0 && (host || u == DP_DOMAIN_NONE || (in != u && out != u))) {
		nc->untracked++;
		nat_pass_route(ctx, meta, nh);
		return;
	}
	if (snat != 0) {
		x.src_ip = rte_cpu_to_be_32(snat);
		natf |= CT_NAT_SRC;
	}
	/* Replies come from where the route sends the first packet. */
	doms[CT_DIR_ORIG] = in;
	doms[CT_DIR_REPLY] = out;
	tries = natf & CT_NAT_SRC ? NAT_PORT_TRIES : 1;
	range = (unsigned int)np->snat_port_hi - np->snat_port_lo + 1;
	for (unsigned int t = 0; t < tries; t++) {
		if (t > 0) {
			/* Another port of the range, from a hash of the tuple. */
			rte_be16_t port;

			if (t == 1)
				h = rte_hash_crc(key, sizeof(*key), 0);
			port = rte_cpu_to_be_16((uint16_t)(np->snat_port_lo + (h + t) % range));
			x.src_port = port;
			if (x.proto == IPPROTO_ICMP)
				x.dst_port = port;
		}
		ct_key_reverse(&x, &reply);
		rc = ct_conn_new_dom(ct, key, &reply, natf, doms, l4f, ctx->now_tsc, &c);
		if (rc != -EEXIST)
			break;
		/* Created meanwhile (this burst, another worker): translate from it. */
		if (memcmp(&c->key[CT_DIR_ORIG], key, sizeof(*key)) == 0) {
			nat_apply(ctx, ct, c, CT_DIR_ORIG, l4f, m, meta, ip, l4, key);
			return;
		}
		if (memcmp(&c->key[CT_DIR_REPLY], key, sizeof(*key)) == 0) {
			nat_apply(ctx, ct, c, CT_DIR_REPLY, l4f, m, meta, ip, l4, key);
			return;
		}
		/* The reply key is another connection's: next port. */
	}
	switch (rc) {
	case 0:
		break;
	case -ENOSPC:
		nat_drop(meta, DP_DROP_CT_FULL);
		return;
	case -EEXIST:
		/* Not translated, and its reply key is another connection's: that
		 * one is translated (an untranslated one holding our reply key holds
		 * our key too), e.g. the host behind the host port using a port a
		 * masqueraded container holds towards the same destination. Routed,
		 * its answer would go to that connection's container: dropped. */
		nat_drop(meta, natf == 0 ? DP_DROP_CT_INVALID : DP_DROP_NAT_NO_PORT);
		return;
	default:
		if (natf != 0) {
			nat_drop(meta, DP_DROP_CT_INVALID);
			return;
		}
		nc->untracked++;
		nat_pass_route(ctx, meta, nh);
		return;
	}
	/* The header stays valid (RFC 1624) and nh is the route of x's destination. */
	nat_pass_route(ctx, meta, nh);
	if (natf == 0)
		return;
	nat_rewrite(m, ip, l4, key, &x);
	meta->flags |= PKT_F_NAT;
	nc->translated++;
	if (r != NULL) {
		nc->rule_pkts[r->id]++;
		nc->rule_bytes[r->id] += meta->l3_len;
	}
	if (kind == NAT_K_MASQ) {
		nc->masq_pkts[in & 0xFF]++;
		nc->masq_bytes[in & 0xFF] += meta->l3_len;
	} else if (kind == NAT_K_HAIRPIN) {
		nc->hairpin_pkts[out & 0xFF]++;
		nc->hairpin_bytes[out & 0xFF] += meta->l3_len;
	}
}

/* ----------------------------------------------------------- ICMP errors */

static inline bool
nat_icmp_is_error(uint8_t type)
{
	return type == ICMP_DEST_UNREACH || type == ICMP_SOURCE_QUENCH ||
		type == ICMP_TIME_EXCEEDED || type == ICMP_PARAMETERPROB;
}

/* Bytes of a quoted L4 header holding what a ct key needs (ports, echo id). */
#define NAT_QUOTE_L4 8

/*
 * The ct key of the packet an ICMP error quotes at qip, whose L4 header may be
 * cut after NAT_QUOTE_L4 bytes (the caller checked those are there). -EINVAL
 * when it is nothing we track.
 */
static int
nat_quoted_key(const struct rte_ipv4_hdr *qip, const uint8_t *ql4, struct ct_key *k)
{
	memset(k, 0, sizeof(*k));
	k->src_ip = qip->src_addr;
	k->dst_ip = qip->dst_addr;
	k->proto = qip->next_proto_id;
	switch (k->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		memcpy(&k->src_port, ql4, 2);
		memcpy(&k->dst_port, ql4 + 2, 2);
		return 0;
	case IPPROTO_ICMP:
		if (ql4[0] == RTE_IP_ICMP_ECHO_REQUEST)
			k->icmp_class = CT_ICMP_K_REQUEST;
		else if (ql4[0] == RTE_IP_ICMP_ECHO_REPLY)
			k->icmp_class = CT_ICMP_K_REPLY;
		else
			return -EINVAL;
		memcpy(&k->src_port, ql4 + 4, 2);
		k->dst_port = k->src_port;
		return 0;
	default:
		return -EINVAL;
	}
}

/*
 * Translate an ICMP error about a tracked connection (nat.h). Returns false
 * when it quotes no known connection (or nothing we can read); true when it
 * is handled: translated, known and left alone, or dropped (ct-invalid: it
 * arrived in another domain than the connection's packets of its direction).
 */
static bool
nat_icmp_error(struct lcore_ctx *ctx, struct ct *ct, struct rte_mbuf *m, struct pkt_meta *meta,
	       uint8_t *p, struct rte_ipv4_hdr *ip)
{
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(p + meta->l4_off);
	uint32_t limit = RTE_MIN((uint32_t)rte_pktmbuf_data_len(m),
				 (uint32_t)meta->l3_off + meta->l3_len);
	uint32_t qoff = (uint32_t)meta->l4_off + sizeof(struct rte_icmp_hdr), qhl, icmp_len;
	struct ct_key qk, rk, cur, want, qwant;
	struct rte_ipv4_hdr *qip;
	struct ct_conn *c;
	uint8_t *ql4;
	uint16_t sum;
	uint8_t dir;
	void *l4c;

	if (qoff + sizeof(*qip) > limit)
		return false;
	qip = (struct rte_ipv4_hdr *)(p + qoff);
	qhl = (uint32_t)(qip->version_ihl & RTE_IPV4_HDR_IHL_MASK) * 4;
	if ((qip->version_ihl >> 4) != 4 || qhl < sizeof(*qip) || qoff + qhl + NAT_QUOTE_L4 > limit ||
	    qip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK))
		return false;
	ql4 = p + qoff + qhl;
	if (nat_quoted_key(qip, ql4, &qk) != 0)
		return false;
	/* The quoted packet travelled the other way: its reverse is this error's key. */
	ct_key_reverse(&qk, &rk);
	c = ct_lookup(ct, &rk, &dir);
	if (c == NULL)
		return false;
	if (unlikely(!nat_dom_ok(c, dir, meta->domain))) {
		nat_drop(meta, DP_DROP_CT_INVALID);
		return true;
	}
	if (!c->nat)
		return true;            /* known, nothing to translate */
	/* The whole ICMP message must be intact before we vouch for it again. */
	icmp_len = (uint32_t)meta->l3_len - (meta->l4_off - meta->l3_off);
	if (rte_raw_cksum_mbuf(m, meta->l4_off, icmp_len, &sum) != 0 || sum != 0xFFFF)
		return false;
	cur = c->key[dir];
	ct_conn_xlate(c, dir, &want);
	/* Outer header: as a packet of the connection in this direction. */
	if (cur.src_ip != want.src_ip)
		cksum_rewrite_addr(ip, NULL, IPPROTO_ICMP, true, want.src_ip);
	if (cur.dst_ip != want.dst_ip)
		cksum_rewrite_addr(ip, NULL, IPPROTO_ICMP, false, want.dst_ip);
	/* Quoted packet: as the other direction's packet looked to its sender. */
	ct_key_reverse(&want, &qwant);
	/* Its L4 checksum: UDP's is within the quoted 8 bytes, TCP's only if the
	 * whole header was quoted; ICMP's does not cover the addresses. */
	l4c = qk.proto == IPPROTO_UDP ||
		(qk.proto == IPPROTO_TCP && qoff + qhl + sizeof(struct rte_tcp_hdr) <= limit) ?
		ql4 : NULL;
	if (qk.src_ip != qwant.src_ip)
		cksum_rewrite_addr(qip, l4c, qk.proto, true, qwant.src_ip);
	if (qk.dst_ip != qwant.dst_ip)
		cksum_rewrite_addr(qip, l4c, qk.proto, false, qwant.dst_ip);
	if (qk.proto == IPPROTO_ICMP) {
		if (qk.src_port != qwant.src_port)
			cksum_rewrite_port(ql4, IPPROTO_ICMP, true, qwant.src_port);
	} else if (l4c != NULL) {
		if (qk.src_port != qwant.src_port)
			cksum_rewrite_port(ql4, qk.proto, true, qwant.src_port);
		if (qk.dst_port != qwant.dst_port)
			cksum_rewrite_port(ql4, qk.proto, false, qwant.dst_port);
	} else {
		/* A TCP header cut before its checksum: the ports alone. */
		memcpy(ql4, &qwant.src_port, 2);
		memcpy(ql4 + 2, &qwant.dst_port, 2);
	}
	icmp->icmp_cksum = 0;
	rte_raw_cksum_mbuf(m, meta->l4_off, icmp_len, &sum);
	icmp->icmp_cksum = (rte_be16_t)~sum;
	meta->flags |= PKT_F_NAT;
	ctx->nat_cnt->icmp_translated++;
	ctx->nat_cnt->translated++;
	return true;
}

/* ----------------------------------------------------------------- stage */

static void
nat_chunk(struct lcore_ctx *ctx, struct nat *nat, const struct nat_rules *rs,
	  struct rte_mbuf **pkts, uint16_t n)
{
	struct ct *ct = nat->ct;
	struct ct_key keys[DP_BURST];
	struct ct_conn *conns[DP_BURST];
	uint8_t dirs[DP_BURST], l4f[DP_BURST];
	uint16_t idx[DP_BURST];
	uint16_t nk = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct pkt_meta *meta = pkt_meta(m);
		uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + meta->l3_off);
		const void *l4;

		meta->next = PL_NEXT_L3;
		/* The bridge sends only untagged IPv4 here; anything else is L3's. */
		if (unlikely(!(meta->flags & PKT_F_IPV4) || meta->flags & PKT_F_VLAN))
			continue;
		/* A routed packet whose TTL runs out here: L3 answers time exceeded to
		 * its real source, quoting it as sent - untranslated, as Linux checks
		 * the TTL before POSTROUTING's source NAT (traceroute through us). */
		if (unlikely(ip->time_to_live <= 1) && !nat_dst_is_host(ctx, meta, ip)) {
			ctx->nat_cnt->untracked++;
			continue;
		}
		if (unlikely(meta->flags & PKT_F_FRAG)) {
			if (nat_for_host_port(ctx->view, ip) ?
			    nat_frag_published(rs, meta, ip, p) :
			    nat_would_translate(ctx, rs, meta, ip))
				nat_drop(meta, DP_DROP_NAT_FRAGMENT);
			else
				ctx->nat_cnt->untracked++;
			continue;
		}
		l4 = meta->l4_off != PKT_OFF_NONE ? p + meta->l4_off : NULL;
		if (likely(ct_key_from_ipv4(ip, l4, &keys[nk], &l4f[nk]) == 0)) {
			idx[nk++] = i;
			continue;
		}
		if (meta->flags & PKT_F_ICMP && nat_icmp_is_error(p[meta->l4_off])) {
			/* Quoting nothing known: routed untouched, unless it is for us
			 * (the host behind the host port takes its own). */
			if (!nat_icmp_error(ctx, ct, m, meta, p, ip) &&
			    nat_dst_is_host(ctx, meta, ip) && !nat_for_host_port(ctx->view, ip))
				nat_drop(meta, DP_DROP_CT_INVALID);
			continue;
		}
		/* Another protocol, or an ICMP message that is neither echo nor error
		 * (published ports are TCP/UDP: the host port's address takes them). */
		if (!nat_for_host_port(ctx->view, ip) && nat_would_translate(ctx, rs, meta, ip))
			nat_drop(meta, DP_DROP_NAT_PROTO);
		else
			ctx->nat_cnt->untracked++;
	}
	if (nk == 0)
		return;
	ct_lookup_bulk(ct, keys, nk, conns, dirs);
	for (uint16_t j = 0; j < nk; j++)
		if (conns[j] != NULL)
			rte_prefetch0(conns[j]);
	for (uint16_t j = 0; j < nk; j++) {
		struct rte_mbuf *m = pkts[idx[j]];
		struct pkt_meta *meta = pkt_meta(m);
		uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + meta->l3_off);
		void *l4 = p + meta->l4_off;

		if (likely(conns[j] != NULL))
			nat_apply(ctx, ct, conns[j], dirs[j], l4f[j], m, meta, ip, l4, &keys[j]);
		else
			nat_first(ctx, ct, rs, &nat->p, m, meta, ip, l4, &keys[j], l4f[j]);
	}
}

bool
nat_untranslate(struct lcore_ctx *ctx, struct rte_mbuf *m, struct pkt_meta *meta)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + meta->l3_off);
	struct ct_key cur, rev;
	struct ct_conn *c;
	uint8_t l4f, dir;
	void *l4;

	if (!(meta->flags & PKT_F_NAT) || meta->l4_off == PKT_OFF_NONE ||
	    meta->flags & PKT_F_FRAG)
		return false;
	l4 = p + meta->l4_off;
	if (ct_key_from_ipv4(ip, l4, &cur, &l4f) != 0)
		return false;
	/* The packet, travelling in direction d, reads reverse(key[d ^ 1]) now:
	 * the lookup of its reverse finds direction d ^ 1, and key[d] is what
	 * the packet was when it arrived. */
	ct_key_reverse(&cur, &rev);
	c = ct_lookup(ctx->dp->nat->ct, &rev, &dir);
	if (c == NULL)
		return false;
	nat_rewrite(m, ip, l4, &cur, &c->key[dir ^ 1]);
	meta->flags &= ~PKT_F_NAT;
	return true;
}

uint16_t
nat_stage(struct lcore_ctx *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	struct nat *nat = ctx->dp->nat;
	/* One load per burst; freed only after this worker's next quiescent state. */
	const struct nat_rules *rs = __atomic_load_n(&nat->rules, __ATOMIC_ACQUIRE);

	for (uint16_t done = 0; done < n; done += DP_BURST)
		nat_chunk(ctx, nat, rs, pkts + done, (uint16_t)RTE_MIN(n - done, DP_BURST));
	return n;
}
