// A reader for the subset of libconfig (https://hyperrealm.github.io/libconfig/) that tox-bootstrapd
// configs use: `name = value;` (or `name: value`, `;`/`,` optional), strings in double quotes
// (with \" \\ \n \t \r \f \xNN escapes; adjacent strings join), integers (decimal or 0x hex, an
// optional L suffix), floats, booleans (true/false, any case), arrays `[1, 2]`, lists `( … )`,
// groups `{ name = value; … }`, and `//`, `#` and `/* */` comments. Every value keeps its line.
// `@include` is refused. Pure: text in, settings out, LibconfigError(line, message) on bad syntax.

export type LibconfigValue =
  | { type: 'int'; value: number; line: number }
  | { type: 'float'; value: number; line: number }
  | { type: 'bool'; value: boolean; line: number }
  | { type: 'string'; value: string; line: number }
  | { type: 'array'; value: LibconfigValue[]; line: number }
  | { type: 'list'; value: LibconfigValue[]; line: number }
  | { type: 'group'; value: LibconfigSetting[]; line: number };

export interface LibconfigSetting {
  name: string;
  value: LibconfigValue;
  line: number;
}

export class LibconfigError extends Error {
  override name = 'LibconfigError';
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

const NAME = /[A-Za-z*][-A-Za-z0-9_*]*/y;
const NUMBER = /[-+]?(0[xX][0-9A-Fa-f]+|(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)(L{1,2})?/y;

export function parseLibconfig(text: string): LibconfigSetting[] {
  let pos = 0;
  let line = 1;

  const fail = (message: string, where = line): never => {
    throw new LibconfigError(where, message);
  };

  /** Skips whitespace and comments. */
  const skip = () => {
    for (;;) {
      const c = text[pos];
      if (c === '\n') {
        line++;
        pos++;
      } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
        pos++;
      } else if (c === '#' || (c === '/' && text[pos + 1] === '/')) {
        while (pos < text.length && text[pos] !== '\n') pos++;
      } else if (c === '/' && text[pos + 1] === '*') {
        const start = line;
        const end = text.indexOf('*/', pos + 2);
        if (end === -1) fail('unterminated /* comment', start);
        for (let i = pos; i < end; i++) if (text[i] === '\n') line++;
        pos = end + 2;
      } else {
        return;
      }
    }
  };

  const peek = () => {
    skip();
    return text[pos];
  };

  const describeHere = () => {
    if (pos >= text.length) return 'the end of the file';
    const word = /[^\s;,=:()[\]{}]+/y;
    word.lastIndex = pos;
    const m = word.exec(text);
    return `'${m ? m[0].slice(0, 30) : text[pos]}'`;
  };

  const name = (): string => {
    NAME.lastIndex = pos;
    const m = NAME.exec(text);
    if (!m) return fail(text[pos] === '@' ? '@include and other directives are not supported' : `expected a setting name; got ${describeHere()}`);
    pos += m[0].length;
    return m[0];
  };

  const string = (): string => {
    let out = '';
    const start = line;
    pos++; // the opening quote
    for (;;) {
      const c = text[pos];
      if (c === undefined || c === '\n') return fail('unterminated string', start);
      pos++;
      if (c === '"') break;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = text[pos++];
      if (e === 'x') {
        const hex = text.slice(pos, pos + 2);
        if (!/^[0-9A-Fa-f]{2}$/.test(hex)) fail('bad \\x escape in a string');
        out += String.fromCharCode(parseInt(hex, 16));
        pos += 2;
      } else {
        const simple: Record<string, string> = { '"': '"', '\\': '\\', n: '\n', t: '\t', r: '\r', f: '\f' };
        const s = e === undefined ? undefined : simple[e];
        if (s === undefined) fail(`unknown escape \\${e ?? ''} in a string`);
        out += s;
      }
    }
    // "a" "b" is "ab", as in C.
    return peek() === '"' ? out + string() : out;
  };

  const value = (): LibconfigValue => {
    const c = peek();
    const at = line;
    if (c === '"') return { type: 'string', value: string(), line: at };
    if (c === '[' || c === '(') {
      const close = c === '[' ? ']' : ')';
      pos++;
      const items: LibconfigValue[] = [];
      const unclosed = () => fail(`'${c}' opened on line ${at} is never closed`);
      while (peek() !== close) {
        if (pos >= text.length) unclosed();
        items.push(value());
        if (peek() === undefined) unclosed();
        if (text[pos] === ',') pos++;
        else if (text[pos] !== close) fail(`expected ',' or '${close}'; got ${describeHere()}`);
      }
      pos++;
      if (c === '[') {
        const kinds = new Set(items.map((i) => i.type));
        if ([...kinds].some((k) => k === 'array' || k === 'list' || k === 'group')) fail('an array holds only scalar values', at);
        if (kinds.size > 1 && !(kinds.size === 2 && kinds.has('int') && kinds.has('float'))) fail('the values of an array must all have one type', at);
        return { type: 'array', value: items, line: at };
      }
      return { type: 'list', value: items, line: at };
    }
    if (c === '{') {
      pos++;
      const settings = block('}');
      pos++;
      return { type: 'group', value: settings, line: at };
    }
    const word = /(true|false)(?![-A-Za-z0-9_*])/iy;
    word.lastIndex = pos;
    const b = word.exec(text);
    if (b) {
      pos += b[0].length;
      return { type: 'bool', value: b[0].toLowerCase() === 'true', line: at };
    }
    NUMBER.lastIndex = pos;
    const m = NUMBER.exec(text);
    if (m && !/[-A-Za-z0-9_.*]/.test(text[pos + m[0].length] ?? '')) {
      pos += m[0].length;
      const digits = m[0].replace(/L+$/, '');
      if (/^[-+]?0[xX]/.test(digits)) {
        const sign = digits.startsWith('-') ? -1 : 1;
        return { type: 'int', value: sign * parseInt(digits.replace(/^[-+]?0[xX]/, ''), 16), line: at };
      }
      const isFloat = /[.eE]/.test(digits);
      return { type: isFloat ? 'float' : 'int', value: Number(digits), line: at };
    }
    return fail(`expected a value; got ${describeHere()}`);
  };

  /** Settings up to `end` (the closing brace, or undefined for the end of the file). */
  const block = (end: string | undefined): LibconfigSetting[] => {
    const settings: LibconfigSetting[] = [];
    const opened = line;
    for (;;) {
      const c = peek();
      if (c === end) return settings;
      if (c === undefined) return end === undefined ? settings : fail(`'{' opened on line ${opened} is never closed`);
      const at = line;
      const key = name();
      const sep = peek();
      if (sep !== '=' && sep !== ':') fail(`expected '=' after ${key}; got ${describeHere()}`);
      pos++;
      const v = value();
      const after = peek();
      if (after === ';' || after === ',') pos++;
      if (settings.some((s) => s.name === key)) fail(`${key} is set twice`, at);
      settings.push({ name: key, value: v, line: at });
    }
  };

  return block(undefined);
}
