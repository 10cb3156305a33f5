/*
 * ct.c - the connection table: creation, keys from packets, lookups, creating
 * and deleting connections, incremental expiry. See ct.h for the concurrency
 * model and ct_tcp.c, ct_udp.c, ct_icmp.c for the state machines.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <netinet/in.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_icmp.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "ct_private.h"

RTE_LOG_REGISTER(ct_logtype, dpnet.ct, NOTICE);
#define CT_LOG(level, ...) \
	rte_log(RTE_LOG_##level, ct_logtype, "dpnetd: " #level ": ct: " __VA_ARGS__)

/* Deleted slots reclaimed per attempt; the defer queue reclaims on its own too. */
#define CT_RECLAIM_MAX 256

/* The hash compares keys as bytes; entries must leave bit 0 of their address free. */
_Static_assert(sizeof(struct ct_key) == 16, "ct_key is 16 bytes");
_Static_assert(sizeof(struct ct_conn) == RTE_CACHE_LINE_SIZE, "ct_conn is one cache line");

const char *const ct_tcp_state_names[CT_TCP_MAX] = {
#define CT_TCP_NAME(e, n) [CT_TCP_##e] = n,
	CT_TCP_STATES(CT_TCP_NAME)
#undef CT_TCP_NAME
};

void
ct_params_default(struct ct_params *p)
{
	memset(p, 0, sizeof(*p));
	p->max_conns = 65536;
	p->tsc_hz = rte_get_tsc_hz();
	/* Linux's nf_conntrack_tcp_timeout_* defaults. */
	p->tcp_timeout_s[CT_TCP_NONE] = 10;
	p->tcp_timeout_s[CT_TCP_SYN_SENT] = 120;
	p->tcp_timeout_s[CT_TCP_SYN_RECV] = 60;
	p->tcp_timeout_s[CT_TCP_ESTABLISHED] = 432000;
	p->tcp_timeout_s[CT_TCP_FIN_WAIT] = 120;
	p->tcp_timeout_s[CT_TCP_CLOSE_WAIT] = 60;
	p->tcp_timeout_s[CT_TCP_LAST_ACK] = 30;
	p->tcp_timeout_s[CT_TCP_TIME_WAIT] = 120;
	p->tcp_timeout_s[CT_TCP_CLOSE] = 10;
	p->udp_timeout_s = 30;
	p->udp_stream_timeout_s = 120;
	p->icmp_timeout_s = 30;
	p->tcp_loose = true;
}

/* Defer-queue callback: slots whose grace period has passed become free. */
static void
ct_slots_reclaim(void *p, void *e, unsigned int n)
{
	struct ct *ct = p;
	const uint32_t *idx = e;

	for (unsigned int i = 0; i < n; i++) {
		ct->free_idx[ct->n_free] = idx[i];
		__atomic_store_n(&ct->n_free, ct->n_free + 1, __ATOMIC_RELAXED);
		__atomic_store_n(&ct->n_deferred, ct->n_deferred - 1, __ATOMIC_RELAXED);
	}
}

struct ct *
ct_create(const char *name, const struct ct_params *p, struct rte_rcu_qsbr *qs)
{
	char hname[RTE_HASH_NAMESIZE], qname[RTE_RCU_QSBR_DQ_NAMESIZE];
	struct rte_hash_parameters hp = {0};
	struct ct *ct;

	if (p == NULL || p->max_conns < 1 || p->max_conns > (1u << 30) || p->tsc_hz == 0) {
		errno = EINVAL;
		return NULL;
	}
	ct = rte_zmalloc("ct", sizeof(*ct), RTE_CACHE_LINE_SIZE);
	if (ct == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	rte_errno = 0;
	rte_spinlock_init(&ct->lock);
	ct->max_conns = p->max_conns;
	ct->qs = qs;
	ct->tcp_loose = p->tcp_loose;
	for (unsigned int s = 0; s < CT_TCP_MAX; s++)
		ct->tcp_tmo_tsc[s] = (uint64_t)p->tcp_timeout_s[s] * p->tsc_hz;
	ct->udp_tmo_tsc = (uint64_t)p->udp_timeout_s * p->tsc_hz;
	ct->udp_stream_tmo_tsc = (uint64_t)p->udp_stream_timeout_s * p->tsc_hz;
	ct->icmp_tmo_tsc = (uint64_t)p->icmp_timeout_s * p->tsc_hz;

	snprintf(hname, sizeof(hname), "ct_%s", name);
	hp.name = hname;
	/* Two keys per connection; the extendable table makes it a real capacity. */
	hp.entries = RTE_MAX(2 * p->max_conns, 16u);
	hp.key_len = sizeof(struct ct_key);
	hp.hash_func = rte_hash_crc;
	hp.socket_id = (int)rte_socket_id();
	/* Lock-free readers; writers are serialised by ct->lock (see ct.h). */
	hp.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
	ct->hash = rte_hash_create(&hp);
	if (ct->hash == NULL)
		goto fail;
	ct->conns = rte_zmalloc("ct_conns", sizeof(*ct->conns) * p->max_conns,
				RTE_CACHE_LINE_SIZE);
	ct->free_idx = rte_malloc("ct_free", sizeof(*ct->free_idx) * p->max_conns, 0);
	if (ct->conns == NULL || ct->free_idx == NULL) {
		rte_errno = ENOMEM;
		goto fail;
	}
	/* Pop order 0, 1, 2...: the first connections sit in the first slots. */
	for (uint32_t i = 0; i < p->max_conns; i++) {
		ct->conns[i].idx = i;
		ct->free_idx[i] = p->max_conns - 1 - i;
	}
	ct->n_free = p->max_conns;
	if (qs != NULL) {
		/* Hash key slots and our entry slots are both reused after a grace period. */
		struct rte_hash_rcu_config rc = {
			.v = qs,
			.mode = RTE_HASH_QSBR_MODE_DQ,
		};
		struct rte_rcu_qsbr_dq_parameters dp = {0};

		if (rte_hash_rcu_qsbr_add(ct->hash, &rc) != 0)
			goto fail;
		snprintf(qname, sizeof(qname), "ctq_%s", name);
		dp.name = qname;
		dp.flags = RTE_RCU_QSBR_DQ_MT_UNSAFE;   /* always called under ct->lock */
		dp.size = p->max_conns;
		dp.esize = sizeof(uint32_t);
		dp.trigger_reclaim_limit = RTE_MIN(p->max_conns / 8 + 1, 1024u);
		dp.max_reclaim_size = CT_RECLAIM_MAX;
		dp.free_fn = ct_slots_reclaim;
		dp.p = ct;
		dp.v = qs;
		ct->dq = rte_rcu_qsbr_dq_create(&dp);
		if (ct->dq == NULL)
			goto fail;
	}
	return ct;
fail:
	CT_LOG(ERR, "cannot create connection table %s: %s\n", name, rte_strerror(rte_errno));
	errno = rte_errno ? rte_errno : ENOMEM;
	ct_free(ct);
	return NULL;
}

void
ct_free(struct ct *ct)
{
	if (ct == NULL)
		return;
	if (ct->dq != NULL)
		rte_rcu_qsbr_dq_delete(ct->dq);
	rte_hash_free(ct->hash);
	rte_free(ct->conns);
	rte_free(ct->free_idx);
	rte_free(ct);
}

int
ct_key_from_ipv4(const struct rte_ipv4_hdr *ip, const void *l4, struct ct_key *k,
		 uint8_t *l4_flags)
{
	memset(k, 0, sizeof(*k));
	*l4_flags = 0;
	if (l4 == NULL)
		return -EINVAL;
	k->src_ip = ip->src_addr;
	k->dst_ip = ip->dst_addr;
	k->proto = ip->next_proto_id;
	switch (ip->next_proto_id) {
	case IPPROTO_TCP: {
		const struct rte_tcp_hdr *tcp = l4;

		k->src_port = tcp->src_port;
		k->dst_port = tcp->dst_port;
		*l4_flags = tcp->tcp_flags;
		return 0;
	}
	case IPPROTO_UDP: {
		const struct rte_udp_hdr *udp = l4;

		k->src_port = udp->src_port;
		k->dst_port = udp->dst_port;
		return 0;
	}
	case IPPROTO_ICMP: {
		const struct rte_icmp_hdr *icmp = l4;

		if (icmp->icmp_type == RTE_IP_ICMP_ECHO_REQUEST) {
			*l4_flags = CT_ICMP_REQUEST;
			k->icmp_class = CT_ICMP_K_REQUEST;
		} else if (icmp->icmp_type == RTE_IP_ICMP_ECHO_REPLY) {
			k->icmp_class = CT_ICMP_K_REPLY;
		} else {
			memset(k, 0, sizeof(*k));
			return -EINVAL;
		}
		k->src_port = icmp->icmp_ident;
		k->dst_port = icmp->icmp_ident;
		return 0;
	}
	default:
		memset(k, 0, sizeof(*k));
		return -EINVAL;
	}
}

/* Hash data: the entry pointer with the direction in bit 0 (entries are 64-aligned). */
static inline struct ct_conn *
ct_data_conn(void *data, uint8_t *dir)
{
	uintptr_t v = (uintptr_t)data;

	*dir = (uint8_t)(v & 1);
	return (struct ct_conn *)(v & ~(uintptr_t)1);
}

struct ct_conn *
ct_lookup(const struct ct *ct, const struct ct_key *k, uint8_t *dir)
{
	void *data;

	if (rte_hash_lookup_data(ct->hash, k, &data) < 0)
		return NULL;
	return ct_data_conn(data, dir);
}

unsigned int
ct_lookup_bulk(const struct ct *ct, const struct ct_key *keys, unsigned int n,
	       struct ct_conn **conns, uint8_t *dirs)
{
	const void *kp[RTE_HASH_LOOKUP_BULK_MAX];
	void *data[RTE_HASH_LOOKUP_BULK_MAX];
	unsigned int hits = 0;

	for (unsigned int base = 0; base < n; base += RTE_HASH_LOOKUP_BULK_MAX) {
		unsigned int m = RTE_MIN(n - base, (unsigned int)RTE_HASH_LOOKUP_BULK_MAX);
		uint64_t mask = 0;

		for (unsigned int i = 0; i < m; i++)
			kp[i] = &keys[base + i];
		if (rte_hash_lookup_bulk_data(ct->hash, kp, m, &mask, data) < 0)
			mask = 0;
		for (unsigned int i = 0; i < m; i++) {
			if (mask & (1ULL << i)) {
				conns[base + i] = ct_data_conn(data[i], &dirs[base + i]);
				hits++;
			} else {
				conns[base + i] = NULL;
				dirs[base + i] = 0;
			}
		}
	}
	return hits;
}

static int
ct_proto_new(const struct ct *ct, uint8_t proto, uint8_t flags, uint32_t *st)
{
	switch (proto) {
	case IPPROTO_TCP:
		return ct_tcp_new(ct, flags, st);
	case IPPROTO_UDP:
		return ct_udp_new(ct, flags, st);
	case IPPROTO_ICMP:
		return ct_icmp_new(ct, flags, st);
	default:
		return -EINVAL;
	}
}

static uint32_t
ct_proto_next(uint8_t proto, uint32_t st, unsigned int dir, uint8_t flags)
{
	switch (proto) {
	case IPPROTO_TCP:
		return ct_tcp_next(st, dir, flags);
	case IPPROTO_UDP:
		return ct_udp_next(st, dir, flags);
	default:
		return ct_icmp_next(st, dir, flags);
	}
}

uint64_t
ct_conn_timeout_tsc(const struct ct *ct, const struct ct_conn *c)
{
	uint32_t st = __atomic_load_n(&c->st, __ATOMIC_RELAXED);

	switch (c->key[CT_DIR_ORIG].proto) {
	case IPPROTO_TCP:
		return ct_tcp_timeout(ct, st);
	case IPPROTO_UDP:
		return ct_udp_timeout(ct, st);
	default:
		return ct_icmp_timeout(ct, st);
	}
}

bool
ct_conn_expired(const struct ct *ct, const struct ct_conn *c, uint64_t now_tsc)
{
	uint64_t last = __atomic_load_n(&c->last_tsc, __ATOMIC_RELAXED);

	/* A worker's clock may be ahead of the caller's: not expired then. */
	return now_tsc > last && now_tsc - last > ct_conn_timeout_tsc(ct, c);
}

/* Under the lock: make room from slots whose grace period has passed. */
static void
ct_reclaim_locked(struct ct *ct)
{
	if (ct->dq != NULL && ct->n_deferred > 0)
		rte_rcu_qsbr_dq_reclaim(ct->dq, CT_RECLAIM_MAX, NULL, NULL, NULL);
}

/* Under the lock: an entry slot nobody can reach any more goes back to the free
 * stack, after a grace period when readers may still hold it. */
static void
ct_slot_retire_locked(struct ct *ct, uint32_t idx)
{
	if (ct->dq == NULL) {
		ct->free_idx[ct->n_free] = idx;
		__atomic_store_n(&ct->n_free, ct->n_free + 1, __ATOMIC_RELAXED);
		return;
	}
	/* Counted first: the enqueue may reclaim at once (ct_slots_reclaim). The
	 * queue holds max_conns slots and a slot is in it at most once, so it cannot
	 * be full; if it ever were, the slot is left out rather than reused early or
	 * waited for under the lock. */
	__atomic_store_n(&ct->n_deferred, ct->n_deferred + 1, __ATOMIC_RELAXED);
	if (rte_rcu_qsbr_dq_enqueue(ct->dq, &idx) != 0)
		__atomic_store_n(&ct->n_deferred, ct->n_deferred - 1, __ATOMIC_RELAXED);
}

/* Under the lock: remove both keys, retire the slot. */
static void
ct_remove_locked(struct ct *ct, struct ct_conn *c)
{
	for (unsigned int d = 0; d < 2; d++) {
		int32_t pos = rte_hash_del_key(ct->hash, &c->key[d]);

		if (pos >= 0 && ct->qs == NULL)
			rte_hash_free_key_with_position(ct->hash, pos);
	}
	__atomic_store_n(&c->in_use, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&ct->n_conns, ct->n_conns - 1, __ATOMIC_RELAXED);
	ct_slot_retire_locked(ct, c->idx);
}

int
ct_conn_new(struct ct *ct, const struct ct_key *orig, const struct ct_key *reply,
	    uint8_t nat, uint8_t l4_flags, uint64_t now_tsc, struct ct_conn **out)
{
	return ct_conn_new_dom(ct, orig, reply, nat, NULL, l4_flags, now_tsc, out);
}

int
ct_conn_new_dom(struct ct *ct, const struct ct_key *orig, const struct ct_key *reply,
		uint8_t nat, const uint16_t dom[2], uint8_t l4_flags, uint64_t now_tsc,
		struct ct_conn **out)
{
	struct ct_key rev;
	struct ct_conn *c;
	uint32_t st, idx;
	uint8_t dir;
	int32_t ret;

	*out = NULL;
	if (ct_proto_new(ct, orig->proto, l4_flags, &st) != 0)
		return -EINVAL;
	if (reply == NULL) {
		ct_key_reverse(orig, &rev);
		reply = &rev;
	}
	if (memcmp(orig, reply, sizeof(*orig)) == 0)
		return -EINVAL;        /* e.g. a packet from an address to itself, same ports */
	/* Full and nothing to reclaim: refuse without touching the lock, unless
	 * another worker created this very connection meanwhile (use it then).
	 * A reply key taken by another connection is not looked at: full is
	 * full, whichever reply key the caller tries next (-ENOSPC, not -EEXIST,
	 * so that a NAT port search stops at once). */
	if (__atomic_load_n(&ct->n_free, __ATOMIC_RELAXED) == 0 &&
	    __atomic_load_n(&ct->n_deferred, __ATOMIC_RELAXED) == 0) {
		if ((c = ct_lookup(ct, orig, &dir)) != NULL) {
			*out = c;
			return -EEXIST;
		}
		__atomic_fetch_add(&ct->stats.refused_full, 1, __ATOMIC_RELAXED);
		return -ENOSPC;
	}
	rte_spinlock_lock(&ct->lock);
	/* Another worker may have created it meanwhile. */
	if ((c = ct_lookup(ct, orig, &dir)) != NULL) {
		ct->stats.refused_exist++;
		rte_spinlock_unlock(&ct->lock);
		*out = c;
		return -EEXIST;
	}
	if (ct->n_free == 0)
		ct_reclaim_locked(ct);
	if (ct->n_free == 0) {
		rte_spinlock_unlock(&ct->lock);
		__atomic_fetch_add(&ct->stats.refused_full, 1, __ATOMIC_RELAXED);
		return -ENOSPC;
	}
	/* Or taken the reply key (another connection's, or this one's). */
	if ((c = ct_lookup(ct, reply, &dir)) != NULL) {
		ct->stats.refused_exist++;
		rte_spinlock_unlock(&ct->lock);
		*out = c;
		return -EEXIST;
	}
	idx = ct->free_idx[ct->n_free - 1];
	__atomic_store_n(&ct->n_free, ct->n_free - 1, __ATOMIC_RELAXED);
	c = &ct->conns[idx];
	/* Every field before the keys: the hash publishes a key to readers at once. */
	c->key[CT_DIR_ORIG] = *orig;
	c->key[CT_DIR_REPLY] = *reply;
	__atomic_store_n(&c->last_tsc, now_tsc, __ATOMIC_RELAXED);
	c->created_tsc = now_tsc;
	__atomic_store_n(&c->st, st, __ATOMIC_RELAXED);
	c->nat = nat;
	c->dom[CT_DIR_ORIG] = dom != NULL ? dom[CT_DIR_ORIG] : CT_DOM_ANY;
	c->dom[CT_DIR_REPLY] = dom != NULL ? dom[CT_DIR_REPLY] : CT_DOM_ANY;
	ret = rte_hash_add_key_data(ct->hash, reply, (void *)((uintptr_t)c | CT_DIR_REPLY));
	if (ret == 0) {
		ret = rte_hash_add_key_data(ct->hash, orig, (void *)((uintptr_t)c | CT_DIR_ORIG));
		if (ret != 0) {
			/* Undo the reply key. A reader may have found it already, so the
			 * key slot and the entry slot take the deleted entries' RCU path. */
			int32_t pos = rte_hash_del_key(ct->hash, reply);

			if (pos >= 0 && ct->qs == NULL)
				rte_hash_free_key_with_position(ct->hash, pos);
		}
	}
	if (ret != 0) {
		ct_slot_retire_locked(ct, idx);
		rte_spinlock_unlock(&ct->lock);
		__atomic_fetch_add(&ct->stats.refused_full, 1, __ATOMIC_RELAXED);
		return -ENOSPC;
	}
	__atomic_store_n(&c->in_use, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&ct->n_conns, ct->n_conns + 1, __ATOMIC_RELAXED);
	ct->stats.created++;
	rte_spinlock_unlock(&ct->lock);
	*out = c;
	return 0;
}

uint32_t
ct_conn_update(struct ct *ct, struct ct_conn *c, unsigned int dir, uint8_t l4_flags,
	       uint64_t now_tsc)
{
	uint8_t proto = c->key[CT_DIR_ORIG].proto;
	uint32_t old = __atomic_load_n(&c->st, __ATOMIC_RELAXED), new;

	RTE_SET_USED(ct);
	do {
		new = ct_proto_next(proto, old, dir, l4_flags);
		if (new == old)
			break;
	} while (!__atomic_compare_exchange_n(&c->st, &old, new, false, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	/* Last-seen only moves forward (workers' clocks differ by a loop). */
	if (now_tsc > __atomic_load_n(&c->last_tsc, __ATOMIC_RELAXED))
		__atomic_store_n(&c->last_tsc, now_tsc, __ATOMIC_RELAXED);
	return new;
}

int
ct_conn_delete(struct ct *ct, struct ct_conn *c)
{
	rte_spinlock_lock(&ct->lock);
	if (!c->in_use) {
		rte_spinlock_unlock(&ct->lock);
		return -ENOENT;
	}
	ct_remove_locked(ct, c);
	ct->stats.deleted++;
	rte_spinlock_unlock(&ct->lock);
	return 0;
}

unsigned int
ct_expire(struct ct *ct, uint64_t now_tsc, unsigned int budget)
{
	unsigned int removed = 0;

	budget = RTE_MIN(budget, ct->max_conns);
	for (unsigned int i = 0; i < budget; i++) {
		struct ct_conn *c = &ct->conns[ct->cursor];

		ct->cursor = ct->cursor + 1 == ct->max_conns ? 0 : ct->cursor + 1;
		if (!__atomic_load_n(&c->in_use, __ATOMIC_ACQUIRE) ||
		    !ct_conn_expired(ct, c, now_tsc))
			continue;
		rte_spinlock_lock(&ct->lock);
		/* A packet may have refreshed it, or a delete taken it, since. */
		if (c->in_use && ct_conn_expired(ct, c, now_tsc)) {
			ct_remove_locked(ct, c);
			ct->stats.expired++;
			removed++;
		}
		rte_spinlock_unlock(&ct->lock);
	}
	ct->stats.expire_visits += budget;
	if (removed == 0 && ct->n_deferred > 0) {
		rte_spinlock_lock(&ct->lock);
		ct_reclaim_locked(ct);
		rte_spinlock_unlock(&ct->lock);
	}
	return removed;
}

void
ct_walk(struct ct *ct, int (*cb)(const struct ct_conn *c, void *arg), void *arg)
{
	for (uint32_t i = 0; i < ct->max_conns; i++)
		if (__atomic_load_n(&ct->conns[i].in_use, __ATOMIC_ACQUIRE) &&
		    cb(&ct->conns[i], arg) != 0)
			break;
}

uint32_t
ct_count(const struct ct *ct)
{
	return __atomic_load_n(&ct->n_conns, __ATOMIC_RELAXED);
}

void
ct_stats_get(const struct ct *ct, struct ct_stats *out)
{
	*out = ct->stats;
	out->refused_full = __atomic_load_n(&ct->stats.refused_full, __ATOMIC_RELAXED);
}
