/*
 * network.h - the networks the daemon knows: Docker's model (bridge, host, none
 * and user-defined bridge networks), their endpoints, and the network commands.
 *
 * Three networks always exist, as in Docker: "bridge" (bridge domain 0,
 * 172.17.0.0/16, gateway 172.17.0.1), "host" and "none" (no bridge domain).
 * Bridge networks from the config file follow (not saved: the file recreates
 * them, with ids derived from their names), then the networks made with
 * `dpctl network create` (saved in the state file with their random ids).
 * An overlay network (`--driver overlay --vni N`, control/vxlan.h) is a bridge
 * network with a VNI: the same domain, gateway, IPAM and isolation, SCOPE
 * global, an MTU of at most the uplink's minus NET_VXLAN_OVERHEAD (by default
 * exactly that), and the remote VTEPs of its peers as members (vxlan.c, which
 * the attach hook registers it with).
 * Every bridge network has its own bridge domain, 1..NET_MAX-3; domain
 * NET_DOMAIN_UPLINK is reserved for the uplink (in TAP mode: dpnet0) and
 * NET_DOMAIN_HOST for the host's exception port (NIC mode).
 *
 * The table itself is plain data and needs no DPDK. What a network means to the
 * data plane (its gateway in the view, its connected route, its gateway address
 * on the host's uplink interface, the neighbour entry of each endpoint) is done
 * through the hooks (struct net_hooks) that the daemon installs (uplink.c);
 * without hooks (unit tests) nothing but the table changes.
 *
 * Endpoints: the container module calls net_endpoint_add() when it attaches a
 * container to a network (after IPAM gave it an address) and net_endpoint_del()
 * when it detaches it. The endpoint hook installs the neighbour entry
 * (domain, IP -> MAC) the router needs to deliver to the container, so callers do
 * not program neighbours themselves. `network inspect` lists the endpoints and
 * `network rm` is refused while there are any (or ports).
 *
 * Thread safety: control thread only.
 */
#ifndef DPNET_NETWORK_H
#define DPNET_NETWORK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "config.h"

#define NET_MAX 256              /* as DP_MAX_DOMAINS */
#define NET_ID_LEN 12            /* hex digits of a short network id (ls) */
#define NET_FULL_ID_LEN 64       /* hex digits of a full id (inspect), as Docker */
#define NET_DOMAIN_NONE 0xFFFF   /* as DP_DOMAIN_NONE: host and none have no domain */
#define NET_DOMAIN_UPLINK (NET_MAX - 1) /* the uplink's own domain (TAP mode: dpnet0) */
#define NET_DOMAIN_HOST (NET_MAX - 2)   /* the host port's own domain (NIC mode, neigh.h) */
#define NET_MTU_DEFAULT 1500     /* as docker0 */
#define NET_MTU_MIN 68           /* IPv4 minimum */
#define NET_MTU_MAX 9000         /* jumbo frames */
#define NET_CTR_ID_MAX 65        /* container id: up to 64 characters */
#define NET_CTR_NAME_MAX 64      /* container name */
#define NET_VNI_MAX 0xFFFFFF     /* VXLAN network identifiers are 1..NET_VNI_MAX */
#define NET_VXLAN_OVERHEAD 50    /* what VXLAN adds to a frame (outer Ethernet, IPv4,
                                  * UDP, VXLAN): an overlay's MTU is the uplink's - 50 */

enum net_driver {
	NET_DRIVER_BRIDGE,   /* an isolated L2 domain with a gateway */
	NET_DRIVER_HOST,     /* the host's own namespace */
	NET_DRIVER_NULL,     /* loopback only ("none") */
};

/* One container attached to a network (Containers in `network inspect`). */
struct net_endpoint {
	char ctr_id[NET_CTR_ID_MAX];      /* container id (the key in inspect) */
	char name[NET_CTR_NAME_MAX];      /* container name */
	char ep_id[NET_FULL_ID_LEN + 1];  /* endpoint id, 64 random hex digits */
	uint32_t ip;                      /* IPv4, host order; 0 for none (host mode) */
	uint8_t mac[6];                   /* its interface's MAC */
};

struct net {
	char id[NET_FULL_ID_LEN + 1];   /* 64 hex digits; the first 12 are the short id */
	char name[CFG_NET_NAME_MAX];    /* unique name */
	enum net_driver driver;         /* what kind of network */
	bool builtin;                   /* bridge, host, none: cannot be removed */
	bool from_config;               /* defined in the config file: not saved */
	uint32_t subnet;                /* IPv4 network (host order), 0 for host/none */
	uint8_t prefix_len;             /* its prefix length */
	uint32_t gateway;               /* the switch's address in it (host order) */
	uint32_t ip_range;              /* addresses handed out: this range (host order), */
	uint8_t ip_range_len;           /* its prefix length; 0/0 = the whole subnet */
	uint16_t mtu;                   /* MTU of the network's links */
	bool internal;                  /* --internal: no route to the uplink */
	uint32_t vni;                   /* an overlay network's VXLAN id (control/vxlan.h);
	                                 * 0: a plain bridge network. An overlay is a
	                                 * bridge network (driver NET_DRIVER_BRIDGE)
	                                 * whose domain also reaches remote VTEPs */
	uint16_t domain;                /* bridge domain, NET_DOMAIN_NONE if none */
	bool attached;                  /* the data-plane side is programmed (hooks) */
	unsigned int n_ports;           /* ports attached (network rm refuses while > 0) */
	uint64_t created_ns;            /* wall clock of creation (ns since the epoch) */
	struct net_endpoint *eps;       /* endpoints (malloc'ed array) */
	unsigned int n_eps;             /* entries used in eps */
	unsigned int cap_eps;           /* entries allocated */
};

struct net_table;

/* What the daemon does when a network or an endpoint appears or goes (uplink.c). */
struct net_hooks {
	/* Program the network's data-plane side. 0, or -errno with a message. */
	int (*attach)(void *arg, struct net *n, char *err, size_t errlen);
	/* Undo attach (the network is about to be freed). */
	void (*detach)(void *arg, struct net *n);
	/* An endpoint with an address joined n: install its neighbour entry. */
	int (*ep_add)(void *arg, struct net *n, const struct net_endpoint *ep, char *err,
		      size_t errlen);
	/* An endpoint left n: remove its neighbour entry. */
	void (*ep_del)(void *arg, struct net *n, const struct net_endpoint *ep);
	/* May n go? 0, or -EBUSY with why (a static route leads into it); NULL: yes. */
	int (*busy)(void *arg, struct net *n, char *err, size_t errlen);
	/* The static VXLAN peers of overlay n (up to max into ips): how many.
	 * NULL: none. network rm keeps them to add them back on a rollback. */
	unsigned int (*static_peers)(void *arg, const struct net *n, uint32_t *ips,
				     unsigned int max);
	/* Add static VXLAN peer ip to overlay n again: 0, or -errno with why. */
	int (*static_peer_add)(void *arg, struct net *n, uint32_t ip, char *err,
			       size_t errlen);
	void *arg;                      /* handed to every hook */
};

struct net_table {
	struct net nets[NET_MAX];       /* slots; a free slot has name[0] == '\0' */
	bool domain_used[NET_MAX];      /* which bridge domains are taken */
	struct net_hooks hooks;         /* data-plane side; all NULL: table only */
	/* Host IPv4 routes that auto-picked subnets must avoid ("" = /proc/net/route). */
	const char *route_file;
	/* Interfaces whose routes are ours and never block a subnet (the uplink). */
	char own_iface[IFNAMSIZ];
	/* The uplink network (dpnet's uplink address's subnet, uplink.c; len 0:
	 * none): a bridge network there would make its routes ambiguous. */
	uint32_t uplink_subnet;
	uint8_t uplink_len;
	/* The uplink's MTU (uplink.c; 0: no uplink, NET_MTU_DEFAULT assumed): an
	 * overlay's MTU is at most this minus NET_VXLAN_OVERHEAD. */
	uint16_t uplink_mtu;
};

/* What `network create` (or the state file) asks for. */
struct net_params {
	const char *name;               /* network name */
	const char *driver;             /* "bridge" (NULL: bridge) or "overlay" (with vni);
	                                 * vlan refused */
	uint32_t vni;                   /* overlay: its VNI, 1..NET_VNI_MAX, unique */
	uint32_t subnet;                /* 0: pick a free one as Docker does */
	uint8_t prefix_len;             /* with subnet */
	uint32_t gateway;               /* 0: the subnet's first address */
	uint32_t ip_range;              /* 0 with ip_range_len 0: the whole subnet */
	uint8_t ip_range_len;           /* with ip_range */
	uint16_t mtu;                   /* 0: NET_MTU_DEFAULT */
	bool internal;                  /* no route to the uplink */
	bool from_config;               /* from the config file (not saved) */
	const char *id;                 /* restore: keep this 64-hex id; NULL: new one */
	uint16_t domain;                /* restore: wanted domain; NET_DOMAIN_NONE: any */
	uint64_t created_ns;            /* restore: creation time; 0: now */
	bool mtu_unchecked;             /* restore: an overlay's MTU is not checked against
	                                 * the uplink while none is known yet (it may come
	                                 * from the state file later, with a larger MTU);
	                                 * vxlan_uplink_changed clamps it then */
};

/*
 * Fill the table with the three defaults and the config's bridge networks. The
 * hooks are not called (there is no data plane yet): call net_attach_all() once
 * the daemon's hooks are set.
 */
int net_table_init(struct net_table *t, const struct cfg *c, char *err, size_t errlen);
/* Free the endpoints of every network (the data plane is not touched). */
void net_table_fini(struct net_table *t);
/* Call the attach hook for every bridge network not attached yet. */
int net_attach_all(struct net_table *t, char *err, size_t errlen);
/* By name, or by id or a unique id prefix (as docker). NULL if none. */
struct net *net_find(struct net_table *t, const char *name_or_id);
/*
 * Create a bridge network, checking everything as `docker network create` does
 * (messages in Docker's words where Docker has them), and attach it. Returns it,
 * or NULL with errno set and the message in err; the table is then unchanged.
 */
struct net *net_create(struct net_table *t, const struct net_params *p, char *err,
		       size_t errlen);
/* Shorthand kept for the config path: a bridge network with defaults. */
struct net *net_add(struct net_table *t, const char *name, uint32_t subnet,
		    uint8_t prefix_len, uint32_t gateway, char *err, size_t errlen);
/*
 * Remove a network: -EPERM for the built-ins, -EBUSY while endpoints or ports
 * are attached (Docker's words), then detach and free it.
 */
int net_del(struct net_table *t, struct net *n, char *err, size_t errlen);
/* Networks sorted by name; returns how many were written to out. */
unsigned int net_list(struct net_table *t, struct net **out, unsigned int max);

/*
 * Endpoints (called by the container module). net_endpoint_add refuses a second
 * endpoint of the same container (-EEXIST) and an IP already used by another
 * endpoint of the network (-EADDRINUSE); ctr_id may be a name when the caller
 * has no separate id. mac may be NULL (host/none). net_endpoint_del returns
 * -ENOENT when the container has no endpoint there.
 */
int net_endpoint_add(struct net_table *t, struct net *n, const char *ctr_id,
		     const char *ctr_name, uint32_t ip, const uint8_t *mac, char *err,
		     size_t errlen);
int net_endpoint_del(struct net_table *t, struct net *n, const char *ctr_id);
struct net_endpoint *net_endpoint_find(struct net *n, const char *ctr_id);

const char *net_driver_name(enum net_driver d);
/* What `network ls` shows as DRIVER: "overlay" for an overlay, else the driver's name. */
const char *net_driver_str(const struct net *n);
/* "global" for overlay networks, "local" for the others (as Docker). */
const char *net_scope(const struct net *n);
/* The overlay network with this VNI, or NULL. */
struct net *net_by_vni(struct net_table *t, uint32_t vni);
/* The largest MTU an overlay may have: the uplink's MTU minus NET_VXLAN_OVERHEAD. */
uint16_t net_overlay_mtu_max(const struct net_table *t);
/* The network a bridge domain belongs to, or NULL. */
struct net *net_by_domain(struct net_table *t, uint16_t domain);
/* The short (12-digit) id, in a caller's buffer of at least NET_ID_LEN + 1. */
const char *net_short_id(const struct net *n, char *buf);

/*
 * State (state.c's "networks" section): networks made by `network create` as a
 * JSON array, and back. Restoring skips (and logs through state_log) networks
 * that clash with the config's; it calls the attach hook like create does.
 */
json_t *net_state_dump(struct net_table *t);
int net_state_restore(struct net_table *t, json_t *arr, char *err, size_t errlen);
/* Register the "networks" section with state.c (STATE_ORDER_NETWORKS). */
int net_state_register(struct net_table *t);

/* The `network inspect` object of one network (Docker's layout). */
json_t *net_inspect_json(struct net_table *t, const struct net *n);

#endif /* DPNET_NETWORK_H */
