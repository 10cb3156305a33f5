/*
 * util.h - small helpers every control module uses: the one error formatter of
 * handlers, clocks, random ids.
 *
 * Thread safety: all are reentrant.
 */
#ifndef DPNET_CTL_UTIL_H
#define DPNET_CTL_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Write a user-facing message (what is wrong and how to fix it) into err; return rc. */
int ctl_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Wall-clock time in ns (for "created" stamps), monotonic time in ms (for timeouts). */
uint64_t ctl_now_ns(void);
uint64_t ctl_mono_ms(void);

/* len random bytes (getrandom, with a time-based fallback). */
void ctl_random_bytes(void *buf, size_t len);
/* digits (at most 64) random lowercase hex digits and a NUL into out. */
void ctl_random_hex(char *out, size_t digits);

#endif /* DPNET_CTL_UTIL_H */
