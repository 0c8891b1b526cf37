/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_influx_line.c - libFuzzer target: the line protocol
 * writer (gateway/influx/line.c) on arbitrary names and numbers.  The
 * input is split at its first two NUL bytes into a site, a unit name and a
 * field key, the rest read as doubles.  Whatever they are, a line written
 * is one line (a single newline, at its end), its tags and keys hold no
 * unescaped separator (every comma, equals sign and space in a name
 * follows a backslash; the first unescaped space ends the tags, the
 * second the fields), no control byte, every value t, f or a plain
 * decimal number (never NaN, inf or an exponent), and
 * reading the escapes back gives the names with their unsendable bytes
 * as '_'. */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/influx/line.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

/* The escape of s read back matches s with its unsendable bytes as '_'. */
static void check_escape(const char *s, bool measurement)
{
	char out[512], back[256];
	size_t n = ix_escape(out, sizeof(out), s, measurement);
	if (!n) {
		REQUIRE(!s[0] || strlen(s) * 2 + 1 > sizeof(out) || strlen(s) >= 255);
		return;
	}
	size_t b = 0;
	for (size_t i = 0; i < n; i++) {
		char c = out[i];
		REQUIRE((unsigned char)c >= 0x20 && c != 0x7F);
		if (c == '\\') {
			i++;
			REQUIRE(i < n && (out[i] == ',' || out[i] == ' ' || (out[i] == '=' && !measurement)));
			c = out[i];
		} else
			REQUIRE(c != ',' && c != ' ' && (c != '=' || measurement));
		back[b++] = c;
	}
	back[b] = '\0';
	REQUIRE(b == strlen(s));
	for (size_t i = 0; i < b; i++) {
		unsigned char c = (unsigned char)s[i];
		REQUIRE(back[i] == (c < 0x20 || c == 0x7F || c == '\\' ? '_' : (char)c));
	}
}

/* A value as the writer writes it: t, f, or a plain decimal number (an
 * optional minus, digits, an optional point and digits): never NaN, inf
 * nor an exponent. */
static void check_value(const char *v, size_t n)
{
	if (n == 1 && (v[0] == 't' || v[0] == 'f'))
		return;
	size_t i = v[0] == '-' ? 1 : 0, digits = 0;
	while (i < n && isdigit((unsigned char)v[i]))
		i++, digits++;
	REQUIRE(digits > 0);
	if (i < n && v[i] == '.') {
		i++;
		REQUIRE(i < n);
		while (i < n && isdigit((unsigned char)v[i]))
			i++;
	}
	REQUIRE(i == n);
}

/* A line's structure: MEASUREMENT[,TAGS] FIELDS TIME\n, spaces escaped
 * but the two that separate; each field KEY=VALUE (the value after the
 * key's first unescaped equals sign). */
static void check_line(const char *buf, size_t n)
{
	REQUIRE(n > 2 && buf[n - 1] == '\n' && strlen(buf) == n);
	int spaces = 0;
	size_t fstart = 0, fend = 0;
	for (size_t i = 0; i + 1 < n; i++) {
		REQUIRE(buf[i] != '\n' && (unsigned char)buf[i] >= 0x20);
		if (buf[i] == '\\') {
			i++;
			continue;
		}
		if (buf[i] == ' ' && ++spaces == 1)
			fstart = i + 1;
		else if (buf[i] == ' ')
			fend = i;
	}
	REQUIRE(spaces == 2 && fend > fstart);
	const char *val = NULL;
	for (size_t i = fstart; i <= fend; i++) {
		if (i < fend && buf[i] == '\\') {
			i++;
			continue;
		}
		if (i < fend && buf[i] == '=' && !val)
			val = buf + i + 1;
		else if (i == fend || buf[i] == ',') {
			REQUIRE(val && val <= buf + i);
			check_value(val, (size_t)(buf + i - val));
			val = NULL;
		}
	}
	for (size_t i = fend + 1; i + 1 < n; i++)
		REQUIRE(isdigit((unsigned char)buf[i]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char names[3][200] = { "", "", "" };
	size_t pos = 0;
	for (int k = 0; k < 3 && pos <= size; k++) {
		size_t j = 0;
		while (pos < size && data[pos] && j + 1 < sizeof(names[k]))
			names[k][j++] = (char)data[pos++];
		names[k][j] = '\0';
		pos++; /* the NUL */
	}
	for (int k = 0; k < 3; k++) {
		check_escape(names[k], false);
		check_escape(names[k], true);
	}
	char buf[IX_LINE_MAX];
	struct ix_line l;
	ix_line_start(&l, buf, sizeof(buf), "bmsgw", names[0], names[1][0] ? names[1] : "u");
	int nums = 0;
	for (; pos + sizeof(double) <= size && nums < 64; pos += sizeof(double), nums++) {
		double v;
		memcpy(&v, data + pos, sizeof(v));
		ix_line_num(&l, names[2][0] ? names[2] : "f", v);
	}
	ix_line_bool(&l, "b", size & 1);
	size_t n = ix_line_end(&l, (long long)size);
	if (n)
		check_line(buf, n);
	return 0;
}
