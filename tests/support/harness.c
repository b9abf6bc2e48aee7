/*
 * Isolated pcscd + vpcd harness for tests (see harness.h and
 * pcsc-harness.md). Test support code: it may print to stderr and read the
 * environment.
 */
#include <sys/types.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cardsmith/pcsc.h"
#include "harness.h"

#define HARNESS_TRIES 5
#define HARNESS_READY_MS 5000
#define HARNESS_PORT_LO 20000
#define HARNESS_PORT_HI 32000 /* below Linux's ephemeral range */
#define HARNESS_STOP_MS 2000
#define HARNESS_GRACE_MS 500
#define HARNESS_DRIVERS "/usr/lib/pcsc/drivers"
#define HARNESS_RUNDIR "/run/pcscd"

extern char **environ;

struct cs_harness {
	char dir[80];
	char sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char conf[128];
	char log[128];
	char reader[CS_HARNESS_IFD_MAX][64];
	int nslots; /* CS_HARNESS_SLOTS (vpcd) or 1..CS_HARNESS_IFD_MAX */
	bool ifd;   /* cardsmith-ifd readers instead of vpcd */
	char ifdlib[PATH_MAX];
	char ifdsock[CS_HARNESS_IFD_MAX]
		    [sizeof(((struct sockaddr_un *)0)->sun_path)];
	int port;
	int sockfd;
	pid_t pcscd;
	bool isolated;
	bool live; /* counted in proc_live */
	pid_t card[CS_HARNESS_IFD_MAX];
};

/* Child-side status bytes sent over the exec pipe. */
#define CHILD_ISOLATED 'I'
#define CHILD_PLAIN 'P'

static unsigned long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long)ts.tv_sec * 1000ul +
	    (unsigned long)ts.tv_nsec / 1000000ul;
}

static void
sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

bool
cs_harness_available(char *why, size_t cap)
{
	const char *miss = NULL;

	if (access(CS_HARNESS_PCSCD, X_OK) != 0)
		miss =
		    CS_HARNESS_PCSCD " not installed (apt-get install pcscd)";
	else if (access(CS_HARNESS_VPCD_LIB, R_OK) != 0)
		miss = CS_HARNESS_VPCD_LIB
		    " not installed (apt-get install vsmartcard-vpcd)";
	if (miss != NULL && why != NULL && cap > 0)
		snprintf(why, cap, "%s", miss);
	return miss == NULL;
}

/* --- ports --- */

static bool
port_bindable(const char *addr, int port)
{
	struct sockaddr_in sin;
	int fd;
	bool ok;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		return false;
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return false;
	ok = bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(fd);
	return ok;
}

/* A port P with P and P+1 free on 127.0.0.1 and 0.0.0.0. */
static int
pick_ports(void)
{
	static unsigned int seed;
	int i, p;

	if (seed == 0)
		seed = (unsigned int)getpid() ^ (unsigned int)now_ms() ^
		    (unsigned int)time(NULL) << 8;
	for (i = 0; i < 200; i++) {
		p = HARNESS_PORT_LO +
		    (int)((unsigned int)rand_r(&seed) %
		        (HARNESS_PORT_HI - HARNESS_PORT_LO - 1));
		if (port_bindable("0.0.0.0", p) &&
		    port_bindable("127.0.0.1", p) &&
		    port_bindable("0.0.0.0", p + 1) &&
		    port_bindable("127.0.0.1", p + 1))
			return p;
	}
	return -1;
}

/* --- files --- */

static int
write_conf(const struct cs_harness *h)
{
	FILE *f;
	int ok, i;

	if ((f = fopen(h->conf, "w")) == NULL)
		return -1;
	if (!h->ifd)
		fprintf(f,
		    "FRIENDLYNAME \"Virtual PCD\"\n"
		    "DEVICENAME   /dev/null:%d\n"
		    "LIBPATH      %s\n"
		    "CHANNELID    %d\n",
		    h->port, CS_HARNESS_VPCD_LIB, h->port);
	/* One entry per reader: DEVICENAME is the socket it listens on. */
	for (i = 0; h->ifd && i < h->nslots; i++)
		fprintf(f,
		    "FRIENDLYNAME \"" CS_HARNESS_IFD_NAME " %d\"\n"
		    "DEVICENAME   unix:%s\n"
		    "LIBPATH      %s\n"
		    "CHANNELID    %d\n",
		    i + 1, h->ifdsock[i], h->ifdlib, i + 1);
	ok = ferror(f) == 0;
	if (fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

static int
listen_unix(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -1;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	(void)unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(fd, 64) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) != 0 && errno != ENOENT;
	return unlink(path) != 0 && errno != ENOENT;
}

static void
rm_tree(const char *dir)
{
	if (dir[0] == '\0')
		return;
	(void)nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* --- pcscd child --- */

/* Decimal n into buf (async-signal-safe); returns buf. */
static char *
fmt_int(char *buf, size_t cap, long n)
{
	char tmp[24];
	size_t i = 0, j = 0;

	if (n < 0)
		n = 0;
	do {
		tmp[i++] = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0 && i < sizeof(tmp));
	while (i > 0 && j + 1 < cap)
		buf[j++] = tmp[--i];
	buf[j] = '\0';
	return buf;
}

/*
 * In the child: a private mount namespace where /run/pcscd is a fresh
 * tmpfs (pcscd writes and removes /run/pcscd/pcscd.pid whatever socket it
 * serves, which would clobber a system pcscd's pid file) and the USB driver
 * directory holds only the vpcd driver (so pcscd never claims a real USB
 * reader that the system pcscd serves). Only syscalls: we are between fork
 * and exec. Returns 0 when fully set up.
 */
static int
isolate_child(void)
{
	const char *stash = HARNESS_RUNDIR "/drv";
	const char *serial = HARNESS_DRIVERS "/serial";
	const char *lib = CS_HARNESS_VPCD_LIB;
	const char *stashlib = HARNESS_RUNDIR "/drv/serial/libifdvpcd.so";
	int fd;

	if (unshare(CLONE_NEWNS) != 0)
		return -1;
	/* From here on, mounts only change our private view. */
	if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0)
		return -1;
	/* Creating the (empty) mount point is all this does to the host. */
	if (mkdir(HARNESS_RUNDIR, 0755) != 0 && errno != EEXIST)
		return -1;
	if (mount("tmpfs", HARNESS_RUNDIR, "tmpfs", MS_NOSUID | MS_NODEV,
	        "mode=0755,size=1m") != 0)
		return -1;
	if (mkdir(stash, 0755) != 0 ||
	    mount(HARNESS_DRIVERS, stash, "none", MS_BIND | MS_REC, NULL) != 0)
		return -1;
	if (mount("tmpfs", HARNESS_DRIVERS, "tmpfs", MS_NOSUID | MS_NODEV,
	        "mode=0755,size=1m") != 0)
		return -1;
	if (mkdir(serial, 0755) != 0 ||
	    (fd = open(lib, O_WRONLY | O_CREAT | O_EXCL, 0644)) < 0)
		goto undo;
	close(fd);
	if (mount(stashlib, lib, "none", MS_BIND, NULL) != 0)
		goto undo;
	return 0;
undo:
	/* Give the real driver directory back rather than a broken one. */
	(void)umount2(HARNESS_DRIVERS, MNT_DETACH);
	return -1;
}

struct pcscd_exec {
	char *argv[8];
	char **envp;
	char listen_pid[32];
	int logfd;
	int sockfd;
	int statusfd;
	bool plain; /* CS_HARNESS_NO_NAMESPACE=1: skip isolate_child */
	pid_t parent;
};

static void
child_fail(int statusfd, int err)
{
	char c = (char)(err & 0x7f);

	if (c == CHILD_ISOLATED || c == CHILD_PLAIN)
		c = 1;
	if (write(statusfd, &c, 1) < 0)
		_exit(126);
	_exit(127);
}

static void __attribute__((noreturn)) pcscd_child(struct pcscd_exec *x)
{
	char status;
	int nullfd;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != x->parent)
		_exit(127);
	/* Own process group: a terminal's ^C must not reach pcscd. */
	(void)setpgid(0, 0);
	status =
	    !x->plain && isolate_child() == 0 ? CHILD_ISOLATED : CHILD_PLAIN;
	if ((nullfd = open("/dev/null", O_RDONLY)) < 0 || dup2(nullfd, 0) < 0 ||
	    dup2(x->logfd, 1) < 0 || dup2(x->logfd, 2) < 0)
		child_fail(x->statusfd, errno);
	/* The listening socket goes on fd 3, without close-on-exec. */
	if (x->sockfd == 3) {
		if (fcntl(3, F_SETFD, 0) != 0)
			child_fail(x->statusfd, errno);
	} else if (dup2(x->sockfd, 3) < 0) {
		child_fail(x->statusfd, errno);
	}
	if (x->statusfd != 4 && x->statusfd > 3) {
		if (dup2(x->statusfd, 4) < 0)
			child_fail(x->statusfd, errno);
		x->statusfd = 4;
	}
	(void)fcntl(x->statusfd, F_SETFD, FD_CLOEXEC);
	(void)close_range(5, ~0u, 0);
	/* LISTEN_PID must be pcscd's own pid, i.e. ours after exec. */
	memcpy(x->listen_pid, "LISTEN_PID=", 11);
	fmt_int(x->listen_pid + 11, sizeof(x->listen_pid) - 11, (long)getpid());
	if (write(x->statusfd, &status, 1) != 1)
		_exit(127);
	execve(CS_HARNESS_PCSCD, x->argv, x->envp);
	child_fail(x->statusfd, errno);
	_exit(127);
}

/* environ without LISTEN_*, plus LISTEN_FDS=1 and x->listen_pid. */
static char **
make_env(struct pcscd_exec *x)
{
	size_t n = 0, i, j = 0;
	char **env;

	while (environ[n] != NULL)
		n++;
	if ((env = calloc(n + 3, sizeof(*env))) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (strncmp(environ[i], "LISTEN_", 7) == 0)
			continue;
		env[j++] = environ[i];
	}
	env[j++] = "LISTEN_FDS=1";
	env[j++] = x->listen_pid;
	env[j] = NULL;
	return env;
}

static int
spawn_pcscd(struct cs_harness *h)
{
	struct pcscd_exec x;
	const char *dbg = getenv("CS_HARNESS_DEBUG");
	const char *nons = getenv("CS_HARNESS_NO_NAMESPACE");
	int pfd[2] = { -1, -1 }, argc = 0, rc = -1;
	char st = 0;
	ssize_t n;
	pid_t pid;

	memset(&x, 0, sizeof(x));
	x.logfd = -1;
	x.argv[argc++] = "pcscd";
	x.argv[argc++] = "-f";
	if (dbg != NULL && strcmp(dbg, "1") == 0) {
		x.argv[argc++] = "-a";
		x.argv[argc++] = "-d";
	}
	x.argv[argc++] = "-c";
	x.argv[argc++] = h->conf;
	x.argv[argc] = NULL;
	snprintf(x.listen_pid, sizeof(x.listen_pid), "LISTEN_PID=0");
	if ((x.envp = make_env(&x)) == NULL)
		goto out;
	x.logfd = open(h->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (x.logfd < 0 || pipe2(pfd, O_CLOEXEC) != 0)
		goto out;
	x.sockfd = h->sockfd;
	x.statusfd = pfd[1];
	x.parent = getpid();
	x.plain = nons != NULL && strcmp(nons, "1") == 0;
	if ((pid = fork()) < 0)
		goto out;
	if (pid == 0)
		pcscd_child(&x);
	h->pcscd = pid;
	close(pfd[1]);
	pfd[1] = -1;
	/* One status byte before exec; EOF at exec (close-on-exec). */
	while ((n = read(pfd[0], &st, 1)) < 0 && errno == EINTR)
		;
	if (n == 1 && (st == CHILD_ISOLATED || st == CHILD_PLAIN)) {
		h->isolated = st == CHILD_ISOLATED;
		while ((n = read(pfd[0], &st, 1)) < 0 && errno == EINTR)
			;
	}
	if (n != 0) {
		fprintf(stderr, "harness: starting pcscd failed: %s\n",
		    n == 1 ? strerror(st) : "no status");
		goto out;
	}
	rc = 0;
out:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	if (x.logfd >= 0)
		close(x.logfd);
	free(x.envp);
	return rc;
}

/* --- process control --- */

/*
 * Terminate pid (and with group, its process group): SIGTERM, up to
 * HARNESS_STOP_MS, then SIGKILL. Returns the wait status.
 */
static int
terminate(pid_t pid, bool group)
{
	siginfo_t si;
	unsigned long t0;
	int status = -1;

	if (pid <= 0)
		return -1;
	(void)kill(group ? -pid : pid, SIGTERM);
	t0 = now_ms();
	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)pid, &si,
		        WEXITED | WNOHANG | WNOWAIT) != 0 ||
		    si.si_pid == pid)
			break;
		if (now_ms() - t0 > HARNESS_STOP_MS)
			break;
		sleep_ms(5);
	}
	/*
	 * The leader is a zombie or still alive, so the pgid is still ours:
	 * kill what is left of the group (or the stuck process).
	 */
	(void)kill(group ? -pid : pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

static bool
pcscd_alive(struct cs_harness *h)
{
	int status;

	if (h->pcscd <= 0)
		return false;
	if (waitpid(h->pcscd, &status, WNOHANG) == h->pcscd) {
		h->pcscd = 0;
		return false;
	}
	return true;
}

/*
 * True when every reader of h is in l. pcscd names a cardsmith-ifd reader
 * "FRIENDLYNAME NN 00" with NN its index among the driver's readers, so
 * in ifd mode the full name is taken from the list.
 */
static bool
all_listed(struct cs_harness *h, const struct cs_reader_info *l, size_t n)
{
	char pfx[64];
	size_t i, len;
	int k, seen = 0;

	for (k = 0; k < h->nslots; k++) {
		snprintf(pfx, sizeof(pfx), CS_HARNESS_IFD_NAME " %d ", k + 1);
		len = strlen(pfx);
		for (i = 0; i < n; i++) {
			if (!h->ifd && strcmp(l[i].name, h->reader[k]) == 0)
				break;
			if (h->ifd && strncmp(l[i].name, pfx, len) == 0 &&
			    strlen(l[i].name) < sizeof(h->reader[k]))
				break;
		}
		if (i == n)
			continue;
		if (h->ifd) /* length checked above */
			memcpy(h->reader[k], l[i].name, strlen(l[i].name) + 1);
		seen++;
	}
	return seen == h->nslots;
}

/*
 * Wait until all readers are listed through the private socket. pcscd
 * loads reader.conf before it serves clients, and vpcd silently gives no
 * reader when its port is taken: once pcscd answers without our readers
 * for HARNESS_GRACE_MS, this try has failed.
 */
static bool
readers_ready(struct cs_harness *h, unsigned int timeout_ms)
{
	struct cs_reader_info *l = NULL;
	unsigned long t0 = now_ms(), answered = 0;
	size_t n;
	bool all;

	while (now_ms() - t0 < timeout_ms) {
		if (!pcscd_alive(h))
			return false;
		if (cs_pcsc_list(NULL, &l, &n) == CS_OK) {
			all = all_listed(h, l, n);
			cs_free(l);
			l = NULL;
			if (all)
				return true;
			if (answered == 0)
				answered = now_ms();
			else if (now_ms() - answered > HARNESS_GRACE_MS)
				return false;
		}
		sleep_ms(10);
	}
	return false;
}

/*
 * libpcsclite caches PCSCLITE_CSOCK_NAME at its first use, so every
 * harness of this process must serve the same socket path: the first one
 * picks the dir name, later ones re-create that dir.
 */
static char proc_dir[80];
static bool proc_live;

static int
reuse_dir(struct cs_harness *h)
{
	if (proc_dir[0] == '\0')
		return -1;
	if (mkdir(proc_dir, 0700) != 0) {
		fprintf(stderr,
		    "harness: cannot re-create %s (%s); this "
		    "process's libpcsclite keeps using the old socket path\n",
		    proc_dir, strerror(errno));
		return -1;
	}
	memcpy(h->dir, proc_dir, sizeof(h->dir));
	return 0;
}

static int
make_dir(struct cs_harness *h)
{
	const char *base = getenv("TMPDIR");
	const char *tail = "/cs-harness.XXXXXX";
	/* room for "/pcscd.comm" in sun_path */
	size_t room = sizeof(h->sock) - sizeof("/pcscd.comm");

	if (base == NULL || base[0] != '/' ||
	    strlen(base) + strlen(tail) > room ||
	    strlen(base) + strlen(tail) >= sizeof(h->dir))
		base = "/tmp";
	if (reuse_dir(h) != 0) {
		snprintf(h->dir, sizeof(h->dir), "%s%s", base, tail);
		if (mkdtemp(h->dir) == NULL) {
			fprintf(stderr, "harness: mkdtemp %s: %s\n", h->dir,
			    strerror(errno));
			h->dir[0] = '\0';
			return -1;
		}
		if (proc_dir[0] == '\0')
			memcpy(proc_dir, h->dir, sizeof(proc_dir));
	}
	snprintf(h->sock, sizeof(h->sock), "%s/pcscd.comm", h->dir);
	snprintf(h->conf, sizeof(h->conf), "%s/reader.conf", h->dir);
	snprintf(h->log, sizeof(h->log), "%s/pcscd.log", h->dir);
	return 0;
}

/*
 * CS_HARNESS_PORT=P forces the first try onto P/P+1 without checking them
 * (to exercise the retry path, or to pin ports while debugging).
 */
static int
forced_port(void)
{
	const char *s = getenv("CS_HARNESS_PORT");
	char *end;
	long p;

	if (s == NULL || s[0] == '\0')
		return -1;
	errno = 0;
	p = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || p < 1024 || p > 65534)
		return -1;
	return (int)p;
}

static int
try_start(struct cs_harness *h, int attempt)
{
	if (h->ifd)
		h->port = 0; /* unix sockets in our private dir: no ports */
	else if (attempt == 0 && forced_port() > 0)
		h->port = forced_port();
	else if ((h->port = pick_ports()) < 0) {
		fprintf(stderr, "harness: no free port pair\n");
		return -1;
	}
	if (write_conf(h) != 0 || (h->sockfd = listen_unix(h->sock)) < 0) {
		fprintf(stderr, "harness: %s: %s\n", h->dir, strerror(errno));
		return -1;
	}
	if (spawn_pcscd(h) != 0)
		return -1;
	/*
	 * pcscd has the listening socket now. Our copy would keep accepting
	 * connections into its backlog after pcscd died (a reader.conf it
	 * rejects), and libpcsclite would wait there for ever.
	 */
	close(h->sockfd);
	h->sockfd = -1;
	if (!h->isolated && access(HARNESS_RUNDIR "/pcscd.pid", F_OK) == 0 &&
	    access(HARNESS_RUNDIR, W_OK) == 0)
		fprintf(stderr,
		    "harness: warning: no private mount namespace "
		    "(not root?): this pcscd overwrites and at exit removes "
		    "the system pcscd's " HARNESS_RUNDIR "/pcscd.pid\n");
	if (readers_ready(h, HARNESS_READY_MS))
		return 0;
	if (h->ifd)
		fprintf(stderr,
		    "harness: the %d cardsmith-ifd readers did not appear "
		    "(see %s)\n",
		    h->nslots, h->log);
	else
		fprintf(stderr,
		    "harness: virtual readers did not appear on ports "
		    "%d/%d (see %s)\n",
		    h->port, h->port + 1, h->log);
	return -1;
}

static void
kill_pcscd(struct cs_harness *h)
{
	if (h->pcscd > 0)
		(void)terminate(h->pcscd, false);
	h->pcscd = 0;
	if (h->sockfd >= 0)
		close(h->sockfd);
	h->sockfd = -1;
}

/* Start pcscd for a prepared h (readers set up); frees h on failure. */
static enum cs_err
start_common(struct cs_harness *h, struct cs_harness **out)
{
	char dir[sizeof(h->dir)];
	int i;

	if (make_dir(h) != 0)
		goto fail;
	/* a copy: gcc -O1 -fsanitize sees h->dir and h->ifdsock overlap */
	memcpy(dir, h->dir, sizeof(dir));
	for (i = 0; h->ifd && i < h->nslots; i++)
		snprintf(h->ifdsock[i], sizeof(h->ifdsock[i]),
		    "%s/reader%d.sock", dir, i + 1);
	if (setenv("PCSCLITE_CSOCK_NAME", h->sock, 1) != 0)
		goto fail;
	for (i = 0; i < HARNESS_TRIES; i++) {
		if (try_start(h, i) == 0) {
			h->live = true;
			proc_live = true;
			*out = h;
			return CS_OK;
		}
		kill_pcscd(h);
	}
fail:
	cs_harness_stop(h);
	return CS_ERR_TRANSPORT;
}

static enum cs_err
harness_new(struct cs_harness **hp)
{
	*hp = NULL;
	if (proc_live) {
		fprintf(stderr,
		    "harness: one harness per process at a time "
		    "(libpcsclite knows one socket)\n");
		return CS_ERR_ARG;
	}
	if ((*hp = calloc(1, sizeof(**hp))) == NULL)
		return CS_ERR_NOMEM;
	(*hp)->sockfd = -1;
	return CS_OK;
}

enum cs_err
cs_harness_start(struct cs_harness **out)
{
	struct cs_harness *h;
	char why[256];
	enum cs_err r;

	*out = NULL;
	if (!cs_harness_available(why, sizeof(why))) {
		fprintf(stderr, "harness: %s\n", why);
		return CS_ERR_UNSUPPORTED;
	}
	if ((r = harness_new(&h)) != CS_OK)
		return r;
	h->nslots = CS_HARNESS_SLOTS;
	snprintf(h->reader[0], sizeof(h->reader[0]), "Virtual PCD 00 00");
	snprintf(h->reader[1], sizeof(h->reader[1]), "Virtual PCD 00 01");
	return start_common(h, out);
}

/* --- cardsmith-ifd mode --- */

/* path := dir/rel if that file exists, as an absolute path. */
static int
lib_at(char *path, size_t cap, const char *dir, const char *rel)
{
	char tmp[PATH_MAX];
	int w;

	w = snprintf(tmp, sizeof(tmp), "%s/%s", dir, rel);
	if (w <= 0 || (size_t)w >= sizeof(tmp) || access(tmp, R_OK) != 0 ||
	    realpath(tmp, path) == NULL || strlen(path) >= cap)
		return -1;
	return 0;
}

enum cs_err
cs_harness_ifd_lib(char *path, size_t cap)
{
	const char *env = getenv("CS_IFD_LIB");
	const char *build = getenv("CS_BUILD");
	char exe[PATH_MAX], buf[PATH_MAX];
	char *slash;
	ssize_t n;

	if (cap == 0)
		return CS_ERR_LIMIT;
	path[0] = '\0';
	if (env != NULL && env[0] == '/' && access(env, R_OK) == 0 &&
	    realpath(env, buf) != NULL && strlen(buf) < cap) {
		memcpy(path, buf, strlen(buf) + 1);
		return CS_OK;
	}
	if (build != NULL && build[0] != '\0' &&
	    lib_at(buf, sizeof(buf), build, "lib/" CS_HARNESS_IFD_SO) == 0 &&
	    strlen(buf) < cap) {
		memcpy(path, buf, strlen(buf) + 1);
		return CS_OK;
	}
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
		return CS_ERR_NOT_FOUND;
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) == NULL)
		return CS_ERR_NOT_FOUND;
	*slash = '\0';
	/* BUILD/tests/{integration,unit,harness}/prog or BUILD/bin/prog */
	if ((lib_at(buf, sizeof(buf), exe, "../../lib/" CS_HARNESS_IFD_SO) ==
	            0 ||
	        lib_at(buf, sizeof(buf), exe, "../lib/" CS_HARNESS_IFD_SO) ==
	            0) &&
	    strlen(buf) < cap) {
		memcpy(path, buf, strlen(buf) + 1);
		return CS_OK;
	}
	return CS_ERR_NOT_FOUND;
}

bool
cs_harness_ifd_available(char *why, size_t cap)
{
	char lib[PATH_MAX];
	const char *miss = NULL;

	if (access(CS_HARNESS_PCSCD, X_OK) != 0)
		miss =
		    CS_HARNESS_PCSCD " not installed (apt-get install pcscd)";
	else if (cs_harness_ifd_lib(lib, sizeof(lib)) != CS_OK)
		miss = CS_HARNESS_IFD_SO " not found (run make, or set "
		       "CS_BUILD or CS_IFD_LIB)";
	if (miss != NULL && why != NULL && cap > 0)
		snprintf(why, cap, "%s", miss);
	return miss == NULL;
}

enum cs_err
cs_harness_start_ifd(struct cs_harness **out, int nreaders)
{
	struct cs_harness *h;
	char why[256];
	enum cs_err r;

	*out = NULL;
	if (nreaders < 1 || nreaders > CS_HARNESS_IFD_MAX)
		return CS_ERR_ARG;
	if (!cs_harness_ifd_available(why, sizeof(why))) {
		fprintf(stderr, "harness: %s\n", why);
		return CS_ERR_UNSUPPORTED;
	}
	if ((r = harness_new(&h)) != CS_OK)
		return r;
	h->ifd = true;
	h->nslots = nreaders;
	if (cs_harness_ifd_lib(h->ifdlib, sizeof(h->ifdlib)) != CS_OK) {
		free(h);
		return CS_ERR_NOT_FOUND;
	}
	return start_common(h, out);
}

const char *
cs_harness_ifd_socket(const struct cs_harness *h, int slot)
{
	if (h == NULL || !h->ifd || slot < 0 || slot >= h->nslots)
		return "";
	return h->ifdsock[slot];
}

int
cs_harness_slots(const struct cs_harness *h)
{
	return h == NULL ? 0 : h->nslots;
}

bool
cs_harness_is_ifd(const struct cs_harness *h)
{
	return h != NULL && h->ifd;
}

/* --- cards --- */

static void __attribute__((noreturn))
card_child(struct cs_harness *h, int slot, const char *cmd, pid_t parent)
{
	char port[16];
	int nullfd;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		_exit(127);
	(void)setpgid(0, 0);
	snprintf(port, sizeof(port), "%d", h->ifd ? slot + 1 : h->port + slot);
	if (setenv(h->ifd ? "CS_IFD_READER" : "CS_VPCD_PORT", port, 1) != 0 ||
	    (h->ifd && setenv("CS_IFD_SOCKET", h->ifdsock[slot], 1) != 0) ||
	    setenv("CS_HARNESS_DIR", h->dir, 1) != 0 ||
	    setenv("PCSCLITE_CSOCK_NAME", h->sock, 1) != 0)
		_exit(127);
	/* Keep the test's stdout (TAP) clean: card chatter goes to stderr. */
	if ((nullfd = open("/dev/null", O_RDONLY)) < 0 || dup2(nullfd, 0) < 0 ||
	    dup2(2, 1) < 0)
		_exit(127);
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	_exit(127);
}

enum cs_err
cs_harness_start_card(struct cs_harness *h, int slot, const char *shell_cmd)
{
	pid_t pid, parent = getpid();

	if (h == NULL || slot < 0 || slot >= h->nslots ||
	    shell_cmd == NULL)
		return CS_ERR_ARG;
	(void)cs_harness_stop_card(h, slot);
	fflush(NULL);
	if ((pid = fork()) < 0)
		return CS_ERR_INTERNAL;
	if (pid == 0)
		card_child(h, slot, shell_cmd, parent);
	/* Also set it from here, so a SIGTERM to the group cannot race. */
	(void)setpgid(pid, pid);
	h->card[slot] = pid;
	return CS_OK;
}

int
cs_harness_stop_card(struct cs_harness *h, int slot)
{
	int status;

	if (h == NULL || slot < 0 || slot >= h->nslots ||
	    h->card[slot] <= 0)
		return -1;
	status = terminate(h->card[slot], true);
	h->card[slot] = 0;
	return status;
}

bool
cs_harness_card_exited(struct cs_harness *h, int slot, int *status)
{
	int st = 0;

	if (h == NULL || slot < 0 || slot >= h->nslots)
		return false;
	if (h->card[slot] <= 0)
		return true;
	if (waitpid(h->card[slot], &st, WNOHANG) != h->card[slot])
		return false;
	(void)kill(-h->card[slot], SIGKILL); /* stragglers of its group */
	h->card[slot] = 0;
	if (status != NULL)
		*status = st;
	return true;
}

/* True if slot's card program has exited (not reaped: status is kept). */
static bool
card_died(const struct cs_harness *h, int slot, int *code)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (h->card[slot] <= 0 ||
	    waitid(P_PID, (id_t)h->card[slot], &si,
	        WEXITED | WNOHANG | WNOWAIT) != 0 ||
	    si.si_pid != h->card[slot])
		return false;
	*code = si.si_status;
	return true;
}

enum cs_err
cs_harness_wait_card(struct cs_harness *h, int slot, bool present,
    unsigned int timeout_ms)
{
	struct cs_ctx *ctx = NULL;
	unsigned long t0 = now_ms(), left;
	unsigned int slice;
	enum cs_err r;
	int code = 0;

	if (h == NULL || slot < 0 || slot >= h->nslots)
		return CS_ERR_ARG;
	if ((r = cs_ctx_new(&ctx)) != CS_OK)
		return r;
	/* In slices, so a card program that died is reported at once. */
	for (;;) {
		left = timeout_ms - (now_ms() - t0);
		if (now_ms() - t0 >= timeout_ms)
			left = 1;
		slice = left > 100 ? 100 : (unsigned int)left;
		r = cs_pcsc_wait(ctx, h->reader[slot],
		    present ? CS_PCSC_WAIT_INSERT : CS_PCSC_WAIT_REMOVE,
		    slice == 0 ? 1 : slice);
		if (r != CS_ERR_TIMEOUT || now_ms() - t0 >= timeout_ms)
			break;
		if (present && card_died(h, slot, &code)) {
			fprintf(stderr,
			    "harness: card program of slot %d "
			    "exited (status %d) before its card appeared\n",
			    slot, code);
			r = CS_ERR_NO_CARD;
			goto out;
		}
	}
	if (r != CS_OK)
		fprintf(stderr, "harness: waiting for card %s in %s: %s\n",
		    present ? "insertion" : "removal", h->reader[slot],
		    cs_ctx_errmsg(ctx));
out:
	cs_ctx_free(ctx);
	return r;
}

const char *
cs_harness_reader(const struct cs_harness *h, int slot)
{
	if (h == NULL || slot < 0 || slot >= h->nslots)
		return "";
	return h->reader[slot];
}

int
cs_harness_port(const struct cs_harness *h, int slot)
{
	if (h == NULL || h->ifd || slot < 0 || slot >= h->nslots)
		return -1;
	return h->port + slot;
}

const char *
cs_harness_dir(const struct cs_harness *h)
{
	return h == NULL ? "" : h->dir;
}

const char *
cs_harness_socket(const struct cs_harness *h)
{
	return h == NULL ? "" : h->sock;
}

int
cs_harness_pcscd_pid(const struct cs_harness *h)
{
	return h == NULL ? -1 : (int)h->pcscd;
}

bool
cs_harness_isolated(const struct cs_harness *h)
{
	return h != NULL && h->isolated;
}

/* Append s to buf[*used..cap) in single quotes for sh. */
static int
put_quoted(char *buf, size_t cap, size_t *used, const char *s)
{
	const char *p;
	const char *esc = "'\\''";

	if (*used + 1 >= cap)
		return -1;
	buf[(*used)++] = '\'';
	for (p = s; *p != '\0'; p++) {
		if (*p == '\'') {
			if (*used + strlen(esc) >= cap)
				return -1;
			memcpy(buf + *used, esc, strlen(esc));
			*used += strlen(esc);
			continue;
		}
		if (*used + 1 >= cap)
			return -1;
		buf[(*used)++] = *p;
	}
	if (*used + 1 >= cap)
		return -1;
	buf[(*used)++] = '\'';
	buf[*used] = '\0';
	return 0;
}

static int
find_tinycard(char *path, size_t cap)
{
	const char *build = getenv("CS_BUILD");
	char exe[PATH_MAX];
	ssize_t n;
	char *slash;
	int w;

	if (build != NULL && build[0] != '\0') {
		w = snprintf(path, cap, "%s/tests/harness/tinycard", build);
		if (w > 0 && (size_t)w < cap && access(path, X_OK) == 0)
			return 0;
	}
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
		return -1;
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) == NULL)
		return -1;
	*slash = '\0';
	/* BUILD/tests/{integration,unit,harness}/prog */
	w = snprintf(path, cap, "%s/../harness/tinycard", exe);
	if (w > 0 && (size_t)w < cap && access(path, X_OK) == 0)
		return 0;
	return -1;
}

enum cs_err
cs_harness_tinycard_cmd(char *buf, size_t cap, const char *args)
{
	char path[PATH_MAX];
	size_t used = 0;

	if (cap == 0)
		return CS_ERR_LIMIT;
	buf[0] = '\0';
	if (find_tinycard(path, sizeof(path)) != 0)
		return CS_ERR_NOT_FOUND;
	if (put_quoted(buf, cap, &used, path) != 0)
		return CS_ERR_LIMIT;
	if (args != NULL && args[0] != '\0') {
		if (used + 1 + strlen(args) >= cap)
			return CS_ERR_LIMIT;
		buf[used++] = ' ';
		memcpy(buf + used, args, strlen(args) + 1);
	}
	return CS_OK;
}

void
cs_harness_stop(struct cs_harness *h)
{
	const char *keep = getenv("CS_HARNESS_KEEP");
	int i;

	if (h == NULL)
		return;
	for (i = 0; i < h->nslots; i++)
		(void)cs_harness_stop_card(h, i);
	kill_pcscd(h);
	if (h->live)
		proc_live = false;
	if (keep != NULL && strcmp(keep, "1") == 0)
		fprintf(stderr, "harness: kept %s\n", h->dir);
	else
		rm_tree(h->dir);
	free(h);
}
