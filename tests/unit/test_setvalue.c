/* SPDX-License-Identifier: MIT */
/* tests/unit/test_setvalue.c - the one parser of a settings write's value
 * (bms/base/setvalue.c: MQTT payloads, JSON numbers, booleans and strings)
 * and the step decided on the digits written (bms_wfield_raw()).
 *
 * Taken: decimals ("3.55", "280", "-1.5", "3.600", "0.003"); the switch's
 * ON / OFF / true / false / 1 / 0 in any case.  Refused: what strtod()
 * reads besides ("0x3.8p0" = 3.5, "0X64" = 100, "1e2", "inf", "nan",
 * "+3.6", " 3.6", "3.6 ", ".5", "3.", "3..6", "1,5", a NUL inside), more
 * than 15 significant digits, a word for a number key, a number but 1 / 0
 * for the switch.  Exact: jk-pb's 9999.9996 Ah (off its 1 mAh step) and
 * 40.0005 A refused, never rounded (the tolerance of 1e-6 x the value
 * let 9999.9996 through as 10000 Ah); 9999.999 Ah, 0.001 V, 3.6 V, jbd's
 * 280.05 Ah (10 mAh) and its negative discharge scale taken exactly.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

static int text(enum bms_wkey k, const char *t, double *v)
{
	char why[320];
	why[0] = '\0';
	int rc = bms_wvalue_text(k, t, strlen(t), v, why, sizeof(why));
	CHECK(rc == 0 || why[0]); /* a refusal says why */
	return rc;
}

static void decimals(void)
{
	static const struct {
		const char *t;
		double v;
	} good[] = { { "3.55", 3.55 }, { "280", 280 }, { "-1.5", -1.5 }, { "3.600", 3.6 }, { "0.003", 0.003 },
		     { "0", 0 }, { "007.50", 7.5 }, { "123456789012345", 123456789012345.0 },
		     { "1.23456789012345", 1.23456789012345 }, { "9999.9996", 9999.9996 }, { "3.0000", 3 } };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		double v = -99;
		CHECK_EQ_INT(text(BMS_W_CELL_OVP_V, good[i].t, &v), 0);
		CHECK(v == good[i].v); /* the nearest double, bit for bit */
	}
	static const char *const bad[] = { "0x3.8p0", "0X64", "0x64", "1e2", "3.6e0", "3.6E0", "inf", "-inf",
					   "nan", "NaN", "infinity", "+3.6", " 3.6", "3.6 ", "\t3", ".5", "3.",
					   "3..6", "1,5", "", "-", "--1", "3.6V", "ON", "true", "1234567890123456",
					   "0.1234567890123456", "1.0000000000000001", "12345678901234567890123" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		double v = -99;
		int rc = text(BMS_W_CAPACITY_AH, bad[i], &v);
		if (rc == 0)
			fprintf(stderr, "  taken: \"%s\" as %g\n", bad[i], v);
		CHECK_EQ_INT(rc, -1);
		CHECK(v == -99); /* nothing taken */
	}
	/* a NUL inside is no digit */
	double v;
	char why[200];
	CHECK_EQ_INT(bms_wvalue_text(BMS_W_CELL_OVP_V, "3.6\0" "5", 5, &v, why, sizeof(why)), -1);
	CHECK_EQ_INT(bms_wvalue_text(BMS_W_CELL_OVP_V, "3.65", 3, &v, why, sizeof(why)), 0); /* len, not NUL */
	CHECK(v == 3.6);
	CHECK(strstr(why, "decimal") != NULL || why[0] == '\0');
}

static void switches(void)
{
	static const struct {
		const char *t;
		double v;
	} good[] = { { "ON", 1 }, { "OFF", 0 }, { "on", 1 }, { "Off", 0 }, { "true", 1 }, { "FALSE", 0 },
		     { "1", 1 }, { "0", 0 } };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		double v = -99;
		CHECK_EQ_INT(text(BMS_W_BALANCER, good[i].t, &v), 0);
		CHECK(v == good[i].v);
	}
	static const char *const bad[] = { "2", "yes", "ONN", "O", "1.0", "", " ON", "0x1", "-1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		double v = -99;
		CHECK_EQ_INT(text(BMS_W_BALANCER, bad[i], &v), -1);
	}
	CHECK(bms_wkey_switch(BMS_W_BALANCER) && !bms_wkey_switch(BMS_W_CAPACITY_AH) && !bms_wkey_switch(BMS_W_SOC));
	/* JSON: numbers and booleans */
	double v = -99;
	char why[200];
	CHECK_EQ_INT(bms_wvalue_bool(BMS_W_BALANCER, true, &v, why, sizeof(why)), 0);
	CHECK(v == 1);
	CHECK_EQ_INT(bms_wvalue_bool(BMS_W_CAPACITY_AH, true, &v, why, sizeof(why)), -1);
	CHECK(strstr(why, "capacity_ah takes a number") != NULL);
	CHECK_EQ_INT(bms_wvalue_bool(BMS_W_CHARGE_OCP_A, false, &v, why, sizeof(why)), -1);
	CHECK_EQ_INT(bms_wvalue_number(BMS_W_BALANCER, 0, &v, why, sizeof(why)), 0);
	CHECK_EQ_INT(bms_wvalue_number(BMS_W_BALANCER, 2, &v, why, sizeof(why)), -1);
	CHECK_EQ_INT(bms_wvalue_number(BMS_W_BALANCER, 0.5, &v, why, sizeof(why)), -1);
	CHECK_EQ_INT(bms_wvalue_number(BMS_W_CAPACITY_AH, 280.5, &v, why, sizeof(why)), 0);
	CHECK(v == 280.5);
	CHECK_EQ_INT(bms_wvalue_number(BMS_W_CAPACITY_AH, INFINITY, &v, why, sizeof(why)), -1);
	CHECK_EQ_INT(bms_wvalue_number(BMS_W_CAPACITY_AH, NAN, &v, why, sizeof(why)), -1);
}

static void shortest(void)
{
	uint64_t d;
	int e;
	CHECK_EQ_INT(bms_wvalue_exact(3.6, &d, &e), 0);
	CHECK(d == 36 && e == -1);
	CHECK_EQ_INT(bms_wvalue_exact(9999.9996, &d, &e), 0);
	CHECK(d == 99999996 && e == -4);
	CHECK_EQ_INT(bms_wvalue_exact(280, &d, &e), 0);
	CHECK(d == 28 && e == 1);
	CHECK_EQ_INT(bms_wvalue_exact(0, &d, &e), 0);
	CHECK(d == 0 && e == 0);
	CHECK_EQ_INT(bms_wvalue_exact(0.1 + 0.2, &d, &e), 0); /* 0.30000000000000004: 17 digits */
	CHECK(d == 30000000000000004ULL && e == -17);
	CHECK_EQ_INT(bms_wvalue_exact(INFINITY, &d, &e), -1);
	char s[40];
	bms_wvalue_str(9999.9996, s, sizeof(s));
	CHECK_STR(s, "9999.9996");
	bms_wvalue_str(0.001, s, sizeof(s));
	CHECK_STR(s, "0.001");
	bms_wvalue_str(-150, s, sizeof(s));
	CHECK_STR(s, "-150");
	bms_wvalue_str(3.6, s, sizeof(s));
	CHECK_STR(s, "3.6");
	bms_wvalue_str(20000, s, sizeof(s));
	CHECK_STR(s, "20000");
	/* far from any setting: still the shortest digits, that read back */
	bms_wvalue_str(4.5e-300, s, sizeof(s));
	CHECK_STR(s, "4.5e-300");
	bms_wvalue_str(1e300, s, sizeof(s));
	CHECK_STR(s, "1e300");
	bms_wvalue_str(4.4e-317, s, sizeof(s)); /* subnormal */
	CHECK(strtod(s, NULL) == 4.4e-317);
}

/* A value off the protocol's step is refused on its digits, whatever its size. */
static void exact_steps(void)
{
	const struct bms_wfield *pb = bms_jk_pb_driver.writer->field, *jbd = bms_jbd_driver.writer->field;
	char why[200];
	int64_t raw = -1;
	CHECK_EQ_INT(bms_wfield_raw(&pb[BMS_W_CAPACITY_AH], 9999.9996, &raw, why, sizeof(why)), -1);
	CHECK(raw == -1);
	CHECK_STR(why, "9999.9996 is not a multiple of the protocol's step 0.001");
	CHECK_EQ_INT(bms_wfield_raw(&pb[BMS_W_CAPACITY_AH], 19999.9999, &raw, why, sizeof(why)), -1);
	CHECK_EQ_INT(bms_wfield_raw(&pb[BMS_W_CAPACITY_AH], 9999.999, &raw, why, sizeof(why)), 0);
	CHECK(raw == 9999999);
	CHECK_EQ_INT(bms_wfield_raw(&pb[BMS_W_CAPACITY_AH], 280, &raw, why, sizeof(why)), 0);
	CHECK(raw == 280000);
	CHECK_EQ_INT(bms_wfield_raw(&pb[BMS_W_CHARGE_OCP_A], 40.0005, &raw, why, sizeof(why)), -1);
	CHECK_EQ_INT(bms_wfield_raw(&pb[BMS_W_CHARGE_OCP_A], 40.001, &raw, why, sizeof(why)), 0);
	CHECK(raw == 40001);
	CHECK_EQ_INT(bms_wfield_raw(&pb[BMS_W_CELL_OVP_V], 3.6, &raw, why, sizeof(why)), 0);
	CHECK(raw == 3600);
	CHECK_EQ_INT(bms_wfield_raw(&pb[BMS_W_CELL_OVP_V], 3.6001, &raw, why, sizeof(why)), -1);
	/* jbd: 10 mAh, 10 mA negative */
	CHECK_EQ_INT(bms_wfield_raw(&jbd[BMS_W_CAPACITY_AH], 280.05, &raw, why, sizeof(why)), 0);
	CHECK(raw == 28005);
	CHECK_EQ_INT(bms_wfield_raw(&jbd[BMS_W_CAPACITY_AH], 280.055, &raw, why, sizeof(why)), -1);
	CHECK_EQ_INT(bms_wfield_raw(&jbd[BMS_W_DISCHARGE_OCP_A], 150.01, &raw, why, sizeof(why)), 0);
	CHECK(raw == -15001);
	CHECK_EQ_INT(bms_wfield_raw(&jbd[BMS_W_DISCHARGE_OCP_A], 150.015, &raw, why, sizeof(why)), -1);
	CHECK_EQ_INT(bms_wfield_raw(&jbd[BMS_W_CELL_OVP_V], 0.001, &raw, why, sizeof(why)), 0);
	CHECK(raw == 1);
	/* over the range: named in the shortest digits */
	CHECK_EQ_INT(bms_wfield_raw(&jbd[BMS_W_CAPACITY_AH], 655.36, &raw, why, sizeof(why)), -1);
	CHECK_STR(why, "655.36 is outside the protocol's range 0.01..655.35");
	/* every value a text parses to is judged the same as its digits say */
	double v;
	CHECK_EQ_INT(bms_wvalue_text(BMS_W_CAPACITY_AH, "9999.9996", 9, &v, why, sizeof(why)), 0);
	CHECK_EQ_INT(bms_wfield_raw(&pb[BMS_W_CAPACITY_AH], v, &raw, why, sizeof(why)), -1);
}

int main(void)
{
	decimals();
	switches();
	shortest();
	exact_steps();
	return check_report();
}
