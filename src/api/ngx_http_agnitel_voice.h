
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_VOICE_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_VOICE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


ngx_int_t ngx_http_agnitel_voice_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_agnitel_status_handler(ngx_http_request_t *r);


#endif /* _NGX_HTTP_AGNITEL_VOICE_H_INCLUDED_ */
