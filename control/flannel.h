/*
 * flannel.h - Flannel's etcd layout (cluster.h): the network config at
 * <prefix>/config, one subnet lease per host at <prefix>/subnets/A.B.C.D-LEN,
 * their JSON, and the choice of a free subnet.
 *
 * Pure (jansson only): no DPDK, no I/O, no global state; unit-tested in
 * tests/unit/test_cluster.c. Addresses are IPv4 in host byte order.
 */
#ifndef DPNET_FLANNEL_H
#define DPNET_FLANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FL_DEFAULT_VNI 1           /* Flannel's vxlan backend default */
#define FL_DEFAULT_PORT 8472       /* Flannel's (Linux's vxlan) default UDP port */
#define FL_KEY_MAX 512             /* a key: prefix + "/subnets/" + subnet */

/* <prefix>/config. */
struct fl_config {
	uint32_t network;          /* "Network": the overlay's whole range */
	uint8_t network_len;       /* its prefix length */
	uint8_t subnet_len;        /* "SubnetLen": each host's share (default 24) */
	uint32_t subnet_min;       /* "SubnetMin" (default: the range's second subnet) */
	uint32_t subnet_max;       /* "SubnetMax" (default: its last subnet) */
	uint32_t vni;              /* Backend.VNI (default 1) */
	uint16_t port;             /* Backend.Port (default 8472) */
};

/* One host's lease: <prefix>/subnets/<subnet>-<len> and its value. */
struct fl_lease {
	uint32_t subnet;           /* the host's subnet */
	uint8_t len;               /* its prefix length */
	uint32_t public_ip;        /* "PublicIP": its VTEP address */
	uint32_t vni;              /* BackendData.VNI (0: not given) */
	uint8_t vtep_mac[6];       /* BackendData.VtepMAC */
};

/* Parse the config document. 0 or -EINVAL with what is wrong in err (in
 * Flannel's key names). */
int fl_config_parse(const char *text, size_t len, struct fl_config *c, char *err,
		    size_t errlen);
/* "<prefix>/subnets/10.5.3.0-24" into buf. */
void fl_key_format(const char *prefix, uint32_t subnet, uint8_t len, char *buf,
		   size_t buflen);
/* The subnet of a key under <prefix>/subnets/: 0, or -EINVAL. */
int fl_key_parse(const char *prefix, const char *key, uint32_t *subnet, uint8_t *len);
/* A lease's value: 0, or -EINVAL with why (BackendType other than vxlan,
 * missing or malformed PublicIP / VtepMAC). */
int fl_lease_parse(const char *text, size_t len, struct fl_lease *l, char *err,
		   size_t errlen);
/* Flannel's JSON for a lease (malloc'ed), NULL when out of memory. */
char *fl_lease_encode(const struct fl_lease *l);
/*
 * A free subnet of c (SubnetMin..SubnetMax, not in used[]); among the free
 * ones, the (rnd % free)-th, as Flannel picks at random. 0 or -ENOSPC.
 */
int fl_subnet_pick(const struct fl_config *c, const uint32_t *used, size_t n_used,
		   uint32_t rnd, uint32_t *out);
/* Whether subnet/len is one of c's host subnets (aligned, inside min..max). */
bool fl_subnet_valid(const struct fl_config *c, uint32_t subnet, uint8_t len);

#endif /* DPNET_FLANNEL_H */
