"""Root conftest: plugins hostkit's own tests need (only the rootdir may declare them)."""

pytest_plugins = ["pytester"]
