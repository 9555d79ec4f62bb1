"""Load JavaScript files into one V8 global environment and expose their callables as UserFunctions.

The JavaScript side (js_bridge.js) keeps a table of the functions it found and
answers every request with one string, so a call costs one engine round trip.
Two engines run it: mini-racer (V8 inside this process, the default) and, when
mini-racer is not installed, one persistent `node` process (js_node_host.js)
speaking JSON lines. CORRCHECK_JS_ENGINE=mini-racer|node|auto picks one.

What the user's files may look like, and how their callables are named:
- plain scripts (`function corre(a, f, s, p)`, `var f = function`, `const f = () =>`): `corre`;
- CommonJS modules (`module.exports = {...}`, `exports.x = ...`, relative `require`):
  each file runs in its own module scope, like node; its exports are top-level names;
- browser namespaces (`var mlib = mlib || {}; mlib.layers.conv = ...`): `mlib.layers.conv`;
- classes and constructor functions: `Conv` (is_class, `call` constructs and returns a
  JsObjectHandle) and `Conv.prototype.forward` (extra["method_of"] == "Conv"; `call`
  takes the instance first, as Python's `Conv.forward(obj, x)` does).

Values cross as JSON: arrays as nested lists, typed arrays as lists, objects as
dicts, NaN and `undefined` inside arrays as float('nan') (a read outside an
array). A top-level `undefined` (no return statement) comes back as None.
Python None arguments arrive as `undefined`, so JavaScript defaults apply;
keywords are placed by the parameter names read from the source. What a
function writes into an array argument is written back into the caller's
list, as JavaScript's by-reference arrays would do, so in-place edits show.

A time limit stops the JavaScript itself (V8 termination, or node's vm
timeout; a node process that does not answer is killed and reloaded). After
fork() a runtime reloads the files in a fresh engine (node when available:
V8 does not survive fork).
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import importlib.util
import json
import os
import queue
import re
import shutil
import subprocess
import threading
import weakref
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import BindError, LoadError, UnusableOutput, UserRaised, UserTimeout
from .functions import Param, UserFunction

__all__ = ["load_javascript", "JsRuntime", "JsObjectHandle", "JsDefault", "ENGINE_ENV", "engine_choice"]

ENGINE_ENV = "CORRCHECK_JS_ENGINE"
INSTALL_HINT = "running JavaScript files needs the js extra: pip install 'corrcheck[js]' (or Node.js on PATH)"
_HERE = Path(__file__).parent                  # js_bridge.js and js_node_host.js sit beside this module
_BRIDGE_NAME = "corrcheck-js-bridge"
# Every open V8 engine is referenced from here until closed in the process that made it, so
# garbage collection never runs mini-racer's finalizers, which would touch V8 from a forked child.
_OPEN_ENGINES: list = []
_NODE_GRACE = 2.0          # seconds node may answer after its own vm timeout before it is killed


class JsDefault(str):
    """A parameter default that is a JavaScript expression, kept as its source text (`[1, 1]`, `a.length`)."""

    def __repr__(self) -> str:
        return f"JsDefault({str(self)!r})"


# ---------------------------------------------------------------- engines

class _Timeout(Exception):
    """The engine stopped the JavaScript because its time was up."""


class _ScriptFailed(Exception):
    """A file did not load: kind is 'syntax' or 'thrown'; `error` is {name, message, stack} or {line, message}."""

    def __init__(self, kind: str, error: dict):
        super().__init__(error.get("message", ""))
        self.kind, self.error = kind, error


def _bridge_source() -> str:
    return (_HERE / "js_bridge.js").read_text(encoding="utf-8")


class _MiniRacerEngine:
    """V8 in this process. Calls run on our own event-loop thread so an interrupted wait can cancel them."""

    name = "mini-racer"

    def __init__(self):
        from py_mini_racer import mini_racer        # lazy: an optional dependency (the node host works without)
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, name="corrcheck-v8", daemon=True).start()
        self._cm = mini_racer(self._loop)
        self._mr = self._cm.__enter__()
        self._pid = os.getpid()
        _OPEN_ENGINES.append(self)
        self.eval(_bridge_source() + f"\n//# sourceURL={_BRIDGE_NAME}", None)

    def eval(self, code: str, timeout: float | None) -> Any:
        """Evaluate JavaScript under a time limit; a timeout or an outer interrupt also stops the script."""
        future = asyncio.run_coroutine_threadsafe(self._mr.eval_cancelable(code), self._loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()                 # cancelling the task terminates the JavaScript
            raise _Timeout() from None
        except BaseException:               # an outer time limit or Ctrl-C: stop the JavaScript too
            future.cancel()
            raise

    def run_script(self, path: str, code: str, timeout: float | None) -> None:
        """Run a file's code, turning a syntax error or a throw into _ScriptFailed with its line."""
        from py_mini_racer import JSEvalException, JSParseException   # lazy: optional, as above
        try:
            self.eval(code + f"\n//# sourceURL={path}", timeout)
        except JSParseException as exc:
            head = str(exc).split("\n", 1)[0]          # "<name>:LINE: SyntaxError: message"
            m = re.match(r"^.*?:(\d+): (?:SyntaxError: )?(.*)$", head)
            raise _ScriptFailed("syntax", {"line": int(m.group(1)) if m else None,
                                           "message": m.group(2) if m else head}) from None
        except JSEvalException as exc:
            text = str(exc)
            head, _, stack = text.partition("\n\n")
            m = re.match(r"^.*?:\d+: (\w*Error|\w+): (.*)$", head.split("\n", 1)[0])
            raise _ScriptFailed("thrown", {"name": m.group(1) if m else "Error",
                                           "message": m.group(2) if m else head.split("\n", 1)[0],
                                           "stack": stack}) from None

    def close(self) -> None:
        """Stop the engine and its event loop (only in the process that started them)."""
        if os.getpid() == self._pid and self in _OPEN_ENGINES:
            _OPEN_ENGINES.remove(self)
            self._cm.__exit__(None, None, None)
            self._loop.call_soon_threadsafe(self._loop.stop)


class _NodeEngine:
    """One `node` process for the whole run; it dies with us (stdin closes) or when closed."""

    name = "node"

    def __init__(self, node: str):
        self._proc = subprocess.Popen([node, str(_HERE / "js_node_host.js")], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                      text=True, encoding="utf-8")
        self._pid = os.getpid()
        self._lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, args=(self._proc.stdout, self._lines),
                         name="corrcheck-node-reader", daemon=True).start()
        self._finalizer = weakref.finalize(self, _kill, self._proc)
        self.broken = False

    @staticmethod
    def _read(stream, lines) -> None:
        for line in stream:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    def _request(self, payload: dict, timeout: float | None) -> str:
        if self.broken:
            raise LoadError("the node process behind the JavaScript bridge stopped answering")
        try:
            self._proc.stdin.write(json.dumps(payload) + "\n")
            self._proc.stdin.flush()
            line = self._lines.get(timeout=None if timeout is None else timeout + _NODE_GRACE)
        except queue.Empty:
            self._die()
            raise _Timeout() from None
        except BaseException:               # interrupted: the answer would arrive out of step
            self._die()
            raise
        if line is None:
            self._die()
            raise LoadError(f"node exited unexpectedly (exit code {self._proc.wait()})")
        if line.startswith("T"):
            raise _Timeout()
        return line

    def _die(self) -> None:
        self.broken = True
        _kill(self._proc)

    def eval(self, code: str, timeout: float | None) -> str:
        """Evaluate JavaScript in the Node.js host; engine-level failures come back as an error answer."""
        line = self._request({"op": "eval", "code": code, "timeout": timeout}, timeout)
        if line.startswith("X"):        # an engine-level failure outside the bridge's try (e.g. stack overflow)
            error = json.loads(line[1:])
            return "E" + json.dumps(error)
        return line[1:]

    def run_script(self, path: str, code: str, timeout: float | None) -> None:
        """Run a file's code in the host, turning a syntax error or a throw into _ScriptFailed."""
        line = self._request({"op": "script", "path": path, "code": code, "timeout": timeout}, timeout)
        if line[0] in "SX":
            raise _ScriptFailed("syntax" if line[0] == "S" else "thrown", json.loads(line[1:]))

    def close(self) -> None:
        """Stop the Node.js host (only in the process that started it)."""
        if os.getpid() == self._pid:
            self._finalizer()


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def _mini_racer_importable() -> bool:
    return importlib.util.find_spec("py_mini_racer") is not None


def _node_executable() -> str | None:
    return shutil.which("node") or shutil.which("nodejs")


def engine_choice(engine: str | None = None):
    """The engine factory for `engine` (or $CORRCHECK_JS_ENGINE, default auto); LoadError when none is usable."""
    choice = (engine or os.environ.get(ENGINE_ENV) or "auto").strip().lower().replace("_", "-")
    if choice == "miniracer":
        choice = "mini-racer"
    if choice not in ("auto", "mini-racer", "node"):
        raise LoadError(f"{ENGINE_ENV} must be mini-racer, node or auto, not {choice!r}")
    if choice in ("auto", "mini-racer") and _mini_racer_importable():
        return _MiniRacerEngine
    node = _node_executable() if choice in ("auto", "node") else None
    if node:
        return functools.partial(_NodeEngine, node)
    if choice == "mini-racer":
        raise LoadError(f"{ENGINE_ENV}=mini-racer but mini-racer is not installed: pip install 'corrcheck[js]'")
    if choice == "node":
        raise LoadError(f"{ENGINE_ENV}=node but there is no node executable on PATH")
    raise LoadError(INSTALL_HINT)


# ---------------------------------------------------------------- reading the files

_TOKENS = re.compile(r"""//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|`(?:\\.|[^`\\])*`""", re.S)
_COMMONJS = re.compile(r"(?<![\w$.])(?:module\.exports|exports\.[\w$]+)\s*=|(?<![\w$.])require\s*\(")
_UMD = re.compile(r"\btypeof\s+(?:module|exports|define)\b")
_REQUIRE = re.compile(r"(?<![\w$.])require\s*\(\s*(['\"])(\.{1,2}/[^'\"]+)\1\s*\)")
_LEXICAL = re.compile(r"(?<![\w$.])(?:const|let|class)\s+([A-Za-z_$][\w$]*)")
_IMPORT = re.compile(r"^\s*import\s+[\w{*'\"]", re.M)
_EXPORT_LIST = re.compile(r"^\s*export\s*\{[^}]*\}\s*;?", re.M)
_EXPORT_KEYWORD = re.compile(r"^(\s*)(export\s+(?:default\s+)?)(?=(?:async\s+)?function\b|class\b|const\b|let\b|var\b)", re.M)
_MODULE_PREFIX = "__corrcheck.defineModule({path}, function (exports, require, module, __filename, __dirname) {{"


def _without_comments(source: str) -> str:
    """Comments blanked (strings kept), so `// call require() first` decides nothing."""
    return _TOKENS.sub(lambda m: " " * len(m.group()) if m.group()[0] == "/" else m.group(), source)


def _strip_es_exports(source: str) -> str:
    """`export function f` runs as `function f` (columns kept); `export {a, b}` is dropped."""
    source = _EXPORT_LIST.sub(lambda m: " " * len(m.group()), source)
    return _EXPORT_KEYWORD.sub(lambda m: m.group(1) + " " * len(m.group(2)), source)


class _File:
    """One user file: its text, whether it runs as a CommonJS module, the siblings it requires."""

    def __init__(self, path: str, text: str):
        self.path, self.text = path, text
        code = _without_comments(text)
        if _IMPORT.search(code):
            raise LoadError(f"{path}: ES module imports are not supported; load the imported files "
                            "together (corrcheck run a.js b.js) or use require('./name.js')")
        self.is_module = path.endswith(".cjs") or (bool(_COMMONJS.search(code)) and not _UMD.search(code))
        self.requires = {m.group(2) for m in _REQUIRE.finditer(code)}
        self.lexical = [] if self.is_module else list(dict.fromkeys(_LEXICAL.findall(code)))
        self.require_map: dict[str, str] = {}     # spec -> path of the sibling, filled by the runtime

    def code(self) -> str:
        """The file's code ready to run: shebang and ES exports removed, CommonJS modules wrapped."""
        text = _strip_es_exports("//" + self.text[2:] if self.text.startswith("#!") else self.text)
        if not self.is_module:
            return text
        return _MODULE_PREFIX.format(path=json.dumps(self.path)) + text + "\n});"

    @property
    def column_shift(self) -> int:
        """Columns of line 1 that the module wrapper adds."""
        return len(_MODULE_PREFIX.format(path=json.dumps(self.path))) if self.is_module else 0


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise LoadError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LoadError(f"{path}: cannot be read ({exc.__class__.__name__}: {exc})") from None


def _resolve(base: str, spec: str) -> str | None:
    target = os.path.normpath(os.path.join(os.path.dirname(base), spec))
    for candidate in (target, target + ".js", os.path.join(target, "index.js")):
        if os.path.isfile(candidate):
            return candidate
    return None


# ---------------------------------------------------------------- stacks and errors

_FRAME = re.compile(r"^\s*at (?:(?P<fn>.*?) \()?(?P<file>.+?):(?P<line>\d+):(?P<col>\d+)\)?\s*$")


def _trim_stack(stack: str, files: dict[str, _File]) -> tuple[str, tuple[str, int] | None]:
    """The stack cut to frames in the user's files; also the innermost (file, line)."""
    head, frames, where, repeated = [], [], None, 0
    for line in stack.splitlines():
        m = _FRAME.match(line)
        if m is None:
            if not frames and not line.lstrip().startswith("at "):
                head.append(line)
            continue
        f = files.get(m.group("file"))
        if f is None:
            continue
        lineno, col = int(m.group("line")), int(m.group("col"))
        if lineno == 1:
            col -= f.column_shift
        where = where or (f.path, lineno)
        frame = f"    at {m.group('fn') + ' ' if m.group('fn') else ''}({f.path}:{lineno}:{col})"
        if frames and frames[-1] == frame:
            repeated += 1
            continue
        if repeated:
            frames.append(f"    [previous line repeated {repeated} more times]")
            repeated = 0
        frames.append(frame)
    if repeated:
        frames.append(f"    [previous line repeated {repeated} more times]")
    return "\n".join(head[:3] + frames), where


def _raised(what: str, error: dict, files: dict[str, _File]) -> UserRaised:
    trace, where = _trim_stack(error.get("stack") or "", files)
    at = ""
    if where:
        lines = next((f.text for f in files.values() if f.path == where[0]), "").splitlines()
        code = lines[where[1] - 1].strip() if where[1] <= len(lines) else ""
        at = f" (at {os.path.basename(where[0])} line {where[1]}" + (f": `{code}`)" if code else ")")
    message = error.get("message", "")[:240]
    what_threw = f"{error['name']}: {message}" if error.get("name") else f"the value {message!r}"
    return UserRaised(f"{what} threw {what_threw}{at}", traceback=trace or None)


# ---------------------------------------------------------------- Python -> JavaScript

_HANDLE_MARK = re.compile(r'"\\u0000(\d+)\\u0000"')


def _js_args(args) -> str:
    """A JavaScript array literal of `args` (JSON, with NaN/Infinity as JS spells them; None -> undefined)."""
    handles: list[str] = []

    def default(value):
        if isinstance(value, JsObjectHandle):
            handles.append(f"__corrcheck.h({value._id})")
            return f"\x00{len(handles) - 1}\x00"
        if hasattr(value, "tolist"):            # numpy arrays and scalars
            return value.tolist()
        if isinstance(value, (set, frozenset)):
            return list(value)
        raise TypeError(f"a {type(value).__name__} cannot be passed to JavaScript")

    items = []
    for a in args:
        if a is None:
            items.append("undefined")
        else:
            items.append(json.dumps(a, default=default, separators=(",", ":")))
    text = "[" + ",".join(items) + "]"
    if handles:
        text = _HANDLE_MARK.sub(lambda m: handles[int(m.group(1))], text)
    return text


_FLOAT32 = "__corrcheck_float32__"      # js_bridge.js wraps a Float32Array's numbers in {_FLOAT32: [...]}


def _typed(obj: dict):
    """A Float32Array as float32 NumPy (so its precision sets the tolerances), other objects as dicts."""
    if len(obj) == 1 and _FLOAT32 in obj:
        return np.asarray(obj[_FLOAT32], dtype=np.float32)
    return obj


def _answer(text: str, what: str, files, args=()) -> Any:
    if text.startswith("R"):
        return json.loads(text[1:], object_hook=_typed)
    if text.startswith("P"):
        raise UnusableOutput(f"{what} returned a Promise (an async function or a .then chain); corrcheck "
                             "calls functions synchronously, so make it return the array itself")
    if text.startswith("M"):
        value, changed = json.loads(text[1:], object_hook=_typed)
        for i, contents in changed:
            _write_back(args[i], contents)
        return value
    raise _raised(what, json.loads(text[1:]), files)


def _write_back(target, contents) -> None:
    """Give a Python argument the contents the JavaScript function wrote into its copy."""
    if isinstance(target, list) and isinstance(contents, list):
        target[:] = contents
    elif isinstance(target, dict) and isinstance(contents, dict):
        target.clear()
        target.update(contents)
    elif hasattr(target, "shape") and hasattr(target, "dtype"):
        try:
            new = np.asarray(contents, dtype=target.dtype)
            if new.shape == target.shape and target.flags.writeable:
                np.copyto(target, new)
        except (TypeError, ValueError):
            pass


# ---------------------------------------------------------------- the runtime

class JsObjectHandle:
    """An object living in the JavaScript engine (an instance corrcheck constructed).

    Attributes read and write through: `h.dW`, `h.W = [[...]]`, `vars(h)`, and
    `h.forward(x)` calls the method (also `call_method(name, *args)`).
    """

    __slots__ = ("_runtime", "_id", "_generation", "class_name", "__weakref__")

    def __init__(self, runtime: "JsRuntime", obj_id: int, class_name: str):
        object.__setattr__(self, "_runtime", runtime)
        object.__setattr__(self, "_id", obj_id)
        object.__setattr__(self, "_generation", runtime._generation)
        object.__setattr__(self, "class_name", class_name)

    def call_method(self, name: str, *args, **kwargs) -> Any:
        """Call a method of the JavaScript object; keyword arguments are placed by the method's parameter names."""
        if kwargs:
            method = self._runtime.functions.get(f"{self.class_name}.prototype.{name}")
            args = _positional(f"{self.class_name}.{name}", method.params if method else (), args, kwargs)
        return self._runtime.call_method(self, name, args)

    def get(self, name: str) -> Any:
        """An attribute of the JavaScript object, converted to Python."""
        return self._runtime._object_op(self, f"get({self._id},{json.dumps(name)})", f"{self.class_name}.{name}")

    def set(self, name: str, value) -> None:
        """Set an attribute of the JavaScript object (weights before a call)."""
        self._runtime._object_op(self, f"set({self._id},{json.dumps(name)},{_js_args([value])}[0])",
                                 f"{self.class_name}.{name} = ...")

    def keys(self) -> list[str]:
        """The object's own property names (where a layer keeps its gradients)."""
        return self._runtime._object_op(self, f"keys({self._id})", self.class_name)

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        value = self.get(name)
        if isinstance(value, dict) and "__corrcheck_method__" in value:
            return functools.partial(self.call_method, name)
        if isinstance(value, dict) and "__corrcheck_missing__" in value:
            raise AttributeError(f"{self.class_name} object has no property {name!r}")
        return value

    def __setattr__(self, name: str, value) -> None:
        self.set(name, value)

    @property
    def __dict__(self) -> dict:
        """The object's data properties, so `vars(handle)` works as for a Python object."""
        return self._runtime._object_op(self, f"fields({self._id})", self.class_name)

    def __repr__(self) -> str:
        return f"<JavaScript {self.class_name} object #{self._id}>"

    def __del__(self):
        runtime = self._runtime
        if runtime._generation == self._generation:
            runtime._released.append(self._id)


class JsRuntime:
    """One JavaScript global environment holding the user's files; every UserFunction from them calls into it."""

    def __init__(self, paths: list[str], timeout: float | None, engine: str | None = None):
        self.timeout = timeout
        self._factory = engine_choice(engine)
        self._files: dict[str, _File] = {}           # normalised path -> file, in load order
        for p in paths:
            self._add_file(p, given=True)
        self._listed = list(dict.fromkeys(os.path.normpath(p) for p in paths))
        self._lock = threading.RLock()
        self._released: list[int] = []
        self._generation = 0
        self._engine = None
        self.functions: dict[str, UserFunction] = {}
        self._start()

    # -- loading --------------------------------------------------------------
    def _add_file(self, path: str, given: bool) -> None:
        key = os.path.normpath(path)
        if key in self._files:
            return
        f = _File(path if given else key, _read(path))
        self._files[key] = f
        for spec in sorted(f.requires):
            target = _resolve(path, spec)
            if target is not None:
                self._add_file(target, given=False)
                f.require_map[spec] = self._files[os.path.normpath(target)].path

    def _start(self) -> None:
        """Start an engine and run every file in it (again after a fork or a killed node)."""
        if getattr(self, "_pid", os.getpid()) != os.getpid():
            # V8's threads and locks do not survive fork(): the parent's engine is never touched
            # again (see _OPEN_ENGINES), and a forked child (a sweep worker) uses node when it can
            node = _node_executable() if self._factory is _MiniRacerEngine else None
            if node:
                self._factory = functools.partial(_NodeEngine, node)
        self._engine = self._factory()
        weakref.finalize(self, self._engine.close)
        self._generation += 1
        self._pid = os.getpid()
        by_name = {f.path: f for f in self._files.values()}
        modules = [f for f in self._files.values() if f.is_module]
        for f in modules:            # define every module first: listed files may require later ones
            self._script(f)
            self._eval(f"setRequireMap({json.dumps(f.path)},{json.dumps(f.require_map)})")
        for key in self._listed:
            f = self._files[key]
            if f.is_module:
                text = self._eval(f"requireFile({json.dumps(f.path)})", self.timeout, f.path)
                if text.startswith("E"):
                    error = json.loads(text[1:])
                    trace, where = _trim_stack(error.get("stack", ""), by_name)
                    raise LoadError(_load_failure(f.path, where, error))
            else:
                self._script(f)
        lexical = [n for key in self._listed for n in self._files[key].lexical]
        exports = [self._files[key].path for key in self._listed if self._files[key].is_module]
        found = json.loads(_answer(self._eval(f"discover({json.dumps(lexical)},{json.dumps(exports)})"),
                                   "discovery", by_name))
        if not self.functions:
            made = [self._user_function(d) for d in found]
            order = {f.path: i for i, f in enumerate(self._files.values())}
            made.sort(key=lambda u: (order.get(u.file, len(order)), u.line or 0))   # source order
            self.functions = {u.name: u for u in made}

    def _script(self, f: _File) -> None:
        try:
            self._engine.run_script(f.path, f.code(), self.timeout)
        except _Timeout:
            raise LoadError(f"{f.path} did not finish loading within {self.timeout:g} s "
                            "(an endless loop at the top level?)") from None
        except _ScriptFailed as exc:
            if exc.kind == "syntax":
                line = exc.error.get("line")
                raise LoadError(f"{f.path}:{line}: SyntaxError: {exc.error.get('message')}" if line
                                else f"{f.path}: SyntaxError: {exc.error.get('message')}") from None
            _, where = _trim_stack(exc.error.get("stack", ""), {x.path: x for x in self._files.values()})
            raise LoadError(_load_failure(f.path, where, exc.error)) from None

    def _eval(self, bridge_call: str, timeout: float | None = None, what: str = "corrcheck") -> str:
        try:
            return self._engine.eval("__corrcheck." + bridge_call, timeout)
        except _Timeout:
            raise LoadError(f"{what} did not finish loading within {timeout:g} s") from None

    # -- calling ----------------------------------------------------------------
    def _request(self, bridge_call: str, what: str, args=()) -> Any:
        """One round trip under the time limit; a fork or a dead node process is healed by reloading."""
        with self._lock:
            if self._pid != os.getpid() or getattr(self._engine, "broken", False):
                self._start()
            if self._released:
                ids, self._released[:] = list(self._released), []
                self._engine.eval(f"__corrcheck.release({json.dumps(ids)})", None)
            try:
                text = self._engine.eval("__corrcheck." + bridge_call, self.timeout)
            except _Timeout:
                raise UserTimeout(f"{what} did not return within the {self.timeout:g} s time limit (--timeout)") from None
        return _answer(text, what, {f.path: f for f in self._files.values()}, args)

    def _object_op(self, handle: JsObjectHandle, bridge_call: str, what: str, args=()) -> Any:
        if handle._runtime is not self or handle._generation != self._generation:
            raise UserRaised(f"{what}: this JavaScript object is gone (the engine restarted after a "
                             "timeout); construct a new one")
        return self._request(bridge_call, what, args)

    def construct(self, cls_name: str, args=()) -> JsObjectHandle:
        """`new Cls(...args)` in the engine; a handle to the instance."""
        fn = self.functions.get(cls_name)
        if fn is None or not fn.is_class:
            raise BindError(f"{cls_name} is not a JavaScript class or constructor in the loaded files")
        obj_id = self._request(f"construct({fn.extra['id']},{_js_args(args)})", f"new {cls_name}")
        return JsObjectHandle(self, obj_id, cls_name)

    def call_method(self, handle: JsObjectHandle, name: str, args=()) -> Any:
        """Call a method on an object living in the engine, under the call guard."""
        return self._object_op(handle, f"callMethod({handle._id},{json.dumps(name)},{_js_args(args)})",
                               f"{handle.class_name}.{name}", args)

    def close(self) -> None:
        """Stop the JavaScript engine."""
        if self._engine is not None:
            self._engine.close()

    # -- describing ---------------------------------------------------------------
    def _user_function(self, d: dict) -> UserFunction:
        name, kind = d["name"], d["kind"]
        file, line, doc = self._locate(d["source"])
        params = tuple(_param(p) for p in d.get("params", []))
        if not params and "[native code]" in d["source"]:
            params = tuple(Param(f"arg{i}") for i in range(d.get("length") or 0))
        extra = {"id": d["id"], "kind": kind, "runtime": self, "engine": self._engine.name}
        for key in ("method_of", "alias_of"):
            if d.get(key):
                extra[key] = d[key]
        if kind == "class":
            def call(*args, _name=name, _params=params, **kwargs):
                return self.construct(_name, _positional(_name, _params, args, kwargs) if kwargs else args)
        elif kind == "method":
            call = functools.partial(self._call_unbound, name, d["method_of"])
        else:
            call = functools.partial(self._call_function, name, d["id"], params)
        return UserFunction(name=name, params=params, call=call, language="javascript", file=file, line=line,
                            is_class=kind == "class", methods=tuple(d.get("methods", ())), doc=doc,
                            source=d["source"] or None, extra=extra)

    def _call_function(self, name: str, fid: int, params: tuple, *args, **kwargs) -> Any:
        if kwargs:
            args = _positional(name, params, args, kwargs)
        return self._request(f"call({fid},{_js_args(args)})", name, args)

    def _call_unbound(self, name: str, owner: str, handle=None, *args, **kwargs) -> Any:
        if not isinstance(handle, JsObjectHandle):
            raise BindError(f"{name} is a method of {owner}: call it with an instance first "
                            f"(construct {owner} and call {name.rsplit('.', 1)[-1]} on it)")
        return handle.call_method(name.rsplit(".", 1)[-1], *args, **kwargs)

    def _locate(self, source: str) -> tuple[str | None, int | None, str | None]:
        """The file and line where a function's source text sits, and the /** doc */ right above it."""
        if not source or "[native code]" in source:
            return None, None, None
        for f in self._files.values():
            at = f.text.find(source)
            if at >= 0:
                before = f.text[:at]
                line_start = before.rfind("\n") + 1
                return f.path, before.count("\n") + 1, _doc_comment(before[:line_start])
        return None, None, None


def _doc_comment(text_before: str) -> str | None:
    """The /** ... */ block that ends right above a function, without its stars."""
    end = text_before.rstrip()
    start = end.rfind("/**")
    if not end.endswith("*/") or start < 0 or "*/" in end[start + 3:-2]:
        return None
    return re.sub(r"^\s*\* ?", "", end[start + 3:-2], flags=re.M).strip() or None


def _param(p: dict) -> Param:
    kind = p.get("kind", "positional")
    if p.get("default") is None:
        return Param(p["name"], kind=kind)
    return Param(p["name"], default=_default_value(p["default"]), kind=kind)


def _default_value(text: str) -> Any:
    """Literal defaults as Python values (1, 0.5, 'same', true, null); anything else as JsDefault."""
    if text == "undefined":
        return None
    if len(text) >= 2 and text[0] == text[-1] == "'" and "'" not in text[1:-1] and "\\" not in text:
        return text[1:-1]
    try:
        value = json.loads(text)
    except ValueError:
        return JsDefault(text)
    return value if not isinstance(value, (list, dict)) else JsDefault(text)


def _positional(name: str, params: tuple, args: tuple, kwargs: dict) -> list:
    """JavaScript has no keywords: place them by the parameter names read from the source."""
    out = list(args)
    names = [p.name for p in params if p.kind == "positional"]
    for key, value in kwargs.items():
        if key not in names:
            raise BindError(f"{name} has no parameter named {key!r} (its parameters: {', '.join(names) or 'none'})")
        i = names.index(key)
        if i < len(args):
            raise BindError(f"{name} got {key!r} both by position and by name")
        out.extend([None] * (i + 1 - len(out)))
        out[i] = value
    return out


def _load_failure(path: str, where, error: dict) -> str:
    at = f"{where[0]}:{where[1]}" if where else path
    thrown = f"{error['name']}: {error.get('message', '')}" if error.get("name") else repr(error.get("message", ""))
    return f"{at}: loading {os.path.basename(path)} threw {thrown}"


def load_javascript(paths: list[str], timeout: float | None, engine: str | None = None) -> dict[str, UserFunction]:
    """Run the files, in order, in one JavaScript global environment; every callable found, by dotted name.

    `engine`: "mini-racer", "node" or "auto" (default: $CORRCHECK_JS_ENGINE, else auto).
    Each UserFunction's extra["runtime"] is the JsRuntime (construct, call_method, close).
    """
    return JsRuntime([str(p) for p in paths], timeout, engine).functions
