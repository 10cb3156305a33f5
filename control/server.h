/*
 * server.h - the control socket: a Unix stream socket speaking JSON lines.
 *
 * srv_create() binds the socket (mode 0660, parent directory created; a stale
 * socket is removed only if nothing answers on it, and the call fails with
 * -EADDRINUSE when another daemon does). The server has its own epoll set;
 * srv_fd() returns that epoll descriptor so the daemon's main loop can wait on
 * it together with its signals, and calls srv_run() when it is readable and
 * srv_tick() now and then to drop stalled clients.
 *
 * Framing and protocol are those of proto.h: one JSON object per line, versioned
 * by "v". Each request is looked up in the command table given at creation and
 * its handler runs to completion on the control thread; handlers must not block
 * for long. Clients are non-blocking: one that sends half a request or does not
 * read its responses never holds up the others, and is dropped after
 * SRV_IDLE_MS with a partial request or unread output.
 *
 * Who may connect: the socket file is 0660, owned by the daemon's user and
 * group (root:root), or by the group srv_set_group() gives. On top of the
 * file's mode every client's credentials are checked as it is accepted
 * (SO_PEERCRED, SO_PEERGROUPS): uid 0, the daemon's own uid, or the socket's
 * group as primary or supplementary group, exactly whom the mode lets in (and
 * no one who merely has CAP_DAC_OVERRIDE); anyone else gets one error line and
 * is closed.
 *
 * Thread safety: control thread only.
 */
#ifndef DPNET_SERVER_H
#define DPNET_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#define SRV_IDLE_MS 10000         /* drop a client whose request (or whose reading of
                                   * a response) takes longer than this, however
                                   * slowly it keeps going (slowloris) */
#define SRV_MAX_CLIENTS 512       /* connections served at once */

struct ctl;
struct srv;

/*
 * A command handler. args is the request's "args" object (never NULL: {} when
 * absent). On success returns 0 and may set *result (a new reference; null when
 * left NULL). On failure returns -errno with a message in err.
 */
typedef int (*srv_handler_t)(struct ctl *c, json_t *args, json_t **result, char *err,
			     size_t errlen);

/* Told about every refused request (cmd is "" when it had none): for the log. */
typedef void (*srv_log_t)(const char *cmd, int err, const char *msg);

struct srv_cmd {
	const char *name;          /* "port.add" */
	srv_handler_t handler;     /* what runs it */
};

/*
 * Bind and listen. cmds is terminated by a NULL name; log may be NULL.
 * Returns NULL + errno with the message in err.
 */
struct srv *srv_create(const char *path, const struct srv_cmd *cmds, struct ctl *c,
		       srv_log_t log, char *err, size_t errlen);
/*
 * Let members of group gid (called name in messages) use the socket: chown it
 * to the group, mode 0660. Returns 0 or -errno with the message in err.
 */
int srv_set_group(struct srv *s, gid_t gid, const char *name, char *err, size_t errlen);
/* Close every client, close and unlink the socket. */
void srv_destroy(struct srv *s);
/* The epoll descriptor to wait on (readable when something is to be done). */
int srv_fd(const struct srv *s);
/* Handle whatever is ready, without blocking. */
void srv_run(struct srv *s);
/* Drop clients stalled for more than SRV_IDLE_MS; now_ms is CLOCK_MONOTONIC. */
void srv_tick(struct srv *s, uint64_t now_ms);
/* Connected clients (for tests and status). */
unsigned int srv_clients(const struct srv *s);

/*
 * Probe a socket path: 1 if a daemon answers, 0 if nothing is there (or a stale
 * socket that refuses connections), -errno on other errors.
 */
int srv_probe(const char *path);

/* The pid of the client whose request a handler is serving (SO_PEERCRED), or 0. */
pid_t srv_request_peer_pid(void);

/* Nesting depth of a JSON text (brackets outside strings); stops counting at limit+1. */
int srv_json_depth(const char *text, size_t len, int limit);

#endif /* DPNET_SERVER_H */
