
/*
 * Copyright (C) agnitel
 *
 * The agnitel module: the telephony back end of a voice-AI platform.
 * This file holds the directives, the configuration and the process hooks;
 * everything else lives in src/.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_agnitel.h"
#include "ngx_http_agnitel_crypto.h"
#include "ngx_http_agnitel_numbers.h"
#include "ngx_http_agnitel_routes.h"
#include "ngx_http_agnitel_store.h"


/* LMDB needs a handful of pages for its named databases */
#define NGX_HTTP_AGNITEL_MIN_MAP  (32 * 1024)


static void *ngx_http_agnitel_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_agnitel_init_main_conf(ngx_conf_t *cf, void *conf);
static char *ngx_http_agnitel_store_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_agnitel_key_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_agnitel_sip_uri(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_agnitel_handler_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_agnitel_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_agnitel_init_process(ngx_cycle_t *cycle);
static void ngx_http_agnitel_exit_process(ngx_cycle_t *cycle);
static ngx_http_agnitel_main_conf_t *ngx_http_agnitel_cycle_conf(
    ngx_cycle_t *cycle);


static ngx_command_t  ngx_http_agnitel_commands[] = {

    { ngx_string("agnitel_store"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_agnitel_store_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("agnitel_secret_key_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_agnitel_key_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("agnitel_sip_termination_uri"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_agnitel_sip_uri,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("agnitel_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_agnitel_handler_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      ngx_http_agnitel_api_handler },

    { ngx_string("agnitel_admin"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_agnitel_handler_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      ngx_http_agnitel_admin_handler },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_agnitel_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_agnitel_create_main_conf,     /* create main configuration */
    ngx_http_agnitel_init_main_conf,       /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_agnitel_module = {
    NGX_MODULE_V1,
    &ngx_http_agnitel_module_ctx,          /* module context */
    ngx_http_agnitel_commands,             /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_agnitel_init_module,          /* init module */
    ngx_http_agnitel_init_process,         /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_agnitel_exit_process,         /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_agnitel_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_agnitel_main_conf_t  *amcf;

    amcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_agnitel_main_conf_t));
    if (amcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     amcf->store_path = { 0, NULL };
     *     amcf->key_file = { 0, NULL };
     *     amcf->sip_termination_uri = { 0, NULL };
     *     amcf->handlers = 0;
     *     amcf->store = NULL;
     */

    amcf->map_size = NGX_CONF_UNSET_SIZE;

    return amcf;
}


static char *
ngx_http_agnitel_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_agnitel_main_conf_t  *amcf = conf;

    ngx_conf_init_size_value(amcf->map_size, NGX_HTTP_AGNITEL_DEFAULT_MAP);

    if (!amcf->handlers) {
        return NGX_CONF_OK;
    }

    if (amcf->store_path.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "agnitel_api and agnitel_admin need "
                           "\"agnitel_store\" in the http block");
        return NGX_CONF_ERROR;
    }

    if (amcf->key_file.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "agnitel_api and agnitel_admin need "
                           "\"agnitel_secret_key_file\" in the http block: "
                           "secrets are stored encrypted");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* agnitel_store PATH [map_size=SIZE]; */

static char *
ngx_http_agnitel_store_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_agnitel_main_conf_t  *amcf = conf;

    off_t       size;
    ngx_str_t  *value, s;

    if (amcf->store_path.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    amcf->store_path = value[1];

    while (amcf->store_path.len > 1
           && amcf->store_path.data[amcf->store_path.len - 1] == '/')
    {
        amcf->store_path.data[--amcf->store_path.len] = '\0';
    }

    if (amcf->store_path.len == 0) {
        return "has an empty path";
    }

    /* relative paths are relative to the prefix, as nginx's own are */

    if (ngx_conf_full_name(cf->cycle, &amcf->store_path, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts == 2) {
        return NGX_CONF_OK;
    }

    if (ngx_strncmp(value[2].data, "map_size=", 9) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    s.data = value[2].data + 9;
    s.len = value[2].len - 9;

    size = ngx_parse_offset(&s);

    if (size == NGX_ERROR || size < NGX_HTTP_AGNITEL_MIN_MAP
        || (uint64_t) size > NGX_MAX_SIZE_T_VALUE)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid map_size \"%V\": a size of at least "
                           "32k, such as 256m or 2g", &s);
        return NGX_CONF_ERROR;
    }

    amcf->map_size = (size_t) size;

    return NGX_CONF_OK;
}


static char *
ngx_http_agnitel_key_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_agnitel_main_conf_t  *amcf = conf;

    ngx_str_t  *value;

    if (amcf->key_file.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    amcf->key_file = value[1];

    if (ngx_conf_full_name(cf->cycle, &amcf->key_file, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return ngx_http_agnitel_crypto_load_key(cf, &amcf->key_file, amcf->key);
}


static char *
ngx_http_agnitel_sip_uri(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_agnitel_main_conf_t  *amcf = conf;

    ngx_str_t  *value;

    if (amcf->sip_termination_uri.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_agnitel_sip_uri_valid(&value[1]) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid SIP URI \"%V\": it must start with "
                           "\"sip:\" or \"sips:\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    amcf->sip_termination_uri = value[1];

    return NGX_CONF_OK;
}


/* agnitel_api; and agnitel_admin; install their content handler */

static char *
ngx_http_agnitel_handler_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_core_loc_conf_t      *clcf;
    ngx_http_agnitel_main_conf_t  *amcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler) {
        return "is duplicate or conflicts with another content handler";
    }

    clcf->handler = (ngx_http_handler_pt) cmd->post;

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_agnitel_module);
    amcf->handlers = 1;

    return NGX_CONF_OK;
}


/* master: create or check the store, then close it again */

static ngx_int_t
ngx_http_agnitel_init_module(ngx_cycle_t *cycle)
{
    ngx_http_agnitel_main_conf_t  *amcf;

    amcf = ngx_http_agnitel_cycle_conf(cycle);

    if (amcf == NULL || amcf->store_path.len == 0) {
        return NGX_OK;
    }

    return ngx_http_agnitel_store_init(cycle, amcf);
}


static ngx_int_t
ngx_http_agnitel_init_process(ngx_cycle_t *cycle)
{
    ngx_http_agnitel_main_conf_t  *amcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    amcf = ngx_http_agnitel_cycle_conf(cycle);

    if (amcf == NULL || amcf->store_path.len == 0) {
        return NGX_OK;
    }

    return ngx_http_agnitel_store_open(cycle, amcf);
}


static void
ngx_http_agnitel_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_agnitel_main_conf_t  *amcf;

    amcf = ngx_http_agnitel_cycle_conf(cycle);

    if (amcf) {
        ngx_http_agnitel_store_close(amcf);
    }
}


static ngx_http_agnitel_main_conf_t *
ngx_http_agnitel_cycle_conf(ngx_cycle_t *cycle)
{
    if (cycle->conf_ctx[ngx_http_module.index] == NULL) {
        return NULL;
    }

    return ngx_http_cycle_get_module_main_conf(cycle, ngx_http_agnitel_module);
}
