/* SPDX-License-Identifier: MIT */
/* gateway/web/plainreq.c - a plain HTTP request sent to the HTTPS port:
 * its head and its answer (see plainreq.h).
 *
 * The head is read as RFC 9112 says and no looser: empty lines before the
 * request line are skipped (section 2.2), a line ends at LF (its CR
 * before it dropped), the request line is METHOD SP TARGET SP HTTP/1.x
 * with single spaces, a field is NAME: VALUE with no blank before the
 * colon and none at the start of a line (obsolete line folding: 400, as
 * section 5.2 lets a server), and a NUL, a control byte or a CR alone is
 * 400 wherever it is.  What is wrong is said as soon as the bytes show
 * it, before the head ends (binary noise gets its 400 at once).
 *
 * The Host is judged by the gate's rules (hosts.c): two, or an empty one,
 * is 400, one that is no name of this gateway 421, with the gate's words;
 * a request without one is 400 too, even of HTTP/1.0: there is no name to
 * send it to.  Only a Host the page answers to is ever put in a Location,
 * so the answer never sends a browser to another site (no open redirect):
 * such a Host is an address literal, localhost or a name of this gateway,
 * made only of a DNS name's characters, an address's, and a port's digits.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "plainreq.h"

static bool tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int bad(struct gw_plain_head *h, const char *why)
{
	h->bad = why;
	return 1;
}

/* The line from buf[pos] up to len: 1 with its LF's index in *lf when it
 * is whole, 0 while it is not, -1 at a byte no line may have (a NUL or a
 * control byte but HTAB, a CR not before LF; in the request line
 * anything but visible ASCII and SP). */
static int line_at(const char *buf, size_t pos, size_t len, bool reqline, size_t *lf)
{
	for (size_t i = pos; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (c == '\n') {
			*lf = i;
			return 1;
		}
		if (c == '\r') {
			if (i + 1 < len && buf[i + 1] != '\n')
				return -1;
			continue;
		}
		if (reqline ? (c < 0x21 && c != ' ') || c > 0x7e : (c < 0x20 && c != '\t') || c == 0x7f)
			return -1;
	}
	return 0;
}

/* The request line l (n bytes, visible ASCII and SP). */
static int request_line(const char *l, size_t n, struct gw_plain_head *h)
{
	size_t m = 0;
	while (m < n && tchar((unsigned char)l[m]))
		m++;
	size_t t0 = m + 1, t = t0;
	while (t < n && l[t] != ' ')
		t++;
	if (!m || m >= n || l[m] != ' ' || t == t0 || t >= n)
		return bad(h, "the request line is not METHOD TARGET HTTP/1.1, with one space between");
	const char *v = l + t + 1;
	if (n - t - 1 != 8 || memcmp(v, "HTTP/1.", 7) != 0 || v[7] < '0' || v[7] > '9')
		return bad(h, "the request line ends in no HTTP/1.0 or HTTP/1.1");
	h->method = l;
	h->method_len = m;
	h->target = l + t0;
	h->target_len = t - t0;
	h->minor = v[7] - '0';
	return 0;
}

/* The field l (n bytes, no control byte but HTAB). */
static int field(const char *l, size_t n, struct gw_plain_head *h)
{
	size_t c = 0;
	while (c < n && tchar((unsigned char)l[c]))
		c++;
	if (c < n && c == 0 && (l[0] == ' ' || l[0] == '\t'))
		return bad(h, "a header field folded over two lines is refused (RFC 9112 section 5.2)");
	if (!c || c >= n || l[c] != ':')
		return bad(h, "a header field is not NAME: VALUE (no blank before the colon)");
	size_t v0 = c + 1, v1 = n;
	while (v0 < v1 && (l[v0] == ' ' || l[v0] == '\t'))
		v0++;
	while (v1 > v0 && (l[v1 - 1] == ' ' || l[v1 - 1] == '\t'))
		v1--;
	if (c == 4 && strncasecmp(l, "host", 4) == 0 && h->hosts++ == 0) {
		h->host = l + v0;
		h->host_len = v1 - v0;
	}
	return 0;
}

int gw_plain_parse(const char *buf, size_t len, struct gw_plain_head *h)
{
	memset(h, 0, sizeof(*h));
	size_t pos = 0, lf = 0;
	for (;;) { /* empty lines before the request line */
		if (pos < len && buf[pos] == '\n')
			pos++;
		else if (pos + 1 < len && buf[pos] == '\r' && buf[pos + 1] == '\n')
			pos += 2;
		else
			break;
	}
	int r = line_at(buf, pos, len, true, &lf);
	if (r <= 0)
		return r < 0 ? bad(h, "the request line has a byte that is no text (is this HTTP?)") : 0;
	h->line_done = true;
	size_t e = lf > pos && buf[lf - 1] == '\r' ? lf - 1 : lf;
	if (request_line(buf + pos, e - pos, h))
		return 1;
	for (pos = lf + 1;; pos = lf + 1) {
		r = line_at(buf, pos, len, false, &lf);
		if (r <= 0)
			return r < 0 ? bad(h, "a header field has a byte no field may have (a NUL, a control byte, a "
					   "CR alone)") : 0;
		e = lf > pos && buf[lf - 1] == '\r' ? lf - 1 : lf;
		if (e == pos) {
			h->end = lf + 1;
			return 1;
		}
		if (field(buf + pos, e - pos, h))
			return 1;
	}
}

static const char *reason(int status)
{
	switch (status) {
	case 301:
		return "Moved Permanently";
	case 308:
		return "Permanent Redirect";
	case 414:
		return "URI Too Long";
	case 421:
		return "Misdirected Request";
	case 431:
		return "Request Header Fields Too Large";
	default:
		return "Bad Request";
	}
}

/* msg as {"error": msg} (its quotes and backslashes escaped) into out. */
static void json_error(const char *msg, char *out, size_t cap)
{
	size_t o = 0;
	const char *pre = "{\"error\":\"";
	for (; *pre && o + 1 < cap; pre++)
		out[o++] = *pre;
	for (; *msg && o + 5 < cap; msg++) {
		if (*msg == '"' || *msg == '\\')
			out[o++] = '\\';
		out[o++] = *msg;
	}
	if (o + 3 < cap) {
		memcpy(out + o, "\"}", 2);
		o += 2;
	}
	out[o] = '\0';
}

/* Where h goes over HTTPS (h's Host judged good) into loc. */
static void location(const struct gw_plain_head *h, const char *host, char *loc, size_t cap)
{
	const char *colon = host[0] == '[' ? strstr(host, "]:") : strchr(host, ':');
	if (colon && host[0] == '[')
		colon++;
	size_t hl = strlen(host);
	if (colon && !colon[1])
		hl--; /* "name:": a port left empty is the scheme's own */
	snprintf(loc, cap, "https://%.*s%s%.*s", (int)hl, host, colon && colon[1] ? "" : ":80", (int)h->target_len,
		 h->target);
}

/* The status of h's answer and why (into why), or its Location (into loc). */
static int judge(const struct gw_plain_head *h, bool whole, const struct gw_hosts *hosts, char *why, size_t wcap,
		 char *loc, size_t lcap, char shown[80])
{
	char host[GW_PLAIN_HOST_MAX + 1];
	const char *bad_host = NULL;
	if (!whole) {
		snprintf(why, wcap, "the request %s over %d bytes", h->line_done ? "line and its header fields are" :
			 "line is", GW_PLAIN_HEAD_MAX);
		return h->line_done ? 431 : 414;
	}
	if (h->bad || !h->host) {
		snprintf(why, wcap, "%s", h->bad ? h->bad : "a request without a Host header field is refused: there is "
			 "no name to send it on to over HTTPS");
		return 400;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(h->host_len < GW_PLAIN_HOST_MAX ? h->host_len : GW_PLAIN_HOST_MAX),
		 h->host);
	if ((bad_host = gw_hosts_malformed(h->hosts, host, h->minor == 0))) {
		snprintf(why, wcap, "%s", bad_host);
		return 400;
	}
	if (h->host_len >= GW_PLAIN_HOST_MAX || !gw_hosts_ok(hosts, host)) {
		gw_hosts_shown(host, shown, 80);
		snprintf(why, wcap, GW_HOSTS_REFUSED, shown);
		return 421;
	}
	if (h->target[0] != '/') {
		snprintf(why, wcap, "only a path (/...) is sent on to HTTPS, not an absolute URI or *");
		return 400;
	}
	location(h, host, loc, lcap);
	bool get = (h->method_len == 3 && memcmp(h->method, "GET", 3) == 0) ||
		   (h->method_len == 4 && memcmp(h->method, "HEAD", 4) == 0);
	return get ? 301 : 308;
}

int gw_plain_answer(const struct gw_plain_head *h, bool whole, const struct gw_hosts *hosts, const char *date,
		    char *out, size_t cap, size_t *len, char shown[80])
{
	char why[600], loc[GW_PLAIN_HEAD_MAX + GW_PLAIN_HOST_MAX + 16], body[sizeof(loc) + 80];
	shown[0] = loc[0] = '\0';
	int status = judge(h, whole, hosts, why, sizeof(why), loc, sizeof(loc), shown);
	bool redirect = status == 301 || status == 308;
	bool json = !redirect && whole && !h->bad && h->target && h->target_len >= 5 && memcmp(h->target, "/api/", 5) == 0;
	if (redirect)
		snprintf(body, sizeof(body), "This port speaks HTTPS only: the page is at %s\n", loc);
	else if (json)
		json_error(why, body, sizeof(body));
	else
		snprintf(body, sizeof(body), "%s\n", why);
	bool head = whole && !h->bad && h->method_len == 4 && memcmp(h->method, "HEAD", 4) == 0;
	size_t blen = strlen(body);
	int n = snprintf(out, cap,
			 "HTTP/1.1 %d %s\r\n%s%s%s%s%s%sContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n%s",
			 status, reason(status), date ? "Date: " : "", date ? date : "", date ? "\r\n" : "",
			 redirect ? "Location: " : "", loc, redirect ? "\r\n" : "",
			 json ? "application/json" : "text/plain; charset=utf-8", blen, head ? "" : body);
	*len = n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
	return status;
}
