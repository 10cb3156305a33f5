/*
 * ctr_proc.c - containers' processes: spawning (detached), knowing whether they
 * still run, stopping them.
 *
 * A detached process is spawned from a helper thread that joined the
 * container's namespace (posix_spawn: new session, signals unblocked and at
 * their defaults, stdin /dev/null, stdout and stderr appended to the log file,
 * no descriptor of the daemon's inherited). A foreground process is the
 * client's own (dpctl execs the command after `run`). Either is known by pid
 * and start time (/proc/PID/stat), so a reused pid is never mistaken for it;
 * our children are reaped with waitpid(pid, WNOHANG), never waitpid(-1).
 *
 * A detached process also carries its container's id in its environment
 * (CTR_ENV_TAG, ctr_priv.h), inherited by what it starts: a `run` cut by a
 * kill -9 after the spawn but before the save that records the pid leaves a
 * process nothing else names - in the host's namespace (--network host) or
 * another container's (container:NAME) no namespace of ours holds it - and the
 * restart stops it by that tag (ctr_stop_tagged, from ctr_pending_clean).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_log.h>

#include "ctl.h"
#include "ctr_priv.h"
#include "state.h"
#include "netns.h"

extern char **environ;

static unsigned int
ctr_ns_pids(uint64_t dev, uint64_t ino, pid_t *pids, unsigned int max)
{
	unsigned int n = 0;
	struct dirent *de;
	DIR *d;

	if (ino == 0)
		return 0;
	d = opendir("/proc");
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < max) {
		char path[64];
		struct stat st;
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end != '\0' || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/ns/net", pid);
		if (stat(path, &st) == 0 && (uint64_t)st.st_ino == ino &&
		    (uint64_t)st.st_dev == dev)
			pids[n++] = (pid_t)pid;
	}
	closedir(d);
	return n;
}

/* Does /proc/PID/environ hold the entry want (NUL-separated entries)? */
static bool
ctr_env_has(long pid, const char *want)
{
	size_t wlen = strlen(want), have = 0;
	char path[64], buf[8192];
	bool found = false;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/environ", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	/* Entries may straddle reads: keep the unfinished one at the front. */
	for (unsigned int reads = 0; !found && reads < 1024; reads++) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - have);
		size_t start = 0, end;

		if (n <= 0)
			break;
		end = have + (size_t)n;
		for (size_t i = 0; i < end; i++) {
			if (buf[i] != '\0')
				continue;
			if (i - start == wlen && memcmp(buf + start, want, wlen) == 0) {
				found = true;
				break;
			}
			start = i + 1;
		}
		have = end - start;
		if (have == sizeof(buf))
			have = 0; /* an entry longer than buf: not ours, skip it */
		else
			memmove(buf, buf + start, have);
	}
	close(fd);
	return found;
}

/* The processes whose environment carries CTR_ENV_TAG<id>, but ourselves. */
static unsigned int
ctr_tagged_pids(const char *id, pid_t *pids, unsigned int max)
{
	char want[sizeof(CTR_ENV_TAG) + CTR_ID_LEN];
	unsigned int n = 0;
	struct dirent *de;
	DIR *d;

	snprintf(want, sizeof(want), CTR_ENV_TAG "%s", id);
	d = opendir("/proc");
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < max) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		char state = '?';

		if (*end != '\0' || pid <= 0 || pid == (long)getpid())
			continue;
		/* A zombie has no environment left to read, and needs no signal. */
		if (ctr_proc_start((pid_t)pid, &state) == 0 || state == 'Z' || state == 'X')
			continue;
		if (ctr_env_has(pid, want))
			pids[n++] = (pid_t)pid;
	}
	closedir(d);
	return n;
}

unsigned int
ctr_stop_tagged(const char *id)
{
	pid_t pids[256];
	unsigned int n, first = 0;
	uint64_t deadline;

	if (strlen(id) != CTR_ID_LEN)
		return 0;
	for (int round = 0; round < 2; round++) {
		int sig = round == 0 ? SIGTERM : SIGKILL;

		n = ctr_tagged_pids(id, pids, RTE_DIM(pids));
		if (round == 0)
			first = n;
		if (n == 0)
			return first;
		for (unsigned int i = 0; i < n; i++)
			kill(pids[i], sig);
		deadline = ctl_mono_ms() + (round == 0 ? CTR_STOP_MS : 1000);
		while (ctl_mono_ms() < deadline) {
			if (ctr_tagged_pids(id, pids, RTE_DIM(pids)) == 0)
				return first;
			usleep(5000);
		}
	}
	return first;
}

/* ---------------------------------------------------------------- processes */

/* State letter and start time of a process; 0 if it does not exist. */
uint64_t
ctr_proc_start(pid_t pid, char *state)
{
	char path[64], buf[1024], *p;
	uint64_t start = 0;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the command may hold spaces and parentheses */
	if (p == NULL)
		return 0;
	p++;
	/* After ')': field 3 is the state, field 22 the start time. */
	for (field = 3; field <= 22 && *p != '\0'; field++) {
		while (*p == ' ')
			p++;
		if (field == 3 && state != NULL)
			*state = *p;
		if (field == 22)
			start = strtoull(p, NULL, 10);
		while (*p != ' ' && *p != '\0')
			p++;
	}
	return start;
}

void
ctr_reap(struct ctr *ct)
{
	int st;

	if (ct->pid > 0 && ct->pid_child && waitpid(ct->pid, &st, WNOHANG) == ct->pid) {
		ct->pid_child = false;
		ct->exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
}

/* Is the container's own process running? */
bool
ctr_alive(struct ctr *ct)
{
	char state = '?';

	if (ct->pid <= 0 || ct->pid_start == 0)
		return false;
	ctr_reap(ct);
	if (!ct->pid_child && ct->exit_code >= 0)
		return false;
	return ctr_proc_start(ct->pid, &state) == ct->pid_start && state != 'Z' && state != 'X';
}

static void
ctr_signal(struct ctr *ct, int sig)
{
	if (ct->pid_group && kill(-ct->pid, sig) == 0)
		return;
	kill(ct->pid, sig);
}

/* Other processes in a namespace of ours (not the container's own process). */
unsigned int
ctr_others(struct ctr *ct, pid_t *pids, unsigned int max)
{
	unsigned int n, k = 0;

	if (ct->nsname[0] == '\0')
		return 0; /* not our namespace: its processes are someone else's */
	n = ctr_ns_pids(ct->ns_dev, ct->ns_ino, pids, max);
	for (unsigned int i = 0; i < n; i++)
		if (pids[i] != ct->pid)
			pids[k++] = pids[i];
	return k;
}

/*
 * Stop the container's process and whatever else runs in a namespace of ours:
 * SIGTERM, up to CTR_STOP_MS, then SIGKILL and up to one more second.
 */
void
ctr_stop(struct ctr *ct)
{
	pid_t pids[256];
	unsigned int n;
	uint64_t deadline;
	bool alive;

	for (int round = 0; round < 2; round++) {
		int sig = round == 0 ? SIGTERM : SIGKILL;

		alive = ctr_alive(ct);
		n = ctr_others(ct, pids, 256);
		if (!alive && n == 0)
			return;
		if (alive)
			ctr_signal(ct, sig);
		for (unsigned int i = 0; i < n; i++)
			kill(pids[i], sig);
		deadline = ctl_mono_ms() + (round == 0 ? CTR_STOP_MS : 1000);
		while (ctl_mono_ms() < deadline) {
			if (!ctr_alive(ct) && ctr_others(ct, pids, 256) == 0)
				return;
			usleep(5000);
		}
		if (round == 0)
			CTL_LOG(INFO, "container %s: still running %d ms after SIGTERM: SIGKILL",
				ct->name, CTR_STOP_MS);
	}
}

struct ctr_spawn {
	char **argv;               /* command */
	char **envp;               /* environment: the daemon's and the tag */
	const char *log;           /* stdout/stderr file */
	pid_t pid;                 /* out */
};

/* In the namespace (helper thread): the process in its own session, logging. */
static int
ctr_spawn_fn(void *arg)
{
	struct ctr_spawn *s = arg;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int rc;

	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_init(&at);
	posix_spawnattr_setsigmask(&at, &none);      /* the daemon blocks SIGTERM & co */
	posix_spawnattr_setsigdefault(&at, &all);    /* and ignores SIGPIPE */
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, s->log, O_WRONLY | O_CREAT | O_APPEND, 0640);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	/* DPDK's descriptors (TAP queues, memory) must not leak into containers. */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	rc = posix_spawnp(&s->pid, s->argv[0], &fa, &at, s->argv, s->envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	return -rc;
}

void
ctr_log_path(const struct ctr *ct, char *buf, size_t len)
{
	snprintf(buf, len, "%s/containers/%s.log", ctrs.c->state_dir, ct->name);
}

/* Start the detached process of ct (cmd set) inside its namespace. */
int
ctr_spawn(struct ctr *ct, char *err, size_t errlen)
{
	char log[CFG_PATH_MAX + 128], dir[CFG_PATH_MAX + 16];
	char *argv[CTR_MAX_CMD + 1];
	char tag[sizeof(CTR_ENV_TAG) + CTR_ID_LEN];
	struct ctr_spawn s = { .argv = argv, .log = log };
	size_t i, n_env = 0;
	json_t *w;
	int fd = -1, rc;

	json_array_foreach(ct->cmd, i, w)
		argv[i] = (char *)json_string_value(w);
	argv[json_array_size(ct->cmd)] = NULL;
	snprintf(dir, sizeof(dir), "%s/containers", ctrs.c->state_dir);
	rc = ctl_mkdirs(dir, 0700);
	if (rc < 0)
		return ctl_fail(err, errlen, rc, "cannot create %s for the container's log: %s",
				dir, strerror(-rc));
	ctr_log_path(ct, log, sizeof(log));
	/* The daemon's environment (without a tag it may have inherited) + ours. */
	for (char **e = environ; *e != NULL; e++)
		n_env++;
	s.envp = calloc(n_env + 2, sizeof(*s.envp));
	if (s.envp == NULL)
		return ctl_fail(err, errlen, -ENOMEM, "out of memory");
	n_env = 0;
	for (char **e = environ; *e != NULL; e++)
		if (strncmp(*e, CTR_ENV_TAG, sizeof(CTR_ENV_TAG) - 1) != 0)
			s.envp[n_env++] = *e;
	snprintf(tag, sizeof(tag), CTR_ENV_TAG "%s", ct->id);
	s.envp[n_env] = tag;
	if (ct->mode != CTR_MODE_HOST) {
		fd = ctr_nsfd(ct);
		if (fd < 0) {
			free(s.envp);
			return ctl_fail(err, errlen, fd, "cannot open the namespace %s: %s",
					ct->netns, strerror(-fd));
		}
	}
	rc = netns_run(fd, ctr_spawn_fn, &s);
	free(s.envp);
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		return ctl_fail(err, errlen, rc, "exec: \"%s\": %s", argv[0],
				rc == -ENOENT ? "executable file not found in $PATH" :
				strerror(-rc));
	ct->pid = s.pid;
	ct->pid_child = true;
	ct->pid_group = true;
	ct->exit_code = -1;
	ct->pid_start = ctr_proc_start(s.pid, NULL);
	CTL_LOG(INFO, "container %s: started %s (pid %d), output in %s", ct->name, argv[0],
		(int)s.pid, log);
	return 0;
}

