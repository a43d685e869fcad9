"""Generated code that tries to break out, one attempt each; every tool defines `escape(path)`."""

from __future__ import annotations

ESCAPES = {
    "read /etc/passwd": """
def escape(path):
    with open("/etc/passwd") as file:
        return file.read()
""",
    "write outside its directory": """
def escape(path):
    with open(path, "w") as file:
        file.write("escaped")
    return "written"
""",
    "open a socket": """
import socket

def escape(path):
    connection = socket.create_connection(("127.0.0.1", 6379), timeout=1)
    connection.sendall(b"PING\\r\\n")
    return connection.recv(16).decode()
""",
    "spawn a process": """
import subprocess

def escape(path):
    return subprocess.run(["touch", path], check=True).returncode
""",
    "fork bomb": """
import os

def escape(path):
    while True:
        os.fork()
""",
    "endless loop": """
def escape(path):
    while True:
        pass
""",
    "memory bomb": """
def escape(path):
    hoard = []
    while True:
        hoard.append(bytearray(50 * 1024 * 1024))
""",
    "getattr import trick": """
def escape(path):
    load = getattr(__builtins__, "get")("__import__")  # exec gives generated code the built-ins as a dict
    return load("os").system("touch " + path)
""",
    "__subclasses__ trick": """
def escape(path):
    for cls in ().__class__.__base__.__subclasses__():
        if cls.__name__ == "_wrap_close":
            return cls.__init__.__globals__["system"]("touch " + path)
    return "not found"
""",
}
