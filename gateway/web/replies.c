/* SPDX-License-Identifier: MIT */
/* gateway/web/replies.c - the HTTP server's answers (http_int.h): every
 * one with its Content-Type and nosniff, a text, an error as JSON or a
 * line of text, a 405; and who the client is. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/acceptor.h"
#include "../core/jsonw.h"
#include "http_int.h"

void http_add_common(struct MHD_Response *resp, const char *type, bool nocache)
{
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (nocache)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
}

enum MHD_Result http_send_retry(struct MHD_Connection *con, unsigned status, const char *type, char *text, size_t len,
				const char *retry)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	http_add_common(resp, type, true);
	if (retry)
		MHD_add_response_header(resp, "Retry-After", retry);
	enum MHD_Result rc = MHD_queue_response(con, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

enum MHD_Result http_send_owned(struct MHD_Connection *con, unsigned status, const char *type, char *text, size_t len)
{
	return http_send_retry(con, status, type, text, len, NULL);
}

enum MHD_Result http_send_msg(struct MHD_Connection *con, unsigned status, bool json, const char *retry,
			      const char *msg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&text, &len);
	if (!o)
		return MHD_NO;
	if (json) {
		fputs("{\"error\":", o);
		gw_json_str(o, msg);
		fputs("}\n", o);
	} else {
		fprintf(o, "%s\n", msg);
	}
	fclose(o);
	return http_send_retry(con, status, json ? "application/json" : "text/plain; charset=utf-8", text, len, retry);
}

enum MHD_Result http_send_error(struct MHD_Connection *con, unsigned status, bool json, const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return http_send_msg(con, status, json, NULL, msg);
}

enum MHD_Result http_not_allowed(struct MHD_Connection *con)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result rc = MHD_queue_response(con, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
	MHD_destroy_response(resp);
	return rc;
}

void http_client_addr(struct MHD_Connection *con, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	gw_peer_host(ci ? ci->client_addr : NULL, out, len);
}

socklen_t http_peer_len(const struct sockaddr *peer)
{
	return !peer ? 0 : peer->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}
