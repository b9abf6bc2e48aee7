/*
 * cardsmith-ifd: the unix-socket channel of one virtual reader (chan.h).
 * All descriptors are non-blocking; every wait is a bounded poll, so a
 * card that stops talking costs at most IFD_REPLY_MS, never a hung pcscd.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chan.h"

#include "banned.h"

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* The socket's directory: ours, a real directory, closed to others. */
static int
dir_private(const char *path)
{
	char dir[sizeof(((struct ifd_chan *)0)->path)];
	const char *slash = strrchr(path, '/');
	struct stat st;
	size_t n;

	if (slash == NULL || slash == path)
		return -1;
	n = (size_t)(slash - path);
	if (n >= sizeof(dir))
		return -1;
	memcpy(dir, path, n);
	dir[n] = '\0';
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077) != 0)
		return -1;
	return 0;
}

int
ifd_chan_listen(struct ifd_chan *c, const char *path)
{
	struct sockaddr_un sun;
	struct stat st;
	size_t n = strlen(path);
	int fd = -1;

	c->lfd = c->cfd = -1;
	c->atr_len = 0;
	c->unseen = false;
	if (path[0] != '/' || n >= sizeof(sun.sun_path) ||
	    n >= sizeof(c->path) || dir_private(path) != 0)
		return -1;
	/* A socket left by an earlier pcscd is replaced; nothing else is. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode) || unlink(path) != 0)
			return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, n + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* The 0700 directory keeps others out until chmod narrows it. */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
		goto fail;
	if (chmod(path, 0600) != 0 || lstat(path, &st) != 0 ||
	    listen(fd, 4) != 0) {
		(void)unlink(path);
		goto fail;
	}
	memcpy(c->path, path, n + 1);
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	c->lfd = fd;
	return 0;
fail:
	close(fd);
	return -1;
}

int
ifd_chan_detach(struct ifd_chan *c)
{
	int fd = c->cfd;

	c->cfd = -1;
	c->atr_len = 0;
	if (fd >= 0) {
		(void)shutdown(fd, SHUT_RDWR);
		c->unseen = true;
	}
	return fd;
}

void
ifd_chan_close(struct ifd_chan *c)
{
	struct stat st;
	int fd = ifd_chan_detach(c);

	if (fd >= 0)
		close(fd);
	if (c->lfd >= 0) {
		close(c->lfd);
		c->lfd = -1;
		/* Only the socket we bound: a new pcscd may own the path. */
		if (lstat(c->path, &st) == 0 && st.st_dev == c->dev &&
		    st.st_ino == c->ino)
			(void)unlink(c->path);
	}
	c->path[0] = '\0';
}

/* Only a card program of our own user may be a card. */
static bool
peer_ok(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0 ||
	    len != sizeof(cr))
		return false;
	return cr.uid == geteuid();
}

static void
try_accept(struct ifd_chan *c)
{
	int fd;

	for (;;) {
		fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && errno == EINTR)
			continue;
		if (fd < 0)
			return;
		if (peer_ok(fd)) {
			c->cfd = fd;
			c->atr_len = 0;
			return;
		}
		close(fd);
	}
}

/* True when the card's side of the connection has ended. */
static bool
conn_ended(int fd)
{
	struct pollfd p = { fd, POLLRDHUP, 0 };
	int n;

	while ((n = poll(&p, 1, 0)) < 0 && errno == EINTR)
		;
	return n < 0 ||
	    (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

void
ifd_chan_seen(struct ifd_chan *c)
{
	c->unseen = false;
}

bool
ifd_chan_present(struct ifd_chan *c, bool *changed, int *gone)
{
	bool had = c->cfd >= 0;

	*gone = -1;
	*changed = false;
	if (had && conn_ended(c->cfd)) {
		*gone = ifd_chan_detach(c);
		*changed = true;
	}
	/*
	 * A card that went (found here, or in an APDU or power call) stays
	 * gone until pcscd's event thread has looked (ifd_chan_seen): pcscd
	 * also asks from its power and connect paths, and a swapped card
	 * taken in between would pass for the same card (same ATR, stale
	 * sessions).
	 */
	if (c->unseen)
		return false;
	if (!had && c->lfd >= 0) {
		try_accept(c);
		/* Came and went already: nobody polls this one yet. */
		if (c->cfd >= 0 && conn_ended(c->cfd)) {
			close(ifd_chan_detach(c));
			c->unseen = false;
		}
		*changed = c->cfd >= 0;
	}
	return c->cfd >= 0;
}

/* Wait for events on fd until deadline; 0 when they are there. */
static int
wait_fd(int fd, short events, long deadline)
{
	struct pollfd p;
	long left;
	int n;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return -1;
		p.fd = fd;
		p.events = events;
		p.revents = 0;
		n = poll(&p, 1, left > 1000 ? 1000 : (int)left);
		if (n < 0 && errno != EINTR)
			return -1;
		if (n > 0)
			return 0; /* ready, or HUP/ERR: the I/O call tells */
	}
}

static int
write_all(int fd, const uint8_t *p, size_t n, long deadline)
{
	ssize_t w;

	while (n > 0) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(fd, POLLOUT, deadline) != 0)
				return -1;
			continue;
		}
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
read_all(int fd, uint8_t *p, size_t n, long deadline)
{
	ssize_t r;

	while (n > 0) {
		r = recv(fd, p, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(fd, POLLIN, deadline) != 0)
				return -1;
			continue;
		}
		if (r <= 0)
			return -1; /* the card went away mid-message */
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/*
 * Bytes the card sent without being asked mean its framing can no longer
 * be trusted: such a card is dropped rather than resynchronised.
 */
static bool
unsolicited(int fd)
{
	struct pollfd p = { fd, POLLIN | POLLRDHUP, 0 };
	int n;

	while ((n = poll(&p, 1, 0)) < 0 && errno == EINTR)
		;
	return n != 0;
}

/*
 * Send c->frame[2..2+len) framed, in one write (no Nagle-style stall),
 * and if want is set, receive one framed answer into c->frame[2..) whose
 * length goes to *got. 0 or -1 (the connection is unusable).
 */
static int
exchange(struct ifd_chan *c, size_t len, bool want, size_t *got)
{
	long deadline = now_ms() + IFD_REPLY_MS;
	size_t n;

	if (c->cfd < 0 || len == 0 || len > IFD_FRAME_MAX ||
	    unsolicited(c->cfd))
		return -1;
	c->frame[0] = (uint8_t)(len >> 8);
	c->frame[1] = (uint8_t)len;
	if (write_all(c->cfd, c->frame, len + 2, deadline) != 0)
		return -1;
	if (!want)
		return 0;
	if (read_all(c->cfd, c->frame, 2, deadline) != 0)
		return -1;
	n = ((size_t)c->frame[0] << 8) | c->frame[1];
	if (n == 0 || read_all(c->cfd, c->frame + 2, n, deadline) != 0)
		return -1;
	*got = n;
	return 0;
}

static int
drop(struct ifd_chan *c, int *gone)
{
	*gone = ifd_chan_detach(c);
	return -1;
}

int
ifd_chan_ctrl(struct ifd_chan *c, enum ifd_ctrl what, int *gone)
{
	size_t n = 0;

	*gone = -1;
	c->frame[2] = (uint8_t)what;
	if (exchange(c, 1, false, &n) != 0)
		return drop(c, gone);
	if (what != IFD_CTRL_POWER_ON && what != IFD_CTRL_RESET)
		return 0;
	c->frame[2] = IFD_CTRL_GET_ATR;
	if (exchange(c, 1, true, &n) != 0 || n < 2 || n > IFD_ATR_MAX)
		return drop(c, gone);
	memcpy(c->atr, c->frame + 2, n);
	c->atr_len = n;
	return 0;
}

int
ifd_chan_apdu(struct ifd_chan *c, const uint8_t *cmd, size_t len, uint8_t *resp,
    size_t cap, size_t *resplen, int *gone)
{
	size_t n = 0;

	*gone = -1;
	*resplen = 0;
	/* One byte would reach the card as a control, not as a command. */
	if (len < 2 || len > IFD_FRAME_MAX)
		return -3;
	memcpy(c->frame + 2, cmd, len);
	if (exchange(c, len, true, &n) != 0 || n < 2)
		return drop(c, gone);
	if (n > cap)
		return -2;
	memcpy(resp, c->frame + 2, n);
	*resplen = n;
	return 0;
}

void
ifd_chan_wait(int lfd, int cfd, int wakefd, int timeout_ms)
{
	struct pollfd p[2];
	nfds_t n = 0;

	p[n].fd = wakefd;
	p[n].events = POLLIN;
	p[n++].revents = 0;
	/* The answer to an APDU is POLLIN too: watch only for the end. */
	if (cfd >= 0) {
		p[n].fd = cfd;
		p[n].events = POLLRDHUP;
		p[n++].revents = 0;
	} else if (lfd >= 0) {
		p[n].fd = lfd;
		p[n].events = POLLIN;
		p[n++].revents = 0;
	}
	while (poll(p, n, timeout_ms) < 0 && errno == EINTR)
		;
}
