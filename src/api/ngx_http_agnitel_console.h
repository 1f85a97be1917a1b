
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_CONSOLE_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_CONSOLE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* a file of the page, compiled in (config generates the table) */
typedef struct {
    const char                     *name;
    const char                     *type;
    const u_char                   *data;
    size_t                          len;
} ngx_http_agnitel_asset_t;


/* NULL name ends it */
extern const ngx_http_agnitel_asset_t  ngx_http_agnitel_console_assets[];


ngx_int_t ngx_http_agnitel_console_handler(ngx_http_request_t *r);


#endif /* _NGX_HTTP_AGNITEL_CONSOLE_H_INCLUDED_ */
