// routes.mjs - reads the server's route tables from the C sources, so the API test covers exactly
// what the server serves: every `{FV__HTTP_<METHOD>, "<pattern>", <roles>, <handler>, <max_body>}`
// entry of every `fv__http_routes_<group>[]` table in src/http/routes_*.c, with its roles
// evaluated from the role macros (the file's own #defines and those of src/http/http-impl.h).
//
// A role expression is evaluated by a small C preprocessor (object- and function-like macros,
// `##` pasting) down to FV__HTTP_ROLE(FV_LEDGER_ROLE_<NAME>) and FV__HTTP_ANON joined with `|`;
// anything else (a new role macro this reader cannot follow) throws, so the test fails loudly
// instead of guessing a role matrix.
import fs from 'node:fs';
import path from 'node:path';

// Role names as the API spells them, by ledger enum suffix.
export const ROLE_BY_ENUM = {
  ADMIN: 'admin',
  RECEPTION: 'reception',
  CHANNEL_MANAGER: 'channel_manager',
  AGENT: 'agent',
  AUDITOR: 'auditor',
  KIOSK: 'kiosk',
  VISITOR: 'visitor',
};
export const ANON = 'anonymous';
// Every caller the matrix tries: each role, then no login at all.
export const CALLERS = [...Object.values(ROLE_BY_ENUM), ANON];

function stripComments(src) {
  return src.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, '');
}

function tokenize(text) {
  const out = [];
  const re = /\s*(##|[A-Za-z_]\w*|\d\w*|"(?:[^"\\]|\\.)*"|\S)/gy;
  let m;
  while ((m = re.exec(text)) !== null) {
    if (m[1] === undefined) break;
    out.push(m[1]);
  }
  return out;
}

// #define NAME body / #define NAME(a, b) body, with backslash continuations.
export function parseDefines(src) {
  const defs = new Map();
  const lines = stripComments(src).replace(/\\\r?\n/g, ' ').split('\n');
  for (const line of lines) {
    const m = /^\s*#\s*define\s+([A-Za-z_]\w*)(\(([^)]*)\))?(.*)$/.exec(line);
    if (!m) continue;
    const params = m[2] !== undefined ? m[3].split(',').map((s) => s.trim()).filter(Boolean) : null;
    defs.set(m[1], { params, body: tokenize(m[4]) });
  }
  return defs;
}

// The primitives the evaluator understands; never expanded.
const PRIMITIVES = new Set(['FV__HTTP_ROLE', 'FV__HTTP_ANON']);

function expand(tokens, defs, depth = 0) {
  if (depth > 32) throw new Error('role macros nest too deeply (recursive?)');
  const out = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const d = PRIMITIVES.has(t) ? undefined : defs.get(t);
    if (d === undefined) {
      out.push(t);
      continue;
    }
    if (d.params === null) {
      out.push(...expand(d.body, defs, depth + 1));
      continue;
    }
    if (tokens[i + 1] !== '(') {
      out.push(t);
      continue;
    }
    // Collect the arguments (balanced parentheses).
    const args = [[]];
    let level = 0;
    let j = i + 2;
    for (; j < tokens.length; j++) {
      const a = tokens[j];
      if (a === '(') level++;
      if (a === ')') {
        if (level === 0) break;
        level--;
      }
      if (a === ',' && level === 0) args.push([]);
      else args[args.length - 1].push(a);
    }
    if (j >= tokens.length) throw new Error(`unbalanced call of macro ${t}`);
    if (args.length !== d.params.length && !(d.params.length === 0 && args.length === 1)) {
      throw new Error(`macro ${t} takes ${d.params.length} argument(s)`);
    }
    const subst = [];
    for (const b of d.body) {
      const k = d.params.indexOf(b);
      if (k >= 0) subst.push(...args[k]);
      else subst.push(b);
    }
    const pasted = [];
    for (let k = 0; k < subst.length; k++) {
      if (subst[k] === '##' && pasted.length > 0 && k + 1 < subst.length) {
        pasted[pasted.length - 1] += subst[++k];
      } else {
        pasted.push(subst[k]);
      }
    }
    out.push(...expand(pasted, defs, depth + 1));
    i = j;
  }
  return out;
}

// Evaluates an expanded role expression to a set of caller names.
function evaluate(tokens, text) {
  let pos = 0;
  const fail = (why) => {
    throw new Error(`cannot read the role expression '${text}': ${why} at '${tokens.slice(pos).join(' ')}'`);
  };
  function term() {
    const t = tokens[pos];
    if (t === '(') {
      pos++;
      const s = expr();
      if (tokens[pos++] !== ')') fail('expected )');
      return s;
    }
    if (t === 'FV__HTTP_ANON') {
      pos++;
      return new Set([ANON]);
    }
    if (t === 'FV__HTTP_ROLE') {
      pos++;
      if (tokens[pos++] !== '(') fail('expected (');
      const r = tokens[pos++];
      const m = /^FV_LEDGER_ROLE_(\w+)$/.exec(r || '');
      if (!m || !(m[1] in ROLE_BY_ENUM)) fail(`unknown role ${r}`);
      if (tokens[pos++] !== ')') fail('expected )');
      return new Set([ROLE_BY_ENUM[m[1]]]);
    }
    fail('unexpected token');
    return null;
  }
  function expr() {
    const s = term();
    while (tokens[pos] === '|') {
      pos++;
      for (const r of term()) s.add(r);
    }
    return s;
  }
  const s = expr();
  if (pos !== tokens.length) fail('trailing tokens');
  return s;
}

function splitTopLevel(text) {
  const parts = [];
  let level = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') level++;
    if (ch === ')') level--;
    if (ch === ',' && level === 0) {
      parts.push(cur.trim());
      cur = '';
    } else {
      cur += ch;
    }
  }
  if (cur.trim() !== '') parts.push(cur.trim());
  return parts;
}

// The route tables of srcDir/src/http/routes_*.c:
// [{group, file, method, pattern, key: "POST /api/v1/x", roles: Set, anon: bool, maxBody: text}]
export function readRoutes(repo) {
  const dir = path.join(repo, 'src', 'http');
  const common = parseDefines(fs.readFileSync(path.join(dir, 'http-impl.h'), 'utf8'));
  const files = fs.readdirSync(dir).filter((f) => /^routes_\w+\.c$/.test(f)).sort();
  const routes = [];
  const tables = [];
  for (const file of files) {
    const src = fs.readFileSync(path.join(dir, file), 'utf8');
    const defs = new Map([...common, ...parseDefines(src)]);
    const clean = stripComments(src);
    const tableRe = /fv__http_route\s+(fv__http_routes_\w+)\s*\[\s*\]\s*=\s*\{([\s\S]*?)\n\s*\}\s*;/g;
    let tm;
    while ((tm = tableRe.exec(clean)) !== null) {
      tables.push(tm[1]);
      const entryRe = /\{\s*FV__HTTP_(GET|POST|PUT|DELETE)\s*,\s*"([^"]*)"\s*,([^{}]*)\}/g;
      let em;
      while ((em = entryRe.exec(tm[2])) !== null) {
        const rest = splitTopLevel(em[3]);
        if (rest.length !== 3) throw new Error(`${file}: cannot read the route entry for ${em[2]}`);
        const [rolesText, handler, maxBody] = rest;
        const roles = evaluate(expand(tokenize(rolesText), defs), rolesText);
        routes.push({
          group: tm[1].replace('fv__http_routes_', ''),
          file,
          method: em[1],
          pattern: em[2],
          key: `${em[1]} ${em[2]}`,
          roles,
          anon: roles.has(ANON),
          handler,
          maxBody,
        });
      }
    }
  }
  return { routes, tables };
}

// The tables the server actually consults (server.c's TABLES list).
export function serverTables(repo) {
  const src = stripComments(fs.readFileSync(path.join(repo, 'src', 'http', 'server.c'), 'utf8'));
  const m = /TABLES\s*\[\s*\]\s*=\s*\{([\s\S]*?)\}\s*;/.exec(src);
  if (!m) throw new Error('server.c: no TABLES list');
  return [...m[1].matchAll(/fv__http_routes_\w+/g)].map((x) => x[0]);
}
