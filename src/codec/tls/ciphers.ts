/**
 * TLS cipher suite numbers → IANA names. Source: IANA "TLS Cipher Suites" registry
 * (https://www.iana.org/assignments/tls-parameters/tls-parameters.xhtml#tls-parameters-4), values as assigned by
 * RFC 5246 App. A.5, RFC 4492/8422 (ECC), RFC 5288/5289 (GCM), RFC 6655 (CCM), RFC 7905 (ChaCha20-Poly1305),
 * RFC 8446 §B.4 (TLS 1.3), RFC 5746 (SCSV), RFC 7507 (FALLBACK_SCSV). Only suites an RDP client or server plausibly
 * sends are listed; any other value is named `unknown(0x…)` and keeps its number.
 */
export const CIPHER_SUITE_NAMES: Readonly<Record<number, string>> = {
  0x0000: 'TLS_NULL_WITH_NULL_NULL',
  0x0001: 'TLS_RSA_WITH_NULL_MD5',
  0x0002: 'TLS_RSA_WITH_NULL_SHA',
  0x0004: 'TLS_RSA_WITH_RC4_128_MD5',
  0x0005: 'TLS_RSA_WITH_RC4_128_SHA',
  0x0009: 'TLS_RSA_WITH_DES_CBC_SHA',
  0x000a: 'TLS_RSA_WITH_3DES_EDE_CBC_SHA',
  0x0013: 'TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA',
  0x0016: 'TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA',
  0x002f: 'TLS_RSA_WITH_AES_128_CBC_SHA',
  0x0032: 'TLS_DHE_DSS_WITH_AES_128_CBC_SHA',
  0x0033: 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA',
  0x0035: 'TLS_RSA_WITH_AES_256_CBC_SHA',
  0x0038: 'TLS_DHE_DSS_WITH_AES_256_CBC_SHA',
  0x0039: 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA',
  0x003b: 'TLS_RSA_WITH_NULL_SHA256',
  0x003c: 'TLS_RSA_WITH_AES_128_CBC_SHA256',
  0x003d: 'TLS_RSA_WITH_AES_256_CBC_SHA256',
  0x0040: 'TLS_DHE_DSS_WITH_AES_128_CBC_SHA256',
  0x0041: 'TLS_RSA_WITH_CAMELLIA_128_CBC_SHA',
  0x0067: 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA256',
  0x006a: 'TLS_DHE_DSS_WITH_AES_256_CBC_SHA256',
  0x006b: 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA256',
  0x0084: 'TLS_RSA_WITH_CAMELLIA_256_CBC_SHA',
  0x009c: 'TLS_RSA_WITH_AES_128_GCM_SHA256',
  0x009d: 'TLS_RSA_WITH_AES_256_GCM_SHA384',
  0x009e: 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256',
  0x009f: 'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384',
  0x00a2: 'TLS_DHE_DSS_WITH_AES_128_GCM_SHA256',
  0x00a3: 'TLS_DHE_DSS_WITH_AES_256_GCM_SHA384',
  0x00ff: 'TLS_EMPTY_RENEGOTIATION_INFO_SCSV',
  0x1301: 'TLS_AES_128_GCM_SHA256',
  0x1302: 'TLS_AES_256_GCM_SHA384',
  0x1303: 'TLS_CHACHA20_POLY1305_SHA256',
  0x1304: 'TLS_AES_128_CCM_SHA256',
  0x1305: 'TLS_AES_128_CCM_8_SHA256',
  0x5600: 'TLS_FALLBACK_SCSV',
  0xc008: 'TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA',
  0xc009: 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA',
  0xc00a: 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA',
  0xc011: 'TLS_ECDHE_RSA_WITH_RC4_128_SHA',
  0xc012: 'TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA',
  0xc013: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA',
  0xc014: 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA',
  0xc023: 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256',
  0xc024: 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384',
  0xc027: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256',
  0xc028: 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384',
  0xc02b: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
  0xc02c: 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
  0xc02f: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  0xc030: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  0xc09c: 'TLS_RSA_WITH_AES_128_CCM',
  0xc09d: 'TLS_RSA_WITH_AES_256_CCM',
  0xc0ac: 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM',
  0xc0ad: 'TLS_ECDHE_ECDSA_WITH_AES_256_CCM',
  0xcca8: 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
  0xcca9: 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
  0xccaa: 'TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
};

/** RFC 8701 GREASE values (0x?A?A): reserved, sent to keep peers tolerant. */
export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
}

export function cipherSuiteName(v: number): string {
  if (isGrease(v)) return `GREASE(0x${v.toString(16).padStart(4, '0')})`;
  return CIPHER_SUITE_NAMES[v] ?? `unknown(0x${v.toString(16).padStart(4, '0')})`;
}

/** ProtocolVersion (RFC 8446 §4.1.2 / RFC 5246 §6.2.1) → the names node:tls and the Observation use. */
export const TLS_VERSION_NAMES: Readonly<Record<number, string>> = {
  0x0300: 'SSLv3',
  0x0301: 'TLSv1',
  0x0302: 'TLSv1.1',
  0x0303: 'TLSv1.2',
  0x0304: 'TLSv1.3',
};

export function tlsVersionName(v: number): string {
  return TLS_VERSION_NAMES[v] ?? (isGrease(v) ? `GREASE(0x${v.toString(16)})` : `unknown(0x${v.toString(16).padStart(4, '0')})`);
}

/** AlertDescription (RFC 8446 §6, RFC 5246 §7.2). */
export const ALERT_NAMES: Readonly<Record<number, string>> = {
  0: 'close_notify',
  10: 'unexpected_message',
  20: 'bad_record_mac',
  21: 'decryption_failed',
  22: 'record_overflow',
  30: 'decompression_failure',
  40: 'handshake_failure',
  41: 'no_certificate',
  42: 'bad_certificate',
  43: 'unsupported_certificate',
  44: 'certificate_revoked',
  45: 'certificate_expired',
  46: 'certificate_unknown',
  47: 'illegal_parameter',
  48: 'unknown_ca',
  49: 'access_denied',
  50: 'decode_error',
  51: 'decrypt_error',
  60: 'export_restriction',
  70: 'protocol_version',
  71: 'insufficient_security',
  80: 'internal_error',
  86: 'inappropriate_fallback',
  90: 'user_canceled',
  100: 'no_renegotiation',
  109: 'missing_extension',
  110: 'unsupported_extension',
  112: 'unrecognized_name',
  113: 'bad_certificate_status_response',
  115: 'unknown_psk_identity',
  116: 'certificate_required',
  120: 'no_application_protocol',
};

export function alertName(v: number): string {
  return ALERT_NAMES[v] ?? `unknown(${v})`;
}
