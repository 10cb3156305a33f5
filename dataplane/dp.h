/*
 * dp.h - the data plane as the control thread sees it: the published view, the
 * workers and their per-lcore context.
 *
 * Control writes, data reads. The control thread builds a new struct dp_view
 * (which ports exist, which network each port is in, which ports each worker
 * polls), publishes it with dp_view_publish(), which swaps the pointer with
 * release semantics, waits for an RCU grace period (rte_rcu_qsbr; workers report
 * quiescence once per loop, and go offline while they sleep) and frees the old
 * view. Workers load the pointer once per loop iteration and never write it.
 *
 * Port numbers are ethdev port ids. A "domain" is a bridge domain: the slot of
 * a network; DP_DOMAIN_NONE means the port is in no network and its frames are
 * dropped (counted as no-network).
 */
#ifndef DPNET_DP_H
#define DPNET_DP_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_ethdev.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>

#include "counters.h"
#include "fdb.h"

struct l3_tables;
struct nat;
struct vxlan_table;
struct nat_counters;

#define DP_MAX_WORKERS 16
#define DP_MAX_DOMAINS 256
#define DP_DOMAIN_NONE 0xFFFF
#define DP_BURST 32

/* Role of a port: an access port connects a container/host, the uplink the outside. */
enum dp_port_role {
	DP_ROLE_ACCESS = 0,
	DP_ROLE_UPLINK = 1,
	DP_ROLE_HOST = 2,
};

struct dp_port_view {
	uint16_t domain;      /* bridge domain, DP_DOMAIN_NONE if none */
	uint8_t present;      /* the port is started and may be used for TX */
	uint8_t role;         /* enum dp_port_role */
	uint8_t offloads;     /* DP_PORT_OFF_* (offload.h): unfinished frames it takes */
};

struct dp_domain_view {
	uint16_t n_ports;                    /* members of the domain */
	uint16_t ports[RTE_MAX_ETHPORTS];    /* their port ids (flood list) */
};

struct vtap;

struct dp_rxq {
	uint16_t port_id;     /* ethdev port */
	uint16_t queue_id;    /* RX queue of that port */
	struct vtap *vtap;    /* a vtap port (drivers/vtap.h): the worker reads its
	                       * TAP into the ring before polling; NULL otherwise */
	int wake_fd;          /* readable when frames wait on the queue (its RX
	                       * interrupt, armed by rte_eth_dev_rx_intr_enable):
	                       * an idle worker blocks on it (worker.c); -1: the
	                       * queue cannot interrupt */
	bool wake_eventfd;    /* wake_fd is an eventfd whose counter the worker reads
	                       * after it fired (vfio); false for a TAP's own fd */
	int wake_sig;         /* with wake_kick: net_tap's RX trigger (drivers/port.c) */
	void (*wake_kick)(int); /* called (wake_sig) after wake_fd woke the worker, so
	                         * that net_tap reads the queue; NULL: nothing to do */
};

/* The routed side of a domain (a network): its gateway, owned by dpnet. */
#define DP_NET_F_L3 0x01        /* the domain has a gateway: route frames sent to gw_mac */
#define DP_NET_F_INTERNAL 0x02  /* --internal: no route to the uplink */
#define DP_NET_F_UPLINK 0x04    /* this is the uplink's domain (the host / outside) */
#define DP_NET_F_PROXY_ARP 0x08 /* answer ARP for every routed destination (uplink) */

struct dp_net_view {
	uint32_t gw_ip;                 /* gateway address, host byte order (0: none) */
	uint32_t subnet;                /* network address, host byte order */
	uint8_t prefix_len;             /* subnet prefix length */
	uint8_t flags;                  /* DP_NET_F_* */
	uint16_t mtu;                   /* MTU of the network's links */
	struct rte_ether_addr gw_mac;   /* the router's MAC in this domain */
};

/* Where a frame flooded from one port goes: derived by dp_view_publish(). */
struct dp_flood_list {
	uint16_t n_ports;                        /* number of targets */
	uint16_t ports[RTE_MAX_ETHPORTS];        /* present ports of the domain but this one */
};

/* An immutable snapshot; a new one is built for every change. */
struct dp_view {
	uint64_t generation;                            /* increases with each publish */
	struct dp_port_view ports[RTE_MAX_ETHPORTS];    /* indexed by port id */
	struct dp_domain_view domains[DP_MAX_DOMAINS];  /* indexed by domain */
	uint16_t n_rxq[DP_MAX_WORKERS];                 /* RX queues per worker */
	struct dp_rxq rxq[DP_MAX_WORKERS][RTE_MAX_ETHPORTS]; /* what each worker polls */
	struct dp_flood_list flood[RTE_MAX_ETHPORTS];   /* derived: per ingress port */
	struct dp_flood_list dom_flood[DP_MAX_DOMAINS]; /* derived: present ports per domain
	                                                 * (routed frames flood with it) */
	struct dp_net_view nets[DP_MAX_DOMAINS];        /* per domain: gateway, flags */
	uint16_t uplink_port;                           /* RTE_MAX_ETHPORTS if none; traffic
	                                                 * to a gateway address that is not a
	                                                 * ping goes to its domain (l3.h) */
	uint16_t host_port;                             /* the host's exception path port
	                                                 * (neigh.h), RTE_MAX_ETHPORTS if none */
	struct vtap *vtap[RTE_MAX_ETHPORTS];            /* vtap ports: pl_flush writes what
	                                                 * their TX rings hold (vtap.h) */
};

/* Idle behaviour of the workers. */
struct dp_poll_params {
	bool busy;                 /* never sleep (dedicated cores) */
	uint32_t spin_polls;       /* empty polls before the first sleep */
	uint32_t sleep_min_us;     /* first sleep */
	uint32_t sleep_max_us;     /* ceiling of the doubling sleeps */
	bool intr;                 /* adaptive: a worker whose every queue has a wake
	                            * fd blocks on them instead of sleeping (worker.c) */
	uint32_t intr_timeout_ms;  /* longest such block (a missed wake costs this) */
};

/* What a TX buffer's error callback needs to count the frames a port refused. */
struct dp_txb_arg {
	struct dp_counters *cnt;  /* the worker's counters */
	uint16_t port;            /* the port whose buffer it is */
};

#define DP_LEARN_CACHE 256
#define DP_BR_CACHE 1024    /* exact-match cache entries per worker (power of 2) */

/* One entry of a worker's exact-match cache in front of the MAC table. */
struct br_cache_ent {
	uint64_t key;       /* fdb_key cached here, UINT64_MAX = empty */
	int32_t pos;        /* its hash position, or negative: known absent */
	uint32_t gen;       /* fdb->add_gen when a miss was cached */
};

/* pl_run times its stages (a TSC read a stage, ~20 cycles each in a VM) in
 * one worker loop of this many (a power of 2); lcore_ctx.perf_mask is
 * DP_PERF_SAMPLE - 1, or 0 with perf_timed set to time every burst
 * (perf/vxcycles.c, which calls pl_run itself). */
#define DP_PERF_SAMPLE 8

#define DP_NH_CACHE 256     /* neighbour cache entries per worker (power of 2) */

/* One entry of a worker's cache in front of the neighbour table (route.c). */
struct l3_nc_ent {
	uint64_t key;       /* l3_neigh_key cached here, UINT64_MAX = empty */
	uint64_t mac;       /* its MAC (l3_mac_pack) */
	uint32_t gen;       /* l3->neigh_gen when it was looked up */
	int32_t fdb_pos;    /* its MAC's MAC-table position, -1: not looked up; good
	                     * while that slot holds the MAC (route.c checks) */
};

/* Everything a worker touches on the packet path; one per worker lcore. */
struct lcore_ctx {
	struct dp *dp;                         /* back pointer (tables, pool) */
	const struct dp_view *view;            /* view loaded at the top of this loop */
	struct fdb *fdb;                       /* MAC table */
	struct l3_tables *l3;                  /* routes and neighbours (l3_private.h) */
	uint64_t now_tsc;                      /* TSC read once per loop */
	uint16_t rx_port;                      /* port of the burst in the pipeline */
	uint16_t rx_domain;                    /* its domain (from the view) */
	bool rx_vtep;                          /* that domain has DP_NET_F_VTEP: the
	                                        * parser looks for VXLAN to our VTEP
	                                        * and the bridge may get decapsulated
	                                        * frames among the burst's (vxlan.h) */
	bool vxenc_pending;                    /* the bridge sent a frame of this burst
	                                        * to vxenc: pl_run runs it in round one */
	bool rx_offload;                       /* a frame of this burst carries
	                                        * unfinished work (offload.h): set by
	                                        * the parser, which saw every frame's
	                                        * ol_flags; only then does the
	                                        * dispatcher look at each frame's */
	uint16_t worker_id;                    /* 0..n_workers-1, also the TX queue id */
	uint32_t perf_tick;                    /* worker loops, for sampling */
	uint32_t perf_mask;                    /* time a loop when !(tick & mask) */
	bool perf_timed;                       /* pl_run times the stages of this
	                                        * loop's bursts */
	unsigned int lcore_id;                 /* EAL lcore */
	struct rte_eth_dev_tx_buffer *txb[RTE_MAX_ETHPORTS]; /* per-port TX batching */
	struct dp_txb_arg txb_arg[RTE_MAX_ETHPORTS];   /* error-callback arguments */
	uint64_t txb_dirty;                    /* bit per port with buffered frames */
	struct br_cache_ent brc[DP_BR_CACHE];  /* MAC lookups, direct-mapped by signature */
	uint64_t learn_key[DP_LEARN_CACHE];    /* recently requested keys (direct-mapped) */
	uint64_t learn_tsc[DP_LEARN_CACHE];    /* when they were requested */
	uint64_t learn_gap_tsc;                /* ask again for one MAC no sooner (10 ms) */
	uint64_t icmp_credit_tsc;              /* ICMP error token bucket, in TSC cycles */
	uint64_t icmp_last_tsc;                /* when the bucket was last refilled */
	uint16_t icmp_ip_id;                   /* IP id of the next ICMP error we send */
	uint16_t vx_ip_id;                     /* IP id of the next VXLAN packet sent
	                                        * without DF (vxlan.c) */
	struct nat_counters *nat_cnt;          /* this worker's NAT counters (nat.h) */
	/* Interrupt wake (worker.c), off the packet path: */
	int wake_efd;                          /* eventfd control writes (dp_wake) */
	int epfd;                              /* epoll set of wake_efd and the queues'
	                                        * wake fds; -1 until built */
	uint64_t ep_gen;                       /* view generation it was built for */
	bool ep_ok;                            /* every queue of that view has a wake fd */
	uint32_t blocked;                      /* about to block or blocked in epoll_wait:
	                                        * dp_wake writes wake_efd (atomic) */
	uint32_t intr_active;                  /* the last view let us block: status reads
	                                        * it (atomic) */
	/* Which vtap queues to read (worker.c): with many, one epoll_wait(0) a
	 * loop instead of a readv per queue. */
	int vt_epfd;                           /* their TAP fds; -1: read them all */
	uint64_t vt_gen;                       /* view generation it was built for */
	/* vtap queues (read by a system call) found empty are read again only
	 * sq_back[q] microseconds later while others keep the worker busy
	 * (worker.c); indexed by the queue's place in the view of sq_gen. */
	uint64_t sq_gen;                       /* view generation of sq_next/sq_back */
	uint64_t us_tsc;                       /* TSC cycles per microsecond */
	bool last_busy;                        /* the last loop found frames */
	uint64_t sq_next[RTE_MAX_ETHPORTS];    /* TSC of the queue's next read */
	uint8_t sq_back[RTE_MAX_ETHPORTS];     /* current spacing in us (0: none) */
	struct dp_counters cnt;                /* this worker's counters */
	struct l3_nc_ent nhc[DP_NH_CACHE];     /* neighbour lookups, direct-mapped */
};

/*
 * The vtap driver's worker side (drivers/vtap.h: vtap_rx_fill, vtap_tx_drain),
 * installed by the daemon before any vtap port is published: the data plane
 * does not link the drivers, so it calls them through these. Both are NULL in
 * a data plane without vtap ports (unit suites); no view then names a vtap.
 */
struct dp_vtap_ops {
	unsigned int (*rx_fill)(struct vtap *vt, uint16_t q);   /* TAP -> RX ring q */
	unsigned int (*tx_drain)(struct vtap *vt, uint16_t q);  /* TX ring q -> TAP */
};

struct dp {
	const struct dp_view *view;            /* current view: __atomic load/store only */
	struct rte_rcu_qsbr *qs;               /* QSBR variable, one thread id per worker */
	struct rte_mempool *pool;              /* mbufs (metadata: pkt.h)          */
	struct fdb *fdb;                       /* MAC table shared by all workers */
	struct l3_tables *l3;                  /* routes and neighbours (l3.h, route.c) */
	struct nat *nat;                       /* conntrack, NAT rules (nat.h, nat.c) */
	struct dp_poll_params poll;            /* idle backoff */
	uint16_t n_workers;                    /* worker lcores */
	uint16_t n_launched;                   /* workers running (dp_start .. dp_stop) */
	volatile bool quit;                    /* set by control to stop the workers */
	struct lcore_ctx *workers[DP_MAX_WORKERS]; /* per-worker context */
	struct rte_ring *punt;                 /* workers -> control: frames to resolve, ARP
	                                        * (MP/SC, neigh.h) */
	struct rte_ring *inject;               /* control -> workers: frames to send on
	                                        * meta->out_port (SP/MC, neigh.h) */
	struct vxlan_table *vxlan;             /* overlays (vxlan.h): __atomic load/store
	                                        * only; NULL when there are none */
	uint32_t vxlan_params;                 /* vxlan.h's struct vxlan_params packed in
	                                        * one word (vxlan_private.h): relaxed
	                                        * atomic load/store */
	struct dp_vtap_ops vtap;               /* set once before dp_start (above) */
};

/* Create the data plane (pool, fdb, RCU, worker contexts, the NAT state with
 * nat_params_default()). NULL + errno on failure. */
struct dp *dp_create(uint32_t n_mbufs, uint16_t n_workers, uint32_t fdb_size,
		     uint32_t fdb_age_s, const struct dp_poll_params *poll);
void dp_destroy(struct dp *dp);

/* Control thread: wake the workers blocked on their wake fds (worker.c), after
 * putting something on dp->inject or publishing a view (dp_view_publish does). */
void dp_wake(struct dp *dp);

/* Start one worker per listed lcore (rte_eal_remote_launch); dp_stop joins them. */
int dp_start(struct dp *dp, const unsigned int *lcores, uint16_t n);
void dp_stop(struct dp *dp);

/* Control thread: copy of the current view to modify, then publish it (which
 * also derives the flood lists from ports[] and domains[]). */
struct dp_view *dp_view_clone(const struct dp *dp);
void dp_view_publish(struct dp *dp, struct dp_view *v);
static inline const struct dp_view *
dp_view_get(const struct dp *dp)
{
	return __atomic_load_n(&dp->view, __ATOMIC_ACQUIRE);
}

/* Control thread: sum of all workers' counters. */
void dp_counters_sum(const struct dp *dp, struct dp_counters *out);

/* The worker loop (worker.c); exposed for tests that run it on the main lcore. */
int dp_worker_main(void *arg);
/* One loop iteration without sleeping; returns packets received. */
unsigned int dp_worker_poll_once(struct lcore_ctx *ctx);

#endif /* DPNET_DP_H */
