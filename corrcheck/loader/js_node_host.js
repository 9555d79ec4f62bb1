// Node.js host for corrcheck's JavaScript bridge, used when mini-racer is not
// installed. It reads one JSON request per line on stdin and answers with one
// line on stdout, so one node process serves a whole run. User code runs in a
// vm context (no require, no process, no real console), with node's own
// per-script timeout; stdout belongs to the protocol alone.
//
// Requests:  {"op": "script", "path": P, "code": C, "timeout": S}
//            {"op": "eval", "code": C, "timeout": S}
// Answers:   "V" + the bridge's answer string       (eval)
//            "V"                                    (script ran)
//            "T"                                    (timed out)
//            "S" + JSON {line, message}             (syntax error in a script)
//            "X" + JSON {name, message, stack}      (a script threw)
'use strict';
const vm = require('vm');
const fs = require('fs');
const path = require('path');
const readline = require('readline');

const context = vm.createContext({});
vm.runInContext(fs.readFileSync(path.join(__dirname, 'js_bridge.js'), 'utf8'), context,
  { filename: 'corrcheck-js-bridge' });

function timeoutMs(request) {
  return request.timeout ? Math.max(1, Math.round(request.timeout * 1000)) : undefined;
}

function errorJson(e) {
  if (e !== null && typeof e === 'object' && typeof e.stack === 'string') {
    return JSON.stringify({ name: String(e.name || 'Error'), message: String(e.message), stack: e.stack });
  }
  return JSON.stringify({ name: '', message: String(e), stack: '' });
}

function handle(request) {
  if (request.op === 'script') {
    let script;
    try {
      script = new vm.Script(request.code, { filename: request.path });
    } catch (e) {
      // node puts "file:line" on the first line of a SyntaxError's stack
      const where = /^.*:(\d+)\s*$/m.exec(String(e.stack).split('\n')[0]);
      return 'S' + JSON.stringify({ line: where ? Number(where[1]) : null, message: String(e.message) });
    }
    try {
      script.runInContext(context, { timeout: timeoutMs(request) });
      return 'V';
    } catch (e) {
      if (e && e.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return 'T';
      return 'X' + errorJson(e);
    }
  }
  try {
    return 'V' + vm.runInContext(request.code, context,
      { timeout: timeoutMs(request), filename: 'corrcheck-js-bridge-call' });
  } catch (e) {
    if (e && e.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return 'T';
    return 'X' + errorJson(e);
  }
}

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', (line) => {
  let reply;
  try {
    reply = handle(JSON.parse(line));
  } catch (e) {
    reply = 'X' + errorJson(e);
  }
  process.stdout.write(reply.replace(/\n/g, '\\n') + '\n');
});
lines.on('close', () => process.exit(0));
