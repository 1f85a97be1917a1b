
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_KYC_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_KYC_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>
#include <lmdb.h>


/* what a submission's apply returns when a required document is missing */
#define NGX_HTTP_AGNITEL_KYC_MISSING     (MDB_KEYEXIST + 1201)


ngx_int_t ngx_http_agnitel_kyc_document(ngx_http_request_t *r, json_t *body);
ngx_int_t ngx_http_agnitel_kyc_submit(ngx_http_request_t *r, json_t *body);
ngx_int_t ngx_http_agnitel_kyc_aad(ngx_pool_t *pool, ngx_str_t *ws,
    ngx_str_t *type, ngx_str_t *aad);

ngx_int_t ngx_http_agnitel_kyc_list(ngx_http_request_t *r, json_t *body);
ngx_int_t ngx_http_agnitel_kyc_read(ngx_http_request_t *r, json_t *body);
ngx_int_t ngx_http_agnitel_kyc_approve(ngx_http_request_t *r, json_t *body);
ngx_int_t ngx_http_agnitel_kyc_reject(ngx_http_request_t *r, json_t *body);


#endif /* _NGX_HTTP_AGNITEL_KYC_H_INCLUDED_ */
