/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_vedirect.c - Victron VE.Direct TEXT protocol, the device side.
 *
 * A SmartShunt 500A/50mV with its aux input set to temperature: once a
 * second, unasked, two blocks of "\r\n" LABEL "\t" VALUE fields, each
 * closed by "\r\nChecksum\t" and one byte that makes the sum of all bytes of
 * the block 0 modulo 256:
 *	PID V T I P CE SOC TTG Alarm AR BMV FW MON Checksum
 *	H1 H2 H3 H4 H5 H6 H7 H8 H9 H10 H11 H12 H15 H16 H17 H18 Checksum
 * (the order and set of a SmartShunt capture; a SmartShunt has no relay).
 * Units: V mV, I mA (+ = charging), P W, CE consumed mAh (<= 0), SOC per
 * mille, TTG minutes (-1 = infinite), T degC, AR alarm reason bits, H4
 * charge cycles.
 *
 * Nothing is answered: bytes from the gateway are ignored.  Pack model use:
 * the cells only make up V (a shunt reports no cells); temp_c[0] = T;
 * alarm[0] / alarm[1] = AR low / high byte (Alarm = ON when AR != 0);
 * junk = an asynchronous HEX-mode frame inside the first block and another
 * between the blocks (they are not part of the checksums).
 * Encoded here from the pack state; bms/vedirect.c is deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

struct ved_raw {
	long v_mv, i_ma, p_w, ce_mah, soc_pm, ttg_min;
	int t_c;
	unsigned ar;
	unsigned cycles;
};

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void ved_quantise(const struct sim_pack *p, struct ved_raw *r)
{
	memset(r, 0, sizeof *r);
	long sum = 0;
	for (int i = 0; i < p->ncells; i++)
		sum += sim_pack_cell_mv(p, i);
	r->v_mv = clampl(sum, 0, 999999);
	r->i_ma = clampl(lround(p->current * 1000.0), -9999999, 9999999);
	r->p_w = lround((double)r->v_mv * (double)r->i_ma / 1e6);
	r->soc_pm = clampl(lround(p->soc * 10.0), 0, 1000);
	r->ce_mah = -lround(p->capacity_ah * 1000.0 * (1000 - r->soc_pm) / 1000.0);
	if (r->i_ma < 0) {
		double rem_mah = p->capacity_ah * 1000.0 * r->soc_pm / 1000.0;
		r->ttg_min = clampl(lround(rem_mah / (double)-r->i_ma * 60.0), 0, 14400);
	} else {
		r->ttg_min = -1;
	}
	r->t_c = (int)clampl(p->temp_c[0], -40, 215);
	r->ar = (unsigned)p->alarm[0] | (unsigned)p->alarm[1] << 8;
	r->cycles = p->cycles;
}

static void ved_view(const struct sim_pack *p, struct sim_view *v)
{
	struct ved_raw r;
	ved_quantise(p, &r);
	memset(v, 0, sizeof *v);
	/* a shunt: no cells, MOSFETs, balancing, capacities, SOH */
	v->has = SIM_HAS_SOC | SIM_HAS_CYCLES | SIM_HAS_TEMPS | SIM_HAS_ALARMS;
	v->address = p->address;
	v->voltage = r.v_mv / 1000.0;
	v->current = r.i_ma / 1000.0;
	v->soc = r.soc_pm / 10.0;
	v->cycles = r.cycles;
	v->ncells = 0;
	v->ntemps = 1;
	v->temp_c[0] = r.t_c;
	v->nalarm = 2;
	v->alarm[0] = p->alarm[0];
	v->alarm[1] = p->alarm[1];
}

/* Block being built: text, then "Checksum\t" and its byte. */
struct ved_text {
	size_t len;
	uint8_t buf[SIM_REPLY_MAX];
};

static void field(struct ved_text *t, const char *label, long v)
{
	int k = snprintf((char *)t->buf + t->len, sizeof t->buf - t->len, "\r\n%s\t%ld", label, v);
	if (k > 0 && t->len + (size_t)k < sizeof t->buf)
		t->len += (size_t)k;
}

static void field_s(struct ved_text *t, const char *label, const char *value)
{
	int k = snprintf((char *)t->buf + t->len, sizeof t->buf - t->len, "\r\n%s\t%s", label, value);
	if (k > 0 && t->len + (size_t)k < sizeof t->buf)
		t->len += (size_t)k;
}

/* An asynchronous HEX-mode frame: ":A" register (LE) flags value (LE)
 * checksum "\n", with 0x0A + all bytes + checksum = 0x55 (mod 256).  Not
 * part of the text checksum. */
static void hex_frame(struct ved_text *t, unsigned reg, unsigned value)
{
	uint8_t b[5] = { (uint8_t)reg, (uint8_t)(reg >> 8), 0x00, (uint8_t)value, (uint8_t)(value >> 8) };
	unsigned s = 0x0A;
	for (int i = 0; i < 5; i++)
		s += b[i];
	uint8_t chk = (uint8_t)(0x55 - s);
	int k = snprintf((char *)t->buf + t->len, sizeof t->buf - t->len,
	                 ":A%02X%02X%02X%02X%02X%02X\n", b[0], b[1], b[2], b[3], b[4], chk);
	if (k > 0 && t->len + (size_t)k < sizeof t->buf)
		t->len += (size_t)k;
}

/* Close the block: the checksum field over everything since `start`,
 * HEX frames left out. */
static void checksum(struct ved_text *t, size_t start)
{
	field_s(t, "Checksum", "");
	unsigned s = 0;
	int hex = 0;
	for (size_t i = start; i < t->len; i++) {
		if (t->buf[i] == ':')
			hex = 1;
		if (!hex)
			s += t->buf[i];
		if (hex && t->buf[i] == '\n')
			hex = 0;
	}
	if (t->len < sizeof t->buf)
		t->buf[t->len++] = (uint8_t)(256u - (s & 0xFF));
}

static enum sim_resp ved_emit(struct sim_pack *p, struct sim_reply *reply)
{
	struct ved_raw r;
	static struct ved_text t;
	ved_quantise(p, &r);

	t.len = 0;
	field_s(&t, "PID", "0xA389");
	field(&t, "V", r.v_mv);
	field(&t, "T", r.t_c);
	field(&t, "I", r.i_ma);
	if (p->junk)
		hex_frame(&t, 0xED8D, (unsigned)(r.v_mv / 10)); /* battery voltage, 0.01 V */
	field(&t, "P", r.p_w);
	field(&t, "CE", r.ce_mah);
	field(&t, "SOC", r.soc_pm);
	field(&t, "TTG", r.ttg_min);
	field_s(&t, "Alarm", r.ar ? "ON" : "OFF");
	field(&t, "AR", (long)r.ar);
	field_s(&t, "BMV", "SmartShunt 500A/50mV");
	field_s(&t, "FW", "0419");
	field(&t, "MON", 0);
	checksum(&t, 0);
	sim_reply_add(reply, t.buf, t.len);

	t.len = 0;
	if (p->junk)
		hex_frame(&t, 0x0FFF, (unsigned)r.soc_pm / 10 * 100); /* state of charge, 0.01 % */
	size_t start = t.len;
	long cap = lround(p->capacity_ah * 1000.0);
	field(&t, "H1", -cap * 8 / 10);
	field(&t, "H2", r.ce_mah);
	field(&t, "H3", -cap * 4 / 10);
	field(&t, "H4", (long)r.cycles);
	field(&t, "H5", 0);
	field(&t, "H6", -(long)r.cycles * cap / 1000 * 1000);
	field(&t, "H7", r.v_mv * 9 / 10);
	field(&t, "H8", r.v_mv * 11 / 10);
	field(&t, "H9", 3600);
	field(&t, "H10", (long)r.cycles);
	field(&t, "H11", 0);
	field(&t, "H12", 0);
	field(&t, "H15", 0);
	field(&t, "H16", 0);
	field(&t, "H17", (long)r.cycles * 5);
	field(&t, "H18", (long)r.cycles * 5 + 1);
	checksum(&t, start);
	sim_reply_add(reply, t.buf, t.len);
	return SIM_RESP_OK;
}

/* The device would take HEX commands; the simulator takes nothing. */
static enum sim_scan ved_scan(const uint8_t *buf, size_t len, size_t *n)
{
	(void)buf;
	if (len == 0)
		return SIM_SCAN_NEED;
	*n = len;
	return SIM_SCAN_SKIP;
}

static int ved_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return -1;
}

static enum sim_resp ved_respond(struct sim_pack *p, const uint8_t *req, size_t n,
                                 struct sim_reply *reply)
{
	(void)p;
	(void)req;
	(void)n;
	(void)reply;
	return SIM_RESP_NONE;
}

const struct sim_proto sim_proto_vedirect = {
	.name = "vedirect",
	.default_baud = 19200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one device per wire */
	.max_cells = SIM_MAX_CELLS,
	.max_temps = 1,
	.scan = ved_scan,
	.address = ved_address,
	.respond = ved_respond,
	.view = ved_view,
	.corrupt = NULL, /* the checksum byte is the last one of a block */
	.emit = ved_emit,
};
