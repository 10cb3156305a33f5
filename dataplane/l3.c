/*
 * l3.c - the routing table: creating the L3 tables (LPM, next hops, the
 * neighbour hash), and the control-thread route API of l3.h. Neighbours are
 * in neigh.c, the stages that read the tables in arp.c, route.c and l2out.c.
 * See l3_private.h for how next-hop slots outlive the workers that read them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_lpm.h>
#include <rte_malloc.h>

#include "l3_private.h"

RTE_LOG_REGISTER(l3_logtype, dpnet.l3, NOTICE);
#define L3_LOG(level, ...) rte_log(RTE_LOG_##level, l3_logtype, "l3: " __VA_ARGS__)

struct l3_tables *
l3_tables_create(const char *name, struct rte_rcu_qsbr *qs)
{
	char lname[RTE_LPM_NAMESIZE], hname[RTE_HASH_NAMESIZE];
	struct rte_lpm_config lc = {
		.max_rules = L3_MAX_ROUTES,
		/* One tbl8 group per route longer than /24 at worst. */
		.number_tbl8s = L3_MAX_ROUTES,
	};
	struct rte_lpm_rcu_config lrc = {.v = qs, .mode = RTE_LPM_QSBR_MODE_DQ};
	struct rte_hash_rcu_config hrc = {.v = qs, .mode = RTE_HASH_QSBR_MODE_DQ};
	struct rte_hash_parameters hp = {0};
	struct l3_tables *l3;

	l3 = rte_zmalloc("l3_tables", sizeof(*l3), RTE_CACHE_LINE_SIZE);
	if (l3 == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	rte_errno = 0;
	l3->qs = qs;
	l3->default_nh = L3_NH_NONE;
	snprintf(lname, sizeof(lname), "lpm_%s", name);
	snprintf(hname, sizeof(hname), "neigh_%s", name);
	l3->lpm = rte_lpm_create(lname, (int)rte_socket_id(), &lc);
	if (l3->lpm == NULL)
		goto fail;
	/* Without a grace period a worker could read a tbl8 group being reused. */
	if (qs != NULL && rte_lpm_rcu_qsbr_add(l3->lpm, &lrc) != 0)
		goto fail;
	l3->nh = rte_zmalloc("l3_nh", sizeof(*l3->nh) * L3_MAX_NH, RTE_CACHE_LINE_SIZE);
	if (l3->nh == NULL)
		goto fail;
	hp.name = hname;
	hp.entries = L3_MAX_NEIGH;
	hp.key_len = sizeof(uint64_t);
	hp.hash_func = rte_hash_crc;
	hp.socket_id = (int)rte_socket_id();
	hp.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
	l3->neigh = rte_hash_create(&hp);
	if (l3->neigh == NULL)
		goto fail;
	if (qs != NULL && rte_hash_rcu_qsbr_add(l3->neigh, &hrc) != 0)
		goto fail;
	l3->icmp_cost_tsc = rte_get_tsc_hz() / L3_ICMP_RATE_DEFAULT;
	l3->icmp_burst_tsc = l3->icmp_cost_tsc * L3_ICMP_BURST_DEFAULT;
	return l3;
fail:
	L3_LOG(ERR, "cannot create the L3 tables %s: %s\n", name, rte_strerror(rte_errno));
	errno = rte_errno ? rte_errno : ENOMEM;
	l3_tables_free(l3);
	return NULL;
}

void
l3_tables_free(struct l3_tables *l3)
{
	if (l3 == NULL)
		return;
	rte_lpm_free(l3->lpm);
	rte_hash_free(l3->neigh);
	rte_free(l3->nh);
	rte_free(l3);
}

/* A slot for a new next hop: a free one, else one retired long enough ago. */
static int32_t
l3_nh_alloc(struct l3_tables *l3)
{
	int32_t oldest = -1;

	for (uint32_t i = 0; i < L3_MAX_NH; i++)
		if (l3->nh_state[i] == L3_NH_FREE)
			return (int32_t)i;
	for (uint32_t i = 0; i < L3_MAX_NH; i++) {
		if (l3->nh_state[i] != L3_NH_RETIRED)
			continue;
		if (l3->qs == NULL || rte_rcu_qsbr_check(l3->qs, l3->nh_token[i], false) == 1)
			return (int32_t)i;
		if (oldest < 0 || l3->nh_token[i] < l3->nh_token[oldest])
			oldest = (int32_t)i;
	}
	/* Used slots never exceed L3_MAX_ROUTES, so a retired one exists: wait for it
	 * (workers go offline while they sleep, so this is short). */
	if (oldest >= 0)
		rte_rcu_qsbr_check(l3->qs, l3->nh_token[oldest], true);
	return oldest;
}

static int
l3_route_find(const struct l3_tables *l3, uint32_t prefix, uint8_t len)
{
	for (uint32_t i = 0; i < l3->n_routes; i++)
		if (l3->routes[i].prefix == prefix && l3->routes[i].len == len)
			return (int)i;
	return -1;
}

static uint32_t
l3_mask(uint8_t len)
{
	return len == 0 ? 0 : UINT32_MAX << (32 - len);
}

int
l3_route_add(struct dp *dp, uint32_t prefix, uint8_t len, const struct l3_nexthop *nh)
{
	struct l3_tables *l3 = dp->l3;
	int32_t slot;
	int rc;

	if (len > 32 || (prefix & ~l3_mask(len)) != 0 || nh == NULL ||
	    nh->type > L3_NH_BLACKHOLE ||
	    (nh->type != L3_NH_BLACKHOLE && nh->domain >= DP_MAX_DOMAINS) ||
	    (nh->type == L3_NH_GATEWAY && nh->gw_ip == 0))
		return -EINVAL;
	if (l3_route_find(l3, prefix, len) >= 0)
		return -EEXIST;
	if (l3->n_routes == L3_MAX_ROUTES)
		return -ENOSPC;
	slot = l3_nh_alloc(l3);
	if (slot < 0)
		return -ENOSPC;
	l3->nh[slot] = *nh;
	if (nh->type == L3_NH_BLACKHOLE)
		l3->nh[slot].domain = DP_DOMAIN_NONE;
	/* The slot's contents are visible before the LPM entry that names it. */
	rte_atomic_thread_fence(__ATOMIC_RELEASE);
	if (len == 0)
		__atomic_store_n(&l3->default_nh, (uint32_t)slot, __ATOMIC_RELEASE);
	rc = len == 0 ? 0 : rte_lpm_add(l3->lpm, prefix, len, (uint32_t)slot);
	if (rc < 0) {
		L3_LOG(WARNING, "route %u.%u.%u.%u/%u refused by the LPM table: %s\n",
		       prefix >> 24, (prefix >> 16) & 0xFF, (prefix >> 8) & 0xFF, prefix & 0xFF,
		       len, strerror(-rc));
		return rc;
	}
	l3->nh_state[slot] = L3_NH_USED;
	l3->routes[l3->n_routes++] = (struct l3_route){
		.prefix = prefix, .len = len, .nh_idx = (uint32_t)slot,
	};
	return 0;
}

int
l3_route_del(struct dp *dp, uint32_t prefix, uint8_t len)
{
	struct l3_tables *l3 = dp->l3;
	int i = l3_route_find(l3, prefix, len);
	uint32_t slot;
	int rc;

	if (i < 0)
		return -ENOENT;
	if (len == 0)
		__atomic_store_n(&l3->default_nh, L3_NH_NONE, __ATOMIC_RELEASE);
	rc = len == 0 ? 0 : rte_lpm_delete(l3->lpm, prefix, len);
	if (rc < 0)
		return rc;
	slot = l3->routes[i].nh_idx;
	/* Workers that looked the route up before the delete may still read it. */
	l3->nh_state[slot] = L3_NH_RETIRED;
	l3->nh_token[slot] = l3->qs != NULL ? rte_rcu_qsbr_start(l3->qs) : 0;
	l3->routes[i] = l3->routes[--l3->n_routes];
	return 0;
}

void
l3_route_walk(struct dp *dp, int (*cb)(uint32_t prefix, uint8_t len,
				       const struct l3_nexthop *nh, void *arg), void *arg)
{
	struct l3_tables *l3 = dp->l3;

	for (uint32_t i = 0; i < l3->n_routes; i++)
		if (cb(l3->routes[i].prefix, l3->routes[i].len, &l3->nh[l3->routes[i].nh_idx],
		       arg) != 0)
			break;
}

int
l3_icmp_rate_set(struct dp *dp, uint32_t per_s, uint32_t burst)
{
	struct l3_tables *l3 = dp->l3;
	uint64_t cost;

	if (per_s > 1000000 || (per_s != 0 && burst == 0))
		return -EINVAL;
	cost = per_s ? rte_get_tsc_hz() / per_s : 0;
	__atomic_store_n(&l3->icmp_cost_tsc, cost, __ATOMIC_RELAXED);
	__atomic_store_n(&l3->icmp_burst_tsc, cost * burst, __ATOMIC_RELAXED);
	return 0;
}
