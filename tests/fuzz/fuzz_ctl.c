/*
 * fuzz_ctl.c - libFuzzer target: the control protocol decoder.
 *
 * The narrowest entry that takes raw bytes is the server's client path itself
 * (framing in srv_read/srv_process, then srv_request: depth check, JSON parse,
 * version, command lookup, args), which is static in control/server.c; so the
 * target runs a real struct srv on a Unix socket in a temporary directory,
 * connects, sends the input as is, half-closes, and lets srv_run() handle it.
 * The command table holds dpnetd's command names with stand-in handlers that
 * validate their arguments the way the real ones do, with the same helpers
 * (ctl_args_allowed, ctl_arg_str, cfg_parse_*, pm_parse_publish/expose,
 * ipam_parse_mac) and echo them back, without touching a data plane.
 *
 * Checks besides memory safety: the server closes the connection within a
 * bounded number of rounds after the client's EOF (no hang), every response is
 * one line of JSON with a boolean "ok", and no more responses come than lines sent.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <jansson.h>

#include "control/config.h"
#include "control/ctl.h"
#include "control/ipam.h"
#include "control/portmap.h"
#include "control/server.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct srv *srv;
static char sock_path[108];
static char sock_dir[64];

static int
fz_fail(char *err, size_t errlen, const char *what, const char *key)
{
	snprintf(err, errlen, "%s: argument \"%s\": %s", what, key, "invalid");
	return -EINVAL;
}

/* Every string argument, checked by what its name says it is. */
static int
fz_check_args(json_t *args, const char *cmd, char *err, size_t errlen)
{
	static const char *const allowed[] = {
		"name", "network", "driver", "subnet", "gateway", "internal", "ip", "mac",
		"publish", "expose", "publish_all", "cmd", "detach", "attach", "pid", "force",
		"type", "iface", "devargs", "role", "address", "to", "via", "blackhole",
		"port", "netns", NULL,
	};
	char buf[256];
	uint32_t a;
	uint8_t len, mac[6];
	json_t *v;
	size_t i;
	int rc;

	rc = ctl_args_allowed(args, cmd, allowed, err, errlen);
	if (rc < 0)
		return rc;
	static const char *const strs[] = {
		"name", "network", "driver", "subnet", "gateway", "ip", "mac", "type", "iface",
		"devargs", "role", "address", "to", "via", "netns", "attach",
	};
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		const char *k = strs[i];

		rc = ctl_arg_str(args, k, false, buf, sizeof(buf), err, errlen);
		if (rc < 0)
			return rc;
		if (buf[0] == '\0')
			continue;
		if ((!strcmp(k, "name") || !strcmp(k, "network")) && !cfg_name_valid(buf, 64))
			return fz_fail(err, errlen, cmd, k);
		if (!strcmp(k, "subnet") && cfg_parse_cidr(buf, &a, &len) < 0)
			return fz_fail(err, errlen, cmd, k);
		if ((!strcmp(k, "gateway") || !strcmp(k, "ip") || !strcmp(k, "via")) &&
		    cfg_parse_ip(buf, &a) < 0)
			return fz_fail(err, errlen, cmd, k);
		if (!strcmp(k, "mac") && ipam_parse_mac(buf, mac) < 0)
			return fz_fail(err, errlen, cmd, k);
		if (!strcmp(k, "type") && cfg_port_type_index(buf) < 0)
			return fz_fail(err, errlen, cmd, k);
		if (!strcmp(k, "role") && cfg_port_role_index(buf) < 0)
			return fz_fail(err, errlen, cmd, k);
		if (!strcmp(k, "address") &&
		    cfg_parse_host_cidr(buf, &a, &len, err, errlen) < 0)
			return -EINVAL;
		if (!strcmp(k, "to") && cfg_parse_route_dst(buf, &a, &len, err, errlen) < 0)
			return -EINVAL;
	}
	v = json_object_get(args, "publish");
	if (v != NULL && !json_is_array(v))
		return fz_fail(err, errlen, cmd, "publish");
	if (v != NULL) {
		struct pm_map maps[16];
		unsigned int n = 0;
		json_t *e;

		json_array_foreach(v, i, e) {
			if (!json_is_string(e))
				return fz_fail(err, errlen, cmd, "publish");
			rc = pm_parse_publish(json_string_value(e), maps, &n, 16, 32768, 60999,
					      err, errlen);
			if (rc < 0)
				return rc;
		}
	}
	v = json_object_get(args, "expose");
	if (v != NULL && !json_is_array(v))
		return fz_fail(err, errlen, cmd, "expose");
	if (v != NULL) {
		struct pm_expose exps[16];
		unsigned int n = 0;
		json_t *e;

		json_array_foreach(v, i, e) {
			if (!json_is_string(e))
				return fz_fail(err, errlen, cmd, "expose");
			rc = pm_parse_expose(json_string_value(e), exps, &n, 16, err, errlen);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

static int
fz_handler(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	int rc;

	(void)c;
	rc = fz_check_args(args, "cmd", err, errlen);
	if (rc < 0)
		return rc;
	*result = json_deep_copy(args);
	return 0;
}

static const struct srv_cmd fz_cmds[] = {
	{ "status", fz_handler }, { "port.add", fz_handler }, { "port.del", fz_handler },
	{ "port.ls", fz_handler }, { "port.stats", fz_handler }, { "mac.ls", fz_handler },
	{ "mac.add", fz_handler }, { "mac.rm", fz_handler }, { "network.ls", fz_handler },
	{ "network.create", fz_handler }, { "network.inspect", fz_handler },
	{ "network.rm", fz_handler }, { "container.run", fz_handler },
	{ "container.connect", fz_handler }, { "container.disconnect", fz_handler },
	{ "container.ps", fz_handler }, { "container.port", fz_handler },
	{ "container.rm", fz_handler }, { "nat.ls", fz_handler }, { "conntrack.ls", fz_handler },
	{ "conntrack.stats", fz_handler }, { "conntrack.flush", fz_handler },
	{ "route.add", fz_handler }, { "route.rm", fz_handler }, { "route.ls", fz_handler },
	{ "neigh.ls", fz_handler }, { "stats", fz_handler },
	{ NULL, NULL },
};

static void
fz_cleanup(void)
{
	if (srv != NULL)
		srv_destroy(srv);
	srv = NULL;
	rmdir(sock_dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc;
	(void)argv;
	snprintf(sock_dir, sizeof(sock_dir), "/tmp/dpnet-fuzz-ctl.XXXXXX");
	if (mkdtemp(sock_dir) == NULL) {
		perror("mkdtemp");
		abort();
	}
	snprintf(sock_path, sizeof(sock_path), "%s/s", sock_dir);
	srv = srv_create(sock_path, fz_cmds, NULL, NULL, err, sizeof(err));
	if (srv == NULL) {
		fprintf(stderr, "srv_create: %s\n", err);
		abort();
	}
	atexit(fz_cleanup);
	return 0;
}

/* Check the response lines in buf[0..len) that are complete; returns how many. */
static unsigned int
fz_check_responses(const char *buf, size_t len)
{
	unsigned int n = 0;
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		json_error_t jerr;
		json_t *r;

		if (buf[i] != '\n')
			continue;
		r = json_loadb(buf + start, i - start, 0, &jerr);
		if (r == NULL || !json_is_boolean(json_object_get(r, "ok"))) {
			fprintf(stderr, "fuzz_ctl: bad response line: %.*s\n", (int)(i - start),
				buf + start);
			abort();
		}
		json_decref(r);
		n++;
		start = i + 1;
	}
	if (start != len) {
		fprintf(stderr, "fuzz_ctl: response not ended by a newline\n");
		abort();
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static char out[1 << 20];
	size_t sent = 0, got = 0;
	unsigned int lines = 1, idle = 0;
	bool shut = false;
	int fd;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("fuzz_ctl: connect");
		abort();
	}
	for (;;) {
		ssize_t n;
		bool progress = false;

		if (sent < size) {
			n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
			if (n > 0) {
				sent += (size_t)n;
				progress = true;
			} else if (n < 0 && errno == EPIPE) {
				sent = size;   /* the server closed on a protocol error */
			}
		}
		if (sent == size && !shut) {
			shutdown(fd, SHUT_WR);
			shut = true;
		}
		srv_run(srv);
		n = recv(fd, out + got, sizeof(out) - got, 0);
		if (n > 0) {
			got += (size_t)n;
			progress = true;
			if (got == sizeof(out))
				got = 0;   /* a flood of answers: keep reading, check none */
		} else if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
			break;         /* the server closed the connection */
		}
		if (progress)
			idle = 0;
		else if (++idle > 10000) {
			fprintf(stderr, "fuzz_ctl: the server neither answers nor closes\n");
			abort();
		}
	}
	close(fd);
	if (got > 0 && fz_check_responses(out, got) > lines) {
		fprintf(stderr, "fuzz_ctl: more responses than request lines\n");
		abort();
	}
	srv_run(srv);
	if (srv_clients(srv) != 0) {
		fprintf(stderr, "fuzz_ctl: a client is left open\n");
		abort();
	}
	return 0;
}
