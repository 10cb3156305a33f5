/*
 * counters.h - per-lcore counters of the data plane and the list of drop reasons.
 *
 * Each worker owns one struct dp_counters and is its only writer; the control
 * thread sums all workers' copies when asked (reads may be a burst stale, which
 * is fine for statistics). No atomics on the packet path: a plain increment of
 * a field in the worker's own cache lines.
 *
 * Drop reasons are declared once in DP_DROP_REASONS so that the enum, the names
 * printed by `dpctl stats` and the JSON keys can never disagree.
 */
#ifndef DPNET_COUNTERS_H
#define DPNET_COUNTERS_H

#include <stdint.h>
#include <rte_common.h>
#include <rte_config.h>

/* X(ENUM_SUFFIX, "name shown to users", "one-line description") */
#define DP_DROP_REASONS(X)                                                       \
	X(MALFORMED, "malformed", "frame too short or a header is inconsistent")   \
	X(NO_NETWORK, "no-network", "the ingress port is not in any network")      \
	X(NO_PORT, "no-port", "no output port: flooded to nobody or port gone")     \
	X(SAME_PORT, "same-port", "destination MAC was learned on the ingress port") \
	X(BAD_SRC_MAC, "bad-src-mac", "source MAC is multicast, all-zero or a gateway's") \
	X(TX_FULL, "tx-full", "the output port's transmit queue refused it")        \
	X(NO_MBUF, "no-mbuf", "no buffer left to clone a flooded frame")            \
	X(PORT_DOWN, "port-down", "the output port is being removed")              \
	X(NOT_ROUTABLE, "not-routable",                                             \
	  "sent to a gateway MAC but not routable: VLAN-tagged, not IP, or to a "   \
	  "multicast/broadcast IPv4 address")                                       \
	X(IPV6_NOT_ROUTED, "ipv6-not-routed", "IPv6 sent to a gateway MAC (dpnet routes IPv4 only)") \
	X(BAD_IP_CKSUM, "bad-ip-checksum", "IPv4 header checksum wrong on a frame to be routed") \
	X(GATEWAY_LOCAL, "gateway-local",                                          \
	  "for a gateway address but not a ping, and no uplink host to hand it to") \
	X(NO_ROUTE, "no-route", "no route to the destination (ICMP unreachable sent, rate-limited)") \
	X(ISOLATED, "isolated", "routed between two bridge networks (Docker's network isolation)") \
	X(INTERNAL, "internal", "routed between an --internal network and the uplink") \
	X(TTL_EXCEEDED, "ttl-exceeded", "TTL ran out (ICMP time exceeded sent, rate-limited)") \
	X(NO_NEIGHBOUR, "no-neighbour", "the next hop's MAC is unknown (no neighbour entry)") \
	X(ARP_IGNORED, "arp-ignored",                                              \
	  "ARP to a gateway that needs no answer: a reply, gratuitous, or not for us") \
	X(CT_FULL, "ct-full", "a new connection needing conntrack found the table full") \
	X(CT_INVALID, "ct-invalid",                                                \
	  "cannot open a connection that needs NAT (TCP without SYN, echo reply), or " \
	  "an ICMP error to a host address quoting no known connection")           \
	X(NAT_FRAGMENT, "nat-fragment", "an IPv4 fragment that would need NAT (dpnet does not reassemble)") \
	X(NAT_PROTO, "nat-proto", "a protocol NAT cannot translate (not TCP/UDP/ICMP echo) that would need NAT") \
	X(NAT_NO_PORT, "nat-no-port", "no free source port (or tuple) for MASQUERADE/hairpin SNAT") \
	X(TOO_BIG, "too-big",                                                      \
	  "routed IPv4 longer than the output network's MTU (ICMP fragmentation needed " \
	  "sent with DF, rate-limited; dpnet does not fragment)")                    \
	X(VXLAN_MALFORMED, "vxlan-malformed",                                      \
	  "VXLAN packet whose UDP length is too short or longer than its IPv4 payload, " \
	  "or whose headers are not in the first segment")                          \
	X(VXLAN_BAD_FLAGS, "vxlan-bad-flags",                                      \
	  "VXLAN header without the I flag, with another flag or a reserved field set") \
	X(VXLAN_UNKNOWN_VNI, "vxlan-unknown-vni", "VXLAN packet for a VNI of no overlay network") \
	X(VXLAN_UNKNOWN_PEER, "vxlan-unknown-peer",                                \
	  "VXLAN packet from an address that is not a peer of the VNI's network")   \
	X(VXLAN_NO_VTEP, "vxlan-no-vtep", "overlay frame to send but the uplink has no address") \
	X(VXLAN_NO_ROUTE, "vxlan-no-route",                                        \
	  "no route to the remote VTEP, or one that does not lead out the uplink") \
	X(BAD_OFFLOAD, "bad-offload",                                              \
	  "a large segment or partial checksum (offload.h) that breaks the convention, " \
	  "or one that would become more than DP_GSO_MAX_SEGS frames")

enum dp_drop {
#define DP_DROP_ENUM(e, n, d) DP_DROP_##e,
	DP_DROP_REASONS(DP_DROP_ENUM)
#undef DP_DROP_ENUM
	DP_DROP_MAX
};

extern const char *const dp_drop_names[DP_DROP_MAX];
extern const char *const dp_drop_descs[DP_DROP_MAX];

/* Stages, in their fixed order (see pipeline.c). */
#define DP_STAGES(X)                 \
	X(PARSE, "parse")            \
	X(VXDEC, "vxdec")            \
	X(BRIDGE, "bridge")          \
	X(ARP, "arp")                \
	X(NAT, "nat")                \
	X(L3, "l3")                  \
	X(L2OUT, "l2out")            \
	X(VXENC, "vxenc")

enum dp_stage {
#define DP_STAGE_ENUM(e, n) DP_STAGE_##e,
	DP_STAGES(DP_STAGE_ENUM)
#undef DP_STAGE_ENUM
	DP_STAGE_MAX
};

extern const char *const dp_stage_names[DP_STAGE_MAX];

/* Per-port counters kept by the worker (the PMD's own counters come from rte_eth_stats). */
struct dp_port_counters {
	uint64_t rx_pkts;     /* frames received by this worker on the port */
	uint64_t rx_bytes;    /* their bytes */
	uint64_t tx_pkts;     /* frames the port's TX queue accepted */
	uint64_t drops;       /* frames that came in here and were dropped, any reason */
	uint64_t tx_drops;    /* frames refused by this port's TX queue */
};

/* Per-stage work accounting: what `dpctl stats --perf` reports. */
struct dp_stage_counters {
	uint64_t calls;       /* bursts handed to the stage */
	uint64_t pkts;        /* packets handed to the stage */
	uint64_t cycles;      /* TSC cycles spent in the stage, in the timed bursts */
	uint64_t timed_pkts;  /* packets of the timed bursts: cycles / timed_pkts is
	                       * the stage's cost per packet (pipeline.c times the
	                       * bursts of one worker loop in DP_PERF_SAMPLE) */
};

struct dp_counters {
	uint64_t drops[DP_DROP_MAX];                    /* by reason */
	uint64_t floods;                                /* frames flooded */
	uint64_t learn_events;                          /* learn requests queued */
	uint64_t learn_full;                            /* learn requests lost: ring full */
	uint64_t fdb_moves;                             /* MACs relearned on another port */
	uint64_t loops;                                 /* worker loop iterations */
	uint64_t busy_loops;                            /* iterations that got packets */
	uint64_t sleeps;                                /* idle sleeps taken */
	uint64_t intr_sleeps;                           /* of which blocked on wake fds */
	uint64_t busy_cycles;                           /* TSC in iterations with packets */
	uint64_t routed;                                /* frames routed (L3 stage to l2out) */
	uint64_t arp_replies;                           /* ARP replies for gateway addresses */
	uint64_t icmp_echo_replies;                     /* pings to gateway addresses answered */
	uint64_t icmp_errors;                           /* ICMP unreachable/time exceeded sent */
	uint64_t icmp_ratelimited;                      /* ICMP errors suppressed by the limit */
	uint64_t punted;                                /* frames handed to control (dp->punt) */
	uint64_t injected;                              /* frames control sent (dp->inject) */
	uint64_t gso_frames;                            /* large segments cut in software */
	uint64_t gso_segs;                              /* the frames they became */
	uint64_t csum_completed;                        /* partial checksums completed */
	struct dp_stage_counters stages[DP_STAGE_MAX];  /* per stage */
	struct dp_port_counters ports[RTE_MAX_ETHPORTS]; /* per ethdev port id */
} __rte_cache_aligned;

#endif /* DPNET_COUNTERS_H */
