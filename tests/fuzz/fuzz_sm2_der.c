/* fuzz_sm2_der.c - the hand-written DER and PEM readers behind SM2: public keys from
 * PEM and signatures in DER.  The input's first byte picks the parser; a public key
 * that parses is then used to verify the rest of the input as a signature. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/der.h"
#include "crypto/sm2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sm2_key *fixed;
	struct sm2_key *pub = NULL;
	unsigned char der[512];
	size_t len = 0;

	if (!fixed && (crypto_init() != GV_OK || sm2_key_generate(&fixed) != GV_OK))
		abort();
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		/* A signature: must never verify (nobody signed this), must never crash. */
		if (sm2_verify(fixed, "govvault", 8, data + 1, size - 1) == GV_OK)
			abort();
		break;
	case 1:
		if (sm2_pubkey_from_pem((const char *)data + 1, size - 1, &pub) == GV_OK) {
			(void)!sm2_verify(pub, "m", 1, data + 1, size > 73 ? 72 : size - 1);
			sm2_key_free(pub);
		}
		break;
	default:
		(void)!der_pem_decode((const char *)data + 1, size - 1, "PUBLIC KEY", der, sizeof(der), &len);
		break;
	}
	return 0;
}
