
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_SANDBOX_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_SANDBOX_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* the sandbox account's credentials unless the directive names others */
#define NGX_HTTP_AGNITEL_SANDBOX_SID    "AC00000000000000000000000000000000"
#define NGX_HTTP_AGNITEL_SANDBOX_TOKEN  "sandbox-auth-token"

/* the sandbox's Indian carrier: its account, API key and token */
#define NGX_HTTP_AGNITEL_SANDBOX_INDIA_SID    "agnitel-sandbox"
#define NGX_HTTP_AGNITEL_SANDBOX_INDIA_KEY    "sandbox-india-key"
#define NGX_HTTP_AGNITEL_SANDBOX_INDIA_TOKEN  "sandbox-india-token"


typedef struct {
    ngx_str_t                   sid;
    ngx_str_t                   token;
} ngx_http_agnitel_sandbox_loc_conf_t;


ngx_int_t ngx_http_agnitel_sandbox_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_agnitel_sandbox_replay(ngx_http_request_t *r);
ngx_int_t ngx_http_agnitel_sandbox_verify(ngx_http_request_t *r,
    ngx_str_t *account);
ngx_int_t ngx_http_agnitel_sandbox_india(ngx_http_request_t *r);
void ngx_http_agnitel_sandbox_replay_done(void);
ngx_int_t ngx_http_agnitel_sandbox_subaccount(ngx_http_request_t *r,
    ngx_str_t *user, ngx_str_t *pass);
ngx_int_t ngx_http_agnitel_sandbox_subaccount_token(ngx_http_request_t *r,
    ngx_str_t *sid, ngx_str_t *token);
ngx_int_t ngx_http_agnitel_sandbox_subaccount_create(ngx_http_request_t *r,
    ngx_str_t *owner);
ngx_int_t ngx_http_agnitel_sandbox_subaccount_update(ngx_http_request_t *r,
    ngx_str_t *sid);


extern ngx_module_t  ngx_http_agnitel_sandbox_module;


#endif /* _NGX_HTTP_AGNITEL_SANDBOX_H_INCLUDED_ */
