/*
 * cardsmith-ifd (sim/ifd/) inside a real private pcscd with 8 readers.
 * The cards are played by this program: each fake card is a thread that
 * connects to its reader's unix socket and speaks vpcd's framing, well or
 * badly. Checks: 8 readers listed, cards seen within milliseconds of
 * connecting (the driver's polling function), APDUs reach the right card
 * when 8 readers work at once, and a card that misbehaves (closes at
 * once, empty or oversized ATR, a 1-byte answer, an answer cut off
 * mid-frame, bytes nobody asked for) only ever makes its own reader lose
 * the card: pcscd stays up and the other readers keep working. Also
 * sim_vpcd_serve_socket, the card side of `cardsmith-sim --socket`.
 *
 * Skips (77) only when pcscd is not installed (or the driver not built).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <winscard.h>

#include "cardsmith/pcsc.h"
#include "harness.h"
#include "../../sim/vpcd.h"

#define NREADERS 8
#define WAIT_MS 5000u
/* A card must be seen well before pcscd's own 400 ms presence poll. */
#define SEEN_MAX_MS 300.0

/* clang-format off */
static const uint8_t yk5_atr[] = {
	0x3b, 0xfd, 0x13, 0x00, 0x00, 0x81, 0x31, 0xfe, 0x15, 0x80, 0x73,
	0xc0, 0x21, 0xc0, 0x57, 0x59, 0x75, 0x62, 0x69, 0x4b, 0x65, 0x79,
	0x40,
};
/* clang-format on */

enum fake_mode {
	FAKE_GOOD, /* ATR; APDU -> id, the command, 90 00 */
	FAKE_CLOSE, /* closes right after connecting */
	FAKE_EMPTY_ATR, /* answers GET ATR with an empty frame */
	FAKE_LONG_ATR, /* answers GET ATR with 40 bytes */
	FAKE_SHORT_RESP, /* answers an APDU with one byte */
	FAKE_CUT_RESP, /* announces 300 bytes, sends 10, closes */
	FAKE_UNSOLICITED, /* sends bytes after power on unasked */
	FAKE_HUGE_RESP, /* answers an APDU with 65535 bytes */
	FAKE_DIE_MID_APDU, /* reads the APDU, then closes without answer */
};

struct fake {
	int slot;
	enum fake_mode mode;
	int fd;
	pthread_t th;
	bool running;
	unsigned long apdus;
};

struct env {
	struct cs_harness *h;
	SCARDCONTEXT sc;
	struct fake cards[NREADERS];
};

/* Under valgrind this program (not pcscd) runs many times slower. */
static double
seen_max_ms(void)
{
	const char *v = getenv("CS_TEST_VALGRIND");

	return v != NULL && strcmp(v, "1") == 0 ? 10 * SEEN_MAX_MS
	                                        : SEEN_MAX_MS;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
read_full(int fd, uint8_t *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = recv(fd, p, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
send_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
send_frame(int fd, const uint8_t *p, size_t n)
{
	uint8_t *b = malloc(n + 2);
	int rc;

	if (b == NULL)
		return -1;
	b[0] = (uint8_t)(n >> 8);
	b[1] = (uint8_t)n;
	memcpy(b + 2, p, n);
	rc = send_all(fd, b, n + 2);
	free(b);
	return rc;
}

/* Answer one APDU as mode says; -1 ends the card. */
static int
fake_apdu(struct fake *f, const uint8_t *cmd, size_t len)
{
	uint8_t resp[300];
	static uint8_t huge[0xffff];
	static const uint8_t cut_hdr[] = { 0x01, 0x2c };

	f->apdus++;
	switch (f->mode) {
	case FAKE_SHORT_RESP:
		resp[0] = 0x90;
		(void)send_frame(f->fd, resp, 1);
		return 0;
	case FAKE_CUT_RESP:
		memset(resp, 0x55, 10);
		(void)send_all(f->fd, cut_hdr, sizeof(cut_hdr));
		(void)send_all(f->fd, resp, 10);
		return -1;
	case FAKE_HUGE_RESP:
		memset(huge, 0x11, sizeof(huge));
		huge[sizeof(huge) - 2] = 0x90;
		huge[sizeof(huge) - 1] = 0x00;
		return send_frame(f->fd, huge, sizeof(huge));
	case FAKE_DIE_MID_APDU:
		return -1;
	default:
		break;
	}
	if (len > sizeof(resp) - 3)
		len = sizeof(resp) - 3;
	resp[0] = (uint8_t)(0xc0 + f->slot); /* which card answered */
	memcpy(resp + 1, cmd, len);
	resp[len + 1] = 0x90;
	resp[len + 2] = 0x00;
	return send_frame(f->fd, resp, len + 3);
}

static int
fake_ctrl(struct fake *f, uint8_t ctrl)
{
	uint8_t atr[40];
	static const uint8_t junk[] = { 0xde, 0xad, 0xbe, 0xef };

	if (ctrl == 0x01 && f->mode == FAKE_UNSOLICITED)
		return send_all(f->fd, junk, sizeof(junk));
	if (ctrl != 0x04)
		return 0;
	if (f->mode == FAKE_EMPTY_ATR)
		return send_all(f->fd, (const uint8_t *)"\0\0", 2);
	if (f->mode == FAKE_LONG_ATR) {
		memset(atr, 0x3b, sizeof(atr));
		return send_frame(f->fd, atr, sizeof(atr));
	}
	return send_frame(f->fd, yk5_atr, sizeof(yk5_atr));
}

static void *
fake_main(void *arg)
{
	struct fake *f = arg;
	uint8_t hdr[2], *msg = malloc(0x10000);
	size_t n;

	while (msg != NULL && f->mode != FAKE_CLOSE) {
		if (read_full(f->fd, hdr, 2) != 0)
			break;
		n = ((size_t)hdr[0] << 8) | hdr[1];
		if (n == 0 || read_full(f->fd, msg, n) != 0)
			break;
		if ((n == 1 ? fake_ctrl(f, msg[0]) : fake_apdu(f, msg, n)) != 0)
			break;
	}
	free(msg);
	(void)shutdown(f->fd, SHUT_RDWR);
	return NULL;
}

static int
connect_reader(struct env *e, int slot)
{
	struct sockaddr_un sun;
	const char *path = cs_harness_ifd_socket(e->h, slot);
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -1;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Insert a fake card in slot (connect, start its thread). */
static void
fake_insert(struct env *e, int slot, enum fake_mode mode)
{
	struct fake *f = &e->cards[slot];

	assert_false(f->running);
	memset(f, 0, sizeof(*f));
	f->slot = slot;
	f->mode = mode;
	f->fd = connect_reader(e, slot);
	assert_true(f->fd >= 0);
	assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
	f->running = true;
}

/* Pull the fake card of slot (close; join its thread). */
static void
fake_remove(struct env *e, int slot)
{
	struct fake *f = &e->cards[slot];

	if (!f->running)
		return;
	(void)shutdown(f->fd, SHUT_RDWR);
	(void)pthread_join(f->th, NULL);
	close(f->fd);
	f->running = false;
}

static enum cs_err
wait_state(struct env *e, int slot, bool present)
{
	return cs_harness_wait_card(e->h, slot, present, WAIT_MS);
}

/* pcsc-lite's event counter of slot's reader (high word of the state). */
static DWORD
event_count(struct env *e, int slot, DWORD *state)
{
	SCARD_READERSTATE rs;

	memset(&rs, 0, sizeof(rs));
	rs.szReader = cs_harness_reader(e->h, slot);
	rs.dwCurrentState = SCARD_STATE_UNAWARE;
	if (SCardGetStatusChange(e->sc, 0, &rs, 1) != SCARD_S_SUCCESS)
		return 0;
	*state = rs.dwEventState;
	return rs.dwEventState >> 16;
}

/*
 * Wait until slot's reader has seen a removal and an insertion since the
 * counter read before (a swapped card, which never passes as the same).
 */
static bool
wait_new_card(struct env *e, int slot, DWORD before)
{
	double t0 = now_ms();
	DWORD st = 0, n;

	while (now_ms() - t0 < WAIT_MS) {
		n = event_count(e, slot, &st);
		if (((n - before) & 0xffff) >= 2 && (st & SCARD_STATE_PRESENT))
			return true;
		usleep(5 * 1000);
	}
	return false;
}

static bool
pcscd_alive(struct env *e)
{
	return kill(cs_harness_pcscd_pid(e->h), 0) == 0 &&
	    waitpid(cs_harness_pcscd_pid(e->h), NULL, WNOHANG) == 0;
}

/*
 * One APDU through slot's reader; the answer goes to resp, rlen.
 * Returns the PC/SC result of connect or transmit.
 */
static LONG
transmit(struct env *e, int slot, const uint8_t *cmd, size_t len, uint8_t *resp,
    DWORD *rlen)
{
	SCARDHANDLE card;
	DWORD proto = 0;
	LONG rv;

	rv = SCardConnect(e->sc, cs_harness_reader(e->h, slot),
	    SCARD_SHARE_SHARED, SCARD_PROTOCOL_T1, &card, &proto);
	if (rv != SCARD_S_SUCCESS)
		return rv;
	rv = SCardTransmit(card, SCARD_PCI_T1, cmd, (DWORD)len, NULL, resp,
	    rlen);
	(void)SCardDisconnect(card, SCARD_LEAVE_CARD);
	return rv;
}

/* A good card in slot answers an APDU with its id and an echo. */
static void
assert_echo(struct env *e, int slot)
{
	static const uint8_t cmd[] = { 0x00, 0xa4, 0x04, 0x00, 0x02, 0xa0,
		0x00 };
	uint8_t resp[300];
	DWORD rlen = sizeof(resp);

	assert_int_equal(transmit(e, slot, cmd, sizeof(cmd), resp, &rlen),
	    SCARD_S_SUCCESS);
	assert_int_equal(rlen, sizeof(cmd) + 3);
	assert_int_equal(resp[0], 0xc0 + slot);
	assert_memory_equal(resp + 1, cmd, sizeof(cmd));
	assert_int_equal(resp[rlen - 2], 0x90);
}

static int
group_setup(void **state)
{
	static struct env e;
	double t0 = now_ms();

	if (cs_harness_start_ifd(&e.h, NREADERS) != CS_OK)
		return -1;
	printf("# harness with %d cardsmith-ifd readers up in %.0f ms "
	       "(pcscd pid %d)\n",
	    NREADERS, now_ms() - t0, cs_harness_pcscd_pid(e.h));
	if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &e.sc) !=
	    SCARD_S_SUCCESS)
		return -1;
	*state = &e;
	return 0;
}

static int
group_teardown(void **state)
{
	struct env *e = *state;
	int i;

	if (e == NULL)
		return 0;
	for (i = 0; i < NREADERS; i++)
		fake_remove(e, i);
	(void)SCardReleaseContext(e->sc);
	cs_harness_stop(e->h);
	return 0;
}

/* Every test starts with all readers empty. */
static int
setup(void **state)
{
	struct env *e = *state;
	int i;

	for (i = 0; i < NREADERS; i++) {
		fake_remove(e, i);
		if (wait_state(e, i, false) != CS_OK)
			return -1;
	}
	return pcscd_alive(e) ? 0 : -1;
}

static void
test_ifd_eight_readers_listed(void **state)
{
	struct cs_reader_info *l = NULL;
	char want[64];
	size_t n, i;
	int k, found = 0;

	assert_int_equal(cs_pcsc_list(NULL, &l, &n), CS_OK);
	assert_int_equal(n, NREADERS);
	for (k = 0; k < NREADERS; k++) {
		/* pcscd appends the driver's reader index and the slot */
		snprintf(want, sizeof(want),
		    "cardsmith virtual reader %d %02X 00", k + 1, k);
		for (i = 0; i < n; i++) {
			if (strcmp(l[i].name, want) != 0)
				continue;
			assert_false(l[i].card_present);
			found++;
		}
	}
	cs_free(l);
	assert_int_equal(found, NREADERS);
}

/* Socket files: mode 0600 in the harness's 0700 directory. */
static void
test_ifd_socket_modes(void **state)
{
	struct env *e = *state;
	struct stat st;
	int k;

	assert_int_equal(stat(cs_harness_dir(e->h), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	for (k = 0; k < NREADERS; k++) {
		assert_int_equal(lstat(cs_harness_ifd_socket(e->h, k), &st), 0);
		assert_true(S_ISSOCK(st.st_mode));
		assert_int_equal(st.st_mode & 0777, 0600);
	}
}

static void
test_ifd_cards_in_1_4_8_only(void **state)
{
	struct env *e = *state;
	struct cs_reader_info *l = NULL;
	SCARD_READERSTATE rs;
	size_t n, i;
	int k, present = 0;

	fake_insert(e, 0, FAKE_GOOD);
	fake_insert(e, 3, FAKE_GOOD);
	fake_insert(e, 7, FAKE_GOOD);
	for (k = 0; k < NREADERS; k++)
		assert_int_equal(wait_state(e, k, k == 0 || k == 3 || k == 7),
		    CS_OK);
	assert_int_equal(cs_pcsc_list(NULL, &l, &n), CS_OK);
	for (i = 0; i < n; i++) {
		if (!l[i].card_present)
			continue;
		present++;
		assert_int_equal(l[i].atr_len, sizeof(yk5_atr));
		assert_memory_equal(l[i].atr, yk5_atr, sizeof(yk5_atr));
	}
	cs_free(l);
	assert_int_equal(present, 3);
	assert_echo(e, 0);
	assert_echo(e, 3);
	assert_echo(e, 7);

	/* Removal as SCardGetStatusChange reports it. */
	memset(&rs, 0, sizeof(rs));
	rs.szReader = cs_harness_reader(e->h, 3);
	rs.dwCurrentState = SCARD_STATE_UNAWARE;
	assert_int_equal(SCardGetStatusChange(e->sc, 0, &rs, 1),
	    SCARD_S_SUCCESS);
	assert_true(rs.dwEventState & SCARD_STATE_PRESENT);
	rs.dwCurrentState = rs.dwEventState & ~SCARD_STATE_CHANGED;
	fake_remove(e, 3);
	assert_int_equal(SCardGetStatusChange(e->sc, WAIT_MS, &rs, 1),
	    SCARD_S_SUCCESS);
	assert_true(rs.dwEventState & SCARD_STATE_EMPTY);
	assert_int_equal(wait_state(e, 0, true), CS_OK);
	assert_int_equal(wait_state(e, 7, true), CS_OK);
	assert_echo(e, 7);
}

/* Connect -> pcscd reports the card, measured; and the way back. */
static void
test_ifd_insert_seen_fast(void **state)
{
	struct env *e = *state;
	double t, in_max = 0, out_max = 0, in_sum = 0;
	int i;

	for (i = 0; i < 10; i++) {
		t = now_ms();
		fake_insert(e, 1, FAKE_GOOD);
		assert_int_equal(wait_state(e, 1, true), CS_OK);
		t = now_ms() - t;
		in_sum += t;
		if (t > in_max)
			in_max = t;
		t = now_ms();
		fake_remove(e, 1);
		assert_int_equal(wait_state(e, 1, false), CS_OK);
		t = now_ms() - t;
		if (t > out_max)
			out_max = t;
	}
	printf("# card connect -> present: mean %.1f ms, max %.1f ms; "
	       "close -> absent: max %.1f ms (10 rounds)\n",
	    in_sum / 10, in_max, out_max);
	assert_true(in_max < seen_max_ms());
	assert_true(out_max < seen_max_ms());
}

/* A card that goes and another that comes at once: two events. */
static void
test_ifd_swapped_card_is_a_new_card(void **state)
{
	struct env *e = *state;
	DWORD before, st = 0;

	fake_insert(e, 2, FAKE_GOOD);
	assert_int_equal(wait_state(e, 2, true), CS_OK);
	before = event_count(e, 2, &st);
	assert_true(st & SCARD_STATE_PRESENT);
	fake_remove(e, 2);
	fake_insert(e, 2, FAKE_GOOD);
	/* a removal and an insertion, never "the same card" */
	assert_true(wait_new_card(e, 2, before));
	assert_echo(e, 2);
}

struct worker {
	struct env *e;
	int slot;
	int ok;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	SCARDCONTEXT sc;
	SCARDHANDLE card;
	DWORD proto = 0, rlen;
	uint8_t cmd[40], resp[300];
	int i;

	if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &sc) !=
	    SCARD_S_SUCCESS)
		return NULL;
	if (SCardConnect(sc, cs_harness_reader(w->e->h, w->slot),
	        SCARD_SHARE_SHARED, SCARD_PROTOCOL_T1, &card,
	        &proto) != SCARD_S_SUCCESS)
		goto out;
	for (i = 0; i < 300; i++) {
		memset(cmd, 0, sizeof(cmd));
		cmd[1] = 0xca;
		cmd[4] = (uint8_t)(sizeof(cmd) - 5);
		cmd[5] = (uint8_t)w->slot;
		cmd[6] = (uint8_t)i;
		rlen = sizeof(resp);
		if (SCardTransmit(card, SCARD_PCI_T1, cmd, sizeof(cmd), NULL,
		        resp, &rlen) != SCARD_S_SUCCESS ||
		    rlen != sizeof(cmd) + 3 || resp[0] != 0xc0 + w->slot ||
		    resp[6] != w->slot || resp[7] != (uint8_t)i)
			break;
		w->ok++;
	}
	(void)SCardDisconnect(card, SCARD_LEAVE_CARD);
out:
	(void)SCardReleaseContext(sc);
	return NULL;
}

/* 8 readers, 8 client threads, 300 APDUs each, all at once. */
static void
test_ifd_eight_readers_at_once(void **state)
{
	struct env *e = *state;
	struct worker w[NREADERS];
	pthread_t th[NREADERS];
	double t;
	int k;

	for (k = 0; k < NREADERS; k++)
		fake_insert(e, k, FAKE_GOOD);
	for (k = 0; k < NREADERS; k++)
		assert_int_equal(wait_state(e, k, true), CS_OK);
	t = now_ms();
	for (k = 0; k < NREADERS; k++) {
		w[k].e = e;
		w[k].slot = k;
		w[k].ok = 0;
		assert_int_equal(
		    pthread_create(&th[k], NULL, worker_main, &w[k]), 0);
	}
	for (k = 0; k < NREADERS; k++)
		(void)pthread_join(th[k], NULL);
	printf("# 8 x 300 APDUs on 8 readers at once: %.0f ms\n", now_ms() - t);
	for (k = 0; k < NREADERS; k++) {
		assert_int_equal(w[k].ok, 300);
		assert_int_equal(e->cards[k].apdus, 300);
	}
}

/*
 * A misbehaving card in reader 5 while a good one sits in reader 6:
 * reader 5 ends up without a card, pcscd is alive, reader 6 still works,
 * and reader 5 takes a good card afterwards.
 */
static void
misbehave(struct env *e, enum fake_mode mode, bool try_apdu)
{
	static const uint8_t cmd[] = { 0x00, 0xcb, 0x3f, 0xff, 0x00 };
	uint8_t resp[300];
	DWORD rlen = sizeof(resp);
	LONG rv;

	fake_insert(e, 5, FAKE_GOOD);
	assert_int_equal(wait_state(e, 5, true), CS_OK);
	fake_insert(e, 4, mode);
	if (try_apdu) {
		assert_int_equal(wait_state(e, 4, true), CS_OK);
		rv = transmit(e, 4, cmd, sizeof(cmd), resp, &rlen);
		assert_int_not_equal(rv, SCARD_S_SUCCESS);
	}
	assert_int_equal(wait_state(e, 4, false), CS_OK);
	assert_true(pcscd_alive(e));
	assert_echo(e, 5);
	fake_remove(e, 4);
	fake_insert(e, 4, FAKE_GOOD);
	assert_int_equal(wait_state(e, 4, true), CS_OK);
	assert_echo(e, 4);
}

static void
test_ifd_card_closing_at_once(void **state)
{
	misbehave(*state, FAKE_CLOSE, false);
}

static void
test_ifd_empty_atr(void **state)
{
	misbehave(*state, FAKE_EMPTY_ATR, false);
}

static void
test_ifd_oversized_atr(void **state)
{
	misbehave(*state, FAKE_LONG_ATR, false);
}

static void
test_ifd_one_byte_answer(void **state)
{
	misbehave(*state, FAKE_SHORT_RESP, true);
}

static void
test_ifd_answer_cut_mid_frame(void **state)
{
	misbehave(*state, FAKE_CUT_RESP, true);
}

static void
test_ifd_card_dies_mid_apdu(void **state)
{
	misbehave(*state, FAKE_DIE_MID_APDU, true);
}

static void
test_ifd_unsolicited_bytes(void **state)
{
	struct env *e = *state;
	static const uint8_t cmd[] = { 0x00, 0xcb, 0x3f, 0xff, 0x00 };
	uint8_t resp[300];
	DWORD rlen = sizeof(resp);

	fake_insert(e, 5, FAKE_GOOD);
	fake_insert(e, 4, FAKE_UNSOLICITED);
	/*
	 * pcscd powers the card up on insertion; the junk that follows
	 * makes the next exchange fail and the card go (it may already be
	 * gone by then).
	 */
	if (wait_state(e, 4, true) == CS_OK)
		(void)transmit(e, 4, cmd, sizeof(cmd), resp, &rlen);
	assert_int_equal(wait_state(e, 4, false), CS_OK);
	assert_true(pcscd_alive(e));
	assert_echo(e, 5);
}

/* 65535 bytes: more than the client asked for, but the card stays. */
static void
test_ifd_huge_answer_keeps_card(void **state)
{
	struct env *e = *state;
	static const uint8_t cmd[] = { 0x00, 0xcb, 0x3f, 0xff, 0x00 };
	uint8_t resp[300];
	DWORD rlen = sizeof(resp);

	fake_insert(e, 6, FAKE_HUGE_RESP);
	assert_int_equal(wait_state(e, 6, true), CS_OK);
	assert_int_equal(transmit(e, 6, cmd, sizeof(cmd), resp, &rlen),
	    SCARD_E_INSUFFICIENT_BUFFER);
	usleep(200 * 1000);
	assert_true(pcscd_alive(e));
	assert_int_equal(wait_state(e, 6, true), CS_OK);
	assert_int_equal(e->cards[6].apdus, 1);
}

/* A second card waits until the first is gone, then is the card. */
static void
test_ifd_second_connection_waits(void **state)
{
	struct env *e = *state;
	struct fake second;
	DWORD before, st = 0;
	uint8_t b;

	fake_insert(e, 3, FAKE_GOOD);
	assert_int_equal(wait_state(e, 3, true), CS_OK);
	memset(&second, 0, sizeof(second));
	second.fd = connect_reader(e, 3);
	assert_true(second.fd >= 0);
	assert_echo(e, 3);
	assert_int_equal(e->cards[3].apdus, 1);
	/* nothing reaches the waiting one */
	assert_int_equal(recv(second.fd, &b, 1, MSG_DONTWAIT), -1);
	before = event_count(e, 3, &st);
	fake_remove(e, 3);
	e->cards[3].slot = 3;
	e->cards[3].mode = FAKE_GOOD;
	e->cards[3].fd = second.fd;
	e->cards[3].apdus = 0;
	assert_int_equal(
	    pthread_create(&e->cards[3].th, NULL, fake_main, &e->cards[3]), 0);
	e->cards[3].running = true;
	assert_true(wait_new_card(e, 3, before));
	assert_echo(e, 3);
	assert_int_equal(e->cards[3].apdus, 1);
}

/* --- sim_vpcd_serve_socket, against a listener of our own --- */

static uint8_t sock_atr[] = { 0x3b, 0x01, 0x02 };

static void
echo_apdu(void *self, const uint8_t *cmd, size_t len, uint8_t *resp, size_t cap,
    size_t *resplen)
{
	(void)self;
	if (len + 2 > cap)
		len = cap - 2;
	memcpy(resp, cmd, len);
	resp[len] = 0x90;
	resp[len + 1] = 0x00;
	*resplen = len + 2;
}

struct serve_arg {
	const char *path;
	unsigned long drop;
	enum cs_err r;
};

static void *
serve_main(void *arg)
{
	struct serve_arg *a = arg;
	struct sim_vpcd_card card = { NULL, sock_atr, sizeof(sock_atr), NULL,
		echo_apdu };

	a->r = sim_vpcd_serve_socket(a->path, &card, NULL, a->drop);
	return NULL;
}

static int
listen_at(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	(void)unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(fd, 1) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
test_sim_socket_framing(void **state)
{
	char dir[] = "/tmp/cs-ifd-sock.XXXXXX", path[64];
	/* a framed 4-byte case 1 APDU */
	static const uint8_t apdu[] = { 0, 0x04, 0x00, 0xa4, 0x04, 0x00 };
	struct serve_arg a;
	pthread_t th;
	uint8_t got[16];
	int lfd, fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/r.sock", dir);
	assert_true((lfd = listen_at(path)) >= 0);
	a.path = path;
	a.drop = 2; /* close after 2 APDUs: a pulled card */
	a.r = CS_ERR_INTERNAL;
	assert_int_equal(pthread_create(&th, NULL, serve_main, &a), 0);
	assert_true((fd = accept(lfd, NULL, NULL)) >= 0);
	/* GET ATR control */
	assert_int_equal(send_all(fd, (const uint8_t *)"\0\1\4", 3), 0);
	assert_int_equal(read_full(fd, got, 2 + sizeof(sock_atr)), 0);
	assert_int_equal(got[1], sizeof(sock_atr));
	assert_memory_equal(got + 2, sock_atr, sizeof(sock_atr));
	/* power on: no answer; then an APDU, sent in two pieces */
	assert_int_equal(send_all(fd, (const uint8_t *)"\0\1\1", 3), 0);
	assert_int_equal(send_all(fd, apdu, 3), 0);
	usleep(20 * 1000);
	assert_int_equal(send_all(fd, apdu + 3, sizeof(apdu) - 3), 0);
	assert_int_equal(read_full(fd, got, 2 + 6), 0);
	assert_int_equal(got[1], 6);
	assert_memory_equal(got + 2, apdu + 2, 4);
	assert_int_equal(got[6], 0x90);
	assert_int_equal(send_all(fd, apdu, sizeof(apdu)), 0);
	assert_int_equal(read_full(fd, got, 2 + 6), 0);
	/* after the 2nd APDU the card side hangs up */
	assert_int_equal(read_full(fd, got, 1), -1);
	(void)pthread_join(th, NULL);
	assert_int_equal(a.r, CS_OK);
	close(fd);
	close(lfd);
	(void)unlink(path);
	(void)rmdir(dir);
}

static void
test_sim_socket_refused(void **state)
{
	struct sim_vpcd_card card = { NULL, sock_atr, sizeof(sock_atr), NULL,
		echo_apdu };

	(void)state;
	assert_int_equal(
	    sim_vpcd_serve_socket("/nonexistent/r.sock", &card, NULL, 0),
	    CS_ERR_TRANSPORT);
	assert_int_equal(sim_vpcd_serve_socket(NULL, &card, NULL, 0),
	    CS_ERR_ARG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_ifd_eight_readers_listed, setup),
		cmocka_unit_test_setup(test_ifd_socket_modes, setup),
		cmocka_unit_test_setup(test_ifd_cards_in_1_4_8_only, setup),
		cmocka_unit_test_setup(test_ifd_insert_seen_fast, setup),
		cmocka_unit_test_setup(test_ifd_swapped_card_is_a_new_card,
		    setup),
		cmocka_unit_test_setup(test_ifd_eight_readers_at_once, setup),
		cmocka_unit_test_setup(test_ifd_card_closing_at_once, setup),
		cmocka_unit_test_setup(test_ifd_empty_atr, setup),
		cmocka_unit_test_setup(test_ifd_oversized_atr, setup),
		cmocka_unit_test_setup(test_ifd_one_byte_answer, setup),
		cmocka_unit_test_setup(test_ifd_answer_cut_mid_frame, setup),
		cmocka_unit_test_setup(test_ifd_card_dies_mid_apdu, setup),
		cmocka_unit_test_setup(test_ifd_unsolicited_bytes, setup),
		cmocka_unit_test_setup(test_ifd_huge_answer_keeps_card, setup),
		cmocka_unit_test_setup(test_ifd_second_connection_waits, setup),
		cmocka_unit_test(test_sim_socket_framing),
		cmocka_unit_test(test_sim_socket_refused),
	};
	char why[256];

	signal(SIGPIPE, SIG_IGN);
	if (!cs_harness_ifd_available(why, sizeof(why))) {
		printf("1..0 # SKIP %s\n", why);
		return 77;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
