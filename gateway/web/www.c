/* SPDX-License-Identifier: MIT */
/* gateway/web/www.c - the page's own files (gateway/web/www/, built into
 * the binary) with their ETag and the headers that keep other sites'
 * pages and scripts out, and /javascript/... from Debian's shared
 * JavaScript (/usr/share/javascript, e.g. libjs-chart.js), read-only, or
 * from the directory BMSGW_JAVASCRIPT_DIR names (the Venus OS bundle's
 * share/javascript: a GX has no Debian package). */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http_int.h"

#ifndef BMSGW_VERSION
#error "BMSGW_VERSION comes from the Makefile (VERSION)"
#endif

#define JS_DIR "/usr/share/javascript"  /* Debian's libjs-* packages */
#define JS_DIR_ALT "/usr/share/nodejs"   /* where some of them point */

static uint32_t fnv1a(const unsigned char *p, size_t n, uint32_t hsh)
{
	for (size_t i = 0; i < n; i++)
		hsh = (hsh ^ p[i]) * 16777619u;
	return hsh;
}

void http_www_etag(struct gw_http *h)
{
	uint32_t hsh = 2166136261u;
	for (const struct gw_www_file *f = gw_www_files; f->path; f++)
		hsh = fnv1a(f->data, f->len, hsh);
	snprintf(h->etag, sizeof(h->etag), "\"%s-%08" PRIx32 "\"", BMSGW_VERSION, hsh);
}

/* The page's file f; in Home Assistant's panel (ingress) it may be framed
 * by Home Assistant's own pages, which the proxy serves from one origin. */
static enum MHD_Result send_www(struct gw_http *h, struct MHD_Connection *con, const struct gw_www_file *f,
				bool ingress)
{
	const char *inm = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
	struct MHD_Response *resp;
	unsigned status = MHD_HTTP_OK;
	if (inm && strcmp(inm, h->etag) == 0) {
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		status = MHD_HTTP_NOT_MODIFIED;
	} else {
		resp = MHD_create_response_from_buffer(f->len, (void *)f->data, MHD_RESPMEM_PERSISTENT);
	}
	if (!resp)
		return MHD_NO;
	http_add_common(resp, f->type, false);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, h->etag);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	/* no inline script anywhere: the page's scripts are its own files */
	MHD_add_response_header(resp, "Content-Security-Policy",
				ingress ? "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' "
					  "data:; connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
					  "frame-ancestors 'self'"
					: "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' "
					  "data:; connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
					  "frame-ancestors 'none'");
	MHD_add_response_header(resp, "X-Frame-Options", ingress ? "SAMEORIGIN" : "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	enum MHD_Result rc = MHD_queue_response(con, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static const char *js_type(const char *path)
{
	const char *dot = strrchr(path, '.');
	if (dot && (strcmp(dot, ".js") == 0 || strcmp(dot, ".mjs") == 0))
		return "text/javascript; charset=utf-8";
	if (dot && strcmp(dot, ".css") == 0)
		return "text/css; charset=utf-8";
	if (dot && strcmp(dot, ".map") == 0)
		return "application/json";
	return NULL;
}

static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return strncmp(path, dir, n) == 0 && path[n] == '/';
}

/* /javascript/REST from Debian's shared JavaScript directory, or BMSGW_JAVASCRIPT_DIR. */
static enum MHD_Result send_js(struct MHD_Connection *con, const char *rest)
{
	const char *type = js_type(rest);
	bool ok = type && rest[0] && rest[0] != '/' && !strstr(rest, "..") && !strstr(rest, "//") &&
		  strlen(rest) < 200;
	for (const char *p = rest; ok && *p; p++)
		ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
		     *p == '_' || *p == '-' || *p == '/';
	if (!ok)
		return http_send_error(con, MHD_HTTP_NOT_FOUND, false, "not found");
	/* a directory of one's own: the file must be under it as it is
	 * resolved (the bundle's /data may be a link); Debian's may point
	 * into /usr/share/nodejs */
	const char *own = getenv("BMSGW_JAVASCRIPT_DIR");
	const char *top = own && own[0] ? own : JS_DIR;
	char dir[PATH_MAX], path[PATH_MAX], real[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", top, rest);
	bool found = realpath(path, real) != NULL;
	if (top == own)
		found = found && realpath(own, dir) && under(real, dir);
	else
		found = found && (under(real, JS_DIR) || under(real, JS_DIR_ALT));
	if (!found)
		return http_send_error(con, MHD_HTTP_NOT_FOUND, false, "%s/%s: not found (its Debian package is missing?)",
				  top, rest);
	int fd = open(real, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return http_send_error(con, MHD_HTTP_NOT_FOUND, false, "not found");
	}
	struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
	if (!resp) {
		close(fd);
		return MHD_NO;
	}
	http_add_common(resp, type, false);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "max-age=86400");
	enum MHD_Result rc = MHD_queue_response(con, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return rc;
}

enum MHD_Result http_www(struct gw_http *h, struct req *r, const char *url)
{
	if (strncmp(url, "/javascript/", 12) == 0)
		return send_js(r->con, url + 12);
	const char *path = strcmp(url, "/") == 0 ? "/index.html" : url;
	for (const struct gw_www_file *f = gw_www_files; f->path; f++)
		if (strcmp(f->path, path) == 0)
			return send_www(h, r->con, f, r->ingress);
	return http_send_error(r->con, MHD_HTTP_NOT_FOUND, strncmp(url, "/api/", 5) == 0, "%s: not found", url);
}
