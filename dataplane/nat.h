/*
 * nat.h - the NAT stage: connection tracking (ct.h) wired into the routed
 * path, DNAT for published ports, MASQUERADE to the uplink address, hairpin;
 * the contract between the stage (nat.c) and the control plane (control/nat.c).
 *
 * Where. The stage runs on every IPv4 frame sent to a gateway MAC, before the
 * L3 stage: parse -> bridge -> arp | nat -> l3 -> l2out. It translates the
 * packet in place (addresses, ports, checksums: RFC 1624, cksum.h) so that L3
 * routes on the translated destination, exactly as Linux's PREROUTING DNAT is
 * followed by the routing decision. Translation is decided once per connection,
 * on its first packet, and recorded in the conntrack entry; every later packet
 * of either direction is translated from the entry alone (one bulk ct lookup
 * per burst). Frames the stage does not drop go on to PL_NEXT_L3; translated
 * ones carry PKT_F_NAT, which lets L3 route a published port's traffic between
 * two bridge networks (a published port is public: a container of another
 * network reaches it through the host address, as with Docker's proxy). A
 * first (or untracked) packet also carries PKT_F_RT: the route of its final
 * destination and the header check, which L3 then does not repeat (pkt.h).
 *
 * Host addresses (what a published port answers on). The uplink address is
 * view->nets[u].gw_ip of the uplink's domain u (0: none yet); every network's
 * gateway address (nets[d].gw_ip with DP_NET_F_L3) is a host address too, as
 * docker0's 172.17.0.1 is. A rule with host_ip 0 (Docker's 0.0.0.0) matches a
 * destination that is any host address; a rule with a given host_ip matches
 * only that destination - so -p 127.0.0.1:8080:80 never answers from the
 * network (a frame to 127.0.0.1 is never routed: the rule matches nothing).
 *
 * First packet of a connection (ct miss), ingress domain i:
 *  0. No entry for a destination that is never routed (0.0.0.0, multicast,
 *     broadcast) or a bad IPv4 header checksum: passed on untouched, L3 drops.
 *  1. DNAT: TCP/UDP to a host address whose (proto, host_ip, port), else
 *     (proto, 0, port), is a rule -> destination := (ctr_ip, ctr_port).
 *     Not from an --internal network (Docker drops that traffic too), and
 *     not into one: a rule whose container's route leads into an --internal
 *     network is ignored (the packet stays untranslated: local, step 4).
 *     The rule's counters count this packet (iptables counts a nat rule's
 *     first packets only: its pkts are connections).
 *  2. The route of the (translated) destination gives the output domain o
 *     (l3_route_lookup; CONNECTED(d) or GATEWAY(d)).
 *  3. SNAT: (a) MASQUERADE - not DNATed, the destination not a host address
 *     (that is local, as Linux's INPUT), i a bridge network (DP_NET_F_L3, not
 *     UPLINK, not INTERNAL), o the uplink's domain, uplink address != 0 ->
 *     source := the uplink address; counted per network i (nat_masq_*).
 *     (b) hairpin - DNATed and i is not the uplink's domain -> source := the
 *     gateway address of o (the reply must come back through us: the client
 *     and the server may share an L2 domain); counted per network o
 *     (nat_hairpin_*). The source port is kept when the reply key is free,
 *     else another port of [snat_port_lo, snat_port_hi] is tried (at most
 *     NAT_PORT_TRIES, starting from a hash of the tuple); none free ->
 *     dropped (nat-no-port). ICMP echo: the id plays the port;
 *     requests and replies are told apart in the key (ct.h icmp_class), so
 *     an outside request to the uplink address with a masqueraded ping's id
 *     is not that ping's reply (it is local: answered, or the host's).
 *  4. Tracked when anything was translated, or i or o is the uplink's domain
 *     (so that a reply to a connection the host opened is not masqueraded);
 *     traffic between a network and its own gateway is not tracked, nor is
 *     any other traffic for a host address that was not DNATed: it is local
 *     (answered by L3 or handed to the host), never translated, and so a
 *     scan of the uplink address fills no table and a port published later
 *     is not shadowed by an entry of an earlier, refused attempt.
 *     ct_conn_new: -ENOSPC -> dropped (ct-full; existing connections keep
 *     flowing); -EINVAL (a packet that cannot open a connection: TCP without
 *     SYN, an echo reply) -> dropped (ct-invalid) when NAT would apply, else
 *     routed untracked; -EEXIST on the reply key while choosing a port -> next
 *     port; on the original key (another worker, or an earlier packet of the
 *     same burst, created it) -> use that entry. A reply key taken when there
 *     is no port to choose: DNAT only -> dropped (nat-no-port); nothing
 *     translated -> dropped (ct-invalid): the holder is a translated
 *     connection, and the answer would reach its container - e.g. the host
 *     behind the host port (neigh.h), whose own connections from the uplink
 *     address are tracked, opening one from a port a masqueraded container
 *     holds to the same destination (the other way round, the container's
 *     MASQUERADE picks another port). Such a clash needs the same (proto,
 *     destination address and port) and the same source port: MASQUERADE
 *     keeps a container's port when it is free.
 *     The entry records the domain each direction comes from (ct_conn.dom):
 *     orig = i, reply = o (replies come from where the route sends the
 *     first packet: a masqueraded flow's from the uplink's domain, a
 *     published port's from the container's network, a hairpin's likewise).
 * Later packets (ct hit, direction dir): arriving in another domain than
 * c->dom[dir] -> dropped (ct-invalid): not translated (PKT_F_NAT would carry
 * it past isolation) and no state change. Else ct_conn_update, then the tuple
 * is rewritten to ct_conn_xlate(c, dir) (only the fields that differ).
 *
 * ICMP errors (destination unreachable, time exceeded, parameter problem,
 * source quench) about a tracked connection: the quoted header is that of a
 * packet of the connection travelling the other way, so the stage looks up the
 * quoted tuple, rewrites the outer destination and the quoted source (address
 * and port, the quoted IPv4 checksum incrementally) as that direction's
 * translation says, and recomputes the ICMP checksum over the message; one
 * quoting no known connection is routed untouched unless it is addressed to a
 * host address (then dropped: ct-invalid); one quoting a known connection
 * but arriving in another domain than that connection's packets of its
 * direction is dropped (ct-invalid) as a packet would be. Precisely: the error travels in
 * the direction dir of the connection whose key is the reverse of the quoted
 * tuple; the outer source and destination become those of ct_conn_xlate(dir)
 * where that translates them (so an error a DNATed container sends leaves
 * from the host address, as Linux does), the quoted tuple becomes its
 * reverse; the quoted TCP/UDP checksum is adjusted when it was quoted (UDP's
 * always is, TCP's only with a full header), the ICMP checksum is recomputed
 * over the whole message (rte_raw_cksum_mbuf). An error whose ICMP checksum is
 * wrong, whose quoted header is cut short (less than an IPv4 header and 8
 * bytes, or past the first segment) or a non-first fragment counts as quoting
 * no known connection. Errors are not connections: no ct update.
 *
 * The host port (neigh.h: view->host_port present, NIC mode). The uplink
 * address is then the host's own, and the host gets everything addressed to
 * it that no published port claims. So, for a destination that is the uplink
 * address: another protocol, or an ICMP message that is neither echo nor
 * error, passes untracked (L3 hands it to the host); an ICMP error quoting no
 * known connection passes too (not ct-invalid); a fragment is dropped
 * (nat-fragment) only when a published port claims it - a first fragment
 * (ports parsed) when a rule matches its (proto, address, port), a later one
 * (no ports) when any rule is published for its proto on that address (or on
 * 0.0.0.0) - and passes untracked otherwise. Other host addresses, and the
 * uplink address without a host port, keep the rules below.
 *
 * TTL. A packet with TTL <= 1 that is not for a host address is left
 * untranslated (and untracked): L3 then answers time exceeded to its real
 * source quoting it as sent, as Linux checks the TTL before source NAT.
 *
 * Fragments. dpnet does not reassemble. An IPv4 fragment (first or not) that
 * would be translated - a destination that is a host address (the host
 * port's exception above), or a bridge
 * network's traffic routed to the uplink when MASQUERADE is on (uplink
 * address != 0) or its source is a rule's container address (a published
 * port's reply) - is dropped and counted (nat-fragment); fragments that need
 * no translation are routed untouched, without a ct lookup.
 * Containers get their network's MTU and TCP sets DF, so fragments are rare.
 * On afpacket ports they never arrive: DPDK 22.11's af_packet PMD has the
 * kernel reassemble IPv4 fragments first (PACKET_FANOUT_FLAG_DEFRAG,
 * drivers/port.h), so dpnet gets the whole datagram there.
 * Other protocols (not TCP/UDP/ICMP), and ICMP messages that are neither
 * echo nor error, that would need NAT (the same test, the host port's
 * exception above): nat-proto.
 *
 * Expiry runs on the control thread (nat_expire, from its timer) in budgeted
 * slices; workers never expire entries.
 *
 * Thread safety. Workers read the rule table lock-free; control replaces it
 * whole (nat_rules_set builds a new table, publishes it, and frees the old one
 * after an RCU grace period of the data plane's QSBR variable). Counters are
 * per worker (plain increments), summed by control. The ct table: see ct.h.
 */
#ifndef DPNET_NAT_H
#define DPNET_NAT_H

#include <stdbool.h>
#include <stdint.h>

#include "ct.h"

struct dp;
struct lcore_ctx;
struct pkt_meta;
struct rte_mbuf;

#define NAT_MAX_RULES 4096      /* DNAT rules (published ports), counter slots */
#define NAT_PORT_TRIES 64       /* source ports tried before nat-no-port */

/* One published port: (proto, host_ip, host_port) -> (ctr_ip, ctr_port). */
struct nat_rule {
	uint32_t host_ip;      /* host order; 0 = every host address */
	uint32_t ctr_ip;       /* container address, host order */
	uint16_t host_port;    /* host order */
	uint16_t ctr_port;     /* host order */
	uint16_t id;           /* counter slot, < NAT_MAX_RULES, unique in a set */
	uint8_t proto;         /* IPPROTO_TCP or IPPROTO_UDP */
};

/* Settings of the NAT stage and its conntrack table. */
struct nat_params {
	struct ct_params ct;   /* table size, timeouts (ct_params_default) */
	uint16_t snat_port_lo; /* ports MASQUERADE/hairpin may choose when the */
	uint16_t snat_port_hi; /* source port is taken: 61000-65535 by default,
	                        * clear of Linux's ip_local_port_range
	                        * (32768-60999) that the host behind the host
	                        * port allocates from; 4536 ports per (proto,
	                        * destination address, destination port) */
};

void nat_params_default(struct nat_params *p);

/* Per-worker counters; first packets (connections) and their bytes. */
struct nat_counters {
	uint64_t rule_pkts[NAT_MAX_RULES];      /* DNAT, by rule id */
	uint64_t rule_bytes[NAT_MAX_RULES];
	uint64_t masq_pkts[256];                /* MASQUERADE, by source domain */
	uint64_t masq_bytes[256];
	uint64_t hairpin_pkts[256];             /* hairpin SNAT, by output domain */
	uint64_t hairpin_bytes[256];
	uint64_t translated;                    /* packets rewritten (any direction,
	                                         * ICMP errors included) */
	uint64_t icmp_translated;               /* ICMP errors rewritten */
	uint64_t untracked;                     /* passed to L3 without an entry:
	                                         * first packets step 4 leaves alone or
	                                         * ct refuses (not translated), and
	                                         * fragments, other protocols that
	                                         * need no NAT */
};

/*
 * Create the NAT state of dp (the ct table with dp's QSBR variable, an empty
 * rule table, one nat_counters per worker). Called by dp_create with defaults;
 * nat_configure may replace the parameters before traffic starts. NULL/errno.
 */
struct nat;
struct nat *nat_create(struct dp *dp, const struct nat_params *p);
void nat_free(struct nat *nat);
/* Control, before dp_start: recreate the ct table with new parameters. */
int nat_configure(struct dp *dp, const struct nat_params *p);

/* Control: replace the whole rule set. -EINVAL (bad proto, id out of range or
 * repeated, ctr_ip 0), -EEXIST (two rules with one key), -ENOMEM. On error the
 * old set stays. Existing connections keep their translation. */
int nat_rules_set(struct dp *dp, const struct nat_rule *rules, unsigned int n);

/* Control: sums over the workers. */
void nat_counters_sum(const struct dp *dp, struct nat_counters *out);

/* Control: the conntrack table (ct_walk, ct_stats_get, ct_count). */
struct ct *nat_ct(const struct dp *dp);

/* Control timer: expire at most budget entry slots; returns entries removed. */
unsigned int nat_expire(struct dp *dp, unsigned int budget);

/* Control: drop every connection touching ip (a container that went away). */
unsigned int nat_flush_ip(struct dp *dp, uint32_t ip);

/* The stage (pipeline.h shape). */
uint16_t nat_stage(struct lcore_ctx *ctx, struct rte_mbuf **pkts, uint16_t n);
/* Worker, for L3's errors about a translated packet (PKT_F_NAT) that it does
 * not forward (no route, TTL exceeded, too big - neigh.h): rewrite it back to what it was when it
 * arrived, so that the error reaches its real source quoting what it sent (as
 * Linux translates the errors it sends about NATed packets). false (nothing
 * changed) when it is not translated or its connection is gone. */
bool nat_untranslate(struct lcore_ctx *ctx, struct rte_mbuf *m, struct pkt_meta *meta);

#endif /* DPNET_NAT_H */
