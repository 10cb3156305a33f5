/*
 * status.c - the status command: what this daemon is and how it runs.
 *
 * Version, uptime, workers and their lcores, poll mode, whether EAL got
 * hugepages, and the uplink: its port and the IPv4 address where published
 * ports answer (dpnet's own address on the uplink network, uplink.h; "none"
 * when the uplink has no address: published ports then answer only on the
 * networks' gateway addresses, from the containers).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dataplane/dp.h"
#include "drivers/port.h"
#include "proto.h"
#include "container.h"
#include "ctl.h"
#include "util.h"
#include "state.h"
#include "uplink.h"

/*
 * How idle workers wait: timer sleeps when poll.interrupts is off, else
 * "interrupt wake on N/M queues, K/W workers block" from the current view: a
 * worker blocks on interrupts only when all its queues have a wake fd
 * (dataplane/worker.c), the others sleep on the timer. K is what the workers
 * last built their wait for (they catch up with a new view when idle).
 */
static void
status_wake(const struct ctl *c, char *buf, size_t len)
{
	const struct dp_view *v = dp_view_get(c->dp);
	unsigned int nq = 0, nw = 0, blocking = 0;

	if (c->dp->poll.busy) {
		snprintf(buf, len, "none (busy)");
		return;
	}
	for (uint16_t w = 0; w < c->dp->n_workers; w++) {
		for (uint16_t q = 0; q < v->n_rxq[w]; q++)
			nw += v->rxq[w][q].wake_fd >= 0;
		nq += v->n_rxq[w];
		blocking += __atomic_load_n(&c->dp->workers[w]->intr_active, __ATOMIC_RELAXED);
	}
	if (!c->dp->poll.intr)
		snprintf(buf, len, "timer sleeps: poll.interrupts off");
	else
		snprintf(buf, len, "interrupt wake on %u/%u queues, %u/%u workers block", nw, nq,
			 blocking, c->dp->n_workers);
}

int
ctl_status(struct ctl *c, json_t *args, json_t **result, char *err, size_t errlen)
{
	static const char *const allowed[] = { NULL };
	struct port *ports[RTE_MAX_ETHPORTS];
	json_t *res, *lcores, *uplink = NULL;
	char wake[96];
	unsigned int n;
	int rc;

	rc = ctl_args_allowed(args, "status", allowed, err, errlen);
	if (rc < 0)
		return rc;
	n = port_list(ports, RTE_MAX_ETHPORTS);
	for (unsigned int i = 0; i < n && uplink == NULL; i++) {
		struct port *p = ports[i];

		if (p->spec.role != PORT_ROLE_UPLINK)
			continue;
		/* uplink_status adds the address: dpnet's own on the uplink network. */
		uplink = json_pack("{s:s, s:s, s:s, s:s}", "name", p->spec.name,
				   "type", port_type_name(p->spec.type), "iface", p->spec.iface,
				   "address", "none");
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
	status_wake(c, wake, sizeof(wake));
	json_object_set_new(res, "poll_wake", json_string(wake));
	json_object_set_new(res, "attach_default", json_string(ctr_attach_default_name()));
	json_object_set_new(res, "eal_args", json_string(c->eal_line));
	json_object_set_new(res, "state_file", json_string(state_path()));
	json_object_set_new(res, "state_error", json_string(state_last_error()));
	*result = res;
	return 0;
}
