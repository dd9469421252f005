import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/codec/errors.js';
import { TpktFramer } from '../../src/codec/framer.js';
import { hex, toHex } from '../../src/codec/writer.js';
import {
  decodeConnectionConfirm,
  decodeConnectionRequest,
  encodeConnectionRequest,
  negResponseFlags,
  protocolNames,
  selectedProtocolName,
} from '../../src/codec/x224.js';
import { negFailureName } from '../../src/observation/vocab.js';
import { connection, streamsOf } from './framer-pdus.js';

// Facts from fixtures/pcap/SOURCES.md (tshark 4.0 + the source repositories' baselines).

function negotiation(file: string, n = 0, skip?: { c2s?: number; s2c?: number }) {
  const c = connection(file, n, skip);
  return { cr: decodeConnectionRequest(c.client[0]), cc: decodeConnectionConfirm(c.server[0]), crBytes: c.client[0], ccBytes: c.server[0] };
}

describe('X.224 negotiation in real captures', () => {
  it('zeek-rdp-proprietary-encryption: conn 1 refused with SSL_NOT_ALLOWED_BY_SERVER, conn 2 selects RDP', () => {
    const a = negotiation('zeek-rdp-proprietary-encryption.pcap', 0);
    expect(a.cr.cookie).toBe('FTBCO\\A70');
    expect(protocolNames(a.cr.negReq!.requestedProtocols)).toEqual(['SSL']);
    expect(a.cc.sourceRef).toBe(0x1234);
    expect(a.cc.neg).toEqual({ kind: 'failure', flags: 0, code: 2 });
    expect(negFailureName(2)).toBe('SSL_NOT_ALLOWED_BY_SERVER');
    // our encoder produces mstsc's bytes for the same inputs
    expect(toHex(encodeConnectionRequest({ cookie: 'FTBCO\\A70', requestedProtocols: 1 }))).toBe(toHex(a.crBytes));

    const b = negotiation('zeek-rdp-proprietary-encryption.pcap', 1);
    expect(protocolNames(b.cr.negReq!.requestedProtocols)).toEqual(['RDP']);
    expect(b.cc.neg).toEqual({ kind: 'response', flags: 0, selectedProtocol: 0 });
    expect(selectedProtocolName(0)).toBe('RDP');
  });

  it('zeek-rdp-to-ssl: SSL|HYBRID requested, HYBRID selected with EXTENDED_CLIENT_DATA_SUPPORTED, in both connections', () => {
    for (const n of [0, 1]) {
      const { cr, cc } = negotiation('zeek-rdp-to-ssl.pcap', n);
      expect(cr.cookie).toBe('AWAKECODI');
      expect(protocolNames(cr.negReq!.requestedProtocols)).toEqual(['SSL', 'HYBRID']);
      expect(cc.neg).toEqual({ kind: 'response', flags: 0x01, selectedProtocol: 2 });
      expect(negResponseFlags(0x01).names).toEqual(['EXTENDED_CLIENT_DATA_SUPPORTED']);
    }
  });

  for (const file of ['zeek-rdp-no-cookie-mstshash.pcap', 'ndpi-rdp.pcap']) {
    it(`${file}: no cookie, 0x0b requested, HYBRID_EX selected with flags 0x1f; CR is the 19-byte spec vector`, () => {
      const { cr, cc, crBytes } = negotiation(file);
      expect(cr.cookie).toBeUndefined();
      expect(cr.routingToken).toBeUndefined();
      expect(cr.negReq).toEqual({ flags: 0, requestedProtocols: 0x0b });
      expect(cc.neg).toEqual({ kind: 'response', flags: 0x1f, selectedProtocol: 8 });
      expect(selectedProtocolName(8)).toBe('HYBRID_EX');
      expect(toHex(crBytes, ' ')).toBe('03 00 00 13 0e e0 00 00 00 00 00 01 00 08 00 0b 00 00 00');
      expect(toHex(encodeConnectionRequest({ requestedProtocols: 0x0b }))).toBe(toHex(crBytes));
    });
  }

  it('ndpi-rdp_over_tls: WDeployAd asks SSL|HYBRID, gets HYBRID flags 0x1f', () => {
    const { cr, cc } = negotiation('ndpi-rdp_over_tls.pcap');
    expect(cr.cookie).toBe('WDeployAd');
    expect(cr.negReq!.requestedProtocols).toBe(3);
    expect(cc.neg).toEqual({ kind: 'response', flags: 0x1f, selectedProtocol: 2 });
  });

  for (const [file, cookie] of [
    ['ndpi-rdp3.pcap', 'Administr'],
    ['suricata-verify-RDP-003.pcap', 'A70067'],
  ] as const) {
    it(`${file}: legacy CR (no RDP_NEG_REQ) and legacy CC (no rdpNegData, 11 bytes)`, () => {
      const { cr, cc, crBytes, ccBytes } = negotiation(file);
      expect(cr).toEqual({ dstRef: 0, srcRef: 0, classOption: 0, cookie });
      expect(cc).toEqual({ sourceRef: 0x1234, dstRef: 0, classOption: 0, neg: { kind: 'absent' } });
      expect(ccBytes.length).toBe(11);
      expect(toHex(encodeConnectionRequest({ cookie, negReq: false, requestedProtocols: 0 }))).toBe(toHex(crBytes));
    });
  }

  it('zeek-rdp-x509 / unknown-keyboard: the cookie keeps its two trailing spaces', () => {
    for (const f of ['zeek-rdp-x509.pcap', 'zeek-rdp-unknown-keyboard.pcap']) {
      const { cr, cc } = negotiation(f);
      expect(cr.cookie).toBe('JOHN-PC  ');
      expect(cr.negReq!.requestedProtocols).toBe(0);
      expect(cc.neg).toEqual({ kind: 'response', flags: 0, selectedProtocol: 0 });
    }
  });

  it('arkime-socks5-rdp: CR/CC found after the SOCKS5 exchange on port 42356', () => {
    const s = streamsOf('arkime-socks5-rdp.pcap')[0];
    expect(s.server.port).toBe(42356);
    // RFC 1928: greeting 05 01 00 + CONNECT 05 01 00 01 <IPv4> <port>; replies 05 00 + 05 00 00 01 <IPv4> <port>
    expect(toHex(s.toServer.subarray(0, 13), ' ')).toBe('05 01 00 05 01 00 01 0a 00 00 01 0d 3d'); // CONNECT 10.0.0.1:3389
    expect(toHex(s.toClient.subarray(0, 12), ' ')).toBe('05 00 05 00 00 01 00 00 00 00 00 00');
    const { cr, cc } = negotiation('arkime-socks5-rdp.pcap', 0, { c2s: 13, s2c: 12 });
    expect(cr.cookie).toBe('XXX');
    expect(cr.negReq).toEqual({ flags: 0, requestedProtocols: 0 });
    expect(cc.neg).toEqual({ kind: 'response', flags: 0, selectedProtocol: 0 });
  });

  it('freerdp-pcap-sample: direction by content (both ports 3389), SSL requested and selected, flags 0x01', () => {
    const s = streamsOf('freerdp-pcap-sample.pcap')[0];
    expect(s.client.port).toBe(3389);
    expect(s.server.port).toBe(3389);
    // no SYN in the recording: tcpStreams takes the side that sends the Connection Request as the client
    expect(s.client.addr).toBe('192.168.1.150');
    expect(s.toServer[5]).toBe(0xe0);
    expect(s.toClient[5]).toBe(0xd0);
    const { cr, cc } = negotiation('freerdp-pcap-sample.pcap');
    expect(cr.cookie).toBe('Administrator');
    expect(cr.negReq).toEqual({ flags: 0, requestedProtocols: 1 });
    expect(cc.neg).toEqual({ kind: 'response', flags: 0x01, selectedProtocol: 1 });
  });

  it('zeek-rdp-invalid-length: RDP_NEG_RSP.length 0 is a DecodeError, and nothing in the file crashes a decoder', () => {
    const s = streamsOf('zeek-rdp-invalid-length.pcap')[0];
    // server frame 5: TPKT 19, CC from 0x1234, RDP_NEG_RSP type 2 flags 3 length 0, then junk
    expect(toHex(s.toClient.subarray(0, 19), ' ')).toBe('03 00 00 13 0e d0 00 00 12 34 00 02 03 00 00 01 00 00 02');
    const f = new TpktFramer();
    const [cc] = f.push(s.toClient);
    let err: unknown;
    try {
      decodeConnectionConfirm(cc);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DecodeError);
    expect((err as DecodeError).field).toBe('RDP_NEG_RSP.length');
    expect((err as DecodeError).message).toMatch(/must be 8, got 0/);
    // the junk after the first PDU stops the framer with a DecodeError too (next byte 0x00 is no TPKT version)
    expect(f.error).toBeInstanceOf(DecodeError);
    // the client's first payload is not TPKT at all ("ECODH\r\n…")
    expect(new TextDecoder().decode(s.toServer.subarray(0, 5))).toBe('ECODH');
    expect(() => new TpktFramer().push(s.toServer)).toThrowError(DecodeError);
    // every offset of both directions through both decoders: DecodeError or a value, never anything else
    for (const dir of [s.toServer, s.toClient]) {
      for (let i = 0; i < dir.length; i++) {
        for (const dec of [decodeConnectionRequest, decodeConnectionConfirm]) {
          try {
            dec(dir.subarray(i));
          } catch (e) {
            if (!(e instanceof DecodeError)) throw e;
          }
        }
      }
    }
  });

  it('a spec CC vector and a capture CC are byte-identical where the spec says so', () => {
    const { ccBytes } = negotiation('ndpi-rdp.pcap');
    expect(toHex(ccBytes)).toBe(toHex(hex('03 00 00 13 0e d0 00 00 12 34 00 02 1f 08 00 08 00 00 00')));
  });
});
