
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_PURCHASE_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_PURCHASE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>


ngx_int_t ngx_http_agnitel_purchase_search(ngx_http_request_t *r,
    json_t *body);
ngx_int_t ngx_http_agnitel_purchase_buy(ngx_http_request_t *r, json_t *body);
ngx_int_t ngx_http_agnitel_purchase_add(ngx_http_request_t *r, json_t *body);
ngx_int_t ngx_http_agnitel_purchase_release(ngx_http_request_t *r,
    ngx_uint_t india, ngx_str_t *sid);


#endif /* _NGX_HTTP_AGNITEL_PURCHASE_H_INCLUDED_ */
