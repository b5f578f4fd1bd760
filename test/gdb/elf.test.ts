import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildElf } from '../../src/elf';
import { loadMachine } from '../support/gdbSession';

function hasReadelf(): boolean {
  try {
    execFileSync('readelf', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('hwbp elf: ELF64 with symbols and DWARF 4', () => {
  const m = loadMachine('examples/race.hwsim');
  const image = buildElf(m.program);
  m.kill();
  const file = join(mkdtempSync(join(tmpdir(), 'hwbp-elf-')), 'race.elf');
  writeFileSync(file, image);

  it('has an ELF64 little-endian x86-64 executable header', () => {
    assert.deepEqual([...image.subarray(0, 7)], [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    assert.equal(image.readUInt16LE(16), 2);
    assert.equal(image.readUInt16LE(18), 62);
  });

  it('reads back with readelf: symbols, types, locations, lines for every statement, CFI', function () {
    if (!hasReadelf()) this.skip();
    const syms = execFileSync('readelf', ['-sW', file], { encoding: 'utf8' });
    assert.match(syms, /0000000000400000 +52 FUNC +GLOBAL DEFAULT +1 bump/);
    assert.match(syms, /0000000000601000 +4 OBJECT +GLOBAL DEFAULT +2 counter/);
    const info = execFileSync('readelf', ['--debug-dump=info', file], { encoding: 'utf8' });
    assert.match(info, /DW_AT_name +: \(indirect string, offset: 0x[0-9a-f]+\): counter[\s\S]*?DW_OP_addr: 601000/);
    assert.match(info, /DW_AT_name +: \(indirect string, offset: 0x[0-9a-f]+\): times[\s\S]*?DW_OP_fbreg: -32/);
    assert.match(info, /DW_AT_frame_base +: 1 byte block: 9c \t\(DW_OP_call_frame_cfa\)/);
    const lines = execFileSync('readelf', ['--debug-dump=decodedline', file], { encoding: 'utf8' });
    for (const s of m.allStatements()) {
      assert.match(lines, new RegExp(`race\\.hwsim +${s.span.line} +0x${s.codeAddr.toString(16)}\\b`), `line ${s.span.line} at 0x${s.codeAddr.toString(16)}`);
    }
    const frames = execFileSync('readelf', ['--debug-dump=frames-interp', file], { encoding: 'utf8' });
    assert.match(frames, /rbp\+16/);
    assert.match(frames, /ra=c-8|c-8/);
  });
});
