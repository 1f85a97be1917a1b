
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_CRYPTO_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_CRYPTO_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* "agn_" + 32 base62 characters */
#define NGX_HTTP_AGNITEL_API_KEY_LEN   (sizeof("agn_") - 1 + 32)


char *ngx_http_agnitel_secret_file(ngx_conf_t *cf, const char *name,
    ngx_str_t *path, u_char *buf, size_t size, size_t *len);
char *ngx_http_agnitel_crypto_load_key(ngx_conf_t *cf, ngx_str_t *path,
    u_char *key);

ngx_int_t ngx_http_agnitel_random(u_char *buf, size_t len);
ngx_int_t ngx_http_agnitel_make_id(u_char *dst, const char *prefix);
ngx_int_t ngx_http_agnitel_id_valid(ngx_str_t *id, const char *prefix);
ngx_int_t ngx_http_agnitel_hmac_sha1(ngx_pool_t *pool, ngx_str_t *key,
    ngx_str_t *data, ngx_str_t *out);
ngx_int_t ngx_http_agnitel_make_api_key(u_char *dst);
ngx_int_t ngx_http_agnitel_api_key_valid(ngx_str_t *key);
void ngx_http_agnitel_crypto_init(void);
void ngx_http_agnitel_crypto_done(void);
void ngx_http_agnitel_sha256(u_char *dst, u_char *data, size_t len);

ngx_int_t ngx_http_agnitel_seal(ngx_pool_t *pool, u_char *key,
    ngx_str_t *aad, ngx_str_t *plain, ngx_str_t *sealed);
ngx_int_t ngx_http_agnitel_open(ngx_pool_t *pool, u_char *key,
    ngx_str_t *aad, ngx_str_t *sealed, ngx_str_t *plain);


#endif /* _NGX_HTTP_AGNITEL_CRYPTO_H_INCLUDED_ */
