
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_NUMBER_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_NUMBER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>
#include <lmdb.h>

#include "ngx_http_agnitel_json.h"
#include "ngx_http_agnitel_store.h"


/* what a write on a number not of a managed account returns: no LMDB code */
#define NGX_HTTP_AGNITEL_NOT_MANAGED  (MDB_KEYEXIST + 1003)



ngx_int_t ngx_http_agnitel_path_number(ngx_http_request_t *r, u_char *key,
    size_t *key_len);
ngx_int_t ngx_http_agnitel_number_insert(ngx_http_request_t *r,
    ngx_str_t *number, MDB_val *val, const char *message);
ngx_int_t ngx_http_agnitel_number_rename(ngx_http_request_t *r, u_char *key,
    size_t key_len, ngx_str_t *name, ngx_int_t auto_renew);
ngx_int_t ngx_http_agnitel_number_release_local(ngx_http_request_t *r);
ngx_http_agnitel_json_t *ngx_http_agnitel_reply_view(ngx_http_request_t *r,
    const char *message, MDB_val *val);
ngx_http_agnitel_json_t *ngx_http_agnitel_view_envelope(ngx_pool_t *pool,
    const char *message, MDB_val *val);
ngx_int_t ngx_http_agnitel_number_activate(ngx_pool_t *pool, json_t *rec,
    const char *sid, json_t *caps, ngx_http_agnitel_main_conf_t *amcf,
    MDB_val *val);
time_t ngx_http_agnitel_number_renewal(ngx_http_agnitel_main_conf_t *amcf,
    json_t *rec);
ngx_uint_t ngx_http_agnitel_number_india(json_t *rec);
int ngx_http_agnitel_number_retire(ngx_pool_t *pool, MDB_txn *txn,
    ngx_http_agnitel_store_t *store, ngx_str_t *ws, ngx_str_t *number,
    json_t *rec, time_t now, const char *reason, MDB_val *v);
ngx_int_t ngx_http_agnitel_sip_host(ngx_str_t *uri, ngx_str_t *host);
ngx_int_t ngx_http_agnitel_sip_uri_valid(ngx_str_t *uri);

ngx_int_t ngx_http_agnitel_number_taken(ngx_http_request_t *r);
ngx_int_t ngx_http_agnitel_number_not_found(ngx_http_request_t *r);
ngx_int_t ngx_http_agnitel_bad_path_number(ngx_http_request_t *r);


#endif /* _NGX_HTTP_AGNITEL_NUMBER_H_INCLUDED_ */
