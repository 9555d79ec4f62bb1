// corrcheck's side of the JavaScript bridge, evaluated once per engine before
// the user's files. It keeps a table of the callables corrcheck found, calls
// them, and sends results back as JSON text in which NaN, Infinity and
// undefined survive (Python's json module reads NaN/Infinity; undefined, i.e.
// a read outside an array, becomes NaN so the checks can point at it).
// Every answer is a string: "R" + JSON on success, "E" + JSON {name, message,
// stack} when the user's code threw.
(function (global) {
  'use strict';

  var objects = [];          // id -> value (functions, classes, instances)
  var owners = [];           // id -> the `this` a function is called with
  var modules = {};          // path -> {factory, module, state}
  var requireMaps = {};      // path -> {spec: path}
  var MAX_NAMESPACE_DEPTH = 4;
  var FLOAT32 = '__corrcheck_float32__';   // a Float32Array's marker (javascript.py _FLOAT32)

  function register(value, owner) {
    objects.push(value);
    owners.push(owner);
    return objects.length - 1;
  }

  // ---- results: JSON text that keeps NaN / Infinity / undefined ----------
  function enc(v, depth, top) {
    switch (typeof v) {
      case 'number':
        if (v !== v) return 'NaN';
        if (!isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
        return String(v);
      case 'undefined': return top ? 'null' : 'NaN';
      case 'boolean': return v ? 'true' : 'false';
      case 'string': return JSON.stringify(v);
      case 'bigint': return String(v);
      case 'function': case 'symbol': return 'null';
    }
    if (v === null) return 'null';
    if (depth > 64) throw new RangeError('corrcheck: the returned value is nested more than 64 levels deep (a cycle?)');
    var parts = [], i;
    if (Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView))) {
      for (i = 0; i < v.length; i++) parts.push(enc(v[i], depth + 1, false));
      // single precision keeps its name, so the checks use float32 tolerances
      if (v instanceof Float32Array) return '{"' + FLOAT32 + '":[' + parts.join(',') + ']}';
      return '[' + parts.join(',') + ']';
    }
    if (v instanceof Map) {
      v.forEach(function (val, key) { parts.push(JSON.stringify(String(key)) + ':' + enc(val, depth + 1, false)); });
      return '{' + parts.join(',') + '}';
    }
    var keys = Object.keys(v);
    for (i = 0; i < keys.length; i++) parts.push(JSON.stringify(keys[i]) + ':' + enc(v[keys[i]], depth + 1, false));
    return '{' + parts.join(',') + '}';
  }

  function describeError(e) {
    if (e !== null && typeof e === 'object' && typeof e.stack === 'string') {
      return JSON.stringify({ name: String(e.name || 'Error'), message: String(e.message), stack: e.stack });
    }
    var text;
    try { text = String(e); } catch (_) { text = '(an unprintable value)'; }
    return JSON.stringify({ name: '', message: text, stack: '' });
  }

  function answer(thunk) {
    try { return 'R' + enc(thunk(), 0, true); } catch (e) { return 'E' + describeError(e); }
  }

  // Arrays are passed by reference in JavaScript: a function that writes into its
  // argument changes the caller's array. Python sent copies, so report the
  // arguments that changed ("M" + [value, [[index, new contents], ...]]) and let
  // the Python side write them back into its own lists.
  function snapshot(a) {
    if (a === null || typeof a !== 'object') return null;
    try { return enc(a, 0, false); } catch (_) { return null; }
  }

  function callTracking(fn, self, args) {
    try {
      var before = args.map(snapshot);
      var result = fn.apply(self, args);
      if (result !== null && typeof result === 'object' && typeof result.then === 'function') return 'P';
      var value = enc(result, 0, true);
      var changed = [];
      for (var i = 0; i < args.length; i++) {
        if (before[i] === null) continue;
        var now = snapshot(args[i]);
        if (now !== null && now !== before[i]) changed.push('[' + i + ',' + now + ']');
      }
      return changed.length ? 'M[' + value + ',[' + changed.join(',') + ']]' : 'R' + value;
    } catch (e) {
      return 'E' + describeError(e);
    }
  }

  // ---- CommonJS: modules are factories defined by corrcheck, run on require
  function makeRequire(fromPath) {
    return function require(spec) {
      var map = requireMaps[fromPath] || {};
      if (!Object.prototype.hasOwnProperty.call(map, spec)) {
        throw new Error("require('" + spec + "') is not available: corrcheck loads only sibling files required by a relative path ('./name.js')");
      }
      return runModule(map[spec]);
    };
  }

  function runModule(path) {
    var m = modules[path];
    if (m.state !== 'new') return m.module.exports;   // loaded, or a require cycle: partial exports, as node does
    m.state = 'loading';
    var dir = path.replace(/[\\/][^\\/]*$/, '');
    m.factory.call(m.module.exports, m.module.exports, makeRequire(path), m.module, path, dir);
    m.state = 'loaded';
    return m.module.exports;
  }

  // ---- parameter lists, read from the function's own source text ----------
  // Skips strings, template literals and comments; returns the index after the
  // bracket that closes the one at `start` (or src.length).
  function skipQuoted(src, i) {
    var q = src[i];
    for (i++; i < src.length && src[i] !== q; i++) if (src[i] === '\\') i++;
    return i + 1;
  }

  function scan(src, start, stopAt) {
    // Walks src from start; calls stopAt(ch, i, depth) on code characters.
    var depth = 0;
    for (var i = start; i < src.length; i++) {
      var c = src[i], d = src[i + 1];
      if (c === '"' || c === "'" || c === '`') { i = skipQuoted(src, i) - 1; continue; }
      if (c === '/' && d === '/') { var nl = src.indexOf('\n', i); i = nl < 0 ? src.length : nl; continue; }
      if (c === '/' && d === '*') { var end = src.indexOf('*/', i + 2); i = end < 0 ? src.length : end + 1; continue; }
      if (stopAt(c, i, depth)) return i;
      if (c === '(' || c === '[' || c === '{') depth++;
      else if (c === ')' || c === ']' || c === '}') depth--;
    }
    return src.length;
  }

  function stripComments(text) {
    return text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, ' ');
  }

  function splitTopLevel(text, sep) {
    var pieces = [], last = 0;
    scan(text, 0, function (c, i, depth) {
      if (depth === 0 && c === sep) { pieces.push(text.slice(last, i)); last = i + 1; }
      return false;
    });
    pieces.push(text.slice(last));
    return pieces;
  }

  function paramList(src) {
    var open = scan(src, 0, function (c, i, depth) {
      return depth === 0 && (c === '(' || (c === '=' && src[i + 1] === '>'));
    });
    if (open >= src.length) return [];
    if (src[open] === '=') {                       // x => ..., async x => ...
      var single = stripComments(src.slice(0, open)).trim().replace(/^async\s+/, '');
      return single ? [{ name: single, kind: 'positional', default: null }] : [];
    }
    var close = scan(src, open, function (c, i, depth) { return depth === 1 && c === ')'; });
    var out = [];
    splitTopLevel(src.slice(open + 1, close), ',').forEach(function (piece) {
      piece = stripComments(piece).trim();
      if (!piece) return;
      if (piece.slice(0, 3) === '...') {
        out.push({ name: piece.slice(3).trim(), kind: 'var_positional', default: null });
        return;
      }
      var eq = scan(piece, 0, function (c, i, depth) {
        return depth === 0 && c === '=' && piece[i + 1] !== '>' && piece[i + 1] !== '=';
      });
      var name = piece.slice(0, eq).trim().replace(/\s+/g, ' ');
      var dflt = eq < piece.length ? piece.slice(eq + 1).trim() : null;
      out.push({ name: name, kind: 'positional', default: dflt });
    });
    return out;
  }

  // The source of a class's constructor, searched up the `extends` chain.
  function constructorSource(cls) {
    for (var c = cls; typeof c === 'function' && c !== Function.prototype; c = Object.getPrototypeOf(c)) {
      var src = Function.prototype.toString.call(c);
      if (!/^class\b/.test(src)) return src;       // an ES5 constructor function
      var body = scan(src, 0, function (ch) { return ch === '{'; });
      var found = -1;
      scan(src, body, function (ch, i, depth) {
        if (depth === 1 && ch === 'c' && /^constructor\s*\(/.test(src.slice(i, i + 40)) && !/[\w$.]/.test(src[i - 1])) {
          found = i;
          return true;
        }
        return false;
      });
      if (found >= 0) return src.slice(found);
    }
    return '()';
  }

  // ---- discovery -------------------------------------------------------------
  function isPlainObject(v) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
    var proto = Object.getPrototypeOf(v);
    return proto === null || proto === Object.prototype || Object.getPrototypeOf(proto) === null;
  }

  function sourceOf(fn) {
    try { return Function.prototype.toString.call(fn); } catch (_) { return ''; }
  }

  function isClass(fn, src) {
    if (/^class\b/.test(src)) return true;
    if (!fn.prototype || /^(async\s+)?\(|=>/.test(src.slice(0, src.indexOf('{') < 0 ? src.length : src.indexOf('{')))) return false;
    var own = Object.getOwnPropertyNames(fn.prototype).filter(function (n) { return n !== 'constructor'; });
    if (own.length) return true;
    return /^function\s*[A-Z]/.test(src) && /\bthis\.[\w$]+\s*=/.test(src);
  }

  function classMethods(cls, src) {
    var names = [];
    for (var p = cls.prototype; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
      Object.getOwnPropertyNames(p).forEach(function (n) {
        var d = Object.getOwnPropertyDescriptor(p, n);
        if (n !== 'constructor' && d && typeof d.value === 'function' && names.indexOf(n) < 0) names.push(n);
      });
    }
    var re = /\bthis\.([\w$]+)\s*=\s*(?:function\b|(?:async\s+)?\([^)]*\)\s*=>|[\w$]+\s*=>)/g, m;
    while ((m = re.exec(src)) !== null) if (names.indexOf(m[1]) < 0) names.push(m[1]);
    return names;
  }

  function discover(lexicalNames, exportPaths) {
    var found = [], seen = new Map(), visiting = new Set();

    function entry(name, value, owner, kind, extra) {
      var src = sourceOf(value);
      var e = { id: register(value, owner), name: name, kind: kind, source: src, length: value.length };
      if (seen.has(value)) e.alias_of = seen.get(value); else seen.set(value, name);
      for (var k in extra) e[k] = extra[k];
      found.push(e);
      return e;
    }

    function walk(name, value, owner, depth) {
      if (typeof value === 'function') {
        var src = sourceOf(value);
        if (isClass(value, src)) {
          var methods = classMethods(value, src);
          entry(name, value, owner, 'class', { methods: methods, params: paramList(constructorSource(value)) });
          methods.forEach(function (m) {
            var d = Object.getOwnPropertyDescriptor(value.prototype, m);
            if (d && typeof d.value === 'function') {
              entry(name + '.prototype.' + m, d.value, null, 'method', { method_of: name, params: paramList(sourceOf(d.value)) });
            }
          });
        } else {
          entry(name, value, owner, 'function', { params: paramList(src) });
        }
        if (depth < MAX_NAMESPACE_DEPTH) walkMembers(name, value, depth, ['length', 'name', 'prototype', 'arguments', 'caller']);
      } else if (isPlainObject(value) && depth < MAX_NAMESPACE_DEPTH) {
        walkMembers(name, value, depth, []);
      }
    }

    function walkMembers(name, obj, depth, skip) {
      if (visiting.has(obj)) return;
      visiting.add(obj);
      Object.keys(obj).forEach(function (key) {
        if (skip.indexOf(key) >= 0) return;
        var d = Object.getOwnPropertyDescriptor(obj, key);
        if (d && 'value' in d) walk(name + '.' + key, d.value, obj, depth + 1);
      });
      visiting.delete(obj);
    }

    Object.getOwnPropertyNames(global).forEach(function (name) {
      if (HIDDEN.indexOf(name) >= 0) return;
      var d = Object.getOwnPropertyDescriptor(global, name);
      if (!d || !('value' in d)) return;
      if (baseline.has(name) && baseline.get(name) === d.value) return;
      walk(name, d.value, global, 0);
    });
    lexicalNames.forEach(function (name) {
      if (Object.prototype.hasOwnProperty.call(global, name)) return;
      var value;
      try { value = (0, eval)(name); } catch (_) { return; }   // not a top-level binding, or in its TDZ
      walk(name, value, global, 0);
    });
    exportPaths.forEach(function (path) {
      var m = modules[path];
      if (!m || m.state !== 'loaded') return;
      var ex = m.module.exports;
      if (typeof ex === 'function') walk(ex.name || path.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, ''), ex, m.module, 0);
      else if (ex !== null && typeof ex === 'object') {
        Object.keys(ex).forEach(function (key) {
          var d = Object.getOwnPropertyDescriptor(ex, key);
          if (d && 'value' in d) walk(key, d.value, ex, 0);
        });
      }
    });
    return found;
  }

  function construct(cls, args) {
    return new (Function.prototype.bind.apply(cls, [null].concat(args)))();
  }

  var bridge = {
    defineModule: function (path, factory) {
      modules[path] = { factory: factory, module: { exports: {}, id: path, filename: path }, state: 'new' };
    },
    setRequireMap: function (path, map) { requireMaps[path] = map; },
    requireFile: function (path) { return answer(function () { runModule(path); return null; }); },
    discover: function (lexicalNames, exportPaths) {
      return answer(function () { return JSON.stringify(discover(lexicalNames, exportPaths)); });
    },
    h: function (id) { return objects[id]; },
    call: function (id, args) { return callTracking(objects[id], owners[id], args); },
    callMethod: function (objId, name, args) {
      var obj = objects[objId];
      if (typeof obj[name] !== 'function') return 'E' + describeError(new TypeError(name + ' is not a method of this object'));
      return callTracking(obj[name], obj, args);
    },
    construct: function (id, args) {
      return answer(function () { return register(construct(objects[id], args), null); });
    },
    get: function (objId, name) {
      return answer(function () {
        var obj = objects[objId];
        if (!(name in Object(obj))) return { __corrcheck_missing__: name };
        var v = obj[name];
        return typeof v === 'function' ? { __corrcheck_method__: name } : v;
      });
    },
    set: function (objId, name, value) {
      return answer(function () { objects[objId][name] = value; return null; });
    },
    fields: function (objId) {
      return answer(function () {
        var obj = objects[objId], out = {};
        for (var k in obj) if (typeof obj[k] !== 'function') out[k] = obj[k];
        return out;
      });
    },
    keys: function (objId) {
      return answer(function () {
        var names = [];
        for (var k in objects[objId]) names.push(k);
        return names;
      });
    },
    release: function (ids) {
      ids.forEach(function (id) { objects[id] = undefined; owners[id] = undefined; });
      return 'Rnull';
    },
  };

  if (typeof global.console === 'undefined') {
    var quiet = function () {};
    global.console = { log: quiet, info: quiet, warn: quiet, error: quiet, debug: quiet, trace: quiet, table: quiet, time: quiet, timeEnd: quiet };
  }
  Object.defineProperty(global, '__corrcheck', { value: bridge, enumerable: false });
  var HIDDEN = ['__corrcheck', 'module', 'exports', 'require', 'globalThis'];
  var baseline = new Map();
  Object.getOwnPropertyNames(global).forEach(function (name) {
    var d = Object.getOwnPropertyDescriptor(global, name);
    baseline.set(name, d && 'value' in d ? d.value : d);
  });
})(globalThis);
