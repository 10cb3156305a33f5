/*
 * state.h - what survives a restart: one JSON document, <state-dir>/state.json.
 *
 * The document has one member per section ("networks", "ports", "routes",
 * "containers", "pending", "macs", "vxlan"), each produced and consumed by the module
 * that owns the objects ("pending": a container a run was making or an rm was
 * removing when the file was written, cleaned up at the next start):
 *
 *   { "version": 1, "saved": "2024-05-01T12:00:00Z",
 *     "networks": [...], "ports": [...], "containers": [...], "pending": [] }
 *
 * A module registers its section once at start-up (state_register) with a dump
 * function (returns the section as a new JSON reference) and a restore function
 * (recreates its objects from that JSON). Sections are restored in ascending
 * order (STATE_ORDER_*): networks first, then ports, then containers, so each
 * finds what it refers to.
 *
 * Usage by command handlers: a change is acknowledged only once it is saved.
 * After making a change, a handler calls state_commit(); when that fails, it
 * undoes the change (the same undo path as a failed step of its own) and
 * refuses the command with the message state_commit wrote, so that the state
 * on disk is always the last acknowledged change. A removal may instead save
 * first (the object hidden from its section's dump) and remove after.
 * state_save() dumps every section and replaces the file atomically: write a
 * temporary file in the same directory, fsync it, rename it over state.json,
 * fsync the directory. A failed save never touches the previous file; it is
 * logged (ERR) and returns a negative errno (`dpctl status` shows the last save
 * error).
 *
 * While state_restore() runs, state_save() does nothing (restore functions may
 * go through the same code as the handlers); state_restore() saves once at the
 * end. A missing file means a fresh start; a file that cannot be parsed is
 * renamed to state.json.corrupt-<time> (never overwritten) and the daemon starts
 * clean, with an ERR line naming both files.
 *
 * The module is pure (POSIX + jansson): no DPDK, so unit tests link it alone.
 * Thread safety: control thread only.
 */
#ifndef DPNET_STATE_H
#define DPNET_STATE_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "config.h"

#define STATE_FILE "state.json"
#define STATE_VERSION 1               /* "version" of the document we write */

/* Restore order of the sections. */
#define STATE_ORDER_NETWORKS 10
#define STATE_ORDER_PORTS 20
#define STATE_ORDER_VXLAN 22        /* static VXLAN peers: after the networks and the
                                     * uplink (a peer may not be our own address) */
#define STATE_ORDER_ROUTES 25       /* static routes: after the uplink and the networks */
#define STATE_ORDER_NEIGH 27        /* static neighbours: after the uplink and the networks,
                                     * before the containers (whose addresses they avoid) */
#define STATE_ORDER_CONTAINERS 30
#define STATE_ORDER_PENDING 35       /* containers being made or removed at a crash */
#define STATE_ORDER_MACS 40         /* static MACs sit behind ports and container ports */

/* Severity of a message handed to the log function. */
enum state_log_level {
	STATE_LOG_ERR,        /* persistence is broken (a save failed, a file is corrupt) */
	STATE_LOG_WARNING,    /* one saved object could not be restored */
	STATE_LOG_NOTICE,     /* normal but worth telling (fresh start) */
	STATE_LOG_INFO,       /* lifecycle */
};

typedef void (*state_log_fn)(enum state_log_level level, const char *msg);
/* A section as a new JSON reference (NULL on failure: the save is refused). */
typedef json_t *(*state_dump_fn)(void *arg);
/*
 * Recreate a section's objects from val (never NULL). Objects that cannot be
 * restored are skipped (the function logs them through state_log()); return a
 * negative errno with a message only when the whole section is unusable.
 */
typedef int (*state_restore_fn)(void *arg, json_t *val, char *err, size_t errlen);

/*
 * Use dir (created 0700 with its parents when missing). log may be NULL.
 * Returns 0, or a negative errno with the message in err.
 */
int state_init(const char *dir, state_log_fn log, char *err, size_t errlen);
/* Forget the sections and the directory (the file stays). */
void state_fini(void);
/* Register a section (key unique, at most 16 sections). */
int state_register(const char *key, int order, state_dump_fn dump, state_restore_fn restore,
		   void *arg);

/*
 * Read the file and restore every registered section in order, then save.
 * Returns 1 when a document was restored, 0 on a fresh start (no file, or a
 * corrupt one that was moved aside), a negative errno when nothing could be read
 * for another reason (also a fresh start; logged).
 */
int state_restore(void);
/* Dump every section and write the file atomically. 0 or a negative errno. */
int state_save(void);
/*
 * state_save() for a change about to be acknowledged. On failure: err is the
 * command's error, "WHAT: the state could not be written (why, with the path);
 * make the state directory writable ... and retry", and a negative errno.
 * what says what became of the change (e.g. "network n1 not created").
 */
int state_commit(const char *what, char *err, size_t errlen);
/* Append "; " and a formatted note to err (an undo that did not work out). */
void state_err_append(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The last save error ("" when the last save succeeded), for status. */
const char *state_last_error(void);
/* The state file's path ("" before state_init). */
const char *state_path(void);

/* Log through the function given to state_init (sections use it while restoring). */
void state_log(enum state_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Ports added with `dpctl add-port` (the "ports" section is kept here, as their
 * specs; ports from the config file are not saved). port.add remembers a port
 * after creating it, port.del forgets it; both then call state_save(). The
 * section restores through the function given to state_ports_register.
 */
typedef int (*state_port_create_fn)(void *arg, const struct cfg_port *cp, char *err,
				    size_t errlen);
int state_ports_register(state_port_create_fn create, void *arg);
int state_port_remember(const struct cfg_port *cp);
void state_port_forget(const char *name);
/* Take a port's saved spec out of the section (NULL when it has none), and put
 * it back (a removal refused after all); for port.del, which saves first. */
json_t *state_port_take(const char *name);
void state_port_put_back(json_t *spec);

/*
 * File level (used by the above; exposed for tests). state_write_file writes doc
 * atomically as dir/state.json. state_read_file returns 0 with *doc set, -ENOENT
 * when there is no file, -EBADMSG when it is corrupt (then already renamed
 * aside, the new name in err), or another negative errno.
 */
int state_write_file(const char *dir, json_t *doc, char *err, size_t errlen);
int state_read_file(const char *dir, json_t **doc, char *err, size_t errlen);

/* mkdir -p: DIR and its missing parents (parents 0755, DIR itself mode); 0 or -errno
 * (-ENOTDIR when DIR exists and is not a directory). Used for every directory
 * dpnetd makes: state, container logs, the socket's. */
int ctl_mkdirs(const char *dir, mode_t mode);

#endif /* DPNET_STATE_H */
