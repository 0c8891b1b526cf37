/* SPDX-License-Identifier: MIT */
/* gateway/detect/capfile.c - the capture file's reader and record writer (see
 * capfile.h).  The reader goes line by line; every line is one of the
 * magic, a header key (before the first record), a record, a comment or
 * blank; anything else fails the file with its line number. */
#include "capfile.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bms/bms.h"

struct cp {
	struct capfile *cf;
	size_t cap_rec, cap_data;
	bool magic, records;
	char *why;
	size_t whycap;
	unsigned line;
};

static int fail(struct cp *c, const char *what)
{
	snprintf(c->why, c->whycap, "line %u: %s", c->line, what);
	return -1;
}

static bool blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* A header value: the rest of the line, without blanks around, printable. */
static int header_text(struct cp *c, char *dst, const char *p, size_t n)
{
	while (n && blank(*p)) {
		p++;
		n--;
	}
	while (n && blank(p[n - 1]))
		n--;
	if (n == 0 || n >= CAPFILE_TEXT)
		return fail(c, "a header value empty or too long");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7E)
			return fail(c, "a header value with a control character");
	memcpy(dst, p, n);
	dst[n] = '\0';
	return 0;
}

static int header(struct cp *c, const char *p, size_t n)
{
	static const char *const keys[] = { "port ", "baud ", "mode ", "protocol ", "started " };
	char v[CAPFILE_TEXT];
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		size_t kl = strlen(keys[k]);
		if (n <= kl || memcmp(p, keys[k], kl) != 0)
			continue;
		if (c->records)
			return fail(c, "a header line after the first record");
		if (header_text(c, v, p + kl, n - kl) < 0)
			return -1;
		switch (k) {
		case 0: memcpy(c->cf->port, v, sizeof(v)); return 0;
		case 1: {
			char *end;
			long b = strtol(v, &end, 10);
			if (*end || b < 0 || b > 4000000)
				return fail(c, "baud is not 0..4000000");
			c->cf->baud = (int)b;
			return 0;
		}
		case 2:
			if (strcmp(v, "listen") && strcmp(v, "probe"))
				return fail(c, "mode is not listen or probe");
			c->cf->probe = v[0] == 'p';
			return 0;
		case 3: memcpy(c->cf->protocol, v, sizeof(v)); return 0;
		default: memcpy(c->cf->started, v, sizeof(v)); return 0;
		}
	}
	return fail(c, "not a header key, a record or a comment");
}

static int grow(void **p, size_t *cap, size_t want, size_t size)
{
	if (want <= *cap)
		return 0;
	size_t n = *cap ? *cap : 64;
	while (n < want)
		n *= 2;
	void *q = realloc(*p, n * size);
	if (!q)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

/* "T tx|rx HH HH ..." */
static int record(struct cp *c, const char *p, size_t n)
{
	struct capfile *cf = c->cf;
	char num[32];
	size_t i = 0;
	while (i < n && !blank(p[i]))
		i++;
	if (i == 0 || i >= sizeof(num))
		return fail(c, "a record's time is missing or too long");
	memcpy(num, p, i);
	num[i] = '\0';
	char *end;
	double t = strtod(num, &end);
	if (*end || !isfinite(t) || t < 0 || t > 1e9)
		return fail(c, "a record's time is not a number of seconds");
	if (cf->nrec && t < cf->rec[cf->nrec - 1].t)
		return fail(c, "a record's time is before the one of the record before");
	if (n - i < 4 || !blank(p[i]) || (memcmp(p + i + 1, "tx", 2) && memcmp(p + i + 1, "rx", 2)) ||
	    (n - i > 3 && !blank(p[i + 3])))
		return fail(c, "a record is not \"T tx|rx BYTES\"");
	bool sent = p[i + 1] == 't';
	i += 3;
	if (cf->nrec >= CAPFILE_MAX_RECORDS)
		return fail(c, "too many records");
	if (grow((void **)&cf->rec, &c->cap_rec, cf->nrec + 1, sizeof(*cf->rec)) < 0)
		return fail(c, "out of memory");
	size_t off = cf->ndata, len = 0;
	while (i < n) {
		while (i < n && blank(p[i]))
			i++;
		if (i >= n)
			break;
		int hi = bms_hexval((unsigned char)p[i]), lo = i + 1 < n ? bms_hexval((unsigned char)p[i + 1]) : -1;
		if (hi < 0 || lo < 0 || (i + 2 < n && !blank(p[i + 2])))
			return fail(c, "a record's byte is not two hex digits");
		if (len >= CAPFILE_MAX_RECORD || cf->ndata >= CAPFILE_MAX_BYTES)
			return fail(c, "a record too long, or too many bytes in all");
		if (grow((void **)&cf->data, &c->cap_data, cf->ndata + 1, 1) < 0)
			return fail(c, "out of memory");
		cf->data[cf->ndata++] = (uint8_t)(hi << 4 | lo);
		len++;
		i += 2;
	}
	if (len == 0)
		return fail(c, "a record without bytes");
	cf->rec[cf->nrec++] = (struct capfile_rec){ t, sent, off, len };
	c->records = true;
	return 0;
}

static int one_line(struct cp *c, const char *p, size_t n)
{
	if (n && p[n - 1] == '\r')
		n--;
	size_t lead = 0;
	while (lead < n && blank(p[lead]))
		lead++;
	if (lead == n || p[lead] == '#')
		return 0;
	p += lead;
	n -= lead;
	if (!c->magic) {
		size_t m = strlen(CAPFILE_MAGIC);
		while (n > m && blank(p[n - 1]))
			n--;
		if (n != m || memcmp(p, CAPFILE_MAGIC, m) != 0)
			return fail(c, "not a bmsgw capture file (\"" CAPFILE_MAGIC "\" first)");
		c->magic = true;
		return 0;
	}
	if ((*p >= '0' && *p <= '9') || *p == '.')
		return record(c, p, n);
	return header(c, p, n);
}

int capfile_parse(const char *text, size_t len, struct capfile *cf, char *why, size_t cap)
{
	struct cp c = { .cf = cf, .why = why, .whycap = cap };
	memset(cf, 0, sizeof(*cf));
	if (cap)
		why[0] = '\0';
	size_t i = 0;
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (text + i)) : len - i;
		c.line++;
		if (memchr(text + i, '\0', n) || one_line(&c, text + i, n) < 0) {
			if (memchr(text + i, '\0', n))
				fail(&c, "a NUL byte");
			capfile_free(cf);
			return -1;
		}
		i += n + (nl ? 1 : 0);
	}
	if (!c.magic) {
		fail(&c, "empty: not a bmsgw capture file");
		capfile_free(cf);
		return -1;
	}
	if (cf->probe && !cf->protocol[0]) {
		fail(&c, "mode probe without its protocol");
		capfile_free(cf);
		return -1;
	}
	return 0;
}

void capfile_free(struct capfile *cf)
{
	free(cf->rec);
	free(cf->data);
	memset(cf, 0, sizeof(*cf));
}

size_t capfile_line(char *out, size_t cap, double t, bool sent, const uint8_t *p, size_t n)
{
	if (n == 0 || n > CAPFILE_MAX_RECORD || !isfinite(t) || t < 0 || t > 1e9)
		return 0;
	int k = snprintf(out, cap, "%.6f %s", t, sent ? "tx" : "rx");
	if (k < 0 || (size_t)k + 3 * n + 2 > cap)
		return 0;
	size_t len = (size_t)k;
	static const char digits[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		out[len++] = ' ';
		out[len++] = digits[p[i] >> 4];
		out[len++] = digits[p[i] & 15];
	}
	out[len++] = '\n';
	out[len] = '\0';
	return len;
}
