/*
 * config.h - dpnetd's configuration: a YAML file turned into a plain C struct.
 *
 * cfg_load() reads the whole file with libyaml, fills a struct cfg starting from
 * the built-in defaults and validates everything (types, ranges, unknown keys,
 * duplicate names, references between ports and networks) before returning, so
 * the daemon applies either all of it or nothing. Every error names the file,
 * the line and the key:
 *     /etc/dpnet.yaml:12: ports[1].type: unknown port type "foo": use one of ...
 * cfg_builtin() gives the configuration used without --config (TAP mode: one TAP
 * uplink "dpnet0" in the bridge network).
 *
 * The module is pure: no DPDK, no global state, no I/O except reading the file.
 * The checks on one port (cfg_port_check) and on names are shared with the
 * control handlers so that `dpctl add-port` and the config file refuse the same
 * things with the same words. Thread safety: none needed, control thread only.
 */
#ifndef DPNET_CONFIG_H
#define DPNET_CONFIG_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFG_NAME_MAX 32          /* port names, as PORT_NAME_MAX */
#define CFG_NET_NAME_MAX 64      /* network names, as PORT_NET_MAX */
#define CFG_IFACE_MAX (IFNAMSIZ + 96) /* interface name or vhost socket path */
#define CFG_DEVARGS_MAX 512      /* as PORT_DEVARGS_MAX */
#define CFG_MAX_PORTS 32         /* RTE_MAX_ETHPORTS of the Debian build */
#define CFG_MAX_NETWORKS 64      /* bridge networks defined in a file */
#define CFG_MAX_EAL_ARGS 64      /* extra EAL arguments */
#define CFG_EAL_ARG_MAX 256      /* length of one EAL argument */
#define CFG_MAX_WORKERS 16       /* as DP_MAX_WORKERS */
#define CFG_PATH_MAX 4096        /* file names */

/* eal.hugepages: use them when available, insist on them, or never use them. */
enum cfg_hugepages {
	CFG_HUGEPAGES_AUTO = 0,
	CFG_HUGEPAGES_YES,
	CFG_HUGEPAGES_NO,
};

/* One port as written in the file (or in a port.add request); strings, not enums. */
struct cfg_port {
	char name[CFG_NAME_MAX];          /* unique port name */
	char type[16];                    /* tap, afpacket, vhost, pcap, null, ring, dpdk */
	char iface[CFG_IFACE_MAX];        /* interface (tap, afpacket) or socket path (vhost) */
	char devargs[CFG_DEVARGS_MAX];    /* extra devargs, or the device for dpdk */
	char network[CFG_NET_NAME_MAX];   /* bridge network to join; "" means bridge */
	char role[16];                    /* access, uplink or host; "" means access */
	int line;                         /* line of the entry in the file, 0 if none */
};

/* One bridge network defined in the file. Addresses are IPv4, host byte order. */
struct cfg_network {
	char name[CFG_NET_NAME_MAX];      /* unique network name */
	char driver[16];                  /* only "bridge" for now */
	uint32_t subnet;                  /* network address */
	uint8_t prefix_len;               /* CIDR prefix length */
	uint32_t gateway;                 /* the switch's address in the subnet */
	bool subnet_auto;                 /* no subnet given: one was picked */
	int line;                         /* line of the entry in the file, 0 if none */
};

/* Idle behaviour of the workers; mirrors struct dp_poll_params. */
struct cfg_poll {
	bool busy;                        /* mode: busy (never sleep) or adaptive */
	uint32_t spin_polls;              /* empty polls before the first sleep */
	uint32_t sleep_min_us;            /* first sleep */
	uint32_t sleep_max_us;            /* ceiling of the doubling sleeps */
};

struct cfg {
	char path[CFG_PATH_MAX];          /* file it came from, "" when built in */
	char eal_args[CFG_MAX_EAL_ARGS][CFG_EAL_ARG_MAX]; /* eal.args, added to ours */
	unsigned int n_eal_args;          /* entries used in eal_args */
	uint32_t memory_mb;               /* eal.memory_mb: EAL -m */
	char file_prefix[64];             /* eal.file_prefix: EAL --file-prefix */
	enum cfg_hugepages hugepages;     /* eal.hugepages */
	uint32_t mbufs;                   /* mbufs in the packet pool */
	uint16_t workers;                 /* worker lcores */
	struct cfg_poll poll;             /* poll: idle backoff */
	uint32_t fdb_size;                /* fdb.size: MACs */
	uint32_t fdb_aging_s;             /* fdb.aging_s: seconds before a MAC is forgotten */
	struct cfg_port ports[CFG_MAX_PORTS]; /* ports created at start, in order */
	unsigned int n_ports;             /* entries used in ports */
	struct cfg_network networks[CFG_MAX_NETWORKS]; /* bridge networks besides "bridge" */
	unsigned int n_networks;          /* entries used in networks */
};

/* The defaults of every key; no ports, no networks. */
void cfg_defaults(struct cfg *c);
/* The configuration used without --config: defaults plus the TAP uplink dpnet0. */
void cfg_builtin(struct cfg *c);
/*
 * Parse and validate a YAML file. Returns 0, or a negative errno with
 * "FILE:LINE: KEY: what is wrong" in err; c is then unspecified.
 */
int cfg_load(const char *path, struct cfg *c, char *err, size_t errlen);
/* The same from a buffer; name stands for the file name in messages. */
int cfg_parse(const char *name, const char *text, size_t len, struct cfg *c, char *err,
	      size_t errlen);

/* Names of ports and networks: a letter or digit, then letters, digits, '_', '.', '-'. */
bool cfg_name_valid(const char *s, size_t max);

/* Where a port check failed. */
enum cfg_port_field {
	CFG_PF_NAME,
	CFG_PF_TYPE,
	CFG_PF_IFACE,
	CFG_PF_DEVARGS,
	CFG_PF_NETWORK,
	CFG_PF_ROLE,
};

/*
 * Check one port on its own (name, type, role, what the type needs). cli selects
 * how a fix is phrased (--iface IF vs iface: IF). Returns 0 or -EINVAL with the
 * message in err and the faulty field in *field.
 */
int cfg_port_check(const struct cfg_port *p, bool cli, enum cfg_port_field *field, char *err,
		   size_t errlen);
/* The list "tap, afpacket, ..." of port types, for messages. */
extern const char *const cfg_port_types[];
/* Index of a type name in cfg_port_types (same order as enum port_type), or -1. */
int cfg_port_type_index(const char *type);
/* Index of a role name (access, uplink, host: enum port_role order), or -1. */
int cfg_port_role_index(const char *role);

/* Parse "a.b.c.d/n" (prefix bits beyond n must be 0). Returns 0 or -EINVAL. */
int cfg_parse_cidr(const char *s, uint32_t *addr, uint8_t *prefix_len);
/* Parse "a.b.c.d". Returns 0 or -EINVAL. */
int cfg_parse_ip(const char *s, uint32_t *addr);
/* Format an address (host order) into buf, returns buf. */
char *cfg_format_ip(uint32_t addr, char *buf, size_t len);
/* Mask of a prefix length (host order). */
static inline uint32_t
cfg_prefix_mask(uint8_t prefix_len)
{
	return prefix_len == 0 ? 0 : ~(uint32_t)0 << (32 - prefix_len);
}

#endif /* DPNET_CONFIG_H */
