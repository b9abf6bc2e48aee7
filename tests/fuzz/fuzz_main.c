/*
 * Replay driver: runs a libFuzzer target over its seed corpus without
 * libFuzzer, so `make check` exercises every target on every build (plain,
 * ASan, valgrind). Prints one TAP line per input.
 *
 * Usage: replay_<name> [FILE|DIR ...]
 * Default: $CS_SRC/tests/fuzz/corpus/<name>, the name taken from argv[0].
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned int ntest;

static int
run_file(const char *path)
{
	FILE *f;
	uint8_t *buf = NULL;
	long n;
	int ok = 0;

	if ((f = fopen(path, "rb")) == NULL)
		goto out;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0)
		goto out;
	if ((buf = malloc((size_t)n + 1)) == NULL)
		goto out;
	if (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)
		goto out;
	/* A crash aborts the program; the runner counts that as a failure. */
	(void)LLVMFuzzerTestOneInput(buf, (size_t)n);
	ok = 1;
out:
	printf("%sok %u - %s\n", ok ? "" : "not ", ++ntest, path);
	fflush(stdout);
	free(buf);
	if (f != NULL)
		fclose(f);
	return ok;
}

static int
run_path(const char *path)
{
	struct stat st;
	struct dirent **ents;
	int i, n, bad = 0;
	char sub[4096];

	if (stat(path, &st) != 0) {
		printf("not ok %u - %s: %s\n", ++ntest, path, strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode))
		return !run_file(path);
	if ((n = scandir(path, &ents, NULL, alphasort)) < 0) {
		printf("not ok %u - %s: %s\n", ++ntest, path, strerror(errno));
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.') {
			snprintf(sub, sizeof(sub), "%s/%s", path,
			    ents[i]->d_name);
			bad += !run_file(sub);
		}
		free(ents[i]);
	}
	free(ents);
	return bad;
}

int
main(int argc, char **argv)
{
	const char *base, *src;
	char dir[4096];
	int i, bad = 0;

	if (argc > 1) {
		for (i = 1; i < argc; i++)
			bad += run_path(argv[i]);
	} else {
		base = strrchr(argv[0], '/');
		base = base != NULL ? base + 1 : argv[0];
		if (strncmp(base, "replay_", 7) == 0)
			base += 7;
		src = getenv("CS_SRC");
		snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s",
		    src != NULL ? src : ".", base);
		bad += run_path(dir);
	}
	printf("1..%u\n", ntest);
	return bad > 0;
}
