/* gateway/model/energy.c - energy counters: integration and the state file.
 *
 * The state file is a few lines of text:
 *
 *   # bmsgw state: energy counters in kWh (written by bmsgw, atomically)
 *   pack rack1 123.456789 98.765432
 *   bank 250.000000 199.000000
 *   intent rack1 1 1          (what bmsgw last switched, packs with control)
 *   full rack1 1795420800     (the last absorption or float, unix time)
 *
 * It is rewritten through a temporary file in the same directory, fsync'ed,
 * then renamed over the old one, so a power cut leaves either the old or the
 * new counters, never a torn file; a thread does that (core/afile.c), so
 * that a slow disk never stalls the loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "energy.h"
#include "gw.h"
#include "../core/afile.h"
#include "../core/log.h"
#include "../core/statedir.h"

void gw_energy_add(struct gw_energy *e, double t, double watts, double max_gap)
{
	if (e->have_last && t > e->last_t && t - e->last_t <= max_gap) {
		double dt_h = (t - e->last_t) / 3600.0, p0 = e->last_w, p1 = watts;
		double in_wh = 0, out_wh = 0;
		if ((p0 >= 0) == (p1 >= 0)) {
			double wh = (p0 + p1) / 2 * dt_h;
			if (wh >= 0)
				in_wh = wh;
			else
				out_wh = -wh;
		} else {
			/* the line crosses zero at a fraction f of the step */
			double f = p0 / (p0 - p1);
			double a0 = p0 * f * dt_h / 2, a1 = p1 * (1 - f) * dt_h / 2;
			in_wh = (a0 > 0 ? a0 : 0) + (a1 > 0 ? a1 : 0);
			out_wh = (a0 < 0 ? -a0 : 0) + (a1 < 0 ? -a1 : 0);
		}
		e->in_kwh += in_wh / 1000.0;
		e->out_kwh += out_wh / 1000.0;
		if (in_wh > 0 || out_wh > 0)
			e->dirty = true;
	}
	e->have_last = true;
	e->last_t = t;
	e->last_w = watts;
}

void gw_energy_break(struct gw_energy *e)
{
	e->have_last = false;
}

void gw_energy_path(const struct gw *gw, char *out, size_t cap)
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

/* Look name up ("bank" for the bank) in the file; true with the counters. */
static bool find_in_file(const char *path, const char *name, bool bank, double *in, double *out)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	char line[512];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f)) {
		char kind[16], nm[64];
		double a, b;
		if (bank && sscanf(line, "%15s %lf %lf", kind, &a, &b) == 3 && strcmp(kind, "bank") == 0)
			found = true;
		else if (!bank && sscanf(line, "%15s %63s %lf %lf", kind, nm, &a, &b) == 4 &&
			 strcmp(kind, "pack") == 0 && strcmp(nm, name) == 0)
			found = true;
		if (found && !(a >= 0 && b >= 0 && isfinite(a) && isfinite(b)))
			found = false; /* nonsense: start over rather than serve it */
		if (found) {
			*in = a;
			*out = b;
		}
	}
	fclose(f);
	return found;
}

void gw_energy_restore(struct gw *gw, const char *name, struct gw_energy *e)
{
	char path[512];
	gw_energy_path(gw, path, sizeof(path));
	double in = 0, out = 0;
	if (path[0] && find_in_file(path, name, name == NULL, &in, &out)) {
		e->in_kwh = in;
		e->out_kwh = out;
	}
}

void gw_state_restore_pack(struct gw *gw, struct gw_pack *p)
{
	char path[512];
	gw_energy_path(gw, path, sizeof(path));
	FILE *f = path[0] ? fopen(path, "re") : NULL;
	if (!f)
		return;
	char line[512];
	while (fgets(line, sizeof(line), f)) {
		char kind[16], nm[64];
		int a, b;
		long long t;
		if (sscanf(line, "%15s %63s %d %d", kind, nm, &a, &b) == 4 && strcmp(kind, "intent") == 0 &&
		    strcmp(nm, p->cfg->name) == 0 && (a == 0 || a == 1) && (b == 0 || b == 1)) {
			p->ctl.intent[BMS_FET_CHARGE] = a == 1;
			p->ctl.intent[BMS_FET_DISCHARGE] = b == 1;
		} else if (sscanf(line, "%15s %63s %lld", kind, nm, &t) == 3 && strcmp(kind, "full") == 0 &&
			   strcmp(nm, p->cfg->name) == 0 && t > 0) {
			p->lim_st.last_full_wall = (int64_t)t; /* the last absorption or float */
		}
	}
	fclose(f);
}

void gw_energy_load(struct gw *gw)
{
	char path[512];
	gw_energy_path(gw, path, sizeof(path));
	if (!path[0])
		return;
	prepare_place(gw);
	if (access(path, F_OK) != 0) {
		gw_info("energy counters: %s does not exist yet; counting from 0", path);
		return;
	}
	for (int i = 0; i < gw->npacks; i++) {
		gw_energy_restore(gw, gw->packs[i]->cfg->name, &gw->packs[i]->energy);
		gw_state_restore_pack(gw, gw->packs[i]);
	}
	gw_energy_restore(gw, NULL, &gw->bank_energy);
	gw_info("energy counters: read from %s", path);
}

/* The file's content, in a buffer of its own (free() it); NULL when out of memory. */
static char *state_text(const struct gw *gw, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	if (!f)
		return NULL;
	fprintf(f, "# bmsgw state: energy counters in kWh (written by bmsgw, atomically)\n");
	for (int i = 0; i < gw->npacks; i++)
		fprintf(f, "pack %s %.6f %.6f\n", gw->packs[i]->cfg->name, gw->packs[i]->energy.in_kwh,
			gw->packs[i]->energy.out_kwh);
	fprintf(f, "bank %.6f %.6f\n", gw->bank_energy.in_kwh, gw->bank_energy.out_kwh);
	/* what bmsgw last switched, so that a restart never unlocks a MOSFET
	 * it had locked (a JBD write carries both) */
	for (int i = 0; i < gw->npacks; i++)
		if (gw->packs[i]->cfg->control)
			fprintf(f, "intent %s %d %d\n", gw->packs[i]->cfg->name,
				gw->packs[i]->ctl.intent[BMS_FET_CHARGE], gw->packs[i]->ctl.intent[BMS_FET_DISCHARGE]);
	/* when each pack was last full (absorption or float): the full-charge
	 * request counts full_charge_days from it, across restarts */
	for (int i = 0; i < gw->npacks; i++)
		if (gw->packs[i]->lim_st.last_full_wall > 0)
			fprintf(f, "full %s %lld\n", gw->packs[i]->cfg->name,
				(long long)gw->packs[i]->lim_st.last_full_wall);
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
	char path[512];
	gw_energy_path(gw, path, sizeof(path));
	if (r < 0) {
		if (!gw->energy_save_failed)
			gw_warn("energy counters: %s; they are kept in memory and saved when it works again "
				"(set [gateway] state_file)", why);
		gw->energy_save_failed = true;
	} else if (r > 0 && gw->energy_save_failed) {
		gw_info("energy counters: %s written again", path);
		gw->energy_save_failed = false;
	}
}

void gw_energy_flush(struct gw *gw)
{
	char why[1400] = "";
	int r = gw_afile_free(gw->state_writer, why, sizeof(why));
	gw->state_writer = NULL;
	write_outcome(gw, r, why);
}

void gw_energy_save(struct gw *gw, bool force)
{
	char why[1400] = "";
	if (gw->state_writer)
		write_outcome(gw, gw_afile_result(gw->state_writer, why, sizeof(why)), why);
	bool dirty = force || gw->energy_save_failed || gw->bank_energy.dirty || gw->intent_dirty || gw->state_dirty;
	for (int i = 0; i < gw->npacks && !dirty; i++)
		dirty = gw->packs[i]->energy.dirty;
	char path[512];
	gw_energy_path(gw, path, sizeof(path));
	if (!dirty || !path[0])
		return;
	if (force)
		prepare_place(gw); /* a reload may have just made it automatic */
	size_t len = 0;
	char *text = state_text(gw, &len);
	if (!gw->state_writer)
		gw->state_writer = gw_afile_new();
	if (!text || !gw->state_writer) {
		write_outcome(gw, -1, "out of memory");
	} else if (gw_afile_post(gw->state_writer, path, text, len, why, sizeof(why)) < 0) {
		write_outcome(gw, -1, why);
	} else {
		/* handed over: a failure comes back at the next save, which writes again */
		for (int i = 0; i < gw->npacks; i++)
			gw->packs[i]->energy.dirty = false;
		gw->bank_energy.dirty = false;
		gw->intent_dirty = false;
		gw->state_dirty = false;
	}
	free(text);
}
