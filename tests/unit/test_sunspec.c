/* SPDX-License-Identifier: MIT */
/* tests/unit/test_sunspec.c - the SunSpec block (gateway/modbus/sunspec.c)
 * against the SunSpec Alliance's model definitions copied into
 * tests/fixtures/sunspec/ (README.md there names the source and commit):
 * bmsgw's point tables row by row, every built block walked from "SunS"
 * through each model's ID and L to the end model, the values of a known
 * snapshot found by their point names, not-implemented values without
 * data, the bank's 803 strings, and which registers are data. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/modbus/sunspec.h"
#include "check.h"

/* ---- the fixtures */

#define FX_MAX 64
struct fx_point {
	char group[24], name[24], type[16], sf[24], mand[4], access[4];
	int off, size;
};
struct fx_model {
	int n;                        /* points of the top-level group */
	struct fx_point p[FX_MAX];
	int ns;                       /* points of the repeating group (803) */
	struct fx_point s[FX_MAX];
	int size, ssize;              /* registers of each */
};
static struct fx_model fx1, fx802, fx803;

static FILE *fx_open(unsigned model)
{
	char path[512];
	snprintf(path, sizeof(path), "tests/fixtures/sunspec/model_%u.tsv", model);
	FILE *f = fopen(path, "r");
	if (f)
		return f;
	/* run from elsewhere: the tests folder this source file is in
	 * (__FILE__ = .../tests/unit/test_sunspec.c) */
	const char *src = __FILE__;
	int cut = -1, slashes = 0;
	for (int i = (int)strlen(src) - 1; i >= 0; i--)
		if (src[i] == '/' && ++slashes == 2) {
			cut = i;
			break;
		}
	if (cut < 0)
		return NULL;
	snprintf(path, sizeof(path), "%.*s/fixtures/sunspec/model_%u.tsv", cut, src, model);
	return fopen(path, "r");
}

static bool fx_load(unsigned model, struct fx_model *m)
{
	FILE *f = fx_open(model);
	if (!f)
		return false;
	char line[256];
	memset(m, 0, sizeof(*m));
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		struct fx_point p;
		if (sscanf(line, "%23[^\t]\t%23[^\t]\t%d\t%d\t%15[^\t]\t%23[^\t]\t%3[^\t]\t%3s", p.group, p.name,
			   &p.off, &p.size, p.type, p.sf, p.mand, p.access) != 8)
			continue;
		bool rep = strcmp(p.group, "string") == 0;
		struct fx_point *arr = rep ? m->s : m->p;
		int *n = rep ? &m->ns : &m->n;
		if (*n >= FX_MAX)
			break;
		arr[(*n)++] = p;
		int *size = rep ? &m->ssize : &m->size;
		*size = p.off + p.size;
	}
	fclose(f);
	return m->n > 0;
}

/* Offset of a point by its name (top-level, or rep = the string group). */
static int fx_off(const struct fx_model *m, bool rep, const char *name)
{
	const struct fx_point *arr = rep ? m->s : m->p;
	for (int i = 0; i < (rep ? m->ns : m->n); i++)
		if (strcmp(arr[i].name, name) == 0)
			return arr[i].off;
	fprintf(stderr, "no point %s\n", name);
	abort();
}

static const char *type_name(uint8_t t)
{
	static const char *const names[] = { "uint16", "int16", "uint32", "enum16", "bitfield32", "string",
					     "sunssf", "pad" };
	return t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

/* bmsgw's table t against the fixture's points, row by row. */
static void check_table(enum ss_table t, const struct fx_point *fx, int nfx)
{
	size_t n;
	const struct ss_point *p = ss_points(t, &n);
	CHECK(p != NULL);
	CHECK_EQ_INT(n, nfx);
	for (int i = 0; p && i < nfx && (size_t)i < n; i++) {
		CHECK_STR(p[i].name, fx[i].name);
		CHECK_EQ_INT(p[i].off, fx[i].off);
		CHECK_EQ_INT(p[i].size, fx[i].size);
		CHECK_STR(type_name(p[i].type), fx[i].type);
		CHECK_STR(p[i].sf ? p[i].sf : "-", fx[i].sf);
	}
}

static void test_tables(void)
{
	CHECK(fx_load(1, &fx1));
	CHECK(fx_load(802, &fx802));
	CHECK(fx_load(803, &fx803));
	check_table(SS_TABLE_1, fx1.p, fx1.n);
	check_table(SS_TABLE_802, fx802.p, fx802.n);
	check_table(SS_TABLE_803, fx803.p, fx803.n);
	check_table(SS_TABLE_803_STRING, fx803.s, fx803.ns);
	size_t n;
	CHECK(ss_points(SS_TABLES, &n) == NULL && n == 0);
	/* the lengths the definitions give, and the block formula of [sunspec] */
	CHECK_EQ_INT(fx1.size - 2, 66);
	CHECK_EQ_INT(fx802.size - 2, 62);
	CHECK_EQ_INT(fx803.size - 2, 26);
	CHECK_EQ_INT(fx803.ssize, 32);
	CHECK_EQ_INT(SS_L_1, fx1.size - 2);
	CHECK_EQ_INT(SS_L_802, fx802.size - 2);
	CHECK_EQ_INT(SS_L_803, fx803.size - 2);
	CHECK_EQ_INT(SS803S_SIZE, fx803.ssize);
	CHECK_EQ_INT(ss_block_len(false, 0), 2 + (2 + 66) + (2 + 62) + 2);
	CHECK_EQ_INT(ss_block_len(false, 0), 136);
	for (int k = 0; k <= SS_MAX_PACKS; k++)
		CHECK_EQ_INT(ss_block_len(true, k), 2 + (2 + 66) + (2 + 62) + 2 + 26 + 32 * k + 2);
	CHECK_EQ_INT(ss_block_len(true, SS_MAX_PACKS), SS_MAX_BLOCK);
	CHECK_EQ_INT(ss_block_len(true, -1), -1);
	CHECK_EQ_INT(ss_block_len(true, SS_MAX_PACKS + 1), -1);
}

/* ---- walking a block */

struct walk {
	int at1, at802, at803, atend; /* register offsets of each model's ID, -1 if absent */
	int nstr;
};

/* Walk regs[0..len) from the marker through each model to the end model,
 * checking each ID and L against the definitions; the end model must end
 * the block exactly. */
static bool walk(const uint16_t *r, int len, struct walk *w)
{
	w->at1 = w->at802 = w->at803 = w->atend = -1;
	w->nstr = 0;
	if (len < 4 || r[0] != 0x5375 || r[1] != 0x6E53) {
		CHECK(!"SunS marker");
		return false;
	}
	static const unsigned order[] = { 1, 802, 803 };
	int i = 2, next = 0;
	while (i + 1 < len) {
		unsigned id = r[i], l = r[i + 1];
		if (id == 0xFFFF) {
			CHECK_EQ_INT(l, 0);
			CHECK_EQ_INT(i + 2, len);
			w->atend = i;
			return i + 2 == len && l == 0;
		}
		while (next < 3 && order[next] != id)
			next++; /* 803 only on the bank; never out of order */
		if (next == 3) {
			fprintf(stderr, "FAIL unexpected model %u at %d\n", id, i);
			check_failed++;
			return false;
		}
		next++;
		unsigned want = 0;
		if (id == 1) {
			want = (unsigned)fx1.size - 2;
			w->at1 = i;
		} else if (id == 802) {
			want = (unsigned)fx802.size - 2;
			w->at802 = i;
		} else {
			w->at803 = i;
			w->nstr = r[i + fx_off(&fx803, false, "NStr")];
			want = (unsigned)(fx803.size - 2 + fx803.ssize * w->nstr);
		}
		CHECK_EQ_INT(l, want);
		i += 2 + (int)l;
	}
	CHECK(!"end model");
	return false;
}

/* Register of point `name` of the model at `at` (a string: at = its start). */
#define P1(w, r, name) ((r)[(w).at1 + fx_off(&fx1, false, name)])
#define P802(w, r, name) ((r)[(w).at802 + fx_off(&fx802, false, name)])
#define P803(w, r, name) ((r)[(w).at803 + fx_off(&fx803, false, name)])
#define PSTR(w, r, k, name) ((r)[(w).at803 + fx803.size + fx803.ssize * (k) + fx_off(&fx803, true, name)])
static uint32_t u32at(const uint16_t *r) { return (uint32_t)r[0] << 16 | r[1]; }
#define P802_32(w, r, name) u32at(&P802(w, r, name))
#define PSTR_32(w, r, k, name) u32at(&PSTR(w, r, k, name))

/* The string point at r of nregs registers as text. */
static const char *str_at(const uint16_t *r, int nregs)
{
	static char out[80];
	int n = 0;
	for (int i = 0; i < nregs && n < (int)sizeof(out) - 2; i++) {
		out[n++] = (char)(r[i] >> 8);
		out[n++] = (char)(r[i] & 0xFF);
	}
	out[n] = 0;
	return out;
}

/* The not-implemented value of a fixture type, for the first register. */
static unsigned ni_of(const char *type)
{
	if (!strcmp(type, "int16") || !strcmp(type, "sunssf"))
		return 0x8000;
	if (!strcmp(type, "string") || !strcmp(type, "pad"))
		return 0;
	return 0xFFFF; /* uint16, enum16, and the high word of uint32, bitfield32 */
}

/* Every register of point p at r holds its not-implemented value. */
static bool is_ni(const uint16_t *r, const struct fx_point *p)
{
	unsigned v = ni_of(p->type);
	for (int i = 0; i < p->size; i++) {
		unsigned want = (i == 0 || !strcmp(p->type, "uint32") || !strcmp(p->type, "bitfield32")) ? v : 0;
		if (!strcmp(p->type, "string") || !strcmp(p->type, "pad"))
			want = 0;
		if (r[i] != want)
			return false;
	}
	return true;
}

static bool in_list(const char *name, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(name, *list))
			return true;
	return false;
}


/* Every point of table p[0..n) but those in `except` is not implemented. */
static void check_ni(const uint16_t *m, const struct fx_point *p, int n, const char *const *except)
{
	for (int i = 0; i < n; i++) {
		if (in_list(p[i].name, except))
			continue;
		if (is_ni(m + p[i].off, &p[i]))
			check_passed++;
		else {
			check_failed++;
			fprintf(stderr, "FAIL: %s holds %04x, not its not-implemented value\n", p[i].name,
				m[p[i].off]);
		}
	}
}

/* A pack's scale factors (DisChaRte_SF and DoD_SF are not implemented). */
static void check_pack_sf(const struct walk *w, const uint16_t *r)
{
	CHECK_EQ_INT(P802(*w, r, "AHRtg_SF"), 0xFFFF);  /* -1: 0.1 Ah */
	CHECK_EQ_INT(P802(*w, r, "WHRtg_SF"), 0);
	CHECK_EQ_INT(P802(*w, r, "WChaDisChaMax_SF"), 0);
	CHECK_EQ_INT(P802(*w, r, "DisChaRte_SF"), 0x8000);
	CHECK_EQ_INT(P802(*w, r, "SoC_SF"), 0xFFFF);    /* 0.1 % */
	CHECK_EQ_INT(P802(*w, r, "DoD_SF"), 0x8000);
	CHECK_EQ_INT(P802(*w, r, "SoH_SF"), 0);
	CHECK_EQ_INT(P802(*w, r, "V_SF"), 0xFFFE);      /* 0.01 V */
	CHECK_EQ_INT(P802(*w, r, "CellV_SF"), 0xFFFD);  /* mV */
	CHECK_EQ_INT(P802(*w, r, "A_SF"), 0xFFFF);      /* 0.1 A */
	CHECK_EQ_INT(P802(*w, r, "AMax_SF"), 0xFFFF);
	CHECK_EQ_INT(P802(*w, r, "W_SF"), 0);
}

static struct ss_unit pack_unit(const struct bms_snapshot *s, bool fresh)
{
	struct ss_unit u = { .name = "rack1", .protocol = "daly", .version = "0.1.0", .unit_id = 3,
			     .snap = s, .fresh = fresh };
	return u;
}

/* A pack never polled: every 802 point not implemented but the constants;
 * Evt1 says the link is lost. */
static void test_no_data(void)
{
	uint16_t r[SS_MAX_BLOCK];
	memset(r, 0xAA, sizeof(r));
	struct ss_unit u = pack_unit(NULL, false);
	CHECK_EQ_INT(ss_build(&u, r, SS_MAX_BLOCK), 136);
	struct walk w;
	CHECK(walk(r, 136, &w));
	CHECK_EQ_INT(w.at1, 2);
	CHECK_EQ_INT(w.at802, 70);
	CHECK_EQ_INT(w.at803, -1);
	CHECK_EQ_INT(w.atend, 134);
	CHECK_EQ_INT(r[134], 0xFFFF);
	CHECK_EQ_INT(r[135], 0);
	static const char *const set[] = { "ID", "L", "LocRemCtl", "AlmRst", "Typ", "State", "Evt1", "Evt2",
					   "EvtVnd2", "ReqInvState", "SetOp", "SetInvState", "AHRtg_SF", "WHRtg_SF", "WChaDisChaMax_SF", "SoC_SF",
					   "SoH_SF", "V_SF", "CellV_SF", "A_SF", "AMax_SF", "W_SF", NULL };
	check_ni(r + w.at802, fx802.p, fx802.n, set);
	CHECK_EQ_INT(P802(w, r, "ID"), 802);
	CHECK_EQ_INT(P802(w, r, "L"), 62);
	CHECK_EQ_INT(P802(w, r, "LocRemCtl"), 1);       /* LOCAL */
	CHECK_EQ_INT(P802(w, r, "AlmRst"), 0);
	CHECK_EQ_INT(P802(w, r, "Typ"), 4);             /* LITHIUM_ION */
	CHECK_EQ_INT(P802(w, r, "State"), 1);           /* DISCONNECTED */
	CHECK_EQ_INT(P802(w, r, "SetOp"), 1);           /* CONNECT */
	CHECK_EQ_INT(P802(w, r, "SetInvState"), 3);     /* INVERTER_STARTED */
	CHECK_EQ_INT(P802_32(w, r, "Evt1"), 1);         /* COMMUNICATION_ERROR */
	CHECK_EQ_INT(P802_32(w, r, "Evt2"), 0);
	CHECK_EQ_INT(P802_32(w, r, "EvtVnd2"), 0);
	CHECK_EQ_INT(P802(w, r, "ReqInvState"), 0);     /* NO REQUEST */
	check_pack_sf(&w, r);
	/* limits on: the fail-safe 0 A shows without data, no voltage of the past */
	u.limits = true;
	u.cvl_v = 52.0f;
	u.dvl_v = 44.8f;
	u.ccl_a = 30.0f;
	CHECK_EQ_INT(ss_build(&u, r, SS_MAX_BLOCK), 136);
	CHECK_EQ_INT(P802(w, r, "AChaMax"), 0);
	CHECK_EQ_INT(P802(w, r, "ADisChaMax"), 0);
	CHECK_EQ_INT(P802(w, r, "VMax"), 0xFFFF);
	CHECK_EQ_INT(P802(w, r, "VMin"), 0xFFFF);
	/* too small a buffer, a NULL packs array */
	CHECK_EQ_INT(ss_build(&u, r, 135), -1);
	u.bank = true;
	u.npacks = 2;
	CHECK_EQ_INT(ss_build(&u, r, SS_MAX_BLOCK), -1);
	u.npacks = SS_MAX_PACKS + 1;
	CHECK_EQ_INT(ss_build(&u, r, SS_MAX_BLOCK), -1);
}

static void test_common(void)
{
	uint16_t r[SS_MAX_BLOCK];
	struct ss_unit u = pack_unit(NULL, false);
	CHECK_EQ_INT(ss_build(&u, r, SS_MAX_BLOCK), 136);
	struct walk w;
	CHECK(walk(r, 136, &w));
	CHECK_EQ_INT(P1(w, r, "ID"), 1);
	CHECK_EQ_INT(P1(w, r, "L"), 66);
	/* "bmsgw": two characters a register, high byte first, NUL padded */
	const uint16_t *mn = &P1(w, r, "Mn");
	CHECK_EQ_INT(mn[0], 0x626D);
	CHECK_EQ_INT(mn[1], 0x7367);
	CHECK_EQ_INT(mn[2], 0x7700);
	for (int i = 3; i < 16; i++)
		CHECK_EQ_INT(mn[i], 0);
	CHECK_STR(str_at(&P1(w, r, "Md"), 16), "daly");
	CHECK_STR(str_at(&P1(w, r, "Opt"), 8), "rack1");
	CHECK_STR(str_at(&P1(w, r, "Vr"), 8), "0.1.0");
	CHECK_STR(str_at(&P1(w, r, "SN"), 16), "rack1-3");
	CHECK_EQ_INT(P1(w, r, "DA"), 3);
	CHECK_EQ_INT(P1(w, r, "Pad"), 0);
	/* the bank */
	struct ss_pack packs[1] = { { .snap = NULL, .fresh = false } };
	struct ss_unit b = { .bank = true, .name = "bank", .protocol = "ignored", .version = "0.1.0",
			     .unit_id = 100, .npacks = 1, .packs = packs };
	CHECK_EQ_INT(ss_build(&b, r, SS_MAX_BLOCK), 196);
	CHECK(walk(r, 196, &w));
	CHECK_STR(str_at(&P1(w, r, "Md"), 16), "bank");
	CHECK_STR(str_at(&P1(w, r, "Opt"), 8), "bank");
	CHECK_STR(str_at(&P1(w, r, "SN"), 16), "bank-100");
	CHECK_EQ_INT(P1(w, r, "DA"), 100);
	/* long names are cut to their point; SN keeps the unit id */
	u.name = "abcdefghijklmnopqrstuvwxyz01234"; /* 31, the longest pack name */
	u.unit_id = 247;
	u.version = "0.1\x01\xc3\xa9";
	u.protocol = NULL;
	CHECK_EQ_INT(ss_build(&u, r, SS_MAX_BLOCK), 136);
	CHECK(walk(r, 136, &w));
	CHECK_STR(str_at(&P1(w, r, "Opt"), 8), "abcdefghijklmnop");
	CHECK_STR(str_at(&P1(w, r, "SN"), 16), "abcdefghijklmnopqrstuvwxyz01-247");
	CHECK_STR(str_at(&P1(w, r, "Vr"), 8), "0.1???");
	CHECK_STR(str_at(&P1(w, r, "Md"), 16), "");
	CHECK_EQ_INT(P1(w, r, "DA"), 247);
	/* the machine's tag after the unit id; the name gives way */
	u.machine = "3d1219c7";
	CHECK_EQ_INT(ss_build(&u, r, SS_MAX_BLOCK), 136);
	CHECK_STR(str_at(&P1(w, r, "SN"), 16), "abcdefghijklmnopqrs-247-3d1219c7");
	u.name = "rack1";
	u.unit_id = 3;
	CHECK_EQ_INT(ss_build(&u, r, SS_MAX_BLOCK), 136);
	CHECK_STR(str_at(&P1(w, r, "SN"), 16), "rack1-3-3d1219c7");
	/* [sunspec] serial replaces the name and the machine */
	u.serial = "A1234";
	CHECK_EQ_INT(ss_build(&u, r, SS_MAX_BLOCK), 136);
	CHECK_STR(str_at(&P1(w, r, "SN"), 16), "A1234-3");
	u.serial = "0123456789012345678901234567"; /* 28, the longest */
	u.unit_id = 247;
	CHECK_EQ_INT(ss_build(&u, r, SS_MAX_BLOCK), 136);
	CHECK_STR(str_at(&P1(w, r, "SN"), 16), "0123456789012345678901234567-247");
	u.serial = "";
	u.machine = "";
	CHECK_EQ_INT(ss_build(&u, r, SS_MAX_BLOCK), 136);
	CHECK_STR(str_at(&P1(w, r, "SN"), 16), "rack1-247");
}

/* A 16-cell pack with everything, charging. */
static void known_snapshot(struct bms_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->present = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_FULL |
		     BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOSFETS | BMS_HAS_ALARMS |
		     BMS_HAS_POWER | BMS_HAS_BALANCE;
	s->voltage = 53.12f;
	s->current = 12.34f;
	s->power = 655.0f;
	s->soc = 87.6f;
	s->soh = 98.0f;
	s->full_ah = 280.0f;
	s->cycles = 123456;
	s->ncells = 16;
	for (int i = 0; i < 16; i++)
		s->cell_mv[i] = 3300;
	s->cell_mv[4] = 3412;
	s->cell_mv[10] = 3281;
	s->ntemps = 3;
	s->temp_c[0] = 21.5f;
	s->temp_c[1] = 24.0f;
	s->temp_c[2] = 19.25f;
	s->chg_mos = s->dsg_mos = true;
	s->alarms = BMS_AL_CELL_OV | BMS_AL_CHG_OT | BMS_AL_CELL_DIFF;
}

static void test_known_pack(void)
{
	struct bms_snapshot s;
	known_snapshot(&s);
	struct ss_unit u = pack_unit(&s, true);
	u.cell_nominal_v = 3.2f;
	u.limits = true;
	u.cvl_v = 55.2f;
	u.dvl_v = 46.4f;
	u.ccl_a = 50.0f;
	u.dcl_a = 60.5f;
	u.max_charge_a = 50.0f;
	u.max_discharge_a = 60.0f;
	/* the cell over-voltage a protection, the rest warnings */
	u.protect = BMS_AL_CELL_OV;
	u.warn = s.alarms;
	uint16_t r[SS_MAX_BLOCK], stale[SS_MAX_BLOCK];
	CHECK_EQ_INT(ss_build(&u, r, SS_MAX_BLOCK), 136);
	struct walk w;
	CHECK(walk(r, 136, &w));
	CHECK_EQ_INT(P802(w, r, "AHRtg"), 2800);          /* 280.0 Ah */
	CHECK_EQ_INT(P802(w, r, "WHRtg"), 14336);         /* 280 Ah x 16 x 3.2 V */
	CHECK_EQ_INT(P802(w, r, "WChaRteMax"), 2560);     /* 50 A x 51.2 V */
	CHECK_EQ_INT(P802(w, r, "WDisChaRteMax"), 3072);
	CHECK_EQ_INT(P802(w, r, "SoC"), 876);
	CHECK_EQ_INT(P802(w, r, "SoH"), 98);
	CHECK_EQ_INT(P802_32(w, r, "NCyc"), 123456);
	CHECK_EQ_INT(P802(w, r, "ChaSt"), 4);             /* CHARGING */
	CHECK_EQ_INT(P802(w, r, "State"), 3);             /* CONNECTED */
	CHECK_EQ_INT(P802_32(w, r, "Evt1"), (1u << 9) | (1u << 2) | (1u << 17)); /* OV alarm, OT warning */
	CHECK_EQ_INT(P802_32(w, r, "EvtVnd1"), s.alarms);
	CHECK_EQ_INT(P802(w, r, "V"), 5312);
	CHECK_EQ_INT(P802(w, r, "VMax"), 5520);
	CHECK_EQ_INT(P802(w, r, "VMin"), 4640);
	CHECK_EQ_INT(P802(w, r, "CellVMax"), 3412);
	CHECK_EQ_INT(P802(w, r, "CellVMaxStr"), 1);
	CHECK_EQ_INT(P802(w, r, "CellVMaxMod"), 1);
	CHECK_EQ_INT(P802(w, r, "CellVMin"), 3281);
	CHECK_EQ_INT(P802(w, r, "CellVMinStr"), 1);
	CHECK_EQ_INT(P802(w, r, "CellVMinMod"), 1);
	CHECK_EQ_INT(P802(w, r, "CellVAvg"), 3306);       /* 52893 / 16 */
	CHECK_EQ_INT(P802(w, r, "A"), 0xFF85);            /* -12.3 A: charging is negative */
	CHECK_EQ_INT(P802(w, r, "AChaMax"), 500);
	CHECK_EQ_INT(P802(w, r, "ADisChaMax"), 605);
	CHECK_EQ_INT(P802(w, r, "W"), 0xFD71);            /* -655 W */
	check_pack_sf(&w, r);
	static const char *const ni_only[] = { "DisChaRte", "SoCMax", "SoCMin", "SocRsvMax", "SoCRsvMin", "DoD",
					       "Hb", "CtrlHb", "StateVnd", "WarrDt", "ReqW", "DisChaRte_SF",
					       "DoD_SF", NULL };
	for (int i = 0; i < fx802.n; i++)
		if (in_list(fx802.p[i].name, ni_only)) {
			if (is_ni(r + w.at802 + fx802.p[i].off, &fx802.p[i]))
				check_passed++;
			else {
				check_failed++;
				fprintf(stderr, "FAIL: %s is set\n", fx802.p[i].name);
			}
		}
	CHECK_EQ_INT(P802(w, r, "SetOp"), 1);
	CHECK_EQ_INT(P802(w, r, "SetInvState"), 3);
	/* the same data, stale: the marker, model 1 and the scale factors as
	 * they were; every data point not implemented, State DISCONNECTED,
	 * Evt1 COMMUNICATION_ERROR alone, the current limits 0 */
	u.fresh = false;
	CHECK_EQ_INT(ss_build(&u, stale, SS_MAX_BLOCK), 136);
	for (int i = 0; i < w.at802 + 2; i++)
		CHECK_EQ_INT(stale[i], r[i]);
	static const char *const kept[] = { "ID", "L", "LocRemCtl", "AlmRst", "Typ", "State", "Evt1", "Evt2",
					    "EvtVnd2", "AChaMax", "ADisChaMax", "ReqInvState", "SetOp", "SetInvState",
					    "AHRtg_SF", "WHRtg_SF", "WChaDisChaMax_SF", "SoC_SF", "SoH_SF", "V_SF",
					    "CellV_SF", "A_SF", "AMax_SF", "W_SF", NULL };
	check_ni(stale + w.at802, fx802.p, fx802.n, kept);
	CHECK_EQ_INT(P802(w, stale, "State"), 1);
	CHECK_EQ_INT(P802_32(w, stale, "Evt1"), 1);
	CHECK_EQ_INT(P802(w, stale, "AChaMax"), 0);
	CHECK_EQ_INT(P802(w, stale, "ADisChaMax"), 0);
	CHECK_EQ_INT(P802(w, stale, "SetOp"), 1);
	CHECK_EQ_INT(P802(w, stale, "SetInvState"), 3);
	for (int i = w.at802 + fx_off(&fx802, false, "AHRtg_SF"); i < 136; i++)
		CHECK_EQ_INT(stale[i], r[i]);
	/* without [limits] and without a cell chemistry */
	u.fresh = true;
	u.limits = false;
	u.cell_nominal_v = 0;
	CHECK_EQ_INT(ss_build(&u, r, SS_MAX_BLOCK), 136);
	static const char *const gone[] = { "VMax", "VMin", "AChaMax", "ADisChaMax", "WHRtg", "WChaRteMax",
					    "WDisChaRteMax", NULL };
	for (int i = 0; gone[i]; i++)
		CHECK_EQ_INT(P802(w, r, gone[i]), 0xFFFF);
	CHECK_EQ_INT(P802(w, r, "AHRtg"), 2800);
	/* out of range: clamped, never the not-implemented value */
	s.current = -5000.0f;
	s.power = 40000.0f;
	s.cycles = 0xFFFFFFFFu;
	s.voltage = 700.0f;
	CHECK_EQ_INT(ss_build(&u, r, SS_MAX_BLOCK), 136);
	CHECK_EQ_INT(P802(w, r, "A"), 0x7FFF);
	CHECK_EQ_INT(P802(w, r, "W"), 0x8001);            /* -32767 */
	CHECK_EQ_INT(P802_32(w, r, "NCyc"), 0xFFFFFFFEu);
	CHECK_EQ_INT(P802(w, r, "V"), 65534);
}

/* ChaSt and State from the MOSFETs, current, SOC and alarms. */
static void test_states(void)
{
	static const struct {
		uint32_t present;
		bool chg, dsg;
		float current, soc;
		uint32_t alarms;
		unsigned chast, state;
	} c[] = {
		{ BMS_HAS_MOSFETS | BMS_HAS_CURRENT, false, false, 0, 0, 0, 1, 1 },     /* OFF, DISCONNECTED */
		{ BMS_HAS_MOSFETS | BMS_HAS_CURRENT, false, true, -3.0f, 0, 0, 3, 3 },  /* DISCHARGING */
		{ BMS_HAS_CURRENT | BMS_HAS_SOC, false, false, 0.05f, 50, 0, 6, 3 },    /* HOLDING */
		{ BMS_HAS_CURRENT | BMS_HAS_SOC, false, false, -0.09f, 50, 0, 6, 3 },   /* under 0.1 A */
		{ BMS_HAS_CURRENT | BMS_HAS_SOC, false, false, 0.11f, 50, 0, 4, 3 },    /* CHARGING */
		{ BMS_HAS_CURRENT | BMS_HAS_SOC, false, false, 0, 100, 0, 5, 3 },       /* FULL */
		{ BMS_HAS_CURRENT | BMS_HAS_SOC, false, false, 0, 0, 0, 2, 3 },         /* EMPTY */
		{ BMS_HAS_SOC, false, false, 0, 100, 0, 5, 3 },                         /* FULL, no current */
		{ BMS_HAS_VOLTAGE, false, false, 0, 0, 0, 0xFFFF, 3 },                  /* nothing to tell */
		{ BMS_HAS_ALARMS | BMS_HAS_CURRENT, false, false, 0, 0, BMS_AL_SHORT, 6, 99 },
		{ BMS_HAS_ALARMS | BMS_HAS_CURRENT, false, false, 0, 0, BMS_AL_HW_FAULT, 6, 99 },
		{ BMS_HAS_ALARMS | BMS_HAS_CURRENT, false, false, 0, 0, BMS_AL_MOS_FAULT, 6, 99 },
		{ BMS_HAS_ALARMS | BMS_HAS_CURRENT, false, false, 0, 0, BMS_AL_CELL_OV, 6, 3 },
		{ BMS_HAS_CURRENT, false, false, 0, 0, BMS_AL_SHORT, 6, 3 },           /* alarms not given */
		{ 0, false, false, 0, 0, 0, 0xFFFF, 0xFFFF },                          /* an empty aggregate */
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct bms_snapshot s = { 0 };
		s.present = c[i].present;
		s.chg_mos = c[i].chg;
		s.dsg_mos = c[i].dsg;
		s.current = c[i].current;
		s.soc = c[i].soc;
		s.alarms = c[i].alarms;
		struct ss_unit u = pack_unit(&s, true);
		uint16_t r[SS_MAX_BLOCK];
		CHECK_EQ_INT(ss_build(&u, r, SS_MAX_BLOCK), 136);
		struct walk w;
		CHECK(walk(r, 136, &w));
		CHECK_EQ_INT(P802(w, r, "ChaSt"), c[i].chast);
		CHECK_EQ_INT(P802(w, r, "State"), c[i].state);
	}
}


/* A 16-cell pack for the bank tests: all cells at 3300 mV but one. */
static void bank_pack(struct bms_snapshot *s, float v, float a, int cell, uint16_t mv, float t0, float t1)
{
	memset(s, 0, sizeof(*s));
	s->present = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_CELLS |
		     BMS_HAS_TEMPS | BMS_HAS_MOSFETS | BMS_HAS_ALARMS | BMS_HAS_BALANCE;
	s->voltage = v;
	s->current = a;
	s->ncells = 16;
	for (int i = 0; i < 16; i++)
		s->cell_mv[i] = 3300;
	s->cell_mv[cell] = mv;
	s->ntemps = 2;
	s->temp_c[0] = t0;
	s->temp_c[1] = t1;
	s->chg_mos = s->dsg_mos = true;
}

/* Three packs: 1 and 3 fresh, 2 stale with extreme values that must not
 * show. */
static void test_bank(void)
{
	struct bms_snapshot p1, p2, p3, agg;
	bank_pack(&p1, 53.0f, 10.0f, 2, 3280, 20.0f, 22.0f);
	p1.soc = 80;
	p1.soh = 99;
	p1.balance = 0x5 | 0x10000; /* bit 16 is beyond the 16 cells */
	bank_pack(&p2, 40.0f, -100.0f, 0, 2500, 60.0f, 61.0f);
	p2.cell_mv[1] = 3650;
	p2.alarms = BMS_AL_SHORT;
	p2.balance = 0xFFFF;
	bank_pack(&p3, 53.4f, -4.0f, 7, 3350, 25.0f, 18.0f);
	p3.soc = 70;
	p3.soh = 97;
	p3.chg_mos = false;
	p3.balance = 0x1;
	p3.alarms = BMS_AL_CELL_DIFF | BMS_AL_CHG_OT;
	/* the aggregate as gw_bank_aggregate() gives it: no cells of its own */
	memset(&agg, 0, sizeof(agg));
	agg.present = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH |
		      BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_MOSFETS | BMS_HAS_ALARMS;
	agg.voltage = 53.2f;
	agg.current = 6.0f;
	agg.power = 319.2f;
	agg.soc = 75;
	agg.soh = 98;
	agg.full_ah = 560;
	agg.cycles = 300;
	agg.dsg_mos = true;
	agg.alarms = BMS_AL_CELL_DIFF;
	/* pack 3 protects on its temperature: a protection of its string, a
	 * warning of the bank (whose other packs still charge) */
	struct ss_pack packs[3] = { { &p1, true, 0, 0, NULL }, { &p2, false, BMS_AL_SHORT, BMS_AL_SHORT, NULL },
				    { &p3, true, BMS_AL_CHG_OT, p3.alarms, NULL } };
	struct ss_unit u = { .bank = true, .name = "bank", .version = "0.1.0", .unit_id = 100, .snap = &agg,
			     .fresh = true, .warn = p3.alarms, .cell_nominal_v = 3.2f, .limits = true, .ccl_a = 100, .dcl_a = 120,
			     .npacks = 3, .packs = packs };
	uint16_t r[SS_MAX_BLOCK];
	CHECK_EQ_INT(ss_build(&u, r, SS_MAX_BLOCK), 164 + 96);
	struct walk w;
	CHECK(walk(r, 164 + 96, &w));
	CHECK_EQ_INT(w.at803, 134);
	CHECK_EQ_INT(w.nstr, 3);
	CHECK_EQ_INT(P803(w, r, "ID"), 803);
	CHECK_EQ_INT(P803(w, r, "L"), 26 + 3 * 32);
	/* 802 over the bank: sums one decade coarser for 2..10 packs */
	CHECK_EQ_INT(P802(w, r, "AHRtg_SF"), 0);
	CHECK_EQ_INT(P802(w, r, "WHRtg_SF"), 1);
	CHECK_EQ_INT(P802(w, r, "WChaDisChaMax_SF"), 1);
	CHECK_EQ_INT(P802(w, r, "A_SF"), 0);
	CHECK_EQ_INT(P802(w, r, "AMax_SF"), 0);
	CHECK_EQ_INT(P802(w, r, "W_SF"), 1);
	CHECK_EQ_INT(P802(w, r, "SoC_SF"), 0xFFFF);
	CHECK_EQ_INT(P802(w, r, "V_SF"), 0xFFFE);
	CHECK_EQ_INT(P802(w, r, "AHRtg"), 560);
	CHECK_EQ_INT(P802(w, r, "WHRtg"), 2867);            /* 560 Ah x 51.2 V = 28672 Wh */
	CHECK_EQ_INT(P802(w, r, "SoC"), 750);
	CHECK_EQ_INT(P802(w, r, "V"), 5320);
	CHECK_EQ_INT(P802(w, r, "A"), 0xFFFA);              /* -6 A */
	CHECK_EQ_INT(P802(w, r, "W"), 0xFFE0);              /* -32 x 10 W */
	CHECK_EQ_INT(P802(w, r, "AChaMax"), 100);
	CHECK_EQ_INT(P802(w, r, "ADisChaMax"), 120);
	CHECK_EQ_INT(P802(w, r, "CellVMax"), 3350);
	CHECK_EQ_INT(P802(w, r, "CellVMaxStr"), 3);
	CHECK_EQ_INT(P802(w, r, "CellVMaxMod"), 1);
	CHECK_EQ_INT(P802(w, r, "CellVMin"), 3280);
	CHECK_EQ_INT(P802(w, r, "CellVMinStr"), 1);
	CHECK_EQ_INT(P802(w, r, "CellVAvg"), 3301);         /* 105630 / 32 */
	CHECK_EQ_INT(P802(w, r, "ChaSt"), 4);
	CHECK_EQ_INT(P802_32(w, r, "Evt1"), (1u << 17) | (1u << 2)); /* imbalance, over-temperature warning */
	/* 803's bank points over the fresh packs */
	CHECK_EQ_INT(P803(w, r, "NStr"), 3);
	CHECK_EQ_INT(P803(w, r, "NStrCon"), 2);
	CHECK_EQ_INT(P803(w, r, "ModTmpMax"), 250);
	CHECK_EQ_INT(P803(w, r, "ModTmpMaxStr"), 3);
	CHECK_EQ_INT(P803(w, r, "ModTmpMaxMod"), 1);
	CHECK_EQ_INT(P803(w, r, "ModTmpMin"), 180);
	CHECK_EQ_INT(P803(w, r, "ModTmpMinStr"), 3);
	CHECK_EQ_INT(P803(w, r, "ModTmpAvg"), 213);         /* (21.0 + 21.5) / 2 */
	CHECK_EQ_INT(P803(w, r, "StrVMax"), 5340);
	CHECK_EQ_INT(P803(w, r, "StrVMaxStr"), 3);
	CHECK_EQ_INT(P803(w, r, "StrVMin"), 5300);
	CHECK_EQ_INT(P803(w, r, "StrVMinStr"), 1);
	CHECK_EQ_INT(P803(w, r, "StrVAvg"), 5320);
	CHECK_EQ_INT(P803(w, r, "StrAMax"), 40);            /* pack 3 discharges 4 A */
	CHECK_EQ_INT(P803(w, r, "StrAMaxStr"), 3);
	CHECK_EQ_INT(P803(w, r, "StrAMin"), 0xFF9C);        /* pack 1 charges 10 A */
	CHECK_EQ_INT(P803(w, r, "StrAMinStr"), 1);
	CHECK_EQ_INT(P803(w, r, "StrAAvg"), 0xFFE2);        /* -3.0 A */
	CHECK_EQ_INT(P803(w, r, "NCellBal"), 3);
	CHECK_EQ_INT(P803(w, r, "CellV_SF"), 0xFFFD);
	CHECK_EQ_INT(P803(w, r, "ModTmp_SF"), 0xFFFF);
	CHECK_EQ_INT(P803(w, r, "A_SF"), 0xFFFF);
	CHECK_EQ_INT(P803(w, r, "SoH_SF"), 0);
	CHECK_EQ_INT(P803(w, r, "SoC_SF"), 0xFFFF);
	CHECK_EQ_INT(P803(w, r, "V_SF"), 0xFFFE);
	/* string 1 = pack 1 */
	CHECK_EQ_INT(PSTR(w, r, 0, "StrNMod"), 1);
	CHECK_EQ_INT(PSTR_32(w, r, 0, "StrSt"), 3);         /* enabled, contactor closed */
	CHECK_EQ_INT(PSTR(w, r, 0, "StrConFail"), 0);
	CHECK_EQ_INT(PSTR(w, r, 0, "StrSoC"), 800);
	CHECK_EQ_INT(PSTR(w, r, 0, "StrSoH"), 99);
	CHECK_EQ_INT(PSTR(w, r, 0, "StrA"), 0xFF9C);
	CHECK_EQ_INT(PSTR(w, r, 0, "StrCellVMax"), 3300);
	CHECK_EQ_INT(PSTR(w, r, 0, "StrCellVMaxMod"), 1);
	CHECK_EQ_INT(PSTR(w, r, 0, "StrCellVMin"), 3280);
	CHECK_EQ_INT(PSTR(w, r, 0, "StrCellVMinMod"), 1);
	CHECK_EQ_INT(PSTR(w, r, 0, "StrCellVAvg"), 3299);   /* 52780 / 16 */
	CHECK_EQ_INT(PSTR(w, r, 0, "StrModTmpMax"), 220);
	CHECK_EQ_INT(PSTR(w, r, 0, "StrModTmpMaxMod"), 1);
	CHECK_EQ_INT(PSTR(w, r, 0, "StrModTmpMin"), 200);
	CHECK_EQ_INT(PSTR(w, r, 0, "StrModTmpMinMod"), 1);
	CHECK_EQ_INT(PSTR(w, r, 0, "StrModTmpAvg"), 210);
	CHECK_EQ_INT(PSTR(w, r, 0, "StrDisRsn"), 0);
	CHECK_EQ_INT(PSTR_32(w, r, 0, "StrConSt"), 3);      /* both MOSFETs on */
	CHECK_EQ_INT(PSTR_32(w, r, 0, "StrEvt1"), 0);
	CHECK_EQ_INT(PSTR_32(w, r, 0, "StrEvt2"), 0);
	CHECK_EQ_INT(PSTR_32(w, r, 0, "StrEvtVnd1"), 0);
	CHECK_EQ_INT(PSTR_32(w, r, 0, "StrEvtVnd2"), 0);
	CHECK_EQ_INT(PSTR(w, r, 0, "StrSetEna"), 0xFFFF);
	CHECK_EQ_INT(PSTR(w, r, 0, "StrSetCon"), 0xFFFF);
	CHECK_EQ_INT(PSTR(w, r, 0, "Pad1"), 0);
	CHECK_EQ_INT(PSTR(w, r, 0, "Pad2"), 0);
	/* string 2 = the stale pack: its old values never show */
	static const char *const kept[] = { "StrNMod", "StrEvt1", "StrEvt2", "StrEvtVnd2", NULL };
	check_ni(&PSTR(w, r, 1, "StrNMod"), fx803.s, fx803.ns, kept);
	CHECK_EQ_INT(PSTR(w, r, 1, "StrNMod"), 1);
	CHECK_EQ_INT(PSTR_32(w, r, 1, "StrEvt1"), 1);       /* COMMUNICATION_ERROR */
	CHECK_EQ_INT(PSTR_32(w, r, 1, "StrEvt2"), 0);
	CHECK_EQ_INT(PSTR_32(w, r, 1, "StrEvtVnd2"), 0);
	/* string 3: the charge MOSFET off, a cell difference */
	CHECK_EQ_INT(PSTR_32(w, r, 2, "StrSt"), 3);
	CHECK_EQ_INT(PSTR_32(w, r, 2, "StrConSt"), 2);
	CHECK_EQ_INT(PSTR(w, r, 2, "StrA"), 40);
	CHECK_EQ_INT(PSTR(w, r, 2, "StrCellVMax"), 3350);
	CHECK_EQ_INT(PSTR_32(w, r, 2, "StrEvt1"), (1u << 17) | (1u << 1)); /* over-temperature alarm */
	CHECK_EQ_INT(PSTR_32(w, r, 2, "StrEvtVnd1"), p3.alarms);
	/* a sensor that reads nothing (NaN: absent, a sensor fault the gateway
	 * flagged): the string's temperatures are its other sensor's */
	p1.temp_c[1] = NAN;
	CHECK_EQ_INT(ss_build(&u, r, SS_MAX_BLOCK), 260);
	CHECK_EQ_INT(PSTR(w, r, 0, "StrModTmpMax"), 200);
	CHECK_EQ_INT(PSTR(w, r, 0, "StrModTmpMin"), 200);
	CHECK_EQ_INT(PSTR(w, r, 0, "StrModTmpAvg"), 200);
	CHECK_EQ_INT(P803(w, r, "ModTmpMax"), 250);
	CHECK_EQ_INT(P803(w, r, "ModTmpMin"), 180);
	p1.temp_c[0] = NAN; /* none: the string's temperatures are not implemented */
	CHECK_EQ_INT(ss_build(&u, r, SS_MAX_BLOCK), 260);
	CHECK_EQ_INT(PSTR(w, r, 0, "StrModTmpAvg"), 0x8000);
	CHECK_EQ_INT(P803(w, r, "ModTmpAvg"), 215);         /* pack 3's 21.5 */
	p1.temp_c[0] = 20.0f;
	p1.temp_c[1] = 22.0f;
	/* both MOSFETs off: contactor open, no reason known */
	p3.dsg_mos = false;
	CHECK_EQ_INT(ss_build(&u, r, SS_MAX_BLOCK), 260);
	CHECK_EQ_INT(PSTR_32(w, r, 2, "StrSt"), 1);
	CHECK_EQ_INT(PSTR_32(w, r, 2, "StrConSt"), 0);
	CHECK_EQ_INT(PSTR(w, r, 2, "StrConFail"), 0xFFFF);
	CHECK_EQ_INT(PSTR(w, r, 2, "StrDisRsn"), 0xFFFF);
	CHECK_EQ_INT(P803(w, r, "NStrCon"), 1);
	/* no fresh pack: the bank is stale, the aggregate empty */
	packs[0].fresh = packs[2].fresh = false;
	struct bms_snapshot empty = { 0 };
	u.snap = &empty;
	u.fresh = false;
	u.limits = false;
	CHECK_EQ_INT(ss_build(&u, r, SS_MAX_BLOCK), 260);
	CHECK(walk(r, 260, &w));
	static const char *const set802[] = { "ID", "L", "LocRemCtl", "AlmRst", "Typ", "State", "Evt1", "Evt2",
					      "EvtVnd2", "ReqInvState", "SetOp", "SetInvState", "AHRtg_SF", "WHRtg_SF", "WChaDisChaMax_SF",
					      "SoC_SF", "SoH_SF", "V_SF", "CellV_SF", "A_SF", "AMax_SF", "W_SF",
					      NULL };
	check_ni(r + w.at802, fx802.p, fx802.n, set802);
	CHECK_EQ_INT(P802_32(w, r, "Evt1"), 1);
	static const char *const set803[] = { "ID", "L", "NStr", "NStrCon", "CellV_SF", "ModTmp_SF", "A_SF",
					      "SoH_SF", "SoC_SF", "V_SF", NULL };
	check_ni(r + w.at803, fx803.p, fx803.n, set803);
	CHECK_EQ_INT(P803(w, r, "NStrCon"), 0);
	for (int k = 0; k < 3; k++)
		CHECK_EQ_INT(PSTR_32(w, r, k, "StrEvt1"), 1);
}

/* [bank] strings: 803's strings are strings of packs in series, their
 * members their modules (ss_series): the module of each extreme is the
 * member's, 802 names string and member, the nominal voltage is the
 * string's cells'. */
static void test_series(void)
{
	struct bms_snapshot s1, s2, agg;
	bank_pack(&s1, 106.0f, 10.0f, 2, 3300, 20.0f, 24.0f); /* the string as one pack: member means */
	s1.ncells = 0;
	s1.present &= ~(uint32_t)BMS_HAS_CELLS;
	s1.soc = 40;
	s2 = s1;
	s2.voltage = 105.0f;
	s2.current = 12.0f;
	s2.soc = 60;
	struct ss_series r1 = { .nmod = 2, .ncells = 32, .have_cells = true, .cell_max_mv = 3450, .cell_max_mod = 2,
				.cell_min_mv = 3150, .cell_min_mod = 1, .cell_avg_mv = 3301, .have_temps = true,
				.tmax_c = 31.0f, .tmax_mod = 2, .tmin_c = 17.0f, .tmin_mod = 1 };
	struct ss_series r2 = { .nmod = 3, .ncells = 48, .have_cells = true, .cell_max_mv = 3400, .cell_max_mod = 3,
				.cell_min_mv = 3200, .cell_min_mod = 2, .cell_avg_mv = 3300 };
	struct ss_pack packs[2] = { { &s1, true, 0, 0, &r1 }, { &s2, true, 0, 0, &r2 } };
	memset(&agg, 0, sizeof(agg));
	agg.present = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_FULL;
	agg.voltage = 105.5f;
	agg.current = 22.0f;
	agg.soc = 50;
	agg.full_ah = 200;
	struct ss_unit u = { .bank = true, .name = "bank", .version = "0.1.0", .unit_id = 100, .snap = &agg,
			     .fresh = true, .cell_nominal_v = 3.2f, .npacks = 2, .packs = packs };
	uint16_t r[SS_MAX_BLOCK];
	CHECK_EQ_INT(ss_build(&u, r, SS_MAX_BLOCK), 164 + 64);
	struct walk w;
	CHECK(walk(r, 164 + 64, &w));
	CHECK_EQ_INT(P803(w, r, "NStr"), 2);
	CHECK_EQ_INT(PSTR(w, r, 0, "StrNMod"), 2);
	CHECK_EQ_INT(PSTR(w, r, 1, "StrNMod"), 3);
	CHECK_EQ_INT(PSTR(w, r, 0, "StrCellVMax"), 3450);
	CHECK_EQ_INT(PSTR(w, r, 0, "StrCellVMaxMod"), 2);
	CHECK_EQ_INT(PSTR(w, r, 0, "StrCellVMin"), 3150);
	CHECK_EQ_INT(PSTR(w, r, 0, "StrCellVMinMod"), 1);
	CHECK_EQ_INT(PSTR(w, r, 0, "StrCellVAvg"), 3301);
	CHECK_EQ_INT(PSTR(w, r, 0, "StrModTmpMax"), 310);
	CHECK_EQ_INT(PSTR(w, r, 0, "StrModTmpMaxMod"), 2);
	CHECK_EQ_INT(PSTR(w, r, 0, "StrModTmpMin"), 170);
	CHECK_EQ_INT(PSTR(w, r, 0, "StrModTmpMinMod"), 1);
	CHECK_EQ_INT(PSTR(w, r, 0, "StrModTmpAvg"), 220);   /* the member means' (20 + 24) / 2 */
	CHECK_EQ_INT(PSTR(w, r, 1, "StrModTmpMax"), 0x8000); /* no sensors said */
	CHECK_EQ_INT(PSTR(w, r, 0, "StrSoC"), 400);
	CHECK_EQ_INT(PSTR(w, r, 1, "StrA"), 0xFF88);        /* -12 A */
	/* 803's and 802's extremes name the string, and the member */
	CHECK_EQ_INT(P803(w, r, "ModTmpMax"), 310);
	CHECK_EQ_INT(P803(w, r, "ModTmpMaxStr"), 1);
	CHECK_EQ_INT(P803(w, r, "ModTmpMaxMod"), 2);
	CHECK_EQ_INT(P803(w, r, "StrVMax"), 10600);
	CHECK_EQ_INT(P803(w, r, "StrVMaxStr"), 1);
	CHECK_EQ_INT(P802(w, r, "CellVMax"), 3450);
	CHECK_EQ_INT(P802(w, r, "CellVMaxStr"), 1);
	CHECK_EQ_INT(P802(w, r, "CellVMaxMod"), 2);
	CHECK_EQ_INT(P802(w, r, "CellVMin"), 3150);
	CHECK_EQ_INT(P802(w, r, "CellVMinStr"), 1);
	CHECK_EQ_INT(P802(w, r, "CellVMinMod"), 1);
	CHECK_EQ_INT(P802(w, r, "CellVAvg"), 3300);          /* (3301 x 32 + 3300 x 48) / 80 */
	/* the nominal voltage: the mean of the strings' (32 and 48 cells x 3.2 V) */
	CHECK_EQ_INT(P802(w, r, "WHRtg"), 2560);             /* 200 Ah x 128 V = 25600 Wh, WHRtg_SF 1 */
	/* a string with a member not fresh: the lost link alone */
	packs[1].fresh = false;
	CHECK_EQ_INT(ss_build(&u, r, SS_MAX_BLOCK), 164 + 64);
	CHECK_EQ_INT(PSTR_32(w, r, 1, "StrEvt1"), 1);
	CHECK_EQ_INT(PSTR(w, r, 1, "StrCellVMax"), 0xFFFF);
	CHECK_EQ_INT(PSTR(w, r, 1, "StrNMod"), 3);
	CHECK_EQ_INT(P802(w, r, "CellVMin"), 3150);
}

/* The largest bank, and the decades of its scale factors. */
static void test_big_bank(void)
{
	static struct ss_pack packs[SS_MAX_PACKS];
	static uint16_t r[SS_MAX_BLOCK + 1];
	struct ss_unit u = { .bank = true, .name = "bank", .version = "0.1.0", .unit_id = 100,
			     .npacks = SS_MAX_PACKS, .packs = packs };
	CHECK_EQ_INT(ss_build(&u, r, SS_MAX_BLOCK), 2212);
	struct walk w;
	CHECK(walk(r, 2212, &w));
	CHECK_EQ_INT(w.nstr, 64);
	CHECK_EQ_INT(PSTR(w, r, 63, "StrNMod"), 1);
	CHECK_EQ_INT(ss_build(&u, r, SS_MAX_BLOCK - 1), -1);
	static const struct { int n; unsigned ahsf; } d[] = {
		{ 0, 0xFFFF }, { 1, 0xFFFF }, { 2, 0 }, { 10, 0 }, { 11, 1 }, { 64, 1 },
	};
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		u.npacks = d[i].n;
		int len = ss_build(&u, r, SS_MAX_BLOCK);
		CHECK_EQ_INT(len, 164 + 32 * d[i].n);
		CHECK(walk(r, len, &w));
		CHECK_EQ_INT(P802(w, r, "AHRtg_SF"), d[i].ahsf);
		CHECK_EQ_INT(P802(w, r, "W_SF"), (uint16_t)(d[i].ahsf + 1));
	}
}

/* Which registers are data, register by register, from the point names:
 * 802's points but ID, L and the scale factors; 803's but ID, L, NStr and
 * the scale factors, and every string. */
static bool want_data(const struct walk *w, int i)
{
	if (w->at802 >= 0 && i >= w->at802 && i < w->at802 + fx802.size) {
		for (int k = 0; k < fx802.n; k++) {
			const struct fx_point *p = &fx802.p[k];
			if (i >= w->at802 + p->off && i < w->at802 + p->off + p->size)
				return strcmp(p->name, "ID") && strcmp(p->name, "L") && strcmp(p->type, "sunssf");
		}
	}
	if (w->at803 >= 0 && i >= w->at803 && i < w->at803 + fx803.size) {
		for (int k = 0; k < fx803.n; k++) {
			const struct fx_point *p = &fx803.p[k];
			if (i >= w->at803 + p->off && i < w->at803 + p->off + p->size)
				return strcmp(p->name, "ID") && strcmp(p->name, "L") && strcmp(p->name, "NStr") &&
				       strcmp(p->type, "sunssf");
		}
	}
	return w->at803 >= 0 && i >= w->at803 + fx803.size && i < w->atend;
}

static void test_data_ranges(void)
{
	static struct ss_pack packs[2];
	uint16_t r[SS_MAX_BLOCK];
	for (int bank = 0; bank <= 1; bank++) {
		struct ss_unit u = { .bank = bank, .name = "x", .version = "0.1.0", .unit_id = 1,
				     .npacks = bank ? 2 : 0, .packs = packs };
		int len = ss_build(&u, r, SS_MAX_BLOCK);
		struct walk w;
		CHECK(walk(r, len, &w));
		int ndata = 0;
		for (int i = 0; i < len + 4; i++) {
			bool want = i < len && want_data(&w, i);
			ndata += want;
			if (ss_range_has_data(bank, u.npacks, (unsigned)i, 1) == want)
				check_passed++;
			else {
				check_failed++;
				fprintf(stderr, "FAIL: register %d of the %s: data %d\n", i, bank ? "bank" : "pack", want);
			}
		}
		CHECK_EQ_INT(ndata, bank ? 50 + 19 + 64 : 50);
		/* whole ranges */
		CHECK(ss_range_has_data(bank, u.npacks, 0, (unsigned)len));
		CHECK(!ss_range_has_data(bank, u.npacks, 0, 72));   /* marker, model 1, 802's header */
		CHECK(ss_range_has_data(bank, u.npacks, 0, 73));
		CHECK(!ss_range_has_data(bank, u.npacks, 122, 14)); /* 802's scale factors, 803's header or end */
		CHECK(ss_range_has_data(bank, u.npacks, 121, 2));
		CHECK(!ss_range_has_data(bank, u.npacks, 80, 0));
		CHECK(!ss_range_has_data(bank, u.npacks, 0xFFFFFFF0u, 0x20));
	}
	CHECK(!ss_range_has_data(true, 2, 156, 6));   /* 803's scale factors */
	CHECK(ss_range_has_data(true, 2, 156, 7));    /* and the first string */
	CHECK(!ss_range_has_data(true, 0, 162, 2));   /* no strings: the end model */
	CHECK(!ss_range_has_data(true, -1, 162, 2));
}

/* Evt1 bits of each normalised alarm as a protection and as a warning
 * (model_802.json, Evt1 symbols: *_ALARM, *_WARNING). */
static void test_evt1(void)
{
	static const struct { uint32_t alarm; int alarm_bit, warn_bit; } m[] = {
		{ BMS_AL_CELL_OV, 9, 10 }, { BMS_AL_CELL_UV, 11, 12 }, { BMS_AL_PACK_OV, 9, 10 },
		{ BMS_AL_PACK_UV, 11, 12 }, { BMS_AL_CHG_OT, 1, 2 }, { BMS_AL_CHG_UT, 3, 4 },
		{ BMS_AL_DSG_OT, 1, 2 }, { BMS_AL_DSG_UT, 3, 4 }, { BMS_AL_CHG_OC, 5, 6 }, { BMS_AL_DSG_OC, 7, 8 },
		{ BMS_AL_SHORT, 7, 8 }, { BMS_AL_CELL_DIFF, 17, 17 }, { BMS_AL_TEMP_DIFF, 18, 19 },
		{ BMS_AL_MOS_OT, 1, 2 }, { BMS_AL_SOC_LOW, 13, 14 }, { BMS_AL_SOC_HIGH, 15, 16 },
		{ BMS_AL_SENSOR, 25, 26 }, { BMS_AL_MOS_FAULT, 20, 20 }, { BMS_AL_HW_FAULT, 25, 26 },
		{ BMS_AL_COMM, 0, 0 }, { BMS_AL_PROTECTION, 25, 25 }, { BMS_AL_OTHER, 25, 26 },
	};
	CHECK_EQ_INT(sizeof(m) / sizeof(m[0]), BMS_AL_COUNT); /* every alarm is mapped */
	uint32_t all = 0;
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		CHECK_EQ_INT(ss_evt1(m[i].alarm, m[i].alarm), 1u << m[i].alarm_bit);
		CHECK_EQ_INT(ss_evt1(m[i].alarm, 0), 1u << m[i].alarm_bit);
		CHECK_EQ_INT(ss_evt1(0, m[i].alarm), 1u << m[i].warn_bit);
		all |= m[i].alarm;
	}
	CHECK_EQ_INT(ss_evt1(0, 0), 0);
	CHECK_EQ_INT(ss_evt1(all, all), (1u << 0) | (1u << 1) | (1u << 3) | (1u << 5) | (1u << 7) | (1u << 9) |
						(1u << 11) | (1u << 13) | (1u << 15) | (1u << 17) | (1u << 18) |
						(1u << 20) | (1u << 25));
	CHECK_EQ_INT(ss_evt1(0, all), (1u << 0) | (1u << 2) | (1u << 4) | (1u << 6) | (1u << 8) | (1u << 10) |
					      (1u << 12) | (1u << 14) | (1u << 16) | (1u << 17) | (1u << 19) |
					      (1u << 20) | (1u << 25) | (1u << 26));
	/* a warning and a protection of the same kind: the alarm bit only */
	CHECK_EQ_INT(ss_evt1(BMS_AL_CELL_OV, BMS_AL_PACK_OV), (1u << 9) | (1u << 10));
	CHECK_EQ_INT(ss_evt1(BMS_AL_CELL_OV, BMS_AL_CELL_OV | BMS_AL_CHG_UT), (1u << 9) | (1u << 4));
	CHECK_EQ_INT(ss_evt1(1u << BMS_AL_COUNT, 1u << BMS_AL_COUNT), 0); /* bits beyond the set mean nothing */
}

int main(void)
{
	test_tables();
	if (!fx1.n || !fx802.n || !fx803.n)
		return check_report(); /* no fixtures: failed above */
	test_no_data();
	test_common();
	test_known_pack();
	test_states();
	test_bank();
	test_series();
	test_big_bank();
	test_data_ranges();
	test_evt1();
	return check_report();
}
