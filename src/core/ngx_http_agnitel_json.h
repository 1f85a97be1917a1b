
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_JSON_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_JSON_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <jansson.h>
#include <lmdb.h>


/*
 * A JSON text writer into pool memory.  Responses are written with it
 * rather than jansson so that money goes out as exact decimals computed from
 * integer micro-units, and stored number views can be copied in verbatim.
 * Errors are sticky: check "failed" once at the end.
 */

typedef struct {
    ngx_pool_t                 *pool;
    u_char                     *start;
    u_char                     *pos;
    u_char                     *end;
    unsigned                    failed:1;
} ngx_http_agnitel_json_t;


/*
 * A member looked up in JSON text (ngx_http_agnitel_json_members()): its
 * name, and its value's text; arrays of them end with a NULL name.
 */
typedef struct {
    const char                 *name;
    ngx_str_t                   text;
} ngx_http_agnitel_json_field_t;

/* the longest member name looked up */
#define NGX_HTTP_AGNITEL_JSON_NAME_MAX  32


#define ngx_http_agnitel_json_lit(j, s)                                      \
    ngx_http_agnitel_json_raw(j, (u_char *) s, sizeof(s) - 1)


void ngx_http_agnitel_json_init(ngx_http_agnitel_json_t *j, ngx_pool_t *pool,
    size_t size);
void ngx_http_agnitel_json_raw(ngx_http_agnitel_json_t *j, u_char *s,
    size_t len);
void ngx_http_agnitel_json_str(ngx_http_agnitel_json_t *j, u_char *s,
    size_t len);
void ngx_http_agnitel_json_key(ngx_http_agnitel_json_t *j, const char *key);
void ngx_http_agnitel_json_member(ngx_http_agnitel_json_t *j,
    const char *key, json_t *v);
void ngx_http_agnitel_json_text(ngx_http_agnitel_json_t *j, const char *key,
    ngx_str_t *s);
void ngx_http_agnitel_json_int(ngx_http_agnitel_json_t *j, int64_t n);
void ngx_http_agnitel_json_money(ngx_http_agnitel_json_t *j, int64_t micros);
void ngx_http_agnitel_json_time(ngx_http_agnitel_json_t *j, int64_t t);
ngx_int_t ngx_http_agnitel_money_parse(u_char *s, size_t len,
    int64_t *micros);
ngx_int_t ngx_http_agnitel_json_member_text(u_char *p, size_t len,
    const char *name, ngx_str_t *value);
ngx_int_t ngx_http_agnitel_json_members(u_char *p, size_t len,
    ngx_http_agnitel_json_field_t *fields);
ngx_int_t ngx_http_agnitel_json_string(ngx_pool_t *pool, ngx_str_t *text,
    ngx_str_t *value);
ngx_int_t ngx_http_agnitel_json_money_member(u_char *p, size_t len,
    const char *name, int64_t *micros);
json_t *ngx_http_agnitel_json_flat(u_char *p, size_t len);
ngx_int_t ngx_http_agnitel_json_own(ngx_pool_t *pool, json_t *json);
ngx_int_t ngx_http_agnitel_json_dump(ngx_pool_t *pool, json_t *json,
    MDB_val *out);
void ngx_http_agnitel_json_value(ngx_http_agnitel_json_t *j, json_t *v);
void ngx_http_agnitel_json_bool(ngx_http_agnitel_json_t *j, ngx_uint_t b);


#endif /* _NGX_HTTP_AGNITEL_JSON_H_INCLUDED_ */
