/**
 * A small ELF64 + DWARF 4 writer for a lowered .hwsim program, so that stock GDB knows its
 * functions, globals, locals, types and lines (docs/elf.md).
 *
 * Sections: .text (the instructions' 4-byte slots, zero-filled: the machine's instructions are not
 * x86 or arm64 code), one NOBITS .data section per data segment, .debug_abbrev, .debug_info,
 * .debug_line, .debug_frame, .debug_str, .symtab, .strtab, .shstrtab.
 *
 * The frame layout it describes is the one the GDB stub presents (src/gdb): the frame pointer
 * (rbp / x29) points at a 16-byte frame record at the top of each frame, [fp] = the caller's fp,
 * [fp + 8] = the return address; CFA = fp + 16; locals at CFA - frameSize - 16 + offset.
 */
import { basename, dirname, resolve } from 'node:path';
import type { LoweredProgram } from '../target/lower';
import type { LoweredFunction, Type } from '../target/types';

const EM_X86_64 = 62;
const EM_AARCH64 = 183;

class Bytes {
  private parts: number[] = [];
  get length(): number {
    return this.parts.length;
  }
  u8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.u8(v).u8(v >>> 8);
  }
  u32(v: number): this {
    return this.u16(v & 0xffff).u16(Math.floor(v / 0x10000) & 0xffff);
  }
  u64(v: number | bigint): this {
    let b = BigInt.asUintN(64, BigInt(v));
    for (let i = 0; i < 8; i++, b >>= 8n) this.u8(Number(b & 0xffn));
    return this;
  }
  uleb(v: number): this {
    do {
      let byte = v % 128;
      v = Math.floor(v / 128);
      if (v !== 0) byte |= 0x80;
      this.u8(byte);
    } while (v !== 0);
    return this;
  }
  sleb(v: number): this {
    let more = true;
    while (more) {
      let byte = v & 0x7f;
      v = Math.floor(v / 128);
      if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) more = false;
      else byte |= 0x80;
      this.u8(byte);
    }
    return this;
  }
  str(s: string): this {
    for (const b of Buffer.from(s, 'utf8')) this.u8(b);
    return this.u8(0);
  }
  bytes(b: Uint8Array | Bytes): this {
    for (const x of b instanceof Bytes ? b.parts : b) this.u8(x);
    return this;
  }
  set32(at: number, v: number): void {
    for (let i = 0; i < 4; i++) this.parts[at + i] = (v >>> (8 * i)) & 0xff;
  }
  pad(align: number, fill = 0): this {
    while (this.parts.length % align !== 0) this.u8(fill);
    return this;
  }
  buffer(): Buffer {
    return Buffer.from(this.parts);
  }
}

class StrTab {
  readonly b = new Bytes();
  private readonly at = new Map<string, number>();
  constructor(first = '') {
    this.add(first);
  }
  add(s: string): number {
    let off = this.at.get(s);
    if (off === undefined) {
      off = this.b.length;
      this.b.str(s);
      this.at.set(s, off);
    }
    return off;
  }
}

// DWARF constants
const DW = {
  TAG_compile_unit: 0x11, TAG_base_type: 0x24, TAG_pointer_type: 0x0f, TAG_array_type: 0x01, TAG_subrange_type: 0x21,
  TAG_variable: 0x34, TAG_subprogram: 0x2e, TAG_formal_parameter: 0x05,
  AT_name: 0x03, AT_producer: 0x25, AT_language: 0x13, AT_comp_dir: 0x1b, AT_low_pc: 0x11, AT_high_pc: 0x12, AT_stmt_list: 0x10,
  AT_encoding: 0x3e, AT_byte_size: 0x0b, AT_type: 0x49, AT_upper_bound: 0x2f, AT_external: 0x3f, AT_decl_file: 0x3a,
  AT_decl_line: 0x3b, AT_location: 0x02, AT_frame_base: 0x40,
  FORM_addr: 0x01, FORM_data1: 0x0b, FORM_data2: 0x05, FORM_data4: 0x06, FORM_data8: 0x07, FORM_strp: 0x0e, FORM_ref4: 0x13,
  FORM_sec_offset: 0x17, FORM_exprloc: 0x18, FORM_flag_present: 0x19,
  OP_addr: 0x03, OP_fbreg: 0x91, OP_call_frame_cfa: 0x9c,
  ATE_signed: 0x05, ATE_unsigned: 0x07, LANG_C99: 0x0c,
};

const ABBREV = { cu: 1, base: 2, ptr: 3, array: 4, subrange: 5, global: 6, fn: 7, fnTyped: 8, param: 9, local: 10 };

function abbrevTable(): Bytes {
  const b = new Bytes();
  const entry = (code: number, tag: number, children: boolean, attrs: [number, number][]) => {
    b.uleb(code).uleb(tag).u8(children ? 1 : 0);
    for (const [a, f] of attrs) b.uleb(a).uleb(f);
    b.u8(0).u8(0);
  };
  entry(ABBREV.cu, DW.TAG_compile_unit, true, [[DW.AT_producer, DW.FORM_strp], [DW.AT_language, DW.FORM_data2], [DW.AT_name, DW.FORM_strp], [DW.AT_comp_dir, DW.FORM_strp], [DW.AT_low_pc, DW.FORM_addr], [DW.AT_high_pc, DW.FORM_data8], [DW.AT_stmt_list, DW.FORM_sec_offset]]);
  entry(ABBREV.base, DW.TAG_base_type, false, [[DW.AT_name, DW.FORM_strp], [DW.AT_encoding, DW.FORM_data1], [DW.AT_byte_size, DW.FORM_data1]]);
  entry(ABBREV.ptr, DW.TAG_pointer_type, false, [[DW.AT_byte_size, DW.FORM_data1], [DW.AT_type, DW.FORM_ref4]]);
  entry(ABBREV.array, DW.TAG_array_type, true, [[DW.AT_type, DW.FORM_ref4]]);
  entry(ABBREV.subrange, DW.TAG_subrange_type, false, [[DW.AT_upper_bound, DW.FORM_data4]]);
  entry(ABBREV.global, DW.TAG_variable, false, [[DW.AT_name, DW.FORM_strp], [DW.AT_type, DW.FORM_ref4], [DW.AT_external, DW.FORM_flag_present], [DW.AT_decl_file, DW.FORM_data1], [DW.AT_decl_line, DW.FORM_data4], [DW.AT_location, DW.FORM_exprloc]]);
  const fnAttrs: [number, number][] = [[DW.AT_name, DW.FORM_strp], [DW.AT_external, DW.FORM_flag_present], [DW.AT_decl_file, DW.FORM_data1], [DW.AT_decl_line, DW.FORM_data4], [DW.AT_low_pc, DW.FORM_addr], [DW.AT_high_pc, DW.FORM_data8], [DW.AT_frame_base, DW.FORM_exprloc]];
  entry(ABBREV.fn, DW.TAG_subprogram, true, fnAttrs);
  entry(ABBREV.fnTyped, DW.TAG_subprogram, true, [...fnAttrs, [DW.AT_type, DW.FORM_ref4]]);
  const varAttrs: [number, number][] = [[DW.AT_name, DW.FORM_strp], [DW.AT_type, DW.FORM_ref4], [DW.AT_decl_file, DW.FORM_data1], [DW.AT_decl_line, DW.FORM_data4], [DW.AT_location, DW.FORM_exprloc]];
  entry(ABBREV.param, DW.TAG_formal_parameter, false, varAttrs);
  entry(ABBREV.local, DW.TAG_variable, false, varAttrs);
  b.u8(0);
  return b;
}

function typeKey(t: Type): string {
  return t.k === 'int' ? t.name : t.k === 'ptr' ? `*${typeKey(t.to)}` : `${typeKey(t.elem)}[${t.count}]`;
}

/** Functions and thread bodies, in address order. */
export function codeUnits(p: LoweredProgram): LoweredFunction[] {
  return [...p.functions.values(), ...p.threads.map((t) => t.fn)].filter((f) => f.instrs.length > 0).sort((a, b) => a.instrs[0].addr - b.instrs[0].addr);
}

function debugInfo(p: LoweredProgram, str: StrTab): Bytes {
  const fns = codeUnits(p);
  const lo = fns[0]?.instrs[0].addr ?? 0x400000;
  const hi = p.textEnd;
  const d = new Bytes();
  d.u32(0).u16(4).u32(0).u8(8); // length (patched), version 4, abbrev offset, address size
  const file = resolve(p.file);
  d.uleb(ABBREV.cu).u32(str.add('hwbp elf (hwbp-debug)')).u16(DW.LANG_C99).u32(str.add(basename(file))).u32(str.add(dirname(file))).u64(lo).u64(hi - lo).u32(0);
  // Types first, each once, before anything refers to them.
  const types = new Map<string, number>();
  const typeRef = (t: Type): number => {
    const key = typeKey(t);
    const known = types.get(key);
    if (known !== undefined) return known;
    let off: number;
    if (t.k === 'int') {
      off = d.length;
      d.uleb(ABBREV.base).u32(str.add(t.name)).u8(t.signed ? DW.ATE_signed : DW.ATE_unsigned).u8(t.size);
    } else if (t.k === 'ptr') {
      const to = typeRef(t.to);
      off = d.length;
      d.uleb(ABBREV.ptr).u8(8).u32(to);
    } else {
      const elem = typeRef(t.elem);
      off = d.length;
      d.uleb(ABBREV.array).u32(elem);
      d.uleb(ABBREV.subrange).u32(t.count - 1);
      d.u8(0);
    }
    types.set(key, off);
    return off;
  };
  for (const g of p.globals) typeRef(g.type);
  for (const f of fns) {
    if (f.ret !== null) typeRef(f.ret);
    for (const l of f.locals) typeRef(l.type);
  }
  for (const g of p.globals) {
    d.uleb(ABBREV.global).u32(str.add(g.name)).u32(typeRef(g.type)).u8(1).u32(g.span.line);
    d.uleb(9).u8(DW.OP_addr).u64(g.addr);
  }
  for (const f of fns) {
    const start = f.instrs[0].addr;
    const end = f.instrs[f.instrs.length - 1].addr + 4;
    d.uleb(f.ret === null ? ABBREV.fn : ABBREV.fnTyped).u32(str.add(f.name)).u8(1).u32(f.span.line).u64(start).u64(end - start);
    d.uleb(1).u8(DW.OP_call_frame_cfa);
    if (f.ret !== null) d.u32(typeRef(f.ret));
    const frameBytes = f.frameSize + 16;
    const ordered = [...f.locals.filter((l) => l.isParam), ...f.locals.filter((l) => !l.isParam)];
    for (const l of ordered) {
      const line = f.statements[Math.max(0, Math.min(l.scopeStart, f.statements.length - 1))]?.span.line ?? f.span.line;
      d.uleb(l.isParam ? ABBREV.param : ABBREV.local).u32(str.add(l.name)).u32(typeRef(l.type)).u8(1).u32(l.isParam ? f.span.line : line);
      const expr = new Bytes().u8(DW.OP_fbreg).sleb(l.offset - frameBytes);
      d.uleb(expr.length).bytes(expr);
    }
    d.u8(0);
  }
  d.u8(0);
  d.set32(0, d.length - 4);
  return d;
}

function debugLine(p: LoweredProgram): Bytes {
  const file = resolve(p.file);
  const b = new Bytes();
  b.u32(0).u16(4).u32(0); // unit_length, version, header_length (patched)
  const headerStart = b.length;
  b.u8(1).u8(1).u8(1).u8(-5 & 0xff).u8(14).u8(13); // min_inst_length, max_ops, default_is_stmt, line_base, line_range, opcode_base
  for (const n of [0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1]) b.u8(n);
  b.str(dirname(file)).u8(0);
  b.str(basename(file)).uleb(1).uleb(0).uleb(0).u8(0);
  b.set32(6, b.length - headerStart);
  const rows: { addr: number; line: number }[] = [];
  for (const f of codeUnits(p)) {
    let last = -1;
    for (const ins of f.instrs) {
      const line = f.statements[ins.stmt]?.span.line ?? f.span.line;
      if (ins.first || line !== last || ins === f.instrs[0]) rows.push({ addr: ins.addr, line });
      last = line;
    }
  }
  if (rows.length > 0) {
    b.u8(0).uleb(9).u8(2).u64(rows[0].addr); // DW_LNE_set_address
    let addr = rows[0].addr;
    let line = 1;
    for (const r of rows) {
      if (r.addr !== addr) b.u8(2).uleb(r.addr - addr); // DW_LNS_advance_pc
      if (r.line !== line) b.u8(3).sleb(r.line - line); // DW_LNS_advance_line
      b.u8(1); // DW_LNS_copy
      addr = r.addr;
      line = r.line;
    }
    b.u8(2).uleb(p.textEnd - addr);
    b.u8(0).uleb(1).u8(1); // DW_LNE_end_sequence
  }
  b.set32(0, b.length - 4);
  return b;
}

function debugFrame(p: LoweredProgram): Bytes {
  const x86 = p.machine.arch === 'x86_64';
  const fp = x86 ? 6 : 29;
  const ra = x86 ? 16 : 30;
  const b = new Bytes();
  // CIE: CFA = fp + 16; return address at CFA - 8; caller's fp at CFA - 16 (the same in every instruction).
  const cie = new Bytes().u32(0xffffffff).u8(1).u8(0).uleb(1).sleb(-8).u8(ra)
    .u8(0x0c).uleb(fp).uleb(16)
    .u8(0x80 | ra).uleb(1)
    .u8(0x80 | fp).uleb(2);
  while ((cie.length + 4) % 8 !== 0) cie.u8(0);
  b.u32(cie.length).bytes(cie);
  for (const f of codeUnits(p)) {
    const start = f.instrs[0].addr;
    const fde = new Bytes().u32(0).u64(start).u64(f.instrs.length * 4);
    // A thread's body is the outermost frame: nothing to return to.
    if (f.kind === 'thread') fde.u8(0x07).uleb(ra);
    while ((fde.length + 4) % 8 !== 0) fde.u8(0);
    b.u32(fde.length).bytes(fde);
  }
  return b;
}

interface Section {
  name: string;
  type: number;
  flags: number;
  addr: number;
  data: Buffer | null;
  size: number;
  link?: number;
  info?: number;
  align: number;
  entsize?: number;
}

/** The ELF image of a lowered program. */
export function buildElf(p: LoweredProgram): Buffer {
  const SHT_PROGBITS = 1, SHT_SYMTAB = 2, SHT_STRTAB = 3, SHT_NOBITS = 8;
  const SHF_WRITE = 1, SHF_ALLOC = 2, SHF_EXEC = 4;
  const fns = codeUnits(p);
  const textStart = 0x400000;
  const textSize = Math.max(4, p.textEnd - textStart);
  const str = new StrTab();
  const info = debugInfo(p, str);
  const sections: Section[] = [
    { name: '', type: 0, flags: 0, addr: 0, data: null, size: 0, align: 0 },
    { name: '.text', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXEC, addr: textStart, data: Buffer.alloc(textSize), size: textSize, align: 4 },
  ];
  const dataIndex: { start: number; end: number; index: number }[] = [];
  p.dataSegments.forEach(([start, end], i) => {
    dataIndex.push({ start, end, index: sections.length });
    sections.push({ name: i === 0 ? '.data' : `.data.${i}`, type: SHT_NOBITS, flags: SHF_ALLOC | SHF_WRITE, addr: start, data: null, size: end - start, align: 8 });
  });
  sections.push({ name: '.debug_abbrev', type: SHT_PROGBITS, flags: 0, addr: 0, data: abbrevTable().buffer(), size: 0, align: 1 });
  sections.push({ name: '.debug_info', type: SHT_PROGBITS, flags: 0, addr: 0, data: info.buffer(), size: 0, align: 1 });
  sections.push({ name: '.debug_line', type: SHT_PROGBITS, flags: 0, addr: 0, data: debugLine(p).buffer(), size: 0, align: 1 });
  sections.push({ name: '.debug_frame', type: SHT_PROGBITS, flags: 0, addr: 0, data: debugFrame(p).buffer(), size: 0, align: 8 });
  sections.push({ name: '.debug_str', type: SHT_PROGBITS, flags: 0x30, addr: 0, data: str.b.buffer(), size: 0, align: 1, entsize: 1 });
  // Symbols: the null one, a FILE symbol, then functions and globals (all global binding).
  const strtab = new StrTab();
  const sym = new Bytes();
  const symbol = (name: number, info: number, shndx: number, value: number, size: number) => sym.u32(name).u8(info).u8(0).u16(shndx).u64(value).u64(size);
  symbol(0, 0, 0, 0, 0);
  symbol(strtab.add(basename(p.file)), 0x04, 0xfff1, 0, 0); // STB_LOCAL STT_FILE, SHN_ABS
  const symtabIndex = sections.length;
  for (const f of fns) symbol(strtab.add(f.name), 0x12, 1, f.instrs[0].addr, f.instrs.length * 4); // STB_GLOBAL STT_FUNC
  for (const g of p.globals) {
    const seg = dataIndex.find((s) => g.addr >= s.start && g.addr < s.end);
    symbol(strtab.add(g.name), 0x11, seg?.index ?? 0xfff1, g.addr, g.size); // STB_GLOBAL STT_OBJECT
  }
  sections.push({ name: '.symtab', type: SHT_SYMTAB, flags: 0, addr: 0, data: sym.buffer(), size: 0, link: symtabIndex + 1, info: 2, align: 8, entsize: 24 });
  sections.push({ name: '.strtab', type: SHT_STRTAB, flags: 0, addr: 0, data: strtab.b.buffer(), size: 0, align: 1 });
  const shstr = new StrTab();
  const nameOffsets = sections.map((s) => shstr.add(s.name));
  const shstrIndex = sections.length;
  sections.push({ name: '.shstrtab', type: SHT_STRTAB, flags: 0, addr: 0, data: null, size: 0, align: 1 });
  nameOffsets.push(shstr.add('.shstrtab'));
  sections[shstrIndex].data = shstr.b.buffer();

  // Layout: ELF header, one program header (the text), section contents, section headers.
  const out = new Bytes();
  const phoff = 64;
  let offset = phoff + 56;
  const offsets: number[] = [];
  for (const s of sections) {
    if (s.data === null) {
      offsets.push(s.type === SHT_NOBITS ? offset : 0);
      continue;
    }
    const align = Math.max(1, s.align);
    offset = Math.ceil(offset / align) * align;
    if (s.name === '.text') offset = Math.ceil(offset / 0x1000) * 0x1000;
    offsets.push(offset);
    offset += s.data.length;
  }
  const shoff = Math.ceil(offset / 8) * 8;
  const entry = p.threads.find((t) => t.name === 'main')?.fn.instrs[0]?.addr ?? textStart;
  out.bytes(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0])).u64(0); // ELFCLASS64, little-endian, version 1, SYSV ABI
  out.u16(2).u16(p.machine.arch === 'x86_64' ? EM_X86_64 : EM_AARCH64).u32(1).u64(entry).u64(phoff).u64(shoff);
  out.u32(0).u16(64).u16(56).u16(1).u16(64).u16(sections.length).u16(shstrIndex);
  // PT_LOAD of the text, read + execute.
  out.u32(1).u32(5).u64(offsets[1]).u64(textStart).u64(textStart).u64(textSize).u64(textSize).u64(0x1000);
  sections.forEach((s, i) => {
    if (s.data === null) return;
    while (out.length < offsets[i]) out.u8(0);
    out.bytes(s.data);
  });
  while (out.length < shoff) out.u8(0);
  sections.forEach((s, i) => {
    out.u32(nameOffsets[i]).u32(s.type).u64(s.flags).u64(s.addr).u64(offsets[i]).u64(s.data?.length ?? s.size)
      .u32(s.link ?? 0).u32(s.info ?? 0).u64(s.align).u64(s.entsize ?? 0);
  });
  return out.buffer();
}
