"""Only what pyproject.toml cannot say: the platform wheel of scripts/wheel.sh carries the server
binary, so it is tagged for a platform (PROJCACHE_WHEEL_PLATFORM, e.g. manylinux_2_36_x86_64)
and keeps the binary's executable bit."""
import os

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

try:
    from wheel.bdist_wheel import bdist_wheel
except ImportError:  # building an sdist, or no wheel package: nothing to tag
    bdist_wheel = None

PLATFORM = os.environ.get("PROJCACHE_WHEEL_PLATFORM")


class build_py_keep_binary(build_py):
    def run(self):
        super().run()
        target = os.path.join(self.build_lib, "projcache", "bin", "projcache")
        if os.path.exists(target):
            os.chmod(target, 0o755)  # package data is copied without its mode


class platform_distribution(Distribution):
    def has_ext_modules(self):
        return True  # a platform payload: the package goes to the wheel's root (platlib)


cmdclass = {"build_py": build_py_keep_binary}
options = {}
if bdist_wheel is not None and PLATFORM:
    class platform_wheel(bdist_wheel):
        def get_tag(self):
            return "py3", "none", PLATFORM  # any Python 3: the binary is a separate program

    cmdclass["bdist_wheel"] = platform_wheel
    options["distclass"] = platform_distribution

setup(cmdclass=cmdclass, **options)
