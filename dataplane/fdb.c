/*
 * fdb.c - the MAC table: creation, control-thread updates, learning from the
 * workers' requests, aging and flushing. See fdb.h for the concurrency model.
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
#include <rte_malloc.h>

#include "fdb.h"
#include "vxlan.h"

RTE_LOG_REGISTER(fdb_logtype, dpnet.fdb, NOTICE);
#define FDB_LOG(level, ...) \
	rte_log(RTE_LOG_##level, fdb_logtype, "dpnetd: " #level ": fdb: " __VA_ARGS__)

#define FDB_LEARN_RING_SIZE 4096
#define FDB_DRAIN_BURST 64
#define FDB_AGE_BATCH 256

struct fdb *
fdb_create(const char *name, uint32_t size, uint32_t age_s, uint64_t tsc_hz,
	   struct rte_rcu_qsbr *qs)
{
	char hname[RTE_HASH_NAMESIZE], rname[RTE_RING_NAMESIZE];
	struct rte_hash_parameters hp = {0};
	struct fdb *fdb;

	if (size < 8 || age_s == 0 || tsc_hz == 0) {
		errno = EINVAL;
		return NULL;
	}
	fdb = rte_zmalloc("fdb", sizeof(*fdb), RTE_CACHE_LINE_SIZE);
	if (fdb == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	snprintf(hname, sizeof(hname), "fdb_%s", name);
	snprintf(rname, sizeof(rname), "fdbl_%s", name);
	hp.name = hname;
	hp.entries = size;
	hp.key_len = sizeof(uint64_t);
	hp.hash_func = rte_hash_crc;
	hp.socket_id = (int)rte_socket_id();
	/* Lock-free readers; the extendable table makes "size" a real capacity. */
	hp.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
	fdb->hash = rte_hash_create(&hp);
	if (fdb->hash == NULL)
		goto fail;
	if (qs != NULL) {
		/* Deleted key slots are recycled only after a grace period. */
		struct rte_hash_rcu_config rc = {
			.v = qs,
			.mode = RTE_HASH_QSBR_MODE_DQ,
		};
		if (rte_hash_rcu_qsbr_add(fdb->hash, &rc) != 0)
			goto fail;
	}
	/* Positions run from 0 to size inclusive at most; one spare slot. */
	fdb->entries = rte_zmalloc("fdb_entries", sizeof(*fdb->entries) * ((size_t)size + 1),
				   RTE_CACHE_LINE_SIZE);
	if (fdb->entries == NULL)
		goto fail;
	/* A slot the hash publishes before fdb_add() fills it must send nowhere. */
	for (uint32_t i = 0; i <= size; i++)
		fdb->entries[i].port = FDB_PORT_NONE;
	fdb->learn_ring = rte_ring_create_elem(rname, sizeof(struct fdb_learn_req),
					       FDB_LEARN_RING_SIZE, (int)rte_socket_id(),
					       RING_F_SC_DEQ);
	if (fdb->learn_ring == NULL)
		goto fail;
	fdb->size = size;
	fdb->tsc_hz = tsc_hz;
	fdb->age_tsc = (uint64_t)age_s * tsc_hz;
	/* Refresh last-seen at most 8 times per aging period and at least once a second. */
	fdb->refresh_tsc = RTE_MIN(fdb->age_tsc / 8, tsc_hz);
	fdb->qs_attached = qs != NULL;
	return fdb;
fail:
	FDB_LOG(ERR, "cannot create MAC table %s: %s\n", name, rte_strerror(rte_errno));
	fdb_free(fdb);
	errno = rte_errno ? rte_errno : ENOMEM;
	return NULL;
}

void
fdb_free(struct fdb *fdb)
{
	if (fdb == NULL)
		return;
	rte_hash_free(fdb->hash);
	rte_ring_free(fdb->learn_ring);
	rte_free(fdb->entries);
	rte_free(fdb);
}

/* Delete one key; without RCU (tests) its slot is freed at once. */
static void
fdb_del_key(struct fdb *fdb, uint64_t key)
{
	int32_t pos = rte_hash_del_key(fdb->hash, &key);

	if (pos < 0)
		return;
	/* Workers' cached positions for this key stop validating now. */
	__atomic_store_n(&fdb->entries[pos].key, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&fdb->entries[pos].port, FDB_PORT_NONE, __ATOMIC_RELAXED);
	__atomic_store_n(&fdb->entries[pos].vtep, 0, __ATOMIC_RELAXED);
	fdb->count--;
	if (!fdb->qs_attached)
		rte_hash_free_key_with_position(fdb->hash, pos);
}

/* Add or update one MAC at (port, vtep): fdb_add and fdb_add_remote. */
static int
fdb_add_at(struct fdb *fdb, uint16_t domain, const struct rte_ether_addr *mac, uint16_t port,
	   uint32_t vtep, bool is_static, uint64_t now_tsc)
{
	uint64_t key = fdb_key(domain, mac);
	struct fdb_entry *e;
	int32_t pos;

	if (rte_is_multicast_ether_addr(mac) || rte_is_zero_ether_addr(mac))
		return -EINVAL;
	pos = rte_hash_lookup(fdb->hash, &key);
	if (pos < 0) {
		int32_t slot = rte_hash_add_key(fdb->hash, &key);

		if (slot < 0) {
			fdb->full++;
			return -ENOSPC;
		}
		e = &fdb->entries[slot];
		/*
		 * The hash made the key visible already, but a worker trusts a slot's
		 * port only after reading the slot's key (acquire) equal to the one it
		 * looked up (br_out_port). So: every field first, the key last. Until
		 * then a worker floods, as for an unknown MAC, and caches nothing.
		 */
		e->domain = domain;
		__atomic_store_n(&e->vtep, vtep, __ATOMIC_RELAXED);
		__atomic_store_n(&e->port, port, __ATOMIC_RELEASE);   /* after vtep: br_out_port */
		__atomic_store_n(&e->seen_tsc, now_tsc, __ATOMIC_RELAXED);
		e->is_static = is_static;
		__atomic_store_n(&e->key, key, __ATOMIC_RELEASE);
		__atomic_store_n(&fdb->add_gen, fdb->add_gen + 1, __ATOMIC_RELEASE);
		fdb->count++;
		fdb->learned++;
		return 0;
	}
	e = &fdb->entries[pos];
	if (e->is_static && !is_static)
		return 0;      /* a learned frame never overrides a static entry */
	/* A worker reading the new port finds the new VTEP (vxlan.h). */
	__atomic_store_n(&e->vtep, vtep, __ATOMIC_RELAXED);
	__atomic_store_n(&e->port, port, __ATOMIC_RELEASE);   /* after vtep: br_out_port */
	__atomic_store_n(&e->seen_tsc, now_tsc, __ATOMIC_RELAXED);
	e->is_static = is_static;
	return 0;
}

int
fdb_add(struct fdb *fdb, uint16_t domain, const struct rte_ether_addr *mac, uint16_t port,
	bool is_static, uint64_t now_tsc)
{
	return fdb_add_at(fdb, domain, mac, port, 0, is_static, now_tsc);
}

int
fdb_add_remote(struct fdb *fdb, uint16_t domain, const struct rte_ether_addr *mac,
	       uint32_t vtep, bool is_static, uint64_t now_tsc)
{
	/* 0.0.0.0, multicast, class E and broadcast are no VTEP's address. */
	if (vtep == 0 || vtep >= 0xE0000000)
		return -EINVAL;
	return fdb_add_at(fdb, domain, mac, DP_PORT_VXLAN, vtep, is_static, now_tsc);
}

int
fdb_del(struct fdb *fdb, uint16_t domain, const struct rte_ether_addr *mac)
{
	uint64_t key = fdb_key(domain, mac);

	if (rte_hash_lookup(fdb->hash, &key) < 0)
		return -ENOENT;
	fdb_del_key(fdb, key);
	return 0;
}

unsigned int
fdb_learn_drain(struct fdb *fdb, uint64_t now_tsc)
{
	struct fdb_learn_req reqs[FDB_DRAIN_BURST];
	unsigned int total = 0, taken = 0, n;
	struct rte_ether_addr mac;

	/* Bounded by what is taken off the ring (one ring's worth), not by what is
	 * added: with a full table nothing is added and workers keep it fed. */
	do {
		n = rte_ring_sc_dequeue_burst_elem(fdb->learn_ring, reqs, sizeof(reqs[0]),
						   FDB_DRAIN_BURST, NULL);
		taken += n;
		for (unsigned int i = 0; i < n; i++) {
			fdb_key_mac(reqs[i].key, &mac);
			/* A remote MAC's request carries its VTEP; a local one's is 0. */
			if (reqs[i].port == DP_PORT_VXLAN && reqs[i].vtep == 0)
				continue;
			if (fdb_add_at(fdb, fdb_key_domain(reqs[i].key), &mac, reqs[i].port,
				       reqs[i].port == DP_PORT_VXLAN ? reqs[i].vtep : 0, false,
				       now_tsc) == 0)
				total++;
		}
	} while (n == FDB_DRAIN_BURST && taken < FDB_LEARN_RING_SIZE);
	return total;
}

/* Collect up to FDB_AGE_BATCH keys that match pred, then delete them. */
static unsigned int
fdb_delete_matching(struct fdb *fdb, bool (*pred)(const struct fdb *, uint64_t,
						   const struct fdb_entry *, uint64_t),
		    uint64_t arg)
{
	uint64_t victims[FDB_AGE_BATCH];
	unsigned int n, total = 0;

	do {
		const void *key;
		void *data;
		uint32_t iter = 0;
		int32_t pos;

		n = 0;
		while (n < FDB_AGE_BATCH &&
		       (pos = rte_hash_iterate(fdb->hash, &key, &data, &iter)) >= 0) {
			uint64_t k = *(const uint64_t *)key;

			if (pred(fdb, k, &fdb->entries[pos], arg))
				victims[n++] = k;
		}
		for (unsigned int i = 0; i < n; i++)
			fdb_del_key(fdb, victims[i]);
		total += n;
	} while (n == FDB_AGE_BATCH);
	return total;
}

static bool
fdb_is_old(const struct fdb *fdb, uint64_t key, const struct fdb_entry *e, uint64_t now)
{
	uint64_t seen = __atomic_load_n(&e->seen_tsc, __ATOMIC_RELAXED);

	RTE_SET_USED(key);
	return !e->is_static && now > seen && now - seen > fdb->age_tsc;
}

static bool
fdb_on_port(const struct fdb *fdb, uint64_t key, const struct fdb_entry *e, uint64_t port)
{
	RTE_SET_USED(fdb);
	RTE_SET_USED(key);
	return __atomic_load_n(&e->port, __ATOMIC_RELAXED) == port;
}

static bool
fdb_in_domain(const struct fdb *fdb, uint64_t key, const struct fdb_entry *e, uint64_t dom)
{
	RTE_SET_USED(fdb);
	RTE_SET_USED(e);
	return fdb_key_domain(key) == dom;
}

/* arg: domain << 32 | vtep. */
static bool
fdb_behind_vtep(const struct fdb *fdb, uint64_t key, const struct fdb_entry *e, uint64_t arg)
{
	RTE_SET_USED(fdb);
	return fdb_key_domain(key) == (uint16_t)(arg >> 32) &&
		__atomic_load_n(&e->port, __ATOMIC_RELAXED) == DP_PORT_VXLAN &&
		__atomic_load_n(&e->vtep, __ATOMIC_RELAXED) == (uint32_t)arg;
}

unsigned int
fdb_age(struct fdb *fdb, uint64_t now_tsc)
{
	unsigned int n = fdb_delete_matching(fdb, fdb_is_old, now_tsc);

	fdb->aged += n;
	return n;
}

unsigned int
fdb_flush_port(struct fdb *fdb, uint16_t port)
{
	return fdb_delete_matching(fdb, fdb_on_port, port);
}

unsigned int
fdb_flush_domain(struct fdb *fdb, uint16_t domain)
{
	return fdb_delete_matching(fdb, fdb_in_domain, domain);
}

unsigned int
fdb_flush_vtep(struct fdb *fdb, uint16_t domain, uint32_t vtep)
{
	return fdb_delete_matching(fdb, fdb_behind_vtep, (uint64_t)domain << 32 | vtep);
}

void
fdb_walk(struct fdb *fdb, int (*cb)(uint64_t key, const struct fdb_entry *e, void *arg),
	 void *arg)
{
	const void *key;
	void *data;
	uint32_t iter = 0;
	int32_t pos;

	while ((pos = rte_hash_iterate(fdb->hash, &key, &data, &iter)) >= 0)
		if (cb(*(const uint64_t *)key, &fdb->entries[pos], arg) != 0)
			break;
}

uint32_t
fdb_count(const struct fdb *fdb)
{
	return fdb->count;
}
