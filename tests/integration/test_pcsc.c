/*
 * lib/pcsc.c against a real (private) pcscd with the vpcd driver and the
 * tiny test card (tests/harness/tinycard). Skips (77) only when pcscd or
 * vsmartcard-vpcd is not installed.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
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

#include "cardsmith/apdu.h"
#include "cardsmith/pcsc.h"
#include "harness.h"
#include "../../sim/vpcd.h"

#define CARD_WAIT_MS 5000u

static char self_path[4096];

/* clang-format off */
static const uint8_t yk5_atr[] = {
	0x3b, 0xfd, 0x13, 0x00, 0x00, 0x81, 0x31, 0xfe, 0x15, 0x80, 0x73,
	0xc0, 0x21, 0xc0, 0x57, 0x59, 0x75, 0x62, 0x69, 0x4b, 0x65, 0x79,
	0x40,
};
/* OpenSC's 9-byte PIV AID prefix (piv-apdu.md §2.1) */
static const uint8_t aid9[] = {
	0xa0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00,
};
static const uint8_t select_resp[] = {
	0x61, 0x11, 0x4f, 0x06, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00,
	0x79, 0x07, 0x4f, 0x05, 0xa0, 0x00, 0x00, 0x03, 0x08,
};
static const uint8_t tag_discovery[] = { 0x5c, 0x01, 0x7e };
static const uint8_t discovery[] = {
	0x7e, 0x12, 0x4f, 0x0b, 0xa0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00,
	0x10, 0x00, 0x01, 0x00, 0x5f, 0x2f, 0x02, 0x40, 0x00,
};
/* clang-format on */

struct env {
	struct cs_harness *h;
	struct cs_ctx *ctx;
};

static void
start_tiny(struct cs_harness *h, int slot, const char *args)
{
	char cmd[4096], full[4200];

	assert_int_equal(cs_harness_tinycard_cmd(cmd, sizeof(cmd), args),
	    CS_OK);
	snprintf(full, sizeof(full), "exec %s", cmd);
	assert_int_equal(cs_harness_start_card(h, slot, full), CS_OK);
	assert_int_equal(cs_harness_wait_card(h, slot, true, CARD_WAIT_MS),
	    CS_OK);
}

static void
stop_card(struct cs_harness *h, int slot)
{
	(void)cs_harness_stop_card(h, slot);
	assert_int_equal(cs_harness_wait_card(h, slot, false, CARD_WAIT_MS),
	    CS_OK);
}

static int
group_setup(void **state)
{
	static struct env e;
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (cs_harness_start(&e.h) != CS_OK)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# harness up in %.0f ms (pcscd pid %d, %s, ports %d/%d)\n",
	    (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	        (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
	    cs_harness_pcscd_pid(e.h),
	    cs_harness_isolated(e.h) ? "private mount namespace"
	                             : "no mount namespace",
	    cs_harness_port(e.h, 0), cs_harness_port(e.h, 1));
	if (cs_ctx_new(&e.ctx) != CS_OK)
		return -1;
	*state = &e;
	return 0;
}

static int
group_teardown(void **state)
{
	struct env *e = *state;

	if (e == NULL)
		return 0;
	cs_ctx_free(e->ctx);
	cs_harness_stop(e->h);
	return 0;
}

/* Each test starts with the tiny card in slot 0 and slot 1 empty. */
static int
setup(void **state)
{
	struct env *e = *state;

	cs_ctx_clear_error(e->ctx);
	if (cs_harness_card_exited(e->h, 0, NULL)) {
		char cmd[4096], full[4200];

		if (cs_harness_tinycard_cmd(cmd, sizeof(cmd), NULL) != CS_OK)
			return -1;
		snprintf(full, sizeof(full), "exec %s", cmd);
		if (cs_harness_start_card(e->h, 0, full) != CS_OK)
			return -1;
	}
	if (cs_harness_wait_card(e->h, 0, true, CARD_WAIT_MS) != CS_OK)
		return -1;
	(void)cs_harness_stop_card(e->h, 1);
	return cs_harness_wait_card(e->h, 1, false, CARD_WAIT_MS) == CS_OK ? 0
	                                                                   : -1;
}

static const struct cs_reader_info *
find_reader(const struct cs_reader_info *l, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(l[i].name, name) == 0)
			return &l[i];
	return NULL;
}

static enum cs_err
xmit(struct env *e, struct cs_transport *t, uint8_t ins, uint8_t p1, uint8_t p2,
    const uint8_t *data, size_t lc, struct cs_buf *resp, uint16_t *sw)
{
	struct cs_apdu a;

	memset(&a, 0, sizeof(a));
	a.cla = 0x00;
	a.ins = ins;
	a.p1 = p1;
	a.p2 = p2;
	a.data = data;
	a.lc = lc;
	a.le = 256;
	return cs_apdu_transmit(e->ctx, t, &a, 0, resp, sw);
}

static void
assert_select_ok(struct env *e, struct cs_transport *t)
{
	struct cs_buf resp = CS_BUF_INIT(CS_APDU_RESP_MAX);
	uint16_t sw = 0;

	assert_int_equal(
	    xmit(e, t, 0xa4, 0x04, 0x00, aid9, sizeof(aid9), &resp, &sw),
	    CS_OK);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(resp.len, sizeof(select_resp));
	assert_memory_equal(resp.data, select_resp, sizeof(select_resp));
	cs_buf_release(&resp);
}

static void
test_pcsc_list_shows_virtual_readers(void **state)
{
	struct env *e = *state;
	struct cs_reader_info *l = NULL;
	const struct cs_reader_info *r0, *r1;
	size_t n = 0;

	assert_int_equal(cs_pcsc_list(e->ctx, &l, &n), CS_OK);
	assert_int_equal(n, 2);
	r0 = find_reader(l, n, cs_harness_reader(e->h, 0));
	r1 = find_reader(l, n, cs_harness_reader(e->h, 1));
	assert_non_null(r0);
	assert_non_null(r1);
	assert_string_equal(r0->name, "Virtual PCD 00 00");
	assert_true(r0->card_present);
	assert_false(r0->in_use);
	assert_false(r0->mute);
	assert_int_equal(r0->atr_len, sizeof(yk5_atr));
	assert_memory_equal(r0->atr, yk5_atr, sizeof(yk5_atr));
	assert_false(r1->card_present);
	assert_int_equal(r1->atr_len, 0);
	cs_free(l);
}

static void
test_pcsc_pick_substring(void **state)
{
	struct env *e = *state;
	char name[CS_READER_NAME_MAX];

	/* Both match; only 00 00 holds a card. Case does not matter. */
	assert_int_equal(
	    cs_pcsc_pick(e->ctx, "vIrTuAl pcd", name, sizeof(name)), CS_OK);
	assert_string_equal(name, "Virtual PCD 00 00");
	assert_int_equal(cs_pcsc_pick(e->ctx, NULL, name, sizeof(name)), CS_OK);
	assert_string_equal(name, "Virtual PCD 00 00");
	/* One match, even without a card. */
	assert_int_equal(cs_pcsc_pick(e->ctx, "00 01", name, sizeof(name)),
	    CS_OK);
	assert_string_equal(name, "Virtual PCD 00 01");
	assert_int_equal(cs_pcsc_pick(e->ctx, "YubiKey", name, sizeof(name)),
	    CS_ERR_NOT_FOUND);
	assert_string_equal(name, "");
	assert_non_null(strstr(cs_ctx_errmsg(e->ctx), "YubiKey"));
	/* Name buffer too small. */
	assert_int_equal(cs_pcsc_pick(e->ctx, "00 00", name, 5), CS_ERR_LIMIT);
}

static void
test_pcsc_pick_ambiguous_with_two_cards(void **state)
{
	struct env *e = *state;
	char name[CS_READER_NAME_MAX];
	const char *msg;

	start_tiny(e->h, 1, NULL);
	assert_int_equal(cs_pcsc_pick(e->ctx, "virtual", name, sizeof(name)),
	    CS_ERR_ARG);
	msg = cs_ctx_errmsg(e->ctx);
	assert_non_null(strstr(msg, "\"Virtual PCD 00 00\""));
	assert_non_null(strstr(msg, "\"Virtual PCD 00 01\""));
	/* A more specific match resolves it. */
	assert_int_equal(cs_pcsc_pick(e->ctx, "PCD 00 01", name, sizeof(name)),
	    CS_OK);
	assert_string_equal(name, "Virtual PCD 00 01");
	stop_card(e->h, 1);
}

static void
test_pcsc_open_select_and_discovery(void **state)
{
	struct env *e = *state;
	struct cs_transport *t = NULL;
	struct cs_buf resp = CS_BUF_INIT(CS_APDU_RESP_MAX);
	uint8_t atr[CS_ATR_MAX];
	size_t atrlen = 0;
	uint16_t sw = 0;

	assert_int_equal(
	    cs_pcsc_open(e->ctx, cs_harness_reader(e->h, 0), 0, &t), CS_OK);
	assert_string_equal(t->name, "Virtual PCD 00 00");
	assert_int_equal(
	    cs_transport_get_atr(t, e->ctx, atr, sizeof(atr), &atrlen), CS_OK);
	assert_int_equal(atrlen, sizeof(yk5_atr));
	assert_memory_equal(atr, yk5_atr, sizeof(yk5_atr));
	assert_int_equal(cs_transport_get_atr(t, e->ctx, atr, 4, &atrlen),
	    CS_ERR_LIMIT);

	assert_int_equal(cs_transport_begin(t, e->ctx), CS_OK);
	assert_select_ok(e, t);
	assert_int_equal(xmit(e, t, 0xcb, 0x3f, 0xff, tag_discovery,
	                     sizeof(tag_discovery), &resp, &sw),
	    CS_OK);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(resp.len, sizeof(discovery));
	assert_memory_equal(resp.data, discovery, sizeof(discovery));
	/* Unknown instruction: the exchange works, the SW says no. */
	assert_int_equal(xmit(e, t, 0xf8, 0x00, 0x00, NULL, 0, &resp, &sw),
	    CS_OK);
	assert_int_equal(sw, 0x6d00);
	assert_int_equal(resp.len, 0);
	cs_transport_end(t);
	cs_buf_release(&resp);
	cs_transport_close(t);
}

static void
test_pcsc_raw_transmit_short_buffer_fails(void **state)
{
	struct env *e = *state;
	struct cs_transport *t = NULL;
	uint8_t cmd[5 + sizeof(aid9)] = { 0x00, 0xa4, 0x04, 0x00,
		sizeof(aid9) };
	uint8_t resp[8];
	size_t rlen = 99;

	memcpy(cmd + 5, aid9, sizeof(aid9));
	assert_int_equal(
	    cs_pcsc_open(e->ctx, cs_harness_reader(e->h, 0), 0, &t), CS_OK);
	/* 21-byte answer, 8-byte buffer: fail, never truncate. */
	assert_int_not_equal(cs_transport_transmit(t, e->ctx, cmd, sizeof(cmd),
	                         resp, sizeof(resp), &rlen),
	    CS_OK);
	assert_int_equal(rlen, 0);
	cs_transport_close(t);
}

static void
test_pcsc_open_errors(void **state)
{
	struct env *e = *state;
	struct cs_transport *t = NULL;

	assert_int_equal(
	    cs_pcsc_open(e->ctx, cs_harness_reader(e->h, 1), 0, &t),
	    CS_ERR_NO_CARD);
	assert_null(t);
	assert_non_null(strstr(cs_ctx_errmsg(e->ctx), "Virtual PCD 00 01"));
	assert_int_equal(cs_pcsc_open(e->ctx, "No Such Reader 00 00", 0, &t),
	    CS_ERR_NOT_FOUND);
	assert_null(t);
	assert_int_equal(cs_pcsc_open(e->ctx, "", 0, &t), CS_ERR_ARG);
}

static void
test_pcsc_exclusive_blocks_others(void **state)
{
	struct env *e = *state;
	struct cs_transport *t = NULL, *t2 = NULL;
	struct cs_reader_info *l = NULL;
	const struct cs_reader_info *r0;
	size_t n = 0;

	assert_int_equal(cs_pcsc_open(e->ctx, cs_harness_reader(e->h, 0),
	                     CS_PCSC_EXCLUSIVE, &t),
	    CS_OK);
	assert_int_equal(cs_pcsc_list(e->ctx, &l, &n), CS_OK);
	r0 = find_reader(l, n, cs_harness_reader(e->h, 0));
	assert_non_null(r0);
	assert_true(r0->in_use);
	cs_free(l);
	assert_int_equal(
	    cs_pcsc_open(e->ctx, cs_harness_reader(e->h, 0), 0, &t2),
	    CS_ERR_TRANSPORT);
	assert_null(t2);
	assert_non_null(
	    strstr(cs_ctx_errmsg(e->ctx), "in use by another program"));
	cs_transport_close(t);
	/* Released: a shared open works again. */
	assert_int_equal(
	    cs_pcsc_open(e->ctx, cs_harness_reader(e->h, 0), 0, &t2), CS_OK);
	cs_transport_close(t2);
}

static void
test_pcsc_card_removed_mid_session(void **state)
{
	struct env *e = *state;
	struct cs_transport *t = NULL;
	struct cs_buf resp = CS_BUF_INIT(CS_APDU_RESP_MAX);
	uint16_t sw = 0;
	enum cs_err r;
	int status = -1, i;

	start_tiny(e->h, 1, "--drop-after 2");
	assert_int_equal(
	    cs_pcsc_open(e->ctx, cs_harness_reader(e->h, 1), 0, &t), CS_OK);
	assert_select_ok(e, t);
	assert_select_ok(e, t);
	r = xmit(e, t, 0xa4, 0x04, 0x00, aid9, sizeof(aid9), &resp, &sw);
	print_message("# third APDU: %s: %s\n", cs_errname(r),
	    cs_ctx_errmsg(e->ctx));
	assert_true(r == CS_ERR_REMOVED || r == CS_ERR_NO_CARD);
	assert_non_null(strstr(cs_ctx_errmsg(e->ctx), "removed"));
	cs_buf_release(&resp);
	cs_transport_close(t);
	/* The card program exits 0 once it has dropped as asked. */
	for (i = 0; i < 200 && !cs_harness_card_exited(e->h, 1, &status); i++)
		usleep(10000);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(cs_harness_wait_card(e->h, 1, false, CARD_WAIT_MS),
	    CS_OK);
}

/* Another program resets the card: we see CS_ERR_REMOVED, then recover. */
static void
test_pcsc_reset_by_other_program(void **state)
{
	struct env *e = *state;
	struct cs_transport *t = NULL;
	struct cs_buf resp = CS_BUF_INIT(CS_APDU_RESP_MAX);
	SCARDCONTEXT hctx;
	SCARDHANDLE h;
	DWORD proto;
	uint16_t sw = 0;

	assert_int_equal(
	    cs_pcsc_open(e->ctx, cs_harness_reader(e->h, 0), 0, &t), CS_OK);
	assert_select_ok(e, t);
	assert_int_equal(
	    SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &hctx),
	    SCARD_S_SUCCESS);
	assert_int_equal(SCardConnect(hctx, cs_harness_reader(e->h, 0),
	                     SCARD_SHARE_SHARED, SCARD_PROTOCOL_T1, &h, &proto),
	    SCARD_S_SUCCESS);
	assert_int_equal(SCardReconnect(h, SCARD_SHARE_SHARED,
	                     SCARD_PROTOCOL_T1, SCARD_RESET_CARD, &proto),
	    SCARD_S_SUCCESS);
	assert_int_equal(
	    xmit(e, t, 0xa4, 0x04, 0x00, aid9, sizeof(aid9), &resp, &sw),
	    CS_ERR_REMOVED);
	assert_non_null(strstr(cs_ctx_errmsg(e->ctx), "reset"));
	/* csi_pcsc_map reconnected the handle: it works again. */
	assert_select_ok(e, t);
	SCardDisconnect(h, SCARD_LEAVE_CARD);
	SCardReleaseContext(hctx);
	cs_buf_release(&resp);
	cs_transport_close(t);
}

static void
test_pcsc_wait_insert_and_remove(void **state)
{
	struct env *e = *state;
	const char *r1 = cs_harness_reader(e->h, 1);
	int status;

	/* Already in the state asked for: returns at once. */
	assert_int_equal(cs_pcsc_wait(e->ctx, r1, CS_PCSC_WAIT_REMOVE, 100),
	    CS_OK);
	assert_int_equal(cs_pcsc_wait(e->ctx, cs_harness_reader(e->h, 0),
	                     CS_PCSC_WAIT_INSERT, 100),
	    CS_OK);
	assert_int_equal(cs_pcsc_wait(e->ctx, r1, CS_PCSC_WAIT_INSERT, 300),
	    CS_ERR_TIMEOUT);
	start_tiny(e->h, 1, NULL);
	assert_int_equal(cs_pcsc_wait(e->ctx, r1, CS_PCSC_WAIT_INSERT, 5000),
	    CS_OK);
	status = cs_harness_stop_card(e->h, 1);
	/* tinycard honours SIGTERM promptly (sim_vpcd_serve's stop flag). */
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(cs_pcsc_wait(e->ctx, r1, CS_PCSC_WAIT_REMOVE, 5000),
	    CS_OK);
	assert_int_equal(
	    cs_pcsc_wait(e->ctx, "No Such Reader", CS_PCSC_WAIT_INSERT, 1000),
	    CS_ERR_NOT_FOUND);
}

static void
test_pcsc_apdu_round_trip_time(void **state)
{
	struct env *e = *state;
	struct cs_transport *t = NULL;
	struct timespec t0, t1;
	double ms;
	int i, n = 200;

	assert_int_equal(
	    cs_pcsc_open(e->ctx, cs_harness_reader(e->h, 0), 0, &t), CS_OK);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++)
		assert_select_ok(e, t);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = ((double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	         (double)(t1.tv_nsec - t0.tv_nsec) / 1e6) /
	    n;
	print_message("# SELECT round trip via pcscd+vpcd: %.3f ms\n", ms);
	/* Delayed-ACK stalls cost ~40 ms each; catch that regression. */
	assert_true(ms < 20.0);
	cs_transport_close(t);
}

/*
 * sim/vpcd.c protocol tests: this process plays vpcd (TCP server), a
 * forked child runs sim_vpcd_serve; its exit code is the cs_err returned.
 */
static volatile int vpcd_stop;
static unsigned int vpcd_powers;
static const uint8_t vp_atr[] = { 0x3b, 0x01, 0x12 };

static void
vp_on_usr1(int sig)
{
	(void)sig;
	vpcd_stop = 1;
}

static void
vp_power(void *self, enum sim_vpcd_ctrl what)
{
	(void)self;
	(void)what;
	vpcd_powers++;
}

/* Reply: power-event count, the command, 90 00. */
static void
vp_apdu(void *self, const uint8_t *cmd, size_t len, uint8_t *resp, size_t cap,
    size_t *resplen)
{
	(void)self;
	*resplen = 0;
	if (len + 3 > cap)
		return;
	resp[0] = (uint8_t)vpcd_powers;
	memcpy(resp + 1, cmd, len);
	resp[len + 1] = 0x90;
	resp[len + 2] = 0x00;
	*resplen = len + 3;
}

struct vp {
	int lfd, fd;
	pid_t child;
};

static void
vp_start(struct vp *v, unsigned long drop_after)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	struct sim_vpcd_card card = { NULL, vp_atr, sizeof(vp_atr), vp_power,
		vp_apdu };
	struct sigaction sa;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((v->lfd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(v->lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(v->lfd, 1), 0);
	assert_int_equal(getsockname(v->lfd, (struct sockaddr *)&sin, &sl), 0);
	fflush(NULL);
	assert_true((v->child = fork()) >= 0);
	if (v->child == 0) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = vp_on_usr1;
		sigaction(SIGUSR1, &sa, NULL);
		close(v->lfd);
		_exit((int)sim_vpcd_serve("127.0.0.1", ntohs(sin.sin_port),
		    &card, &vpcd_stop, drop_after));
	}
	assert_true((v->fd = accept(v->lfd, NULL, NULL)) >= 0);
}

/* The child's return value from sim_vpcd_serve. */
static int
vp_finish(struct vp *v, bool hang_up_first)
{
	int status = -1;

	if (hang_up_first)
		close(v->fd);
	while (waitpid(v->child, &status, 0) < 0 && errno == EINTR)
		;
	if (!hang_up_first)
		close(v->fd);
	close(v->lfd);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* Send bytes one write per byte: the card must cope with short reads. */
static void
vp_send_slowly(int fd, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		assert_int_equal(write(fd, p + i, 1), 1);
		usleep(2000);
	}
}

static size_t
vp_recv(int fd, uint8_t *buf, size_t cap, int timeout_ms)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	size_t got = 0;
	ssize_t r;

	while (got < cap && poll(&pfd, 1, timeout_ms) == 1) {
		if ((r = read(fd, buf + got, cap - got)) <= 0)
			break;
		got += (size_t)r;
		timeout_ms = 50;
	}
	return got;
}

static void
test_vpcd_framing_controls_and_short_reads(void **state)
{
	static const uint8_t on[] = { 0x00, 0x01, 0x01 };
	static const uint8_t getatr[] = { 0x00, 0x01, 0x04 };
	static const uint8_t apdu[] = { 0x00, 0x05, 0x00, 0xa4, 0x04, 0x00,
		0x00 };
	static const uint8_t want_atr[] = { 0x00, 0x03, 0x3b, 0x01, 0x12 };
	static const uint8_t want_apdu[] = { 0x00, 0x08, 0x01, 0x00, 0xa4, 0x04,
		0x00, 0x00, 0x90, 0x00 };
	uint8_t buf[64];
	struct vp v;

	(void)state;
	vp_start(&v, 0);
	vp_send_slowly(v.fd, on, sizeof(on));
	vp_send_slowly(v.fd, getatr, sizeof(getatr));
	assert_int_equal(vp_recv(v.fd, buf, sizeof(want_atr), 2000),
	    sizeof(want_atr));
	assert_memory_equal(buf, want_atr, sizeof(want_atr));
	vp_send_slowly(v.fd, apdu, sizeof(apdu));
	assert_int_equal(vp_recv(v.fd, buf, sizeof(want_apdu), 2000),
	    sizeof(want_apdu));
	assert_memory_equal(buf, want_apdu, sizeof(want_apdu));
	/* vpcd closing the connection: CS_ERR_TRANSPORT for the caller. */
	assert_int_equal(vp_finish(&v, true), CS_ERR_TRANSPORT);
}

static void
test_vpcd_zero_length_message_ends_link(void **state)
{
	static const uint8_t zero[] = { 0x00, 0x00 };
	uint8_t buf[8];
	struct vp v;

	(void)state;
	vp_start(&v, 0);
	assert_int_equal(write(v.fd, zero, sizeof(zero)), 2);
	/* The card hangs up (EOF) rather than guessing. */
	assert_int_equal(vp_recv(v.fd, buf, sizeof(buf), 2000), 0);
	assert_int_equal(vp_finish(&v, true), CS_ERR_TRANSPORT);
}

static void
test_vpcd_drop_after_closes_connection(void **state)
{
	static const uint8_t apdu[] = { 0x00, 0x04, 0x00, 0xca, 0x00, 0x00 };
	uint8_t buf[64];
	struct vp v;
	int i;

	(void)state;
	vp_start(&v, 2);
	for (i = 0; i < 2; i++) {
		assert_int_equal(write(v.fd, apdu, sizeof(apdu)),
		    (ssize_t)sizeof(apdu));
		assert_int_equal(vp_recv(v.fd, buf, 9, 2000), 9);
	}
	/* Dropped: EOF where the third answer would be. */
	(void)send(v.fd, apdu, sizeof(apdu), MSG_NOSIGNAL);
	assert_int_equal(vp_recv(v.fd, buf, sizeof(buf), 2000), 0);
	assert_int_equal(vp_finish(&v, true), CS_OK);
}

static void
test_vpcd_stop_flag_set_by_signal(void **state)
{
	struct timespec t0, t1;
	struct vp v;
	double ms;

	(void)state;
	vp_start(&v, 0);
	usleep(50000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(kill(v.child, SIGUSR1), 0);
	assert_int_equal(vp_finish(&v, false), CS_OK);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	assert_true(ms < 1000.0);
}

static void
test_vpcd_connect_refused(void **state)
{
	struct sim_vpcd_card card = { NULL, vp_atr, sizeof(vp_atr), NULL,
		vp_apdu };
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd;

	(void)state;
	/* A port that was just free: bound, then closed. */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	close(fd);
	assert_int_equal(
	    sim_vpcd_serve(NULL, ntohs(sin.sin_port), &card, NULL, 0),
	    CS_ERR_TRANSPORT);
	assert_int_equal(sim_vpcd_serve(NULL, 0, &card, NULL, 0), CS_ERR_ARG);
	assert_int_equal(sim_vpcd_serve("not an address", 1, &card, NULL, 0),
	    CS_ERR_TRANSPORT);
}

/*
 * Child mode: the socket path is cached by libpcsclite, so the
 * no-pcscd case runs in a fresh process pointed at a dead socket.
 */
static int
probe_no_service(const char *sock)
{
	struct cs_ctx *ctx = NULL;
	struct cs_reader_info *l = NULL;
	size_t n = 0;
	enum cs_err r;

	setenv("PCSCLITE_CSOCK_NAME", sock, 1);
	if (cs_ctx_new(&ctx) != CS_OK)
		return 2;
	r = cs_pcsc_list(ctx, &l, &n);
	printf("%s|%s\n", cs_errname(r), cs_ctx_errmsg(ctx));
	cs_free(l);
	cs_ctx_free(ctx);
	return 0;
}

/* Child mode: two harnesses one after the other in one process. */
static int
probe_restart(void)
{
	struct cs_harness *h = NULL;
	struct cs_reader_info *l = NULL;
	char dir[2][128];
	size_t n = 0;
	int i;

	for (i = 0; i < 2; i++) {
		if (cs_harness_start(&h) != CS_OK)
			return 10 + i;
		snprintf(dir[i], sizeof(dir[i]), "%s", cs_harness_dir(h));
		if (cs_pcsc_list(NULL, &l, &n) != CS_OK || n != 2)
			return 20 + i;
		cs_free(l);
		l = NULL;
		cs_harness_stop(h);
	}
	printf("%s\n", strcmp(dir[0], dir[1]) == 0 ? "same-dir" : "new-dir");
	return 0;
}

static void
test_harness_one_per_process_and_restart(void **state)
{
	struct cs_harness *h2 = NULL;
	char cmd[8192], out[512] = "";
	FILE *p;

	(void)state;
	assert_int_equal(cs_harness_start(&h2), CS_ERR_ARG);
	assert_null(h2);
	snprintf(cmd, sizeof(cmd), "exec '%s' --probe-restart", self_path);
	assert_non_null(p = popen(cmd, "r"));
	assert_non_null(fgets(out, sizeof(out), p));
	assert_int_equal(pclose(p), 0);
	assert_string_equal(out, "same-dir\n");
}

static void
test_pcsc_no_pcscd_is_transport_error(void **state)
{
	struct env *e = *state;
	char cmd[8192], out[512] = "";
	FILE *p;

	snprintf(cmd, sizeof(cmd),
	    "exec '%s' --probe-no-service '%s/nothing-here'", self_path,
	    cs_harness_dir(e->h));
	assert_non_null(p = popen(cmd, "r"));
	assert_non_null(fgets(out, sizeof(out), p));
	assert_int_equal(pclose(p), 0);
	assert_non_null(strstr(out, "CS_ERR_TRANSPORT|"));
	assert_non_null(strstr(out, "cannot reach pcscd"));
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_pcsc_list_shows_virtual_readers,
		    setup),
		cmocka_unit_test_setup(test_pcsc_pick_substring, setup),
		cmocka_unit_test_setup(test_pcsc_pick_ambiguous_with_two_cards,
		    setup),
		cmocka_unit_test_setup(test_pcsc_open_select_and_discovery,
		    setup),
		cmocka_unit_test_setup(
		    test_pcsc_raw_transmit_short_buffer_fails, setup),
		cmocka_unit_test_setup(test_pcsc_open_errors, setup),
		cmocka_unit_test_setup(test_pcsc_exclusive_blocks_others,
		    setup),
		cmocka_unit_test_setup(test_pcsc_card_removed_mid_session,
		    setup),
		cmocka_unit_test_setup(test_pcsc_reset_by_other_program, setup),
		cmocka_unit_test_setup(test_pcsc_wait_insert_and_remove, setup),
		cmocka_unit_test_setup(test_pcsc_apdu_round_trip_time, setup),
		cmocka_unit_test_setup(test_pcsc_no_pcscd_is_transport_error,
		    setup),
		cmocka_unit_test_setup(test_harness_one_per_process_and_restart,
		    setup),
		cmocka_unit_test(test_vpcd_framing_controls_and_short_reads),
		cmocka_unit_test(test_vpcd_zero_length_message_ends_link),
		cmocka_unit_test(test_vpcd_drop_after_closes_connection),
		cmocka_unit_test(test_vpcd_stop_flag_set_by_signal),
		cmocka_unit_test(test_vpcd_connect_refused),
	};
	char why[256];

	if (argc == 3 && strcmp(argv[1], "--probe-no-service") == 0)
		return probe_no_service(argv[2]);
	if (argc == 2 && strcmp(argv[1], "--probe-restart") == 0)
		return probe_restart();
	if (realpath(argv[0], self_path) == NULL)
		return 1;
	if (!cs_harness_available(why, sizeof(why))) {
		printf("1..0 # SKIP %s\n", why);
		return 77;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
