/*
 * pcscwait: wait for a card to appear in, or leave, a reader of the pcscd
 * that PCSCLITE_CSOCK_NAME points at (SCardGetStatusChange, no polling).
 * For shell tests (tests/cli/lib.sh cs_ifd_*).
 *
 *   pcscwait READER present|absent TIMEOUT_MS
 *
 * READER is the full reader name. Prints the milliseconds it waited on
 * stdout. Exit 0 when the state was reached, 1 on timeout or a PC/SC
 * error (stderr says which), 2 on a usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cardsmith/common.h"
#include "cardsmith/pcsc.h"

static unsigned long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long)ts.tv_sec * 1000ul +
	    (unsigned long)ts.tv_nsec / 1000000ul;
}

int
main(int argc, char **argv)
{
	struct cs_ctx *ctx = NULL;
	enum cs_pcsc_event ev;
	unsigned long t0, ms;
	char *end;
	enum cs_err r;

	if (argc != 4 ||
	    (strcmp(argv[2], "present") != 0 &&
	        strcmp(argv[2], "absent") != 0)) {
		fprintf(stderr,
		    "usage: pcscwait READER present|absent TIMEOUT_MS\n");
		return 2;
	}
	errno = 0;
	ms = strtoul(argv[3], &end, 10);
	if (errno != 0 || *end != '\0' || ms == 0 || ms > 600000) {
		fprintf(stderr, "pcscwait: bad TIMEOUT_MS %s\n", argv[3]);
		return 2;
	}
	ev = strcmp(argv[2], "present") == 0 ? CS_PCSC_WAIT_INSERT
	                                     : CS_PCSC_WAIT_REMOVE;
	if (cs_ctx_new(&ctx) != CS_OK)
		return 1;
	t0 = now_ms();
	r = cs_pcsc_wait(ctx, argv[1], ev, (unsigned int)ms);
	if (r != CS_OK)
		fprintf(stderr, "pcscwait: %s %s: %s\n", argv[1], argv[2],
		    cs_ctx_errmsg(ctx));
	else
		printf("%lu\n", now_ms() - t0);
	cs_ctx_free(ctx);
	return r == CS_OK ? 0 : 1;
}
