/*
 * portmap.c - -p/--expose parsing, host-port conflicts and picking. See portmap.h.
 *
 * Messages start with Docker's words where Docker has them ("Invalid
 * containerPort", "Invalid hostPort", "Invalid proto", "Bind for ... failed:
 * port is already allocated") and go on with how to fix the value, except
 * where INTERFACE.md gives the whole line (the port-allocated one).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "portmap.h"

const char *
pm_proto_name(uint8_t proto)
{
	return proto == PM_UDP ? "udp" : "tcp";
}

static char *
pm_ip(uint32_t ip, char *buf, size_t len)
{
	struct in_addr in = { .s_addr = htonl(ip) };

	if (inet_ntop(AF_INET, &in, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

void
pm_format(const struct pm_map *m, char *buf, size_t len)
{
	char ip[16];

	snprintf(buf, len, "%s:%u->%u/%s", pm_ip(m->host_ip, ip, sizeof(ip)), m->host_port,
		 m->ctr_port, pm_proto_name(m->proto));
}

/* "N" or "N-M", 1 <= N <= M <= 65535. */
static int
pm_range(const char *s, size_t len, uint16_t *lo, uint16_t *hi)
{
	char buf[16], *dash, *end;
	long a, b;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	for (size_t i = 0; i < len; i++)
		if (!((buf[i] >= '0' && buf[i] <= '9') || buf[i] == '-'))
			return -EINVAL;
	dash = strchr(buf, '-');
	if (dash != NULL)
		*dash = '\0';
	if (buf[0] == '\0')
		return -EINVAL;
	a = strtol(buf, &end, 10);
	if (*end != '\0' || a < 1 || a > 65535)
		return -EINVAL;
	b = a;
	if (dash != NULL) {
		if (dash[1] == '\0')
			return -EINVAL;
		b = strtol(dash + 1, &end, 10);
		if (*end != '\0' || b < a || b > 65535)
			return -EINVAL;
	}
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

/* Split off "/proto"; returns the length of what precedes it. */
static int
pm_proto(const char *s, size_t *len, uint8_t *proto, char *err, size_t errlen)
{
	const char *slash = strrchr(s, '/');

	*proto = PM_TCP;
	*len = strlen(s);
	if (slash == NULL)
		return 0;
	*len = (size_t)(slash - s);
	if (strcasecmp(slash + 1, "tcp") == 0) {
		*proto = PM_TCP;
	} else if (strcasecmp(slash + 1, "udp") == 0) {
		*proto = PM_UDP;
	} else {
		snprintf(err, errlen, "Invalid proto: \"%s\" in \"%s\": dpnet publishes tcp or "
			 "udp (e.g. 8080:80/udp)", slash + 1, s);
		return -EINVAL;
	}
	return 0;
}

int
pm_parse_publish(const char *s, struct pm_map *maps, unsigned int *n, unsigned int max,
		 uint16_t eph_lo, uint16_t eph_hi, char *err, size_t errlen)
{
	const char *parts[3] = { NULL, NULL, NULL };
	size_t plen[3] = { 0, 0, 0 }, len;
	uint16_t clo, chi, hlo = 0, hhi = 0;
	unsigned int nparts = 0, count;
	uint32_t host_ip = 0;
	uint8_t proto;
	const char *p;
	int rc;

	rc = pm_proto(s, &len, &proto, err, errlen);
	if (rc < 0)
		return rc;
	if (len > 0 && s[0] == '[') {
		snprintf(err, errlen, "Invalid ip address in \"%s\": IPv6 host addresses are not "
			 "supported by dpnet yet; use an IPv4 address or leave it out", s);
		return -EINVAL;
	}
	/* Split [IP:][HOST:]CPORT on ':'. */
	p = s;
	for (;;) {
		const char *colon = memchr(p, ':', len - (size_t)(p - s));

		if (nparts == 3) {
			snprintf(err, errlen, "Invalid port format \"%s\": use "
				 "[IP:][HOSTPORT:]CONTAINERPORT[/PROTO], e.g. 8080:80", s);
			return -EINVAL;
		}
		parts[nparts] = p;
		if (colon == NULL) {
			plen[nparts++] = len - (size_t)(p - s);
			break;
		}
		plen[nparts++] = (size_t)(colon - p);
		p = colon + 1;
	}
	/* The last part is the container port(s), the one before it the host's. */
	if (pm_range(parts[nparts - 1], plen[nparts - 1], &clo, &chi) < 0) {
		snprintf(err, errlen, "Invalid containerPort: \"%.*s\" in \"%s\": give a port "
			 "1-65535 or a range such as 80-82", (int)plen[nparts - 1],
			 parts[nparts - 1], s);
		return -EINVAL;
	}
	if (nparts >= 2 && plen[nparts - 2] > 0 &&
	    pm_range(parts[nparts - 2], plen[nparts - 2], &hlo, &hhi) < 0) {
		snprintf(err, errlen, "Invalid hostPort: \"%.*s\" in \"%s\": give a port "
			 "1-65535 or a range such as 8000-8002", (int)plen[nparts - 2],
			 parts[nparts - 2], s);
		return -EINVAL;
	}
	if (nparts == 3) {
		char ip[INET_ADDRSTRLEN];
		struct in_addr in;

		if (plen[0] == 0 || plen[0] >= sizeof(ip)) {
			snprintf(err, errlen, "Invalid ip address: \"%.*s\" in \"%s\": give an "
				 "IPv4 address such as 127.0.0.1", (int)plen[0], parts[0], s);
			return -EINVAL;
		}
		memcpy(ip, parts[0], plen[0]);
		ip[plen[0]] = '\0';
		if (inet_pton(AF_INET, ip, &in) != 1) {
			snprintf(err, errlen, "Invalid ip address: \"%s\" in \"%s\": give an IPv4 "
				 "address such as 127.0.0.1", ip, s);
			return -EINVAL;
		}
		host_ip = ntohl(in.s_addr);
	}
	if (hlo != 0 && hhi - hlo != chi - clo && clo != chi) {
		snprintf(err, errlen, "Invalid ranges specified for container and host Ports: "
			 "%u-%u and %u-%u: give ranges of the same size, or one container port",
			 clo, chi, hlo, hhi);
		return -EINVAL;
	}
	count = (unsigned int)(chi - clo) + 1;
	if (*n + count > max) {
		snprintf(err, errlen, "too many published ports (at most %u per container)", max);
		return -E2BIG;
	}
	for (unsigned int i = 0; i < count; i++) {
		struct pm_map *m = &maps[(*n)++];

		memset(m, 0, sizeof(*m));
		m->host_ip = host_ip;
		m->ctr_port = (uint16_t)(clo + i);
		m->proto = proto;
		if (hlo == 0) {            /* no host port: pick an ephemeral one */
			m->host_lo = eph_lo;
			m->host_hi = eph_hi;
		} else if (hlo != hhi && clo == chi) { /* one of the host range */
			m->host_lo = hlo;
			m->host_hi = hhi;
		} else {
			m->host_port = (uint16_t)(hlo + i);
			m->host_lo = m->host_hi = m->host_port;
		}
	}
	return 0;
}

int
pm_parse_expose(const char *s, struct pm_expose *exps, unsigned int *n, unsigned int max,
		char *err, size_t errlen)
{
	uint16_t lo, hi;
	uint8_t proto;
	size_t len;
	int rc;

	rc = pm_proto(s, &len, &proto, err, errlen);
	if (rc < 0)
		return rc;
	if (pm_range(s, len, &lo, &hi) < 0) {
		snprintf(err, errlen, "Invalid range format for --expose: \"%s\": give "
			 "PORT[/PROTO] or START-END[/PROTO], e.g. 80/tcp", s);
		return -EINVAL;
	}
	if (*n + (unsigned int)(hi - lo) + 1 > max) {
		snprintf(err, errlen, "too many exposed ports (at most %u per container)", max);
		return -E2BIG;
	}
	for (unsigned int p = lo; p <= hi; p++) {
		bool dup = false;

		for (unsigned int i = 0; i < *n && !dup; i++)
			dup = exps[i].port == p && exps[i].proto == proto;
		if (dup)
			continue;
		exps[*n].port = (uint16_t)p;
		exps[*n].proto = proto;
		(*n)++;
	}
	return 0;
}

bool
pm_conflict(const struct pm_map *a, const struct pm_map *b)
{
	return a->host_port != 0 && a->host_port == b->host_port && a->proto == b->proto &&
	       (a->host_ip == 0 || b->host_ip == 0 || a->host_ip == b->host_ip);
}

static const struct pm_map *
pm_clash(const struct pm_map *m, const struct pm_map *maps, unsigned int n, unsigned int self,
	 const struct pm_map *taken, unsigned int n_taken)
{
	for (unsigned int i = 0; i < n_taken; i++)
		if (pm_conflict(m, &taken[i]))
			return &taken[i];
	for (unsigned int i = 0; i < n; i++)
		if (i != self && maps[i].host_port != 0 && pm_conflict(m, &maps[i]))
			return &maps[i];
	return NULL;
}

int
pm_assign(struct pm_map *maps, unsigned int n, const struct pm_map *taken,
	  unsigned int n_taken, char *err, size_t errlen)
{
	char ip[16];

	/* Fixed host ports first, so that picked ones avoid them. */
	for (unsigned int i = 0; i < n; i++) {
		struct pm_map *m = &maps[i];

		if (m->host_port == 0)
			continue;
		/* Only earlier fixed maps: a pair of duplicates is reported once. */
		if (pm_clash(m, maps, i, i, taken, n_taken) != NULL) {
			/* INTERFACE.md gives this line verbatim (Docker's): no hint added. */
			snprintf(err, errlen, "Bind for %s:%u failed: port is already allocated",
				 pm_ip(m->host_ip, ip, sizeof(ip)), m->host_port);
			return -EADDRINUSE;
		}
	}
	for (unsigned int i = 0; i < n; i++) {
		struct pm_map *m = &maps[i];
		bool found = false;

		if (m->host_port != 0)
			continue;
		for (uint32_t p = m->host_lo; p <= m->host_hi && !found; p++) {
			m->host_port = (uint16_t)p;
			found = pm_clash(m, maps, n, i, taken, n_taken) == NULL;
		}
		if (!found) {
			m->host_port = 0;
			snprintf(err, errlen, "Bind for %s:%u-%u failed: every port is already "
				 "allocated; free one or give another range",
				 pm_ip(m->host_ip, ip, sizeof(ip)), m->host_lo, m->host_hi);
			return m->host_lo == m->host_hi ? -EADDRINUSE : -ENOSPC;
		}
	}
	return 0;
}
