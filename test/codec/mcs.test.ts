import { describe, expect, it } from 'vitest';
import { serverCertificateInfo } from '../../src/record/gcc.js';
import { DecodeError } from '../../src/codec/errors.js';
import {
  CS_MCS_MSGCHANNEL,
  CS_MULTITRANSPORT,
  decodeConferenceCreateRequest,
  encodeConferenceCreateRequest,
  encodeServerDataBlocks,
  encodeProprietaryCertificate,
} from '../../src/codec/gcc/index.js';
import {
  MAXIMUM_PARAMETERS,
  MINIMUM_PARAMETERS,
  TARGET_PARAMETERS,
  WINDOWS_RESPONSE_PARAMETERS,
  decodeConnectInitial,
  decodeConnectResponse,
  decodeDisconnectProviderUltimatum,
  encodeConnectInitial,
  encodeConnectInitialPdu,
  encodeConnectResponse,
  encodeDisconnectProviderUltimatum,
  isDisconnectProviderUltimatum,
} from '../../src/codec/mcs.js';
import { unwrapX224Data } from '../../src/codec/tpkt.js';
import { hex, toHex } from '../../src/codec/writer.js';
import { connection } from './framer-pdus.js';

// Facts from fixtures/pcap/SOURCES.md. PDU indexes: client[0] = X.224 CR, client[1] = MCS Connect-Initial,
// server[0] = X.224 CC, server[1] = MCS Connect-Response.

function mcsOf(file: string, n = 0) {
  const c = connection(file, n);
  return { ci: decodeConnectInitial(c.client[1]), cr: decodeConnectResponse(c.server[1]), ciBytes: c.client[1], crBytes: c.server[1] };
}

const channelNames = (ci: ReturnType<typeof decodeConnectInitial>) => ci.client.net?.channels.map((c) => c.name);

describe('MCS Connect-Initial / Connect-Response in real captures', () => {
  it('zeek-rdp-proprietary-encryption (conn 2): RDP 5+, 128-bit RC4, level High, proprietary certificate', () => {
    const { ci, cr } = mcsOf('zeek-rdp-proprietary-encryption.pcap', 1);
    const core = ci.client.core!;
    expect(core.version.value).toBe(0x00080004);
    expect(core.clientBuild).toBe(6000);
    expect(core.clientName).toBe('FROG-POND');
    expect([core.desktopWidth, core.desktopHeight]).toEqual([1152, 864]);
    expect(core.keyboardLayout).toBe(0x409);
    expect(core.serverSelectedProtocol).toBe(0);
    expect(core.blockLength).toBe(216);
    expect(ci.client.security!.encryptionMethods.value).toBe(0x1b);
    expect(ci.client.security!.encryptionMethods.names).toEqual(['40BIT', '128BIT', '56BIT', 'FIPS']);
    expect(channelNames(ci)).toEqual(['rdpdr', 'rdpsnd', 'drdynvc', 'cliprdr']);
    expect(ci.conferenceName).toBe('1');
    expect(ci.targetParameters).toEqual(TARGET_PARAMETERS);
    expect(ci.minimumParameters).toEqual(MINIMUM_PARAMETERS);
    expect(ci.maximumParameters).toEqual(MAXIMUM_PARAMETERS); // mstsc writes 65535 as 02 02 FF FF

    expect(cr.result).toEqual({ value: 0, name: 'rt-successful' });
    expect(cr.calledConnectId).toBe(0);
    expect(cr.domainParameters).toEqual(WINDOWS_RESPONSE_PARAMETERS);
    expect(cr.gcc).toEqual({ nodeId: 0x79f3, tag: 1, result: { value: 0, name: 'success' }, declaredLength: 0x2a });
    const s = cr.server;
    expect(s.core).toEqual({ version: { value: 0x00080004, name: 'RDP 5.0–8.1' }, clientRequestedProtocols: 0, blockLength: 12 });
    expect(s.security!.encryptionMethod).toEqual({ value: 2, name: '128BIT' });
    expect(s.security!.encryptionLevel).toEqual({ value: 3, name: 'HIGH' });
    expect(s.security!.serverRandomLength).toBe(32);
    expect(s.security!.serverRandom!.length).toBe(32);
    expect(s.security!.certificateBytes!.length).toBe(184);
    expect(serverCertificateInfo(s.security!.certificateDetail!)).toEqual({ type: 'proprietary', keyBits: 512, publicExponent: 65537 });
    const detail = s.security!.certificateDetail!;
    expect(detail.type).toBe('proprietary');
    if (detail.type === 'proprietary') {
      expect(detail.temporary).toBe(false); // Zeek: permanent T
      expect([detail.sigAlgId, detail.keyAlgId]).toEqual([1, 1]);
      expect(detail.modulus.length).toBe(72); // 64-byte modulus + 8 bytes padding
      expect(detail.signatureLength).toBe(72);
    }
    expect(s.net).toEqual({ ioChannel: 1003, channelIds: [1004, 1005, 1006, 1007] });
    expect(s.msgChannel).toBeUndefined();
    expect(s.multitransport).toBeUndefined();
    expect(s.unknown).toEqual([]);
  });

  it('zeek-rdp-x509: level Client Compatible, X.509 chain of 2, leaf CN=ncalrpc:SERVR, RSA 512-bit', () => {
    const { ci, cr } = mcsOf('zeek-rdp-x509.pcap');
    const core = ci.client.core!;
    expect(core.clientBuild).toBe(9600);
    expect(core.clientName).toBe('JOHN-PC-LAPTOP');
    expect([core.desktopWidth, core.desktopHeight]).toEqual([1920, 1080]);
    expect(core.keyboardLayout).toBe(0x409);
    expect(core.blockLength).toBe(234); // with desktopPhysical*/orientation/scale fields
    expect(ci.client.security!.encryptionMethods.value).toBe(0x1b);
    expect(channelNames(ci)).toEqual(['rdpdr', 'rdpsnd', 'cliprdr', 'drdynvc']);

    const sec = cr.server.security!;
    expect(cr.server.core!.version.value).toBe(0x00080004);
    expect(sec.encryptionMethod.name).toBe('128BIT');
    expect(sec.encryptionLevel).toEqual({ value: 2, name: 'CLIENT_COMPATIBLE' });
    expect(sec.certificateBytes!.length).toBe(1252);
    expect(serverCertificateInfo(sec.certificateDetail!).type).toBe('x509');
    expect(serverCertificateInfo(sec.certificateDetail!).chainLength).toBe(2);
    expect(serverCertificateInfo(sec.certificateDetail!).keyBits).toBe(512);
    expect(serverCertificateInfo(sec.certificateDetail!).publicExponent).toBe(65537);
    expect(serverCertificateInfo(sec.certificateDetail!).subjects![0]).toBe('CN=SERVR, L=TURNBKL');
    expect(serverCertificateInfo(sec.certificateDetail!).subjects![1]).toMatch(/^CN=ncalrpc:SERVR, L=ncalrpc:SERVR, serialNumber=/);
    const d = sec.certificateDetail!;
    expect(d.type).toBe('x509');
    if (d.type === 'x509') {
      expect(d.temporary).toBe(true); // dwVersion 0x80000002; Zeek: permanent F
      expect(d.issuers[1]).toBe('CN=SERVR, L=TURNBKL'); // leaf issued by CN=SERVR
      expect(d.certLengths).toEqual([351, 869]);
      // the leaf's key algorithm OID is md5WithRSAEncryption, which node-forge refuses; we read the key ourselves
      expect(d.error).toMatch(/cert\[1\]: node-forge: .*not RSA.*ASN\.1 tree/);
    }
  });

  it('zeek-rdp-unknown-keyboard: keyboardLayout 0x0004041E, no Connect-Response in the capture', () => {
    const c = connection('zeek-rdp-unknown-keyboard.pcap');
    const ci = decodeConnectInitial(c.client[1]);
    expect(ci.client.core!.keyboardLayout).toBe(0x0004041e);
    expect(ci.client.core!.clientBuild).toBe(9600);
    expect(ci.client.core!.clientName).toBe('JOHN-PC-LAPTOP');
    expect(c.server.length).toBe(1); // the CC only
  });

  it('ndpi-rdp3: XP client (short CS_CORE, 212 bytes), server RC4 128 level 2', () => {
    const { ci, cr } = mcsOf('ndpi-rdp3.pcap');
    const core = ci.client.core!;
    expect(core.clientBuild).toBe(2600);
    expect(core.clientName).toBe('SEPTU');
    expect([core.desktopWidth, core.desktopHeight]).toEqual([1280, 1024]);
    expect(core.blockLength).toBe(212);
    expect(core.clientDigProductId).toBe('76487-OEM-0011903-00102');
    expect(core.connectionType).toBe(0);
    expect(core.serverSelectedProtocol).toBeUndefined(); // XP stops before serverSelectedProtocol
    expect(ci.client.security!.encryptionMethods.value).toBe(0x0b);
    expect(channelNames(ci)).toEqual(['rdpdr', 'cliprdr', 'rdpsnd']);
    expect(ci.client.cluster).toEqual({ flags: 0x09, redirectionVersion: 3, redirectedSessionId: 0 });

    const s = cr.server;
    expect(s.core!.version.value).toBe(0x00080004);
    expect(s.security!.encryptionMethod.value).toBe(2);
    expect(s.security!.encryptionLevel.value).toBe(2);
    expect(s.security!.serverRandomLength).toBe(32);
    expect(s.security!.certificateBytes!.length).toBe(184);
    expect(serverCertificateInfo(s.security!.certificateDetail!).type).toBe('proprietary');
    expect(s.net).toEqual({ ioChannel: 1003, channelIds: [1004, 1005, 1006] }); // odd count: 2-byte pad skipped
  });

  it('suricata-verify-RDP-003: 56-bit RC4, short SC_CORE without clientRequestedProtocols', () => {
    const { ci, cr } = mcsOf('suricata-verify-RDP-003.pcap');
    const core = ci.client.core!;
    expect(core.clientBuild).toBe(2600);
    expect(core.clientName).toBe('ISD2-KM84178');
    expect([core.desktopWidth, core.desktopHeight]).toEqual([1152, 864]);
    expect(core.highColorDepth).toBe(15);
    expect(ci.client.security!.encryptionMethods.value).toBe(0x0b);
    expect(channelNames(ci)).toEqual(['rdpdr', 'cliprdr', 'rdpsnd']);

    const s = cr.server;
    expect(s.core).toEqual({ version: { value: 0x00080004, name: 'RDP 5.0–8.1' }, blockLength: 8 });
    expect('clientRequestedProtocols' in s.core!).toBe(false);
    expect(s.security!.encryptionMethod).toEqual({ value: 8, name: '56BIT' });
    expect(s.security!.encryptionLevel).toEqual({ value: 2, name: 'CLIENT_COMPATIBLE' });
    expect(s.security!.certificateBytes!.length).toBe(184);
  });

  it('freerdp-pcap-sample: encryption None/None under TLS, short-form BER length, client direction found by content', () => {
    const { ci, cr, crBytes } = mcsOf('freerdp-pcap-sample.pcap');
    expect(toHex(crBytes.subarray(7, 10), ' ')).toBe('7f 66 5a'); // [APPLICATION 102], short-form length 90
    const core = ci.client.core!;
    expect(core.clientBuild).toBe(2600);
    expect(core.clientName).toBe('GEFORCE');
    expect([core.desktopWidth, core.desktopHeight]).toEqual([1024, 768]);
    expect(core.serverSelectedProtocol).toBe(1);

    const s = cr.server;
    expect(s.core!.version.value).toBe(0x00080004);
    expect(s.core!.clientRequestedProtocols).toBe(1);
    expect(s.security).toEqual({ encryptionMethod: { value: 0, name: 'NONE' }, encryptionLevel: { value: 0, name: 'NONE' } });
    expect(s.net).toEqual({ ioChannel: 1003, channelIds: [] });
  });
});

describe('MCS encoders against real bytes', () => {
  it('re-encoding the captured client blocks reproduces mstsc\'s GCC Conference Create Request byte for byte', () => {
    for (const [file, n] of [
      ['zeek-rdp-proprietary-encryption.pcap', 1],
      ['zeek-rdp-x509.pcap', 0],
      ['ndpi-rdp3.pcap', 0],
      ['suricata-verify-RDP-003.pcap', 0],
    ] as const) {
      const c = connection(file, n);
      const gcc = gccOf(unwrapX224Data(c.client[1]));
      const blocks = decodeConferenceCreateRequest(gcc).clientBlocks;
      expect(toHex(encodeConferenceCreateRequest(blocks)), file).toBe(toHex(gcc));
    }
  });

  it('re-encoding FreeRDP\'s client blocks reproduces its whole Connect-Initial (same DER integer style as ours)', () => {
    const c = connection('freerdp-pcap-sample.pcap');
    const gcc = gccOf(unwrapX224Data(c.client[1]));
    const blocks = decodeConferenceCreateRequest(gcc).clientBlocks;
    expect(toHex(encodeConnectInitialPdu(blocks))).toBe(toHex(c.client[1]));
  });

  it('a fake-peer Connect-Response with the Windows length quirk equals the captured one', () => {
    const c = connection('zeek-rdp-proprietary-encryption.pcap', 1);
    const captured = c.server[1];
    const s = decodeConnectResponse(captured).server;
    // server blocks in Windows order: SC_CORE, SC_NET, SC_SECURITY
    const blocks = encodeServerDataBlocks({
      core: { version: s.core!.version.value, clientRequestedProtocols: 0 },
      net: s.net,
      security: {
        encryptionMethod: 2,
        encryptionLevel: 3,
        serverRandom: s.security!.serverRandom,
        serverCertificate: s.security!.certificateBytes,
      },
    });
    expect(toHex(encodeConnectResponse({ serverBlocks: blocks, windowsLengthQuirk: true }))).toBe(toHex(captured));
  });
});

describe('encodeConnectInitial round trip', () => {
  it('gives back what was put in, without extended blocks unless asked', () => {
    const bytes = encodeConnectInitial({
      selectedProtocol: 1,
      encryptionMethods: 0x1b,
      extendedClientData: false,
      clientName: 'rdprobe',
      channels: ['rdpdr', 'cliprdr'],
      desktop: { width: 1280, height: 800 },
    });
    expect(toHex(bytes.subarray(0, 1))).toBe('03');
    expect(toHex(bytes.subarray(4, 9), ' ')).toBe('02 f0 80 7f 65');
    expect((bytes[2] << 8) | bytes[3]).toBe(bytes.length);
    const d = decodeConnectInitial(bytes);
    expect(d.targetParameters).toEqual(TARGET_PARAMETERS);
    expect(d.upwardFlag).toBe(true);
    expect(toHex(d.callingDomainSelector)).toBe('01');
    const core = d.client.core!;
    expect(core.clientName).toBe('rdprobe');
    expect([core.desktopWidth, core.desktopHeight]).toEqual([1280, 800]);
    expect(core.serverSelectedProtocol).toBe(1);
    expect(core.earlyCapabilityFlags).toEqual({ value: 0x21, names: ['RNS_UD_CS_SUPPORT_ERRINFO_PDU', 'RNS_UD_CS_VALID_CONNECTION_TYPE'] });
    expect(core.connectionType).toBe(6); // LAN, valid because of RNS_UD_CS_VALID_CONNECTION_TYPE
    expect(core.blockLength).toBe(216);
    expect(core.version.value).toBe(0x00080004);
    expect(d.client.security!.encryptionMethods.value).toBe(0x1b);
    expect(d.client.net!.channels).toEqual([
      { name: 'rdpdr', options: 0x80000000 },
      { name: 'cliprdr', options: 0x80000000 },
    ]);
    expect(d.client.cluster!.flags & 0x01).toBe(1);
    expect(d.client.msgChannel).toBeUndefined();
    expect(d.client.multitransport).toBeUndefined();
    expect(d.client.unknown).toEqual([]);
  });

  it('adds CS_MCS_MSGCHANNEL and CS_MULTITRANSPORT (0x101 by default) when the server allowed extended data', () => {
    const d = decodeConnectInitial(encodeConnectInitial({ selectedProtocol: 0, encryptionMethods: 2, extendedClientData: true }));
    expect(d.client.msgChannel).toEqual({ flags: 0 });
    expect(d.client.multitransport!.flags).toEqual({ value: 0x101, names: ['TRANSPORTTYPE_UDPFECR', 'TRANSPORTTYPE_UDP_PREFERRED'] });
    expect(d.client.net!.channels).toEqual([]);
    const d2 = decodeConnectInitial(encodeConnectInitial({ selectedProtocol: 0, encryptionMethods: 2, extendedClientData: true, multitransportFlags: 0x305 }));
    expect(d2.client.multitransport!.flags.names).toEqual(['TRANSPORTTYPE_UDPFECR', 'TRANSPORTTYPE_UDPFECL', 'TRANSPORTTYPE_UDP_PREFERRED', 'SOFTSYNC_TCP_TO_UDP']);
    // block order: CS_CORE, CS_CLUSTER, CS_SECURITY, CS_NET, CS_MCS_MSGCHANNEL, CS_MULTITRANSPORT
    const raw = encodeConnectInitial({ selectedProtocol: 0, encryptionMethods: 2, extendedClientData: true });
    const tail = raw.subarray(raw.length - 16);
    expect(toHex(tail, ' ')).toBe(
      toHex(hex(`06 c0 08 00 00 00 00 00   // CS_MCS_MSGCHANNEL, flags 0
                 0a c0 08 00 01 01 00 00   // CS_MULTITRANSPORT, flags 0x101`), ' '),
    );
    expect([CS_MCS_MSGCHANNEL, CS_MULTITRANSPORT]).toEqual([0xc006, 0xc00a]);
  });

  it('truncates a long client name to 15 characters like mstsc, and rejects bad channel names', () => {
    const d = decodeConnectInitial(encodeConnectInitial({ selectedProtocol: 0, encryptionMethods: 2, extendedClientData: false, clientName: 'a-very-long-client-name' }));
    expect(d.client.core!.clientName).toBe('a-very-long-cli');
    expect(() => encodeConnectInitial({ selectedProtocol: 0, encryptionMethods: 2, extendedClientData: false, channels: ['toolongname'] })).toThrowError(TypeError);
  });
});

describe('Connect-Response fake peer round trip', () => {
  it('decodes what encodeConnectResponse wrote, including a rejection and the extended blocks', () => {
    const modulus = new Uint8Array(64).map((_, i) => i + 1);
    const ok = decodeConnectResponse(
      encodeConnectResponse({
        core: { version: 0x0008000c, clientRequestedProtocols: 1, earlyCapabilityFlags: 0x0f },
        security: { encryptionMethod: 0x10, encryptionLevel: 4, serverRandom: new Uint8Array(32), serverCertificate: encodeProprietaryCertificate(modulus) },
        net: { ioChannel: 1003, channelIds: [1004] },
        msgChannel: 1008,
        multitransport: 0x305,
        extra: [hex('99 0c 06 00 01 02')],
      }),
    );
    expect(ok.server.core!.version).toEqual({ value: 0x0008000c, name: 'RDP 10.7' });
    expect(ok.server.core!.earlyCapabilityFlags!.names).toEqual([
      'RNS_UD_SC_EDGE_ACTIONS_SUPPORTED_V1',
      'RNS_UD_SC_DYNAMIC_DST_SUPPORTED',
      'RNS_UD_SC_EDGE_ACTIONS_SUPPORTED_V2',
      'RNS_UD_SC_SKIP_CHANNELJOIN_SUPPORTED',
    ]);
    expect(ok.server.security!.encryptionMethod.name).toBe('FIPS');
    expect(ok.server.security!.encryptionLevel.name).toBe('FIPS');
    expect(serverCertificateInfo(ok.server.security!.certificateDetail!)).toEqual({ type: 'proprietary', keyBits: 512, publicExponent: 65537 });
    expect(ok.server.net).toEqual({ ioChannel: 1003, channelIds: [1004] });
    expect(ok.server.msgChannel).toEqual({ channelId: 1008 });
    expect(ok.server.multitransport!.flags.names).toEqual([
      'TRANSPORTTYPE_UDPFECR',
      'TRANSPORTTYPE_UDPFECL',
      'TRANSPORTTYPE_UDP_PREFERRED',
      'SOFTSYNC_TCP_TO_UDP',
    ]);
    expect(ok.server.unknown).toEqual([{ type: 0x0c99, name: 'unknown(0x0c99)', length: 6 }]);
    expect(ok.gcc!.declaredLength).not.toBe(0x2a);

    const rejected = decodeConnectResponse(encodeConnectResponse({ result: 14, noUserData: true }));
    expect(rejected.result).toEqual({ value: 14, name: 'rt-unspecified-failure' });
    expect(rejected.gcc).toBeUndefined();
    expect(rejected.server).toEqual({ unknown: [] });
    expect(decodeConnectResponse(encodeConnectResponse({ result: 15, noUserData: true })).result.name).toBe('rt-user-rejected');
    expect(decodeConnectResponse(encodeConnectResponse({ result: 99, noUserData: true })).result.name).toBe('unknown(0x63)');
  });

  it('insists on the McDn key and the right PDU type', () => {
    const c = connection('zeek-rdp-proprietary-encryption.pcap', 1);
    const bad = c.server[1].slice();
    const at = indexOf(bad, hex('4d 63 44 6e'));
    bad[at] = 0x58; // "XcDn"
    expect(() => decodeConnectResponse(bad)).toThrowError(/no H\.221 key "McDn".*XcDn/);
    expect(() => decodeConnectResponse(c.client[1])).toThrowError(/APPLICATION 102/);
    expect(() => decodeConnectInitial(c.server[1])).toThrowError(DecodeError);
  });
});

describe('MCS Disconnect Provider Ultimatum (T.125 §11.15)', () => {
  const DPUM = hex(`
    03 00 00 09  // TPKT v3, length 9
    02 f0 80     // X.224 DT
    21 80        // DomainMCSPDU index 8 (disconnectProviderUltimatum), reason 3 (rn-user-requested)
  `);
  it('recognises and decodes xrdp\'s 21 80', () => {
    expect(isDisconnectProviderUltimatum(DPUM)).toBe(true);
    expect(decodeDisconnectProviderUltimatum(DPUM)).toEqual({ reason: { value: 3, name: 'rn-user-requested' } });
    const c = connection('zeek-rdp-proprietary-encryption.pcap', 1);
    expect(isDisconnectProviderUltimatum(c.server[1])).toBe(false);
    expect(isDisconnectProviderUltimatum(hex('03 00 00'))).toBe(false);
  });
  it('round-trips every reason (3-bit ENUMERATED across the octet boundary)', () => {
    const names = ['rn-domain-disconnected', 'rn-provider-initiated', 'rn-token-purged', 'rn-user-requested', 'rn-channel-purged'];
    names.forEach((name, v) => {
      const b = encodeDisconnectProviderUltimatum(v);
      expect(isDisconnectProviderUltimatum(b)).toBe(true);
      expect(decodeDisconnectProviderUltimatum(b).reason).toEqual({ value: v, name });
    });
    expect(toHex(encodeDisconnectProviderUltimatum(3))).toBe(toHex(DPUM));
    expect(toHex(encodeDisconnectProviderUltimatum(4).subarray(7), ' ')).toBe('22 00');
  });
});

/** The GCC ConnectData of a Connect-Initial: the trailing userData, which starts with the T.124 key 00 05 00 14 7c 00 01. */
function gccOf(ber: Uint8Array): Uint8Array {
  return ber.subarray(indexOf(ber, hex('00 05 00 14 7c 00 01')));
}

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  throw new Error('needle not found');
}
