/* consumer.c - the applications of other departments that call data services: their
 * credentials (a client id and a secret the store keeps only as a keyed hash, or a
 * client certificate), their address allowlist and the services they are bound to. */
#include "share/share.h"

#include <stdio.h>
#include <string.h>

#include "common/cidr.h"
#include "common/util.h"
#include "crypto/crypto.h"
#include "policy/policy.h"
#include "share/ratelimit.h"
#include "share/shared.h"

/* Every name in c->services must be a service c's department may be bound to. */
static gv_err check_bindings(struct gv_app *app, const struct store_consumer *c, char *why,
			     size_t whylen)
{
	for (const char *p = c->services; *p;) {
		size_t n = strcspn(p, ",");
		char name[64];
		struct store_service s;
		gv_err err;

		snprintf(name, sizeof(name), "%.*s", (int)(n < 63 ? n : 63), p);
		err = n < 63 ? share_service_latest(app, name, &s) : GV_ERR_NOT_FOUND;
		if (n >= 63)
			snprintf(name, sizeof(name), "(too long)");
		if (err == GV_ERR_NOT_FOUND || (err == GV_OK && !s.open &&
						strcmp(s.department, c->department) != 0)) {
			snprintf(why, whylen, "services: no service '%s' approved for department '%s'",
				 name, c->department);
			return GV_ERR_INVALID;
		}
		if (err != GV_OK)
			return err;
		p += n + (p[n] == ',');
	}
	return GV_OK;
}

/* A new secret into secret and its keyed hash into c. */
static gv_err new_secret(struct gv_app *app, struct store_consumer *c, char secret[65])
{
	unsigned char raw[32];
	gv_err err;

	util_random_bytes(raw, sizeof(raw));
	util_hex_encode(raw, sizeof(raw), secret);
	util_wipe(raw, sizeof(raw));
	err = crypto_hmac_sm3_hex(app->keys.token, sizeof(app->keys.token), secret, c->secret_hash);
	if (err != GV_OK)
		util_wipe(secret, 65);
	return err;
}

gv_err share_consumer_create(struct gv_app *app, const struct store_account *actor,
			     struct store_consumer *c, char secret[65], char *why, size_t whylen)
{
	unsigned char id[8];
	gv_err err;

	why[0] = secret[0] = '\0';
	if (!c->department[0] || !c->ip_allowlist[0]) {
		snprintf(why, whylen, "a consumer belongs to a department and is bound to an "
			 "address allowlist");
		return GV_ERR_INVALID;
	}
	err = check_bindings(app, c, why, whylen);
	if (err != GV_OK)
		return err;
	if (c->cert_fp[0] && share_cert_taken(app, c->cert_fp, NULL)) {
		snprintf(why, whylen, "another consumer presents that certificate");
		return GV_ERR_EXISTS;
	}
	util_random_bytes(id, sizeof(id));
	memcpy(c->client_id, "gvc_", 4);
	util_hex_encode(id, sizeof(id), c->client_id + 4);
	c->state = CONSUMER_ACTIVE;
	snprintf(c->created_by, sizeof(c->created_by), "%s", actor->username);
	c->created_at = c->updated_at = util_now_s();
	c->revoked_by[0] = '\0';
	c->revoked_at = 0;
	err = new_secret(app, c, secret);
	if (err == GV_OK)
		err = app->st->ops->consumer_insert(app->st, c);
	if (err != GV_OK)
		util_wipe(secret, 65);
	util_wipe(c->secret_hash, sizeof(c->secret_hash));
	share_invalidate();
	return err;
}

gv_err share_consumer_change(struct gv_app *app, const char *client_id,
			     const struct store_consumer *with, unsigned what,
			     struct store_consumer *out, char *why, size_t whylen)
{
	gv_err err = app->st->ops->consumer_get(app->st, client_id, out);

	why[0] = '\0';
	if (err == GV_ERR_NOT_FOUND)
		snprintf(why, whylen, "no such consumer");
	if (err == GV_OK && out->state != CONSUMER_ACTIVE) {
		snprintf(why, whylen, "the consumer is revoked");
		err = GV_ERR_STATE;
	}
	if (err == GV_OK) {
		if (what & CONSUMER_SET_NAME)
			snprintf(out->name, sizeof(out->name), "%s", with->name);
		if (what & CONSUMER_SET_ALLOWLIST)
			snprintf(out->ip_allowlist, sizeof(out->ip_allowlist), "%s", with->ip_allowlist);
		if (what & CONSUMER_SET_SERVICES)
			snprintf(out->services, sizeof(out->services), "%s", with->services);
		if (what & CONSUMER_SET_CERT)
			snprintf(out->cert_fp, sizeof(out->cert_fp), "%s", with->cert_fp);
		out->updated_at = util_now_s();
		err = check_bindings(app, out, why, whylen);
	}
	if (err == GV_OK && out->cert_fp[0] && share_cert_taken(app, out->cert_fp, out->client_id)) {
		snprintf(why, whylen, "another consumer presents that certificate");
		err = GV_ERR_EXISTS;
	}
	if (err == GV_OK)
		err = app->st->ops->consumer_update(app->st, out);
	util_wipe(out->secret_hash, sizeof(out->secret_hash));
	share_invalidate();
	return err;
}

gv_err share_consumer_revoke(struct gv_app *app, const struct store_account *actor,
			     const char *client_id, struct store_consumer *out)
{
	gv_err err = app->st->ops->consumer_get(app->st, client_id, out);

	if (err == GV_OK && out->state != CONSUMER_ACTIVE)
		err = GV_ERR_STATE;
	if (err == GV_OK) {
		out->state = CONSUMER_REVOKED;
		snprintf(out->revoked_by, sizeof(out->revoked_by), "%s", actor->username);
		out->revoked_at = out->updated_at = util_now_s();
		err = app->st->ops->consumer_update(app->st, out);
	}
	util_wipe(out->secret_hash, sizeof(out->secret_hash));
	share_invalidate();
	return err;
}

gv_err share_consumer_rotate(struct gv_app *app, const char *client_id, char secret[65],
			     struct store_consumer *out)
{
	gv_err err = app->st->ops->consumer_get(app->st, client_id, out);

	secret[0] = '\0';
	if (err == GV_OK && out->state != CONSUMER_ACTIVE)
		err = GV_ERR_STATE;
	if (err == GV_OK)
		err = new_secret(app, out, secret);
	if (err == GV_OK) {
		out->updated_at = util_now_s();
		err = app->st->ops->consumer_update(app->st, out);
	}
	if (err != GV_OK)
		util_wipe(secret, 65);
	util_wipe(out->secret_hash, sizeof(out->secret_hash));
	share_invalidate();
	return err;
}

json_t *share_consumer_json(const struct store_consumer *c)
{
	return json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:s,s:s,s:o,s:s,s:o,s:o}",
			 "client_id", c->client_id, "name", c->name, "department", c->department,
			 "ip_allowlist", policy_list_json(c->ip_allowlist),
			 "services", policy_list_json(c->services),
			 "cert_fp", c->cert_fp[0] ? json_string(c->cert_fp) : json_null(),
			 "state", c->state == CONSUMER_ACTIVE ? "active" : "revoked",
			 "created_by", c->created_by, "created_at", share_time_json(c->created_at),
			 "revoked_by", c->revoked_by, "revoked_at", share_time_json(c->revoked_at),
			 "updated_at", share_time_json(c->updated_at));
}
