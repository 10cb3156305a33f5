/*
 * network.h - the table of networks the daemon knows, as `dpctl network ls` shows.
 *
 * Three networks always exist, as in Docker: "bridge" (bridge domain 0,
 * 172.17.0.0/16, gateway 172.17.0.1), "host" and "none" (no bridge domain). Bridge
 * networks from the config file follow, each with its own bridge domain. Every
 * network has a stable 12-hex-digit id: fixed for the three defaults, derived from
 * the name for the others, so ids survive a restart.
 *
 * The table is plain data: creating or removing a network here does not touch
 * the data plane; the caller publishes the change (domains are only used by ports
 * and ports are published by the port handlers). net_add/net_del are what
 * `network create/rm` will use. Thread safety: control thread only.
 */
#ifndef DPNET_NETWORK_H
#define DPNET_NETWORK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define NET_MAX 256              /* as DP_MAX_DOMAINS */
#define NET_ID_LEN 12            /* hex digits of a network id */
#define NET_DOMAIN_NONE 0xFFFF   /* as DP_DOMAIN_NONE: host and none have no domain */

enum net_driver {
	NET_DRIVER_BRIDGE,   /* an isolated L2 domain with a gateway */
	NET_DRIVER_HOST,     /* the host's own namespace */
	NET_DRIVER_NULL,     /* loopback only ("none") */
};

struct net {
	char id[NET_ID_LEN + 1];        /* stable hex id */
	char name[CFG_NET_NAME_MAX];    /* unique name */
	enum net_driver driver;         /* what kind of network */
	bool builtin;                   /* bridge, host, none: cannot be removed */
	uint32_t subnet;                /* IPv4 network (host order), 0 for host/none */
	uint8_t prefix_len;             /* its prefix length */
	uint32_t gateway;               /* the switch's address in it (host order) */
	uint16_t domain;                /* bridge domain, NET_DOMAIN_NONE if none */
	unsigned int n_ports;           /* ports attached (network rm refuses while > 0) */
	uint64_t created_s;             /* wall clock of creation (seconds) */
};

struct net_table {
	struct net nets[NET_MAX];       /* slots; a free slot has name[0] == '\0' */
	bool domain_used[NET_MAX];      /* which bridge domains are taken */
};

/* Fill the table with the three defaults and the config's bridge networks. */
int net_table_init(struct net_table *t, const struct cfg *c, char *err, size_t errlen);
/* By name, or by id or a unique id prefix (as docker). NULL if none. */
struct net *net_find(struct net_table *t, const char *name_or_id);
/* Add a bridge network; picks a free domain. Returns it, or NULL with errno set. */
struct net *net_add(struct net_table *t, const char *name, uint32_t subnet,
		    uint8_t prefix_len, uint32_t gateway, char *err, size_t errlen);
/* Remove a network: refused (-EBUSY) while ports are attached, -EPERM for built-ins. */
int net_del(struct net_table *t, struct net *n, char *err, size_t errlen);
/* Networks sorted by name; returns how many were written to out. */
unsigned int net_list(struct net_table *t, struct net **out, unsigned int max);

const char *net_driver_name(enum net_driver d);
/* "local" for everything until overlays exist. */
const char *net_scope(const struct net *n);
/* The network a bridge domain belongs to, or NULL. */
struct net *net_by_domain(struct net_table *t, uint16_t domain);

#endif /* DPNET_NETWORK_H */
