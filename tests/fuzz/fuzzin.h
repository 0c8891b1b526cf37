/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzzin.h - a fuzz input read field by field.
 *
 * A target that builds a struct from its input reads each member from
 * bytes with these, never copies the bytes over the struct: a bool holding
 * any byte but 0 or 1, an enum outside its values, is undefined behaviour
 * of the harness (UBSan: "load of value 66, which is not a valid value for
 * type 'bool'"), which ends the run and hides what the code under test
 * does.  Numbers are little-endian; a float is any 32-bit pattern (NaN,
 * infinities, subnormals), as a source could give it.  Past the end of the
 * input every read gives 0.  A target whose input is text takes it with
 * fz_text(), one whose input is a stream cut into reads with fz_read(). */
#ifndef TESTS_FUZZ_FUZZIN_H
#define TESTS_FUZZ_FUZZIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct fz_in {
	const uint8_t *p;
	size_t n; /* bytes left */
};

static inline uint8_t fz_u8(struct fz_in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static inline uint16_t fz_u16(struct fz_in *in)
{
	uint16_t lo = fz_u8(in);
	return (uint16_t)(lo | (uint16_t)fz_u8(in) << 8);
}

static inline uint32_t fz_u32(struct fz_in *in)
{
	uint32_t lo = fz_u16(in);
	return lo | (uint32_t)fz_u16(in) << 16;
}

static inline float fz_f32(struct fz_in *in)
{
	uint32_t bits = fz_u32(in);
	float f;
	memcpy(&f, &bits, sizeof(f));
	return f;
}

/* n bytes into dst (zeros past the end of the input) */
static inline void fz_bytes(struct fz_in *in, void *dst, size_t n)
{
	uint8_t *d = dst;
	for (size_t i = 0; i < n; i++)
		d[i] = fz_u8(in);
}

/* The input as a string of its own, NUL-terminated, for a parser of text
 * (free() it; NULL: out of memory). */
static inline char *fz_text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (s) {
		memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

/* A stream's next read(2): one byte says how many bytes it returned
 * (1..64); as many of them as the input still has and room takes are
 * copied to dst.  Returns how many (0: the input has ended). */
static inline size_t fz_read(struct fz_in *in, uint8_t *dst, size_t room)
{
	if (!in->n)
		return 0;
	size_t k = (size_t)(fz_u8(in) % 64) + 1;
	if (k > in->n)
		k = in->n;
	if (k > room)
		k = room;
	memcpy(dst, in->p, k);
	in->p += k;
	in->n -= k;
	return k;
}

#endif
