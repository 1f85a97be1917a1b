
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_NUMBERS_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_NUMBERS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>


ngx_int_t ngx_http_agnitel_numbers_import(ngx_http_request_t *r,
    json_t *body);
ngx_int_t ngx_http_agnitel_numbers_list(ngx_http_request_t *r,
    json_t *body);
ngx_int_t ngx_http_agnitel_numbers_get(ngx_http_request_t *r, json_t *body);
ngx_int_t ngx_http_agnitel_numbers_patch(ngx_http_request_t *r,
    json_t *body);
ngx_int_t ngx_http_agnitel_numbers_release(ngx_http_request_t *r,
    json_t *body);


#endif /* _NGX_HTTP_AGNITEL_NUMBERS_H_INCLUDED_ */
