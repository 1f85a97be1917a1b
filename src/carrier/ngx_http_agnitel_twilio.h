
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_TWILIO_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_TWILIO_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <jansson.h>

#include "ngx_http_agnitel_upstream.h"


/*
 * Twilio's REST API without a transport: request builders and response
 * parsers, shared by the subrequest transport and background jobs.
 */

/* what a call was for: the same answer means different things */
#define NGX_HTTP_AGNITEL_TWILIO_CONNECT   1
#define NGX_HTTP_AGNITEL_TWILIO_SEARCH    2
#define NGX_HTTP_AGNITEL_TWILIO_BUY       3
#define NGX_HTTP_AGNITEL_TWILIO_FETCH     4
#define NGX_HTTP_AGNITEL_TWILIO_RELEASE   5
#define NGX_HTTP_AGNITEL_TWILIO_LOOKUP    6
#define NGX_HTTP_AGNITEL_TWILIO_SUBACCOUNT 7
#define NGX_HTTP_AGNITEL_TWILIO_CALL      8
#define NGX_HTTP_AGNITEL_TWILIO_CLOSE     9


typedef struct {
    const char                     *key;
    ngx_str_t                       value;
} ngx_http_agnitel_param_t;


/* an API error for a carrier answer */
typedef struct {
    ngx_uint_t                      status;
    const char                     *code;
    const char                     *field;
    const char                     *message;

    /* the carrier said no for sure: nothing happened there */
    unsigned                        definite:1;
} ngx_http_agnitel_carrier_err_t;


ngx_int_t ngx_http_agnitel_twilio_encode(ngx_pool_t *pool,
    ngx_http_agnitel_param_t *params, ngx_uint_t n, ngx_str_t *out);
ngx_int_t ngx_http_agnitel_twilio_basic(ngx_pool_t *pool, ngx_str_t *sid,
    ngx_str_t *token, ngx_str_t *out);
ngx_int_t ngx_http_agnitel_twilio_path(ngx_pool_t *pool, ngx_str_t *out,
    ngx_str_t *sid, const char *fmt, ...);
ngx_int_t ngx_http_agnitel_carrier_path(ngx_pool_t *pool, ngx_str_t *out,
    const char *root, ngx_str_t *sid, const char *fmt, va_list args);

ngx_int_t ngx_http_agnitel_twilio_lookup(ngx_pool_t *pool, ngx_str_t *sid,
    ngx_str_t *number, ngx_http_agnitel_call_t *call);
ngx_int_t ngx_http_agnitel_carrier_lookup(ngx_pool_t *pool,
    ngx_str_t *number, ngx_http_agnitel_call_t *call);
ngx_int_t ngx_http_agnitel_twilio_list(ngx_pool_t *pool, ngx_str_t *sid,
    const char *next, ngx_http_agnitel_call_t *call);
json_t *ngx_http_agnitel_twilio_listed(json_t *page, ngx_str_t *number);
ngx_int_t ngx_http_agnitel_twilio_release(ngx_pool_t *pool,
    ngx_str_t *account, ngx_str_t *sid, ngx_http_agnitel_call_t *call);

json_t *ngx_http_agnitel_carrier_json(ngx_pool_t *pool,
    ngx_http_agnitel_call_t *call);
ngx_int_t ngx_http_agnitel_carrier_reached(ngx_http_agnitel_call_t *call,
    ngx_http_agnitel_carrier_err_t *err);
void ngx_http_agnitel_carrier_err(ngx_http_agnitel_carrier_err_t *err,
    ngx_uint_t status, const char *code, const char *message,
    ngx_uint_t definite);
ngx_int_t ngx_http_agnitel_twilio_outcome(ngx_pool_t *pool,
    ngx_http_agnitel_call_t *call, ngx_uint_t op, json_t **json,
    ngx_http_agnitel_carrier_err_t *err);
ngx_uint_t ngx_http_agnitel_twilio_capability(json_t *caps,
    const char *name);
const char *ngx_http_agnitel_twilio_str(json_t *obj, const char *key);
ngx_int_t ngx_http_agnitel_twilio_sid_valid(ngx_str_t *sid,
    const char *prefix);


#endif /* _NGX_HTTP_AGNITEL_TWILIO_H_INCLUDED_ */
