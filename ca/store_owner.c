/*
 * Registry, SQLite backend: who reserved a pending row. A reservation
 * records its owner as "boot:pid:start" (this boot's id, the process id
 * and its start time in clock ticks), so reconcile can tell a process
 * that is gone (another boot, no such pid, a pid reused by a later
 * process) from one that may still be issuing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cardsmith/file.h"

#include "store_int.h"

#include "banned.h"

/* The /proc files read here are a line each. */
#define PROC_MAX 4096

/*
 * Field 22 (starttime, clock ticks after boot) of a /proc/PID/stat file
 * into dst. 0, or the errno of the failure (EINVAL: unparsable).
 */
static int
proc_start(const char *path, char *dst, size_t cap)
{
	uint8_t *buf = NULL;
	const char *p;
	size_t n, field, len;
	enum cs_err r;
	int e = EINVAL;

	dst[0] = '\0';
	/* a stat line is a few hundred bytes; NUL-terminated by the reader */
	if ((r = cs_file_read(NULL, path, PROC_MAX, &buf, &n)) != CS_OK)
		return r == CS_ERR_NOT_FOUND ? ENOENT : EIO;
	/* comm (field 2) may hold spaces and parentheses: skip to the last
	 * ')', after which field 3 starts. */
	if ((p = strrchr((const char *)buf, ')')) == NULL)
		goto out;
	for (field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL)
		goto out;
	p++;
	len = strspn(p, "0123456789");
	if (len == 0 || len >= cap)
		goto out;
	snprintf(dst, cap, "%.*s", (int)len, p);
	e = 0;
out:
	cs_free(buf);
	return e;
}

/* This process as a reservation owner: "boot:pid:start", or "". */
void
csa_sq_set_owner(struct sq_store *s)
{
	char start[32];
	uint8_t *id = NULL;
	size_t n = 0;

	s->boot[0] = s->owner[0] = '\0';
	if (cs_file_read(NULL, "/proc/sys/kernel/random/boot_id", PROC_MAX,
	        &id, &n) == CS_OK) {
		snprintf(s->boot, sizeof(s->boot), "%s", (const char *)id);
		cs_free(id);
	}
	s->boot[strcspn(s->boot, ":\n")] = '\0';
	if (s->boot[0] == '\0' ||
	    proc_start("/proc/self/stat", start, sizeof(start)) != 0)
		return;
	snprintf(s->owner, sizeof(s->owner), "%s:%ld:%s", s->boot,
	    (long)getpid(), start);
}

/*
 * Is the process that reserved a row ("boot:pid:start") still running?
 * Another boot, no such pid, or a pid reused by a later process: gone.
 * Unreadable /proc: assume it runs (the grace period decides).
 */
bool
csa_sq_owner_alive(const struct sq_store *s, const char *owner)
{
	char boot[40], path[64], start[32];
	const char *c1, *c2;
	unsigned long pid;
	char *end;
	size_t n;

	if ((c1 = strchr(owner, ':')) == NULL ||
	    (c2 = strchr(c1 + 1, ':')) == NULL ||
	    (n = (size_t)(c1 - owner)) >= sizeof(boot))
		return true;
	snprintf(boot, sizeof(boot), "%.*s", (int)n, owner);
	if (s->boot[0] == '\0' || strcmp(boot, s->boot) != 0)
		return s->boot[0] == '\0';
	errno = 0;
	pid = strtoul(c1 + 1, &end, 10);
	if (errno != 0 || end != c2 || pid == 0 || pid > 0x7fffffffUL)
		return true;
	snprintf(path, sizeof(path), "/proc/%lu/stat", pid);
	switch (proc_start(path, start, sizeof(start))) {
	case 0:
		return strcmp(start, c2 + 1) == 0;
	case ENOENT:
	case ESRCH:
		return false;
	default:
		return true;
	}
}
