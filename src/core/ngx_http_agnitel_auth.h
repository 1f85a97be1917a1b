
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_AUTH_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_AUTH_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_agnitel.h"


/*
 * NGX_OK with the key's workspace id in ws and its own id ("key_...") in
 * key_id, NGX_DECLINED, NGX_ERROR
 */
ngx_int_t ngx_http_agnitel_auth(ngx_http_request_t *r, u_char *ws,
    u_char *key_id);


#endif /* _NGX_HTTP_AGNITEL_AUTH_H_INCLUDED_ */
