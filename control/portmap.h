/*
 * portmap.h - published and exposed ports of containers (-p, -P, --expose):
 * parsing in Docker's syntax, conflicts, and the texts `ps` and `port` show.
 *
 *   -p [IP:][HOSTPORT[-HOSTPORT]:]CPORT[-CPORT][/tcp|udp]
 *   --expose CPORT[-CPORT][/tcp|udp]
 *
 * A range is expanded into one entry per port. A host port of 0 means "pick a
 * free one from the ephemeral range" (as `-p 80` or -P do); a host range with a
 * single container port (8000-8010:80) means "pick one inside the range". The
 * picking happens in pm_assign against the ports already allocated, because
 * only the caller knows them.
 *
 * Only the table lives here: the DNAT rules that make a published port reach
 * the container are made from it by control/nat.c.
 *
 * Pure (no DPDK, no I/O). Addresses are IPv4, host byte order; 0 = 0.0.0.0.
 */
#ifndef DPNET_PORTMAP_H
#define DPNET_PORTMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PM_MAX 1024              /* port maps (and exposed ports) per container */
#define PM_EPHEMERAL_LO 32768    /* Linux's default ip_local_port_range */
#define PM_EPHEMERAL_HI 60999

enum pm_proto {
	PM_TCP = 0,
	PM_UDP = 1,
};

struct pm_map {
	uint32_t host_ip;       /* 0: every address of the host */
	uint16_t host_port;     /* 0 until pm_assign picked one */
	uint16_t host_lo;       /* range to pick from when host_port is 0 */
	uint16_t host_hi;       /*   (the ephemeral range when none was given) */
	uint16_t ctr_port;      /* container port */
	uint8_t proto;          /* enum pm_proto */
};

struct pm_expose {
	uint16_t port;          /* container port */
	uint8_t proto;          /* enum pm_proto */
};

/*
 * Parse one -p value and append its entries to maps (n in/out, at most max).
 * A map without a host port picks one of eph_lo..eph_hi (the configured
 * ephemeral range: nat.ephemeral_range, PM_EPHEMERAL_* by default).
 * Returns 0 or -EINVAL/-E2BIG with a message naming the bad part.
 */
int pm_parse_publish(const char *s, struct pm_map *maps, unsigned int *n, unsigned int max,
		     uint16_t eph_lo, uint16_t eph_hi, char *err, size_t errlen);
/* Parse one --expose value, appending to exps. */
int pm_parse_expose(const char *s, struct pm_expose *exps, unsigned int *n, unsigned int max,
		    char *err, size_t errlen);

/* Do two bound maps claim the same host port (same protocol, overlapping address)? */
bool pm_conflict(const struct pm_map *a, const struct pm_map *b);

/*
 * Give every map with host_port 0 a port from its range that conflicts with
 * none of taken[0..n_taken) and none of the other maps; check the maps with a
 * fixed host port the same way. Returns 0, or -EADDRINUSE with Docker's message
 * ("Bind for 0.0.0.0:8080 failed: port is already allocated") or -ENOSPC when
 * every port of a range is taken (each candidate is tried once: a full range
 * costs one pass over it, never a loop).
 */
int pm_assign(struct pm_map *maps, unsigned int n, const struct pm_map *taken,
	      unsigned int n_taken, char *err, size_t errlen);

const char *pm_proto_name(uint8_t proto);
/* "0.0.0.0:8080->80/tcp" */
void pm_format(const struct pm_map *m, char *buf, size_t len);

#endif /* DPNET_PORTMAP_H */
