/* tests/sim/sim_jk_ble.c - JK BMS over Bluetooth LE ("JK02"), the BMS side
 * of the GATT link, as a fake BlueZ bridges it to a TCP port (writes to
 * FFE1 in, notifications of FFE1 out).
 *
 * bms/PROTOCOLS.md §15.  Requests are 20 bytes, AA 55 90 EB <cmd> <len>
 * <value, LE> ... <sum8 of 0..18>, any filler (the JK app sends random
 * bytes); answers are 300-byte records 55 AA EB 90 <type> <counter> ...
 * <sum8 of 0..298>, little-endian:
 *	0x97	the device-info record (type 3) and the 20-byte acknowledgement
 *		AA 55 90 EB C8 01 01 00 ... 44: vendor "JK_B2A8S20P", software
 *		11.17 (layout JK02_32S), or with the pack option layout=24s
 *		"JK-B2A24S20P", software 10.07 (JK02_24S);
 *	0x96	the settings record (type 1; the switches at 118 / 122) and the
 *		acknowledgement; from then on the pack streams a cell-info
 *		record (type 2) every 0.4 s by itself (`emit`) until the
 *		connection ends;
 *	0x1D / 0x1E, len 4, value 1 / 0 (and zeros)	the charge / discharge
 *		switch: taken as the pack's control mode says, never answered
 *		(none is known; the read-back shows it);
 * anything else is counted as a bad request.  Cell record, JK02_32S: cells
 * 6 + 2n (32), mask 70, MOS temperature 144 (0.1 degC), V 150 (mV), I 158
 * (mA, + = charging), T1 / T2 162 / 164, alarms 166 (u32), SOC 173,
 * remaining 174 / full 178 (mAh), cycles 182, SOH 190, MOSFETs 198 / 199,
 * sensors present 214 (b0 MOS, b1..b4 T1..T4), T3 / T4 256 / 258;
 * JK02_24S: cells 6 + 2n (24), mask 54, V 118, I 126, T1 / T2 130 / 132,
 * MOS 134, alarms 136 (u16), SOC 141, remaining 142, full 146, cycles 150,
 * SOH 158, MOSFETs 166 / 167, sensors 182 (b0 MOS, b1 T1, b2 T2).  A
 * protection holding a MOSFET off sets alarm b8 (charge) / b15
 * (discharge).  With junk=1 the BLE module's "AT\r\n" comes before each
 * record and the acknowledgement after each cell record too.  A fault's
 * COUNT counts answers and streamed records alike.
 * Encoded here from the pack state; bms/ is deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <string.h>

#define JB_REQ 20
#define JB_REC 300
#define JB_CELLS_32S 32
#define JB_CELLS_24S 24
#define JB_STREAM_MS 400

struct jb_raw {
	int l24;
	int ncells;
	unsigned cell_mv[JB_CELLS_32S];
	unsigned long volt_mv;
	long current_ma;
	unsigned soc;
	long remain_mah;
	unsigned long full_mah;
	unsigned soh;
	int mos_dc;
	int ntemps;
	int temp_dc[4];
	uint32_t alarms;
};

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void jb_quantise(const struct sim_pack *p, struct jb_raw *r)
{
	memset(r, 0, sizeof *r);
	r->l24 = p->layout24;
	int maxc = r->l24 ? JB_CELLS_24S : JB_CELLS_32S;
	r->ncells = p->ncells < maxc ? p->ncells : maxc;
	for (int i = 0; i < r->ncells; i++) {
		r->cell_mv[i] = (unsigned)clampl(sim_pack_cell_mv(p, i), 0, 65535);
		r->volt_mv += r->cell_mv[i];
	}
	r->current_ma = clampl(lround(p->current * 1000.0), -2000000000L, 2000000000L);
	r->soc = (unsigned)clampl(lround(p->soc), 0, 100);
	r->full_mah = (unsigned long)lround(p->capacity_ah * 1000.0);
	r->remain_mah = lround(p->capacity_ah * 1000.0 * p->soc / 100.0);
	r->soh = (unsigned)clampl(lround(p->soh), 0, 100);
	r->mos_dc = (int)clampl(p->mos_temp_c, -3276, 3276) * 10;
	int maxt = r->l24 ? 2 : 4;
	r->ntemps = p->ntemps < maxt ? p->ntemps : maxt;
	for (int i = 0; i < 4; i++)
		r->temp_dc[i] = p->temp_c[i] * 10;
	r->alarms = (uint32_t)p->alarm[0] | (uint32_t)p->alarm[1] << 8;
	if (!r->l24)
		r->alarms |= (uint32_t)p->alarm[2] << 16 | (uint32_t)p->alarm[3] << 24;
	unsigned held = sim_pack_held(p);
	if (held & SIM_FET_CHG)
		r->alarms |= 1ul << 8;
	if (held & SIM_FET_DSG)
		r->alarms |= 1ul << 15;
}

static void jb_view(const struct sim_pack *p, struct sim_view *v)
{
	struct jb_raw r;
	jb_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_SOH |
		 SIM_HAS_MOS_TEMP | SIM_HAS_MOSFETS | SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_ALARMS;
	v->address = p->address;
	v->voltage = r.volt_mv / 1000.0;
	v->current = r.current_ma / 1000.0;
	v->soc = r.soc;
	v->remaining_ah = r.remain_mah / 1000.0;
	v->capacity_ah = r.full_mah / 1000.0;
	v->cycles = p->cycles;
	v->soh = r.soh;
	v->mos_temp_c = r.mos_dc / 10.0;
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.cell_mv[i];
	v->ntemps = r.ntemps;
	for (int i = 0; i < r.ntemps; i++)
		v->temp_c[i] = r.temp_dc[i] / 10;
	v->chg_mos = p->chg_mos ? 1 : 0;
	v->dsg_mos = p->dsg_mos ? 1 : 0;
	v->nalarm = r.l24 ? 2 : 4;
	for (int i = 0; i < v->nalarm; i++)
		v->alarm[i] = (uint8_t)(r.alarms >> (8 * i));
}

static uint8_t sum8(const uint8_t *b, size_t n)
{
	unsigned s = 0;
	for (size_t i = 0; i < n; i++)
		s += b[i];
	return (uint8_t)s;
}

static void le16(uint8_t *b, unsigned v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *b, unsigned long v)
{
	le16(b, (unsigned)(v & 0xFFFF));
	le16(b + 2, (unsigned)((v >> 16) & 0xFFFF));
}

static void text(uint8_t *b, const char *s)
{
	memcpy(b, s, strlen(s));
}

static void rec_begin(uint8_t *f, struct sim_pack *p, unsigned type)
{
	memset(f, 0, JB_REC);
	f[0] = 0x55;
	f[1] = 0xAA;
	f[2] = 0xEB;
	f[3] = 0x90;
	f[4] = (uint8_t)type;
	f[5] = (uint8_t)p->counter++;
}

static void rec_end(uint8_t *f)
{
	f[JB_REC - 1] = sum8(f, JB_REC - 1);
}

static void jb_cells(struct sim_pack *p, uint8_t *f)
{
	struct jb_raw r;
	jb_quantise(p, &r);
	rec_begin(f, p, 2);
	unsigned sum = 0, imax = 0, imin = 0;
	for (int i = 0; i < r.ncells; i++) {
		le16(f + 6 + 2 * i, r.cell_mv[i]);
		sum += r.cell_mv[i];
		if (r.cell_mv[i] > r.cell_mv[imax])
			imax = (unsigned)i;
		if (r.cell_mv[i] < r.cell_mv[imin])
			imin = (unsigned)i;
	}
	unsigned long mask = r.ncells >= 32 ? 0xFFFFFFFFul : (1ul << r.ncells) - 1;
	unsigned present = 0x01; /* MOS sensor */
	for (int i = 0; i < r.ntemps; i++)
		present |= 1u << (i + 1);
	int m = r.l24 ? 16 : 0;  /* the mask and its neighbours: 16 bytes earlier */
	int o = r.l24 ? 32 : 0;  /* every later field: 32 bytes earlier */
	le32(f + 70 - m, mask);
	le16(f + 74 - m, r.ncells ? sum / (unsigned)r.ncells : 0);
	le16(f + 76 - m, r.ncells ? r.cell_mv[imax] - r.cell_mv[imin] : 0);
	f[78 - m] = (uint8_t)imax;
	f[79 - m] = (uint8_t)imin;
	for (int i = 0; i < r.ncells; i++)
		le16(f + 80 - m + 2 * i, 50 + (unsigned)i); /* wire resistances, mOhm */
	le32(f + 150 - o, r.volt_mv);
	double pw = (double)r.volt_mv * (double)r.current_ma / 1000.0;
	le32(f + 154 - o, (unsigned long)clampl(lround(fabs(pw)), 0, 0x7FFFFFFFL));
	le32(f + 158 - o, (unsigned long)(uint32_t)(int32_t)r.current_ma);
	le16(f + 162 - o, (unsigned)(uint16_t)(int16_t)r.temp_dc[0]);
	le16(f + 164 - o, (unsigned)(uint16_t)(int16_t)r.temp_dc[1]);
	if (r.l24) {
		le16(f + 134, (unsigned)(uint16_t)(int16_t)r.mos_dc);
		le16(f + 136, (unsigned)(r.alarms & 0xFFFF));
	} else {
		le16(f + 144, (unsigned)(uint16_t)(int16_t)r.mos_dc);
		le32(f + 166, r.alarms);
	}
	f[172 - o] = p->balance ? 1 : 0;
	f[173 - o] = (uint8_t)r.soc;
	le32(f + 174 - o, (unsigned long)(uint32_t)(int32_t)r.remain_mah);
	le32(f + 178 - o, r.full_mah);
	le32(f + 182 - o, p->cycles);
	f[190 - o] = (uint8_t)r.soh;
	le32(f + 194 - o, p->life);
	f[198 - o] = p->chg_mos ? 1 : 0;
	f[199 - o] = p->dsg_mos ? 1 : 0;
	f[214 - o] = (uint8_t)present;
	if (!r.l24) {
		le16(f + 254, (unsigned)(uint16_t)(int16_t)r.mos_dc);
		le16(f + 256, (unsigned)(uint16_t)(int16_t)r.temp_dc[2]);
		le16(f + 258, (unsigned)(uint16_t)(int16_t)r.temp_dc[3]);
	}
	rec_end(f);
}

static void jb_settings(struct sim_pack *p, uint8_t *f)
{
	rec_begin(f, p, 1);
	static const unsigned long mv[] = { 3500, 2700, 2900, 3650, 3440, 5, 3445, 2900, 3450, 3350, 2500 };
	for (size_t i = 0; i < sizeof mv / sizeof mv[0]; i++)
		le32(f + 6 + 4 * i, mv[i]);
	le32(f + 114, (unsigned long)p->ncells);
	le32(f + 118, p->chg_set ? 1 : 0); /* the switch settings */
	le32(f + 122, p->dsg_set ? 1 : 0);
	le32(f + 126, 1);                  /* balancer */
	le32(f + 130, (unsigned long)lround(p->capacity_ah * 1000.0));
	rec_end(f);
}

static void jb_info(struct sim_pack *p, uint8_t *f)
{
	rec_begin(f, p, 3);
	text(f + 6, p->layout24 ? "JK-B2A24S20P" : "JK_B2A8S20P");
	text(f + 22, p->layout24 ? "10.XG" : "11.XW");
	text(f + 30, p->layout24 ? "10.07" : "11.17");
	le32(f + 38, p->life);
	le32(f + 42, 1);
	text(f + 46, "BMSGWSIM");
	rec_end(f);
}

static const uint8_t jb_ack[JB_REQ] = {
	0xAA, 0x55, 0x90, 0xEB, 0xC8, 0x01, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x44,
};

static void jb_at(const struct sim_pack *p, struct sim_reply *reply)
{
	if (p->junk)
		sim_reply_add(reply, (const uint8_t *)"AT\r\n", 4);
}

static enum sim_scan jb_scan(const uint8_t *buf, size_t len, size_t *n)
{
	static const uint8_t magic[4] = { 0xAA, 0x55, 0x90, 0xEB };
	if (len == 0)
		return SIM_SCAN_NEED;
	if (buf[0] != magic[0]) {
		size_t i = 1;
		while (i < len && buf[i] != magic[0])
			i++;
		*n = i;
		return SIM_SCAN_SKIP;
	}
	size_t k = len < 4 ? len : 4;
	if (memcmp(buf, magic, k) != 0) {
		*n = 1;
		return SIM_SCAN_SKIP;
	}
	if (len < JB_REQ)
		return SIM_SCAN_NEED;
	if (sum8(buf, JB_REQ - 1) != buf[JB_REQ - 1]) {
		*n = 1;
		return SIM_SCAN_BAD;
	}
	*n = JB_REQ;
	return SIM_SCAN_FRAME;
}

static int jb_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1; /* one BMS per connection */
}

static int jb_is_write(const uint8_t *req, size_t n)
{
	return n == JB_REQ && (req[4] == 0x1D || req[4] == 0x1E);
}

static enum sim_resp jb_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	static uint8_t f[JB_REC];
	if (n != JB_REQ)
		return SIM_RESP_BAD;
	switch (req[4]) {
	case 0x97:
		jb_info(p, f);
		jb_at(p, reply);
		sim_reply_add(reply, f, JB_REC);
		sim_reply_add(reply, jb_ack, JB_REQ);
		return SIM_RESP_OK;
	case 0x96:
		jb_settings(p, f);
		jb_at(p, reply);
		sim_reply_add(reply, f, JB_REC);
		sim_reply_add(reply, jb_ack, JB_REQ);
		p->stream = 1;
		return SIM_RESP_OK;
	case 0x1D:
	case 0x1E: {
		/* the switches, as syssi/esphome-jk-bms and fl4p/batmon-ha write
		 * them: len 4, value 1 / 0 little-endian; no answer is known */
		if (req[5] != 4 || req[6] > 1 || req[7] || req[8] || req[9])
			return SIM_RESP_BAD;
		int on = req[6];
		sim_pack_write(p, req[4] == 0x1D ? on : -1, req[4] == 0x1E ? on : -1);
		return SIM_RESP_NONE;
	}
	default:
		return SIM_RESP_BAD;
	}
}

/* Every 0.4 s while the connection streams: a cell-info record. */
static enum sim_resp jb_emit(struct sim_pack *p, struct sim_reply *reply)
{
	static uint8_t f[JB_REC];
	if (!p->stream)
		return SIM_RESP_NONE;
	jb_cells(p, f);
	jb_at(p, reply);
	sim_reply_add(reply, f, JB_REC);
	if (p->junk)
		sim_reply_add(reply, jb_ack, JB_REQ);
	return SIM_RESP_OK;
}

static void jb_corrupt(uint8_t *frame, size_t n)
{
	if (n == JB_REC || n == JB_REQ)
		frame[n - 1] ^= 0x01; /* sum8 */
	/* "AT\r\n" stays as it is */
}

const struct sim_proto sim_proto_jk_ble = {
	.name = "jk-ble",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = JB_CELLS_32S,
	.max_temps = 4,
	.scan = jb_scan,
	.address = jb_address,
	.respond = jb_respond,
	.view = jb_view,
	.corrupt = jb_corrupt,
	.emit = jb_emit,
	.emit_ms = JB_STREAM_MS,
	.is_write = jb_is_write,
};
