/* SPDX-License-Identifier: MIT */
/* gateway/venus/venus_paths.c - a unit's values on D-Bus, path by path, as
 * dbus-serialbattery publishes a battery (mr-manuel/venus-os_dbus-serialbattery,
 * dbus-serialbattery's dbushelper setup_vedbus and publish_dbus, at
 * 358d3c7): the same paths, types and units, its texts ("53.20V").
 *
 * The values are the model's, read as every output reads them: a pack's
 * last good snapshot and its limits (model/charge.c), the bank's one state
 * (gw_bank_at) and its limits, fresh at the moment of the build
 * (gw_bank_limits_fresh_at), the same the inverter outputs send and the
 * MQTT output's Victron JSON carries (mqtt/victron.c).  Nothing is made
 * up: a value the unit does not have is invalid (an empty array), never
 * 0; no CVL without limits; no SOC the BMS did not give or bmsgw did not
 * count.
 *
 * A unit that is not fresh says /Connected 0 and /Alarms/BmsCable 2 (the
 * pack's link is lost), its measurements invalid (never an old value as a
 * current one), its current limits 0 A and /Io/AllowTo* 0 at once, its CVL
 * and DVL kept (a CVL of 0 would be a value no BMS gives).  The bank's
 * limits are 0 A the moment they are not fresh (with [limits] bank_stale =
 * block, a member gone stale; always when none is left).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../model/bankstate.h"
#include "../model/gw.h"
#include "venus_int.h"

#define VN_MAX_CELLS BMS_MAX_CELLS

/* What the build reads of a unit, pack or bank alike. */
struct vn_src {
	const struct bms_snapshot *s;
	const struct gw_limits *lim;     /* NULL: no limits to publish */
	bool fresh;                      /* measurements valid now */
	bool failsafe;                   /* the limits are 0 A now */
	uint32_t protect, warn;          /* its alarms by level */
	bool have_alarms;
	/* the cells' extremes: a pack's by its cells, the bank's across packs */
	bool have_cells;
	double min_v, max_v;
	char min_id[16], max_id[16];
	/* the sensors' extremes */
	double tmin, tmax;
	char tmin_id[16], tmax_id[16];
	int online, offline, no_charge, no_discharge; /* modules; no_*: -1 = not known */
};

static struct gw_pack *unit_pack(const struct vn_unit *u, const struct gw *gw)
{
	return u->pack[0] ? gw_find_pack(gw, u->pack) : NULL;
}

bool vn_unit_fresh(const struct vn_unit *u, const struct gw *gw, double now)
{
	if (!u->pack[0])
		return gw->conf->bank.enabled && gw_bank_at(gw, now)->bank.online > 0;
	const struct gw_pack *p = unit_pack(u, gw);
	return p && p->have_data && gw_pack_online_at(gw, p, now);
}

/* The limits as mqtt/victron.c publishes them: with [limits], once they
 * hold a CVL or are fail-safe. */
static void src_limits(const struct gw *gw, const struct gw_limits *l, bool fresh, struct vn_src *x)
{
	x->failsafe = l->failsafe || !fresh;
	x->lim = gw->conf->limits.enabled && l->enabled && (l->volt_valid || x->failsafe) ? l : NULL;
}

static void sensor_range(const struct bms_snapshot *s, struct vn_src *x)
{
	x->tmin = x->tmax = NAN;
	if (!(s->present & BMS_HAS_TEMPS))
		return;
	for (unsigned i = 0; i < s->ntemps && i < BMS_MAX_TEMPS; i++) {
		double t = s->temp_c[i];
		if (!isfinite(t))
			continue;
		if (!isfinite(x->tmin) || t < x->tmin) {
			x->tmin = t;
			snprintf(x->tmin_id, sizeof(x->tmin_id), "T%u", i + 1);
		}
		if (!isfinite(x->tmax) || t > x->tmax) {
			x->tmax = t;
			snprintf(x->tmax_id, sizeof(x->tmax_id), "T%u", i + 1);
		}
	}
}

static void pack_src(const struct gw *gw, const struct gw_pack *p, double now, struct vn_src *x)
{
	x->s = &p->snap;
	x->fresh = gw_pack_online_at(gw, p, now);
	src_limits(gw, &p->lim, x->fresh, x);
	if (p->snap.present & BMS_HAS_ALARMS) {
		gw_limits_snap_levels(&p->snap, &x->protect, &x->warn);
		x->have_alarms = true;
	}
	struct bms_cell_stats cs;
	bms_cell_stats(&p->snap, &cs);
	if (cs.from != BMS_CELLS_NONE) {
		x->have_cells = true;
		x->min_v = cs.min_mv / 1000.0;
		x->max_v = cs.max_mv / 1000.0;
		snprintf(x->min_id, sizeof(x->min_id), "C%u", cs.min_idx);
		snprintf(x->max_id, sizeof(x->max_id), "C%u", cs.max_idx);
	}
	sensor_range(&p->snap, x);
	x->online = x->fresh;
	x->offline = !x->fresh;
	x->no_charge = x->lim ? !p->lim.charge_allowed : -1;
	x->no_discharge = x->lim ? !p->lim.discharge_allowed : -1;
}

static void bank_src(const struct gw *gw, double now, struct vn_src *x)
{
	const struct gw_bank_state *bs = &gw_bank_at(gw, now)->bank;
	x->s = &bs->snap;
	x->fresh = bs->online > 0;
	src_limits(gw, &gw->bank_lim, gw_bank_limits_fresh_at(gw, now), x);
	x->protect = bs->protect;
	x->warn = bs->warn | (gw->bank_lim.member_stale ? BMS_AL_COMM : 0);
	gw_limits_bank_alarm_levels(&gw->bank_lim, &x->protect, &x->warn);
	x->have_alarms = true;
	if (bs->rb.have_cells) {
		x->have_cells = true;
		x->min_v = bs->rb.min_mv / 1000.0;
		x->max_v = bs->rb.max_mv / 1000.0;
		snprintf(x->min_id, sizeof(x->min_id), "P%uC%u", bs->rb.min_pack, bs->rb.min_cell);
		snprintf(x->max_id, sizeof(x->max_id), "P%uC%u", bs->rb.max_pack, bs->rb.max_cell);
	}
	x->tmin = x->tmax = NAN;
	if (bs->tmin.pack) {
		x->tmin = bs->tmin.c;
		x->tmax = bs->tmax.c;
		snprintf(x->tmin_id, sizeof(x->tmin_id), "P%uT%u", bs->tmin.pack, bs->tmin.index);
		snprintf(x->tmax_id, sizeof(x->tmax_id), "P%uT%u", bs->tmax.pack, bs->tmax.index);
	}
	x->offline = bs->missing;
	x->no_charge = x->no_discharge = x->lim ? 0 : -1;
	const struct conf_bank *cb = &gw->conf->bank;
	for (int k = 0; k < cb->npacks; k++) {
		const struct gw_pack *p = gw->packs[cb->pack_idx[k]];
		if (!gw_pack_online_at(gw, p, now) || gw_pack_is_balancer(p))
			continue;
		x->online++;
		if (x->lim) {
			x->no_charge += !p->lim.charge_allowed;
			x->no_discharge += !p->lim.discharge_allowed;
		}
	}
}

/* A value of the snapshot when the unit is fresh and the BMS gave it. */
static double have(const struct vn_src *x, uint32_t bit, double v)
{
	return x->fresh && (x->s->present & bit) ? v : NAN;
}

/* /Mgmt, the identity, /Connected. */
static void identity(struct vn_unit *u, const struct gw *gw, const struct gw_pack *p, const struct vn_src *x)
{
	char t[CONF_PORT_MAX + BMS_IDENT_LEN + 32];
	vn_put_string(u, "/Mgmt/ProcessName", "bmsgw");
	vn_put_string(u, "/Mgmt/ProcessVersion", BMSGW_VERSION);
	if (p)
		snprintf(t, sizeof(t), "%s %s", p->drv->name, p->cfg->port[0] ? p->cfg->port : p->cfg->topic);
	else
		snprintf(t, sizeof(t), "bank of %d packs", gw->conf->bank.npacks);
	vn_put_string(u, "/Mgmt/Connection", t);
	if (u->instance >= 0)
		vn_put_int(u, "/DeviceInstance", u->instance);
	vn_put_int(u, "/ProductId", VN_PRODUCT_ID);
	if (p)
		snprintf(t, sizeof(t), "%s (bmsgw)", p->ident.model[0] ? p->ident.model : p->drv->description);
	else
		snprintf(t, sizeof(t), "bmsgw bank");
	vn_put_string(u, "/ProductName", t);
	vn_put_string(u, "/FirmwareVersion", p && p->ident.firmware[0] ? p->ident.firmware : BMSGW_VERSION);
	if (p && p->ident.model[0])
		vn_put_string(u, "/HardwareVersion", p->ident.model);
	if (p && p->ident.serial[0])
		vn_put_string(u, "/Serial", p->ident.serial);
	vn_put_string(u, "/CustomName", u->custom[0] ? u->custom : p ? p->cfg->name : "bank");
	vn_item_writable(u, "/CustomName");
	vn_put_int(u, "/Connected", x->fresh);
}

/* /Dc/0, the state of charge and health, the capacities, /TimeToGo. */
static void dc(struct vn_unit *u, const struct vn_src *x)
{
	const struct bms_snapshot *s = x->s;
	double power = (s->present & BMS_HAS_POWER) ? s->power
		       : (s->present & BMS_HAS_CURRENT) ? (double)s->voltage * s->current : NAN;
	vn_put_double(u, "/Dc/0/Voltage", have(x, BMS_HAS_VOLTAGE, s->voltage), 2, "V");
	vn_put_double(u, "/Dc/0/Current", have(x, BMS_HAS_CURRENT, s->current), 2, "A");
	vn_put_double(u, "/Dc/0/Power", x->fresh && (s->present & BMS_HAS_VOLTAGE) ? power : NAN, 0, "W");
	vn_put_double(u, "/Dc/0/Temperature", x->fresh ? x->tmax : NAN, 1, "C");
	vn_put_double(u, "/Soc", have(x, BMS_HAS_SOC, s->soc), 1, "%");
	vn_put_double(u, "/Soh", have(x, BMS_HAS_SOH, s->soh), 0, "%");
	double remain = have(x, BMS_HAS_REMAIN, s->remain_ah), full = have(x, BMS_HAS_FULL, s->full_ah);
	vn_put_double(u, "/Capacity", remain, 2, "Ah");
	vn_put_double(u, "/InstalledCapacity", full, 0, "Ah");
	/* negative, as dbus-serialbattery and a BMV publish it */
	vn_put_double(u, "/ConsumedAmphours", full >= remain ? -(full - remain) : NAN, 0, "Ah");
	double cur = have(x, BMS_HAS_CURRENT, s->current);
	/* seconds until empty at the current discharge: only while discharging */
	vn_put_double(u, "/TimeToGo", isfinite(remain) && cur < -0.1 ? floor(remain / -cur * 3600.0) : NAN, 0, "s");
	if (s->present & BMS_HAS_BALANCE)
		vn_put_int(u, "/Balancing", x->fresh ? s->balance != 0 : 0);
	else if (s->present & BMS_HAS_BALANCING)
		vn_put_int(u, "/Balancing", x->fresh ? s->balancing : 0);
	if (x->fresh && (s->present & BMS_HAS_CYCLES))
		vn_put_int(u, "/History/ChargeCycles", (long)s->cycles);
}

/* /Info: the limits; /Io: what the unit allows. */
static void limits(struct vn_unit *u, const struct vn_src *x)
{
	const struct gw_limits *l = x->lim;
	const struct bms_snapshot *s = x->s;
	if (l) {
		vn_put_double(u, "/Info/MaxChargeVoltage", l->volt_valid && l->cvl_v > 0 ? l->cvl_v : NAN, 2, "V");
		vn_put_double(u, "/Info/BatteryLowVoltage", l->volt_valid && l->dvl_v > 0 ? l->dvl_v : NAN, 2, "V");
		vn_put_double(u, "/Info/MaxChargeCurrent", x->failsafe ? 0 : l->ccl_a, 2, "A");
		vn_put_double(u, "/Info/MaxDischargeCurrent", x->failsafe ? 0 : l->dcl_a, 2, "A");
		vn_put_int(u, "/Info/ChargeRequest", !x->failsafe && (l->force_charge || l->full_charge_request));
		vn_put_int(u, "/Io/AllowToCharge", !x->failsafe && l->charge_allowed);
		vn_put_int(u, "/Io/AllowToDischarge", !x->failsafe && l->discharge_allowed);
	} else if (s->present & BMS_HAS_MOSFETS) {
		vn_put_int(u, "/Io/AllowToCharge", x->fresh && s->chg_mos);
		vn_put_int(u, "/Io/AllowToDischarge", x->fresh && s->dsg_mos);
	}
	if (s->present & (BMS_HAS_BALANCE | BMS_HAS_BALANCING))
		vn_put_int(u, "/Io/AllowToBalance", x->fresh);
}

/* /System: the cells' and sensors' extremes, the modules. */
static void system_paths(struct vn_unit *u, const struct vn_src *x, const struct gw_pack *p)
{
	bool c = x->fresh && x->have_cells;
	vn_put_double(u, "/System/MinCellVoltage", c ? x->min_v : NAN, 3, "V");
	vn_put_double(u, "/System/MaxCellVoltage", c ? x->max_v : NAN, 3, "V");
	if (c) {
		vn_put_string(u, "/System/MinVoltageCellId", x->min_id);
		vn_put_string(u, "/System/MaxVoltageCellId", x->max_id);
	} else {
		vn_put_invalid(u, "/System/MinVoltageCellId");
		vn_put_invalid(u, "/System/MaxVoltageCellId");
	}
	bool t = x->fresh && isfinite(x->tmin);
	vn_put_double(u, "/System/MinCellTemperature", t ? x->tmin : NAN, 1, "C");
	vn_put_double(u, "/System/MaxCellTemperature", t ? x->tmax : NAN, 1, "C");
	if (t) {
		vn_put_string(u, "/System/MinTemperatureCellId", x->tmin_id);
		vn_put_string(u, "/System/MaxTemperatureCellId", x->tmax_id);
	} else {
		vn_put_invalid(u, "/System/MinTemperatureCellId");
		vn_put_invalid(u, "/System/MaxTemperatureCellId");
	}
	if (x->s->present & BMS_HAS_MOS_TEMP)
		vn_put_double(u, "/System/MOSTemperature", have(x, BMS_HAS_MOS_TEMP, x->s->mos_temp_c), 1, "C");
	if (p && (p->snap.present & BMS_HAS_CELLS) && p->snap.ncells)
		vn_put_int(u, "/System/NrOfCellsPerBattery", p->snap.ncells);
	vn_put_int(u, "/System/NrOfModulesOnline", x->online);
	vn_put_int(u, "/System/NrOfModulesOffline", x->offline);
	if (x->no_charge >= 0) {
		vn_put_int(u, "/System/NrOfModulesBlockingCharge", x->no_charge);
		vn_put_int(u, "/System/NrOfModulesBlockingDischarge", x->no_discharge);
	} else {
		vn_put_invalid(u, "/System/NrOfModulesBlockingCharge");
		vn_put_invalid(u, "/System/NrOfModulesBlockingDischarge");
	}
}

/* /Alarms: 0 ok, 1 warning, 2 alarm, by the levels every output uses. */
static void alarms(struct vn_unit *u, const struct vn_src *x)
{
	static const struct {
		const char *path;
		uint32_t bits;
	} map[] = {
		{ "/Alarms/LowVoltage", BMS_AL_PACK_UV },
		{ "/Alarms/HighVoltage", BMS_AL_PACK_OV },
		{ "/Alarms/LowCellVoltage", BMS_AL_CELL_UV },
		{ "/Alarms/HighCellVoltage", BMS_AL_CELL_OV },
		{ "/Alarms/LowSoc", BMS_AL_SOC_LOW },
		{ "/Alarms/HighChargeCurrent", BMS_AL_CHG_OC },
		{ "/Alarms/HighDischargeCurrent", BMS_AL_DSG_OC | BMS_AL_SHORT },
		{ "/Alarms/CellImbalance", BMS_AL_CELL_DIFF },
		{ "/Alarms/InternalFailure", BMS_AL_HW_FAULT | BMS_AL_MOS_FAULT | BMS_AL_SENSOR },
		{ "/Alarms/HighChargeTemperature", BMS_AL_CHG_OT },
		{ "/Alarms/LowChargeTemperature", BMS_AL_CHG_UT },
		{ "/Alarms/HighTemperature", BMS_AL_DSG_OT },
		{ "/Alarms/LowTemperature", BMS_AL_DSG_UT },
		{ "/Alarms/HighInternalTemperature", BMS_AL_MOS_OT },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (!x->fresh || !x->have_alarms)
			vn_put_invalid(u, map[i].path);
		else
			vn_put_int(u, map[i].path, (x->protect & map[i].bits) ? 2 : (x->warn & map[i].bits) ? 1 : 0);
	}
	/* the link to the BMS: lost while the unit is not fresh */
	vn_put_int(u, "/Alarms/BmsCable", x->fresh ? 0 : 2);
}

/* /Voltages and /Balances: a pack's cells. */
static void cells(struct vn_unit *u, const struct vn_src *x)
{
	const struct bms_snapshot *s = x->s;
	if (!(s->present & BMS_HAS_CELLS) || !s->ncells)
		return;
	unsigned n = s->ncells < VN_MAX_CELLS ? s->ncells : VN_MAX_CELLS;
	char path[VN_PATH_MAX];
	double sum = 0;
	for (unsigned i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/Voltages/Cell%u", i + 1);
		vn_put_double(u, path, x->fresh ? s->cell_mv[i] / 1000.0 : NAN, 3, "V");
		sum += s->cell_mv[i] / 1000.0;
	}
	vn_put_double(u, "/Voltages/Sum", x->fresh ? sum : NAN, 2, "V");
	vn_put_double(u, "/Voltages/Diff", x->fresh && x->have_cells ? x->max_v - x->min_v : NAN, 3, "V");
	if (!(s->present & BMS_HAS_BALANCE))
		return;
	for (unsigned i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/Balances/Cell%u", i + 1);
		if (x->fresh)
			vn_put_int(u, path, i < 32 ? (s->balance >> i) & 1u : 0);
		else
			vn_put_invalid(u, path);
	}
}

void vn_paths_build(struct vn_unit *u, const struct gw *gw, double now)
{
	struct vn_src x;
	memset(&x, 0, sizeof(x));
	const struct gw_pack *p = unit_pack(u, gw);
	if (u->pack[0] && !p)
		return; /* the pack went at a reload: its unit goes too */
	if (p)
		pack_src(gw, p, now, &x);
	else
		bank_src(gw, now, &x);
	vn_items_begin(u);
	identity(u, gw, p, &x);
	dc(u, &x);
	limits(u, &x);
	system_paths(u, &x, p);
	alarms(u, &x);
	if (p)
		cells(u, &x);
	vn_items_end(u);
}
