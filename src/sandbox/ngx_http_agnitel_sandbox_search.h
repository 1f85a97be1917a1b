
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_SANDBOX_SEARCH_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_SANDBOX_SEARCH_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_agnitel_sandbox_request.h"


ngx_int_t ngx_http_agnitel_sandbox_available(ngx_http_request_t *r,
    ngx_http_agnitel_sandbox_path_t *path);
ngx_uint_t ngx_http_agnitel_sandbox_toll_free(u_char *area);


#endif /* _NGX_HTTP_AGNITEL_SANDBOX_SEARCH_H_INCLUDED_ */
