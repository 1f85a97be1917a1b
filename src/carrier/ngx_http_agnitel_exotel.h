
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_EXOTEL_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_EXOTEL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <jansson.h>

#include "ngx_http_agnitel_twilio.h"
#include "ngx_http_agnitel_upstream.h"


/*
 * The Indian carrier's number API, in the shape of Exotel's v2_beta:
 * request builders and the reading of its answers, without a transport.
 * Its errors carry no codes worth relying on, so answers are read by
 * their HTTP status alone.
 */

/* its operations, numbered as Twilio's: one op names either carrier's */
#define NGX_HTTP_AGNITEL_EXOTEL_SEARCH    NGX_HTTP_AGNITEL_TWILIO_SEARCH
#define NGX_HTTP_AGNITEL_EXOTEL_BUY       NGX_HTTP_AGNITEL_TWILIO_BUY
#define NGX_HTTP_AGNITEL_EXOTEL_RELEASE   NGX_HTTP_AGNITEL_TWILIO_RELEASE
#define NGX_HTTP_AGNITEL_EXOTEL_LOOKUP    NGX_HTTP_AGNITEL_TWILIO_LOOKUP


ngx_int_t ngx_http_agnitel_exotel_search(ngx_pool_t *pool, ngx_str_t *sid,
    ngx_uint_t type, ngx_http_agnitel_call_t *call);
ngx_int_t ngx_http_agnitel_exotel_buy(ngx_pool_t *pool, ngx_str_t *sid,
    ngx_http_agnitel_param_t *form, ngx_uint_t n,
    ngx_http_agnitel_call_t *call);
ngx_int_t ngx_http_agnitel_exotel_lookup(ngx_pool_t *pool, ngx_str_t *sid,
    ngx_str_t *number, ngx_http_agnitel_call_t *call);
json_t *ngx_http_agnitel_exotel_listed(json_t *page, ngx_str_t *number,
    ngx_uint_t *complete);
ngx_int_t ngx_http_agnitel_exotel_release(ngx_pool_t *pool, ngx_str_t *sid,
    ngx_str_t *number_sid, ngx_http_agnitel_call_t *call);
ngx_int_t ngx_http_agnitel_exotel_outcome(ngx_pool_t *pool,
    ngx_http_agnitel_call_t *call, ngx_uint_t op, json_t **json,
    ngx_http_agnitel_carrier_err_t *err);
json_t *ngx_http_agnitel_exotel_list(json_t *json);
ngx_int_t ngx_http_agnitel_carrier_outcome(ngx_uint_t india, ngx_pool_t *pool,
    ngx_http_agnitel_call_t *call, ngx_uint_t op, json_t **json,
    ngx_http_agnitel_carrier_err_t *err);


#endif /* _NGX_HTTP_AGNITEL_EXOTEL_H_INCLUDED_ */
