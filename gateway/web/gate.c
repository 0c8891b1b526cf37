/* SPDX-License-Identifier: MIT */
/* gateway/web/gate.c - who may ask what of the HTTP server.
 *
 * Every request is judged at its headers first (http_headers_gate()): a
 * forged mark of Home Assistant's ingress is 403, a Host missing from
 * HTTP/1.1, empty or given twice is 400 (RFC 9112 section 3.2), a Host
 * that is not a name of this gateway is 421 (hosts.c: DNS rebinding), on
 * every path; a
 * request with a body has its login, role, path and length judged there
 * too, so that a refusal is answered before a byte of the body is read
 * (libmicrohttpd then closes the connection, the body unread, and sends no
 * 100 Continue).
 *
 * With users_file every path asks for a login (HTTP Basic, which is why
 * users_file needs tls_cert), checked off the loop (auth.c) while the
 * request is suspended; the configuration (/api/config, the setup API but
 * its session and schema) is an admin's; metrics_public lets /metrics
 * through without one.  A plain HTTP server refuses a request that
 * carries a login: it has none, and says so.  With ingress, Home
 * Assistant's ingress proxy (ingress.c) brings its logged-in users, let in
 * as admins and allowed to frame the page; X-Ingress-Path from any other
 * address is refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/log.h"
#include "auth.h"
#include "http_int.h"
#include "ingress.h"

#define REALM "bmsgw"

/* A 401 with the challenge of HTTP Basic (RFC 7617). */
static enum MHD_Result challenge(struct MHD_Connection *con, const char *msg)
{
	size_t n = strlen(msg);
	char *text = malloc(n + 2);
	if (!text)
		return MHD_NO;
	memcpy(text, msg, n);
	memcpy(text + n, "\n", 2);
	struct MHD_Response *resp = MHD_create_response_from_buffer(n + 1, text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	http_add_common(resp, "text/plain; charset=utf-8", true);
	enum MHD_Result rc = MHD_queue_basic_auth_fail_response(con, REALM, resp);
	MHD_destroy_response(resp);
	return rc;
}

/* The answer of the login of r came (auth.c). */
static void login_answer(void *arg, int result)
{
	struct req *r = arg;
	r->ask = NULL;
	r->auth = AU_DONE;
	r->role = result;
	http_req_unlist(r->h, r);
	http_resume(r);
	http_run(r->h);
}

/* A login not checked now: 429 while the address waits after a failure,
 * 503 when too many are checked; with Retry-After, said in the body. */
static enum MHD_Result come_back(struct gw_http *h, struct MHD_Connection *con, int role, bool json)
{
	char addr[64], secs[16], msg[160];
	int n = 2;
	if (role == GW_AUTH_WAIT) {
		http_client_addr(con, addr, sizeof(addr));
		n = gw_auth_retry_after(h->auth, addr);
	}
	snprintf(secs, sizeof(secs), "%d", n);
	snprintf(msg, sizeof(msg), role == GW_AUTH_WAIT ? "a login from this address failed: try again in %d s"
							: "too many logins are being checked: try again in %d s", n);
	return http_send_msg(con, role == GW_AUTH_WAIT ? MHD_HTTP_TOO_MANY_REQUESTS : MHD_HTTP_SERVICE_UNAVAILABLE, json,
			secs, msg);
}

/* Ask auth.c about r's login: false when answered or waiting (*rc). */
static bool ask_login(struct gw_http *h, struct req *r, enum MHD_Result *rc)
{
	char *pw = NULL, addr[64];
	char *user = MHD_basic_auth_get_username_password(r->con, &pw);
	if (!user) {
		if (pw)
			MHD_free(pw);
		*rc = challenge(r->con, "a login is needed (users_file)");
		return false;
	}
	http_client_addr(r->con, addr, sizeof(addr));
	snprintf(r->user, sizeof(r->user), "%s", strlen(user) < sizeof(r->user) ? user : "");
	struct gw_auth_ask *q = NULL;
	size_t pwlen = pw ? strlen(pw) : 0;
	int res = gw_auth_check(h->auth, addr, user, pw ? pw : "", pwlen, login_answer, r, &q);
	if (pw) {
		explicit_bzero(pw, pwlen);
		MHD_free(pw);
	}
	MHD_free(user);
	if (res == GW_AUTH_PENDING) {
		r->ask = q;
		r->auth = AU_WAIT;
		http_req_list(h, r);
		http_suspend(r);
		*rc = MHD_YES;
		return false;
	}
	r->auth = AU_DONE;
	r->role = res;
	return true;
}

/* Home Assistant's ingress: r comes from its proxy (r->ingress), or from
 * elsewhere with its header, refused (false, *rc), or is any request. */
static bool ingress_gate(struct gw_http *h, struct req *r, bool json, enum MHD_Result *rc)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *peer = ci ? ci->client_addr : NULL;
	const char *hdr = MHD_lookup_connection_value(r->con, MHD_HEADER_KIND, "X-Ingress-Path");
	switch (gw_ingress_judge(h->cfg.ingress, peer, http_peer_len(peer), hdr)) {
	case GW_INGRESS_PROXY: /* Home Assistant's user, logged in there: an admin */
		r->ingress = true;
		r->auth = AU_DONE;
		r->role = GW_ROLE_ADMIN;
		return true;
	case GW_INGRESS_FORGED:
		*rc = http_send_error(r->con, MHD_HTTP_FORBIDDEN, json,
				 "X-Ingress-Path is believed only from Home Assistant's ingress proxy (%s)",
				 GW_INGRESS_PROXY_ADDR);
		return false;
	default:
		return true;
	}
}

/* What shows the configuration, or what it is made of, is an admin's: the
 * configuration in force (/api/config) and every path of the setup API
 * (the file, its changes, the ports and the packs on them, detections and
 * their results, every change) but session (who the login is, and its
 * token) and schema (the forms, the same for everyone). */
static bool for_admins(const char *url)
{
	if (strcmp(url, "/api/config") == 0)
		return true;
	return strncmp(url, "/api/setup/", 11) == 0 && strcmp(url + 11, "session") != 0 &&
	       strcmp(url + 11, "schema") != 0;
}

/* May r go on?  false when it was answered or waits for its login (*rc).
 * Home Assistant's ingress mark was judged first (headers_gate()). */
bool http_gate(struct gw_http *h, struct req *r, const char *url, enum MHD_Result *rc)
{
	struct MHD_Connection *con = r->con;
	bool json = strncmp(url, "/api/", 5) == 0;
	*rc = MHD_YES;
	if (r->ingress)
		return true;
	if (!h->auth && !h->cfg.users_file[0]) {
		if (h->tls || !MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION))
			return true;
		h->plain_logins++;
		*rc = http_send_error(con, MHD_HTTP_FORBIDDEN, json,
				 "logins only over HTTPS: this server speaks plain HTTP ([http] has no tls_cert) and "
				 "takes no login; the password crossed the network readable");
		return false;
	}
	if (h->cfg.metrics_public && strcmp(url, "/metrics") == 0)
		return true;
	if (!h->auth) { /* users_file, but its login thread could not start: refuse, never let in */
		*rc = http_send_error(con, MHD_HTTP_SERVICE_UNAVAILABLE, json,
				 "no logins can be checked (the login thread could not start): nothing is served");
		return false;
	}
	if (r->auth == AU_WAIT)
		return false;
	if (r->auth == AU_NONE && !ask_login(h, r, rc))
		return false;
	if (r->role == GW_AUTH_BUSY || r->role == GW_AUTH_WAIT) {
		*rc = come_back(h, con, r->role, json);
		return false;
	}
	if (r->role == GW_AUTH_FAIL) {
		*rc = challenge(con, "wrong user name or password");
		return false;
	}
	if (for_admins(url) && r->role != GW_ROLE_ADMIN) {
		*rc = http_send_error(con, MHD_HTTP_FORBIDDEN, true, "%s is for a user of role admin (the configuration, and "
				 "what it is made of)", url);
		return false;
	}
	return true;
}

static enum MHD_Result count_host(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	(void)value;
	if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0)
		(*(int *)cls)++;
	return MHD_YES;
}

void http_misdirected(struct gw_http *h, const char *addr, const char *shown)
{
	h->misdirected++;
	gw_log_keyed(GW_LOG_WARN, "http misdirected", "http: a request from %s for \"%s\" refused (421): not a name "
		     "of this gateway (another site's page whose name leads here, DNS rebinding; or a name of yours: "
		     "[http] allowed_hosts)", addr, shown);
}

/* The Host r gave is missing from HTTP/1.1, empty or given twice: why
 * (hosts.c), else NULL. */
static const char *host_malformed(struct MHD_Connection *con, const char *version, const char *host)
{
	int n = 0;
	MHD_get_connection_values(con, MHD_HEADER_KIND, count_host, &n);
	return gw_hosts_malformed(n, host, strcmp(version, MHD_HTTP_VERSION_1_0) == 0);
}

/* The Host r gave is a name this gateway answers to (hosts.c), or r comes
 * from Home Assistant's ingress proxy, which sends its user's Host; else
 * 421 Misdirected Request (RFC 9110), logged once an interval.  A Host
 * missing from HTTP/1.1, empty or given twice: 400 (host_malformed()),
 * through the ingress proxy too. */
static bool host_gate(struct gw_http *h, struct req *r, const char *version, bool json, enum MHD_Result *rc)
{
	const char *host = MHD_lookup_connection_value(r->con, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	const char *bad = host_malformed(r->con, version, host);
	if (bad) {
		*rc = http_send_error(r->con, MHD_HTTP_BAD_REQUEST, json, "%s", bad);
		return false;
	}
	if (r->ingress || gw_hosts_ok(&h->hosts, host))
		return true;
	char shown[80], addr[64];
	gw_hosts_shown(host, shown, sizeof(shown));
	http_client_addr(r->con, addr, sizeof(addr));
	http_misdirected(h, addr, shown);
	*rc = http_send_error(r->con, MHD_HTTP_MISDIRECTED_REQUEST, json, GW_HOSTS_REFUSED, shown);
	return false;
}

/* Does r's request carry a body: a Content-Length other than 0, or a
 * chunked one? */
static bool has_body(struct MHD_Connection *con)
{
	const char *cl = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	return MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING) ||
	       (cl && cl[strspn(cl, "0")]);
}

/* Its Content-Length says more than a setup POST may have. */
static bool body_too_big(struct MHD_Connection *con)
{
	const char *cl = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	return cl && (strspn(cl, "0123456789") != strlen(cl) || strlen(cl) > 12 ||
		      strtoull(cl, NULL, 10) > GW_SETUP_BODY_MAX);
}

/* r at its headers, before a byte of a body is read: Home Assistant's
 * ingress mark (a forged one 403), its Host (421) and, when a body comes,
 * its login, role and path (401, 403, 405, 413).  A refusal is answered
 * at once, and libmicrohttpd then closes the connection without reading
 * the body (nor sends 100 Continue to a client that asked with Expect); a
 * login being checked suspends r, and libmicrohttpd calls again at the
 * headers once it is resumed.  false: answered, or waiting (*rc). */
bool http_headers_gate(struct gw_http *h, struct req *r, const char *url, const char *method, const char *version,
		       enum MHD_Result *rc)
{
	bool json = strncmp(url, "/api/", 5) == 0;
	bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	*rc = MHD_YES;
	if (!ingress_gate(h, r, json, rc) || !host_gate(h, r, version, json, rc))
		return false;
	if (get && !has_body(r->con))
		return true; /* its login at its second call (on_request()) */
	if (!http_gate(h, r, url, rc))
		return false;
	if (!get && strncmp(url, "/api/setup/", 11) != 0 && strcmp(url, BMSAPI_PATH) != 0) {
		*rc = http_not_allowed(r->con);
		return false;
	}
	if (body_too_big(r->con)) {
		*rc = http_send_error(r->con, 413, true, "a body is at most %d KiB", GW_SETUP_BODY_MAX / 1024);
		return false;
	}
	return true;
}
