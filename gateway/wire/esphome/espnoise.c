/* SPDX-License-Identifier: MIT */
/* gateway/wire/esphome/espnoise.c - Noise_NNpsk0_25519_ChaChaPoly_SHA256
 * on OpenSSL's primitives, as the Noise specification (revision 34) orders
 * them; see espnoise.h.  Checked against the Noise test vectors of
 * cacophony (tests/unit/test_esphome_codec.c). */
#include "espnoise.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

void esp_noise_wipe(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}

/* §12: ChaChaPoly's 96-bit nonce is 32 zero bits, then n little-endian */
static void cs_nonce(uint64_t n, uint8_t iv[12])
{
	memset(iv, 0, 4);
	for (int i = 0; i < 8; i++)
		iv[4 + i] = (uint8_t)(n >> (8 * i));
}

/* ENCRYPT (enc) or DECRYPT of in[n] (the tag included when decrypting)
 * with k and nonce n; 0 or -1 */
static int aead(const uint8_t *k, uint64_t n, bool enc, const uint8_t *ad, size_t adn, const uint8_t *in,
		size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t iv[12];
	int l = 0, ok;
	size_t text = enc ? len : len - ESP_NOISE_TAG;

	if (!c)
		return -1;
	cs_nonce(n, iv);
	ok = EVP_CipherInit_ex(c, EVP_chacha20_poly1305(), NULL, k, iv, enc ? 1 : 0) == 1;
	if (ok && !enc)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, ESP_NOISE_TAG, (void *)(in + text)) == 1;
	if (ok && adn)
		ok = EVP_CipherUpdate(c, NULL, &l, ad, (int)adn) == 1;
	if (ok && text)
		ok = EVP_CipherUpdate(c, out, &l, in, (int)text) == 1;
	if (ok)
		ok = EVP_CipherFinal_ex(c, out + text, &l) == 1;
	if (ok && enc)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, ESP_NOISE_TAG, out + text) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

/* One message through the cipher state (Noise §5.1, EncryptWithAd and
 * DecryptWithAd): unchanged while it has no key; else the text and its
 * 16-byte tag after it (enc), or the text of text || tag, the tag checked.
 * The bytes written, or -1: no room, a spent nonce, a failed tag. */
static long cs_crypt(struct esp_noise_cs *cs, bool enc, const uint8_t *ad, size_t adn, const uint8_t *in,
		     size_t n, uint8_t *out, size_t cap)
{
	if (!cs->keyed) {
		if (cap < n)
			return -1;
		memmove(out, in, n);
		return (long)n;
	}
	/* 2^64-1 is reserved (§5.1); the lengths fit OpenSSL's int */
	if (cs->n == UINT64_MAX || (!enc && n < ESP_NOISE_TAG) || n > 0x7fff0000u)
		return -1;
	size_t outn = enc ? n + ESP_NOISE_TAG : n - ESP_NOISE_TAG;
	if (cap < outn || aead(cs->k, cs->n, enc, ad, adn, in, n, out) < 0)
		return -1;
	cs->n++;
	return (long)outn;
}

long esp_noise_cs_encrypt(struct esp_noise_cs *cs, const uint8_t *ad, size_t adn, const uint8_t *in,
			  size_t n, uint8_t *out, size_t cap)
{
	return cs_crypt(cs, true, ad, adn, in, n, out, cap);
}

long esp_noise_cs_decrypt(struct esp_noise_cs *cs, const uint8_t *ad, size_t adn, const uint8_t *in,
			  size_t n, uint8_t *out, size_t cap)
{
	return cs_crypt(cs, false, ad, adn, in, n, out, cap);
}

/* HMAC-SHA256 of a || b */
static int hmac2(const uint8_t key[ESP_NOISE_KEY], const uint8_t *a, size_t an, const uint8_t *b, size_t bn,
		 uint8_t out[ESP_NOISE_KEY])
{
	uint8_t buf[ESP_NOISE_KEY + 1];
	unsigned int ol = 0;
	const uint8_t *d = a;
	size_t dn = an;

	if (bn) { /* the HKDF's output || counter: never more than 33 bytes */
		if (an + bn > sizeof(buf))
			return -1;
		memcpy(buf, a, an);
		memcpy(buf + an, b, bn);
		d = buf;
		dn = an + bn;
	}
	if (!HMAC(EVP_sha256(), key, ESP_NOISE_KEY, d, dn, out, &ol) || ol != ESP_NOISE_KEY)
		return -1;
	return 0;
}

/* §4.3 HKDF(ck, ikm, num) with num 2 or 3 outputs */
static int hkdf(const uint8_t ck[ESP_NOISE_KEY], const uint8_t *ikm, size_t n, uint8_t *o1, uint8_t *o2,
		uint8_t *o3)
{
	uint8_t tk[ESP_NOISE_KEY];
	static const uint8_t one = 1, two = 2, three = 3;
	int rc = hmac2(ck, ikm, n, NULL, 0, tk);

	if (rc == 0)
		rc = hmac2(tk, &one, 1, NULL, 0, o1);
	if (rc == 0)
		rc = hmac2(tk, o1, ESP_NOISE_KEY, &two, 1, o2);
	if (rc == 0 && o3)
		rc = hmac2(tk, o2, ESP_NOISE_KEY, &three, 1, o3);
	esp_noise_wipe(tk, sizeof(tk));
	return rc;
}

static void cs_init(struct esp_noise_cs *cs, const uint8_t *k)
{
	memcpy(cs->k, k, ESP_NOISE_KEY);
	cs->n = 0;
	cs->keyed = true;
}

int esp_noise_ss_init(struct esp_noise_ss *s, const char *protocol_name)
{
	size_t n = strlen(protocol_name);

	memset(s, 0, sizeof(*s));
	if (n <= ESP_NOISE_KEY)
		memcpy(s->h, protocol_name, n);
	else if (EVP_Digest(protocol_name, n, s->h, NULL, EVP_sha256(), NULL) != 1)
		return -1;
	memcpy(s->ck, s->h, ESP_NOISE_KEY);
	return 0;
}

int esp_noise_mix_hash(struct esp_noise_ss *s, const uint8_t *d, size_t n)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
		 EVP_DigestUpdate(c, s->h, ESP_NOISE_KEY) == 1 && (n == 0 || EVP_DigestUpdate(c, d, n) == 1) &&
		 EVP_DigestFinal_ex(c, s->h, NULL) == 1;

	EVP_MD_CTX_free(c);
	return ok ? 0 : -1;
}

int esp_noise_mix_key(struct esp_noise_ss *s, const uint8_t *ikm, size_t n)
{
	uint8_t tk[ESP_NOISE_KEY];

	if (hkdf(s->ck, ikm, n, s->ck, tk, NULL) < 0)
		return -1;
	cs_init(&s->cs, tk);
	esp_noise_wipe(tk, sizeof(tk));
	return 0;
}

int esp_noise_mix_key_and_hash(struct esp_noise_ss *s, const uint8_t *ikm, size_t n)
{
	uint8_t th[ESP_NOISE_KEY], tk[ESP_NOISE_KEY];
	int rc = hkdf(s->ck, ikm, n, s->ck, th, tk);

	if (rc == 0)
		rc = esp_noise_mix_hash(s, th, sizeof(th));
	if (rc == 0)
		cs_init(&s->cs, tk);
	esp_noise_wipe(tk, sizeof(tk));
	return rc;
}

long esp_noise_encrypt_and_hash(struct esp_noise_ss *s, const uint8_t *in, size_t n, uint8_t *out,
				size_t cap)
{
	long m = esp_noise_cs_encrypt(&s->cs, s->h, ESP_NOISE_KEY, in, n, out, cap);

	if (m < 0 || esp_noise_mix_hash(s, out, (size_t)m) < 0)
		return -1;
	return m;
}

long esp_noise_decrypt_and_hash(struct esp_noise_ss *s, const uint8_t *in, size_t n, uint8_t *out,
				size_t cap)
{
	uint8_t h[ESP_NOISE_KEY];
	long m;

	/* the hash takes the ciphertext, which out may overwrite */
	memcpy(h, s->h, sizeof(h));
	if (esp_noise_mix_hash(s, in, n) < 0)
		return -1;
	m = esp_noise_cs_decrypt(&s->cs, h, sizeof(h), in, n, out, cap);
	if (m < 0)
		memcpy(s->h, h, sizeof(h));
	return m;
}

int esp_noise_split(const struct esp_noise_ss *s, struct esp_noise_cs *c1, struct esp_noise_cs *c2)
{
	uint8_t k1[ESP_NOISE_KEY], k2[ESP_NOISE_KEY];

	if (hkdf(s->ck, NULL, 0, k1, k2, NULL) < 0)
		return -1;
	cs_init(c1, k1);
	cs_init(c2, k2);
	esp_noise_wipe(k1, sizeof(k1));
	esp_noise_wipe(k2, sizeof(k2));
	return 0;
}

int esp_noise_dh_pub(const uint8_t priv[ESP_NOISE_KEY], uint8_t pub[ESP_NOISE_KEY])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, ESP_NOISE_KEY);
	size_t n = ESP_NOISE_KEY;
	int ok = k && EVP_PKEY_get_raw_public_key(k, pub, &n) == 1 && n == ESP_NOISE_KEY;

	EVP_PKEY_free(k);
	return ok ? 0 : -1;
}

int esp_noise_dh(const uint8_t priv[ESP_NOISE_KEY], const uint8_t pub[ESP_NOISE_KEY],
		 uint8_t out[ESP_NOISE_KEY])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, ESP_NOISE_KEY);
	EVP_PKEY *peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pub, ESP_NOISE_KEY);
	EVP_PKEY_CTX *c = k ? EVP_PKEY_CTX_new(k, NULL) : NULL;
	size_t n = ESP_NOISE_KEY;
	/* OpenSSL refuses a shared secret of all zeros (a small-order point) */
	int ok = c && peer && EVP_PKEY_derive_init(c) == 1 && EVP_PKEY_derive_set_peer(c, peer) == 1 &&
		 EVP_PKEY_derive(c, out, &n) == 1 && n == ESP_NOISE_KEY;

	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(peer);
	EVP_PKEY_free(k);
	return ok ? 0 : -1;
}

int esp_noise_dh_generate(uint8_t priv[ESP_NOISE_KEY], uint8_t pub[ESP_NOISE_KEY])
{
	if (RAND_bytes(priv, ESP_NOISE_KEY) != 1)
		return -1;
	return esp_noise_dh_pub(priv, pub);
}

int esp_noise_start(struct esp_noise_hs *hs, const uint8_t *prologue, size_t pn,
		    const uint8_t psk[ESP_NOISE_KEY], const uint8_t *e_priv)
{
	int rc;

	memset(hs, 0, sizeof(*hs));
	memcpy(hs->psk, psk, ESP_NOISE_KEY);
	if (e_priv) {
		memcpy(hs->e_priv, e_priv, ESP_NOISE_KEY);
		rc = esp_noise_dh_pub(hs->e_priv, hs->e_pub);
	} else {
		rc = esp_noise_dh_generate(hs->e_priv, hs->e_pub);
	}
	if (rc == 0)
		rc = esp_noise_ss_init(&hs->ss, ESP_NOISE_NAME);
	if (rc == 0)
		rc = esp_noise_mix_hash(&hs->ss, prologue, pn);
	return rc;
}

/* -> psk, e: MixKeyAndHash(psk); e.pub sent, MixHash and (psk mode) MixKey
 * of it; the payload EncryptAndHash'ed */
long esp_noise_write_e(struct esp_noise_hs *hs, const uint8_t *payload, size_t n, uint8_t *out,
		       size_t cap)
{
	long m;

	if (cap < ESP_NOISE_KEY)
		return -1;
	if (esp_noise_mix_key_and_hash(&hs->ss, hs->psk, ESP_NOISE_KEY) < 0)
		return -1;
	memcpy(out, hs->e_pub, ESP_NOISE_KEY);
	if (esp_noise_mix_hash(&hs->ss, hs->e_pub, ESP_NOISE_KEY) < 0 ||
	    esp_noise_mix_key(&hs->ss, hs->e_pub, ESP_NOISE_KEY) < 0)
		return -1;
	m = esp_noise_encrypt_and_hash(&hs->ss, payload, n, out + ESP_NOISE_KEY, cap - ESP_NOISE_KEY);
	return m < 0 ? -1 : m + ESP_NOISE_KEY;
}

/* <- e, ee: re read, MixHash and MixKey of it; MixKey(DH(e, re)); the
 * payload DecryptAndHash'ed (its tag proves the responder had the psk) */
long esp_noise_read_e_ee(struct esp_noise_hs *hs, const uint8_t *in, size_t n, uint8_t *out,
			 size_t cap)
{
	uint8_t dh[ESP_NOISE_KEY];
	int rc;

	if (n < ESP_NOISE_KEY + ESP_NOISE_TAG)
		return -1;
	rc = esp_noise_mix_hash(&hs->ss, in, ESP_NOISE_KEY);
	if (rc == 0)
		rc = esp_noise_mix_key(&hs->ss, in, ESP_NOISE_KEY);
	if (rc == 0)
		rc = esp_noise_dh(hs->e_priv, in, dh);
	if (rc == 0)
		rc = esp_noise_mix_key(&hs->ss, dh, sizeof(dh));
	esp_noise_wipe(dh, sizeof(dh));
	if (rc < 0)
		return -1;
	return esp_noise_decrypt_and_hash(&hs->ss, in + ESP_NOISE_KEY, n - ESP_NOISE_KEY, out, cap);
}

int esp_noise_finish(struct esp_noise_hs *hs, struct esp_noise_cs *send, struct esp_noise_cs *recv)
{
	int rc = esp_noise_split(&hs->ss, send, recv);

	esp_noise_wipe(hs, sizeof(*hs));
	return rc;
}
