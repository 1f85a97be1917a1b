
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_INDIA_IDS_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_INDIA_IDS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* Indian identifiers a KYC form holds: NGX_OK or NGX_DECLINED */

ngx_int_t ngx_http_agnitel_pan_valid(ngx_str_t *pan);
ngx_int_t ngx_http_agnitel_gstin_valid(ngx_str_t *gstin);
ngx_int_t ngx_http_agnitel_aadhaar_valid(ngx_str_t *aadhaar);
ngx_int_t ngx_http_agnitel_pin_valid(ngx_str_t *pin);


#endif /* _NGX_HTTP_AGNITEL_INDIA_IDS_H_INCLUDED_ */
