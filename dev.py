#!/usr/bin/env python3
"""One entry point for developers and CI; standard library only.

    python3 dev.py demo [args…]        run the demo (`dangjian demo`)
    python3 dev.py test [pytest args…] run the test suite
    python3 dev.py dangjian [args…]    run any dangjian command
    python3 dev.py python [args…]      the project's Python
    python3 dev.py shell               a shell with the project's virtualenv active
    python3 dev.py setup               only build / refresh the virtualenv

Works from any directory. The virtualenv lives in `.venv` beside this file; it
is (re)installed from requirements.lock with `pip --require-hashes` only when the
lock (or pyproject.toml) changed since the last install, so a second run starts
at once. `test` runs pytest from the repository root (test paths given relative
to your directory still work); the other commands run in your directory, so
`dangjian`'s default database `./dangjian.db` is where you are.
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

MIN_PYTHON = (3, 11)

ROOT = os.path.dirname(os.path.realpath(__file__))
VENV = os.path.join(ROOT, ".venv")
LOCK = os.path.join(ROOT, "requirements.lock")
PYPROJECT = os.path.join(ROOT, "pyproject.toml")
STAMP = os.path.join(VENV, ".dangjian-stamp.json")
WINDOWS = os.name == "nt"
BIN = os.path.join(VENV, "Scripts" if WINDOWS else "bin")
VPY = os.path.join(BIN, "python.exe" if WINDOWS else "python")


def say(msg):
    print("[dev] " + msg, flush=True)


def die(msg, code=2):
    print("[dev] 错误：" + msg, file=sys.stderr, flush=True)
    sys.exit(code)


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def wanted_stamp():
    return {
        "lock": sha256_of(LOCK),
        "pyproject": sha256_of(PYPROJECT),
        "root": ROOT,
    }


def read_stamp():
    try:
        with open(STAMP, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


# The machine's pip.conf adds local file:// indexes that miss most projects; pip
# warns once per project for each. Drop that noise, keep everything else.
_PIP_NOISE = re.compile(r"^WARNING: Location '.*' is ignored: it is neither a file nor a directory")


def pip(*args):
    cmd = [VPY, "-m", "pip", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, errors="replace")
    for line in proc.stdout:
        if not _PIP_NOISE.match(line):
            sys.stdout.write(line)
            sys.stdout.flush()
    rc = proc.wait()
    if rc != 0:
        die("pip 失败（退出码 %d）：%s" % (rc, " ".join(cmd)), rc)


# Install exactly the lock: --no-deps so pip never re-resolves a requirement (an extra
# such as prefect's httpx[http2] would otherwise send it to the index for the newest
# httpx, whatever the lock says); --require-hashes so each file is the one the lock names;
# --only-binary so nothing is built, since a build would fetch its own unpinned tools.
LOCKED_INSTALL = ("install", "--disable-pip-version-check", "-q", "--no-deps", "--require-hashes",
                  "--only-binary", ":all:", "-r")


def pip_check():
    """With --no-deps nothing checks the lock is complete; pip check does, after the fact."""
    proc = subprocess.run([VPY, "-m", "pip", "check", "--disable-pip-version-check"],
                          capture_output=True, text=True, errors="replace", check=False)
    if proc.returncode != 0:
        sys.stdout.write(proc.stdout + proc.stderr)
        die("requirements.lock 不完整：上面列出的依赖在锁定文件中缺失或版本不符。"
            "请按 requirements.in 顶部的命令重新生成锁定文件。", proc.returncode)


def norm_name(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_names():
    names = set()
    with open(LOCK, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", line)
            if m:
                names.add(norm_name(m.group(1)))
    return names


def remove_unlocked():
    """Like pip-sync: uninstall what the lock no longer lists."""
    out = subprocess.run(
        [VPY, "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
        capture_output=True, text=True, check=True,
    ).stdout
    keep = locked_names() | {"pip", "dangjian"}
    extra = sorted(p["name"] for p in json.loads(out) if norm_name(p["name"]) not in keep)
    if extra:
        say("正在移除锁文件之外的包：" + ", ".join(extra))
        pip("uninstall", "-y", "-q", *extra)


def create_venv():
    say("正在创建虚拟环境（%s）…" % os.path.relpath(VENV))
    if os.path.isdir(VENV):
        shutil.rmtree(VENV)
    rc = subprocess.call([sys.executable, "-m", "venv", VENV])
    if rc != 0 or not os.path.exists(VPY):
        die("无法创建虚拟环境。Debian/Ubuntu 上请先安装 python3-venv（apt-get install python3-venv）。", rc or 1)


def ensure_env():
    """Create .venv if needed and bring it in line with requirements.lock."""
    if not os.path.exists(LOCK):
        die("找不到 requirements.lock：%s" % LOCK)
    have = read_stamp()
    if not os.path.exists(VPY) or have.get("root", ROOT) != ROOT:
        # Missing, its interpreter went away (broken symlink), or the checkout moved
        # (a virtualenv is not relocatable): start over.
        create_venv()
        have = {}
    want = wanted_stamp()
    if have == want:
        return
    if have.get("lock") != want["lock"]:
        say("正在按 requirements.lock 安装依赖（只装锁定文件里的文件，核对哈希，不做依赖解析）…")
        pip(*LOCKED_INSTALL, LOCK)
        remove_unlocked()
        pip_check()
    say("正在以可编辑模式安装 dangjian…")
    pip("install", "--disable-pip-version-check", "-q",
        "--no-deps", "--no-build-isolation", "-e", ROOT)
    with open(STAMP, "w", encoding="utf-8") as f:
        json.dump(want, f, indent=2)
    say("环境已就绪。")


def with_lock(fn):
    """Serialise concurrent dev.py runs while they touch .venv (locks this file)."""
    try:
        import fcntl
    except ImportError:  # Windows: no locking
        return fn()
    with open(os.path.abspath(__file__), "rb") as lf:
        fcntl.flock(lf, fcntl.LOCK_EX)
        try:
            return fn()
        finally:
            fcntl.flock(lf, fcntl.LOCK_UN)


# pytest options whose value is never a path
_VALUE_OPTIONS = {"-k", "-m", "-p", "-o", "-W", "-r", "--maxfail", "--durations", "--tb"}


def absolutise(args, cwd):
    """Make test paths given relative to the caller's directory work from ROOT."""
    if os.path.realpath(cwd) == os.path.realpath(ROOT):
        return list(args)
    out = []
    for i, a in enumerate(args):
        prev = args[i - 1] if i else ""
        if a and not a.startswith("-") and not os.path.isabs(a) and prev not in _VALUE_OPTIONS:
            head = a.split("::", 1)[0]
            cand = os.path.join(cwd, head)
            if head and os.path.exists(cand):
                a = os.path.abspath(cand) + a[len(head):]
        out.append(a)
    return out


def child_env():
    env = dict(os.environ)
    env["VIRTUAL_ENV"] = VENV
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    env.pop("PYTHONHOME", None)
    return env


def exec_(cmd, cwd=None):
    """Replace this process (POSIX) so signals and the exit code pass straight through."""
    if cwd:
        os.chdir(cwd)
    sys.stdout.flush()
    sys.stderr.flush()
    env = child_env()
    if not os.path.exists(cmd[0]):
        die("找不到 %s（pyproject.toml 的 [project.scripts] 是否已声明？）" % cmd[0])
    if WINDOWS:
        sys.exit(subprocess.call(cmd, env=env))
    os.execve(cmd[0], cmd, env)


def usage(code=0):
    print(__doc__.strip())
    sys.exit(code)


def main(argv):
    if sys.version_info < MIN_PYTHON:
        die("需要 Python %d.%d 或更高版本，当前是 %s（%s）。"
            % (MIN_PYTHON + (sys.version.split()[0], sys.executable)))
    if not argv or argv[0] in ("-h", "--help", "help"):
        usage(0 if argv else 2)
    cmd, rest = argv[0], argv[1:]
    if cmd not in ("demo", "test", "dangjian", "python", "shell", "setup"):
        print("[dev] 未知命令：%s\n" % cmd, file=sys.stderr)
        usage(2)

    with_lock(ensure_env)

    if cmd == "setup":
        return 0
    if cmd == "test":
        say("正在运行测试…")
        exec_([VPY, "-m", "pytest", *absolutise(rest, os.getcwd())], cwd=ROOT)
    if cmd == "demo":
        exec_([os.path.join(BIN, "dangjian"), "demo", *rest])
    if cmd == "dangjian":
        exec_([os.path.join(BIN, "dangjian"), *rest])
    if cmd == "python":
        exec_([VPY, *rest])
    if cmd == "shell":
        shell = os.environ.get("SHELL") or ("cmd.exe" if WINDOWS else "/bin/sh")
        say("已进入虚拟环境的 shell（exit 退出）。")
        exec_([shell, *rest])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
