/* SPDX-License-Identifier: MIT */
/* gateway/modbus/request.c - one Modbus request to a unit: screened, then
 * answered; shared by the TCP and the RTU server.  See request.h.
 *
 * Reads (FC03 and FC04 alike, as Victron's dbus-modbustcp answers both
 * on one map: https://github.com/victronenergy/dbus-modbustcp) lie wholly
 * in the register map or wholly in the unit's SunSpec block; a range that
 * crosses from one into the other, or runs past either, is 0x02.  Stale
 * data in the map follows stale_policy: 0x0B for a range that touches data
 * registers (registers/regmap.c).  The SunSpec block is always answered:
 * a stale unit's data points hold not-implemented values, State says
 * DISCONNECTED and Evt1 COMMUNICATION_ERROR (sunspec.h), so that a SunSpec
 * reader walking the models sees every model whole.  The SunSpec block is
 * read-only (0x01 for a write into it); the only writable registers are
 * the MOSFET offsets 17-18 of the map, under the rules of bmsgw(8)
 * "MOSFET CONTROL", and the charge settings 150-160 of every unit
 * (bmsgw-modbus(7) "CHARGE SETTINGS"): from a writer the transport allows
 * (else 0x01), within 150-160 and force_charge_until whole (else 0x02),
 * values the settings take (else 0x03, nothing taken); nothing is sent to
 * a BMS.  A write to any other register of the map, or outside it, is
 * 0x02 whoever writes (design section 5: the address is judged first, as
 * libmodbus judges a write outside its mapping). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modbus_conf.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/mbexc.h"
#include "../poll/control.h"
#include "identity.h"
#include "image.h"
#include "mbident.h"
#include "request.h"

_Static_assert(GW_PDU_MAX == MBID_PDU_MAX, "one PDU size");
_Static_assert(GW_PDU_MAX >= 2 + 2 * REG_READ_MAX, "a read of 125 registers fits");


static void refuse(struct gw_screen *out, int exception)
{
	out->exception = exception;
	out->kind = GW_REQ_NONE;
}

/* Strings of the bank's block (model 803's): its packs, or with [bank]
 * strings its strings of packs in series. */
static int ss_npacks(const struct gw *gw, const struct gw_unit *u)
{
	const struct conf_bank *b = &gw->conf->bank;
	int n = b->nstrings ? b->nstrings : b->npacks;
	return !u->bank ? 0 : n < SS_MAX_PACKS ? n : SS_MAX_PACKS;
}

/* Does [addr, addr + count) meet u's SunSpec block? */
static bool in_sunspec(const struct gw *gw, const struct gw_unit *u, unsigned addr, unsigned count)
{
	if (!gw_sunspec_cfg(gw->conf)->enabled || count == 0)
		return false;
	unsigned long sb = (unsigned)gw_sunspec_cfg(gw->conf)->base;
	unsigned long se = sb + (unsigned)ss_block_len(u->bank, ss_npacks(gw, u));
	return addr < se && (unsigned long)addr + count > sb;
}

/* Does a write starting at addr start at the MOSFET registers (offsets 17-18)? */
static bool at_mosfets(const struct gw *gw, unsigned addr)
{
	unsigned base = (unsigned)gw->conf->gw.base;
	return addr >= base + (unsigned)reg_offset(REG_SRC_DSG_MOS) &&
	       addr <= base + (unsigned)reg_offset(REG_SRC_CHG_MOS);
}

/* FC06 / FC16 of the MOSFET registers: the addresses and values. */
static void write_fields(struct gw *gw, const uint8_t *pdu, size_t plen, struct gw_screen *out)
{
	unsigned base = (unsigned)gw->conf->gw.base;
	unsigned r_dsg = base + (unsigned)reg_offset(REG_SRC_DSG_MOS), r_chg = base + (unsigned)reg_offset(REG_SRC_CHG_MOS);
	unsigned nvals;
	const uint8_t *vals;
	out->exception = GW_MB_ILLEGAL_VALUE;
	if (out->function == GW_FC_WRITE_SINGLE) {
		if (plen != 5) {
			out->why = "malformed FC06 request";
			return;
		}
		out->count = nvals = 1;
		vals = pdu + 3;
		if (out->addr != r_dsg && out->addr != r_chg) {
			out->exception = GW_MB_ILLEGAL_ADDRESS;
			out->why = "only the MOSFET registers (offsets 17 and 18) are writable";
			return;
		}
	} else {
		if (plen < 6) {
			out->why = "malformed FC16 request";
			return;
		}
		nvals = out->count;
		vals = pdu + 6;
		if (out->addr < r_dsg || out->addr > r_chg) {
			out->exception = GW_MB_ILLEGAL_ADDRESS;
			out->why = "only the MOSFET registers (offsets 17 and 18) are writable";
			return;
		}
		if (nvals < 1 || out->addr + nvals - 1 > r_chg || pdu[5] != 2 * nvals || plen != 6 + 2 * (size_t)nvals) {
			out->why = "FC16 must stay within offsets 17-18, with a matching byte count";
			return;
		}
	}
	for (unsigned i = 0; i < nvals; i++) {
		unsigned v = (unsigned)(vals[2 * i] << 8 | vals[2 * i + 1]);
		if (v > 1) {
			out->why = "the value must be 0 (off) or 1 (on)";
			return;
		}
		int f = out->addr + i == r_dsg ? BMS_FET_DISCHARGE : BMS_FET_CHARGE;
		out->set[f] = true;
		out->on[f] = v == 1;
	}
	out->exception = 0;
}

/* The values of a settings write (pdu checked): from register k0, nvals
 * words, into ids and values; false when it splits force_charge_until. */
static bool settings_values(const uint8_t *vals, unsigned k0, unsigned nvals, struct gw_screen *out)
{
	bool first;
	if (k0 + nvals > GW_SET_REGS)
		return false;
	out->set_first = (int)gw_settings_reg_id(k0, &first);
	if (!first)
		return false;
	out->set_n = 0;
	for (unsigned k = k0; k < k0 + nvals; k++) {
		uint32_t w = (uint32_t)(vals[2 * (k - k0)] << 8 | vals[2 * (k - k0) + 1]);
		enum gw_set_id id = gw_settings_reg_id(k, &first);
		if (id == GW_SET_FORCE_UNTIL && first) {
			if (k + 1 >= k0 + nvals)
				return false;
			w = w << 16 | (uint32_t)(vals[2 * (k + 1 - k0)] << 8 | vals[2 * (k + 1 - k0) + 1]);
			k++;
		}
		out->set_v[out->set_n++] = w;
	}
	return true;
}

/* FC06 / FC16 into the charge settings (offsets 150-160) of any unit. */
static void screen_settings(struct gw *gw, const uint8_t *pdu, size_t plen, const struct gw_writer *wr,
			    struct gw_screen *out)
{
	unsigned s0 = (unsigned)gw->conf->gw.base + (unsigned)reg_offset(REG_SRC_SET_MAX_SOC);
	out->settings = true;
	refuse(out, GW_MB_ILLEGAL_FUNCTION);
	if (!wr->allowed) {
		out->why = wr->refused_why;
		return;
	}
	if (!gw->conf->limits.enabled) {
		out->why = "the charge settings act through [limits], which is off";
		return;
	}
	bool single = out->function == GW_FC_WRITE_SINGLE;
	unsigned nvals = single ? 1 : out->count;
	if (single ? plen != 5
		   : (plen < 6 || nvals < 1 || nvals > 123 || pdu[5] != 2 * nvals || plen != 6 + 2 * (size_t)nvals)) {
		refuse(out, GW_MB_ILLEGAL_VALUE);
		out->why = single ? "malformed FC06 request" : "malformed FC16 request (count and byte count)";
		return;
	}
	if (!settings_values(pdu + (single ? 3 : 6), out->addr - s0, nvals, out)) {
		refuse(out, GW_MB_ILLEGAL_ADDRESS);
		out->why = "a settings write stays within offsets 150-160 and writes force_charge_until (155-156) whole";
		return;
	}
	out->exception = 0;
	out->kind = GW_REQ_SETTINGS;
}

/* FC06 / FC16: only the MOSFET registers of a pack with control, from a
 * writer the transport allows, with values 0 or 1; or the charge
 * settings. */
static void screen_write(struct gw *gw, const uint8_t *pdu, size_t plen, const struct gw_writer *wr, double now,
			 struct gw_screen *out)
{
	const struct gw_unit *u = &out->target;
	if (plen >= 5) { /* for the log, whatever comes next */
		out->addr = (unsigned)(pdu[1] << 8 | pdu[2]);
		out->count = out->function == GW_FC_WRITE_SINGLE ? 1 : (unsigned)(pdu[3] << 8 | pdu[4]);
		if (in_sunspec(gw, u, out->addr, out->count)) {
			refuse(out, GW_MB_ILLEGAL_FUNCTION); /* read-only; not a MOSFET command */
			return;
		}
		unsigned s0 = (unsigned)gw->conf->gw.base + (unsigned)reg_offset(REG_SRC_SET_MAX_SOC);
		if (out->addr >= s0 && out->addr < s0 + GW_SET_REGS) {
			screen_settings(gw, pdu, plen, wr, out);
			return;
		}
		if (!at_mosfets(gw, out->addr)) {
			/* no register but these is writable, whoever asks (design section 5: 06/16 are
			 * served for writable registers; any other address is 0x02, as libmodbus and
			 * pymodbus answer a write outside their writable block) */
			refuse(out, GW_MB_ILLEGAL_ADDRESS);
			out->why = "only the MOSFET registers (offsets 17 and 18) and the charge settings (150-160) are "
				   "writable";
			return;
		}
	}
	refuse(out, GW_MB_ILLEGAL_FUNCTION);
	if (u->bank)
		out->why = "the bank unit is never writable";
	else if (!wr->allowed)
		out->why = wr->refused_why;
	else if (!u->pack->drv->control)
		out->why = "this protocol has no MOSFET control";
	else if (!u->pack->cfg->control)
		out->why = "control is not enabled for this pack";
	if (out->why)
		return;
	write_fields(gw, pdu, plen, out);
	if (out->exception)
		return;
	if (!gw_unit_online_at(gw, u, now)) {
		refuse(out, GW_MB_GATEWAY_TARGET);
		out->why = "the pack is stale: its state is not known";
		return;
	}
	out->kind = GW_REQ_WRITE;
	out->write = true;
}

/* FC03 / FC04: the map, or the SunSpec block. */
static void screen_read(struct gw *gw, const uint8_t *pdu, size_t plen, double now, struct gw_screen *out)
{
	const struct gw_unit *u = &out->target;
	if (plen != 5) {
		/* function + address + quantity, exactly */
		refuse(out, GW_MB_ILLEGAL_VALUE);
		return;
	}
	out->addr = (unsigned)(pdu[1] << 8 | pdu[2]);
	out->count = (unsigned)(pdu[3] << 8 | pdu[4]);
	if (out->count < 1 || out->count > REG_READ_MAX) {
		refuse(out, GW_MB_ILLEGAL_VALUE);
		return;
	}
	bool exc = gw->conf->gw.stale_policy == CONF_STALE_EXCEPTION;
	unsigned base = (unsigned)gw->conf->gw.base;
	if (out->addr >= base && out->addr + out->count <= base + REG_MAP_SIZE) {
		out->kind = GW_REQ_MAP;
		if (exc && !gw_unit_online_at(gw, u, now) && reg_range_has_data(out->addr - base, out->count))
			refuse(out, GW_MB_GATEWAY_TARGET);
		return;
	}
	unsigned sb = (unsigned)gw_sunspec_cfg(gw->conf)->base;
	int np = ss_npacks(gw, u);
	if (gw_sunspec_cfg(gw->conf)->enabled && out->addr >= sb &&
	    out->addr + out->count <= sb + (unsigned)ss_block_len(u->bank, np)) {
		out->kind = GW_REQ_SUNSPEC; /* stale: answered, not implemented values (sunspec.h) */
		return;
	}
	refuse(out, GW_MB_ILLEGAL_ADDRESS);
}

/* FC 0x11, FC 0x2B: what mbident would answer decides (a bad MEI type,
 * read code or object id). */
static void screen_ident(struct gw *gw, const uint8_t *pdu, size_t plen, double now, struct gw_screen *out)
{
	struct mbid_identity id;
	uint8_t scratch[GW_PDU_MAX];
	gw_unit_ident(gw, &out->target, now, &id);
	int n = mbid_reply(&id, pdu, plen, scratch, sizeof(scratch));
	if (n < 0)
		refuse(out, -n);
	else
		out->kind = GW_REQ_IDENT;
}

void gw_request_screen(struct gw *gw, int unit, const uint8_t *pdu, size_t len, const struct gw_writer *wr,
		       double now, struct gw_screen *out)
{
	memset(out, 0, sizeof(*out));
	out->unit = unit;
	out->function = len ? pdu[0] : 0;
	if (!gw_unit_lookup(gw, unit, &out->target)) {
		refuse(out, GW_MB_GATEWAY_PATH);
		return;
	}
	switch (out->function) {
	case GW_FC_READ_HOLDING:
	case GW_FC_READ_INPUT: screen_read(gw, pdu, len, now, out); break;
	case GW_FC_WRITE_SINGLE:
	case GW_FC_WRITE_MULTIPLE: screen_write(gw, pdu, len, wr, now, out); break;
	case GW_FC_REPORT_SERVER_ID:
	case GW_FC_MEI: screen_ident(gw, pdu, len, now, out); break;
	default: refuse(out, GW_MB_ILLEGAL_FUNCTION); break;
	}
}

/* ---- answers */

struct gw_answerer {
	struct gw *gw;
	struct gw_images *images;      /* the map, cached (image.c) */
	struct gw_ss_scratch sc;
	uint16_t ss[SS_MAX_BLOCK];     /* the SunSpec block, built for each read of it */
};

struct gw_answerer *gw_answerer_new(struct gw *gw)
{
	struct gw_answerer *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->gw = gw;
	a->images = gw_images_new();
	if (!a->images) {
		free(a);
		return NULL;
	}
	return a;
}

void gw_answerer_free(struct gw_answerer *a)
{
	if (!a)
		return;
	gw_images_free(a->images);
	free(a);
}

int gw_request_exception(int function, int exception, uint8_t *out)
{
	out[0] = (uint8_t)(function | 0x80);
	out[1] = (uint8_t)exception;
	return 2;
}

/* The SunSpec registers of the read, built now, big-endian. */
static int answer_sunspec(struct gw_answerer *a, const struct gw_screen *s, double now, uint8_t *out)
{
	struct ss_unit su;
	gw_unit_sunspec(a->gw, &s->target, now, &a->sc, &su);
	int n = ss_build(&su, a->ss, sizeof(a->ss) / sizeof(a->ss[0]));
	unsigned off = s->addr - (unsigned)gw_sunspec_cfg(a->gw->conf)->base;
	if (n < 0 || off + s->count > (unsigned)n)
		return -GW_MB_DEVICE_FAILURE; /* screened against the same length: never */
	for (unsigned i = 0; i < s->count; i++) {
		out[2 + 2 * i] = (uint8_t)(a->ss[off + i] >> 8);
		out[3 + 2 * i] = (uint8_t)a->ss[off + i];
	}
	return 0;
}

int gw_request_answer(struct gw_answerer *a, const struct gw_screen *s, const uint8_t *pdu, size_t len,
		      double now, uint8_t *out)
{
	struct gw *gw = a->gw;
	if (s->exception)
		return -s->exception;
	if (s->kind == GW_REQ_IDENT) {
		struct mbid_identity id;
		gw_unit_ident(gw, &s->target, now, &id);
		return mbid_reply(&id, pdu, len, out, GW_PDU_MAX);
	}
	if (s->kind == GW_REQ_SETTINGS) {
		memcpy(out, pdu, 5); /* FC06: address and value; FC16: address and count */
		return 5;
	}
	if (s->kind != GW_REQ_MAP && s->kind != GW_REQ_SUNSPEC)
		return -GW_MB_DEVICE_FAILURE;
	out[0] = (uint8_t)s->function;
	out[1] = (uint8_t)(2 * s->count);
	if (s->kind == GW_REQ_MAP) {
		const uint8_t *img = gw_unit_image_wire(gw, &s->target, now, a->images);
		unsigned off = s->addr - (unsigned)gw->conf->gw.base;
		memcpy(out + 2, img + 2 * off, 2 * (size_t)s->count);
	} else {
		int rc = answer_sunspec(a, s, now, out);
		if (rc < 0)
			return rc;
	}
	return 2 + 2 * (int)s->count;
}

/* A write refused by the screening: control.c logs and counts it as it
 * does its own refusals (the bank has no counters: logged only). */
static void refused(const struct gw_screen *s, const char *who)
{
	char what[64];
	snprintf(what, sizeof(what), "FC%02d at %u count %u", s->function, s->addr, s->count);
	if (s->target.bank || !s->target.pack) /* the bank has no command counters */
		gw_log_refused(GW_LOG_INFO, who, "control: %s: unit bank: %s: refused (exception 0x%02X): %s", who,
			       what, s->exception, s->why);
	else
		gw_control_refused(s->target.pack, who, what, s->exception, s->why);
}

/* A settings write: taken (or 0x03, nothing taken), or its refusal logged. */
static void settings_write(struct gw *gw, struct gw_screen *s, const char *who)
{
	const char *unit = s->target.pack ? s->target.pack->cfg->name : "bank";
	if (s->exception) {
		if (s->why)
			gw_log_refused(GW_LOG_INFO, who, "settings: %s: unit %s: FC%02d at %u count %u: refused "
				       "(exception 0x%02X): %s", who, unit, s->function, s->addr, s->count, s->exception,
				       s->why);
		return;
	}
	if (gw_unit_settings_write(gw, &s->target, s->set_first, s->set_n, s->set_v, GW_ORIGIN_MODBUS, who,
				   gw_mono()) != GW_SET_OK) {
		s->exception = GW_MB_ILLEGAL_VALUE;
		s->kind = GW_REQ_NONE;
	}
}

bool gw_request_control(struct gw *gw, struct gw_screen *s, const char *who, gw_ctl_done done, void *ctx,
			struct gw_ctl **handle)
{
	if (s->settings) {
		settings_write(gw, s, who);
		return false;
	}
	if (s->write) {
		char why[160];
		s->exception = gw_control_submit(gw, s->target.pack, s->set, s->on, who, done, ctx, handle, why,
						 sizeof(why));
		return s->exception == 0;
	}
	if (s->exception && s->why)
		refused(s, who);
	return false;
}
