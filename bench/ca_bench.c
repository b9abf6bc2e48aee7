/*
 * CA benchmarks, in process:
 *
 *   ca_bench issue DIR PASS PROFILE N PREFILL CSR...
 *       issue N certificates (round robin over the CSR files) with lint
 *       and the durable registry, after padding the registry to PREFILL
 *       rows; prints one JSON line. CA_BENCH_POOL=n reserves serials n
 *       per transaction (cs_ca_set_serial_pool; default 1);
 *       CA_BENCH_BATCH=k issues k per registry commit (cs_ca_issue_batch).
 *   ca_bench verify CHAIN CRL LEVEL N CERT...
 *       verify N times (round robin) with chain, explicit policy and CRL;
 *       prints one JSON line.
 *
 * bench/ca.sh runs these next to `openssl ca -batch` and `openssl verify`
 * on the same inputs and prints the ratios.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "cardsmith/cardsmith.h"
#include "cardsmith/ca.h"

#define MAX_INPUTS 4096

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (b = malloc((size_t)n + 1)) == NULL) {
		fprintf(stderr, "ca_bench: %s: cannot read\n", path);
		exit(1);
	}
	if (fread(b, 1, (size_t)n, f) != (size_t)n)
		exit(1);
	fclose(f);
	*len = (size_t)n;
	return b;
}

/* Pad the registry with delivered rows (one transaction). */
static long
prefill(const char *dir, long want)
{
	char path[4096], serial[40];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL, *cnt = NULL;
	long have = 0, i;

	snprintf(path, sizeof(path), "%s/registry.db", dir);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		exit(1);
	sqlite3_prepare_v2(db, "SELECT count(*) FROM certs", -1, &cnt, NULL);
	if (sqlite3_step(cnt) == SQLITE_ROW)
		have = (long)sqlite3_column_int64(cnt, 0);
	sqlite3_finalize(cnt);
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	sqlite3_prepare_v2(db,
	    "INSERT INTO certs(serial, status, level, "
	    "signer, profile, subject, created, not_before, not_after, der, "
	    "key_sha256) "
	    "VALUES(?1, 2, 1, 0, 'prefill', 'CN=prefill', 0, 0, 4102444800, "
	    "zeroblob(600), printf('%064X', ?2))",
	    -1, &st, NULL);
	for (i = have; i < want; i++) {
		snprintf(serial, sizeof(serial), "7E%030lX", i);
		sqlite3_bind_text(st, 1, serial, -1, SQLITE_TRANSIENT);
		/* A distinct key hash per row, as real rows have. */
		sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
		sqlite3_step(st);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	return want > have ? want : have;
}

/* Group commit: cs_ca_issue_batch over chunks of batch requests. */
static int
issue_batched(struct cs_ca *ca, const struct cs_ca_profile *p,
    uint8_t *const *csr, const size_t *len, long ncsr, long n, long batch)
{
	struct cs_ca_issue_req req[256];
	struct cs_ca_issue_res res[256];
	enum cs_err errs[256];
	size_t issued;
	long done = 0, k, j;

	if (batch > 256)
		batch = 256;
	while (done < n) {
		k = n - done < batch ? n - done : batch;
		for (j = 0; j < k; j++) {
			memset(&req[j], 0, sizeof(req[j]));
			req[j].profile = p;
			req[j].csr = csr[(done + j) % ncsr];
			req[j].csr_len = len[(done + j) % ncsr];
			req[j].slot = -1;
		}
		if (cs_ca_issue_batch(ca, req, (size_t)k, res, errs, &issued) !=
		        CS_OK ||
		    issued != (size_t)k) {
			fprintf(stderr, "ca_bench: batch failed\n");
			return 1;
		}
		for (j = 0; j < k; j++)
			cs_ca_issue_res_release(&res[j]);
		done += k;
	}
	return 0;
}

static int
bench_issue(int argc, char **argv)
{
	struct cs_ctx *ctx = NULL;
	struct cs_ca *ca = NULL;
	struct cs_ca_profile *p = NULL;
	struct cs_ca_issue_req req;
	struct cs_ca_issue_res res;
	uint8_t *csr[MAX_INPUTS];
	size_t len[MAX_INPUTS];
	long n, rows, i, ncsr = argc - 6;
	const char *e = getenv("CA_BENCH_POOL");
	const char *bt = getenv("CA_BENCH_BATCH");
	size_t pool = e != NULL ? (size_t)strtoul(e, NULL, 10) : 1;
	long batch = bt != NULL ? strtol(bt, NULL, 10) : 1;
	double t0, t;

	if (argc < 7 || ncsr > MAX_INPUTS)
		return 2;
	n = strtol(argv[4], NULL, 10);
	rows = prefill(argv[1], strtol(argv[5], NULL, 10));
	for (i = 0; i < ncsr; i++)
		csr[i] = slurp(argv[6 + i], &len[i]);
	if (cs_ctx_new(&ctx) != CS_OK ||
	    cs_ca_open(ctx, argv[1], &ca) != CS_OK ||
	    cs_ca_unlock(ca, argv[2], strlen(argv[2])) != CS_OK ||
	    cs_ca_profile_load(ca, argv[3], &p) != CS_OK ||
	    cs_ca_set_serial_pool(ca, pool) != CS_OK) {
		fprintf(stderr, "ca_bench: %s\n", cs_ctx_errmsg(ctx));
		return 1;
	}
	t0 = now_s();
	if (batch > 1) {
		if (issue_batched(ca, p, csr, len, ncsr, n, batch) != 0)
			return 1;
		i = n;
	}
	for (i = batch > 1 ? n : 0; i < n; i++) {
		memset(&req, 0, sizeof(req));
		req.profile = p;
		req.csr = csr[i % ncsr];
		req.csr_len = len[i % ncsr];
		req.slot = -1;
		if (cs_ca_issue(ca, &req, &res) != CS_OK) {
			fprintf(stderr, "ca_bench: issue: %s\n",
			    cs_ctx_errmsg(ctx));
			return 1;
		}
		cs_ca_issue_res_release(&res);
	}
	t = now_s() - t0;
	printf("{\"op\":\"issue\",\"n\":%ld,\"registry_rows\":%ld,"
	       "\"serial_pool\":%zu,\"batch\":%ld,\"seconds\":%.3f,"
	       "\"per_sec\":%.1f}\n",
	    n, rows, pool, batch, t, (double)n / t);
	for (i = 0; i < ncsr; i++)
		free(csr[i]);
	cs_ca_profile_free(p);
	cs_ca_close(ca);
	cs_ctx_free(ctx);
	return 0;
}

static int
bench_verify(int argc, char **argv)
{
	struct cs_ctx *ctx = NULL;
	struct cs_verifier *v = NULL;
	struct cs_verify_result res;
	enum cs_ca_level level;
	uint8_t *chain, *crl, *cert[MAX_INPUTS];
	size_t cl, rl, len[MAX_INPUTS];
	long n, i, nc = argc - 5, ok = 0;
	double t0, t;

	if (argc < 6 || nc > MAX_INPUTS ||
	    cs_ca_level_parse(argv[3], &level) != CS_OK)
		return 2;
	n = strtol(argv[4], NULL, 10);
	chain = slurp(argv[1], &cl);
	crl = slurp(argv[2], &rl);
	for (i = 0; i < nc; i++)
		cert[i] = slurp(argv[5 + i], &len[i]);
	if (cs_ctx_new(&ctx) != CS_OK || cs_verify_new(ctx, &v) != CS_OK ||
	    cs_verify_add_chain(v, chain, cl) != CS_OK ||
	    cs_verify_add_crl(v, crl, rl) != CS_OK) {
		fprintf(stderr, "ca_bench: %s\n", cs_ctx_errmsg(ctx));
		return 1;
	}
	t0 = now_s();
	for (i = 0; i < n; i++)
		if (cs_verify_cert(v, cert[i % nc], len[i % nc], level, 0,
		        &res) == CS_OK)
			ok++;
	t = now_s() - t0;
	printf("{\"op\":\"verify\",\"n\":%ld,\"accepted\":%ld,"
	       "\"seconds\":%.3f,\"per_sec\":%.1f}\n",
	    n, ok, t, (double)n / t);
	for (i = 0; i < nc; i++)
		free(cert[i]);
	free(chain);
	free(crl);
	cs_verify_free(v);
	cs_ctx_free(ctx);
	return ok == n ? 0 : 1;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "issue") == 0)
		return bench_issue(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return bench_verify(argc - 1, argv + 1);
	fprintf(stderr,
	    "usage: ca_bench issue DIR PASS PROFILE N PREFILL "
	    "CSR...\n       ca_bench verify CHAIN CRL LEVEL N CERT...\n");
	return 2;
}
