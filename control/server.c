/*
 * server.c - control socket, JSON-lines framing, versioned dispatch.
 *
 * Each client has an input buffer (at most PROTO_MAX_REQUEST bytes plus the
 * newline) and an output buffer. Requests on one connection are answered in
 * order, one at a time: while a response is still being written, the server
 * stops reading from that client (its kernel buffer then fills and the client
 * blocks, not us). A client that half-closes its side still gets its answers.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"
#include "ctl.h"
#include "server.h"
#include "util.h"
#include "state.h"

#define SRV_IDLE_QUIET_MS 60000   /* drop a client that sent nothing for this long */
#define SRV_READ_CHUNK 4096       /* input buffer growth step */

struct srv_client {
	int fd;                 /* connected socket, non-blocking */
	char *in;               /* received bytes not yet handled */
	size_t in_len;          /* bytes in in */
	size_t in_cap;          /* allocated size of in */
	char *out;              /* response bytes not yet sent */
	size_t out_len;         /* bytes in out */
	size_t out_off;         /* bytes of out already sent */
	uint64_t last_ms;       /* last time the client made progress */
	uint64_t req_ms;        /* when the request in in began to arrive */
	uint64_t out_ms;        /* when the oldest unsent response in out was queued,
	                         * or became the oldest (pipelined requests) */
	size_t out_mark;        /* where in out that response ends */
	uint32_t events;        /* epoll events currently registered */
	bool eof;               /* the peer closed its sending side */
	bool closing;           /* close once out is flushed (protocol error) */
	unsigned int slot;      /* index in srv.clients */
	struct srv *srv;        /* the server it belongs to */
	char cmd[32];           /* command of the request being handled, for the log */
	pid_t peer_pid;         /* the client process (SO_PEERCRED at accept), 0 if unknown */
};

/* The client of the request being handled (control thread, during a handler). */
static pid_t srv_peer;

pid_t
srv_request_peer_pid(void)
{
	return srv_peer;
}

struct srv {
	int lfd;                                   /* listening socket */
	int epfd;                                  /* epoll set of lfd and clients */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* socket path */
	dev_t dev;                                 /* identity of the socket file we */
	ino_t ino;                                 /* created, to unlink only ours */
	const struct srv_cmd *cmds;                /* command table */
	struct ctl *ctx;                           /* handed to handlers */
	srv_log_t log;                             /* refused requests go here */
	struct srv_client *clients[SRV_MAX_CLIENTS]; /* connected clients */
	unsigned int n_clients;                    /* non-NULL entries in clients */
	gid_t gid;                                 /* the socket's group: may connect */
	char group[64];                            /* its name, for messages */
	bool accept_paused;                        /* lfd left epoll: out of descriptors */
};

int
srv_json_depth(const char *text, size_t len, int limit)
{
	bool in_str = false, esc = false;
	int depth = 0, max = 0;

	for (size_t i = 0; i < len; i++) {
		char ch = text[i];

		if (in_str) {
			if (esc)
				esc = false;
			else if (ch == '\\')
				esc = true;
			else if (ch == '"')
				in_str = false;
			continue;
		}
		if (ch == '"') {
			in_str = true;
		} else if (ch == '{' || ch == '[') {
			if (++depth > max) {
				max = depth;
				if (max > limit)
					return max;
			}
		} else if (ch == '}' || ch == ']') {
			if (depth > 0)
				depth--;
		}
	}
	return max;
}

int
srv_probe(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (rc == 0 || errno == EAGAIN || errno == EINPROGRESS)
		rc = 1; /* someone listens (EAGAIN: its backlog is full, still alive) */
	else if (errno == ECONNREFUSED || errno == ENOENT)
		rc = 0;
	else
		rc = -errno;
	close(fd);
	return rc;
}

/*
 * Every client holds a descriptor: raise the soft RLIMIT_NOFILE (1024 in a
 * login shell) so that SRV_MAX_CLIENTS of them fit beside EAL's and the
 * ports', as far as the hard limit allows.
 */
static void
srv_raise_nofile(void)
{
	struct rlimit rl;
	rlim_t want = SRV_MAX_CLIENTS + 1024;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
}

int
srv_set_group(struct srv *s, gid_t gid, const char *name, char *err, size_t errlen)
{
	struct stat st;

	/* Only the socket we bound: never through a symlink someone put in its
	 * place (fchownat/fchmodat with AT_SYMLINK_NOFOLLOW, after checking it is
	 * still the same inode). */
	if (lstat(s->path, &st) < 0 || !S_ISSOCK(st.st_mode) || st.st_dev != s->dev ||
	    st.st_ino != s->ino) {
		snprintf(err, errlen, "%s is not the socket dpnetd bound any more: something "
			 "replaced it; restart dpnetd", s->path);
		return -EEXIST;
	}
	if (fchownat(AT_FDCWD, s->path, (uid_t)-1, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fchmodat(AT_FDCWD, s->path, 0660, AT_SYMLINK_NOFOLLOW) < 0) {
		int rc = -errno;

		snprintf(err, errlen, "cannot give %s to group %s: %s", s->path, name,
			 strerror(errno));
		return rc;
	}
	s->gid = gid;
	snprintf(s->group, sizeof(s->group), "%s", name);
	return 0;
}

/* mkdir -p of the directory holding path. */
static int
srv_mkdirs(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	/* The socket's directory, not the socket itself. */
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	return ctl_mkdirs(dir, 0755);
}

struct srv *
srv_create(const char *path, const struct srv_cmd *cmds, struct ctl *c, srv_log_t log,
	   char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	struct group *gr;
	struct stat st;
	struct srv *s;
	mode_t old_mask;
	int rc;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path \"%s\" is too long: at most %zu characters",
			 path, sizeof(sa.sun_path) - 1);
		errno = ENAMETOOLONG;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->lfd = s->epfd = -1;
	s->cmds = cmds;
	s->ctx = c;
	s->log = log;
	snprintf(s->path, sizeof(s->path), "%s", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);

	rc = srv_mkdirs(s->path);
	if (rc < 0) {
		snprintf(err, errlen, "cannot create the directory of %s: %s", s->path,
			 strerror(-rc));
		goto fail;
	}
	rc = srv_probe(s->path);
	if (rc == 1) {
		rc = -EADDRINUSE;
		snprintf(err, errlen, "another dpnetd is already serving %s: stop it first or "
			 "pick another --socket", s->path);
		goto fail;
	}
	if (rc < 0) {
		snprintf(err, errlen, "cannot probe %s: %s", s->path, strerror(-rc));
		goto fail;
	}
	if (lstat(s->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			rc = -EEXIST;
			snprintf(err, errlen, "%s exists and is not a socket: remove it or pick "
				 "another --socket", s->path);
			goto fail;
		}
		if (unlink(s->path) < 0 && errno != ENOENT) {
			rc = -errno;
			snprintf(err, errlen, "cannot remove the stale socket %s: %s", s->path,
				 strerror(errno));
			goto fail;
		}
	}
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->lfd < 0) {
		rc = -errno;
		snprintf(err, errlen, "socket: %s", strerror(errno));
		goto fail;
	}
	/* Created 0660 from the start: no window where others could connect. */
	old_mask = umask(0117);
	rc = bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_mask);
	if (rc < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot bind %s: %s", s->path, strerror(errno));
		goto fail;
	}
	if (fchmodat(AT_FDCWD, s->path, 0660, AT_SYMLINK_NOFOLLOW) < 0 ||
	    lstat(s->path, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot set the mode of %s: %s", s->path, strerror(errno));
		unlink(s->path);
		goto fail;
	}
	if (!S_ISSOCK(st.st_mode)) {
		/* Replaced between bind and here: not ours to touch. */
		rc = -EEXIST;
		snprintf(err, errlen, "%s was replaced while dpnetd bound it: remove it and "
			 "start again", s->path);
		goto fail;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	/* The socket's group (ours, root's when run as root) until srv_set_group. */
	s->gid = st.st_gid;
	gr = getgrgid(st.st_gid);
	if (gr != NULL)
		snprintf(s->group, sizeof(s->group), "%s", gr->gr_name);
	else
		snprintf(s->group, sizeof(s->group), "%u", (unsigned int)st.st_gid);
	if (listen(s->lfd, SRV_MAX_CLIENTS) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot listen on %s: %s", s->path, strerror(errno));
		unlink(s->path);
		goto fail;
	}
	srv_raise_nofile();
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0 || epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->lfd, &ev) < 0) {
		rc = -errno;
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		unlink(s->path);
		goto fail;
	}
	return s;
fail:
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->lfd >= 0)
		close(s->lfd);
	free(s);
	errno = -rc;
	return NULL;
}

int
srv_fd(const struct srv *s)
{
	return s->epfd;
}

unsigned int
srv_clients(const struct srv *s)
{
	return s->n_clients;
}

static void
srv_client_close(struct srv *s, struct srv_client *cl)
{
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, cl->fd, NULL);
	close(cl->fd);
	s->clients[cl->slot] = NULL;
	s->n_clients--;
	free(cl->in);
	free(cl->out);
	free(cl);
}

/* Register the events the client's state calls for. */
static void
srv_client_update(struct srv *s, struct srv_client *cl)
{
	bool pending = cl->out_off < cl->out_len;
	uint32_t want = 0;
	struct epoll_event ev;

	if (pending)
		want |= EPOLLOUT;
	else if (!cl->eof && !cl->closing)
		want |= EPOLLIN;
	if (want == cl->events)
		return;
	ev.events = want;
	ev.data.ptr = cl;
	epoll_ctl(s->epfd, EPOLL_CTL_MOD, cl->fd, &ev);
	cl->events = want;
}

static void
srv_append(struct srv_client *cl, json_t *resp)
{
	char *text = json_dumps(resp, JSON_COMPACT | JSON_REAL_PRECISION(12));
	size_t len;
	char *out;

	if (text == NULL) {
		cl->closing = true;
		return;
	}
	len = strlen(text);
	if (cl->out_off == cl->out_len) {
		cl->out_off = cl->out_len = 0;
		cl->out_ms = ctl_mono_ms();
		cl->out_mark = len + 1;
	}
	out = realloc(cl->out, cl->out_len + len + 1);
	if (out == NULL) {
		free(text);
		cl->closing = true;
		return;
	}
	cl->out = out;
	memcpy(cl->out + cl->out_len, text, len);
	cl->out[cl->out_len + len] = '\n';
	cl->out_len += len + 1;
	free(text);
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if invalid:
 * no overlong forms, no surrogates, nothing past U+10FFFF (RFC 3629). */
static size_t
srv_utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/*
 * msg as valid UTF-8 (malloc'd; NULL without memory): every byte that does not
 * start a valid sequence becomes U+FFFD. A handler's message may quote what it
 * got from the system (an interface name, a file's line) or be cut inside a
 * character by snprintf, and jansson refuses strings that are not UTF-8: the
 * client must still get its one-line error.
 */
static char *
srv_utf8_clean(const char *msg)
{
	const unsigned char *p = (const unsigned char *)msg;
	size_t n = strlen(msg), o = 0;
	char *out = malloc(3 * n + 1);

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t len = srv_utf8_seq(p + i, n - i);

		if (len == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(out + o, p + i, len);
		o += len;
		i += len;
	}
	out[o] = '\0';
	return out;
}

static void
srv_reply_error(struct srv_client *cl, int err, const char *msg)
{
	char *clean = srv_utf8_clean(msg);

	if (cl->srv->log != NULL)
		cl->srv->log(cl->cmd, err, clean != NULL ? clean : msg);
	json_t *resp = json_pack("{s:b, s:i, s:s}", "ok", 0, "errno", err, "error",
				 clean != NULL ? clean : "out of memory while building the error");

	free(clean);

	if (resp == NULL) {
		cl->closing = true;
		return;
	}
	srv_append(cl, resp);
	json_decref(resp);
}

static void
srv_reply_ok(struct srv_client *cl, json_t *result)
{
	json_t *resp = json_pack("{s:b, s:o}", "ok", 1, "result",
				 result != NULL ? result : json_null());

	if (resp == NULL) {
		srv_reply_error(cl, ENOMEM, "out of memory while building the response");
		return;
	}
	srv_append(cl, resp);
	json_decref(resp);
}

static void
srv_unknown_cmd(struct srv *s, struct srv_client *cl, const char *cmd)
{
	char msg[1024];
	size_t off;

	off = (size_t)snprintf(msg, sizeof(msg), "unknown command \"%.64s\": this dpnetd (%s) "
			       "knows hello", cmd, DPNET_VERSION);
	for (const struct srv_cmd *c = s->cmds; c->name != NULL && off < sizeof(msg); c++)
		off += (size_t)snprintf(msg + off, sizeof(msg) - off, ", %s", c->name);
	srv_reply_error(cl, EOPNOTSUPP, msg);
}

/* One complete request line (without its newline). */
static void
srv_request(struct srv *s, struct srv_client *cl, const char *line, size_t len)
{
	char err[1024] = "";
	json_error_t jerr;
	json_t *req, *v, *cmd, *args, *result = NULL;
	const struct srv_cmd *c;
	const char *name;
	int rc;

	cl->cmd[0] = '\0';
	if (srv_json_depth(line, len, PROTO_MAX_DEPTH) > PROTO_MAX_DEPTH) {
		snprintf(err, sizeof(err), "request nested deeper than %d levels",
			 PROTO_MAX_DEPTH);
		srv_reply_error(cl, EINVAL, err);
		cl->closing = true;
		return;
	}
	req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (req == NULL) {
		snprintf(err, sizeof(err), "request is not valid JSON: %s (at byte %d)",
			 jerr.text, jerr.position);
		srv_reply_error(cl, EINVAL, err);
		cl->closing = true;
		return;
	}
	if (!json_is_object(req)) {
		srv_reply_error(cl, EINVAL, "request must be a JSON object: "
				"{\"v\":1,\"cmd\":\"...\",\"args\":{...}}");
		cl->closing = true;
		goto out;
	}
	v = json_object_get(req, "v");
	if (v == NULL) {
		srv_reply_error(cl, EPROTO, "request has no protocol version: add \"v\":1");
		goto out;
	}
	if (!json_is_integer(v) || json_integer_value(v) != PROTO_VERSION) {
		char *vs = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

		snprintf(err, sizeof(err), "protocol version %.32s is not supported: this "
			 "dpnetd (%s) speaks version %d", vs != NULL ? vs : "?", DPNET_VERSION,
			 PROTO_VERSION);
		free(vs);
		srv_reply_error(cl, EPROTONOSUPPORT, err);
		goto out;
	}
	cmd = json_object_get(req, "cmd");
	if (!json_is_string(cmd)) {
		srv_reply_error(cl, EINVAL, "request has no \"cmd\" string");
		goto out;
	}
	name = json_string_value(cmd);
	snprintf(cl->cmd, sizeof(cl->cmd), "%s", name);
	args = json_object_get(req, "args");
	if (args != NULL && !json_is_object(args) && !json_is_null(args)) {
		srv_reply_error(cl, EINVAL, "\"args\" must be a JSON object");
		goto out;
	}
	if (strcmp(name, "hello") == 0) {
		result = json_pack("{s:i, s:s}", "version", PROTO_VERSION, "daemon",
				   DPNET_VERSION);
		srv_reply_ok(cl, result);
		goto out;
	}
	for (c = s->cmds; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			break;
	if (c->name == NULL) {
		srv_unknown_cmd(s, cl, name);
		goto out;
	}
	if (args == NULL || json_is_null(args)) {
		args = json_object();
		json_object_set_new(req, "args", args);
	}
	srv_peer = cl->peer_pid;
	rc = c->handler(s->ctx, args, &result, err, sizeof(err));
	srv_peer = 0;
	if (rc < 0) {
		if (err[0] == '\0')
			snprintf(err, sizeof(err), "%s: %s", name, strerror(-rc));
		json_decref(result);
		srv_reply_error(cl, -rc, err);
	} else {
		srv_reply_ok(cl, result);
	}
out:
	json_decref(req);
}

static bool
srv_blank(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	return true;
}

/* Handle complete lines while no response is pending. */
static void
srv_process(struct srv *s, struct srv_client *cl)
{
	while (!cl->closing && cl->out_off == cl->out_len && cl->in_len > 0) {
		char *nl = memchr(cl->in, '\n', cl->in_len);
		size_t len, used;

		if (nl == NULL) {
			if (cl->in_len > PROTO_MAX_REQUEST) {
				char err[128];

				snprintf(err, sizeof(err), "request longer than %d bytes",
					 PROTO_MAX_REQUEST);
				srv_reply_error(cl, EMSGSIZE, err);
				cl->closing = true;
				return;
			}
			if (!cl->eof)
				return;
			len = used = cl->in_len; /* last request without a newline */
		} else {
			len = (size_t)(nl - cl->in);
			used = len + 1;
		}
		if (len > PROTO_MAX_REQUEST) {
			char err[128];

			snprintf(err, sizeof(err), "request longer than %d bytes",
				 PROTO_MAX_REQUEST);
			srv_reply_error(cl, EMSGSIZE, err);
			cl->closing = true;
			return;
		}
		if (len > 0 && cl->in[len - 1] == '\r')
			len--;
		/* A blank line is no request; skip it. */
		if (!srv_blank(cl->in, len))
			srv_request(s, cl, cl->in, len);
		memmove(cl->in, cl->in + used, cl->in_len - used);
		cl->in_len -= used;
		cl->req_ms = ctl_mono_ms(); /* the next request's time starts now */
	}
}

/* Write what we can. Returns -1 when the client is gone. */
static int
srv_flush(struct srv_client *cl, uint64_t now)
{
	while (cl->out_off < cl->out_len) {
		ssize_t n = send(cl->fd, cl->out + cl->out_off, cl->out_len - cl->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			cl->out_off += (size_t)n;
			cl->last_ms = now;
			/* The oldest response was read whole: the next one's time starts
			 * (a pipelining client reading steadily is never cut off; one that
			 * takes longer than SRV_IDLE_MS over any response is). */
			if (cl->out_off >= cl->out_mark) {
				cl->out_ms = now;
				cl->out_mark = cl->out_len;
			}
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return 0;
		} else {
			return -1;
		}
	}
	cl->out_off = cl->out_len = 0;
	return 0;
}

/* Read what is there. Returns -1 on a hard error. */
static int
srv_read(struct srv_client *cl, uint64_t now)
{
	for (;;) {
		ssize_t n;

		if (cl->in_cap - cl->in_len < SRV_READ_CHUNK / 2 &&
		    cl->in_cap < PROTO_MAX_REQUEST + 2) {
			size_t cap = cl->in_cap + SRV_READ_CHUNK * 4;
			char *in;

			if (cap > PROTO_MAX_REQUEST + 2)
				cap = PROTO_MAX_REQUEST + 2;
			in = realloc(cl->in, cap);
			if (in == NULL)
				return -1;
			cl->in = in;
			cl->in_cap = cap;
		}
		if (cl->in_len == cl->in_cap)
			return 0; /* full: srv_process refuses the over-long request */
		n = recv(cl->fd, cl->in + cl->in_len, cl->in_cap - cl->in_len, MSG_DONTWAIT);
		if (n > 0) {
			if (cl->in_len == 0)
				cl->req_ms = now;
			cl->in_len += (size_t)n;
			cl->last_ms = now;
			if (memchr(cl->in + cl->in_len - n, '\n', (size_t)n) != NULL)
				return 0; /* a request is complete: handle it first */
		} else if (n == 0) {
			cl->eof = true;
			return 0;
		} else if (errno == EINTR) {
			continue;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return 0;
		} else {
			return -1;
		}
	}
}

/* May this peer use the socket? uid 0, our own uid, or the group (primary or
 * supplementary, as they were when it connected: SO_PEERGROUPS). */
/* The kernel's overflow id (/proc/sys/kernel/overflow{uid,gid}): what a peer
 * whose id has no mapping in our user namespace shows. Never a credential. */
static unsigned long
srv_overflow_id(const char *file)
{
	unsigned long id = 65534;
	FILE *f = fopen(file, "re");

	if (f != NULL) {
		if (fscanf(f, "%lu", &id) != 1)
			id = 65534;
		fclose(f);
	}
	return id;
}

static bool
srv_peer_allowed(const struct srv *s, int fd, const struct ucred *cred)
{
	static unsigned long ovf_uid = ULONG_MAX, ovf_gid = ULONG_MAX;
	gid_t stack_groups[256], *groups = stack_groups;
	socklen_t len = sizeof(stack_groups);
	bool ok = false;

	if (ovf_uid == ULONG_MAX) {
		ovf_uid = srv_overflow_id("/proc/sys/kernel/overflowuid");
		ovf_gid = srv_overflow_id("/proc/sys/kernel/overflowgid");
	}
	if (cred->uid == 0 || (cred->uid == geteuid() && cred->uid != ovf_uid))
		return true;
	/* An unmapped group shows as the overflow gid: it matches nothing. */
	if (s->gid == ovf_gid)
		return false;
	if (cred->gid == s->gid)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
		/* More groups than fit: len says how many bytes they need. */
		if (errno != ERANGE || len == 0 || len > 65536 * sizeof(gid_t))
			return false;
		groups = malloc(len);
		if (groups == NULL ||
		    getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
			free(groups);
			return false;
		}
	}
	for (size_t i = 0; i < len / sizeof(groups[0]); i++)
		if (groups[i] == s->gid) {
			ok = true;
			break;
		}
	if (groups != stack_groups)
		free(groups);
	return ok;
}

/* Tell a refused peer why in one line (without waiting for it), log, close. */
static void
srv_refuse(struct srv *s, int fd, const struct ucred *cred)
{
	char msg[256], line[384];
	int n;

	snprintf(msg, sizeof(msg), "permission denied: uid %u is neither root nor in group "
		 "%s, which may use this control socket", (unsigned int)cred->uid, s->group);
	n = snprintf(line, sizeof(line), "{\"ok\":false,\"errno\":%d,\"error\":\"%s\"}\n",
		     EACCES, msg);
	if (n > 0 && (size_t)n < sizeof(line))
		(void)!send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
	if (s->log != NULL) {
		snprintf(line, sizeof(line), "%s (pid %d)", msg, (int)cred->pid);
		s->log("", EACCES, line);
	}
}

static void
srv_accept(struct srv *s)
{
	uint64_t now = ctl_mono_ms();

	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN };
		struct srv_client *cl;
		struct ucred cred;
		socklen_t credlen;
		unsigned int slot;
		int fd;

		fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* The listening socket stays readable: stop watching it
				 * until the next tick rather than spin on it. */
				epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->lfd, NULL);
				s->accept_paused = true;
			}
			return; /* EAGAIN, or out of descriptors: see srv_tick */
		}
		/* Who is calling: root, the daemon's user or the group; others are told
		 * in one line and closed before anything of theirs is read. */
		credlen = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &credlen) < 0) {
			close(fd);
			continue;
		}
		if (!srv_peer_allowed(s, fd, &cred)) {
			srv_refuse(s, fd, &cred);
			continue;
		}
		if (s->n_clients == SRV_MAX_CLIENTS) {
			static const char busy[] = "{\"ok\":false,\"errno\":16,\"error\":"
				"\"too many control clients connected: try again later\"}\n";

			(void)!send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		cl = calloc(1, sizeof(*cl));
		if (cl == NULL) {
			close(fd);
			continue;
		}
		/* Handlers may only act on the caller's own process. */
		cl->peer_pid = cred.pid;
		for (slot = 0; s->clients[slot] != NULL; slot++)
			;
		cl->fd = fd;
		cl->srv = s;
		cl->slot = slot;
		cl->last_ms = now;
		cl->events = EPOLLIN;
		ev.data.ptr = cl;
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(cl);
			continue;
		}
		s->clients[slot] = cl;
		s->n_clients++;
	}
}

static void
srv_client_event(struct srv *s, struct srv_client *cl, uint32_t events)
{
	uint64_t now = ctl_mono_ms();

	if ((events & EPOLLIN) && srv_read(cl, now) < 0)
		goto drop;
	if ((events & (EPOLLHUP | EPOLLERR)) && !(events & EPOLLIN)) {
		/* Peer gone completely: nothing more can be read or written. */
		goto drop;
	}
	for (;;) {
		srv_process(s, cl);
		if (srv_flush(cl, now) < 0)
			goto drop;
		/* Flushed with complete requests still buffered: handle them too. */
		if (cl->closing || cl->out_off < cl->out_len || cl->in_len == 0 ||
		    (memchr(cl->in, '\n', cl->in_len) == NULL && !cl->eof))
			break;
	}
	/* Done: a protocol error was answered, or the peer stopped sending. */
	if (cl->out_off == cl->out_len && (cl->closing || cl->eof))
		goto drop;
	srv_client_update(s, cl);
	return;
drop:
	srv_client_close(s, cl);
}

void
srv_run(struct srv *s)
{
	struct epoll_event evs[32];
	int n;

	n = epoll_wait(s->epfd, evs, 32, 0);
	for (int i = 0; i < n; i++) {
		if (evs[i].data.ptr == NULL)
			srv_accept(s);
		else
			srv_client_event(s, evs[i].data.ptr, evs[i].events);
	}
}

void
srv_tick(struct srv *s, uint64_t now_ms)
{
	if (s->accept_paused) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->lfd, &ev) == 0)
			s->accept_paused = false;
	}
	for (unsigned int i = 0; i < SRV_MAX_CLIENTS; i++) {
		struct srv_client *cl = s->clients[i];
		bool reading, writing;

		if (cl == NULL)
			continue;
		reading = cl->in_len > 0;
		writing = cl->out_off < cl->out_len;
		/* Stalled, or too slow however steadily it goes (a byte a second):
		 * a request must arrive, and a response be read, within SRV_IDLE_MS. */
		if (now_ms - cl->last_ms > (reading || writing ? SRV_IDLE_MS : SRV_IDLE_QUIET_MS) ||
		    (reading && now_ms - cl->req_ms > SRV_IDLE_MS) ||
		    (writing && now_ms - cl->out_ms > SRV_IDLE_MS))
			srv_client_close(s, cl);
	}
}

void
srv_destroy(struct srv *s)
{
	struct stat st;

	if (s == NULL)
		return;
	for (unsigned int i = 0; i < SRV_MAX_CLIENTS; i++)
		if (s->clients[i] != NULL)
			srv_client_close(s, s->clients[i]);
	close(s->epfd);
	close(s->lfd);
	/* Remove the socket only if it is still the one we created. */
	if (lstat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
		unlink(s->path);
	free(s);
}

int
ctl_args_allowed(json_t *args, const char *cmd, const char *const *allowed, char *err,
		 size_t errlen)
{
	const char *key;
	json_t *v;

	json_object_foreach(args, key, v) {
		bool ok = false;

		for (unsigned int i = 0; allowed[i] != NULL && !ok; i++)
			ok = strcmp(allowed[i], key) == 0;
		if (!ok) {
			snprintf(err, errlen, "unknown argument \"%.64s\" for %s", key, cmd);
			return -EINVAL;
		}
	}
	return 0;
}

int
ctl_arg_str(json_t *args, const char *key, bool required, char *buf, size_t len, char *err,
	    size_t errlen)
{
	json_t *v = json_object_get(args, key);

	buf[0] = '\0';
	if (v == NULL || json_is_null(v)) {
		if (!required)
			return 0;
		snprintf(err, errlen, "missing argument \"%s\"", key);
		return -EINVAL;
	}
	if (!json_is_string(v)) {
		snprintf(err, errlen, "argument \"%s\" must be a string", key);
		return -EINVAL;
	}
	if (json_string_length(v) >= len ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(err, errlen, "argument \"%s\" is too long: at most %zu characters", key,
			 len - 1);
		return -EINVAL;
	}
	memcpy(buf, json_string_value(v), json_string_length(v) + 1);
	if (required && buf[0] == '\0') {
		snprintf(err, errlen, "argument \"%s\" is empty", key);
		return -EINVAL;
	}
	return 0;
}
