/*
 * ct_private.h - inside connection tracking: the table structure behind ct.h
 * and the interface between ct.c and the per-protocol state machines
 * (ct_tcp.c, ct_udp.c, ct_icmp.c). Only ct*.c and the unit tests include it.
 *
 * A protocol module has three pure functions of the state word (st, see ct.h):
 * whether and in which state a first packet starts a connection (_new), the
 * state after a packet in a direction (_next, applied by ct.c with a
 * compare-and-swap so that workers seeing both directions never lose an
 * update), and the timeout of a state (_timeout). None of them touches the
 * table, so they are safe on any thread.
 */
#ifndef DPNET_CT_PRIVATE_H
#define DPNET_CT_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_hash.h>
#include <rte_rcu_qsbr.h>
#include <rte_spinlock.h>

#include "ct.h"

struct ct {
	struct rte_hash *hash;          /* ct_key -> (ct_conn * | direction) */
	struct ct_conn *conns;          /* max_conns entries, cache-line aligned */
	uint32_t *free_idx;             /* stack of free entry slots (under lock) */
	uint32_t n_free;                /* its depth (written under lock, read atomically
	                                 * to refuse without the lock when full) */
	uint32_t n_conns;               /* connections in the table (under lock) */
	uint32_t n_deferred;            /* deleted slots waiting for a grace period */
	uint32_t max_conns;             /* capacity */
	uint32_t cursor;                /* next slot ct_expire visits (its caller only) */
	rte_spinlock_t lock;            /* serialises every writer of hash and slots */
	struct rte_rcu_qsbr *qs;        /* data plane's QSBR variable, or NULL */
	struct rte_rcu_qsbr_dq *dq;     /* slots of deleted entries until a grace period */
	uint64_t tcp_tmo_tsc[CT_TCP_MAX]; /* timeouts in TSC cycles */
	uint64_t udp_tmo_tsc;           /* UDP, unreplied */
	uint64_t udp_stream_tmo_tsc;    /* UDP, replied */
	uint64_t icmp_tmo_tsc;          /* ICMP echo */
	bool tcp_loose;                 /* pick up mid-stream TCP */
	struct ct_stats stats;          /* counters (see ct.h) */
};

/* ct_tcp.c */
int ct_tcp_new(const struct ct *ct, uint8_t flags, uint32_t *st);
uint32_t ct_tcp_next(uint32_t st, unsigned int dir, uint8_t flags);
uint64_t ct_tcp_timeout(const struct ct *ct, uint32_t st);

/* ct_udp.c */
int ct_udp_new(const struct ct *ct, uint8_t flags, uint32_t *st);
uint32_t ct_udp_next(uint32_t st, unsigned int dir, uint8_t flags);
uint64_t ct_udp_timeout(const struct ct *ct, uint32_t st);

/* ct_icmp.c */
int ct_icmp_new(const struct ct *ct, uint8_t flags, uint32_t *st);
uint32_t ct_icmp_next(uint32_t st, unsigned int dir, uint8_t flags);
uint64_t ct_icmp_timeout(const struct ct *ct, uint32_t st);

#endif /* DPNET_CT_PRIVATE_H */
