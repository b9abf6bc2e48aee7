/*
 * Card side of the vsmartcard vpcd protocol (see vpcd.h and
 * pcsc-harness.md): a TCP client that answers framed control bytes and
 * command APDUs for one card implementation.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cardsmith/buf.h"
#include "vpcd.h"

#include "banned.h"

/* How often a waiting serve loop looks at *stop (milliseconds). */
#define VPCD_POLL_MS 100
/* Reply buffer: a 2-byte length header, then data + SW. */
#define VPCD_REPLY_MAX (0xffff + 2)

struct vpcd_conn {
	int fd;
	bool tcp; /* TCP to vpcd (else a unix socket to cardsmith-ifd) */
	volatile int *stop;
	uint8_t *msg; /* SIM_VPCD_MSG_MAX bytes: one received message */
	uint8_t *reply; /* VPCD_REPLY_MAX bytes: header + one reply */
};

/* Outcome of waiting for or reading bytes. */
enum io_res {
	IO_OK,
	IO_STOP, /* *stop became non-zero */
	IO_CLOSED, /* peer closed or socket error */
};

static bool
stopped(const struct vpcd_conn *c)
{
	return c->stop != NULL && *c->stop != 0;
}

static void
quickack(int fd)
{
	int one = 1;

	/* Linux clears QUICKACK after use; re-arm before every recv. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

/*
 * Wait until fd is ready for events (POLLIN: readable, POLLOUT: takes more
 * bytes), checking the stop flag every VPCD_POLL_MS.
 */
static enum io_res
wait_ready(struct vpcd_conn *c, short events)
{
	struct pollfd pfd;
	int n;

	for (;;) {
		if (stopped(c))
			return IO_STOP;
		pfd.fd = c->fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, VPCD_POLL_MS);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return IO_CLOSED;
		if (n > 0)
			return IO_OK; /* ready, or HUP/ERR: recv/send tells */
	}
}

/* Read exactly n bytes into dst (n <= the caller's array size). */
static enum io_res
read_full(struct vpcd_conn *c, uint8_t *dst, size_t n)
{
	size_t got = 0;
	ssize_t r;
	enum io_res w;

	while (got < n) {
		if ((w = wait_ready(c, POLLIN)) != IO_OK)
			return w;
		if (c->tcp)
			quickack(c->fd);
		r = recv(c->fd, dst + got, n - got, 0);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			return IO_CLOSED;
		got += (size_t)r;
	}
	return IO_OK;
}

static enum io_res
write_full(struct vpcd_conn *c, const uint8_t *src, size_t n)
{
	size_t done = 0;
	ssize_t r;
	enum io_res w;

	while (done < n) {
		if ((w = wait_ready(c, POLLOUT)) != IO_OK)
			return w;
		r = send(c->fd, src + done, n - done,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r < 0 &&
		    (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (r <= 0)
			return IO_CLOSED;
		done += (size_t)r;
	}
	return IO_OK;
}

/*
 * Send reply[2..2+len) framed: the header is written into reply[0..2) so
 * header and body leave in a single send (no Nagle/delayed-ACK stall).
 */
static enum io_res
send_framed(struct vpcd_conn *c, size_t len)
{
	if (len > 0xffff)
		return IO_CLOSED;
	c->reply[0] = (uint8_t)(len >> 8);
	c->reply[1] = (uint8_t)len;
	return write_full(c, c->reply, len + 2);
}

/* Receive one framed message into c->msg; *len is its length. */
static enum io_res
recv_msg(struct vpcd_conn *c, size_t *len)
{
	uint8_t hdr[2];
	struct cs_cur cur;
	uint16_t n16;
	size_t n;
	enum io_res w;

	*len = 0;
	if ((w = read_full(c, hdr, sizeof(hdr))) != IO_OK)
		return w;
	cs_cur_init(&cur, hdr, sizeof(hdr));
	if (cs_cur_get_u16(&cur, &n16) != CS_OK)
		return IO_CLOSED;
	n = n16;
	/* vpcd never sends an empty message; a bogus length ends the link. */
	if (n == 0 || n > SIM_VPCD_MSG_MAX)
		return IO_CLOSED;
	if ((w = read_full(c, c->msg, n)) != IO_OK)
		return w;
	*len = n;
	return IO_OK;
}

static enum io_res
handle_ctrl(struct vpcd_conn *c, const struct sim_vpcd_card *card, uint8_t ctrl)
{
	switch (ctrl) {
	case SIM_VPCD_POWER_OFF:
	case SIM_VPCD_POWER_ON:
	case SIM_VPCD_RESET:
		if (card->power != NULL)
			card->power(card->self, (enum sim_vpcd_ctrl)ctrl);
		return IO_OK;
	case SIM_VPCD_GET_ATR:
		if (card->atr == NULL || card->atr_len > 0xffff)
			return IO_CLOSED;
		memcpy(c->reply + 2, card->atr, card->atr_len);
		return send_framed(c, card->atr_len);
	default:
		/* Unknown control: vpcd expects no answer; ignore it. */
		return IO_OK;
	}
}

static enum io_res
handle_apdu(struct vpcd_conn *c, const struct sim_vpcd_card *card, size_t len)
{
	size_t resplen = 0;
	/* The 2-byte frame length caps a reply at 0xffff bytes. */
	const size_t cap = 0xffff;

	card->apdu(card->self, c->msg, len, c->reply + 2, cap, &resplen);
	if (resplen < 2 || resplen > cap) {
		/* A broken card implementation still owes an SW. */
		c->reply[2] = 0x6f;
		c->reply[3] = 0x00;
		resplen = 2;
	}
	return send_framed(c, resplen);
}

static int
connect_vpcd(const char *host, int port)
{
	struct sockaddr_in sin;
	int fd, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host != NULL ? host : "127.0.0.1",
	        &sin.sin_addr) != 1)
		return -1;
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	while (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		if (errno == EINTR)
			continue;
		close(fd);
		return -1;
	}
	quickack(fd);
	return fd;
}

static enum cs_err
serve_loop(struct vpcd_conn *c, const struct sim_vpcd_card *card,
    unsigned long drop_after)
{
	unsigned long answered = 0;
	size_t len;
	enum io_res w;

	for (;;) {
		if ((w = recv_msg(c, &len)) != IO_OK)
			return w == IO_STOP ? CS_OK : CS_ERR_TRANSPORT;
		if (len == 1)
			w = handle_ctrl(c, card, c->msg[0]);
		else
			w = handle_apdu(c, card, len);
		if (w != IO_OK)
			return CS_ERR_TRANSPORT;
		if (len > 1 && drop_after > 0 && ++answered >= drop_after)
			return CS_OK;
	}
}

/* Connect to cardsmith-ifd's reader socket at path. */
static int
connect_unix(const char *path)
{
	struct sockaddr_un sun;
	size_t n = strlen(path);
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (n >= sizeof(sun.sun_path))
		return -1;
	memcpy(sun.sun_path, path, n + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	while (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		if (errno == EINTR)
			continue;
		close(fd);
		return -1;
	}
	return fd;
}

/* Connect (host/port for vpcd, else path), then serve until done. */
static enum cs_err
serve(const char *host, int port, const char *path,
    const struct sim_vpcd_card *card, volatile int *stop,
    unsigned long drop_after)
{
	struct vpcd_conn c;
	enum cs_err r = CS_ERR_INTERNAL;

	memset(&c, 0, sizeof(c));
	c.fd = -1;
	c.stop = stop;
	c.tcp = path == NULL;
	if (card == NULL || card->apdu == NULL ||
	    (path == NULL && (port <= 0 || port > 65535))) {
		r = CS_ERR_ARG;
		goto out;
	}
	c.msg = malloc(SIM_VPCD_MSG_MAX);
	c.reply = malloc(VPCD_REPLY_MAX);
	if (c.msg == NULL || c.reply == NULL) {
		r = CS_ERR_NOMEM;
		goto out;
	}
	c.fd = c.tcp ? connect_vpcd(host, port) : connect_unix(path);
	if (c.fd < 0) {
		r = CS_ERR_TRANSPORT;
		goto out;
	}
	r = serve_loop(&c, card, drop_after);
out:
	if (c.fd >= 0)
		close(c.fd);
	free(c.msg);
	free(c.reply);
	return r;
}

enum cs_err
sim_vpcd_serve(const char *host, int port, const struct sim_vpcd_card *card,
    volatile int *stop, unsigned long drop_after)
{
	return serve(host, port, NULL, card, stop, drop_after);
}

enum cs_err
sim_vpcd_serve_socket(const char *path, const struct sim_vpcd_card *card,
    volatile int *stop, unsigned long drop_after)
{
	if (path == NULL)
		return CS_ERR_ARG;
	return serve(NULL, 0, path, card, stop, drop_after);
}
