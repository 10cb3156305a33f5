/*
 * status.c - the status command: what this daemon is and how it runs.
 *
 * Version, uptime, workers and their lcores, poll mode, whether EAL got
 * hugepages, and the uplink: its port and the IPv4 address where published
 * ports answer (the address of the uplink's host interface when it has one,
 * else none).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dataplane/dp.h"
#include "drivers/port.h"
#include "proto.h"
#include "ctl.h"
#include "util.h"
#include "state.h"
#include "uplink.h"

/* First IPv4 address of a host interface, or "" when it has none. */
static void
status_iface_addr(const char *iface, char *buf, size_t len)
{
	struct ifaddrs *ifa, *i;

	buf[0] = '\0';
	if (iface[0] == '\0' || getifaddrs(&ifa) < 0)
		return;
	for (i = ifa; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET ||
		    strcmp(i->ifa_name, iface) != 0)
			continue;
		inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, buf,
			  (socklen_t)len);
		break;
	}
	freeifaddrs(ifa);
}

int
ctl_status(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	static const char *const allowed[] = { NULL };
	struct port *ports[RTE_MAX_ETHPORTS];
	json_t *res, *lcores, *uplink = NULL;
	unsigned int n;
	int rc;

	rc = ctl_args_allowed(args, "status", allowed, err, errlen);
	if (rc < 0)
		return rc;
	n = port_list(ports, RTE_MAX_ETHPORTS);
	for (unsigned int i = 0; i < n && uplink == NULL; i++) {
		struct port *p = ports[i];
		char addr[INET_ADDRSTRLEN];

		if (p->spec.role != PORT_ROLE_UPLINK)
			continue;
		if (p->spec.type == PORT_TAP || p->spec.type == PORT_AFPACKET)
			status_iface_addr(p->spec.iface, addr, sizeof(addr));
		else
			addr[0] = '\0';
		uplink = json_pack("{s:s, s:s, s:s, s:s}", "name", p->spec.name,
				   "type", port_type_name(p->spec.type), "iface", p->spec.iface,
				   "address", addr[0] != '\0' ? addr : "none");
		if (uplink != NULL)
			uplink_status(c, uplink);
	}
	lcores = json_array();
	for (unsigned int i = 0; lcores != NULL && i < c->n_workers; i++)
		json_array_append_new(lcores, json_integer(c->lcores[i]));
	res = json_pack("{s:s, s:i, s:i, s:I, s:I, s:i, s:o, s:s, s:b, s:o,"
			" s:i, s:s, s:s, s:s, s:s, s:i}",
			"version", DPNET_VERSION, "protocol", PROTO_VERSION, "pid", (int)getpid(),
			"uptime_s", (json_int_t)((ctl_mono_ms() - c->start_ms) / 1000),
			"started", (json_int_t)c->start_wall_s,
			"workers", c->n_workers, "lcores", lcores != NULL ? lcores : json_null(),
			"poll_mode", c->dp->poll.busy ? "busy" : "adaptive",
			"hugepages", c->hugepages,
			"uplink", uplink != NULL ? uplink : json_null(),
			"ports", (int)n, "socket", c->socket_path, "state_dir", c->state_dir,
			"file_prefix", c->file_prefix,
			"config", c->cfg->path[0] != '\0' ? c->cfg->path : "built-in",
			"clients", (int)srv_clients(c->srv));
	if (res == NULL)
		return -ENOMEM;
	json_object_set_new(res, "eal_args", json_string(c->eal_line));
	json_object_set_new(res, "state_file", json_string(state_path()));
	json_object_set_new(res, "state_error", json_string(state_last_error()));
	*result = res;
	return 0;
}
