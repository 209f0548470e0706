/* cli_http.c - libcurl request/response for the CLI. */
#include "cmd/cli_http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/util.h"

static size_t on_data(char *ptr, size_t size, size_t n, void *ctx)
{
	return buf_append(ctx, ptr, size * n) == GV_OK ? size * n : 0;
}

gv_err cli_http_call(const struct cli_http *h, const char *method, const char *path,
		     json_t *body, long *status, json_t **out)
{
	struct curl_slist *hdrs = NULL;
	char url[2048], auth[160];
	struct gv_buf resp;
	char *text = NULL;
	gv_err err = GV_ERR_IO;
	CURL *c;

	*out = NULL;
	*status = 0;
	if (snprintf(url, sizeof(url), "%s%s", h->url, path) >= (int)sizeof(url))
		return GV_ERR_INVALID;
	c = curl_easy_init();
	if (!c)
		return GV_ERR_NOMEM;
	buf_init(&resp, 64 << 20);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	if (h->token[0]) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", h->token);
		hdrs = curl_slist_append(hdrs, auth);
		util_wipe(auth, sizeof(auth));
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
	if (h->cacert)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->cacert);
	if (h->cert) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, h->cert);
		curl_easy_setopt(c, CURLOPT_SSLKEY, h->key);
	}
	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		if (!text)
			goto out;
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
	}
	if (curl_easy_perform(c) != CURLE_OK)
		goto out;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	*out = resp.len ? json_loadb(resp.data, resp.len, 0, NULL) : json_object();
	err = *out ? GV_OK : GV_ERR_INVALID;
out:
	if (text) {
		util_wipe(text, strlen(text));
		free(text);
	}
	buf_release(&resp);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return err;
}
