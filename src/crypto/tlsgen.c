/* tlsgen.c - self-signed server certificate for `govvault init` (GnuTLS). */
#include "crypto/crypto.h"

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <string.h>
#include <time.h>

#include "common/util.h"

static gv_err export_pem(int is_key, void *obj, const char *path)
{
	gnutls_datum_t out = {NULL, 0};
	gv_err err;
	int rc;

	if (is_key)
		rc = gnutls_x509_privkey_export2(obj, GNUTLS_X509_FMT_PEM, &out);
	else
		rc = gnutls_x509_crt_export2(obj, GNUTLS_X509_FMT_PEM, &out);
	if (rc < 0)
		return GV_ERR_CRYPTO;
	err = util_file_write(path, out.data, out.size, is_key ? 0600 : 0644);
	util_wipe(out.data, out.size);
	gnutls_free(out.data);
	return err;
}

static int add_ip(gnutls_x509_crt_t crt, int family, const char *text)
{
	unsigned char addr[16];

	if (inet_pton(family, text, addr) != 1)
		return -1;
	return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, addr,
						    family == AF_INET ? 4 : 16, GNUTLS_FSAN_APPEND);
}

gv_err tlsgen_self_signed(const char *cert_path, const char *key_path, const char *extra_name,
			  unsigned days)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	unsigned char serial[16];
	gv_err err = GV_ERR_CRYPTO;
	time_t now = time(NULL);
	const char *dn_err = NULL;

	if (gnutls_x509_privkey_init(&key) < 0 || gnutls_x509_crt_init(&crt) < 0)
		goto out;
	if (gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
					 GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0)
		goto out;
	util_random_bytes(serial, sizeof(serial));
	serial[0] &= 0x7f; /* positive INTEGER */
	if (gnutls_x509_crt_set_version(crt, 3) < 0 ||
	    gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)) < 0 ||
	    gnutls_x509_crt_set_activation_time(crt, now - 300) < 0 ||
	    gnutls_x509_crt_set_expiration_time(crt, now + (time_t)days * 86400) < 0 ||
	    gnutls_x509_crt_set_dn(crt, "CN=govvault,O=govvault self-signed", &dn_err) < 0 ||
	    gnutls_x509_crt_set_key(crt, key) < 0 ||
	    gnutls_x509_crt_set_basic_constraints(crt, 0, -1) < 0 ||
	    gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE) < 0 ||
	    gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0) < 0)
		goto out;
	if (gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, "localhost", 9,
						 GNUTLS_FSAN_APPEND) < 0 ||
	    add_ip(crt, AF_INET, "127.0.0.1") < 0 || add_ip(crt, AF_INET6, "::1") < 0)
		goto out;
	if (extra_name && *extra_name) {
		int rc;

		if (strchr(extra_name, ':') || strspn(extra_name, "0123456789.") == strlen(extra_name))
			rc = add_ip(crt, strchr(extra_name, ':') ? AF_INET6 : AF_INET, extra_name);
		else
			rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, extra_name,
								  (unsigned)strlen(extra_name),
								  GNUTLS_FSAN_APPEND);
		if (rc < 0) {
			err = GV_ERR_INVALID;
			goto out;
		}
	}
	if (gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0) < 0)
		goto out;
	err = export_pem(1, key, key_path);
	if (err == GV_OK)
		err = export_pem(0, crt, cert_path);
out:
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (key)
		gnutls_x509_privkey_deinit(key);
	return err;
}
