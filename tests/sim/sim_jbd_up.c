/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_jbd_up.c - JBD UP16S packs / Eco-Worthy 48 V racks over
 * RS485 (FC 0x78 reads), the BMS side.
 *
 * bms/PROTOCOLS.md §44.  A request is
 *	addr 78 start(u16) end(u16) 00 00 crc(LE)
 * (10 bytes, CRC-16/MODBUS); the answer echoes addr, 78, start and end,
 * then a 2-byte data length, the data and the CRC.  Answered:
 *	0x1000..0x10A0  the pack status: voltage 0.01 V, the cells' sum; the
 *	                current as 300000 + 0.01 A (+ = charging); SOC 0.01 %;
 *	                remaining / full / rated 0.01 Ah; MOSFET and ambient
 *	                temperature (raw - 500) x 0.1 degC; the operation state
 *	                from the current; SOH; the level-2 protection and level-1
 *	                alarm words = alarm[0..3] and alarm[4..7] (big-endian);
 *	                the MOSFET word (bit 0 discharge, 1 charge); cycles;
 *	                the cells' max / min / average; CVL / DVL 0.1 V; the
 *	                cells, the sensor count and sensors; a word, the
 *	                balancing bits, the firmware word and the model text.
 *	0x1C00..0x1CA0  the identity (BMS serial at 16, model code at 52, pack
 *	                name at 88) and balancing from 3.40 V at 30 mV: only
 *	                the pack at address 1.
 *	0x1800..0x1900  the protection parameters, UP16S-03's (cell 3.65 V
 *	                release 3.40 V / 2.50 V release 3.00 V, 3 s; pack
 *	                58.40 / 40.00 V; charge 120 A, discharge 120 A, 2 s;
 *	                charge 0..65 degC, discharge -20..65 degC): only the
 *	                pack at address 1, and not with nosettings=1 (firmware
 *	                that ignores it).
 * The pack at address 1 is the rack's master; a pack at another address
 * is a slave read through the master's port, as in the capture
 * (syssi/esphome-jbd-bms JBD-UP16S020-two-devices.txt): its status comes
 * back 8 bytes shorter with firmware word 0x0004, and 0x1C00 is not
 * answered.  Sensors: the last of the pack's sensors is the ambient one
 * (data 18), the others the sensor list (a pack with one sensor has an
 * empty list).  Any other request is a bad request (no answer).  Encoded
 * here; bms/ is deliberately not used.
 */
#include "sim.h"
#include "sim_mbslave.h"

#include <math.h>
#include <string.h>

#define UP_FC 0x78
#define UP_REQ_LEN 10
#define UP_CELLS 32
#define UP_TEMPS 8
#define UP_MASTER 1
#define UP_SERIAL "UP16S019SIM000000000000001"
#define UP_CODE "JBD48100000"
#define UP_NAME "ECO-LFP48100-3U-SIM"
#define UP_MODEL "JBD48100000"

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

struct up_raw {
	int ncells, nsensors;
	unsigned cell_mv[UP_CELLS];
	unsigned sensor[UP_TEMPS]; /* raw: degC x 10 + 500 */
	unsigned ambient, mos;
	unsigned volt_cv, soc_c, remain_cah, full_cah, soh, cycles;
	uint32_t current_raw;
	uint8_t alarm[8];
	unsigned mosw, op, balance;
	unsigned cvl_dv, dvl_dv;
};

static unsigned up_traw(int c)
{
	return (unsigned)clampl(c * 10L + 500, 0, 65535);
}

static void up_quantise(const struct sim_pack *p, struct up_raw *r)
{
	unsigned long sum = 0;
	memset(r, 0, sizeof *r);
	r->ncells = p->ncells < UP_CELLS ? p->ncells : UP_CELLS;
	for (int i = 0; i < r->ncells; i++) {
		r->cell_mv[i] = (unsigned)clampl(sim_pack_cell_mv(p, i), 0, 65535);
		sum += r->cell_mv[i];
	}
	r->volt_cv = (unsigned)clampl((long)((sum + 5) / 10), 0, 65535);
	int nt = p->ntemps < UP_TEMPS ? p->ntemps : UP_TEMPS;
	r->nsensors = nt > 0 ? nt - 1 : 0;
	for (int i = 0; i < r->nsensors; i++)
		r->sensor[i] = up_traw(p->temp_c[i]);
	r->ambient = up_traw(nt > 0 ? p->temp_c[nt - 1] : 25);
	r->mos = up_traw(p->mos_temp_c);
	long ca = clampl(lround(p->current * 100.0), -300000, 300000);
	r->current_raw = (uint32_t)(300000 + ca);
	r->op = ca > 0 ? 1 : ca < 0 ? 2 : 0;
	r->soc_c = (unsigned)clampl(lround(p->soc * 100.0), 0, 10000);
	r->full_cah = (unsigned)clampl(lround(p->capacity_ah * 100.0), 0, 65535);
	r->remain_cah = (unsigned)clampl(lround(p->capacity_ah * p->soc), 0, 65535);
	r->soh = (unsigned)clampl(lround(p->soh), 0, 100);
	r->cycles = p->cycles & 0xFFFF;
	memcpy(r->alarm, p->alarm, sizeof(r->alarm));
	r->mosw = (p->dsg_mos ? 1u : 0u) | (p->chg_mos ? 2u : 0u);
	r->balance = (unsigned)(p->balance & 0xFFFF);
	r->cvl_dv = (unsigned)clampl(lround(p->cvl_v * 10.0), 0, 65535);
	r->dvl_dv = (unsigned)clampl(lround(p->dvl_v * 10.0), 0, 65535);
}

static double up_temp(unsigned raw)
{
	return ((int)raw - 500) / 10.0;
}

static void up_view(const struct sim_pack *p, struct sim_view *v)
{
	struct up_raw r;
	up_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_SOH | SIM_HAS_MOS_TEMP |
		 SIM_HAS_MOSFETS | SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_ALARMS | SIM_HAS_BALANCE |
		 SIM_HAS_VOLT_LIMITS;
	v->address = p->address;
	v->voltage = r.volt_cv / 100.0;
	v->current = ((double)r.current_raw - 300000.0) / 100.0;
	v->soc = r.soc_c / 100.0;
	v->soh = r.soh;
	v->remaining_ah = r.remain_cah / 100.0;
	v->capacity_ah = r.full_cah / 100.0;
	v->cycles = r.cycles;
	v->mos_temp_c = up_temp(r.mos);
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.cell_mv[i];
	v->ntemps = r.nsensors + 1;
	for (int i = 0; i < r.nsensors; i++)
		v->temp_c[i] = (int)lround(up_temp(r.sensor[i]));
	v->temp_c[r.nsensors] = (int)lround(up_temp(r.ambient));
	v->chg_mos = p->chg_mos ? 1 : 0;
	v->dsg_mos = p->dsg_mos ? 1 : 0;
	v->nalarm = 8;
	memcpy(v->alarm, r.alarm, 8);
	v->balance = r.balance;
	v->cvl_v = r.cvl_dv / 10.0;
	v->dvl_v = r.dvl_dv / 10.0;
}

/* addr 78 start end 00 00 crc: anything else before a possible start is
 * skipped. */
static enum sim_scan up_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len == 0)
		return SIM_SCAN_NEED;
	if (len >= 2 && buf[1] != UP_FC) {
		*n = 1;
		return SIM_SCAN_SKIP;
	}
	if (len < UP_REQ_LEN)
		return SIM_SCAN_NEED;
	if (buf[6] != 0 || buf[7] != 0 || sim_mb_crc(buf, 8) != (uint16_t)(buf[8] | buf[9] << 8)) {
		*n = 1;
		return SIM_SCAN_BAD;
	}
	*n = UP_REQ_LEN;
	return SIM_SCAN_FRAME;
}

static int up_address(const uint8_t *req, size_t n)
{
	return n == UP_REQ_LEN ? req[0] : -1;
}

static void put16(uint8_t *d, size_t *k, unsigned v)
{
	d[(*k)++] = (uint8_t)(v >> 8);
	d[(*k)++] = (uint8_t)v;
}

/* The cells' max / min (1-based index and mV) and average at d[38..47]. */
static void up_cell_stats(const struct up_raw *r, uint8_t *d)
{
	int hi = 0, lo = 0;
	unsigned long sum = 0;
	for (int i = 0; i < r->ncells; i++) {
		if (r->cell_mv[i] > r->cell_mv[hi])
			hi = i;
		if (r->cell_mv[i] < r->cell_mv[lo])
			lo = i;
		sum += r->cell_mv[i];
	}
	size_t k = 38;
	put16(d, &k, (unsigned)hi + 1);
	put16(d, &k, r->ncells ? r->cell_mv[hi] : 0);
	put16(d, &k, (unsigned)lo + 1);
	put16(d, &k, r->ncells ? r->cell_mv[lo] : 0);
	put16(d, &k, r->ncells ? (unsigned)(sum / (unsigned long)r->ncells) : 0);
}

/* The 0x1000 data into d; its length (the slave's 8 bytes shorter). */
static size_t up_status(const struct up_raw *r, uint8_t *d, int slave)
{
	size_t k = 0;
	memset(d, 0, 68);
	put16(d, &k, r->volt_cv);
	put16(d, &k, slave ? r->volt_cv : 0);
	put16(d, &k, r->current_raw >> 16);
	put16(d, &k, r->current_raw & 0xFFFF);
	const unsigned words[] = { r->soc_c, r->remain_cah, r->full_cah, r->full_cah, r->mos, r->ambient, r->op, r->soh };
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		put16(d, &k, words[i]);
	memcpy(d + 24, r->alarm, 8);
	k = 32;
	put16(d, &k, r->mosw);
	put16(d, &k, slave ? 0 : 4);
	put16(d, &k, r->cycles);
	up_cell_stats(r, d);
	k = 58;
	put16(d, &k, r->cvl_dv);
	put16(d, &k, 1000); /* CCL 0.1 A: 100 A (not read) */
	put16(d, &k, r->dvl_dv);
	put16(d, &k, 1000);
	put16(d, &k, (unsigned)r->ncells);
	for (int i = 0; i < r->ncells; i++)
		put16(d, &k, r->cell_mv[i]);
	put16(d, &k, (unsigned)r->nsensors);
	for (int i = 0; i < r->nsensors; i++)
		put16(d, &k, r->sensor[i]);
	put16(d, &k, 0);
	put16(d, &k, r->balance);
	put16(d, &k, slave ? 0x0004 : 0x0C04);
	memset(d + k, 0, 30);
	memcpy(d + k, UP_MODEL, strlen(UP_MODEL));
	k += 30;
	static const uint8_t tail[] = { 0x00, 0x02, 0x00, 0x03, 0x5A, 0xA6, 0, 0, 0, 0, 0, 0 };
	size_t nt = slave ? 4 : sizeof(tail);
	memcpy(d + k, slave ? (const uint8_t[]){ 0x00, 0x01, 0x00, 0x02 } : tail, nt);
	return k + nt;
}

/* The 0x1C00 data into d (134 bytes, as UP16S-02 has). */
static size_t up_ident(uint8_t *d)
{
	static const uint8_t head[16] = { 0x00, 0x00, 0x00, 0x00, 0x0D, 0x48, 0x00, 0x1E,
					  0x01, 0xF4, 0x02, 0x58, 0x16, 0x30, 0x05, 0xDC };
	memset(d, 0, 134);
	memcpy(d, head, sizeof(head));
	memcpy(d + 16, UP_SERIAL, strlen(UP_SERIAL));
	memcpy(d + 52, UP_CODE, strlen(UP_CODE));
	memcpy(d + 88, UP_NAME, strlen(UP_NAME));
	return 134;
}

/* The 0x1800 data into d (208 bytes): UP16S-03's protection parameters,
 * alarm and protection entries of trigger, release, delay (ms). */
static size_t up_prot(uint8_t *d)
{
	static const uint16_t w[104] = {
		3600, 3400, 3000, 3650, 3400, 3000, 2700, 2900, 3000, 2500, 3000, 3000, /* cell OV, UV */
		5760, 5440, 3000, 5840, 5440, 3000, 4200, 4800, 1000, 4000, 4800, 3000, /* pack OV, UV */
		1050, 1000, 2000, 1200, 2000, 600, 10, 1300, 500, 600,                  /* charge OC */
		1050, 1000, 2000, 1200, 2000, 60, 10, 1400, 200, 60,                    /* discharge OC */
		1050, 1000, 3000, 1150, 1000, 3000, 550, 600, 1000, 500, 550, 1000,     /* charge OT, UT */
		1050, 1000, 1000, 1150, 1000, 1000, 350, 400, 1000, 300, 350, 1000,     /* discharge OT, UT */
		1450, 1300, 1000, 1550, 1350, 1000, 1100, 1000, 3000, 1150, 1100, 3000, /* MOS, ambient */
		350, 400, 3000, 300, 350, 3000, 80, 80, 3000, 80, 80, 3000,
		600, 500, 8000, 800, 500, 8000, 10, 15, 2000, 3, 5, 2000,
	};
	size_t k = 0;
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		put16(d, &k, w[i]);
	return k;
}

static enum sim_resp up_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	uint8_t f[400];
	struct up_raw r;
	size_t dlen;

	if (n != UP_REQ_LEN)
		return SIM_RESP_BAD;
	unsigned start = (unsigned)req[2] << 8 | req[3], end = (unsigned)req[4] << 8 | req[5];
	int slave = p->address != UP_MASTER;
	if (start == 0x1000 && end == 0x10A0) {
		up_quantise(p, &r);
		dlen = up_status(&r, f + 8, slave);
	} else if (start == 0x1C00 && end == 0x1CA0) {
		if (slave)
			return SIM_RESP_NONE; /* the master does not forward it (UP16S-10) */
		dlen = up_ident(f + 8);
	} else if (start == 0x1800 && end == 0x1900) {
		if (slave || p->dialect == 'N')
			return SIM_RESP_NONE; /* a slave's (not forwarded); `nosettings` */
		dlen = up_prot(f + 8);
	} else {
		return SIM_RESP_BAD;
	}
	memcpy(f, req, 6);
	f[0] = (uint8_t)p->address;
	f[6] = (uint8_t)(dlen >> 8);
	f[7] = (uint8_t)dlen;
	return sim_reply_add(reply, f, sim_mb_put_crc(f, 8 + dlen)) ? SIM_RESP_BAD : SIM_RESP_OK;
}

const struct sim_proto sim_proto_jbd_up = {
	.name = "jbd-up",
	.default_baud = 9600,
	.addr_min = 1,
	.addr_max = 15,
	.max_cells = UP_CELLS,
	.max_temps = UP_TEMPS,
	.scan = up_scan,
	.address = up_address,
	.respond = up_respond,
	.view = up_view,
};
