import os

# Piccolo finds its configuration through this variable; it lives inside the package so
# that the installed `maillage` command finds it from any working directory.
os.environ.setdefault("PICCOLO_CONF", "service.piccolo_conf")
