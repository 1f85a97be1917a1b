
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_INDIA_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_INDIA_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>


ngx_int_t ngx_http_agnitel_india_create(ngx_http_request_t *r, json_t *body);
ngx_int_t ngx_http_agnitel_india_otp(ngx_http_request_t *r, json_t *body);
ngx_int_t ngx_http_agnitel_india_otp_check(ngx_http_request_t *r,
    json_t *body);


#endif /* _NGX_HTTP_AGNITEL_INDIA_H_INCLUDED_ */
