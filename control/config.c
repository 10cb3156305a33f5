/*
 * config.c - YAML configuration file to struct cfg, validated whole.
 *
 * The file is loaded with libyaml's document API (the whole tree at once, every
 * node with its position), then walked section by section. Scalars are read as
 * their raw text, so `hugepages: no` is the string "no", never a YAML 1.1
 * boolean. Parsing stops at the first error; the message says where (file and
 * line), which key (a path such as ports[1].type) and how to fix it.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config.h"

const char *const cfg_port_types[] = {
	"tap", "afpacket", "vhost", "pcap", "null", "ring", "dpdk", "vtap", NULL,
};

static const char *const cfg_port_roles[] = { "access", "uplink", "host", NULL };

const char *const cfg_ct_timeout_names[CFG_CT_MAX] = {
#define CFG_CT_NAME(e, n) n,
	CFG_CT_TIMEOUTS(CFG_CT_NAME)
#undef CFG_CT_NAME
};

/* The defaults of the built-in "bridge" network; config networks must not overlap it. */
#define CFG_BRIDGE_SUBNET 0xAC110000u /* 172.17.0.0 */
#define CFG_BRIDGE_PREFIX 16

/* State of one parse: where we are and where errors go. */
struct cfg_parser {
	const char *file;       /* file name for messages */
	yaml_document_t *doc;   /* the loaded document */
	struct cfg *c;          /* what we fill */
	int ct_max_line;        /* line of conntrack.max, for the memory check */
	char *err;              /* error buffer */
	size_t errlen;          /* its size */
};

void
cfg_defaults(struct cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->memory_mb = 512;
	snprintf(c->file_prefix, sizeof(c->file_prefix), "dpnet");
	c->hugepages = CFG_HUGEPAGES_AUTO;
	c->mbufs = 16384;
	c->workers = 1;
	c->poll.busy = false;
	c->poll.spin_polls = 64;
	c->poll.sleep_min_us = 1;
	c->poll.sleep_max_us = 1000;
	c->poll.intr = true;
	c->poll.intr_timeout_ms = 100;
	c->fdb_size = 65536;
	c->fdb_aging_s = 300;
	c->nat.ephemeral_lo = 32768;      /* Linux's ip_local_port_range, as Docker */
	c->nat.ephemeral_hi = 60999;
	/* Source ports MASQUERADE/hairpin fall back to: above Linux's ephemeral
	 * range, so the host's own connections on the uplink address (NIC mode)
	 * rarely meet one (nat.h, "The host port"). */
	c->nat.snat_lo = 61000;
	c->nat.snat_hi = 65535;
	c->vxlan.udp_port = 4789;         /* IANA's (dataplane/vxlan.h) */
	c->vxlan.ttl = 64;
	c->vxlan.df = true;               /* VTEPs do not fragment */
	c->vtap_big_mbufs = 256;          /* 16 MB: a 64 KB segment in flight per
	                                   * mbuf (vtap.h) */
}

uint32_t
cfg_ct_max(const struct cfg *c)
{
	uint64_t n;

	if (c->ct.max != 0)
		return c->ct.max;
	n = (uint64_t)c->memory_mb * 256; /* one per 4 KB */
	if (n < 16384)
		n = 16384;
	if (n > 1048576)
		n = 1048576;
	return (uint32_t)n;
}

void
cfg_builtin(struct cfg *c)
{
	struct cfg_port *p;

	cfg_defaults(c);
	p = &c->ports[c->n_ports++];
	snprintf(p->name, sizeof(p->name), "dpnet0");
	/* A vtap: the host's TCP to published ports in 64 KB segments (vtap.h,
	 * perf/RESULTS.md "DNAT'd TCP"); TAP mode as a tap (uplink.h). */
	snprintf(p->type, sizeof(p->type), "vtap");
	snprintf(p->iface, sizeof(p->iface), "dpnet0");
	snprintf(p->network, sizeof(p->network), "bridge");
	snprintf(p->role, sizeof(p->role), "uplink");
	/* The transfer network to the host: see CFG_TAP_ADDRESS and uplink.h. */
	p->address = CFG_TAP_ADDRESS;
	p->address_len = CFG_TAP_PREFIX;
	p->gateway = CFG_TAP_GATEWAY;
}

bool
cfg_name_valid(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n >= max)
		return false;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
	      (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (size_t i = 1; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-'))
			return false;
	}
	return true;
}

static int
cfg_index(const char *const *list, const char *s)
{
	for (int i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], s) == 0)
			return i;
	return -1;
}

int
cfg_port_type_index(const char *type)
{
	return cfg_index(cfg_port_types, type);
}

bool
cfg_type_is_tap(const char *type)
{
	return strcmp(type, "tap") == 0 || strcmp(type, "vtap") == 0;
}

int
cfg_port_role_index(const char *role)
{
	return cfg_index(cfg_port_roles, role);
}

/* "a, b, c" from a NULL-terminated list. */
static void
cfg_join(const char *const *list, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; list[i] != NULL && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%s", i ? ", " : "", list[i]);
}

/* An uplink's address and gateway: only on the uplink, the gateway beside it. */
static int
cfg_port_check_address(const struct cfg_port *p, bool cli, enum cfg_port_field *field,
		       char *err, size_t errlen)
{
	uint32_t mask = cfg_prefix_mask(p->address_len), net = p->address & mask;
	char a[16], g[16];

	if (p->address == 0 && p->gateway == 0)
		return 0;
	*field = CFG_PF_ADDRESS;
	if (p->address != 0 && strcmp(p->role, "uplink") != 0) {
		snprintf(err, errlen, "only the uplink has an address (%s): dpnet's address in "
			 "a bridge network is that network's gateway; drop %s or make the "
			 "port %s", cli ? "--role uplink" : "role: uplink",
			 cli ? "--address" : "address:", cli ? "--role uplink" : "role: uplink");
		return -EINVAL;
	}
	*field = CFG_PF_GATEWAY;
	if (p->address == 0) {
		snprintf(err, errlen, "a gateway needs the uplink's own address: %s A.B.C.D/N "
			 "(dpnet's address on the uplink network, with the gateway inside it)",
			 cli ? "give --address" : "add address:");
		return -EINVAL;
	}
	cfg_format_ip(p->address, a, sizeof(a));
	if (p->gateway == 0) {
		if (cfg_type_is_tap(p->type)) {
			char n[16];

			snprintf(err, errlen, "a %s uplink with an address needs %s: the host "
				 "side's address on %s, in %s/%u (e.g. %s)", p->type,
				 cli ? "--gateway IP" : "gateway: IP",
				 p->iface[0] ? p->iface : p->name, cfg_format_ip(net, n, sizeof(n)),
				 p->address_len,
				 cfg_format_ip(p->address == net + 1 ? net + 2 : net + 1, g,
					       sizeof(g)));
			return -EINVAL;
		}
		return 0;
	}
	cfg_format_ip(p->gateway, g, sizeof(g));
	if ((p->gateway & mask) != net) {
		char n[16];

		snprintf(err, errlen, "gateway %s is not inside the uplink's subnet %s/%u (of "
			 "address %s/%u): the next hop must be on the uplink network",
			 g, cfg_format_ip(net, n, sizeof(n)), p->address_len, a, p->address_len);
		return -EINVAL;
	}
	if (p->gateway == p->address) {
		snprintf(err, errlen, "gateway %s is dpnet's own address: give the next hop's "
			 "address", g);
		return -EINVAL;
	}
	if (p->gateway == net || p->gateway == (net | ~mask)) {
		snprintf(err, errlen, "gateway %s is the network or broadcast address of %s/%u: "
			 "give a host address", g, cfg_format_ip(net, a, sizeof(a)),
			 p->address_len);
		return -EINVAL;
	}
	return 0;
}

/* The keys of one role only: mtu (uplink), netns and default_route (host). */
static int
cfg_port_check_host(const struct cfg_port *p, bool cli, enum cfg_port_field *field,
		    char *err, size_t errlen)
{
	bool host = strcmp(p->role, "host") == 0;

	if (p->mtu != 0 && strcmp(p->role, "uplink") != 0) {
		*field = CFG_PF_MTU;
		snprintf(err, errlen, "only the uplink has an MTU (%s): a bridge network's is "
			 "the network's (network create --mtu)", cli ? "--mtu" : "mtu:");
		return -EINVAL;
	}
	if (p->netns[0] != '\0' && !host) {
		*field = CFG_PF_NETNS;
		snprintf(err, errlen, "only the host port (%s) goes to a namespace: drop %s",
			 cli ? "--role host" : "role: host", cli ? "--netns" : "netns:");
		return -EINVAL;
	}
	if (p->no_default_route && !host) {
		*field = CFG_PF_DEFAULT_ROUTE;
		snprintf(err, errlen, "only the host port (%s) has a default route to turn off",
			 cli ? "--role host" : "role: host");
		return -EINVAL;
	}
	if (!host)
		return 0;
	if (strcmp(p->type, "tap") != 0) {
		*field = CFG_PF_TYPE;
		snprintf(err, errlen, "the host port is a tap (its host side carries the host's "
			 "address): %s", cli ? "use --type tap" : "use type: tap");
		return -EINVAL;
	}
	if (p->netns[0] != '\0' && (!cfg_name_valid(p->netns, CFG_NETNS_MAX) ||
				    strcmp(p->netns, ".") == 0 || strcmp(p->netns, "..") == 0)) {
		*field = CFG_PF_NETNS;
		snprintf(err, errlen, "invalid namespace name \"%s\": give the name of one in "
			 "/run/netns (ip netns add NAME)", p->netns);
		return -EINVAL;
	}
	return 0;
}

int
cfg_port_check(const struct cfg_port *p, bool cli, enum cfg_port_field *field, char *err,
	       size_t errlen)
{
	char list[128];
	int type;

	if (!cfg_name_valid(p->name, CFG_NAME_MAX)) {
		*field = CFG_PF_NAME;
		snprintf(err, errlen, "invalid port name \"%s\": use 1 to %d letters, digits, "
			 "'_', '.' or '-', starting with a letter or digit", p->name,
			 CFG_NAME_MAX - 1);
		return -EINVAL;
	}
	type = cfg_port_type_index(p->type);
	if (type < 0) {
		*field = CFG_PF_TYPE;
		cfg_join(cfg_port_types, list, sizeof(list));
		snprintf(err, errlen, "unknown port type \"%s\": use one of %s", p->type, list);
		return -EINVAL;
	}
	if (p->role[0] != '\0' && cfg_port_role_index(p->role) < 0) {
		*field = CFG_PF_ROLE;
		cfg_join(cfg_port_roles, list, sizeof(list));
		snprintf(err, errlen, "unknown role \"%s\": use one of %s", p->role, list);
		return -EINVAL;
	}
	if (p->network[0] != '\0' && !cfg_name_valid(p->network, CFG_NET_NAME_MAX)) {
		*field = CFG_PF_NETWORK;
		snprintf(err, errlen, "invalid network name \"%s\": use letters, digits, '_', "
			 "'.' or '-', starting with a letter or digit", p->network);
		return -EINVAL;
	}
	*field = CFG_PF_IFACE;
	if (strcmp(p->type, "tap") == 0 || strcmp(p->type, "afpacket") == 0 ||
	    strcmp(p->type, "vtap") == 0) {
		/* A tap or vtap port without an interface name creates one named as
		 * the port. */
		const char *ifn = p->iface[0] != '\0' ? p->iface : p->name;

		if (p->iface[0] == '\0' && p->type[0] == 'a') {
			snprintf(err, errlen, "port type \"afpacket\" needs an interface: %s IF "
				 "(an existing interface, e.g. the host end of a veth pair)",
				 cli ? "give --iface" : "add iface:");
			return -EINVAL;
		}
		if (strlen(ifn) >= IFNAMSIZ || strchr(ifn, '/') != NULL ||
		    strchr(ifn, ' ') != NULL || strchr(ifn, ',') != NULL) {
			snprintf(err, errlen, "invalid interface name \"%s\": use at most %d "
				 "characters, no '/', ',' or spaces%s", ifn, IFNAMSIZ - 1,
				 p->iface[0] == '\0' ? (cli ? " (or give --iface IF)" :
							" (or add iface: IF)") : "");
			return -EINVAL;
		}
	} else if (strcmp(p->type, "vhost") == 0) {
		if (p->iface[0] != '/') {
			snprintf(err, errlen, "port type \"vhost\" needs the absolute path of the "
				 "vhost-user socket to create: %s /PATH/TO/SOCKET",
				 cli ? "give --iface" : "add iface:");
			return -EINVAL;
		}
	} else if (strcmp(p->type, "pcap") == 0) {
		if (p->devargs[0] == '\0') {
			*field = CFG_PF_DEVARGS;
			snprintf(err, errlen, "port type \"pcap\" needs its files: %s "
				 "rx_pcap=IN.pcap,tx_pcap=OUT.pcap (see DPDK's net_pcap)",
				 cli ? "give --devargs" : "add devargs:");
			return -EINVAL;
		}
	} else if (strcmp(p->type, "dpdk") == 0) {
		if (p->devargs[0] == '\0') {
			*field = CFG_PF_DEVARGS;
			snprintf(err, errlen, "port type \"dpdk\" needs the device: %s "
				 "PCI-ADDRESS (e.g. 0000:03:00.0) or a vdev string",
				 cli ? "give --devargs" : "add devargs:");
			return -EINVAL;
		}
	}
	*field = CFG_PF_IFACE;
	if (strchr(p->iface, ',') != NULL) {
		snprintf(err, errlen, "invalid interface \"%s\": it must not contain ','",
			 p->iface);
		return -EINVAL;
	}
	if (cfg_port_check_host(p, cli, field, err, errlen) < 0)
		return -EINVAL;
	return cfg_port_check_address(p, cli, field, err, errlen);
}

int
cfg_parse_ip(const char *s, uint32_t *addr)
{
	struct in_addr in;

	if (inet_pton(AF_INET, s, &in) != 1)
		return -EINVAL;
	*addr = ntohl(in.s_addr);
	return 0;
}

int
cfg_parse_host_cidr(const char *s, uint32_t *addr, uint8_t *prefix_len, char *err,
		    size_t errlen)
{
	uint32_t mask;
	char n[16];

	if (cfg_parse_cidr(s, addr, prefix_len) < 0) {
		snprintf(err, errlen, "invalid address \"%s\": write it as A.B.C.D/N, e.g. "
			 "192.0.2.10/24", s);
		return -EINVAL;
	}
	if (*prefix_len < 8 || *prefix_len > 30) {
		snprintf(err, errlen, "prefix /%u of \"%s\" is out of range: use /8 to /30",
			 *prefix_len, s);
		return -EINVAL;
	}
	mask = cfg_prefix_mask(*prefix_len);
	if ((*addr & ~mask) == 0 || (*addr & ~mask) == ~mask) {
		snprintf(err, errlen, "\"%s\" is the network or broadcast address of %s/%u: "
			 "give a host address", s, cfg_format_ip(*addr & mask, n, sizeof(n)),
			 *prefix_len);
		return -EINVAL;
	}
	if ((*addr >> 24) == 0 || (*addr >> 24) == 127 || (*addr >> 28) >= 14) {
		snprintf(err, errlen, "\"%s\" is not a unicast host address (0/8, 127/8, "
			 "multicast or reserved)", s);
		return -EINVAL;
	}
	return 0;
}

int
cfg_parse_port_range(const char *s, uint16_t *lo, uint16_t *hi)
{
	unsigned long a, b;
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	a = strtoul(s, &end, 10);
	if (errno != 0 || *end != '-' || end[1] < '0' || end[1] > '9')
		return -EINVAL;
	b = strtoul(end + 1, &end, 10);
	if (errno != 0 || *end != '\0' || a < 1 || b > 65535 || a > b)
		return -EINVAL;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

int
cfg_parse_cidr(const char *s, uint32_t *addr, uint8_t *prefix_len)
{
	char ip[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	char *end;
	long n;
	size_t len;

	if (slash == NULL)
		return -EINVAL;
	len = (size_t)(slash - s);
	if (len == 0 || len >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, s, len);
	ip[len] = '\0';
	if (cfg_parse_ip(ip, addr) < 0)
		return -EINVAL;
	if (slash[1] < '0' || slash[1] > '9')
		return -EINVAL;
	errno = 0;
	n = strtol(slash + 1, &end, 10);
	if (errno != 0 || *end != '\0' || n < 0 || n > 32)
		return -EINVAL;
	*prefix_len = (uint8_t)n;
	return 0;
}

int
cfg_parse_route_dst(const char *s, uint32_t *prefix, uint8_t *len, char *err, size_t errlen)
{
	char a[16];

	if (strcmp(s, "default") == 0) {
		*prefix = 0;
		*len = 0;
		return 0;
	}
	if (strchr(s, '/') == NULL) {
		if (cfg_parse_ip(s, prefix) == 0) {
			*len = 32;
			return 0;
		}
	} else if (cfg_parse_cidr(s, prefix, len) == 0) {
		if ((*prefix & ~cfg_prefix_mask(*len)) == 0)
			return 0;
		snprintf(err, errlen, "\"%s\" has host bits set: did you mean %s/%u?", s,
			 cfg_format_ip(*prefix & cfg_prefix_mask(*len), a, sizeof(a)), *len);
		return -EINVAL;
	}
	snprintf(err, errlen, "invalid destination \"%s\": write it as A.B.C.D/N, e.g. "
		 "198.51.100.0/24 (or default)", s);
	return -EINVAL;
}

char *
cfg_format_ip(uint32_t addr, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff, (addr >> 8) & 0xff,
		 addr & 0xff);
	return buf;
}

/* ---- YAML walking ---- */

static int
cfg_line(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

static int __attribute__((format(printf, 4, 5)))
cfg_fail(struct cfg_parser *ps, int line, const char *key, const char *fmt, ...)
{
	size_t off;
	va_list ap;

	off = (size_t)snprintf(ps->err, ps->errlen, "%s:%d: ", ps->file, line);
	if (key != NULL && key[0] != '\0' && off < ps->errlen)
		off += (size_t)snprintf(ps->err + off, ps->errlen - off, "%s: ", key);
	if (off < ps->errlen) {
		va_start(ap, fmt);
		vsnprintf(ps->err + off, ps->errlen - off, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static const char *
cfg_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a value";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

/* An empty plain scalar, ~ or null: the key is present without a value. */
static bool
cfg_is_null(const yaml_node_t *n)
{
	const char *v;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)n->data.scalar.value;
	return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
		strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

/*
 * A string value. Only an empty value counts as missing here: "null" and "~"
 * are strings (a port of type null is written `type: null`).
 */
static int
cfg_str(struct cfg_parser *ps, const yaml_node_t *n, const char *key, char *buf, size_t len)
{
	if (n->type != YAML_SCALAR_NODE)
		return cfg_fail(ps, cfg_line(n), key, "expected a value, got %s", cfg_kind(n));
	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && n->data.scalar.length == 0)
		return cfg_fail(ps, cfg_line(n), key, "the value is missing");
	if (n->data.scalar.length >= len)
		return cfg_fail(ps, cfg_line(n), key, "too long: at most %zu characters",
				len - 1);
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
		return cfg_fail(ps, cfg_line(n), key, "the value contains a NUL character");
	memcpy(buf, n->data.scalar.value, n->data.scalar.length + 1);
	return 0;
}

static int
cfg_u32(struct cfg_parser *ps, const yaml_node_t *n, const char *key, uint32_t min,
	uint32_t max, uint32_t *out)
{
	char buf[32];
	unsigned long long v = 0;
	const char *s;

	if (n->type != YAML_SCALAR_NODE || cfg_is_null(n))
		return cfg_fail(ps, cfg_line(n), key, "expected an integer from %u to %u, got %s",
				min, max, cfg_is_null(n) ? "nothing" : cfg_kind(n));
	s = (const char *)n->data.scalar.value;
	if (n->data.scalar.length == 0 || n->data.scalar.length > 10)
		goto bad;
	for (size_t i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			goto bad;
		v = v * 10 + (unsigned long long)(s[i] - '0');
	}
	if (v < min || v > max)
		return cfg_fail(ps, cfg_line(n), key, "%llu is out of range: use %u to %u", v,
				min, max);
	*out = (uint32_t)v;
	return 0;
bad:
	snprintf(buf, sizeof(buf), "%.20s%s", s, n->data.scalar.length > 20 ? "..." : "");
	return cfg_fail(ps, cfg_line(n), key, "expected an integer from %u to %u, got \"%s\"",
			min, max, buf);
}

/* true/yes or false/no. */
static int
cfg_bool(struct cfg_parser *ps, const yaml_node_t *n, const char *key, bool *out)
{
	char s[64];
	int rc = cfg_str(ps, n, key, s, sizeof(s));

	if (rc < 0)
		return rc;
	if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0)
		*out = true;
	else if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0)
		*out = false;
	else
		return cfg_fail(ps, cfg_line(n), key, "unknown value \"%s\": use true or false",
				s);
	return 0;
}

/*
 * Walk a mapping: check it is one, refuse duplicate keys and keys not in
 * allowed (NULL-terminated), and return its pairs.
 */
static int
cfg_mapping(struct cfg_parser *ps, const yaml_node_t *n, const char *key,
	    const char *const *allowed, yaml_node_pair_t **start, yaml_node_pair_t **top)
{
	char path[160], list[256];

	*start = *top = NULL;
	if (cfg_is_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return cfg_fail(ps, cfg_line(n), key, "expected a mapping of %s, got %s",
				allowed[0] != NULL ? "keys" : "nothing", cfg_kind(n));
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(ps->doc, p->key);
		const char *ks;

		if (k == NULL || k->type != YAML_SCALAR_NODE)
			return cfg_fail(ps, k != NULL ? cfg_line(k) : cfg_line(n), key,
					"a key must be a plain word");
		ks = (const char *)k->data.scalar.value;
		snprintf(path, sizeof(path), "%s%s%s", key, key[0] ? "." : "", ks);
		if (cfg_index(allowed, ks) < 0) {
			cfg_join(allowed, list, sizeof(list));
			return cfg_fail(ps, cfg_line(k), path, "unknown key: use one of %s", list);
		}
		for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
			yaml_node_t *k2 = yaml_document_get_node(ps->doc, q->key);

			if (strcmp((const char *)k2->data.scalar.value, ks) == 0)
				return cfg_fail(ps, cfg_line(k), path,
						"duplicate key (first on line %d)",
						cfg_line(k2));
		}
	}
	*start = n->data.mapping.pairs.start;
	*top = n->data.mapping.pairs.top;
	return 0;
}

static const char *
cfg_key(struct cfg_parser *ps, const yaml_node_pair_t *p)
{
	return (const char *)yaml_document_get_node(ps->doc, p->key)->data.scalar.value;
}

static yaml_node_t *
cfg_value(struct cfg_parser *ps, const yaml_node_pair_t *p)
{
	return yaml_document_get_node(ps->doc, p->value);
}

static int
cfg_eal(struct cfg_parser *ps, const yaml_node_t *n)
{
	static const char *const keys[] = {
		"args", "memory_mb", "file_prefix", "hugepages", NULL,
	};
	struct cfg *c = ps->c;
	yaml_node_pair_t *p, *top;
	char path[64];
	int rc;

	rc = cfg_mapping(ps, n, "eal", keys, &p, &top);
	for (; rc == 0 && p < top; p++) {
		const char *k = cfg_key(ps, p);
		yaml_node_t *v = cfg_value(ps, p);

		snprintf(path, sizeof(path), "eal.%s", k);
		if (strcmp(k, "args") == 0) {
			if (cfg_is_null(v))
				continue;
			if (v->type != YAML_SEQUENCE_NODE)
				return cfg_fail(ps, cfg_line(v), path,
						"expected a list of EAL arguments, got %s",
						cfg_kind(v));
			for (yaml_node_item_t *it = v->data.sequence.items.start;
			     it < v->data.sequence.items.top; it++) {
				yaml_node_t *a = yaml_document_get_node(ps->doc, *it);
				char ipath[80];

				snprintf(ipath, sizeof(ipath), "eal.args[%u]", c->n_eal_args);
				if (c->n_eal_args == CFG_MAX_EAL_ARGS)
					return cfg_fail(ps, cfg_line(a), ipath,
							"too many EAL arguments: at most %d",
							CFG_MAX_EAL_ARGS);
				rc = cfg_str(ps, a, ipath, c->eal_args[c->n_eal_args],
					     CFG_EAL_ARG_MAX);
				if (rc < 0)
					return rc;
				c->n_eal_args++;
			}
		} else if (strcmp(k, "memory_mb") == 0) {
			rc = cfg_u32(ps, v, path, 64, 1024 * 1024, &c->memory_mb);
		} else if (strcmp(k, "file_prefix") == 0) {
			rc = cfg_str(ps, v, path, c->file_prefix, sizeof(c->file_prefix));
			if (rc == 0 && !cfg_name_valid(c->file_prefix, sizeof(c->file_prefix)))
				rc = cfg_fail(ps, cfg_line(v), path, "invalid file prefix \"%s\": "
					      "use letters, digits, '_', '.' or '-'",
					      c->file_prefix);
		} else { /* hugepages */
			char h[16];

			rc = cfg_str(ps, v, path, h, sizeof(h));
			if (rc < 0)
				return cfg_fail(ps, cfg_line(v), path,
						"expected auto, yes or no");
			if (strcmp(h, "auto") == 0)
				c->hugepages = CFG_HUGEPAGES_AUTO;
			else if (strcmp(h, "yes") == 0 || strcmp(h, "true") == 0)
				c->hugepages = CFG_HUGEPAGES_YES;
			else if (strcmp(h, "no") == 0 || strcmp(h, "false") == 0)
				c->hugepages = CFG_HUGEPAGES_NO;
			else
				rc = cfg_fail(ps, cfg_line(v), path,
					      "unknown value \"%s\": use auto, yes or no", h);
		}
	}
	return rc;
}

static int
cfg_poll_section(struct cfg_parser *ps, const yaml_node_t *n)
{
	static const char *const keys[] = {
		"mode", "spin_polls", "sleep_min_us", "sleep_max_us", "interrupts",
		"interrupt_timeout_ms", NULL,
	};
	struct cfg_poll *poll = &ps->c->poll;
	yaml_node_pair_t *p, *top;
	int min_line = 0;
	char path[64];
	int rc;

	rc = cfg_mapping(ps, n, "poll", keys, &p, &top);
	for (; rc == 0 && p < top; p++) {
		const char *k = cfg_key(ps, p);
		yaml_node_t *v = cfg_value(ps, p);

		snprintf(path, sizeof(path), "poll.%s", k);
		if (strcmp(k, "mode") == 0) {
			char m[16];

			rc = cfg_str(ps, v, path, m, sizeof(m));
			if (rc < 0)
				return cfg_fail(ps, cfg_line(v), path,
						"expected adaptive or busy");
			if (strcmp(m, "adaptive") == 0)
				poll->busy = false;
			else if (strcmp(m, "busy") == 0)
				poll->busy = true;
			else
				rc = cfg_fail(ps, cfg_line(v), path, "unknown poll mode "
					      "\"%s\": use adaptive (sleep when idle) or busy "
					      "(dedicated cores)", m);
		} else if (strcmp(k, "interrupts") == 0) {
			char m[16];

			rc = cfg_str(ps, v, path, m, sizeof(m));
			if (rc < 0)
				return cfg_fail(ps, cfg_line(v), path, "expected auto or off");
			if (strcmp(m, "auto") == 0)
				poll->intr = true;
			else if (strcmp(m, "off") == 0)
				poll->intr = false;
			else
				rc = cfg_fail(ps, cfg_line(v), path, "unknown value \"%s\": use auto "
					      "(block on RX interrupts when every queue of a worker "
					      "has them) or off (always sleep on a timer)", m);
		} else if (strcmp(k, "interrupt_timeout_ms") == 0) {
			rc = cfg_u32(ps, v, path, 1, 60000, &poll->intr_timeout_ms);
		} else if (strcmp(k, "spin_polls") == 0) {
			rc = cfg_u32(ps, v, path, 0, 1000000000, &poll->spin_polls);
		} else if (strcmp(k, "sleep_min_us") == 0) {
			rc = cfg_u32(ps, v, path, 1, 1000000, &poll->sleep_min_us);
			min_line = cfg_line(v);
		} else {
			rc = cfg_u32(ps, v, path, 1, 1000000, &poll->sleep_max_us);
		}
	}
	if (rc == 0 && poll->sleep_min_us > poll->sleep_max_us)
		rc = cfg_fail(ps, min_line != 0 ? min_line : cfg_line(n), "poll.sleep_min_us",
			      "%u is more than sleep_max_us (%u): the first sleep cannot be "
			      "longer than the longest", poll->sleep_min_us, poll->sleep_max_us);
	return rc;
}

static int
cfg_fdb(struct cfg_parser *ps, const yaml_node_t *n)
{
	static const char *const keys[] = { "size", "aging_s", NULL };
	yaml_node_pair_t *p, *top;
	char path[64];
	int rc;

	rc = cfg_mapping(ps, n, "fdb", keys, &p, &top);
	for (; rc == 0 && p < top; p++) {
		const char *k = cfg_key(ps, p);
		yaml_node_t *v = cfg_value(ps, p);

		snprintf(path, sizeof(path), "fdb.%s", k);
		if (strcmp(k, "size") == 0)
			rc = cfg_u32(ps, v, path, 1024, 16 * 1024 * 1024, &ps->c->fdb_size);
		else
			rc = cfg_u32(ps, v, path, 1, 1000000, &ps->c->fdb_aging_s);
	}
	return rc;
}

static int
cfg_port_entry(struct cfg_parser *ps, const yaml_node_t *n, unsigned int i)
{
	static const char *const keys[] = {
		"name", "type", "iface", "devargs", "network", "role", "address", "gateway",
		"mtu", "netns", "default_route", NULL,
	};
	struct cfg_port *port = &ps->c->ports[i];
	char s[64], why[256];
	yaml_node_pair_t *p, *top;
	char base[32], path[64];
	int rc;

	snprintf(base, sizeof(base), "ports[%u]", i);
	if (n->type != YAML_MAPPING_NODE)
		return cfg_fail(ps, cfg_line(n), base, "expected a mapping (name:, type:, ...), "
				"got %s", cfg_kind(n));
	port->line = cfg_line(n);
	rc = cfg_mapping(ps, n, base, keys, &p, &top);
	for (; rc == 0 && p < top; p++) {
		const char *k = cfg_key(ps, p);
		yaml_node_t *v = cfg_value(ps, p);

		snprintf(path, sizeof(path), "%s.%s", base, k);
		if (strcmp(k, "name") == 0)
			rc = cfg_str(ps, v, path, port->name, sizeof(port->name));
		else if (strcmp(k, "type") == 0)
			rc = cfg_str(ps, v, path, port->type, sizeof(port->type));
		else if (strcmp(k, "iface") == 0)
			rc = cfg_str(ps, v, path, port->iface, sizeof(port->iface));
		else if (strcmp(k, "devargs") == 0)
			rc = cfg_str(ps, v, path, port->devargs, sizeof(port->devargs));
		else if (strcmp(k, "network") == 0)
			rc = cfg_str(ps, v, path, port->network, sizeof(port->network));
		else if (strcmp(k, "role") == 0)
			rc = cfg_str(ps, v, path, port->role, sizeof(port->role));
		else if (strcmp(k, "netns") == 0)
			rc = cfg_str(ps, v, path, port->netns, sizeof(port->netns));
		else if (strcmp(k, "mtu") == 0) {
			uint32_t mtu = 0;

			rc = cfg_u32(ps, v, path, CFG_MTU_MIN, CFG_MTU_MAX, &mtu);
			port->mtu = (uint16_t)mtu;
		} else if (strcmp(k, "default_route") == 0) {
			bool on = true;

			rc = cfg_bool(ps, v, path, &on);
			port->no_default_route = !on;
		} else if (strcmp(k, "address") == 0) {
			rc = cfg_str(ps, v, path, s, sizeof(s));
			if (rc == 0 && cfg_parse_host_cidr(s, &port->address, &port->address_len,
							   why, sizeof(why)) < 0)
				rc = cfg_fail(ps, cfg_line(v), path, "%s", why);
		} else {
			rc = cfg_str(ps, v, path, s, sizeof(s));
			if (rc == 0 && cfg_parse_ip(s, &port->gateway) < 0)
				rc = cfg_fail(ps, cfg_line(v), path, "invalid gateway \"%s\": write "
					      "an IPv4 address, e.g. 192.0.2.1", s);
			if (rc == 0 && port->gateway == 0)
				rc = cfg_fail(ps, cfg_line(v), path, "0.0.0.0 cannot be a gateway");
		}
	}
	if (rc < 0)
		return rc;
	if (port->name[0] == '\0')
		return cfg_fail(ps, port->line, base, "missing key name: every port needs one");
	if (port->type[0] == '\0') {
		char list[128];

		cfg_join(cfg_port_types, list, sizeof(list));
		return cfg_fail(ps, port->line, base, "missing key type: use one of %s", list);
	}
	return 0;
}

static int
cfg_network_entry(struct cfg_parser *ps, const yaml_node_t *n, unsigned int i)
{
	static const char *const keys[] = { "name", "driver", "subnet", "gateway", NULL };
	struct cfg_network *net = &ps->c->networks[i];
	yaml_node_pair_t *p, *top;
	char base[32], path[64], s[64];
	int subnet_line = 0, rc;
	bool have_subnet = false;

	snprintf(base, sizeof(base), "networks[%u]", i);
	if (n->type != YAML_MAPPING_NODE)
		return cfg_fail(ps, cfg_line(n), base, "expected a mapping (name:, subnet:, "
				"...), got %s", cfg_kind(n));
	net->line = cfg_line(n);
	snprintf(net->driver, sizeof(net->driver), "bridge");
	rc = cfg_mapping(ps, n, base, keys, &p, &top);
	for (; rc == 0 && p < top; p++) {
		const char *k = cfg_key(ps, p);
		yaml_node_t *v = cfg_value(ps, p);

		snprintf(path, sizeof(path), "%s.%s", base, k);
		if (strcmp(k, "name") == 0) {
			rc = cfg_str(ps, v, path, net->name, sizeof(net->name));
			if (rc == 0 && !cfg_name_valid(net->name, sizeof(net->name)))
				rc = cfg_fail(ps, cfg_line(v), path, "invalid network name \"%s\": "
					      "use letters, digits, '_', '.' or '-', starting with "
					      "a letter or digit", net->name);
		} else if (strcmp(k, "driver") == 0) {
			rc = cfg_str(ps, v, path, net->driver, sizeof(net->driver));
			if (rc == 0 && strcmp(net->driver, "bridge") != 0)
				rc = cfg_fail(ps, cfg_line(v), path, "unknown network "
					      "driver \"%s\": use bridge", net->driver);
		} else if (strcmp(k, "subnet") == 0) {
			rc = cfg_str(ps, v, path, s, sizeof(s));
			if (rc < 0)
				break;
			subnet_line = cfg_line(v);
			if (cfg_parse_cidr(s, &net->subnet, &net->prefix_len) < 0)
				return cfg_fail(ps, subnet_line, path, "invalid subnet \"%s\": "
						"write it as CIDR, e.g. 172.18.0.0/16", s);
			if (net->prefix_len < 8 || net->prefix_len > 30)
				return cfg_fail(ps, subnet_line, path, "prefix /%u is out of "
						"range: use /8 to /30", net->prefix_len);
			if ((net->subnet & ~cfg_prefix_mask(net->prefix_len)) != 0) {
				char ip[INET_ADDRSTRLEN];

				cfg_format_ip(net->subnet & cfg_prefix_mask(net->prefix_len), ip,
					      sizeof(ip));
				return cfg_fail(ps, subnet_line, path, "\"%s\" has host bits set: "
						"did you mean %s/%u?", s, ip, net->prefix_len);
			}
			have_subnet = true;
		} else {
			rc = cfg_str(ps, v, path, s, sizeof(s));
			if (rc == 0 && cfg_parse_ip(s, &net->gateway) < 0)
				rc = cfg_fail(ps, cfg_line(v), path, "invalid gateway "
					      "\"%s\": write an IPv4 address, e.g. 172.18.0.1", s);
			if (rc == 0 && net->gateway == 0)
				rc = cfg_fail(ps, cfg_line(v), path, "0.0.0.0 cannot be a gateway");
		}
	}
	if (rc < 0)
		return rc;
	if (net->name[0] == '\0')
		return cfg_fail(ps, net->line, base, "missing key name: every network needs one");
	if (!have_subnet && net->gateway != 0)
		return cfg_fail(ps, net->line, base, "a gateway needs a subnet: add subnet: CIDR");
	net->subnet_auto = !have_subnet;
	(void)subnet_line;
	return 0;
}

/* A list of entries; parse_entry is called for each with its index. */
static int
cfg_list(struct cfg_parser *ps, const yaml_node_t *n, const char *key, unsigned int max,
	 unsigned int *count, int (*parse_entry)(struct cfg_parser *, const yaml_node_t *,
						 unsigned int))
{
	int rc;

	*count = 0;
	if (cfg_is_null(n))
		return 0;
	if (n->type != YAML_SEQUENCE_NODE)
		return cfg_fail(ps, cfg_line(n), key, "expected a list (entries starting with "
				"'- '), got %s", cfg_kind(n));
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		yaml_node_t *e = yaml_document_get_node(ps->doc, *it);

		if (*count == max)
			return cfg_fail(ps, cfg_line(e), key, "too many entries: at most %u", max);
		rc = parse_entry(ps, e, *count);
		if (rc < 0)
			return rc;
		(*count)++;
	}
	return 0;
}

static bool
cfg_overlap(uint32_t a, uint8_t alen, uint32_t b, uint8_t blen)
{
	uint8_t len = alen < blen ? alen : blen;

	return ((a ^ b) & cfg_prefix_mask(len)) == 0;
}

/* Networks: unique names, built-in names refused, subnets and gateways consistent. */
static int
cfg_check_networks(struct cfg_parser *ps)
{
	static const char *const builtin[] = { "bridge", "host", "none", NULL };
	struct cfg *c = ps->c;
	char path[64], a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	/* Explicit subnets first, so the automatic ones can avoid them. */
	for (unsigned int i = 0; i < c->n_networks; i++) {
		struct cfg_network *n = &c->networks[i];
		uint32_t mask = cfg_prefix_mask(n->prefix_len);

		snprintf(path, sizeof(path), "networks[%u].name", i);
		if (cfg_index(builtin, n->name) >= 0)
			return cfg_fail(ps, n->line, path, "\"%s\" is a built-in network: pick "
					"another name", n->name);
		for (unsigned int j = 0; j < i; j++)
			if (strcmp(c->networks[j].name, n->name) == 0)
				return cfg_fail(ps, n->line, path, "duplicate network name \"%s\" "
						"(also on line %d)", n->name,
						c->networks[j].line);
		if (n->subnet_auto)
			continue;
		snprintf(path, sizeof(path), "networks[%u].subnet", i);
		if (cfg_overlap(n->subnet, n->prefix_len, CFG_BRIDGE_SUBNET, CFG_BRIDGE_PREFIX))
			return cfg_fail(ps, n->line, path, "%s/%u overlaps network \"bridge\" "
					"(172.17.0.0/16): pick a free range",
					cfg_format_ip(n->subnet, a, sizeof(a)), n->prefix_len);
		for (unsigned int j = 0; j < i; j++) {
			struct cfg_network *o = &c->networks[j];

			if (!o->subnet_auto &&
			    cfg_overlap(n->subnet, n->prefix_len, o->subnet, o->prefix_len))
				return cfg_fail(ps, n->line, path, "%s/%u overlaps network \"%s\" "
						"(%s/%u): pick a free range",
						cfg_format_ip(n->subnet, a, sizeof(a)),
						n->prefix_len, o->name,
						cfg_format_ip(o->subnet, b, sizeof(b)),
						o->prefix_len);
		}
		snprintf(path, sizeof(path), "networks[%u].gateway", i);
		if (n->gateway == 0) {
			n->gateway = n->subnet + 1;
		} else if ((n->gateway & mask) != n->subnet) {
			return cfg_fail(ps, n->line, path, "%s is not inside subnet %s/%u",
					cfg_format_ip(n->gateway, a, sizeof(a)),
					cfg_format_ip(n->subnet, b, sizeof(b)), n->prefix_len);
		} else if (n->gateway == n->subnet || n->gateway == (n->subnet | ~mask)) {
			return cfg_fail(ps, n->line, path, "%s is the network or broadcast "
					"address of %s/%u: use a host address",
					cfg_format_ip(n->gateway, a, sizeof(a)),
					cfg_format_ip(n->subnet, b, sizeof(b)), n->prefix_len);
		}
	}
	/* Automatic subnets: the first free 172.N.0.0/16 from 172.18, as Docker does. */
	for (unsigned int i = 0; i < c->n_networks; i++) {
		struct cfg_network *n = &c->networks[i];
		uint32_t cand = 0;

		if (!n->subnet_auto)
			continue;
		for (uint32_t o2 = 18; o2 <= 31 && cand == 0; o2++) {
			uint32_t s = 0xAC000000u | (o2 << 16);
			bool used = false;

			for (unsigned int j = 0; j < c->n_networks && !used; j++) {
				struct cfg_network *o = &c->networks[j];

				if (j != i && (!o->subnet_auto || j < i) &&
				    cfg_overlap(s, 16, o->subnet, o->prefix_len))
					used = true;
			}
			if (!used)
				cand = s;
		}
		if (cand == 0)
			return cfg_fail(ps, n->line, "", "networks[%u]: no free subnet left in "
					"172.18.0.0-172.31.255.255: give one with subnet: CIDR", i);
		n->subnet = cand;
		n->prefix_len = 16;
		n->gateway = cand + 1;
	}
	return 0;
}

/* Ports: each valid on its own, unique names, known networks, one uplink at most. */
static int
cfg_check_ports(struct cfg_parser *ps)
{
	static const char *const fields[] = {
		"name", "type", "iface", "devargs", "network", "role", "address", "gateway",
		"mtu", "netns", "default_route",
	};
	struct cfg *c = ps->c;
	int uplink = -1, host = -1;
	char path[64], msg[256];

	/* The host port's TAP is dpnet-host unless named. */
	for (unsigned int i = 0; i < c->n_ports; i++)
		if (strcmp(c->ports[i].role, "host") == 0 && c->ports[i].iface[0] == '\0')
			snprintf(c->ports[i].iface, sizeof(c->ports[i].iface), CFG_HOST_IFACE);
	for (unsigned int i = 0; i < c->n_ports; i++) {
		struct cfg_port *p = &c->ports[i];
		enum cfg_port_field f;
		bool found;

		if (cfg_port_check(p, false, &f, msg, sizeof(msg)) < 0) {
			snprintf(path, sizeof(path), "ports[%u].%s", i, fields[f]);
			return cfg_fail(ps, p->line, path, "%s", msg);
		}
		snprintf(path, sizeof(path), "ports[%u].name", i);
		for (unsigned int j = 0; j < i; j++)
			if (strcmp(c->ports[j].name, p->name) == 0)
				return cfg_fail(ps, p->line, path, "duplicate port name \"%s\" "
						"(also on line %d)", p->name, c->ports[j].line);
		snprintf(path, sizeof(path), "ports[%u].iface", i);
		for (unsigned int j = 0; j < i; j++) {
			const char *a = p->iface[0] != '\0' ? p->iface : p->name;
			const char *b = c->ports[j].iface[0] != '\0' ? c->ports[j].iface :
				c->ports[j].name;

			/* Two tap or vtap ports cannot create the same interface. */
			if (cfg_type_is_tap(p->type) && cfg_type_is_tap(c->ports[j].type) &&
			    strcmp(a, b) == 0)
				return cfg_fail(ps, p->line, path, "interface \"%s\" is already "
						"created by port \"%s\" (line %d): pick another "
						"name", a, c->ports[j].name, c->ports[j].line);
		}
		snprintf(path, sizeof(path), "ports[%u].network", i);
		if (p->network[0] == '\0')
			snprintf(p->network, sizeof(p->network), "bridge");
		if (strcmp(p->network, "host") == 0 || strcmp(p->network, "none") == 0)
			return cfg_fail(ps, p->line, path, "network \"%s\" is not a bridge "
					"network: a port can only join a bridge network",
					p->network);
		found = strcmp(p->network, "bridge") == 0;
		for (unsigned int j = 0; j < c->n_networks && !found; j++)
			found = strcmp(c->networks[j].name, p->network) == 0;
		if (!found)
			return cfg_fail(ps, p->line, path, "network \"%s\" not found: define it "
					"under networks: or use bridge", p->network);
		snprintf(path, sizeof(path), "ports[%u].role", i);
		if (p->role[0] == '\0')
			snprintf(p->role, sizeof(p->role), "access");
		if (strcmp(p->role, "uplink") == 0) {
			if (uplink >= 0)
				return cfg_fail(ps, p->line, path, "\"%s\" would be a second "
						"uplink (\"%s\" is one): keep one port with role "
						"uplink", p->name, c->ports[uplink].name);
			uplink = (int)i;
		}
		if (strcmp(p->role, "host") == 0) {
			if (host >= 0)
				return cfg_fail(ps, p->line, path, "\"%s\" would be a second "
						"host port (\"%s\" is one): keep one port with "
						"role host", p->name, c->ports[host].name);
			host = (int)i;
		}
		if (p->address != 0) {
			char a[16], b[16];

			snprintf(path, sizeof(path), "ports[%u].address", i);
			if (cfg_overlap(p->address, p->address_len, CFG_BRIDGE_SUBNET,
					CFG_BRIDGE_PREFIX))
				return cfg_fail(ps, p->line, path, "%s/%u overlaps network "
						"\"bridge\" (172.17.0.0/16): the uplink network "
						"must be another one",
						cfg_format_ip(p->address, a, sizeof(a)),
						p->address_len);
			for (unsigned int j = 0; j < c->n_networks; j++) {
				struct cfg_network *o = &c->networks[j];

				if (cfg_overlap(p->address, p->address_len, o->subnet,
						o->prefix_len))
					return cfg_fail(ps, p->line, path, "%s/%u overlaps network "
							"\"%s\" (%s/%u): the uplink network must be "
							"another one",
							cfg_format_ip(p->address, a, sizeof(a)),
							p->address_len, o->name,
							cfg_format_ip(o->subnet, b, sizeof(b)),
							o->prefix_len);
			}
		}
	}
	if (host >= 0) {
		const struct cfg_port *h = &c->ports[host];

		snprintf(path, sizeof(path), "ports[%d].role", host);
		if (uplink < 0 || c->ports[uplink].address == 0)
			return cfg_fail(ps, h->line, path, "the host port carries the uplink's "
					"address to the host: it needs a port with role: uplink "
					"and address: (a NIC uplink)");
		if (cfg_type_is_tap(c->ports[uplink].type))
			return cfg_fail(ps, h->line, path, "the host port is for a NIC uplink: "
					"with a %s uplink (\"%s\") the host reaches dpnet through "
					"that %s already", c->ports[uplink].type,
					c->ports[uplink].name, c->ports[uplink].type);
	}
	return 0;
}

/* One static route: {to: CIDR, via: IP} or {to: CIDR, blackhole: true}. */
static int
cfg_route_entry(struct cfg_parser *ps, const yaml_node_t *n, unsigned int i)
{
	static const char *const keys[] = { "to", "via", "blackhole", NULL };
	struct cfg_route *r = &ps->c->routes[i];
	yaml_node_pair_t *p, *top;
	char base[32], path[64], s[64], why[256];
	bool have_to = false;
	int rc;

	snprintf(base, sizeof(base), "routes[%u]", i);
	if (n->type != YAML_MAPPING_NODE)
		return cfg_fail(ps, cfg_line(n), base, "expected a mapping (to: CIDR, via: IP), "
				"got %s", cfg_kind(n));
	memset(r, 0, sizeof(*r));
	r->line = cfg_line(n);
	rc = cfg_mapping(ps, n, base, keys, &p, &top);
	for (; rc == 0 && p < top; p++) {
		const char *k = cfg_key(ps, p);
		yaml_node_t *v = cfg_value(ps, p);

		snprintf(path, sizeof(path), "%s.%s", base, k);
		if (strcmp(k, "blackhole") == 0) {
			rc = cfg_bool(ps, v, path, &r->blackhole);
			continue;
		}
		rc = cfg_str(ps, v, path, s, sizeof(s));
		if (rc < 0)
			break;
		if (strcmp(k, "to") == 0) {
			if (cfg_parse_route_dst(s, &r->prefix, &r->len, why, sizeof(why)) < 0)
				rc = cfg_fail(ps, cfg_line(v), path, "%s", why);
			have_to = true;
		} else if (cfg_parse_ip(s, &r->via) < 0 || r->via == 0) {
			rc = cfg_fail(ps, cfg_line(v), path, "invalid gateway \"%s\": write an "
				      "IPv4 address, e.g. 192.0.2.1", s);
		}
	}
	if (rc < 0)
		return rc;
	if (!have_to)
		return cfg_fail(ps, r->line, base, "missing key to: the destination, e.g. "
				"to: 198.51.100.0/24");
	if (r->blackhole && r->via != 0)
		return cfg_fail(ps, r->line, base, "a route has either via: or blackhole: true, "
				"not both");
	if (!r->blackhole && r->via == 0)
		return cfg_fail(ps, r->line, base, "a route to nowhere: add via: GATEWAY (a next "
				"hop on the uplink network or a bridge network) or blackhole: true");
	for (unsigned int j = 0; j < i; j++) {
		const struct cfg_route *o = &ps->c->routes[j];

		if (o->prefix == r->prefix && o->len == r->len)
			return cfg_fail(ps, r->line, base, "duplicate route to %s/%u (also on "
					"line %d)", cfg_format_ip(r->prefix, s, sizeof(s)),
					r->len, o->line);
	}
	return 0;
}

/* nat: ephemeral_range and snat_ports, "LO-HI" each. */
static int
cfg_nat_section(struct cfg_parser *ps, const yaml_node_t *n)
{
	static const char *const keys[] = { "ephemeral_range", "snat_ports", NULL };
	struct cfg_nat *nat = &ps->c->nat;
	yaml_node_pair_t *p, *top;
	char path[64], s[64];
	int rc;

	rc = cfg_mapping(ps, n, "nat", keys, &p, &top);
	for (; rc == 0 && p < top; p++) {
		const char *k = cfg_key(ps, p);
		yaml_node_t *v = cfg_value(ps, p);
		bool eph = strcmp(k, "ephemeral_range") == 0;

		snprintf(path, sizeof(path), "nat.%s", k);
		rc = cfg_str(ps, v, path, s, sizeof(s));
		if (rc < 0)
			break;
		if (cfg_parse_port_range(s, eph ? &nat->ephemeral_lo : &nat->snat_lo,
					 eph ? &nat->ephemeral_hi : &nat->snat_hi) < 0)
			rc = cfg_fail(ps, cfg_line(v), path, "invalid port range \"%s\": write "
				      "LO-HI with 1 <= LO <= HI <= 65535, e.g. \"%s\"", s,
				      eph ? "32768-60999" : "1024-65535");
	}
	return rc;
}

/* conntrack: max, timeouts (seconds, by state), tcp_loose. */
static int
cfg_conntrack_section(struct cfg_parser *ps, const yaml_node_t *n)
{
	static const char *const keys[] = { "max", "timeouts", "tcp_loose", NULL };
	static const char *tkeys[CFG_CT_MAX + 1];
	struct cfg_ct *ct = &ps->c->ct;
	yaml_node_pair_t *p, *top, *tp, *ttop;
	char path[64], s[16];
	int rc;

	for (unsigned int i = 0; i < CFG_CT_MAX; i++)
		tkeys[i] = cfg_ct_timeout_names[i];
	tkeys[CFG_CT_MAX] = NULL;
	rc = cfg_mapping(ps, n, "conntrack", keys, &p, &top);
	for (; rc == 0 && p < top; p++) {
		const char *k = cfg_key(ps, p);
		yaml_node_t *v = cfg_value(ps, p);

		snprintf(path, sizeof(path), "conntrack.%s", k);
		if (strcmp(k, "max") == 0) {
			rc = cfg_u32(ps, v, path, 1024, 1u << 26, &ct->max);
			ps->ct_max_line = cfg_line(v);
		} else if (strcmp(k, "tcp_loose") == 0) {
			rc = cfg_str(ps, v, path, s, sizeof(s));
			if (rc == 0 && (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0))
				ct->tcp_loose = true;
			else if (rc == 0 && (strcmp(s, "false") == 0 || strcmp(s, "no") == 0))
				ct->tcp_loose = false;
			else if (rc == 0)
				rc = cfg_fail(ps, cfg_line(v), path, "unknown value \"%s\": use "
					      "true or false", s);
		} else {
			rc = cfg_mapping(ps, v, path, tkeys, &tp, &ttop);
			for (; rc == 0 && tp < ttop; tp++) {
				const char *tk = cfg_key(ps, tp);
				char tpath[96];
				int idx = cfg_index(tkeys, tk);

				snprintf(tpath, sizeof(tpath), "conntrack.timeouts.%s", tk);
				/* Ten years at most: seconds times the TSC rate fit 64 bits. */
				rc = cfg_u32(ps, cfg_value(ps, tp), tpath, 1, 315360000,
					     &ct->timeout_s[idx]);
			}
		}
	}
	return rc;
}

/* The conntrack table must leave room for the mbufs and the rest in eal.memory_mb. */
static int
cfg_check_memory(struct cfg_parser *ps)
{
	struct cfg *c = ps->c;
	uint64_t ct_mb, budget_mb = c->memory_mb / 2;

	/* The vtap pool: 64 KB an mbuf, at most a quarter of the EAL memory. */
	if ((uint64_t)c->vtap_big_mbufs * 64 > (uint64_t)c->memory_mb * 1024 / 4)
		return cfg_fail(ps, c->vtap_line, "vtap.big_mbufs", "%u mbufs of 64 KB need "
				"%u MB, more than a quarter of eal.memory_mb (%u MB): lower "
				"vtap.big_mbufs to %u or raise eal.memory_mb to %u",
				c->vtap_big_mbufs, c->vtap_big_mbufs / 16, c->memory_mb,
				c->memory_mb * 4, (c->vtap_big_mbufs + 3) / 4);
	if (c->ct.max == 0)
		return 0;
	ct_mb = ((uint64_t)c->ct.max * CFG_CT_BYTES_PER_CONN + (1u << 20) - 1) >> 20;
	if (ct_mb > budget_mb)
		return cfg_fail(ps, ps->ct_max_line, "conntrack.max", "%u connections need "
				"about %llu MB, more than half of eal.memory_mb (%u MB): raise "
				"eal.memory_mb to %llu or lower conntrack.max to %llu",
				c->ct.max, (unsigned long long)ct_mb, c->memory_mb,
				(unsigned long long)ct_mb * 2,
				(unsigned long long)budget_mb * (1u << 20) / CFG_CT_BYTES_PER_CONN);
	return 0;
}

bool
cfg_group_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= CFG_GROUP_MAX || s[0] == '-' || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

/* vxlan: port, ttl, df (overlay networks' encapsulation). */
static int
cfg_vxlan_section(struct cfg_parser *ps, const yaml_node_t *n)
{
	static const char *const keys[] = { "port", "ttl", "df", NULL };
	struct cfg *c = ps->c;
	yaml_node_pair_t *p, *top;
	char path[64];
	uint32_t v = 0;
	int rc;

	rc = cfg_mapping(ps, n, "vxlan", keys, &p, &top);
	for (; rc == 0 && p < top; p++) {
		const char *k = cfg_key(ps, p);
		yaml_node_t *val = cfg_value(ps, p);

		snprintf(path, sizeof(path), "vxlan.%s", k);
		if (strcmp(k, "port") == 0) {
			rc = cfg_u32(ps, val, path, 1, 65535, &v);
			c->vxlan.udp_port = (uint16_t)v;
		} else if (strcmp(k, "ttl") == 0) {
			rc = cfg_u32(ps, val, path, 1, 255, &v);
			c->vxlan.ttl = (uint8_t)v;
		} else {
			rc = cfg_bool(ps, val, path, &c->vxlan.df);
		}
	}
	return rc;
}

/* vtap: big_mbufs (the vtap ports' 64 KB buffers, drivers/vtap.h). */
static int
cfg_vtap_section(struct cfg_parser *ps, const yaml_node_t *n)
{
	static const char *const keys[] = { "big_mbufs", NULL };
	struct cfg *c = ps->c;
	yaml_node_pair_t *p, *top;
	int rc;

	rc = cfg_mapping(ps, n, "vtap", keys, &p, &top);
	for (; rc == 0 && p < top; p++) {
		c->vtap_line = cfg_line(yaml_document_get_node(ps->doc, p->key));
		rc = cfg_u32(ps, cfg_value(ps, p), "vtap.big_mbufs", 16, 65536,
			     &c->vtap_big_mbufs);
	}
	return rc;
}

/* control: group (who may use the control socket besides root). */
static int
cfg_control_section(struct cfg_parser *ps, const yaml_node_t *n)
{
	static const char *const keys[] = { "group", NULL };
	struct cfg *c = ps->c;
	yaml_node_pair_t *p, *top;
	char s[256];
	int rc;

	rc = cfg_mapping(ps, n, "control", keys, &p, &top);
	for (; rc == 0 && p < top; p++) {
		yaml_node_t *v = cfg_value(ps, p);

		rc = cfg_str(ps, v, "control.group", s, sizeof(s));
		if (rc < 0)
			break;
		if (!cfg_group_valid(s))
			return cfg_fail(ps, cfg_line(v), "control.group", "invalid group name "
					"\"%.64s\": letters, digits, '_', '.', '-', at most %d "
					"characters", s, CFG_GROUP_MAX - 1);
		memcpy(c->control_group, s, strlen(s) + 1);
		c->control_group_line = cfg_line(v);
	}
	return rc;
}

/* ---- cluster: etcd registry (cluster.h) ---- */

int
cfg_check_etcd_url(const char *url, char *err, size_t errlen)
{
	const char *host, *end, *port = NULL;
	size_t hlen;

	if (strncmp(url, "http://", 7) == 0)
		host = url + 7;
	else if (strncmp(url, "https://", 8) == 0)
		host = url + 8;
	else
		goto bad;
	if (host[0] == '[') {
		end = strchr(host, ']');
		if (end == NULL || end == host + 1)
			goto bad;
		end++;
	} else {
		end = host + strcspn(host, ":/");
	}
	hlen = (size_t)(end - host);
	if (hlen == 0)
		goto bad;
	for (const char *q = host; q < end; q++)
		if (!isalnum((unsigned char)*q) && strchr(".-_[]:", *q) == NULL)
			goto bad;
	if (*end == ':') {
		char *pe;
		unsigned long v;

		port = end + 1;
		if (!isdigit((unsigned char)*port))
			goto bad;
		v = strtoul(port, &pe, 10);
		if (v < 1 || v > 65535)
			goto bad;
		end = pe;
	}
	if (*end == '/' && end[1] == '\0')
		end++;
	if (*end != '\0')
		goto bad;
	return 0;
bad:
	snprintf(err, errlen, "invalid etcd URL \"%.200s\": write http://HOST:PORT (or "
		 "https://), e.g. http://192.0.2.1:2379, several separated by commas", url);
	return -EINVAL;
}

/* cluster: etcd (URL[,URL...] or a list), prefix, network, lease_ttl, public_ip. */
static int
cfg_cluster_section(struct cfg_parser *ps, const yaml_node_t *n, int line)
{
	static const char *const keys[] = {
		"etcd", "prefix", "network", "lease_ttl", "public_ip", NULL,
	};
	struct cfg_cluster *cl = &ps->c->cluster;
	yaml_node_pair_t *p, *top;
	char path[64], s[CFG_ETCD_MAX], why[320];
	int rc;

	cl->enabled = true;
	cl->line = line;
	snprintf(cl->prefix, sizeof(cl->prefix), "/coreos.com/network");
	snprintf(cl->network, sizeof(cl->network), "flannel");
	cl->lease_ttl_s = 86400;
	rc = cfg_mapping(ps, n, "cluster", keys, &p, &top);
	for (; rc == 0 && p < top; p++) {
		const char *k = cfg_key(ps, p);
		yaml_node_t *v = cfg_value(ps, p);

		snprintf(path, sizeof(path), "cluster.%s", k);
		if (strcmp(k, "lease_ttl") == 0) {
			rc = cfg_u32(ps, v, path, 3, 31536000, &cl->lease_ttl_s);
			continue;
		}
		if (strcmp(k, "etcd") == 0 && v->type == YAML_SEQUENCE_NODE) {
			size_t off = 0;

			for (yaml_node_item_t *it = v->data.sequence.items.start;
			     rc == 0 && it < v->data.sequence.items.top; it++) {
				yaml_node_t *a = yaml_document_get_node(ps->doc, *it);

				rc = cfg_str(ps, a, path, s, sizeof(s));
				if (rc == 0 && off + strlen(s) + 2 > sizeof(cl->etcd))
					rc = cfg_fail(ps, cfg_line(a), path, "too many URLs: at most "
						      "%zu characters in all", sizeof(cl->etcd) - 1);
				if (rc == 0)
					off += (size_t)snprintf(cl->etcd + off, sizeof(cl->etcd) - off,
								"%s%s", off ? "," : "", s);
			}
			if (rc == 0 && off == 0)
				rc = cfg_fail(ps, cfg_line(v), path, "the list is empty: give at "
					      "least one URL, e.g. http://192.0.2.1:2379");
			if (rc < 0)
				break;
			snprintf(s, sizeof(s), "%s", cl->etcd);
		} else {
			rc = cfg_str(ps, v, path, s, sizeof(s));
			if (rc < 0)
				break;
		}
		if (strcmp(k, "etcd") == 0) {
			char *save = NULL, *tok, copy[CFG_ETCD_MAX];

			snprintf(copy, sizeof(copy), "%s", s);
			for (tok = strtok_r(copy, ",", &save); tok != NULL && rc == 0;
			     tok = strtok_r(NULL, ",", &save))
				if (cfg_check_etcd_url(tok, why, sizeof(why)) < 0)
					rc = cfg_fail(ps, cfg_line(v), path, "%s", why);
			if (rc == 0 && (s[0] == ',' || s[strlen(s) - 1] == ',' ||
					strstr(s, ",,") != NULL))
				rc = cfg_fail(ps, cfg_line(v), path, "an empty URL in \"%s\": "
					      "separate URLs with single commas", s);
			if (rc == 0)
				snprintf(cl->etcd, sizeof(cl->etcd), "%s", s);
		} else if (strcmp(k, "prefix") == 0) {
			size_t len = strlen(s);
			bool bad = s[0] != '/' || len < 2 || s[len - 1] == '/' ||
				strstr(s, "//") != NULL || len >= sizeof(cl->prefix);

			for (size_t i = 0; i < len && !bad; i++)
				bad = !isgraph((unsigned char)s[i]);
			if (bad)
				rc = cfg_fail(ps, cfg_line(v), path, "invalid key prefix \"%.64s\": "
					      "an absolute etcd key with no trailing '/' and no "
					      "spaces, e.g. /coreos.com/network", s);
			else
				memcpy(cl->prefix, s, len + 1);
		} else if (strcmp(k, "network") == 0) {
			if (!cfg_name_valid(s, sizeof(cl->network)))
				rc = cfg_fail(ps, cfg_line(v), path, "invalid network name \"%.64s\": "
					      "use letters, digits, '_', '.' or '-', starting with a "
					      "letter or digit", s);
			else if (strcmp(s, "bridge") == 0 || strcmp(s, "host") == 0 ||
				 strcmp(s, "none") == 0)
				rc = cfg_fail(ps, cfg_line(v), path, "\"%s\" is a built-in network: "
					      "the cluster's overlay needs its own name (default "
					      "flannel)", s);
			else
				memcpy(cl->network, s, strlen(s) + 1);
		} else if (cfg_parse_ip(s, &cl->public_ip) < 0 || (cl->public_ip >> 24) == 0 ||
			   (cl->public_ip >> 24) == 127 || (cl->public_ip >> 28) >= 14) {
			rc = cfg_fail(ps, cfg_line(v), path, "invalid address \"%.64s\": a unicast "
				      "IPv4 address (the one other hosts reach this one on), e.g. "
				      "192.0.2.10", s);
		}
	}
	if (rc == 0 && cl->etcd[0] == '\0')
		rc = cfg_fail(ps, cl->line, "cluster", "missing key etcd: the etcd endpoint(s), "
			      "e.g. etcd: http://192.0.2.1:2379");
	for (unsigned int i = 0; rc == 0 && i < ps->c->n_networks; i++)
		if (strcmp(ps->c->networks[i].name, cl->network) == 0)
			rc = cfg_fail(ps, cl->line, "cluster.network", "\"%s\" is also a bridge "
				      "network of this file (line %d): the cluster's overlay needs "
				      "a name of its own", cl->network, ps->c->networks[i].line);
	return rc;
}

static int
cfg_root(struct cfg_parser *ps, const yaml_node_t *root)
{
	static const char *const keys[] = {
		"eal", "mbufs", "workers", "poll", "fdb", "ports", "networks", "nat",
		"conntrack", "routes", "control", "vxlan", "cluster", "vtap", NULL,
	};
	struct cfg *c = ps->c;
	yaml_node_t *cluster = NULL;
	yaml_node_pair_t *p, *top;
	int rc, cluster_line = 0;

	if (root->type != YAML_MAPPING_NODE && !cfg_is_null(root))
		return cfg_fail(ps, cfg_line(root), NULL, "expected a mapping of keys (eal, "
				"mbufs, workers, poll, fdb, ports, networks, nat, conntrack, "
				"routes, control, vxlan, cluster, vtap), got %s",
				cfg_kind(root));
	rc = cfg_mapping(ps, root, "", keys, &p, &top);
	for (; rc == 0 && p < top; p++) {
		const char *k = cfg_key(ps, p);
		yaml_node_t *v = cfg_value(ps, p);

		if (strcmp(k, "eal") == 0) {
			rc = cfg_eal(ps, v);
		} else if (strcmp(k, "mbufs") == 0) {
			rc = cfg_u32(ps, v, k, 1024, 16 * 1024 * 1024, &c->mbufs);
		} else if (strcmp(k, "workers") == 0) {
			uint32_t w = 0;

			rc = cfg_u32(ps, v, k, 1, CFG_MAX_WORKERS, &w);
			c->workers = (uint16_t)w;
		} else if (strcmp(k, "poll") == 0) {
			rc = cfg_poll_section(ps, v);
		} else if (strcmp(k, "fdb") == 0) {
			rc = cfg_fdb(ps, v);
		} else if (strcmp(k, "ports") == 0) {
			rc = cfg_list(ps, v, k, CFG_MAX_PORTS, &c->n_ports, cfg_port_entry);
		} else if (strcmp(k, "nat") == 0) {
			rc = cfg_nat_section(ps, v);
		} else if (strcmp(k, "conntrack") == 0) {
			rc = cfg_conntrack_section(ps, v);
		} else if (strcmp(k, "control") == 0) {
			rc = cfg_control_section(ps, v);
		} else if (strcmp(k, "vxlan") == 0) {
			rc = cfg_vxlan_section(ps, v);
		} else if (strcmp(k, "vtap") == 0) {
			rc = cfg_vtap_section(ps, v);
		} else if (strcmp(k, "routes") == 0) {
			rc = cfg_list(ps, v, k, CFG_MAX_ROUTES, &c->n_routes, cfg_route_entry);
		} else if (strcmp(k, "cluster") == 0) {
			cluster = v;
			cluster_line = cfg_line(yaml_document_get_node(ps->doc, p->key));
		} else {
			rc = cfg_list(ps, v, k, CFG_MAX_NETWORKS, &c->n_networks,
				      cfg_network_entry);
		}
	}
	if (rc == 0)
		rc = cfg_check_networks(ps);
	/* After networks: (its name must not be one of theirs). */
	if (rc == 0 && cluster != NULL)
		rc = cfg_cluster_section(ps, cluster, cluster_line);
	if (rc == 0)
		rc = cfg_check_ports(ps);
	if (rc == 0)
		rc = cfg_check_memory(ps);
	return rc;
}

int
cfg_parse(const char *name, const char *text, size_t len, struct cfg *c, char *err,
	  size_t errlen)
{
	struct cfg_parser ps = { .file = name, .c = c, .err = err, .errlen = errlen };
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	int rc;

	cfg_defaults(c);
	snprintf(c->path, sizeof(c->path), "%s", name);
	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, errlen, "%s: cannot initialise the YAML parser", name);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		int line = (int)parser.problem_mark.line + 1;

		if (parser.context != NULL)
			snprintf(err, errlen, "%s:%d: YAML syntax error: %s %s (line %d)", name,
				 line, parser.problem ? parser.problem : "invalid document",
				 parser.context, (int)parser.context_mark.line + 1);
		else
			snprintf(err, errlen, "%s:%d: YAML syntax error: %s", name, line,
				 parser.problem ? parser.problem : "invalid document");
		yaml_parser_delete(&parser);
		return -EINVAL;
	}
	ps.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	rc = root == NULL ? 0 : cfg_root(&ps, root);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

int
cfg_load(const char *path, struct cfg *c, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0, cap = 0;
	FILE *f;
	int rc;

	f = fopen(path, "r");
	if (f == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return rc;
	}
	for (;;) {
		size_t n;

		if (cap - len < 4096) {
			char *t;

			if (cap >= 16 * 1024 * 1024) {
				snprintf(err, errlen, "%s: file too large (more than 16 MB)", path);
				rc = -EFBIG;
				goto out;
			}
			cap = cap ? cap * 2 : 16384;
			t = realloc(text, cap);
			if (t == NULL) {
				snprintf(err, errlen, "%s: out of memory", path);
				rc = -ENOMEM;
				goto out;
			}
			text = t;
		}
		n = fread(text + len, 1, cap - len, f);
		len += n;
		if (n == 0) {
			if (ferror(f)) {
				rc = -EIO;
				snprintf(err, errlen, "%s: read error", path);
				goto out;
			}
			break;
		}
	}
	rc = cfg_parse(path, text != NULL ? text : "", len, c, err, errlen);
out:
	free(text);
	fclose(f);
	return rc;
}
