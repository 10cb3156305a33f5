/*
 * ipam.h - IPv4 address management of one network: which addresses of its
 * subnet are taken, and which one the next container gets.
 *
 * A pool covers a subnet (a bitmap, one bit per address). Automatic allocation
 * (ipam_alloc) hands out the lowest free address of the allocation range — the
 * --ip-range if the network has one, else the subnet — so an address freed by
 * `rm` is the next one given, as Docker does. An explicit address (ipam_take,
 * for --ip) may be anywhere in the subnet, also outside the ip-range (Docker
 * allows static addresses outside the dynamic range). Never handed out or
 * taken: the network address and the broadcast address (except in /31 and /32,
 * which have neither, RFC 3021) and the gateway.
 *
 * MACs follow Docker: 02:42 followed by the four bytes of the IPv4 address,
 * unless the user gives one (--mac).
 *
 * The module is pure (no DPDK, no I/O). Addresses are host byte order.
 * Thread safety: none; the control thread owns every pool.
 */
#ifndef DPNET_IPAM_H
#define DPNET_IPAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPAM_MIN_PREFIX 8   /* a /8 is 16 M addresses: a 2 MB bitmap, the largest pool */

struct ipam {
	uint32_t subnet;        /* network address */
	uint8_t prefix_len;     /* its prefix length */
	uint32_t gateway;       /* reserved (0: none) */
	uint32_t first;         /* lowest address ipam_alloc may give */
	uint32_t last;          /* highest address ipam_alloc may give */
	uint32_t size;          /* addresses in the subnet (bits in the map) */
	uint32_t used;          /* addresses handed out (gateway not counted) */
	uint64_t *bits;         /* bit (ip - subnet) set = not available */
};

/*
 * Set up a pool. range/range_len: the --ip-range (range_len 0 = none), which
 * must lie inside the subnet. Returns 0 or -EINVAL/-ENOMEM with a message.
 */
int ipam_init(struct ipam *p, uint32_t subnet, uint8_t prefix_len, uint32_t gateway,
	      uint32_t range, uint8_t range_len, char *err, size_t errlen);
void ipam_fini(struct ipam *p);

/* The lowest free address of the range. -ENOSPC with a message when none is left. */
int ipam_alloc(struct ipam *p, uint32_t *ip, char *err, size_t errlen);
/*
 * Take a given address (--ip). -EINVAL when it is not in the subnet or is the
 * network or broadcast address, -EADDRINUSE when the gateway or already taken.
 */
int ipam_take(struct ipam *p, uint32_t ip, char *err, size_t errlen);
/* Give an address back; -ENOENT if it was not taken (the gateway cannot be freed). */
int ipam_free(struct ipam *p, uint32_t ip);
/* Is ip in the subnet and taken (gateway included)? */
bool ipam_in_use(const struct ipam *p, uint32_t ip);
/* Addresses ipam_alloc could still give. */
uint32_t ipam_available(const struct ipam *p);

/* Docker's MAC for an address: 02:42:a:b:c:d. */
void ipam_mac(uint32_t ip, uint8_t mac[6]);
/* Parse "aa:bb:cc:dd:ee:ff" (or '-'); refuses multicast and all-zero. 0 or -EINVAL. */
int ipam_parse_mac(const char *s, uint8_t mac[6]);

#endif /* DPNET_IPAM_H */
