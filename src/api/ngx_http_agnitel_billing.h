
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_BILLING_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_BILLING_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_agnitel_json.h"


ngx_int_t ngx_http_agnitel_credits_topup(ngx_http_request_t *r,
    json_t *body);
ngx_int_t ngx_http_agnitel_billing_get(ngx_http_request_t *r, json_t *body);
ngx_int_t ngx_http_agnitel_billing_ledger(ngx_http_request_t *r,
    json_t *body);
ngx_int_t ngx_http_agnitel_number_renew(ngx_http_request_t *r,
    json_t *body);
void ngx_http_agnitel_entry_view(ngx_http_agnitel_json_t *j, json_t *entry);


#endif /* _NGX_HTTP_AGNITEL_BILLING_H_INCLUDED_ */
