/* SPDX-License-Identifier: MIT */
/* gateway/model/statefile.c - the state file (see statefile.h): its place,
 * reading its lines into their owners, writing it again.
 *
 * It is rewritten through a temporary file in the same directory, fsync'ed,
 * then renamed over the old one, so a power cut leaves either the old or the
 * new content, never a torn file; a thread does that (core/afile.c), so
 * that a slow disk never stalls the loop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/afile.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/statedir.h"
#include "gw.h"
#include "statefile.h"

/* s between two writes: once a minute at most, for an SD card's sake; a
 * clean stop and a reload write it too. */
#define SAVE_EVERY 60.0

struct gw_statefile {
	const struct gw_state_record *const *records; /* the kinds of line (daemon/records.c) */
	bool dirty;                    /* a record changed since the content was handed over */
	bool failed;                   /* the last write failed (logged once) */
	struct gw_afile *writer;       /* writes the file off the loop (core/afile.h) */
	double saved_at;               /* monotonic time of the last save */
};

struct gw_statefile *gw_statefile_new(const struct gw_state_record *const *records)
{
	struct gw_statefile *sf = calloc(1, sizeof(*sf));
	if (sf)
		sf->records = records;
	return sf;
}

void gw_statefile_free(struct gw_statefile *sf)
{
	free(sf);
}

void gw_statefile_path(const struct gw *gw, char *out, size_t cap)
{
	const char *f = gw->conf->gw.state_file;
	if (strcmp(f, "none") == 0) {
		out[0] = '\0';
		return;
	}
	if (f[0]) {
		snprintf(out, cap, "%s", f);
		return;
	}
	gw_state_path("state", out, cap);
}

/* No state_file: the automatic place needs its directory (core/statedir.h). */
static void prepare_place(const struct gw *gw)
{
	if (!gw->conf->gw.state_file[0])
		gw_state_dir_prepare();
}

/* One line: to its record's owner, if the record is known (and, for a
 * pack's record, the pack configured and `only` or any). */
static void load_line(struct gw *gw, const char *line, const struct gw_pack *only)
{
	char word[16], name[CONF_NAME_MAX];
	int n = 0;
	if (sscanf(line, "%15s %n", word, &n) != 1)
		return;
	const char *rest = line + n;
	for (const struct gw_state_record *const *rp = gw->state->records; *rp; rp++) {
		const struct gw_state_record *r = *rp;
		if (strcmp(r->word, word) != 0)
			continue;
		if (!r->per_pack) {
			if (!only)
				r->load(gw, NULL, rest);
			return;
		}
		size_t m = strcspn(rest, " \t\n");
		if (m == 0 || m >= sizeof(name))
			return;
		memcpy(name, rest, m);
		name[m] = '\0';
		m += strspn(rest + m, " \t");
		struct gw_pack *p = gw_find_pack(gw, name);
		if (p && (!only || p == only))
			r->load(gw, p, rest + m);
		return;
	}
}

/* Every line of the file at path to its owner; false if it cannot be read
 * (conf/rfile.c: a FIFO in its place never holds the loop, another user's
 * link is never followed; said). */
static bool load_file(struct gw *gw, const char *path, const struct gw_pack *only)
{
	char why[600];
	int fd = conf_file_open(path, why, sizeof(why));
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		else if (errno != ENOENT)
			gw_warn("state file: %s: the counters start from 0", why);
		return false;
	}
	char line[GW_STATE_LINE_MAX + 64];
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);
		if (n && line[n - 1] != '\n' && !feof(f)) {
			/* longer than any record writes: not ours, skipped whole */
			int c;
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			continue;
		}
		load_line(gw, line, only);
	}
	fclose(f);
	return true;
}

void gw_statefile_load(struct gw *gw)
{
	char path[512];
	gw->state->saved_at = gw_mono();
	gw_statefile_path(gw, path, sizeof(path));
	if (!path[0])
		return;
	prepare_place(gw);
	if (access(path, F_OK) != 0) {
		gw_info("state file: %s does not exist yet; energy counters start from 0", path);
		return;
	}
	if (load_file(gw, path, NULL))
		gw_info("state file: read from %s", path);
}

void gw_statefile_restore_pack(struct gw *gw, struct gw_pack *p)
{
	char path[512];
	gw_statefile_path(gw, path, sizeof(path));
	if (path[0])
		load_file(gw, path, p);
}

void gw_statefile_changed(struct gw *gw)
{
	if (gw->state)
		gw->state->dirty = true;
}

/* One record's lines. */
static void save_record(const struct gw *gw, const struct gw_state_record *r, FILE *f)
{
	for (int i = 0; i < (r->per_pack ? gw->npacks : 1); i++) {
		const struct gw_pack *p = r->per_pack ? gw->packs[i] : NULL;
		char rest[GW_STATE_LINE_MAX];
		if (!r->save(gw, p, rest, sizeof(rest)))
			continue;
		if (p)
			fprintf(f, "%s %s %s\n", r->word, p->cfg->name, rest);
		else
			fprintf(f, "%s %s\n", r->word, rest);
	}
}

/* The file's content, in a buffer of its own (free() it); NULL when out of memory. */
static char *state_text(const struct gw *gw, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	if (!f)
		return NULL;
	fprintf(f, "# bmsgw state: energy counters in kWh (written by bmsgw, atomically)\n");
	for (const struct gw_state_record *const *r = gw->state->records; *r; r++)
		save_record(gw, *r, f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* A write that failed is logged once, and its content written again at
 * the next save; the first that works again says so. */
static void write_outcome(struct gw *gw, int r, const char *why)
{
	struct gw_statefile *sf = gw->state;
	char path[512];
	gw_statefile_path(gw, path, sizeof(path));
	if (r < 0) {
		if (!sf->failed)
			gw_warn("state file: %s; energy counters, MOSFET intents and the last full charge are kept in "
				"memory and saved when it works again (set [gateway] state_file)", why);
		sf->failed = true;
	} else if (r > 0 && sf->failed) {
		gw_info("state file: %s written again", path);
		sf->failed = false;
	}
}

void gw_statefile_flush(struct gw *gw)
{
	char why[1400] = "";
	int r = gw_afile_free(gw->state->writer, why, sizeof(why));
	gw->state->writer = NULL;
	write_outcome(gw, r, why);
}

void gw_statefile_save(struct gw *gw, bool force)
{
	struct gw_statefile *sf = gw->state;
	char why[1400] = "";
	if (sf->writer)
		write_outcome(gw, gw_afile_result(sf->writer, why, sizeof(why)), why);
	char path[512];
	gw_statefile_path(gw, path, sizeof(path));
	if (!(force || sf->failed || sf->dirty) || !path[0])
		return;
	if (force)
		prepare_place(gw); /* a reload may have just made it automatic */
	size_t len = 0;
	char *text = state_text(gw, &len);
	if (!sf->writer)
		sf->writer = gw_afile_new();
	if (!text || !sf->writer)
		write_outcome(gw, -1, "out of memory");
	else if (gw_afile_post(sf->writer, path, text, len, why, sizeof(why)) < 0)
		write_outcome(gw, -1, why);
	else
		sf->dirty = false; /* handed over: a failure comes back at the next save, which writes again */
	free(text);
}

void gw_statefile_tick(struct gw *gw, double now)
{
	if (now - gw->state->saved_at < SAVE_EVERY)
		return;
	gw_statefile_save(gw, false);
	gw->state->saved_at = gw_mono();
}

bool gw_statefile_failed(const struct gw *gw)
{
	return gw->state->failed;
}
