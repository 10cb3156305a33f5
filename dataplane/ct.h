/*
 * ct.h - connection tracking: one entry per connection, found from either
 * direction, with per-protocol state and timeouts (ct_tcp.c, ct_udp.c,
 * ct_icmp.c). A library for the NAT stage; nothing in the pipeline uses it yet.
 *
 * Table. One rte_hash holds two keys per connection: the original-direction
 * tuple as the first packet carried it, and the tuple reply packets will carry
 * (for a NATed connection that is not the reversed original; without NAT it
 * is). Both keys' data point at the same struct ct_conn, with the direction in
 * the pointer's low bit (entries are cache-line aligned). Entries live in one
 * array of max_conns slots allocated at creation; the table never grows: when
 * every slot is taken a new connection is refused (-ENOSPC, counted in
 * stats.refused_full) and existing ones keep working. Memory per connection
 * (measured by test_ct for 65,536): 190 bytes - the 64-byte entry, 4 of free
 * stack, two 16-byte keys with their rte_hash key slots, buckets and extension
 * buckets - and 278 bytes when RCU is attached (the two defer queues).
 *
 * Usage. A worker builds keys from packets (ct_key_from_ipv4), looks a burst
 * up (ct_lookup_bulk), creates the connections that missed (ct_conn_new) and
 * updates state on every packet (ct_conn_update, which also refreshes the
 * last-seen time). The control thread (or one designated thread) calls
 * ct_expire(ct, now, budget) regularly: it visits at most budget entry slots,
 * round-robin, and removes the expired ones, so it never stalls. Time is
 * always passed in (TSC cycles, params.tsc_hz per second), so tests inject it.
 *
 * Insert path (why workers insert). The NAT stage must decide the translation
 * of a connection's first packet at once and at line rate (>= 1 M new
 * connections/s), so the worker that sees the first packet creates the entry
 * itself; a hop through a ring to the control thread would add latency, force
 * holding or dropping the first packet, and make one thread the ceiling.
 * Creating a connection is "check both keys absent, add both" and must be
 * atomic against another worker adding the same reply key (two workers
 * choosing one NAT port). rte_hash's MULTI_WRITER_ADD flag only serialises
 * each add on its own internal lock and would silently overwrite the data of
 * an existing key, so instead ct holds one writer spinlock around the whole
 * check-and-add (and around deletions), and the hash is created single-writer
 * with lock-free readers (RW_CONCURRENCY_LF, EXT_TABLE for an exact capacity).
 * Cost: one lock hold of two hash lookups and two adds per new connection,
 * ~220 ns: test_ct measures ~4.5 M new connections/s on one thread and ~3.6-4.1
 * M/s for two threads contending, so the lock is the ceiling for all workers
 * together, above the 1 M/s target; lookups and updates never take the lock.
 * When the table is full, refusal is decided without the lock. (Should many
 * workers need more, shard: N tables, a connection's shard chosen from its
 * NAT-independent original key and reply key alike, one lock each.)
 *
 * Thread safety. Lookups and ct_conn_update are lock-free and may run on any
 * number of workers at once; state changes are compare-and-swap on the
 * entry's state word, last_tsc a relaxed store. ct_conn_new, ct_conn_delete
 * and ct_expire take the writer lock and may be called from any thread; only
 * one thread at a time may call ct_expire (it owns the cursor). A deleted
 * entry's keys are removed at once, but its slot is reused only after an RCU
 * grace period of the data plane's QSBR variable (qs), so a worker may keep
 * using an entry pointer until it reports quiescence, never after. With qs
 * NULL (tests) slots are reused at once. ct owns its entries; callers own the
 * mbufs and the keys they pass.
 *
 * What is tracked. IPv4 TCP, UDP and ICMP echo (id as both "ports"). ICMP
 * errors are not connections: the NAT stage looks up their inner header.
 * TCP state is followed from the flags only (no sequence/window tracking, unlike
 * Linux's tcp_in_window): enough for Linux's per-state timeouts, RST and FIN
 * handling; an out-of-window RST therefore closes a connection (to 10 s).
 */
#ifndef DPNET_CT_H
#define DPNET_CT_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ip.h>
#include <rte_rcu_qsbr.h>

/* Directions; also the index of a connection's keys. */
#define CT_DIR_ORIG 0
#define CT_DIR_REPLY 1

/* TCP flags as in the header's flags byte. */
#define CT_TCP_FIN 0x01
#define CT_TCP_SYN 0x02
#define CT_TCP_RST 0x04
#define CT_TCP_ACK 0x10

/* TCP states (Linux's names and meanings). */
#define CT_TCP_STATES(X)                 \
	X(NONE, "NONE")                  \
	X(SYN_SENT, "SYN_SENT")          \
	X(SYN_RECV, "SYN_RECV")          \
	X(ESTABLISHED, "ESTABLISHED")    \
	X(FIN_WAIT, "FIN_WAIT")          \
	X(CLOSE_WAIT, "CLOSE_WAIT")      \
	X(LAST_ACK, "LAST_ACK")          \
	X(TIME_WAIT, "TIME_WAIT")        \
	X(CLOSE, "CLOSE")

enum ct_tcp_state {
#define CT_TCP_ENUM(e, n) CT_TCP_##e,
	CT_TCP_STATES(CT_TCP_ENUM)
#undef CT_TCP_ENUM
	CT_TCP_MAX
};

extern const char *const ct_tcp_state_names[CT_TCP_MAX];

/* Flags in the high bits of a connection's state word (st). */
#define CT_F_REPLIED (1u << 8)    /* a packet was seen in the reply direction */
#define CT_F_ASSURED (1u << 9)    /* TCP established / UDP stream */
#define CT_F_FIN_ORIG (1u << 10)  /* TCP: FIN seen from the original side */
#define CT_F_FIN_REPLY (1u << 11) /* TCP: FIN seen from the reply side */
#define CT_ST_STATE(st) ((st) & 0xFFu)

/* NAT done on a connection (set by the NAT stage at creation). */
#define CT_NAT_SRC 0x01  /* source rewritten in the original direction */
#define CT_NAT_DST 0x02  /* destination rewritten in the original direction */

/*
 * A connection's key: one direction's tuple as packets carry it, network byte
 * order. 16 bytes with explicit zero padding (the hash compares all bytes).
 * ICMP echo: the id in both ports, so that reversing a key keeps it, and the
 * message's class in icmp_class (CT_ICMP_K_REQUEST / CT_ICMP_K_REPLY; 0 for
 * TCP/UDP), which reversing flips: an echo request is never taken for a
 * reply of the same id - a remote pinging a masqueraded ping's address and
 * id from outside does not match the connection.
 */
struct ct_key {
	rte_be32_t src_ip;    /* source address */
	rte_be32_t dst_ip;    /* destination address */
	rte_be16_t src_port;  /* TCP/UDP source port, ICMP echo id */
	rte_be16_t dst_port;  /* TCP/UDP destination port, ICMP echo id */
	uint8_t proto;        /* IPPROTO_TCP/UDP/ICMP */
	uint8_t icmp_class;   /* ICMP echo: CT_ICMP_K_*; else 0 */
	uint8_t pad[2];       /* always zero */
};

/* ct_key.icmp_class of an ICMP echo key. */
#define CT_ICMP_K_REQUEST 1
#define CT_ICMP_K_REPLY 2

/*
 * One connection; one cache line. key[] and nat are immutable while the entry
 * is in the table; st and last_tsc are written by any worker (atomics).
 */
struct ct_conn {
	struct ct_key key[2];  /* [CT_DIR_ORIG], [CT_DIR_REPLY]: as packets arrive */
	uint64_t last_tsc;     /* last packet either way (relaxed atomic) */
	uint64_t created_tsc;  /* when the first packet was seen */
	uint32_t st;           /* state (low 8 bits) | CT_F_* (CAS-updated) */
	uint32_t idx;          /* own slot in the entry array */
	uint8_t in_use;        /* in the table (written under the lock) */
	uint8_t nat;           /* CT_NAT_* */
	uint16_t dom[2];       /* [dir]: the domain packets of that direction arrive
	                        * in (the NAT stage checks it), CT_DOM_ANY: any */
	uint8_t pad[2];        /* to 64 bytes */
} __rte_cache_aligned;

/* ct_conn.dom[] of a connection whose domains are not known or not checked
 * (ct_conn_new); equal to DP_DOMAIN_NONE. */
#define CT_DOM_ANY 0xFFFF

/* Configuration; ct_params_default() fills Linux's defaults. */
struct ct_params {
	uint32_t max_conns;                    /* table size in connections */
	uint64_t tsc_hz;                       /* TSC cycles per second */
	uint32_t tcp_timeout_s[CT_TCP_MAX];    /* per TCP state, seconds */
	uint32_t udp_timeout_s;                /* UDP, no reply seen yet */
	uint32_t udp_stream_timeout_s;         /* UDP, replied */
	uint32_t icmp_timeout_s;               /* ICMP echo */
	bool tcp_loose;                        /* pick up a TCP connection from a
	                                        * mid-stream ACK (Linux's tcp_loose=1) */
};

/* Counters; written under the lock except refused_full (atomic). */
struct ct_stats {
	uint64_t created;       /* connections added */
	uint64_t expired;       /* removed by ct_expire */
	uint64_t deleted;       /* removed by ct_conn_delete */
	uint64_t refused_full;  /* new connections refused: table full */
	uint64_t refused_exist; /* a key of a new connection was already in the table */
	uint64_t expire_visits; /* entry slots visited by ct_expire */
};

struct ct;

void ct_params_default(struct ct_params *p);

/* Create the table; qs is the data plane's RCU variable (NULL in tests). NULL +
 * errno (EINVAL, ENOMEM, ...) on failure. */
struct ct *ct_create(const char *name, const struct ct_params *p, struct rte_rcu_qsbr *qs);
void ct_free(struct ct *ct);

/* ICMP's l4_flags: the packet is an echo request (may start a connection). */
#define CT_ICMP_REQUEST 0x01

/* Worker: the key of an IPv4 packet (l4 = its L4 header, NULL if absent) and
 * its l4_flags: TCP's flags byte, CT_ICMP_REQUEST for an echo request, else 0.
 * -EINVAL if not tracked: no L4 header (a fragment: the caller's rule), another
 * protocol, an ICMP message other than an echo. */
int ct_key_from_ipv4(const struct rte_ipv4_hdr *ip, const void *l4, struct ct_key *k,
		     uint8_t *l4_flags);

/* The key of the other direction without NAT: addresses and ports swapped. */
static inline void
ct_key_reverse(const struct ct_key *k, struct ct_key *r)
{
	r->src_ip = k->dst_ip;
	r->dst_ip = k->src_ip;
	r->src_port = k->dst_port;
	r->dst_port = k->src_port;
	r->proto = k->proto;
	/* REQUEST <-> REPLY; 0 stays 0. */
	r->icmp_class = k->icmp_class ? (uint8_t)(CT_ICMP_K_REQUEST + CT_ICMP_K_REPLY -
						  k->icmp_class) : 0;
	r->pad[0] = r->pad[1] = 0;
}

/*
 * What a packet travelling in direction dir must look like after NAT: the
 * reverse of the other direction's key. Equal to key[dir] when there is no NAT.
 */
static inline void
ct_conn_xlate(const struct ct_conn *c, unsigned int dir, struct ct_key *out)
{
	ct_key_reverse(&c->key[dir ^ 1], out);
}

/* Worker: one lookup. Returns the entry or NULL; *dir gets the direction. */
struct ct_conn *ct_lookup(const struct ct *ct, const struct ct_key *k, uint8_t *dir);

/* Worker: n lookups (any n). conns[i] = entry or NULL, dirs[i] = direction.
 * Returns the number of hits. */
unsigned int ct_lookup_bulk(const struct ct *ct, const struct ct_key *keys, unsigned int n,
			    struct ct_conn **conns, uint8_t *dirs);

/*
 * Worker: a new connection from its first packet: orig is that packet's key,
 * reply the key replies will carry (NULL: the reverse of orig), nat CT_NAT_*.
 * l4_flags as ct_key_from_ipv4 gives them.
 * Returns 0 and the entry in *out; -EINVAL if this packet may not start a
 * connection (a TCP RST, SYN-ACK, FIN, an ICMP echo reply); -EEXIST if a key is already in
 * the table (*out = the entry holding it); -ENOSPC if the table is full - also
 * when the reply key is taken (only an existing original key gives -EEXIST
 * then), so a caller choosing NAT ports stops at a full table.
 */
int ct_conn_new(struct ct *ct, const struct ct_key *orig, const struct ct_key *reply,
		uint8_t nat, uint8_t l4_flags, uint64_t now_tsc, struct ct_conn **out);
/* The same, recording dom[CT_DIR_ORIG] and dom[CT_DIR_REPLY] in the entry
 * before its keys are published (dom NULL: CT_DOM_ANY both; ct_conn_new). */
int ct_conn_new_dom(struct ct *ct, const struct ct_key *orig, const struct ct_key *reply,
		    uint8_t nat, const uint16_t dom[2], uint8_t l4_flags, uint64_t now_tsc,
		    struct ct_conn **out);

/* Worker: a packet of a known connection in direction dir; updates the state
 * and last-seen time. Returns the new state word. */
uint32_t ct_conn_update(struct ct *ct, struct ct_conn *c, unsigned int dir, uint8_t l4_flags,
			uint64_t now_tsc);

/* Timeout of the connection in its current state, in TSC cycles. */
uint64_t ct_conn_timeout_tsc(const struct ct *ct, const struct ct_conn *c);

/* Is the connection expired at now_tsc? */
bool ct_conn_expired(const struct ct *ct, const struct ct_conn *c, uint64_t now_tsc);

/* Any thread: remove one connection (both keys). 0 or -ENOENT. */
int ct_conn_delete(struct ct *ct, struct ct_conn *c);

/* One thread at a time: visit at most budget slots from where the last call
 * stopped, remove the expired connections. Returns how many were removed. */
unsigned int ct_expire(struct ct *ct, uint64_t now_tsc, unsigned int budget);

/* Control: walk the connections; cb returns non-zero to stop. */
void ct_walk(struct ct *ct, int (*cb)(const struct ct_conn *c, void *arg), void *arg);

uint32_t ct_count(const struct ct *ct);
void ct_stats_get(const struct ct *ct, struct ct_stats *out);

#endif /* DPNET_CT_H */
