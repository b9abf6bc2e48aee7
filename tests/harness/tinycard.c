/*
 * tinycard: the smallest PIV-looking card for harness tests. It speaks the
 * vpcd protocol (sim/vpcd.c) and answers:
 *   SELECT of the PIV AID (any prefix of >= 5 bytes)  → §2.2 template, 9000
 *   GET DATA 5C 01 7E (discovery object, §5.5)        → 7E 12 ..., 9000
 *   any other SELECT or GET DATA                        → 6A82
 *   anything else                                       → 6D00
 *
 * usage: tinycard [--vpcd-port PORT] [--drop-after N] [--atr HEX]
 * PORT defaults to $CS_VPCD_PORT. With --drop-after N the card closes its
 * connection after answering N APDUs (a pulled card) and exits 0;
 * otherwise it reconnects whenever vpcd drops it. SIGTERM/SIGINT: exit 0.
 */
#include <sys/prctl.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cardsmith/buf.h"
#include "cardsmith/transport.h"
#include "../../sim/vpcd.h"

/* Give up when vpcd has not talked to us for this long. */
#define TINY_IDLE_MAX_MS 10000u

/* clang-format off */
static const uint8_t yk5_atr[] = {
	0x3b, 0xfd, 0x13, 0x00, 0x00, 0x81, 0x31, 0xfe, 0x15, 0x80, 0x73,
	0xc0, 0x21, 0xc0, 0x57, 0x59, 0x75, 0x62, 0x69, 0x4b, 0x65, 0x79,
	0x40,
};
static const uint8_t piv_aid[] = {
	0xa0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00,
};
/* piv-apdu.md §2.2: application property template, as a YubiKey sends it */
static const uint8_t select_resp[] = {
	0x61, 0x11, 0x4f, 0x06, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00,
	0x79, 0x07, 0x4f, 0x05, 0xa0, 0x00, 0x00, 0x03, 0x08,
};
/* piv-apdu.md §5.5: discovery object */
static const uint8_t discovery[] = {
	0x7e, 0x12, 0x4f, 0x0b, 0xa0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00,
	0x10, 0x00, 0x01, 0x00, 0x5f, 0x2f, 0x02, 0x40, 0x00,
};
static const uint8_t tag_discovery[] = { 0x5c, 0x01, 0x7e };
/* clang-format on */

struct tiny {
	uint8_t atr[CS_ATR_MAX];
	size_t atr_len;
	unsigned long answered;
	struct timespec last; /* last message from vpcd */
};

static volatile int stop_flag;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void
touch(struct tiny *t)
{
	clock_gettime(CLOCK_MONOTONIC, &t->last);
}

static unsigned long
idle_ms(const struct tiny *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (unsigned long)(now.tv_sec - t->last.tv_sec) * 1000ul +
	    (unsigned long)((now.tv_nsec - t->last.tv_nsec) / 1000000l);
}

static void
tiny_power(void *self, enum sim_vpcd_ctrl what)
{
	(void)what;
	touch(self);
}

static void
put_sw(uint8_t *resp, size_t *len, uint16_t sw)
{
	resp[*len] = (uint8_t)(sw >> 8);
	resp[*len + 1] = (uint8_t)sw;
	*len += 2;
}

/*
 * Split a command APDU (ISO 7816-4 §5.1, short or extended) into its
 * header and data. Returns 0 or an SW for a malformed command.
 */
static uint16_t
parse_cmd(const uint8_t *cmd, size_t len, uint8_t hdr[4], struct cs_cur *data)
{
	struct cs_cur c;
	uint8_t b;
	uint16_t lc;

	cs_cur_init(&c, cmd, len);
	cs_cur_init(data, NULL, 0);
	if (cs_cur_copy(&c, hdr, 4) != CS_OK)
		return 0x6700;
	if (cs_cur_len(&c) <= 1)
		return 0; /* case 1 or case 2 short */
	if (cs_cur_get_u8(&c, &b) != CS_OK)
		return 0x6700;
	if (b != 0) {
		lc = b;
	} else if (cs_cur_len(&c) == 2) {
		return 0; /* case 2 extended */
	} else if (cs_cur_get_u16(&c, &lc) != CS_OK || lc == 0) {
		return 0x6700;
	}
	if (cs_cur_get_bytes(&c, lc, data) != CS_OK)
		return 0x6700;
	/* What is left is Le: nothing, 1 byte (short) or 2 (extended). */
	if (cs_cur_len(&c) > 2)
		return 0x6700;
	return 0;
}

static uint16_t
do_select(const uint8_t hdr[4], const struct cs_cur *aid, uint8_t *resp,
    size_t *len)
{
	size_t n = cs_cur_len(aid);

	if (hdr[2] != 0x04)
		return 0x6a82;
	if (n < 5 || n > sizeof(piv_aid) ||
	    !cs_memeq_public(cs_cur_ptr(aid), piv_aid, n))
		return 0x6a82;
	memcpy(resp, select_resp, sizeof(select_resp));
	*len = sizeof(select_resp);
	return 0x9000;
}

static uint16_t
do_get_data(const uint8_t hdr[4], const struct cs_cur *tag, uint8_t *resp,
    size_t *len)
{
	if (hdr[2] != 0x3f || hdr[3] != 0xff)
		return 0x6a86;
	if (!cs_cur_eq(tag, tag_discovery, sizeof(tag_discovery)))
		return 0x6a82;
	memcpy(resp, discovery, sizeof(discovery));
	*len = sizeof(discovery);
	return 0x9000;
}

static void
tiny_apdu(void *self, const uint8_t *cmd, size_t len, uint8_t *resp, size_t cap,
    size_t *resplen)
{
	struct tiny *t = self;
	struct cs_cur data;
	uint8_t hdr[4];
	uint16_t sw;

	touch(t);
	t->answered++;
	*resplen = 0;
	if (cap < sizeof(select_resp) + sizeof(discovery) + 2) {
		*resplen = 0; /* vpcd.c turns this into 6F00 */
		return;
	}
	if ((sw = parse_cmd(cmd, len, hdr, &data)) != 0) {
		put_sw(resp, resplen, sw);
		return;
	}
	switch (hdr[1]) {
	case 0xa4:
		sw = do_select(hdr, &data, resp, resplen);
		break;
	case 0xcb:
		sw = do_get_data(hdr, &data, resp, resplen);
		break;
	default:
		sw = 0x6d00;
		break;
	}
	if (sw != 0x9000)
		*resplen = 0;
	put_sw(resp, resplen, sw);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
parse_hex(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	int hi, lo;

	*len = 0;
	while (*s != '\0') {
		if (*s == ' ' || *s == ':') {
			s++;
			continue;
		}
		if ((hi = hexval(s[0])) < 0 || (lo = hexval(s[1])) < 0 ||
		    *len == cap)
			return -1;
		out[(*len)++] = (uint8_t)(hi << 4 | lo);
		s += 2;
	}
	return *len > 0 ? 0 : -1;
}

static int
parse_ulong(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	return errno != 0 || end == s || *end != '\0' || *v > max ? -1 : 0;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: tinycard [--vpcd-port PORT] [--drop-after N] "
	    "[--atr HEX]\n");
	exit(2);
}

static void
setup_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: poll() sees EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int
serve(struct tiny *t, unsigned long port, unsigned long drop_after)
{
	struct sim_vpcd_card card;
	struct timespec pause = { 0, 50 * 1000000L };
	unsigned long left;
	enum cs_err r;

	memset(&card, 0, sizeof(card));
	card.self = t;
	card.atr = t->atr;
	card.atr_len = t->atr_len;
	card.power = tiny_power;
	card.apdu = tiny_apdu;
	touch(t);
	while (!stop_flag) {
		left = drop_after == 0 ? 0 : drop_after - t->answered;
		r = sim_vpcd_serve(NULL, (int)port, &card, &stop_flag, left);
		if (stop_flag)
			break;
		if (r == CS_OK && drop_after > 0 && t->answered >= drop_after)
			return 0; /* pulled as asked */
		if (idle_ms(t) > TINY_IDLE_MAX_MS) {
			fprintf(stderr, "tinycard: vpcd on port %lu gone\n",
			    port);
			return 1;
		}
		nanosleep(&pause, NULL);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vpcd-port", required_argument, NULL, 'p' },
		{ "drop-after", required_argument, NULL, 'd' },
		{ "atr", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tiny t;
	const char *portstr = getenv("CS_VPCD_PORT");
	unsigned long port = 0, drop_after = 0;
	int ch;

	memset(&t, 0, sizeof(t));
	memcpy(t.atr, yk5_atr, sizeof(yk5_atr));
	t.atr_len = sizeof(yk5_atr);
	while ((ch = getopt_long(argc, argv, "p:d:a:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			portstr = optarg;
			break;
		case 'd':
			if (parse_ulong(optarg, 1000000ul, &drop_after) != 0)
				usage();
			break;
		case 'a':
			if (parse_hex(optarg, t.atr, sizeof(t.atr),
			        &t.atr_len) != 0)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc || portstr == NULL ||
	    parse_ulong(portstr, 65535, &port) != 0 || port == 0)
		usage();
	setup_signals();
	/* Die with whoever started us (the harness, or its sh). */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() == 1)
		return 1;
	return serve(&t, port, drop_after);
}
