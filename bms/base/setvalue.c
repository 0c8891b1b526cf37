/* SPDX-License-Identifier: MIT */
/* bms/base/setvalue.c - a settings write's value as it is given (an MQTT
 * payload, a JSON number, boolean or string) and as an exact decimal
 * (bms/setwrite.h): the one parser of every way a change comes.
 *
 * A number is a decimal written as people and JSON write it, and only
 * that: strtod()'s hex floats ("0x3.8p0" is 3.5), hex integers, inf, nan,
 * exponents, a leading '+' or blanks are refused, never read.  Its value
 * is the double nearest the decimal; a double is taken back to the
 * shortest decimal that reads as it, so that "off the protocol's step" is
 * decided on the digits that were written (9999.9996 Ah is not a whole
 * number of mAh), never within a tolerance that grows with the value. */
#include "../setwrite.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIG_MAX 15                /* significant digits a double keeps of any decimal */

bool bms_wkey_switch(enum bms_wkey k)
{
	return k == BMS_W_BALANCER || k == BMS_W_HEATER;
}

static const double pow10_tab[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,
				    1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };

static bool digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* t[0..len) is the word w, in any case (ASCII). */
static bool word_is(const char *t, size_t len, const char *w)
{
	if (len != strlen(w))
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = t[i] >= 'A' && t[i] <= 'Z' ? (char)(t[i] - 'A' + 'a') : t[i];
		if (ch != w[i])
			return false;
	}
	return true;
}

/* "-?D+(.D+)?" of at most SIG_MAX significant digits into *v (the double
 * nearest it: d and 10^k are exact, and so is their quotient's rounding):
 * 0, or -1. */
static int decimal(const char *t, size_t len, double *v)
{
	bool neg = len > 0 && t[0] == '-';
	size_t i = neg, int0 = i, frac0 = 0, nfrac = 0;
	while (i < len && digit(t[i]))
		i++;
	size_t nint = i - int0;
	if (i < len && t[i] == '.') {
		frac0 = ++i;
		while (i < len && digit(t[i]))
			i++;
		nfrac = i - frac0;
		if (nfrac == 0)
			return -1; /* "3." */
	}
	if (i != len || nint == 0)
		return -1; /* another character, or no digit before the point */
	while (nfrac > 0 && t[frac0 + nfrac - 1] == '0')
		nfrac--; /* 3.600: the zeros say nothing of the value */
	if (nfrac > SIG_MAX)
		return -1;
	uint64_t d = 0;
	int sig = 0;
	for (size_t j = int0; j < int0 + nint + (nfrac ? 1 + nfrac : 0); j++) {
		if (t[j] == '.' || (sig == 0 && t[j] == '0'))
			continue;
		if (++sig > SIG_MAX)
			return -1;
		d = d * 10 + (uint64_t)(t[j] - '0');
	}
	*v = (double)d / pow10_tab[nfrac];
	if (neg)
		*v = -*v;
	return 0;
}

int bms_wvalue_text(enum bms_wkey k, const char *t, size_t len, double *v, char *why, size_t wl)
{
	const char *name = bms_wkey_name(k);
	if (bms_wkey_switch(k)) {
		static const struct {
			const char *w;
			int v;
		} words[] = { { "on", 1 }, { "off", 0 }, { "true", 1 }, { "false", 0 }, { "1", 1 }, { "0", 0 } };
		for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (word_is(t, len, words[i].w)) {
				*v = words[i].v;
				return 0;
			}
		snprintf(why, wl, "%s is a switch: ON or OFF, true or false, 1 or 0", name ? name : "the key");
		return -1;
	}
	if (decimal(t, len, v) < 0) {
		snprintf(why, wl, "%s takes a decimal number in %s, such as 3.55 (digits, at most one '.', a leading "
			 "'-', at most %d significant digits; no hex, exponent, '+', blank, inf or nan)",
			 name ? name : "the key", name && bms_wkey_unit(k)[0] ? bms_wkey_unit(k) : "its unit", SIG_MAX);
		return -1;
	}
	return 0;
}

int bms_wvalue_number(enum bms_wkey k, double x, double *v, char *why, size_t wl)
{
	const char *name = bms_wkey_name(k);
	if (!isfinite(x) || (bms_wkey_switch(k) && x != 0 && x != 1)) {
		snprintf(why, wl, bms_wkey_switch(k) ? "%s is a switch: true or false, 1 or 0, \"ON\" or \"OFF\"" :
			 "%s: not a number", name ? name : "the key");
		return -1;
	}
	*v = x;
	return 0;
}

int bms_wvalue_bool(enum bms_wkey k, bool b, double *v, char *why, size_t wl)
{
	if (!bms_wkey_switch(k)) {
		snprintf(why, wl, "%s takes a number in %s, not true or false", bms_wkey_name(k) ? bms_wkey_name(k) : "the key",
			 bms_wkey_unit(k) && bms_wkey_unit(k)[0] ? bms_wkey_unit(k) : "its unit");
		return -1;
	}
	*v = b ? 1 : 0;
	return 0;
}

int bms_wvalue_exact(double v, uint64_t *digits, int *exp10)
{
	if (!isfinite(v))
		return -1;
	char buf[40];
	for (int p = 1; p <= 17; p++) {
		snprintf(buf, sizeof(buf), "%.*e", p - 1, fabs(v));
		if (strtod(buf, NULL) == fabs(v) || p == 17)
			break;
	}
	/* d[.ddd]e[+-]xx, in whatever the locale's point is */
	uint64_t d = 0;
	int nd = 0;
	const char *s = buf;
	for (; *s && *s != 'e'; s++)
		if (*s >= '0' && *s <= '9') {
			d = d * 10 + (uint64_t)(*s - '0');
			nd++;
		}
	if (*s != 'e' || nd == 0)
		return -1;
	int e = atoi(s + 1) - (nd - 1);
	while (d && d % 10 == 0) {
		d /= 10;
		e++;
	}
	*digits = d;
	*exp10 = d ? e : 0;
	return 0;
}

void bms_wvalue_str(double v, char *out, size_t cap)
{
	uint64_t d;
	int e;
	if (bms_wvalue_exact(v, &d, &e) < 0) {
		snprintf(out, cap, "%g", v);
		return;
	}
	char digs[24];
	snprintf(digs, sizeof(digs), "%llu", (unsigned long long)d);
	int nd = (int)strlen(digs);
	const char *sign = v < 0 ? "-" : "";
	if (e >= 0 && nd + e <= 21)
		snprintf(out, cap, "%s%s%.*s", sign, digs, e, "000000000000000000000");
	else if (e < 0 && -e < nd)
		snprintf(out, cap, "%s%.*s.%s", sign, nd + e, digs, digs + nd + e);
	else if (e < 0 && -e - nd <= 20)
		snprintf(out, cap, "%s0.%.*s%s", sign, -e - nd, "00000000000000000000", digs);
	else if (nd > 1) /* far from any setting: its digits with an exponent */
		snprintf(out, cap, "%s%c.%se%d", sign, digs[0], digs + 1, e + nd - 1);
	else
		snprintf(out, cap, "%s%se%d", sign, digs, e);
}
