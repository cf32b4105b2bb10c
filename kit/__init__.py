"""hostkit: host compliance checks and idempotent remediation."""

from kit.connection import Connection, Result, connect
from kit.errors import KitError

__all__ = ["Connection", "KitError", "Result", "connect"]
