/* SPDX-License-Identifier: MIT */
/* gateway/web/setupbridge.c - /api/setup/...: the Setup tab's API
 * (setup/setup.h) reached through the HTTP server.  Its POSTs are the only
 * requests with a body (JSON, at most GW_SETUP_BODY_MAX bytes, else 413),
 * read here once the gate let it in; the request, with who asks and from
 * where, goes to the setup API, whose answer comes at once or later (a
 * file written off the loop), the request suspended meanwhile. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../model/gw.h"
#include "auth.h"
#include "http_int.h"

/* From this machine itself (127/8, ::1, ::ffff:127/104). */
static bool from_loopback(struct MHD_Connection *con)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	if (sa && sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa && sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

enum MHD_Result http_send_setup(struct MHD_Connection *con, struct req *r)
{
	struct gw_setup_answer *a = &r->ans;
	char *json = a->json ? a->json : strdup("{}");
	size_t len = a->json ? a->len : 2;
	a->json = NULL;
	if (!json)
		return MHD_NO;
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, json, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(json);
		return MHD_NO;
	}
	http_add_common(resp, "application/json", true);
	if (a->allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, a->allow);
	if (a->retry_after > 0) {
		char ra[24];
		snprintf(ra, sizeof(ra), "%ld", a->retry_after);
		MHD_add_response_header(resp, "Retry-After", ra);
	}
	enum MHD_Result rc = MHD_queue_response(con, (unsigned)a->status, resp);
	MHD_destroy_response(resp);
	return rc;
}

/* The answer of a setup request that waited (the setup API calls this from the loop). */
static void setup_answered(void *arg, struct gw_setup_answer *a)
{
	struct req *r = arg;
	r->wait = NULL;
	r->bset = NULL;
	free(r->ans.json);
	r->ans = *a;
	r->answered = true;
	http_req_unlist(r->h, r);
	http_resume(r);
	http_run(r->h);
}

/* The request the setup API (and the BMS settings' POST) judges: the
 * client's headers, its login and where it comes from. */
static void setup_req(struct gw_http *h, struct req *r, const char *method, const char *path, bool trusted,
		      char *addr, size_t al, struct gw_setup_req *q)
{
	struct MHD_Connection *con = r->con;
	const struct gw_user *u = !r->ingress && h->auth && r->user[0] ? gw_auth_user(h->auth, r->user) : NULL;
	http_client_addr(con, addr, al);
	*q = (struct gw_setup_req){
		.method = method, .path = path, .body = r->body ? r->body : "", .len = r->blen,
		.content_type = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
		.csrf = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "X-CSRF-Token"),
		.origin = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Origin"),
		.host = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST),
		.user = r->ingress ? "Home Assistant" : h->auth && r->user[0] ? r->user : NULL,
		.cred = u ? u->dk : NULL, .cred_len = u ? sizeof(u->dk) : 0,
		.role = r->ingress ? GW_ROLE_ADMIN : h->auth && r->user[0] ? r->role : -1,
		.tls = h->tls != NULL, .trusted = trusted, .addr = addr, .ingress = r->ingress,
	};
}

enum MHD_Result http_start_setup(struct gw_http *h, struct req *r, const char *url, const char *method)
{
	struct MHD_Connection *con = r->con;
	if (!h->gw->setup)
		return http_send_error(con, MHD_HTTP_SERVICE_UNAVAILABLE, true, "the setup API could not start (out of memory, or "
				  "no thread)");
	if (r->too_big)
		return http_send_error(con, 413, true, "a body is at most %d KiB",
				  GW_SETUP_BODY_MAX / 1024);
	char addr[64];
	struct gw_setup_req q;
	setup_req(h, r, method, url + 11, from_loopback(con) || h->cfg.clients.n > 0, addr, sizeof(addr), &q);
	r->kind = RQ_SETUP;
	if (!gw_setup_handle(h->gw->setup, &q, &r->ans, setup_answered, r, &r->wait))
		return http_send_setup(con, r);
	http_req_list(h, r);
	http_suspend(r);
	return MHD_YES;
}

enum MHD_Result http_start_bmsapi(struct gw_http *h, struct req *r, const char *method)
{
	struct MHD_Connection *con = r->con;
	r->kind = RQ_SETUP; /* its answer is sent as the setup API's */
	if (strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0) {
		gw_bmsapi_get(h->gw, MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "unit"), &r->ans);
		return http_send_setup(con, r);
	}
	if (strcmp(method, MHD_HTTP_METHOD_POST) != 0 || !h->gw->setup)
		return strcmp(method, MHD_HTTP_METHOD_POST) ? http_not_allowed(con) :
		       http_send_error(con, MHD_HTTP_SERVICE_UNAVAILABLE, true, "the setup API could not start");
	if (r->too_big)
		return http_send_error(con, 413, true, "a body is at most %d KiB", GW_SETUP_BODY_MAX / 1024);
	char addr[64];
	struct gw_setup_req q;
	setup_req(h, r, method, "", false, addr, sizeof(addr), &q);
	if (!gw_bmsapi_post(h->gw, h->gw->setup, &q, &r->ans, setup_answered, r, &r->bset))
		return http_send_setup(con, r);
	http_req_list(h, r);
	http_suspend(r);
	return MHD_YES;
}

bool http_take_body(struct req *r, const char *url, const char *data, size_t n)
{
	if ((strncmp(url, "/api/setup/", 11) != 0 && strcmp(url, BMSAPI_PATH) != 0) || r->too_big)
		return true;
	if (r->blen + n > GW_SETUP_BODY_MAX) {
		r->too_big = true;
		free(r->body);
		r->body = NULL;
		r->blen = 0;
		return true;
	}
	char *b = realloc(r->body, r->blen + n + 1);
	if (!b)
		return false;
	memcpy(b + r->blen, data, n);
	r->blen += n;
	b[r->blen] = '\0';
	r->body = b;
	return true;
}
