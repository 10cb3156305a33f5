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
 * uplink "dpnet0" in the bridge network, with dpnet's uplink address
 * CFG_TAP_ADDRESS on a link-local /30 whose other end, CFG_TAP_GATEWAY, is the
 * host's side of dpnet0; see uplink.h).
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
#define CFG_TAP_ADDRESS 0xA9FE1102u /* 169.254.17.2: TAP mode's uplink address */
#define CFG_TAP_GATEWAY 0xA9FE1101u /* 169.254.17.1: the host's side of dpnet0 */
#define CFG_TAP_PREFIX 30           /* of the transfer network 169.254.17.0/30 */
#define CFG_HOST_IFACE "dpnet-host" /* the host port's TAP when iface: is not given */
#define CFG_NETNS_MAX 64            /* a namespace name (netns: of the host port) */
#define CFG_MTU_MIN 68              /* IPv4 minimum, as NET_MTU_MIN */
#define CFG_MTU_MAX 9000            /* jumbo frames, as NET_MTU_MAX */
#define CFG_MAX_ROUTES 256          /* static routes in a file */
#define CFG_GROUP_MAX 33            /* a group name (32 characters, as useradd) */
#define CFG_ETCD_MAX 1024           /* cluster.etcd: the endpoint URLs, comma-separated */
#define CFG_ETCD_PREFIX_MAX 256     /* cluster.prefix */

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
	uint32_t address;                 /* role uplink: dpnet's own address there (host
	                                   * order; 0: none, published ports then answer
	                                   * only on the networks' gateway addresses) */
	uint8_t address_len;              /* its prefix length (the uplink's subnet) */
	uint32_t gateway;                 /* role uplink: next hop of the default route
	                                   * (0: none); a TAP uplink's host side */
	uint16_t mtu;                     /* role uplink: the uplink network's MTU (0: 1500) */
	char netns[CFG_NETNS_MAX];        /* role host: the namespace its TAP goes to
	                                   * ("": stays in dpnetd's, the host's) */
	bool no_default_route;            /* role host: default_route: false (no default
	                                   * route via the uplink gateway on its TAP) */
	int line;                         /* line of the entry in the file, 0 if none */
};

/* One static route of the file (routes:): to CIDR via IP, or blackhole. */
struct cfg_route {
	uint32_t prefix;                  /* destination, host order, host bits zero */
	uint8_t len;                      /* its prefix length */
	uint32_t via;                     /* next hop (0 with blackhole) */
	bool blackhole;                   /* blackhole: true (drop, ICMP unreachable) */
	int line;                         /* line of the entry in the file */
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

/* cluster: hosts find each other through etcd, Flannel's layout (cluster.h). */
struct cfg_cluster {
	bool enabled;                     /* the section is present */
	char etcd[CFG_ETCD_MAX];          /* endpoint URLs, comma-separated (a list in the
	                                   * file is joined) */
	char prefix[CFG_ETCD_PREFIX_MAX]; /* key prefix (default /coreos.com/network) */
	char network[CFG_NET_NAME_MAX];   /* the overlay network (default "flannel") */
	uint32_t lease_ttl_s;             /* TTL of our subnet lease (default 86400) */
	uint32_t public_ip;               /* PublicIP we publish (0: the uplink address) */
	int line;                         /* line of the section, 0 if none */
};

/* Idle behaviour of the workers; mirrors struct dp_poll_params. */
struct cfg_poll {
	bool busy;                        /* mode: busy (never sleep) or adaptive */
	uint32_t spin_polls;              /* empty polls before the first sleep */
	uint32_t sleep_min_us;            /* first sleep */
	uint32_t sleep_max_us;            /* ceiling of the doubling sleeps */
	bool intr;                        /* interrupts: auto (true) or off */
	uint32_t intr_timeout_ms;         /* interrupt_timeout_ms: longest block */
};

/*
 * nat: host ports -P/-p PORT pick from, source ports MASQUERADE and hairpin
 * may choose. Host order, inclusive.
 */
struct cfg_nat {
	uint16_t ephemeral_lo;            /* ephemeral_range: "32768-60999" */
	uint16_t ephemeral_hi;
	uint16_t snat_lo;                 /* snat_ports: "61000-65535" */
	uint16_t snat_hi;
};

/* Timeouts of conntrack (seconds), by key; 0 = Linux's default (ct_params_default). */
#define CFG_CT_TIMEOUTS(X)                  \
	X(TCP_SYN_SENT, "tcp_syn_sent")     \
	X(TCP_SYN_RECV, "tcp_syn_recv")     \
	X(TCP_ESTABLISHED, "tcp_established") \
	X(TCP_FIN_WAIT, "tcp_fin_wait")     \
	X(TCP_CLOSE_WAIT, "tcp_close_wait") \
	X(TCP_LAST_ACK, "tcp_last_ack")     \
	X(TCP_TIME_WAIT, "tcp_time_wait")   \
	X(TCP_CLOSE, "tcp_close")           \
	X(UDP, "udp")                       \
	X(UDP_STREAM, "udp_stream")         \
	X(ICMP, "icmp")

enum cfg_ct_timeout {
#define CFG_CT_ENUM(e, n) CFG_CT_##e,
	CFG_CT_TIMEOUTS(CFG_CT_ENUM)
#undef CFG_CT_ENUM
	CFG_CT_MAX
};

/* Names of the conntrack.timeouts keys, by enum cfg_ct_timeout. */
extern const char *const cfg_ct_timeout_names[CFG_CT_MAX];

/* conntrack: the table's size and timeouts. */
struct cfg_ct {
	uint32_t max;                     /* connections; 0 = sized from eal.memory_mb
	                                   * (cfg_ct_max) */
	uint32_t timeout_s[CFG_CT_MAX];   /* seconds; 0 = Linux's default */
	bool tcp_loose;                   /* pick up mid-stream TCP (Linux's tcp_loose) */
};

#define CFG_CT_BYTES_PER_CONN 320u   /* table memory per connection, with margin
                                      * (ct.h measures 278 B with RCU) */

/* vxlan: the parameters of overlay networks (dataplane/vxlan.h, vxlan_params). */
struct cfg_vxlan {
	uint16_t udp_port;                /* port: UDP destination port sent and accepted
	                                   * (default 4789, IANA's) */
	uint8_t ttl;                      /* ttl: outer TTL (default 64) */
	bool df;                          /* df: outer DF bit (default true) */
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
	struct cfg_route routes[CFG_MAX_ROUTES]; /* routes: static routes, in order */
	unsigned int n_routes;            /* entries used in routes */
	struct cfg_nat nat;               /* nat: port ranges */
	struct cfg_ct ct;                 /* conntrack: size, timeouts */
	struct cfg_vxlan vxlan;           /* vxlan: port, ttl, df */
	uint32_t vtap_big_mbufs;          /* vtap.big_mbufs: 64 KB mbufs shared by the
	                                   * vtap ports (drivers/vtap.h), default 256 */
	int vtap_line;                    /* line of vtap.big_mbufs, 0 if none */
	char control_group[CFG_GROUP_MAX]; /* control.group: the group that may use the
	                                   * control socket besides root ("": root only) */
	int control_group_line;           /* its line in the file, 0 if none */
	struct cfg_cluster cluster;       /* cluster: etcd registry (disabled by default) */
};

/* The conntrack table size in use: conntrack.max, or one connection per 4 KB
 * of eal.memory_mb (131072 for the default 512 MB: ~40 MB of table), at least
 * 16384 and at most 1048576. */
uint32_t cfg_ct_max(const struct cfg *c);

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

/* A group name (control.group, dpnetd --group): a letter, digit or '_', then letters,
 * digits, '_', '.', '-', at most CFG_GROUP_MAX - 1 characters (or a numeric gid). */
bool cfg_group_valid(const char *s);

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
	CFG_PF_ADDRESS,
	CFG_PF_GATEWAY,
	CFG_PF_MTU,
	CFG_PF_NETNS,
	CFG_PF_DEFAULT_ROUTE,
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
/* A type whose port creates its TAP interface (tap, vtap); as the uplink it is
 * TAP mode (control/uplink.h; drivers/port.h, port_is_tap_mode). */
bool cfg_type_is_tap(const char *type);
/* Index of a role name (access, uplink, host: enum port_role order), or -1. */
int cfg_port_role_index(const char *role);

/*
 * Parse "A.B.C.D/N" as a host address with its prefix (an uplink's address):
 * /8 to /30, not the network or broadcast address. Returns 0 or -EINVAL with
 * why in err (no file, line or key: the caller adds them).
 */
int cfg_parse_host_cidr(const char *s, uint32_t *addr, uint8_t *prefix_len, char *err,
			size_t errlen);
/* Parse "LO-HI" (1 <= LO <= HI <= 65535). Returns 0 or -EINVAL. */
int cfg_parse_port_range(const char *s, uint16_t *lo, uint16_t *hi);

/*
 * A route's destination: "A.B.C.D/N" (0 to 32) or a bare address (/32), host
 * bits zero. Returns 0 or -EINVAL with why in err (no file, line or key).
 */
int cfg_parse_route_dst(const char *s, uint32_t *prefix, uint8_t *len, char *err,
			size_t errlen);
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
