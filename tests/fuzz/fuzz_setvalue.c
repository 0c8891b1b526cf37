/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_setvalue.c - libFuzzer target: the one parser of a
 * settings write's value (bms/base/setvalue.c), as an MQTT payload, a
 * JSON string, number or boolean brings it, then its raw form on every
 * writing family's field (bms_wfield_raw()).
 *
 * Input: byte 0 the key (% BMS_W_COUNT); byte 1 the form (% 3: 0 text,
 * the rest of the input; 1 a JSON number, the next 8 bytes a double, any
 * pattern; 2 a JSON boolean, the next byte's bit 0).
 * Invariants: no crash, no read past the text; a text taken for a number
 * key is a decimal (a '-' at most first, digits, at most one '.' between
 * digits: never hex, an exponent, '+', a blank, inf or nan) and its value
 * finite; a switch's value is 0 or 1 and a number key never takes a
 * boolean; the value's shortest decimal reads back as the same value; a
 * raw value taken is within the field's range and is the value times the
 * field's scale, a whole number of steps (never rounded to one). */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "fuzzin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

static const struct bms_driver *const writers[] = { &bms_jbd_driver, &bms_daly_driver, &bms_jk_pb_driver,
						    &bms_jk_ble_driver, &bms_daly_modbus_driver };

static bool is_decimal(const uint8_t *t, size_t n)
{
	size_t i = n && t[0] == '-';
	bool point = false, digit = false;
	for (; i < n; i++) {
		if (t[i] == '.' && !point && digit && i + 1 < n) {
			point = true;
			continue;
		}
		if (t[i] < '0' || t[i] > '9')
			return false;
		digit = true;
	}
	return digit;
}

static void raw_forms(enum bms_wkey k, double v)
{
	char why[320];
	for (size_t d = 0; d < sizeof(writers) / sizeof(writers[0]); d++) {
		const struct bms_wfield *f = &writers[d]->writer->field[k];
		int64_t raw = 0;
		if (!f->mul || bms_wfield_raw(f, v, &raw, why, sizeof(why)) < 0)
			continue;
		REQUIRE(raw >= f->lo && raw <= f->hi);
		double x = v * f->mul;
		REQUIRE(fabs(x - (double)(raw - f->add)) <= 1e-6 * (fabs(x) > 1 ? fabs(x) : 1));
		/* on the step by its digits: the same raw from the value read back */
		int64_t again = 0;
		REQUIRE(bms_wfield_raw(f, bms_wfield_value(f, raw), &again, why, sizeof(why)) == 0 && again == raw);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	enum bms_wkey k = (enum bms_wkey)(fz_u8(&in) % BMS_W_COUNT);
	unsigned form = fz_u8(&in) % 3;
	char why[320];
	double v = NAN;
	int rc;
	if (form == 0) {
		/* the text, not NUL-terminated: a copy of exactly its bytes */
		uint8_t *t = malloc(in.n ? in.n : 1);
		if (!t)
			return 0;
		memcpy(t, in.p, in.n);
		rc = bms_wvalue_text(k, (const char *)t, in.n, &v, why, sizeof(why));
		if (rc == 0 && !bms_wkey_switch(k))
			REQUIRE(is_decimal(t, in.n));
		free(t);
	} else if (form == 1) {
		uint64_t bits = fz_u32(&in) | (uint64_t)fz_u32(&in) << 32;
		double x;
		memcpy(&x, &bits, sizeof(x));
		rc = bms_wvalue_number(k, x, &v, why, sizeof(why));
		if (rc == 0)
			REQUIRE(v == x);
	} else {
		rc = bms_wvalue_bool(k, fz_u8(&in) & 1, &v, why, sizeof(why));
		REQUIRE(rc == 0 ? bms_wkey_switch(k) : !bms_wkey_switch(k));
	}
	if (rc != 0) {
		REQUIRE(why[0] != '\0');
		return 0;
	}
	REQUIRE(isfinite(v));
	if (bms_wkey_switch(k))
		REQUIRE(v == 0 || v == 1);
	uint64_t digits;
	int e;
	REQUIRE(bms_wvalue_exact(v, &digits, &e) == 0);
	char s[64];
	bms_wvalue_str(v, s, sizeof(s));
	REQUIRE(strtod(s, NULL) == v);
	raw_forms(k, v);
	return 0;
}
