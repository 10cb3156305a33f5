/*
 * fuzz_dp.h - what the packet fuzz targets share: one data plane built once per
 * process (EAL, ring ports, a view with four networks and an uplink, routes,
 * neighbours, static MACs, NAT rules, a small conntrack table), mbufs whose data
 * is a malloc'd buffer of exactly the frame (so ASan sees any read past it or
 * after the frame is freed), and the run of one input through the worker loop
 * with an mbuf-leak check afterwards.
 *
 * Input of the stage targets: records [ctl][len hi][len lo][len bytes of frame],
 * repeated (a short last record takes what is left). ctl & 7 selects the ingress
 * port (mod FZ_NPORTS); ctl & FZ_C_SPLIT splits the frame into two segments at the
 * byte after the length; the other bits switch off the target's fix-ups (fuzz_stage.c).
 */
#ifndef DPNET_FUZZ_DP_H
#define DPNET_FUZZ_DP_H

#include <stddef.h>
#include <stdint.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "dataplane/dp.h"

#define FZ_NPORTS 5
#define FZ_MAX_FRAME 9216
#define FZ_MAX_RECORDS 16

#define FZ_C_SPLIT 0x10

enum { FZ_DOM_A = 0, FZ_DOM_B = 1, FZ_DOM_I = 2, FZ_DOM_U = 3 };

extern struct dp *fz_dp;
extern struct lcore_ctx *fz_ctx;
extern uint16_t fz_pids[FZ_NPORTS];
extern const uint16_t fz_dom_of[FZ_NPORTS];
extern const struct rte_ether_addr fz_gw_mac[4];
/* What each port takes as it is (dataplane/offload.h, DP_PORT_OFF_*); all 0
 * unless a target sets them before fz_dp_init (fuzz_offload). */
extern uint8_t fz_port_offloads[FZ_NPORTS];

/* EAL + data plane; nat_rules: publish ports and give the uplink MASQUERADE. Aborts on failure. */
void fz_dp_init(const char *prefix, int nat_rules);

/* An mbuf holding bytes[0..len) in malloc'd external buffers: one segment, or two
 * split at split (0 < split < len). NULL when len is 0 or too large. */
struct rte_mbuf *fz_mbuf(const uint8_t *bytes, size_t len, size_t split);

/* Put m on port p's RX ring (frees it if the ring is full). */
void fz_inject(unsigned int p, struct rte_mbuf *m);

/* Free what the switch sent on every port (each checked with rte_mbuf_check, abort
 * if inconsistent); returns how many. */
unsigned int fz_flush_tx(void);

/* One worker iteration, then control's share (learned MACs, expiry), then free
 * everything the switch sent or punted; aborts if an mbuf leaked. */
void fz_run(void);

#endif /* DPNET_FUZZ_DP_H */
