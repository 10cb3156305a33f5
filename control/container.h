/*
 * container.h - containers: a network namespace (visible to `ip netns`) plus,
 * optionally, a process running in it; the commands run, connect, disconnect,
 * ps, port and rm.
 *
 * A container dpnet makes gets the named namespace "dpnet-<name>"
 * (/run/netns/dpnet-<name>); `connect --netns PATH` adopts a namespace made by
 * another runtime (dpnet then adds interfaces to it but never deletes it).
 * Modes, as in Docker: a bridge network (an interface eth0, eth1... per network
 * with an address from the network's pool, Docker's MAC, the network's MTU and,
 * on the first one, the default route via the network's gateway), host (the
 * host's namespace, no interface), none (lo only) and container:NAME (NAME's
 * namespace).
 *
 * Each interface is one of three attachments, each a dpnet port
 * "c-<name>-<n>" (role access) in the network's bridge domain:
 *   veth: a veth pair; the container's end is ethN, the host end "dpv<hex>" is
 *         an afpacket port; offloads off on both ends (netns.c says why);
 *   tap:  a net_tap port whose interface is moved into the namespace as ethN;
 *   vtap: a vtap port (TAP with virtio-net headers) moved in the same way; the
 *         container keeps TSO, scatter-gather and checksum offload on, so its
 *         TCP crosses the switch in 64 KB segments (dataplane/offload.h).
 * The default is CTR_ATTACH_DEFAULT (vtap, the fastest by perf/attach.sh);
 * `run --attach` and `connect --attach` pick another.
 *
 * Processes: `run -d` spawns the command in the namespace in its own session,
 * stdout/stderr appended to <state-dir>/containers/<name>.log; without -d the
 * client (dpctl) execs the command itself in the namespace once the daemon has
 * set it up, so the user gets the foreground process as with `docker run`, and
 * tells the daemon its pid. Processes are known by pid and start time (no reuse
 * mistakes), survive a daemon restart, and `rm` stops them (SIGTERM, SIGKILL
 * after CTR_STOP_MS).
 *
 * Port maps (-p, -P, --expose) are parsed, checked, shown and made into DNAT
 * rules by control/nat.c (ctl_nat_sync after every change: run, rm, connect,
 * disconnect, restore): a container's published ports go to its address on
 * its first bridge network (ifs[0]), as Docker's go to the default network's.
 * "nat" in the JSON says whether they are programmed ("active").
 *
 * Every successful change calls state_save(); the "containers" section of the
 * state file restores them (ctr_state_restore): namespaces that still exist are
 * re-attached with the same addresses and MACs (a veth's host end survives a
 * daemon restart and gets its afpacket port back; a TAP died with the daemon's
 * descriptor, so a new one is moved in and configured again); containers whose
 * namespace is gone are dropped with a log line.
 *
 * Thread safety: control thread only (namespace work runs on short-lived
 * helper threads that the calls join).
 *
 * Commands (args; results are ps objects unless said):
 *   container.run {name?, network?, publish?:[str], publish_all?:bool,
 *                  expose?:[str], ip?, mac?, cmd?:[str], detach?:bool,
 *                  attach?:"veth"|"tap"|"vtap", pid?:int}   -> ps object + netns, warnings
 *   container.connect {network, name, ip?, netns?, attach?}
 *   container.disconnect {network, name}
 *   container.ps {}                -> [ps object, ...]
 *   container.port {name}          -> {name, nat, ports:[{container_port, proto,
 *                                      host_ip, host_port}]}
 * "nat" is "active" (DNAT rules programmed for every published port), "none"
 * (nothing published), "no-network" (published, but no bridge network to
 * reach: host/none mode or disconnected from all), "internal" (the first
 * network is --internal: as Docker, no rules; run warns), "partial" (some
 * maps left out: their host port is another's, only a hand-edited state file
 * does that; see the daemon's log) or "pending" (not all of them programmed:
 * see the daemon's log).
 *   container.rm {name, force?:bool} -> {name, id}
 */
#ifndef DPNET_CONTAINER_H
#define DPNET_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "portmap.h"

struct ctl;

#define CTR_NETNS_PREFIX "dpnet-"  /* named namespaces: dpnet-<name> */
#define CTR_STOP_MS 2000           /* SIGTERM, then SIGKILL after this long */

enum ctr_attach {
	CTR_ATTACH_VETH = 0,   /* veth pair, host end an afpacket port */
	CTR_ATTACH_TAP = 1,    /* net_tap interface moved into the namespace */
	CTR_ATTACH_VTAP = 2,   /* vtap port (drivers/vtap.h) whose TAP is moved into
	                        * the namespace; its offloads stay on */
};
/*
 * The attachment measured fastest by perf/attach.sh: iperf3 TCP container to
 * container 13.1 Gbit/s with vtap (64 KB segments cross the switch whole, a
 * syscall per segment) against 11.5 for the kernel bridge, 1.9-3.8 with veth +
 * afpacket and 1.4 with tap (a syscall per MTU frame); perf/RESULTS.md has the
 * runs. A vtap's queues can also wake an idle worker (worker.c), an afpacket
 * ring cannot.
 */
#define CTR_ATTACH_DEFAULT CTR_ATTACH_VTAP

/* "vtap", or "veth" when this kernel cannot carry a vtap (ctr_init). */
const char *ctr_attach_default_name(void);

/* Register the state section; call once the data plane and the networks exist. */
int ctr_init(struct ctl *c);
/* Daemon stop: forget the containers (namespaces, interfaces, processes stay). */
void ctr_fini(void);
/* Now and then (main loop): reap exited children. */
void ctr_tick(void);

/* What NAT needs of a container that publishes ports. */
struct ctr_pub {
	const char *id;               /* full id (stable key of its rules) */
	const char *name;             /* its name (chain DPNET-<name>) */
	uint32_t ip;                  /* address on its first bridge network, 0: none */
	const char *network;          /* that network's name, "" if none */
	const struct pm_map *maps;    /* published ports (host ports assigned) */
	unsigned int n_maps;          /* entries */
};
/* Call fn for every container with published ports, in creation order. */
void ctr_pub_walk(void (*fn)(const struct ctr_pub *p, void *arg), void *arg);

/* The container a dpnet port belongs to, or NULL (port.del refuses such ports). */
const char *ctr_port_owner(const char *port_name);

/* The "containers" section of the state file. */
json_t *ctr_state_dump(void);
int ctr_state_restore(json_t *val, char *err, size_t errlen);

int ctl_ctr_run(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen);
int ctl_ctr_connect(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen);
int ctl_ctr_disconnect(struct ctl *c, json_t *args, json_t **result, char *err,
		       size_t errlen);
int ctl_ctr_ps(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen);
int ctl_ctr_port(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen);
int ctl_ctr_rm(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen);

#endif /* DPNET_CONTAINER_H */
