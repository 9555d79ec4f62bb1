"""JavaScript seen as a Python ast: tree-sitter's parse rebuilt with the JS positions, so the rules read it as Python.

Functions become top-level defs named as the user binds them (corre,
mlib.conv.forward, Cls with methods); `for` loops become `for v in range(bound)`,
`.length` becomes len(), `new Array(n).fill(0).map((_, y) => ...)` a
comprehension over range(n).
"""
from __future__ import annotations

import ast

__all__ = ["Block", "js_module", "is_js"]


def is_js(file: str) -> bool:
    """Whether the file is JavaScript, by its extension."""
    return file.lower().endswith((".js", ".mjs", ".cjs"))


class Block(ast.expr):
    """An arrow function's statement body used as an expression (the body of a .map callback)."""

    _fields = ("body",)


_JS_BINOPS = {"+": ast.Add, "-": ast.Sub, "*": ast.Mult, "/": ast.Div, "%": ast.Mod, "**": ast.Pow,
              "|": ast.BitOr, "&": ast.BitAnd, "^": ast.BitXor, ">>": ast.RShift, "<<": ast.LShift}
_JS_COMPARE = {"<": ast.Lt, "<=": ast.LtE, ">": ast.Gt, ">=": ast.GtE, "==": ast.Eq, "===": ast.Eq,
               "!=": ast.NotEq, "!==": ast.NotEq}
_JS_FUNCS = ("function_expression", "function", "arrow_function", "generator_function")


def js_module(source: str) -> ast.Module | None:
    """A tree-sitter parse of a JavaScript file rebuilt as a Python ast with the JS positions.

    Functions are top-level defs named as the user binds them (corre, mlib.conv.forward,
    Cls with methods); for loops become `for v in range(bound)`, `.length` becomes len(),
    `new Array(n).fill(0).map((_, y) => ...)` a comprehension over range(n). The rules
    then read JavaScript exactly as they read Python.
    """
    try:                                   # lazy: tree-sitter is an optional dependency
        import tree_sitter
        import tree_sitter_javascript
    except ImportError:
        return None
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_javascript.language()))
    tree = parser.parse(source.encode("utf-8"))
    body: list = []
    _JsBuilder(body).top(tree.root_node, prefix="")
    return ast.Module(body=body, type_ignores=[])


class _JsBuilder:
    def __init__(self, out: list):
        self.out = out

    # --- positions
    @staticmethod
    def at(node, ts):
        """Give the Python node the source position of the tree-sitter node, so locations point at the .js line."""
        node.lineno, node.col_offset = ts.start_point[0] + 1, ts.start_point[1]
        node.end_lineno, node.end_col_offset = ts.end_point[0] + 1, ts.end_point[1]
        return node

    # --- top level: find every function under the name it is bound by
    def top(self, ts, prefix):
        """Declare every function, class and namespace object at the top of a script or module."""
        for child in ts.named_children:
            self.declare(child, prefix)

    def declare(self, n, prefix):
        """One top-level declaration as Python function nodes under its dotted name."""
        t = n.type
        if t == "function_declaration":
            self.out.append(self.function(n, prefix + _text(n.child_by_field_name("name")), n))
        elif t in ("lexical_declaration", "variable_declaration"):
            for d in n.named_children:
                if d.type == "variable_declarator":
                    self.bind(_text(d.child_by_field_name("name")), d.child_by_field_name("value"), prefix)
        elif t == "expression_statement" and n.named_children:
            e = n.named_children[0]
            if e.type == "assignment_expression":
                name = _text(e.child_by_field_name("left")).replace("module.exports.", "").replace("exports.", "")
                self.bind(name, e.child_by_field_name("right"), prefix)
        elif t == "class_declaration":
            self.out.append(self.klass(n, prefix))
        elif t in ("export_statement",):
            self.top(n, prefix)

    def bind(self, name, value, prefix):
        """A function or object literal assigned to a name (var f = function..., lib = {...})."""
        if value is None or not name:
            return
        if value.type in _JS_FUNCS:
            self.out.append(self.function(value, prefix + name, value))
        elif value.type == "object":
            for pair in value.named_children:
                if pair.type == "pair":
                    self.bind(f"{name}.{_text(pair.child_by_field_name('key'))}", pair.child_by_field_name("value"),
                              prefix)
                elif pair.type == "method_definition":
                    self.out.append(self.function(pair, f"{prefix}{name}.{_text(pair.child_by_field_name('name'))}",
                                                  pair))
        elif value.type == "class":
            self.out.append(self.klass(value, prefix, name))

    def klass(self, n, prefix, name=None):
        """A JavaScript class as Python function nodes per method, the constructor as __init__."""
        name = name or _text(n.child_by_field_name("name"))
        methods = []
        body = n.child_by_field_name("body")
        for m in (body.named_children if body is not None else []):
            if m.type == "method_definition":
                mname = _text(m.child_by_field_name("name"))
                methods.append(self.function(m, "__init__" if mname == "constructor" else mname, m, method=True))
        return self.at(ast.ClassDef(name=prefix + name, bases=[], keywords=[], body=methods or [ast.Pass()],
                                    decorator_list=[]), n)

    def function(self, fn, name, where, method=False):
        """A JavaScript function as a Python FunctionDef the locate rules can read."""
        params = fn.child_by_field_name("parameters") or fn.child_by_field_name("parameter")
        names = ["self"] if method else []
        if params is not None:
            items = [params] if params.type == "identifier" else params.named_children
            for p in items:
                p = p.child_by_field_name("left") or p if p.type == "assignment_pattern" else p
                if p.type == "identifier":
                    names.append(_text(p))
        args = ast.arguments(posonlyargs=[], args=[ast.arg(arg=a) for a in names], vararg=None, kwonlyargs=[],
                             kw_defaults=[], kwarg=None, defaults=[])
        body = fn.child_by_field_name("body")
        stmts = self.block(body) if body is not None and body.type == "statement_block" else \
            [self.at(ast.Return(value=self.expr(body)), body)] if body is not None else []
        return self.at(ast.FunctionDef(name=name, args=args, body=stmts or [ast.Pass()], decorator_list=[],
                                       returns=None, type_params=[]), where)

    # --- statements
    def block(self, n) -> list:
        """The statements of a block (or of a single statement body) as Python statements."""
        if n is None:
            return []
        if n.type != "statement_block":
            return self.stmt(n)
        return [s for c in n.named_children for s in self.stmt(c)]

    def stmt(self, n) -> list:
        """One JavaScript statement as a list of Python statements (declarations may hold several)."""
        t = n.type
        if t in ("lexical_declaration", "variable_declaration"):
            out = []
            for d in n.named_children:
                value = d.child_by_field_name("value")
                if d.type == "variable_declarator" and value is not None:
                    out.append(self.at(ast.Assign(targets=[self.target(d.child_by_field_name("name"))],
                                                  value=self.expr(value)), d))
            return out
        if t == "expression_statement":
            return [s for c in n.named_children for s in self.expr_stmt(c)]
        if t == "return_statement":
            value = n.named_children[0] if n.named_children else None
            return [self.at(ast.Return(value=self.expr(value) if value is not None else None), n)]
        if t == "if_statement":
            alt = n.child_by_field_name("alternative")
            orelse = [s for c in alt.named_children for s in self.block(c)] if alt is not None else []
            return [self.at(ast.If(test=self.expr(n.child_by_field_name("condition")),
                                   body=self.block(n.child_by_field_name("consequence")) or [ast.Pass()],
                                   orelse=orelse), n)]
        if t == "for_statement":
            return [self.for_loop(n)]
        if t == "for_in_statement":
            left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
            of = any(c.type == "of" for c in n.children)
            it = self.expr(right) if of else self.at(ast.Call(func=ast.Name(id="range", ctx=ast.Load()),
                                                              args=[self.length(right)], keywords=[]), right)
            return [self.at(ast.For(target=self.target(left), iter=it, body=self.block(n.child_by_field_name("body"))
                                    or [ast.Pass()], orelse=[]), n)]
        if t in ("while_statement", "do_statement"):
            cond = n.child_by_field_name("condition")
            return [self.at(ast.While(test=self.expr(cond) if cond is not None else ast.Constant(True),
                                      body=self.block(n.child_by_field_name("body")) or [ast.Pass()], orelse=[]), n)]
        if t == "statement_block":
            return self.block(n)
        return []

    def expr_stmt(self, e) -> list:
        """An expression statement: assignments become Assign/AugAssign, the rest an Expr."""
        if e.type == "assignment_expression":
            return [self.at(ast.Assign(targets=[self.target(e.child_by_field_name("left"))],
                                       value=self.expr(e.child_by_field_name("right"))), e)]
        if e.type == "augmented_assignment_expression":
            op = _text(e.child_by_field_name("operator")).rstrip("=")
            return [self.at(ast.AugAssign(target=self.target(e.child_by_field_name("left")),
                                          op=_JS_BINOPS.get(op, ast.Add)(),
                                          value=self.expr(e.child_by_field_name("right"))), e)]
        if e.type == "sequence_expression":
            return [s for c in e.named_children for s in self.expr_stmt(c)]
        if e.type == "update_expression":
            return []
        return [self.at(ast.Expr(value=self.expr(e)), e)]

    def for_loop(self, n):
        """A C-style for loop as `for i in range(bound)`: what it runs over matters to the rules, not its steps."""
        init, cond = n.child_by_field_name("initializer"), n.child_by_field_name("condition")
        var = None
        if init is not None:
            decl = next((d for d in init.named_children if d.type == "variable_declarator"), None)
            var = _text(decl.child_by_field_name("name")) if decl is not None else None
            if decl is None and init.type == "expression_statement" and init.named_children and \
                    init.named_children[0].type == "assignment_expression":
                var = _text(init.named_children[0].child_by_field_name("left"))
        bound = None
        c = cond.named_children[0] if cond is not None and cond.type == "expression_statement" and \
            cond.named_children else cond
        if c is not None and c.type == "binary_expression":
            left, right = c.child_by_field_name("left"), c.child_by_field_name("right")
            op = _text(c.child_by_field_name("operator"))
            if op in ("<", "<=") and _text(left) == var:
                bound = right
            elif op in (">", ">=") and _text(right) == var:
                bound = left
        it = self.at(ast.Call(func=ast.Name(id="range", ctx=ast.Load()),
                              args=[self.expr(bound)] if bound is not None else [], keywords=[]), cond or n)
        target = ast.Name(id=var or "_", ctx=ast.Store())
        self.at(target, init or n)
        return self.at(ast.For(target=target, iter=it, body=self.block(n.child_by_field_name("body")) or [ast.Pass()],
                               orelse=[]), n)

    def target(self, n):
        """An assignment target (name, element, member or array pattern) in Store context."""
        if n.type == "array_pattern":
            return self.at(ast.Tuple(elts=[self.target(c) for c in n.named_children], ctx=ast.Store()), n)
        e = self.expr(n)
        if isinstance(e, (ast.Name, ast.Subscript, ast.Attribute, ast.Tuple)):
            e.ctx = ast.Store()
            return e
        return self.at(ast.Name(id=_text(n), ctx=ast.Store()), n)

    # --- expressions
    def length(self, n):
        """a.length as len(a), so size reasoning is the same as in Python."""
        return self.at(ast.Call(func=ast.Name(id="len", ctx=ast.Load()), args=[self.expr(n)], keywords=[]), n)

    def expr(self, n):
        """A JavaScript expression as the closest Python expression."""
        if n is None:
            return ast.Constant(None)
        t = n.type
        if t in ("identifier", "shorthand_property_identifier", "property_identifier"):
            return self.at(ast.Name(id=_text(n), ctx=ast.Load()), n)
        if t == "this":
            return self.at(ast.Name(id="self", ctx=ast.Load()), n)
        if t == "number":
            try:
                v = float(_text(n))
                return self.at(ast.Constant(int(v) if v.is_integer() else v), n)
            except ValueError:
                return self.at(ast.Constant(0), n)
        if t in ("string", "template_string"):
            return self.at(ast.Constant(_text(n).strip("'\"`")), n)
        if t in ("parenthesized_expression",) and n.named_children:
            return self.expr(n.named_children[-1])
        if t == "binary_expression":
            op = _text(n.child_by_field_name("operator"))
            left, right = self.expr(n.child_by_field_name("left")), self.expr(n.child_by_field_name("right"))
            if op in _JS_COMPARE:
                return self.at(ast.Compare(left=left, ops=[_JS_COMPARE[op]()], comparators=[right]), n)
            if op in ("&&", "||", "??"):
                return self.at(ast.BoolOp(op=ast.And() if op == "&&" else ast.Or(), values=[left, right]), n)
            return self.at(ast.BinOp(left=left, op=_JS_BINOPS.get(op, ast.Add)(), right=right), n)
        if t == "unary_expression":
            op = _text(n.child_by_field_name("operator"))
            arg = self.expr(n.child_by_field_name("argument"))
            return self.at(ast.UnaryOp(op=ast.USub() if op == "-" else ast.UAdd() if op == "+" else ast.Not(),
                                       operand=arg), n)
        if t == "subscript_expression":
            return self.at(ast.Subscript(value=self.expr(n.child_by_field_name("object")),
                                         slice=self.expr(n.child_by_field_name("index")), ctx=ast.Load()), n)
        if t == "member_expression":
            obj, prop = n.child_by_field_name("object"), _text(n.child_by_field_name("property"))
            if prop == "length":
                return self.length(obj)
            return self.at(ast.Attribute(value=self.expr(obj), attr=prop, ctx=ast.Load()), n)
        if t in ("call_expression", "new_expression"):
            return self.call(n)
        if t == "ternary_expression":
            return self.at(ast.IfExp(test=self.expr(n.child_by_field_name("condition")),
                                     body=self.expr(n.child_by_field_name("consequence")),
                                     orelse=self.expr(n.child_by_field_name("alternative"))), n)
        if t in ("array", "sequence_expression"):
            return self.at(ast.List(elts=[self.expr(c) for c in n.named_children], ctx=ast.Load()), n)
        if t in _JS_FUNCS:
            body = n.child_by_field_name("body")
            if body is not None and body.type == "statement_block":
                return self.at(Block(body=self.block(body)), n)
            return self.expr(body)
        if t in ("assignment_expression", "augmented_assignment_expression"):
            return self.expr(n.child_by_field_name("right"))
        return self.at(ast.Constant(None), n)

    def call(self, n):
        """A call; arr.map(fn) and friends become comprehensions so the loop shows."""
        fn = n.child_by_field_name("function") or n.child_by_field_name("constructor")
        args_node = n.child_by_field_name("arguments")
        args = [self.expr(a) for a in (args_node.named_children if args_node is not None else [])
                if a.type != "comment"]
        if fn is not None and fn.type == "member_expression" and \
                _text(fn.child_by_field_name("property")) in ("map", "forEach", "flatMap") and args_node is not None \
                and args_node.named_children and args_node.named_children[0].type in _JS_FUNCS:
            return self.mapped(n, fn.child_by_field_name("object"), args_node.named_children[0], args[0])
        return self.at(ast.Call(func=self.expr(fn), args=args, keywords=[]), n)

    def mapped(self, n, receiver, callback, body):
        """xs.map((v, i) => body) -> [body for i, v in enumerate(xs)]; new Array(k).fill(0).map -> range(k)."""
        params = callback.child_by_field_name("parameters")
        names = [_text(p) for p in (params.named_children if params is not None else [callback.child_by_field_name(
            "parameter")]) if p is not None and p.type == "identifier"]
        size = _array_size(receiver)
        if size is not None:
            it = self.at(ast.Call(func=ast.Name(id="range", ctx=ast.Load()), args=[self.expr(size)], keywords=[]),
                         receiver)
            target = ast.Name(id=names[1] if len(names) > 1 else "_", ctx=ast.Store())
        else:
            it = self.at(ast.Call(func=ast.Name(id="enumerate", ctx=ast.Load()), args=[self.expr(receiver)],
                                  keywords=[]), receiver)
            target = ast.Tuple(elts=[ast.Name(id=names[1] if len(names) > 1 else "_", ctx=ast.Store()),
                                     ast.Name(id=names[0] if names else "_", ctx=ast.Store())], ctx=ast.Store())
        self.at(target, callback)
        for e in getattr(target, "elts", []):
            self.at(e, callback)
        gen = ast.comprehension(target=target, iter=it, ifs=[], is_async=0)
        return self.at(ast.ListComp(elt=body, generators=[gen]), n)


def _array_size(receiver):
    """new Array(n), new Array(n).fill(0), Array.from({length: n}) -> the node for n."""
    node = receiver
    while node is not None and node.type == "call_expression":
        fn = node.child_by_field_name("function")
        if fn is not None and fn.type == "member_expression" and _text(fn.child_by_field_name("property")) == "fill":
            node = fn.child_by_field_name("object")
        else:
            break
    if node is not None and node.type in ("new_expression", "call_expression"):
        fn = node.child_by_field_name("constructor") or node.child_by_field_name("function")
        args = node.child_by_field_name("arguments")
        if fn is not None and _text(fn) == "Array" and args is not None and len(args.named_children) == 1:
            return args.named_children[0]
    return None


def _text(n) -> str:
    return n.text.decode("utf-8", errors="replace") if n is not None else ""
