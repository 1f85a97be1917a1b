
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#define NGX_HTTP_AGNITEL_KEY_LEN         32
#define NGX_HTTP_AGNITEL_DEFAULT_MAP     (256 * 1024 * 1024)

/* ids are a prefix and 16 lowercase hex characters */
#define NGX_HTTP_AGNITEL_ID_LEN          16
#define NGX_HTTP_AGNITEL_WS_ID_LEN       (sizeof("ws_") - 1 + 16)
#define NGX_HTTP_AGNITEL_KEY_ID_LEN      (sizeof("key_") - 1 + 16)
#define NGX_HTTP_AGNITEL_PN_ID_LEN       (sizeof("pn_") - 1 + 16)


typedef struct ngx_http_agnitel_store_s  ngx_http_agnitel_store_t;


typedef struct {
    ngx_str_t                   store_path;
    size_t                      map_size;

    ngx_str_t                   key_file;
    u_char                      key[NGX_HTTP_AGNITEL_KEY_LEN];

    ngx_str_t                   sip_termination_uri;

    /* set when a location uses agnitel_api or agnitel_admin */
    unsigned                    handlers:1;

    /* per process: opened in init_process, closed in exit_process */
    ngx_http_agnitel_store_t   *store;
} ngx_http_agnitel_main_conf_t;


extern ngx_module_t  ngx_http_agnitel_module;


#endif /* _NGX_HTTP_AGNITEL_H_INCLUDED_ */
