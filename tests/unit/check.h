/* SPDX-License-Identifier: MIT */
/* tests/unit/check.h - a tiny assertion helper; every test binary ends with
 * the line "N passed, N failed" and exits non-zero on a failure. */
#ifndef TESTS_CHECK_H
#define TESTS_CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond) do { \
	if (cond) check_passed++; \
	else { check_failed++; fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define CHECK_EQ_INT(a, b) do { \
	long long check_a_ = (long long)(a), check_b_ = (long long)(b); \
	if (check_a_ == check_b_) check_passed++; \
	else { check_failed++; fprintf(stderr, "FAIL %s:%d: %s == %s (%lld != %lld)\n", \
		__FILE__, __LINE__, #a, #b, check_a_, check_b_); } \
} while (0)

#define CHECK_NEAR(a, b, eps) do { \
	double check_a_ = (double)(a), check_b_ = (double)(b); \
	if (fabs(check_a_ - check_b_) <= (eps)) check_passed++; \
	else { check_failed++; fprintf(stderr, "FAIL %s:%d: %s ~ %s (%g != %g)\n", \
		__FILE__, __LINE__, #a, #b, check_a_, check_b_); } \
} while (0)

#define CHECK_STR(a, b) do { \
	const char *check_a_ = (a), *check_b_ = (b); \
	if (check_a_ && check_b_ && strcmp(check_a_, check_b_) == 0) check_passed++; \
	else { check_failed++; fprintf(stderr, "FAIL %s:%d: %s == \"%s\" (got \"%s\")\n", \
		__FILE__, __LINE__, #a, check_b_ ? check_b_ : "(null)", check_a_ ? check_a_ : "(null)"); } \
} while (0)

static inline int check_report(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}

/* Parse a hex string (spaces allowed) into buf; returns length or -1. */
static inline int check_hex(const char *hex, unsigned char *buf, int cap)
{
	int n = 0, hi = -1;
	for (const char *p = hex; *p; p++) {
		int v;
		if (*p >= '0' && *p <= '9') v = *p - '0';
		else if (*p >= 'a' && *p <= 'f') v = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F') v = *p - 'A' + 10;
		else continue;
		if (hi < 0) hi = v;
		else {
			if (n >= cap) return -1;
			buf[n++] = (unsigned char)(hi << 4 | v);
			hi = -1;
		}
	}
	return hi < 0 ? n : -1;
}

#endif
