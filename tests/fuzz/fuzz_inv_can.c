/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_inv_can.c - libFuzzer target: the CAN codecs of the
 * inverter outputs (gateway/inverter/codec.h: every CAN protocol of the list)
 * on anything a bus or a source could give them.
 *
 * Input, read field by field (fuzzin.h: little-endian, 0 past the end;
 * never copied over the struct, whose bools must hold 0 or 1): the battery
 *	present (4), the flags (1: bit 0 charge_allowed, 1 discharge_allowed,
 *	2 force_charge, 3 full_charge_request, 4 absorbed, 5 machine),
 *	18 floats of any bit pattern (NaN, infinity; 4 each: cvl_v, ccl_a,
 *	dcl_a, dvl_v, soc, soh, voltage, current, temp_c, temp_min_c,
 *	temp_max_c, mos_temp_c, remain_ah, full_ah, chg_tmin_c, chg_tmax_c,
 *	dsg_tmin_c, dsg_tmax_c), cell_min_mv, cell_max_mv (2 each), the
 *	four where-is (pack, index: 8), cycles, protect, warn (4 each), packs,
 *	packs_offline, packs_no_charge, packs_no_discharge (2 each), the
 *	manufacturer (8, any bytes), series_cells (1), ncells (1, at most
 *	BMS_MAX_CELLS) and as many cell_mv (2 each), ntemps (1, at most
 *	BMS_MAX_TEMPS) and as many temps_c (4 each), total_cells (2), modules (1),
 *	the identity (1: report_modules, battery_type, failsafe, chemistry),
 *	the machine's tag (8), rvc's instance (1) and the charge phase (1);
 * then 16 schedule steps (1 each: bit 0 out of turn, bits 1-7 the time
 * since the last step in 0.2 s);
 * then CAN frames of 10 bytes each (id low, id high,
 * flags: bit 0 29-bit, bit 1 remote, bit 2..5 dlc up to 15, bit 6 two
 * more bytes follow with the id's bits 16-28; then the data).  Invariants: every codec's set fits, frames have dlc <= 8 and an
 * 11-bit id, the enable bits of 0x35C never go with a current field of 0,
 * the limits the codec reports are the ones its 0x351 carries (and
 * deye-can's 0x371, the on-grid limits;
 * growatt-can: its big-endian 0x311, the charge voltage 0 or within 41-63 V,
 * 0x319's enables with a current only, 0x311's status bits agreeing with them;
 * pylon-hv-can: 29-bit ids, DLC 8, its little-endian 0x4220 on the 30000
 * offset carries the limits reported, 0x4280 AA exactly for a current of 0,
 * force charge only with charging allowed, and its answer to any kinds of
 * request under address 0 or 1 the groups asked, in order, with the
 * address in the ids);
 * byd-hvs-can: its big-endian 0x110 carries the limits reported, DCL at
 * bytes 4-5 and CCL at 6-7, 0 for a direction not allowed, its
 * identification 7 frames of DLC 8 with 0x3D0's sequence 0-3, and its
 * schedule (inv_can_sched, on times from the input) picks only frames due
 * or at_once ones out of turn, leaves every frame due after now and says
 * the earliest);
 * what the inverter sent is classified without reading past the dlc, and
 * the counters only grow (pylon-hv-can: a request only from a 29-bit
 * 0x4200 with byte 0 = 00 or 02, the kinds it keeps only those);
 * solax-can and foxess-can (the SolaX / FoxESS family): their sets
 * 29-bit, DLC 8, 0x1872 (LE) carrying the limits reported, 0 for a
 * direction not allowed; a request only from a 29-bit 0x1871, the kinds
 * kept only theirs; after every frame heard, the answer to what was asked
 * in the state the frames left (and from every state and kind): within its
 * room, only the dialect's identifiers, 29-bit, DLC 8 but 0x100A001's 0,
 * the limits reported exactly when 0x1872 is in it, solax's contactor
 * never "closed" for a stale source, foxess's "may charge / discharge"
 * bits only with a current, the handshake's state always one of its own;
 * rvc: its four DC source DGNs 29-bit at priority 6 from address 0 (the
 * output puts its own), DLC 8, device priority 120, the charge current
 * of 1FEC9 the one reported (0.05 A from 0x7D00, never below it), "do not
 * charge" exactly when it is 0 A, 1FFFD's current the source's negated
 * (+ = out of the battery on the wire, PROTOCOLS.md §25) to 0.001 A within
 * its range, a fail-safe battery's measurements all "not available";
 * sungrow-can, sofar-can, growatt-hv-can (PROTOCOLS.md §13-§15): their
 * sets (sungrow's 11-bit frames, 0x501 / 0x001 / 0x701 alike carrying the
 * limits reported, 0x504 the current of 0x704 turned, 0x005's end stop
 * "full" exactly with CCL 0, its module count 2-8; sofar's 29-bit ids the
 * base plus the battery id << 12 for every id, 0x351 the limits reported,
 * 0x30F's enables only with a current, the SOC at most 99; growatt-hv's
 * big-endian 0x3110 the limits reported, "forbidden" with a current of 0,
 * "normal" never for a stale source), their schedules in every mode (the
 * same 16 steps), the mode always one of sungrow's, and their replies to
 * any frame heard: none but to a request, sofar's one frame of its id for
 * its battery id only, sungrow's a Modbus reply on 0x1E0 whose CRC holds
 * (with requests the target builds valid from the battery's bytes, as a
 * fuzzer seldom finds a CRC);
 * ferroamp-can is pylon-hv-can's codec (its checks); solxpow-can: 29 bits,
 * DLC 8, 0x4220's plain CCL and DCL (no offset) the limits reported, 0 for
 * a direction not allowed, 0x4280 AA exactly for 0, its answers always at
 * address 0 and a request only as pylon-hv-can's; afore-can: 0x350-0x35A,
 * 11 bits, 0x352 carrying the limits reported, 0x351's enables exactly with
 * a current, its state normal or fault (fault: no current; a stale source
 * a fault), no charge current at 100 %, a request exactly from an 11-bit
 * 0x305;
 * growatt-wit-can: its set 29-bit 0x1A??FFF3, DLC 8, 0xC3 (LE) carrying the
 * limits reported, 0xC5's prohibit bits exactly for a current of 0, its
 * fault state exactly for a stale source; sma-hv-can in each variant:
 * 0x358 (BE) carrying them, 0x4D8's "stop" exactly for a stale source,
 * 0x158's pairs each 01 or 10; schneider-can: 0x322 (BE, s32 0.01 A)
 * carrying them, 0x325's permissions with a current only, "stop" and
 * "faulted" exactly for a stale source; and every scheduled codec's steps
 * (cansched.c, on the same times): each frame queued once, only what is
 * due or at_once, one a gap at most and never within it, the queue empty
 * after each step of a codec without a gap, the next step after now; a
 * request of the identification only from the 0x151, 0x1ABE, 0x5E7 / 0x660
 * of the dialects that have one. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../bms/bms.h"
#include "../../gateway/inverter/codec.h"
#include "fuzzin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

/* growatt-can (big endian): 0x311's currents are the ones reported, within
 * 0..3276.7 A, its charge voltage 0 (no limits) or within 41-63 V; 0x319's
 * enables only with a current, force charge only with the charge enable;
 * 0x311's status bits 6/5 the same as 0x319's bits 7/6. */
static void check_growatt(const struct gw_can_frame *f, int n, const struct inv_encoded *e)
{
	int i311 = -1, i319 = -1;
	for (int i = 0; i < n; i++) {
		REQUIRE(f[i].dlc == 8);
		i311 = f[i].id == 0x311 ? i : i311;
		i319 = f[i].id == 0x319 ? i : i319;
	}
	REQUIRE(i311 >= 0 && i319 >= 0 && e->limits);
	const uint8_t *d = f[i311].data, q = f[i319].data[0];
	long cv = d[0] << 8 | d[1], ccl = d[2] << 8 | d[3], dcl = d[4] << 8 | d[5];
	REQUIRE(ccl <= 0x7FFF && dcl <= 0x7FFF && (cv == 0 || (cv >= 410 && cv <= 630)));
	REQUIRE(lroundf(e->ccl_a * 10) == ccl && lroundf(e->dcl_a * 10) == dcl);
	REQUIRE(!(q & 0x80) || ccl > 0);
	REQUIRE(!(q & 0x40) || dcl > 0);
	REQUIRE(!(q & 0x20) || (q & 0x80));
	REQUIRE(!(q & 0x10));
	REQUIRE(!!(d[7] & 0x40) == !!(q & 0x80) && !!(d[7] & 0x20) == !!(q & 0x40));
}

/* pylon-hv-can's (or solxpow-can's) answer to the kinds `asked` under
 * address `adr` (solxpow-can: always 0): the ensemble group for bit 0, the
 * equipment group for bit 2, in order, the address in each id; the limits
 * reported only with 0x4220 in it. */
static void check_hv_answer(const struct inv_codec *c, const struct gw_can_frame *set, int n,
			    const struct inv_encoded *e0, uint32_t asked, int adr)
{
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];
	struct conf_inverter cfg;
	struct inv_encoded e = *e0;
	memset(&cfg, 0, sizeof(cfg));
	cfg.address = adr;
	struct inv_heard h;
	struct inv_battery b;
	memset(&h, 0, sizeof(h));
	memset(&b, 0, sizeof(b));
	h.asked = asked;
	memcpy(f, set, (size_t)n * sizeof(f[0]));
	int k = c->can.answer(&cfg, &h, &b, f, n, INV_CAN_MAX_FRAMES, &e);
	int want = ((asked & 1) ? 9 : 0) + ((asked & 4) ? 4 : 0);
	adr = c == &inv_codec_solxpow_can ? 0 : adr;
	REQUIRE(k == want);
	for (int i = 0; i < k; i++) {
		uint32_t base = i < ((asked & 1) ? 9 : 0) ? 0x4210 + 0x10 * (uint32_t)i :
			        0x7310 + 0x10 * (uint32_t)(i - ((asked & 1) ? 9 : 0));
		REQUIRE(f[i].id == base + (uint32_t)adr && f[i].ext && f[i].dlc == 8);
	}
	REQUIRE(e.limits == ((asked & 1) && e0->limits));
}

/* pylon-hv-can (little endian, 29 bits): 0x4220's currents on the 30000
 * offset are the ones reported (CCL up, DCL down from it); 0x4280 0xAA or
 * 0x00, AA exactly for a current of 0; force charge (0x4250 bit 3) only
 * with charging allowed; its answers. */
static void check_pylon_hv(const struct gw_can_frame *f, int n, const struct inv_encoded *e, int adr)
{
	int i4220 = -1, i4250 = -1, i4280 = -1;
	REQUIRE(n == 13 && e->limits);
	for (int i = 0; i < n; i++) {
		REQUIRE(f[i].dlc == 8 && f[i].ext && !f[i].rtr && (f[i].id & 0x0F) == 0);
		i4220 = f[i].id == 0x4220 ? i : i4220;
		i4250 = f[i].id == 0x4250 ? i : i4250;
		i4280 = f[i].id == 0x4280 ? i : i4280;
	}
	REQUIRE(i4220 >= 0 && i4250 >= 0 && i4280 >= 0);
	const uint8_t *d = f[i4220].data, *m = f[i4280].data;
	long ccl = (d[4] | d[5] << 8) - 30000L, dcl = 30000L - (d[6] | d[7] << 8);
	REQUIRE(ccl >= 0 && dcl >= 0);
	REQUIRE(lroundf(e->ccl_a * 10) == ccl && lroundf(e->dcl_a * 10) == dcl);
	REQUIRE((m[0] == 0xAA && ccl == 0) || (m[0] == 0x00 && ccl > 0));
	REQUIRE((m[1] == 0xAA && dcl == 0) || (m[1] == 0x00 && dcl > 0));
	REQUIRE(!(f[i4250].data[0] & 0x08) || ccl > 0);
	for (int i = 0; i < n; i++) /* 0x7320: cells = modules x cells per module, or no cells per module */
		if (f[i].id == 0x7320)
			REQUIRE(f[i].data[3] == 0 || f[i].data[2] * f[i].data[3] == (f[i].data[0] | f[i].data[1] << 8));
	REQUIRE((f[i4250].data[0] & 0x07) >= 1 && (f[i4250].data[0] & 0x07) <= 3);
	for (uint32_t asked = 0; asked < 8; asked++)
		check_hv_answer(&inv_codec_pylon_hv_can, f, n, e, asked, adr);
}

/* ---- ferroamp-can (pylon-hv-can's codec: check_pylon_hv), afore-can,
 * solxpow-can ---- */

/* solxpow-can (little endian, 29 bits, no current offset): 0x4220's plain
 * CCL and DCL are the ones reported, 0 for a direction not allowed; 0x4280
 * AA exactly for a current of 0; force charge only with a charge current;
 * its answers at address 0, whatever the settings say. */
static void check_solxpow(const struct gw_can_frame *f, int n, const struct inv_encoded *e,
			  const struct inv_battery *b)
{
	int i4220 = -1, i4250 = -1, i4280 = -1;
	REQUIRE(n == 13 && e->limits);
	for (int i = 0; i < n; i++) {
		REQUIRE(f[i].dlc == 8 && f[i].ext && !f[i].rtr && (f[i].id & 0x0F) == 0);
		i4220 = f[i].id == 0x4220 ? i : i4220;
		i4250 = f[i].id == 0x4250 ? i : i4250;
		i4280 = f[i].id == 0x4280 ? i : i4280;
	}
	REQUIRE(i4220 >= 0 && i4250 >= 0 && i4280 >= 0);
	const uint8_t *d = f[i4220].data, *m = f[i4280].data;
	long ccl = d[4] | d[5] << 8, dcl = d[6] | d[7] << 8;
	bool lim = (b->present & INV_HAS_LIMITS) != 0;
	REQUIRE(ccl <= 0x7FFF && dcl <= 0x7FFF);
	REQUIRE(lroundf(e->ccl_a * 10) == ccl && lroundf(e->dcl_a * 10) == dcl);
	REQUIRE(ccl == 0 || (lim && b->charge_allowed));
	REQUIRE(dcl == 0 || (lim && b->discharge_allowed));
	REQUIRE((m[0] == 0xAA && ccl == 0) || (m[0] == 0x00 && ccl > 0));
	REQUIRE((m[1] == 0xAA && dcl == 0) || (m[1] == 0x00 && dcl > 0));
	REQUIRE(!(f[i4250].data[0] & 0x08) || ccl > 0);
	for (uint32_t asked = 0; asked < 8; asked++)
		for (int adr = 0; adr < 2; adr++)
			check_hv_answer(&inv_codec_solxpow_can, f, n, e, asked, adr);
}

/* afore-can (little endian, 11 bits): the set 0x350-0x35A in order, DLC 8;
 * 0x352's CCL and DCL the ones reported; 0x351's enables exactly with a
 * current, its state normal (1) or fault (4), a fault (a stale source
 * among them) with both currents 0, no charge current at a SOC of 100 %;
 * the unused bits 0. */
static void check_afore(const struct gw_can_frame *f, int n, const struct inv_encoded *e,
			const struct inv_battery *b)
{
	REQUIRE(n == 11 && e->limits);
	for (int i = 0; i < n; i++)
		REQUIRE(f[i].id == 0x350 + (uint32_t)i && f[i].dlc == 8 && !f[i].ext && !f[i].rtr);
	const uint8_t *q = f[1].data, *d = f[2].data;
	long ccl = d[0] | d[1] << 8, dcl = d[2] | d[3] << 8;
	unsigned state = q[4] >> 5;
	bool lim = (b->present & INV_HAS_LIMITS) != 0;
	REQUIRE(lroundf(e->ccl_a * 10) == ccl && lroundf(e->dcl_a * 10) == dcl);
	REQUIRE(ccl == 0 || (lim && b->charge_allowed));
	REQUIRE(dcl == 0 || (lim && b->discharge_allowed));
	REQUIRE(!!(q[4] & 0x01) == (ccl > 0) && !!(q[4] & 0x02) == (dcl > 0));
	REQUIRE((q[4] & 0x1C) == 0 && q[5] == 0 && q[2] == 100 && q[3] == 1);
	REQUIRE(state == 1 || state == 4);
	REQUIRE(state == 1 || (ccl == 0 && dcl == 0));
	REQUIRE(!b->failsafe || state == 4);
	REQUIRE(q[0] <= 100 && (q[0] < 100 || ccl == 0));
}
/* ---- (end of ferroamp-can, afore-can, solxpow-can) ---- */

/* byd-hvs-can (big endian): 0x110's DCL (bytes 4-5) and CCL (6-7) are the
 * ones reported, 0 for a direction not allowed or without limits; the
 * identification. */
static void check_byd(const struct inv_codec *c, const struct gw_can_frame *f, int n, const struct inv_encoded *e,
		      const struct inv_battery *b)
{
	static const uint32_t ids[] = { 0x110, 0x150, 0x1D0, 0x210, 0x190 };
	REQUIRE(n >= 5 && e->limits); /* (the extras this target asks of every codec follow) */
	for (int i = 0; i < 5; i++)
		REQUIRE(f[i].dlc == 8 && f[i].id == ids[i]);
	const uint8_t *d = f[0].data;
	long dcl = (int16_t)(d[4] << 8 | d[5]), ccl = (int16_t)(d[6] << 8 | d[7]);
	REQUIRE(ccl >= 0 && dcl >= 0);
	REQUIRE(lroundf(e->ccl_a * 10) == ccl && lroundf(e->dcl_a * 10) == dcl);
	bool lim = (b->present & INV_HAS_LIMITS) != 0;
	REQUIRE((lim && b->charge_allowed) || ccl == 0);
	REQUIRE((lim && b->discharge_allowed) || dcl == 0);
	REQUIRE(lim || (d[0] | d[1] | d[2] | d[3]) == 0);
	int seq = 0;
	for (size_t i = 0; i < c->can.nident; i++) {
		struct gw_can_frame g;
		REQUIRE(c->can.ident[i].fill(b, &g) && g.dlc == 8 && !g.ext && !g.rtr);
		if (g.id == 0x3D0)
			REQUIRE(g.data[0] == seq++);
	}
	REQUIRE(c->can.nident == 7 && seq == 4);
}

/* Is id one a SolaX / FoxESS answer may carry? */
static bool sx_id(const struct inv_codec *c, uint32_t id)
{
	if (id >= 0x1872 && id <= 0x1878)
		return true;
	if (c == &inv_codec_solax_can)
		return id == 0x187E || id == 0x187A || id == 0x1801 || id == 0x100A001 || id == 0x1881 || id == 0x1882;
	return id == 0x1879 || (id >= 0x1881 && id <= 0x1883) || (id >= 0x0C05 && id <= 0x0C0C) ||
	       (id >= 0x0C1D && id <= 0x0CAD && (id - 0x0C1D) % 4 == 0) || (id >= 0x0D21 && id <= 0x0D59 && (id - 0x0D21) % 8 == 0);
}

/* The answer of a SolaX / FoxESS codec to the kinds asked in the state h
 * (a copy: the fuzzed state goes on as the frames leave it). */
static void check_sx_answer(const struct inv_codec *c, const struct inv_heard *h0, const struct inv_battery *b)
{
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];
	struct inv_encoded e;
	struct conf_inverter cfg;
	struct inv_heard h = *h0;
	memset(&cfg, 0, sizeof(cfg));
	int n = inv_can_encode(c, b, 0, f, INV_CAN_MAX_FRAMES, &e);
	struct inv_encoded e0 = e;
	int k = c->can.answer(&cfg, &h, b, f, n, INV_CAN_MAX_FRAMES, &e);
	bool lim = false;
	REQUIRE(k >= 0 && k <= INV_CAN_MAX_FRAMES);
	REQUIRE(!c->can.nmodes || h.mode < c->can.nmodes);
	for (int i = 0; i < k; i++) {
		REQUIRE(f[i].ext && !f[i].rtr && sx_id(c, f[i].id));
		REQUIRE(f[i].dlc == (f[i].id == 0x100A001 ? 0 : 8));
		lim = lim || f[i].id == 0x1872;
		if (f[i].id == 0x1875 && c == &inv_codec_solax_can)
			REQUIRE(f[i].data[4] == 0 || (f[i].data[4] == 1 && !b->failsafe));
		if (f[i].id == 0x1879)
			REQUIRE((!(f[i].data[1] & 0x04) || e0.ccl_a > 0) && (!(f[i].data[1] & 0x02) || e0.dcl_a > 0));
	}
	REQUIRE(e.limits == (lim && e0.limits));
}

/* solax-can, foxess-can: the set (29 bits, DLC 8, 0x1872 carrying the
 * limits reported) and the answers from every state to every kind. */
static void check_sx(const struct inv_codec *c, const struct gw_can_frame *f, int n, const struct inv_encoded *e,
		     const struct inv_battery *b)
{
	int i1872 = -1;
	REQUIRE(n == (int)c->can.nframes && e->limits);
	for (int i = 0; i < n; i++) {
		REQUIRE(f[i].dlc == 8 && f[i].ext && !f[i].rtr && sx_id(c, f[i].id));
		i1872 = f[i].id == 0x1872 ? i : i1872;
	}
	REQUIRE(i1872 >= 0);
	const uint8_t *d = f[i1872].data;
	long ccl = d[4] | d[5] << 8, dcl = d[6] | d[7] << 8;
	REQUIRE(lroundf(e->ccl_a * 10) == ccl && lroundf(e->dcl_a * 10) == dcl);
	bool lim = (b->present & INV_HAS_LIMITS) != 0;
	REQUIRE(ccl == 0 || (lim && b->charge_allowed));
	REQUIRE(dcl == 0 || (lim && b->discharge_allowed));
	struct inv_heard h;
	memset(&h, 0, sizeof(h));
	for (unsigned mode = 0; mode <= 3; mode++)
		for (uint32_t asked = 0; asked < 16; asked++) {
			h.mode = (uint8_t)mode;
			h.asked = asked;
			h.turn = asked * 7;
			check_sx_answer(c, &h, b);
		}
}

static long be32s(const uint8_t *p)
{
	return (long)(int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}

/* The frame of id in f[0..n), or NULL. */
static const struct gw_can_frame *frame_of(const struct gw_can_frame *f, int n, uint32_t id)
{
	for (int i = 0; i < n; i++)
		if (f[i].id == id)
			return &f[i];
	return NULL;
}

/* growatt-wit-can (LE, 29 bits): 0xC3 carries the limits reported; 0xC5's
 * prohibit bits exactly for a current field of 0, force charge only with a
 * charge current, the fault state exactly for a stale source. */
static void check_wit(const struct gw_can_frame *f, int n, const struct inv_encoded *e, const struct inv_battery *b)
{
	REQUIRE(n == 17 && e->limits);
	for (int i = 0; i < n; i++)
		REQUIRE(f[i].ext && !f[i].rtr && f[i].dlc == 8 && (f[i].id & 0xFF00FFFFu) == 0x1A00FFF3u);
	const struct gw_can_frame *c3 = frame_of(f, n, 0x1AC3FFF3u), *c5 = frame_of(f, n, 0x1AC5FFF3u);
	REQUIRE(c3 && c5);
	long ccl = c3->data[0] | c3->data[1] << 8, dcl = c3->data[2] | c3->data[3] << 8;
	REQUIRE(lroundf(e->ccl_a * 10) == ccl && lroundf(e->dcl_a * 10) == dcl && ccl <= 10000 && dcl <= 10000);
	REQUIRE((c5->data[1] & 1) == (ccl == 0) && (c5->data[2] & 1) == (dcl == 0));
	REQUIRE(!(c5->data[1] & 2) || ccl > 0);
	REQUIRE((c5->data[0] == 5) == b->failsafe && c5->data[0] <= 5);
}

/* sma-hv-can (BE, 11 bits): 0x358's DCL and CCL are the ones reported;
 * 0x4D8 "stop" exactly for a stale source; 0x158's pairs 01 or 10. */
static void check_sma_hv(const struct gw_can_frame *f, int n, const struct inv_encoded *e, const struct inv_battery *b)
{
	REQUIRE(e->limits);
	for (int i = 0; i < n; i++) /* its own (the extras this target asks of every codec follow) */
		REQUIRE(((f[i].id & 0x7F) != 0x58 && f[i].id != 0x618) || (!f[i].ext && !f[i].rtr && f[i].dlc == 8));
	const struct gw_can_frame *l = frame_of(f, n, 0x358), *m = frame_of(f, n, 0x4D8), *a = frame_of(f, n, 0x158);
	REQUIRE(l && m);
	long dcl = (int16_t)(l->data[4] << 8 | l->data[5]), ccl = (int16_t)(l->data[6] << 8 | l->data[7]);
	REQUIRE(ccl >= 0 && dcl >= 0 && lroundf(e->ccl_a * 10) == ccl && lroundf(e->dcl_a * 10) == dcl);
	REQUIRE(m->data[6] == (b->failsafe ? 2 : 3) && m->data[7] == 8);
	for (int k = 0; a && k < 32; k++) {
		unsigned pair = (a->data[k / 4] >> (2 * (k % 4))) & 3;
		REQUIRE(pair == 1 || pair == 2);
	}
	REQUIRE(!a || !b->failsafe || (a->data[2] & 0xC0) == 0x40);
}

/* schneider-can (BE, 29 bits, s32): 0x322 carries the limits reported in
 * 0.01 A; 0x325's permissions with a current only, force charge only with
 * charging, "stop" and 0x326's "faulted" exactly for a stale source. */
static void check_schneider(const struct gw_can_frame *f, int n, const struct inv_encoded *e,
			    const struct inv_battery *b)
{
	REQUIRE(n == 13 && e->limits);
	for (int i = 0; i < n; i++)
		REQUIRE(f[i].ext && !f[i].rtr && f[i].id >= 0x320 && f[i].id <= 0x333 &&
			f[i].dlc == (f[i].id == 0x320 ? 2 : f[i].id == 0x324 ? 4 : f[i].id == 0x325 ? 6 : 8));
	const struct gw_can_frame *l = frame_of(f, n, 0x322), *c = frame_of(f, n, 0x325), *s = frame_of(f, n, 0x326);
	REQUIRE(l && c && s);
	long ccl = be32s(l->data), dcl = be32s(l->data + 4), cmd = c->data[0] << 8 | c->data[1];
	REQUIRE(ccl >= 0 && dcl >= 0 && lroundf(e->ccl_a * 100) == ccl && lroundf(e->dcl_a * 100) == dcl);
	REQUIRE(!!(cmd & 2) == (ccl > 0) && !!(cmd & 4) == (dcl > 0) && (!(cmd & 1) || ccl > 0));
	REQUIRE(!!(cmd & 8) == b->failsafe && (cmd & ~0x0Fl) == 0);
	REQUIRE((s->data[0] << 8 | s->data[1]) == (b->failsafe ? 4 : 3));
}

/* Is fn one of the codec's frames or identification? */
static bool own_fn(const struct inv_can_codec *c, const struct inv_can_frame_fn *fn)
{
	return (fn >= c->frames && fn < c->frames + c->nframes) || (fn >= c->ident && fn < c->ident + c->nident);
}

/* A scheduled codec's steps (cansched.c) at the times of t[0..16): the
 * queue holds each frame once, a step sends only what was due, at_once or
 * asked (all of it without a gap, one with a gap, never within the gap),
 * out of turn the at_once frames first, the next step after now. */
static void check_steps(const struct inv_can_codec *c, const uint8_t *t)
{
	struct inv_can_sched s;
	const struct inv_can_frame_fn *go[INV_CAN_MAX_FRAMES];
	double now = 1000, next, last = 0, gap = c->gap_ms / 1000.0;
	memset(&s, 0, sizeof(s));
	inv_can_sched_start(c, &s, now);
	for (int step = 0; step < 16; step++) {
		bool urgent = t[step] & 1, ident = (t[step] & 0x80) != 0;
		uint8_t mode = c->nmodes > 1 ? (uint8_t)(step & 1) : 0; /* sungrow-can: its init and run sets in turn */
		size_t n = inv_can_sched_step(c, &s, ident, urgent, now, mode, last, go, &next);
		REQUIRE(n <= c->nframes + c->nident && s.nqueue <= c->nframes + c->nident);
		REQUIRE(gap > 0 || s.nqueue == 0);
		REQUIRE(gap <= 0 || n <= 1);
		REQUIRE(n == 0 || gap <= 0 || last <= 0 || now - last >= gap);
		for (size_t i = 0; i < n; i++)
			REQUIRE(own_fn(c, go[i]));
		for (size_t i = 0; i < s.nqueue; i++) {
			REQUIRE(own_fn(c, s.queue[i]));
			for (size_t j = 0; j < i; j++)
				REQUIRE(s.queue[i] != s.queue[j]);
		}
		if (urgent && n > 0 && go[0] >= c->frames && go[0] < c->frames + c->nframes)
			for (size_t i = 0; i < c->nframes; i++) /* out of turn: an at_once frame first */
				if (c->periods[i].at_once)
					REQUIRE(c->periods[go[0] - c->frames].at_once);
		REQUIRE(next > now);
		if (n > 0)
			last = now;
		now = (t[step] & 2) ? next : now + ((t[step] >> 2) & 0x1F) / 20.0;
	}
}

/* A scheduled codec's steps at the times of ts[] (each 0..25.5 s after
 * the last, some out of turn; with modes, the dialect's mode from the
 * step too): only frames of the mode picked, due or at_once ones out of
 * turn; every frame due after now, whatever its mode; the earliest of the
 * mode next. */
static void check_sched(const struct inv_can_codec *c, const uint8_t *ts, bool modes)
{
	double due[INV_CAN_MAX_FRAMES] = { 0 }, now = 0, next;
	uint8_t pick[INV_CAN_MAX_FRAMES];
	for (int step = 0; step < 16; step++) {
		uint8_t t = ts[step], mode = modes ? (uint8_t)(((t >> 1) ^ (unsigned)step) & 1) : 0;
		bool urgent = t & 1;
		double was[INV_CAN_MAX_FRAMES];
		memcpy(was, due, sizeof(was));
		now += (t >> 1) / 5.0;
		size_t n = inv_can_sched(c, due, urgent, now, mode, pick, &next);
		REQUIRE(n <= c->nframes);
		double lo = -1;
		for (size_t i = 0; i < c->nframes; i++) {
			bool picked = false, in = !c->periods[i].modes || (c->periods[i].modes & (1u << mode));
			for (size_t k = 0; k < n; k++)
				picked = picked || pick[k] == i;
			REQUIRE(picked == (in && (now >= was[i] || (urgent && c->periods[i].at_once))));
			REQUIRE(due[i] > now);
			REQUIRE(now >= was[i] || due[i] == was[i]);
			if (in)
				lo = lo < 0 || due[i] < lo ? due[i] : lo;
		}
		REQUIRE(next == (lo < 0 ? now : lo));
	}
}

/* rvc: DC_SOURCE_STATUS_4, 1, 2, 3 (PROTOCOLS.md §25). */
static void check_rvc(const struct gw_can_frame *f, int n, const struct inv_encoded *e, const struct inv_battery *b)
{
	static const uint32_t dgn[] = { 0x1FEC9, 0x1FFFD, 0x1FFFC, 0x1FFFB };
	REQUIRE(n == 4 && e->limits && e->ccl_only && e->dcl_a == 0);
	for (int i = 0; i < n; i++) {
		REQUIRE(f[i].ext && !f[i].rtr && f[i].dlc == 8 && f[i].id == (6u << 26 | dgn[i] << 8));
		REQUIRE(f[i].data[0] >= 1 && f[i].data[1] == 120);
	}
	const uint8_t *d = f[0].data;
	long ccl = (long)(d[5] | d[6] << 8) - 32000;
	REQUIRE(ccl >= 0 && ccl <= 0xFAFF - 32000 && lroundf(e->ccl_a * 20) == ccl);
	REQUIRE((d[2] == 1) == (ccl == 0) && d[2] >= 1 && d[2] <= 7 && (d[7] & 0xF0) == 0xF0);
	if (b->failsafe)
		for (int i = 1; i < n; i++)
			for (int k = 2; k < 8; k++)
				REQUIRE(f[i].data[k] == 0xFF);
	const uint8_t *c = f[1].data;
	uint32_t raw = (uint32_t)c[4] | (uint32_t)c[5] << 8 | (uint32_t)c[6] << 16 | (uint32_t)c[7] << 24;
	if (b->failsafe || !(b->present & INV_HAS_CURRENT) || !isfinite(b->current)) {
		REQUIRE(raw == 0xFFFFFFFFu);
	} else {
		double out = -(double)b->current;
		out = out > 2e6 ? 2e6 : out < -2e6 ? -2e6 : out;
		REQUIRE(fabs(((double)raw - 2e9) / 1000.0 - out) <= 0.0005 + 1e-9);
	}
}

/* ---- sungrow-can, sofar-can, growatt-hv-can (PROTOCOLS.md §13-§15) ---- */

/* sungrow-can: 11 bits, DLC 8; 0x501 = 0x001 = 0x701 carrying the limits
 * reported (0 not allowed); 0x504's current 0x704's turned; 0x005's end
 * stop 1 exactly with CCL 0, else 0 or 2; 0x707's module count 2-8 and
 * three 0x71F a module. */
static void check_sungrow(const struct gw_can_frame *f, int n, const struct inv_encoded *e, const struct inv_battery *b)
{
	int i501 = -1, i001 = -1, i701 = -1, i704 = -1, i504 = -1, i005 = -1, i707 = -1, n71f = 0;
	REQUIRE(e->limits);
	for (int i = 0; i < n; i++) {
		REQUIRE(f[i].dlc == 8 && !f[i].ext && !f[i].rtr && f[i].id <= GW_CAN_MAX_STD_ID);
		i501 = f[i].id == 0x501 ? i : i501;
		i001 = f[i].id == 0x001 ? i : i001;
		i701 = f[i].id == 0x701 ? i : i701;
		i704 = f[i].id == 0x704 ? i : i704;
		i504 = f[i].id == 0x504 ? i : i504;
		i005 = f[i].id == 0x005 ? i : i005;
		i707 = f[i].id == 0x707 ? i : i707;
		n71f += f[i].id == 0x71F;
	}
	REQUIRE(i501 >= 0 && i001 >= 0 && i701 >= 0 && i704 >= 0 && i504 >= 0 && i005 >= 0 && i707 >= 0);
	REQUIRE(!memcmp(f[i501].data, f[i001].data, 8) && !memcmp(f[i501].data, f[i701].data, 8));
	const uint8_t *d = f[i501].data;
	long ccl = d[4] | d[5] << 8, dcl = d[6] | d[7] << 8;
	REQUIRE(lroundf(e->ccl_a * 10) == ccl && lroundf(e->dcl_a * 10) == dcl);
	bool lim = (b->present & INV_HAS_LIMITS) != 0;
	REQUIRE(ccl == 0 || (lim && b->charge_allowed));
	REQUIRE(dcl == 0 || (lim && b->discharge_allowed));
	int16_t i = (int16_t)(f[i704].data[2] | f[i704].data[3] << 8), j = (int16_t)(f[i504].data[2] | f[i504].data[3] << 8);
	REQUIRE(i == -j);
	uint8_t stop = f[i005].data[1];
	REQUIRE((stop == 1) == (ccl == 0) && stop <= 2);
	uint8_t m = f[i707].data[6];
	REQUIRE(m >= 2 && m <= 8 && n71f == 3 * m && n == 74 + 3 * m);
}

/* The reply of sungrow-can to a frame heard: none but to a request; a
 * whole Modbus reply on 0x1E0 (slave 1, the function asked, 2 x the count
 * of data) whose CRC holds. */
static void check_sungrow_reply(const struct gw_can_frame *req, enum inv_rx rx, const struct inv_battery *b)
{
	struct gw_can_frame out[INV_CAN_REPLY_MAX];
	uint8_t all[8 * INV_CAN_REPLY_MAX];
	int n = inv_codec_sungrow_can.can.reply(req, b, out, INV_CAN_REPLY_MAX), len = 0;
	REQUIRE(n >= 0 && n <= 3 && (n == 0 || rx == INV_RX_REQUEST));
	for (int i = 0; i < n; i++) {
		REQUIRE(out[i].id == 0x1E0 && !out[i].ext && !out[i].rtr && out[i].dlc >= 1 && out[i].dlc <= 8);
		REQUIRE(i == n - 1 || out[i].dlc == 8);
		memcpy(all + len, out[i].data, out[i].dlc);
		len += out[i].dlc;
	}
	if (!n)
		return;
	unsigned cnt = (unsigned)(req->data[4] << 8 | req->data[5]);
	REQUIRE(all[0] == 1 && all[1] == req->data[1] && all[2] == 2 * cnt && len == 5 + 2 * (int)cnt && cnt <= 6);
	REQUIRE(bms_crc16_modbus_ok(all, (size_t)len));
}

/* A Modbus request on 0x1E0 built valid from the battery's bytes (slave 1
 * or another, 03 / 04 / 06, 0x4DE2 or next, 0-7 registers): heard as a
 * request exactly when the battery answers it, and its reply. */
static void check_sungrow_modbus(const struct inv_battery *b, struct inv_heard *h)
{
	static const uint8_t fns[] = { 0x03, 0x04, 0x06, 0x04 };
	uint8_t x = b->series_cells;
	struct gw_can_frame f;
	memset(&f, 0, sizeof(f));
	f.id = 0x1E0;
	f.dlc = 8;
	f.data[0] = (x & 0x80) ? 2 : 1;
	f.data[1] = fns[(x >> 3) & 3];
	f.data[2] = 0x4D;
	f.data[3] = (x & 0x20) ? 0xE3 : 0xE2;
	f.data[5] = x & 0x07;
	uint16_t crc = 0xFFFF;
	for (int k = 0; k < 6; k++) {
		crc ^= f.data[k];
		for (int bit = 0; bit < 8; bit++)
			crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
	}
	f.data[6] = (uint8_t)crc;
	f.data[7] = (uint8_t)(crc >> 8);
	enum inv_rx rx = inv_codec_sungrow_can.can.heard(&f, h);
	bool ours = f.data[0] == 1 && f.data[1] != 0x06 && f.data[3] == 0xE2;
	REQUIRE((rx == INV_RX_REQUEST) == ours && rx != INV_RX_BAD);
	check_sungrow_reply(&f, rx, b);
}

/* sofar-can: every id the base plus the battery id << 12, 29 bits, DLC 8,
 * for each battery id; 0x351 the limits reported; 0x30F's enables only
 * with a current; the SOC at most 99. */
static void check_sofar(const struct inv_codec *c, const struct inv_battery *b0)
{
	static const uint32_t base[] = { 0x351, 0x355, 0x356, 0x359, 0x35E, 0x35F, 0x30F };
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];
	struct inv_encoded e;
	struct inv_battery b = *b0;
	for (unsigned a = 0; a < 16; a += 5) {
		b.address = (uint8_t)((b0->series_cells + a) & 0x0F);
		int n = inv_can_encode(c, &b, 0, f, INV_CAN_MAX_FRAMES, &e);
		REQUIRE(n == 7 && e.limits);
		for (int i = 0; i < n; i++)
			REQUIRE(f[i].ext && !f[i].rtr && f[i].dlc == 8 && f[i].id == base[i] + ((uint32_t)b.address << 12));
		long ccl = f[0].data[2] | f[0].data[3] << 8, dcl = f[0].data[4] | f[0].data[5] << 8;
		REQUIRE(lroundf(e.ccl_a * 10) == ccl && lroundf(e.dcl_a * 10) == dcl);
		REQUIRE(f[1].data[0] <= 99);
		uint8_t en = f[6].data[1];
		REQUIRE((en & ~3u) == 0 && (!(en & 1) || dcl > 0) && (!(en & 2) || ccl > 0));
	}
}

/* sofar-can's reply to a frame heard: none but to a request of its battery
 * id, one 29-bit frame of its id's range with the id in byte 0. */
static void check_sofar_reply(const struct gw_can_frame *req, enum inv_rx rx, const struct inv_battery *b0)
{
	struct gw_can_frame out[INV_CAN_REPLY_MAX];
	struct inv_battery b = *b0;
	b.address = (uint8_t)(b0->series_cells & 0x0F);
	int n = inv_codec_sofar_can.can.reply(req, &b, out, INV_CAN_REPLY_MAX);
	REQUIRE(n == 0 || (n == 1 && rx == INV_RX_REQUEST && req->data[0] == b.address));
	if (!n)
		return;
	uint32_t base = out[0].id - ((uint32_t)b.address << 12);
	REQUIRE(out[0].ext && out[0].dlc == 8 && out[0].data[0] == b.address);
	REQUIRE((base >= 0x670 && base <= 0x6C0) || (base >= 0x770 && base <= 0x784));
}

/* growatt-hv-can (big endian): 22 frames, 29 bits; 0x3110 the limits
 * reported, "forbidden" with a current of 0, "normal" only while fresh. */
static void check_growatt_hv(const struct gw_can_frame *f, int n, const struct inv_encoded *e,
			     const struct inv_battery *b)
{
	REQUIRE(n == 22 && e->limits && f[0].id == 0x3110);
	for (int i = 0; i < n; i++)
		REQUIRE(f[i].ext && !f[i].rtr && f[i].dlc == 8 && (f[i].id & 0xFFFFF000u) == 0x3000);
	const uint8_t *d = f[0].data;
	long ccl = d[2] << 8 | d[3], dcl = d[4] << 8 | d[5];
	REQUIRE(lroundf(e->ccl_a * 10) == ccl && lroundf(e->dcl_a * 10) == dcl);
	REQUIRE(ccl > 0 || (d[7] & 0x40));
	REQUIRE(dcl > 0 || (d[7] & 0x20));
	REQUIRE(!b->failsafe || !(d[6] & 0x10));
	REQUIRE((d[7] & 0x03) != 0);
}

static void check_set(const struct inv_codec *c, const struct inv_battery *b)
{
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];
	unsigned all = CONF_EXTRA_CAPACITY | CONF_EXTRA_CELLS | CONF_EXTRA_MODULES | CONF_EXTRA_NAME;
	struct inv_encoded e;
	/* every extra, but where --check takes no extras key (the 29-bit
	 * dialects: pylon-hv-can, solax-can, foxess-can, solxpow-can ...; sungrow-can, afore-can) */
	int n = inv_can_encode(c, b, 0, f, INV_CAN_MAX_FRAMES, &e);
	if (c == &inv_codec_afore_can) { /* 11 bits, no extras */
		check_afore(f, n, &e, b);
		return;
	}
	if (n > 0 && !f[0].ext && c != &inv_codec_sungrow_can)
		n = inv_can_encode(c, b, all, f, INV_CAN_MAX_FRAMES, &e);
	long ccl = -1, dcl = -1;
	REQUIRE(n >= 0 && n <= INV_CAN_MAX_FRAMES);
	if (c == &inv_codec_pylon_hv_can) {
		check_pylon_hv(f, n, &e, b->series_cells & 1);
		return;
	}
	if (c == &inv_codec_solax_can || c == &inv_codec_foxess_can) {
		check_sx(c, f, n, &e, b);
		return;
	}
	if (c == &inv_codec_rvc) {
		check_rvc(f, n, &e, b);
		return;
	}
	if (c == &inv_codec_sungrow_can) {
		check_sungrow(f, n, &e, b);
		return;
	}
	if (c == &inv_codec_sofar_can) {
		check_sofar(c, b);
		return;
	}
	if (c == &inv_codec_growatt_hv_can) {
		check_growatt_hv(f, n, &e, b);
		return;
	}
	if (c == &inv_codec_solxpow_can) {
		check_solxpow(f, n, &e, b);
		return;
	}
	if (c == &inv_codec_growatt_wit_can) {
		check_wit(f, n, &e, b);
		return;
	}
	if (c == &inv_codec_schneider_can) {
		check_schneider(f, n, &e, b);
		return;
	}
	for (int i = 0; i < n; i++) {
		REQUIRE(f[i].dlc <= 8 && !f[i].ext && !f[i].rtr && f[i].id <= GW_CAN_MAX_STD_ID);
		if (f[i].id == 0x351) {
			ccl = (int16_t)(f[i].data[2] | f[i].data[3] << 8);
			dcl = (int16_t)(f[i].data[4] | f[i].data[5] << 8);
			REQUIRE(ccl >= 0 && dcl >= 0);
			REQUIRE(e.limits && lroundf(e.ccl_a * 10) == ccl && lroundf(e.dcl_a * 10) == dcl);
		}
	}
	if (c == &inv_codec_growatt_can) {
		check_growatt(f, n, &e);
		return;
	}
	if (c == &inv_codec_byd_hvs_can) {
		check_byd(c, f, n, &e, b);
		return;
	}
	if (c->can.heard == inv_codec_sma_hv_can.can.heard) {
		check_sma_hv(f, n, &e, b);
		return;
	}
	REQUIRE(ccl >= 0 || !e.limits);
	for (int i = 0; i < n; i++)
		if (f[i].id == 0x371)
			REQUIRE((int16_t)(f[i].data[0] | f[i].data[1] << 8) == ccl &&
				(int16_t)(f[i].data[2] | f[i].data[3] << 8) == dcl);
	for (int i = 0; i < n; i++)
		if (f[i].id == 0x35C && c->can.gap_ms == 0) {
			REQUIRE(!(f[i].data[0] & 0x80) || ccl > 0);
			REQUIRE(!(f[i].data[0] & 0x40) || dcl > 0);
			REQUIRE(!(f[i].data[0] & 0x30) || (f[i].data[0] & 0x80));
		}
}

static void where(struct fz_in *in, struct inv_where *w)
{
	w->pack = fz_u8(in);
	w->index = fz_u8(in);
}

/* The battery, member by member (the layout at the top). */
static void battery(struct fz_in *in, struct inv_battery *b)
{
	float *const f[] = {
		&b->cvl_v, &b->ccl_a, &b->dcl_a, &b->dvl_v, &b->soc, &b->soh, &b->voltage, &b->current,
		&b->temp_c, &b->temp_min_c, &b->temp_max_c, &b->mos_temp_c, &b->remain_ah, &b->full_ah,
		&b->chg_tmin_c, &b->chg_tmax_c, &b->dsg_tmin_c, &b->dsg_tmax_c,
	};
	memset(b, 0, sizeof(*b));
	b->present = fz_u32(in);
	uint8_t fl = fz_u8(in);
	b->charge_allowed = fl & 1;
	b->discharge_allowed = fl & 2;
	b->force_charge = fl & 4;
	b->full_charge_request = fl & 8;
	b->absorbed = fl & 16;
	b->machine = fl & 32;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		*f[i] = fz_f32(in);
	b->cell_min_mv = fz_u16(in);
	b->cell_max_mv = fz_u16(in);
	where(in, &b->cell_min_at);
	where(in, &b->cell_max_at);
	where(in, &b->temp_min_at);
	where(in, &b->temp_max_at);
	b->cycles = fz_u32(in);
	b->protect = fz_u32(in);
	b->warn = fz_u32(in);
	b->packs = fz_u16(in);
	b->packs_offline = fz_u16(in);
	b->packs_no_charge = fz_u16(in);
	b->packs_no_discharge = fz_u16(in);
	fz_bytes(in, b->manufacturer, INV_MANUFACTURER_MAX);
	b->manufacturer[INV_MANUFACTURER_MAX] = '\0';
	b->series_cells = fz_u8(in);
	uint8_t n = fz_u8(in);
	b->ncells = n > BMS_MAX_CELLS ? BMS_MAX_CELLS : n;
	for (unsigned i = 0; i < b->ncells; i++)
		b->cell_mv[i] = fz_u16(in);
	n = fz_u8(in);
	b->ntemps = n > BMS_MAX_TEMPS ? BMS_MAX_TEMPS : n;
	for (unsigned i = 0; i < b->ntemps; i++)
		b->temps_c[i] = fz_f32(in);
	b->total_cells = fz_u16(in);
	b->modules = fz_u8(in);
	uint8_t id = fz_u8(in); /* the identity: report_modules, battery_type, failsafe, chemistry */
	b->report_modules = id & 0x0F;
	b->battery_type = id;
	b->failsafe = (id & 0x10) != 0;
	b->chemistry = (uint8_t)((id >> 5) % 3);
	fz_bytes(in, b->machine_tag, 8);
	b->machine_tag[8] = '\0';
	b->instance = fz_u8(in);
	b->charge_phase = fz_u8(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct inv_battery b;
	struct fz_in in = { data, size };
	battery(&in, &b);
	uint8_t ts[16];
	fz_bytes(&in, ts, sizeof(ts));
	for (int p = 0; p < CONF_INV_NPROTOCOLS; p++) {
		const struct inv_codec *c = inv_codec_of((enum conf_inv_protocol)p);
		if (!c || inv_dialect_kind((enum conf_inv_protocol)p) != CONF_INV_CAN)
			continue;
		for (unsigned v = 0; v < (c->nvariants ? c->nvariants : 1); v++) {
			const struct inv_codec *cv = c->nvariants ? c->variants[v] : c;
			check_set(cv, &b);
			if (cv->can.periods)
				check_steps(&cv->can, ts);
		}
	}
	check_sched(&inv_codec_byd_hvs_can.can, ts, false);
	check_sched(&inv_codec_sungrow_can.can, ts, true);
	check_sched(&inv_codec_growatt_hv_can.can, ts, false);
	struct inv_heard h[CONF_INV_NPROTOCOLS];
	memset(h, 0, sizeof(h));
	check_sungrow_modbus(&b, &h[CONF_INV_SUNGROW_CAN]);
	while (in.n >= 10) {
		struct gw_can_frame f;
		memset(&f, 0, sizeof(f));
		uint32_t id = fz_u16(&in);
		uint8_t fl = fz_u8(&in);
		if (fl & 0x40)
			id |= (uint32_t)fz_u16(&in) << 16;
		f.ext = fl & 1;
		f.rtr = (fl >> 1) & 1;
		f.id = id & (f.ext ? GW_CAN_MAX_EXT_ID : GW_CAN_MAX_STD_ID);
		f.dlc = (uint8_t)((fl >> 2) & 0x0F);
		fz_bytes(&in, f.data, 7);
		for (int p = 0; p < CONF_INV_NPROTOCOLS; p++) {
			const struct inv_codec *c = inv_codec_of((enum conf_inv_protocol)p);
			if (!c || inv_dialect_kind((enum conf_inv_protocol)p) != CONF_INV_CAN)
				continue;
			uint32_t before = h[p].frames, sd = h[p].shutdowns;
			enum inv_rx rx = c->can.heard(&f, &h[p]);
			REQUIRE(rx >= INV_RX_OTHER && rx <= INV_RX_IDENTIFY);
			REQUIRE(rx != INV_RX_IDENTIFY || (c == &inv_codec_byd_hvs_can && f.id == 0x151 && f.dlc >= 1 &&
							  (f.data[0] & 1)) ||
				(c == &inv_codec_growatt_wit_can && f.ext && ((f.id >> 16) & 0xFF) == 0xBE && f.dlc >= 2) ||
				(c == &inv_codec_sma_hv_can && !f.ext && (f.id == 0x5E7 || f.id == 0x660)));
			REQUIRE(h[p].frames == before + (rx != INV_RX_OTHER));
			REQUIRE(h[p].shutdowns == sd + (rx == INV_RX_SHUTDOWN));
			if (c == &inv_codec_pylon_hv_can || c == &inv_codec_solxpow_can) { /* (ferroamp-can too) */
				REQUIRE((h[p].asked & ~0x5u) == 0);
				REQUIRE(rx != INV_RX_REQUEST || (f.ext && !f.rtr && f.id == 0x4200 && f.dlc >= 1 &&
								 f.dlc <= 8 && (f.data[0] == 0 || f.data[0] == 2)));
			} else if (c == &inv_codec_solax_can || c == &inv_codec_foxess_can) {
				REQUIRE((h[p].asked & ~0x0Fu) == 0);
				REQUIRE(rx == INV_RX_OTHER || (f.ext && !f.rtr && f.id == 0x1871 && f.dlc <= 8));
				REQUIRE(rx != INV_RX_REQUEST || f.dlc >= 1);
				check_sx_answer(c, &h[p], &b);
			} else if (c == &inv_codec_sungrow_can) {
				REQUIRE(h[p].asked == 0 && h[p].mode < c->can.nmodes);
				check_sungrow_reply(&f, rx, &b);
			} else if (c == &inv_codec_sofar_can) {
				REQUIRE(h[p].asked == 0 && (rx != INV_RX_REQUEST || f.id == 0x605 || f.id == 0x705));
				check_sofar_reply(&f, rx, &b);
			} else {
				REQUIRE(h[p].asked == 0);
			}
			if (c == &inv_codec_afore_can) /* a request exactly from an 11-bit 0x305 */
				REQUIRE((rx == INV_RX_REQUEST) == (!f.ext && !f.rtr && f.id == 0x305 && f.dlc <= 8) &&
					(rx == INV_RX_REQUEST || rx == INV_RX_OTHER));
		}
	}
	return 0;
}
