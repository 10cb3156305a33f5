/*
 * ctr_priv.h - what the container module's files share (container.c: the
 * commands and the registry; ctr_if.c: address pools, namespaces and
 * interfaces; ctr_proc.c: processes; ctr_state.c: the state section). Not for
 * other modules: they use container.h.
 *
 * Thread safety: control thread only, like everything in container.h.
 */
#ifndef DPNET_CTR_PRIV_H
#define DPNET_CTR_PRIV_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "drivers/port.h"
#include "config.h"
#include "container.h"
#include "ipam.h"
#include "network.h"
#include "portmap.h"
#include "util.h"

#define CTR_MAX 1024                 /* containers */
#define CTR_MAX_IFS 16               /* interfaces per container */
#define CTR_MAX_CMD 256              /* words of a command */
#define CTR_NAME_MAX NET_CTR_NAME_MAX
#define CTR_ID_LEN 64                /* hex digits of an id */
#define CTR_TAG_PREFIX "dpnet:"      /* lo's alias in a namespace dpnetd made: + id */
#define CTR_TAG_LEN 80
/* In the environment of every detached process dpnetd spawns (ctr_spawn): + id.
 * After a crash between the spawn and the save that records its pid, this is
 * how a restart finds the process of a run that was never acknowledged
 * (ctr_stop_tagged), whatever namespace it runs in (the host's too). */
#define CTR_ENV_TAG "DPNET_CONTAINER_ID="

enum ctr_mode {
	CTR_MODE_BRIDGE,      /* interfaces in bridge networks (or none yet: --netns) */
	CTR_MODE_HOST,        /* the host's namespace */
	CTR_MODE_NONE,        /* lo only */
	CTR_MODE_CONTAINER,   /* another container's namespace */
};

extern const char *const ctr_mode_names[];    /* by enum ctr_mode */
extern const char *const ctr_attach_names[];  /* by enum ctr_attach */

/* One interface of a container in a bridge network. */
struct ctr_if {
	char net_id[NET_FULL_ID_LEN + 1];  /* the network (by id: names can be reused) */
	char net_name[CFG_NET_NAME_MAX];   /* its name, for listings and messages */
	uint32_t ip;                       /* address (host order) */
	uint8_t prefix_len;                /* the network's prefix length */
	uint32_t gateway;                  /* the network's gateway */
	uint16_t mtu;                      /* the network's MTU */
	uint8_t mac[6];                    /* the interface's MAC */
	char ifname[IFNAMSIZ];             /* inside the namespace: eth0, eth1... */
	char port[PORT_NAME_MAX];          /* the dpnet port */
	char host_if[IFNAMSIZ];            /* veth host end, or the tap's name before the move */
	enum ctr_attach attach;            /* veth or tap */
	bool gw_route;                     /* the default route goes through it */
};

struct ctr {
	char id[CTR_ID_LEN + 1];           /* 64 random hex digits */
	char name[CTR_NAME_MAX];           /* unique name */
	enum ctr_mode mode;                /* network mode */
	char mode_ref[CFG_NET_NAME_MAX];   /* container:NAME's NAME, or the network asked for */
	char netns[PATH_MAX];              /* namespace file; "" in host mode */
	char nsname[NAME_MAX];             /* our named namespace "dpnet-NAME", "" if not ours */
	uint64_t ns_dev, ns_ino;           /* identity of the namespace (0: host) */
	pid_t pid;                         /* its process, 0 if none */
	uint64_t pid_start;                /* the process's start time (clock ticks) */
	bool pid_group;                    /* the process leads its own session/group */
	bool pid_child;                    /* our child: reaped by waitpid */
	int exit_code;                     /* when reaped: status, -1 unknown */
	bool detach;                       /* started with -d */
	json_t *cmd;                       /* array of strings, or NULL */
	uint64_t created_ns;               /* wall clock of creation */
	struct ctr_if ifs[CTR_MAX_IFS];    /* interfaces */
	unsigned int n_ifs;                /* entries used */
	struct pm_map *maps;               /* published ports */
	unsigned int n_maps;               /* entries */
	struct pm_expose *exps;            /* exposed ports */
	unsigned int n_exps;               /* entries */
};

/* The address pool of one network. */
struct ctr_pool {
	char net_id[NET_FULL_ID_LEN + 1];  /* "" = free slot */
	uint32_t range;                    /* the ip-range it was made with */
	uint8_t range_len;                 /* its length */
	struct ipam ipam;                  /* the addresses */
};

struct ctr_registry {
	struct ctl *c;                     /* the daemon */
	struct ctr *list[CTR_MAX];         /* containers, in creation order */
	unsigned int n;                    /* entries used */
	struct ctr_pool pools[NET_MAX];    /* per network */
	/* The container a run is making or an rm removing, while it is not (or no
	 * longer) in list: saved in the "pending" section, so that a restart after
	 * a crash mid-way removes what was made of it (ctr_state.c). */
	struct ctr *pending;
	bool pending_rm;                   /* removing (rm), not making (run) */
	enum ctr_attach attach_default;    /* CTR_ATTACH_DEFAULT, or veth when this
	                                    * kernel cannot carry a vtap (ctr_init) */
};
extern struct ctr_registry ctrs;          /* the one registry (container.c) */

/* What ctr_ns_configure does inside a namespace. */
struct ctr_nsjob {
	const char *ifname;        /* the interface to set up; NULL: lo only */
	const uint8_t *mac;        /* its MAC (NULL: keep) */
	unsigned int mtu;          /* its MTU (0: keep) */
	uint32_t ip;               /* its address (0: none) */
	uint8_t prefix_len;        /* with ip */
	uint32_t gw;               /* default route via (0: none) */
	bool offloads_off;         /* a veth end: offloads off */
	bool gw_added;             /* out: the default route was installed */
	const char *step;          /* out: what failed */
};

/* container.c */
/* By name, or a unique id prefix. */
struct ctr *ctr_find(const char *name_or_id);
bool ctr_name_taken(const char *name);
void ctr_free(struct ctr *ct);

/* ctr_if.c */
/* The pool of network n, made (or remade while empty) on first use. NULL + err. */
struct ipam *ctr_pool(struct net *n, char *err, size_t errlen);
void ctr_pool_free(const char *net_id, uint32_t ip);
/* The container's namespace, checked to be the same one (-ESTALE otherwise). */
int ctr_nsfd(const struct ctr *ct);
/* "dpnet:<id>": the alias of lo in the namespace dpnetd made for container id. */
void ctr_ns_tag(const char *id, char *buf, size_t len);
/* The alias of lo in namespace nsfd ("" when none); 0 or -errno. */
int ctr_ns_tag_get(int nsfd, char *buf, size_t len);
/* Tag the container's own namespace (nsname) if it is not yet (best effort). */
void ctr_ns_tag_ensure(const struct ctr *ct);
/* netns_run() job: lo up, then the interface of a struct ctr_nsjob. */
int ctr_ns_configure(void *arg);
int ctr_if_plan(struct ctr *ct, int nsfd, struct net *n, uint32_t want_ip,
		const uint8_t *want_mac, enum ctr_attach kind, struct ctr_if *f, char *err,
		size_t errlen);
int ctr_if_realize(struct ctr *ct, int nsfd, struct ctr_if *f, bool restore, char *err,
		   size_t errlen);
void ctr_if_unrealize(struct ctr *ct, struct ctr_if *f);
/* After the interface with the default route went: route via the next one. */
void ctr_reroute(struct ctr *ct);

/* ctr_state.c: the "pending" section */
json_t *ctr_pending_dump(void);
int ctr_pending_restore(json_t *val, char *err, size_t errlen);

/* ctr_proc.c */
/* Start time of a process (0 if none) and its state letter. */
uint64_t ctr_proc_start(pid_t pid, char *state);
void ctr_reap(struct ctr *ct);
bool ctr_alive(struct ctr *ct);
/* Other processes in a namespace of ours; returns how many (at most max). */
unsigned int ctr_others(struct ctr *ct, pid_t *pids, unsigned int max);
void ctr_stop(struct ctr *ct);
/* Stop every process whose environment carries CTR_ENV_TAG<id> (SIGTERM, then
 * SIGKILL, as ctr_stop); returns how many there were. */
unsigned int ctr_stop_tagged(const char *id);
int ctr_spawn(struct ctr *ct, char *err, size_t errlen);
void ctr_log_path(const struct ctr *ct, char *buf, size_t len);

#endif /* DPNET_CTR_PRIV_H */
