/*
 * stats.c - the stats command: per-port, per-stage and per-drop-reason counters.
 *
 * Ports show both sides: what the PMD counted (rte_eth_stats: packets that
 * reached or left the device, and its errors) and what the switch's workers
 * counted (frames handled, dropped, refused by TX). Every drop reason is listed,
 * zero or not, under the names of DP_DROP_REASONS, so scripts can rely on the
 * keys being there. The "nat" object: packets translated, connections DNATed,
 * masqueraded and hairpinned (first packets, as iptables counts), conntrack
 * entries. The "mbufs" object: the pool's size and how many of its mbufs are
 * out of it (in RX rings, in flight, held; rte_mempool_in_use_count: the
 * lcore caches count as free), what a leak of mbufs would make grow.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "dataplane/counters.h"
#include "dataplane/dp.h"
#include "dataplane/fdb.h"
#include "drivers/port.h"
#include "ctl.h"
#include "neigh.h"
#include "util.h"
#include "vxlan.h"

static json_t *
stats_port(struct ctl *c, struct port *p, const struct dp_counters *sum)
{
	const struct dp_port_counters *now = &sum->ports[p->port_id];
	const struct dp_port_counters *base = &c->base[p->port_id];
	struct rte_eth_stats st;

	memset(&st, 0, sizeof(st));
	rte_eth_stats_get(p->port_id, &st);
	return json_pack("{s:s, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
			 " s:I, s:I, s:I, s:I, s:I}",
			 "name", p->spec.name, "port_id", p->port_id,
			 "rx_pkts", (json_int_t)st.ipackets, "rx_bytes", (json_int_t)st.ibytes,
			 "tx_pkts", (json_int_t)st.opackets, "tx_bytes", (json_int_t)st.obytes,
			 "rx_errors", (json_int_t)st.ierrors, "tx_errors", (json_int_t)st.oerrors,
			 "rx_missed", (json_int_t)st.imissed,
			 "rx_nombuf", (json_int_t)st.rx_nombuf,
			 "sw_rx_pkts", (json_int_t)(now->rx_pkts - base->rx_pkts),
			 "sw_rx_bytes", (json_int_t)(now->rx_bytes - base->rx_bytes),
			 "sw_tx_pkts", (json_int_t)(now->tx_pkts - base->tx_pkts),
			 "drops", (json_int_t)(now->drops - base->drops),
			 "tx_drops", (json_int_t)(now->tx_drops - base->tx_drops));
}

/*
 * `stats --perf`: each worker's own counters, as ovs-appctl
 * dpif-netdev/pmd-stats-show and VPP's show runtime give them: loops, busy
 * loops, sleeps, the TSC cycles of busy iterations, packets received, and the
 * cycles each stage spent per packet it handled. Read without stopping the
 * workers (each is the only writer of its counters): a burst stale at most.
 */
static json_t *
stats_workers(const struct ctl *c)
{
	json_t *arr = json_array();

	if (arr == NULL)
		return NULL;
	for (uint16_t w = 0; w < c->dp->n_workers; w++) {
		const struct dp_counters *k = &c->dp->workers[w]->cnt;
		json_t *stages = json_array(), *o;
		uint64_t rx = 0;

		if (stages == NULL)
			goto oom;
		for (unsigned int p = 0; p < RTE_MAX_ETHPORTS; p++)
			rx += k->ports[p].rx_pkts;
		for (unsigned int i = 0; i < DP_STAGE_MAX; i++) {
			const struct dp_stage_counters *sc = &k->stages[i];

			if (json_array_append_new(stages, json_pack(
				    "{s:s, s:I, s:I, s:I, s:I, s:f}", "name", dp_stage_names[i],
				    "calls", (json_int_t)sc->calls, "pkts", (json_int_t)sc->pkts,
				    "cycles", (json_int_t)sc->cycles,
				    "timed_pkts", (json_int_t)sc->timed_pkts, "cycles_per_pkt",
				    sc->timed_pkts ? (double)sc->cycles / (double)sc->timed_pkts :
				    0.0)) < 0) {
				json_decref(stages);
				goto oom;
			}
		}
		o = json_pack("{s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:o}",
			      "worker", (int)w, "lcore", (int)c->lcores[w],
			      "loops", (json_int_t)k->loops,
			      "busy_loops", (json_int_t)k->busy_loops,
			      "sleeps", (json_int_t)k->sleeps,
			      "intr_sleeps", (json_int_t)k->intr_sleeps,
			      "busy_cycles", (json_int_t)k->busy_cycles,
			      "rx_pkts", (json_int_t)rx,
			      "cycles_per_pkt", rx ? (double)k->busy_cycles / (double)rx : 0.0,
			      "stages", stages);
		if (json_array_append_new(arr, o) < 0)
			goto oom;
	}
	return arr;
oom:
	json_decref(arr);
	return NULL;
}

int
ctl_stats(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	static const char *const allowed[] = { "perf", NULL };
	struct port *ports[RTE_MAX_ETHPORTS];
	struct dp_counters sum;
	json_t *res, *arr, *stages, *drops;
	const struct fdb *fdb = c->dp->fdb;
	unsigned int n;
	uint64_t total = 0, drv_errors = 0, drv_missed = 0, drv_nombuf = 0;
	int rc;

	rc = ctl_args_allowed(args, "stats", allowed, err, errlen);
	if (rc < 0)
		return rc;
	if (json_object_get(args, "perf") != NULL && !json_is_boolean(json_object_get(args, "perf")))
		return ctl_fail(err, errlen, -EINVAL, "stats: \"perf\" is true or false");
	dp_counters_sum(c->dp, &sum);
	arr = json_array();
	stages = json_array();
	drops = json_object();
	res = json_object();
	if (arr == NULL || stages == NULL || drops == NULL || res == NULL)
		goto oom;
	n = port_list(ports, RTE_MAX_ETHPORTS);
	for (unsigned int i = 0; i < n; i++) {
		struct rte_eth_stats st;

		if (json_array_append_new(arr, stats_port(c, ports[i], &sum)) < 0)
			goto oom;
		memset(&st, 0, sizeof(st));
		rte_eth_stats_get(ports[i]->port_id, &st);
		drv_errors += st.ierrors;
		drv_missed += st.imissed;
		drv_nombuf += st.rx_nombuf;
	}
	for (unsigned int i = 0; i < DP_STAGE_MAX; i++) {
		const struct dp_stage_counters *sc = &sum.stages[i];
		json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:f}", "name", dp_stage_names[i],
				      "calls", (json_int_t)sc->calls,
				      "pkts", (json_int_t)sc->pkts,
				      "cycles", (json_int_t)sc->cycles,
				      "timed_pkts", (json_int_t)sc->timed_pkts,
				      "cycles_per_pkt", sc->timed_pkts ?
				      (double)sc->cycles / (double)sc->timed_pkts : 0.0);

		if (json_array_append_new(stages, o) < 0)
			goto oom;
	}
	for (unsigned int i = 0; i < DP_DROP_MAX; i++) {
		total += sum.drops[i];
		if (json_object_set_new(drops, dp_drop_names[i],
					json_integer((json_int_t)sum.drops[i])) < 0)
			goto oom;
	}
	rc = json_object_set_new(res, "ports", arr);
	arr = NULL;
	rc |= json_object_set_new(res, "stages", stages);
	stages = NULL;
	rc |= json_object_set_new(res, "drops", drops);
	drops = NULL;
	rc |= json_object_set_new(res, "drops_total", json_integer((json_int_t)total));
	/* What the ports' drivers dropped before dpnet saw it (all ports), named
	 * as in the table of `dpctl stats`: a TAP port's rx-errors are frames
	 * longer than an mbuf's data room (README, "Hostile input"). */
	rc |= json_object_set_new(res, "driver_drops",
				  json_pack("{s:I, s:I, s:I}",
					    "rx-errors", (json_int_t)drv_errors,
					    "rx-missed", (json_int_t)drv_missed,
					    "rx-no-mbuf", (json_int_t)drv_nombuf));
	rc |= json_object_set_new(res, "floods", json_integer((json_int_t)sum.floods));
	rc |= json_object_set_new(res, "learn_events",
				  json_integer((json_int_t)sum.learn_events));
	rc |= json_object_set_new(res, "learn_full", json_integer((json_int_t)sum.learn_full));
	rc |= json_object_set_new(res, "l3",
				  json_pack("{s:I, s:I, s:I, s:I, s:I}",
					    "routed", (json_int_t)sum.routed,
					    "arp_replies", (json_int_t)sum.arp_replies,
					    "icmp_echo_replies", (json_int_t)sum.icmp_echo_replies,
					    "icmp_errors", (json_int_t)sum.icmp_errors,
					    "icmp_ratelimited", (json_int_t)sum.icmp_ratelimited));
	/* Unfinished frames (dataplane/offload.h) the workers finished. */
	rc |= json_object_set_new(res, "offload",
				  json_pack("{s:I, s:I, s:I}",
					    "gso_frames", (json_int_t)sum.gso_frames,
					    "gso_segs", (json_int_t)sum.gso_segs,
					    "csum_completed", (json_int_t)sum.csum_completed));
	rc |= json_object_set_new(res, "nat", ctl_nat_stats_json(c));
	rc |= json_object_set_new(res, "neigh", ctl_neigh_stats_json());
	rc |= json_object_set_new(res, "vxlan", ctl_vxlan_stats_json(c));
	rc |= json_object_set_new(res, "worker",
				  json_pack("{s:I, s:I, s:I, s:I}",
					    "loops", (json_int_t)sum.loops,
					    "busy_loops", (json_int_t)sum.busy_loops,
					    "sleeps", (json_int_t)sum.sleeps,
					    "busy_cycles", (json_int_t)sum.busy_cycles));
	rc |= json_object_set_new(res, "fdb",
				  json_pack("{s:i, s:i, s:I, s:I, s:I, s:I}",
					    "entries", (int)fdb_count(fdb),
					    "size", (int)fdb->size,
					    "learned", (json_int_t)fdb->learned,
					    "aged", (json_int_t)fdb->aged,
					    "moves", (json_int_t)sum.fdb_moves,
					    "full", (json_int_t)fdb->full));
	if (json_is_true(json_object_get(args, "perf"))) {
		rc |= json_object_set_new(res, "tsc_hz", json_integer((json_int_t)rte_get_tsc_hz()));
		rc |= json_object_set_new(res, "workers", stats_workers(c));
	}
	rc |= json_object_set_new(res, "mbufs",
				  json_pack("{s:I, s:I}",
					    "size", (json_int_t)c->dp->pool->size,
					    "in_use",
					    (json_int_t)rte_mempool_in_use_count(c->dp->pool)));
	if (rc != 0)
		goto oom;
	*result = res;
	return 0;
oom:
	json_decref(arr);
	json_decref(stages);
	json_decref(drops);
	json_decref(res);
	return -ENOMEM;
}
