/* SPDX-License-Identifier: MIT */
/* gateway/web/status.c - /api/state (JSON) and /metrics (Prometheus).
 *
 * Both are built on demand from the live state, on the loop: packs as
 * --once prints them (json.c), the bank, every wire with its state and
 * error counters, the Modbus clients, the MQTT client, the HTTP server and
 * the history.  A unit that is not fresh shows no value as current: the
 * state JSON keeps its last values with online = false and their age, and
 * /metrics leaves its value gauges out (Prometheus then shows a gap, not a
 * flat line), keeping its online flag, age and counters.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/prom.h"
#include "../model/bankstate.h"
#include "../model/gw.h"
#include "../model/health_gw.h"
#include "../model/json.h"
#include "../model/service.h"
#include "../poll/bmsset.h"
#include "../poll/control.h"
#include "../poll/listener.h"
#include "../poll/poll.h"
#include "status.h"

#ifndef BMSGW_VERSION
#error "BMSGW_VERSION comes from the Makefile (VERSION)"
#endif

static const char *link_state(const struct gw_bus *w, const struct gw_link_info *li)
{
	if (w->lent)
		return "lent";
	switch (li->state) {
	case GW_LINK_DOWN: return "down";
	case GW_LINK_RESOLVING: return "resolving";
	case GW_LINK_CONNECTING: return "connecting";
	case GW_LINK_UP: return "up";
	}
	return "?";
}

/* A bus another master polls: what was heard of it. */
static void listen_json(const struct gw_bus *w, FILE *o)
{
	if (!w->li)
		return;
	struct gw_listener_info li;
	gw_listener_info(w->li, &li);
	fprintf(o, ",\"listen\":{\"master_heard_s\":");
	if (li.master_ago >= 0)
		fprintf(o, "%.1f", li.master_ago);
	else
		fputs("null", o);
	fprintf(o, ",\"taken_over\":%s,\"frames\":%lu,\"answers\":%lu,\"answers_used\":%lu,\"noise_bytes\":%lu}",
		li.taken ? "true" : "false", li.frames, li.answers, li.taken_answers, li.noise);
}

static void links_json(struct gw *gw, FILE *o)
{
	double now = gw_mono();
	fputc('[', o);
	for (int i = 0; i < gw->nbuses; i++) {
		const struct gw_bus *w = gw->buses[i];
		struct gw_link_info li;
		gw_link_info(w->link, &li);
		fprintf(o, "%s{\"port\":", i ? "," : "");
		gw_json_str(o, li.port);
		fprintf(o, ",\"kind\":\"%s\",\"state\":\"%s\",\"up\":%s,\"opens\":%lu", li.kind, link_state(w, &li),
			li.state == GW_LINK_UP ? "true" : "false", li.opens);
		if (li.state != GW_LINK_UP && li.down_since >= 0)
			fprintf(o, ",\"down_s\":%.0f", now - li.down_since);
		if (li.turns) /* a BLE link taking turns for its adapter's or proxy's connection slots */
			fprintf(o, ",\"taking_turns\":true,\"round_s\":%.1f", li.round_s);
		fprintf(o, ",\"checksum_errors\":%u,\"short_frames\":%u,\"timeouts\":%u,\"exceptions\":%u,"
			"\"implausible\":%u,\"bad_messages\":%u,\"packs\":[",
			w->stats.checksum_errors, w->stats.short_frames, w->stats.timeouts, w->stats.exceptions,
			w->stats.implausible, w->stats.bad_messages);
		for (int k = 0; k < w->npacks; k++) {
			fprintf(o, "%s", k ? "," : "");
			gw_json_str(o, w->packs[k]->cfg->name);
		}
		fprintf(o, "]");
		listen_json(w, o);
		fprintf(o, ",\"polling\":");
		if (w->cur)
			gw_json_str(o, w->cur->cfg->name);
		else
			fputs("null", o);
		fputc('}', o);
	}
	fputc(']', o);
}

void gw_status_json(struct gw *gw, FILE *o)
{
	const struct conf *c = gw->conf;
	time_t wall = time(NULL);
	double up = gw_mono() - gw->start;
	fputs("{\"site\":", o); /* [gateway] site, null without */
	if (c->gw.site[0])
		gw_json_str(o, c->gw.site);
	else
		fputs("null", o);
	fprintf(o, ",\"gateway\":{\"version\":\"%s\",", BMSGW_VERSION);
	gw_json_utc(o, "time", wall);
	fputc(',', o);
	gw_json_utc(o, "started", wall - (time_t)up);
	fprintf(o, ",\"uptime_s\":%.0f,\"packs_online\":%d,\"packs_configured\":%d,\"stale_after\":%g,"
		"\"reloads\":%lu,\"reload_failed\":%s}",
		up, gw_packs_online(gw), gw->npacks, c->gw.stale_after, gw->reloads,
		gw->reload_failures ? "true" : "false");

	fprintf(o, ",\"packs\":[");
	for (int i = 0; i < gw->npacks; i++) {
		if (i)
			fputc(',', o);
		gw_pack_json(o, gw, gw->packs[i]);
	}
	/* why a pack's last poll failed (it may still have older data) */
	fprintf(o, "],\"errors\":{");
	bool first = true;
	for (int i = 0; i < gw->npacks; i++) {
		const struct gw_pack *p = gw->packs[i];
		if (!p->last_error[0])
			continue;
		fprintf(o, "%s", first ? "" : ",");
		gw_json_str(o, p->cfg->name);
		fputc(':', o);
		gw_json_str(o, p->last_error);
		first = false;
	}
	fprintf(o, "},\"bank\":");
	if (c->bank.enabled)
		gw_bank_json(o, gw);
	else
		fputs("null", o);

	fprintf(o, ",\"links\":");
	links_json(gw, o);
	fprintf(o, ",\"ble_proxies\":");
	gw_status_proxies_json(gw, o);

	/* each output's own member, in the service table's order */
	for (int i = 0; i < gw->nout; i++) {
		const struct gw_output *out = &gw->out[i];
		fprintf(o, ",\"%s\":", out->svc->name);
		if (out->state)
			out->svc->status_json(out->state, gw, o);
		else
			fputs("null", o);
	}
	fputs("}\n", o);
}

/* ------------------------------------------------------------- /api/config */

/* Section s, instance `name`, as the part that runs it holds it. */
static const void *in_force(struct gw *gw, const struct conf_section *s, const char *name, const void *conf_obj)
{
	for (int i = 0; i < gw->nout; i++) {
		const struct gw_output *out = &gw->out[i];
		const void *h = out->state && out->svc->held ? out->svc->held(out->state, s, name) : NULL;
		if (h)
			return h;
	}
	return conf_obj;
}

void gw_status_config(struct gw *gw, FILE *o)
{
	bool first = true;
	const struct conf_section *s;
	fputc('{', o);
	for (int si = 0; (s = conf_section_nth(si)); si++) {
		const char *name;
		const void *obj;
		for (int i = 0; (obj = conf_section_at(gw->conf, s, i, &name)); i++) {
			obj = in_force(gw, s, name, obj);
			char title[64 + CONF_NAME_MAX];
			snprintf(title, sizeof(title), "%s%s%s", s->word, name ? "." : "", name ? name : "");
			fputs(first ? "\n" : ",\n", o);
			first = false;
			gw_json_str(o, title);
			fputs(":{", o);
			for (int k = 0; k < s->nkeys; k++) {
				char text[1024];
				conf_key_text(&s->keys[k], obj, text, sizeof(text));
				fprintf(o, "%s", k ? "," : "");
				gw_json_str(o, s->keys[k].name);
				fputc(':', o);
				gw_json_str(o, text);
			}
			fputc('}', o);
		}
	}
	fputs("}\n", o);
}

/* ------------------------------------------------------------- /metrics */


/* A unit that metrics show values of: a pack or the bank, fresh or not. */
struct munit {
	const char *name;
	const struct bms_snapshot *s;  /* NULL = not fresh: no values */
	const struct gw_bank_state *bank;
};

/* One value family over every unit that has the value. */
struct vfam {
	const char *name, *help;
	uint32_t need;                 /* BMS_HAS_* */
	double (*get)(const struct bms_snapshot *s);
};
static double g_soc(const struct bms_snapshot *s) { return s->soc; }
static double g_soh(const struct bms_snapshot *s) { return s->soh; }
static double g_volt(const struct bms_snapshot *s) { return s->voltage; }
static double g_curr(const struct bms_snapshot *s) { return s->current; }
static double g_pow(const struct bms_snapshot *s) { return s->power; }
static double g_rem(const struct bms_snapshot *s) { return s->remain_ah; }
static double g_full(const struct bms_snapshot *s) { return s->full_ah; }
static double g_cyc(const struct bms_snapshot *s) { return s->cycles; }
static double g_mos(const struct bms_snapshot *s) { return s->mos_temp_c; }
static double g_tmax(const struct bms_snapshot *s) { return s->ext_tmax_c; }
static double g_tmin(const struct bms_snapshot *s) { return s->ext_tmin_c; }

static const struct vfam vfams[] = {
	{ "bmsgw_soc_percent", "State of charge, %.", BMS_HAS_SOC, g_soc },
	{ "bmsgw_soh_percent", "State of health, %.", BMS_HAS_SOH, g_soh },
	{ "bmsgw_voltage_volts", "Pack voltage.", BMS_HAS_VOLTAGE, g_volt },
	{ "bmsgw_current_amperes", "Pack current, positive when charging.", BMS_HAS_CURRENT, g_curr },
	{ "bmsgw_power_watts", "Pack power, positive when charging.", BMS_HAS_POWER, g_pow },
	{ "bmsgw_remaining_capacity_ampere_hours", "Remaining capacity.", BMS_HAS_REMAIN, g_rem },
	{ "bmsgw_full_capacity_ampere_hours", "Full (or rated) capacity.", BMS_HAS_FULL, g_full },
	{ "bmsgw_cycles", "Charge cycles the BMS counted.", BMS_HAS_CYCLES, g_cyc },
	{ "bmsgw_mos_temperature_celsius", "MOSFET (or BMS board) temperature.", BMS_HAS_MOS_TEMP, g_mos },
	{ "bmsgw_bms_temperature_max_celsius", "Highest temperature as the BMS reports it.", BMS_HAS_TEMP_EXT,
	  g_tmax },
	{ "bmsgw_bms_temperature_min_celsius", "Lowest temperature as the BMS reports it.", BMS_HAS_TEMP_EXT,
	  g_tmin },
};

static void unit_metrics(FILE *o, const struct munit *u, int n)
{
	for (size_t f = 0; f < sizeof(vfams) / sizeof(vfams[0]); f++) {
		gw_prom_family(o, vfams[f].name, "gauge", vfams[f].help);
		for (int i = 0; i < n; i++)
			if (u[i].s && (u[i].s->present & vfams[f].need) && isfinite(vfams[f].get(u[i].s)))
				gw_prom_sample(o, vfams[f].name, u[i].name, NULL, vfams[f].get(u[i].s));
	}
	char lab[64];
	gw_prom_family(o, "bmsgw_temperature_celsius", "gauge", "Temperature sensor of the pack (the bank: the mean of sensor n).");
	for (int i = 0; i < n; i++)
		for (unsigned k = 0; u[i].s && k < u[i].s->ntemps && k < BMS_MAX_TEMPS; k++)
			if (isfinite(u[i].s->temp_c[k])) {
				snprintf(lab, sizeof(lab), "sensor=\"%u\"", k + 1);
				gw_prom_sample(o, "bmsgw_temperature_celsius", u[i].name, lab, u[i].s->temp_c[k]);
			}
	gw_prom_family(o, "bmsgw_cell_voltage_volts", "gauge", "Voltage of one cell.");
	for (int i = 0; i < n; i++)
		for (unsigned k = 0; u[i].s && k < u[i].s->ncells && k < BMS_MAX_CELLS; k++) {
			snprintf(lab, sizeof(lab), "cell=\"%u\"", k + 1);
			gw_prom_sample(o, "bmsgw_cell_voltage_volts", u[i].name, lab, u[i].s->cell_mv[k] / 1000.0);
		}
	gw_prom_family(o, "bmsgw_cell_balancing", "gauge", "1 while the cell is being balanced.");
	for (int i = 0; i < n; i++)
		for (unsigned k = 0; u[i].s && (u[i].s->present & BMS_HAS_BALANCE) && k < u[i].s->ncells && k < 32; k++) {
			snprintf(lab, sizeof(lab), "cell=\"%u\"", k + 1);
			gw_prom_sample(o, "bmsgw_cell_balancing", u[i].name, lab, (u[i].s->balance >> k) & 1u);
		}
	static const char *const stat_names[] = { "bmsgw_cell_min_volts", "bmsgw_cell_max_volts",
						  "bmsgw_cell_average_volts", "bmsgw_cell_delta_volts" };
	static const char *const stat_help[] = { "Lowest cell voltage (of the cells, else as the BMS reports it).",
						 "Highest cell voltage (of the cells, else as the BMS reports it).",
						 "Mean cell voltage.", "Highest minus lowest cell voltage." };
	for (int k = 0; k < 4; k++) {
		gw_prom_family(o, stat_names[k], "gauge", stat_help[k]);
		for (int i = 0; i < n; i++) {
			if (!u[i].s)
				continue;
			double mv[4];
			if (u[i].bank) {
				const struct reg_bank *b = &u[i].bank->rb;
				if (!b->have_cells || (k == 2 && b->no_avg))
					continue;
				mv[0] = b->min_mv, mv[1] = b->max_mv, mv[2] = b->avg_mv, mv[3] = b->max_mv - b->min_mv;
			} else {
				struct bms_cell_stats cs;
				bms_cell_stats(u[i].s, &cs); /* the list's, else the BMS's own extremes */
				if (cs.from == BMS_CELLS_NONE || (k == 2 && cs.from != BMS_CELLS_LIST))
					continue;
				mv[0] = cs.min_mv, mv[1] = cs.max_mv, mv[2] = cs.avg_mv, mv[3] = cs.delta_mv;
			}
			gw_prom_sample(o, stat_names[k], u[i].name, NULL, mv[k] / 1000.0);
		}
	}
	gw_prom_family(o, "bmsgw_mosfet_on", "gauge", "1 when the MOSFET is on (conducting).");
	for (int i = 0; i < n; i++)
		if (u[i].s && (u[i].s->present & BMS_HAS_MOSFETS)) {
			gw_prom_sample(o, "bmsgw_mosfet_on", u[i].name, "fet=\"charge\"", u[i].s->chg_mos);
			gw_prom_sample(o, "bmsgw_mosfet_on", u[i].name, "fet=\"discharge\"", u[i].s->dsg_mos);
		}
	gw_prom_family(o, "bmsgw_alarm", "gauge", "1 while the alarm is active (normalised alarm set).");
	for (int i = 0; i < n; i++)
		for (unsigned k = 0; u[i].s && (u[i].s->present & BMS_HAS_ALARMS) && k < BMS_AL_COUNT; k++) {
			snprintf(lab, sizeof(lab), "alarm=\"%s\"", bms_alarm_name(k));
			gw_prom_sample(o, "bmsgw_alarm", u[i].name, lab, (u[i].s->alarms >> k) & 1u);
		}
}

/* The gateway itself. */
static void gateway_metrics(const struct gw *gw, FILE *o)
{
	double now = gw_mono();
	gw_prom_family(o, "bmsgw_info", "gauge", "Version of bmsgw.");
	fprintf(o, "bmsgw_info{version=\"%s\"} 1\n", BMSGW_VERSION);
	const struct gw_prom_metric mm[] = {
		{ "bmsgw_start_time_seconds", "gauge", "Start time of the daemon (unix seconds).",
		  floor((double)time(NULL) - (now - gw->start)) },
		{ "bmsgw_reloads_total", "counter", "Configuration reloads applied.", (double)gw->reloads },
		{ "bmsgw_reload_failures_total", "counter", "Configuration reloads refused.",
		  (double)gw->reload_failures_total },
		{ "bmsgw_packs_configured", "gauge", "Packs configured.", gw->npacks },
		{ "bmsgw_packs_online", "gauge", "Packs with fresh data.", gw_packs_online(gw) },
	};
	gw_prom_singles(o, mm, sizeof(mm) / sizeof(mm[0]));
}

/* A family with two samples per pack, told apart by one label. */
static void pack_pairs(const struct gw *gw, FILE *o, const char *name, const char *type, const char *help,
		       const char *label[2], double (*get)(const struct gw_pack *p, int k))
{
	gw_prom_family(o, name, type, help);
	for (int i = 0; i < gw->npacks; i++)
		for (int k = 0; k < 2; k++)
			gw_prom_sample(o, name, gw->packs[i]->cfg->name, label[k], get(gw->packs[i], k));
}

static double polls_of(const struct gw_pack *p, int k)
{
	return k ? p->failed_polls : p->good_polls;
}

static double commands_of(const struct gw_pack *p, int k)
{
	uint32_t done, failed;
	gw_control_counts(p, &done, &failed);
	return k ? failed : done;
}

static double energy_of(const struct gw_pack *p, int k)
{
	return k ? p->energy.out_kwh : p->energy.in_kwh;
}

/* Changes of the BMSs' own settings by result (poll/bmsset.h). */
static void bms_settings_metrics(const struct gw *gw, FILE *o)
{
	static const char *const res[3] = { "result=\"done\"", "result=\"failed\"", "result=\"refused\"" };
	gw_prom_family(o, "bmsgw_pack_bms_settings_total", "counter",
		       "Changes of the BMS's own settings by result: done (read back equal), failed at the BMS, "
		       "refused before anything was sent.");
	for (int i = 0; i < gw->npacks; i++) {
		uint32_t n[3];
		gw_bset_counts(gw->packs[i], &n[0], &n[1], &n[2]);
		for (int k = 0; k < 3; k++)
			gw_prom_sample(o, "bmsgw_pack_bms_settings_total", gw->packs[i]->cfg->name, res[k], n[k]);
	}
}

/* Every pack, fresh or not: what it is, whether it is fresh, its age and counters. */
static void packs_metrics(const struct gw *gw, FILE *o)
{
	double now = gw_mono();
	gw_prom_family(o, "bmsgw_pack_info", "gauge", "A configured pack: protocol, port, address and Modbus unit id.");
	for (int i = 0; i < gw->npacks; i++) {
		const struct gw_pack *p = gw->packs[i];
		fputs("bmsgw_pack_info{pack=", o);
		gw_prom_label(o, p->cfg->name);
		fprintf(o, ",protocol=\"%s\",port=", p->drv->name);
		gw_prom_label(o, p->cfg->port);
		fprintf(o, ",address=\"%d\",unit_id=\"%d\"} 1\n", p->cfg->address, p->cfg->unit_id);
	}
	gw_prom_family(o, "bmsgw_pack_online", "gauge", "1 while the pack's data is fresh (younger than stale_after).");
	for (int i = 0; i < gw->npacks; i++)
		gw_prom_sample(o, "bmsgw_pack_online", gw->packs[i]->cfg->name, NULL, gw_pack_online(gw, gw->packs[i]));
	gw_prom_family(o, "bmsgw_pack_data_age_seconds", "gauge", "Seconds since the pack's last good poll.");
	for (int i = 0; i < gw->npacks; i++)
		if (gw->packs[i]->have_data)
			gw_prom_sample(o, "bmsgw_pack_data_age_seconds", gw->packs[i]->cfg->name, NULL,
				       now - gw->packs[i]->last_good);
	static const char *results[2] = { "result=\"good\"", "result=\"failed\"" };
	static const char *outcomes[2] = { "result=\"done\"", "result=\"failed\"" };
	pack_pairs(gw, o, "bmsgw_pack_polls_total", "counter", "Polls of the pack by result.", results, polls_of);
	pack_pairs(gw, o, "bmsgw_pack_control_commands_total", "counter",
		   "MOSFET commands by outcome: done, failed at the BMS, refused before they were sent.", outcomes,
		   commands_of);
	for (int i = 0; i < gw->npacks; i++)
		gw_prom_sample(o, "bmsgw_pack_control_commands_total", gw->packs[i]->cfg->name, "result=\"refused\"",
			       gw_control_refusals(gw->packs[i]));
	bms_settings_metrics(gw, o);
}

/* The values of every unit that is fresh, the energy counters, the bank's own. */
static void values_metrics(const struct gw *gw, FILE *o)
{
	const struct conf *c = gw->conf;
	struct munit u[CONF_MAX_PACKS + 1];
	int n = 0;
	for (int i = 0; i < gw->npacks; i++) {
		const struct gw_pack *p = gw->packs[i];
		u[n].name = p->cfg->name;
		u[n].s = p->have_data && gw_pack_online(gw, p) ? &p->snap : NULL;
		u[n].bank = NULL;
		n++;
	}
	const struct gw_bank_state *bs = c->bank.enabled ? &gw_bank_at(gw, gw_mono())->bank : NULL;
	if (bs) {
		u[n].name = "bank";
		u[n].s = bs->online ? &bs->snap : NULL;
		u[n].bank = bs;
		n++;
	}
	unit_metrics(o, u, n);
	static const char *dirs[2] = { "direction=\"in\"", "direction=\"out\"" };
	pack_pairs(gw, o, "bmsgw_energy_kwh_total", "counter",
		   "Energy charged (in) and discharged (out), integrated over good polls.", dirs, energy_of);
	if (!bs)
		return;
	gw_prom_sample(o, "bmsgw_energy_kwh_total", "bank", dirs[0], gw->bank_energy.in_kwh);
	gw_prom_sample(o, "bmsgw_energy_kwh_total", "bank", dirs[1], gw->bank_energy.out_kwh);
	const struct gw_prom_metric mm[] = {
		{ "bmsgw_bank_packs_online", "gauge", "Packs of the bank with fresh data.", bs->online },
		{ "bmsgw_bank_packs_configured", "gauge", "Packs of the bank.", bs->configured },
		{ "bmsgw_bank_deviation", "gauge", "1 while a fresh pack's voltage departs from the others.",
		  bs->online ? bs->rb.deviation : 0 },
		{ "bmsgw_bank_current_from_shunt", "gauge",
		  "1 while the bank's current and power are its shunt's ([bank] shunt), 0: the packs' sum.",
		  bs->shunt.current },
		{ "bmsgw_bank_soc_from_shunt", "gauge",
		  "1 while the bank's SOC and capacities are its shunt's ([bank] shunt), 0: the packs'.", bs->shunt.soc },
	};
	gw_prom_singles(o, mm, sizeof(mm) / sizeof(mm[0]));
}

/* The counted SOC of every unit that counts (model/socunit.h): kept while
 * a pack is stale, as the count is. */
static void soc_metrics(const struct gw *gw, FILE *o)
{
	int n = gw->npacks + (gw->conf->bank.enabled ? 1 : 0);
	struct gw_soc_out so[CONF_MAX_PACKS + 1];
	const char *name[CONF_MAX_PACKS + 1];
	double now = gw_mono();
	for (int i = 0; i < n; i++) {
		if (i < gw->npacks)
			gw_soc_pack_out(gw, gw->packs[i], now, &so[i]);
		else
			gw_bank_counted(gw_bank_at(gw, now), now, &so[i]);
		name[i] = i < gw->npacks ? gw->packs[i]->cfg->name : "bank";
	}
	static const struct {
		const char *name, *help;
		unsigned flag; /* the units that give it */
	} g[] = {
		{ "bmsgw_soc_counted_percent", "SOC counted by bmsgw from the current (not while it does not count).",
		  GW_SOC_F_COUNTING },
		{ "bmsgw_soc_uncertainty_percent", "The counted SOC's uncertainty: the true SOC lies within "
		  "bmsgw_soc_counted_percent plus or minus this (only while it is known).", GW_SOC_F_SYNCED },
		{ "bmsgw_soc_synced", "1 while the counted SOC is synced (a full or empty point since the start or a "
		  "lost gap).", GW_SOC_F_COUNTING },
		{ "bmsgw_soc_resumed", "1 when this run's count went on from the one in the state file (saved at "
		  "the last exit or save, at most 24 h before), 0 when it began anew.", GW_SOC_F_COUNTING },
		{ "bmsgw_capacity_measured_ah", "Usable capacity measured between full and empty points (the median "
		  "of the last five samples).", GW_SOC_F_MEASURED },
	};
	for (size_t k = 0; k < sizeof(g) / sizeof(g[0]); k++) {
		gw_prom_family(o, g[k].name, "gauge", g[k].help);
		for (int i = 0; i < n; i++) {
			double v = k == 0 ? so[i].soc_counted : k == 1 ? so[i].band
				 : k == 2 ? (double)((so[i].flags & GW_SOC_F_SYNCED) != 0)
				 : k == 3 ? (double)((so[i].flags & GW_SOC_F_RESUMED) != 0) : so[i].capacity_ah;
			if ((so[i].flags & g[k].flag) && isfinite(v))
				gw_prom_sample(o, g[k].name, name[i], NULL, v);
		}
	}
	gw_prom_family(o, "bmsgw_soc_points_total", "counter", "Full, empty and rest points the count was set at, "
		       "knee and light-load points it was pulled down at.");
	for (int i = 0; i < n; i++) {
		if (!(so[i].flags & GW_SOC_F_COUNTING))
			continue;
		gw_prom_sample(o, "bmsgw_soc_points_total", name[i], "point=\"full\"", so[i].full_points);
		gw_prom_sample(o, "bmsgw_soc_points_total", name[i], "point=\"empty\"", so[i].empty_points);
		gw_prom_sample(o, "bmsgw_soc_points_total", name[i], "point=\"rest\"", so[i].rest_points);
		gw_prom_sample(o, "bmsgw_soc_points_total", name[i], "point=\"knee\"", so[i].knee_points);
		gw_prom_sample(o, "bmsgw_soc_points_total", name[i], "point=\"light\"", so[i].light_points);
	}
}

/* The charge limits of every pack and the bank ([limits]): status, so a
 * stale unit shows its fail-safe zeros rather than a gap. */
static void limits_metrics(const struct gw *gw, FILE *o)
{
	static const struct { const char *name, *help; } lf[] = {
		{ "bmsgw_charge_voltage_limit_volts", "Charge voltage limit (CVL)." },
		{ "bmsgw_charge_current_limit_amperes", "Charge current limit (CCL); 0 = no charging." },
		{ "bmsgw_discharge_current_limit_amperes", "Discharge current limit (DCL); 0 = no discharging." },
		{ "bmsgw_discharge_voltage_limit_volts", "Discharge voltage limit (DVL)." },
	};
	if (!gw->conf->limits.enabled)
		return;
	int n = gw->npacks + (gw->conf->bank.enabled ? 1 : 0);
	for (size_t f = 0; f < sizeof(lf) / sizeof(lf[0]); f++) {
		gw_prom_family(o, lf[f].name, "gauge", lf[f].help);
		for (int i = 0; i < n; i++) {
			const struct gw_limits *l = i < gw->npacks ? &gw->packs[i]->lim : &gw->bank_lim;
			double v[] = { l->cvl_v, l->ccl_a, l->dcl_a, l->dvl_v };
			gw_prom_sample(o, lf[f].name, i < gw->npacks ? gw->packs[i]->cfg->name : "bank", NULL, v[f]);
		}
	}
	gw_prom_family(o, "bmsgw_charge_limit_info", "gauge", "Charge mode and what binds each current limit.");
	for (int i = 0; i < n; i++) {
		const struct gw_limits *l = i < gw->npacks ? &gw->packs[i]->lim : &gw->bank_lim;
		char lab[160];
		snprintf(lab, sizeof(lab), "mode=\"%s\",ccl_reason=\"%s\",dcl_reason=\"%s\"", gw_limits_mode_name(l->mode),
			 gw_limits_reason_name(l->ccl_reason), gw_limits_reason_name(l->dcl_reason));
		gw_prom_sample(o, "bmsgw_charge_limit_info", i < gw->npacks ? gw->packs[i]->cfg->name : "bank", lab, 1);
	}
	gw_prom_family(o, "bmsgw_limit_exceeded", "gauge", "1 while the current has been beyond that limit for "
		       "limit_exceeded seconds: the inverter does not follow it.");
	for (int i = 0; i < n; i++) {
		const struct gw_limits *l = i < gw->npacks ? &gw->packs[i]->lim : &gw->bank_lim;
		for (enum gw_lim_exceeded e = GW_LIM_EXC_CHARGE; e <= GW_LIM_EXC_DISCHARGE; e++) {
			fputs("bmsgw_limit_exceeded{unit=", o);
			gw_prom_label(o, i < gw->npacks ? gw->packs[i]->cfg->name : "bank");
			fprintf(o, ",direction=\"%s\"}", gw_limits_exceeded_name(e));
			gw_prom_value(o, l->exceeded == e);
		}
	}
}

/* Every wire: up, opens and its error counters, labelled port and kind. */
static void wires_metrics(const struct gw *gw, FILE *o)
{
	static const struct { const char *name, *type, *help; } lf[] = {
		{ "bmsgw_link_up", "gauge", "1 while the wire is open (0 while down or lent to a maintenance tool)." },
		{ "bmsgw_link_opens_total", "counter", "Times the wire was opened or connected." },
		{ "bmsgw_link_checksum_errors_total", "counter", "Complete frames whose checksum failed." },
		{ "bmsgw_link_short_frames_total", "counter", "Frames cut short." },
		{ "bmsgw_link_timeouts_total", "counter", "Requests with no complete answer in time." },
		{ "bmsgw_link_exceptions_total", "counter", "Answers that were an error code (a Modbus exception)." },
		{ "bmsgw_link_implausible_total", "counter",
		  "Polls whose frames were valid but a value was not plausible (not served)." },
		{ "bmsgw_link_bad_messages_total", "counter",
		  "mqtt-json: messages that did not parse, lacked a required field or held a value out of range." },
	};
	for (size_t f = 0; f < sizeof(lf) / sizeof(lf[0]); f++) {
		gw_prom_family(o, lf[f].name, lf[f].type, lf[f].help);
		for (int i = 0; i < gw->nbuses; i++) {
			const struct gw_bus *w = gw->buses[i];
			struct gw_link_info li;
			gw_link_info(w->link, &li);
			double v[] = { li.state == GW_LINK_UP && !w->lent, (double)li.opens, w->stats.checksum_errors,
				       w->stats.short_frames, w->stats.timeouts, w->stats.exceptions, w->stats.implausible,
				       w->stats.bad_messages };
			fprintf(o, "%s{port=", lf[f].name);
			gw_prom_label(o, li.port);
			fprintf(o, ",kind=\"%s\"} %.0f\n", li.kind, v[f]);
		}
	}
}

/* Each pack's cell health ([health]; model/health_gw.h), base units. */
static void health_metrics(const struct gw *gw, FILE *o)
{
	static const char *const names[] = { "bmsgw_cell_resistance_ohms", "bmsgw_pack_resistance_ohms",
					     "bmsgw_cell_spread_full_volts", "bmsgw_cell_spread_rest_volts",
					     "bmsgw_weak_cell" };
	static const char *const help[] = {
		"Internal resistance of one cell, from dV/dI over current steps (median of the last 32 samples).",
		"Internal resistance of the pack (cells, busbars, MOSFETs), from its voltage over current steps.",
		"Spread between the highest and the lowest cell in the full knee, the latest day's.",
		"Spread between the highest and the lowest cell after half an hour at rest, the latest day's.",
		"The weak cell (named once three knees agree): 1 with its cell label.",
	};
	if (!gw->conf->health.enabled)
		return;
	static struct gw_health_out h[CONF_MAX_PACKS];
	for (int i = 0; i < gw->npacks; i++)
		gw_health_pack_out(gw, gw->packs[i], &h[i]);
	for (size_t f = 0; f < sizeof(names) / sizeof(names[0]); f++) {
		gw_prom_family(o, names[f], "gauge", help[f]);
		for (int i = 0; i < gw->npacks; i++) {
			const char *pack = gw->packs[i]->cfg->name;
			char lab[32];
			if (f == 0) {
				for (int c = 0; c < h[i].ncells; c++) {
					snprintf(lab, sizeof(lab), "cell=\"%d\"", c + 1);
					if (isfinite(h[i].cell_ir_mohm[c]))
						gw_prom_sample(o, names[f], pack, lab, h[i].cell_ir_mohm[c] / 1000.0);
				}
			} else if (f == 1 && isfinite(h[i].ir_mohm)) {
				gw_prom_sample(o, names[f], pack, NULL, h[i].ir_mohm / 1000.0);
			} else if ((f == 2 && h[i].spread_full_mv) || (f == 3 && h[i].spread_rest_mv)) {
				gw_prom_sample(o, names[f], pack, NULL,
					       (f == 2 ? h[i].spread_full_mv : h[i].spread_rest_mv) / 1000.0);
			} else if (f == 4 && h[i].weak) {
				snprintf(lab, sizeof(lab), "cell=\"%u\"", h[i].weak_cell);
				gw_prom_sample(o, names[f], pack, lab, 1);
			}
		}
	}
}

/* /metrics: the gateway, the packs, every unit's values, the buses' links, then
 * each output's own families. */
static void all_metrics(struct gw *gw, FILE *o)
{
	gateway_metrics(gw, o);
	packs_metrics(gw, o);
	values_metrics(gw, o);
	soc_metrics(gw, o);
	limits_metrics(gw, o);
	health_metrics(gw, o);
	gw_status_strings_metrics(gw, o);
	wires_metrics(gw, o);
	gw_status_proxies_metrics(gw, o);
	/* each output's own families */
	for (int i = 0; i < gw->nout; i++)
		if (gw->out[i].state && gw->out[i].svc->metrics)
			gw->out[i].svc->metrics(gw->out[i].state, gw, o);
}

/* /metrics, with [gateway] site the label site="..." on every sample
 * (without it as it always was). */
void gw_status_metrics(struct gw *gw, FILE *o)
{
	const char *site = gw->conf->gw.site;
	char *text = NULL;
	size_t len = 0;
	FILE *m = site[0] ? open_memstream(&text, &len) : NULL;
	if (!m) {
		all_metrics(gw, o);
		return;
	}
	all_metrics(gw, m);
	if (fclose(m) == 0)
		gw_prom_with_site(o, text, len, site);
	free(text);
}
