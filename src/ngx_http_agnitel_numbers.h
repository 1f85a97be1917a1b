
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_NUMBERS_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_NUMBERS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>
#include <lmdb.h>

#include "ngx_http_agnitel_json.h"


ngx_int_t ngx_http_agnitel_numbers_import(ngx_http_request_t *r,
    json_t *body);
ngx_int_t ngx_http_agnitel_numbers_list(ngx_http_request_t *r,
    json_t *body);
ngx_int_t ngx_http_agnitel_numbers_get(ngx_http_request_t *r, json_t *body);
ngx_int_t ngx_http_agnitel_numbers_patch(ngx_http_request_t *r,
    json_t *body);
ngx_int_t ngx_http_agnitel_numbers_release(ngx_http_request_t *r,
    json_t *body);

ngx_int_t ngx_http_agnitel_numbers_release_local(ngx_http_request_t *r);
ngx_int_t ngx_http_agnitel_number_taken(ngx_http_request_t *r);
ngx_int_t ngx_http_agnitel_numbers_insert(ngx_http_request_t *r,
    ngx_str_t *number, MDB_val *val, const char *message);
ngx_http_agnitel_json_t *ngx_http_agnitel_reply_view(ngx_http_request_t *r,
    const char *message, MDB_val *val);

ngx_int_t ngx_http_agnitel_sip_uri_valid(ngx_str_t *uri);


#endif /* _NGX_HTTP_AGNITEL_NUMBERS_H_INCLUDED_ */
