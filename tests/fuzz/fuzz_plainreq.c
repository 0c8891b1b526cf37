/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_plainreq.c - the bytes a client sends in plain HTTP to
 * the HTTPS port (gateway/web/plainreq.c): the input's first line is
 * [http] allowed_hosts, the rest what the client sent.  Invariants: no
 * crash, no read past the bytes; no prefix of a well-formed head is judged
 * whole or bad; every answer's head is lines of printable text ending in
 * CRLF (no header a client could smuggle in), with Connection: close and
 * a Content-Length that is its body's (HEAD aside); a redirect goes only
 * to https:// and the Host the client gave, which gw_hosts_ok() answers
 * (without a list: only an address literal or localhost), followed by the
 * target as sent, and only for a target that is a path. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/web/plainreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char out[GW_PLAIN_ANSWER_MAX];

/* The answer's head: text lines, CRLF each, Connection: close; the length
 * of its body. */
static void check_head(size_t len, bool head_only)
{
	const char *end = strstr(out, "\r\n\r\n");
	if (!end || strncmp(out, "HTTP/1.1 ", 9) != 0)
		abort();
	for (const char *p = out; p < end; p++)
		if ((*p < ' ' || *p > '~') && !(p[0] == '\r' && p[1] == '\n') && !(p[0] == '\n' && p[-1] == '\r'))
			abort();
	if (!strstr(out, "\r\nConnection: close\r\n") || !strstr(out, "\r\nCache-Control: no-store\r\n"))
		abort();
	const char *cl = strstr(out, "\r\nContent-Length: ");
	if (!cl || cl > end)
		abort();
	size_t blen = len - (size_t)(end + 4 - out);
	if (!head_only && strtoul(cl + 18, NULL, 10) != blen)
		abort();
}

/* A redirect's Location: https://, the Host given (judged good by names),
 * with :80 when it had no port, then the target. */
static void check_location(const struct gw_plain_head *h, const struct gw_hosts *names)
{
	char host[GW_PLAIN_HOST_MAX + 1], want[GW_PLAIN_ANSWER_MAX];
	if (!h->host || h->host_len >= GW_PLAIN_HOST_MAX || !h->target || h->target[0] != '/')
		abort();
	snprintf(host, sizeof(host), "%.*s", (int)h->host_len, h->host);
	if (!gw_hosts_ok(names, host) || h->hosts != 1)
		abort();
	const char *loc = strstr(out, "\r\nLocation: https://");
	if (!loc)
		abort();
	loc += 20;
	size_t hl = strlen(host);
	if (strncmp(loc, host, hl > 0 && host[hl - 1] == ':' ? hl - 1 : hl) != 0)
		abort();
	snprintf(want, sizeof(want), "%.*s\r\n", (int)h->target_len, h->target);
	if (!strstr(loc, want))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t ll = nl ? (size_t)(nl - data) : 0;
	char list[512];
	snprintf(list, sizeof(list), "%.*s", (int)(ll < sizeof(list) ? ll : sizeof(list) - 1), (const char *)data);
	const char *req = nl ? (const char *)nl + 1 : (const char *)data;
	size_t n = nl ? size - ll - 1 : size;
	if (n > GW_PLAIN_HEAD_MAX)
		n = GW_PLAIN_HEAD_MAX;
	/* the bytes alone, in a buffer of their own: a read past them is ASan's */
	char *buf = malloc(n ? n : 1);
	if (!buf)
		return 0;
	memcpy(buf, req, n);
	static struct gw_hosts names, none;
	gw_hosts_clear(&names);
	gw_hosts_clear(&none);
	gw_hosts_add_list(&names, list);
	struct gw_plain_head h, p;
	int r = gw_plain_parse(buf, n, &h);
	if (r == 1 && !h.bad) {
		for (size_t k = 0; k < h.end; k += 1 + k / 8)
			if (gw_plain_parse(buf, k, &p) != 0)
				abort();
	}
	if (r == 1 || n == GW_PLAIN_HEAD_MAX) {
		const struct gw_hosts *sets[2] = { &names, &none };
		for (int i = 0; i < 2; i++) {
			size_t len = 0;
			char shown[80];
			int st = gw_plain_answer(&h, r == 1, sets[i], "Tue, 03 Jun 2025 10:00:00 GMT", out, sizeof(out), &len,
						 shown);
			if (len != strlen(out) || len + 1 >= sizeof(out))
				abort();
			bool head_only = r == 1 && !h.bad && h.method_len == 4 && memcmp(h.method, "HEAD", 4) == 0;
			check_head(len, head_only);
			if (st == 301 || st == 308)
				check_location(&h, sets[i]);
			else if (strstr(out, "\r\nLocation:"))
				abort();
		}
	}
	free(buf);
	return 0;
}
