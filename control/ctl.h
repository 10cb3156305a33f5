/*
 * ctl.h - the control thread's state and the command handlers.
 *
 * dpnetd.c owns one struct ctl for the life of the daemon and hands it to every
 * handler. Handlers run on the control thread only, one at a time, to
 * completion (see server.h for their signature); they read and change the
 * registry of ports (drivers/port.h), the network table and the data plane's
 * view, and must leave everything unchanged when they fail.
 *
 * Command names and their arguments (all strings unless said):
 *   status                        -> {version, protocol, pid, uptime_s, workers, ...}
 *   stats                         -> {ports:[...], stages:[...], drops:{reason:n}, ...}
 *   port.add {name, type, iface?, devargs?, network?, role?} -> the port object
 *   port.del {name}               -> {name}
 *   port.ls                       -> [port object, ...]
 *   port.stats {name}             -> {name, ethdev:{...}, switch:{...}, link:{...}}
 *   mac.ls {network?}             -> [{port, mac, local, ageing_s, network, port_id}, ...]
 *   network.ls                    -> [{id, name, driver, scope, subnet, gateway, ...}]
 *   network.create {name, driver?, subnet?, gateway?, ip_range?, mtu?, internal?(bool),
 *                   vni? (driver overlay)}
 *                                 -> {id, short_id, name}
 *   network.inspect {name}        -> [Docker's inspect object]
 *   network.rm {name}             -> {name}
 *   nat.ls                        -> {chains:[{name, policy?, references?, pkts,
 *                                     bytes, rules:[{pkts, bytes, target, prot, opt,
 *                                     in, out, source, destination, extra, ...}]}]}
 *   conntrack.ls {proto?, src?, dst?} -> {entries:[...], count, max}
 *   conntrack.stats               -> {entries, max, created, expired, ..., drops:{}}
 *   conntrack.flush               -> {deleted}
 *   route.add {to, via?, blackhole?(bool)} -> the route object
 *   route.rm {to}                 -> {destination}
 *   route.ls                      -> [{destination, gateway, network, type, domain,
 *                                     origin}]
 *   neigh.ls                      -> [{address, mac, state, network, domain}]
 *   vxlan.peer.add|rm|ls, vxlan.fdb.ls: see control/vxlan.h
 *
 * This header needs no DPDK header, so pure modules (network.c) can include it.
 */
#ifndef DPNET_CTL_H
#define DPNET_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "config.h"
#include "network.h"
#include "server.h"

struct dp;
struct dp_port_counters;

struct ctl {
	struct dp *dp;                      /* the data plane */
	const struct cfg *cfg;              /* configuration the daemon started with */
	struct net_table *nets;             /* known networks */
	struct srv *srv;                    /* the control socket */
	struct dp_port_counters *base;      /* per port id: counters when the port was added */
	uint64_t start_ms;                  /* CLOCK_MONOTONIC at start, for uptime */
	uint64_t start_wall_s;              /* wall clock at start */
	bool hugepages;                     /* EAL runs on hugepages (else --no-huge) */
	bool eal_from_cli;                  /* EAL arguments came after "--" */
	uint16_t n_workers;                 /* worker lcores running */
	unsigned int lcores[CFG_MAX_WORKERS]; /* their EAL lcore ids */
	char socket_path[108];              /* where we listen */
	char state_dir[CFG_PATH_MAX];       /* --state-dir */
	char file_prefix[64];               /* EAL --file-prefix in use */
	char eal_line[1024];                /* the EAL arguments, for status */
};

/*
 * Log type "dpnet.control" (registered in dpnetd.c); use with rte_log.h
 * included. Every line carries its level word ("dpnetd: WARNING: ...") so log
 * checks can tell a refused request from a lifecycle message.
 */
extern int ctl_logtype;
#define CTL_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, ctl_logtype, "dpnetd: " #level ": " fmt "\n", ##__VA_ARGS__)

/* port.c */
int ctl_port_add(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen);
int ctl_port_del(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen);
int ctl_port_ls(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen);
int ctl_port_stats(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen);
/* Create and publish one port; shared by port.add and the config. cli phrases fixes. */
int ctl_port_create(struct ctl *c, const struct cfg_port *cp, bool cli, char *err,
		    size_t errlen);
/* Unpublish and destroy one port; shared by port.del and the containers. */
int ctl_port_remove(struct ctl *c, const char *name, char *err, size_t errlen);
/* Shutdown: destroy every port (the workers are stopped already). */
void ctl_port_destroy_all(struct ctl *c);
/* "aa:bb:cc:dd:ee:ff" (lower case) from 6 bytes. */
char *ctl_format_mac(const uint8_t *b, char *buf, size_t len);

/* mac.c */
int ctl_mac_ls(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen);
int ctl_mac_add(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen);
int ctl_mac_rm(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen);
/* Register the "macs" state section (static entries). */
int ctl_mac_state_register(struct ctl *c);
/*
 * Leave the static MACs behind port out of the saves that follow, until
 * ctl_mac_state_hide(NULL): for the first save of a removal (rm, disconnect,
 * del-port), which is made without the port while it still exists.
 */
void ctl_mac_state_hide(const char *port);

/* stats.c */
int ctl_stats(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen);

/* nat.c: DNAT rules from the containers' port maps, conntrack settings and
 * expiry, and the nat/conntrack commands. */
/* Before the workers start: the conntrack table and NAT settings from c->cfg. */
int ctl_nat_configure(struct ctl *c, char *err, size_t errlen);
/* Program the rules of every container's published ports (the whole set). On
 * failure the rules in force stay as they were; err says why. */
int ctl_nat_sync(struct ctl *c, char *err, size_t errlen);
/* Main loop: expire connections in slices (every ~10 ms, whole table ~1 s). */
void ctl_nat_tick(struct ctl *c, uint64_t now_ms);
/* A container address went away: drop its connections. */
void ctl_nat_forget_ip(struct ctl *c, uint32_t ip);
struct pm_map;
/* "active", "none", "no-network", "partial" or "pending" for a container's
 * maps (container.h). */
const char *ctl_nat_state(const char *ctr_id, const struct pm_map *maps, unsigned int n_maps,
			  uint32_t ip);
int ctl_nat_ls(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen);
int ctl_conntrack_ls(struct ctl *c, json_t *args, json_t **result, char *err,
		     size_t errlen);
int ctl_conntrack_stats(struct ctl *c, json_t *args, json_t **result, char *err,
			size_t errlen);
int ctl_conntrack_flush(struct ctl *c, json_t *args, json_t **result, char *err,
			size_t errlen);
/* The "nat" object of stats: translated packets, conntrack entries. */
json_t *ctl_nat_stats_json(struct ctl *c);

/* route.c: static routes (dpctl route, routes: of the config, the "routes" state). */
int ctl_route_add(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen);
int ctl_route_rm(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen);
int ctl_route_ls(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen);
/* The config file's routes (after its ports); *bad = the index of a refused one. */
int ctl_route_config(struct ctl *c, unsigned int *bad, char *err, size_t errlen);
/* -EBUSY with why when a static route leads through domain (what: "network x"). */
int ctl_route_busy(struct ctl *c, uint16_t domain, const char *what, char *err,
		   size_t errlen);
/* Register the "routes" state section. */
int ctl_route_state_register(struct ctl *c);

/* neigh.c: the neighbour table (static entries; ARP-learned ones, neigh.h). */
int ctl_neigh_ls(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen);
int ctl_neigh_add(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen);
int ctl_neigh_rm(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen);

/* status.c */
int ctl_status(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen);

/* network.c */
int ctl_network_ls(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen);
int ctl_network_create(struct ctl *c, json_t *args, json_t **result, char *err,
		       size_t errlen);
int ctl_network_inspect(struct ctl *c, json_t *args, json_t **result, char *err,
			size_t errlen);
int ctl_network_rm(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen);

/*
 * Argument helpers (server.c). ctl_args_allowed refuses keys not in the
 * NULL-terminated list; ctl_arg_str copies a string argument (-EINVAL when it is
 * not a string or too long, -ENOENT-like message when required and missing).
 */
int ctl_args_allowed(json_t *args, const char *cmd, const char *const *allowed, char *err,
		     size_t errlen);
int ctl_arg_str(json_t *args, const char *key, bool required, char *buf, size_t len,
		char *err, size_t errlen);

#endif /* DPNET_CTL_H */
