import * as assert from 'node:assert/strict';
import { checksum, decodeBody, escape, frame, PacketReader, PACKET_SIZE } from '../../src/gdb/packets';
import { splitRange } from '../../src/gdb/points';

describe('GDB remote protocol: framing', () => {
  it('checksums are the sum of the data bytes mod 256', () => {
    assert.equal(checksum(''), 0);
    assert.equal(checksum('OK'), 0x9a);
    assert.equal(frame('OK'), '$OK#9a');
    assert.equal(frame(''), '$#00');
  });

  it('escapes #, $, } and * in replies and undoes escapes in packets', () => {
    assert.equal(escape('a#b$c}d*e'), 'a}\x03b}\x04c}]d}\x0ae');
    assert.equal(decodeBody(escape('a#b$c}d*e')), 'a#b$c}d*e');
  });

  it('expands run-length encoding: X*N repeats X N-29 more times', () => {
    assert.equal(decodeBody('0* '), '0000'); // ' ' is 32: three more
    assert.equal(decodeBody('ab*"c'), 'abbbbbbc'); // '"' is 34: five more
  });

  it('reads packets split anywhere, acks, nacks and Ctrl-C, and drops garbage', () => {
    const r = new PacketReader();
    const wire = `garbage+${frame('qSupported:xmlRegisters=i386')}\x03-${frame('m601000,4')}`;
    const events = [...wire].flatMap((ch) => r.feed(ch));
    assert.deepEqual(events, [
      { kind: 'ack' }, { kind: 'packet', data: 'qSupported:xmlRegisters=i386' }, { kind: 'interrupt' }, { kind: 'nack' }, { kind: 'packet', data: 'm601000,4' },
    ]);
  });

  it('reports a bad checksum, a malformed one, and an oversized packet without delivering them', () => {
    const r = new PacketReader();
    assert.deepEqual(r.feed('$OK#00'), [{ kind: 'bad-checksum' }]);
    assert.deepEqual(r.feed('$OK#zz'), [{ kind: 'bad-checksum' }]);
    const big = 'M' + '0'.repeat(PACKET_SIZE + 10);
    assert.deepEqual(r.feed(`$${big}#${checksum(big).toString(16).padStart(2, '0')}`), [{ kind: 'oversized' }]);
    // and the stream goes on
    assert.deepEqual(r.feed(frame('g')), [{ kind: 'packet', data: 'g' }]);
  });

  it('a $ inside a packet starts a new one (the broken one is dropped)', () => {
    const r = new PacketReader();
    assert.deepEqual(r.feed(`$m12${frame('?')}`), [{ kind: 'packet', data: '?' }]);
  });

  it('splits watch ranges into aligned 1/2/4/8-byte pieces as x86-dregs does', () => {
    assert.deepEqual(splitRange(0x601000, 4), [{ addr: 0x601000, len: 4 }]);
    assert.deepEqual(splitRange(0x601001, 8), [{ addr: 0x601001, len: 1 }, { addr: 0x601002, len: 2 }, { addr: 0x601004, len: 4 }, { addr: 0x601008, len: 1 }]);
    assert.deepEqual(splitRange(0x601100, 16), [{ addr: 0x601100, len: 8 }, { addr: 0x601108, len: 8 }]);
  });
});
