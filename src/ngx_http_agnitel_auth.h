
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_AUTH_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_AUTH_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_agnitel_http.h"


ngx_int_t ngx_http_agnitel_auth(ngx_http_request_t *r,
    ngx_http_agnitel_ctx_t *ctx);


#endif /* _NGX_HTTP_AGNITEL_AUTH_H_INCLUDED_ */
