/* SPDX-License-Identifier: MIT */
/* gateway/web/plainreq.h - a plain HTTP request sent to the HTTPS port:
 * its head read (the request line and the header fields, RFC 9112) and
 * its answer, a redirect to the same address over HTTPS or the refusal
 * the gate would give (door.c sends it).  Pure: bytes and the names the
 * page answers to in, the answer's text out. */
#ifndef GATEWAY_WEB_PLAINREQ_H
#define GATEWAY_WEB_PLAINREQ_H

#include <stdbool.h>
#include <stddef.h>

#include "hosts.h"

#define GW_PLAIN_HEAD_MAX 8192          /* bytes of a head read at most */
#define GW_PLAIN_HOST_MAX 300           /* a Host header longer is no name of this gateway */
/* room for any answer: the Location holds the target, the body it again */
#define GW_PLAIN_ANSWER_MAX (2 * GW_PLAIN_HEAD_MAX + 1024)

/* A request's head, pointing into the bytes read. */
struct gw_plain_head {
	const char *method, *target, *host; /* host NULL: no Host field */
	size_t method_len, target_len, host_len;
	int hosts;                      /* Host fields */
	int minor;                      /* HTTP/1.minor */
	bool line_done;                 /* the request line is whole */
	size_t end;                     /* bytes of the head, its empty line's too */
	const char *bad;                /* NULL, or why it is not HTTP/1.x */
};

/* The head in buf[0, len): 0 while it is not whole and nothing is wrong
 * so far (more bytes are needed), 1 when it is whole or malformed (h->bad
 * says which). */
int gw_plain_parse(const char *buf, size_t len, struct gw_plain_head *h);

/* The answer to h (whole: gw_plain_parse() gave 1; else the head did not
 * fit in GW_PLAIN_HEAD_MAX bytes): a request whose Host is a name of
 * this gateway (hosts, gw_hosts_ok()) and whose target is a path gets
 * 301 Moved Permanently (GET and HEAD) or 308 Permanent Redirect (any
 * other method: a 301 may turn a POST into a GET, a 308 keeps it) to
 * https://HOST/PATH?QUERY, HOST with its port, or :80 when it gave none
 * (the port the client reached, which speaks TLS); a malformed head or
 * Host, none, two, a target that is no path: 400; a Host that is no name
 * of this gateway: 421 (the gate's answer); a request line or head that
 * does not fit: 414, 431.  Every answer closes the connection and may
 * not be stored (a server that goes back to plain HTTP is not
 * redirected still).  date: the Date field's value (NULL: none).  The
 * answer's text into out (cap >= GW_PLAIN_ANSWER_MAX bytes), its length in
 * *len, Host shown (gw_hosts_shown()) in shown[80] when refused 421;
 * returns the status. */
int gw_plain_answer(const struct gw_plain_head *h, bool whole, const struct gw_hosts *hosts, const char *date,
		    char *out, size_t cap, size_t *len, char shown[80]);

#endif
