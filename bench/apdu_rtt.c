/*
 * APDU round trip through pcscd + vpcd: sends the same short command N
 * times to the card in $CS_READER (or argv[1]) and prints median, p90 and
 * mean in microseconds, as one JSON line for bench/run.sh.
 *
 * Usage: apdu_rtt [READER] [N]   (run under scripts/with-virtual-reader.sh)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cardsmith/cardsmith.h"

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int
main(int argc, char **argv)
{
	static const uint8_t aid[] = { 0xA0, 0x00, 0x00, 0x03, 0x08 };
	struct cs_apdu sel = { 0x00, 0xA4, 0x04, 0x00, aid, sizeof(aid), 0 };
	struct cs_apdu ver = { 0x00, 0xFD, 0x00, 0x00, NULL, 0, 256 };
	struct cs_buf resp = CS_BUF_INIT(CS_APDU_RESP_MAX);
	struct cs_transport *t = NULL;
	struct cs_ctx *ctx = NULL;
	const char *reader = argc > 1 && argv[1][0] != '\0' ? argv[1] :
	    getenv("CS_READER");
	long i, n = argc > 2 ? strtol(argv[2], NULL, 10) : 2000;
	double *lat = NULL, sum = 0, t0;
	uint16_t sw = 0;
	int rc = 1;

	if (reader == NULL || n < 10 || n > 1000000) {
		fprintf(stderr, "usage: apdu_rtt READER [N>=10]\n");
		return 2;
	}
	if ((lat = calloc((size_t)n, sizeof(*lat))) == NULL ||
	    cs_ctx_new(&ctx) != CS_OK)
		goto out;
	if (cs_pcsc_open(ctx, reader, 0, &t) != CS_OK ||
	    cs_apdu_transmit(ctx, t, &sel, 0, &resp, &sw) != CS_OK ||
	    sw != 0x9000) {
		fprintf(stderr, "apdu_rtt: %s (sw %04X)\n", cs_ctx_errmsg(ctx),
		    sw);
		goto out;
	}
	/* Warm up, then measure GET VERSION (no card-side work to speak of). */
	for (i = -50; i < n; i++) {
		t0 = now_us();
		if (cs_apdu_transmit(ctx, t, &ver, 0, &resp, &sw) != CS_OK) {
			fprintf(stderr, "apdu_rtt: %s\n", cs_ctx_errmsg(ctx));
			goto out;
		}
		if (i >= 0) {
			lat[i] = now_us() - t0;
			sum += lat[i];
		}
	}
	qsort(lat, (size_t)n, sizeof(*lat), cmp_double);
	printf("{\"n\":%ld,\"median_us\":%.1f,\"p90_us\":%.1f,"
	       "\"mean_us\":%.1f,\"sw\":\"%04X\"}\n",
	    n, lat[n / 2], lat[n * 9 / 10], sum / (double)n, sw);
	rc = 0;
out:
	cs_buf_release(&resp);
	cs_transport_close(t);
	cs_ctx_free(ctx);
	free(lat);
	return rc;
}
