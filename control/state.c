/*
 * state.c - persistence: sections dumped into one JSON document, written with
 * temp file + fsync + rename + directory fsync, read back and restored in order.
 *
 * Why this order of syscalls: after rename() returns, a crash can still lose the
 * new directory entry or the file's data unless both the file (before the
 * rename) and the directory (after it) were fsync'ed. The temporary file lives
 * in the same directory, so the rename is atomic: state.json is always either
 * the complete old document or the complete new one, never a mix or a truncation.
 * A leftover temporary file (a crash between write and rename) is removed at the
 * next start; it never replaces state.json.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "state.h"

#define STATE_MAX_SECTIONS 16
#define STATE_TMP_FILE ".state.json.tmp"

/* One registered section. */
struct state_section {
	char key[32];               /* member name in the document */
	int order;                  /* restore order */
	state_dump_fn dump;         /* produce it */
	state_restore_fn restore;   /* consume it */
	void *arg;                  /* handed to both */
};

/* The module's state: one per daemon. */
static struct {
	char dir[CFG_PATH_MAX];                          /* state directory, "" before init */
	char path[CFG_PATH_MAX + 16];                    /* dir/state.json */
	state_log_fn log;                                /* where messages go */
	struct state_section sections[STATE_MAX_SECTIONS]; /* sorted by order */
	unsigned int n_sections;                         /* entries used */
	bool restoring;                                  /* state_save is a no-op */
	char last_error[512];                            /* last save failure, "" if none */
	json_t *ports;                                   /* array of port specs */
	state_port_create_fn port_create;                /* restores one port */
	void *port_arg;                                  /* its argument */
} state;

void
state_log(enum state_log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (state.log != NULL)
		state.log(level, msg);
}

const char *
state_last_error(void)
{
	return state.last_error;
}

const char *
state_path(void)
{
	return state.path;
}

/* mkdir -p: parents 0755, the last component mode. */
int
ctl_mkdirs(const char *dir, mode_t mode)
{
	char buf[CFG_PATH_MAX];
	struct stat st;

	if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	if (stat(buf, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	return 0;
}

int
state_init(const char *dir, state_log_fn log, char *err, size_t errlen)
{
	char tmp[CFG_PATH_MAX + 32];
	int rc;

	if (dir == NULL || dir[0] == '\0' || strlen(dir) >= sizeof(state.dir)) {
		snprintf(err, errlen, "state directory \"%s\" is empty or too long",
			 dir != NULL ? dir : "");
		return -EINVAL;
	}
	rc = ctl_mkdirs(dir, 0700);
	if (rc < 0) {
		snprintf(err, errlen, "cannot create the state directory %s: %s: create it "
			 "or pick another --state-dir", dir, strerror(-rc));
		return rc;
	}
	state_fini();
	snprintf(state.dir, sizeof(state.dir), "%s", dir);
	snprintf(state.path, sizeof(state.path), "%s/%s", dir, STATE_FILE);
	state.log = log;
	state.ports = json_array();
	if (state.ports == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* A temporary file left by a crash mid-save is not state: drop it. */
	snprintf(tmp, sizeof(tmp), "%s/%s", dir, STATE_TMP_FILE);
	if (unlink(tmp) == 0)
		state_log(STATE_LOG_INFO, "state: removed %s left by an interrupted save", tmp);
	return 0;
}

void
state_fini(void)
{
	json_decref(state.ports);
	memset(&state, 0, sizeof(state));
}

int
state_register(const char *key, int order, state_dump_fn dump, state_restore_fn restore,
	       void *arg)
{
	unsigned int i;

	if (key == NULL || strlen(key) >= sizeof(state.sections[0].key) || dump == NULL ||
	    restore == NULL)
		return -EINVAL;
	for (i = 0; i < state.n_sections; i++)
		if (strcmp(state.sections[i].key, key) == 0)
			return -EEXIST;
	if (state.n_sections == STATE_MAX_SECTIONS)
		return -ENOSPC;
	/* Insert keeping the array sorted by order (stable for equal orders). */
	for (i = state.n_sections; i > 0 && state.sections[i - 1].order > order; i--)
		state.sections[i] = state.sections[i - 1];
	snprintf(state.sections[i].key, sizeof(state.sections[i].key), "%s", key);
	state.sections[i].order = order;
	state.sections[i].dump = dump;
	state.sections[i].restore = restore;
	state.sections[i].arg = arg;
	state.n_sections++;
	return 0;
}

/* write() all of buf, retrying short writes. */
static int
state_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int
state_write_file(const char *dir, json_t *doc, char *err, size_t errlen)
{
	char tmp[CFG_PATH_MAX + 32], path[CFG_PATH_MAX + 32];
	char *text;
	int fd, dfd, rc;

	snprintf(tmp, sizeof(tmp), "%s/%s", dir, STATE_TMP_FILE);
	snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE);
	text = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS);
	if (text == NULL) {
		snprintf(err, errlen, "cannot encode the state document (out of memory)");
		return -ENOMEM;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		free(text);
		return rc;
	}
	rc = state_write_all(fd, text, strlen(text));
	if (rc == 0)
		rc = state_write_all(fd, "\n", 1);
	free(text);
	if (rc < 0) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(-rc));
		goto fail;
	}
	if (fsync(fd) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot fsync %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = -errno;
		snprintf(err, errlen, "cannot close %s: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		goto fail;
	}
	/* The rename is only durable once the directory is. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot fsync the directory %s: %s", dir, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return rc;
	}
	close(dfd);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return rc;
}

/* Move a corrupt file aside: state.json.corrupt-YYYYmmddTHHMMSS (-N if taken). */
static int
state_move_aside(const char *path, char *to, size_t tolen)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (unsigned int k = 0; k < 100; k++) {
		struct stat st;

		int w;

		if (k == 0)
			w = snprintf(to, tolen, "%s.corrupt-%s", path, stamp);
		else
			w = snprintf(to, tolen, "%s.corrupt-%s-%u", path, stamp, k);
		if (w < 0 || (size_t)w >= tolen)
			return -ENAMETOOLONG;
		if (lstat(to, &st) == 0)
			continue;
		if (rename(path, to) < 0)
			return -errno;
		return 0;
	}
	return -EEXIST;
}

int
state_read_file(const char *dir, json_t **doc, char *err, size_t errlen)
{
	char path[CFG_PATH_MAX + 32], aside[CFG_PATH_MAX + 64], why[512];
	json_error_t jerr;
	json_t *d, *v;
	struct stat st;
	FILE *f;
	int rc;

	*doc = NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE);
	if (stat(path, &st) < 0) {
		rc = -errno;
		if (rc == -ENOENT)
			snprintf(err, errlen, "%s does not exist", path);
		else
			snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return rc;
	}
	f = fopen(path, "re");
	if (f == NULL) {
		rc = -errno;
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return rc;
	}
	d = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	fclose(f);
	if (d == NULL) {
		snprintf(why, sizeof(why), "not valid JSON: %s at line %d", jerr.text,
			 jerr.line);
	} else if (!json_is_object(d)) {
		snprintf(why, sizeof(why), "not a JSON object");
	} else if (!json_is_integer(v = json_object_get(d, "version"))) {
		snprintf(why, sizeof(why), "no \"version\" number");
	} else if (json_integer_value(v) != STATE_VERSION) {
		snprintf(why, sizeof(why), "version %" JSON_INTEGER_FORMAT " (this dpnetd "
			 "reads version %d)", json_integer_value(v), STATE_VERSION);
	} else {
		*doc = d;
		return 0;
	}
	json_decref(d);
	rc = state_move_aside(path, aside, sizeof(aside));
	if (rc < 0)
		snprintf(err, errlen, "%s is unusable (%s) and could not be moved aside: %s",
			 path, why, strerror(-rc));
	else
		snprintf(err, errlen, "%s is unusable (%s): moved to %s, starting with no "
			 "saved state", path, why, aside);
	return -EBADMSG;
}

/* The whole document from the sections; NULL when one of them fails. */
static json_t *
state_build(char *err, size_t errlen)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	json_t *doc;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	doc = json_pack("{s:i, s:s}", "version", STATE_VERSION, "saved", stamp);
	if (doc == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (unsigned int i = 0; i < state.n_sections; i++) {
		struct state_section *s = &state.sections[i];
		json_t *val = s->dump(s->arg);

		if (val == NULL || json_object_set_new(doc, s->key, val) < 0) {
			snprintf(err, errlen, "cannot dump section \"%s\" (out of memory)", s->key);
			json_decref(doc);
			return NULL;
		}
	}
	return doc;
}

int
state_save(void)
{
	char err[sizeof(state.last_error)] = "";
	json_t *doc;
	int rc;

	if (state.dir[0] == '\0' || state.restoring)
		return 0;
	doc = state_build(err, sizeof(err));
	if (doc == NULL) {
		rc = -ENOMEM;
	} else {
		rc = state_write_file(state.dir, doc, err, sizeof(err));
		json_decref(doc);
	}
	if (rc < 0) {
		snprintf(state.last_error, sizeof(state.last_error), "%s", err);
		state_log(STATE_LOG_ERR, "state: save failed (the change is refused and undone, or "
			  "kept in memory only when it could not be undone): %s", err);
		return rc;
	}
	if (state.last_error[0] != '\0')
		state_log(STATE_LOG_NOTICE, "state: saved %s again", state.path);
	state.last_error[0] = '\0';
	return 0;
}

int
state_commit(const char *what, char *err, size_t errlen)
{
	int rc = state_save();

	if (rc < 0)
		snprintf(err, errlen, "%s: the state could not be written (%s): make the state "
			 "directory %s writable (free space on its file system, or remount it "
			 "read-write) and retry", what, state.last_error, state.dir);
	return rc;
}

void
state_err_append(char *err, size_t errlen, const char *fmt, ...)
{
	size_t used = strnlen(err, errlen);
	va_list ap;

	if (used + 3 >= errlen)
		return;
	memcpy(err + used, "; ", 3);
	used += 2;
	va_start(ap, fmt);
	vsnprintf(err + used, errlen - used, fmt, ap);
	va_end(ap);
}

int
state_restore(void)
{
	char err[1024] = "";
	json_t *doc;
	int rc;

	if (state.dir[0] == '\0')
		return -EINVAL;
	rc = state_read_file(state.dir, &doc, err, sizeof(err));
	if (rc == -ENOENT) {
		state_log(STATE_LOG_NOTICE, "state: no %s: starting with no saved state",
			  state.path);
		return 0;
	}
	if (rc < 0) {
		state_log(STATE_LOG_ERR, "state: %s", err);
		return rc == -EBADMSG ? 0 : rc;
	}
	state.restoring = true;
	for (unsigned int i = 0; i < state.n_sections; i++) {
		struct state_section *s = &state.sections[i];
		json_t *val = json_object_get(doc, s->key);

		if (val == NULL || json_is_null(val))
			continue;
		err[0] = '\0';
		if (s->restore(s->arg, val, err, sizeof(err)) < 0)
			state_log(STATE_LOG_ERR, "state: %s: section \"%s\" not restored: %s",
				  state.path, s->key, err[0] != '\0' ? err : "invalid");
	}
	state.restoring = false;
	json_decref(doc);
	/* What could not be restored is gone from the new file: say so above, once. */
	state_save();
	return 1;
}

/* ---- the "ports" section ---- */

static json_t *
state_ports_dump(void *arg)
{
	(void)arg;
	return json_deep_copy(state.ports);
}

/* Copy a string member into buf; "" when absent. -EINVAL when wrong or too long. */
static int
state_str(json_t *o, const char *key, char *buf, size_t len)
{
	json_t *v = json_object_get(o, key);

	buf[0] = '\0';
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) >= len)
		return -EINVAL;
	snprintf(buf, len, "%s", json_string_value(v));
	return 0;
}

/* An uplink's "address" (CIDR) and "gateway", absent in older files. */
static int
state_addr(json_t *o, struct cfg_port *cp)
{
	char a[64], g[64], why[256];

	if (state_str(o, "address", a, sizeof(a)) < 0 ||
	    state_str(o, "gateway", g, sizeof(g)) < 0)
		return -EINVAL;
	if (a[0] != '\0' && cfg_parse_host_cidr(a, &cp->address, &cp->address_len, why,
						 sizeof(why)) < 0)
		return -EINVAL;
	if (g[0] != '\0' && cfg_parse_ip(g, &cp->gateway) < 0)
		return -EINVAL;
	/* The uplink's MTU, the host port's namespace and default route (issue 5). */
	if (json_object_get(o, "mtu") != NULL) {
		json_int_t mtu = json_integer_value(json_object_get(o, "mtu"));

		if (mtu < CFG_MTU_MIN || mtu > CFG_MTU_MAX)
			return -EINVAL;
		cp->mtu = (uint16_t)mtu;
	}
	if (state_str(o, "netns", cp->netns, sizeof(cp->netns)) < 0)
		return -EINVAL;
	cp->no_default_route = json_is_false(json_object_get(o, "default_route"));
	return 0;
}

static int
state_ports_restore(void *arg, json_t *val, char *err, size_t errlen)
{
	size_t i;
	json_t *o;

	(void)arg;
	if (!json_is_array(val)) {
		snprintf(err, errlen, "not an array");
		return -EINVAL;
	}
	json_array_foreach(val, i, o) {
		char msg[1024] = "";
		struct cfg_port cp;

		memset(&cp, 0, sizeof(cp));
		if (!json_is_object(o) || state_str(o, "name", cp.name, sizeof(cp.name)) < 0 ||
		    state_str(o, "type", cp.type, sizeof(cp.type)) < 0 ||
		    state_str(o, "iface", cp.iface, sizeof(cp.iface)) < 0 ||
		    state_str(o, "devargs", cp.devargs, sizeof(cp.devargs)) < 0 ||
		    state_str(o, "network", cp.network, sizeof(cp.network)) < 0 ||
		    state_str(o, "role", cp.role, sizeof(cp.role)) < 0 || cp.name[0] == '\0' ||
		    state_addr(o, &cp) < 0) {
			state_log(STATE_LOG_WARNING, "state: ports[%zu] is malformed: skipped", i);
			continue;
		}
		if (state.port_create == NULL ||
		    state.port_create(state.port_arg, &cp, msg, sizeof(msg)) < 0) {
			state_log(STATE_LOG_WARNING, "state: port %s not restored: %s", cp.name,
				  msg[0] != '\0' ? msg : "no port handler");
			continue;
		}
		state_port_remember(&cp);
	}
	return 0;
}

int
state_ports_register(state_port_create_fn create, void *arg)
{
	state.port_create = create;
	state.port_arg = arg;
	return state_register("ports", STATE_ORDER_PORTS, state_ports_dump, state_ports_restore,
			      NULL);
}

int
state_port_remember(const struct cfg_port *cp)
{
	json_t *o;

	if (state.ports == NULL)
		return 0; /* no state directory: nothing is saved */
	state_port_forget(cp->name);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "name", cp->name, "type", cp->type,
		      "iface", cp->iface, "devargs", cp->devargs, "network", cp->network,
		      "role", cp->role);
	if (o == NULL || json_array_append_new(state.ports, o) < 0)
		return -ENOMEM;
	if (cp->address != 0) {
		char a[16], cidr[24];

		snprintf(cidr, sizeof(cidr), "%s/%u", cfg_format_ip(cp->address, a, sizeof(a)),
			 cp->address_len);
		json_object_set_new(o, "address", json_string(cidr));
	}
	if (cp->gateway != 0) {
		char g[16];

		json_object_set_new(o, "gateway", json_string(cfg_format_ip(cp->gateway, g,
									     sizeof(g))));
	}
	if (cp->mtu != 0)
		json_object_set_new(o, "mtu", json_integer(cp->mtu));
	if (cp->netns[0] != '\0')
		json_object_set_new(o, "netns", json_string(cp->netns));
	if (cp->no_default_route)
		json_object_set_new(o, "default_route", json_false());
	return 0;
}

void
state_port_forget(const char *name)
{
	size_t i;
	json_t *o;

	if (state.ports == NULL)
		return;
	json_array_foreach(state.ports, i, o) {
		const char *n = json_string_value(json_object_get(o, "name"));

		if (n != NULL && strcmp(n, name) == 0) {
			json_array_remove(state.ports, i);
			return;
		}
	}
}

json_t *
state_port_take(const char *name)
{
	size_t i;
	json_t *o;

	if (state.ports == NULL)
		return NULL;
	json_array_foreach(state.ports, i, o) {
		const char *n = json_string_value(json_object_get(o, "name"));

		if (n != NULL && strcmp(n, name) == 0) {
			json_incref(o);
			json_array_remove(state.ports, i);
			return o;
		}
	}
	return NULL;
}

void
state_port_put_back(json_t *spec)
{
	if (spec == NULL)
		return;
	if (state.ports == NULL) {
		json_decref(spec);
		return;
	}
	if (json_array_append_new(state.ports, spec) < 0)
		state_log(STATE_LOG_ERR, "state: cannot keep a port's spec (out of memory)");
}
