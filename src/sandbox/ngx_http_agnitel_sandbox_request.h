
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_SANDBOX_REQUEST_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_SANDBOX_REQUEST_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_agnitel_store.h"


/*
 * What the sandbox's files share: reading an emulated Twilio request and
 * answering it the way Twilio does.
 */

#define NGX_HTTP_AGNITEL_SANDBOX_ERRORS    "https://www.twilio.com/docs/errors/"

/* "Thu, 30 Jul 2015 23:19:04 +0000" */
#define NGX_HTTP_AGNITEL_SANDBOX_DATE_LEN                                    \
    (sizeof("Thu, 30 Jul 2015 23:19:04 +0000") - 1)

#define NGX_HTTP_AGNITEL_SANDBOX_BODY_MAX  (64 * 1024)
#define NGX_HTTP_AGNITEL_SANDBOX_URL_MAX   1024

#define NGX_HTTP_AGNITEL_SANDBOX_PAGE      20
#define NGX_HTTP_AGNITEL_SANDBOX_PAGE_MAX  50

/* Twilio's test-credential magic in searches */
#define NGX_HTTP_AGNITEL_SANDBOX_AVAILABLE    "+15005550006"
#define NGX_HTTP_AGNITEL_SANDBOX_NO_NUMBERS   "533"

/* "+" and at most 15 digits */
#define NGX_HTTP_AGNITEL_SANDBOX_E164_MAX     16

/* "(415) 555-0100" or an E.164, and a NUL */
#define NGX_HTTP_AGNITEL_SANDBOX_NAME_LEN                                    \
    (NGX_HTTP_AGNITEL_SANDBOX_E164_MAX + 1)


typedef struct {
    ngx_uint_t                      resource;
    ngx_str_t                       account;
    ngx_str_t                       country;
    ngx_uint_t                      type;
    ngx_str_t                       sid;
} ngx_http_agnitel_sandbox_path_t;


/* a form field wanted, and where it goes */

typedef struct {
    const char                     *name;
    ngx_str_t                      *value;
} ngx_http_agnitel_sandbox_field_t;


/* what a check found wrong: a 400 with this Twilio code and message */

typedef struct {
    ngx_uint_t                      code;
    const char                     *message;
} ngx_http_agnitel_sandbox_err_t;


ngx_int_t ngx_http_agnitel_sandbox_arg(ngx_http_request_t *r,
    const char *name, ngx_str_t *value);
ngx_uint_t ngx_http_agnitel_sandbox_flag(ngx_http_request_t *r,
    const char *name);
ngx_uint_t ngx_http_agnitel_sandbox_caseeq(ngx_str_t *s, const char *v);
size_t ngx_http_agnitel_sandbox_format(u_char *dst, ngx_str_t *number);
ngx_http_agnitel_store_t *ngx_http_agnitel_sandbox_store(
    ngx_http_request_t *r);
MDB_txn *ngx_http_agnitel_sandbox_write(ngx_http_request_t *r, json_t *json,
    char **text, ngx_http_agnitel_store_t **store);

ngx_int_t ngx_http_agnitel_sandbox_error(ngx_http_request_t *r,
    ngx_uint_t status, ngx_uint_t code, const char *message);
ngx_int_t ngx_http_agnitel_sandbox_bad_request(ngx_http_request_t *r,
    ngx_http_agnitel_sandbox_err_t *err);
ngx_int_t ngx_http_agnitel_sandbox_not_found(ngx_http_request_t *r);
ngx_int_t ngx_http_agnitel_sandbox_internal(ngx_http_request_t *r);
ngx_int_t ngx_http_agnitel_sandbox_store_failed(ngx_http_request_t *r,
    int rc);
ngx_int_t ngx_http_agnitel_sandbox_send_json(ngx_http_request_t *r,
    ngx_uint_t status, json_t *json);

u_char *ngx_http_agnitel_sandbox_date(u_char *buf, time_t t);
size_t ngx_http_agnitel_sandbox_unescape(u_char *p, size_t len);
ngx_int_t ngx_http_agnitel_sandbox_form(ngx_http_request_t *r,
    ngx_http_agnitel_sandbox_field_t *fields);
ngx_int_t ngx_http_agnitel_sandbox_url(ngx_str_t *url);
ngx_int_t ngx_http_agnitel_sandbox_text(ngx_str_t *s, size_t max);
ngx_uint_t ngx_http_agnitel_sandbox_eq(ngx_str_t *s, const char *v);
ngx_int_t ngx_http_agnitel_sandbox_unauthorized(ngx_http_request_t *r);
ngx_int_t ngx_http_agnitel_sandbox_not_allowed(ngx_http_request_t *r,
    const char *allow);
ngx_int_t ngx_http_agnitel_sandbox_send(ngx_http_request_t *r,
    ngx_uint_t status, u_char *data, size_t len);


#endif /* _NGX_HTTP_AGNITEL_SANDBOX_REQUEST_H_INCLUDED_ */
