/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_seplos.c - Seplos V2 (EMU10xx/11xx), the BMS side
 * (bms/PROTOCOLS.md §8, §11).  Framing: sim_pylonframe.c.
 *
 * Requests with INFO = COMMAND_GROUP = the DIP address (0..15); anything
 * else (0xFF is RS232 only) gets no answer.  Answers have VER 0x20 and
 * COMMAND GROUP 01 (as the captured unit, SEP-01, answers group 00).
 *   0x42: DATA FLAG 00, group, M, M x cell mV, N = sensors + 2 (cell sensors,
 *         environment, power), N x 0.1 K, current s16 10 mA, voltage 10 mV,
 *         residual 10 mAh, P = 10: battery capacity 10 mAh, SOC 0.1 %,
 *         rated capacity 10 mAh, cycles, SOH 0.1 %, port voltage 10 mV,
 *         4 reserved.  The environment sensor reads the pack's next
 *         temperature slot, the power sensor its MOS temperature.
 *   0x44: DATA FLAG 00, group, M, M cell alarms (00), N, N temperature
 *         alarms (00), current and voltage alarm (00), P = 20: alarm events
 *         1-6 = alarm bytes 0-5, on/off (b0 discharge, b1 charge MOSFET),
 *         equilibrium 1/2 (balancing cells 1-8 / 9-16), system state (b1
 *         charge, b0 discharge, b4 standby from the current), disconnection
 *         1/2 (00), alarm events 7/8 = alarm bytes 6/7, 6 reserved.
 * Over Bluetooth LE (a request 7E 10 ..., the binary frames of §46): 0x61,
 * answered 7E 14 adr 61 00 len16 with the 0x42 values (six custom
 * items) and the 0x44 states in 0x61's order (sep_ble_respond()); 0x47
 * (the settings) with the 169 bytes of SEPLOS2B-10 (60 parameters: cell
 * 3.65 / 2.5 V, pack 58.4 / 40.1 V, charge -10..55 degC, discharge -15..55
 * degC, power 100 degC, charge 210 A), the rated capacity the pack's; not
 * with nosettings=1 (firmware that ignores it).
 * Encoded here; bms/ is deliberately not used.
 */
#include "sim.h"
#include "sim_pylonframe.h"

#include <math.h>
#include <string.h>

#define SEP_VER 0x20
#define SEP_GROUP_ANSWER 0x01
#define SEP_KELVIN_DK 2731
#define SEP_MAX_CELLS 16            /* two equilibrium bytes */
#define SEP_MAX_CELL_SENSORS 4
#define SEP_DOC_TEMPS 6

struct sep_raw {
	int ncells;
	unsigned cell_mv[SIM_MAX_CELLS];
	int ntemps;                     /* on the wire: sensors + environment + power */
	int temp_c[SEP_MAX_CELL_SENSORS + 2];
	long current_ca;                /* 10 mA */
	unsigned volt_cv;
	unsigned remain_cah, capacity_cah, soc_pm, soh_pm, cycles;
	unsigned balance;
	uint8_t onoff, system;
};

static int clamp_temp(int t)
{
	return t < -40 ? -40 : t > 215 ? 215 : t;
}

static void sep_quantise(const struct sim_pack *p, struct sep_raw *r)
{
	int sensors;

	memset(r, 0, sizeof *r);
	unsigned long sum = sim_pylonframe_cells(p, SEP_MAX_CELLS, r->cell_mv, &r->ncells);
	r->volt_cv = (unsigned)sim_pylonframe_clamp((long)((sum + 5) / 10), 0, 65535);
	sensors = p->ntemps > SEP_MAX_CELL_SENSORS ? SEP_MAX_CELL_SENSORS : p->ntemps;
	for (int i = 0; i < sensors; i++)
		r->temp_c[i] = p->temp_c[i];
	r->temp_c[sensors] = p->temp_c[sensors];             /* environment */
	r->temp_c[sensors + 1] = clamp_temp(p->mos_temp_c); /* power */
	r->ntemps = sensors + 2;
	r->current_ca = sim_pylonframe_clamp(lround(p->current * 100.0), -32768, 32767);
	r->capacity_cah = (unsigned)sim_pylonframe_clamp(lround(p->capacity_ah * 100.0), 0, 65535);
	r->remain_cah = (unsigned)lround(r->capacity_cah * p->soc / 100.0);
	r->soc_pm = (unsigned)sim_pylonframe_clamp(lround(p->soc * 10.0), 0, 1000);
	r->soh_pm = (unsigned)sim_pylonframe_clamp(lround(p->soh * 10.0), 0, 1000);
	r->cycles = p->cycles & 0xFFFF;
	r->balance = (unsigned)(p->balance & ((1u << r->ncells) - 1) & 0xFFFF);
	r->onoff = (uint8_t)((p->dsg_mos ? 0x01 : 0) | (p->chg_mos ? 0x02 : 0));
	r->system = r->current_ca > 0 ? 0x02 : r->current_ca < 0 ? 0x01 : 0x10;
}

static void sep_view(const struct sim_pack *p, struct sim_view *v)
{
	struct sep_raw r;

	sep_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_CYCLES |
	         SIM_HAS_MOSFETS | SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_ALARMS | SIM_HAS_BALANCE;
	v->address = p->address;
	v->voltage = r.volt_cv / 100.0;
	v->current = r.current_ca / 100.0;
	v->soc = r.soc_pm / 10.0;
	v->soh = r.soh_pm / 10.0;
	v->remaining_ah = r.remain_cah / 100.0;
	v->capacity_ah = r.capacity_cah / 100.0;
	v->cycles = r.cycles;
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.cell_mv[i];
	/* the documented six sensors: the sixth (power) is the MOS temperature */
	v->ntemps = r.ntemps == SEP_DOC_TEMPS ? SEP_DOC_TEMPS - 1 : r.ntemps;
	for (int i = 0; i < v->ntemps; i++)
		v->temp_c[i] = r.temp_c[i];
	if (r.ntemps == SEP_DOC_TEMPS) {
		v->has |= SIM_HAS_MOS_TEMP;
		v->mos_temp_c = r.temp_c[SEP_DOC_TEMPS - 1];
	}
	v->chg_mos = p->chg_mos ? 1 : 0;
	v->dsg_mos = p->dsg_mos ? 1 : 0;
	v->nalarm = 8; /* alarm events 1-6, 7, 8 */
	memcpy(v->alarm, p->alarm, 8);
	v->balance = r.balance;
}

/* The 0x42 values from M on, with k custom items (10 on the wire: four
 * reserved; 6 in BLE's 0x61). */
static void sep_put_values(struct sim_pylonframe_info *in, const struct sep_raw *r, unsigned k)
{
	sim_pylonframe_put8(in, (unsigned)r->ncells);
	for (int i = 0; i < r->ncells; i++)
		sim_pylonframe_put16(in, r->cell_mv[i]);
	sim_pylonframe_put8(in, (unsigned)r->ntemps);
	for (int i = 0; i < r->ntemps; i++)
		sim_pylonframe_put16(in, (unsigned)(r->temp_c[i] * 10 + SEP_KELVIN_DK));
	sim_pylonframe_put16(in, (unsigned)(r->current_ca & 0xFFFF));
	sim_pylonframe_put16(in, r->volt_cv);
	sim_pylonframe_put16(in, r->remain_cah);
	sim_pylonframe_put8(in, k);
	const unsigned items[6] = { r->capacity_cah, r->soc_pm, r->capacity_cah /* rated */, r->cycles, r->soh_pm,
				    r->volt_cv /* port voltage */ };
	for (unsigned i = 0; i < k; i++)
		sim_pylonframe_put16(in, i < 6 ? items[i] : 0);
}

/* ---- over Bluetooth LE: binary frames, CRC-16/XMODEM (§46) ---- */

static uint16_t sep_xmodem(const uint8_t *b, size_t n)
{
	uint16_t crc = 0;
	for (size_t i = 0; i < n; i++) {
		crc ^= (uint16_t)(b[i] << 8);
		for (int k = 0; k < 8; k++)
			crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
	}
	return crc;
}

/* A binary request: 7E 10 (our second byte; an ASCII frame has a hex digit there). */
static int sep_binary(const uint8_t *buf, size_t len)
{
	return len >= 2 && buf[0] == 0x7E && buf[1] == 0x10;
}

static enum sim_scan sep_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len >= 1 && buf[0] == 0x7E && len < 2)
		return SIM_SCAN_NEED;
	if (!sep_binary(buf, len))
		return sim_pylonframe_scan(buf, len, n);
	if (len < 7)
		return SIM_SCAN_NEED;
	size_t want = (size_t)(buf[5] << 8 | buf[6]) + 10;
	if (want > 64) {
		*n = 1;
		return SIM_SCAN_BAD;
	}
	if (len < want)
		return SIM_SCAN_NEED;
	*n = want;
	if (buf[want - 1] != 0x0D || sep_xmodem(buf + 1, want - 4) != (uint16_t)(buf[want - 3] << 8 | buf[want - 2]))
		return SIM_SCAN_BAD;
	return SIM_SCAN_FRAME;
}

static int sep_address(const uint8_t *req, size_t n)
{
	return sep_binary(req, n) ? (n > 2 ? req[2] : -1) : sim_pylonframe_address(req, n);
}

/* 7E 14 adr cmd 00 len16 data CRC-XMODEM 0D */
static enum sim_resp sep_ble_reply(struct sim_reply *reply, uint8_t adr, uint8_t cmd,
				   const struct sim_pylonframe_info *in)
{
	uint8_t f[SIM_PYLONFRAME_MAX_INFO + 10];
	const uint8_t hdr[5] = { 0x7E, 0x14, adr, cmd, 0x00 };
	memcpy(f, hdr, sizeof hdr);
	f[5] = (uint8_t)(in->len >> 8);
	f[6] = (uint8_t)in->len;
	memcpy(f + 7, in->b, in->len);
	uint16_t crc = sep_xmodem(f + 1, in->len + 6);
	f[in->len + 7] = (uint8_t)(crc >> 8);
	f[in->len + 8] = (uint8_t)crc;
	f[in->len + 9] = 0x0D;
	return sim_reply_add(reply, f, in->len + 10) ? SIM_RESP_BAD : SIM_RESP_OK;
}

/* 0x47: SEPLOS2B-10's parameters, the group the address, the rated
 * capacity (word 59) the pack's. */
static void sep_ble_settings(const struct sim_pack *p, struct sim_pylonframe_info *in, uint8_t adr)
{
	static const char hex[] =
		"003c0e380dac0a280a8c0e420e0609c40a5a0d4805dc1644154a1068113016d0157c0faa10041770170c0c9f0c810abf0add"
		"0cd10c9f0a470aab0cb30c810a470ac90cd10c9f0a150aab0aab0b0f0c9f0c810aab0ac90d030cd10a470aab0e2f0dfd0e93"
		"0dfd4e204c2cafecb0b45208adf88ad007d075f827101b321e0b0a0a100a0a1e3c0505010a0a1ef030020160506409000d00"
		"08ffffff3fbf9faf1e313130312d5350373620";
	for (size_t i = 0; i + 1 < sizeof(hex); i += 2) {
		unsigned v = 0;
		for (int k = 0; k < 2; k++) {
			char c = hex[i + (size_t)k];
			v = v * 16 + (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
		}
		sim_pylonframe_put8(in, (uint8_t)v);
	}
	unsigned cap = (unsigned)lround(fmin(fmax(p->capacity_ah * 100.0, 0.0), 65535.0));
	in->b[0] = adr;
	in->b[118] = (uint8_t)(cap >> 8);
	in->b[119] = (uint8_t)cap;
}

/* 0x61 single-machine data: the values (six items), M cell and N sensor
 * alarm bytes (00), the current and voltage alarms (00), system status,
 * switch status, P = 8 alarm events (alarm bytes 0..7), the balancing and
 * disconnection bitmaps ((M + 7) / 8 bytes each, byte i = cells 8i + 1 ..). */
static enum sim_resp sep_ble_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	struct sep_raw r;
	struct sim_pylonframe_info in;
	if (n != 11 || req[3] != SIM_PYLONFRAME_CID1 || (req[4] != 0x61 && req[4] != 0x47) || req[5] != 0 ||
	    req[6] != 1 || req[7] != req[2])
		return SIM_RESP_BAD;
	memset(&in, 0, sizeof in);
	if (req[4] == 0x47) {
		if (p->dialect == 'N')
			return SIM_RESP_NONE; /* `nosettings`: firmware that ignores it */
		sep_ble_settings(p, &in, req[2]);
		return sep_ble_reply(reply, req[2], 0x47, &in);
	}
	sep_quantise(p, &r);
	sim_pylonframe_put8(&in, req[2]);
	sim_pylonframe_put8(&in, 0x00);
	sep_put_values(&in, &r, 6);
	for (int i = 0; i < r.ncells + r.ntemps + 2; i++)
		sim_pylonframe_put8(&in, 0);
	sim_pylonframe_put8(&in, r.system);
	sim_pylonframe_put8(&in, r.onoff);
	sim_pylonframe_put8(&in, 8);
	for (int i = 0; i < 8; i++)
		sim_pylonframe_put8(&in, p->alarm[i]);
	int nb = (r.ncells + 7) / 8;
	for (int i = 0; i < nb; i++)
		sim_pylonframe_put8(&in, (r.balance >> (8 * i)) & 0xFF);
	for (int i = 0; i < nb; i++)
		sim_pylonframe_put8(&in, 0);
	return sep_ble_reply(reply, req[2], 0x61, &in);
}

static enum sim_resp sep_respond(struct sim_pack *p, const uint8_t *req, size_t n,
                                 struct sim_reply *reply)
{
	struct sim_pylonframe_req q;

	if (sep_binary(req, n))
		return sep_ble_respond(p, req, n, reply);
	struct sim_pylonframe_info in;
	struct sep_raw r;

	if (sim_pylonframe_parse(req, n, &q) || q.cid1 != SIM_PYLONFRAME_CID1 || q.ninfo != 1 ||
	    q.info[0] != q.adr)
		return SIM_RESP_BAD;
	sep_quantise(p, &r);
	memset(&in, 0, sizeof in);
	sim_pylonframe_put8(&in, 0x00);
	sim_pylonframe_put8(&in, SEP_GROUP_ANSWER);
	switch (q.cid2) {
	case 0x42:
		sep_put_values(&in, &r, 10);
		break;
	case 0x44:
		sim_pylonframe_put8(&in, (unsigned)r.ncells);
		for (int i = 0; i < r.ncells; i++)
			sim_pylonframe_put8(&in, 0);
		sim_pylonframe_put8(&in, (unsigned)r.ntemps);
		for (int i = 0; i < r.ntemps; i++)
			sim_pylonframe_put8(&in, 0);
		sim_pylonframe_put8(&in, 0); /* current */
		sim_pylonframe_put8(&in, 0); /* voltage */
		sim_pylonframe_put8(&in, 20);
		for (int i = 0; i < 6; i++)
			sim_pylonframe_put8(&in, p->alarm[i]);
		sim_pylonframe_put8(&in, r.onoff);
		sim_pylonframe_put8(&in, r.balance & 0xFF);
		sim_pylonframe_put8(&in, (r.balance >> 8) & 0xFF);
		sim_pylonframe_put8(&in, r.system);
		sim_pylonframe_put8(&in, 0);
		sim_pylonframe_put8(&in, 0);
		sim_pylonframe_put8(&in, p->alarm[6]);
		sim_pylonframe_put8(&in, p->alarm[7]);
		for (int i = 0; i < 6; i++)
			sim_pylonframe_put8(&in, 0);
		break;
	default:
		return SIM_RESP_BAD;
	}
	if (sim_pylonframe_reply(reply, SEP_VER, q.adr, 0x00, &in))
		return SIM_RESP_BAD;
	return SIM_RESP_OK;
}

const struct sim_proto sim_proto_seplos = {
	.name = "seplos",
	.default_baud = 19200,
	.addr_min = 0,
	.addr_max = 15,
	.max_cells = SEP_MAX_CELLS,
	.max_temps = SEP_MAX_CELL_SENSORS,
	.scan = sep_scan,
	.address = sep_address,
	.respond = sep_respond,
	.view = sep_view,
	.corrupt = sim_pylonframe_corrupt,
};
