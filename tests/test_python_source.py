"""load_python: import the user's files like the course notebook, leave nothing behind, explain failures."""
import os
import sys

import numpy as np
import pytest

from corrcheck.errors import LoadError, UserRaised
from corrcheck.loader.guard import call_user
from corrcheck.loader.python_source import load_python, module_source

SOURCE_TREE = os.path.join(os.path.dirname(__file__), "py_files", "loader")


@pytest.fixture()
def tree(tree_copy):
    """A fresh private copy of the test files for each test, so we can check nothing is written next to them."""
    return tree_copy(SOURCE_TREE, "user")


@pytest.fixture()
def clean_interpreter(tree):
    """Assert the interpreter looks the same after the test as before it."""
    modules, path, cwd, bytecode = set(sys.modules), list(sys.path), os.getcwd(), sys.dont_write_bytecode
    yield
    added = set(sys.modules) - modules
    assert [n for n in added if not n.startswith(("numpy", "concurrent"))] == []   # numpy.testing is lazy
    assert [n for n, m in list(sys.modules.items())
            if str(getattr(m, "__file__", None) or "").startswith(str(tree))] == []
    assert sys.path == path
    assert os.getcwd() == cwd
    assert sys.dont_write_bytecode == bytecode


def load(tree, *names, timeout=2.0):
    return load_python([str(tree / n) for n in names], timeout=timeout)


def pycache_dirs(root):
    return [d for d, _, _ in os.walk(root) if os.path.basename(d) == "__pycache__"]


def test_sibling_import_classes_methods_and_namespaces(tree, clean_interpreter, capsys):
    fns = load(tree, "siblings/conv.py")
    assert capsys.readouterr() == ("", "")            # 5000 prints at import swallowed
    conv = fns["conv1d"]
    assert conv.signature() == "conv1d(x, w, stride=…, pad=…)"
    assert [p.default for p in conv.params[2:]] == [1, 0]
    assert conv.file == str(tree / "siblings/conv.py") and conv.line == 7
    assert conv.source.startswith("def conv1d(") and conv.doc == "Correlate x with w."
    assert conv.extra["imported"] is False
    assert fns["im2col"].extra["imported"] is True     # from the user's own sibling module
    assert "np" not in fns and "_private_helper" not in fns
    # The function still works after its sibling left sys.modules.
    assert conv.call([1, 2, 3, 4], [1, 1], stride=2) == [6, 14]

    layer = fns["ConvLayer"]
    assert layer.is_class and layer.methods == ("forward", "backward", "out_size", "build")
    assert [p.name for p in layer.params] == ["W", "b", "stride", "pad"]
    assert [p.name for p in fns["ConvLayer.forward"].params] == ["x"]           # self dropped
    assert [p.name for p in fns["ConvLayer.out_size"].params] == ["n", "k", "s", "p"]
    assert [p.name for p in fns["ConvLayer.build"].params] == ["k"]
    inst = layer.call([1, 1], 0)
    assert fns["ConvLayer.forward"].call(inst, [1, 2, 3]) == [6, 10]           # unbound
    assert fns["Conv2"].methods[0] == "extra" and "forward" in fns["Conv2"].methods
    assert fns["Conv2.extra"].params[1].kind == "keyword_only"
    assert fns["lib.conv"].call([1, 2], [1]) == [2, 4]
    assert "lib.nested.fwd" in fns
    assert fns["layer.forward"].call([1, 2, 3]) == [6, 10]                      # bound method
    assert fns["mylib.conv.backward"].call(1, 2) == 1                           # classes as namespaces
    assert not any(k.startswith("mylib.Self") for k in fns)                     # no endless aliases


def test_course_tree_with_pardir_on_sys_path(tree, clean_interpreter):
    fns = load(tree, "course/ch07/simple_convnet.py")
    assert fns["convnet_forward"].call(5) == 5
    assert fns["im2col"].extra["imported"] is True
    fns = load(tree, "course/common/layers.py")        # `from common.util import im2col` inside common/
    assert fns["layer_forward"].call(7) == 7


def test_course_root_without_init_is_a_namespace_package(tree, clean_interpreter):
    fns = load(tree, "course2/cs231n/layer_utils.py")    # `from cs231n.fast_layers import *`
    assert fns["conv_relu_forward"].call(1) == 2
    assert fns["conv_forward_fast"].extra["imported"] is True
    assert load(tree, "course2/solution.py")["my_forward"].call(1) == 20


def test_package_relative_import(tree, clean_interpreter):
    fns = load(tree, "pkgdemo/mylib/layer_utils.py")
    assert fns["conv_relu_forward"].call(2) == 6
    assert fns["fast_conv"].extra["imported"] is True
    assert "fast.fast_conv" in fns


def test_digit_and_dash_names_in_two_files(tree, clean_interpreter):
    fns = load(tree, "holberton/0-conv_forward.py", "holberton/2-conv_backward.py")
    assert set(fns) == {"conv_forward", "conv_backward", "pad_it"}
    fwd = fns["conv_forward"]
    assert fwd.line == 6 and fwd.file.endswith("0-conv_forward.py")
    assert fwd.call.__module__.isidentifier()
    # The forward calls a helper only the second file defines; the backward uses numpy from the first.
    np.testing.assert_array_equal(fwd.call([1.0, 2.0], None, None, None), [2.0, 4.0])
    d_a, out = fns["conv_backward"].call([1.0], [3.0], None, None)
    np.testing.assert_array_equal(out, [6.0])


def test_later_files_see_earlier_names_and_keep_their_own(tree, clean_interpreter):
    fns = load(tree, "multi/a.py", "multi/b.py")
    assert fns["forward"].call("x") == "ax"             # a's helper, not b's
    assert fns["backward"].call("x") == "bx"
    assert fns["helper"].file.endswith("b.py")          # the later definition wins the name


def test_nothing_written_next_to_the_files(tree, clean_interpreter):
    load(tree, "siblings/conv.py")
    load(tree, "pkgdemo/mylib/layer_utils.py")
    load(tree, "course/ch07/simple_convnet.py")
    assert pycache_dirs(tree) == []


def test_cwd_restored_after_chdir_at_import(tree, clean_interpreter):
    assert load(tree, "misc/chdir_at_import.py")["f"].call(3) == 3


def test_decorated_and_variadic_signatures(tree, clean_interpreter):
    fns = load(tree, "misc/decorated.py")
    fwd = fns["forward"]
    assert [(p.name, p.kind) for p in fwd.params] == [
        ("x", "positional"), ("w", "positional"), ("stride", "positional"), ("pad", "keyword_only")]
    assert fwd.line >= 11 and "def forward" in fwd.source
    assert [p.kind for p in fns["backward"].params] == ["positional", "var_positional", "var_keyword"]
    assert "logged" in fns


def test_numpy_setting_at_import_applies_to_user_calls_only(tree, clean_interpreter):
    fns = load(tree, "misc/seterr.py")
    assert np.geterr()["divide"] != "raise"
    with pytest.raises(UserRaised, match="FloatingPointError"):
        call_user(fns["divide"].call, ([1.0],), timeout=2, what="divide")
    load(tree, "multi/a.py")                            # a new load starts clean


PY2 = [
    ("py2/print_stmt.py", "print statement at line 5"),
    ("py2/except_comma.py", "`except X, e:` at line 4"),
    ("py2/backticks.py", "backticks at line 2"),
    ("py2/not_equal.py", "the <> operator at line 2"),
    ("py2/octal.py", "octal literal without 0o at line 1"),
    ("py2/ur_string.py", "ur'' string at line 1"),
    ("py2/print_chevron.py", "print >> statement at line 2"),
]


@pytest.mark.parametrize("name,construct", PY2)
def test_python2_code_is_named(tree, clean_interpreter, name, construct):
    with pytest.raises(LoadError) as info:
        load(tree, name)
    base = os.path.basename(name)
    assert str(info.value) == f"{base} is Python 2 code ({construct}); corrcheck checks Python 3"


def test_xrange_only_loads_and_fails_at_call_with_a_hint(tree, clean_interpreter):
    f = load(tree, "py2/xrange_only.py")["f"]
    with pytest.raises(UserRaised, match="xrange is Python 2"):
        call_user(f.call, (3,), timeout=2, what="f")


BROKEN = [
    ("broken/syntax.py", r"^syntax.py has a syntax error at line 5 \(expected ':'\): `def g\(x\)`$"),
    ("broken/missing_pkg.py", r"^missing_pkg.py line 2 imports numpy_missing_for_corrcheck_tests, "
                              r"which is not installed: pip install numpy_missing_for_corrcheck_tests"),
    ("broken/sibling_missing.py", r"imports layers_utils_not_here, which is not installed.*"
                                  r"put layers_utils_not_here.py next to sibling_missing.py"),
    ("broken/oldnumeric.py", rf"^oldnumeric.py line 1 imports numpy.oldnumeric, which NumPy {np.__version__} no longer has"),
    ("broken/np_float.py", rf"^np_float.py line 3 uses np.float, which NumPy {np.__version__} no longer has"),
    ("broken/exits.py", r"^exits.py calls sys.exit\(\) at import \(at exits.py line 12: `sys.exit\(main\(\)\)`\)"),
    ("broken/reads_stdin.py", r"^reads_stdin.py reads from standard input at import \(at reads_stdin.py line 1"),
    ("broken/raises.py", r"^raises.py raised ValueError at import: bad configuration \(at raises.py line 2: "
                         r"`raise ValueError\(\"bad configuration\"\)`\)$"),
    ("broken/relative.py", r"uses a relative import \(`from .layers import conv`\) but its folder is not a package"),
    ("misc/latin1.py", r"^latin1.py is not valid UTF-8 text \(line 1\)"),
    ("misc/notebook_magic.py", r"^notebook_magic.py has notebook-only syntax at line 2 \(`%matplotlib inline`\)"),
    ("misc/notebook_ipython.py", r"^notebook_ipython.py calls get_ipython\(\) \(at notebook_ipython.py line 2"),
]


@pytest.mark.parametrize("name,pattern", BROKEN)
def test_module_level_problems_are_one_sentence(tree, clean_interpreter, name, pattern):
    with pytest.raises(LoadError, match=pattern) as info:
        load(tree, name)
    assert "\n" not in str(info.value)
    assert info.value.exit_code == 2


def test_import_traceback_shows_only_user_frames(tree, clean_interpreter):
    with pytest.raises(LoadError) as info:
        load(tree, "broken/raises.py")
    tb = info.value.traceback
    assert tb.count('raises.py"') == 2                 # <module> and helper
    assert "corrcheck" not in tb and "importlib" not in tb
    assert tb.endswith("ValueError: bad configuration")


@pytest.mark.parametrize("name", ["broken/loops.py", "broken/sleeps.py"])
def test_import_time_limit(tree, clean_interpreter, name):
    with pytest.raises(LoadError, match=r"did not finish importing within 0.3 s \(it was at .*\); if it is only slow, raise --timeout$"):
        load(tree, name, timeout=0.3)


@pytest.mark.parametrize("make,pattern", [
    (lambda t: t / "nope.py", r"nope.py does not exist"),
    (lambda t: t / "siblings", r"siblings is a directory"),
    (lambda t: t / "broken/notes.txt", r"notes.txt is not a Python file \(.py\)"),
])
def test_bad_paths(tree, clean_interpreter, make, pattern):
    with pytest.raises(LoadError, match=pattern):
        load_python([str(make(tree))], timeout=1)


def test_a_failing_second_file_still_restores_everything(tree, clean_interpreter):
    with pytest.raises(LoadError):
        load(tree, "siblings/conv.py", "broken/raises.py")
    assert pycache_dirs(tree) == []


def test_module_source_never_fails_on_bad_bytes(tree):
    text = module_source(str(tree / "misc/latin1.py"))
    assert "caf\ufffd" in text and "def f():" in text
