/*
 * flannel.c - Flannel's etcd layout and JSON (flannel.h). The defaults and
 * checks follow Flannel's pkg/subnet/config.go: SubnetLen 24 (or one bit
 * longer than a small Network), SubnetMin the second subnet (the first,
 * holding the network address, is skipped), SubnetMax the last; the backend
 * type defaults to "udp" there, so a config without Backend is not ours.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "flannel.h"

static uint32_t
fl_mask(uint8_t len)
{
	return len == 0 ? 0 : ~(uint32_t)0 << (32 - len);
}

static int
fl_ip(const char *s, uint32_t *out)
{
	struct in_addr in;

	if (s == NULL || inet_pton(AF_INET, s, &in) != 1)
		return -EINVAL;
	*out = ntohl(in.s_addr);
	return 0;
}

static int
fl_cidr(const char *s, uint32_t *addr, uint8_t *len)
{
	char ip[INET_ADDRSTRLEN];
	const char *slash;
	char *end;
	long n;

	if (s == NULL || (slash = strchr(s, '/')) == NULL ||
	    (size_t)(slash - s) >= sizeof(ip) || slash[1] < '0' || slash[1] > '9')
		return -EINVAL;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	n = strtol(slash + 1, &end, 10);
	if (*end != '\0' || n < 0 || n > 32 || fl_ip(ip, addr) < 0)
		return -EINVAL;
	*len = (uint8_t)n;
	return 0;
}

static void
fl_fmt(uint32_t a, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

/* An optional integer member in [lo, hi]; def when absent. */
static int
fl_int(json_t *o, const char *key, long long lo, long long hi, long long def, long long *out,
       char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		snprintf(err, errlen, "%s: expected an integer from %lld to %lld", key, lo, hi);
		return -EINVAL;
	}
	*out = json_integer_value(v);
	return 0;
}

bool
fl_subnet_valid(const struct fl_config *c, uint32_t subnet, uint8_t len)
{
	return len == c->subnet_len && (subnet & ~fl_mask(len)) == 0 &&
		subnet >= c->subnet_min && subnet <= c->subnet_max;
}

int
fl_config_parse(const char *text, size_t len, struct fl_config *c, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *doc = json_loadb(text, len, 0, &jerr), *be;
	const char *s, *type;
	long long v;
	uint32_t size, last;
	char a[16];
	int rc = -EINVAL;

	memset(c, 0, sizeof(*c));
	if (doc == NULL) {
		snprintf(err, errlen, "not JSON: %s (line %d)", jerr.text, jerr.line);
		return -EINVAL;
	}
	if (!json_is_object(doc)) {
		snprintf(err, errlen, "not a JSON object");
		goto out;
	}
	s = json_string_value(json_object_get(doc, "Network"));
	if (s == NULL) {
		snprintf(err, errlen, "Network: missing (the overlay's range, e.g. "
			 "\"10.5.0.0/16\")");
		goto out;
	}
	if (fl_cidr(s, &c->network, &c->network_len) < 0 ||
	    (c->network & ~fl_mask(c->network_len)) != 0 || c->network_len < 8 ||
	    c->network_len > 28) {
		snprintf(err, errlen, "Network: \"%.40s\" is not a network A.B.C.D/N with N from 8 "
			 "to 28 and the host bits zero", s);
		goto out;
	}
	if (fl_int(doc, "SubnetLen", 0, 30, 0, &v, err, errlen) < 0)
		goto out;
	if (v == 0)
		v = c->network_len < 24 ? 24 : c->network_len + 1;
	if (v <= c->network_len || v > 30) {
		snprintf(err, errlen, "SubnetLen: %lld must be longer than the Network's /%u and "
			 "at most 30", v, c->network_len);
		goto out;
	}
	c->subnet_len = (uint8_t)v;
	size = (uint32_t)1 << (32 - c->subnet_len);
	last = c->network + (uint32_t)(((uint64_t)1 << (32 - c->network_len)) - size);
	c->subnet_min = c->network + size;
	c->subnet_max = last;
	for (int i = 0; i < 2; i++) {
		const char *key = i == 0 ? "SubnetMin" : "SubnetMax";
		uint32_t *dst = i == 0 ? &c->subnet_min : &c->subnet_max;
		json_t *m = json_object_get(doc, key);

		if (m == NULL)
			continue;
		if (fl_ip(json_string_value(m), dst) < 0 || (*dst & (size - 1)) != 0 ||
		    *dst < c->network || *dst > last) {
			fl_fmt(c->network, a, sizeof(a));
			snprintf(err, errlen, "%s: not a /%u subnet address inside %s/%u", key,
				 c->subnet_len, a, c->network_len);
			goto out;
		}
	}
	if (c->subnet_min > c->subnet_max) {
		snprintf(err, errlen, "SubnetMin is above SubnetMax");
		goto out;
	}
	be = json_object_get(doc, "Backend");
	type = json_string_value(json_object_get(be, "Type"));
	if (be != NULL && !json_is_object(be)) {
		snprintf(err, errlen, "Backend: not an object");
		goto out;
	}
	if (type == NULL || strcmp(type, "vxlan") != 0) {
		snprintf(err, errlen, "Backend.Type is \"%.32s\"%s: dpnet speaks the vxlan backend "
			 "only", type != NULL ? type : "udp",
			 type != NULL ? "" : " (Flannel's default)");
		goto out;
	}
	if (fl_int(be, "VNI", 1, 0xFFFFFF, FL_DEFAULT_VNI, &v, err, errlen) < 0)
		goto out;
	c->vni = (uint32_t)v;
	if (fl_int(be, "Port", 0, 65535, FL_DEFAULT_PORT, &v, err, errlen) < 0)
		goto out;
	c->port = (uint16_t)(v == 0 ? FL_DEFAULT_PORT : v);
	rc = 0;
out:
	json_decref(doc);
	return rc;
}

void
fl_key_format(const char *prefix, uint32_t subnet, uint8_t len, char *buf, size_t buflen)
{
	char a[16];

	fl_fmt(subnet, a, sizeof(a));
	snprintf(buf, buflen, "%s/subnets/%s-%u", prefix, a, len);
}

int
fl_key_parse(const char *prefix, const char *key, uint32_t *subnet, uint8_t *len)
{
	size_t n = strlen(prefix);
	char ip[INET_ADDRSTRLEN];
	const char *s, *dash;
	char *end;
	long l;

	if (strncmp(key, prefix, n) != 0 || strncmp(key + n, "/subnets/", 9) != 0)
		return -EINVAL;
	s = key + n + 9;
	dash = strchr(s, '-');
	if (dash == NULL || (size_t)(dash - s) >= sizeof(ip) || dash[1] < '0' || dash[1] > '9')
		return -EINVAL;
	memcpy(ip, s, (size_t)(dash - s));
	ip[dash - s] = '\0';
	l = strtol(dash + 1, &end, 10);
	if (*end != '\0' || l < 1 || l > 32 || fl_ip(ip, subnet) < 0 ||
	    (*subnet & ~fl_mask((uint8_t)l)) != 0)
		return -EINVAL;
	*len = (uint8_t)l;
	return 0;
}

static int
fl_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char extra;

	if (s == NULL || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
				&b[4], &b[5], &extra) != 6 || strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	/* A VTEP MAC is a unicast address, and not all zeros. */
	if ((mac[0] & 1) != 0 || (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) == 0)
		return -EINVAL;
	return 0;
}

int
fl_lease_parse(const char *text, size_t len, struct fl_lease *l, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *doc = json_loadb(text, len, 0, &jerr), *bd;
	const char *type, *ip;
	long long v;
	int rc = -EINVAL;

	l->public_ip = 0;
	l->vni = 0;
	memset(l->vtep_mac, 0, sizeof(l->vtep_mac));
	if (doc == NULL || !json_is_object(doc)) {
		snprintf(err, errlen, "not a JSON object");
		goto out;
	}
	ip = json_string_value(json_object_get(doc, "PublicIP"));
	if (fl_ip(ip, &l->public_ip) < 0 || l->public_ip == 0 || (l->public_ip >> 28) >= 14) {
		snprintf(err, errlen, "PublicIP: %s", ip != NULL ? "not a unicast IPv4 address" :
			 "missing");
		goto out;
	}
	type = json_string_value(json_object_get(doc, "BackendType"));
	if (type == NULL || strcmp(type, "vxlan") != 0) {
		snprintf(err, errlen, "BackendType \"%.32s\" is not vxlan", type != NULL ? type : "");
		goto out;
	}
	bd = json_object_get(doc, "BackendData");
	if (!json_is_object(bd) ||
	    fl_mac(json_string_value(json_object_get(bd, "VtepMAC")), l->vtep_mac) < 0) {
		snprintf(err, errlen, "BackendData.VtepMAC: missing or not a unicast MAC");
		goto out;
	}
	if (fl_int(bd, "VNI", 0, 0xFFFFFF, 0, &v, err, errlen) < 0)
		goto out;
	l->vni = (uint32_t)v;
	rc = 0;
out:
	json_decref(doc);
	return rc;
}

char *
fl_lease_encode(const struct fl_lease *l)
{
	char ip[16], mac[18];
	json_t *doc;
	char *s;

	fl_fmt(l->public_ip, ip, sizeof(ip));
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", l->vtep_mac[0],
		 l->vtep_mac[1], l->vtep_mac[2], l->vtep_mac[3], l->vtep_mac[4], l->vtep_mac[5]);
	doc = json_pack("{s:s, s:n, s:s, s:{s:I, s:s}}", "PublicIP", ip, "PublicIPv6",
			"BackendType", "vxlan", "BackendData", "VNI", (json_int_t)l->vni,
			"VtepMAC", mac);
	if (doc == NULL)
		return NULL;
	s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(doc);
	return s;
}

static int
fl_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int
fl_subnet_pick(const struct fl_config *c, const uint32_t *used, size_t n_used, uint32_t rnd,
	       uint32_t *out)
{
	uint32_t size = (uint32_t)1 << (32 - c->subnet_len), *sorted = NULL;
	uint64_t n_free = 0, want = 0, k = 0;

	if (n_used > 0) {
		sorted = malloc(n_used * sizeof(*sorted));
		if (sorted == NULL)
			return -ENOMEM;
		memcpy(sorted, used, n_used * sizeof(*sorted));
		qsort(sorted, n_used, sizeof(*sorted), fl_cmp_u32);
	}
	/* Two passes over min..max: count the free ones, then take the chosen one. */
	for (int pass = 0; pass < 2; pass++) {
		for (uint64_t s = c->subnet_min; s <= c->subnet_max; s += size) {
			uint32_t v = (uint32_t)s;

			if (sorted != NULL &&
			    bsearch(&v, sorted, n_used, sizeof(v), fl_cmp_u32) != NULL)
				continue;
			if (pass == 0) {
				n_free++;
			} else if (k++ == want) {
				*out = v;
				free(sorted);
				return 0;
			}
		}
		if (n_free == 0)
			break;
		want = rnd % n_free;
	}
	free(sorted);
	return -ENOSPC;
}
