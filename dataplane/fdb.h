/*
 * fdb.h - the MAC table (forwarding database) of every bridge domain.
 *
 * One rte_hash keyed by (domain, MAC) packed in 64 bits maps to a slot of a
 * parallel entry array (the hash position). Readers are lock-free
 * (RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF); the control thread is the only
 * thread that adds or deletes keys. Deleted slots are recycled only after an
 * RCU grace period of the data plane's QSBR variable, so a worker may keep
 * using a position it looked up until it reports quiescence.
 *
 * Workers never add keys: an unknown source MAC becomes a learn request on a
 * multi-producer ring that the control thread drains (fdb_learn_drain). A known
 * MAC seen on another port (a move) or seen again is updated in place by the
 * worker with relaxed atomic stores to its own entry fields: the VTEP, the port
 * and the last-seen time. Workers keep a small exact-match cache in front of
 * the hash (bridge.c): a cached position is trusted only while entries[pos].key
 * still holds the key (control zeroes it on delete, and a slot is reused only
 * after a grace period), a cached miss only while add_gen is unchanged. Aging
 * (fdb_age) runs on the control thread with the time passed in, so tests can
 * inject it.
 *
 * Remote MACs (overlays, vxlan.h) live behind the pseudo-port DP_PORT_VXLAN
 * with vtep = the address of the remote VTEP that has them. vtep means
 * something only while port is DP_PORT_VXLAN: a MAC that moves to a local
 * port keeps its stale vtep, so that a reader which loaded the old port never
 * finds 0. Whoever makes an entry remote (control or a worker) stores vtep,
 * then port with release; readers load port with acquire (br_out_port).
 */
#ifndef DPNET_FDB_H
#define DPNET_FDB_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_ring.h>
#include <rte_rcu_qsbr.h>

#define FDB_DEFAULT_SIZE 65536
#define FDB_DEFAULT_AGE_S 300
#define FDB_PORT_NONE 0xFFFF   /* port of a free or half-written slot */

/* One learned or static MAC. Written by control on add, by workers on refresh/move. */
struct fdb_entry {
	uint64_t key;        /* fdb_key of the MAC; 0 once deleted (workers' caches
	                      * check it to tell a live slot from a recycled one) */
	uint64_t seen_tsc;   /* TSC when last seen as a source (relaxed atomic) */
	uint16_t port;       /* ethdev port the MAC lives behind, DP_PORT_VXLAN for a
	                      * remote MAC (relaxed atomic) */
	uint16_t domain;     /* bridge domain */
	uint32_t vtep;       /* remote VTEP address, host order, while port is
	                      * DP_PORT_VXLAN (relaxed atomic, stored before port) */
	uint8_t is_static;   /* never aged */
	uint8_t pad[7];      /* 32 bytes: two entries per cache line */
};

/* A learn request from a worker to the control thread (ring element). */
struct fdb_learn_req {
	uint64_t key;        /* fdb_key(domain, mac) */
	uint32_t vtep;       /* the VTEP it came from (port DP_PORT_VXLAN), else 0 */
	uint16_t port;       /* port it was seen on */
	uint16_t pad;        /* element size is a multiple of 4 bytes */
};

struct fdb {
	struct rte_hash *hash;          /* key -> position */
	struct fdb_entry *entries;      /* indexed by hash position */
	struct rte_ring *learn_ring;    /* MP/SC ring of struct fdb_learn_req */
	uint32_t size;                  /* capacity in MACs */
	uint64_t age_tsc;               /* aging time in TSC cycles */
	uint64_t tsc_hz;                /* TSC frequency (injected in tests) */
	uint64_t refresh_tsc;           /* minimum interval between seen_tsc writes */
	uint64_t add_gen;               /* bumped on every add: workers' negative cache
	                                 * entries are valid while it is unchanged */
	uint32_t count;                 /* MACs in the table (control only; rte_hash_count
	                                 * also counts slots awaiting RCU reclaim) */
	uint64_t learned;               /* MACs added since start (control only) */
	uint64_t aged;                  /* MACs aged out (control only) */
	bool qs_attached;               /* deletions wait for an RCU grace period */
	uint64_t full;                  /* adds refused because the table is full */
};

static inline uint64_t
fdb_key(uint16_t domain, const struct rte_ether_addr *mac)
{
	const uint8_t *b = mac->addr_bytes;

	return ((uint64_t)domain << 48) | ((uint64_t)b[0] << 40) | ((uint64_t)b[1] << 32) |
		((uint64_t)b[2] << 24) | ((uint64_t)b[3] << 16) | ((uint64_t)b[4] << 8) | b[5];
}

/*
 * fdb_key of the MAC at p, read as one 64-bit load: p must have 8 readable
 * bytes (in a frame's Ethernet header: the destination at offset 0, the source
 * at offset 6; the two bytes after the MAC are dropped). Equal to fdb_key().
 */
static inline uint64_t
fdb_key_hdr(uint16_t domain, const void *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return ((uint64_t)domain << 48) | (rte_be_to_cpu_64(w) >> 16);
}

/* What a key says about its MAC: group bit (first byte's LSB), all zero. */
#define FDB_KEY_MAC_MASK UINT64_C(0xFFFFFFFFFFFF)
#define FDB_KEY_MCAST (UINT64_C(1) << 40)

/* The signature rte_hash computes for a key (rte_hash_crc, init 0, 8 bytes),
 * so callers can hash once for their cache and for rte_hash_lookup_with_hash. */
static inline uint32_t
fdb_key_sig(uint64_t key)
{
	return rte_hash_crc_8byte(key, 0);
}

static inline void
fdb_key_mac(uint64_t key, struct rte_ether_addr *mac)
{
	for (int i = 0; i < 6; i++)
		mac->addr_bytes[i] = (uint8_t)(key >> (40 - 8 * i));
}

static inline uint16_t
fdb_key_domain(uint64_t key)
{
	return (uint16_t)(key >> 48);
}

/* Create the table; qs is the data plane's RCU variable (may be NULL in tests). */
struct fdb *fdb_create(const char *name, uint32_t size, uint32_t age_s, uint64_t tsc_hz,
		       struct rte_rcu_qsbr *qs);
void fdb_free(struct fdb *fdb);

/* Control thread: add or update one MAC. Returns 0 or -ENOSPC / -EINVAL. */
int fdb_add(struct fdb *fdb, uint16_t domain, const struct rte_ether_addr *mac,
	    uint16_t port, bool is_static, uint64_t now_tsc);
/* Control thread: add or update a remote MAC (overlays, vxlan.h): port
 * DP_PORT_VXLAN behind VTEP vtep (host order, not 0 nor multicast). Returns 0
 * or -ENOSPC / -EINVAL. A learned entry never replaces a static one. */
int fdb_add_remote(struct fdb *fdb, uint16_t domain, const struct rte_ether_addr *mac,
		   uint32_t vtep, bool is_static, uint64_t now_tsc);
/* Control thread: forget one MAC. Returns 0 or -ENOENT. */
int fdb_del(struct fdb *fdb, uint16_t domain, const struct rte_ether_addr *mac);
/* Control thread: apply queued learn requests; returns how many were applied. */
unsigned int fdb_learn_drain(struct fdb *fdb, uint64_t now_tsc);
/* Control thread: delete MACs not seen for the aging time; returns how many. */
unsigned int fdb_age(struct fdb *fdb, uint64_t now_tsc);
/* Control thread: forget every MAC behind a port (port removed) or in a domain. */
unsigned int fdb_flush_port(struct fdb *fdb, uint16_t port);
unsigned int fdb_flush_domain(struct fdb *fdb, uint16_t domain);
/* Control thread: forget every remote MAC of one VTEP in one domain (peer removed). */
unsigned int fdb_flush_vtep(struct fdb *fdb, uint16_t domain, uint32_t vtep);
/* Control thread: walk the entries; cb returns non-zero to stop. */
void fdb_walk(struct fdb *fdb, int (*cb)(uint64_t key, const struct fdb_entry *e, void *arg),
	      void *arg);
uint32_t fdb_count(const struct fdb *fdb);

#endif /* DPNET_FDB_H */
