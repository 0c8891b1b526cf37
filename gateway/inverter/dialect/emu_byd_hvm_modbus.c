/* SPDX-License-Identifier: MIT */
/* gateway/inverter/dialect/emu_byd_hvm_modbus.c - bmsgw as BYD's Battery-Box Premium
 * HVM on a Fronius inverter's battery RS485 (protocol byd-hvm-modbus): a
 * Modbus RTU slave (address 21 by default, 9600 8N1) whose holding
 * registers are a BYD battery's (gateway/inverter/PROTOCOLS.md §23): the
 * identity at 100-167, the nameplate at 200-212 (the energy, the CVL and
 * the DVL), the state at 300-323 (SOC in 0.01 %, energies in Wh, the
 * largest discharge and charge power in W, voltages, power + = discharging,
 * temperatures, SOH); every other register below 30000 reads 0.
 *
 * Fronius writes its control block (400-418: the operating mode, the
 * watchdog it toggles, the time) and may write the droop-law block
 * (500-506).  Those writes are answered as a BYD answers them and kept in
 * those registers alone (the output's struct inv_485_kept), as a BYD and
 * Battery-Emulator's register map keep them: a read gives back what was
 * written (the watchdog at 401 the last of 0x00FF / 0xFF00 the Fronius
 * toggles), 0 before any write (Battery-Emulator's map starts empty; the
 * registers a real HVM gave a Fronius read 400-419 as 0: ../PROTOCOLS.md §23,
 * BYDB).  Nothing the inverter writes reaches the image (200-212, 300-323:
 * the limits), bmsgw or a BMS.  A write anywhere else is refused with
 * exception 02.
 *
 * The framer is the Modbus RTU one the slaves share (mbrtu.c).  Pure: no
 * I/O, no globals; what it keeps is the output's, handed to each answer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codec.h"
#include "../invident.h"
#include "../invscale.h"
#include "../mbrtu.h"

#define HVM_LAST 30000          /* reads end below (Battery-Emulator's map) */
#define HVM_WH_MAX 57960        /* Wh: three HVM 19.3 towers (Battery-Emulator) */
#define HVM_W_MAX 30000         /* W: the power limits' largest */
#define HVM_CVL_MAX 4500        /* 0.1 V: a Primo GEN24 warns above 450 V */
#define HVM_ACTIVE 3            /* register 300: standby 0, inactive 1, darkstart 2, active 3 */
#define HVM_IDLE 128            /* register 302: bit 7 normal, bit 0 charging, bit 1 discharging */

/* The registers the inverter may write: [lo, hi] each, kept in this order
 * in struct inv_485_kept (19 + 7 registers). */
static const unsigned writable[][2] = { { 400, 418 }, { 500, 506 } };
_Static_assert(418 - 400 + 1 + 506 - 500 + 1 <= INV_485_KEPT_MAX, "the writable registers fit inv_485_kept");

/* The dynamic registers 200-212 and 300-323. */
struct hvm_image {
	uint16_t r200[13];
	uint16_t r300[24];
};

/* ---- the identity, 100-167 ---- */

/* Register reg of the ASCII text s laid out from register at, two
 * characters a register, the first the high byte, 0 past its end. */
static uint16_t text_reg(const char *s, unsigned at, unsigned reg)
{
	size_t i = 2 * (size_t)(reg - at), len = strlen(s);
	unsigned hi = i < len ? (uint8_t)s[i] : 0, lo = i + 1 < len ? (uint8_t)s[i + 1] : 0;
	return (uint16_t)(hi << 8 | lo);
}

/* The serial number: BYD's own form of 20 characters (a real HVM's
 * "P030T020Z20081034880", Battery-Emulator's "P030T020Z19111800001"), its
 * model part and Battery-Emulator's date, then five digits of this
 * machine's tag (Battery-Emulator's 00001 without one): a Fronius refused
 * a battery without one (Battery-Emulator, 2025-04-23). */
static void serial(const struct inv_battery *b, char *s, size_t cap)
{
	unsigned long tag = strtoul(b->machine_tag, NULL, 16);
	snprintf(s, cap, "P030T020Z191118%05lu", b->machine_tag[0] ? tag % 100000 : 1);
}

static uint16_t ident_reg(const struct inv_battery *b, unsigned reg)
{
	char sn[24];
	if (reg == 100)
		return 0x5349; /* "SI" */
	if (reg == 101 || reg == 166)
		return 1;
	if (reg >= 102 && reg < 118)
		return text_reg("BYD", 102, reg);
	if (reg >= 118 && reg < 134)
		return text_reg("BYD Battery-Box Premium HV", 118, reg);
	if (reg >= 134 && reg < 142)
		return text_reg("5.0", 134, reg);
	if (reg >= 142 && reg < 150)
		return text_reg("3.26", 142, reg);
	if (reg >= 150 && reg < 166) {
		serial(b, sn, sizeof(sn));
		return text_reg(sn, 150, reg);
	}
	return 0;
}

/* ---- the nameplate and the state ---- */

static uint16_t wh(double v)
{
	return (uint16_t)(v > HVM_WH_MAX ? HVM_WH_MAX : v);
}

/* A power of b in W, + = discharging, as an s16 register. */
static uint16_t power_reg(const struct inv_battery *b, double volts)
{
	if (!inv_has(b, INV_HAS_CURRENT, b->current))
		return 0;
	long w = inv_scale(-(double)b->current * volts, 1, INV_NEAR, -32768, 32767);
	return (uint16_t)(int16_t)w;
}

/* The power a current limit allows at the voltage sent, W (down). */
static uint16_t limit_w(bool allowed, float amps, double volts)
{
	return (uint16_t)(allowed ? inv_scale((double)amps * volts, 1, INV_DOWN, 0, HVM_W_MAX) : 0);
}

static uint16_t temp_reg(const struct inv_battery *b, float c)
{
	return (uint16_t)(int16_t)((b->present & (INV_HAS_TEMP_MINMAX | INV_HAS_TEMP)) ? inv_scale(c, 10, INV_NEAR,
												  -32768, 32767) : 0);
}

/* 200-212 and 300-323 from b; *e the limits 306 and 307 carry as currents
 * (the power over the voltage sent). */
static void hvm_image(const struct inv_battery *b, struct hvm_image *m, struct inv_encoded *e)
{
	static const uint16_t plate[13] = { 0, 0, 0, 40960, 40960, 0, 0, 53248, 10, 53248, 10, 0, 0 };
	uint16_t *p = m->r200, *s = m->r300;
	memcpy(p, plate, sizeof(plate));
	memset(s, 0, sizeof(m->r300));
	bool fresh = !b->failsafe;
	uint16_t dv = (uint16_t)(inv_has(b, INV_HAS_VOLTAGE, b->voltage) ? inv_scale(b->voltage, 10, INV_NEAR, 0, 0xFFFF)
									  : 0);
	double volts = dv / 10.0;
	p[2] = s[4] = wh(inv_full_wh(b));
	p[5] = (uint16_t)inv_scale(b->cvl_v, 10, INV_DOWN, 0, HVM_CVL_MAX);
	p[6] = (uint16_t)inv_scale(b->dvl_v, 10, INV_UP, 0, 0xFFFF);
	s[0] = fresh ? HVM_ACTIVE : 0;
	long da = inv_has(b, INV_HAS_CURRENT, b->current) ? inv_scale(b->current, 10, INV_NEAR, -1, 1) : 0;
	s[2] = (uint16_t)(da > 0 ? HVM_IDLE | 1 : da < 0 ? HVM_IDLE | 2 : HVM_IDLE);
	s[3] = (uint16_t)inv_scale(b->soc, 100, INV_FLOOR, 100, 10000); /* never under 1 % (Battery-Emulator) */
	s[5] = wh(inv_remain_wh(b));
	s[6] = limit_w(b->discharge_allowed, b->dcl_a, volts);
	s[7] = limit_w(b->charge_allowed, b->ccl_a, volts);
	s[8] = fresh ? dv : 0; /* after the contactors: a BYD on standby has them open */
	s[9] = fresh ? power_reg(b, volts) : 0;
	s[10] = dv;
	s[11] = power_reg(b, volts);
	float lo = (b->present & INV_HAS_TEMP_MINMAX) ? b->temp_min_c : b->temp_c;
	float hi = (b->present & INV_HAS_TEMP_MINMAX) ? b->temp_max_c : b->temp_c;
	s[12] = temp_reg(b, lo);
	s[13] = temp_reg(b, hi);
	s[22] = temp_reg(b, hi);
	s[23] = (uint16_t)(inv_has(b, INV_HAS_SOH, b->soh) ? inv_scale(b->soh, 100, INV_NEAR, 0, 10000) : 10000);
	e->limits = true;
	e->dcl_a = dv ? (float)(s[6] / volts) : 0;
	e->ccl_a = dv ? (float)(s[7] / volts) : 0;
}

/* Where register reg is kept (struct inv_485_kept), -1 when it is not
 * one the inverter may write. */
static int kept_at(unsigned reg)
{
	int at = 0;
	for (size_t i = 0; i < sizeof(writable) / sizeof(writable[0]); i++) {
		if (reg >= writable[i][0] && reg <= writable[i][1])
			return at + (int)(reg - writable[i][0]);
		at += (int)(writable[i][1] - writable[i][0] + 1);
	}
	return -1;
}

static uint16_t hvm_reg(const struct inv_battery *b, const struct hvm_image *m, const struct inv_485_kept *k,
			unsigned reg)
{
	int at = kept_at(reg);
	if (at >= 0)
		return k->reg[at];
	if (reg >= 100 && reg < 168)
		return ident_reg(b, reg);
	if (reg >= 200 && reg < 213)
		return m->r200[reg - 200];
	if (reg >= 300 && reg < 324)
		return m->r300[reg - 300];
	return 0;
}

/* ---- the requests ---- */

static bool may_write(unsigned start, unsigned qty)
{
	for (size_t i = 0; i < sizeof(writable) / sizeof(writable[0]); i++)
		if (start >= writable[i][0] && start + qty - 1 <= writable[i][1])
			return true;
	return false;
}

/* The registers start..start+qty of b (those the inverter writes from k);
 * *e the limits when 306 and 307 are among them. */
static int hvm_read(const struct inv_battery *b, const struct inv_485_kept *k, const uint8_t *req, unsigned start,
		    unsigned qty, uint8_t *out, size_t cap, struct inv_encoded *e)
{
	uint16_t r[INV_MB_READ_MAX];
	struct hvm_image m;
	struct inv_encoded got = { 0 };
	hvm_image(b, &m, &got);
	for (unsigned i = 0; i < qty; i++)
		r[i] = hvm_reg(b, &m, k, start + i);
	int len = inv_mb_registers(req, r, qty, out, cap);
	if (len > 0 && start <= 306 && start + qty > 307)
		*e = got;
	return len;
}

/* The values v (big-endian, qty of them) written from register start into
 * k (may_write() said they are all the inverter's). */
static void keep(struct inv_485_kept *k, unsigned start, unsigned qty, const uint8_t *v)
{
	for (unsigned i = 0; i < qty; i++)
		k->reg[kept_at(start + i)] = (uint16_t)inv_mb_u16(v + 2 * i);
}

/* A write the inverter may make (FC 06, 16): kept, and its answer (FC 06
 * echoes the request, FC 16 gives the address and count). */
static int hvm_written(struct inv_485_kept *k, const uint8_t *req, uint8_t *out, size_t cap)
{
	if (cap < INV_MB_REQ_LEN)
		return -1;
	if (req[1] == 6)
		keep(k, inv_mb_u16(req + 2), 1, req + 4);
	else
		keep(k, inv_mb_u16(req + 2), inv_mb_u16(req + 4), req + 7);
	memcpy(out, req, 6);
	return inv_mb_crc_end(out, 6);
}

/* FC 23: the write first, then the read (which sees it), as
 * Battery-Emulator and the Modbus specification order them; nothing kept
 * when the answer does not fit. */
static int hvm_read_write(struct inv_485_kept *k, const struct inv_battery *b, const uint8_t *req, uint8_t *out,
			  size_t cap, struct inv_encoded *e)
{
	struct inv_485_kept next = *k;
	keep(&next, inv_mb_u16(req + 6), inv_mb_u16(req + 8), req + 11);
	int len = hvm_read(b, &next, req, inv_mb_u16(req + 2), inv_mb_u16(req + 4), out, cap, e);
	if (len > 0)
		*k = next;
	return len;
}

static int hvm_answer(const struct conf_inverter *c, struct inv_485_kept *kept, const struct inv_battery *b,
		      const uint8_t *req, size_t n, uint8_t *out, size_t cap, struct inv_encoded *e)
{
	memset(e, 0, sizeof(*e));
	/* not ours; or no data (nothing is answered before the source's
	 * first data: zeros are never sent as data) */
	if (!inv_mb_ours(c, req, n) || !(b->present & INV_HAS_LIMITS) || !(b->present & INV_HAS_SOC))
		return 0;
	unsigned fc = req[1], a = inv_mb_u16(req + 2), q = inv_mb_u16(req + 4);
	uint8_t bad = 0;
	if (fc == 3) {
		bad = q < 1 || q > INV_MB_READ_MAX ? INV_MB_EX_VALUE : a + q > HVM_LAST ? INV_MB_EX_ADDRESS : 0;
	} else if (fc == 6) {
		bad = may_write(a, 1) ? 0 : INV_MB_EX_ADDRESS;
	} else if (fc == 16) {
		bad = q < 1 || q > INV_MB_WRITE_MAX || req[6] != 2 * q ? INV_MB_EX_VALUE
				: !may_write(a, q) ? INV_MB_EX_ADDRESS : 0;
	} else if (fc == 23) {
		unsigned wa = inv_mb_u16(req + 6), wq = inv_mb_u16(req + 8);
		bad = q < 1 || q > INV_MB_READ_MAX || wq < 1 || wq > INV_MB_RW_WRITE_MAX || req[10] != 2 * wq
			      ? INV_MB_EX_VALUE : a + q > HVM_LAST || !may_write(wa, wq) ? INV_MB_EX_ADDRESS : 0;
	} else {
		bad = INV_MB_EX_FUNCTION;
	}
	if (bad)
		return inv_mb_exception(req, bad, out, cap);
	if (fc == 6 || fc == 16)
		return hvm_written(kept, req, out, cap);
	if (fc == 23)
		return hvm_read_write(kept, b, req, out, cap, e);
	return hvm_read(b, kept, req, a, q, out, cap, e);
}

const struct inv_codec inv_codec_byd_hvm_modbus = {
	.name = "byd-hvm-modbus",
	.rs485 = {
		.scan = inv_mb_scan,
		.ours = inv_mb_ours,
		.answer = hvm_answer,
	},
};
