
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_HTTP_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_HTTP_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_agnitel.h"
#include "ngx_http_agnitel_json.h"


#define NGX_HTTP_AGNITEL_MAX_BODY        (64 * 1024)
#define NGX_HTTP_AGNITEL_MAX_PARAMS      2

#define NGX_HTTP_AGNITEL_UNPROCESSABLE   422
#define NGX_HTTP_AGNITEL_PAYMENT_REQUIRED  402
#define NGX_HTTP_AGNITEL_GONE            410

/* what a route does with a request body */
#define NGX_HTTP_AGNITEL_BODY_NONE       0
#define NGX_HTTP_AGNITEL_BODY_OPTIONAL   1
#define NGX_HTTP_AGNITEL_BODY_REQUIRED   2
#define NGX_HTTP_AGNITEL_BODY_RAW        3     /* a file, in ctx->body */

/* a KYC document, in an agnitel_kyc_documents location */
#define NGX_HTTP_AGNITEL_MAX_UPLOAD      (5 * 1024 * 1024)


/* what Twilio is told when a call is not taken */
#define NGX_HTTP_AGNITEL_TWIML_BUSY                                          \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"                             \
    "<Response><Reject reason=\"busy\"/></Response>"

typedef ngx_int_t (*ngx_http_agnitel_handler_pt)(ngx_http_request_t *r,
    json_t *body);


/*
 * One row per method and path.  Patterns are relative to the API prefix,
 * segments separated by "/", ":" captures a segment.  The first pattern that
 * matches a path wins, so literal rows go before captures.
 */

/* lists: items per page by default, and at most */
#define NGX_HTTP_AGNITEL_LIST_LIMIT      50
#define NGX_HTTP_AGNITEL_LIST_MAX        200


typedef struct {
    ngx_uint_t                      method;
    const char                     *pattern;
    ngx_http_agnitel_handler_pt     handler;
    ngx_uint_t                      body;
} ngx_http_agnitel_route_t;


typedef struct {
    ngx_str_t                       prefix;
    ngx_http_agnitel_route_t       *routes;
    ngx_uint_t                      auth;
} ngx_http_agnitel_api_t;


typedef struct {
    ngx_http_agnitel_route_t       *route;

    /* the carrier call under way, on the subrequest that makes it */
    void                           *call;

    ngx_str_t                       params[NGX_HTTP_AGNITEL_MAX_PARAMS];

    /* the workspace the API key belongs to */
    ngx_str_t                       workspace;
    u_char                          ws[NGX_HTTP_AGNITEL_WS_ID_LEN];

    /* and the id of that key */
    u_char                          key_id[NGX_HTTP_AGNITEL_KEY_ID_LEN];

    /* the request body as received, for what jansson cannot keep exactly */
    ngx_str_t                       body;

    /* an error nginx itself answered, in the envelope instead of HTML */
    ngx_str_t                       envelope;

    /* the answer is the module's own envelope */
    unsigned                        answered:1;
    unsigned                        replace:1;
    unsigned                        replaced:1;
} ngx_http_agnitel_ctx_t;


ngx_int_t ngx_http_agnitel_dispatch(ngx_http_request_t *r,
    ngx_http_agnitel_api_t *api);
ngx_int_t ngx_http_agnitel_filter_init(ngx_conf_t *cf);

ngx_int_t ngx_http_agnitel_done(ngx_http_request_t *r, ngx_int_t rc);
ngx_http_agnitel_json_t *ngx_http_agnitel_reply(ngx_http_request_t *r,
    size_t size, const char *message);
ngx_http_agnitel_json_t *ngx_http_agnitel_envelope(ngx_pool_t *pool,
    size_t size, const char *message);
ngx_http_agnitel_ctx_t *ngx_http_agnitel_ctx_new(ngx_http_request_t *r);
ngx_int_t ngx_http_agnitel_removed(ngx_http_request_t *r, const char *message,
    ngx_str_t *id);
ngx_int_t ngx_http_agnitel_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_http_agnitel_json_t *j);
ngx_int_t ngx_http_agnitel_close(ngx_http_agnitel_json_t *j,
    ngx_str_t *text);
ngx_int_t ngx_http_agnitel_send_raw(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *text);
ngx_http_agnitel_json_t *ngx_http_agnitel_error_reply(ngx_http_request_t *r,
    const char *code, const char *field, const char *message);
ngx_int_t ngx_http_agnitel_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *field, const char *message);
ngx_int_t ngx_http_agnitel_invalid(ngx_http_request_t *r, const char *field,
    const char *message);
ngx_int_t ngx_http_agnitel_status_error(ngx_http_request_t *r,
    ngx_uint_t status);
ngx_int_t ngx_http_agnitel_store_error(ngx_http_request_t *r, int rc);

const char *ngx_http_agnitel_text(ngx_pool_t *pool, json_t *body,
    const char *name, size_t max, ngx_uint_t required, ngx_str_t *out);
const char *ngx_http_agnitel_money(ngx_http_request_t *r, const char *name,
    ngx_uint_t required, int64_t *micros);
ngx_str_t *ngx_http_agnitel_header(ngx_http_request_t *r, const char *name);
u_char *ngx_http_agnitel_body(ngx_http_request_t *r, size_t max,
    size_t *len);
const char *ngx_http_agnitel_page(ngx_http_request_t *r, ngx_uint_t *limit,
    ngx_uint_t *offset, const char **field);
ngx_int_t ngx_http_agnitel_arg(ngx_http_request_t *r, const char *name,
    ngx_str_t *value);


#endif /* _NGX_HTTP_AGNITEL_HTTP_H_INCLUDED_ */
