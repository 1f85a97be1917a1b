
/*
 * Copyright (C) agnitel
 *
 * Placeholder: the sandbox emulator is being written in this file.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_agnitel_sandbox.h"


ngx_int_t
ngx_http_agnitel_sandbox_handler(ngx_http_request_t *r)
{
    return NGX_HTTP_NOT_IMPLEMENTED;
}
