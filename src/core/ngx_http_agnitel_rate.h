
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_RATE_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_RATE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_agnitel.h"


ngx_uint_t ngx_http_agnitel_rate_type(ngx_str_t *name);
ngx_http_agnitel_rate_t *ngx_http_agnitel_rate_find(
    ngx_http_agnitel_main_conf_t *amcf, u_char *country, ngx_uint_t type);
ngx_uint_t ngx_http_agnitel_number_type(u_char *country, ngx_str_t *number);


#endif /* _NGX_HTTP_AGNITEL_RATE_H_INCLUDED_ */
