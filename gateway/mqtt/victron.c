/* SPDX-License-Identifier: MIT */
/* gateway/mqtt/victron.c - [mqtt] victron = true: each pack and the bank
 * also as the JSON that mr-manuel/venus-os_dbus-mqtt-battery reads, on
 * P/UNIT/victron, for a Victron GX (Venus OS) that shows it as a battery.
 *
 * The keys are those of that project's README ("JSON structure", "Full";
 * https://github.com/mr-manuel/venus-os_dbus-mqtt-battery, README.md at
 * 0099114), nested as it shows them: Dc{Power, Voltage, Current,
 * Temperature}, InstalledCapacity, ConsumedAmphours, Capacity, Soc,
 * Balancing, Alarms{...}, Info{ChargeRequest, MaxChargeVoltage,
 * MaxChargeCurrent, MaxDischargeCurrent}, History{ChargeCycles},
 * System{...}, Voltages{Cell1...}, Balances{Cell1...}, Io{AllowToCharge,
 * AllowToDischarge}.  Only values the unit has: a key whose value the BMS
 * did not give is left out, never 0 (the driver keeps what it has).  The
 * driver drops a message without Dc.Voltage, Dc.Power and Soc
 * (dbus-mqtt-battery.py on_message): a unit without them publishes
 * nothing.  Info carries the limit engine's values for the unit, the same
 * the inverter outputs send, and is left out without them (no [limits],
 * no CVL yet); while they are fail-safe (the engine's, or the bank's not
 * fresh at once: gw_bank_limits_fresh_at) it says 0 A both ways with the
 * CVL kept, since the driver would keep the last limits it had.
 *
 * A stale unit publishes nothing: the driver stops when no message came
 * for its `timeout` (config.ini [DEFAULT], 60 s by default) and the GX
 * then shows the battery as gone, never an old value as current.  Not
 * retained, for the same reason: a driver starting later must not take an
 * old message for the battery's state.  The driver has paths for 24 cells
 * (Cell1...Cell24): more are not sent.  It documents no SOH and no MQTT
 * key for our sensors' names, so those stay out.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../model/bankstate.h"
#include "mqtt_int.h"
#include "victron.h"

#define VIC_MAX_CELLS 24 /* the driver's /Voltages/CellN and /Balances/CellN paths */

/* Writing an object's members: the separator before each. */
struct jw {
	FILE *o;
	bool first;
};

static void key(struct jw *w, const char *k)
{
	fprintf(w->o, "%s\"%s\":", w->first ? "" : ",", k);
	w->first = false;
}

static void num(struct jw *w, const char *k, double v, int prec)
{
	if (!isfinite(v))
		return;
	key(w, k);
	fprintf(w->o, "%.*f", prec, v);
}

static void intv(struct jw *w, const char *k, long v)
{
	key(w, k);
	fprintf(w->o, "%ld", v);
}

static void open_obj(struct jw *w, const char *k, struct jw *in)
{
	key(w, k);
	fputc('{', w->o);
	in->o = w->o;
	in->first = true;
}

static void close_obj(struct jw *in)
{
	fputc('}', in->o);
}

/* Dc, the capacities, Soc, Balancing. */
static void dc_and_capacity(struct jw *w, const struct bms_snapshot *s, double power, double tmax)
{
	uint32_t h = s->present;
	struct jw d;
	open_obj(w, "Dc", &d);
	num(&d, "Power", power, 1);
	num(&d, "Voltage", s->voltage, 2);
	if (h & BMS_HAS_CURRENT)
		num(&d, "Current", s->current, 2);
	num(&d, "Temperature", tmax, 1);
	close_obj(&d);
	if (h & BMS_HAS_FULL)
		num(w, "InstalledCapacity", s->full_ah, 2);
	if ((h & BMS_HAS_FULL) && (h & BMS_HAS_REMAIN) && s->full_ah >= s->remain_ah)
		num(w, "ConsumedAmphours", (double)s->full_ah - s->remain_ah, 2);
	if (h & BMS_HAS_REMAIN)
		num(w, "Capacity", s->remain_ah, 2);
	num(w, "Soc", s->soc, 1);
	if (h & BMS_HAS_BALANCE)
		intv(w, "Balancing", s->balance != 0);
	else if (h & BMS_HAS_BALANCING)
		intv(w, "Balancing", s->balancing);
}

/* Alarms: 0 ok, 1 warning, 2 alarm (the levels the inverter outputs use). */
static void alarms(struct jw *w, const struct bms_snapshot *s)
{
	static const struct {
		const char *key;
		uint32_t bits;
	} map[] = {
		{ "LowVoltage", BMS_AL_PACK_UV },
		{ "HighVoltage", BMS_AL_PACK_OV },
		{ "LowSoc", BMS_AL_SOC_LOW },
		{ "HighChargeCurrent", BMS_AL_CHG_OC },
		{ "HighDischargeCurrent", BMS_AL_DSG_OC },
		{ "HighCurrent", BMS_AL_CHG_OC | BMS_AL_DSG_OC | BMS_AL_SHORT },
		{ "CellImbalance", BMS_AL_CELL_DIFF },
		{ "HighChargeTemperature", BMS_AL_CHG_OT },
		{ "LowChargeTemperature", BMS_AL_CHG_UT },
		{ "LowCellVoltage", BMS_AL_CELL_UV },
		{ "LowTemperature", BMS_AL_DSG_UT },
		{ "HighTemperature", BMS_AL_DSG_OT | BMS_AL_MOS_OT },
	};
	if (!(s->present & BMS_HAS_ALARMS))
		return;
	uint32_t protect, warn;
	gw_limits_snap_levels(s, &protect, &warn);
	struct jw a;
	open_obj(w, "Alarms", &a);
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		intv(&a, map[i].key, (protect & map[i].bits) ? 2 : (warn & map[i].bits) ? 1 : 0);
	close_obj(&a);
}

/* Fail-safe: no current either way, no request, the CVL kept (never 0). */
static void info(struct jw *w, const struct gw_limits *l, bool failsafe)
{
	if (!l)
		return;
	struct jw in;
	open_obj(w, "Info", &in);
	intv(&in, "ChargeRequest", !failsafe && (l->force_charge || l->full_charge_request));
	num(&in, "MaxChargeVoltage", l->cvl_v > 0 ? l->cvl_v : NAN, 2);
	num(&in, "MaxChargeCurrent", failsafe ? 0 : l->ccl_a, 1);
	num(&in, "MaxDischargeCurrent", failsafe ? 0 : l->dcl_a, 1);
	close_obj(&in);
}

/* The coldest and warmest sensor of the unit (NaN: none). */
static void temp_range(const struct bms_snapshot *s, double *tmin, double *tmax)
{
	*tmin = *tmax = NAN;
	if (!(s->present & BMS_HAS_TEMPS))
		return;
	for (unsigned i = 0; i < s->ntemps && i < BMS_MAX_TEMPS; i++) {
		double t = s->temp_c[i];
		if (!isfinite(t))
			continue;
		if (!isfinite(*tmin) || t < *tmin)
			*tmin = t;
		if (!isfinite(*tmax) || t > *tmax)
			*tmax = t;
	}
}

static void cell_id(struct jw *w, const char *k, unsigned pack, unsigned cell)
{
	key(w, k);
	if (pack)
		fprintf(w->o, "\"P%uC%u\"", pack, cell); /* the bank: pack and cell */
	else
		fprintf(w->o, "\"C%u\"", cell);
}

/* System: the cells' and sensors' extremes, the bank's modules. */
static void system_obj(struct jw *w, const struct mq_victron_unit *u, double tmin, double tmax)
{
	const struct bms_snapshot *s = u->s;
	bool pack_cells = !u->bank && (s->present & BMS_HAS_CELLS) && s->ncells;
	if (!u->bank && !pack_cells && !isfinite(tmin) && !(s->present & BMS_HAS_MOS_TEMP))
		return; /* nothing to say */
	struct jw y;
	open_obj(w, "System", &y);
	if (u->bank && u->have_cells) {
		cell_id(&y, "MinVoltageCellId", u->min_pack, u->min_cell);
		num(&y, "MinCellVoltage", u->min_mv / 1000.0, 3);
		cell_id(&y, "MaxVoltageCellId", u->max_pack, u->max_cell);
		num(&y, "MaxCellVoltage", u->max_mv / 1000.0, 3);
	} else if (pack_cells) {
		struct bms_cell_stats cs;
		bms_cell_stats(s, &cs);
		cell_id(&y, "MinVoltageCellId", 0, cs.min_idx);
		num(&y, "MinCellVoltage", cs.min_mv / 1000.0, 3);
		cell_id(&y, "MaxVoltageCellId", 0, cs.max_idx);
		num(&y, "MaxCellVoltage", cs.max_mv / 1000.0, 3);
	}
	num(&y, "MinCellTemperature", tmin, 1);
	num(&y, "MaxCellTemperature", tmax, 1);
	if (s->present & BMS_HAS_MOS_TEMP)
		num(&y, "MOSTemperature", s->mos_temp_c, 1);
	if (u->bank) {
		intv(&y, "NrOfModulesOnline", u->online);
		intv(&y, "NrOfModulesOffline", u->offline);
		if (u->no_charge >= 0) {
			intv(&y, "NrOfModulesBlockingCharge", u->no_charge);
			intv(&y, "NrOfModulesBlockingDischarge", u->no_discharge);
		}
	}
	close_obj(&y);
}

/* Voltages and Balances: the cells (a pack's; the bank has none of its own). */
static void cells(struct jw *w, const struct bms_snapshot *s)
{
	if (!(s->present & BMS_HAS_CELLS) || !s->ncells)
		return;
	unsigned n = s->ncells < VIC_MAX_CELLS ? s->ncells : VIC_MAX_CELLS;
	char k[16];
	struct jw v;
	open_obj(w, "Voltages", &v);
	for (unsigned i = 0; i < n; i++) {
		snprintf(k, sizeof(k), "Cell%u", i + 1);
		num(&v, k, s->cell_mv[i] / 1000.0, 3);
	}
	close_obj(&v);
	if (!(s->present & BMS_HAS_BALANCE))
		return;
	open_obj(w, "Balances", &v);
	for (unsigned i = 0; i < n; i++) {
		snprintf(k, sizeof(k), "Cell%u", i + 1);
		intv(&v, k, (s->balance >> i) & 1u);
	}
	close_obj(&v);
}

bool mq_victron_json(FILE *o, const struct mq_victron_unit *u)
{
	const struct bms_snapshot *s = u->s;
	uint32_t h = s->present;
	double power = (h & BMS_HAS_POWER) ? s->power
		       : (h & BMS_HAS_CURRENT) ? (double)s->voltage * s->current : NAN;
	if (!(h & BMS_HAS_VOLTAGE) || !(h & BMS_HAS_SOC) || !isfinite(power) || !isfinite(s->voltage) ||
	    !isfinite(s->soc))
		return false;
	double tmin, tmax;
	temp_range(s, &tmin, &tmax);
	struct jw w = { o, true };
	fputc('{', o);
	dc_and_capacity(&w, s, power, tmax);
	alarms(&w, s);
	info(&w, u->lim, u->failsafe);
	if (h & BMS_HAS_CYCLES) {
		struct jw hi;
		open_obj(&w, "History", &hi);
		intv(&hi, "ChargeCycles", (long)s->cycles);
		close_obj(&hi);
	}
	system_obj(&w, u, tmin, tmax);
	cells(&w, s);
	if (h & BMS_HAS_MOSFETS) {
		struct jw io;
		open_obj(&w, "Io", &io);
		intv(&io, "AllowToCharge", s->chg_mos);
		intv(&io, "AllowToDischarge", s->dsg_mos);
		close_obj(&io);
	}
	fputc('}', o);
	return true;
}

/* The limits a unit's Info carries (mq_victron_unit): those the inverter
 * outputs send, once they hold a CVL or are fail-safe; fresh false: the
 * bank's are not fresh at now (fail-safe before the engine's step). */
static void unit_limits(const struct gw *gw, const struct gw_limits *l, bool fresh, struct mq_victron_unit *u)
{
	u->failsafe = l->failsafe || !fresh;
	u->lim = gw->conf->limits.enabled && l->enabled && (l->volt_valid || u->failsafe) ? l : NULL;
}

/* The bank's unit: its aggregate and its members. */
static void bank_unit(const struct gw *gw, struct mq_victron_unit *u)
{
	double now = gw_mono();
	const struct gw_bank_state *bs = &gw_bank_at(gw, now)->bank;
	u->s = &bs->snap;
	unit_limits(gw, &gw->bank_lim, gw_bank_limits_fresh_at(gw, now), u);
	u->bank = true;
	u->offline = bs->missing;
	u->no_charge = u->lim ? 0 : -1;
	u->no_discharge = u->lim ? 0 : -1;
	const struct conf_bank *cb = &gw->conf->bank;
	for (int k = 0; k < cb->npacks; k++) {
		const struct gw_pack *p = gw->packs[cb->pack_idx[k]];
		if (!gw_pack_online(gw, p) || gw_pack_is_balancer(p))
			continue;
		u->online++;
		if (u->lim) {
			u->no_charge += !p->lim.charge_allowed;
			u->no_discharge += !p->lim.discharge_allowed;
		}
	}
	u->have_cells = bs->rb.have_cells;
	u->min_mv = bs->rb.min_mv;
	u->max_mv = bs->rb.max_mv;
	u->min_pack = bs->rb.min_pack;
	u->min_cell = bs->rb.min_cell;
	u->max_pack = bs->rb.max_pack;
	u->max_cell = bs->rb.max_cell;
}

/* The message of P/UNIT/victron of pack p (NULL: the bank), when the unit
 * is fresh, and its topic. */
char *mq_victron_message(const struct gw_mqtt *m, const struct gw_pack *p, char *topic, size_t cap)
{
	const struct gw *gw = m->gw;
	struct gw_unit gu = { (struct gw_pack *)p, p == NULL };
	if (!m->cfg.victron || !gw_unit_online(gw, &gu) || (p && !p->have_data))
		return NULL;
	struct mq_victron_unit u;
	memset(&u, 0, sizeof(u));
	if (p) {
		u.s = &p->snap;
		unit_limits(gw, &p->lim, true, &u);
	} else {
		bank_unit(gw, &u);
	}
	char *js = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&js, &len);
	if (!o)
		return NULL;
	bool have = mq_victron_json(o, &u);
	if (fclose(o) != 0 || !have) {
		free(js);
		return NULL;
	}
	snprintf(topic, cap, "%s/%s/victron", mq_prefix(m), p ? p->cfg->name : "bank");
	return js;
}
