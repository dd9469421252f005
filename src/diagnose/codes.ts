/**
 * The Microsoft client's error codes (primary disconnect reason + extended disconnect reason), FreeRDP's equivalents,
 * and where each meaning comes from. Pure data + input parsing. Prose version of the sources: ./sources.md.
 *
 * `documented: true` means a Microsoft page states the meaning (learn.microsoft.com, quoted in short);
 * `documented: false` means the meaning is our inference (PROTOCOL-NOTES §2.3 / §2.5) and the output says so.
 */

export interface Source {
  title: string;
  url: string;
}

/** Every source a code meaning or a cause mapping relies on (PROTOCOL-NOTES §2, §1.4, §1.11, §1.14, §1.16, §5.5). */
export const SOURCES = {
  'ms-ondisconnected': {
    title: 'IMsTscAxEvents::OnDisconnected — disconnect reason codes (incl. SSL_ERR_*)',
    url: 'https://learn.microsoft.com/en-us/windows/win32/termserv/imstscaxevents-ondisconnected',
  },
  'ms-extended': {
    title: 'ExtendedDisconnectReasonCode enumeration',
    url: 'https://learn.microsoft.com/en-us/windows/win32/termserv/extendeddisconnectreasoncode',
  },
  'ms-rdpbcgr-negfailure': {
    title: 'MS-RDPBCGR 2.2.1.2.2 RDP Negotiation Failure (RDP_NEG_FAILURE failureCode)',
    url: 'https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-rdpbcgr/',
  },
  'ms-rdpbcgr-errinfo': {
    title: 'MS-RDPBCGR 2.2.5.1.1 Set Error Info PDU (errorInfo = extended reason)',
    url: 'https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-rdpbcgr/',
  },
  'ms-cssp': {
    title: 'MS-CSSP 2.2.1 TSRequest (version, errorCode)',
    url: 'https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-cssp/',
  },
  'ms-credssp-cve-2018-0886': {
    title: 'CredSSP updates for CVE-2018-0886 (Encryption Oracle Remediation, KB4093492)',
    url: 'https://support.microsoft.com/help/4093492',
  },
  'ms-avd-shortpath': {
    title: 'Troubleshoot RDP Shortpath (UDP failures surface only as timeouts)',
    url: 'https://learn.microsoft.com/en-us/azure/virtual-desktop/troubleshoot-rdp-shortpath',
  },
  'freerdp-nego': {
    title: 'FreeRDP libfreerdp/core/nego.c (failure code → retry / ERRCONNECT)',
    url: 'https://github.com/FreeRDP/FreeRDP/blob/master/libfreerdp/core/nego.c',
  },
  'freerdp-error-h': {
    title: 'FreeRDP include/freerdp/error.h (ERRCONNECT_* codes)',
    url: 'https://github.com/FreeRDP/FreeRDP/blob/master/include/freerdp/error.h',
  },
  'freerdp-nla': {
    title: 'FreeRDP libfreerdp/core/nla.c (TSRequest errorCode NTSTATUS → ERRCONNECT)',
    url: 'https://github.com/FreeRDP/FreeRDP/blob/master/libfreerdp/core/nla.c',
  },
  'rdpwrap-0x4': {
    title: 'stascorp/rdpwrap #378 / #571 / #1340 — "Error code: 0x4" (MsTscAx "Unknown Error 0x4")',
    url: 'https://github.com/stascorp/rdpwrap/issues/378',
  },
  'xrdp-0x4': {
    title: 'neutrinolabs/xrdp #1458 / #3015 — Microsoft clients report 0x4 against xrdp',
    url: 'https://github.com/neutrinolabs/xrdp/issues/1458',
  },
  'xrdp-3571': {
    title: 'neutrinolabs/xrdp #3571 — mstsc shows "Error code" next to "Extended error code"',
    url: 'https://github.com/neutrinolabs/xrdp/issues/3571',
  },
  'vswitchzero-0x4': {
    title: 'vswitchzero.com (2020) — 0x4 and 0x204 alternating while the target VM slept',
    url: 'https://vswitchzero.com/',
  },
  'freerdp-6814': {
    title: 'FreeRDP/FreeRDP #6814 — RDP over VPN hangs; lowering the VPN MTU to 1400 fixed it',
    url: 'https://github.com/FreeRDP/FreeRDP/issues/6814',
  },
  'freerdp-3641': {
    title: 'FreeRDP/FreeRDP #3641 — connection stalls over a reduced-MTU path',
    url: 'https://github.com/FreeRDP/FreeRDP/issues/3641',
  },
  'freerdp-4059': {
    title: 'FreeRDP/FreeRDP #4059 — server logs "UDP Handshake Timeout", client continues over TCP',
    url: 'https://github.com/FreeRDP/FreeRDP/issues/4059',
  },
  'macrdp-73': {
    title: 'clintcan/macrdp PR #73 — only Windows mstsc uses RDP-UDP against a plain host',
    url: 'https://github.com/clintcan/macrdp/pull/73',
  },
  'wsdocs-0x204': {
    title: 'MicrosoftDocs/windowsserverdocs #1172 / #3279 / #3390 — 0x204 on the Mac client',
    url: 'https://github.com/MicrosoftDocs/windowsserverdocs/issues/1172',
  },
  'wsdocs-0x807': {
    title: 'MicrosoftDocs/windowsserverdocs #1955 — 0x807 with NLA, works without NLA',
    url: 'https://github.com/MicrosoftDocs/windowsserverdocs/issues/1955',
  },
  'remoteapptool-57': {
    title: 'kimmknight/remoteapptool #57 — Mac client text for 0x104',
    url: 'https://github.com/kimmknight/remoteapptool/issues/57',
  },
  'ironrdp-1469': {
    title: 'Devolutions/IronRDP #1469 — bad AUTHENTICATE answered with a TLS alert (2008 R2)',
    url: 'https://github.com/Devolutions/IronRDP/issues/1469',
  },
  'lab-notes': {
    title: 'rdprobe lab notes (measured: FreeRDP server closes after a bad AUTHENTICATE; black-hole signature; xrdp backlog 2)',
    url: 'src/diagnose/sources.md',
  },
  'protocol-notes': {
    title: 'rdprobe research notes §2.3 / §2.5 / §5.5 (our inferences, summarised in sources.md)',
    url: 'src/diagnose/sources.md',
  },
} as const satisfies Record<string, Source>;

export type SourceId = keyof typeof SOURCES;

export interface CodeRow {
  value: number;
  name: string;
  meaning: string;
  documented: boolean;
  note?: string;
  sources: SourceId[];
}

const OND: SourceId[] = ['ms-ondisconnected'];

/** Primary disconnect reasons (discReason). All rows but 0x4 are on the OnDisconnected page. */
export const PRIMARY_CODES: readonly CodeRow[] = [
  { value: 0x0, name: 'disconnectReasonNoInfo', meaning: 'No information is available.', documented: true, sources: OND },
  { value: 0x1, name: 'disconnectReasonLocalNotError', meaning: 'Local disconnection (not an error).', documented: true, sources: OND },
  { value: 0x2, name: 'disconnectReasonRemoteByUser', meaning: 'Remote disconnection by user (not an error).', documented: true, sources: OND },
  {
    value: 0x3,
    name: 'disconnectReasonByServer',
    meaning: 'Remote disconnection by server (documented as "not an error code").',
    documented: true,
    note: 'Commonly seen when a server drops the connection during negotiation [inference].',
    sources: [...OND, 'protocol-notes'],
  },
  {
    value: 0x4,
    name: '(not in the DisconnectReasonCode enum)',
    meaning:
      'Undocumented. Read as "network (Winsock) layer failure without detail" — typically TCP accepted, then reset ' +
      'or closed by the host during connection setup.',
    documented: false,
    note:
      'The low byte 0x04 is the network layer in the documented codes (0x204, 0x404, 0x904…); 0x4 has no detail ' +
      'byte. Reported by MsTscAx hosts as "Unknown Error 0x4" and by Microsoft clients against xrdp.',
    sources: ['rdpwrap-0x4', 'xrdp-0x4', 'vswitchzero-0x4', 'protocol-notes'],
  },
  { value: 0x104, name: 'disconnectReasonDNSLookupFailed', meaning: 'DNS name lookup failure.', documented: true, sources: [...OND, 'remoteapptool-57'] },
  { value: 0x106, name: 'disconnectReasonOutOfMemory', meaning: 'Out of memory.', documented: true, sources: OND },
  { value: 0x108, name: 'disconnectReasonConnectionTimedOut', meaning: 'Connection timed out.', documented: true, sources: OND },
  {
    value: 0x204,
    name: 'disconnectReasonSocketConnectFailed',
    meaning: 'Windows Sockets connect() failed.',
    documented: true,
    sources: [...OND, 'wsdocs-0x204'],
  },
  { value: 0x206, name: 'disconnectReasonOutOfMemory2', meaning: 'Out of memory.', documented: true, sources: OND },
  { value: 0x208, name: 'disconnectReasonHostNotFound', meaning: 'Host not found error.', documented: true, sources: OND },
  { value: 0x304, name: 'disconnectReasonWinsockSendFailed', meaning: 'Windows Sockets send() call failed.', documented: true, sources: OND },
  { value: 0x306, name: 'disconnectReasonOutOfMemory3', meaning: 'Out of memory.', documented: true, sources: OND },
  { value: 0x308, name: 'disconnectReasonInvalidIPAddr', meaning: 'The IP address specified is not valid.', documented: true, sources: OND },
  { value: 0x404, name: 'disconnectReasonSocketRecvFailed', meaning: 'Windows Sockets recv() call failed.', documented: true, sources: OND },
  { value: 0x406, name: 'disconnectReasonInvalidSecurityData', meaning: 'Security data is not valid.', documented: true, sources: OND },
  { value: 0x408, name: 'disconnectReasonInternalError', meaning: 'Internal error.', documented: true, sources: OND },
  { value: 0x506, name: 'disconnectReasonInvalidEncryption', meaning: 'The encryption method specified is not valid.', documented: true, sources: OND },
  { value: 0x508, name: 'disconnectReasonDNSLookupFailed2', meaning: 'DNS lookup failed.', documented: true, sources: OND },
  { value: 0x604, name: 'disconnectReasonGetHostByNameFailed', meaning: 'Windows Sockets gethostbyname() call failed.', documented: true, sources: OND },
  { value: 0x606, name: 'disconnectReasonInvalidServerSecurityInfo', meaning: 'Server security data is not valid.', documented: true, sources: OND },
  { value: 0x608, name: 'disconnectReasonTimerError', meaning: 'Internal timer error.', documented: true, sources: OND },
  { value: 0x704, name: 'disconnectReasonTimeoutOccurred', meaning: 'Time-out occurred.', documented: true, sources: OND },
  { value: 0x706, name: 'disconnectReasonServerCertificateUnpackErr', meaning: 'Failed to unpack server certificate.', documented: true, sources: OND },
  { value: 0x804, name: 'disconnectReasonInvalidIP', meaning: 'Bad IP address specified.', documented: true, sources: OND },
  { value: 0x807, name: 'SSL_ERR_LOGON_FAILURE', meaning: 'Login failed (NLA / CredSSP).', documented: true, sources: [...OND, 'wsdocs-0x807'] },
  { value: 0x808, name: 'disconnectReasonLicensingFailed', meaning: 'License negotiation failed.', documented: true, sources: OND },
  {
    value: 0x904,
    name: 'disconnectReasonAtClientWinsockFDCLOSE',
    meaning: 'Socket closed (the peer or something on the path closed/reset the TCP connection).',
    documented: true,
    note: 'The documented text is only "Socket closed."; the parenthesis is our reading of FD_CLOSE.',
    sources: OND,
  },
  { value: 0x906, name: 'disconnectReasonInternalSecurityError', meaning: 'Internal security error.', documented: true, sources: OND },
  { value: 0x908, name: 'disconnectReasonLicensingTimeout', meaning: 'Licensing time-out.', documented: true, sources: OND },
  { value: 0xa06, name: 'disconnectReasonInternalSecurityError2', meaning: 'Internal security error.', documented: true, sources: OND },
  { value: 0xa07, name: 'SSL_ERR_NO_SUCH_USER', meaning: 'The specified user has no account.', documented: true, sources: OND },
  { value: 0xb06, name: 'disconnectReasonEncryptionError', meaning: 'Encryption error.', documented: true, sources: OND },
  { value: 0xb07, name: 'SSL_ERR_ACCOUNT_DISABLED', meaning: 'The account is disabled.', documented: true, sources: OND },
  { value: 0xc06, name: 'disconnectReasonDecryptionError', meaning: 'Decryption error.', documented: true, sources: OND },
  { value: 0xc07, name: 'SSL_ERR_ACCOUNT_RESTRICTION', meaning: 'The account is restricted.', documented: true, sources: OND },
  { value: 0xc08, name: 'disconnectReasonClientDecompressionError', meaning: 'Decompression error.', documented: true, sources: OND },
  { value: 0xd07, name: 'SSL_ERR_ACCOUNT_LOCKED_OUT', meaning: 'The account is locked out.', documented: true, sources: OND },
  { value: 0xe07, name: 'SSL_ERR_ACCOUNT_EXPIRED', meaning: 'The account is expired.', documented: true, sources: OND },
  { value: 0xf07, name: 'SSL_ERR_PASSWORD_EXPIRED', meaning: 'The password is expired.', documented: true, sources: OND },
  {
    value: 0x1207,
    name: 'SSL_ERR_PASSWORD_MUST_CHANGE',
    meaning: 'The user password must be changed before logging on for the first time.',
    documented: true,
    sources: OND,
  },
  {
    value: 0x1607,
    name: 'SSL_ERR_DELEGATION_POLICY',
    meaning: 'The policy does not support delegation of credentials to the target server.',
    documented: true,
    sources: OND,
  },
  {
    value: 0x1707,
    name: 'SSL_ERR_POLICY_NTLM_ONLY',
    meaning: 'Delegation of credentials to the target server is not allowed unless mutual authentication has been achieved.',
    documented: true,
    sources: OND,
  },
  {
    value: 0x1807,
    name: 'SSL_ERR_NO_AUTHENTICATING_AUTHORITY',
    meaning: 'No authority could be contacted for authentication (wrong domain name, domain unreachable, or trust failure).',
    documented: true,
    sources: OND,
  },
  { value: 0x1b07, name: 'SSL_ERR_CERT_EXPIRED', meaning: 'The received certificate is expired.', documented: true, sources: OND },
  { value: 0x1c07, name: 'SSL_ERR_SMARTCARD_WRONG_PIN', meaning: 'An incorrect PIN was presented to the smart card.', documented: true, sources: OND },
  {
    value: 0x2107,
    name: 'SSL_ERR_FRESH_CRED_REQUIRED_BY_SERVER',
    meaning: 'The server authentication policy does not allow connection requests using saved credentials.',
    documented: true,
    sources: OND,
  },
  { value: 0x2207, name: 'SSL_ERR_SMARTCARD_CARD_BLOCKED', meaning: 'The smart card is blocked.', documented: true, sources: OND },
];

const EXT: SourceId[] = ['ms-extended', 'ms-rdpbcgr-errinfo'];

/** Extended disconnect reasons: the Set Error Info PDU errorInfo values 1:1 (PROTOCOL-NOTES §1.14, §2.2). */
export const EXTENDED_CODES: readonly CodeRow[] = [
  { value: 0, name: 'exDiscReasonNoInfo', meaning: 'No additional information is available.', documented: true, sources: EXT },
  { value: 1, name: 'exDiscReasonAPIInitiatedDisconnect', meaning: 'An application initiated the disconnection.', documented: true, sources: EXT },
  { value: 2, name: 'exDiscReasonAPIInitiatedLogoff', meaning: 'An application logged off the client.', documented: true, sources: EXT },
  { value: 3, name: 'exDiscReasonServerIdleTimeout', meaning: 'The server idle-session timer expired.', documented: true, sources: EXT },
  { value: 4, name: 'exDiscReasonServerLogonTimeout', meaning: 'The server active-session (logon) timer expired.', documented: true, sources: EXT },
  { value: 5, name: 'exDiscReasonReplacedByOtherConnection', meaning: 'Another connection replaced this one.', documented: true, sources: EXT },
  { value: 6, name: 'exDiscReasonOutOfMemory', meaning: 'The server ran out of memory.', documented: true, sources: EXT },
  {
    value: 7,
    name: 'exDiscReasonServerDeniedConnection',
    meaning: 'The server denied the connection (ERRINFO_SERVER_DENIED_CONNECTION).',
    documented: true,
    note: 'The client only learns it from a Set Error Info PDU, i.e. after the MCS/channel setup (MS-RDPBCGR 2.2.5.1.1).',
    sources: EXT,
  },
  { value: 8, name: 'exDiscReasonServerDeniedConnectionFips', meaning: 'The server denied the connection for FIPS security.', documented: true, sources: EXT },
  { value: 9, name: 'exDiscReasonServerInsufficientPrivileges', meaning: 'The user has insufficient privileges on the server.', documented: true, sources: EXT },
  { value: 10, name: 'exDiscReasonServerFreshCredsRequired', meaning: 'The server requires fresh (not saved) credentials.', documented: true, sources: EXT },
  { value: 11, name: 'exDiscReasonRpcInitiatedDisconnectByUser', meaning: 'The user disconnected through an administrative tool.', documented: true, sources: EXT },
  { value: 12, name: 'exDiscReasonLogoffByUser', meaning: 'The user logged off.', documented: true, sources: EXT },
  { value: 256, name: 'exDiscReasonLicenseInternal', meaning: 'Internal licensing error.', documented: true, sources: EXT },
  { value: 257, name: 'exDiscReasonLicenseNoLicenseServer', meaning: 'No license server was available.', documented: true, sources: EXT },
  { value: 258, name: 'exDiscReasonLicenseNoLicense', meaning: 'No valid software license was available.', documented: true, sources: EXT },
  { value: 259, name: 'exDiscReasonLicenseErrClientMsg', meaning: 'Invalid licensing message from the client.', documented: true, sources: EXT },
  { value: 260, name: 'exDiscReasonLicenseHwidDoesntMatchLicense', meaning: 'The client hardware ID does not match its license.', documented: true, sources: EXT },
  { value: 261, name: 'exDiscReasonLicenseErrClientLicense', meaning: 'The client license is not valid.', documented: true, sources: EXT },
  { value: 262, name: 'exDiscReasonLicenseCantFinishProtocol', meaning: 'Network error during licensing.', documented: true, sources: EXT },
  { value: 263, name: 'exDiscReasonLicenseClientEndedProtocol', meaning: 'The client ended the licensing protocol.', documented: true, sources: EXT },
  { value: 264, name: 'exDiscReasonLicenseErrClientEncryption', meaning: 'A licensing message was incorrectly encrypted.', documented: true, sources: EXT },
  { value: 265, name: 'exDiscReasonLicenseCantUpgradeLicense', meaning: 'The client license could not be upgraded or renewed.', documented: true, sources: EXT },
  { value: 266, name: 'exDiscReasonLicenseNoRemoteConnections', meaning: 'The server is not licensed to accept remote connections.', documented: true, sources: EXT },
  { value: 267, name: 'exDiscReasonLicenseCreatingLicStoreAccDenied', meaning: 'Access denied while creating the license store.', documented: true, sources: EXT },
  { value: 768, name: 'exDiscReasonRdpEncInvalidCredentials', meaning: 'Invalid credentials (Standard RDP Security).', documented: true, sources: EXT },
];

/** exDiscReasonProtocolRangeStart … End: RDP protocol errors (MS-RDPBCGR 2.2.5.1.1 errorInfo 0x10C9 and up). */
export const EXTENDED_PROTOCOL_RANGE = { start: 4096, end: 32767 } as const;

/** FreeRDP ERRCONNECT_* names used by the catalogue (include/freerdp/error.h; PROTOCOL-NOTES §2.4). */
export const FREERDP_ERRORS: Readonly<Record<string, string>> = {
  ERRCONNECT_DNS_ERROR: 'DNS error',
  ERRCONNECT_DNS_NAME_NOT_FOUND: 'DNS name not found',
  ERRCONNECT_CONNECT_FAILED: 'TCP connect failed (xfreerdp exit 131/141)',
  ERRCONNECT_MCS_CONNECT_INITIAL_ERROR: 'MCS Connect-Initial failed (xfreerdp exit 142)',
  ERRCONNECT_TLS_CONNECT_FAILED: 'TLS connect failed (xfreerdp exit 143)',
  ERRCONNECT_AUTHENTICATION_FAILED: 'authentication failed (xfreerdp exit 132)',
  ERRCONNECT_SECURITY_NEGO_CONNECT_FAILED: 'security negotiation failed (xfreerdp exit 133)',
  ERRCONNECT_CONNECT_TRANSPORT_FAILED: 'the connection transport layer failed (xfreerdp exit 147)',
  ERRCONNECT_HYBRID_REQUIRED_BY_SERVER: 'the server requires NLA, but it is not enabled',
  ERRCONNECT_LOGON_FAILURE: 'logon failure',
  ERRCONNECT_WRONG_PASSWORD: 'wrong password',
  ERRCONNECT_ACCESS_DENIED: 'access denied',
  ERRCONNECT_ACCOUNT_RESTRICTION: 'account restriction',
  ERRCONNECT_ACCOUNT_LOCKED_OUT: 'account locked out',
  ERRCONNECT_ACCOUNT_EXPIRED: 'account expired',
  ERRCONNECT_ACCOUNT_DISABLED: 'account disabled',
  ERRCONNECT_PASSWORD_EXPIRED: 'password expired',
  ERRCONNECT_PASSWORD_MUST_CHANGE: 'password must change',
  ERRCONNECT_LOGON_TYPE_NOT_GRANTED: 'logon type not granted',
};

/**
 * CredSSP TSRequest errorCode (NTSTATUS, MS-CSSP 2.2.1) → the Microsoft client's SSL_ERR_* code and FreeRDP's error.
 * The NTSTATUS → SSL_ERR_* pairing is our inference from the names (documented: false); the FreeRDP column is what
 * nla.c does (PROTOCOL-NOTES §1.11).
 */
export const NTSTATUS_TO_CLIENT: readonly { value: number; name: string; code: number; freerdp: string }[] = [
  { value: 0xc000006d, name: 'STATUS_LOGON_FAILURE', code: 0x807, freerdp: 'ERRCONNECT_LOGON_FAILURE' },
  { value: 0xc000006a, name: 'STATUS_WRONG_PASSWORD', code: 0x807, freerdp: 'ERRCONNECT_WRONG_PASSWORD' },
  { value: 0xc0000064, name: 'STATUS_NO_SUCH_USER', code: 0xa07, freerdp: 'ERRCONNECT_LOGON_FAILURE' },
  { value: 0xc0000072, name: 'STATUS_ACCOUNT_DISABLED', code: 0xb07, freerdp: 'ERRCONNECT_ACCOUNT_DISABLED' },
  { value: 0xc000006e, name: 'STATUS_ACCOUNT_RESTRICTION', code: 0xc07, freerdp: 'ERRCONNECT_ACCOUNT_RESTRICTION' },
  { value: 0xc000006f, name: 'STATUS_INVALID_LOGON_HOURS', code: 0xc07, freerdp: 'ERRCONNECT_AUTHENTICATION_FAILED' },
  { value: 0xc0000070, name: 'STATUS_INVALID_WORKSTATION', code: 0xc07, freerdp: 'ERRCONNECT_AUTHENTICATION_FAILED' },
  { value: 0xc0000234, name: 'STATUS_ACCOUNT_LOCKED_OUT', code: 0xd07, freerdp: 'ERRCONNECT_ACCOUNT_LOCKED_OUT' },
  { value: 0xc0000193, name: 'STATUS_ACCOUNT_EXPIRED', code: 0xe07, freerdp: 'ERRCONNECT_ACCOUNT_EXPIRED' },
  { value: 0xc0000071, name: 'STATUS_PASSWORD_EXPIRED', code: 0xf07, freerdp: 'ERRCONNECT_PASSWORD_EXPIRED' },
  { value: 0xc0000224, name: 'STATUS_PASSWORD_MUST_CHANGE', code: 0x1207, freerdp: 'ERRCONNECT_PASSWORD_MUST_CHANGE' },
  { value: 0xc000005e, name: 'STATUS_NO_LOGON_SERVERS', code: 0x1807, freerdp: 'ERRCONNECT_AUTHENTICATION_FAILED' },
  { value: 0xc000015b, name: 'STATUS_LOGON_TYPE_NOT_GRANTED', code: 0x807, freerdp: 'ERRCONNECT_LOGON_TYPE_NOT_GRANTED' },
  { value: 0xc0000022, name: 'STATUS_ACCESS_DENIED', code: 0x807, freerdp: 'ERRCONNECT_ACCESS_DENIED' },
  { value: 0xc0000380, name: 'STATUS_SMARTCARD_WRONG_PIN', code: 0x1c07, freerdp: 'ERRCONNECT_AUTHENTICATION_FAILED' },
  { value: 0xc0000381, name: 'STATUS_SMARTCARD_CARD_BLOCKED', code: 0x2207, freerdp: 'ERRCONNECT_AUTHENTICATION_FAILED' },
];

// ---------------------------------------------------------------------------------------------------------------
// Lookup and formatting

export function hexCode(value: number): string {
  return `0x${value.toString(16).toUpperCase()}`;
}

export function primaryCode(value: number): CodeRow | undefined {
  return PRIMARY_CODES.find((r) => r.value === value);
}

export function extendedCode(value: number): CodeRow | undefined {
  const row = EXTENDED_CODES.find((r) => r.value === value);
  if (row) return row;
  if (value >= EXTENDED_PROTOCOL_RANGE.start && value <= EXTENDED_PROTOCOL_RANGE.end) {
    return {
      value,
      name: 'exDiscReasonProtocolRange',
      meaning: 'RDP protocol error (exDiscReasonProtocolRangeStart…End; the errorInfo value names the bad PDU).',
      documented: true,
      sources: EXT,
    };
  }
  return undefined;
}

export function ntstatusToClient(status: { value: number; name: string }):
  | { code: number; freerdp: string; name: string }
  | undefined {
  const v = status.value >>> 0;
  return (
    NTSTATUS_TO_CLIENT.find((r) => r.value === v) ??
    NTSTATUS_TO_CLIENT.find((r) => r.name === status.name.toUpperCase())
  );
}

export class CodeInputError extends Error {
  readonly code = 'RDPROBE_BAD_CODE';
  constructor(message: string) {
    super(message);
    this.name = 'CodeInputError';
  }
}

/**
 * Read a code as a user types it. "0x904" / "0X904" is hex. Bare digits ("904") are read as hex first, because the
 * Microsoft client always displays codes in hex ("Error code: 0x904"); when that hex reading is not a known code but
 * the decimal reading is (e.g. "2308" = 0x904, the value the COM API and event logs report), the decimal reading is
 * used and `readAs` says so. A trailing "d" ("2308d") forces decimal.
 */
export function parseCode(
  input: string,
  known: (v: number) => boolean,
): { value: number; readAs: string } {
  const s = input.trim();
  if (/^0x[0-9a-f]+$/i.test(s)) {
    const value = Number.parseInt(s.slice(2), 16);
    return { value, readAs: `${s} read as hex = ${hexCode(value)}` };
  }
  if (/^[0-9]+d$/i.test(s)) {
    const value = Number.parseInt(s.slice(0, -1), 10);
    return { value, readAs: `${s} read as decimal ${value} = ${hexCode(value)}` };
  }
  if (/^[0-9]+$/.test(s)) {
    const asHex = Number.parseInt(s, 16);
    const asDec = Number.parseInt(s, 10);
    if (known(asHex) || !known(asDec)) {
      const alt = asHex !== asDec && known(asDec) ? ` (decimal ${asDec} = ${hexCode(asDec)} is also a code; write ${asDec}d for it)` : '';
      return { value: asHex, readAs: `${s} read as hex = ${hexCode(asHex)}${alt}` };
    }
    return { value: asDec, readAs: `${s} read as decimal ${asDec} = ${hexCode(asDec)} (no code 0x${s})` };
  }
  if (/^[0-9a-f]+$/i.test(s)) {
    const value = Number.parseInt(s, 16);
    return { value, readAs: `${s} read as hex = ${hexCode(value)}` };
  }
  throw new CodeInputError(`"${input}" is not a code: write it as the client shows it, e.g. 0x904 (or 2308d for decimal)`);
}
