
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_VERIFY_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_VERIFY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <jansson.h>

#include "ngx_http_agnitel_twilio.h"


/*
 * Twilio Verify v2 without a transport: the two calls a mobile OTP takes,
 * and what their answers mean for the API.
 */

ngx_int_t ngx_http_agnitel_verify_send(ngx_pool_t *pool, ngx_str_t *service,
    ngx_str_t *mobile, ngx_http_agnitel_call_t *call);
ngx_int_t ngx_http_agnitel_verify_check(ngx_pool_t *pool, ngx_str_t *service,
    ngx_str_t *mobile, ngx_str_t *code, ngx_http_agnitel_call_t *call);
ngx_int_t ngx_http_agnitel_verify_outcome(ngx_pool_t *pool,
    ngx_http_agnitel_call_t *call, json_t **json,
    ngx_http_agnitel_carrier_err_t *err);


#endif /* _NGX_HTTP_AGNITEL_VERIFY_H_INCLUDED_ */
