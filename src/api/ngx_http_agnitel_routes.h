
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_ROUTES_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_ROUTES_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


ngx_int_t ngx_http_agnitel_api_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_agnitel_admin_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_agnitel_resolve_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_agnitel_caller_id_handler(ngx_http_request_t *r);


#endif /* _NGX_HTTP_AGNITEL_ROUTES_H_INCLUDED_ */
